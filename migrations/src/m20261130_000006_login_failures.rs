//! Failed sign-ins, so login limits hold across nodes: counted per account and address, per
//! account, and per address over the last hour.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Id,
    Account,
    Address,
    /// Milliseconds since the Unix epoch: compared and aggregated the same way on both databases.
    FailedAtMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .col(
                        ColumnDef::new(LoginFailures::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(LoginFailures::Account)
                            .string_len(320)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LoginFailures::Address)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LoginFailures::FailedAtMs)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_login_failures_account", LoginFailures::Account),
            ("idx_login_failures_address", LoginFailures::Address),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(LoginFailures::Table)
                        .col(column)
                        .col(LoginFailures::FailedAtMs)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginFailures::Table).to_owned())
            .await
    }
}
