//! `conversation_members`: who is in a conversation, what they have read, whether they muted
//! it. A channel's members are its group's; their rows hold only what they read and muted.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversation_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub conversation_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_id: Uuid,
    pub joined_at: ChronoDateTimeUtc,
    pub left_at: Option<ChronoDateTimeUtc>,
    pub last_read_id: Option<Uuid>,
    pub last_read_at: Option<ChronoDateTimeUtc>,
    pub muted: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
