//! The doorbell: wakes this node's consumers when events may have been committed. In-process it
//! is a counter every consumer task watches. On PostgreSQL a notifier tells other nodes after
//! local commits (coalesced, outside the writing transactions, so writers never queue on
//! NOTIFY's commit lock), and a listener on its own connection rings the local doorbell for
//! commits made elsewhere.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;
use uuid::Uuid;

pub const NOTIFY_CHANNEL: &str = "plein_events";
/// Each node sends itself a heartbeat here; one that stops arriving means a dead listener.
pub const HEARTBEAT_CHANNEL: &str = "plein_heartbeat";
/// Ephemeral signals between nodes (typing, presence), handed to a [`SignalSink`].
pub const SIGNAL_CHANNEL: &str = "plein_signals";

/// Takes the signals other nodes send.
pub trait SignalSink: Send + Sync {
    fn received(&self, payload: &str);
    /// The listener (re)connected: signals sent meanwhile were lost.
    fn connected(&self);
}

/// For listeners with no use for signals (tools, tests of the outbox).
pub struct NoSignals;

impl SignalSink for NoSignals {
    fn received(&self, _payload: &str) {}
    fn connected(&self) {}
}

const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);
/// Silence for this long (three heartbeats) rebuilds the listener.
const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(30);
const RETRY_FIRST: Duration = Duration::from_millis(200);
/// The shortest gap between two notifications from one node.
const NOTIFY_GATHER: Duration = Duration::from_millis(1);
const RETRY_MAX: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Doorbell {
    local: Arc<watch::Sender<u64>>,
    remote: Arc<Notify>,
}

impl Default for Doorbell {
    fn default() -> Self {
        Doorbell {
            local: Arc::new(watch::Sender::new(0)),
            remote: Arc::new(Notify::new()),
        }
    }
}

impl Doorbell {
    pub fn new() -> Self {
        Self::default()
    }

    /// After a commit that appended events: wakes this node's consumers and, on PostgreSQL,
    /// asks the notifier to tell the other nodes. A ring while they are busy is remembered.
    pub fn ring(&self) {
        self.ring_local();
        self.remote.notify_one();
    }

    /// Wakes this node's consumers only (the listener, for commits made elsewhere).
    pub fn ring_local(&self) {
        self.local
            .send_modify(|rings| *rings = rings.wrapping_add(1));
    }

    /// A receiver that sees every later ring.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.local.subscribe()
    }
}

/// Tells other nodes that events were committed. Rings that arrive while a notification is on
/// its way are folded into the next one.
pub fn spawn_notifier(
    db: DatabaseConnection,
    doorbell: Doorbell,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = doorbell.remote.notified() => {}
            }
            if let Err(error) = notify_other_nodes(&db).await {
                metrics::counter!("plein_outbox_notify_failures_total").increment(1);
                tracing::warn!(%error, "cannot notify other nodes of new events; they find them by polling");
            }
            // Each notification is a small commit of its own; under load, gather the rings of
            // the next moment into one.
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(NOTIFY_GATHER) => {}
            }
        }
    })
}

/// One notification to every node listening (a no-op on SQLite). For commands that write events
/// without a notifier running, such as the CLI.
pub async fn notify_other_nodes<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    if backend != DbBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(Statement::from_string(
        backend,
        format!("SELECT pg_notify('{NOTIFY_CHANNEL}', '')"),
    ))
    .await
    .map(|_| ())
}

/// The listener's state, for `/readyz` and `/metrics`.
#[derive(Clone, Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct ListenerStatus {
    pub connected: bool,
    /// How many times the listener was rebuilt after an error or a missed heartbeat.
    pub rebuilds: u64,
    pub last_error: Option<String>,
}

/// Listens on its own PostgreSQL connection for commits by any node and rings the local
/// doorbell. Rebuilt with backoff on any error and when its own heartbeat stops arriving;
/// after a rebuild or a lost connection it rings once, so consumers catch up from the table.
pub fn spawn_postgres_listener(
    url: String,
    db: DatabaseConnection,
    doorbell: Doorbell,
    signals: Arc<dyn SignalSink>,
    shutdown: CancellationToken,
) -> (watch::Receiver<ListenerStatus>, tokio::task::JoinHandle<()>) {
    let (status, receiver) = watch::channel(ListenerStatus::default());
    let task = tokio::spawn(async move {
        let node = Uuid::now_v7().to_string();
        let mut delay = RETRY_FIRST;
        loop {
            let outcome = tokio::select! {
                () = shutdown.cancelled() => return,
                outcome = listen(&url, &db, &node, &doorbell, signals.as_ref(), &status) => outcome,
            };
            let reason = match outcome {
                Ok(Listened::HeartbeatMissed) => "no heartbeat".to_owned(),
                Ok(Listened::Healthy) => {
                    delay = RETRY_FIRST;
                    "connection closed".to_owned()
                }
                Err(error) => error.to_string(),
            };
            metrics::counter!("plein_outbox_listener_rebuilds_total").increment(1);
            metrics::gauge!("plein_outbox_listener_connected").set(0.0);
            tracing::warn!(reason = %reason, retry_in_ms = delay.as_millis() as u64, "event listener lost, rebuilding");
            status.send_modify(|status| {
                status.connected = false;
                status.rebuilds += 1;
                status.last_error = Some(reason);
            });
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(RETRY_MAX);
        }
    });
    (receiver, task)
}

enum Listened {
    /// It worked for a while before it ended: the next rebuild starts without delay growth.
    Healthy,
    HeartbeatMissed,
}

async fn listen(
    url: &str,
    db: &DatabaseConnection,
    node: &str,
    doorbell: &Doorbell,
    signals: &dyn SignalSink,
    status: &watch::Sender<ListenerStatus>,
) -> anyhow::Result<Listened> {
    let mut listener = PgListener::connect(url).await?;
    listener
        .listen_all([NOTIFY_CHANNEL, HEARTBEAT_CHANNEL, SIGNAL_CHANNEL])
        .await?;
    signals.connected();
    status.send_modify(|status| status.connected = true);
    metrics::gauge!("plein_outbox_listener_connected").set(1.0);
    // Anything committed while no listener ran is in the table.
    doorbell.ring_local();
    let _heartbeat =
        AbortOnDropHandle::new(tokio::spawn(send_heartbeats(db.clone(), node.to_owned())));
    let started = Instant::now();
    loop {
        // Heartbeats arrive every few seconds on a live listener; silence means it is dead.
        // Waiting is never cancelled otherwise, so no notification is cut in half.
        let Ok(received) = tokio::time::timeout(HEARTBEAT_TIMEOUT, listener.try_recv()).await
        else {
            return Ok(Listened::HeartbeatMissed);
        };
        match received? {
            Some(notification) if notification.channel() == HEARTBEAT_CHANNEL => {}
            Some(notification) if notification.channel() == SIGNAL_CHANNEL => {
                signals.received(notification.payload());
            }
            Some(_) => doorbell.ring_local(),
            None => {
                // The connection dropped: what was sent meanwhile is lost, the table is not.
                doorbell.ring_local();
                if started.elapsed() > HEARTBEAT_TIMEOUT {
                    return Ok(Listened::Healthy);
                }
                anyhow::bail!("the listener's connection dropped");
            }
        }
    }
}

async fn send_heartbeats(db: DatabaseConnection, node: String) {
    let mut every = tokio::time::interval(HEARTBEAT_EVERY);
    loop {
        every.tick().await;
        send_heartbeat(&db, &node).await;
    }
}

async fn send_heartbeat(db: &DatabaseConnection, node: &str) {
    let sent = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [HEARTBEAT_CHANNEL.into(), node.into()],
        ))
        .await;
    if let Err(error) = sent {
        tracing::warn!(%error, "cannot send the event listener's heartbeat");
    }
}
