//! Message search on this node: an on-disk index of chat messages, filled from the table when it
//! is new (or of another schema) and kept current by an outbox consumer, like post search. It
//! records the last event it applied with each commit, so a restart picks up where it stopped.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use plein_search::messages::{MessageDocument, MessageIndex};
use plein_search::{KeptIndex as _, OpenState};
use sea_orm::{
    ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _,
};
use uuid::Uuid;

use crate::entities::messages;
use crate::events::{self, Event, EventConsumer, Position, StoredEvent};
use crate::posts::indexer::{blocking, finish_rebuild, start_rebuild};
use crate::posts::{mentions, repo as people_of};

pub type SharedMessageIndex = Arc<MessageIndex>;

/// Rows read at a time while rebuilding.
const REBUILD_CHUNK: u64 = 5_000;

/// Documents for the messages that are not deleted, mentions written as the names they show.
async fn documents(
    db: &DatabaseConnection,
    rows: &[messages::Model],
) -> anyhow::Result<Vec<MessageDocument>> {
    let mut mentioned: Vec<Uuid> = rows
        .iter()
        .flat_map(|message| mentions::parse(&message.body))
        .collect();
    mentioned.sort();
    mentioned.dedup();
    let names: HashMap<Uuid, String> = people_of::people_by_id(db, mentioned)
        .await?
        .into_values()
        .map(|person| (person.id, person.display_name))
        .collect();
    Ok(rows
        .iter()
        .filter(|message| message.deleted_at.is_none())
        .map(|message| MessageDocument {
            id: message.id.to_string(),
            conversation_id: message.conversation_id.to_string(),
            author_id: message.author_id.to_string(),
            text: mentions::to_plain(&message.body, &names),
            created_millis: message.created_at.timestamp_millis(),
        })
        .collect())
}

/// Opens the index in `dir`; fills it from the table when needed. Returns the index and the
/// outbox sequence it reflects.
pub async fn open(
    db: &DatabaseConnection,
    dir: &Path,
) -> anyhow::Result<(SharedMessageIndex, i64)> {
    let dir = dir.to_path_buf();
    let (index, state) = blocking(move || {
        MessageIndex::open(&dir)
            .with_context(|| format!("cannot open the message index in {}", dir.display()))
    })
    .await?;
    let index = Arc::new(index);
    let position = match state {
        OpenState::UpToSeq(seq) => seq,
        OpenState::NeedsRebuild => rebuild(db, &index).await?.seq,
    };
    Ok((index, position))
}

/// Replaces the index's content with every message, a chunk at a time.
pub async fn rebuild(
    db: &DatabaseConnection,
    index: &SharedMessageIndex,
) -> anyhow::Result<Position> {
    // Read before the rows: everything up to here is in what they show.
    let head = events::safe_head(db).await?;
    start_rebuild(index).await?;
    let mut count = 0usize;
    let mut after: Option<Uuid> = None;
    loop {
        let mut query = messages::Entity::find().filter(messages::Column::DeletedAt.is_null());
        if let Some(after) = after {
            query = query.filter(messages::Column::Id.gt(after));
        }
        let rows = query
            .order_by_asc(messages::Column::Id)
            .limit(REBUILD_CHUNK)
            .all(db)
            .await?;
        let Some(last) = rows.last().map(|message| message.id) else {
            break;
        };
        after = Some(last);
        let batch = documents(db, &rows).await?;
        count += batch.len();
        let writer = index.clone();
        blocking(move || Ok(writer.upsert(&batch)?)).await?;
    }
    finish_rebuild(index, head, count, "messages").await
}

pub struct MessageIndexer {
    db: DatabaseConnection,
    index: SharedMessageIndex,
    position: i64,
}

impl MessageIndexer {
    pub fn new(db: DatabaseConnection, index: SharedMessageIndex, position: i64) -> Self {
        MessageIndexer {
            db,
            index,
            position,
        }
    }
}

#[async_trait::async_trait]
impl EventConsumer for MessageIndexer {
    fn name(&self) -> &str {
        "message-index"
    }

    async fn position(&self) -> anyhow::Result<i64> {
        Ok(self.position)
    }

    async fn resync(&self) -> anyhow::Result<Position> {
        rebuild(&self.db, &self.index).await
    }

    fn batch_size(&self) -> u64 {
        1_000
    }

    fn min_interval(&self) -> Duration {
        events::INDEX_COMMIT_INTERVAL
    }

    /// Re-reads the messages the batch touched and indexes them as they are now (a deleted
    /// one leaves the index).
    async fn apply(&self, batch: &[StoredEvent]) -> anyhow::Result<()> {
        let Some(last) = batch.last().map(|event| event.seq) else {
            return Ok(());
        };
        let ids: BTreeSet<Uuid> = batch
            .iter()
            .filter_map(|stored| match &stored.event {
                Event::MessageCreated { message }
                | Event::MessageUpdated { message }
                | Event::MessageDeleted { message } => Some(message.id),
                _ => None,
            })
            .collect();
        let rows = if ids.is_empty() {
            Vec::new()
        } else {
            messages::Entity::find()
                .filter(crate::db::one_of(
                    self.db.get_database_backend(),
                    messages::Column::Id,
                    ids.iter().copied(),
                ))
                .all(&self.db)
                .await?
        };
        let gone: Vec<String> = rows
            .iter()
            .filter(|message| message.deleted_at.is_some())
            .map(|message| message.id.to_string())
            .collect();
        let documents = documents(&self.db, &rows).await?;
        let writer = self.index.clone();
        blocking(move || {
            writer.remove(&gone)?;
            writer.upsert(&documents)?;
            writer.commit(last)?;
            Ok(())
        })
        .await
    }
}
