//! Files (photos today; attachments, covers and exports later) go through one blob store. Each
//! blob's row says which store holds it, so a node can serve every file while `plein blobs
//! migrate` moves them between stores; `blob_chunks` is the `postgres` store itself.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Blobs {
    Table,
    Key,
    Store,
    Size,
    Sha256,
    ContentType,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BlobChunks {
    Table,
    Key,
    Number,
    Data,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Blobs::Table)
                    .col(
                        ColumnDef::new(Blobs::Key)
                            .string_len(512)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Blobs::Store).string_len(16).not_null())
                    .col(ColumnDef::new(Blobs::Size).big_integer().not_null())
                    .col(ColumnDef::new(Blobs::Sha256).string_len(64).not_null())
                    .col(
                        ColumnDef::new(Blobs::ContentType)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Blobs::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_blobs_store")
                    .table(Blobs::Table)
                    .col(Blobs::Store)
                    .col(Blobs::Key)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BlobChunks::Table)
                    .col(ColumnDef::new(BlobChunks::Key).string_len(512).not_null())
                    .col(ColumnDef::new(BlobChunks::Number).integer().not_null())
                    .col(ColumnDef::new(BlobChunks::Data).binary().not_null())
                    .primary_key(Index::create().col(BlobChunks::Key).col(BlobChunks::Number))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BlobChunks::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Blobs::Table).to_owned())
            .await
    }
}
