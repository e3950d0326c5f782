//! The socket's frames: JSON text frames `{"type": …}`, documented in the OpenAPI document's
//! components (`ServerFrame`, `ClientFrame`) and used through generated types by the client.
//! Durable frames carry the event's `seq`; a client resumes with the last one it saw.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::chat::dto::ConversationKind;
use crate::groups::policy::MemberState;

/// Close codes the server uses (besides the protocol's own: 1001 going away, 1003 a binary
/// frame, 1008 policy, 1009 a frame over 64 KiB).
pub mod close {
    /// The person's session ended (logout, revoked, deactivated): sign in again.
    pub const SESSION_ENDED: u16 = 4001;
    /// The client fell behind (its send queue filled): reconnect with `since`.
    pub const TOO_SLOW: u16 = 4008;
    /// No answer to two pings in a row.
    pub const HEARTBEAT_MISSED: u16 = 4009;
    /// The node is shutting down: reconnect (to any node) with `since`.
    pub const GOING_AWAY: u16 = 1001;
    pub const BINARY_REFUSED: u16 = 1003;
    pub const TOO_BIG: u16 = 1009;
}

/// Whether someone is there: `online` if any of their tabs on any node is active, `away`
/// if their tabs are all hidden or idle for 5 minutes, else `offline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PresenceState {
    Offline,
    Away,
    Online,
}

/// What a tab says about its person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TabState {
    /// Visible and used.
    Online,
    /// Hidden, or no activity for 5 minutes.
    Away,
}

/// At most this many people watched for presence by one socket.
pub const MAX_WATCHED: usize = 500;

/// A message as chat frames carry it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageFrame {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub author_id: Uuid,
    /// As written (empty once deleted).
    pub body: String,
    /// Rendered and sanitised, mentions as profile links.
    pub html: String,
    pub client_id: String,
    pub reply_to: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted: bool,
}

/// What the server sends.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type")]
pub enum ServerFrame {
    /// First frame on every socket, after any replay: `seq` is where the socket stands now,
    /// `resumed` whether the missed events were replayed.
    #[serde(rename = "hello")]
    Hello {
        seq: i64,
        person_id: Uuid,
        resumed: bool,
    },
    /// The events since `since` cannot be replayed (older than the retention window, or from
    /// the future): reload what is shown, then go on from `seq`.
    #[serde(rename = "resync")]
    Resync { seq: i64, reason: String },
    /// A client frame was refused; the socket stays open.
    #[serde(rename = "error")]
    Error { code: String, message: String },
    #[serde(rename = "pong")]
    Pong,
    /// Someone is typing in a conversation of mine (not stored; no `seq`).
    #[serde(rename = "typing")]
    Typing {
        conversation_id: Uuid,
        person_id: Uuid,
    },
    /// The presence of someone I watch (`presence.watch`), now or as it changes (no `seq`).
    #[serde(rename = "presence")]
    Presence {
        person_id: Uuid,
        state: PresenceState,
        /// When they were last connected, once they are offline (none: not seen yet).
        last_seen: Option<DateTime<Utc>>,
    },
    #[serde(rename = "post.created")]
    PostCreated {
        seq: i64,
        post_id: Uuid,
        group_id: Uuid,
        author_id: Uuid,
    },
    #[serde(rename = "post.updated")]
    PostUpdated {
        seq: i64,
        post_id: Uuid,
        group_id: Uuid,
        author_id: Uuid,
    },
    #[serde(rename = "post.deleted")]
    PostDeleted {
        seq: i64,
        post_id: Uuid,
        group_id: Uuid,
        author_id: Uuid,
    },
    #[serde(rename = "comment.created")]
    CommentCreated {
        seq: i64,
        post_id: Uuid,
        group_id: Uuid,
        comment_id: Uuid,
        reply_to: Option<Uuid>,
    },
    #[serde(rename = "reaction.changed")]
    ReactionChanged {
        seq: i64,
        post_id: Uuid,
        group_id: Uuid,
        person_id: Uuid,
        reaction: String,
        on: bool,
    },
    /// My standing with a group changed (`state` none: I no longer have one).
    #[serde(rename = "membership.changed")]
    MembershipChanged {
        seq: i64,
        group_id: Uuid,
        state: Option<MemberState>,
    },
    /// A group I am in was renamed, archived or otherwise changed.
    #[serde(rename = "group.updated")]
    GroupUpdated { seq: i64, group_id: Uuid },
    #[serde(rename = "group.deleted")]
    GroupDeleted { seq: i64, group_id: Uuid },
    /// An announcement addressed to me was published (it comes with one new `announcement`
    /// notification: the badge goes up by one).
    #[serde(rename = "announcement.published")]
    AnnouncementPublished { seq: i64, announcement_id: Uuid },
    /// I have not acknowledged an announcement yet and am asked again (with one new
    /// notification).
    #[serde(rename = "announcement.reminder")]
    AnnouncementReminder { seq: i64, announcement_id: Uuid },
    /// An announcement of mine changed; `material`: acknowledge again (with one new
    /// notification).
    #[serde(rename = "announcement.updated")]
    AnnouncementUpdated {
        seq: i64,
        announcement_id: Uuid,
        material: bool,
    },
    #[serde(rename = "announcement.acknowledged")]
    AnnouncementAcknowledged { seq: i64, announcement_id: Uuid },
    /// My notifications changed (made, or read on another tab): the unread count now. The
    /// notifications that announcements bring are counted by their own frames instead.
    #[serde(rename = "notifications.changed")]
    NotificationsChanged { seq: i64, unread: u64 },
    #[serde(rename = "conversation.changed")]
    ConversationChanged {
        seq: i64,
        conversation_id: Uuid,
        kind: ConversationKind,
        added: Vec<Uuid>,
        removed: Vec<Uuid>,
    },
    /// Someone (me on another tab, too) read up to `message_id`.
    #[serde(rename = "conversation.read")]
    ConversationRead {
        seq: i64,
        conversation_id: Uuid,
        person_id: Uuid,
        message_id: Uuid,
    },
    #[serde(rename = "message.created")]
    MessageCreated { seq: i64, message: MessageFrame },
    #[serde(rename = "message.updated")]
    MessageUpdated { seq: i64, message: MessageFrame },
    #[serde(rename = "message.deleted")]
    MessageDeleted { seq: i64, message: MessageFrame },
    #[serde(rename = "message.reaction_changed")]
    MessageReactionChanged {
        seq: i64,
        message_id: Uuid,
        conversation_id: Uuid,
        person_id: Uuid,
        reaction: String,
        on: bool,
    },
}

/// What the client may send. Anything else is answered with an `error` frame.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type")]
pub enum ClientFrame {
    /// Answered with `pong` (the server's own pings are websocket pings).
    #[serde(rename = "ping")]
    Ping,
    /// I am typing in this conversation (send at most every few seconds; more are dropped).
    #[serde(rename = "typing")]
    Typing { conversation_id: Uuid },
    /// This tab is visible and used (`online`) or hidden or idle (`away`).
    #[serde(rename = "presence")]
    Presence { state: TabState },
    /// Tell me the presence of these people (at most 500), now and as it changes; replaces
    /// the earlier list.
    #[serde(rename = "presence.watch")]
    PresenceWatch { person_ids: Vec<Uuid> },
}

impl ServerFrame {
    pub fn error(code: &str, message: impl Into<String>) -> ServerFrame {
        ServerFrame::Error {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}
