//! An announcement's statistics (reached, opened, acknowledged per department and location)
//! counted from one index, in its order: no table rows read, no sort.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AnnouncementRecipients {
    Table,
    AnnouncementId,
    Department,
    Location,
    OpenedAt,
    AcknowledgedAt,
}

const INDEX: &str = "idx_announcement_recipients_tally";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(AnnouncementRecipients::Table)
                    .col(AnnouncementRecipients::AnnouncementId)
                    .col(AnnouncementRecipients::Department)
                    .col(AnnouncementRecipients::Location)
                    .col(AnnouncementRecipients::OpenedAt)
                    .col(AnnouncementRecipients::AcknowledgedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(AnnouncementRecipients::Table)
                    .to_owned(),
            )
            .await
    }
}
