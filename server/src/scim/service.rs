//! Provisioning rules: creating, replacing, patching and deleting people for a SCIM client, with
//! the same checks as every other route (unique addresses and numbers, no manager loops, the last
//! admin stays) and the same events.

use axum::http::StatusCode;
use chrono::{SubsecRound as _, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::Value;
use uuid::Uuid;

use super::error::{ScimError, ScimResult};
use super::filter::{Attribute, Filter, Operator, Value as FilterValue};
use super::user::{UserState, apply_patch, version};
use crate::db;
use crate::directory::service::{
    check_display_name, check_email, normalize_email, sort_name, split_display_name,
};
use crate::directory::{repo, writer};
use crate::entities::people;
use crate::events::Doorbell;

const MAX_TEXT_CHARS: usize = 200;
const MAX_EXTERNAL_ID_CHARS: usize = 255;
const MAX_EMPLOYEE_NUMBER_CHARS: usize = 64;

/// One page of a list.
pub struct Listed {
    pub total: u64,
    pub people: Vec<people::Model>,
}

/// Whether a person satisfies every comparison of a filter.
fn matches(filter: &Filter, person: &people::Model) -> bool {
    filter.all.iter().all(|comparison| {
        let text = |value: Option<&String>| {
            value.map_or(FilterValue::Null, |text| FilterValue::Text(text.clone()))
        };
        let actual = match comparison.attribute {
            Attribute::Id => FilterValue::Text(person.id.to_string()),
            Attribute::UserName | Attribute::Email => FilterValue::Text(person.email.clone()),
            Attribute::ExternalId => text(person.external_id.as_ref()),
            Attribute::DisplayName => FilterValue::Text(person.display_name.clone()),
            Attribute::GivenName => FilterValue::Text(person.given_name.clone()),
            Attribute::FamilyName => FilterValue::Text(person.family_name.clone()),
            Attribute::Title => text(person.title.as_ref()),
            Attribute::Active => FilterValue::Bool(person.active),
            Attribute::EmployeeNumber => text(person.employee_id.as_ref()),
            Attribute::Department => text(person.department.as_ref()),
        };
        comparison.holds(&actual)
    })
}

/// Lists people for a SCIM client: `start_index` counts from 1. An `eq` on a unique attribute
/// is answered from its index; other filters are checked person by person.
pub async fn list(
    db: &DatabaseConnection,
    filter: &Filter,
    start_index: u64,
    count: u64,
) -> ScimResult<Listed> {
    let offset = start_index.saturating_sub(1);
    if filter.all.is_empty() {
        let total = repo::count_provisioned(db).await?;
        let people = if count == 0 {
            Vec::new()
        } else {
            repo::provisioned_page(db, offset, count).await?
        };
        return Ok(Listed { total, people });
    }
    let unique = filter.all.iter().find_map(|comparison| {
        let FilterValue::Text(value) = &comparison.value else {
            return None;
        };
        (comparison.operator == Operator::Eq).then_some((comparison.attribute, value))
    });
    let candidates = match unique {
        Some((Attribute::UserName | Attribute::Email, value)) => {
            repo::find_by_email(db, &normalize_email(value))
                .await?
                .into_iter()
                .collect()
        }
        Some((Attribute::ExternalId, value)) => repo::find_by_external_id(db, value)
            .await?
            .into_iter()
            .collect(),
        Some((Attribute::EmployeeNumber, value)) => repo::find_by_employee_id(db, value)
            .await?
            .into_iter()
            .collect(),
        Some((Attribute::Id, value)) => match value.parse::<Uuid>() {
            Ok(id) => repo::find(db, id).await?.into_iter().collect(),
            Err(_) => Vec::new(),
        },
        _ => repo::all_provisioned(db).await?,
    };
    let matching: Vec<people::Model> = candidates
        .into_iter()
        .filter(|person| person.deleted_at.is_none() && matches(filter, person))
        .collect();
    let total = matching.len() as u64;
    let people = matching
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(count).unwrap_or(usize::MAX))
        .collect();
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
    if let Err(problem) = check_email(&state.user_name) {
        problems.push(format!("userName {problem}"));
    }
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
    if state.given_name.is_none() && state.family_name.is_none() && state.display_name.is_none() {
        problems.push("name.givenName or displayName is required".to_owned());
    }
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
    let email_normalized = normalize_email(&state.user_name);
    let holder = repo::find_by_email(&tx, &email_normalized).await?;
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
    let (given_name, family_name) =
        match (&state.given_name, &state.family_name, &state.display_name) {
            (None, None, Some(display)) => split_display_name(display),
            (given, family, _) => (
                given.clone().unwrap_or_default(),
                family.clone().unwrap_or_default(),
            ),
        };
    // PostgreSQL keeps microseconds; the version in this answer must equal the one read back.
    let now = Utc::now().trunc_subsecs(6);
    let mut person = existing
        .clone()
        .unwrap_or_else(|| repo::blank_person(id, now));
    let display_name = state.display_name.clone().unwrap_or_else(|| {
        let shown = person.preferred_name.as_deref().unwrap_or(&given_name);
        format!("{shown} {family_name}").trim().to_owned()
    });
    person.email = state.user_name.clone();
    person.email_normalized = email_normalized;
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
        writer::Broken::EmailTaken => {
            ScimError::uniqueness(format!("userName {} is already in use", state.user_name))
        }
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
