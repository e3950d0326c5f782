//! `conversations`: a direct conversation between two people, a group conversation, or a
//! group's channel.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `direct`, `group` or `channel`.
    pub kind: String,
    pub name: Option<String>,
    /// Direct conversations: both person ids, lowest first.
    pub direct_key: Option<String>,
    /// Channels: their group.
    pub group_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub created_at: ChronoDateTimeUtc,
    /// Its newest message's time (its creation until then).
    pub last_activity_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
