//! Chat: conversations (direct, group conversations, one channel per group), their members with
//! what each has read, messages, their reactions, and files attached to messages.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
    /// `direct`, `group` or `channel`.
    Kind,
    /// Group conversations may carry a name.
    Name,
    /// Direct conversations: the two person ids, lowest first, so a pair has one.
    DirectKey,
    /// Channels: their group; its members are the channel's members.
    GroupId,
    CreatedBy,
    CreatedAt,
    /// Its newest message's time (its creation until then): the conversation list's order.
    LastActivityAt,
}

#[derive(DeriveIden)]
enum ConversationMembers {
    Table,
    ConversationId,
    PersonId,
    JoinedAt,
    /// Left a group conversation (kept for "seen by" and history up to then).
    LeftAt,
    /// The newest message they have read.
    LastReadId,
    LastReadAt,
    Muted,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    ConversationId,
    AuthorId,
    /// The sender's own id for it: a resend with the same one stores nothing new.
    ClientId,
    Body,
    /// The message it answers, quoted.
    ReplyTo,
    CreatedAt,
    EditedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum MessageReactions {
    Table,
    MessageId,
    PersonId,
    Reaction,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Attachments {
    Table,
    MessageId,
}

/// A mention in a message is told about with its conversation and message.
#[derive(DeriveIden)]
enum Notifications {
    Table,
    ConversationId,
    MessageId,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
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

fn references(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Conversations::Table)
                    .col(
                        ColumnDef::new(Conversations::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Conversations::Kind)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Conversations::Name).string_len(200).null())
                    .col(
                        ColumnDef::new(Conversations::DirectKey)
                            .string_len(80)
                            .null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Conversations::GroupId)
                            .uuid()
                            .null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Conversations::CreatedBy).uuid().null())
                    .col(timestamp(Conversations::CreatedAt, true))
                    .col(timestamp(Conversations::LastActivityAt, true))
                    .foreign_key(&mut references(
                        (Conversations::Table, Conversations::GroupId),
                        (Groups::Table, Groups::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ConversationMembers::Table)
                    .col(
                        ColumnDef::new(ConversationMembers::ConversationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConversationMembers::PersonId)
                            .uuid()
                            .not_null(),
                    )
                    .col(timestamp(ConversationMembers::JoinedAt, true))
                    .col(timestamp(ConversationMembers::LeftAt, false))
                    .col(
                        ColumnDef::new(ConversationMembers::LastReadId)
                            .uuid()
                            .null(),
                    )
                    .col(timestamp(ConversationMembers::LastReadAt, false))
                    .col(
                        ColumnDef::new(ConversationMembers::Muted)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .primary_key(
                        Index::create()
                            .col(ConversationMembers::ConversationId)
                            .col(ConversationMembers::PersonId),
                    )
                    .foreign_key(&mut references(
                        (
                            ConversationMembers::Table,
                            ConversationMembers::ConversationId,
                        ),
                        (Conversations::Table, Conversations::Id),
                    ))
                    .foreign_key(&mut references(
                        (ConversationMembers::Table, ConversationMembers::PersonId),
                        (People::Table, People::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_conversations_activity")
                    .table(Conversations::Table)
                    .col(Conversations::LastActivityAt)
                    .col(Conversations::Id)
                    .to_owned(),
            )
            .await?;
        // A person's conversations.
        manager
            .create_index(
                Index::create()
                    .name("idx_conversation_members_person")
                    .table(ConversationMembers::Table)
                    .col(ConversationMembers::PersonId)
                    .col(ConversationMembers::ConversationId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(ColumnDef::new(Messages::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Messages::ConversationId).uuid().not_null())
                    .col(ColumnDef::new(Messages::AuthorId).uuid().not_null())
                    .col(ColumnDef::new(Messages::ClientId).string_len(64).not_null())
                    .col(ColumnDef::new(Messages::Body).text().not_null())
                    .col(ColumnDef::new(Messages::ReplyTo).uuid().null())
                    .col(timestamp(Messages::CreatedAt, true))
                    .col(timestamp(Messages::EditedAt, false))
                    .col(timestamp(Messages::DeletedAt, false))
                    .foreign_key(&mut references(
                        (Messages::Table, Messages::ConversationId),
                        (Conversations::Table, Conversations::Id),
                    ))
                    .foreign_key(&mut references(
                        (Messages::Table, Messages::AuthorId),
                        (People::Table, People::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // History, newest first or around a message: ids are UUIDv7, in order of sending.
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_conversation")
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_client")
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::AuthorId)
                    .col(Messages::ClientId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MessageReactions::Table)
                    .col(
                        ColumnDef::new(MessageReactions::MessageId)
                            .uuid()
                            .not_null(),
                    )
                    .col(ColumnDef::new(MessageReactions::PersonId).uuid().not_null())
                    .col(
                        ColumnDef::new(MessageReactions::Reaction)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(timestamp(MessageReactions::CreatedAt, true))
                    .primary_key(
                        Index::create()
                            .col(MessageReactions::MessageId)
                            .col(MessageReactions::PersonId)
                            .col(MessageReactions::Reaction),
                    )
                    .foreign_key(&mut references(
                        (MessageReactions::Table, MessageReactions::MessageId),
                        (Messages::Table, Messages::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // SQLite adds no foreign key to an existing table; messages are never removed (a
        // deleted one keeps its row), so the reference holds all the same.
        manager
            .alter_table(
                Table::alter()
                    .table(Attachments::Table)
                    .add_column(ColumnDef::new(Attachments::MessageId).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_attachments_message")
                    .table(Attachments::Table)
                    .col(Attachments::MessageId)
                    .to_owned(),
            )
            .await?;
        for column in [Notifications::ConversationId, Notifications::MessageId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Notifications::Table)
                        .add_column(ColumnDef::new(column).uuid().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Notifications::ConversationId, Notifications::MessageId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Notifications::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_attachments_message")
                    .table(Attachments::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Attachments::Table)
                    .drop_column(Attachments::MessageId)
                    .to_owned(),
            )
            .await?;
        for table in [
            MessageReactions::Table.into_iden(),
            Messages::Table.into_iden(),
            ConversationMembers::Table.into_iden(),
            Conversations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
