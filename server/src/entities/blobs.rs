//! `blobs`: every stored file, which store holds it, its size and content hash.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "blobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// `fs`, `postgres` or `s3`.
    pub store: String,
    pub size: i64,
    /// Hex SHA-256 of the content: its ETag.
    pub sha256: String,
    pub content_type: String,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
