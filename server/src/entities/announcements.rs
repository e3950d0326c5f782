//! `announcements`: what HR tells (parts of) the company, optionally asking for acknowledgement.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "announcements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub author_id: Option<Uuid>,
    /// `nl` or `en`: the language of `title` and `body`.
    pub language: String,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub translation_title: Option<String>,
    pub translation_body: Option<String>,
    /// JSON list of departments; empty: all.
    pub departments: String,
    /// JSON list of locations; empty: all.
    pub locations: String,
    pub requires_ack: bool,
    pub comments_enabled: bool,
    pub publish_at: Option<ChronoDateTimeUtc>,
    pub expires_at: Option<ChronoDateTimeUtc>,
    pub due_at: Option<ChronoDateTimeUtc>,
    pub published_at: Option<ChronoDateTimeUtc>,
    /// When the automatic reminder before `due_at` went out.
    pub reminded_at: Option<ChronoDateTimeUtc>,
    pub version: i32,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
