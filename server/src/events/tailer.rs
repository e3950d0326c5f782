//! The per-node tailer: every consumer runs on its own task from its own position, reading the
//! outbox in delivery order. One that fails retries with backoff and is reported, while the
//! others go on; one that fell behind retention resynchronises.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::FutureExt;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, Set};
use serde::Serialize;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use super::{Doorbell, Position, StoredEvent};
use crate::entities::event_cursors;

const DEFAULT_BATCH: u64 = 500;
/// The shortest time between two commits of a search index while events keep coming: each
/// commit syncs to disk and starts a segment that must later be merged, so one per moment
/// rather than one per event.
pub const INDEX_COMMIT_INTERVAL: Duration = Duration::from_millis(250);
/// A safety net: even if a doorbell is lost, new events are found within this time.
const IDLE_POLL: Duration = Duration::from_secs(2);
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(30);
/// After the doorbell rings, wait this long for more commits before reading.
const READ_GATHER: Duration = Duration::from_millis(1);
/// The same for consumers that nobody waits on to the millisecond (notifications, caches kept
/// current from other nodes' writes): under a stream of commits (a busy chat) they read a few
/// commits at a time instead of once per commit, which at 200 messages a second was most of
/// the outbox reads of a node.
pub const BACKGROUND_GATHER: Duration = Duration::from_millis(20);
/// An older transaction still running holds later events back: look again when the doorbell
/// rings (it committed events) or soon (it wrote something else).
const HELD_BACK_FIRST: Duration = Duration::from_millis(1);
const HELD_BACK_MAX: Duration = Duration::from_millis(5);

/// Something fed from the outbox: a search index, the realtime hub, notifications.
#[async_trait::async_trait]
pub trait EventConsumer: Send + Sync {
    fn name(&self) -> &str;

    /// The sequence of the last event this consumer has applied (0: none); it receives only
    /// later events.
    async fn position(&self) -> anyhow::Result<i64>;

    /// Applies a batch in delivery order. On error the batch is offered again later.
    async fn apply(&self, batch: &[StoredEvent]) -> anyhow::Result<()>;

    /// The events after this consumer's position were pruned: rebuild from the tables (or
    /// tell clients to), and return the position the rebuilt state reflects.
    async fn resync(&self) -> anyhow::Result<Position>;

    /// Events per read; a consumer that works best on large batches asks for more.
    fn batch_size(&self) -> u64 {
        DEFAULT_BATCH
    }

    /// The shortest time between two batches; events that arrive meanwhile wait and are applied
    /// together (an index that syncs to disk on every commit asks for fewer, larger ones).
    fn min_interval(&self) -> Duration {
        Duration::ZERO
    }

    /// How long to wait for more commits after the doorbell rings, or after finding events
    /// held back by an older transaction, before reading.
    fn gather(&self) -> Duration {
        READ_GATHER
    }
}

/// A consumer cursor persisted in `event_cursors`, for consumers without a store of their own.
#[derive(Clone)]
pub struct DurableCursor {
    db: DatabaseConnection,
    consumer: String,
}

impl DurableCursor {
    pub fn new(db: DatabaseConnection, consumer: impl Into<String>) -> Self {
        DurableCursor {
            db,
            consumer: consumer.into(),
        }
    }

    pub fn connection(&self) -> DatabaseConnection {
        self.db.clone()
    }

    pub async fn load(&self) -> Result<i64, DbErr> {
        Ok(event_cursors::Entity::find_by_id(self.consumer.clone())
            .one(&self.db)
            .await?
            .map_or(0, |row| row.seq))
    }

    pub async fn store<C: ConnectionTrait>(&self, db: &C, seq: i64) -> Result<(), DbErr> {
        event_cursors::Entity::insert(event_cursors::ActiveModel {
            consumer: Set(self.consumer.clone()),
            seq: Set(seq),
            updated_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::column(event_cursors::Column::Consumer)
                .update_columns([event_cursors::Column::Seq, event_cursors::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(db)
        .await
        .map(|_| ())
    }
}

/// One consumer as `/readyz` and `/metrics` show it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ConsumerStatus {
    pub name: String,
    /// The sequence of the last event it applied.
    pub seq: i64,
    #[serde(skip)]
    pub position: Position,
    /// Failures in a row; 0 when its last attempt worked.
    pub failures: u64,
    pub last_error: Option<String>,
    /// How often it had to rebuild because events it needed had been pruned.
    pub resyncs: u64,
}

/// Every consumer's progress on this node.
#[derive(Clone, Debug, Default)]
pub struct TailerProgress {
    pub consumers: Vec<ConsumerStatus>,
    /// Where the node stood when it had no consumers to ask.
    start: Position,
}

impl TailerProgress {
    /// The position every consumer has reached.
    pub fn delivered(&self) -> Position {
        self.consumers
            .iter()
            .map(|consumer| consumer.position)
            .min()
            .unwrap_or(self.start)
    }
}

/// What the rest of the node sees of the tailer: how far each consumer has got.
#[derive(Clone)]
pub struct TailerHandle {
    progress: watch::Receiver<TailerProgress>,
}

impl TailerHandle {
    /// The position every consumer has reached.
    pub fn delivered(&self) -> Position {
        self.progress.borrow().delivered()
    }

    pub fn progress(&self) -> TailerProgress {
        self.progress.borrow().clone()
    }

    /// Waits for the next change of any consumer's progress.
    pub async fn changed(&mut self) {
        let _ = self.progress.changed().await;
    }

    /// Waits until every consumer has passed `position` (false if the tailer stopped).
    pub async fn wait_for(&self, position: Position) -> bool {
        let mut receiver = self.progress.clone();
        receiver
            .wait_for(|progress| progress.delivered() >= position)
            .await
            .is_ok()
    }
}

pub struct Tailer {
    db: DatabaseConnection,
    doorbell: Doorbell,
    consumers: Vec<Arc<dyn EventConsumer>>,
    idle_poll: Duration,
}

impl Tailer {
    pub fn new(db: DatabaseConnection, doorbell: Doorbell) -> Self {
        Tailer {
            db,
            doorbell,
            consumers: Vec::new(),
            idle_poll: IDLE_POLL,
        }
    }

    /// How long to wait for the doorbell before looking anyway.
    pub fn with_idle_poll(mut self, idle_poll: Duration) -> Self {
        self.idle_poll = idle_poll;
        self
    }

    pub fn with_consumer(mut self, consumer: Arc<dyn EventConsumer>) -> Self {
        self.consumers.push(consumer);
        self
    }

    /// Finds every consumer's place in the outbox (resynchronising those whose events were
    /// pruned) and starts one task each.
    pub async fn spawn(
        self,
        shutdown: CancellationToken,
    ) -> anyhow::Result<(TailerHandle, Vec<tokio::task::JoinHandle<()>>)> {
        let mut statuses = Vec::with_capacity(self.consumers.len());
        for consumer in &self.consumers {
            let seq = consumer.position().await?;
            let (position, resyncs) = match super::resolve(&self.db, seq).await? {
                Some(position) => (position, 0),
                None => {
                    tracing::warn!(
                        consumer = consumer.name(),
                        seq,
                        "events after this consumer's position were pruned, resynchronising"
                    );
                    (consumer.resync().await?, 1)
                }
            };
            statuses.push(ConsumerStatus {
                name: consumer.name().to_owned(),
                seq: position.seq,
                position,
                failures: 0,
                last_error: None,
                resyncs,
            });
        }
        let start = super::head(&self.db).await?;
        let (sender, receiver) = watch::channel(TailerProgress {
            consumers: statuses,
            start,
        });
        let sender = Arc::new(sender);
        let mut tasks = Vec::with_capacity(self.consumers.len());
        for (index, consumer) in self.consumers.into_iter().enumerate() {
            let task = ConsumerTask {
                db: self.db.clone(),
                rings: self.doorbell.subscribe(),
                idle_poll: self.idle_poll,
                consumer,
                index,
                progress: sender.clone(),
                shutdown: shutdown.clone(),
            };
            tasks.push(tokio::spawn(task.run()));
        }
        Ok((TailerHandle { progress: receiver }, tasks))
    }
}

struct ConsumerTask {
    db: DatabaseConnection,
    rings: watch::Receiver<u64>,
    idle_poll: Duration,
    consumer: Arc<dyn EventConsumer>,
    index: usize,
    progress: Arc<watch::Sender<TailerProgress>>,
    shutdown: CancellationToken,
}

/// What one step of a consumer's loop did.
enum Step {
    /// Events were applied (or read past); read on at once (or after the consumer's
    /// `min_interval` when `applied`).
    Advanced { applied: bool },
    /// Nothing new: wait for the doorbell.
    Idle,
    /// Newer events wait for an older transaction to finish.
    HeldBack,
}

impl ConsumerTask {
    async fn run(mut self) {
        let name = self.consumer.name().to_owned();
        let mut position = self.status().position;
        let mut retry = RETRY_FIRST;
        let mut held_back = HELD_BACK_FIRST;
        let mut failed = false;
        let min_interval = self.consumer.min_interval();
        let gather = self.consumer.gather();
        let mut last_batch: Option<Instant> = None;
        loop {
            if self.shutdown.is_cancelled() {
                return;
            }
            if let Some(last) = last_batch {
                let due = last + min_interval;
                if due > Instant::now() {
                    tokio::select! {
                        () = self.shutdown.cancelled() => return,
                        () = tokio::time::sleep_until(due) => {}
                    }
                }
            }
            // Mark the doorbell seen before reading, so a ring during the read is not lost.
            self.rings.borrow_and_update();
            let step = AssertUnwindSafe(self.step(&mut position, failed))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err(anyhow::anyhow!("consumer panicked")));
            let wait = match step {
                Ok(step) => {
                    if failed {
                        tracing::info!(consumer = %name, "event consumer recovered");
                        metrics::gauge!("plein_outbox_consumer_failing", "consumer" => name.clone())
                            .set(0.0);
                    }
                    failed = false;
                    retry = RETRY_FIRST;
                    self.update(|status| {
                        status.failures = 0;
                        status.last_error = None;
                    });
                    match step {
                        Step::Advanced { applied } => {
                            held_back = HELD_BACK_FIRST;
                            if applied && !min_interval.is_zero() {
                                last_batch = Some(Instant::now());
                            }
                            continue;
                        }
                        Step::HeldBack => {
                            let wait = held_back.max(gather);
                            held_back = (held_back * 2).min(HELD_BACK_MAX);
                            tokio::select! {
                                () = self.shutdown.cancelled() => return,
                                _ = self.rings.changed() => {}
                                () = tokio::time::sleep(wait) => {}
                            }
                            continue;
                        }
                        Step::Idle => {
                            held_back = HELD_BACK_FIRST;
                            tokio::select! {
                                () = self.shutdown.cancelled() => return,
                                _ = self.rings.changed() => {
                                    // Under a stream of commits, one read per moment instead
                                    // of one per commit.
                                    tokio::time::sleep(gather).await;
                                }
                                () = tokio::time::sleep(self.idle_poll) => {}
                            }
                            continue;
                        }
                    }
                }
                Err(error) => {
                    failed = true;
                    let message = format!("{error:#}");
                    tracing::error!(consumer = %name, error = %message, retry_in_ms = retry.as_millis() as u64, "event consumer failed, will retry");
                    metrics::counter!("plein_outbox_consumer_failures_total", "consumer" => name.clone())
                        .increment(1);
                    metrics::gauge!("plein_outbox_consumer_failing", "consumer" => name.clone())
                        .set(1.0);
                    self.update(|status| {
                        status.failures += 1;
                        status.last_error = Some(message);
                    });
                    let wait = retry;
                    retry = (retry * 2).min(RETRY_MAX);
                    wait
                }
            };
            tokio::select! {
                () = self.shutdown.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Reads one batch after `position` and applies it. After a failure the consumer may have
    /// been down long enough for its events to be pruned, so retention is checked first.
    async fn step(&self, position: &mut Position, after_failure: bool) -> anyhow::Result<Step> {
        if after_failure && *position < super::pruned_through(&self.db).await? {
            tracing::warn!(
                consumer = self.consumer.name(),
                "events this consumer needs were pruned, resynchronising"
            );
            *position = self.consumer.resync().await?;
            self.update(|status| status.resyncs += 1);
            self.publish(*position);
            return Ok(Step::Advanced { applied: false });
        }
        let batch = super::read_after(&self.db, *position, self.consumer.batch_size()).await?;
        let Some(end) = batch.end else {
            return Ok(if batch.held_back {
                Step::HeldBack
            } else {
                Step::Idle
            });
        };
        let applied = !batch.events.is_empty();
        if applied {
            self.consumer.apply(&batch.events).await?;
        }
        *position = end;
        self.publish(end);
        Ok(Step::Advanced { applied })
    }

    fn status(&self) -> ConsumerStatus {
        self.progress.borrow().consumers[self.index].clone()
    }

    fn update(&self, change: impl FnOnce(&mut ConsumerStatus)) {
        let index = self.index;
        self.progress.send_if_modified(|progress| {
            let status = &mut progress.consumers[index];
            let before = (status.failures, status.last_error.clone(), status.resyncs);
            change(status);
            before != (status.failures, status.last_error.clone(), status.resyncs)
        });
    }

    fn publish(&self, position: Position) {
        let index = self.index;
        self.progress.send_modify(|progress| {
            let status = &mut progress.consumers[index];
            status.position = position;
            status.seq = position.seq;
        });
        metrics::gauge!("plein_outbox_consumer_seq", "consumer" => self.consumer.name().to_owned())
            .set(position.seq as f64);
    }
}
