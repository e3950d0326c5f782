//! Posts, comments and reactions as the API takes and gives them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::attachments::AttachmentDto;
use crate::directory::dto::PersonCard;

pub const MAX_POST_CHARS: usize = 20_000;
pub const MAX_COMMENT_CHARS: usize = 5_000;

/// The fixed set of reactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Reaction {
    Like,
    Love,
    Laugh,
    Celebrate,
    Insightful,
    Sad,
}

impl Reaction {
    pub const ALL: [Reaction; 6] = [
        Reaction::Like,
        Reaction::Love,
        Reaction::Laugh,
        Reaction::Celebrate,
        Reaction::Insightful,
        Reaction::Sad,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reaction::Like => "like",
            Reaction::Love => "love",
            Reaction::Laugh => "laugh",
            Reaction::Celebrate => "celebrate",
            Reaction::Insightful => "insightful",
            Reaction::Sad => "sad",
        }
    }

    pub fn parse(text: &str) -> Option<Reaction> {
        Reaction::ALL
            .into_iter()
            .find(|reaction| reaction.as_str() == text)
    }
}

/// A post or a comment: Markdown.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WriteRequest {
    /// May be empty when the post carries files.
    #[schema(max_length = 20000)]
    pub body: String,
    /// Ids of uploaded files (`POST /api/v1/attachments`), at most 10, in the order shown. On
    /// an edit, leaving it out keeps the files as they are.
    pub attachments: Option<Vec<Uuid>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CommentRequest {
    /// May be empty when the comment carries files.
    #[schema(max_length = 5000)]
    pub body: String,
    /// Ids of uploaded files, at most 10.
    #[serde(default)]
    pub attachments: Vec<Uuid>,
    /// The comment this one answers (of the same post); shown flat, quoting it.
    pub reply_to: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReactionCount {
    pub reaction: Reaction,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PostDto {
    pub id: Uuid,
    pub group_id: Uuid,
    pub author: PersonCard,
    /// Markdown as written; empty once deleted.
    pub body: String,
    /// Rendered and sanitised.
    pub body_html: String,
    pub created_at: DateTime<Utc>,
    /// When it was last edited; shown as "edited".
    pub edited_at: Option<DateTime<Utc>>,
    /// A deleted post with comments keeps its place, without its text.
    pub deleted: bool,
    /// Pinned on top of its group's feed.
    pub pinned: bool,
    pub comment_count: u64,
    /// Only reactions someone gave, in the fixed order.
    pub reactions: Vec<ReactionCount>,
    /// The caller's own reactions.
    pub my_reactions: Vec<Reaction>,
    /// Files it carries, in order (none once deleted).
    pub attachments: Vec<AttachmentDto>,
}

/// A group's feed: its posts, newest first, and on the first page its pinned posts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupFeed {
    pub items: Vec<PostDto>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// Pinned posts (up to three), on the first page only; they are not repeated in `items`.
    pub pinned: Vec<PostDto>,
}

/// Home: the posts of my groups, newest first, and on the first page the announcements pinned
/// for me (unacknowledged required ones first).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HomeFeed {
    pub items: Vec<PostDto>,
    pub next_cursor: Option<String>,
    pub announcements: Vec<crate::announcements::dto::AnnouncementDto>,
}

/// What a post said before an edit or its deletion.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PostVersionDto {
    pub version: i32,
    pub body: String,
    pub edited_by: Option<Uuid>,
    pub edited_at: DateTime<Utc>,
}

/// The comment a reply answers, quoted.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuotedComment {
    pub id: Uuid,
    pub author: PersonCard,
    /// The start of its text (empty when it was deleted).
    pub excerpt: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CommentDto {
    pub id: Uuid,
    pub post_id: Uuid,
    pub author: PersonCard,
    pub body: String,
    pub body_html: String,
    pub reply_to: Option<QuotedComment>,
    pub created_at: DateTime<Utc>,
    pub deleted: bool,
    pub attachments: Vec<AttachmentDto>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Opaque cursor from a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

/// One person's reaction, for "who reacted" lists.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Reactor {
    pub person: PersonCard,
    pub reaction: Reaction,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReactorsQuery {
    /// Only this reaction.
    pub reaction: Option<Reaction>,
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

/// Reaction counts and the caller's own reactions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReactionSummary {
    pub reactions: Vec<ReactionCount>,
    pub my_reactions: Vec<Reaction>,
}

/// The post named by `post.*` events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostEvent {
    pub id: Uuid,
    pub group_id: Uuid,
    pub author_id: Uuid,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PostSearchQuery {
    /// Words of posts and comments (one typo forgiven from five letters; the last word also as
    /// a prefix). Without words nothing is found.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only this group.
    pub group: Option<Uuid>,
    /// Only by this person.
    pub author: Option<Uuid>,
    pub cursor: Option<String>,
    /// Page size, 1 to 50 (default 20).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u64>,
}

/// A post found, or a comment found (with its post).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PostSearchHit {
    pub post: PostDto,
    /// The comment that matched, when it was a comment.
    pub comment: Option<CommentDto>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupFacet {
    pub group_id: Uuid,
    pub name: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuthorFacet {
    pub person: PersonCard,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PostSearchResults {
    /// Best match first.
    pub items: Vec<PostSearchHit>,
    pub next_cursor: Option<String>,
    /// Matches in all (with the group and author filters).
    pub total: u64,
    /// Matches per group and per author (most first), before the group and author filters.
    pub groups: Vec<GroupFacet>,
    pub authors: Vec<AuthorFacet>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PreviewRequest {
    #[schema(max_length = 20000)]
    pub body: String,
}

/// Markdown as a post would show it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PreviewDto {
    pub body_html: String,
}
