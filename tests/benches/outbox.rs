//! Outbox benchmark: append throughput with concurrent writers, and the latency from commit to
//! delivery by the tailer. SQLite always; PostgreSQL too when TEST_DATABASE_URL is set.
//!
//! cargo bench -p plein-tests --bench outbox

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use plein_server::events::{
    self, Audience, Doorbell, EventConsumer, NewEvent, StoredEvent, Tailer,
};
use plein_server::{Config, db};
use plein_tests::{TestDatabase, test_raw_config};
use sea_orm::DatabaseConnection;
use serde_json::json;
use tokio_util::sync::CancellationToken;

const WRITERS: usize = 8;
const EVENTS_PER_WRITER: usize = 500;

#[derive(Default)]
struct Stopwatch {
    delivered: Mutex<HashMap<i64, Instant>>,
}

#[async_trait::async_trait]
impl EventConsumer for Stopwatch {
    fn name(&self) -> &str {
        "bench-stopwatch"
    }

    async fn position(&self) -> anyhow::Result<i64> {
        Ok(0)
    }

    async fn apply(&self, batch: &[StoredEvent]) -> anyhow::Result<()> {
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

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn writer(
    db: DatabaseConnection,
    doorbell: Doorbell,
    id: usize,
) -> anyhow::Result<Vec<(i64, Instant)>> {
    let mut committed = Vec::with_capacity(EVENTS_PER_WRITER);
    for n in 0..EVENTS_PER_WRITER {
        let tx = db::begin_write(&db).await?;
        let seq = events::append(
            &tx,
            NewEvent::new(
                "bench.event",
                Audience::Everyone,
                json!({"writer": id, "n": n}),
            ),
        )
        .await?;
        tx.commit().await?;
        committed.push((seq, Instant::now()));
        doorbell.ring();
    }
    Ok(committed)
}

async fn run(label: &str, database: &TestDatabase, dir: &tempfile::TempDir) -> anyhow::Result<()> {
    let mut raw = test_raw_config(dir, &database.url);
    raw.database_max_connections = 16;
    let config = Config::from_raw(raw)?;
    let connection = db::connect(&config).await?;
    db::migrate(&connection).await?;
    let doorbell = Doorbell::new();
    let stopwatch = Arc::new(Stopwatch::default());
    let shutdown = CancellationToken::new();
    let (handle, _task) = Tailer::new(connection.clone(), doorbell.clone())
        .with_consumer(stopwatch.clone())
        .spawn(shutdown.clone())
        .await?;

    let started = Instant::now();
    let mut tasks = Vec::new();
    for id in 0..WRITERS {
        tasks.push(tokio::spawn(writer(
            connection.clone(),
            doorbell.clone(),
            id,
        )));
    }
    let mut committed = Vec::new();
    for task in tasks {
        committed.extend(task.await??);
    }
    let elapsed = started.elapsed();
    let head = committed.iter().map(|(seq, _)| *seq).max().unwrap_or(0);
    handle.wait_for(head).await;
    shutdown.cancel();

    let delivered = stopwatch
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
    let total = committed.len();
    println!(
        "| {label} | {WRITERS} × {EVENTS_PER_WRITER} | {:.0} events/s | {:.2} ms | {:.2} ms | {:.2} ms | {}/{} |",
        total as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        latencies.len(),
        total,
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        println!("| backend | writers × events | append+commit throughput | commit→delivery p50 | p99 | max | delivered |");
        println!("|---|---|---|---|---|---|---|");
        let postgres_url = std::env::var("TEST_DATABASE_URL").ok();
        let dir = Arc::new(tempfile::tempdir()?);
        let sqlite = TestDatabase::create_sqlite(dir.clone());
        run("SQLite", &sqlite, &dir).await?;
        if let Some(url) = postgres_url {
            let dir = Arc::new(tempfile::tempdir()?);
            let postgres = TestDatabase::create_postgres(&url, dir.clone()).await?;
            run("PostgreSQL", &postgres, &dir).await?;
        }
        Ok(())
    })
}
