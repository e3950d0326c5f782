//! The outbox: `append` inside the caller's transaction, reading in delivery order from any
//! position, retention, the per-node tailer that feeds each consumer on its own task, and the
//! doorbell that wakes it.
//!
//! Delivery order is (`xid`, `seq`). PostgreSQL hands out sequence values before commit, so a
//! transaction holding seq 7 can commit after one holding seq 8. Each row records the id of the
//! transaction that wrote it, and readers take only rows whose transaction is older than the
//! oldest one still running (`pg_snapshot_xmin`): every such row is final, and no row can later
//! appear before them. Writers never wait for each other. SQLite has one writer at a time; there
//! `xid` is 0 and `seq` is commit order.

mod doorbell;
mod event;
mod tailer;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, Set, Statement, Value,
};
use serde::Serialize;
use uuid::Uuid;

pub use doorbell::{
    Doorbell, HEARTBEAT_CHANNEL, ListenerStatus, NOTIFY_CHANNEL, NoSignals, SIGNAL_CHANNEL,
    SignalSink, spawn_notifier,
};
pub use doorbell::{notify_other_nodes, spawn_postgres_listener};
pub use event::{DecodeError, EVENT_VERSION, Event, Scope};
pub use tailer::{
    BACKGROUND_GATHER, ConsumerStatus, DurableCursor, EventConsumer, INDEX_COMMIT_INTERVAL, Tailer,
    TailerHandle, TailerProgress,
};

use crate::entities::{events, settings};

/// A place in the outbox's delivery order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    pub xid: i64,
    pub seq: i64,
}

impl Position {
    pub const START: Position = Position { xid: 0, seq: 0 };

    fn to_text(self) -> String {
        format!("{}:{}", self.xid, self.seq)
    }

    fn parse(text: &str) -> Option<Position> {
        let (xid, seq) = text.split_once(':')?;
        Some(Position {
            xid: xid.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }
}

/// An event as read back from the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub seq: i64,
    pub xid: i64,
    pub scope: Scope,
    pub event: Event,
    pub created_at: DateTime<Utc>,
}

impl StoredEvent {
    pub fn position(&self) -> Position {
        Position {
            xid: self.xid,
            seq: self.seq,
        }
    }
}

/// Appends an event in the caller's transaction and returns its sequence number. The event
/// becomes visible only when the transaction commits; ring the doorbell after commit.
pub async fn append<C: ConnectionTrait>(tx: &C, event: Event) -> Result<i64, DbErr> {
    let kind = event.kind();
    let row = row_of(&event)?;
    let inserted = events::Entity::insert(row).exec(tx).await?;
    metrics::counter!("plein_events_appended_total", "kind" => kind).increment(1);
    Ok(inserted.last_insert_id)
}

/// Rows per statement for bulk appends: well inside both databases' parameter limits.
const APPEND_CHUNK: usize = 2_000;

/// Appends several events in the caller's transaction, in order, a few statements for any
/// number: a bulk change (an HR import) names everyone it changed without a round trip each.
pub async fn append_many<C: ConnectionTrait>(tx: &C, batch: Vec<Event>) -> Result<(), DbErr> {
    for chunk in batch.chunks(APPEND_CHUNK) {
        let rows = chunk.iter().map(row_of).collect::<Result<Vec<_>, _>>()?;
        events::Entity::insert_many(rows)
            .exec_without_returning(tx)
            .await?;
    }
    for event in &batch {
        metrics::counter!("plein_events_appended_total", "kind" => event.kind()).increment(1);
    }
    Ok(())
}

fn row_of(event: &Event) -> Result<events::ActiveModel, DbErr> {
    let payload = event::encode(event).map_err(|error| {
        metrics::counter!("plein_events_unencodable_total", "kind" => event.kind()).increment(1);
        tracing::error!(kind = event.kind(), %error, "cannot encode event");
        DbErr::Custom(format!("cannot encode a {} event: {error}", event.kind()))
    })?;
    let (scope, scope_id) = event.scope().columns();
    // `xid` is left to the column default: the writing transaction on PostgreSQL, 0 on SQLite.
    Ok(events::ActiveModel {
        version: Set(EVENT_VERSION),
        kind: Set(event.kind().to_owned()),
        scope: Set(scope.to_owned()),
        scope_id: Set(scope_id),
        payload: Set(payload),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
}

/// `pg_snapshot_xmin` as a number: every transaction below it has finished.
const PG_XMIN: &str = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

#[derive(Debug, FromQueryResult)]
struct PositionRow {
    xid: i64,
    seq: i64,
}

impl From<PositionRow> for Position {
    fn from(row: PositionRow) -> Self {
        Position {
            xid: row.xid,
            seq: row.seq,
        }
    }
}

/// A statement written with `$n` placeholders, in the backend's own spelling (`?n` on SQLite).
fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => sql.to_owned(),
        _ => sql.replace('$', "?"),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

async fn query_position<C: ConnectionTrait>(
    db: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<Option<Position>, DbErr> {
    let statement = statement(db.get_database_backend(), sql, values);
    Ok(PositionRow::find_by_statement(statement)
        .one(db)
        .await?
        .map(Position::from))
}

/// The last committed event in delivery order (or the last pruned one when the outbox is
/// empty). On PostgreSQL a transaction still running may yet add an event before it: wait for
/// this position to see everything committed so far, but rebuild derived state from
/// [`safe_head`].
pub async fn head<C: ConnectionTrait>(db: &C) -> Result<Position, DbErr> {
    let last = query_position(
        db,
        "SELECT xid, seq FROM events ORDER BY xid DESC, seq DESC LIMIT 1",
        Vec::new(),
    )
    .await?;
    match last {
        Some(position) => Ok(position),
        None => pruned_through(db).await,
    }
}

/// The last event before which nothing can still appear: a rebuild from the tables that reads
/// them after this call reflects every event up to here.
pub async fn safe_head<C: ConnectionTrait>(db: &C) -> Result<Position, DbErr> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => format!(
            "SELECT xid, seq FROM events WHERE xid < {PG_XMIN} ORDER BY xid DESC, seq DESC LIMIT 1"
        ),
        _ => "SELECT xid, seq FROM events ORDER BY xid DESC, seq DESC LIMIT 1".to_owned(),
    };
    let last = query_position(db, &sql, Vec::new()).await?;
    let pruned = pruned_through(db).await?;
    Ok(last.map_or(pruned, |last| last.max(pruned)))
}

/// The settings key holding the last position removed from the outbox.
const PRUNED_THROUGH: &str = "outbox.pruned_through";

/// The last position removed by retention: a reader behind it has missed events and must
/// resynchronise.
pub async fn pruned_through<C: ConnectionTrait>(db: &C) -> Result<Position, DbErr> {
    let row = settings::Entity::find_by_id(PRUNED_THROUGH.to_owned())
        .one(db)
        .await?;
    match row {
        None => Ok(Position::START),
        Some(row) => Position::parse(&row.value)
            .ok_or_else(|| DbErr::Custom(format!("setting {PRUNED_THROUGH} is not a position"))),
    }
}

/// The position of the event `seq`, for a reader that remembers only sequence numbers (a
/// socket resuming, a consumer's stored cursor). `None` when the reader must resynchronise:
/// the event was pruned, or never existed.
pub async fn resolve<C: ConnectionTrait>(db: &C, seq: i64) -> Result<Option<Position>, DbErr> {
    let pruned = pruned_through(db).await?;
    if seq == pruned.seq {
        return Ok(Some(pruned));
    }
    if seq == 0 {
        return Ok(None);
    }
    let found = query_position(
        db,
        "SELECT xid, seq FROM events WHERE seq = $1",
        vec![seq.into()],
    )
    .await?;
    Ok(found.filter(|position| *position > pruned))
}

/// What one read of the outbox found.
#[derive(Debug, Default)]
pub struct ReadBatch {
    /// The events after the position asked for, in delivery order.
    pub events: Vec<StoredEvent>,
    /// Where the next read starts: past every row read, also those that did not decode.
    pub end: Option<Position>,
    /// Later rows exist but may not be delivered yet: an older transaction is still running.
    pub held_back: bool,
}

#[derive(Debug, FromQueryResult)]
struct EventRow {
    seq: i64,
    xid: i64,
    version: i16,
    kind: String,
    scope: String,
    scope_id: Option<Uuid>,
    payload: String,
    created_at: DateTime<Utc>,
    ready: bool,
}

/// Reads up to `limit` events after `after`, in delivery order. An event that does not decode
/// is logged and counted, and read past. Does not check retention: call [`pruned_through`]
/// first when `after` may be old.
pub async fn read_after<C: ConnectionTrait>(
    db: &C,
    after: Position,
    limit: u64,
) -> Result<ReadBatch, DbErr> {
    let backend = db.get_database_backend();
    const COLUMNS: &str = "seq, xid, version, kind, scope, scope_id, payload, created_at";
    let sql = match backend {
        DbBackend::Postgres => format!(
            "SELECT {COLUMNS}, xid < {PG_XMIN} AS ready \
             FROM events WHERE (xid, seq) > ($1, $2) ORDER BY xid, seq LIMIT $3"
        ),
        // SQLite searches a row-value comparison by its first column alone, and `xid` is
        // always 0 there: every read would walk the whole outbox. Two ranges instead.
        _ => format!(
            "SELECT {COLUMNS}, 1 AS ready FROM events WHERE xid = $1 AND seq > $2 \
             UNION ALL SELECT {COLUMNS}, 1 AS ready FROM events WHERE xid > $1 \
             ORDER BY xid, seq LIMIT $3"
        ),
    };
    let statement = statement(
        backend,
        &sql,
        vec![after.xid.into(), after.seq.into(), (limit as i64).into()],
    );
    let rows = EventRow::find_by_statement(statement).all(db).await?;
    let mut batch = ReadBatch::default();
    for row in rows {
        if !row.ready {
            batch.held_back = true;
            break;
        }
        let position = Position {
            xid: row.xid,
            seq: row.seq,
        };
        batch.end = Some(position);
        match decode_row(&row) {
            Ok((scope, event)) => batch.events.push(StoredEvent {
                seq: row.seq,
                xid: row.xid,
                scope,
                event,
                created_at: row.created_at,
            }),
            Err(error) => {
                metrics::counter!("plein_events_undecodable_total").increment(1);
                tracing::error!(seq = row.seq, kind = %row.kind, %error, "cannot decode event, skipping it");
            }
        }
    }
    Ok(batch)
}

fn decode_row(row: &EventRow) -> Result<(Scope, Event), DecodeError> {
    let scope = Scope::from_columns(&row.scope, row.scope_id)
        .ok_or_else(|| DecodeError::Scope(row.scope.clone(), row.scope_id))?;
    let event = event::decode(row.version, &row.payload)?;
    Ok((scope, event))
}

/// Rows removed per statement by retention, so pruning never holds long locks.
const PRUNE_CHUNK: i64 = 10_000;
/// Key of the advisory lock that keeps two nodes from pruning at once.
const PRUNE_LOCK_KEY: i64 = 0x706c_6569_6e00_0005;

/// Removes events written before `cutoff`, oldest first in delivery order, and records the last
/// position removed. Returns how many rows were removed.
pub async fn prune(db: &sea_orm::DatabaseConnection, cutoff: DateTime<Utc>) -> anyhow::Result<u64> {
    let mut removed = 0;
    loop {
        let tx = crate::db::begin_write(db).await?;
        let backend = tx.get_database_backend();
        let safe = match backend {
            DbBackend::Postgres => {
                tx.execute_raw(Statement::from_sql_and_values(
                    backend,
                    "SELECT pg_advisory_xact_lock($1)",
                    [PRUNE_LOCK_KEY.into()],
                ))
                .await?;
                format!("AND xid < {PG_XMIN}")
            }
            _ => String::new(),
        };
        let sql = format!(
            "SELECT xid, seq FROM (SELECT xid, seq, created_at FROM events ORDER BY xid, seq LIMIT $1) oldest \
             WHERE created_at < $2 {safe} ORDER BY xid DESC, seq DESC LIMIT 1"
        );
        let Some(cut) = query_position(&tx, &sql, vec![PRUNE_CHUNK.into(), cutoff.into()]).await?
        else {
            tx.commit().await?;
            break;
        };
        let deletes: Vec<(&str, Vec<Value>)> = match backend {
            DbBackend::Postgres => vec![(
                "DELETE FROM events WHERE (xid, seq) <= ($1, $2)",
                vec![cut.xid.into(), cut.seq.into()],
            )],
            // Two index ranges, as in `read_after`: SQLite would search a row-value
            // comparison (or the same condition written with OR) by `xid` alone.
            _ => vec![
                (
                    "DELETE FROM events WHERE xid = $1 AND seq <= $2",
                    vec![cut.xid.into(), cut.seq.into()],
                ),
                ("DELETE FROM events WHERE xid < $1", vec![cut.xid.into()]),
            ],
        };
        let mut deleted = 0;
        for (sql, values) in deletes {
            deleted += tx
                .execute_raw(statement(backend, sql, values))
                .await?
                .rows_affected();
        }
        let previous = pruned_through(&tx).await?;
        settings::Entity::insert(settings::ActiveModel {
            key: Set(PRUNED_THROUGH.to_owned()),
            value: Set(cut.max(previous).to_text()),
            updated_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::column(settings::Column::Key)
                .update_columns([settings::Column::Value, settings::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(&tx)
        .await?;
        tx.commit().await?;
        removed += deleted;
        metrics::counter!("plein_events_pruned_total").increment(deleted);
        if deleted < PRUNE_CHUNK as u64 {
            break;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_order_by_transaction_then_sequence() {
        let early_transaction_late_seq = Position { xid: 10, seq: 9 };
        let late_transaction_early_seq = Position { xid: 11, seq: 8 };
        assert!(early_transaction_late_seq < late_transaction_early_seq);
        assert!(Position::START < early_transaction_late_seq);
        let text = late_transaction_early_seq.to_text();
        assert_eq!(Position::parse(&text), Some(late_transaction_early_seq));
        assert_eq!(Position::parse("12"), None);
    }
}
