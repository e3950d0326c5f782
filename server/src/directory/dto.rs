//! Person types shown over the API.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::entities::people;

/// What a person may do: `employee`, `hr` (announcements) or `admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Employee,
    Hr,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Employee => "employee",
            Role::Hr => "hr",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "employee" => Some(Role::Employee),
            "hr" => Some(Role::Hr),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PersonDto {
    pub id: Uuid,
    /// None for someone provisioned without an address (they sign in through single sign-on).
    pub email: Option<String>,
    pub department: Option<String>,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    /// Whether the person can sign in with a password.
    pub has_password: bool,
    /// The language chosen for Plein's screens; `null` follows the browser.
    pub language: Option<Language>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A language Plein's screens speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Nl,
    En,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::Nl => "nl",
            Language::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Language> {
        match code {
            "nl" => Some(Language::Nl),
            "en" => Some(Language::En),
            _ => None,
        }
    }
}

/// `PUT /api/v1/me/language`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LanguageRequest {
    /// `nl`, `en`, or `null` to follow the browser again.
    pub language: Option<Language>,
}

impl From<people::Model> for PersonDto {
    fn from(row: people::Model) -> Self {
        PersonDto {
            id: row.id,
            role: Role::parse(&row.role).unwrap_or(Role::Employee),
            has_password: row.password_hash.is_some(),
            language: row.ui_language.as_deref().and_then(Language::parse),
            email: row.email,
            department: row.department,
            display_name: row.display_name,
            active: row.active,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// The person named by `person.*` events, as they are after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonEvent {
    pub id: Uuid,
    pub email: Option<String>,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
}

impl From<&people::Model> for PersonEvent {
    fn from(row: &people::Model) -> Self {
        PersonEvent {
            id: row.id,
            email: row.email.clone(),
            display_name: row.display_name.clone(),
            role: Role::parse(&row.role).unwrap_or(Role::Employee),
            active: row.active,
        }
    }
}

/// Someone else's directory entry as a colleague sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PersonRef {
    pub id: Uuid,
    pub display_name: String,
}

/// A directory profile.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProfileDto {
    pub id: Uuid,
    pub display_name: String,
    pub given_name: String,
    /// With its particle, as written: "van Rijnsoever".
    pub family_name: String,
    pub preferred_name: Option<String>,
    /// None for someone provisioned without an address.
    pub email: Option<String>,
    pub employee_id: Option<String>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub location: Option<String>,
    pub manager: Option<PersonRef>,
    pub phone: Option<String>,
    pub skills: Vec<String>,
    pub languages: Vec<String>,
    /// Markdown as written.
    pub bio: Option<String>,
    /// The bio rendered to sanitised HTML.
    pub bio_html: Option<String>,
    pub start_date: Option<NaiveDate>,
    /// The 256 px photo; add `&size=64` for the small one.
    pub photo_url: Option<String>,
    pub role: Role,
    pub active: bool,
}

/// What a person may change on their own profile. Absent fields stay; `null` or an empty string
/// clears a text field.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub preferred_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    pub skills: Option<Vec<String>>,
    pub languages: Option<Vec<String>>,
    /// Markdown, at most 2,000 characters.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub bio: Option<Option<String>>,
}

/// Tells a field sent as `null` (Some(None)) from a field not sent (None).
fn present<'de, D>(deserializer: D) -> Result<Option<Option<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<String>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// What was typed: names, title, department, location, skills, email. Empty browses.
    #[param(max_length = 200)]
    pub q: Option<String>,
    pub department: Option<String>,
    pub location: Option<String>,
    pub skill: Option<String>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
}

/// Whether a person may sign in, for the admins' list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PersonStatus {
    Active,
    Inactive,
}

/// The admins' people list: without `q`, `role`, `status` or `department`, everyone in
/// creation order; with any of them, found by the search engine (deactivated people too).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminPeopleQuery {
    /// Names, title, department, location, skills, email, as in colleague search.
    #[param(max_length = 200)]
    pub q: Option<String>,
    #[param(inline)]
    pub role: Option<Role>,
    #[param(inline)]
    pub status: Option<PersonStatus>,
    /// A department exactly as written.
    #[param(max_length = 200)]
    pub department: Option<String>,
    /// Opaque cursor from a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AdminPeoplePage {
    pub items: Vec<PersonDto>,
    /// Pass as `cursor`, with the same filters, to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// How many people match.
    pub total: u64,
    /// Every department anyone is in, for the filter; on the first page only.
    pub departments: Option<Vec<String>>,
}

/// A person as listed: in search hits, the directory and the org chart.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PersonCard {
    pub id: Uuid,
    pub display_name: String,
    pub title: Option<String>,
    pub department: Option<String>,
    pub location: Option<String>,
    pub photo_url: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchFacets {
    pub department: Vec<FacetCount>,
    pub location: Vec<FacetCount>,
    pub skill: Vec<FacetCount>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchResponse {
    pub hits: Vec<PersonCard>,
    /// Everyone who matches, not only the hits shown.
    pub total: usize,
    pub facets: SearchFacets,
}

/// HR-owned fields an admin (later: import and SCIM) may change. Absent fields stay; `null`
/// clears the optional ones.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HrPatch {
    pub email: Option<String>,
    /// The full name as shown; derived from given and family name when only those are sent.
    pub name: Option<String>,
    pub given_name: Option<String>,
    /// With its particle: "van Rijnsoever".
    pub family_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub employee_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub department: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub location: Option<Option<String>>,
    #[serde(default, deserialize_with = "present_id")]
    #[schema(value_type = Option<Uuid>)]
    pub manager_id: Option<Option<Uuid>>,
}

fn present_id<'de, D>(deserializer: D) -> Result<Option<Option<Uuid>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<Uuid>::deserialize(deserializer).map(Some)
}

impl From<people::Model> for PersonCard {
    fn from(row: people::Model) -> Self {
        PersonCard {
            id: row.id,
            display_name: row.display_name,
            title: row.title,
            department: row.department,
            location: row.location,
            photo_url: row
                .photo_version
                .as_deref()
                .map(|version| super::photos::url(row.id, version)),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PhotoQuery {
    /// 256 (default) or 64 pixels square.
    pub size: Option<u32>,
    /// The version from `photo_url`; with it the answer may be cached for good.
    pub v: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BrowseQuery {
    pub department: Option<String>,
    pub location: Option<String>,
    /// Opaque cursor from a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
}

/// Where someone sits: managers up to the top, direct reports, and peers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrgChart {
    pub person: PersonCard,
    /// Direct manager first, the top of the organisation last.
    pub managers: Vec<PersonCard>,
    pub reports: Vec<PersonCard>,
    /// Others with the same manager.
    pub peers: Vec<PersonCard>,
}
