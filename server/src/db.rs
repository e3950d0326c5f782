//! Database connection (SQLite or PostgreSQL by URL scheme), pragmas, migrations and write
//! transactions.

use std::time::Duration;

use anyhow::Context;
use plein_migrations::{Migrator, MigratorTrait};
use sea_orm::sea_query::extension::postgres::PgFunc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

use crate::config::Config;

/// Advisory lock key held while migrating, so several nodes starting at once migrate one by one.
const MIGRATION_LOCK_KEY: i64 = 0x706c_6569_6e00_0001;

/// SQLite's largest memory map on Linux (2 GiB): the whole database of a large company.
const SQLITE_MMAP_BYTES: u64 = 2_147_418_112;
/// Page cache per connection, in KiB (a negative `cache_size` counts KiB).
const SQLITE_CACHE_KIB: i64 = -16_384;

/// Opens the pool. SQLite gets WAL, a busy timeout and foreign keys; its parent directory is
/// created when missing.
pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    if config.is_sqlite() {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("cannot create data directory {}", config.data_dir.display())
        })?;
        if let Some(parent) = sqlite_file(&config.database_url).and_then(|path| {
            std::path::Path::new(&path)
                .parent()
                .map(std::path::Path::to_path_buf)
        }) && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(&parent)
                .with_context(|| format!("cannot create directory {}", parent.display()))?;
        }
    }
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .max_connections(config.database_max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        // A ping before every use doubles the round trips of a one-query request (a search's
        // token lookup); only a connection idle for a while is checked before it is handed out.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|sqlite| {
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .create_if_missing(true)
                // Pages are read from the operating system's cache in place instead of copied
                // by a system call each, which at a million posts is most of a feed's time.
                .pragma("mmap_size", SQLITE_MMAP_BYTES.to_string())
                .pragma("cache_size", SQLITE_CACHE_KIB.to_string())
        });
    let db = Database::connect(options).await.with_context(|| {
        format!(
            "cannot connect to the database ({})",
            redact(&config.database_url)
        )
    })?;
    Ok(db)
}

/// Applies pending migrations. On PostgreSQL an advisory lock serialises nodes that start
/// together.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            // The advisory lock is held by one session; run everything on one pooled connection.
            let pool = db.get_postgres_connection_pool();
            let mut connection = pool
                .acquire()
                .await
                .context("cannot acquire a connection")?;
            sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(MIGRATION_LOCK_KEY)
                .execute(&mut *connection)
                .await
                .context("cannot take the migration lock")?;
            let result = Migrator::up(db, None).await;
            sea_orm::sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(MIGRATION_LOCK_KEY)
                .execute(&mut *connection)
                .await
                .context("cannot release the migration lock")?;
            result.context("migration failed")
        }
        _ => Migrator::up(db, None).await.context("migration failed"),
    }
}

/// Begins a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`, so concurrent writers
/// queue on the busy timeout instead of failing with "database is locked" on upgrade.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            db.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await
        }
        _ => db.begin().await,
    }
}

/// `column` is one of `ids`. PostgreSQL gets one array parameter (`= ANY($1)`), so a lookup's
/// statement reads the same whatever the number of ids: it is parsed and planned once per
/// connection and then served from the prepared-statement cache, where an `IN` list of each new
/// length would be a new statement (a describe round trip and a plan each time, pushing others
/// out of the cache). SQLite has no arrays and gets the `IN` list.
pub fn one_of(
    backend: DbBackend,
    column: impl sea_orm::ColumnTrait,
    ids: impl IntoIterator<Item = uuid::Uuid>,
) -> Expr {
    let ids: Vec<uuid::Uuid> = ids.into_iter().collect();
    let column = Expr::col(column.as_column_ref());
    match backend {
        DbBackend::Postgres => column.eq(PgFunc::any(Expr::val(ids))),
        _ => column.is_in(ids),
    }
}

/// Checks the database answers.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT 1",
    ))
    .await
    .map(|_| ())
}

fn sqlite_file(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    if path.is_empty() || path == ":memory:" {
        None
    } else {
        Some(path.to_owned())
    }
}

/// The URL with any password removed, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::posts;
    use sea_orm::{EntityTrait as _, QueryFilter as _, QueryTrait as _};

    fn lookup(backend: DbBackend, count: usize) -> String {
        let ids = (0..count).map(|_| uuid::Uuid::now_v7());
        posts::Entity::find()
            .filter(one_of(backend, posts::Column::Id, ids))
            .build(backend)
            .sql
    }

    #[test]
    fn postgres_looks_ids_up_with_one_statement_text_whatever_their_number() {
        let one = lookup(DbBackend::Postgres, 1);
        assert!(one.ends_with(r#"WHERE "posts"."id" = ANY($1)"#), "{one}");
        assert_eq!(one, lookup(DbBackend::Postgres, 40));
    }

    #[test]
    fn sqlite_looks_ids_up_with_a_list() {
        assert!(lookup(DbBackend::Sqlite, 3).ends_with(r#"WHERE "posts"."id" IN (?, ?, ?)"#));
    }
}
