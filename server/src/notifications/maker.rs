//! The outbox consumer that makes notifications.

use chrono::{SubsecRound as _, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait as _, QuerySelect as _};
use uuid::Uuid;

use super::{kind, repo};
use crate::chat::dto::ConversationEvent;
use crate::chat::repo as chat_repo;
use crate::db;
use crate::entities::{event_cursors, group_members, notifications, people};
use crate::events::{self, DurableCursor, Event, EventConsumer, Position, StoredEvent};
use crate::groups::policy::{self, Action, GroupRole, MemberState, Viewer};
use crate::groups::repo as groups_repo;
use crate::groups::service::{facts, standing};
use crate::posts::repo as posts_repo;
use crate::realtime::hub::SharedHub;

const CONSUMER: &str = "notifications";

/// How often a run of batches that make nothing moves the shared cursor.
const IDLE_STORE_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// How long an announcement's notifications wait at most for this node's sockets to be sent
/// its frame.
pub const FANOUT_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

pub struct NotificationMaker {
    cursor: DurableCursor,
    /// When a batch that made nothing last moved the cursor.
    idle_stored: std::sync::Mutex<Option<std::time::Instant>>,
    db: DatabaseConnection,
    doorbell: events::Doorbell,
    /// This node's live hub: announcements' notifications wait for its frames to go out.
    hub: SharedHub,
}

impl NotificationMaker {
    pub fn new(db: DatabaseConnection, doorbell: events::Doorbell, hub: SharedHub) -> Self {
        NotificationMaker {
            cursor: DurableCursor::new(db.clone(), CONSUMER),
            idle_stored: std::sync::Mutex::new(None),
            db,
            doorbell,
            hub,
        }
    }
}

/// Where the shared cursor stands, its row locked until the transaction ends (PostgreSQL; on
/// SQLite the write transaction already excludes other writers).
async fn locked_position(tx: &impl ConnectionTrait) -> anyhow::Result<Position> {
    // The row must exist to be locked: a first batch on two nodes at once would otherwise
    // find nothing to wait for. A concurrent insert of the same row waits for the other.
    event_cursors::Entity::insert(event_cursors::ActiveModel::from(event_cursors::Model {
        consumer: CONSUMER.to_owned(),
        seq: 0,
        updated_at: Utc::now(),
    }))
    .on_conflict(
        sea_orm::sea_query::OnConflict::column(event_cursors::Column::Consumer)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(tx)
    .await?;
    let mut select = event_cursors::Entity::find_by_id(CONSUMER.to_owned());
    if tx.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    let seq = select.one(tx).await?.map_or(0, |row| row.seq);
    Ok(events::resolve(tx, seq).await?.unwrap_or(Position::START))
}

#[async_trait::async_trait]
impl EventConsumer for NotificationMaker {
    fn name(&self) -> &str {
        CONSUMER
    }

    fn gather(&self) -> std::time::Duration {
        events::BACKGROUND_GATHER
    }

    async fn position(&self) -> anyhow::Result<i64> {
        Ok(self.cursor.load().await?)
    }

    /// Notifications for events that were pruned unread are not made; the cursor moves on.
    async fn resync(&self) -> anyhow::Result<Position> {
        let head = events::safe_head(&self.db).await?;
        tracing::warn!(
            seq = head.seq,
            "notifications skipped events that were pruned before they were seen"
        );
        self.cursor.store(&self.db, head.seq).await?;
        Ok(head)
    }

    async fn apply(&self, batch: &[StoredEvent]) -> anyhow::Result<()> {
        let Some(last) = batch.last() else {
            return Ok(());
        };
        // Most events make no notification (a chat message without mentions, a post seen): a
        // batch of only those leaves the shared cursor where it is, without a transaction that
        // would lock it against the other nodes and hold back every reader of the outbox. The
        // next batch that makes something moves it past them; after a restart they are read
        // again and make nothing again.
        if !batch.iter().any(|stored| may_notify(&stored.event)) {
            let due = {
                let mut stored = self
                    .idle_stored
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                let due = stored.is_none_or(|at| at.elapsed() >= IDLE_STORE_EVERY);
                if due {
                    *stored = Some(std::time::Instant::now());
                }
                due
            };
            // Now and then the cursor moves past them anyway (every event up to here that
            // called for work is done), so a restart does not read days of them again. Under
            // the lock, and only forwards in delivery order: a node behind the other must not
            // move the cursor back (sequence numbers alone do not give that order).
            if due {
                let tx = db::begin_write(&self.db).await?;
                if last.position() > locked_position(&tx).await? {
                    self.cursor.store(&tx, last.seq).await?;
                }
                tx.commit().await?;
            }
            return Ok(());
        }
        // An announcement's frame is going out to every recipient's sockets now; its
        // notification rows (one per recipient) can wait until it has gone, so that the
        // database writing them does not take the cores the sockets are sent on.
        if batch
            .iter()
            .any(|stored| tells_everyone_it_reaches(&stored.event))
        {
            self.hub.fanned_out(last.position(), FANOUT_WAIT).await;
        }
        let tx = db::begin_write(&self.db).await?;
        let done = locked_position(&tx).await?;
        let mut made = 0_usize;
        let mut told = std::collections::BTreeSet::new();
        // Announcements tell every recipient: their own socket frames say "one more"
        // (`announcement.published`, a material `announcement.updated`, `announcement.reminder`),
        // which spares an event naming 30,000 people.
        for stored in batch.iter().filter(|stored| stored.position() > done) {
            let people = make(&tx, &stored.event).await?;
            made += people.len();
            if !tells_everyone_it_reaches(&stored.event) {
                told.extend(people);
            }
        }
        let appended = !told.is_empty();
        if appended {
            // Their badges, live: one event with each one's unread count.
            let counts = repo::unread_of(&tx, told.into_iter().collect()).await?;
            events::append(&tx, Event::NotificationsChanged { counts }).await?;
        }
        if last.position() > done {
            self.cursor.store(&tx, last.seq).await?;
        }
        tx.commit().await?;
        if appended {
            self.doorbell.ring();
        }
        if made > 0 {
            metrics::counter!("plein_notifications_made_total").increment(made as u64);
        }
        Ok(())
    }
}

/// Someone active who may still see the post's group and has not muted it.
async fn may_hear_about_post(
    tx: &impl ConnectionTrait,
    person: Uuid,
    group_id: Uuid,
) -> anyhow::Result<bool> {
    let Some(recipient) = people::Entity::find_by_id(person).one(tx).await? else {
        return Ok(false);
    };
    if !recipient.active || repo::muted(tx, person, group_id).await? {
        return Ok(false);
    }
    let Some(group) = groups_repo::find(tx, group_id).await? else {
        return Ok(false);
    };
    let row = groups_repo::membership(tx, group_id, person).await?;
    let viewer = Viewer {
        person_id: person,
        platform_admin: recipient.role == "admin",
    };
    Ok(policy::allows(
        &viewer,
        &facts(&group),
        standing(row.as_ref()),
        Action::ReadPosts,
    ))
}

/// Someone active who is in the conversation (for a channel: a member of its group) and has
/// not muted it.
async fn may_hear_about_message(
    tx: &impl ConnectionTrait,
    person: Uuid,
    conversation: &ConversationEvent,
) -> anyhow::Result<bool> {
    let Some(recipient) = people::Entity::find_by_id(person).one(tx).await? else {
        return Ok(false);
    };
    if !recipient.active {
        return Ok(false);
    }
    let row = chat_repo::member(tx, conversation.id, person).await?;
    if row.as_ref().is_some_and(|row| row.muted) {
        return Ok(false);
    }
    let Some(group_id) = conversation.group_id else {
        return Ok(row.is_some_and(|row| row.left_at.is_none()));
    };
    let Some(group) = groups_repo::find(tx, group_id).await? else {
        return Ok(false);
    };
    let membership = groups_repo::membership(tx, group_id, person).await?;
    let viewer = Viewer {
        person_id: person,
        platform_admin: recipient.role == "admin",
    };
    Ok(group.deleted_at.is_none()
        && policy::allows(
            &viewer,
            &facts(&group),
            standing(membership.as_ref()),
            Action::Chat,
        ))
}

fn notification(
    person: Uuid,
    kind: &str,
    group: Uuid,
    actor: Option<Uuid>,
) -> notifications::Model {
    let now = Utc::now().trunc_subsecs(6);
    notifications::Model {
        id: Uuid::now_v7(),
        person_id: person,
        kind: kind.to_owned(),
        group_id: Some(group),
        post_id: None,
        comment_id: None,
        announcement_id: None,
        conversation_id: None,
        message_id: None,
        actor_id: actor,
        others: 0,
        created_at: now,
        updated_at: now,
        read_at: None,
    }
}

/// Whether the event notifies everyone its socket frame reaches, one notification each.
fn tells_everyone_it_reaches(event: &Event) -> bool {
    matches!(
        event,
        Event::AnnouncementPublished { .. }
            | Event::AcknowledgementReminder { .. }
            | Event::AnnouncementUpdated { material: true, .. }
    )
}

/// Whether `make` may make a notification for the event (false: certainly none).
fn may_notify(event: &Event) -> bool {
    match event {
        Event::MessageCreated { message } => !message.mentions.is_empty(),
        Event::ReactionChanged {
            post, person_id, ..
        } => *person_id != post.author_id,
        Event::CommentCreated { .. }
        | Event::GroupMembershipChanged { .. }
        | Event::PostCreated { .. }
        | Event::AnnouncementPublished { .. }
        | Event::AnnouncementUpdated { .. }
        | Event::AcknowledgementReminder { .. } => true,
        _ => false,
    }
}

/// Makes (or updates) the notifications one event calls for; whom they are for.
async fn make(tx: &impl ConnectionTrait, event: &Event) -> anyhow::Result<Vec<Uuid>> {
    let mut made = Vec::new();
    match event {
        Event::CommentCreated {
            comment_id,
            post,
            reply_to,
        } => {
            let Some(comment) = posts_repo::find_comment(tx, *comment_id).await? else {
                return Ok(made);
            };
            let commenter = comment.author_id;
            let mut told = Vec::new();
            if let Some(answered) = reply_to
                && let Some(answered) = posts_repo::find_comment(tx, *answered).await?
                && answered.author_id != commenter
                && may_hear_about_post(tx, answered.author_id, post.group_id).await?
            {
                let mut row = notification(
                    answered.author_id,
                    kind::REPLY,
                    post.group_id,
                    Some(commenter),
                );
                row.post_id = Some(post.id);
                row.comment_id = Some(comment.id);
                repo::insert(tx, row).await?;
                told.push(answered.author_id);
                made.push(answered.author_id);
            }
            for mentioned in posts_repo::mentioned_in(tx, comment.id).await? {
                if mentioned != commenter
                    && !told.contains(&mentioned)
                    && may_hear_about_post(tx, mentioned, post.group_id).await?
                {
                    let mut row =
                        notification(mentioned, kind::MENTION, post.group_id, Some(commenter));
                    row.post_id = Some(post.id);
                    row.comment_id = Some(comment.id);
                    repo::insert(tx, row).await?;
                    told.push(mentioned);
                    made.push(mentioned);
                }
            }
            if post.author_id != commenter
                && !told.contains(&post.author_id)
                && may_hear_about_post(tx, post.author_id, post.group_id).await?
            {
                let mut row = notification(
                    post.author_id,
                    kind::COMMENT,
                    post.group_id,
                    Some(commenter),
                );
                row.post_id = Some(post.id);
                row.comment_id = Some(comment.id);
                repo::insert(tx, row).await?;
                made.push(post.author_id);
            }
        }
        Event::ReactionChanged {
            post,
            person_id,
            on: true,
            ..
        } if *person_id != post.author_id => {
            if !may_hear_about_post(tx, post.author_id, post.group_id).await? {
                return Ok(made);
            }
            let reactors = repo::reactors(tx, post.id, post.author_id).await?;
            let others = i32::try_from(reactors.saturating_sub(1)).unwrap_or(i32::MAX);
            match repo::unread_about_post(tx, post.author_id, kind::REACTION, post.id).await? {
                Some(existing) => {
                    repo::update_actor(
                        tx,
                        existing.id,
                        *person_id,
                        others,
                        Utc::now().trunc_subsecs(6),
                    )
                    .await?;
                    made.push(post.author_id);
                }
                None => {
                    let mut row = notification(
                        post.author_id,
                        kind::REACTION,
                        post.group_id,
                        Some(*person_id),
                    );
                    row.post_id = Some(post.id);
                    row.others = others;
                    repo::insert(tx, row).await?;
                    made.push(post.author_id);
                }
            }
        }
        Event::GroupMembershipChanged {
            group_id,
            person_id,
            state,
            previous,
            by,
            ..
        } => match (state, previous) {
            (Some(MemberState::Requested), previous)
                if *previous != Some(MemberState::Requested) =>
            {
                for manager in managers(tx, *group_id).await? {
                    if !repo::muted(tx, manager, *group_id).await? {
                        repo::insert(
                            tx,
                            notification(manager, kind::JOIN_REQUEST, *group_id, Some(*person_id)),
                        )
                        .await?;
                        made.push(manager);
                    }
                }
            }
            (Some(MemberState::Member), Some(MemberState::Requested)) => {
                repo::insert(
                    tx,
                    notification(*person_id, kind::REQUEST_APPROVED, *group_id, *by),
                )
                .await?;
                made.push(*person_id);
            }
            (Some(MemberState::Invited), previous) if *previous != Some(MemberState::Invited) => {
                repo::insert(
                    tx,
                    notification(*person_id, kind::INVITATION, *group_id, *by),
                )
                .await?;
                made.push(*person_id);
            }
            _ => {}
        },
        Event::PostCreated { post } => {
            for mentioned in posts_repo::mentioned_in(tx, post.id).await? {
                if mentioned != post.author_id
                    && may_hear_about_post(tx, mentioned, post.group_id).await?
                {
                    let mut row = notification(
                        mentioned,
                        kind::MENTION,
                        post.group_id,
                        Some(post.author_id),
                    );
                    row.post_id = Some(post.id);
                    repo::insert(tx, row).await?;
                    made.push(mentioned);
                }
            }
        }
        Event::MessageCreated { message } => {
            for mentioned in &message.mentions {
                if *mentioned != message.author_id
                    && may_hear_about_message(tx, *mentioned, &message.conversation).await?
                {
                    let now = Utc::now().trunc_subsecs(6);
                    repo::insert(
                        tx,
                        notifications::Model {
                            id: Uuid::now_v7(),
                            person_id: *mentioned,
                            kind: kind::MESSAGE_MENTION.to_owned(),
                            group_id: message.conversation.group_id,
                            post_id: None,
                            comment_id: None,
                            announcement_id: None,
                            conversation_id: Some(message.conversation.id),
                            message_id: Some(message.id),
                            actor_id: Some(message.author_id),
                            others: 0,
                            created_at: now,
                            updated_at: now,
                            read_at: None,
                        },
                    )
                    .await?;
                    made.push(*mentioned);
                }
            }
        }
        Event::AnnouncementPublished { id, .. } => {
            made.extend(tell_recipients(tx, *id, kind::ANNOUNCEMENT, Audience::Everyone).await?);
        }
        Event::AnnouncementUpdated {
            id,
            material,
            added,
            ..
        } => {
            if *material {
                made.extend(
                    tell_recipients(tx, *id, kind::ANNOUNCEMENT, Audience::Everyone).await?,
                );
            } else if *added > 0 {
                made.extend(
                    tell_recipients(tx, *id, kind::ANNOUNCEMENT, Audience::NotToldYet).await?,
                );
            }
        }
        Event::AcknowledgementReminder { id } => {
            made.extend(tell_recipients(tx, *id, kind::REMINDER, Audience::Unacknowledged).await?);
        }
        _ => {}
    }
    Ok(made)
}

/// Which of an announcement's recipients to tell.
enum Audience {
    Everyone,
    /// Recipients without a notification about it yet (the audience grew).
    NotToldYet,
    Unacknowledged,
}

/// One notification per recipient, written in batches.
async fn tell_recipients(
    tx: &impl ConnectionTrait,
    announcement: Uuid,
    kind: &str,
    audience: Audience,
) -> anyhow::Result<Vec<Uuid>> {
    let Some(row) = crate::announcements::repo::find(tx, announcement).await? else {
        return Ok(Vec::new());
    };
    let mut people = crate::announcements::repo::recipient_ids(
        tx,
        announcement,
        matches!(audience, Audience::Unacknowledged),
    )
    .await?;
    if matches!(audience, Audience::NotToldYet) {
        let told = repo::told_about_announcement(tx, announcement).await?;
        people.retain(|person| !told.contains(person));
    }
    repo::insert_about_announcement(
        tx,
        repo::AnnouncementNotice {
            kind,
            announcement,
            actor: row.author_id,
            at: Utc::now().trunc_subsecs(6),
        },
        &people,
    )
    .await?;
    Ok(people)
}

/// The active owners and admins of a group.
async fn managers(tx: &impl ConnectionTrait, group_id: Uuid) -> anyhow::Result<Vec<Uuid>> {
    use sea_orm::{ColumnTrait as _, QueryFilter as _};
    let rows = group_members::Entity::find()
        .filter(group_members::Column::GroupId.eq(group_id))
        .filter(group_members::Column::State.eq(MemberState::Member.as_str()))
        .filter(
            group_members::Column::Role
                .is_in([GroupRole::Owner.as_str(), GroupRole::Admin.as_str()]),
        )
        .all(tx)
        .await?;
    Ok(rows.into_iter().map(|row| row.person_id).collect())
}
