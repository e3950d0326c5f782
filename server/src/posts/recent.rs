//! Each group's newest post ids, kept in memory on every node, so that a home feed finds its
//! candidates without an index descent per group. Filled from the database the first time a
//! group is asked for and kept current from the outbox (and by this node's own writes at
//! once). The ids are only candidates: the feed reads the posts themselves, and whether they
//! are shown, from the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use sea_orm::DatabaseConnection;

use crate::events::{EventConsumer, Position, StoredEvent};

use uuid::Uuid;

/// Ids kept per group: a first page and the next of the largest feed page (with its read-ahead)
/// are answered from memory for every group.
pub const KEPT: usize = 64;
/// Groups kept before everything is let go and filled again as asked (memory stays near
/// `MAX_GROUPS × KEPT × 16` bytes).
const MAX_GROUPS: usize = 100_000;

pub type SharedRecentPosts = Arc<RecentPosts>;

#[derive(Default)]
pub struct RecentPosts {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    groups: HashMap<Uuid, Recent>,
    /// Bumped when everything is let go: a fill read before that is dropped, since events
    /// applied between its read and the letting go are no longer there to merge with.
    generation: u64,
}

/// One group's newest ids, newest first: the group's newest `ids.len()` posts, all of them
/// when `complete`. Until `loaded` it holds only what arrived since this node started.
#[derive(Default)]
struct Recent {
    ids: Vec<Uuid>,
    loaded: bool,
    complete: bool,
}

impl Recent {
    fn add(&mut self, id: Uuid) {
        if let Err(at) = self.ids.binary_search_by(|probe| id.cmp(probe)) {
            self.ids.insert(at, id);
            if self.ids.len() > KEPT {
                self.ids.truncate(KEPT);
                self.complete = false;
            }
        }
    }
}

/// What the memory could say about some groups' newest posts.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Candidates {
    /// Ids from the groups the memory answered for, newest first.
    pub ids: Vec<Uuid>,
    /// Groups it could not answer for (too far down, or not filled yet): ask the database.
    pub elsewhere: Vec<Uuid>,
}

impl RecentPosts {
    pub fn new() -> SharedRecentPosts {
        Arc::new(Self::default())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The state is a cache of the database: whatever a panicking holder left is still
        // candidates at worst, which the feed checks.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A post was written in `group`.
    pub fn added(&self, group: Uuid, post: Uuid) {
        let mut inner = self.lock();
        if inner.groups.len() >= MAX_GROUPS && !inner.groups.contains_key(&group) {
            inner.groups.clear();
            inner.generation += 1;
        }
        inner.groups.entry(group).or_default().add(post);
    }

    /// Lets everything go (the outbox could not be followed).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.groups.clear();
        inner.generation += 1;
    }

    /// Which of `groups` have not been filled from the database, and the generation to hand
    /// to [`RecentPosts::fill`] with what the database says of them.
    pub fn unfilled(&self, groups: &[Uuid]) -> (Vec<Uuid>, u64) {
        let inner = self.lock();
        let missing = groups
            .iter()
            .filter(|group| !inner.groups.get(group).is_some_and(|recent| recent.loaded))
            .copied()
            .collect();
        (missing, inner.generation)
    }

    /// Fills groups with their newest ids as read from the database (newest first, up to
    /// `KEPT + 1` each, every asked-for group present, empty when it has no posts), merged with
    /// what arrived meanwhile.
    pub fn fill(&self, generation: u64, read: HashMap<Uuid, Vec<Uuid>>) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        for (group, ids) in read {
            let recent = inner.groups.entry(group).or_default();
            if recent.loaded {
                continue;
            }
            let whole = ids.len() <= KEPT;
            let mut merged = ids;
            merged.extend(recent.ids.iter().copied());
            merged.sort_unstable_by(|a, b| b.cmp(a));
            merged.dedup();
            recent.complete = whole && merged.len() <= KEPT;
            merged.truncate(KEPT);
            recent.ids = merged;
            recent.loaded = true;
        }
    }

    /// Up to `want` newest ids before `before` of each of `groups`, where the memory holds
    /// them all: a group is answered when it holds `want` such ids or holds every post it has.
    pub fn candidates(&self, groups: &[Uuid], before: Option<Uuid>, want: usize) -> Candidates {
        let inner = self.lock();
        let mut found = Candidates::default();
        for group in groups {
            let Some(recent) = inner.groups.get(group).filter(|recent| recent.loaded) else {
                found.elsewhere.push(*group);
                continue;
            };
            let start = match before {
                Some(before) => recent.ids.partition_point(|id| *id >= before),
                None => 0,
            };
            let older = &recent.ids[start..];
            if older.len() >= want || recent.complete {
                found.ids.extend(older.iter().take(want).copied());
            } else {
                found.elsewhere.push(*group);
            }
        }
        found.ids.sort_unstable_by(|a, b| b.cmp(a));
        found
    }
}

/// Keeps this node's [`RecentPosts`] current from the outbox, from the moment it starts.
pub struct RecentPostsFeeder {
    db: DatabaseConnection,
    recent: SharedRecentPosts,
}

impl RecentPostsFeeder {
    pub fn new(db: DatabaseConnection, recent: SharedRecentPosts) -> Self {
        Self { db, recent }
    }
}

#[async_trait::async_trait]
impl EventConsumer for RecentPostsFeeder {
    fn name(&self) -> &str {
        "recent-posts"
    }

    /// This node's own posts are kept at once; other nodes' may arrive a moment later.
    fn gather(&self) -> std::time::Duration {
        crate::events::BACKGROUND_GATHER
    }

    /// Nothing is kept across starts: everything before the present is in the database, where
    /// a group is read from the first time it is asked for.
    async fn position(&self) -> anyhow::Result<i64> {
        Ok(crate::events::safe_head(&self.db).await?.seq)
    }

    async fn apply(&self, batch: &[StoredEvent]) -> anyhow::Result<()> {
        for stored in batch {
            if let crate::events::Event::PostCreated { post } = &stored.event {
                self.recent.added(post.group_id, post.id);
            }
        }
        Ok(())
    }

    async fn resync(&self) -> anyhow::Result<Position> {
        let position = crate::events::safe_head(&self.db).await?;
        self.recent.clear();
        Ok(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
        ids.reverse();
        ids
    }

    #[test]
    fn an_unfilled_group_is_asked_of_the_database() {
        let recent = RecentPosts::default();
        let group = Uuid::now_v7();
        recent.added(group, Uuid::now_v7());
        let (missing, _) = recent.unfilled(&[group]);
        assert_eq!(missing, [group]);
        let found = recent.candidates(&[group], None, 5);
        assert_eq!(found.elsewhere, [group]);
        assert!(found.ids.is_empty());
    }

    #[test]
    fn a_fill_keeps_what_arrived_while_it_read() {
        let recent = RecentPosts::default();
        let group = Uuid::now_v7();
        let (_, generation) = recent.unfilled(&[group]);
        let stored = ids(3);
        // Written after the database was read, heard before the fill lands.
        let newer = Uuid::now_v7();
        recent.added(group, newer);
        recent.fill(generation, HashMap::from([(group, stored.clone())]));
        let found = recent.candidates(&[group], None, 10);
        let mut expected = vec![newer];
        expected.extend(stored);
        assert_eq!(found.ids, expected);
        assert!(found.elsewhere.is_empty());
        // Heard twice (its own write, then the outbox): still once.
        recent.added(group, newer);
        assert_eq!(recent.candidates(&[group], None, 10).ids.len(), 4);
    }

    #[test]
    fn a_fill_read_before_letting_go_is_dropped() {
        let recent = RecentPosts::default();
        let group = Uuid::now_v7();
        let (_, generation) = recent.unfilled(&[group]);
        recent.clear();
        recent.fill(generation, HashMap::from([(group, ids(2))]));
        assert_eq!(recent.unfilled(&[group]).0, [group]);
    }

    #[test]
    fn pages_below_what_is_kept_go_to_the_database() {
        let recent = RecentPosts::default();
        let (busy, quiet) = (Uuid::now_v7(), Uuid::now_v7());
        let few = ids(3);
        let many = ids(KEPT + 1);
        let (_, generation) = recent.unfilled(&[busy, quiet]);
        recent.fill(
            generation,
            HashMap::from([(busy, many.clone()), (quiet, few.clone())]),
        );
        // The first page: both answered, newest first across the groups.
        let found = recent.candidates(&[busy, quiet], None, 10);
        let mut expected: Vec<Uuid> = many.iter().take(10).chain(few.iter()).copied().collect();
        expected.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(found.ids, expected);
        assert!(found.elsewhere.is_empty());
        // Far down the busy group: fewer kept than wanted, and it has more than are kept.
        let deep = many[KEPT - 5];
        let found = recent.candidates(&[busy, quiet], Some(deep), 10);
        assert_eq!(found.elsewhere, [busy]);
        let quiet_older: Vec<Uuid> = few.iter().filter(|id| **id < deep).copied().collect();
        assert_eq!(found.ids, quiet_older);
    }

    #[test]
    fn a_full_group_drops_its_oldest_and_is_no_longer_whole() {
        let recent = RecentPosts::default();
        let group = Uuid::now_v7();
        let stored = ids(KEPT);
        let (_, generation) = recent.unfilled(&[group]);
        recent.fill(generation, HashMap::from([(group, stored.clone())]));
        let oldest = *stored.last().unwrap_or(&Uuid::nil());
        assert!(
            recent
                .candidates(&[group], Some(oldest), 1)
                .elsewhere
                .is_empty()
        );
        recent.added(group, Uuid::now_v7());
        let found = recent.candidates(&[group], None, KEPT + 1);
        assert_eq!(found.elsewhere, [group]);
        let second_oldest = stored[KEPT - 2];
        let found = recent.candidates(&[group], Some(second_oldest), 1);
        assert_eq!(found.elsewhere, [group], "the oldest is gone from memory");
    }
}
