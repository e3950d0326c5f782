//! `groups`: work and casual groups, public, private or secret.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "groups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    /// Markdown, as written.
    pub description: String,
    /// `work` or `casual`.
    pub kind: String,
    /// `public`, `private` or `secret`.
    pub visibility: String,
    /// `everyone` (every member posts) or `admins`.
    pub posting: String,
    /// The cover image's key in the blob store.
    pub cover_key: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    /// Archived groups stay readable and take no new posts.
    pub archived_at: Option<ChronoDateTimeUtc>,
    /// Deleted groups are gone for everyone.
    pub deleted_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
