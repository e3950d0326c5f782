use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use plein_server::Config;
use plein_server::db;
use plein_server::directory::dto::Role;
use plein_server::entities::events as event_rows;
use plein_server::events::{
    self, Doorbell, DurableCursor, Event, EventConsumer, Position, Scope, StoredEvent, Tailer,
};
use plein_tests::{TestApp, TestDatabase, sample_event, test_raw_config};
use reqwest::Method;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryOrder, Set,
    Statement,
};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const WRITERS: usize = 16;
const EVENTS_PER_WRITER: usize = 200;
/// A bound on failure, not a wait: a correct tailer is done long before.
const GIVE_UP_AFTER: Duration = Duration::from_secs(120);

struct Collector {
    name: String,
    seen: Mutex<Vec<i64>>,
    cursor: DurableCursor,
    /// While set, every batch fails.
    failing: AtomicBool,
    resyncs: Mutex<u32>,
}

#[async_trait::async_trait]
impl EventConsumer for Collector {
    fn name(&self) -> &str {
        &self.name
    }

    async fn position(&self) -> anyhow::Result<i64> {
        Ok(self.cursor.load().await?)
    }

    async fn apply(&self, batch: &[StoredEvent]) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.failing.load(Ordering::SeqCst),
            "the collector is told to fail"
        );
        {
            let mut seen = self.seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            seen.extend(batch.iter().map(|event| event.seq));
        }
        if let Some(last) = batch.last() {
            self.cursor
                .store(&self.cursor.connection(), last.seq)
                .await?;
        }
        Ok(())
    }

    async fn resync(&self) -> anyhow::Result<Position> {
        *self
            .resyncs
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))? += 1;
        let head = events::safe_head(&self.cursor.connection()).await?;
        self.cursor
            .store(&self.cursor.connection(), head.seq)
            .await?;
        Ok(head)
    }
}

impl Collector {
    fn new(db: &DatabaseConnection) -> Arc<Collector> {
        Self::named(db, "test-collector")
    }

    fn named(db: &DatabaseConnection, name: &str) -> Arc<Collector> {
        Arc::new(Collector {
            name: name.to_owned(),
            seen: Mutex::new(Vec::new()),
            cursor: DurableCursor::new(db.clone(), name),
            failing: AtomicBool::new(false),
            resyncs: Mutex::new(0),
        })
    }

    fn seen(&self) -> Vec<i64> {
        self.seen
            .lock()
            .map(|seen| seen.clone())
            .unwrap_or_default()
    }

    fn resyncs(&self) -> u32 {
        self.resyncs.lock().map(|count| *count).unwrap_or_default()
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

/// Every event's sequence, in delivery order.
async fn all_seqs(db: &DatabaseConnection) -> anyhow::Result<Vec<i64>> {
    Ok(event_rows::Entity::find()
        .order_by_asc(event_rows::Column::Xid)
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
        events::append(&tx, sample_event(writer as u64, n as u64)).await?;
        // Hold some transactions open after taking a sequence number, so that a later number
        // commits first.
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

async fn caught_up(handle: &events::TailerHandle, db: &DatabaseConnection) -> anyhow::Result<()> {
    let head = events::head(db).await?;
    anyhow::ensure!(
        tokio::time::timeout(GIVE_UP_AFTER, handle.wait_for(head)).await?,
        "tailer stopped"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_are_seen_by_the_tailer_exactly_once_and_in_order() -> anyhow::Result<()>
{
    let (_database, db) = open_database().await?;
    let doorbell = Doorbell::new();
    let shutdown = CancellationToken::new();
    let collector = Collector::new(&db);
    let (handle, _tasks) = Tailer::new(db.clone(), doorbell.clone())
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
    caught_up(&handle, &db).await?;
    shutdown.cancel();

    let seen = collector.seen();
    assert_eq!(
        seen, committed,
        "the tailer must deliver every committed event once, in delivery order"
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
    let (handle, tasks) = Tailer::new(db.clone(), doorbell.clone())
        .with_consumer(first.clone())
        .spawn(first_run.clone())
        .await?;
    caught_up(&handle, &db).await?;
    first_run.cancel();
    for task in tasks {
        task.await?;
    }
    assert_eq!(first.seen().len(), 10);

    // Written while no tailer runs.
    write_events(&db, &doorbell, 1, 5).await?;

    let second_run = CancellationToken::new();
    let second = Collector::new(&db);
    let (handle, _tasks) = Tailer::new(db.clone(), doorbell.clone())
        .with_consumer(second.clone())
        .spawn(second_run.clone())
        .await?;
    caught_up(&handle, &db).await?;
    second_run.cancel();

    let all = all_seqs(&db).await?;
    assert_eq!(
        second.seen(),
        all[10..].to_vec(),
        "the restarted tailer delivers only what came after its cursor"
    );
    assert_eq!(second.resyncs(), 0);
    Ok(())
}

#[tokio::test]
async fn a_failing_consumer_retries_and_is_reported_while_the_others_go_on() -> anyhow::Result<()> {
    let (_database, db) = open_database().await?;
    let doorbell = Doorbell::new();
    let broken = Collector::named(&db, "broken");
    broken.failing.store(true, Ordering::SeqCst);
    let healthy = Collector::named(&db, "healthy");
    let shutdown = CancellationToken::new();
    let (handle, _tasks) = Tailer::new(db.clone(), doorbell.clone())
        .with_consumer(broken.clone())
        .with_consumer(healthy.clone())
        .spawn(shutdown.clone())
        .await?;

    write_events(&db, &doorbell, 0, 5).await?;
    let all = all_seqs(&db).await?;
    let last = events::head(&db).await?;
    // The healthy consumer gets everything while the other one fails.
    let mut progress = handle.clone();
    let reported = tokio::time::timeout(GIVE_UP_AFTER, async {
        loop {
            let now = progress.progress();
            let healthy_done = now
                .consumers
                .iter()
                .any(|status| status.name == "healthy" && status.position >= last);
            let broken_reported = now
                .consumers
                .iter()
                .any(|status| status.name == "broken" && status.failures >= 2);
            if healthy_done && broken_reported {
                return now;
            }
            progress.changed().await;
        }
    })
    .await?;
    assert_eq!(healthy.seen(), all);
    assert!(broken.seen().is_empty());
    let broken_status = reported
        .consumers
        .iter()
        .find(|status| status.name == "broken")
        .cloned();
    let broken_status = broken_status.ok_or_else(|| anyhow::anyhow!("no status for broken"))?;
    assert!(
        broken_status
            .last_error
            .as_deref()
            .is_some_and(|error| error.contains("told to fail")),
        "the failure is reported: {broken_status:?}"
    );
    assert!(
        handle.delivered() < last,
        "the node is not caught up while one consumer fails"
    );

    broken.failing.store(false, Ordering::SeqCst);
    caught_up(&handle, &db).await?;
    shutdown.cancel();
    assert_eq!(
        broken.seen(),
        all,
        "after recovering it gets every event once"
    );
    let recovered = handle.progress();
    assert!(
        recovered
            .consumers
            .iter()
            .all(|status| status.failures == 0)
    );
    Ok(())
}

#[tokio::test]
async fn an_event_that_does_not_decode_is_read_past_not_delivered_as_null() -> anyhow::Result<()> {
    let (_database, db) = open_database().await?;
    let doorbell = Doorbell::new();
    write_events(&db, &doorbell, 0, 2).await?;
    let tx = db::begin_write(&db).await?;
    let garbage = event_rows::ActiveModel {
        version: Set(1),
        kind: Set("person.updated".to_owned()),
        scope: Set("everyone".to_owned()),
        scope_id: Set(None),
        payload: Set("{\"type\": \"person.updated\", \"person\": 42}".to_owned()),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    write_events(&db, &doorbell, 1, 2).await?;

    // Delivered first: then no running transaction holds any of them back from a reader.
    let collector = Collector::new(&db);
    let shutdown = CancellationToken::new();
    let (handle, _tasks) = Tailer::new(db.clone(), doorbell.clone())
        .with_consumer(collector.clone())
        .spawn(shutdown.clone())
        .await?;
    caught_up(&handle, &db).await?;
    shutdown.cancel();

    let batch = events::read_after(&db, Position::START, 100).await?;
    let delivered: Vec<i64> = batch.events.iter().map(|event| event.seq).collect();
    let mut expected = all_seqs(&db).await?;
    expected.retain(|seq| *seq != garbage.seq);
    assert_eq!(delivered, expected);
    assert_eq!(
        batch.end.map(|end| end.seq),
        expected.last().copied(),
        "the reader moves past the bad row"
    );
    assert_eq!(collector.seen(), expected);
    Ok(())
}

#[tokio::test]
async fn pruned_events_make_a_reader_that_needed_them_resynchronise() -> anyhow::Result<()> {
    let (_database, db) = open_database().await?;
    let doorbell = Doorbell::new();
    write_events(&db, &doorbell, 0, 6).await?;
    let all = all_seqs(&db).await?;
    let early = all[1];
    let last = all[5];

    // Delivered once, so no transaction still running (in any database of the cluster) holds
    // them back: only such events are pruned.
    let first_reader = Collector::named(&db, "first-reader");
    let first_run = CancellationToken::new();
    let (handle, _tasks) = Tailer::new(db.clone(), doorbell.clone())
        .with_consumer(first_reader)
        .spawn(first_run.clone())
        .await?;
    caught_up(&handle, &db).await?;
    first_run.cancel();

    // Everything written so far is older than a cutoff in the future.
    let cutoff = chrono::Utc::now() + chrono::Duration::seconds(1);
    let removed = events::prune(&db, cutoff).await?;
    assert_eq!(removed, 6);
    assert!(all_seqs(&db).await?.is_empty());
    assert_eq!(events::pruned_through(&db).await?.seq, last);
    assert_eq!(
        events::resolve(&db, early).await?,
        None,
        "a reader that last saw an early event must resync"
    );
    assert_eq!(
        events::resolve(&db, last)
            .await?
            .map(|position| position.seq),
        Some(last),
        "a reader that saw the last pruned event missed nothing"
    );
    assert_eq!(events::head(&db).await?.seq, last);

    // A consumer whose cursor points at a pruned event resynchronises, then follows new ones.
    let stale = Collector::named(&db, "stale");
    stale.cursor.store(&db, early).await?;
    let current = Collector::named(&db, "current");
    current.cursor.store(&db, last).await?;
    let shutdown = CancellationToken::new();
    let (handle, _tasks) = Tailer::new(db.clone(), doorbell.clone())
        .with_consumer(stale.clone())
        .with_consumer(current.clone())
        .spawn(shutdown.clone())
        .await?;
    write_events(&db, &doorbell, 1, 3).await?;
    caught_up(&handle, &db).await?;
    shutdown.cancel();
    assert_eq!(stale.resyncs(), 1);
    assert_eq!(current.resyncs(), 0);
    let after = all_seqs(&db).await?;
    assert_eq!(stale.seen(), after);
    assert_eq!(current.seen(), after);

    // Recent events are kept.
    let kept = events::prune(&db, chrono::Utc::now() - chrono::Duration::seconds(3600)).await?;
    assert_eq!(kept, 0);
    assert_eq!(all_seqs(&db).await?, after);
    Ok(())
}

#[tokio::test]
async fn person_changes_append_typed_events_about_that_person_in_the_same_transaction()
-> anyhow::Result<()> {
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

    let head = events::head(&app.handle.state.db).await?;
    assert!(tokio::time::timeout(GIVE_UP_AFTER, app.handle.state.tailer.wait_for(head)).await?);
    let batch = events::read_after(&app.handle.state.db, Position::START, 100).await?;
    let kinds: Vec<&str> = batch
        .events
        .iter()
        .map(|stored| stored.event.kind())
        .collect();
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
    let fenna: Uuid = id.parse()?;
    for stored in &batch.events[1..] {
        assert_eq!(stored.scope, Scope::Person(fenna), "{:?}", stored.event);
    }
    match &batch.events[2].event {
        Event::PersonRoleChanged {
            person,
            previous_role,
        } => {
            assert_eq!(person.role, Role::Hr);
            assert_eq!(*previous_role, Role::Employee);
        }
        other => anyhow::bail!("expected a role change, got {other:?}"),
    }
    match &batch.events[5].event {
        Event::PersonUpdated { person } => assert_eq!(person.display_name, "Fenna Visser"),
        other => anyhow::bail!("expected an update, got {other:?}"),
    }
    let rows = event_rows::Entity::find().all(&app.handle.state.db).await?;
    assert!(
        rows.iter()
            .skip(1)
            .all(|row| row.scope == "person" && row.scope_id == Some(fenna))
    );

    let head = events::head(&app.handle.state.db).await?;
    assert!(tokio::time::timeout(GIVE_UP_AFTER, app.handle.state.tailer.wait_for(head)).await?);
    let ready: serde_json::Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["consumers"][0]["name"], "search-index");
    assert_eq!(ready["consumers"][0]["failures"], 0);
    assert_eq!(ready["outbox_delivered"], head.seq);
    Ok(())
}

/// A second node: its own pool and doorbell, rung only by LISTEN/NOTIFY. Its idle poll is far
/// beyond the failure bound, so only a notification can wake it.
async fn second_node(
    database: &TestDatabase,
    shutdown: &CancellationToken,
) -> anyhow::Result<(
    DatabaseConnection,
    Arc<Collector>,
    events::TailerHandle,
    tokio::sync::watch::Receiver<events::ListenerStatus>,
)> {
    let mut raw = test_raw_config(&tempfile::tempdir()?, &database.url);
    raw.database_max_connections = 4;
    let reader_db = db::connect(&Config::from_raw(raw)?).await?;
    let reader_doorbell = Doorbell::new();
    let (status, _listener) = events::spawn_postgres_listener(
        database.url.clone(),
        reader_db.clone(),
        reader_doorbell.clone(),
        std::sync::Arc::new(events::NoSignals),
        shutdown.clone(),
    );
    let collector = Collector::new(&reader_db);
    let (handle, _tasks) = Tailer::new(reader_db.clone(), reader_doorbell)
        .with_idle_poll(Duration::from_secs(3600))
        .with_consumer(collector.clone())
        .spawn(shutdown.clone())
        .await?;
    Ok((reader_db, collector, handle, status))
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL=postgres://…"
)]
async fn on_postgres_a_commit_on_one_node_wakes_the_tailer_of_another() -> anyhow::Result<()> {
    let (database, writer_db) = open_database().await?;
    anyhow::ensure!(database.is_postgres(), "this test needs PostgreSQL");
    let shutdown = CancellationToken::new();
    let (_reader_db, collector, handle, _status) = second_node(&database, &shutdown).await?;
    // The writing node's notifier tells the others; the reader's own doorbell is never rung.
    let writer_doorbell = Doorbell::new();
    let _notifier =
        events::spawn_notifier(writer_db.clone(), writer_doorbell.clone(), shutdown.clone());
    // Several rounds: after the first, the reader is idle and only a notification can wake it.
    for round in 0..4 {
        write_events(&writer_db, &writer_doorbell, round, 3).await?;
        caught_up(&handle, &writer_db).await?;
    }
    shutdown.cancel();
    assert_eq!(collector.seen(), all_seqs(&writer_db).await?);
    Ok(())
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL=postgres://…"
)]
async fn on_postgres_a_listener_whose_connection_is_killed_is_rebuilt_and_catches_up()
-> anyhow::Result<()> {
    let (database, writer_db) = open_database().await?;
    anyhow::ensure!(database.is_postgres(), "this test needs PostgreSQL");
    let shutdown = CancellationToken::new();
    let (_reader_db, collector, handle, mut status) = second_node(&database, &shutdown).await?;
    tokio::time::timeout(GIVE_UP_AFTER, status.wait_for(|status| status.connected)).await??;

    let killed = writer_db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND query ILIKE 'LISTEN%'",
        ))
        .await?;
    assert_eq!(killed.len(), 1, "one listener connection to kill");
    // Written while the listener may be down, and announced only once: the rebuilt listener
    // must catch up from the table.
    write_events(&writer_db, &Doorbell::new(), 0, 3).await?;
    events::notify_other_nodes(&writer_db).await?;
    tokio::time::timeout(
        GIVE_UP_AFTER,
        status.wait_for(|status| status.rebuilds >= 1 && status.connected),
    )
    .await??;
    caught_up(&handle, &writer_db).await?;
    shutdown.cancel();
    assert_eq!(collector.seen(), all_seqs(&writer_db).await?);
    Ok(())
}
