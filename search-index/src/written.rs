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
pub struct KeyTest(Decider);

#[derive(Clone)]
enum Decider {
    /// Asked key by key.
    Each(Arc<Decide>),
    /// A key passes when it is listed (`listed`), or when it is not (`!listed`); a segment's
    /// keys are then decided in one walk along both lists, which are in the same order.
    Listed { keys: Arc<SortedKeys>, listed: bool },
}

impl KeyTest {
    pub fn new(test: impl Fn(&[u8]) -> bool + Send + Sync + 'static) -> Self {
        KeyTest(Decider::Each(Arc::new(test)))
    }

    /// Passes the keys listed.
    pub fn listed(keys: SortedKeys) -> Self {
        KeyTest(Decider::Listed {
            keys: Arc::new(keys),
            listed: true,
        })
    }
}

impl std::fmt::Debug for KeyTest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Decider::Each(_) => formatter.write_str("KeyTest(..)"),
            Decider::Listed { keys, listed } => formatter
                .debug_struct("KeyTest")
                .field("keys", &keys.len())
                .field("listed", listed)
                .finish(),
        }
    }
}

/// Two tests are the same when they list the same keys the same way, or are the same closure.
impl PartialEq for KeyTest {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Decider::Each(a), Decider::Each(b)) => Arc::ptr_eq(a, b),
            (
                Decider::Listed { keys, listed },
                Decider::Listed {
                    keys: other_keys,
                    listed: other_listed,
                },
            ) => listed == other_listed && keys == other_keys,
            _ => false,
        }
    }
}

impl Eq for KeyTest {}

/// Keys in byte order, each once, in one buffer (a few thousand keys cost two allocations).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SortedKeys {
    bytes: Vec<u8>,
    /// Where each key ends in `bytes`.
    ends: Vec<usize>,
}

impl SortedKeys {
    /// The keys, sorted here unless they come sorted; repeats are kept once.
    pub fn new<K: AsRef<[u8]>>(keys: impl IntoIterator<Item = K>) -> Self {
        let mut keys: Vec<K> = keys.into_iter().collect();
        if !keys.is_sorted_by(|a, b| a.as_ref() <= b.as_ref()) {
            keys.sort_unstable_by(|a, b| a.as_ref().cmp(b.as_ref()));
        }
        let mut sorted = SortedKeys {
            bytes: Vec::with_capacity(keys.iter().map(|key| key.as_ref().len()).sum()),
            ends: Vec::with_capacity(keys.len()),
        };
        for key in &keys {
            let key = key.as_ref();
            if sorted.is_empty() || sorted.get(sorted.len() - 1) != key {
                sorted.bytes.extend_from_slice(key);
                sorted.ends.push(sorted.bytes.len());
            }
        }
        sorted
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn get(&self, at: usize) -> &[u8] {
        let start = at.checked_sub(1).map_or(0, |before| self.ends[before]);
        &self.bytes[start..self.ends[at]]
    }

    /// The first position from `from` on whose key is not below `key`, the keys before `from`
    /// being below it: galloping, so that a walk in order costs little whether the keys are
    /// many or few.
    fn first_not_below(&self, from: usize, key: &[u8]) -> usize {
        let len = self.len();
        let (mut low, mut high, mut step) = (from, from, 1usize);
        while high < len && self.get(high) < key {
            low = high + 1;
            high = from.saturating_add(step);
            step = step.saturating_mul(2);
        }
        let mut high = high.min(len);
        while low < high {
            let middle = low + (high - low) / 2;
            if self.get(middle) < key {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        low
    }
}

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
            KeyFilter::Only(keys) | KeyFilter::AllBut(keys) => KeyTest(Decider::Listed {
                keys: Arc::new(SortedKeys::new(keys.iter().map(String::as_bytes))),
                listed: matches!(self, KeyFilter::Only(_)),
            }),
        }
    }
}

/// Which ordinals of a column's dictionary the test accepts: each value present in the segment
/// decided once, walking the dictionary in order.
pub(crate) fn accepted_ords(column: &StrColumn, test: &KeyTest) -> std::io::Result<Vec<bool>> {
    let mut accepted = vec![false; column.num_terms()];
    let mut terms = column.dictionary().stream()?;
    let mut next = 0;
    while terms.advance() {
        let key = terms.key();
        let passes = match &test.0 {
            Decider::Each(test) => test(key),
            Decider::Listed { keys, listed } => {
                next = keys.first_not_below(next, key);
                (next < keys.len() && keys.get(next) == key) == *listed
            }
        };
        if passes
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_keys_are_sorted_once_each_and_walked_like_a_search() {
        let keys = SortedKeys::new(["g5", "g1", "g3", "g1", "g9", "g3"]);
        let listed: Vec<&[u8]> = (0..keys.len()).map(|at| keys.get(at)).collect();
        assert_eq!(
            listed,
            [b"g1", b"g3", b"g5", b"g9"].map(|key| key.as_slice())
        );
        assert_eq!(
            SortedKeys::new(["b", "a"]),
            SortedKeys::new(["a", "b", "a"])
        );
        assert!(SortedKeys::new(Vec::<String>::new()).is_empty());
        // From every position on, for keys below, between, on and above the listed ones: the
        // same answer as a plain search of what is left.
        let many = SortedKeys::new((0..300).map(|n| format!("k{:04}", n * 3)));
        let all: Vec<&[u8]> = (0..many.len()).map(|at| many.get(at)).collect();
        for probe in (0..905).map(|n| format!("k{n:04}")) {
            let key = probe.as_bytes();
            let expected = all.partition_point(|listed| *listed < key);
            for from in [0, expected / 2, expected.saturating_sub(1), expected] {
                assert_eq!(
                    many.first_not_below(from, key),
                    expected,
                    "{probe} from {from}"
                );
            }
        }
        assert_eq!(many.first_not_below(0, b"a"), 0);
        assert_eq!(many.first_not_below(0, b"z"), many.len());
    }
}
