//! Reading a person's groups from indexes alone: their memberships carry the group id, and the
//! few deleted groups have an index of their own to be left out by.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GroupMembers {
    Table,
    PersonId,
    State,
    GroupId,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
    DeletedAt,
}

/// Replaced by [`MEMBERSHIP_GROUPS`], which holds the group id as well.
const MEMBERSHIPS: &str = "idx_group_members_person";
const MEMBERSHIP_GROUPS: &str = "idx_group_members_person_group";
const DELETED: &str = "idx_groups_deleted";

fn memberships(name: &str, with_group: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index
        .name(name)
        .table(GroupMembers::Table)
        .col(GroupMembers::PersonId)
        .col(GroupMembers::State);
    if with_group {
        index.col(GroupMembers::GroupId);
    }
    index.to_owned()
}

fn drop(name: &str, table: impl IntoIden) -> IndexDropStatement {
    Index::drop().name(name).table(table).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(memberships(MEMBERSHIP_GROUPS, true))
            .await?;
        manager
            .drop_index(drop(MEMBERSHIPS, GroupMembers::Table))
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(DELETED)
                    .table(Groups::Table)
                    .col(Groups::Id)
                    .and_where(Expr::col(Groups::DeletedAt).is_not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(drop(DELETED, Groups::Table)).await?;
        manager
            .create_index(memberships(MEMBERSHIPS, false))
            .await?;
        manager
            .drop_index(drop(MEMBERSHIP_GROUPS, GroupMembers::Table))
            .await
    }
}
