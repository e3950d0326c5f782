//! Feeds the people search index from the outbox, and rebuilds it from the table when it is
//! missing or of another schema version.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, RwLock};

use anyhow::Context;
use plein_search::{OpenState, PeopleIndex, PersonDocument};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::dto::PersonCard;
use super::repo;
use crate::entities::people;
use crate::events::{self, EventConsumer, Position, StoredEvent};

/// The search index as the rest of the server sees it: the tantivy index, and the cards of
/// everyone in it, so answering a search needs no database round trip.
pub type SharedIndex = Arc<SearchIndex>;

pub struct SearchIndex {
    pub people: PeopleIndex,
    pub cards: CardCache,
}

impl SearchIndex {
    pub fn len(&self) -> u64 {
        self.people.len()
    }

    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }
}

/// The card of every active person, kept in step with the index by the same consumer, and
/// the exact keys a search may name someone by: the whole email address, the employee number.
#[derive(Default)]
pub struct CardCache {
    state: RwLock<Cards>,
}

#[derive(Default)]
struct Cards {
    cards: HashMap<Uuid, PersonCard>,
    by_key: HashMap<String, Uuid>,
    keys_of: HashMap<Uuid, Vec<String>>,
}

impl Cards {
    fn insert(&mut self, person: &people::Model) {
        self.remove(person.id);
        let keys = exact_keys(person);
        for key in &keys {
            self.by_key.insert(key.clone(), person.id);
        }
        self.keys_of.insert(person.id, keys);
        self.cards
            .insert(person.id, PersonCard::from(person.clone()));
    }

    fn remove(&mut self, id: Uuid) {
        self.cards.remove(&id);
        for key in self.keys_of.remove(&id).unwrap_or_default() {
            if self.by_key.get(&key) == Some(&id) {
                self.by_key.remove(&key);
            }
        }
    }
}

/// How a person can be named exactly: `email:<normalised address>`, `employee:<number>`.
fn exact_keys(person: &people::Model) -> Vec<String> {
    let mut keys: Vec<String> = person
        .email_normalized
        .iter()
        .map(|email| format!("email:{email}"))
        .collect();
    if let Some(number) = &person.employee_id {
        keys.push(format!("employee:{}", number.trim().to_lowercase()));
    }
    keys
}

impl CardCache {
    fn replace_all(&self, people: &[people::Model]) {
        let mut fresh = Cards::default();
        for person in people.iter().filter(|person| person.active) {
            fresh.insert(person);
        }
        if let Ok(mut current) = self.state.write() {
            *current = fresh;
        }
    }

    fn apply(&self, active: &[people::Model], removed: &[Uuid]) {
        if let Ok(mut current) = self.state.write() {
            for id in removed {
                current.remove(*id);
            }
            for person in active {
                current.insert(person);
            }
        }
    }

    /// The cards of `ids` that are known, in the order given.
    pub fn in_order(&self, ids: &[Uuid]) -> Vec<PersonCard> {
        let Ok(state) = self.state.read() else {
            return Vec::new();
        };
        ids.iter()
            .filter_map(|id| state.cards.get(id).cloned())
            .collect()
    }

    /// The active person a query names exactly by email address or employee number.
    pub fn named_exactly(&self, query: &str) -> Option<Uuid> {
        let query = query.trim();
        if query.is_empty() || query.contains(char::is_whitespace) {
            return None;
        }
        let state = self.state.read().ok()?;
        let key = if query.contains('@') {
            format!(
                "email:{}",
                crate::directory::service::normalize_email(query)
            )
        } else {
            format!("employee:{}", query.to_lowercase())
        };
        state.by_key.get(&key).copied()
    }
}

/// What the index needs of a person row.
pub fn document(person: &people::Model) -> PersonDocument {
    PersonDocument {
        id: person.id.to_string(),
        display_name: person.display_name.clone(),
        given_name: person.given_name.clone(),
        preferred_name: person.preferred_name.clone(),
        family_name: person.family_name.clone(),
        email: person.email.clone().unwrap_or_default(),
        title: person.title.clone(),
        department: person.department.clone(),
        location: person.location.clone(),
        skills: serde_json::from_str(&person.skills).unwrap_or_default(),
        inactive: !person.active,
        role: Some(person.role.clone()),
    }
}

/// Runs blocking index work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .context("search index task failed")?
}

/// Opens the index in `dir`; rebuilds it from the table when needed. Returns the index and the
/// outbox sequence it reflects.
pub async fn open(db: &DatabaseConnection, dir: &Path) -> anyhow::Result<(SharedIndex, i64)> {
    let dir = dir.to_path_buf();
    let (index, state) = blocking(move || {
        PeopleIndex::open(&dir)
            .with_context(|| format!("cannot open the search index in {}", dir.display()))
    })
    .await?;
    let index = Arc::new(SearchIndex {
        people: index,
        cards: CardCache::default(),
    });
    let position = match state {
        OpenState::UpToSeq(seq) => {
            // Read before the tailer starts, so events after this are applied on top.
            index.cards.replace_all(&repo::all_active(db).await?);
            seq
        }
        OpenState::NeedsRebuild => rebuild(db, &index).await?.seq,
    };
    Ok((index, position))
}

/// Replaces the index's content with everyone (deactivated people too, for the admins' list;
/// colleague search leaves them out). Events after the returned position are applied by the
/// tailer; applying one twice is harmless.
pub async fn rebuild(db: &DatabaseConnection, index: &SharedIndex) -> anyhow::Result<Position> {
    // Read before the people: everything up to here is in what they show.
    let head = events::safe_head(db).await?;
    let people = repo::all(db).await?;
    let count = people.len();
    let documents: Vec<PersonDocument> = people.iter().map(document).collect();
    let writer = index.clone();
    blocking(move || {
        writer.people.clear()?;
        writer.people.upsert(&documents)?;
        writer.people.commit(head.seq)?;
        writer.people.merge_segments()?;
        Ok(())
    })
    .await?;
    let active: Vec<people::Model> = people.into_iter().filter(|person| person.active).collect();
    index.cards.replace_all(&active);
    tracing::info!(people = count, "search index rebuilt");
    Ok(head)
}

/// Batches naming more people than this rebuild the index instead.
const REBUILD_ABOVE: usize = 5_000;
/// Large enough that an HR import of a whole company arrives as one batch, and one rebuild.
const BATCH_SIZE: u64 = 50_000;

pub struct SearchIndexer {
    db: DatabaseConnection,
    index: SharedIndex,
    position: i64,
}

impl SearchIndexer {
    pub fn new(db: DatabaseConnection, index: SharedIndex, position: i64) -> Self {
        SearchIndexer {
            db,
            index,
            position,
        }
    }
}

#[async_trait::async_trait]
impl EventConsumer for SearchIndexer {
    fn name(&self) -> &str {
        "search-index"
    }

    async fn position(&self) -> anyhow::Result<i64> {
        Ok(self.position)
    }

    async fn resync(&self) -> anyhow::Result<Position> {
        rebuild(&self.db, &self.index).await
    }

    fn batch_size(&self) -> u64 {
        BATCH_SIZE
    }

    fn min_interval(&self) -> std::time::Duration {
        events::INDEX_COMMIT_INTERVAL
    }

    /// Re-reads the people the batch touched and indexes them as they are now; only people no
    /// longer in the table are removed.
    async fn apply(&self, batch: &[StoredEvent]) -> anyhow::Result<()> {
        let Some(last) = batch.last().map(|event| event.seq) else {
            return Ok(());
        };
        let ids: BTreeSet<Uuid> = batch
            .iter()
            .filter_map(|stored| stored.event.person_id())
            .collect();
        if ids.len() > REBUILD_ABOVE {
            // A large HR import: reading everyone once beats thousands of lookups by id.
            rebuild(&self.db, &self.index).await?;
            return Ok(());
        }
        let rows = repo::find_many(&self.db, ids.iter().copied().collect()).await?;
        let documents: Vec<PersonDocument> = rows.iter().map(document).collect();
        let present: BTreeSet<Uuid> = rows.iter().map(|row| row.id).collect();
        let removed_keys: Vec<String> = ids.difference(&present).map(Uuid::to_string).collect();
        // The cards name active people only.
        let inactive = rows.iter().filter(|row| !row.active).map(|row| row.id);
        let removed: Vec<Uuid> = ids.difference(&present).copied().chain(inactive).collect();
        let writer = self.index.clone();
        blocking(move || {
            writer.people.remove(&removed_keys)?;
            writer.people.upsert(&documents)?;
            writer.people.commit(last)?;
            Ok(())
        })
        .await?;
        let active_rows: Vec<people::Model> = rows.into_iter().filter(|row| row.active).collect();
        self.index.cards.apply(&active_rows, &removed);
        Ok(())
    }
}
