//! SCIM user names and people without an address: `userName` is any unique string (compared
//! without case), and a person provisioned without an email address signs in through single
//! sign-on later. `email` and `email_normalized` become optional; `user_name` holds the name an
//! identity provider gave, and one unique index over `coalesce(user_name_normalized,
//! email_normalized)` keeps the names SCIM shows (the given name, else the address) unique.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseExecutor, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum People {
    Table,
    Email,
    EmailNormalized,
    UserName,
    UserNameNormalized,
}

/// The index behind `userName` lookups and uniqueness.
const USER_NAME_INDEX: &str = "CREATE UNIQUE INDEX idx_people_user_name \
     ON people ((coalesce(user_name_normalized, email_normalized)))";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => sqlite_make_email_optional(manager).await?,
            _ => {
                manager
                    .alter_table(
                        Table::alter()
                            .table(People::Table)
                            .modify_column(ColumnDef::new(People::Email).string_len(320).null())
                            .modify_column(
                                ColumnDef::new(People::EmailNormalized)
                                    .string_len(320)
                                    .null(),
                            )
                            .to_owned(),
                    )
                    .await?;
            }
        }
        manager
            .alter_table(
                Table::alter()
                    .table(People::Table)
                    .add_column(ColumnDef::new(People::UserName).string_len(320).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(People::Table)
                    .add_column(
                        ColumnDef::new(People::UserNameNormalized)
                            .string_len(320)
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        let backend = manager.get_database_backend();
        manager
            .get_connection()
            .execute_raw(Statement::from_string(backend, USER_NAME_INDEX))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .get_connection()
            .execute_raw(Statement::from_string(
                backend,
                "DROP INDEX IF EXISTS idx_people_user_name",
            ))
            .await?;
        for column in [People::UserNameNormalized, People::UserName] {
            manager
                .alter_table(
                    Table::alter()
                        .table(People::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// SQLite cannot drop a NOT NULL constraint in place; the table is rebuilt the way its manual
/// describes (foreign keys off on one connection, new table, copy, swap, indexes back, check,
/// foreign keys on), so rows that point at people (sessions, managers) keep pointing at them.
async fn sqlite_make_email_optional(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use sea_orm_migration::sea_orm::sqlx::{self, Row as _};

    let DatabaseExecutor::Connection(db) = manager.get_connection() else {
        return Err(DbErr::Migration(
            "rebuilding the people table needs its own connection, not a transaction".to_owned(),
        ));
    };
    let error = |error: sqlx::Error| DbErr::Migration(format!("rebuilding people: {error}"));
    let mut connection = db
        .get_sqlite_connection_pool()
        .acquire()
        .await
        .map_err(error)?;
    let table_sql: String =
        sqlx::query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'people'")
            .fetch_one(&mut *connection)
            .await
            .map_err(error)?
            .try_get(0)
            .map_err(error)?;
    let index_sql: Vec<String> = sqlx::query(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'people' \
         AND sql IS NOT NULL",
    )
    .fetch_all(&mut *connection)
    .await
    .map_err(error)?
    .iter()
    .map(|row| row.try_get::<String, _>(0))
    .collect::<Result<_, _>>()
    .map_err(error)?;
    let mut new_sql = table_sql.clone();
    for (from, to) in [
        (
            "\"email\" varchar(320) NOT NULL",
            "\"email\" varchar(320) NULL",
        ),
        (
            "\"email_normalized\" varchar(320) NOT NULL UNIQUE",
            "\"email_normalized\" varchar(320) NULL UNIQUE",
        ),
    ] {
        if !new_sql.contains(from) {
            return Err(DbErr::Migration(format!(
                "the people table does not have the expected column {from}: {table_sql}"
            )));
        }
        new_sql = new_sql.replacen(from, to, 1);
    }
    let new_sql = new_sql.replacen(
        "CREATE TABLE \"people\"",
        "CREATE TABLE \"people_rebuilt\"",
        1,
    );
    if !new_sql.contains("people_rebuilt") {
        return Err(DbErr::Migration(format!(
            "unexpected people table definition: {table_sql}"
        )));
    }

    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *connection)
        .await
        .map_err(error)?;
    let rebuilt = async {
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *connection)
            .await?;
        let steps = async {
            // The table's own definition read back from SQLite, with two constraints relaxed.
            sqlx::query(sqlx::AssertSqlSafe(new_sql.as_str()))
                .execute(&mut *connection)
                .await?;
            sqlx::query("INSERT INTO people_rebuilt SELECT * FROM people")
                .execute(&mut *connection)
                .await?;
            sqlx::query("DROP TABLE people")
                .execute(&mut *connection)
                .await?;
            sqlx::query("ALTER TABLE people_rebuilt RENAME TO people")
                .execute(&mut *connection)
                .await?;
            for sql in &index_sql {
                sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .execute(&mut *connection)
                    .await?;
            }
            let broken = sqlx::query("PRAGMA foreign_key_check")
                .fetch_all(&mut *connection)
                .await?;
            if broken.is_empty() {
                Ok(())
            } else {
                Err(sqlx::Error::Protocol(format!(
                    "{} rows would point at nothing after the rebuild",
                    broken.len()
                )))
            }
        }
        .await;
        match steps {
            Ok(()) => {
                sqlx::query("COMMIT").execute(&mut *connection).await?;
                Ok(())
            }
            Err(failure) => {
                let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
                Err(failure)
            }
        }
    }
    .await;
    let restored = sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *connection)
        .await;
    rebuilt.map_err(error)?;
    restored.map_err(error)?;
    Ok(())
}
