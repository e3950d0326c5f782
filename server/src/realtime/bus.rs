//! Ephemeral signals between nodes (typing, presence): not in the outbox. On PostgreSQL they
//! travel as `NOTIFY plein_signals` payloads (gathered for a moment, each under the 8,000-byte
//! limit) and arrive through the event listener's connection; on SQLite there is one node and
//! nothing to send.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::frames::PresenceState;
use crate::events::SIGNAL_CHANNEL;

/// Signals sent within this moment share a notification.
const GATHER: Duration = Duration::from_millis(10);
/// A payload stays under PostgreSQL's 8,000-byte limit with room to spare.
const MAX_PAYLOAD: usize = 7_000;

/// One signal from a node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Signal {
    /// `person` types in `conversation` (a channel names its group).
    Typing {
        conversation: Uuid,
        group: Option<Uuid>,
        person: Uuid,
    },
    /// A person's presence on the sending node changed.
    Presence { person: Uuid, state: PresenceState },
    /// The sending node is alive (its presence counts while it is heard from).
    Alive,
    /// A node started: the others send it their people's presence.
    Hello,
    /// The sending node's people who are not offline.
    Snapshot { people: Vec<(Uuid, PresenceState)> },
    /// A person was last seen at this time.
    Seen { person: Uuid, at: DateTime<Utc> },
}

/// Signals from one node, as one payload.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope {
    pub node: Uuid,
    pub signals: Vec<Signal>,
}

/// Where this node's signals go out.
#[derive(Clone)]
pub struct SignalBus {
    pub node: Uuid,
    outgoing: Option<mpsc::UnboundedSender<Signal>>,
}

impl SignalBus {
    /// A bus that sends nothing (SQLite: a single node).
    pub fn local() -> SignalBus {
        SignalBus {
            node: Uuid::now_v7(),
            outgoing: None,
        }
    }

    /// A bus to the other nodes on PostgreSQL, and the task that sends for it.
    pub fn postgres(
        db: DatabaseConnection,
        shutdown: CancellationToken,
    ) -> (SignalBus, tokio::task::JoinHandle<()>) {
        let node = Uuid::now_v7();
        let (sender, receiver) = mpsc::unbounded_channel();
        let task = tokio::spawn(send_loop(db, node, receiver, shutdown));
        (
            SignalBus {
                node,
                outgoing: Some(sender),
            },
            task,
        )
    }

    pub fn send(&self, signal: Signal) {
        if let Some(outgoing) = &self.outgoing {
            let _ = outgoing.send(signal);
        }
    }
}

/// Splits signals into payloads under the size limit.
pub fn payloads(node: Uuid, signals: Vec<Signal>) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut batch: Vec<Signal> = Vec::new();
    let mut size = 0;
    for signal in signals {
        let signal_size = serde_json::to_string(&signal).map_or(0, |text| text.len() + 1);
        if !batch.is_empty() && size + signal_size > MAX_PAYLOAD {
            payloads.extend(encode(node, std::mem::take(&mut batch)));
            size = 0;
        }
        size += signal_size;
        batch.push(signal);
    }
    if !batch.is_empty() {
        payloads.extend(encode(node, batch));
    }
    payloads
}

fn encode(node: Uuid, signals: Vec<Signal>) -> Option<String> {
    serde_json::to_string(&Envelope { node, signals }).ok()
}

async fn send_loop(
    db: DatabaseConnection,
    node: Uuid,
    mut receiver: mpsc::UnboundedReceiver<Signal>,
    shutdown: CancellationToken,
) {
    loop {
        let first = tokio::select! {
            () = shutdown.cancelled() => return,
            signal = receiver.recv() => match signal {
                Some(signal) => signal,
                None => return,
            },
        };
        tokio::time::sleep(GATHER).await;
        let mut signals = vec![first];
        while let Ok(signal) = receiver.try_recv() {
            signals.push(signal);
        }
        for payload in payloads(node, signals) {
            let sent = db
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [SIGNAL_CHANNEL.into(), payload.into()],
                ))
                .await;
            if let Err(error) = sent {
                metrics::counter!("plein_signals_lost_total").increment(1);
                tracing::warn!(%error, "cannot send signals to the other nodes");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_signals_are_split_into_payloads_under_the_limit_and_read_back() -> anyhow::Result<()> {
        let node = Uuid::now_v7();
        let signals: Vec<Signal> = (0..2_000)
            .map(|_| Signal::Presence {
                person: Uuid::now_v7(),
                state: PresenceState::Online,
            })
            .collect();
        let payloads = payloads(node, signals.clone());
        assert!(payloads.len() > 1);
        let mut back = Vec::new();
        for payload in &payloads {
            assert!(payload.len() < 8_000, "{}", payload.len());
            let envelope: Envelope = serde_json::from_str(payload)?;
            assert_eq!(envelope.node, node);
            back.extend(envelope.signals);
        }
        assert_eq!(back, signals);
        Ok(())
    }
}
