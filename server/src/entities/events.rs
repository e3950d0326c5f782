//! `events`: the outbox, the durable log every derived state is fed from.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    /// The writing transaction on PostgreSQL (set by the column default); 0 on SQLite.
    pub xid: i64,
    /// The version of the payload's encoding.
    pub version: i16,
    /// The event's `type`, repeated from the payload for filtering and metrics.
    pub kind: String,
    /// Whom the event concerns: `everyone`, `person`, `group` or `conversation`.
    pub scope: String,
    pub scope_id: Option<Uuid>,
    /// JSON text of the tagged event.
    pub payload: String,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
