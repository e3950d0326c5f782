//! The per-node tailer: reads outbox rows after its cursor in `seq` order and hands them to every
//! registered consumer, each from its own position.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::Doorbell;
use crate::entities::{event_cursors, events};

const BATCH_SIZE: u64 = 500;
/// A safety net: even if a doorbell is lost, new events are found within this time.
const IDLE_POLL: Duration = Duration::from_secs(2);
const RETRY_DELAY: Duration = Duration::from_millis(500);

/// An event as read back from the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub seq: i64,
    pub kind: String,
    pub audience: String,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl From<events::Model> for StoredEvent {
    fn from(row: events::Model) -> Self {
        StoredEvent {
            seq: row.seq,
            kind: row.kind,
            audience: row.audience,
            payload: serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null),
            created_at: row.created_at,
        }
    }
}

/// Something fed from the outbox: the search index, the realtime hub, metrics.
#[async_trait::async_trait]
pub trait EventConsumer: Send + Sync {
    fn name(&self) -> &str;

    /// The last sequence this consumer has applied; it receives only later events.
    async fn position(&self) -> anyhow::Result<i64>;

    /// Applies a batch in order. On error the batch is offered again later.
    async fn apply(&self, batch: &[StoredEvent]) -> anyhow::Result<()>;
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

/// What the rest of the node sees of the tailer: how far it has delivered.
#[derive(Clone)]
pub struct TailerHandle {
    delivered: watch::Receiver<i64>,
}

impl TailerHandle {
    /// The highest sequence delivered to every consumer.
    pub fn delivered(&self) -> i64 {
        *self.delivered.borrow()
    }

    /// Waits until every consumer has received `seq` (or the tailer stopped).
    pub async fn wait_for(&self, seq: i64) -> bool {
        let mut receiver = self.delivered.clone();
        receiver
            .wait_for(|delivered| *delivered >= seq)
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

struct Registered {
    consumer: Arc<dyn EventConsumer>,
    position: i64,
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

    /// Loads every consumer's position and starts the loop.
    pub async fn spawn(
        self,
        shutdown: CancellationToken,
    ) -> anyhow::Result<(TailerHandle, tokio::task::JoinHandle<()>)> {
        let mut registered = Vec::with_capacity(self.consumers.len());
        for consumer in self.consumers {
            let position = consumer.position().await?;
            registered.push(Registered { consumer, position });
        }
        // Without consumers there is nothing to replay: start at the head.
        let start = match registered.iter().map(|entry| entry.position).min() {
            Some(position) => position,
            None => super::head(&self.db).await?,
        };
        let (sender, receiver) = watch::channel(start);
        let db = self.db;
        let doorbell = self.doorbell;
        let idle_poll = self.idle_poll;
        let task = tokio::spawn(async move {
            run(db, doorbell, idle_poll, registered, start, sender, shutdown).await;
        });
        Ok((
            TailerHandle {
                delivered: receiver,
            },
            task,
        ))
    }
}

async fn run(
    db: DatabaseConnection,
    doorbell: Doorbell,
    idle_poll: Duration,
    mut registered: Vec<Registered>,
    mut cursor: i64,
    delivered: watch::Sender<i64>,
    shutdown: CancellationToken,
) {
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        let batch = events::Entity::find()
            .filter(events::Column::Seq.gt(cursor))
            .order_by_asc(events::Column::Seq)
            .limit(BATCH_SIZE)
            .all(&db)
            .await;
        let batch: Vec<StoredEvent> = match batch {
            Ok(rows) => rows.into_iter().map(StoredEvent::from).collect(),
            Err(error) => {
                tracing::warn!(%error, "cannot read the outbox, retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(RETRY_DELAY) => continue,
                }
            }
        };
        let Some(last) = batch.last().map(|event| event.seq) else {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = doorbell.wait() => {}
                () = tokio::time::sleep(idle_poll) => {}
            }
            continue;
        };
        let mut all_applied = true;
        for entry in &mut registered {
            let unseen: Vec<StoredEvent> = batch
                .iter()
                .filter(|event| event.seq > entry.position)
                .cloned()
                .collect();
            if unseen.is_empty() {
                continue;
            }
            match entry.consumer.apply(&unseen).await {
                Ok(()) => entry.position = last,
                Err(error) => {
                    all_applied = false;
                    tracing::error!(consumer = entry.consumer.name(), %error, "event consumer failed, will retry");
                }
            }
        }
        if all_applied {
            cursor = last;
            delivered.send_replace(cursor);
            metrics::gauge!("plein_outbox_delivered_seq").set(cursor as f64);
        } else {
            // Rewind to the slowest consumer; the others skip what they have already applied.
            cursor = registered
                .iter()
                .map(|entry| entry.position)
                .min()
                .unwrap_or(cursor);
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(RETRY_DELAY) => {}
            }
        }
    }
}
