//! The events themselves: one tagged enum, whom each concerns, and their stored encoding.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::chat::dto::{ConversationEvent, MessageEvent};
use crate::directory::dto::{PersonEvent, Role};
use crate::groups::dto::GroupEvent;
use crate::groups::policy::{GroupRole, MemberState};
use crate::notifications::dto::PersonUnread;
use crate::posts::dto::PostEvent;

/// The encoding written by this build. A reader meeting a newer version logs and counts the
/// event instead of guessing at it.
pub const EVENT_VERSION: i16 = 1;

/// Everything that happens in Plein that another part of the system must learn about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    #[serde(rename = "person.created")]
    PersonCreated { person: PersonEvent },
    /// Profile or HR fields changed (also through SCIM or an HR import).
    #[serde(rename = "person.updated")]
    PersonUpdated { person: PersonEvent },
    /// Their sessions are gone; sockets must close.
    #[serde(rename = "person.deactivated")]
    PersonDeactivated { person: PersonEvent },
    #[serde(rename = "person.reactivated")]
    PersonReactivated { person: PersonEvent },
    #[serde(rename = "person.role_changed")]
    PersonRoleChanged {
        person: PersonEvent,
        previous_role: Role,
    },
    #[serde(rename = "group.created")]
    GroupCreated { group: GroupEvent },
    /// Name, description, kind, visibility, posting or archiving changed.
    #[serde(rename = "group.updated")]
    GroupUpdated { group: GroupEvent },
    #[serde(rename = "group.deleted")]
    GroupDeleted { group: GroupEvent },
    /// Someone's standing with a group changed; `state` none means they no longer have one
    /// (left, removed, declined).
    #[serde(rename = "group.membership_changed")]
    GroupMembershipChanged {
        group_id: Uuid,
        person_id: Uuid,
        role: Option<GroupRole>,
        state: Option<MemberState>,
        /// Where they stood before (none: no standing).
        #[serde(default)]
        previous: Option<MemberState>,
        /// Who made the change when it was not the person themselves (an invitation, an
        /// approval).
        #[serde(default)]
        by: Option<Uuid>,
    },
    #[serde(rename = "post.created")]
    PostCreated { post: PostEvent },
    #[serde(rename = "post.updated")]
    PostUpdated { post: PostEvent },
    #[serde(rename = "post.deleted")]
    PostDeleted { post: PostEvent },
    #[serde(rename = "comment.created")]
    CommentCreated {
        comment_id: Uuid,
        post: PostEvent,
        /// The comment it answers.
        reply_to: Option<Uuid>,
    },
    /// Its audience is fixed: `reached` people are its recipients.
    #[serde(rename = "announcement.published")]
    AnnouncementPublished {
        id: Uuid,
        version: i32,
        reached: u64,
    },
    /// Corrected or changed (`material`: acknowledgements start over); `added` people joined
    /// its audience.
    #[serde(rename = "announcement.updated")]
    AnnouncementUpdated {
        id: Uuid,
        version: i32,
        material: bool,
        added: u64,
    },
    #[serde(rename = "announcement.acknowledged")]
    AnnouncementAcknowledged { id: Uuid, person_id: Uuid },
    /// A reader commented (announcements that allow comments).
    #[serde(rename = "announcement.commented")]
    AnnouncementCommented {
        id: Uuid,
        comment_id: Uuid,
        author_id: Uuid,
    },
    /// Everyone who has not acknowledged is asked again.
    #[serde(rename = "announcement.reminder")]
    AcknowledgementReminder { id: Uuid },
    /// A reaction given (`on`) or taken back.
    #[serde(rename = "reaction.changed")]
    ReactionChanged {
        post: PostEvent,
        person_id: Uuid,
        reaction: String,
        on: bool,
    },
    /// A conversation was started, renamed, or people joined or left it.
    #[serde(rename = "conversation.changed")]
    ConversationChanged {
        conversation: ConversationEvent,
        added: Vec<Uuid>,
        removed: Vec<Uuid>,
    },
    /// Someone read a conversation up to `message_id`.
    #[serde(rename = "conversation.read")]
    ConversationRead {
        conversation: ConversationEvent,
        person_id: Uuid,
        message_id: Uuid,
    },
    /// Notifications were made, changed or read: each person's unread count now.
    #[serde(rename = "notifications.changed")]
    NotificationsChanged { counts: Vec<PersonUnread> },
    /// Sessions ended: `sessions` those (logout, revoked); none named, all of the person's but
    /// `all_but` (a password change), or all. Their sockets close.
    #[serde(rename = "sessions.ended")]
    SessionsEnded {
        person_id: Uuid,
        #[serde(default)]
        sessions: Vec<Uuid>,
        #[serde(default)]
        all_but: Option<Uuid>,
    },
    #[serde(rename = "message.created")]
    MessageCreated { message: MessageEvent },
    #[serde(rename = "message.updated")]
    MessageUpdated { message: MessageEvent },
    /// Its body is gone; it keeps its place as a placeholder.
    #[serde(rename = "message.deleted")]
    MessageDeleted { message: MessageEvent },
    #[serde(rename = "message.reaction_changed")]
    MessageReactionChanged {
        message_id: Uuid,
        conversation: ConversationEvent,
        person_id: Uuid,
        reaction: String,
        on: bool,
    },
}

impl Event {
    /// The `type` tag, as stored in the `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::PersonCreated { .. } => "person.created",
            Event::PersonUpdated { .. } => "person.updated",
            Event::PersonDeactivated { .. } => "person.deactivated",
            Event::PersonReactivated { .. } => "person.reactivated",
            Event::PersonRoleChanged { .. } => "person.role_changed",
            Event::GroupCreated { .. } => "group.created",
            Event::GroupUpdated { .. } => "group.updated",
            Event::GroupDeleted { .. } => "group.deleted",
            Event::GroupMembershipChanged { .. } => "group.membership_changed",
            Event::PostCreated { .. } => "post.created",
            Event::PostUpdated { .. } => "post.updated",
            Event::PostDeleted { .. } => "post.deleted",
            Event::CommentCreated { .. } => "comment.created",
            Event::ReactionChanged { .. } => "reaction.changed",
            Event::AnnouncementPublished { .. } => "announcement.published",
            Event::AnnouncementUpdated { .. } => "announcement.updated",
            Event::AnnouncementAcknowledged { .. } => "announcement.acknowledged",
            Event::AcknowledgementReminder { .. } => "announcement.reminder",
            Event::AnnouncementCommented { .. } => "announcement.commented",
            Event::ConversationChanged { .. } => "conversation.changed",
            Event::ConversationRead { .. } => "conversation.read",
            Event::SessionsEnded { .. } => "sessions.ended",
            Event::NotificationsChanged { .. } => "notifications.changed",
            Event::MessageCreated { .. } => "message.created",
            Event::MessageUpdated { .. } => "message.updated",
            Event::MessageDeleted { .. } => "message.deleted",
            Event::MessageReactionChanged { .. } => "message.reaction_changed",
        }
    }

    /// Whom the event concerns, for routing without a query per recipient.
    pub fn scope(&self) -> Scope {
        match self {
            Event::PersonCreated { person }
            | Event::PersonUpdated { person }
            | Event::PersonDeactivated { person }
            | Event::PersonReactivated { person }
            | Event::PersonRoleChanged { person, .. } => Scope::Person(person.id),
            Event::GroupCreated { group }
            | Event::GroupUpdated { group }
            | Event::GroupDeleted { group } => Scope::Group(group.id),
            Event::GroupMembershipChanged { group_id, .. } => Scope::Group(*group_id),
            Event::PostCreated { post }
            | Event::PostUpdated { post }
            | Event::PostDeleted { post }
            | Event::CommentCreated { post, .. }
            | Event::ReactionChanged { post, .. } => Scope::Group(post.group_id),
            // Recipients are in `announcement_recipients`; a hub resolves them once per event.
            Event::AnnouncementPublished { .. }
            | Event::AnnouncementUpdated { .. }
            | Event::AnnouncementCommented { .. }
            | Event::AcknowledgementReminder { .. }
            | Event::NotificationsChanged { .. } => Scope::Everyone,
            Event::AnnouncementAcknowledged { person_id, .. }
            | Event::SessionsEnded { person_id, .. } => Scope::Person(*person_id),
            Event::ConversationChanged { conversation, .. }
            | Event::ConversationRead { conversation, .. }
            | Event::MessageReactionChanged { conversation, .. } => {
                Scope::Conversation(conversation.id)
            }
            Event::MessageCreated { message }
            | Event::MessageUpdated { message }
            | Event::MessageDeleted { message } => Scope::Conversation(message.conversation.id),
        }
    }

    /// The person the event is about, if it is about one.
    pub fn person_id(&self) -> Option<Uuid> {
        match self {
            Event::PersonCreated { person }
            | Event::PersonUpdated { person }
            | Event::PersonDeactivated { person }
            | Event::PersonReactivated { person }
            | Event::PersonRoleChanged { person, .. } => Some(person.id),
            _ => None,
        }
    }
}

/// Whom an event concerns. Stored as `scope` (the kind) and `scope_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Everyone,
    Person(Uuid),
    Group(Uuid),
    Conversation(Uuid),
}

impl Scope {
    pub fn columns(self) -> (&'static str, Option<Uuid>) {
        match self {
            Scope::Everyone => ("everyone", None),
            Scope::Person(id) => ("person", Some(id)),
            Scope::Group(id) => ("group", Some(id)),
            Scope::Conversation(id) => ("conversation", Some(id)),
        }
    }

    pub fn from_columns(kind: &str, id: Option<Uuid>) -> Option<Scope> {
        match (kind, id) {
            ("everyone", None) => Some(Scope::Everyone),
            ("person", Some(id)) => Some(Scope::Person(id)),
            ("group", Some(id)) => Some(Scope::Group(id)),
            ("conversation", Some(id)) => Some(Scope::Conversation(id)),
            _ => None,
        }
    }
}

/// Why a stored event could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("event version {0} is newer than this build understands ({EVENT_VERSION})")]
    NewerVersion(i16),
    #[error("event payload does not parse: {0}")]
    Payload(#[from] serde_json::Error),
    #[error("event scope `{0}` with id {1:?} is not valid")]
    Scope(String, Option<Uuid>),
}

pub fn encode(event: &Event) -> Result<String, serde_json::Error> {
    serde_json::to_string(event)
}

pub fn decode(version: i16, payload: &str) -> Result<Event, DecodeError> {
    if version > EVENT_VERSION {
        return Err(DecodeError::NewerVersion(version));
    }
    Ok(serde_json::from_str(payload)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> PersonEvent {
        PersonEvent {
            id: Uuid::now_v7(),
            email: Some("fenna@plein.example".to_owned()),
            display_name: "Fenna".to_owned(),
            role: Role::Hr,
            active: true,
        }
    }

    #[test]
    fn an_event_is_stored_with_its_type_tag_and_reads_back_equal() -> anyhow::Result<()> {
        let event = Event::PersonRoleChanged {
            person: person(),
            previous_role: Role::Employee,
        };
        let text = encode(&event)?;
        let json: serde_json::Value = serde_json::from_str(&text)?;
        assert_eq!(json["type"], "person.role_changed");
        assert_eq!(json["type"], event.kind());
        assert_eq!(json["previous_role"], "employee");
        assert_eq!(decode(EVENT_VERSION, &text)?, event);
        Ok(())
    }

    #[test]
    fn an_unknown_type_or_a_newer_version_is_an_error_not_a_null() {
        assert!(matches!(
            decode(EVENT_VERSION, r#"{"type":"person.teleported"}"#),
            Err(DecodeError::Payload(_))
        ));
        assert!(matches!(
            decode(EVENT_VERSION, "not json"),
            Err(DecodeError::Payload(_))
        ));
        assert!(matches!(
            decode(EVENT_VERSION + 1, r#"{"type":"person.created"}"#),
            Err(DecodeError::NewerVersion(_))
        ));
    }

    #[test]
    fn a_scope_round_trips_through_its_columns() {
        let id = Uuid::now_v7();
        for scope in [
            Scope::Everyone,
            Scope::Person(id),
            Scope::Group(id),
            Scope::Conversation(id),
        ] {
            let (kind, scope_id) = scope.columns();
            assert_eq!(Scope::from_columns(kind, scope_id), Some(scope));
        }
        assert_eq!(Scope::from_columns("person", None), None);
        assert_eq!(Scope::from_columns("planet", Some(id)), None);
    }
}
