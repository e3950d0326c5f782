//! Rules for people: creating accounts, roles, activation. Every change appends its event in
//! the same transaction.

use std::collections::BTreeMap;

use sea_orm::{DatabaseConnection, DbErr, SqlErr};
use uuid::Uuid;

use super::dto::{PersonDto, PersonEvent, Role};
use super::repo;
use crate::auth::Principal;
use crate::auth::repo as auth_repo;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::events::{self, Audience, Doorbell, NewEvent, kinds};
use crate::http::pagination::{Cursor, Page};

pub const MAX_DISPLAY_NAME_CHARS: usize = 200;
pub const MAX_EMAIL_CHARS: usize = 320;

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

/// A concurrent insert can still hit the unique index after our check.
fn email_taken_or_internal(error: DbErr) -> ApiError {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => email_taken(),
        _ => ApiError::from(error),
    }
}

/// Inserts a person inside an open transaction and appends `person.created`.
pub async fn create_in<C: sea_orm::ConnectionTrait>(
    tx: &C,
    person: NewPerson,
) -> ApiResult<PersonDto> {
    validate_new_person(&person.email, &person.display_name)?;
    let email_normalized = normalize_email(&person.email);
    if repo::find_by_email(tx, &email_normalized).await?.is_some() {
        return Err(email_taken());
    }
    let row = repo::insert(
        tx,
        repo::NewPersonRow {
            email: person.email.trim().to_owned(),
            email_normalized,
            display_name: person.display_name.trim().to_owned(),
            role: person.role.as_str(),
            password_hash: person.password_hash,
        },
    )
    .await
    .map_err(email_taken_or_internal)?;
    events::append(
        tx,
        NewEvent::new(
            kinds::PERSON_CREATED,
            Audience::Everyone,
            PersonEvent::from(&row),
        ),
    )
    .await?;
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

/// Changes a person's email address and/or display name (HR-owned fields) and appends
/// `person.updated`. Unchanged input appends nothing.
pub async fn update_identity(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    actor: &Principal,
    id: Uuid,
    email: Option<&str>,
    display_name: Option<&str>,
) -> ApiResult<PersonDto> {
    actor.require_admin()?;
    let mut fields = BTreeMap::new();
    if let Some(Err(problem)) = email.map(check_email) {
        fields.insert("email".to_owned(), problem);
    }
    if let Some(Err(problem)) = display_name.map(check_display_name) {
        fields.insert("name".to_owned(), problem);
    }
    if !fields.is_empty() {
        return Err(ApiError::validation(fields));
    }
    let tx = db::begin_write(db).await?;
    let person = repo::find(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    let new_email = email.map_or_else(|| person.email.clone(), |email| email.trim().to_owned());
    let new_normalized = normalize_email(&new_email);
    let new_name = display_name.map_or_else(
        || person.display_name.clone(),
        |name| name.trim().to_owned(),
    );
    if new_email == person.email && new_name == person.display_name {
        return Ok(PersonDto::from(person));
    }
    if new_normalized != person.email_normalized
        && repo::find_by_email(&tx, &new_normalized).await?.is_some()
    {
        return Err(email_taken());
    }
    let updated = repo::set_identity(&tx, person, new_email, new_normalized, new_name)
        .await
        .map_err(email_taken_or_internal)?;
    events::append(
        &tx,
        NewEvent::new(
            kinds::PERSON_UPDATED,
            Audience::Everyone,
            PersonEvent::from(&updated),
        ),
    )
    .await?;
    tx.commit().await?;
    doorbell.ring();
    Ok(PersonDto::from(updated))
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
    let tx = db::begin_write(db).await?;
    let person = repo::find(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    if person.role == role.as_str() {
        return Ok(PersonDto::from(person));
    }
    if person.role == Role::Admin.as_str()
        && person.active
        && repo::count_active_admins(&tx).await? <= 1
    {
        return Err(last_admin());
    }
    let previous = person.role.clone();
    let updated = repo::set_role(&tx, person, role.as_str()).await?;
    events::append(
        &tx,
        NewEvent::new(
            kinds::PERSON_ROLE_CHANGED,
            Audience::Everyone,
            serde_json::json!({ "person": PersonEvent::from(&updated), "previous_role": previous }),
        ),
    )
    .await?;
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
    let person = repo::find(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    if person.active == active {
        return Ok(PersonDto::from(person));
    }
    if !active && person.role == Role::Admin.as_str() && repo::count_active_admins(&tx).await? <= 1
    {
        return Err(last_admin());
    }
    let updated = repo::set_active(&tx, person, active).await?;
    if !active {
        auth_repo::delete_sessions_of(&tx, updated.id).await?;
    }
    let kind = if active {
        kinds::PERSON_REACTIVATED
    } else {
        kinds::PERSON_DEACTIVATED
    };
    events::append(
        &tx,
        NewEvent::new(kind, Audience::Everyone, PersonEvent::from(&updated)),
    )
    .await?;
    tx.commit().await?;
    doorbell.ring();
    Ok(PersonDto::from(updated))
}

/// True when at least one active admin exists.
pub async fn has_active_admin(db: &DatabaseConnection) -> Result<bool, DbErr> {
    Ok(repo::count_active_admins(db).await? > 0)
}
