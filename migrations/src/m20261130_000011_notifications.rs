//! In-app notifications, made by an outbox consumer, and groups people muted.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    PersonId,
    /// `comment`, `reply`, `reaction`, `join_request`, `request_approved`, `invitation`,
    /// `announcement`, `acknowledgement_reminder`.
    Kind,
    GroupId,
    PostId,
    CommentId,
    AnnouncementId,
    /// Who did it (the latest of them, for aggregated reactions).
    ActorId,
    /// How many others did the same ("Sanne and 3 others").
    Others,
    CreatedAt,
    UpdatedAt,
    ReadAt,
}

#[derive(DeriveIden)]
enum GroupMutes {
    Table,
    PersonId,
    GroupId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(
                        ColumnDef::new(Notifications::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Notifications::PersonId).uuid().not_null())
                    .col(
                        ColumnDef::new(Notifications::Kind)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Notifications::GroupId).uuid().null())
                    .col(ColumnDef::new(Notifications::PostId).uuid().null())
                    .col(ColumnDef::new(Notifications::CommentId).uuid().null())
                    .col(ColumnDef::new(Notifications::AnnouncementId).uuid().null())
                    .col(ColumnDef::new(Notifications::ActorId).uuid().null())
                    .col(
                        ColumnDef::new(Notifications::Others)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Notifications::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Notifications::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Notifications::ReadAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Notifications::Table, Notifications::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_person")
                    .table(Notifications::Table)
                    .col(Notifications::PersonId)
                    .col(Notifications::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_unread")
                    .table(Notifications::Table)
                    .col(Notifications::PersonId)
                    .col(Notifications::ReadAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GroupMutes::Table)
                    .col(ColumnDef::new(GroupMutes::PersonId).uuid().not_null())
                    .col(ColumnDef::new(GroupMutes::GroupId).uuid().not_null())
                    .col(
                        ColumnDef::new(GroupMutes::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(GroupMutes::PersonId)
                            .col(GroupMutes::GroupId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(GroupMutes::Table, GroupMutes::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(GroupMutes::Table, GroupMutes::GroupId)
                            .to(Groups::Table, Groups::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(GroupMutes::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Notifications::Table).to_owned())
            .await
    }
}
