//! Announcements as the API takes and gives them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::attachments::AttachmentDto;
use crate::directory::dto::PersonCard;

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 20_000;
/// Departments or locations one audience may name.
pub const MAX_AUDIENCE_VALUES: usize = 200;

/// Whom an announcement is for: every department and location when both lists are empty; else
/// people in one of the departments (if any are named) and one of the locations (if any).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Audience {
    #[serde(default)]
    pub departments: Vec<String>,
    #[serde(default)]
    pub locations: Vec<String>,
}

/// The announcement in the other language.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Translation {
    #[schema(max_length = 200)]
    pub title: String,
    #[schema(max_length = 20000)]
    pub body: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateAnnouncementRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Markdown.
    #[schema(min_length = 1, max_length = 20000)]
    pub body: String,
    /// `nl` (default) or `en`: the language of `title` and `body`.
    pub language: Option<String>,
    /// The same in the other language; readers see theirs, falling back to the other.
    pub translation: Option<Translation>,
    #[serde(default)]
    pub audience: Audience,
    #[serde(default)]
    pub requires_ack: bool,
    /// Default true.
    pub comments_enabled: Option<bool>,
    /// Schedules it for this time; without it the announcement is a draft until
    /// `POST …/publish`.
    pub publish_at: Option<DateTime<Utc>>,
    /// Then it leaves the home feed; it stays in the archive.
    pub expires_at: Option<DateTime<Utc>>,
    /// When acknowledgement is due.
    pub due_at: Option<DateTime<Utc>>,
    /// Ids of uploaded files (`POST /api/v1/attachments`), at most 10.
    #[serde(default)]
    pub attachments: Vec<Uuid>,
}

/// Changes; what is left out stays. Once published the audience may only grow (the new people
/// are added), and `material: true` asks everyone to acknowledge again.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateAnnouncementRequest {
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[schema(max_length = 20000)]
    pub body: Option<String>,
    pub translation: Option<Translation>,
    pub audience: Option<Audience>,
    pub requires_ack: Option<bool>,
    pub comments_enabled: Option<bool>,
    pub publish_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    /// Replaces the files it carries.
    pub attachments: Option<Vec<Uuid>>,
    /// A material change (not a correction): acknowledgements start over.
    #[serde(default)]
    pub material: bool,
}

/// Where the caller stands with an announcement addressed to them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Receipt {
    pub opened_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AnnouncementDto {
    pub id: Uuid,
    pub author: Option<PersonCard>,
    /// The language shown: the reader's when it was written in it.
    pub language: String,
    pub title: String,
    pub body: String,
    pub body_html: String,
    /// Languages it was written in.
    pub languages: Vec<String>,
    pub audience: Audience,
    pub requires_ack: bool,
    pub comments_enabled: bool,
    /// `draft`, `scheduled`, `published` or `expired`.
    pub state: String,
    pub publish_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    pub version: i32,
    /// The caller's receipt, when it is addressed to them.
    pub receipt: Option<Receipt>,
    pub attachments: Vec<AttachmentDto>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnnouncementListQuery {
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AudienceCount {
    /// Active people the audience reaches now.
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatRow {
    /// The department or location (empty: none recorded).
    pub value: String,
    pub reached: u64,
    pub opened: u64,
    pub acknowledged: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AnnouncementStats {
    pub reached: u64,
    pub opened: u64,
    pub acknowledged: u64,
    pub by_department: Vec<StatRow>,
    pub by_location: Vec<StatRow>,
    /// Who has not acknowledged yet (required ones): the first 100 in name order; the CSV has
    /// everyone.
    pub not_acknowledged: Vec<PersonCard>,
}

/// Publish now, or (with a later `publish_at`) schedule.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PublishRequest {
    pub publish_at: Option<DateTime<Utc>>,
}

/// A manager's view: their reports (direct and below) that the announcement reached.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TeamStats {
    pub reached: u64,
    pub acknowledged: u64,
    /// In name order.
    pub not_acknowledged: Vec<PersonCard>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AnnouncementCommentRequest {
    #[schema(min_length = 1, max_length = 5000)]
    pub body: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AnnouncementCommentDto {
    pub id: Uuid,
    pub announcement_id: Uuid,
    pub author: PersonCard,
    /// Markdown as written; empty once deleted.
    pub body: String,
    pub body_html: String,
    pub created_at: DateTime<Utc>,
    pub deleted: bool,
}
