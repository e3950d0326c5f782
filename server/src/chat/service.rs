//! Chat: who may see and write in a conversation, sending (idempotent by the client's id),
//! history, reading, reactions. Every change is an outbox event, which the hub delivers.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, SubsecRound as _, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

use super::dto::{
    AddMembers, ChangeConversation, ConversationDto, ConversationEvent, ConversationKind,
    ConversationList, ConversationMemberDto, ConversationQuery, CreateConversation, EditMessage,
    HistoryQuery, MAX_CLIENT_ID_CHARS, MAX_MEMBERS, MAX_MESSAGE_CHARS, MAX_NAME_CHARS, MessageDto,
    MessageEvent, MessagePage, MessageSearchQuery, MessageSearchResults, QuotedMessage,
    ReadRequest, SendMessage,
};
use super::repo;
use crate::attachments::{self, Owner};
use crate::auth::AuthenticatedPerson;
use crate::db;
use crate::entities::{conversation_members, conversations, groups, message_reactions, messages};
use crate::error::{ApiError, ApiResult};
use crate::events::{self, Doorbell, Event};
use crate::groups::policy::{self, Action};
use crate::groups::service::{facts, standing, viewer, visible};
use crate::http::pagination::{Cursor, checked_limit, search_start};
use crate::posts::dto::{Reaction, ReactionCount};
use crate::posts::repo as people;
use crate::posts::service::{card, checked_mentions, clean_body, render};

const DEFAULT_HISTORY: u64 = 50;
const MAX_HISTORY: u64 = 100;
const DEFAULT_LIST: u64 = 50;
const MAX_LIST: u64 = 100;
const QUOTE_CHARS: usize = 200;

/// A conversation as its reader reaches it.
pub struct Access {
    pub conversation: conversations::Model,
    /// The reader's own row (a channel's member may have none yet).
    pub row: Option<conversation_members::Model>,
    /// Channels: their group, when archived no one writes.
    pub group: Option<groups::Model>,
}

impl Access {
    fn kind(&self) -> ConversationKind {
        kind_of(&self.conversation)
    }

    fn event(&self) -> ConversationEvent {
        event_of(&self.conversation)
    }

    fn writable(&self) -> ApiResult<()> {
        if self
            .group
            .as_ref()
            .is_some_and(|group| group.archived_at.is_some())
        {
            return Err(ApiError::conflict(
                "group_archived",
                "this group is archived and its channel takes no new messages",
            ));
        }
        Ok(())
    }
}

fn kind_of(conversation: &conversations::Model) -> ConversationKind {
    ConversationKind::parse(&conversation.kind).unwrap_or(ConversationKind::Group)
}

pub fn event_of(conversation: &conversations::Model) -> ConversationEvent {
    ConversationEvent {
        id: conversation.id,
        kind: kind_of(conversation),
        group_id: conversation.group_id,
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("conversation")
}

/// The conversation, if `person` is in it: a member who has not left, or for a channel a member
/// of its group. Anyone else gets 404, so ids reveal nothing.
pub async fn open(
    db: &impl ConnectionTrait,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<Access> {
    let conversation = repo::find(db, id).await?.ok_or_else(not_found)?;
    let row = repo::member(db, id, person.id).await?;
    if let Some(group_id) = conversation.group_id {
        let viewer = viewer(person);
        let (group, membership) = visible(db, &viewer, group_id, false)
            .await
            .map_err(|error| {
                if error.is_not_found() {
                    not_found()
                } else {
                    error
                }
            })?;
        if group.deleted_at.is_some()
            || !policy::allows(
                &viewer,
                &facts(&group),
                standing(membership.as_ref()),
                Action::Chat,
            )
        {
            return Err(not_found());
        }
        return Ok(Access {
            conversation,
            row,
            group: Some(group),
        });
    }
    match row {
        Some(row) if row.left_at.is_none() => Ok(Access {
            conversation,
            row: Some(row),
            group: None,
        }),
        _ => Err(not_found()),
    }
}

/// Whether `person` may read the message (attachments are served like their message).
pub async fn may_read_message(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    message_id: Uuid,
) -> ApiResult<bool> {
    let Some(message) = repo::find_message(db, message_id).await? else {
        return Ok(false);
    };
    if message.deleted_at.is_some() {
        return Ok(false);
    }
    match open(db, person, message.conversation_id).await {
        Ok(_) => Ok(true),
        Err(error) if error.is_not_found() => Ok(false),
        Err(error) => Err(error),
    }
}

/// Active people among `ids`, the caller left out; an unknown or inactive id is an error.
async fn checked_people(db: &impl ConnectionTrait, me: Uuid, ids: &[Uuid]) -> ApiResult<Vec<Uuid>> {
    let wanted: Vec<Uuid> = ids
        .iter()
        .copied()
        .filter(|id| *id != me)
        .collect::<BTreeSet<Uuid>>()
        .into_iter()
        .collect();
    if let Some(unknown) = people::first_not_active(db, &wanted).await? {
        return Err(ApiError::field(
            "person_ids",
            format!("{unknown} is not an active person in Plein"),
        ));
    }
    Ok(wanted)
}

fn checked_name(name: Option<&str>) -> ApiResult<Option<String>> {
    let Some(name) = name.map(str::trim) else {
        return Ok(None);
    };
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::field(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::field(
            "name",
            "must not contain control characters",
        ));
    }
    Ok((!name.is_empty()).then(|| name.to_owned()))
}

fn direct_key(a: Uuid, b: Uuid) -> String {
    let (low, high) = if a < b { (a, b) } else { (b, a) };
    format!("{low}:{high}")
}

/// Starts a conversation. With one other person and no name: the direct conversation, the
/// existing one when there is one (`false`: nothing was created).
pub async fn create(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    request: CreateConversation,
) -> ApiResult<(ConversationDto, bool)> {
    let name = checked_name(request.name.as_deref())?;
    if request.person_ids.len() > MAX_MEMBERS {
        return Err(ApiError::field(
            "person_ids",
            format!("at most {} people besides you", MAX_MEMBERS - 1),
        ));
    }
    let others = checked_people(db, person.id, &request.person_ids).await?;
    if others.is_empty() {
        return Err(ApiError::field(
            "person_ids",
            "name at least one other person",
        ));
    }
    if others.len() + 1 > MAX_MEMBERS {
        return Err(ApiError::field(
            "person_ids",
            format!("at most {} people besides you", MAX_MEMBERS - 1),
        ));
    }
    let now = Utc::now().trunc_subsecs(6);
    let direct = others.len() == 1 && name.is_none();
    let key = direct.then(|| direct_key(person.id, others[0]));
    if let Some(key) = &key
        && let Some(existing) = repo::by_direct_key(db, key).await?
    {
        return Ok((one(db, person.id, existing).await?, false));
    }
    let row = conversations::Model {
        id: Uuid::now_v7(),
        kind: if direct {
            ConversationKind::Direct
        } else {
            ConversationKind::Group
        }
        .as_str()
        .to_owned(),
        name,
        direct_key: key.clone(),
        group_id: None,
        created_by: Some(person.id),
        created_at: now,
        last_activity_at: now,
    };
    let tx = db::begin_write(db).await?;
    if !repo::insert_conversation(&tx, row.clone()).await? {
        // The same pair started it a moment ago: theirs is the one.
        tx.commit().await?;
        let key = key.unwrap_or_default();
        let existing = repo::by_direct_key(db, &key)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("direct conversation vanished")))?;
        return Ok((one(db, person.id, existing).await?, false));
    }
    let mut everyone = vec![person.id];
    everyone.extend(&others);
    repo::add_members(&tx, row.id, &everyone, now).await?;
    events::append(
        &tx,
        Event::ConversationChanged {
            conversation: event_of(&row),
            added: everyone,
            removed: Vec::new(),
        },
    )
    .await?;
    tx.commit().await?;
    doorbell.ring();
    Ok((one(db, person.id, row).await?, true))
}

/// A group's channel, made the first time a member asks for it.
pub async fn channel(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    group_id: Uuid,
) -> ApiResult<ConversationDto> {
    let viewer = viewer(person);
    let (group, membership) = visible(db, &viewer, group_id, false).await?;
    if group.deleted_at.is_some() {
        return Err(ApiError::not_found("group"));
    }
    if !policy::allows(
        &viewer,
        &facts(&group),
        standing(membership.as_ref()),
        Action::Chat,
    ) {
        return Err(ApiError::forbidden(
            "only the group's members chat in its channel",
        ));
    }
    if let Some(existing) = repo::by_group(db, group_id).await? {
        return one(db, person.id, existing).await;
    }
    let now = Utc::now().trunc_subsecs(6);
    let row = conversations::Model {
        id: Uuid::now_v7(),
        kind: ConversationKind::Channel.as_str().to_owned(),
        name: None,
        direct_key: None,
        group_id: Some(group_id),
        created_by: Some(person.id),
        created_at: now,
        last_activity_at: now,
    };
    let tx = db::begin_write(db).await?;
    let created = repo::insert_conversation(&tx, row.clone()).await?;
    if created {
        events::append(
            &tx,
            Event::ConversationChanged {
                conversation: event_of(&row),
                added: Vec::new(),
                removed: Vec::new(),
            },
        )
        .await?;
    }
    tx.commit().await?;
    if created {
        doorbell.ring();
    }
    let stored = repo::by_group(db, group_id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("channel vanished")))?;
    one(db, person.id, stored).await
}

pub async fn get(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<ConversationDto> {
    let access = open(db, person, id).await?;
    one(db, person.id, access.conversation).await
}

/// Renames a group conversation, mutes or unmutes it for the caller.
pub async fn change(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
    request: ChangeConversation,
) -> ApiResult<ConversationDto> {
    let access = open(db, person, id).await?;
    let now = Utc::now().trunc_subsecs(6);
    let tx = db::begin_write(db).await?;
    if let Some(name) = &request.name {
        if access.kind() != ConversationKind::Group {
            return Err(ApiError::field(
                "name",
                "only group conversations have a name",
            ));
        }
        let name = checked_name(Some(name))?;
        let mut row = access.conversation.clone();
        row.name = name;
        repo::save_conversation(&tx, row).await?;
        events::append(
            &tx,
            Event::ConversationChanged {
                conversation: access.event(),
                added: Vec::new(),
                removed: Vec::new(),
            },
        )
        .await?;
    }
    if let Some(muted) = request.muted {
        repo::ensure_row(&tx, id, person.id, now).await?;
        repo::set_muted(&tx, id, person.id, muted).await?;
    }
    tx.commit().await?;
    doorbell.ring();
    get(db, person, id).await
}

/// Adds people to a group conversation (at most 100 in it).
pub async fn add_members(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
    request: AddMembers,
) -> ApiResult<ConversationDto> {
    let access = open(db, person, id).await?;
    if access.kind() != ConversationKind::Group {
        return Err(ApiError::conflict(
            "not_a_group_conversation",
            "people are added to group conversations only; start one with them instead",
        ));
    }
    if request.person_ids.len() > MAX_MEMBERS {
        return Err(ApiError::field(
            "person_ids",
            format!("at most {MAX_MEMBERS} people in a conversation"),
        ));
    }
    let wanted = checked_people(db, person.id, &request.person_ids).await?;
    let now = Utc::now().trunc_subsecs(6);
    let tx = db::begin_write(db).await?;
    let present: BTreeSet<Uuid> = repo::members(&tx, vec![id])
        .await?
        .remove(&id)
        .unwrap_or_default()
        .into_iter()
        .map(|row| row.person_id)
        .collect();
    let added: Vec<Uuid> = wanted
        .into_iter()
        .filter(|id| !present.contains(id))
        .collect();
    if present.len() + added.len() > MAX_MEMBERS {
        return Err(ApiError::conflict(
            "conversation_full",
            format!("a conversation has at most {MAX_MEMBERS} people"),
        ));
    }
    if !added.is_empty() {
        repo::add_members(&tx, id, &added, now).await?;
        events::append(
            &tx,
            Event::ConversationChanged {
                conversation: access.event(),
                added,
                removed: Vec::new(),
            },
        )
        .await?;
    }
    tx.commit().await?;
    doorbell.ring();
    get(db, person, id).await
}

/// Leaves a group conversation; its events stop at once.
pub async fn leave(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<()> {
    let access = open(db, person, id).await?;
    match access.kind() {
        ConversationKind::Group => {}
        ConversationKind::Direct => {
            return Err(ApiError::conflict(
                "cannot_leave",
                "a direct conversation cannot be left; mute it instead",
            ));
        }
        ConversationKind::Channel => {
            return Err(ApiError::conflict(
                "cannot_leave",
                "a channel is left by leaving its group",
            ));
        }
    }
    let now = Utc::now().trunc_subsecs(6);
    let tx = db::begin_write(db).await?;
    if repo::leave(&tx, id, person.id, now).await? {
        events::append(
            &tx,
            Event::ConversationChanged {
                conversation: access.event(),
                added: Vec::new(),
                removed: vec![person.id],
            },
        )
        .await?;
    }
    tx.commit().await?;
    doorbell.ring();
    Ok(())
}

fn checked_client_id(client_id: &str) -> ApiResult<()> {
    if client_id.is_empty()
        || client_id.len() > MAX_CLIENT_ID_CHARS
        || !client_id.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(ApiError::field(
            "client_id",
            format!("must be 1 to {MAX_CLIENT_ID_CHARS} visible ASCII characters"),
        ));
    }
    Ok(())
}

fn message_event(
    conversation: ConversationEvent,
    row: &messages::Model,
    mentions: Vec<Uuid>,
) -> MessageEvent {
    MessageEvent {
        id: row.id,
        conversation,
        author_id: row.author_id,
        client_id: row.client_id.clone(),
        body: row.body.clone(),
        reply_to: row.reply_to,
        created_at: row.created_at,
        edited_at: row.edited_at,
        mentions,
    }
}

/// Sends a message; a resend with the same `client_id` answers the first one (`false`).
pub async fn send(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    conversation_id: Uuid,
    request: SendMessage,
) -> ApiResult<(MessageDto, bool)> {
    checked_client_id(&request.client_id)?;
    let body = clean_body(
        &request.body,
        MAX_MESSAGE_CHARS,
        !request.attachments.is_empty(),
    )?;
    let access = open(db, person, conversation_id).await?;
    if let Some(earlier) =
        repo::by_client_id(db, conversation_id, person.id, &request.client_id).await?
    {
        return Ok((one_message(db, person.id, earlier).await?, false));
    }
    access.writable()?;
    if let Some(reply_to) = request.reply_to {
        let answered = repo::find_message(db, reply_to).await?;
        if answered.is_none_or(|answered| answered.conversation_id != conversation_id) {
            return Err(ApiError::field(
                "reply_to",
                "is not a message of this conversation",
            ));
        }
    }
    let now = Utc::now().trunc_subsecs(6);
    let row = messages::Model {
        id: Uuid::now_v7(),
        conversation_id,
        author_id: person.id,
        client_id: request.client_id.clone(),
        body,
        reply_to: request.reply_to,
        created_at: now,
        edited_at: None,
        deleted_at: None,
    };
    let mentioned = checked_mentions(db, &row.body).await?;
    let tx = db::begin_write(db).await?;
    if !repo::insert_message(&tx, row.clone()).await? {
        // The same send, a moment ago on another connection.
        tx.commit().await?;
        let earlier = repo::by_client_id(db, conversation_id, person.id, &request.client_id)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("message vanished")))?;
        return Ok((one_message(db, person.id, earlier).await?, false));
    }
    // A new message carries no files until given some.
    if !request.attachments.is_empty() {
        attachments::attach(&tx, person.id, Owner::Message(row.id), &request.attachments).await?;
    }
    repo::touch(&tx, conversation_id, now).await?;
    // The sender has read what they sent.
    repo::ensure_row(&tx, conversation_id, person.id, now).await?;
    repo::mark_read(&tx, conversation_id, person.id, row.id, now).await?;
    events::append(
        &tx,
        Event::MessageCreated {
            message: message_event(access.event(), &row, mentioned),
        },
    )
    .await?;
    tx.commit().await?;
    doorbell.ring();
    let fresh = Fresh {
        files: !request.attachments.is_empty(),
    };
    Ok((one_message_as(db, person.id, row, Some(fresh)).await?, true))
}

/// A message the caller may read, with the access to its conversation.
async fn readable_message(
    db: &impl ConnectionTrait,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<(messages::Model, Access)> {
    let message = repo::find_message(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    let access = open(db, person, message.conversation_id)
        .await
        .map_err(|error| {
            if error.is_not_found() {
                ApiError::not_found("message")
            } else {
                error
            }
        })?;
    Ok((message, access))
}

/// Edits one's own message (marked edited).
pub async fn edit(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
    request: EditMessage,
) -> ApiResult<MessageDto> {
    let (mut message, access) = readable_message(db, person, id).await?;
    if message.author_id != person.id {
        return Err(ApiError::forbidden("only its author edits a message"));
    }
    if message.deleted_at.is_some() {
        return Err(ApiError::conflict(
            "message_deleted",
            "this message was deleted",
        ));
    }
    access.writable()?;
    let has_files = !attachments::of(db, Owner::Message, &[id]).await?.is_empty();
    let body = clean_body(&request.body, MAX_MESSAGE_CHARS, has_files)?;
    let mentioned = checked_mentions(db, &body).await?;
    if body == message.body {
        return one_message(db, person.id, message).await;
    }
    message.body = body;
    message.edited_at = Some(Utc::now().trunc_subsecs(6));
    let tx = db::begin_write(db).await?;
    repo::save_message(&tx, message.clone()).await?;
    events::append(
        &tx,
        Event::MessageUpdated {
            message: message_event(access.event(), &message, mentioned),
        },
    )
    .await?;
    tx.commit().await?;
    doorbell.ring();
    one_message(db, person.id, message).await
}

/// Deletes one's own message: it keeps its place as a placeholder, its text and files gone.
/// A channel's group admins may delete any message in it.
pub async fn delete(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<()> {
    let (mut message, access) = readable_message(db, person, id).await?;
    if message.deleted_at.is_some() {
        return Ok(());
    }
    if message.author_id != person.id && !moderates(db, person, &access).await? {
        return Err(ApiError::forbidden("only its author deletes a message"));
    }
    message.body = String::new();
    message.deleted_at = Some(Utc::now().trunc_subsecs(6));
    let tx = db::begin_write(db).await?;
    repo::save_message(&tx, message.clone()).await?;
    attachments::attach(&tx, message.author_id, Owner::Message(id), &[]).await?;
    events::append(
        &tx,
        Event::MessageDeleted {
            message: message_event(access.event(), &message, Vec::new()),
        },
    )
    .await?;
    tx.commit().await?;
    doorbell.ring();
    Ok(())
}

async fn moderates(
    db: &impl ConnectionTrait,
    person: &AuthenticatedPerson,
    access: &Access,
) -> ApiResult<bool> {
    let Some(group) = &access.group else {
        return Ok(false);
    };
    let viewer = viewer(person);
    let (_, membership) = visible(db, &viewer, group.id, false).await?;
    Ok(policy::allows(
        &viewer,
        &facts(group),
        standing(membership.as_ref()),
        Action::Manage,
    ))
}

/// Gives (`on`) or takes back a reaction; doing it twice changes nothing.
pub async fn react(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
    reaction: &str,
    on: bool,
) -> ApiResult<MessageDto> {
    let reaction = Reaction::parse(reaction).ok_or_else(|| {
        ApiError::field(
            "reaction",
            format!(
                "must be one of {}",
                Reaction::ALL.map(Reaction::as_str).join(", ")
            ),
        )
    })?;
    let (message, access) = readable_message(db, person, id).await?;
    if message.deleted_at.is_some() {
        return Err(ApiError::conflict(
            "message_deleted",
            "this message was deleted",
        ));
    }
    access.writable()?;
    let tx = db::begin_write(db).await?;
    let changed = if on {
        repo::add_reaction(
            &tx,
            message_reactions::Model {
                message_id: id,
                person_id: person.id,
                reaction: reaction.as_str().to_owned(),
                created_at: Utc::now().trunc_subsecs(6),
            },
        )
        .await?
    } else {
        repo::remove_reaction(&tx, id, person.id, reaction.as_str()).await?
    };
    if changed {
        events::append(
            &tx,
            Event::MessageReactionChanged {
                message_id: id,
                conversation: access.event(),
                person_id: person.id,
                reaction: reaction.as_str().to_owned(),
                on,
            },
        )
        .await?;
    }
    tx.commit().await?;
    if changed {
        doorbell.ring();
    }
    one_message(db, person.id, message).await
}

/// Marks the conversation read up to a message (never backwards).
pub async fn mark_read(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    conversation_id: Uuid,
    request: ReadRequest,
) -> ApiResult<ConversationDto> {
    let access = open(db, person, conversation_id).await?;
    let message = repo::find_message(db, request.message_id).await?;
    if message.is_none_or(|message| message.conversation_id != conversation_id) {
        return Err(ApiError::field(
            "message_id",
            "is not a message of this conversation",
        ));
    }
    let now = Utc::now().trunc_subsecs(6);
    let tx = db::begin_write(db).await?;
    repo::ensure_row(&tx, conversation_id, person.id, now).await?;
    let moved = repo::mark_read(&tx, conversation_id, person.id, request.message_id, now).await?;
    if moved {
        events::append(
            &tx,
            Event::ConversationRead {
                conversation: access.event(),
                person_id: person.id,
                message_id: request.message_id,
            },
        )
        .await?;
    }
    tx.commit().await?;
    if moved {
        doorbell.ring();
    }
    one(db, person.id, access.conversation).await
}

/// A stretch of history, oldest first.
pub async fn history(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    conversation_id: Uuid,
    query: HistoryQuery,
) -> ApiResult<MessagePage> {
    let limit = checked_limit(query.limit, DEFAULT_HISTORY, MAX_HISTORY)?;
    let anchors = [query.before, query.after, query.around]
        .iter()
        .filter(|anchor| anchor.is_some())
        .count();
    if anchors > 1 {
        return Err(ApiError::field(
            "before",
            "give at most one of `before`, `after` and `around`",
        ));
    }
    open(db, person, conversation_id).await?;
    let (mut items, has_older, has_newer) = if let Some(after) = query.after {
        let mut rows =
            repo::history(db, conversation_id, Some(after), false, false, limit + 1).await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        (rows, true, more)
    } else if let Some(around) = query.around {
        let newer_half = limit / 2;
        let older_half = limit - newer_half;
        let mut older = repo::history(
            db,
            conversation_id,
            Some(around),
            true,
            true,
            older_half + 1,
        )
        .await?;
        let more_older = older.len() as u64 > older_half;
        older.truncate(older_half as usize);
        older.reverse();
        let mut newer = repo::history(
            db,
            conversation_id,
            Some(around),
            false,
            false,
            newer_half + 1,
        )
        .await?;
        let more_newer = newer.len() as u64 > newer_half;
        newer.truncate(newer_half as usize);
        older.extend(newer);
        (older, more_older, more_newer)
    } else {
        let mut rows =
            repo::history(db, conversation_id, query.before, true, false, limit + 1).await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        rows.reverse();
        (rows, more, query.before.is_some())
    };
    // A page after the newest message is empty and has nothing newer.
    if items.is_empty() && query.after.is_some() {
        return Ok(MessagePage {
            items: Vec::new(),
            has_older,
            has_newer: false,
        });
    }
    let dtos = message_dtos(db, person.id, std::mem::take(&mut items)).await?;
    Ok(MessagePage {
        items: dtos,
        has_older,
        has_newer,
    })
}

/// Full-text search over the messages of the caller's conversations, newest first.
pub async fn search(
    db: &DatabaseConnection,
    index: &super::indexer::SharedMessageIndex,
    person: &AuthenticatedPerson,
    query: MessageSearchQuery,
) -> ApiResult<MessageSearchResults> {
    let limit = checked_limit(query.limit, 20, 50)?;
    let (text, offset) = search_start(query.q, query.cursor.as_deref())?;
    let groups = people::my_live_groups(db, person.id).await?;
    let mine: HashMap<Uuid, conversations::Model> =
        repo::list(db, person.id, groups, None, u64::MAX >> 1)
            .await?
            .into_iter()
            .map(|conversation| (conversation.id, conversation))
            .collect();
    // Someone else's conversation finds nothing, like one that does not exist.
    if let Some(id) = query.conversation_id
        && !mine.contains_key(&id)
    {
        return Err(not_found());
    }
    let request = plein_search::messages::MessageSearch {
        query: text,
        conversations: plein_search::KeyFilter::Only(mine.keys().map(Uuid::to_string).collect()),
        conversation: query.conversation_id.map(|id| id.to_string()),
        author: query.author.map(|id| id.to_string()),
        limit: usize::try_from(limit).unwrap_or(50),
        offset,
    };
    let searcher = index.clone();
    let found = tokio::task::spawn_blocking(move || searcher.search(&request))
        .await
        .map_err(|error| ApiError::internal(anyhow::anyhow!("message search failed: {error}")))?
        .map_err(ApiError::internal)?;
    let ids: Vec<Uuid> = found.ids.iter().filter_map(|id| id.parse().ok()).collect();
    // The index may lag a moment behind a delete: the rows decide.
    let mut rows = repo::messages_by_id(db, ids.clone()).await?;
    let listed: Vec<messages::Model> = ids
        .iter()
        .filter_map(|id| rows.remove(id))
        .filter(|row| row.deleted_at.is_none() && mine.contains_key(&row.conversation_id))
        .collect();
    let mut shown: Vec<Uuid> = listed.iter().map(|row| row.conversation_id).collect();
    shown.sort();
    shown.dedup();
    let mut conversations: Vec<conversations::Model> = shown
        .iter()
        .filter_map(|id| mine.get(id).cloned())
        .collect();
    conversations.sort_by_key(|conversation| std::cmp::Reverse(conversation.last_activity_at));
    let next = offset + found.ids.len();
    Ok(MessageSearchResults {
        items: message_dtos(db, person.id, listed).await?,
        conversations: dtos(db, person.id, conversations).await?,
        next_cursor: (next < found.total).then(|| Cursor::encode_offset(next)),
        total: found.total as u64,
    })
}

/// The caller's conversations, most recently active first, with unread counts.
pub async fn list(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    query: ConversationQuery,
) -> ApiResult<ConversationList> {
    let limit = checked_limit(query.limit, DEFAULT_LIST, MAX_LIST)?;
    let after: Option<(DateTime<Utc>, Uuid)> = query
        .cursor
        .as_deref()
        .map(Cursor::decode_json)
        .transpose()?;
    let groups = people::my_live_groups(db, person.id).await?;
    let mut rows = repo::list(db, person.id, groups.clone(), after, limit + 1).await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last()
            .map(|row| Cursor::encode_json(&(row.last_activity_at, row.id)))
    } else {
        None
    };
    let items = dtos(db, person.id, rows).await?;
    let unread_total = unread_total(db, person.id, groups).await?;
    Ok(ConversationList {
        items,
        next_cursor,
        unread_total,
    })
}

/// Unread messages over every conversation of the caller that is not muted (capped per
/// conversation): only those active since the caller last read them are counted.
async fn unread_total(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    groups: Vec<Uuid>,
) -> ApiResult<u64> {
    let all = repo::list(db, person_id, groups, None, u64::MAX >> 1).await?;
    let ids: Vec<Uuid> = all.iter().map(|row| row.id).collect();
    let rows = repo::my_rows(db, person_id, ids).await?;
    let joined = group_join_times(db, person_id, &all).await?;
    let unread_after: Vec<(Uuid, Uuid)> = all
        .iter()
        .filter(|conversation| {
            let row = rows.get(&conversation.id);
            !row.is_some_and(|row| row.muted) && !read_since_activity(conversation, row)
        })
        .filter_map(|conversation| {
            let from = unread_from(conversation, rows.get(&conversation.id), &joined)?;
            Some((conversation.id, from))
        })
        .collect();
    Ok(repo::unread_many(db, person_id, &unread_after)
        .await?
        .values()
        .sum())
}

/// When the caller joined the groups of these channels (their unread count starts there).
async fn group_join_times(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    conversations: &[conversations::Model],
) -> ApiResult<HashMap<Uuid, DateTime<Utc>>> {
    use crate::entities::group_members;
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
    let groups: Vec<Uuid> = conversations
        .iter()
        .filter_map(|row| row.group_id)
        .collect();
    if groups.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(group_members::Entity::find()
        .filter(group_members::Column::PersonId.eq(person_id))
        .filter(crate::db::one_of(
            db.get_database_backend(),
            group_members::Column::GroupId,
            groups,
        ))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.group_id, row.updated_at))
        .collect())
}

/// Whether the reader has read the conversation since anything happened in it (nothing to
/// count then).
fn read_since_activity(
    conversation: &conversations::Model,
    row: Option<&conversation_members::Model>,
) -> bool {
    row.and_then(|row| row.last_read_at)
        .is_some_and(|read| read >= conversation.last_activity_at)
}

/// Messages after this id are unread: after the last one read, else after joining.
fn unread_from(
    conversation: &conversations::Model,
    row: Option<&conversation_members::Model>,
    joined_groups: &HashMap<Uuid, DateTime<Utc>>,
) -> Option<Uuid> {
    if let Some(read) = row.and_then(|row| row.last_read_id) {
        return Some(read);
    }
    match (row, conversation.group_id) {
        (_, Some(group)) => joined_groups.get(&group).copied().map(repo::first_id_at),
        (Some(row), None) => Some(repo::first_id_at(row.joined_at)),
        (None, None) => None,
    }
}

async fn one(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    conversation: conversations::Model,
) -> ApiResult<ConversationDto> {
    dtos(db, viewer, vec![conversation])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the conversation vanished")))
}

async fn dtos(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    rows: Vec<conversations::Model>,
) -> ApiResult<Vec<ConversationDto>> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let listed: Vec<Uuid> = rows
        .iter()
        .filter(|row| row.group_id.is_none())
        .map(|row| row.id)
        .collect();
    let members = repo::members(db, listed).await?;
    let mine = repo::my_rows(db, viewer, ids).await?;
    let joined = group_join_times(db, viewer, &rows).await?;
    let group_ids: Vec<Uuid> = rows.iter().filter_map(|row| row.group_id).collect();
    let group_sizes = crate::groups::repo::member_counts(db, &group_ids).await?;
    let group_rows: HashMap<Uuid, groups::Model> = {
        use sea_orm::{EntityTrait as _, QueryFilter as _};
        if group_ids.is_empty() {
            HashMap::new()
        } else {
            groups::Entity::find()
                .filter(crate::db::one_of(
                    db.get_database_backend(),
                    groups::Column::Id,
                    group_ids,
                ))
                .all(db)
                .await?
                .into_iter()
                .map(|group| (group.id, group))
                .collect()
        }
    };
    let mut people_ids: Vec<Uuid> = members
        .values()
        .flatten()
        .map(|row| row.person_id)
        .collect();
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let newest = repo::newest_messages(db, &ids).await?;
    let unread_after: Vec<(Uuid, Uuid)> = rows
        .iter()
        .filter(|row| !read_since_activity(row, mine.get(&row.id)))
        .filter_map(|row| Some((row.id, unread_from(row, mine.get(&row.id), &joined)?)))
        .collect();
    let unread = repo::unread_many(db, viewer, &unread_after).await?;
    people_ids.extend(newest.iter().map(|message| message.author_id));
    let cards = people::cards_by_id(db, people_ids).await?;
    let mut last_messages: HashMap<Uuid, MessageDto> = message_dtos(db, viewer, newest)
        .await?
        .into_iter()
        .map(|message| (message.conversation_id, message))
        .collect();
    let mut result = Vec::with_capacity(rows.len());
    for row in rows {
        let my_row = mine.get(&row.id);
        let unread = unread.get(&row.id).copied().unwrap_or_default();
        let listed: Vec<ConversationMemberDto> = members
            .get(&row.id)
            .map(|rows| {
                rows.iter()
                    .map(|member| ConversationMemberDto {
                        person: card(&cards, member.person_id),
                        last_read_id: member.last_read_id,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let (name, member_count) = match row.group_id.and_then(|id| group_rows.get(&id)) {
            Some(group) => (
                Some(group.name.clone()),
                group_sizes.get(&group.id).copied().unwrap_or_default(),
            ),
            None => (row.name.clone(), listed.len() as u64),
        };
        result.push(ConversationDto {
            id: row.id,
            kind: kind_of(&row),
            name,
            group_id: row.group_id,
            members: listed,
            member_count,
            unread,
            muted: my_row.is_some_and(|row| row.muted),
            last_read_id: my_row.and_then(|row| row.last_read_id),
            last_message: last_messages.remove(&row.id),
            last_activity_at: row.last_activity_at,
            created_at: row.created_at,
        });
    }
    Ok(result)
}

async fn one_message(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    row: messages::Model,
) -> ApiResult<MessageDto> {
    one_message_as(db, viewer, row, None).await
}

async fn one_message_as(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    row: messages::Model,
    fresh: Option<Fresh>,
) -> ApiResult<MessageDto> {
    messages_as_seen(db, viewer, vec![row], fresh)
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the message vanished")))
}

fn excerpt(body: &str) -> String {
    let mut text: String = body.chars().take(QUOTE_CHARS).collect();
    if body.chars().count() > QUOTE_CHARS {
        text.push('…');
    }
    text
}

/// Messages as the viewer sees them: author, rendered text, what they answer, reactions, files.
pub async fn message_dtos(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    rows: Vec<messages::Model>,
) -> ApiResult<Vec<MessageDto>> {
    messages_as_seen(db, viewer, rows, None).await
}

/// What is known of messages just sent: no reactions yet, and files only if given.
#[derive(Clone, Copy)]
struct Fresh {
    files: bool,
}

async fn messages_as_seen(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    rows: Vec<messages::Model>,
    fresh: Option<Fresh>,
) -> ApiResult<Vec<MessageDto>> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let quoted =
        repo::messages_by_id(db, rows.iter().filter_map(|row| row.reply_to).collect()).await?;
    let mentioned: Vec<Uuid> = rows
        .iter()
        .flat_map(|row| crate::posts::mentions::parse(&row.body))
        .collect();
    let mut people_ids: Vec<Uuid> = rows.iter().map(|row| row.author_id).collect();
    people_ids.extend(mentioned);
    let cards = people::cards_by_id(db, people_ids).await?;
    let names: HashMap<Uuid, String> = cards
        .values()
        .map(|card| (card.id, card.display_name.clone()))
        .collect();
    let mut counts: HashMap<Uuid, BTreeMap<Reaction, u64>> = HashMap::new();
    let mut mine: HashMap<Uuid, Vec<Reaction>> = HashMap::new();
    let reactions = if fresh.is_some() {
        Vec::new()
    } else {
        repo::reactions(db, ids.clone()).await?
    };
    for reaction in reactions {
        let Some(kind) = Reaction::parse(&reaction.reaction) else {
            continue;
        };
        *counts
            .entry(reaction.message_id)
            .or_default()
            .entry(kind)
            .or_default() += 1;
        if reaction.person_id == viewer {
            mine.entry(reaction.message_id).or_default().push(kind);
        }
    }
    let mut files = if fresh.is_some_and(|fresh| !fresh.files) {
        HashMap::new()
    } else {
        attachments::of(db, Owner::Message, &ids).await?
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let deleted = row.deleted_at.is_some();
            let reactions: Vec<ReactionCount> = counts
                .remove(&row.id)
                .unwrap_or_default()
                .into_iter()
                .map(|(reaction, count)| ReactionCount { reaction, count })
                .collect();
            let mut my_reactions = mine.remove(&row.id).unwrap_or_default();
            my_reactions.sort();
            MessageDto {
                id: row.id,
                conversation_id: row.conversation_id,
                author_id: row.author_id,
                author: card(&cards, row.author_id),
                html: if deleted {
                    String::new()
                } else {
                    render(&row.body, &names)
                },
                body: if deleted { String::new() } else { row.body },
                client_id: row.client_id,
                reply_to: row
                    .reply_to
                    .and_then(|id| quoted.get(&id))
                    .map(|quoted| QuotedMessage {
                        id: quoted.id,
                        author_id: quoted.author_id,
                        excerpt: if quoted.deleted_at.is_some() {
                            String::new()
                        } else {
                            excerpt(&quoted.body)
                        },
                        deleted: quoted.deleted_at.is_some(),
                    }),
                created_at: row.created_at,
                edited_at: row.edited_at,
                deleted,
                reactions,
                my_reactions,
                attachments: if deleted {
                    Vec::new()
                } else {
                    files.remove(&row.id).unwrap_or_default()
                },
            }
        })
        .collect())
}
