//! The queries behind notifications and muted groups.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _,
    PaginatorTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use uuid::Uuid;

use super::dto::PersonUnread;
use crate::entities::{group_mutes, notifications, reactions};

pub async fn insert(db: &impl ConnectionTrait, row: notifications::Model) -> Result<(), DbErr> {
    notifications::ActiveModel::from(row).insert(db).await?;
    Ok(())
}

pub async fn insert_many(
    db: &impl ConnectionTrait,
    rows: Vec<notifications::Model>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    notifications::Entity::insert_many(rows.into_iter().map(notifications::ActiveModel::from))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// One notification of `kind` about an announcement for each of `people`. On PostgreSQL one statement of two array parameters whatever the number of people:
/// an announcement to 30,000 people is otherwise 30 statements of 14,000 parameters each,
/// which kept PostgreSQL busy while the live frames of the same announcement went out.
pub async fn insert_about_announcement(
    db: &impl ConnectionTrait,
    about: AnnouncementNotice<'_>,
    people: &[Uuid],
) -> Result<(), DbErr> {
    if people.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = people.iter().map(|_| Uuid::now_v7()).collect();
    let backend = db.get_database_backend();
    if backend == sea_orm::DbBackend::Postgres {
        db.execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            "INSERT INTO notifications \
             (id, person_id, kind, announcement_id, actor_id, others, created_at, updated_at) \
             SELECT given.id, given.person_id, $3, $4, $5, 0, $6, $6 \
             FROM unnest($1::uuid[], $2::uuid[]) AS given (id, person_id)",
            [
                ids.into(),
                people.to_vec().into(),
                about.kind.into(),
                about.announcement.into(),
                about.actor.into(),
                about.at.into(),
            ],
        ))
        .await?;
        return Ok(());
    }
    let rows: Vec<notifications::Model> = ids
        .into_iter()
        .zip(people)
        .map(|(id, person)| notifications::Model {
            id,
            person_id: *person,
            kind: about.kind.to_owned(),
            group_id: None,
            post_id: None,
            comment_id: None,
            announcement_id: Some(about.announcement),
            conversation_id: None,
            message_id: None,
            actor_id: about.actor,
            others: 0,
            created_at: about.at,
            updated_at: about.at,
            read_at: None,
        })
        .collect();
    for chunk in rows.chunks(1_000) {
        insert_many(db, chunk.to_vec()).await?;
    }
    Ok(())
}

/// What notifications about an announcement say.
#[derive(Debug, Clone, Copy)]
pub struct AnnouncementNotice<'a> {
    pub kind: &'a str,
    pub announcement: Uuid,
    pub actor: Option<Uuid>,
    pub at: DateTime<Utc>,
}

/// Who has been told about an announcement already.
pub async fn told_about_announcement(
    db: &impl ConnectionTrait,
    announcement: Uuid,
) -> Result<std::collections::HashSet<Uuid>, DbErr> {
    let people: Vec<Uuid> = notifications::Entity::find()
        .select_only()
        .column(notifications::Column::PersonId)
        .filter(notifications::Column::AnnouncementId.eq(announcement))
        .into_tuple()
        .all(db)
        .await?;
    Ok(people.into_iter().collect())
}

/// The unread reaction notification of `person` about `post`, to add to.
pub async fn unread_about_post(
    db: &impl ConnectionTrait,
    person: Uuid,
    kind: &str,
    post: Uuid,
) -> Result<Option<notifications::Model>, DbErr> {
    notifications::Entity::find()
        .filter(notifications::Column::PersonId.eq(person))
        .filter(notifications::Column::Kind.eq(kind))
        .filter(notifications::Column::PostId.eq(post))
        .filter(notifications::Column::ReadAt.is_null())
        .one(db)
        .await
}

pub async fn update_actor(
    db: &impl ConnectionTrait,
    id: Uuid,
    actor: Uuid,
    others: i32,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    notifications::Entity::update_many()
        .col_expr(notifications::Column::ActorId, Expr::value(actor))
        .col_expr(notifications::Column::Others, Expr::value(others))
        .col_expr(notifications::Column::UpdatedAt, Expr::value(at))
        .filter(notifications::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// How many people other than `except` reacted to a post.
pub async fn reactors(db: &impl ConnectionTrait, post: Uuid, except: Uuid) -> Result<u64, DbErr> {
    reactions::Entity::find()
        .select_only()
        .column(reactions::Column::PersonId)
        .distinct()
        .filter(reactions::Column::PostId.eq(post))
        .filter(reactions::Column::PersonId.ne(except))
        .count(db)
        .await
}

pub async fn muted(db: &impl ConnectionTrait, person: Uuid, group: Uuid) -> Result<bool, DbErr> {
    Ok(group_mutes::Entity::find_by_id((person, group))
        .one(db)
        .await?
        .is_some())
}

pub async fn set_muted(
    db: &impl ConnectionTrait,
    person: Uuid,
    group: Uuid,
    on: bool,
) -> Result<(), DbErr> {
    if on {
        use sea_orm::sea_query::OnConflict;
        group_mutes::Entity::insert(group_mutes::ActiveModel::from(group_mutes::Model {
            person_id: person,
            group_id: group,
            created_at: Utc::now(),
        }))
        .on_conflict(
            OnConflict::columns([group_mutes::Column::PersonId, group_mutes::Column::GroupId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    } else {
        group_mutes::Entity::delete_by_id((person, group))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// A person's notifications, newest first, before `before`.
pub async fn page(
    db: &impl ConnectionTrait,
    person: Uuid,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<notifications::Model>, DbErr> {
    let mut select =
        notifications::Entity::find().filter(notifications::Column::PersonId.eq(person));
    if let Some(before) = before {
        select = select.filter(notifications::Column::Id.lt(before));
    }
    select
        .order_by_desc(notifications::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn unread(db: &impl ConnectionTrait, person: Uuid) -> Result<u64, DbErr> {
    notifications::Entity::find()
        .filter(notifications::Column::PersonId.eq(person))
        .filter(notifications::Column::ReadAt.is_null())
        .count(db)
        .await
}

/// Each person's unread count (people without unread ones count 0).
pub async fn unread_of(
    db: &impl ConnectionTrait,
    people: Vec<Uuid>,
) -> Result<Vec<PersonUnread>, DbErr> {
    let mut counts: std::collections::HashMap<Uuid, u64> =
        people.iter().map(|person| (*person, 0)).collect();
    for chunk in people.chunks(1_000) {
        let rows: Vec<(Uuid, i64)> = notifications::Entity::find()
            .select_only()
            .column(notifications::Column::PersonId)
            .column_as(notifications::Column::Id.count(), "unread")
            .filter(crate::db::one_of(
                db.get_database_backend(),
                notifications::Column::PersonId,
                chunk.iter().copied(),
            ))
            .filter(notifications::Column::ReadAt.is_null())
            .group_by(notifications::Column::PersonId)
            .into_tuple()
            .all(db)
            .await?;
        for (person, unread) in rows {
            counts.insert(person, u64::try_from(unread).unwrap_or_default());
        }
    }
    Ok(people
        .into_iter()
        .map(|person_id| PersonUnread {
            person_id,
            unread: counts.get(&person_id).copied().unwrap_or_default(),
        })
        .collect())
}

/// Marks read the person's notifications among `ids`, or all of them.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    person: Uuid,
    ids: Option<&[Uuid]>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut update = notifications::Entity::update_many()
        .col_expr(notifications::Column::ReadAt, Expr::value(at))
        .filter(notifications::Column::PersonId.eq(person))
        .filter(notifications::Column::ReadAt.is_null());
    if let Some(ids) = ids {
        update = update.filter(crate::db::one_of(
            db.get_database_backend(),
            notifications::Column::Id,
            ids.iter().copied(),
        ));
    }
    update.exec(db).await?;
    Ok(())
}
