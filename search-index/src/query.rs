//! Turning a search request into a tantivy query, and the ranking.
//!
//! Every query word must match somewhere. Per word the best of these counts (discrete scores, so
//! ties are real ties and are broken by name order):
//!
//! | match                                   | name fields | other fields |
//! |-----------------------------------------|-------------|--------------|
//! | exact word                              | 16          | 12           |
//! | prefix (last word only: typeahead)      | 8           | 6            |
//! | 1 edit from 4 letters, 2 from 8         | 4           | 3            |
//!
//! The email address's local part counts as an other field, exact or prefix only. A
//! transposition counts as one edit. Filters (department, location, skill) restrict without
//! scoring. An empty query with filters browses in name order.

use tantivy::collector::{Collector, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, Score, SegmentReader, Term};

use crate::automaton::Fuzzy;
use crate::schema::{Fields, STATUS_ACTIVE, STATUS_INACTIVE, facet};
use crate::segments::Snapshot;
use crate::text::tokens;
use crate::word::{AllWordsQuery, FieldScores, WordQuery};
use crate::{Audience, SearchRequest};

const MAX_WORDS: usize = 8;
/// (name fields, other fields)
const EXACT: (u8, u8) = (16, 12);
const PREFIX: (u8, u8) = (8, 6);
const FUZZY: (u8, u8) = (4, 3);

fn constant(query: Box<dyn Query>, score: Score) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(query, score))
}

fn fuzzy_distance(word: &str) -> u8 {
    match word.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Shortest last word matched as a prefix of a name, of a title, department, location or skill,
/// and of an email address. A single letter is someone's initial; as a prefix of every title and
/// skill it would only add noise (and work). Email addresses are unique per person, so a short
/// prefix would open thousands of terms for nothing the name fields do not already find.
const NAME_PREFIX_FROM_CHARS: usize = 1;
const OTHER_PREFIX_FROM_CHARS: usize = 2;
const EMAIL_PREFIX_FROM_CHARS: usize = 3;

fn field_scores(field: Field, is_name: bool, fuzzy: bool, prefix_from_chars: usize) -> FieldScores {
    let pick = |pair: (u8, u8)| if is_name { pair.0 } else { pair.1 };
    FieldScores {
        field,
        exact: pick(EXACT),
        prefix: pick(PREFIX),
        fuzzy: if fuzzy { pick(FUZZY) } else { 0 },
        prefix_from_chars,
    }
}

fn word_query(fields: &Fields, word: &str, is_last: bool) -> WordQuery {
    let distance = fuzzy_distance(word);
    // For the last word fuzzy prefix matching also covers whole-word typos and plain prefixes.
    let fuzzy = (distance > 0)
        .then(|| Fuzzy::new(word, distance, is_last))
        .flatten()
        .map(std::sync::Arc::new);
    WordQuery::new(
        word.to_owned(),
        is_last,
        fuzzy,
        vec![
            field_scores(fields.name, true, true, NAME_PREFIX_FROM_CHARS),
            field_scores(fields.other, false, true, OTHER_PREFIX_FROM_CHARS),
            field_scores(fields.email, false, false, EMAIL_PREFIX_FROM_CHARS),
        ],
    )
}

fn filter(field: Field, value: &str) -> Box<dyn Query> {
    let term = Term::from_field_text(field, facet(value));
    constant(
        Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
        0.0,
    )
}

pub fn build(fields: &Fields, segments: &Snapshot, request: &SearchRequest) -> Box<dyn Query> {
    let words: Vec<String> = tokens(&request.query).into_iter().take(MAX_WORDS).collect();
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let last = words.len().saturating_sub(1);
    if !words.is_empty() {
        let word_queries = words
            .iter()
            .enumerate()
            .map(|(position, word)| word_query(fields, word, position == last))
            .collect();
        clauses.push((
            Occur::Must,
            Box::new(AllWordsQuery::new(word_queries, segments.clone())),
        ));
    }
    let browse = clauses.is_empty();
    for (field, value) in [
        (fields.department, &request.department),
        (fields.location, &request.location),
        (fields.skill, &request.skill),
    ] {
        if let Some(value) = value.as_deref().filter(|value| !value.trim().is_empty()) {
            clauses.push((Occur::Must, filter(field, value)));
        }
    }
    match request.audience {
        Audience::Active => clauses.push((Occur::Must, filter(fields.status, STATUS_ACTIVE))),
        Audience::Inactive => clauses.push((Occur::Must, filter(fields.status, STATUS_INACTIVE))),
        Audience::Everyone => {}
    }
    if let Some(role) = request
        .role
        .as_deref()
        .filter(|role| !role.trim().is_empty())
    {
        clauses.push((Occur::Must, filter(fields.role, role)));
    }
    if browse {
        clauses.push((Occur::Must, constant(Box::new(AllQuery), 0.0)));
    }
    Box::new(BooleanQuery::new(clauses))
}

/// Best score first; equal scores in name order (surname without particle, then given name).
pub fn top_docs(
    limit: usize,
    offset: usize,
    segments: &Snapshot,
) -> impl Collector<Fruit = Vec<((Score, u64), DocAddress)>> {
    let segments = segments.clone();
    TopDocs::with_limit(limit).and_offset(offset).tweak_score(
        move |segment_reader: &SegmentReader| {
            let data = segments.data(segment_reader).ok();
            move |doc: DocId, score: Score| {
                let key = data.as_ref().map_or(u64::MAX, |data| data.sort_key(doc));
                (score, u64::MAX - key)
            }
        },
    )
}
