use std::sync::{Arc, Mutex};
use std::time::Duration;

use plein_server::Config;
use plein_server::db;
use plein_server::entities::events as event_rows;
use plein_server::events::{
    self, Audience, Doorbell, DurableCursor, EventConsumer, NewEvent, StoredEvent, Tailer,
};
use plein_tests::{TestApp, TestDatabase, test_raw_config};
use reqwest::Method;
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const WRITERS: usize = 16;
const EVENTS_PER_WRITER: usize = 200;
/// A bound on failure, not a wait: a correct tailer is done long before.
const GIVE_UP_AFTER: Duration = Duration::from_secs(120);

struct Collector {
    seen: Mutex<Vec<i64>>,
    cursor: DurableCursor,
}

#[async_trait::async_trait]
impl EventConsumer for Collector {
    fn name(&self) -> &str {
        "test-collector"
    }

    async fn position(&self) -> anyhow::Result<i64> {
        Ok(self.cursor.load().await?)
    }

    async fn apply(&self, batch: &[StoredEvent]) -> anyhow::Result<()> {
        {
            let mut seen = self.seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            seen.extend(batch.iter().map(|event| event.seq));
        }
        if let Some(last) = batch.last() {
            self.cursor.store(&self.cursor_db(), last.seq).await?;
        }
        Ok(())
    }
}

impl Collector {
    fn new(db: &DatabaseConnection) -> Arc<Collector> {
        Arc::new(Collector {
            seen: Mutex::new(Vec::new()),
            cursor: DurableCursor::new(db.clone(), "test-collector"),
        })
    }

    fn cursor_db(&self) -> DatabaseConnection {
        self.cursor.connection()
    }

    fn seen(&self) -> Vec<i64> {
        self.seen
            .lock()
            .map(|seen| seen.clone())
            .unwrap_or_default()
    }
}

async fn open_database() -> anyhow::Result<(TestDatabase, DatabaseConnection)> {
    let dir = Arc::new(tempfile::tempdir()?);
    let database = TestDatabase::create(dir.clone()).await?;
    let mut raw = test_raw_config(&dir, &database.url);
    raw.database_max_connections = 24;
    let config = Config::from_raw(raw)?;
    let connection = db::connect(&config).await?;
    db::migrate(&connection).await?;
    Ok((database, connection))
}

async fn all_seqs(db: &DatabaseConnection) -> anyhow::Result<Vec<i64>> {
    Ok(event_rows::Entity::find()
        .order_by_asc(event_rows::Column::Seq)
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.seq)
        .collect())
}

async fn write_events(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    writer: usize,
    count: usize,
) -> anyhow::Result<()> {
    for n in 0..count {
        let tx = db::begin_write(db).await?;
        events::append(
            &tx,
            NewEvent::new(
                "test.event",
                Audience::Everyone,
                json!({"writer": writer, "n": n}),
            ),
        )
        .await?;
        // Hold some transactions open after taking a sequence number, so that without
        // serialised commits a later number would commit first.
        if (writer + n).is_multiple_of(7) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        } else {
            tokio::task::yield_now().await;
        }
        tx.commit().await?;
        doorbell.ring();
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_are_seen_by_the_tailer_exactly_once_and_in_order() -> anyhow::Result<()>
{
    let (_database, db) = open_database().await?;
    let doorbell = Doorbell::new();
    let shutdown = CancellationToken::new();
    let collector = Collector::new(&db);
    let (handle, _task) = Tailer::new(db.clone(), doorbell.clone())
        .with_consumer(collector.clone())
        .spawn(shutdown.clone())
        .await?;

    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let db = db.clone();
        let doorbell = doorbell.clone();
        writers.push(tokio::spawn(async move {
            write_events(&db, &doorbell, writer, EVENTS_PER_WRITER).await
        }));
    }
    for writer in writers {
        writer.await??;
    }
    let committed = all_seqs(&db).await?;
    assert_eq!(committed.len(), WRITERS * EVENTS_PER_WRITER);
    let head = *committed.last().unwrap_or(&0);
    assert!(
        tokio::time::timeout(GIVE_UP_AFTER, handle.wait_for(head)).await?,
        "tailer stopped"
    );
    shutdown.cancel();

    let seen = collector.seen();
    assert_eq!(
        seen, committed,
        "the tailer must deliver every committed event once, in seq order"
    );
    Ok(())
}

#[tokio::test]
async fn a_tailer_resumes_from_its_durable_cursor_after_a_restart() -> anyhow::Result<()> {
    let (_database, db) = open_database().await?;
    let doorbell = Doorbell::new();
    write_events(&db, &doorbell, 0, 10).await?;

    let first_run = CancellationToken::new();
    let first = Collector::new(&db);
    let (handle, task) = Tailer::new(db.clone(), doorbell.clone())
        .with_consumer(first.clone())
        .spawn(first_run.clone())
        .await?;
    let head = events::head(&db).await?;
    assert!(tokio::time::timeout(GIVE_UP_AFTER, handle.wait_for(head)).await?);
    first_run.cancel();
    task.await?;
    assert_eq!(first.seen().len(), 10);

    // Written while no tailer runs.
    write_events(&db, &doorbell, 1, 5).await?;

    let second_run = CancellationToken::new();
    let second = Collector::new(&db);
    let (handle, _task) = Tailer::new(db.clone(), doorbell.clone())
        .with_consumer(second.clone())
        .spawn(second_run.clone())
        .await?;
    let head = events::head(&db).await?;
    assert!(tokio::time::timeout(GIVE_UP_AFTER, handle.wait_for(head)).await?);
    second_run.cancel();

    let all = all_seqs(&db).await?;
    assert_eq!(
        second.seen(),
        all[10..].to_vec(),
        "the restarted tailer delivers only what came after its cursor"
    );
    Ok(())
}

#[tokio::test]
async fn person_changes_append_events_in_the_same_transaction() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let person = app
        .create_person(
            "fenna@plein.example",
            "Fenna",
            "employee",
            "lang genoeg wachtwoord",
        )
        .await?;
    let id = person["id"].as_str().unwrap_or_default();
    app.send_json(
        Method::PUT,
        &format!("/api/v1/admin/people/{id}/role"),
        &json!({"role": "hr"}),
    )
    .await?;
    app.client
        .post(app.url(&format!("/api/v1/admin/people/{id}/deactivate")))
        .send()
        .await?;
    app.client
        .post(app.url(&format!("/api/v1/admin/people/{id}/reactivate")))
        .send()
        .await?;
    app.send_json(
        Method::PATCH,
        &format!("/api/v1/admin/people/{id}"),
        &json!({"name": "Fenna Visser"}),
    )
    .await?;
    // Refused or empty changes append nothing.
    app.send_json(
        Method::PUT,
        &format!("/api/v1/admin/people/{id}/role"),
        &json!({"role": "boss"}),
    )
    .await?;
    app.send_json(
        Method::PATCH,
        &format!("/api/v1/admin/people/{id}"),
        &json!({"name": "Fenna Visser"}),
    )
    .await?;

    let rows = event_rows::Entity::find()
        .order_by_asc(event_rows::Column::Seq)
        .all(&app.handle.state.db)
        .await?;
    let kinds: Vec<&str> = rows.iter().map(|row| row.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "person.created",
            "person.created",
            "person.role_changed",
            "person.deactivated",
            "person.reactivated",
            "person.updated"
        ]
    );
    let role_change: serde_json::Value = serde_json::from_str(&rows[2].payload)?;
    assert_eq!(role_change["person"]["id"], id);
    assert_eq!(role_change["person"]["role"], "hr");
    assert_eq!(role_change["previous_role"], "employee");

    let update: serde_json::Value = serde_json::from_str(&rows[5].payload)?;
    assert_eq!(update["display_name"], "Fenna Visser");

    let head = rows.last().map_or(0, |row| row.seq);
    assert!(tokio::time::timeout(GIVE_UP_AFTER, app.handle.state.tailer.wait_for(head)).await?);
    Ok(())
}

#[tokio::test]
async fn on_postgres_a_commit_on_one_node_wakes_the_tailer_of_another() -> anyhow::Result<()> {
    let (database, writer_db) = open_database().await?;
    if !database.is_postgres() {
        // SQLite has one node by definition; the in-process doorbell is covered above.
        return Ok(());
    }
    // The second node: its own pool, its own doorbell, rung only by LISTEN/NOTIFY. Its idle
    // poll is far beyond the failure bound, so only a notification can wake it.
    let mut raw = test_raw_config(&tempfile::tempdir()?, &database.url);
    raw.database_max_connections = 4;
    let reader_db = db::connect(&Config::from_raw(raw)?).await?;
    let reader_doorbell = Doorbell::new();
    let shutdown = CancellationToken::new();
    let _listener =
        events::spawn_postgres_listener(&reader_db, reader_doorbell.clone(), shutdown.clone());
    let collector = Collector::new(&reader_db);
    let (handle, _task) = Tailer::new(reader_db.clone(), reader_doorbell)
        .with_idle_poll(Duration::from_secs(3600))
        .with_consumer(collector.clone())
        .spawn(shutdown.clone())
        .await?;

    // The writing node rings only its own doorbell, which nobody on the reader listens to.
    // Several rounds: after the first, the reader is idle and only a notification can wake it.
    for round in 0..4 {
        write_events(&writer_db, &Doorbell::new(), round, 3).await?;
        let head = events::head(&writer_db).await?;
        assert!(tokio::time::timeout(GIVE_UP_AFTER, handle.wait_for(head)).await?);
    }
    shutdown.cancel();
    assert_eq!(collector.seen(), all_seqs(&writer_db).await?);
    Ok(())
}
