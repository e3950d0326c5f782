//! In-app notifications: made from the outbox by one consumer (never in the request path), read
//! and marked read by the person, and never about what they may not see.
//!
//! On several nodes every node runs the consumer, and one shared cursor row decides who writes:
//! a batch is applied inside a transaction that locks the cursor, skips what another node
//! already applied, and moves the cursor on, so each event makes its notifications once.

pub mod dto;
pub mod maker;
pub mod repo;
pub mod routes;
pub mod service;

/// What a notification is about.
pub mod kind {
    pub const MENTION: &str = "mention";
    /// A mention in a chat message.
    pub const MESSAGE_MENTION: &str = "message_mention";
    pub const COMMENT: &str = "comment";
    pub const REPLY: &str = "reply";
    pub const REACTION: &str = "reaction";
    pub const JOIN_REQUEST: &str = "join_request";
    pub const REQUEST_APPROVED: &str = "request_approved";
    pub const INVITATION: &str = "invitation";
    pub const ANNOUNCEMENT: &str = "announcement";
    pub const REMINDER: &str = "acknowledgement_reminder";
}
