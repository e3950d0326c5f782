//! Files attached to posts, comments and announcements (their content is in the blob store),
//! and comments on announcements.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Attachments {
    Table,
    Id,
    UploaderId,
    /// The file's name as uploaded, cleaned.
    FileName,
    /// Sniffed from the content, never taken from the client.
    ContentType,
    Size,
    /// Images: their pixels, and a thumbnail.
    Width,
    Height,
    BlobKey,
    ThumbnailKey,
    /// At most one of these three; none while it waits for its post to be written.
    PostId,
    CommentId,
    AnnouncementId,
    Position,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AnnouncementComments {
    Table,
    Id,
    AnnouncementId,
    AuthorId,
    Body,
    CreatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Posts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Comments {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Announcements {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Attachments::Table)
                    .col(
                        ColumnDef::new(Attachments::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Attachments::UploaderId).uuid().not_null())
                    .col(
                        ColumnDef::new(Attachments::FileName)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Attachments::ContentType)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Attachments::Size).big_integer().not_null())
                    .col(ColumnDef::new(Attachments::Width).integer().null())
                    .col(ColumnDef::new(Attachments::Height).integer().null())
                    .col(
                        ColumnDef::new(Attachments::BlobKey)
                            .string_len(512)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Attachments::ThumbnailKey)
                            .string_len(512)
                            .null(),
                    )
                    .col(ColumnDef::new(Attachments::PostId).uuid().null())
                    .col(ColumnDef::new(Attachments::CommentId).uuid().null())
                    .col(ColumnDef::new(Attachments::AnnouncementId).uuid().null())
                    .col(
                        ColumnDef::new(Attachments::Position)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Attachments::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Attachments::Table, Attachments::UploaderId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Attachments::Table, Attachments::PostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Attachments::Table, Attachments::CommentId)
                            .to(Comments::Table, Comments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Attachments::Table, Attachments::AnnouncementId)
                            .to(Announcements::Table, Announcements::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_attachments_post", Attachments::PostId),
            ("idx_attachments_comment", Attachments::CommentId),
            ("idx_attachments_announcement", Attachments::AnnouncementId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Attachments::Table)
                        .col(column)
                        .col(Attachments::Position)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_attachments_uploaded")
                    .table(Attachments::Table)
                    .col(Attachments::UploaderId)
                    .col(Attachments::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AnnouncementComments::Table)
                    .col(
                        ColumnDef::new(AnnouncementComments::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AnnouncementComments::AnnouncementId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AnnouncementComments::AuthorId)
                            .uuid()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AnnouncementComments::Body).text().not_null())
                    .col(
                        ColumnDef::new(AnnouncementComments::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AnnouncementComments::DeletedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                AnnouncementComments::Table,
                                AnnouncementComments::AnnouncementId,
                            )
                            .to(Announcements::Table, Announcements::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AnnouncementComments::Table, AnnouncementComments::AuthorId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_announcement_comments")
                    .table(AnnouncementComments::Table)
                    .col(AnnouncementComments::AnnouncementId)
                    .col(AnnouncementComments::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AnnouncementComments::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Attachments::Table).to_owned())
            .await
    }
}
