//! The outbox, ready for many nodes and the socket hub: events are ordered by the writing
//! transaction (`xid`, then `seq`), say whom they concern in indexed columns (`scope`,
//! `scope_id`) and carry the version of their encoding. Events written in the old shape are
//! dropped and recorded as pruned, so every consumer resynchronises once from the tables.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    Seq,
    Xid,
    Version,
    Scope,
    ScopeId,
    Audience,
}

#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
    UpdatedAt,
}

/// The settings key holding the last position removed from the outbox, as `xid:seq`.
const PRUNED_THROUGH: &str = "outbox.pruned_through";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let head = db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COALESCE(MAX(seq), 0) AS head FROM events",
            ))
            .await?
            .map(|row| row.try_get::<i64>("", "head"))
            .transpose()?
            .unwrap_or(0);
        if head > 0 {
            let insert = Query::insert()
                .into_table(Settings::Table)
                .columns([Settings::Key, Settings::Value, Settings::UpdatedAt])
                .values_panic([
                    PRUNED_THROUGH.into(),
                    format!("0:{head}").into(),
                    Expr::current_timestamp(),
                ])
                .to_owned();
            manager.exec_stmt(insert).await?;
        }
        manager
            .exec_stmt(Query::delete().from_table(Events::Table).to_owned())
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .drop_column(Events::Audience)
                    .to_owned(),
            )
            .await?;
        // SQLite takes one column per ALTER TABLE.
        for column in [
            ColumnDef::new(Events::Xid)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Events::Version)
                .small_integer()
                .not_null()
                .default(1)
                .to_owned(),
            ColumnDef::new(Events::Scope)
                .string_len(16)
                .not_null()
                .default("everyone")
                .to_owned(),
            ColumnDef::new(Events::ScopeId).uuid().null().to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Events::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        if backend == DbBackend::Postgres {
            // Each row records the transaction that wrote it; readers deliver in (xid, seq)
            // order and only below the oldest running transaction, so a late commit is never
            // passed over. SQLite has one writer at a time: there xid stays 0 and seq is
            // commit order.
            db.execute_unprepared(
                "ALTER TABLE events ALTER COLUMN xid SET DEFAULT (pg_current_xact_id()::text::bigint)",
            )
            .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("events_by_position")
                    .table(Events::Table)
                    .col(Events::Xid)
                    .col(Events::Seq)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("events_by_scope")
                    .table(Events::Table)
                    .col(Events::ScopeId)
                    .col(Events::Scope)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for index in ["events_by_position", "events_by_scope"] {
            manager
                .drop_index(Index::drop().name(index).table(Events::Table).to_owned())
                .await?;
        }
        manager
            .exec_stmt(Query::delete().from_table(Events::Table).to_owned())
            .await?;
        for column in [Events::Xid, Events::Version, Events::Scope, Events::ScopeId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Events::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .add_column(
                        ColumnDef::new(Events::Audience)
                            .string_len(128)
                            .not_null()
                            .default("all"),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
