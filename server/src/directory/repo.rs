//! Queries on `people`.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::entities::people;

pub struct NewPersonRow {
    pub email: String,
    pub email_normalized: String,
    pub display_name: String,
    pub given_name: String,
    pub family_name: String,
    pub sort_name: String,
    pub role: &'static str,
    pub password_hash: Option<String>,
}

pub async fn insert(db: &impl ConnectionTrait, row: NewPersonRow) -> Result<people::Model, DbErr> {
    let now = Utc::now();
    people::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(row.email),
        email_normalized: Set(row.email_normalized),
        display_name: Set(row.display_name),
        role: Set(row.role.to_owned()),
        active: Set(true),
        password_hash: Set(row.password_hash),
        created_at: Set(now),
        updated_at: Set(now),
        employee_id: Set(None),
        given_name: Set(row.given_name),
        family_name: Set(row.family_name),
        preferred_name: Set(None),
        title: Set(None),
        department: Set(None),
        location: Set(None),
        manager_id: Set(None),
        phone: Set(None),
        skills: Set("[]".to_owned()),
        languages: Set("[]".to_owned()),
        bio: Set(None),
        photo_version: Set(None),
        start_date: Set(None),
        sort_name: Set(row.sort_name),
    }
    .insert(db)
    .await
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<people::Model>, DbErr> {
    people::Entity::find_by_id(id).one(db).await
}

pub async fn find_many(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<Vec<people::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    people::Entity::find()
        .filter(people::Column::Id.is_in(ids))
        .all(db)
        .await
}

pub async fn all_active(db: &impl ConnectionTrait) -> Result<Vec<people::Model>, DbErr> {
    people::Entity::find()
        .filter(people::Column::Active.eq(true))
        .all(db)
        .await
}

pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email_normalized: &str,
) -> Result<Option<people::Model>, DbErr> {
    people::Entity::find()
        .filter(people::Column::EmailNormalized.eq(email_normalized))
        .one(db)
        .await
}

pub async fn count_active_admins(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    people::Entity::find()
        .filter(people::Column::Role.eq("admin"))
        .filter(people::Column::Active.eq(true))
        .count(db)
        .await
}

/// People in id order (UUIDv7: creation order) after `after`.
pub async fn list_after(
    db: &impl ConnectionTrait,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<people::Model>, DbErr> {
    let mut query = people::Entity::find()
        .order_by_asc(people::Column::Id)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(people::Column::Id.gt(after));
    }
    query.all(db).await
}

pub struct Identity {
    pub email: String,
    pub email_normalized: String,
    pub display_name: String,
    pub given_name: String,
    pub family_name: String,
    pub sort_name: String,
}

pub async fn set_identity(
    db: &impl ConnectionTrait,
    person: people::Model,
    identity: Identity,
) -> Result<people::Model, DbErr> {
    let mut active: people::ActiveModel = person.into();
    active.email = Set(identity.email);
    active.email_normalized = Set(identity.email_normalized);
    active.display_name = Set(identity.display_name);
    active.given_name = Set(identity.given_name);
    active.family_name = Set(identity.family_name);
    active.sort_name = Set(identity.sort_name);
    active.updated_at = Set(Utc::now());
    active.update(db).await
}

pub async fn set_role(
    db: &impl ConnectionTrait,
    person: people::Model,
    role: &'static str,
) -> Result<people::Model, DbErr> {
    let mut active: people::ActiveModel = person.into();
    active.role = Set(role.to_owned());
    active.updated_at = Set(Utc::now());
    active.update(db).await
}

pub async fn set_active(
    db: &impl ConnectionTrait,
    person: people::Model,
    is_active: bool,
) -> Result<people::Model, DbErr> {
    let mut active: people::ActiveModel = person.into();
    active.active = Set(is_active);
    active.updated_at = Set(Utc::now());
    active.update(db).await
}

pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    person: people::Model,
    hash: String,
) -> Result<people::Model, DbErr> {
    let mut active: people::ActiveModel = person.into();
    active.password_hash = Set(Some(hash));
    active.updated_at = Set(Utc::now());
    active.update(db).await
}

/// The fields a person owns on their profile.
pub struct OwnProfile {
    pub preferred_name: Option<String>,
    pub phone: Option<String>,
    pub skills: String,
    pub languages: String,
    pub bio: Option<String>,
    pub sort_name: String,
}

pub async fn set_own_profile(
    db: &impl ConnectionTrait,
    person: people::Model,
    profile: OwnProfile,
) -> Result<people::Model, DbErr> {
    let mut active: people::ActiveModel = person.into();
    active.preferred_name = Set(profile.preferred_name);
    active.phone = Set(profile.phone);
    active.skills = Set(profile.skills);
    active.languages = Set(profile.languages);
    active.bio = Set(profile.bio);
    active.sort_name = Set(profile.sort_name);
    active.updated_at = Set(Utc::now());
    active.update(db).await
}
