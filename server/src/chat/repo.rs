//! Chat's reads and writes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, Condition, ConnectionTrait, DbErr, EntityTrait as _,
    IntoActiveModel as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use uuid::Uuid;

use crate::entities::{conversation_members, conversations, message_reactions, messages};

/// Unread counts stop here ("999+").
pub const UNREAD_CAP: u64 = 999;

/// The smallest UUIDv7 of the millisecond `at`: messages with a larger id were sent after it.
pub fn first_id_at(at: DateTime<Utc>) -> Uuid {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    bytes[6] = 0x70;
    bytes[8] = 0x80;
    Uuid::from_bytes(bytes)
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<conversations::Model>, DbErr> {
    conversations::Entity::find_by_id(id).one(db).await
}

pub async fn by_direct_key(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<conversations::Model>, DbErr> {
    conversations::Entity::find()
        .filter(conversations::Column::DirectKey.eq(key))
        .one(db)
        .await
}

pub async fn by_group(
    db: &impl ConnectionTrait,
    group_id: Uuid,
) -> Result<Option<conversations::Model>, DbErr> {
    conversations::Entity::find()
        .filter(conversations::Column::GroupId.eq(group_id))
        .one(db)
        .await
}

/// Inserts a conversation unless one with the same direct key or group is there; true when
/// this one was stored.
pub async fn insert_conversation(
    db: &impl ConnectionTrait,
    row: conversations::Model,
) -> Result<bool, DbErr> {
    let conflict = if row.group_id.is_some() {
        conversations::Column::GroupId
    } else {
        conversations::Column::DirectKey
    };
    let inserted = conversations::Entity::insert(conversations::ActiveModel::from(row))
        .on_conflict(OnConflict::column(conflict).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(inserted > 0)
}

pub async fn member(
    db: &impl ConnectionTrait,
    conversation_id: Uuid,
    person_id: Uuid,
) -> Result<Option<conversation_members::Model>, DbErr> {
    conversation_members::Entity::find_by_id((conversation_id, person_id))
        .one(db)
        .await
}

/// Everyone who is in a conversation now (not who left), in the order they joined.
pub async fn members(
    db: &impl ConnectionTrait,
    conversation_ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, Vec<conversation_members::Model>>, DbErr> {
    let mut result: HashMap<Uuid, Vec<conversation_members::Model>> = HashMap::new();
    if conversation_ids.is_empty() {
        return Ok(result);
    }
    for row in conversation_members::Entity::find()
        .filter(crate::db::one_of(
            db.get_database_backend(),
            conversation_members::Column::ConversationId,
            conversation_ids,
        ))
        .filter(conversation_members::Column::LeftAt.is_null())
        .order_by_asc(conversation_members::Column::JoinedAt)
        .order_by_asc(conversation_members::Column::PersonId)
        .all(db)
        .await?
    {
        result.entry(row.conversation_id).or_default().push(row);
    }
    Ok(result)
}

/// The caller's own rows for these conversations (channels may have none yet).
pub async fn my_rows(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    conversation_ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, conversation_members::Model>, DbErr> {
    if conversation_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(conversation_members::Entity::find()
        .filter(conversation_members::Column::PersonId.eq(person_id))
        .filter(crate::db::one_of(
            db.get_database_backend(),
            conversation_members::Column::ConversationId,
            conversation_ids,
        ))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.conversation_id, row))
        .collect())
}

/// Adds people (or brings back those who left); the others are left as they are.
pub async fn add_members(
    db: &impl ConnectionTrait,
    conversation_id: Uuid,
    people: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if people.is_empty() {
        return Ok(());
    }
    let rows = people
        .iter()
        .map(|person| conversation_members::ActiveModel {
            conversation_id: sea_orm::Set(conversation_id),
            person_id: sea_orm::Set(*person),
            joined_at: sea_orm::Set(now),
            left_at: sea_orm::Set(None),
            last_read_id: sea_orm::Set(None),
            last_read_at: sea_orm::Set(None),
            muted: sea_orm::Set(false),
        });
    conversation_members::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                conversation_members::Column::ConversationId,
                conversation_members::Column::PersonId,
            ])
            .update_columns([
                conversation_members::Column::JoinedAt,
                conversation_members::Column::LeftAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// A channel member's row, made the first time they read or mute it.
pub async fn ensure_row(
    db: &impl ConnectionTrait,
    conversation_id: Uuid,
    person_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    conversation_members::Entity::insert(conversation_members::ActiveModel {
        conversation_id: sea_orm::Set(conversation_id),
        person_id: sea_orm::Set(person_id),
        joined_at: sea_orm::Set(now),
        left_at: sea_orm::Set(None),
        last_read_id: sea_orm::Set(None),
        last_read_at: sea_orm::Set(None),
        muted: sea_orm::Set(false),
    })
    .on_conflict(
        OnConflict::columns([
            conversation_members::Column::ConversationId,
            conversation_members::Column::PersonId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Moves a member's read marker forward to `message_id` (never back); true when it moved.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    conversation_id: Uuid,
    person_id: Uuid,
    message_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let moved = conversation_members::Entity::update_many()
        .col_expr(
            conversation_members::Column::LastReadId,
            Expr::value(Some(message_id)),
        )
        .col_expr(
            conversation_members::Column::LastReadAt,
            Expr::value(Some(now)),
        )
        .filter(conversation_members::Column::ConversationId.eq(conversation_id))
        .filter(conversation_members::Column::PersonId.eq(person_id))
        .filter(
            Condition::any()
                .add(conversation_members::Column::LastReadId.is_null())
                .add(conversation_members::Column::LastReadId.lt(message_id)),
        )
        .exec(db)
        .await?;
    Ok(moved.rows_affected > 0)
}

pub async fn set_muted(
    db: &impl ConnectionTrait,
    conversation_id: Uuid,
    person_id: Uuid,
    muted: bool,
) -> Result<(), DbErr> {
    conversation_members::Entity::update_many()
        .col_expr(conversation_members::Column::Muted, Expr::value(muted))
        .filter(conversation_members::Column::ConversationId.eq(conversation_id))
        .filter(conversation_members::Column::PersonId.eq(person_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn leave(
    db: &impl ConnectionTrait,
    conversation_id: Uuid,
    person_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let left = conversation_members::Entity::update_many()
        .col_expr(conversation_members::Column::LeftAt, Expr::value(Some(now)))
        .filter(conversation_members::Column::ConversationId.eq(conversation_id))
        .filter(conversation_members::Column::PersonId.eq(person_id))
        .filter(conversation_members::Column::LeftAt.is_null())
        .exec(db)
        .await?;
    Ok(left.rows_affected > 0)
}

pub async fn save_conversation(
    db: &impl ConnectionTrait,
    row: conversations::Model,
) -> Result<(), DbErr> {
    row.into_active_model().reset_all().update(db).await?;
    Ok(())
}

pub async fn touch(
    db: &impl ConnectionTrait,
    conversation_id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    conversations::Entity::update_many()
        .col_expr(conversations::Column::LastActivityAt, Expr::value(at))
        .filter(conversations::Column::Id.eq(conversation_id))
        .filter(conversations::Column::LastActivityAt.lt(at))
        .exec(db)
        .await?;
    Ok(())
}

/// The caller's conversations, most recently active first, after `after` (time, id).
pub async fn list(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    groups: Vec<Uuid>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<conversations::Model>, DbErr> {
    let mine = sea_orm::sea_query::Query::select()
        .column(conversation_members::Column::ConversationId)
        .from(conversation_members::Entity)
        .and_where(conversation_members::Column::PersonId.eq(person_id))
        .and_where(conversation_members::Column::LeftAt.is_null())
        .and_where(conversation_members::Column::ConversationId.is_not_null())
        .to_owned();
    let mut reach = Condition::any().add(conversations::Column::Id.in_subquery(mine));
    if !groups.is_empty() {
        reach = reach.add(crate::db::one_of(
            db.get_database_backend(),
            conversations::Column::GroupId,
            groups,
        ));
    }
    let mut query = conversations::Entity::find().filter(reach);
    if let Some((at, id)) = after {
        query = query.filter(
            Condition::any()
                .add(conversations::Column::LastActivityAt.lt(at))
                .add(
                    Condition::all()
                        .add(conversations::Column::LastActivityAt.eq(at))
                        .add(conversations::Column::Id.lt(id)),
                ),
        );
    }
    query
        .order_by_desc(conversations::Column::LastActivityAt)
        .order_by_desc(conversations::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Conversations asked about in one statement by [`unread_many`] and [`newest_messages`].
const BATCH: usize = 100;

/// The statement parameter `n` (from 1) in the backend's spelling: numbered, so that one
/// value may be used at several places.
fn parameter(backend: sea_orm::DbBackend, n: usize) -> String {
    match backend {
        sea_orm::DbBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    }
}

/// Messages from others after `after` (a message id or a time's first id), at most the cap,
/// for several conversations at once (`(conversation, after)` pairs), in one statement per
/// hundred: each conversation's count is capped on its own.
pub async fn unread_many(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    from: &[(Uuid, Uuid)],
) -> Result<HashMap<Uuid, u64>, DbErr> {
    let backend = db.get_database_backend();
    let mut counts = HashMap::with_capacity(from.len());
    for chunk in from.chunks(BATCH) {
        let mut values: Vec<sea_orm::Value> = vec![person_id.into()];
        let mut parts = Vec::with_capacity(chunk.len());
        for (conversation, after) in chunk {
            values.push((*conversation).into());
            let id = parameter(backend, values.len());
            values.push((*after).into());
            let after = parameter(backend, values.len());
            parts.push(format!(
                "SELECT {id} AS conversation_id, (SELECT count(*) FROM (SELECT 1 AS one \
                 FROM messages WHERE conversation_id = {id} AND id > {after} \
                 AND author_id <> {person} AND deleted_at IS NULL LIMIT {UNREAD_CAP}) capped) AS n",
                person = parameter(backend, 1),
            ));
        }
        let sql = parts.join(" UNION ALL ");
        for row in db
            .query_all_raw(sea_orm::Statement::from_sql_and_values(
                backend, sql, values,
            ))
            .await?
        {
            let conversation: Uuid = row.try_get_by_index(0)?;
            let count: i64 = row.try_get_by_index(1)?;
            counts.insert(conversation, u64::try_from(count).unwrap_or_default());
        }
    }
    Ok(counts)
}

/// Each conversation's newest message (deleted ones too: the list shows their placeholder),
/// one statement per hundred conversations.
pub async fn newest_messages(
    db: &impl ConnectionTrait,
    conversation_ids: &[Uuid],
) -> Result<Vec<messages::Model>, DbErr> {
    let backend = db.get_database_backend();
    let mut found = Vec::with_capacity(conversation_ids.len());
    for chunk in conversation_ids.chunks(BATCH) {
        let listed: Vec<String> = (1..=chunk.len()).map(|n| parameter(backend, n)).collect();
        let sql = format!(
            "SELECT * FROM messages WHERE id IN (SELECT (SELECT m.id FROM messages m \
             WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1) \
             FROM conversations c WHERE c.id IN ({}))",
            listed.join(", ")
        );
        let values = chunk.iter().copied().map(sea_orm::Value::from);
        found.extend(
            messages::Entity::find()
                .from_raw_sql(sea_orm::Statement::from_sql_and_values(
                    backend, sql, values,
                ))
                .all(db)
                .await?,
        );
    }
    Ok(found)
}

pub async fn find_message(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<messages::Model>, DbErr> {
    messages::Entity::find_by_id(id).one(db).await
}

pub async fn by_client_id(
    db: &impl ConnectionTrait,
    conversation_id: Uuid,
    author_id: Uuid,
    client_id: &str,
) -> Result<Option<messages::Model>, DbErr> {
    messages::Entity::find()
        .filter(messages::Column::ConversationId.eq(conversation_id))
        .filter(messages::Column::AuthorId.eq(author_id))
        .filter(messages::Column::ClientId.eq(client_id))
        .one(db)
        .await
}

/// Inserts a message unless the author already sent one with its client id; true when stored.
pub async fn insert_message(
    db: &impl ConnectionTrait,
    row: messages::Model,
) -> Result<bool, DbErr> {
    let inserted = messages::Entity::insert(messages::ActiveModel::from(row))
        .on_conflict(
            OnConflict::columns([
                messages::Column::ConversationId,
                messages::Column::AuthorId,
                messages::Column::ClientId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted > 0)
}

pub async fn save_message(db: &impl ConnectionTrait, row: messages::Model) -> Result<(), DbErr> {
    row.into_active_model().reset_all().update(db).await?;
    Ok(())
}

/// Up to `limit` messages older (`older`) or newer than `from` (`None`: the newest), in
/// the order read: newest first when older, oldest first when newer.
pub async fn history(
    db: &impl ConnectionTrait,
    conversation_id: Uuid,
    from: Option<Uuid>,
    older: bool,
    inclusive: bool,
    limit: u64,
) -> Result<Vec<messages::Model>, DbErr> {
    let mut query =
        messages::Entity::find().filter(messages::Column::ConversationId.eq(conversation_id));
    if let Some(from) = from {
        query = query.filter(match (older, inclusive) {
            (true, false) => messages::Column::Id.lt(from),
            (true, true) => messages::Column::Id.lte(from),
            (false, false) => messages::Column::Id.gt(from),
            (false, true) => messages::Column::Id.gte(from),
        });
    }
    query = if older {
        query.order_by_desc(messages::Column::Id)
    } else {
        query.order_by_asc(messages::Column::Id)
    };
    query.limit(limit).all(db).await
}

pub async fn messages_by_id(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, messages::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(messages::Entity::find()
        .filter(crate::db::one_of(
            db.get_database_backend(),
            messages::Column::Id,
            ids,
        ))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect())
}

/// Every reaction to these messages.
pub async fn reactions(
    db: &impl ConnectionTrait,
    message_ids: Vec<Uuid>,
) -> Result<Vec<message_reactions::Model>, DbErr> {
    if message_ids.is_empty() {
        return Ok(Vec::new());
    }
    message_reactions::Entity::find()
        .filter(crate::db::one_of(
            db.get_database_backend(),
            message_reactions::Column::MessageId,
            message_ids,
        ))
        .all(db)
        .await
}

pub async fn add_reaction(
    db: &impl ConnectionTrait,
    row: message_reactions::Model,
) -> Result<bool, DbErr> {
    let inserted = message_reactions::Entity::insert(message_reactions::ActiveModel::from(row))
        .on_conflict(
            OnConflict::columns([
                message_reactions::Column::MessageId,
                message_reactions::Column::PersonId,
                message_reactions::Column::Reaction,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted > 0)
}

pub async fn remove_reaction(
    db: &impl ConnectionTrait,
    message_id: Uuid,
    person_id: Uuid,
    reaction: &str,
) -> Result<bool, DbErr> {
    let deleted = message_reactions::Entity::delete_many()
        .filter(message_reactions::Column::MessageId.eq(message_id))
        .filter(message_reactions::Column::PersonId.eq(person_id))
        .filter(message_reactions::Column::Reaction.eq(reaction))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id_at(at: DateTime<Utc>) -> Uuid {
        let timestamp = uuid::Timestamp::from_unix(
            uuid::NoContext,
            u64::try_from(at.timestamp()).unwrap_or(0),
            at.timestamp_subsec_nanos(),
        );
        Uuid::new_v7(timestamp)
    }

    #[test]
    fn the_first_id_of_a_moment_sorts_between_ids_made_before_and_after_it() {
        let at = Utc::now();
        let first = first_id_at(at);
        for _ in 0..100 {
            let before = id_at(at - chrono::Duration::milliseconds(1));
            let same = id_at(at);
            let after = id_at(at + chrono::Duration::milliseconds(1));
            assert!(before < first, "{before} < {first}");
            assert!(first <= same, "{first} <= {same}");
            assert!(first < after, "{first} < {after}");
        }
        assert_eq!(first.get_version_num(), 7);
    }
}
