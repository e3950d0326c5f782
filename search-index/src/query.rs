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
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, DisjunctionMaxQuery, FuzzyTermQuery, Occur, Query,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, Score, SegmentReader, Term};

use crate::SearchRequest;
use crate::automaton::{AutomatonQuery, Builders};
use crate::schema::{Fields, facet};
use crate::text::tokens;

const MAX_WORDS: usize = 8;
const EXACT: (Score, Score) = (16.0, 12.0);
const PREFIX: (Score, Score) = (8.0, 6.0);
const FUZZY: (Score, Score) = (4.0, 3.0);

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

fn word_query(fields: &Fields, builders: &Builders, word: &str, is_last: bool) -> Box<dyn Query> {
    let distance = fuzzy_distance(word);
    // One automaton per kind, shared by both fields. For the last word a fuzzy prefix also
    // covers whole-word typos.
    let prefix = is_last.then(|| Term::from_field_text(fields.name, word));
    let fuzzy = (distance > 0).then(|| builders.build(word, distance, is_last));
    let mut alternatives: Vec<Box<dyn Query>> = Vec::new();
    for (field, weights) in [(fields.name, 0usize), (fields.other, 1usize)] {
        let score = |pair: (Score, Score)| if weights == 0 { pair.0 } else { pair.1 };
        let term = Term::from_field_text(field, word);
        alternatives.push(constant(
            Box::new(TermQuery::new(term.clone(), IndexRecordOption::Basic)),
            score(EXACT),
        ));
        if prefix.is_some() {
            alternatives.push(constant(
                Box::new(FuzzyTermQuery::new_prefix(term, 0, true)),
                score(PREFIX),
            ));
        }
        if let Some(automaton) = &fuzzy {
            alternatives.push(constant(
                Box::new(AutomatonQuery::new(field, automaton.clone())),
                score(FUZZY),
            ));
        }
    }
    let email = Term::from_field_text(fields.email, word);
    alternatives.push(constant(
        Box::new(TermQuery::new(email.clone(), IndexRecordOption::Basic)),
        EXACT.1,
    ));
    if prefix.is_some() {
        alternatives.push(constant(
            Box::new(FuzzyTermQuery::new_prefix(email, 0, true)),
            PREFIX.1,
        ));
    }
    Box::new(DisjunctionMaxQuery::new(alternatives))
}

fn filter(field: Field, value: &str) -> Box<dyn Query> {
    let term = Term::from_facet(field, &facet(value));
    constant(
        Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
        0.0,
    )
}

pub fn build(fields: &Fields, builders: &Builders, request: &SearchRequest) -> Box<dyn Query> {
    let words: Vec<String> = tokens(&request.query).into_iter().take(MAX_WORDS).collect();
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let last = words.len().saturating_sub(1);
    for (position, word) in words.iter().enumerate() {
        clauses.push((
            Occur::Must,
            word_query(fields, builders, word, position == last),
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
    if browse {
        clauses.push((Occur::Must, constant(Box::new(AllQuery), 0.0)));
    }
    Box::new(BooleanQuery::new(clauses))
}

/// Best score first; equal scores in name order (surname without particle, then given name).
pub fn top_docs(limit: usize) -> impl Collector<Fruit = Vec<((Score, u64), DocAddress)>> {
    TopDocs::with_limit(limit).tweak_score(move |segment_reader: &SegmentReader| {
        let sort_keys = segment_reader
            .fast_fields()
            .u64("sort_key")
            .ok()
            .map(|column| column.first_or_default_col(u64::MAX));
        move |doc: DocId, score: Score| {
            let key = sort_keys
                .as_ref()
                .map_or(u64::MAX, |column| column.get_val(doc));
            (score, u64::MAX - key)
        }
    })
}
