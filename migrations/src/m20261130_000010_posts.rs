//! Posts in groups, their earlier versions, comments and reactions.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Posts {
    Table,
    Id,
    GroupId,
    AuthorId,
    Body,
    CreatedAt,
    EditedAt,
    DeletedAt,
    /// Up to three posts per group are pinned on top of its feed.
    PinnedAt,
}

/// A client's `Idempotency-Key` for a post it sent, so a retry stores nothing new.
#[derive(DeriveIden)]
enum PostKeys {
    Table,
    PersonId,
    Key,
    PostId,
    CreatedAt,
}

/// Who a post or comment mentions.
#[derive(DeriveIden)]
enum Mentions {
    Table,
    /// The post or comment.
    SourceId,
    PersonId,
    PostId,
}

#[derive(DeriveIden)]
enum PostVersions {
    Table,
    PostId,
    Version,
    Body,
    EditedBy,
    EditedAt,
}

#[derive(DeriveIden)]
enum Comments {
    Table,
    Id,
    PostId,
    AuthorId,
    /// The comment this one answers; replies are shown flat, quoting it.
    ReplyTo,
    Body,
    CreatedAt,
    EditedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Reactions {
    Table,
    PostId,
    PersonId,
    Reaction,
    CreatedAt,
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
                    .table(Posts::Table)
                    .col(ColumnDef::new(Posts::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Posts::GroupId).uuid().not_null())
                    .col(ColumnDef::new(Posts::AuthorId).uuid().not_null())
                    .col(ColumnDef::new(Posts::Body).text().not_null())
                    .col(timestamp(Posts::CreatedAt, true))
                    .col(timestamp(Posts::EditedAt, false))
                    .col(timestamp(Posts::DeletedAt, false))
                    .col(timestamp(Posts::PinnedAt, false))
                    .foreign_key(&mut references(
                        (Posts::Table, Posts::GroupId),
                        (Groups::Table, Groups::Id),
                    ))
                    .foreign_key(&mut references(
                        (Posts::Table, Posts::AuthorId),
                        (People::Table, People::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // A group's feed, newest first: ids are UUIDv7, so their order is the order of creation.
        manager
            .create_index(
                Index::create()
                    .name("idx_posts_group")
                    .table(Posts::Table)
                    .col(Posts::GroupId)
                    .col(Posts::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_posts_author")
                    .table(Posts::Table)
                    .col(Posts::AuthorId)
                    .col(Posts::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Mentions::Table)
                    .col(ColumnDef::new(Mentions::SourceId).uuid().not_null())
                    .col(ColumnDef::new(Mentions::PersonId).uuid().not_null())
                    .col(ColumnDef::new(Mentions::PostId).uuid().not_null())
                    .primary_key(
                        Index::create()
                            .col(Mentions::SourceId)
                            .col(Mentions::PersonId),
                    )
                    .foreign_key(&mut references(
                        (Mentions::Table, Mentions::PostId),
                        (Posts::Table, Posts::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PostKeys::Table)
                    .col(ColumnDef::new(PostKeys::PersonId).uuid().not_null())
                    .col(ColumnDef::new(PostKeys::Key).string_len(200).not_null())
                    .col(ColumnDef::new(PostKeys::PostId).uuid().not_null())
                    .col(timestamp(PostKeys::CreatedAt, true))
                    // No foreign key to the post: the key is claimed first, in the same
                    // transaction, so a concurrent retry waits for it and finds the post.
                    .primary_key(Index::create().col(PostKeys::PersonId).col(PostKeys::Key))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PostVersions::Table)
                    .col(ColumnDef::new(PostVersions::PostId).uuid().not_null())
                    .col(ColumnDef::new(PostVersions::Version).integer().not_null())
                    .col(ColumnDef::new(PostVersions::Body).text().not_null())
                    .col(ColumnDef::new(PostVersions::EditedBy).uuid().null())
                    .col(timestamp(PostVersions::EditedAt, true))
                    .primary_key(
                        Index::create()
                            .col(PostVersions::PostId)
                            .col(PostVersions::Version),
                    )
                    .foreign_key(&mut references(
                        (PostVersions::Table, PostVersions::PostId),
                        (Posts::Table, Posts::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Comments::Table)
                    .col(ColumnDef::new(Comments::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Comments::PostId).uuid().not_null())
                    .col(ColumnDef::new(Comments::AuthorId).uuid().not_null())
                    .col(ColumnDef::new(Comments::ReplyTo).uuid().null())
                    .col(ColumnDef::new(Comments::Body).text().not_null())
                    .col(timestamp(Comments::CreatedAt, true))
                    .col(timestamp(Comments::EditedAt, false))
                    .col(timestamp(Comments::DeletedAt, false))
                    .foreign_key(&mut references(
                        (Comments::Table, Comments::PostId),
                        (Posts::Table, Posts::Id),
                    ))
                    .foreign_key(&mut references(
                        (Comments::Table, Comments::AuthorId),
                        (People::Table, People::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_comments_post")
                    .table(Comments::Table)
                    .col(Comments::PostId)
                    .col(Comments::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Reactions::Table)
                    .col(ColumnDef::new(Reactions::PostId).uuid().not_null())
                    .col(ColumnDef::new(Reactions::PersonId).uuid().not_null())
                    .col(
                        ColumnDef::new(Reactions::Reaction)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(timestamp(Reactions::CreatedAt, true))
                    .primary_key(
                        Index::create()
                            .col(Reactions::PostId)
                            .col(Reactions::PersonId)
                            .col(Reactions::Reaction),
                    )
                    .foreign_key(&mut references(
                        (Reactions::Table, Reactions::PostId),
                        (Posts::Table, Posts::Id),
                    ))
                    .foreign_key(&mut references(
                        (Reactions::Table, Reactions::PersonId),
                        (People::Table, People::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Reactions::Table.into_iden(),
            Comments::Table.into_iden(),
            PostVersions::Table.into_iden(),
            PostKeys::Table.into_iden(),
            Mentions::Table.into_iden(),
            Posts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
