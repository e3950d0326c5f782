//! Upgrading a database that holds people: the migration that makes addresses optional keeps
//! every row, the rows that point at people, and the foreign keys themselves.

use std::sync::Arc;

use plein_migrations::{Migrator, MigratorTrait};
use plein_server::config::Config;
use plein_server::db;
use plein_tests::{TestDatabase, test_raw_config};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};
use uuid::Uuid;

/// The migrations before people could be without an address.
const BEFORE_OPTIONAL_ADDRESSES: u32 = 7;

/// `$1, $2, …` on PostgreSQL, `?` on SQLite.
fn placeholders(backend: DbBackend, count: usize) -> String {
    (1..=count)
        .map(|n| match backend {
            DbBackend::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn run(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> anyhow::Result<u64> {
    let backend = db.get_database_backend();
    Ok(db
        .execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .rows_affected())
}

async fn insert_person(
    db: &DatabaseConnection,
    id: Uuid,
    email: Option<&str>,
    manager: Option<Uuid>,
) -> anyhow::Result<()> {
    let backend = db.get_database_backend();
    let now = chrono::Utc::now();
    let sql = format!(
        "INSERT INTO people (id, email, email_normalized, display_name, role, active, created_at, \
         updated_at, given_name, family_name, skills, languages, sort_name, manager_id) \
         VALUES ({})",
        placeholders(backend, 14)
    );
    run(
        db,
        &sql,
        vec![
            id.into(),
            email.map(str::to_owned).into(),
            email.map(str::to_lowercase).into(),
            "Anne de Vries".into(),
            "employee".into(),
            true.into(),
            now.into(),
            now.into(),
            "Anne".into(),
            "de Vries".into(),
            "[]".into(),
            "[]".into(),
            "vries anne".into(),
            manager.into(),
        ],
    )
    .await?;
    Ok(())
}

async fn insert_session(db: &DatabaseConnection, person: Uuid) -> anyhow::Result<()> {
    let backend = db.get_database_backend();
    let now = chrono::Utc::now();
    let sql = format!(
        "INSERT INTO sessions (id, person_id, token_hash, created_at, last_seen_at, expires_at) \
         VALUES ({})",
        placeholders(backend, 6)
    );
    run(
        db,
        &sql,
        vec![
            Uuid::now_v7().into(),
            person.into(),
            Uuid::now_v7().to_string().into(),
            now.into(),
            now.into(),
            (now + chrono::TimeDelta::days(1)).into(),
        ],
    )
    .await?;
    Ok(())
}

async fn count(db: &DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

#[tokio::test]
async fn making_addresses_optional_keeps_people_sessions_managers_and_foreign_keys()
-> anyhow::Result<()> {
    let dir = Arc::new(tempfile::tempdir()?);
    let database = TestDatabase::create(dir.clone()).await?;
    let config = Config::from_raw(test_raw_config(&dir, &database.url))?;
    let connection = db::connect(&config).await?;
    Migrator::up(&connection, Some(BEFORE_OPTIONAL_ADDRESSES)).await?;

    let manager = Uuid::now_v7();
    let report = Uuid::now_v7();
    insert_person(&connection, manager, Some("Manager@plein.example"), None).await?;
    insert_person(
        &connection,
        report,
        Some("report@plein.example"),
        Some(manager),
    )
    .await?;
    insert_session(&connection, report).await?;
    assert!(
        insert_person(&connection, Uuid::now_v7(), None, None)
            .await
            .is_err(),
        "before the migration an address is required"
    );

    db::migrate(&connection).await?;

    assert_eq!(count(&connection, "SELECT count(*) FROM people").await?, 2);
    assert_eq!(
        count(&connection, "SELECT count(*) FROM sessions").await?,
        1
    );
    assert_eq!(
        count(
            &connection,
            "SELECT count(*) FROM people WHERE manager_id IS NOT NULL"
        )
        .await?,
        1
    );
    // Someone without an address can now be stored; addresses stay unique.
    insert_person(&connection, Uuid::now_v7(), None, None).await?;
    insert_person(&connection, Uuid::now_v7(), None, None).await?;
    assert!(
        insert_person(
            &connection,
            Uuid::now_v7(),
            Some("manager@plein.example"),
            None
        )
        .await
        .is_err(),
        "a second person with the same address is refused"
    );
    // The foreign keys still hold: no session for nobody, and a person's sessions go with them.
    assert!(insert_session(&connection, Uuid::now_v7()).await.is_err());
    let backend = connection.get_database_backend();
    let delete = format!("DELETE FROM people WHERE id = {}", placeholders(backend, 1));
    assert_eq!(run(&connection, &delete, vec![report.into()]).await?, 1);
    assert_eq!(
        count(&connection, "SELECT count(*) FROM sessions").await?,
        0
    );
    Ok(())
}
