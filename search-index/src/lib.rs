//! People search for Plein: the tantivy schema, text folding, indexing, query building and
//! ranking. No HTTP and no database types live here; the server feeds documents in and asks
//! questions.

mod automaton;
mod facets;
pub mod groups;
pub mod messages;
pub mod posts;
mod query;
mod schema;
mod segments;
mod store;
pub mod text;
mod trie;
mod word;
mod written;

use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, MultiCollector};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term};

use schema::Fields;
pub use written::{KeptIndex, KeyFilter, KeyTest, SortedKeys, WrittenIndex};

/// Bumped whenever the schema or the text folding changes; an index of another version is
/// rebuilt from the database.
pub const SCHEMA_VERSION: u32 = 4;
const WRITER_MEMORY_BYTES: usize = 50_000_000;
pub const MAX_LIMIT: usize = 100;
const FACET_VALUES: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("cannot open the search index directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("cannot read the search index: {0}")]
    Read(#[from] tantivy::directory::error::OpenReadError),
    #[error("search index writer is unavailable")]
    WriterPoisoned,
}

pub type Result<T> = std::result::Result<T, SearchError>;

/// What the index knows of one person.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PersonDocument {
    pub id: String,
    pub display_name: String,
    pub given_name: String,
    pub preferred_name: Option<String>,
    pub family_name: String,
    pub email: String,
    pub title: Option<String>,
    pub department: Option<String>,
    pub location: Option<String>,
    pub skills: Vec<String>,
    /// Deactivated people are indexed for admins; colleague search leaves them out.
    #[serde(default)]
    pub inactive: bool,
    /// `employee`, `hr` or `admin`, for the admins' people list.
    #[serde(default)]
    pub role: Option<String>,
}

/// Whom a search looks among.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Audience {
    /// Active people only: colleague search.
    #[default]
    Active,
    Inactive,
    Everyone,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchRequest {
    pub query: String,
    pub department: Option<String>,
    pub location: Option<String>,
    pub skill: Option<String>,
    pub audience: Audience,
    pub role: Option<String>,
    pub limit: usize,
    /// Results to skip, for pages after the first.
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facets {
    pub department: Vec<FacetValue>,
    pub location: Vec<FacetValue>,
    pub skill: Vec<FacetValue>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SearchResults {
    /// Person ids, best first.
    pub ids: Vec<String>,
    pub total: usize,
    pub facets: Facets,
}

/// The state an index was found in on open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenState {
    /// New, or of another schema version: fill it from the database.
    NeedsRebuild,
    /// Current; apply events after this outbox sequence.
    UpToSeq(i64),
}

pub struct PeopleIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    segments: segments::SegmentCache,
}

impl PeopleIndex {
    /// Opens the index in `dir`, creating it, or wiping it when its schema version differs.
    pub fn open(dir: &Path) -> Result<(PeopleIndex, OpenState)> {
        let (schema, fields) = schema::build();
        let (index, state) = store::open_versioned(dir, schema, SCHEMA_VERSION)?;
        Ok((Self::from_index(index, fields)?, state))
    }

    /// An index in memory, for tests and benchmarks.
    pub fn in_memory() -> Result<PeopleIndex> {
        let (schema, fields) = schema::build();
        Self::from_index(Index::create_in_ram(schema), fields)
    }

    fn from_index(index: Index, fields: Fields) -> Result<PeopleIndex> {
        schema::register_tokenizers(&index);
        let writer = index.writer(WRITER_MEMORY_BYTES)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        // Names and the other words are walked by every query word; email terms, one or two per
        // person, are only ever looked up exactly or by a prefix, which the dictionary does well.
        let segments = segments::SegmentCache::new(vec![fields.name, fields.other]);
        segments.refresh(&reader.searcher())?;
        Ok(PeopleIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            segments,
        })
    }

    /// Adds or replaces people. Nothing is visible until [`commit`](Self::commit).
    pub fn upsert(&self, people: &[PersonDocument]) -> Result<()> {
        let writer = self
            .writer
            .lock()
            .map_err(|_| SearchError::WriterPoisoned)?;
        for person in people {
            writer.delete_term(Term::from_field_text(self.fields.id, &person.id));
            writer.add_document(schema::document(&self.fields, person))?;
        }
        Ok(())
    }

    /// Removes people (deactivated or deleted). Visible after [`commit`](Self::commit).
    pub fn remove(&self, ids: &[String]) -> Result<()> {
        let writer = self
            .writer
            .lock()
            .map_err(|_| SearchError::WriterPoisoned)?;
        for id in ids {
            writer.delete_term(Term::from_field_text(self.fields.id, id));
        }
        Ok(())
    }

    /// Removes everyone, before a rebuild.
    pub fn clear(&self) -> Result<()> {
        let writer = self
            .writer
            .lock()
            .map_err(|_| SearchError::WriterPoisoned)?;
        writer.delete_all_documents()?;
        Ok(())
    }

    /// Makes changes searchable and records the last applied outbox sequence with them.
    pub fn commit(&self, last_seq: i64) -> Result<()> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| SearchError::WriterPoisoned)?;
        store::commit(&mut writer, SCHEMA_VERSION, last_seq)?;
        drop(writer);
        self.reload()?;
        Ok(())
    }

    /// Merges all segments into one (after a bulk load): fewer segments, fewer term dictionaries
    /// for every query word to walk.
    pub fn merge_segments(&self) -> Result<()> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| SearchError::WriterPoisoned)?;
        let segments = self.index.searchable_segment_ids()?;
        if segments.len() > 1 {
            writer.merge(&segments).wait()?;
        }
        writer.garbage_collect_files().wait()?;
        drop(writer);
        self.reload()?;
        Ok(())
    }

    fn reload(&self) -> Result<()> {
        self.reader.reload()?;
        self.segments.refresh(&self.reader.searcher())
    }

    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs a search. Every query word must match; see [`query`] for matching and ranking.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults> {
        let searcher = self.reader.searcher();
        let limit = request.limit.clamp(1, MAX_LIMIT);
        let segments = self.segments.snapshot();
        let query = query::build(&self.fields, &segments, request);
        let mut collectors = MultiCollector::new();
        let top = collectors.add_collector(query::top_docs(limit, request.offset, &segments));
        let count = collectors.add_collector(Count);
        let facet_counts = collectors.add_collector(facets::FacetCounter::new(segments.clone()));
        let mut fruit = searcher.search(&*query, &collectors)?;
        let top_docs = top.extract(&mut fruit);
        let total = count.extract(&mut fruit);
        let mut facet_lists = facet_counts
            .extract(&mut fruit)
            .into_iter()
            .map(facet_values);
        let facets = Facets {
            department: facet_lists.next().unwrap_or_default(),
            location: facet_lists.next().unwrap_or_default(),
            skill: facet_lists.next().unwrap_or_default(),
        };
        let ids = segments.ids(&searcher, top_docs.into_iter().map(|(_, address)| address))?;
        Ok(SearchResults { ids, total, facets })
    }

    /// The index's own handle, for maintenance.
    pub fn index(&self) -> &Index {
        &self.index
    }
}

fn facet_values(counts: std::collections::HashMap<String, u64>) -> Vec<FacetValue> {
    let mut values: Vec<FacetValue> = counts
        .into_iter()
        .map(|(value, count)| FacetValue { value, count })
        .collect();
    values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    values.truncate(FACET_VALUES);
    values
}
