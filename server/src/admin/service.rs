//! First-run setup and administrative account creation.

use std::collections::BTreeMap;

use sea_orm::{DatabaseConnection, DbErr};

use crate::auth::Principal;
use crate::auth::password;
use crate::auth::repo as auth_repo;
use crate::auth::tokens::random_secret;
use crate::db;
use crate::directory::dto::{PersonDto, Role};
use crate::directory::service::{self as people_service, NewPerson};
use crate::error::{ApiError, ApiResult};
use crate::events::Doorbell;

const SETUP_TOKEN_KEY: &str = "setup_token";

/// While no active admin exists, returns the setup token (creating it once, shared by all
/// nodes); afterwards removes any leftover token and returns `None`.
pub async fn ensure_setup_token(db: &DatabaseConnection) -> Result<Option<String>, DbErr> {
    if people_service::has_active_admin(db).await? {
        auth_repo::delete_setting(db, SETUP_TOKEN_KEY).await?;
        return Ok(None);
    }
    auth_repo::insert_setting_if_absent(db, SETUP_TOKEN_KEY, &random_secret()).await?;
    auth_repo::get_setting(db, SETUP_TOKEN_KEY).await
}

pub async fn setup_needed(db: &DatabaseConnection) -> ApiResult<bool> {
    Ok(!people_service::has_active_admin(db).await?)
}

fn validate_account(email: &str, name: &str, password: Option<&str>) -> ApiResult<()> {
    let mut fields = BTreeMap::new();
    if let Err(ApiError {
        fields: person_fields,
        ..
    }) = people_service::validate_new_person(email, name)
    {
        fields.extend(person_fields);
    }
    if let Some(password) = password
        && let Err(problem) = password::check_policy(password)
    {
        fields.insert("password".to_owned(), problem);
    }
    if fields.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(fields))
    }
}

/// Creates the first admin with the setup token, exactly once. The token is consumed in the same
/// transaction, so two concurrent attempts cannot both succeed.
pub async fn complete_setup(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    passwords: &password::PasswordHasher,
    token: &str,
    email: &str,
    name: &str,
    password: &str,
) -> ApiResult<PersonDto> {
    if !setup_needed(db).await? {
        return Err(ApiError::conflict(
            "already_set_up",
            "Plein already has an admin; sign in instead",
        ));
    }
    validate_account(email, name, Some(password))?;
    let hash = passwords.hash(password).await?;
    let tx = db::begin_write(db).await?;
    if !auth_repo::take_setting(&tx, SETUP_TOKEN_KEY, token).await? {
        return Err(ApiError::forbidden_code(
            "invalid_setup_token",
            "this setup link is not valid; use the newest one from the server log",
        ));
    }
    if crate::directory::repo::count_active_admins(&tx).await? > 0 {
        return Err(ApiError::conflict(
            "already_set_up",
            "Plein already has an admin; sign in instead",
        ));
    }
    let person = people_service::create_in(
        &tx,
        NewPerson {
            email: email.to_owned(),
            display_name: name.to_owned(),
            role: Role::Admin,
            password_hash: Some(hash),
        },
    )
    .await?;
    tx.commit().await?;
    doorbell.ring();
    tracing::info!(person_id = %person.id, "first admin created; setup is complete");
    Ok(person)
}

/// A person to create, as an admin or the CLI asks.
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password: Option<&'a str>,
}

/// Creates a person on an admin's behalf, with an optional password.
pub async fn create_person(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    passwords: &password::PasswordHasher,
    actor: &Principal,
    account: NewAccount<'_>,
) -> ApiResult<PersonDto> {
    actor.require_admin()?;
    create_person_unchecked(db, doorbell, passwords, account).await
}

/// Creates a person with the server's own authority (the CLI).
pub async fn create_person_unchecked(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    passwords: &password::PasswordHasher,
    account: NewAccount<'_>,
) -> ApiResult<PersonDto> {
    validate_account(account.email, account.name, account.password)?;
    let password_hash = match account.password {
        Some(password) => Some(passwords.hash(password).await?),
        None => None,
    };
    let person = people_service::create(
        db,
        doorbell,
        NewPerson {
            email: account.email.to_owned(),
            display_name: account.name.to_owned(),
            role: account.role,
            password_hash,
        },
    )
    .await?;
    if account.role == Role::Admin {
        auth_repo::delete_setting(db, SETUP_TOKEN_KEY).await?;
    }
    Ok(person)
}
