//! Reading notifications and marking them read; muting groups.

use std::collections::HashMap;

use chrono::{SubsecRound as _, Utc};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::dto::{GroupRef, MarkReadRequest, NotificationDto, NotificationPage, NotificationQuery};
use super::repo;
use crate::auth::AuthenticatedPerson;
use crate::error::{ApiError, ApiResult};
use crate::groups::policy;
use crate::groups::repo as groups_repo;
use crate::groups::service::{facts, standing, viewer, visible};
use crate::http::pagination::{Cursor, checked_limit, split_page};
use crate::posts::repo as posts_repo;

const MAX_MARK: usize = 500;

/// A page of the caller's notifications, newest first, with the unread count. Notifications
/// about a group the caller can no longer see (a secret group they left) are not shown.
pub async fn list(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    query: NotificationQuery,
) -> ApiResult<NotificationPage> {
    let limit = checked_limit(query.limit, 20, 100)?;
    let before = query
        .cursor
        .as_deref()
        .map(Cursor::decode_uuid)
        .transpose()?;
    let rows = repo::page(db, person.id, before, limit + 1).await?;
    let (rows, next_cursor) = split_page(rows, limit, |row| Cursor::encode_uuid(row.id));

    let group_ids: Vec<Uuid> = rows.iter().filter_map(|row| row.group_id).collect();
    let groups: HashMap<Uuid, _> = groups_repo::find_many(db, group_ids.clone())
        .await?
        .into_iter()
        .map(|group| (group.id, group))
        .collect();
    let mine = groups_repo::memberships_of(db, person.id, &group_ids).await?;
    let viewer = viewer(person);
    let actors =
        posts_repo::cards_by_id(db, rows.iter().filter_map(|row| row.actor_id).collect()).await?;
    let items = rows
        .into_iter()
        .filter_map(|row| {
            let group = match row.group_id {
                None => None,
                Some(id) => {
                    let group = groups.get(&id)?;
                    if group.deleted_at.is_some()
                        || policy::hidden(&viewer, &facts(group), standing(mine.get(&id)))
                    {
                        return None;
                    }
                    Some(GroupRef {
                        id: group.id,
                        slug: group.slug.clone(),
                        name: group.name.clone(),
                    })
                }
            };
            Some(NotificationDto {
                id: row.id,
                kind: row.kind,
                group,
                post_id: row.post_id,
                comment_id: row.comment_id,
                announcement_id: row.announcement_id,
                conversation_id: row.conversation_id,
                message_id: row.message_id,
                actor: row.actor_id.and_then(|id| actors.get(&id).cloned()),
                others: u32::try_from(row.others).unwrap_or_default(),
                created_at: row.created_at,
                updated_at: row.updated_at,
                read: row.read_at.is_some(),
            })
        })
        .collect();
    Ok(NotificationPage {
        items,
        next_cursor,
        unread: repo::unread(db, person.id).await?,
    })
}

/// Marks the named notifications read (only the caller's own), or all of them.
pub async fn mark_read(
    db: &DatabaseConnection,
    doorbell: &crate::events::Doorbell,
    person: &AuthenticatedPerson,
    request: MarkReadRequest,
) -> ApiResult<u64> {
    if request.ids.as_ref().is_some_and(|ids| ids.len() > MAX_MARK) {
        return Err(ApiError::field(
            "ids",
            format!("name at most {MAX_MARK} notifications; leave it out to mark all"),
        ));
    }
    let tx = crate::db::begin_write(db).await?;
    repo::mark_read(
        &tx,
        person.id,
        request.ids.as_deref(),
        Utc::now().trunc_subsecs(6),
    )
    .await?;
    let unread = repo::unread(&tx, person.id).await?;
    // The person's other tabs update their badge.
    crate::events::append(
        &tx,
        crate::events::Event::NotificationsChanged {
            counts: vec![super::dto::PersonUnread {
                person_id: person.id,
                unread,
            }],
        },
    )
    .await?;
    tx.commit().await?;
    doorbell.ring();
    Ok(unread)
}

/// Mutes (or unmutes) a group the caller can see: no notifications about its posts.
pub async fn mute(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    group_id: Uuid,
    on: bool,
) -> ApiResult<()> {
    visible(db, &viewer(person), group_id, false).await?;
    repo::set_muted(db, person.id, group_id, on).await?;
    Ok(())
}
