//! Queries on `sessions`, `api_tokens`, `login_failures` and `settings`.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::entities::{api_tokens, login_failures, people, sessions, settings};

pub struct NewSession {
    pub person_id: Uuid,
    pub token_hash: String,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_session(
    db: &impl ConnectionTrait,
    new: NewSession,
) -> Result<sessions::Model, DbErr> {
    let now = Utc::now();
    sessions::ActiveModel {
        id: Set(Uuid::now_v7()),
        person_id: Set(new.person_id),
        token_hash: Set(new.token_hash),
        user_agent: Set(new.user_agent),
        ip_address: Set(new.ip_address),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(new.expires_at),
    }
    .insert(db)
    .await
}

/// A session with its person, in one read (every signed-in request starts with it).
pub async fn find_session_with_person(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<(sessions::Model, Option<people::Model>)>, DbErr> {
    sessions::Entity::find()
        .find_also_related(people::Entity)
        .filter(sessions::Column::TokenHash.eq(token_hash))
        .one(db)
        .await
}

pub async fn touch_session(
    db: &impl ConnectionTrait,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    sessions::Entity::update_many()
        .col_expr(sessions::Column::LastSeenAt, at.into())
        .filter(sessions::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn list_sessions_of(
    db: &impl ConnectionTrait,
    person_id: Uuid,
) -> Result<Vec<sessions::Model>, DbErr> {
    sessions::Entity::find()
        .filter(sessions::Column::PersonId.eq(person_id))
        .filter(sessions::Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(sessions::Column::LastSeenAt)
        .all(db)
        .await
}

/// Whether a session is still there and not expired.
pub async fn session_is_live(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, DbErr> {
    Ok(sessions::Entity::find_by_id(id)
        .filter(sessions::Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?
        .is_some())
}

/// Deletes one session of one person; returns whether it existed.
pub async fn delete_session_of(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    id: Uuid,
) -> Result<bool, DbErr> {
    let result = sessions::Entity::delete_many()
        .filter(sessions::Column::Id.eq(id))
        .filter(sessions::Column::PersonId.eq(person_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

pub async fn delete_sessions_of(db: &impl ConnectionTrait, person_id: Uuid) -> Result<u64, DbErr> {
    Ok(sessions::Entity::delete_many()
        .filter(sessions::Column::PersonId.eq(person_id))
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn delete_sessions_of_many(
    db: &impl ConnectionTrait,
    person_ids: &[Uuid],
) -> Result<u64, DbErr> {
    Ok(sessions::Entity::delete_many()
        .filter(crate::db::one_of(
            db.get_database_backend(),
            sessions::Column::PersonId,
            person_ids.iter().copied(),
        ))
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn delete_other_sessions_of(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    keep: Uuid,
) -> Result<u64, DbErr> {
    Ok(sessions::Entity::delete_many()
        .filter(sessions::Column::PersonId.eq(person_id))
        .filter(sessions::Column::Id.ne(keep))
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn delete_expired_sessions(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    Ok(sessions::Entity::delete_many()
        .filter(sessions::Column::ExpiresAt.lte(Utc::now()))
        .exec(db)
        .await?
        .rows_affected)
}

pub struct NewToken {
    pub name: String,
    pub token_hash: String,
    pub scopes: String,
    pub created_by: Option<Uuid>,
}

pub async fn insert_token(
    db: &impl ConnectionTrait,
    new: NewToken,
) -> Result<api_tokens::Model, DbErr> {
    api_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(new.name),
        token_hash: Set(new.token_hash),
        scopes: Set(new.scopes),
        created_by: Set(new.created_by),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await
}

pub async fn find_token_by_hash(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<api_tokens::Model>, DbErr> {
    api_tokens::Entity::find()
        .filter(api_tokens::Column::TokenHash.eq(token_hash))
        .one(db)
        .await
}

pub async fn touch_token(
    db: &impl ConnectionTrait,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    api_tokens::Entity::update_many()
        .col_expr(api_tokens::Column::LastUsedAt, Some(at).into())
        .filter(api_tokens::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn list_tokens_after(
    db: &impl ConnectionTrait,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<api_tokens::Model>, DbErr> {
    let mut query = api_tokens::Entity::find()
        .order_by_asc(api_tokens::Column::Id)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(api_tokens::Column::Id.gt(after));
    }
    query.all(db).await
}

pub async fn find_token(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<api_tokens::Model>, DbErr> {
    api_tokens::Entity::find_by_id(id).one(db).await
}

pub async fn revoke_token(
    db: &impl ConnectionTrait,
    token: api_tokens::Model,
) -> Result<api_tokens::Model, DbErr> {
    let mut active: api_tokens::ActiveModel = token.into();
    active.revoked_at = Set(Some(Utc::now()));
    active.update(db).await
}

pub async fn get_setting(db: &impl ConnectionTrait, key: &str) -> Result<Option<String>, DbErr> {
    Ok(settings::Entity::find_by_id(key.to_owned())
        .one(db)
        .await?
        .map(|row| row.value))
}

/// Inserts the setting unless it already exists (another node may have raced us).
pub async fn insert_setting_if_absent(
    db: &impl ConnectionTrait,
    key: &str,
    value: &str,
) -> Result<(), DbErr> {
    let result = settings::Entity::insert(settings::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(value.to_owned()),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(settings::Column::Key)
            .do_nothing()
            .to_owned(),
    )
    .exec(db)
    .await;
    match result {
        Ok(_) | Err(DbErr::RecordNotInserted) => Ok(()),
        Err(error) => Err(error),
    }
}

/// Deletes the setting only if it still has `value`; returns whether it did.
pub async fn take_setting(
    db: &impl ConnectionTrait,
    key: &str,
    value: &str,
) -> Result<bool, DbErr> {
    let result = settings::Entity::delete_many()
        .filter(settings::Column::Key.eq(key))
        .filter(settings::Column::Value.eq(value))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn delete_setting(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    settings::Entity::delete_by_id(key.to_owned())
        .exec(db)
        .await
        .map(|_| ())
}

/// Failed sign-ins since a moment, for one account and address, the account, and the address.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FailureCounts {
    pub pair: u32,
    pub pair_last_ms: Option<i64>,
    pub account: u32,
    pub account_last_ms: Option<i64>,
    pub address: u32,
    pub address_last_ms: Option<i64>,
}

#[derive(Debug, sea_orm::FromQueryResult)]
struct FailureRow {
    pair: Option<i64>,
    pair_last_ms: Option<i64>,
    account: Option<i64>,
    account_last_ms: Option<i64>,
    address: Option<i64>,
    address_last_ms: Option<i64>,
}

/// One indexed pass over the failures of `account` or `address` since `since_ms`.
pub async fn count_login_failures(
    db: &impl ConnectionTrait,
    account: &str,
    address: &str,
    since_ms: i64,
) -> Result<FailureCounts, DbErr> {
    use sea_orm::{DbBackend, FromQueryResult, Statement};
    let backend = db.get_database_backend();
    let placeholder = |n: u8| match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    };
    let (p1, p2, p3) = (placeholder(1), placeholder(2), placeholder(3));
    let sql = format!(
        "SELECT \
           SUM(CASE WHEN account = {p1} AND address = {p2} THEN 1 ELSE 0 END) AS pair, \
           MAX(CASE WHEN account = {p1} AND address = {p2} THEN failed_at_ms END) AS pair_last_ms, \
           SUM(CASE WHEN account = {p1} THEN 1 ELSE 0 END) AS account, \
           MAX(CASE WHEN account = {p1} THEN failed_at_ms END) AS account_last_ms, \
           SUM(CASE WHEN address = {p2} THEN 1 ELSE 0 END) AS address, \
           MAX(CASE WHEN address = {p2} THEN failed_at_ms END) AS address_last_ms \
         FROM login_failures WHERE failed_at_ms > {p3} AND (account = {p1} OR address = {p2})"
    );
    let statement = Statement::from_sql_and_values(
        backend,
        sql,
        [account.into(), address.into(), since_ms.into()],
    );
    let row = FailureRow::find_by_statement(statement).one(db).await?;
    let count = |value: Option<i64>| u32::try_from(value.unwrap_or(0)).unwrap_or(u32::MAX);
    Ok(
        row.map_or_else(FailureCounts::default, |row| FailureCounts {
            pair: count(row.pair),
            pair_last_ms: row.pair_last_ms,
            account: count(row.account),
            account_last_ms: row.account_last_ms,
            address: count(row.address),
            address_last_ms: row.address_last_ms,
        }),
    )
}

pub async fn record_login_failure(
    db: &impl ConnectionTrait,
    account: &str,
    address: &str,
    at_ms: i64,
) -> Result<(), DbErr> {
    login_failures::ActiveModel {
        id: Set(Uuid::now_v7()),
        account: Set(account.to_owned()),
        address: Set(address.to_owned()),
        failed_at_ms: Set(at_ms),
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// A successful sign-in forgives that account's failures from that address.
pub async fn clear_login_failures(
    db: &impl ConnectionTrait,
    account: &str,
    address: &str,
) -> Result<(), DbErr> {
    login_failures::Entity::delete_many()
        .filter(login_failures::Column::Account.eq(account))
        .filter(login_failures::Column::Address.eq(address))
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn delete_login_failures_before(
    db: &impl ConnectionTrait,
    before_ms: i64,
) -> Result<u64, DbErr> {
    Ok(login_failures::Entity::delete_many()
        .filter(login_failures::Column::FailedAtMs.lt(before_ms))
        .exec(db)
        .await?
        .rows_affected)
}
