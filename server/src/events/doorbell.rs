//! The doorbell: wakes the tailer when events may have been committed. In-process it is a
//! `Notify`; on PostgreSQL `LISTEN plein_events` rings it for commits made by other nodes.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use sea_orm::sqlx::postgres::PgListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub const NOTIFY_CHANNEL: &str = "plein_events";

#[derive(Clone, Default)]
pub struct Doorbell {
    notify: Arc<Notify>,
}

impl Doorbell {
    pub fn new() -> Self {
        Self::default()
    }

    /// Wakes the tailer; a ring while it is busy is remembered, so none is lost.
    pub fn ring(&self) {
        self.notify.notify_one();
    }

    pub async fn wait(&self) {
        self.notify.notified().await;
    }
}

/// Listens on PostgreSQL for commits by any node and rings the local doorbell. Reconnects on
/// failure; after a reconnect it rings once, since notifications may have been missed.
pub fn spawn_postgres_listener(
    db: &DatabaseConnection,
    doorbell: Doorbell,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let pool = db.get_postgres_connection_pool().clone();
    tokio::spawn(async move {
        loop {
            let listener = async {
                let mut listener = PgListener::connect_with(&pool).await?;
                listener.listen(NOTIFY_CHANNEL).await?;
                Ok::<_, sea_orm::sqlx::Error>(listener)
            }
            .await;
            let mut listener = match listener {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for outbox notifications, retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            };
            doorbell.ring();
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    received = listener.recv() => match received {
                        Ok(_) => doorbell.ring(),
                        Err(error) => {
                            tracing::warn!(%error, "outbox notification listener failed, reconnecting");
                            break;
                        }
                    }
                }
            }
        }
    })
}
