//! Notifications as the API gives them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::directory::dto::PersonCard;

/// The group a notification is about.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupRef {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NotificationDto {
    pub id: Uuid,
    /// `mention`, `comment` (on my post), `reply` (to my comment), `reaction` (to my post, aggregated),
    /// `join_request` (to a group I manage), `request_approved`, `invitation`, `announcement`
    /// (new, or changed materially), `acknowledgement_reminder`, `message_mention` (in a chat
    /// message).
    pub kind: String,
    pub group: Option<GroupRef>,
    pub post_id: Option<Uuid>,
    pub comment_id: Option<Uuid>,
    pub announcement_id: Option<Uuid>,
    pub conversation_id: Option<Uuid>,
    pub message_id: Option<Uuid>,
    /// Who did it (the latest, when several did).
    pub actor: Option<PersonCard>,
    /// How many others did the same: "Sanne and 3 others".
    pub others: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub read: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<NotificationDto>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// Unread notifications in all.
    pub unread: u64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

/// Marks notifications read: the ones named, or all of them.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct MarkReadRequest {
    /// Leave out to mark every notification read.
    #[schema(max_items = 500)]
    pub ids: Option<Vec<Uuid>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UnreadCount {
    pub unread: u64,
}

/// A person's unread notifications, as `notifications.changed` events carry them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonUnread {
    pub person_id: Uuid,
    pub unread: u64,
}
