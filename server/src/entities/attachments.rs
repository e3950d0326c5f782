//! `attachments`: files attached to a post, a comment, an announcement or a chat message; the
//! content is in the blob store.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attachments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub uploader_id: Uuid,
    pub file_name: String,
    /// Sniffed from the content.
    pub content_type: String,
    pub size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub blob_key: String,
    pub thumbnail_key: Option<String>,
    pub post_id: Option<Uuid>,
    pub comment_id: Option<Uuid>,
    pub announcement_id: Option<Uuid>,
    pub message_id: Option<Uuid>,
    pub position: i32,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
