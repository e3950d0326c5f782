//! Queries on `sessions`, `api_tokens` and `settings`.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::entities::{api_tokens, sessions, settings};

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

pub async fn find_session_by_hash(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<sessions::Model>, DbErr> {
    sessions::Entity::find()
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
        .filter(sessions::Column::PersonId.is_in(person_ids.iter().copied()))
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
