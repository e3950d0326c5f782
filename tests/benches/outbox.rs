//! Outbox benchmark. Two measurements per database:
//! - throughput: 16 writers appending and committing as fast as they can, with the tailer of
//!   the same node delivering;
//! - paced delivery: 1,000 events/s for 10 s from one node, timed from each commit until the
//!   tailer of another node (its own pool and listener on PostgreSQL) has delivered it.
//!
//! SQLite always; PostgreSQL too when TEST_DATABASE_URL is set.
//!
//! cargo bench -p plein-tests --bench outbox

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use plein_server::events::{
    self, Doorbell, EventConsumer, Position, StoredEvent, Tailer, TailerHandle,
};
use plein_server::{Config, db};
use plein_tests::{TestDatabase, sample_event, test_raw_config};
use sea_orm::{DatabaseConnection, DbBackend};
use tokio_util::sync::CancellationToken;

const THROUGHPUT_WRITERS: usize = 16;
const THROUGHPUT_EVENTS_PER_WRITER: usize = 500;
const PACED_RATE: u64 = 1_000;
const PACED_SECONDS: u64 = 10;
const PACED_WRITERS: u64 = 4;

#[derive(Default)]
struct Stopwatch {
    delivered: Mutex<HashMap<i64, Instant>>,
}

impl Stopwatch {
    fn record(&self, batch: &[StoredEvent]) -> anyhow::Result<()> {
        let now = Instant::now();
        let mut delivered = self
            .delivered
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?;
        for event in batch {
            delivered.insert(event.seq, now);
        }
        Ok(())
    }
}

/// A node: its own pool, doorbell, notifier and listener (PostgreSQL), and a stopwatch tailer.
struct Node {
    db: DatabaseConnection,
    doorbell: Doorbell,
    stopwatch: Arc<StartingStopwatch>,
    handle: TailerHandle,
}

/// Starts at the outbox head of its node.
struct StartingStopwatch {
    inner: Stopwatch,
    start: i64,
}

#[async_trait::async_trait]
impl EventConsumer for StartingStopwatch {
    fn name(&self) -> &str {
        "bench-stopwatch"
    }

    async fn position(&self) -> anyhow::Result<i64> {
        Ok(self.start)
    }

    async fn apply(&self, batch: &[StoredEvent]) -> anyhow::Result<()> {
        self.inner.record(batch)
    }

    async fn resync(&self) -> anyhow::Result<Position> {
        anyhow::bail!("the benchmark starts on a fresh database")
    }
}

impl Node {
    async fn start(
        database: &TestDatabase,
        dir: &tempfile::TempDir,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<Node> {
        let mut raw = test_raw_config(dir, &database.url);
        raw.database_max_connections = 20;
        let config = Config::from_raw(raw)?;
        let connection = db::connect(&config).await?;
        db::migrate(&connection).await?;
        let doorbell = Doorbell::new();
        if connection.get_database_backend() == DbBackend::Postgres {
            // Both tasks end with the shutdown token.
            drop(events::spawn_postgres_listener(
                database.url.clone(),
                connection.clone(),
                doorbell.clone(),
                std::sync::Arc::new(events::NoSignals),
                shutdown.clone(),
            ));
            drop(events::spawn_notifier(
                connection.clone(),
                doorbell.clone(),
                shutdown.clone(),
            ));
        }
        let stopwatch = Arc::new(StartingStopwatch {
            inner: Stopwatch::default(),
            start: events::head(&connection).await?.seq,
        });
        let (handle, _tasks) = Tailer::new(connection.clone(), doorbell.clone())
            .with_consumer(stopwatch.clone())
            .spawn(shutdown.clone())
            .await?;
        Ok(Node {
            db: connection,
            doorbell,
            stopwatch,
            handle,
        })
    }

    fn latencies(&self, committed: &[(i64, Instant)]) -> anyhow::Result<Vec<Duration>> {
        let delivered = self
            .stopwatch
            .inner
            .delivered
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?;
        let mut latencies: Vec<Duration> = committed
            .iter()
            .filter_map(|(seq, at)| {
                delivered
                    .get(seq)
                    .map(|seen| seen.saturating_duration_since(*at))
            })
            .collect();
        latencies.sort();
        Ok(latencies)
    }
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn commit_one(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    writer: u64,
    n: u64,
) -> anyhow::Result<(i64, Instant)> {
    let tx = db::begin_write(db).await?;
    let seq = events::append(&tx, sample_event(writer, n)).await?;
    tx.commit().await?;
    let at = Instant::now();
    doorbell.ring();
    Ok((seq, at))
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

async fn throughput(label: &str, node: &Node) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for writer in 0..THROUGHPUT_WRITERS as u64 {
        let db = node.db.clone();
        let doorbell = node.doorbell.clone();
        tasks.push(tokio::spawn(async move {
            let mut committed = Vec::with_capacity(THROUGHPUT_EVENTS_PER_WRITER);
            for n in 0..THROUGHPUT_EVENTS_PER_WRITER as u64 {
                committed.push(commit_one(&db, &doorbell, writer, n).await?);
            }
            anyhow::Ok(committed)
        }));
    }
    let mut committed = Vec::new();
    for task in tasks {
        committed.extend(task.await??);
    }
    let load = format!("throughput, {THROUGHPUT_WRITERS} writers × {THROUGHPUT_EVENTS_PER_WRITER}");
    report(label, &load, "same node", started, node, node, &committed).await
}

/// Waits until `reader` has every event `writer` committed, and prints one table row.
async fn report(
    label: &str,
    load: &str,
    place: &str,
    started: Instant,
    writer: &Node,
    reader: &Node,
    committed: &[(i64, Instant)],
) -> anyhow::Result<()> {
    let elapsed = started.elapsed();
    reader
        .handle
        .wait_for(events::head(&writer.db).await?)
        .await;
    let latencies = reader.latencies(committed)?;
    println!(
        "| {label} | {load} | {:.0} events/s | {place} | {:.2} ms | {:.2} ms | {:.2} ms | {}/{} |",
        committed.len() as f64 / elapsed.as_secs_f64(),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
        latencies.len(),
        committed.len(),
    );
    Ok(())
}

/// Each writer commits on its own schedule; the schedules together make `PACED_RATE` per second.
async fn paced(label: &str, writer: &Node, reader: &Node, place: &str) -> anyhow::Result<()> {
    let per_writer = PACED_RATE * PACED_SECONDS / PACED_WRITERS;
    let interval = Duration::from_micros(1_000_000 * PACED_WRITERS / PACED_RATE);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for id in 0..PACED_WRITERS {
        let db = writer.db.clone();
        let doorbell = writer.doorbell.clone();
        let offset = interval.mul_f64(id as f64 / PACED_WRITERS as f64);
        tasks.push(tokio::spawn(async move {
            let mut committed = Vec::with_capacity(per_writer as usize);
            for n in 0..per_writer {
                let due = started + offset + interval * (n as u32);
                tokio::time::sleep_until(due.into()).await;
                committed.push(commit_one(&db, &doorbell, id, n).await?);
            }
            anyhow::Ok(committed)
        }));
    }
    let mut committed = Vec::new();
    for task in tasks {
        committed.extend(task.await??);
    }
    let load = format!("paced {PACED_RATE}/s for {PACED_SECONDS} s");
    report(label, &load, place, started, writer, reader, &committed).await
}

/// Opens every pooled connection and runs each statement once, so the figures are of a
/// running node rather than of connection set-up.
async fn warm_up(node: &Node) -> anyhow::Result<()> {
    let mut tasks = Vec::new();
    for writer in 0..THROUGHPUT_WRITERS as u64 {
        let db = node.db.clone();
        let doorbell = node.doorbell.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..20 {
                commit_one(&db, &doorbell, 1_000 + writer, n).await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    node.handle.wait_for(events::head(&node.db).await?).await;
    Ok(())
}

async fn run(label: &str, database: &TestDatabase) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let dir = tempfile::tempdir()?;
    let node = Node::start(database, &dir, &shutdown).await?;
    warm_up(&node).await?;
    throughput(label, &node).await?;
    if database.is_postgres() {
        let other_dir = tempfile::tempdir()?;
        let other = Node::start(database, &other_dir, &shutdown).await?;
        warm_up(&other).await?;
        node.handle.wait_for(events::head(&node.db).await?).await;
        paced(label, &node, &other, "another node").await?;
    } else {
        paced(label, &node, &node, "same node (one writer process)").await?;
    }
    shutdown.cancel();
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        println!("| backend | load | append+commit rate | delivered on | commit→delivery p50 | p99 | max | delivered |");
        println!("|---|---|---|---|---|---|---|---|");
        let postgres_url = std::env::var("TEST_DATABASE_URL").ok();
        let dir = Arc::new(tempfile::tempdir()?);
        let sqlite = TestDatabase::create_sqlite(dir.clone());
        run("SQLite", &sqlite).await?;
        if let Some(url) = postgres_url {
            let dir = Arc::new(tempfile::tempdir()?);
            let postgres = TestDatabase::create_postgres(&url, dir.clone()).await?;
            run("PostgreSQL", &postgres).await?;
        }
        Ok(())
    })
}
