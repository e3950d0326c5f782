//! Provisioning rules: creating, replacing, patching and deleting people for a SCIM client, with
//! the same checks as every other route (unique addresses and numbers, no manager loops, the last
//! admin stays) and the same events.

use axum::http::StatusCode;
use chrono::{SubsecRound as _, Utc};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use serde_json::Value;
use uuid::Uuid;

use super::error::{ScimError, ScimResult};
use super::filter::Filter;
use super::query;
use super::user::{UserState, apply_patch, version};
use crate::db;
use crate::directory::service::{
    check_display_name, check_email, normalize_email, sort_name, split_display_name,
};
use crate::directory::writer::normalize_user_name;
use crate::directory::{repo, writer};
use crate::entities::people;
use crate::events::Doorbell;

const MAX_TEXT_CHARS: usize = 200;
const MAX_USER_NAME_CHARS: usize = 320;
const MAX_EXTERNAL_ID_CHARS: usize = 255;
const MAX_EMPLOYEE_NUMBER_CHARS: usize = 64;

/// One page of a list.
pub struct Listed {
    pub total: u64,
    pub people: Vec<people::Model>,
}

/// Lists people for a SCIM client: `start_index` counts from 1. The filter becomes a condition
/// of the query, so the database returns the matching page and its count, in creation order.
pub async fn list(
    db: &DatabaseConnection,
    filter: Option<&Filter>,
    start_index: u64,
    count: u64,
) -> ScimResult<Listed> {
    let mut select = people::Entity::find().filter(people::Column::DeletedAt.is_null());
    if let Some(filter) = filter {
        select = select.filter(query::condition(filter, db.get_database_backend())?);
    }
    let total = select.clone().count(db).await?;
    let people = if count == 0 || start_index > total {
        Vec::new()
    } else {
        select
            .order_by_asc(people::Column::Id)
            .offset(start_index.saturating_sub(1))
            .limit(count)
            .all(db)
            .await?
    };
    Ok(Listed { total, people })
}

/// A person a SCIM client may see: any not deleted by a provider.
pub async fn get(db: &impl ConnectionTrait, id: &str) -> ScimResult<people::Model> {
    let parsed: Uuid = id.parse().map_err(|_| ScimError::not_found(id))?;
    repo::find(db, parsed)
        .await?
        .filter(|person| person.deleted_at.is_none())
        .ok_or_else(|| ScimError::not_found(id))
}

/// Like [`get`], with the row locked until the transaction ends.
async fn get_for_update(tx: &impl ConnectionTrait, id: &str) -> ScimResult<people::Model> {
    let parsed: Uuid = id.parse().map_err(|_| ScimError::not_found(id))?;
    writer::load_for_update(tx, parsed)
        .await?
        .filter(|person| person.deleted_at.is_none())
        .ok_or_else(|| ScimError::not_found(id))
}

/// Refuses the change when the client's `If-Match` names another version.
pub fn check_version(person: &people::Model, if_match: Option<&str>) -> ScimResult<()> {
    match if_match {
        Some(wanted)
            if wanted.trim() != "*"
                && !wanted.split(',').any(|tag| tag.trim() == version(person)) =>
        {
            Err(ScimError::new(
                StatusCode::PRECONDITION_FAILED,
                None,
                "the user has changed since that version; read it again",
            ))
        }
        _ => Ok(()),
    }
}

fn too_long(field: &str, value: Option<&str>, max: usize, problems: &mut Vec<String>) {
    if let Some(text) = value {
        if text.chars().count() > max {
            problems.push(format!("{field} must be at most {max} characters"));
        } else if text.chars().any(char::is_control) {
            problems.push(format!("{field} must not contain control characters"));
        }
    }
}

/// Checks the values a client sent, all at once.
fn validate(state: &UserState) -> ScimResult<()> {
    let mut problems = Vec::new();
    if state.user_name.trim().is_empty() {
        problems.push("userName is required".to_owned());
    }
    too_long(
        "userName",
        Some(&state.user_name),
        MAX_USER_NAME_CHARS,
        &mut problems,
    );
    if let Some(Err(problem)) = state.email.as_deref().map(check_email) {
        problems.push(format!("emails value {problem}"));
    }
    too_long(
        "name.formatted",
        state.formatted.as_deref(),
        MAX_TEXT_CHARS,
        &mut problems,
    );
    if let Some(Err(problem)) = state.display_name.as_deref().map(check_display_name) {
        problems.push(format!("displayName {problem}"));
    }
    too_long(
        "name.givenName",
        state.given_name.as_deref(),
        100,
        &mut problems,
    );
    too_long(
        "name.familyName",
        state.family_name.as_deref(),
        150,
        &mut problems,
    );
    too_long(
        "title",
        state.title.as_deref(),
        MAX_TEXT_CHARS,
        &mut problems,
    );
    too_long(
        "department",
        state.department.as_deref(),
        MAX_TEXT_CHARS,
        &mut problems,
    );
    too_long(
        "addresses.locality",
        state.location.as_deref(),
        MAX_TEXT_CHARS,
        &mut problems,
    );
    too_long(
        "externalId",
        state.external_id.as_deref(),
        MAX_EXTERNAL_ID_CHARS,
        &mut problems,
    );
    too_long(
        "employeeNumber",
        state.employee_number.as_deref(),
        MAX_EMPLOYEE_NUMBER_CHARS,
        &mut problems,
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ScimError::invalid_value(problems.join("; ")))
    }
}

/// Makes the stored person match `state`: creates them (`existing` is `None`) or updates them.
/// Everything is checked inside the write transaction.
async fn save(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    existing_id: Option<Uuid>,
    state: UserState,
    if_match: Option<&str>,
) -> ScimResult<people::Model> {
    validate(&state)?;
    let tx = db::begin_write(db).await?;
    let user_name = state.user_name.trim().to_owned();
    let holder = repo::find_by_user_name(&tx, &normalize_user_name(&user_name)).await?;
    let existing = match existing_id {
        Some(id) => {
            let person = get_for_update(&tx, &id.to_string()).await?;
            check_version(&person, if_match)?;
            Some(person)
        }
        // A provider re-creating someone it deleted gets the same person back.
        None => holder.clone().filter(|person| person.deleted_at.is_some()),
    };
    let own_id = existing.as_ref().map(|person| person.id);
    if let Some(holder) = &holder
        && Some(holder.id) != own_id
    {
        return Err(ScimError::uniqueness(format!(
            "userName {} is already in use",
            state.user_name
        )));
    }
    if let Some(external_id) = &state.external_id
        && let Some(other) = repo::find_by_external_id(&tx, external_id).await?
        && Some(other.id) != own_id
    {
        return Err(ScimError::uniqueness(format!(
            "externalId {external_id} is already in use"
        )));
    }
    if let Some(number) = &state.employee_number
        && let Some(other) = repo::find_by_employee_id(&tx, number).await?
        && Some(other.id) != own_id
    {
        return Err(ScimError::uniqueness(format!(
            "employeeNumber {number} is already in use"
        )));
    }
    let id = own_id.unwrap_or_else(Uuid::now_v7);
    // PostgreSQL keeps microseconds; the version in this answer must equal the one read back.
    let now = Utc::now().trunc_subsecs(6);
    let mut person = existing
        .clone()
        .unwrap_or_else(|| repo::blank_person(id, now));
    let address = state
        .email
        .clone()
        .or_else(|| check_email(&user_name).is_ok().then(|| user_name.clone()));
    // A preferred name the person chose stands in for the given name.
    let first = state
        .given_name
        .as_deref()
        .map(|given| person.preferred_name.as_deref().unwrap_or(given));
    let joined = [first, state.family_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    // The shown name: displayName, else name.formatted, else the given and family names, else
    // the userName.
    let display_name = state
        .display_name
        .clone()
        .or_else(|| state.formatted.clone())
        .or_else(|| (!joined.trim().is_empty()).then(|| joined.trim().to_owned()))
        .unwrap_or_else(|| user_name.clone());
    let (given_name, family_name) = match (&state.given_name, &state.family_name) {
        (None, None) => split_display_name(&display_name),
        (given, family) => (
            given.clone().unwrap_or_default(),
            family.clone().unwrap_or_default(),
        ),
    };
    person.email_normalized = address.as_deref().map(normalize_email);
    person.email = address;
    person.user_name = Some(user_name);
    person.sort_name = sort_name(&given_name, person.preferred_name.as_deref(), &family_name);
    person.given_name = given_name;
    person.family_name = family_name;
    person.display_name = display_name;
    person.title = state.title.clone();
    person.department = state.department.clone();
    person.location = state.location.clone();
    person.employee_id = state.employee_number.clone();
    person.manager_id = state.manager;
    person.external_id = state.external_id.clone();
    person.active = state.active;
    person.deleted_at = None;
    // The phone number is the person's own once they have one; the provider only fills a gap.
    if person.phone.is_none() {
        person.phone = state.phone.clone();
    }

    if let Some(old) = &existing {
        let mut compare = person.clone();
        compare.updated_at = old.updated_at;
        if compare == *old {
            return Ok(old.clone());
        }
    }
    person.updated_at = now;
    let change = writer::Change {
        before: existing,
        after: person,
    };
    let mut written = writer::write(&tx, vec![change], writer::Prechecked::default())
        .await
        .map_err(|error| refused(error, &state))?;
    let person = written.pop().ok_or_else(|| {
        ScimError::from(crate::error::ApiError::internal(anyhow::anyhow!(
            "the people writer returned nothing"
        )))
    })?;
    tx.commit().await?;
    doorbell.ring();
    Ok(person)
}

/// A refusal of the people writer in SCIM's terms.
fn refused(error: writer::WriteError, state: &UserState) -> ScimError {
    let rule = match error {
        writer::WriteError::Db(error) => return ScimError::from(error),
        writer::WriteError::Refused { rule, .. } => rule,
    };
    match rule {
        writer::Broken::UserNameTaken => {
            ScimError::uniqueness(format!("userName {} is already in use", state.user_name))
        }
        writer::Broken::EmailTaken => ScimError::uniqueness(format!(
            "the address {} is already someone else's",
            state
                .email
                .as_deref()
                .unwrap_or(state.user_name.as_str())
                .trim()
        )),
        writer::Broken::EmployeeIdTaken => ScimError::uniqueness(format!(
            "employeeNumber {} is already in use",
            state.employee_number.as_deref().unwrap_or_default()
        )),
        writer::Broken::ExternalIdTaken => ScimError::uniqueness(format!(
            "externalId {} is already in use",
            state.external_id.as_deref().unwrap_or_default()
        )),
        writer::Broken::LastAdmin => ScimError::new(
            StatusCode::CONFLICT,
            None,
            "this would leave Plein without an active admin",
        ),
        manager => ScimError::invalid_value(format!("manager: {}", manager.message())),
    }
}

/// Reads a resource body, refusing what is not a JSON object.
pub fn object(body: &Value) -> ScimResult<&serde_json::Map<String, Value>> {
    body.as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the body must be a JSON object"))
}

pub async fn create(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    body: &Value,
) -> ScimResult<people::Model> {
    let mut state = UserState::blank();
    state.apply_object("", object(body)?)?;
    save(db, doorbell, None, state, None).await
}

/// PUT: the body is the whole new resource; what it leaves out is cleared.
pub async fn replace(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
) -> ScimResult<people::Model> {
    let person = get(db, id).await?;
    let mut state = UserState::blank();
    state.apply_object("", object(body)?)?;
    save(db, doorbell, Some(person.id), state, if_match).await
}

pub async fn patch(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
) -> ScimResult<people::Model> {
    let person = get(db, id).await?;
    let mut state = UserState::of(&person);
    apply_patch(&mut state, body)?;
    save(db, doorbell, Some(person.id), state, if_match).await
}

/// DELETE: the person is deactivated (their sessions end) and no longer exists for SCIM; what
/// they wrote stays.
pub async fn delete(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    id: &str,
    if_match: Option<&str>,
) -> ScimResult<()> {
    let tx = db::begin_write(db).await?;
    let person = get_for_update(&tx, id).await?;
    check_version(&person, if_match)?;
    let state = UserState::of(&person);
    let mut after = person.clone();
    let now = Utc::now().trunc_subsecs(6);
    after.active = false;
    after.deleted_at = Some(now);
    let change = writer::Change {
        before: Some(person),
        after,
    };
    writer::write(&tx, vec![change], writer::Prechecked::default())
        .await
        .map_err(|error| refused(error, &state))?;
    tx.commit().await?;
    doorbell.ring();
    Ok(())
}
