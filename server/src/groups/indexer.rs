//! The group directory's search index on this node: rebuilt from the database at start, then
//! kept current by an outbox consumer, like people search.

use std::collections::BTreeSet;
use std::sync::Arc;

use plein_search::groups::{GroupDocument, GroupIndex};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::repo;
use crate::entities::groups;
use crate::events::{self, Event, EventConsumer, Position, StoredEvent};

pub type SharedGroupIndex = Arc<GroupIndex>;

fn document(group: &groups::Model) -> GroupDocument {
    GroupDocument {
        id: group.id.to_string(),
        name: group.name.clone(),
        description: group.description.clone(),
        kind: group.kind.clone(),
        visibility: group.visibility.clone(),
    }
}

/// Fills the index with every group nobody deleted; events after the returned position are
/// applied by the consumer (applying one twice is harmless).
pub async fn rebuild(
    db: &DatabaseConnection,
    index: &SharedGroupIndex,
) -> anyhow::Result<Position> {
    let head = events::safe_head(db).await?;
    let documents: Vec<GroupDocument> = repo::all_live(db).await?.iter().map(document).collect();
    let writer = index.clone();
    tokio::task::spawn_blocking(move || writer.replace_all(&documents)).await??;
    Ok(head)
}

/// A new index for this node, filled from the database.
pub async fn open(db: &DatabaseConnection) -> anyhow::Result<(SharedGroupIndex, i64)> {
    let index = Arc::new(GroupIndex::new()?);
    let position = rebuild(db, &index).await?;
    Ok((index, position.seq))
}

pub struct GroupIndexer {
    db: DatabaseConnection,
    index: SharedGroupIndex,
    position: i64,
}

impl GroupIndexer {
    pub fn new(db: DatabaseConnection, index: SharedGroupIndex, position: i64) -> Self {
        GroupIndexer {
            db,
            index,
            position,
        }
    }
}

fn group_of(event: &Event) -> Option<Uuid> {
    match event {
        Event::GroupCreated { group }
        | Event::GroupUpdated { group }
        | Event::GroupDeleted { group } => Some(group.id),
        _ => None,
    }
}

#[async_trait::async_trait]
impl EventConsumer for GroupIndexer {
    fn name(&self) -> &str {
        "group-index"
    }

    async fn position(&self) -> anyhow::Result<i64> {
        Ok(self.position)
    }

    async fn resync(&self) -> anyhow::Result<Position> {
        rebuild(&self.db, &self.index).await
    }

    fn min_interval(&self) -> std::time::Duration {
        events::INDEX_COMMIT_INTERVAL
    }

    /// Re-reads the groups the batch touched and indexes them as they are now.
    async fn apply(&self, batch: &[StoredEvent]) -> anyhow::Result<()> {
        let ids: BTreeSet<Uuid> = batch
            .iter()
            .filter_map(|stored| group_of(&stored.event))
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let rows = repo::find_many(&self.db, ids.iter().copied().collect()).await?;
        let live: Vec<GroupDocument> = rows
            .iter()
            .filter(|group| group.deleted_at.is_none())
            .map(document)
            .collect();
        let kept: BTreeSet<Uuid> = rows
            .iter()
            .filter(|group| group.deleted_at.is_none())
            .map(|group| group.id)
            .collect();
        let removed: Vec<String> = ids.difference(&kept).map(Uuid::to_string).collect();
        let writer = self.index.clone();
        tokio::task::spawn_blocking(move || writer.apply(&live, &removed)).await??;
        Ok(())
    }
}
