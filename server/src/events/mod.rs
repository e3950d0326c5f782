//! The outbox: `append` inside the caller's transaction, the per-node tailer that feeds
//! consumers in `seq` order, and the doorbell that wakes it.

mod doorbell;
mod tailer;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, Set, Statement};
use serde::Serialize;
use uuid::Uuid;

pub use doorbell::{Doorbell, NOTIFY_CHANNEL, spawn_postgres_listener};
pub use tailer::{DurableCursor, EventConsumer, StoredEvent, Tailer, TailerHandle};

use crate::entities::events;

/// Key of the transaction-scoped advisory lock that serialises event-writing commits on
/// PostgreSQL. Sequence values are handed out before commit, so without it a transaction holding
/// seq 7 could commit after one holding seq 8 and a tailer that had already moved past 8 would
/// never see 7. Under the lock, assignment and commit happen in the same order.
const OUTBOX_LOCK_KEY: i64 = 0x706c_6569_6e00_0002;

/// Who may learn about an event. Stored as text: `all`, `role:<role>` or `person:<uuid>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    Everyone,
    Role(&'static str),
    Person(Uuid),
}

impl Audience {
    pub fn to_text(&self) -> String {
        match self {
            Audience::Everyone => "all".to_owned(),
            Audience::Role(role) => format!("role:{role}"),
            Audience::Person(id) => format!("person:{id}"),
        }
    }
}

/// Kinds of events, as stored in `events.kind`.
pub mod kinds {
    pub const PERSON_CREATED: &str = "person.created";
    pub const PERSON_UPDATED: &str = "person.updated";
    pub const PERSON_DEACTIVATED: &str = "person.deactivated";
    pub const PERSON_REACTIVATED: &str = "person.reactivated";
    pub const PERSON_ROLE_CHANGED: &str = "person.role_changed";
    /// An HR import; the payload's `ids` lists the people it created, changed or deactivated.
    pub const PEOPLE_IMPORTED: &str = "people.imported";
}

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: &'static str,
    pub audience: Audience,
    pub payload: serde_json::Value,
}

impl NewEvent {
    pub fn new(kind: &'static str, audience: Audience, payload: impl Serialize) -> Self {
        NewEvent {
            kind,
            audience,
            payload: serde_json::to_value(payload).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// Appends an event in the caller's transaction and returns its sequence number. The event
/// becomes visible, and the doorbell on other nodes rings, only when the transaction commits;
/// ring the local doorbell after commit.
pub async fn append<C: ConnectionTrait>(tx: &C, event: NewEvent) -> Result<i64, DbErr> {
    lock_outbox(tx).await?;
    let kind = event.kind;
    let row = row_of(event).insert(tx).await?;
    notify(tx).await?;
    metrics::counter!("plein_events_appended_total", "kind" => kind).increment(1);
    Ok(row.seq)
}

/// Appends several events in the caller's transaction, in order, with one statement: a bulk
/// change (an HR import) writes its events in one round trip instead of one each.
pub async fn append_many<C: ConnectionTrait>(tx: &C, events: Vec<NewEvent>) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    lock_outbox(tx).await?;
    let kinds: Vec<&'static str> = events.iter().map(|event| event.kind).collect();
    events::Entity::insert_many(events.into_iter().map(row_of))
        .exec_without_returning(tx)
        .await?;
    notify(tx).await?;
    for kind in kinds {
        metrics::counter!("plein_events_appended_total", "kind" => kind).increment(1);
    }
    Ok(())
}

fn row_of(event: NewEvent) -> events::ActiveModel {
    events::ActiveModel {
        kind: Set(event.kind.to_owned()),
        audience: Set(event.audience.to_text()),
        payload: Set(event.payload.to_string()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
}

/// On PostgreSQL event-writing transactions take turns, so the tailer never passes over an
/// event that commits late.
async fn lock_outbox<C: ConnectionTrait>(tx: &C) -> Result<(), DbErr> {
    let backend = tx.get_database_backend();
    if backend == DbBackend::Postgres {
        tx.execute_raw(Statement::from_sql_and_values(
            backend,
            "SELECT pg_advisory_xact_lock($1)",
            [OUTBOX_LOCK_KEY.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Delivered at commit, deduplicated within the transaction; a doorbell, no payload.
async fn notify<C: ConnectionTrait>(tx: &C) -> Result<(), DbErr> {
    let backend = tx.get_database_backend();
    if backend == DbBackend::Postgres {
        tx.execute_raw(Statement::from_string(
            backend,
            format!("SELECT pg_notify('{NOTIFY_CHANNEL}', '')"),
        ))
        .await?;
    }
    Ok(())
}

/// The highest sequence number in the outbox (0 when empty).
pub async fn head<C: ConnectionTrait>(db: &C) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COALESCE(MAX(seq), 0) AS head FROM events",
        ))
        .await?;
    match row {
        Some(row) => row.try_get::<i64>("", "head"),
        None => Ok(0),
    }
}
