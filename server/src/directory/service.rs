//! Rules for people: creating accounts, roles, activation. Every change appends its event in
//! the same transaction.

use std::collections::{BTreeMap, HashMap};

use sea_orm::{DatabaseConnection, DbErr};
use uuid::Uuid;

use super::dto::{
    AdminPeoplePage, AdminPeopleQuery, BrowseQuery, FacetCount, HrPatch, OrgChart, PersonCard,
    PersonDto, PersonEvent, PersonRef, PersonStatus, ProfileDto, ProfilePatch, Role, SearchFacets,
    SearchQuery, SearchResponse,
};
use super::indexer::SharedIndex;
use super::{photos, repo, writer};
use crate::auth::Principal;
use crate::blobs::{BlobInfo, Blobs};
use crate::db;
use crate::entities::people;
use crate::error::{ApiError, ApiResult};
use crate::events::{self, Doorbell, Event};
use crate::http::pagination::{Cursor, Page, checked_limit};
use crate::markdown;

pub const MAX_DISPLAY_NAME_CHARS: usize = 200;
pub const MAX_EMAIL_CHARS: usize = 320;

/// Splits a full name typed as one string into given name and family name: the first word, and
/// the rest with any particles ("Anne de Vries" → "Anne", "de Vries"). HR data sets both exactly.
pub fn split_display_name(name: &str) -> (String, String) {
    let name = name.trim();
    match name.split_once(char::is_whitespace) {
        Some((given, family)) => (given.to_owned(), family.trim().to_owned()),
        None => (name.to_owned(), String::new()),
    }
}

/// The directory's order: surname without its particle, then the name people go by, folded.
pub fn sort_name(given_name: &str, preferred_name: Option<&str>, family_name: &str) -> String {
    let given = plein_search::text::tokens(preferred_name.unwrap_or(given_name)).join(" ");
    format!(
        "{} {given}",
        plein_search::text::surname_sort_form(family_name)
    )
    .trim()
    .to_owned()
}

/// Lower-cased, trimmed form used for uniqueness and lookup.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Checks an email address's shape (not deliverability).
pub fn check_email(email: &str) -> Result<(), String> {
    let email = email.trim();
    if email.is_empty() {
        return Err("is required".to_owned());
    }
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(format!("must be at most {MAX_EMAIL_CHARS} characters"));
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces".to_owned());
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.') =>
        {
            Ok(())
        }
        _ => Err("must be an email address like name@example.nl".to_owned()),
    }
}

pub fn check_display_name(name: &str) -> Result<(), String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("is required".to_owned());
    }
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(format!(
            "must be at most {MAX_DISPLAY_NAME_CHARS} characters"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(())
}

/// A validated request to create a person.
pub struct NewPerson {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: Option<String>,
}

/// Validates the fields of a new person, collecting every problem.
pub fn validate_new_person(email: &str, display_name: &str) -> ApiResult<()> {
    let mut fields = BTreeMap::new();
    if let Err(problem) = check_email(email) {
        fields.insert("email".to_owned(), problem);
    }
    if let Err(problem) = check_display_name(display_name) {
        fields.insert("name".to_owned(), problem);
    }
    if fields.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(fields))
    }
}

fn email_taken() -> ApiError {
    let mut error = ApiError::conflict(
        "email_taken",
        "a person with this email address already exists",
    );
    error
        .fields
        .insert("email".to_owned(), "is already in use".to_owned());
    error
}

/// Inserts a person inside an open transaction and appends `person.created`.
pub async fn create_in<C: sea_orm::ConnectionTrait>(
    tx: &C,
    person: NewPerson,
) -> ApiResult<PersonDto> {
    validate_new_person(&person.email, &person.display_name)?;
    let email_normalized = normalize_email(&person.email);
    let display_name = person.display_name.trim().to_owned();
    let (given_name, family_name) = split_display_name(&display_name);
    let row = people::Model {
        email: Some(person.email.trim().to_owned()),
        email_normalized: Some(email_normalized),
        sort_name: sort_name(&given_name, None, &family_name),
        given_name,
        family_name,
        display_name,
        role: person.role.as_str().to_owned(),
        password_hash: person.password_hash,
        ..repo::blank_person(Uuid::now_v7(), chrono::Utc::now())
    };
    let row = write_one(tx, None, row).await?;
    Ok(PersonDto::from(row))
}

/// Creates a person in its own transaction.
pub async fn create(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: NewPerson,
) -> ApiResult<PersonDto> {
    let tx = db::begin_write(db).await?;
    let created = create_in(&tx, person).await?;
    tx.commit().await?;
    doorbell.ring();
    Ok(created)
}

pub async fn get(db: &DatabaseConnection, actor: &Principal, id: Uuid) -> ApiResult<PersonDto> {
    actor.require_admin()?;
    repo::find(db, id)
        .await?
        .map(PersonDto::from)
        .ok_or_else(|| ApiError::not_found("person"))
}

pub async fn list(
    db: &DatabaseConnection,
    actor: &Principal,
    cursor: Option<&str>,
    limit: u64,
) -> ApiResult<Page<PersonDto>> {
    actor.require_admin()?;
    let after = cursor.map(Cursor::decode_uuid).transpose()?;
    let rows = repo::list_after(db, after, limit + 1).await?;
    Ok(Page::from_rows(
        rows,
        limit,
        |row| Cursor::encode_uuid(row.id),
        PersonDto::from,
    ))
}

/// Runs a search off the async threads; the results and the ids they name.
async fn run_search(
    index: &SharedIndex,
    request: plein_search::SearchRequest,
) -> ApiResult<(plein_search::SearchResults, Vec<Uuid>)> {
    let searcher = index.clone();
    let results = tokio::task::spawn_blocking(move || searcher.people.search(&request))
        .await
        .map_err(|error| ApiError::internal(anyhow::anyhow!("search task failed: {error}")))?
        .map_err(ApiError::internal)?;
    let ids = results
        .ids
        .iter()
        .filter_map(|id| id.parse().ok())
        .collect();
    Ok((results, ids))
}

/// Largest page of the admins' people list.
const MAX_ADMIN_PAGE: u64 = plein_search::MAX_LIMIT as u64;

/// The admins' people list: everyone in creation order, or, with a search or filters, what the
/// search engine finds among everyone (deactivated people too), best match first.
pub async fn admin_list(
    db: &DatabaseConnection,
    index: &SharedIndex,
    actor: &Principal,
    query: AdminPeopleQuery,
) -> ApiResult<AdminPeoplePage> {
    actor.require_admin()?;
    let limit = checked_limit(query.limit, 50, MAX_ADMIN_PAGE)?;
    let text = query.q.unwrap_or_default();
    let department = query
        .department
        .filter(|department| !department.trim().is_empty());
    for (field, value) in [("q", Some(&text)), ("department", department.as_ref())] {
        if value.is_some_and(|value| value.chars().count() > MAX_QUERY_CHARS) {
            return Err(ApiError::field(
                field,
                format!("must be at most {MAX_QUERY_CHARS} characters"),
            ));
        }
    }
    let departments = match query.cursor {
        None => Some(repo::departments(db).await?),
        Some(_) => None,
    };
    let searching = !text.trim().is_empty()
        || query.role.is_some()
        || query.status.is_some()
        || department.is_some();
    if !searching {
        let page = list(db, actor, query.cursor.as_deref(), limit).await?;
        return Ok(AdminPeoplePage {
            items: page.items,
            next_cursor: page.next_cursor,
            total: repo::count_all(db).await?,
            departments,
        });
    }
    let offset = query
        .cursor
        .as_deref()
        .map(Cursor::decode_offset)
        .transpose()?
        .unwrap_or(0);
    let wanted_department = department.clone();
    let passes = |row: &people::Model| {
        query.role.is_none_or(|role| row.role == role.as_str())
            && match query.status {
                None => true,
                Some(PersonStatus::Active) => row.active,
                Some(PersonStatus::Inactive) => !row.active,
            }
            && wanted_department.as_deref().is_none_or(|wanted| {
                row.department.as_deref().map(str::trim) == Some(wanted.trim())
            })
    };
    let request = plein_search::SearchRequest {
        query: text.clone(),
        department,
        audience: match query.status {
            None => plein_search::Audience::Everyone,
            Some(PersonStatus::Active) => plein_search::Audience::Active,
            Some(PersonStatus::Inactive) => plein_search::Audience::Inactive,
        },
        role: query.role.map(|role| role.as_str().to_owned()),
        limit: usize::try_from(limit).unwrap_or(plein_search::MAX_LIMIT),
        offset,
        ..plein_search::SearchRequest::default()
    };
    let (results, mut ids) = run_search(index, request).await?;
    let found = ids.len();
    let mut total = results.total as u64;
    // A whole address or employee number names one person, deactivated or not: them first.
    if offset == 0 && !text.trim().is_empty() {
        let named = match repo::find_by_email(db, &normalize_email(&text)).await? {
            Some(person) => Some(person),
            None => repo::find_by_employee_id(db, text.trim()).await?,
        };
        if let Some(named) = named.filter(|named| passes(named)) {
            match ids.iter().position(|id| *id == named.id) {
                Some(at) => {
                    let id = ids.remove(at);
                    ids.insert(0, id);
                }
                None => {
                    ids.insert(0, named.id);
                    total += 1;
                }
            }
        }
    }
    let mut rows: HashMap<Uuid, people::Model> = repo::find_many(db, ids.clone())
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    // Shown as they are now; the index may trail a change by a moment.
    let items = ids
        .iter()
        .filter_map(|id| rows.remove(id))
        .filter(|row| passes(row))
        .map(PersonDto::from)
        .collect();
    let next = offset + found;
    Ok(AdminPeoplePage {
        items,
        next_cursor: (found > 0 && (next as u64) < total).then(|| Cursor::encode_offset(next)),
        total,
        departments,
    })
}

pub(super) const MAX_HR_TEXT_CHARS: usize = 200;
const MAX_EMPLOYEE_ID_CHARS: usize = 64;
/// Manager chains longer than this are treated as broken data.
const MAX_MANAGER_CHAIN: usize = 10_000;

/// Changes HR-owned fields (names, email, employee number, title, department, location,
/// manager) and appends `person.updated`. A manager change that would create a loop is refused.
pub async fn update_hr_fields(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    actor: &Principal,
    id: Uuid,
    patch: HrPatch,
) -> ApiResult<PersonDto> {
    actor.require_admin()?;
    let mut fields = BTreeMap::new();
    if let Some(Err(problem)) = patch.email.as_deref().map(check_email) {
        fields.insert("email".to_owned(), problem);
    }
    for (field, value) in [("name", &patch.name), ("given_name", &patch.given_name)] {
        if let Some(Err(problem)) = value.as_deref().map(check_display_name) {
            fields.insert(field.to_owned(), problem);
        }
    }
    let title = patch.title.map(cleaned);
    let department = patch.department.map(cleaned);
    let location = patch.location.map(cleaned);
    let employee_id = patch.employee_id.map(cleaned);
    let family_name = patch.family_name.map(|name| name.trim().to_owned());
    check_text(
        "family_name",
        family_name.as_deref(),
        MAX_HR_TEXT_CHARS,
        &mut fields,
    );
    for (field, value) in [
        ("title", &title),
        ("department", &department),
        ("location", &location),
    ] {
        check_text(
            field,
            value.as_ref().and_then(|v| v.as_deref()),
            MAX_HR_TEXT_CHARS,
            &mut fields,
        );
    }
    check_text(
        "employee_id",
        employee_id.as_ref().and_then(|v| v.as_deref()),
        MAX_EMPLOYEE_ID_CHARS,
        &mut fields,
    );
    if patch.manager_id == Some(Some(id)) {
        fields.insert(
            "manager_id".to_owned(),
            "a person cannot be their own manager".to_owned(),
        );
    }
    if !fields.is_empty() {
        return Err(ApiError::validation(fields));
    }

    let tx = db::begin_write(db).await?;
    let person = writer::load_for_update(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    let email = patch
        .email
        .map(|email| email.trim().to_owned())
        .or_else(|| person.email.clone());
    let (given_name, family_name, display_name) = match (patch.name, patch.given_name, family_name)
    {
        (Some(name), None, None) if name.trim() != person.display_name => {
            let (given, family) = split_display_name(&name);
            (given, family, name.trim().to_owned())
        }
        (name, given, family) => {
            let given = given.map_or_else(
                || person.given_name.clone(),
                |given| given.trim().to_owned(),
            );
            let family = family.unwrap_or_else(|| person.family_name.clone());
            let display = match name {
                Some(name) => name.trim().to_owned(),
                None if given != person.given_name || family != person.family_name => {
                    let shown = person.preferred_name.as_deref().unwrap_or(&given);
                    format!("{shown} {family}").trim().to_owned()
                }
                None => person.display_name.clone(),
            };
            (given, family, display)
        }
    };
    let mut after = person.clone();
    after.sort_name = sort_name(&given_name, person.preferred_name.as_deref(), &family_name);
    after.email_normalized = email.as_deref().map(normalize_email);
    after.email = email;
    after.display_name = display_name;
    after.given_name = given_name;
    after.family_name = family_name;
    after.employee_id = employee_id.unwrap_or_else(|| person.employee_id.clone());
    after.title = title.unwrap_or_else(|| person.title.clone());
    after.department = department.unwrap_or_else(|| person.department.clone());
    after.location = location.unwrap_or_else(|| person.location.clone());
    after.manager_id = patch.manager_id.unwrap_or(person.manager_id);
    if after == person {
        return Ok(PersonDto::from(person));
    }
    let updated = write_one(&tx, Some(person), after).await?;
    tx.commit().await?;
    doorbell.ring();
    Ok(PersonDto::from(updated))
}

/// Hands one change to the people writer and answers its refusals in the API's terms.
pub(crate) async fn write_one(
    tx: &impl sea_orm::ConnectionTrait,
    before: Option<people::Model>,
    after: people::Model,
) -> ApiResult<people::Model> {
    let change = writer::Change { before, after };
    let mut written = writer::write(tx, vec![change], writer::Prechecked::default())
        .await
        .map_err(write_refused)?;
    written
        .pop()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the people writer returned nothing")))
}

/// A refusal of the people writer as the admin API answers it.
pub(crate) fn write_refused(error: writer::WriteError) -> ApiError {
    let rule = match error {
        writer::WriteError::Db(error) => return ApiError::from(error),
        writer::WriteError::Refused { rule, .. } => rule,
    };
    match rule {
        writer::Broken::EmailTaken => email_taken(),
        writer::Broken::UserNameTaken => {
            // Someone provisioned by SCIM goes by this address as their user name.
            let mut error = email_taken();
            error.message = writer::Broken::UserNameTaken.message();
            error
        }
        writer::Broken::EmployeeIdTaken => {
            let mut error = ApiError::conflict(
                "employee_id_taken",
                "another person has this employee number",
            );
            error
                .fields
                .insert("employee_id".to_owned(), "is already in use".to_owned());
            error
        }
        writer::Broken::LastAdmin => last_admin(),
        other => ApiError::field(other.field(), other.message()),
    }
}

fn last_admin() -> ApiError {
    ApiError::conflict(
        "last_admin",
        "this would leave Plein without an active admin",
    )
}

/// Changes a person's role. The last active admin cannot be demoted.
pub async fn set_role(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    actor: &Principal,
    id: Uuid,
    role: Role,
) -> ApiResult<PersonDto> {
    actor.require_admin()?;
    set_role_unchecked(db, doorbell, id, role).await
}

/// Changes a person's role with the server's own authority (the CLI and the demo company).
pub async fn set_role_unchecked(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    id: Uuid,
    role: Role,
) -> ApiResult<PersonDto> {
    let tx = db::begin_write(db).await?;
    let person = writer::load_for_update(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    if person.role == role.as_str() {
        return Ok(PersonDto::from(person));
    }
    let mut after = person.clone();
    after.role = role.as_str().to_owned();
    let updated = write_one(&tx, Some(person), after).await?;
    tx.commit().await?;
    doorbell.ring();
    Ok(PersonDto::from(updated))
}

/// Deactivates or reactivates a person. Deactivation ends every session of theirs in the same
/// transaction; the last active admin cannot be deactivated.
pub async fn set_active(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    actor: &Principal,
    id: Uuid,
    active: bool,
) -> ApiResult<PersonDto> {
    actor.require_admin()?;
    let tx = db::begin_write(db).await?;
    let person = writer::load_for_update(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    if person.active == active {
        return Ok(PersonDto::from(person));
    }
    let mut after = person.clone();
    after.active = active;
    if active {
        // Back at work: no longer deleted by a provider either.
        after.deleted_at = None;
    }
    let updated = write_one(&tx, Some(person), after).await?;
    tx.commit().await?;
    doorbell.ring();
    Ok(PersonDto::from(updated))
}

/// True when at least one active admin exists.
pub async fn has_active_admin(db: &DatabaseConnection) -> Result<bool, DbErr> {
    Ok(repo::count_active_admins(db).await? > 0)
}

const MAX_BIO_CHARS: usize = 2_000;
const MAX_PREFERRED_NAME_CHARS: usize = 100;
const MAX_PHONE_CHARS: usize = 32;
const MAX_TAGS: usize = 30;
const MAX_TAG_CHARS: usize = 50;

fn tags_from_json(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// A colleague's profile; deactivated people are only visible to admins.
pub async fn profile(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
) -> ApiResult<ProfileDto> {
    let person = visible_person(db, actor, id).await?;
    let manager = manager_ref(db, person.manager_id).await?;
    Ok(profile_dto(person, manager))
}

async fn manager_ref(
    db: &DatabaseConnection,
    manager_id: Option<Uuid>,
) -> ApiResult<Option<PersonRef>> {
    let Some(manager_id) = manager_id else {
        return Ok(None);
    };
    Ok(repo::find(db, manager_id)
        .await?
        .filter(|manager| manager.active)
        .map(|manager| PersonRef {
            id: manager.id,
            display_name: manager.display_name,
        }))
}

fn profile_dto(person: people::Model, manager: Option<PersonRef>) -> ProfileDto {
    ProfileDto {
        id: person.id,
        bio_html: person.bio.as_deref().map(markdown::render),
        skills: tags_from_json(&person.skills),
        languages: tags_from_json(&person.languages),
        role: Role::parse(&person.role).unwrap_or(Role::Employee),
        display_name: person.display_name,
        given_name: person.given_name,
        family_name: person.family_name,
        preferred_name: person.preferred_name,
        email: person.email,
        employee_id: person.employee_id,
        title: person.title,
        department: person.department,
        location: person.location,
        manager,
        phone: person.phone,
        bio: person.bio,
        start_date: person.start_date,
        photo_url: person
            .photo_version
            .as_deref()
            .map(|version| photos::url(person.id, version)),
        active: person.active,
    }
}

/// Trims a text field; empty means cleared.
fn cleaned(value: Option<String>) -> Option<String> {
    value
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}

pub(super) fn check_text(
    field: &str,
    value: Option<&str>,
    max_chars: usize,
    fields: &mut BTreeMap<String, String>,
) {
    if let Some(text) = value {
        if text.chars().count() > max_chars {
            fields.insert(
                field.to_owned(),
                format!("must be at most {max_chars} characters"),
            );
        } else if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            fields.insert(
                field.to_owned(),
                "must not contain control characters".to_owned(),
            );
        }
    }
}

/// Checks a phone number's shape: digits with the usual separators.
pub(super) fn check_phone(number: &str) -> Result<(), String> {
    let well_formed = number.chars().count() <= MAX_PHONE_CHARS
        && number
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        && number.chars().any(|c| c.is_ascii_digit());
    if well_formed {
        Ok(())
    } else {
        Err("must be a phone number such as +31 6 1234 5678".to_owned())
    }
}

/// Trims, drops empties and case-insensitive duplicates, and checks count and length.
pub(super) fn clean_tags(
    field: &str,
    tags: Vec<String>,
    fields: &mut BTreeMap<String, String>,
) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let cleaned: Vec<String> = tags
        .into_iter()
        .map(|tag| tag.trim().to_owned())
        .filter(|tag| !tag.is_empty() && seen.insert(tag.to_lowercase()))
        .collect();
    if cleaned.len() > MAX_TAGS {
        fields.insert(field.to_owned(), format!("at most {MAX_TAGS} entries"));
    } else if cleaned
        .iter()
        .any(|tag| tag.chars().count() > MAX_TAG_CHARS || tag.chars().any(char::is_control))
    {
        fields.insert(
            field.to_owned(),
            format!("each entry at most {MAX_TAG_CHARS} printable characters"),
        );
    }
    cleaned
}

/// Changes what a person owns on their profile and appends `person.updated`.
pub async fn update_own_profile(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person_id: Uuid,
    patch: ProfilePatch,
) -> ApiResult<ProfileDto> {
    let mut fields = BTreeMap::new();
    let preferred_name = patch.preferred_name.map(cleaned);
    let phone = patch.phone.map(cleaned);
    let bio = patch.bio.map(cleaned);
    check_text(
        "preferred_name",
        preferred_name.as_ref().and_then(|v| v.as_deref()),
        MAX_PREFERRED_NAME_CHARS,
        &mut fields,
    );
    check_text(
        "bio",
        bio.as_ref().and_then(|v| v.as_deref()),
        MAX_BIO_CHARS,
        &mut fields,
    );
    if let Some(Some(Err(problem))) = phone
        .as_ref()
        .map(|number| number.as_deref().map(check_phone))
    {
        fields.insert("phone".to_owned(), problem);
    }
    let skills = patch
        .skills
        .map(|tags| clean_tags("skills", tags, &mut fields));
    let languages = patch
        .languages
        .map(|tags| clean_tags("languages", tags, &mut fields));
    if !fields.is_empty() {
        return Err(ApiError::validation(fields));
    }

    let tx = db::begin_write(db).await?;
    let person = repo::find(&tx, person_id)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    let preferred_name = preferred_name.unwrap_or_else(|| person.preferred_name.clone());
    let profile = repo::OwnProfile {
        sort_name: sort_name(
            &person.given_name,
            preferred_name.as_deref(),
            &person.family_name,
        ),
        preferred_name,
        phone: phone.unwrap_or_else(|| person.phone.clone()),
        skills: skills.map_or_else(
            || person.skills.clone(),
            |tags| serde_json::Value::from(tags).to_string(),
        ),
        languages: languages.map_or_else(
            || person.languages.clone(),
            |tags| serde_json::Value::from(tags).to_string(),
        ),
        bio: bio.unwrap_or_else(|| person.bio.clone()),
    };
    let unchanged = profile.preferred_name == person.preferred_name
        && profile.phone == person.phone
        && profile.skills == person.skills
        && profile.languages == person.languages
        && profile.bio == person.bio;
    let manager_id = person.manager_id;
    let updated = if unchanged {
        person
    } else {
        let updated = repo::set_own_profile(&tx, person, profile).await?;
        events::append(
            &tx,
            Event::PersonUpdated {
                person: PersonEvent::from(&updated),
            },
        )
        .await?;
        updated
    };
    tx.commit().await?;
    if !unchanged {
        doorbell.ring();
    }
    let manager = manager_ref(db, manager_id).await?;
    Ok(profile_dto(updated, manager))
}

/// Replaces a person's photo with an upload (JPEG, PNG or WebP) and appends `person.updated`.
pub async fn set_photo(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    blobs: &Blobs,
    limiter: &photos::UploadLimiter,
    person_id: Uuid,
    upload: crate::http::Upload,
) -> ApiResult<ProfileDto> {
    upload.require(&photos::ACCEPTED_TYPES, "a JPEG, PNG or WebP picture")?;
    limiter.check(person_id)?;
    let thumbnails = photos::make_thumbnails(upload.bytes).await?;
    let version = hex::encode(rand::random::<[u8; 8]>());
    photos::store(blobs, person_id, &version, &thumbnails)
        .await
        .map_err(ApiError::internal)?;
    let stored = replace_photo_version(db, doorbell, person_id, Some(version.clone())).await;
    let (profile, previous) = match stored {
        Ok(done) => done,
        Err(error) => {
            photos::discard(blobs, person_id, &version).await;
            return Err(error);
        }
    };
    if let Some(previous) = previous {
        photos::discard(blobs, person_id, &previous).await;
    }
    Ok(profile)
}

/// Removes a person's photo.
pub async fn remove_photo(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    blobs: &Blobs,
    person_id: Uuid,
) -> ApiResult<ProfileDto> {
    let (profile, previous) = replace_photo_version(db, doorbell, person_id, None).await?;
    if let Some(previous) = previous {
        photos::discard(blobs, person_id, &previous).await;
    }
    Ok(profile)
}

/// Sets the photo version; returns the profile and the version it replaced.
async fn replace_photo_version(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person_id: Uuid,
    version: Option<String>,
) -> ApiResult<(ProfileDto, Option<String>)> {
    let tx = db::begin_write(db).await?;
    let person = repo::find(&tx, person_id)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    let previous = person.photo_version.clone();
    if previous == version {
        tx.commit().await?;
        let manager = manager_ref(db, person.manager_id).await?;
        return Ok((profile_dto(person, manager), None));
    }
    let updated = repo::set_photo_version(&tx, person, version).await?;
    events::append(
        &tx,
        Event::PersonUpdated {
            person: PersonEvent::from(&updated),
        },
    )
    .await?;
    tx.commit().await?;
    doorbell.ring();
    let manager = manager_ref(db, updated.manager_id).await?;
    Ok((profile_dto(updated, manager), previous))
}

/// A photo as stored, with the version it belongs to.
pub struct PhotoFile {
    pub blob: BlobInfo,
    pub version: String,
    /// True when the caller asked for this exact version (so it may be cached for good).
    pub requested_version: bool,
}

/// A colleague's photo thumbnail, for anyone who may see them.
pub async fn photo(
    db: &DatabaseConnection,
    blobs: &Blobs,
    data_dir: &std::path::Path,
    actor: &Principal,
    id: Uuid,
    size: Option<u32>,
    version: Option<&str>,
) -> ApiResult<PhotoFile> {
    let size = size.unwrap_or(photos::SIZES[0]);
    if !photos::SIZES.contains(&size) {
        return Err(ApiError::field(
            "size",
            format!("must be one of {:?}", photos::SIZES),
        ));
    }
    let person = visible_person(db, actor, id).await?;
    let Some(current) = person.photo_version else {
        return Err(ApiError::not_found("photo"));
    };
    let blob = photos::find(blobs, data_dir, id, &current, size)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "photo {current} of {id} is missing from the blob store"
            ))
        })?;
    Ok(PhotoFile {
        blob,
        requested_version: version == Some(current.as_str()),
        version: current,
    })
}

const DEFAULT_SEARCH_LIMIT: usize = 20;
const MAX_QUERY_CHARS: usize = 200;

fn facet_counts(values: Vec<plein_search::FacetValue>) -> Vec<FacetCount> {
    values
        .into_iter()
        .map(|facet| FacetCount {
            value: facet.value,
            count: facet.count,
        })
        .collect()
}

/// Searches active colleagues. Any signed-in person or API token may search. Answered from the
/// index and its cards alone: no database round trip.
pub async fn search(index: &SharedIndex, query: SearchQuery) -> ApiResult<SearchResponse> {
    let limit = match query.limit {
        None => DEFAULT_SEARCH_LIMIT,
        Some(limit) if (1..=plein_search::MAX_LIMIT).contains(&limit) => limit,
        Some(_) => {
            return Err(ApiError::field(
                "limit",
                format!("must be between 1 and {}", plein_search::MAX_LIMIT),
            ));
        }
    };
    let text = query.q.unwrap_or_default();
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::field(
            "q",
            format!("must be at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    let filtered = query.department.is_some() || query.location.is_some() || query.skill.is_some();
    let request = plein_search::SearchRequest {
        query: text.clone(),
        department: query.department,
        location: query.location,
        skill: query.skill,
        limit,
        ..plein_search::SearchRequest::default()
    };
    let (results, mut ids) = run_search(index, request).await?;
    let mut total = results.total;
    // A whole email address or an employee number names one person: them first.
    if !filtered && let Some(named) = index.cards.named_exactly(&text) {
        match ids.iter().position(|id| *id == named) {
            Some(found) => {
                ids.remove(found);
            }
            None => {
                total += 1;
                ids.truncate(limit.saturating_sub(1));
            }
        }
        ids.insert(0, named);
    }
    let hits = index.cards.in_order(&ids);
    Ok(SearchResponse {
        hits,
        total,
        facets: SearchFacets {
            department: facet_counts(results.facets.department),
            location: facet_counts(results.facets.location),
            skill: facet_counts(results.facets.skill),
        },
    })
}

/// A person an actor may look at: active people for everyone, anyone for admins.
async fn visible_person(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
) -> ApiResult<people::Model> {
    let person = repo::find(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    if !person.active && actor.require_admin().is_err() {
        return Err(ApiError::not_found("person"));
    }
    Ok(person)
}

/// The active people among `ids`, as cards, in the order of `ids`.
async fn active_cards_in_order(
    db: &DatabaseConnection,
    ids: Vec<Uuid>,
) -> ApiResult<Vec<PersonCard>> {
    let mut rows: std::collections::HashMap<Uuid, people::Model> = repo::find_many(db, ids.clone())
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    Ok(ids
        .iter()
        .filter_map(|id| rows.remove(id))
        .filter(|row| row.active)
        .map(PersonCard::from)
        .collect())
}

fn encode_browse_cursor(row: &people::Model) -> String {
    use base64::Engine as _;
    let json = serde_json::json!([row.sort_name, row.id]).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_browse_cursor(cursor: &str) -> ApiResult<(String, Uuid)> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<(String, Uuid)>(&bytes).ok())
        .ok_or_else(|| ApiError::field("cursor", "is not a cursor this server gave out"))
}

/// The directory in Dutch order: by surname without its particle ("van Rijnsoever" under R).
pub async fn browse(db: &DatabaseConnection, query: BrowseQuery) -> ApiResult<Page<PersonCard>> {
    let limit = crate::http::pagination::PageQuery {
        cursor: None,
        limit: query.limit,
    }
    .limit()?;
    let after = query
        .cursor
        .as_deref()
        .map(decode_browse_cursor)
        .transpose()?;
    let department = query
        .department
        .as_deref()
        .map(str::trim)
        .filter(|value| !value.is_empty());
    let location = query
        .location
        .as_deref()
        .map(str::trim)
        .filter(|value| !value.is_empty());
    let rows = repo::browse(db, department, location, after, limit + 1).await?;
    Ok(Page::from_rows(
        rows,
        limit,
        encode_browse_cursor,
        PersonCard::from,
    ))
}

/// Managers up to the top, direct reports and peers of an active person.
pub async fn org_chart(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
) -> ApiResult<OrgChart> {
    let person = visible_person(db, actor, id).await?;
    let chain = repo::manager_chain(db, id, MAX_MANAGER_CHAIN as i64).await?;
    let managers = active_cards_in_order(db, chain).await?;
    let reports = repo::reports_of(db, id)
        .await?
        .into_iter()
        .map(PersonCard::from)
        .collect();
    let peers = match person.manager_id {
        Some(manager) => repo::reports_of(db, manager)
            .await?
            .into_iter()
            .filter(|row| row.id != id)
            .map(PersonCard::from)
            .collect(),
        None => Vec::new(),
    };
    Ok(OrgChart {
        person: PersonCard::from(person),
        managers,
        reports,
        peers,
    })
}
