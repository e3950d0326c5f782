//! Groups (work and casual; public, private or secret) and who belongs to them: members with a
//! role, and the invitations and join requests still open.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
    Slug,
    Name,
    Description,
    Kind,
    Visibility,
    /// `everyone` (every member) or `admins` (owners and admins only).
    Posting,
    CoverKey,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    ArchivedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum GroupMembers {
    Table,
    GroupId,
    PersonId,
    /// `owner`, `admin` or `member`.
    Role,
    /// `member`, `invited` or `requested`.
    State,
    InvitedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Groups::Table)
                    .col(ColumnDef::new(Groups::Id).uuid().not_null().primary_key())
                    .col(
                        ColumnDef::new(Groups::Slug)
                            .string_len(80)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Groups::Name).string_len(120).not_null())
                    .col(ColumnDef::new(Groups::Description).text().not_null())
                    .col(ColumnDef::new(Groups::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Groups::Visibility).string_len(16).not_null())
                    .col(ColumnDef::new(Groups::Posting).string_len(16).not_null())
                    .col(ColumnDef::new(Groups::CoverKey).string_len(512).null())
                    .col(ColumnDef::new(Groups::CreatedBy).uuid().null())
                    .col(
                        ColumnDef::new(Groups::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Groups::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Groups::ArchivedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Groups::DeletedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Groups::Table, Groups::CreatedBy)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GroupMembers::Table)
                    .col(ColumnDef::new(GroupMembers::GroupId).uuid().not_null())
                    .col(ColumnDef::new(GroupMembers::PersonId).uuid().not_null())
                    .col(ColumnDef::new(GroupMembers::Role).string_len(16).not_null())
                    .col(
                        ColumnDef::new(GroupMembers::State)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(GroupMembers::InvitedBy).uuid().null())
                    .col(
                        ColumnDef::new(GroupMembers::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GroupMembers::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(GroupMembers::GroupId)
                            .col(GroupMembers::PersonId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(GroupMembers::Table, GroupMembers::GroupId)
                            .to(Groups::Table, Groups::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(GroupMembers::Table, GroupMembers::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_group_members_person")
                    .table(GroupMembers::Table)
                    .col(GroupMembers::PersonId)
                    .col(GroupMembers::State)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_group_members_group_state")
                    .table(GroupMembers::Table)
                    .col(GroupMembers::GroupId)
                    .col(GroupMembers::State)
                    .col(GroupMembers::PersonId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_groups_name")
                    .table(Groups::Table)
                    .col(Groups::Name)
                    .col(Groups::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(GroupMembers::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Groups::Table).to_owned())
            .await
    }
}
