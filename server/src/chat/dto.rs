//! Conversations and messages as the API takes and gives them, and as events name them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::attachments::AttachmentDto;
use crate::directory::dto::PersonCard;
use crate::posts::dto::{Reaction, ReactionCount};

pub const MAX_MESSAGE_CHARS: usize = 10_000;
/// People in a group conversation, its starter included.
pub const MAX_MEMBERS: usize = 100;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_CLIENT_ID_CHARS: usize = 64;
/// Conversations this small show who has seen each message.
pub const SEEN_BY_MEMBERS: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConversationKind {
    /// Two people; one per pair.
    Direct,
    /// Up to 100 people, optionally named; members add others and leave.
    Group,
    /// A group's channel: its members are the group's members.
    Channel,
}

impl ConversationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationKind::Direct => "direct",
            ConversationKind::Group => "group",
            ConversationKind::Channel => "channel",
        }
    }

    pub fn parse(text: &str) -> Option<ConversationKind> {
        [
            ConversationKind::Direct,
            ConversationKind::Group,
            ConversationKind::Channel,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

/// Start a conversation: with one other person, the direct conversation (the existing one if
/// there is one); with more, a new group conversation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateConversation {
    /// The others in it (the caller is added), 1 to 99 people.
    pub person_ids: Vec<Uuid>,
    /// Group conversations only; at most 100 characters.
    pub name: Option<String>,
}

/// Rename a group conversation, or mute or unmute any conversation for the caller.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangeConversation {
    /// Group conversations only; empty removes the name.
    pub name: Option<String>,
    pub muted: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AddMembers {
    pub person_ids: Vec<Uuid>,
}

/// A member as a conversation shows them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationMemberDto {
    pub person: PersonCard,
    /// The newest message they have read ("seen by" in small conversations).
    pub last_read_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationDto {
    pub id: Uuid,
    pub kind: ConversationKind,
    /// A group conversation's name, or a channel's group name.
    pub name: Option<String>,
    /// Channels: their group.
    pub group_id: Option<Uuid>,
    /// Everyone in it but channels' members (those are the group's): the caller too.
    pub members: Vec<ConversationMemberDto>,
    pub member_count: u64,
    /// Messages from others after the caller's last read one (at most 999 are counted).
    pub unread: u64,
    pub muted: bool,
    pub last_read_id: Option<Uuid>,
    pub last_message: Option<MessageDto>,
    pub last_activity_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// The caller's conversations, most recently active first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConversationList {
    pub items: Vec<ConversationDto>,
    pub next_cursor: Option<String>,
    /// Unread messages over all the caller's conversations that are not muted.
    pub unread_total: u64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationQuery {
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

/// Send a message. Resending the same `client_id` to the same conversation answers the message
/// stored the first time and stores nothing new.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SendMessage {
    /// Markdown-lite: emphasis, code, links, `<@person-id>` mentions; at most 10,000
    /// characters. May be empty when it carries files.
    #[schema(max_length = 10000)]
    pub body: String,
    /// The sender's own id for this message: 1 to 64 visible ASCII characters.
    pub client_id: String,
    /// The message it answers (of the same conversation), quoted.
    pub reply_to: Option<Uuid>,
    /// Ids of uploaded files (`POST /api/v1/attachments`), at most 10.
    #[serde(default)]
    pub attachments: Vec<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EditMessage {
    #[schema(max_length = 10000)]
    pub body: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReadRequest {
    /// The newest message read; reading never moves backwards.
    pub message_id: Uuid,
}

/// The message another one answers, as quoted under it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuotedMessage {
    pub id: Uuid,
    pub author_id: Uuid,
    /// Its text (empty once deleted), cut to 200 characters.
    pub excerpt: String,
    pub deleted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageDto {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub author_id: Uuid,
    pub author: PersonCard,
    /// As written (empty once deleted).
    pub body: String,
    /// Rendered and sanitised, mentions as profile links.
    pub html: String,
    pub client_id: String,
    pub reply_to: Option<QuotedMessage>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted: bool,
    pub reactions: Vec<ReactionCount>,
    pub my_reactions: Vec<Reaction>,
    pub attachments: Vec<AttachmentDto>,
}

/// A stretch of a conversation's history, oldest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessagePage {
    pub items: Vec<MessageDto>,
    /// Older messages exist: ask with `before` = the first item's id.
    pub has_older: bool,
    /// Newer messages exist: ask with `after` = the last item's id.
    pub has_newer: bool,
}

/// At most one of `before`, `after` and `around`; none gives the newest messages.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Messages older than this one.
    pub before: Option<Uuid>,
    /// Messages newer than this one.
    pub after: Option<Uuid>,
    /// This message with the ones around it (half before, half after).
    pub around: Option<Uuid>,
    /// 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

/// The conversation named by chat events: enough to route them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationEvent {
    pub id: Uuid,
    pub kind: ConversationKind,
    /// Channels: their group, whose members receive its events.
    pub group_id: Option<Uuid>,
}

/// A message as `message.*` events carry it (the body too: the hub sends it without a read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEvent {
    pub id: Uuid,
    pub conversation: ConversationEvent,
    pub author_id: Uuid,
    pub client_id: String,
    /// Empty once deleted.
    pub body: String,
    pub reply_to: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    /// The people it mentions (checked when sent).
    #[serde(default)]
    pub mentions: Vec<Uuid>,
}

/// Search the messages of my conversations.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageSearchQuery {
    /// Words of messages (one typo forgiven from five letters; the last word also as a
    /// prefix). Without words nothing is found.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only this conversation.
    pub conversation_id: Option<Uuid>,
    /// Only by this person.
    pub author: Option<Uuid>,
    pub cursor: Option<String>,
    /// Page size, 1 to 50 (default 20).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u64>,
}

/// Messages found, newest first, with the conversations they are in (each once).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessageSearchResults {
    pub items: Vec<MessageDto>,
    pub conversations: Vec<ConversationDto>,
    pub next_cursor: Option<String>,
    /// Matches in all (the page and the rest).
    pub total: u64,
}
