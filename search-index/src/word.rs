//! One query word, matched in one pass over each field's term dictionary.
//!
//! A single automaton per word accepts every term the word may match (exact, as a prefix when it
//! is the last word, and within the allowed edits); each accepted term is then classed by
//! comparing it with the word, and every person gets the best score any of their terms earned.
//! This replaces a disjunction of one sub-query per field and match kind, whose union scorers and
//! repeated dictionary walks were most of a search's cost.

use std::sync::Arc;

use tantivy::postings::TermInfo;
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError};

use crate::automaton::{Fuzzy, FuzzyState};
use crate::segments::{SegmentData, Snapshot};

/// Scores of one field for an exact, prefix and fuzzy match.
#[derive(Debug, Clone, Copy)]
pub struct FieldScores {
    pub field: Field,
    pub exact: u8,
    pub prefix: u8,
    /// Zero: the field is never matched fuzzily.
    pub fuzzy: u8,
    /// Shorter last words match this field exactly only.
    pub prefix_from_chars: usize,
}

/// What accepts a field's candidate terms.
#[derive(Clone)]
enum Matcher {
    /// The word itself only.
    Exact,
    /// Any term starting with the word.
    Prefix,
    /// Within the word's edit budget (whole word, or prefix for the last word).
    Fuzzy(Arc<Fuzzy>),
}

/// A term automaton over bytes: a position in the word for exact and prefix matching, the
/// edit-distance table for fuzzy matching.
struct TermAutomaton<'a> {
    word: &'a [u8],
    matcher: &'a Matcher,
}

#[derive(Clone, Copy)]
enum TermState {
    /// Bytes of the word matched so far; `None` once the term has left it.
    Position(Option<usize>),
    Fuzzy(FuzzyState),
}

impl tantivy_fst::Automaton for TermAutomaton<'_> {
    type State = TermState;

    fn start(&self) -> TermState {
        match self.matcher {
            Matcher::Fuzzy(fuzzy) => TermState::Fuzzy(fuzzy.start()),
            _ => TermState::Position(Some(0)),
        }
    }

    fn is_match(&self, state: &TermState) -> bool {
        match (self.matcher, state) {
            (Matcher::Fuzzy(fuzzy), TermState::Fuzzy(inner)) => fuzzy.is_match(inner),
            (_, TermState::Position(position)) => *position == Some(self.word.len()),
            _ => false,
        }
    }

    fn can_match(&self, state: &TermState) -> bool {
        match (self.matcher, state) {
            (Matcher::Fuzzy(fuzzy), TermState::Fuzzy(inner)) => fuzzy.can_match(inner),
            (_, TermState::Position(position)) => position.is_some(),
            _ => false,
        }
    }

    fn accept(&self, state: &TermState, byte: u8) -> TermState {
        match (self.matcher, state) {
            (Matcher::Fuzzy(fuzzy), TermState::Fuzzy(inner)) => {
                TermState::Fuzzy(fuzzy.accept(inner, byte))
            }
            (matcher, TermState::Position(Some(position))) => {
                let next = match self.word.get(*position) {
                    Some(&expected) => (expected == byte).then_some(position + 1),
                    // Past the word: only a prefix match goes on.
                    None => matches!(matcher, Matcher::Prefix).then_some(*position),
                };
                TermState::Position(next)
            }
            _ => TermState::Position(None),
        }
    }
}

/// One query word over several fields.
#[derive(Clone)]
pub struct WordQuery {
    word: String,
    is_last: bool,
    fuzzy: Option<Arc<Fuzzy>>,
    fields: Vec<FieldScores>,
}

impl WordQuery {
    pub fn new(
        word: String,
        is_last: bool,
        fuzzy: Option<Arc<Fuzzy>>,
        fields: Vec<FieldScores>,
    ) -> Self {
        WordQuery {
            word,
            is_last,
            fuzzy,
            fields,
        }
    }

    fn matcher(&self, scores: &FieldScores) -> Matcher {
        match (&self.fuzzy, scores.fuzzy > 0) {
            (Some(dfa), true) => Matcher::Fuzzy(Arc::clone(dfa)),
            _ if self.is_last && self.word.chars().count() >= scores.prefix_from_chars => {
                Matcher::Prefix
            }
            _ => Matcher::Exact,
        }
    }

    /// The score a matched term earns in a field.
    fn score_of(&self, term: &[u8], scores: &FieldScores) -> u8 {
        let word = self.word.as_bytes();
        if term == word {
            scores.exact
        } else if self.is_last
            && term.starts_with(word)
            && self.word.chars().count() >= scores.prefix_from_chars
        {
            scores.prefix
        } else {
            scores.fuzzy
        }
    }
}

impl WordQuery {
    /// Marks in `best` the best score this word earns for each person, and lists in `touched`
    /// the people it reached first. With `allowed`, people outside it are skipped.
    fn mark(
        &self,
        reader: &SegmentReader,
        segment: &SegmentData,
        allowed: Option<&[bool]>,
        best: &mut [u8],
        touched: &mut Vec<DocId>,
    ) -> tantivy::Result<()> {
        for scores in &self.fields {
            let matcher = self.matcher(scores);
            let automaton = TermAutomaton {
                word: self.word.as_bytes(),
                matcher: &matcher,
            };
            let inverted_index = reader.inverted_index(scores.field)?;
            let mut mark_term = |term: &[u8], info: &TermInfo| -> tantivy::Result<()> {
                let score = self.score_of(term, scores);
                if score == 0 {
                    return Ok(());
                }
                let mut postings = inverted_index
                    .read_block_postings_from_terminfo(info, IndexRecordOption::Basic)?;
                loop {
                    let docs = postings.docs();
                    if docs.is_empty() {
                        return Ok(());
                    }
                    for &doc in docs {
                        if allowed.is_some_and(|allowed| !allowed[doc as usize]) {
                            continue;
                        }
                        let slot = &mut best[doc as usize];
                        if *slot == 0 {
                            touched.push(doc);
                        }
                        if *slot < score {
                            *slot = score;
                        }
                    }
                    postings.advance();
                }
            };
            if let Some(trie) = segment.trie(scores.field) {
                let mut outcome = Ok(());
                trie.walk(&automaton, |term, info| {
                    if outcome.is_ok() {
                        outcome = mark_term(term, info);
                    }
                });
                outcome?;
            } else {
                let mut terms = inverted_index.terms().search(automaton).into_stream()?;
                while terms.advance() {
                    mark_term(terms.key(), terms.value())?;
                }
            }
        }
        Ok(())
    }

    /// Roughly how many people the word reaches: long whole words few, a short prefix many.
    fn breadth(&self) -> usize {
        let length = self.word.chars().count();
        let opened = if self.is_last { 8 } else { 0 };
        opened + 32usize.saturating_sub(length)
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<(Vec<u8>, Vec<bool>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// Every word of a query must match; a person's score is the sum of their words' best scores.
///
/// Words are matched narrowest first, and each next word only looks at the people every
/// earlier word reached, so a one-letter last word ("sanne van r") costs little once "sanne"
/// has narrowed the field; as soon as nobody is left the rest is skipped.
#[derive(Clone, Debug)]
pub struct AllWordsQuery {
    words: Vec<WordQuery>,
    segments: Snapshot,
}

impl AllWordsQuery {
    pub fn new(mut words: Vec<WordQuery>, segments: Snapshot) -> Self {
        words.sort_by_key(WordQuery::breadth);
        AllWordsQuery { words, segments }
    }
}

impl std::fmt::Debug for WordQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WordQuery")
            .field("word", &self.word)
            .field("is_last", &self.is_last)
            .finish_non_exhaustive()
    }
}

impl Query for AllWordsQuery {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl Weight for AllWordsQuery {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let max_doc = reader.max_doc() as usize;
        let segment = self.segments.data(reader)?;
        // Per-person scratch space, reused between searches on this thread: fresh allocations of
        // this size are handed back to the kernel and cost page faults on every search.
        let (mut best, mut allowed) = SCRATCH.with_borrow_mut(std::mem::take);
        best.clear();
        best.resize(max_doc, 0);
        allowed.clear();
        allowed.resize(max_doc, false);
        let mut touched: Vec<DocId> = Vec::new();
        // The people every word so far reached, in order, with their summed scores.
        let mut docs: Vec<DocId> = Vec::new();
        let mut totals: Vec<u32> = Vec::new();
        for (position, word) in self.words.iter().enumerate() {
            if position == 0 {
                word.mark(reader, &segment, None, &mut best, &mut touched)?;
                // Few matches: sort the ones seen. Many: one pass over the dense array is cheaper.
                docs = if touched.len() * 16 < max_doc {
                    touched.sort_unstable();
                    std::mem::take(&mut touched)
                } else {
                    (0..max_doc as DocId)
                        .filter(|&doc| best[doc as usize] > 0)
                        .collect()
                };
                totals = docs
                    .iter()
                    .map(|&doc| u32::from(best[doc as usize]))
                    .collect();
                for &doc in &docs {
                    allowed[doc as usize] = true;
                }
            } else {
                for &doc in &docs {
                    best[doc as usize] = 0;
                }
                touched.clear();
                word.mark(reader, &segment, Some(&allowed), &mut best, &mut touched)?;
                let mut kept_docs = Vec::with_capacity(touched.len());
                let mut kept_totals = Vec::with_capacity(touched.len());
                for (&doc, &total) in docs.iter().zip(&totals) {
                    let score = best[doc as usize];
                    if score > 0 {
                        kept_docs.push(doc);
                        kept_totals.push(total + u32::from(score));
                    } else {
                        allowed[doc as usize] = false;
                    }
                }
                docs = kept_docs;
                totals = kept_totals;
            }
            if docs.is_empty() {
                break;
            }
        }
        SCRATCH.set((best, allowed));
        let scores = totals
            .into_iter()
            .map(|total| total as Score * boost)
            .collect();
        Ok(Box::new(ListScorer {
            docs,
            scores,
            position: 0,
        }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) == doc {
            Ok(Explanation::new("AllWordsQuery", scorer.score()))
        } else {
            Err(TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )))
        }
    }
}

/// Matching documents in order, each with its score.
struct ListScorer {
    docs: Vec<DocId>,
    scores: Vec<Score>,
    position: usize,
}

impl DocSet for ListScorer {
    fn advance(&mut self) -> DocId {
        self.position += 1;
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        let rest = &self.docs[self.position.min(self.docs.len())..];
        self.position += rest.partition_point(|&doc| doc < target);
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.position).copied().unwrap_or(TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        self.docs.len() as u32
    }
}

impl Scorer for ListScorer {
    fn score(&mut self) -> Score {
        self.scores.get(self.position).copied().unwrap_or(0.0)
    }
}
