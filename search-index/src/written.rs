//! What post search and message search share: an on-disk index of written text (posts,
//! comments, chat messages) kept current from the outbox, the way query words are matched, and
//! the filter that keeps a search to what the searcher may read (groups, conversations).

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use tantivy::columnar::{Column, ColumnIndex, StrColumn};
use tantivy::indexer::{LogMergePolicy, NoMergePolicy};
use tantivy::query::doc_predicate_query::{DocPredicateQuery, FunctionPredicate};
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{SimpleTokenizer, TextAnalyzer};
use tantivy::{
    DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, SegmentReader, Term,
};

use crate::text::tokens;
use crate::{FacetValue, OpenState, Result, SearchError, store};

/// The tokenizer of written text: the text is folded before it is indexed, so splitting on
/// whitespace and punctuation is all that is left.
const WORDS: &str = "post_words";
const WRITER_BYTES: usize = 50_000_000;
/// Words of a query beyond this are ignored.
const MAX_WORDS: usize = 8;
/// A last query word this long or longer is also matched as a prefix.
const PREFIX_FROM: usize = 3;
/// Words this long or longer forgive one typo.
const TYPO_FROM: usize = 5;

/// Which values of a keyed column (a group, a conversation) a search may find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyFilter {
    /// These only.
    Only(Vec<String>),
    /// Every one but these (when the list of the others is the short one).
    AllBut(Vec<String>),
    /// Those the test accepts, asked once per value present in a segment (when the caller
    /// can answer for any key faster than it can list them).
    Accepted(KeyTest),
}

/// A yes or no for a key's bytes.
type Decide = dyn Fn(&[u8]) -> bool + Send + Sync;

/// A filter's test of a key, shared by the segments of a search.
#[derive(Clone)]
pub struct KeyTest(Arc<Decide>);

impl KeyTest {
    pub fn new(test: impl Fn(&[u8]) -> bool + Send + Sync + 'static) -> Self {
        KeyTest(Arc::new(test))
    }

    fn accepts(&self, key: &[u8]) -> bool {
        (self.0)(key)
    }
}

impl std::fmt::Debug for KeyTest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("KeyTest(..)")
    }
}

/// Two tests are the same only when they are the same closure.
impl PartialEq for KeyTest {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for KeyTest {}

impl Default for KeyFilter {
    fn default() -> Self {
        KeyFilter::Only(Vec::new())
    }
}

impl KeyFilter {
    /// Whether nothing at all may be found.
    pub fn is_nothing(&self) -> bool {
        matches!(self, KeyFilter::Only(keys) if keys.is_empty())
    }
}

/// Text options of the searched field.
pub(crate) fn words_options() -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(WORDS)
            .set_index_option(IndexRecordOption::WithFreqs),
    )
}

/// A text index on disk (or in memory) that records the outbox position with each commit.
pub struct WrittenIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    version: u32,
}

impl WrittenIndex {
    /// Opens the index in `dir`, creating it, or wiping it when its schema version differs.
    pub(crate) fn open(dir: &Path, schema: Schema, version: u32) -> Result<(Self, OpenState)> {
        let (index, state) = store::open_versioned(dir, schema, version)?;
        Ok((Self::from_index(index, version)?, state))
    }

    pub(crate) fn in_memory(schema: Schema, version: u32) -> Result<Self> {
        Self::from_index(Index::create_in_ram(schema), version)
    }

    fn from_index(index: Index, version: u32) -> Result<Self> {
        index.tokenizers().register(
            WORDS,
            TextAnalyzer::builder(SimpleTokenizer::default()).build(),
        );
        let writer = index.writer(WRITER_BYTES)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(WrittenIndex {
            reader,
            writer: Mutex::new(writer),
            version,
        })
    }

    pub(crate) fn writer(&self) -> Result<MutexGuard<'_, IndexWriter>> {
        self.writer.lock().map_err(|_| SearchError::WriterPoisoned)
    }

    pub(crate) fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// Removes everything, before a rebuild. Segments are not merged in the background until
    /// [`compact`](Self::compact) merges the rebuilt ones at once.
    fn clear(&self) -> Result<()> {
        let writer = self.writer()?;
        writer.set_merge_policy(Box::new(NoMergePolicy));
        writer.delete_all_documents()?;
        Ok(())
    }

    /// Makes changes searchable and records the last applied outbox sequence with them.
    fn commit(&self, last_seq: i64) -> Result<()> {
        let mut writer = self.writer()?;
        store::commit(&mut writer, self.version, last_seq)?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// Merges every segment into one and waits for it, then lets segments merge in the
    /// background again as they come: after a rebuild, whose many segments would each cost a
    /// search its own term lookups and fuzzy automata. The merged-away files are gone after it.
    fn compact(&self) -> Result<()> {
        let mut writer = self.writer()?;
        let segments = self.reader.searcher().index().searchable_segment_ids()?;
        let merged = if segments.len() > 1 {
            writer.merge(&segments).wait().map(|_| ())
        } else {
            Ok(())
        };
        writer.set_merge_policy(Box::new(LogMergePolicy::default()));
        drop(writer);
        self.reader.reload()?;
        Ok(merged?)
    }

    fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

/// What every index of written text can do besides searching: the outbox consumer that keeps
/// it calls these.
pub trait KeptIndex {
    /// The index underneath.
    fn kept(&self) -> &WrittenIndex;

    /// Removes everything, before a rebuild. Segments are not merged in the background until
    /// [`compact`](Self::compact) merges the rebuilt ones at once.
    fn clear(&self) -> Result<()> {
        self.kept().clear()
    }

    /// Makes changes searchable and records the last applied outbox sequence with them.
    fn commit(&self, last_seq: i64) -> Result<()> {
        self.kept().commit(last_seq)
    }

    /// Merges every segment into one and waits for it (after a rebuild).
    fn compact(&self) -> Result<()> {
        self.kept().compact()
    }

    /// Documents in the index.
    fn len(&self) -> u64 {
        self.kept().len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Every word of the query must match: as itself (counting double), with one typo from five
/// letters, and the last one also as a prefix (people type as they search).
pub(crate) fn words(field: Field, query: &str) -> Vec<(Occur, Box<dyn Query>)> {
    let words: Vec<String> = tokens(query).into_iter().take(MAX_WORDS).collect();
    let last = words.len().saturating_sub(1);
    words
        .iter()
        .enumerate()
        .map(|(position, word)| -> (Occur, Box<dyn Query>) {
            let term = Term::from_field_text(field, word);
            let mut either: Vec<(Occur, Box<dyn Query>)> = vec![(
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
                    2.0,
                )),
            )];
            let length = word.chars().count();
            if length >= TYPO_FROM {
                either.push((
                    Occur::Should,
                    Box::new(FuzzyTermQuery::new(term.clone(), 1, true)),
                ));
            }
            if position == last && length >= PREFIX_FROM {
                either.push((
                    Occur::Should,
                    Box::new(FuzzyTermQuery::new_prefix(term, 0, true)),
                ));
            }
            (Occur::Must, Box::new(BooleanQuery::new(either)))
        })
        .collect()
}

/// Documents whose value in `field` is `value`.
pub(crate) fn one_of(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

impl KeyFilter {
    /// The filter as a test of one key.
    pub(crate) fn test(&self) -> KeyTest {
        match self {
            KeyFilter::Accepted(test) => test.clone(),
            KeyFilter::Only(keys) | KeyFilter::AllBut(keys) => {
                let only = matches!(self, KeyFilter::Only(_));
                let mut sorted: Vec<Vec<u8>> =
                    keys.iter().map(|key| key.as_bytes().to_vec()).collect();
                sorted.sort_unstable();
                sorted.dedup();
                KeyTest::new(move |key| {
                    sorted
                        .binary_search_by(|listed| listed.as_slice().cmp(key))
                        .is_ok()
                        == only
                })
            }
        }
    }
}

/// Which ordinals of a column's dictionary the test accepts: each value present in the segment
/// decided once, walking the dictionary in order.
pub(crate) fn accepted_ords(column: &StrColumn, test: &KeyTest) -> std::io::Result<Vec<bool>> {
    let mut accepted = vec![false; column.num_terms()];
    let mut terms = column.dictionary().stream()?;
    while terms.advance() {
        if test.accepts(terms.key())
            && let Some(slot) = usize::try_from(terms.term_ord())
                .ok()
                .and_then(|ord| accepted.get_mut(ord))
        {
            *slot = true;
        }
    }
    Ok(accepted)
}

/// A single-valued column read document by document: straight from its values when every
/// document of the segment has one (no lookup of the document's row).
pub(crate) struct OneValue<T> {
    column: Column<T>,
    full: bool,
}

impl<T: PartialOrd + Copy + std::fmt::Debug + Send + Sync + 'static> OneValue<T> {
    pub(crate) fn new(column: Column<T>) -> Self {
        let full = matches!(column.index, ColumnIndex::Full);
        OneValue { column, full }
    }

    #[inline]
    pub(crate) fn of(&self, doc: DocId) -> Option<T> {
        if self.full {
            Some(self.column.values.get_val(doc))
        } else {
            self.column.first(doc)
        }
    }
}

impl OneValue<u64> {
    /// The ordinals of a string column.
    pub(crate) fn ords(column: &StrColumn) -> Self {
        OneValue::new(column.ords().clone())
    }

    /// A document's value, as its ordinal in the column's dictionary.
    #[inline]
    pub(crate) fn ord(&self, doc: DocId) -> Option<usize> {
        self.of(doc).and_then(|ord| usize::try_from(ord).ok())
    }
}

/// Keeps a search to the readable keys: each key present in a segment's column (`column`, a
/// fast string field) is decided once, walking the column's dictionary, and each document the
/// words find is checked by its key's ordinal (no per-key posting lists are read or merged).
pub(crate) fn readable(column: &'static str, filter: &KeyFilter) -> Box<dyn Query> {
    let test = filter.test();
    let predicate = FunctionPredicate::from(move |segment: &SegmentReader| {
        let values = segment.fast_fields().str(column)?;
        let allowed = match &values {
            Some(values) => accepted_ords(values, &test)?,
            None => Vec::new(),
        };
        let ords = values.as_ref().map(OneValue::ords);
        Ok(move |doc: DocId| {
            ords.as_ref()
                .and_then(|ords| ords.ord(doc))
                .is_some_and(|ord| allowed.get(ord).copied().unwrap_or(false))
        })
    });
    Box::new(DocPredicateQuery::from(predicate))
}

/// Values counted per segment before the segments' counts are summed, as a multiple of the
/// values asked for: the most common of each segment (a value rare in every segment but common
/// over all of them can be missed, as with any sharded count; the index is mostly one merged
/// segment, whose counts are exact).
pub(crate) const FACET_SHARD_FACTOR: usize = 2;

/// The most common values of a column in one segment (at most `shard`), named, from the
/// counts per ordinal; in ordinal order.
pub(crate) fn most_common(column: &StrColumn, counts: &[u32], shard: usize) -> Vec<(String, u64)> {
    let mut counted: Vec<(u32, u64)> = counts
        .iter()
        .enumerate()
        .filter(|(_, count)| **count > 0)
        .filter_map(|(ord, count)| Some((*count, u64::try_from(ord).ok()?)))
        .collect();
    if counted.len() > shard {
        counted.select_nth_unstable_by(shard, |a, b| b.0.cmp(&a.0));
        counted.truncate(shard);
    }
    // In ordinal order, the dictionary is read in one pass (a lookup per ordinal would decode
    // its block from the start each time).
    counted.sort_unstable_by_key(|(_, ord)| *ord);
    let ords: Vec<u64> = counted.iter().map(|(_, ord)| *ord).collect();
    let mut counts = counted.into_iter().map(|(count, _)| u64::from(count));
    let mut named = Vec::with_capacity(ords.len());
    let read = column.dictionary().sorted_ords_to_term_cb(&ords, |term| {
        let count = counts.next();
        if let (Ok(text), Some(count)) = (std::str::from_utf8(term), count) {
            named.push((text.to_owned(), count));
        }
    });
    if read.is_err() {
        return Vec::new();
    }
    named
}

/// Sums one column's most common values over the segments and keeps the `size` most common,
/// most first (equal counts by value).
pub(crate) fn sum_segments<'a>(
    segments: impl IntoIterator<Item = &'a [(String, u64)]>,
    size: usize,
) -> Vec<FacetValue> {
    let mut sums: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    for segment in segments {
        for (value, count) in segment {
            *sums.entry(value.as_str()).or_default() += count;
        }
    }
    let mut values: Vec<FacetValue> = sums
        .into_iter()
        .map(|(value, count)| FacetValue {
            value: value.to_owned(),
            count,
        })
        .collect();
    values.sort_unstable_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
    values.truncate(size);
    values
}
