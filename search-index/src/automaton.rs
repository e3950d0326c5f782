//! Typo-tolerant term matching with one Levenshtein automaton per query word, shared by every
//! field the word is looked up in (building the automaton is the expensive part of a search).

use std::sync::Arc;

use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder, SINK_STATE};
use tantivy::query::{AutomatonWeight, EnableScoring, Query, Weight};
use tantivy::schema::Field;

/// Builders for distances 1 and 2 with transpositions as one edit; made once per index, they take
/// milliseconds to build and microseconds to use.
pub struct Builders {
    by_distance: [LevenshteinAutomatonBuilder; 2],
}

impl Builders {
    pub fn new() -> Self {
        Builders {
            by_distance: [
                LevenshteinAutomatonBuilder::new(1, true),
                LevenshteinAutomatonBuilder::new(2, true),
            ],
        }
    }

    /// The automaton for `word` within `distance` (1 or 2), whole word or as a prefix.
    pub fn build(&self, word: &str, distance: u8, prefix: bool) -> Arc<SharedDfa> {
        let builder = &self.by_distance[usize::from(distance.clamp(1, 2) - 1)];
        let dfa = if prefix {
            builder.build_prefix_dfa(word)
        } else {
            builder.build_dfa(word)
        };
        Arc::new(SharedDfa(dfa))
    }
}

pub struct SharedDfa(DFA);

impl tantivy_fst::Automaton for SharedDfa {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}

/// Matches the terms of one field accepted by a shared automaton.
#[derive(Clone)]
pub struct AutomatonQuery {
    field: Field,
    automaton: Arc<SharedDfa>,
}

impl AutomatonQuery {
    pub fn new(field: Field, automaton: Arc<SharedDfa>) -> Self {
        AutomatonQuery { field, automaton }
    }
}

impl std::fmt::Debug for AutomatonQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutomatonQuery")
            .field("field", &self.field)
            .finish_non_exhaustive()
    }
}

impl Query for AutomatonQuery {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(AutomatonWeight::<SharedDfa>::new(
            self.field,
            Arc::clone(&self.automaton),
        )))
    }
}
