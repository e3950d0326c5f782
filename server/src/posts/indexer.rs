//! Post search on this node: an on-disk index of posts and comments, filled from the tables
//! when it is new (or of another schema) and kept current by an outbox consumer. It records the
//! last event it applied with each commit, so a restart picks up where it stopped.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use plein_search::posts::{PostDocument, PostIndex};
use plein_search::{KeptIndex, OpenState};
use sea_orm::{
    ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _,
};
use uuid::Uuid;

use super::{mentions, repo};
use crate::entities::{comments, posts};
use crate::events::{self, Event, EventConsumer, Position, StoredEvent};

pub type SharedPostIndex = Arc<PostIndex>;

/// Rows read at a time while rebuilding.
const REBUILD_CHUNK: u64 = 5_000;

/// Index work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .context("search index task failed")?
}

/// Empties an index before a rebuild fills it.
pub(crate) async fn start_rebuild<I: KeptIndex + Send + Sync + 'static>(
    index: &Arc<I>,
) -> anyhow::Result<()> {
    let writer = index.clone();
    blocking(move || Ok(writer.clear()?)).await
}

/// Ends a rebuild: commits at the outbox position read before the rows, then merges the
/// segments into one (one segment searches fastest; should merging fail, the index is whole
/// all the same).
pub(crate) async fn finish_rebuild<I: KeptIndex + Send + Sync + 'static>(
    index: &Arc<I>,
    head: Position,
    documents: usize,
    what: &'static str,
) -> anyhow::Result<Position> {
    let writer = index.clone();
    blocking(move || Ok(writer.commit(head.seq)?)).await?;
    let writer = index.clone();
    if let Err(error) = blocking(move || Ok(writer.compact()?)).await {
        tracing::warn!(%error, index = what, "search index not compacted after the rebuild");
    }
    tracing::info!(documents, index = what, "search index rebuilt");
    Ok(head)
}

/// Documents for posts and comments (comments need their posts, for the group).
async fn documents(
    db: &DatabaseConnection,
    posts: Vec<posts::Model>,
    comments: Vec<comments::Model>,
) -> anyhow::Result<Vec<PostDocument>> {
    let missing: Vec<Uuid> = comments
        .iter()
        .map(|comment| comment.post_id)
        .filter(|id| !posts.iter().any(|post| post.id == *id))
        .collect::<BTreeSet<Uuid>>()
        .into_iter()
        .collect();
    let mut groups: HashMap<Uuid, (Uuid, bool)> = posts
        .iter()
        .map(|post| (post.id, (post.group_id, post.deleted_at.is_some())))
        .collect();
    if !missing.is_empty() {
        for post in posts::Entity::find()
            .filter(crate::db::one_of(
                db.get_database_backend(),
                posts::Column::Id,
                missing,
            ))
            .all(db)
            .await?
        {
            groups.insert(post.id, (post.group_id, post.deleted_at.is_some()));
        }
    }
    let mut mentioned: Vec<Uuid> = posts
        .iter()
        .map(|post| post.body.as_str())
        .chain(comments.iter().map(|comment| comment.body.as_str()))
        .flat_map(mentions::parse)
        .collect();
    mentioned.sort();
    mentioned.dedup();
    let names: HashMap<Uuid, String> = repo::people_by_id(db, mentioned)
        .await?
        .into_values()
        .map(|person| (person.id, person.display_name))
        .collect();
    let mut documents = Vec::with_capacity(posts.len() + comments.len());
    for post in posts.iter().filter(|post| post.deleted_at.is_none()) {
        documents.push(PostDocument {
            id: post.id.to_string(),
            post_id: post.id.to_string(),
            group_id: post.group_id.to_string(),
            author_id: post.author_id.to_string(),
            kind: "post".to_owned(),
            text: mentions::to_plain(&post.body, &names),
            created_millis: post.created_at.timestamp_millis(),
        });
    }
    for comment in comments
        .iter()
        .filter(|comment| comment.deleted_at.is_none())
    {
        let Some((group, false)) = groups.get(&comment.post_id).copied() else {
            continue;
        };
        documents.push(PostDocument {
            id: comment.id.to_string(),
            post_id: comment.post_id.to_string(),
            group_id: group.to_string(),
            author_id: comment.author_id.to_string(),
            kind: "comment".to_owned(),
            text: mentions::to_plain(&comment.body, &names),
            created_millis: comment.created_at.timestamp_millis(),
        });
    }
    Ok(documents)
}

/// Opens the index in `dir`; fills it from the tables when needed. Returns the index and the
/// outbox sequence it reflects.
pub async fn open(db: &DatabaseConnection, dir: &Path) -> anyhow::Result<(SharedPostIndex, i64)> {
    let dir = dir.to_path_buf();
    let (index, state) = blocking(move || {
        PostIndex::open(&dir)
            .with_context(|| format!("cannot open the post index in {}", dir.display()))
    })
    .await?;
    let index = Arc::new(index);
    let position = match state {
        OpenState::UpToSeq(seq) => seq,
        OpenState::NeedsRebuild => rebuild(db, &index).await?.seq,
    };
    Ok((index, position))
}

/// Replaces the index's content with every post and comment, a chunk at a time.
pub async fn rebuild(db: &DatabaseConnection, index: &SharedPostIndex) -> anyhow::Result<Position> {
    // Read before the rows: everything up to here is in what they show.
    let head = events::safe_head(db).await?;
    start_rebuild(index).await?;
    let mut count = 0usize;
    let mut after: Option<Uuid> = None;
    loop {
        let mut query = posts::Entity::find().filter(posts::Column::DeletedAt.is_null());
        if let Some(after) = after {
            query = query.filter(posts::Column::Id.gt(after));
        }
        let rows = query
            .order_by_asc(posts::Column::Id)
            .limit(REBUILD_CHUNK)
            .all(db)
            .await?;
        let Some(last) = rows.last().map(|post| post.id) else {
            break;
        };
        after = Some(last);
        let batch = documents(db, rows, Vec::new()).await?;
        count += batch.len();
        let writer = index.clone();
        blocking(move || Ok(writer.upsert(&batch)?)).await?;
    }
    let mut after: Option<Uuid> = None;
    loop {
        let mut query = comments::Entity::find().filter(comments::Column::DeletedAt.is_null());
        if let Some(after) = after {
            query = query.filter(comments::Column::Id.gt(after));
        }
        let rows = query
            .order_by_asc(comments::Column::Id)
            .limit(REBUILD_CHUNK)
            .all(db)
            .await?;
        let Some(last) = rows.last().map(|comment| comment.id) else {
            break;
        };
        after = Some(last);
        let batch = documents(db, Vec::new(), rows).await?;
        count += batch.len();
        let writer = index.clone();
        blocking(move || Ok(writer.upsert(&batch)?)).await?;
    }
    finish_rebuild(index, head, count, "posts").await
}

pub struct PostIndexer {
    db: DatabaseConnection,
    index: SharedPostIndex,
    position: i64,
}

impl PostIndexer {
    pub fn new(db: DatabaseConnection, index: SharedPostIndex, position: i64) -> Self {
        PostIndexer {
            db,
            index,
            position,
        }
    }
}

#[async_trait::async_trait]
impl EventConsumer for PostIndexer {
    fn name(&self) -> &str {
        "post-index"
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

    /// Re-reads the posts and comments the batch touched and indexes them as they are now.
    async fn apply(&self, batch: &[StoredEvent]) -> anyhow::Result<()> {
        let Some(last) = batch.last().map(|event| event.seq) else {
            return Ok(());
        };
        let mut post_ids = BTreeSet::new();
        let mut comment_ids = BTreeSet::new();
        let mut removed_groups = Vec::new();
        for stored in batch {
            match &stored.event {
                Event::PostCreated { post }
                | Event::PostUpdated { post }
                | Event::PostDeleted { post } => {
                    post_ids.insert(post.id);
                }
                Event::CommentCreated { comment_id, .. } => {
                    comment_ids.insert(*comment_id);
                }
                Event::GroupDeleted { group } => removed_groups.push(group.id.to_string()),
                _ => {}
            }
        }
        let posts = if post_ids.is_empty() {
            Vec::new()
        } else {
            posts::Entity::find()
                .filter(crate::db::one_of(
                    self.db.get_database_backend(),
                    posts::Column::Id,
                    post_ids.iter().copied(),
                ))
                .all(&self.db)
                .await?
        };
        let comments = if comment_ids.is_empty() {
            Vec::new()
        } else {
            comments::Entity::find()
                .filter(crate::db::one_of(
                    self.db.get_database_backend(),
                    comments::Column::Id,
                    comment_ids.iter().copied(),
                ))
                .all(&self.db)
                .await?
        };
        // A deleted post takes its comments out of search with it.
        let gone: Vec<String> = posts
            .iter()
            .filter(|post| post.deleted_at.is_some())
            .map(|post| post.id.to_string())
            .collect();
        let documents = documents(&self.db, posts, comments).await?;
        let writer = self.index.clone();
        blocking(move || {
            writer.remove(&gone)?;
            for group in &removed_groups {
                writer.remove_group(group)?;
            }
            writer.upsert(&documents)?;
            writer.commit(last)?;
            Ok(())
        })
        .await
    }
}
