//! `posts`: what members write in a group.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub group_id: Uuid,
    pub author_id: Uuid,
    /// Markdown, as written; empty once deleted.
    pub body: String,
    pub created_at: ChronoDateTimeUtc,
    pub edited_at: Option<ChronoDateTimeUtc>,
    /// Deleted posts keep their place (and their comments) as "deleted".
    pub deleted_at: Option<ChronoDateTimeUtc>,
    /// Pinned on top of the group's feed (up to three per group).
    pub pinned_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
