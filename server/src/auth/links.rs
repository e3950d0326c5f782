//! Single-use links mailed to people: "forgot password" (valid an hour) and invitations from
//! admins and HR to people who have no way in yet (valid seven days). A link's secret is only
//! in the mail; the database keeps its SHA-256. Using one sets the password, voids the person's
//! other links and ends all their sessions.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::{Duration, Utc};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement,
};
use uuid::Uuid;

use super::dto::{InvitationOutcome, InvitationRequest};
use super::password::{self, MAX_PASSWORD_BYTES};
use super::service::AuthenticatedPerson;
use super::tokens::{hash_secret, random_secret};
use crate::db;
use crate::directory::dto::Role;
use crate::directory::{repo as people_repo, service as people_service};
use crate::entities::{account_links, people};
use crate::error::{ApiError, ApiResult};
use crate::events::{self, Event};
use crate::mail::{self, templates};
use crate::state::AppState;

pub const RESET_VALID: Duration = Duration::hours(1);
pub const INVITATION_VALID: Duration = Duration::days(7);
/// People one invitation may name.
const MAX_PERSON_IDS: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Reset,
    Invitation,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Reset => "reset",
            Purpose::Invitation => "invitation",
        }
    }

    /// The page of the web client the link opens.
    fn page(self) -> &'static str {
        match self {
            Purpose::Reset => "reset",
            Purpose::Invitation => "welcome",
        }
    }
}

/// "Forgot password" limits on one node: per address asked for (whether or not anyone has it,
/// so the answer tells nothing) and per client address.
#[derive(Clone)]
pub struct ResetLimiter {
    per_account: Arc<DefaultKeyedRateLimiter<String>>,
    per_address: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl ResetLimiter {
    pub fn new(per_account_per_hour: u32, per_address_per_hour: u32) -> Self {
        let quota = |count: u32| Quota::per_hour(NonZeroU32::new(count).unwrap_or(NonZeroU32::MIN));
        ResetLimiter {
            per_account: Arc::new(RateLimiter::keyed(quota(per_account_per_hour))),
            per_address: Arc::new(RateLimiter::keyed(quota(per_address_per_hour))),
        }
    }

    fn check_address(&self, address: IpAddr) -> ApiResult<()> {
        allowed(&self.per_address, &address).inspect_err(|_| {
            tracing::info!(%address, "password reset requests refused: too many from this address");
        })
    }

    fn check_account(&self, account: &str) -> ApiResult<()> {
        allowed(&self.per_account, &account.to_owned()).inspect_err(|_| {
            tracing::info!("password reset requests refused: too many for one email address");
        })
    }

    /// Forgets keys that are allowed again.
    pub fn prune(&self) {
        self.per_account.retain_recent();
        self.per_address.retain_recent();
    }
}

/// 429 with the wait when `key` has used its allowance.
fn allowed<K: Clone + Eq + std::hash::Hash>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> ApiResult<()> {
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until
            .wait_time_from(DefaultClock::default().now())
            .as_secs()
            .max(1);
        ApiError::rate_limited(wait)
    })
}

/// The link as mailed: `<public_url>/reset?token=…` or `/welcome?token=…` (a public URL with a
/// path keeps it; the secret is URL-safe base64).
fn link_of(state: &AppState, purpose: Purpose, secret: &str) -> String {
    format!(
        "{}/{}?token={secret}",
        state.config.public_url.as_str().trim_end_matches('/'),
        purpose.page()
    )
}

/// A new link for `person`; its secret.
fn new_link(
    person: Uuid,
    purpose: Purpose,
    created_by: Option<Uuid>,
) -> (account_links::ActiveModel, String) {
    let secret = random_secret();
    let now = Utc::now();
    let valid = match purpose {
        Purpose::Reset => RESET_VALID,
        Purpose::Invitation => INVITATION_VALID,
    };
    let row = account_links::ActiveModel {
        id: Set(Uuid::now_v7()),
        person_id: Set(person),
        purpose: Set(purpose.as_str().to_owned()),
        token_hash: Set(hash_secret(&secret)),
        expires_at: Set(now + valid),
        used_at: Set(None),
        created_at: Set(now),
        created_by: Set(created_by),
    };
    (row, secret)
}

/// Answers at once (the same whether or not the address belongs to anyone); the link is made
/// and mailed in the background.
pub fn request_reset(state: &AppState, client: IpAddr, email: &str) -> ApiResult<()> {
    state.reset_limiter.check_address(client)?;
    let account = people_service::normalize_email(email);
    if account.is_empty() || account.len() > people_service::MAX_EMAIL_CHARS {
        return Err(ApiError::field("email", "is not an email address"));
    }
    state.reset_limiter.check_account(&account)?;
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(error) = mail_reset(&state, &account).await {
            tracing::warn!(error = %error.message, cause = ?error.internal, "cannot mail a password reset link");
        }
    });
    Ok(())
}

async fn mail_reset(state: &AppState, account: &str) -> ApiResult<()> {
    let Some(person) = people_repo::find_by_email(&state.db, account)
        .await?
        .filter(|person| person.active && person.deleted_at.is_none())
    else {
        tracing::info!("password reset asked for an address no active person has");
        return Ok(());
    };
    let Some(to) = person.email.clone() else {
        return Ok(());
    };
    let (row, secret) = new_link(person.id, Purpose::Reset, None);
    let mail = templates::password_reset(
        templates::language(person.ui_language.as_deref()),
        &to,
        &person.display_name,
        &link_of(state, Purpose::Reset, &secret),
        &templates::Site {
            public_url: state.config.public_url.as_str(),
        },
    );
    let tx = db::begin_write(&state.db).await?;
    account_links::Entity::insert(row)
        .exec_without_returning(&tx)
        .await?;
    mail::queue(&tx, vec![mail]).await?;
    tx.commit().await?;
    state.mailer.wake();
    tracing::info!(person = %person.id, "password reset link mailed");
    Ok(())
}

fn invalid_link() -> ApiError {
    ApiError::bad_request(
        "invalid_link",
        "this link does not work: it was used already, has expired, or is not complete",
    )
}

/// Sets the password of the link's person; their other links and all their sessions end.
pub async fn complete(state: &AppState, client: IpAddr, token: &str, new: &str) -> ApiResult<()> {
    state.reset_limiter.check_address(client)?;
    if let Err(problem) = password::check_policy(new) {
        return Err(ApiError::field("password", problem));
    }
    if token.is_empty() || token.len() > MAX_PASSWORD_BYTES {
        return Err(invalid_link());
    }
    let hash = hash_secret(token);
    let now = Utc::now();
    let Some(link) = account_links::Entity::find()
        .filter(account_links::Column::TokenHash.eq(hash.as_str()))
        .one(&state.db)
        .await?
        .filter(|link| link.used_at.is_none() && link.expires_at > now)
    else {
        tracing::info!(%client, "a password link was refused: unknown, used or expired");
        return Err(invalid_link());
    };
    let password_hash = state.passwords.hash(new).await?;
    let tx = db::begin_write(&state.db).await?;
    // Taken once: of two uses at the same moment, one changes the row and the other nothing.
    let taken = tx
        .execute_raw(Statement::from_sql_and_values(
            tx.get_database_backend(),
            "UPDATE account_links SET used_at = $1 WHERE id = $2 AND used_at IS NULL",
            [now.into(), link.id.into()],
        ))
        .await?;
    let person = people_repo::find(&tx, link.person_id)
        .await?
        .filter(|person| person.active && person.deleted_at.is_none());
    let (1, Some(person)) = (taken.rows_affected(), person) else {
        return Err(invalid_link());
    };
    tx.execute_raw(Statement::from_sql_and_values(
        tx.get_database_backend(),
        "UPDATE account_links SET used_at = $1 WHERE person_id = $2 AND used_at IS NULL",
        [now.into(), person.id.into()],
    ))
    .await?;
    let person_id = person.id;
    people_repo::set_password_hash(&tx, person, password_hash).await?;
    super::repo::delete_sessions_of(&tx, person_id).await?;
    events::append(
        &tx,
        Event::SessionsEnded {
            person_id,
            sessions: Vec::new(),
            all_but: None,
        },
    )
    .await?;
    tx.commit().await?;
    state.doorbell.ring();
    tracing::info!(person = %person_id, purpose = %link.purpose, "password set through a mailed link");
    Ok(())
}

/// Mails invitations to the people named who cannot sign in yet.
pub async fn invite(
    state: &AppState,
    inviter: &AuthenticatedPerson,
    request: InvitationRequest,
) -> ApiResult<InvitationOutcome> {
    if !matches!(inviter.role, Role::Hr | Role::Admin) {
        return Err(ApiError::forbidden("only HR and admins send invitations"));
    }
    let everyone = request.all_without_sign_in == Some(true);
    let chosen = [
        request.person_ids.is_some(),
        request.department.is_some(),
        everyone,
    ];
    if chosen.iter().filter(|chosen| **chosen).count() != 1 {
        return Err(ApiError::bad_request(
            "invalid_invitation",
            "give exactly one of person_ids, department or all_without_sign_in: true",
        ));
    }
    let candidates: Vec<people::Model> = if let Some(ids) = &request.person_ids {
        if ids.is_empty() || ids.len() > MAX_PERSON_IDS {
            return Err(ApiError::field(
                "person_ids",
                format!("names 1 to {MAX_PERSON_IDS} people"),
            ));
        }
        let mut ids = ids.clone();
        ids.sort_unstable();
        ids.dedup();
        let asked = ids.len();
        let found = people_repo::find_many(&state.db, ids).await?;
        let skipped_unknown = asked - found.len();
        return send_invitations(state, inviter, found, skipped_unknown as u64).await;
    } else if let Some(department) = &request.department {
        let department = department.trim();
        if department.is_empty() || department.chars().count() > 200 {
            return Err(ApiError::field("department", "names a department"));
        }
        people::Entity::find()
            .filter(people::Column::Department.eq(department))
            .all(&state.db)
            .await?
    } else {
        people::Entity::find()
            .filter(people::Column::PasswordHash.is_null())
            .filter(people::Column::Active.eq(true))
            .all(&state.db)
            .await?
    };
    send_invitations(state, inviter, candidates, 0).await
}

async fn send_invitations(
    state: &AppState,
    inviter: &AuthenticatedPerson,
    candidates: Vec<people::Model>,
    already_skipped: u64,
) -> ApiResult<InvitationOutcome> {
    let inviter_name = people_repo::find(&state.db, inviter.id)
        .await?
        .map(|person| person.display_name)
        .unwrap_or_else(|| "Plein".to_owned());
    let site = templates::Site {
        public_url: state.config.public_url.as_str(),
    };
    let total = candidates.len() as u64;
    let mut links = Vec::new();
    let mut mails = Vec::new();
    for person in candidates {
        let Some(to) = person.email.clone() else {
            continue;
        };
        if !person.active || person.deleted_at.is_some() || person.password_hash.is_some() {
            continue;
        }
        let (row, secret) = new_link(person.id, Purpose::Invitation, Some(inviter.id));
        links.push(row);
        mails.push(templates::invitation(
            templates::language(person.ui_language.as_deref()),
            &to,
            &person.display_name,
            &inviter_name,
            &link_of(state, Purpose::Invitation, &secret),
            &site,
        ));
    }
    let invited = links.len() as u64;
    let tx = db::begin_write(&state.db).await?;
    let mut links = links.into_iter().peekable();
    while links.peek().is_some() {
        let chunk: Vec<_> = links.by_ref().take(1_000).collect();
        account_links::Entity::insert_many(chunk)
            .exec_without_returning(&tx)
            .await?;
    }
    mail::queue(&tx, mails).await?;
    tx.commit().await?;
    state.mailer.wake();
    tracing::info!(inviter = %inviter.id, invited, "invitations mailed");
    Ok(InvitationOutcome {
        invited,
        skipped: total - invited + already_skipped,
    })
}

/// Forgets links that can no longer be used, a day after.
pub async fn prune(db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
    let before = Utc::now() - Duration::days(1);
    let result = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "DELETE FROM account_links WHERE expires_at < $1 OR used_at < $1",
            [before.into()],
        ))
        .await?;
    Ok(result.rows_affected())
}
