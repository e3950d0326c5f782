//! Single-use links mailed to people (password reset, invitation) and the mail queue that
//! several nodes send from without sending twice.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AccountLinks {
    Table,
    Id,
    PersonId,
    /// `reset` or `invitation`.
    Purpose,
    /// SHA-256 of the secret in the link; the secret itself is only in the mail.
    TokenHash,
    ExpiresAt,
    UsedAt,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum MailQueue {
    Table,
    Id,
    Recipient,
    Subject,
    /// Emptied once sent: a mail may carry a link's secret.
    TextBody,
    HtmlBody,
    Attempts,
    NextAttemptAt,
    /// A node sending it holds it until then.
    ClaimedUntil,
    LastError,
    CreatedAt,
    SentAt,
    FailedAt,
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
                    .table(AccountLinks::Table)
                    .col(
                        ColumnDef::new(AccountLinks::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AccountLinks::PersonId).uuid().not_null())
                    .col(
                        ColumnDef::new(AccountLinks::Purpose)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AccountLinks::TokenHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(timestamp(AccountLinks::ExpiresAt, true))
                    .col(timestamp(AccountLinks::UsedAt, false))
                    .col(timestamp(AccountLinks::CreatedAt, true))
                    .col(ColumnDef::new(AccountLinks::CreatedBy).uuid().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(AccountLinks::Table, AccountLinks::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_account_links_person")
                    .table(AccountLinks::Table)
                    .col(AccountLinks::PersonId)
                    .col(AccountLinks::Purpose)
                    .col(AccountLinks::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MailQueue::Table)
                    .col(
                        ColumnDef::new(MailQueue::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(MailQueue::Recipient)
                            .string_len(320)
                            .not_null(),
                    )
                    .col(ColumnDef::new(MailQueue::Subject).text().not_null())
                    .col(ColumnDef::new(MailQueue::TextBody).text().not_null())
                    .col(ColumnDef::new(MailQueue::HtmlBody).text().not_null())
                    .col(
                        ColumnDef::new(MailQueue::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(timestamp(MailQueue::NextAttemptAt, true))
                    .col(timestamp(MailQueue::ClaimedUntil, false))
                    .col(ColumnDef::new(MailQueue::LastError).text().null())
                    .col(timestamp(MailQueue::CreatedAt, true))
                    .col(timestamp(MailQueue::SentAt, false))
                    .col(timestamp(MailQueue::FailedAt, false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_queue_due")
                    .table(MailQueue::Table)
                    .col(MailQueue::SentAt)
                    .col(MailQueue::FailedAt)
                    .col(MailQueue::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MailQueue::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AccountLinks::Table).to_owned())
            .await
    }
}
