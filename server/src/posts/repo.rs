//! The queries behind posts, comments and reactions.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait as _, Query};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, Condition, ConnectionTrait, DbErr, EntityTrait as _,
    IntoActiveModel as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use uuid::Uuid;

use crate::entities::{comments, people, post_versions, posts, reactions};

pub async fn insert_post(db: &impl ConnectionTrait, post: posts::Model) -> Result<(), DbErr> {
    posts::ActiveModel::from(post).insert(db).await?;
    Ok(())
}

pub async fn save_post(db: &impl ConnectionTrait, post: posts::Model) -> Result<(), DbErr> {
    post.into_active_model().reset_all().update(db).await?;
    Ok(())
}

pub async fn find_post(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<posts::Model>, DbErr> {
    posts::Entity::find_by_id(id).one(db).await
}

/// Keeps what a post said before an edit or a deletion.
pub async fn keep_version(
    db: &impl ConnectionTrait,
    post: &posts::Model,
    edited_by: Uuid,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    let last: Option<i32> = post_versions::Entity::find()
        .select_only()
        .column_as(post_versions::Column::Version.max(), "last")
        .filter(post_versions::Column::PostId.eq(post.id))
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten();
    post_versions::ActiveModel::from(post_versions::Model {
        post_id: post.id,
        version: last.unwrap_or(0) + 1,
        body: post.body.clone(),
        edited_by: Some(edited_by),
        edited_at: at,
    })
    .insert(db)
    .await?;
    Ok(())
}

/// Posts that have a comment nobody deleted: deleted ones among them keep their place.
fn with_live_comments() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(comments::Column::PostId)
        .from(comments::Entity)
        .and_where(Expr::col(comments::Column::DeletedAt).is_null())
        .to_owned()
}

/// A group's posts, newest first, before `before` (ids are UUIDv7: their order is creation
/// order, so the page stays put while new posts arrive).
pub async fn group_feed(
    db: &impl ConnectionTrait,
    group_id: Uuid,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<posts::Model>, DbErr> {
    let mut select = posts::Entity::find()
        .filter(posts::Column::GroupId.eq(group_id))
        .filter(
            Condition::any()
                .add(posts::Column::DeletedAt.is_null())
                .add(posts::Column::Id.in_subquery(with_live_comments())),
        );
    if let Some(before) = before {
        select = select.filter(posts::Column::Id.lt(before));
    }
    select
        .order_by_desc(posts::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn has_live_comments(db: &impl ConnectionTrait, post_id: Uuid) -> Result<bool, DbErr> {
    Ok(comments::Entity::find()
        .filter(comments::Column::PostId.eq(post_id))
        .filter(comments::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .is_some())
}

pub async fn comment_counts(
    db: &impl ConnectionTrait,
    post_ids: &[Uuid],
) -> Result<HashMap<Uuid, u64>, DbErr> {
    if post_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, i64)> = comments::Entity::find()
        .select_only()
        .column(comments::Column::PostId)
        .column_as(comments::Column::Id.count(), "comments")
        .filter(comments::Column::PostId.is_in(post_ids.iter().copied()))
        .filter(comments::Column::DeletedAt.is_null())
        .group_by(comments::Column::PostId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, count)| (id, u64::try_from(count).unwrap_or_default()))
        .collect())
}

/// (post, reaction) → how many.
pub async fn reaction_counts(
    db: &impl ConnectionTrait,
    post_ids: &[Uuid],
) -> Result<Vec<(Uuid, String, u64)>, DbErr> {
    if post_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(Uuid, String, i64)> = reactions::Entity::find()
        .select_only()
        .column(reactions::Column::PostId)
        .column(reactions::Column::Reaction)
        .column_as(reactions::Column::PersonId.count(), "reactions")
        .filter(reactions::Column::PostId.is_in(post_ids.iter().copied()))
        .group_by(reactions::Column::PostId)
        .group_by(reactions::Column::Reaction)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(post, reaction, count)| (post, reaction, u64::try_from(count).unwrap_or_default()))
        .collect())
}

pub async fn reactions_of(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    post_ids: &[Uuid],
) -> Result<Vec<(Uuid, String)>, DbErr> {
    if post_ids.is_empty() {
        return Ok(Vec::new());
    }
    reactions::Entity::find()
        .select_only()
        .column(reactions::Column::PostId)
        .column(reactions::Column::Reaction)
        .filter(reactions::Column::PersonId.eq(person_id))
        .filter(reactions::Column::PostId.is_in(post_ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await
}

/// Adds a reaction; true when it was not there yet.
pub async fn add_reaction(db: &impl ConnectionTrait, row: reactions::Model) -> Result<bool, DbErr> {
    use sea_orm::sea_query::OnConflict;
    let inserted = reactions::Entity::insert(reactions::ActiveModel::from(row))
        .on_conflict(
            OnConflict::columns([
                reactions::Column::PostId,
                reactions::Column::PersonId,
                reactions::Column::Reaction,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted > 0)
}

/// Takes a reaction back; true when it was there.
pub async fn remove_reaction(
    db: &impl ConnectionTrait,
    post_id: Uuid,
    person_id: Uuid,
    reaction: &str,
) -> Result<bool, DbErr> {
    let deleted = reactions::Entity::delete_many()
        .filter(reactions::Column::PostId.eq(post_id))
        .filter(reactions::Column::PersonId.eq(person_id))
        .filter(reactions::Column::Reaction.eq(reaction))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}

pub async fn insert_comment(
    db: &impl ConnectionTrait,
    comment: comments::Model,
) -> Result<(), DbErr> {
    comments::ActiveModel::from(comment).insert(db).await?;
    Ok(())
}

pub async fn find_comment(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<comments::Model>, DbErr> {
    comments::Entity::find_by_id(id).one(db).await
}

/// A post's comments, oldest first, after `after`.
pub async fn comments_page(
    db: &impl ConnectionTrait,
    post_id: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<comments::Model>, DbErr> {
    let mut select = comments::Entity::find().filter(comments::Column::PostId.eq(post_id));
    if let Some(after) = after {
        select = select.filter(comments::Column::Id.gt(after));
    }
    select
        .order_by_asc(comments::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn comments_by_id(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, comments::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(comments::Entity::find()
        .filter(comments::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|comment| (comment.id, comment))
        .collect())
}

pub async fn people_by_id(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, people::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(people::Entity::find()
        .filter(people::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|person| (person.id, person))
        .collect())
}
