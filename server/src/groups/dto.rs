//! Groups as the API takes and gives them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::policy::{GroupRole, Kind, MemberState, Posting, Visibility};
use crate::directory::dto::PersonCard;

pub const MAX_NAME_CHARS: usize = 120;
pub const MAX_DESCRIPTION_CHARS: usize = 5_000;
pub const MAX_SLUG_CHARS: usize = 80;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateGroupRequest {
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    /// Lower-case letters, digits and dashes; made from the name when left out.
    #[schema(min_length = 2, max_length = 80)]
    pub slug: Option<String>,
    /// Markdown.
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    pub kind: Kind,
    pub visibility: Visibility,
    /// Default `everyone`.
    pub posting: Option<Posting>,
}

/// Changes to a group; what is left out stays.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateGroupRequest {
    #[schema(min_length = 1, max_length = 120)]
    pub name: Option<String>,
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    pub kind: Option<Kind>,
    pub visibility: Option<Visibility>,
    pub posting: Option<Posting>,
    /// Archive (true) or bring back (false): owners and platform admins.
    pub archived: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupDto {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    /// Markdown, as written.
    pub description: String,
    /// The description rendered and sanitised.
    pub description_html: String,
    pub kind: Kind,
    pub visibility: Visibility,
    pub posting: Posting,
    pub archived: bool,
    /// Members (not invitations or requests).
    pub member_count: u64,
    /// The caller's role, when they are a member.
    pub my_role: Option<GroupRole>,
    /// Where the caller stands: member, invited, requested, or none.
    pub my_state: Option<MemberState>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The cover picture (1200×400 JPEG), when it has one.
    pub cover_url: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GroupListQuery {
    /// Words of the name or description (prefixes, one typo forgiven); best match first.
    #[param(max_length = 200)]
    pub q: Option<String>,
    #[param(inline)]
    pub kind: Option<Kind>,
    /// Only groups I am a member of.
    pub mine: Option<bool>,
    /// Opaque cursor from a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestedQuery {
    /// How many, 1 to 50 (default 10).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberListQuery {
    /// `member` (default); owners and admins of the group may ask for `invited` or `requested`.
    #[param(inline)]
    pub state: Option<MemberState>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberDto {
    pub person: PersonCard,
    pub role: GroupRole,
    pub state: MemberState,
    pub since: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct InviteRequest {
    pub person_id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetMemberRoleRequest {
    pub role: GroupRole,
}

/// The group named by `group.*` events, as it is after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupEvent {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub kind: Kind,
    pub visibility: Visibility,
    pub archived: bool,
}
