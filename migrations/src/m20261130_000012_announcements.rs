//! HR announcements and the people each reaches, fixed when it is published, with when they
//! opened and acknowledged it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Announcements {
    Table,
    Id,
    AuthorId,
    /// `nl` or `en`: the language of `title` and `body`.
    Language,
    Title,
    Body,
    /// The same in the other language, when HR wrote it.
    TranslationTitle,
    TranslationBody,
    /// JSON list; empty: every department.
    Departments,
    /// JSON list; empty: every location.
    Locations,
    RequiresAck,
    CommentsEnabled,
    PublishAt,
    ExpiresAt,
    DueAt,
    PublishedAt,
    /// When the automatic reminder before `due_at` went out.
    RemindedAt,
    /// Raised by a material change, which asks everyone to acknowledge again.
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AnnouncementRecipients {
    Table,
    AnnouncementId,
    PersonId,
    /// Where the person worked when the announcement reached them, for the statistics.
    Department,
    Location,
    ReachedAt,
    OpenedAt,
    AcknowledgedAt,
}

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
}

fn timestamp(column: impl IntoIden, required: bool) -> ColumnDef {
    let mut column = ColumnDef::new(column);
    column.timestamp_with_time_zone();
    if required {
        column.not_null();
    } else {
        column.null();
    }
    column
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Announcements::Table)
                    .col(
                        ColumnDef::new(Announcements::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Announcements::AuthorId).uuid().null())
                    .col(
                        ColumnDef::new(Announcements::Language)
                            .string_len(2)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Announcements::Title)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Announcements::Body).text().not_null())
                    .col(
                        ColumnDef::new(Announcements::TranslationTitle)
                            .string_len(200)
                            .null(),
                    )
                    .col(ColumnDef::new(Announcements::TranslationBody).text().null())
                    .col(ColumnDef::new(Announcements::Departments).text().not_null())
                    .col(ColumnDef::new(Announcements::Locations).text().not_null())
                    .col(
                        ColumnDef::new(Announcements::RequiresAck)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Announcements::CommentsEnabled)
                            .boolean()
                            .not_null(),
                    )
                    .col(timestamp(Announcements::PublishAt, false))
                    .col(timestamp(Announcements::ExpiresAt, false))
                    .col(timestamp(Announcements::DueAt, false))
                    .col(timestamp(Announcements::PublishedAt, false))
                    .col(timestamp(Announcements::RemindedAt, false))
                    .col(ColumnDef::new(Announcements::Version).integer().not_null())
                    .col(timestamp(Announcements::CreatedAt, true))
                    .col(timestamp(Announcements::UpdatedAt, true))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Announcements::Table, Announcements::AuthorId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AnnouncementRecipients::Table)
                    .col(
                        ColumnDef::new(AnnouncementRecipients::AnnouncementId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AnnouncementRecipients::PersonId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AnnouncementRecipients::Department)
                            .string_len(200)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(AnnouncementRecipients::Location)
                            .string_len(200)
                            .null(),
                    )
                    .col(timestamp(AnnouncementRecipients::ReachedAt, true))
                    .col(timestamp(AnnouncementRecipients::OpenedAt, false))
                    .col(timestamp(AnnouncementRecipients::AcknowledgedAt, false))
                    .primary_key(
                        Index::create()
                            .col(AnnouncementRecipients::AnnouncementId)
                            .col(AnnouncementRecipients::PersonId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                AnnouncementRecipients::Table,
                                AnnouncementRecipients::AnnouncementId,
                            )
                            .to(Announcements::Table, Announcements::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                AnnouncementRecipients::Table,
                                AnnouncementRecipients::PersonId,
                            )
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_announcement_recipients_person")
                    .table(AnnouncementRecipients::Table)
                    .col(AnnouncementRecipients::PersonId)
                    .col(AnnouncementRecipients::AnnouncementId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(AnnouncementRecipients::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Announcements::Table).to_owned())
            .await
    }
}
