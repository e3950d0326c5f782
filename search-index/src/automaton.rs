//! Typo tolerance without building an automaton up front.
//!
//! Matching a query word within one or two edits used to mean building a Levenshtein DFA per
//! word before the search could start (≈ 50 µs for a ten-letter word at distance 2, more than
//! the rest of the search). Instead the edit-distance table is computed lazily, one row per
//! character, while the term dictionary is walked; branches that can no longer match are pruned
//! at once, so only the few paths near the word are ever computed.
//!
//! Distances are counted in characters, with a transposition of two neighbours as one edit
//! (optimal string alignment): "dykstar" is one edit from "dykstra".

/// Longer words are matched exactly or as a prefix only.
pub const MAX_FUZZY_CHARS: usize = 64;
/// The largest edit budget.
pub const MAX_DISTANCE: u8 = 2;
/// Cells of a row kept: the diagonal and `MAX_DISTANCE` either side.
const BAND: usize = 2 * MAX_DISTANCE as usize + 1;

/// A word, an edit budget, and whether any term that merely starts within the budget matches
/// (for the word being typed).
#[derive(Debug, Clone)]
pub struct Fuzzy {
    word: Vec<char>,
    distance: u8,
    prefix: bool,
}

/// Where the walk through a term stands: the band of the edit-distance table around the
/// diagonal for the term so far (cell `k` is the word's prefix of `term length + k - distance`
/// characters), and for the term one character shorter (for transpositions). Small, because the
/// term dictionary walk copies it at every step.
#[derive(Clone, Copy, Debug)]
pub struct FuzzyState {
    current: [u8; BAND],
    previous: [u8; BAND],
    /// The term's last character, if any.
    last: Option<char>,
    /// Characters of the term so far.
    length: u16,
    /// Bytes of a character not yet complete.
    pending: [u8; 4],
    pending_len: u8,
    /// A prefix of the term is already within the budget (prefix matching only).
    matched: bool,
    dead: bool,
}

impl Fuzzy {
    /// `None` for words too long to match fuzzily.
    pub fn new(word: &str, distance: u8, prefix: bool) -> Option<Fuzzy> {
        let word: Vec<char> = word.chars().collect();
        (word.len() <= MAX_FUZZY_CHARS).then_some(Fuzzy {
            word,
            distance: distance.min(MAX_DISTANCE),
            prefix,
        })
    }

    fn cap(&self) -> u8 {
        self.distance + 1
    }

    /// The word's prefix length a cell stands for, at a term length; `None` outside the word.
    fn position(&self, length: usize, cell: usize) -> Option<usize> {
        let position = (length + cell).checked_sub(usize::from(self.distance))?;
        (position <= self.word.len()).then_some(position)
    }

    /// The cell of the whole word at a term length, if it lies in the band.
    fn word_cell(&self, length: usize) -> Option<usize> {
        let cell = (self.word.len() + usize::from(self.distance)).checked_sub(length)?;
        (cell <= 2 * usize::from(self.distance)).then_some(cell)
    }

    pub fn start(&self) -> FuzzyState {
        let cap = self.cap();
        let mut current = [cap; BAND];
        for (cell, slot) in current.iter_mut().enumerate() {
            if let Some(position) = self.position(0, cell) {
                *slot = u8::try_from(position).unwrap_or(cap).min(cap);
            }
        }
        let mut state = FuzzyState {
            current,
            previous: [cap; BAND],
            last: None,
            length: 0,
            pending: [0; 4],
            pending_len: 0,
            matched: false,
            dead: false,
        };
        state.matched = self.prefix && self.ends_within_budget(&state);
        state
    }

    fn ends_within_budget(&self, state: &FuzzyState) -> bool {
        self.word_cell(usize::from(state.length))
            .is_some_and(|cell| state.current[cell] <= self.distance)
    }

    pub fn is_match(&self, state: &FuzzyState) -> bool {
        if state.dead || state.pending_len > 0 {
            return false;
        }
        state.matched || self.ends_within_budget(state)
    }

    pub fn can_match(&self, state: &FuzzyState) -> bool {
        !state.dead
    }

    pub fn accept(&self, state: &FuzzyState, byte: u8) -> FuzzyState {
        let mut next = *state;
        // Past a matching prefix every longer term matches too; nothing left to compute.
        if next.dead || next.matched {
            return next;
        }
        let complete = if next.pending_len == 0 && byte < 0x80 {
            Some(char::from(byte))
        } else {
            next.pending[usize::from(next.pending_len)] = byte;
            next.pending_len += 1;
            let expected = match next.pending[0] {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF7 => 4,
                _ => 1,
            };
            if usize::from(next.pending_len) < expected {
                None
            } else {
                let character = std::str::from_utf8(&next.pending[..usize::from(next.pending_len)])
                    .ok()
                    .and_then(|text| text.chars().next())
                    .unwrap_or(char::REPLACEMENT_CHARACTER);
                next.pending_len = 0;
                Some(character)
            }
        };
        if let Some(character) = complete {
            self.step(&mut next, character);
        }
        next
    }

    /// Adds one character of the term: the next band of the table. Values are capped at
    /// `distance + 1`, which is all "too far" needs to say.
    fn step(&self, state: &mut FuzzyState, character: char) {
        let cap = self.cap();
        let length = usize::from(state.length) + 1;
        let width = 2 * usize::from(self.distance) + 1;
        let mut row = [cap; BAND];
        let mut smallest = cap;
        for cell in 0..width {
            let Some(position) = self.position(length, cell) else {
                continue;
            };
            let best = if position == 0 {
                u8::try_from(length).unwrap_or(cap).min(cap)
            } else {
                let wanted = self.word[position - 1];
                let substitution = state.current[cell] + u8::from(wanted != character);
                let insertion = state.current.get(cell + 1).map_or(cap, |value| value + 1);
                let deletion = cell.checked_sub(1).map_or(cap, |left| row[left] + 1);
                let mut best = substitution.min(insertion).min(deletion);
                if position > 1
                    && state.last == Some(wanted)
                    && self.word[position - 2] == character
                {
                    best = best.min(state.previous[cell] + 1);
                }
                best.min(cap)
            };
            row[cell] = best;
            smallest = smallest.min(best);
        }
        state.previous = state.current;
        state.current = row;
        state.last = Some(character);
        state.length = state.length.saturating_add(1);
        if self.prefix && self.ends_within_budget(state) {
            state.matched = true;
        }
        if !state.matched && smallest > self.distance {
            state.dead = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(word: &str, distance: u8, prefix: bool, term: &str) -> bool {
        let Some(fuzzy) = Fuzzy::new(word, distance, prefix) else {
            return false;
        };
        let state = term
            .bytes()
            .fold(fuzzy.start(), |state, byte| fuzzy.accept(&state, byte));
        fuzzy.is_match(&state)
    }

    #[test]
    fn whole_words_within_the_budget_match() {
        assert!(matches("rijnsoever", 2, false, "rijnsoever"));
        assert!(matches("rijnsoevr", 1, false, "rijnsoever"));
        assert!(matches("rijnsovre", 2, false, "rijnsoever"));
        assert!(!matches("rijnsovr", 1, false, "rijnsoever"));
        assert!(matches("jansen", 1, false, "jansens"));
        assert!(!matches("jansen", 1, false, "janssens"));
    }

    #[test]
    fn a_transposition_is_one_edit() {
        assert!(matches("dijkstar", 1, false, "dijkstra"));
        assert!(matches("snane", 1, false, "sanne"));
        assert!(!matches("snaen", 1, false, "sanne"));
    }

    #[test]
    fn prefixes_match_terms_that_start_within_the_budget() {
        assert!(matches("rijns", 1, true, "rijnsoever"));
        assert!(matches("rjins", 1, true, "rijnsoever"));
        assert!(!matches("rijns", 1, false, "rijnsoever"));
        assert!(!matches("xyzab", 1, true, "rijnsoever"));
    }

    #[test]
    fn edits_are_counted_in_characters_not_bytes() {
        assert!(matches("yilmaz", 1, false, "yılmaz"));
        assert!(matches("zoe", 1, false, "zoë"));
        assert!(!matches("yilmaz", 0, false, "yılmaz"));
    }

    /// Optimal string alignment distance over characters, the plain way.
    fn reference(word: &str, term: &str) -> usize {
        let a: Vec<char> = word.chars().collect();
        let b: Vec<char> = term.chars().collect();
        let mut table = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for (i, row) in table.iter_mut().enumerate() {
            row[0] = i;
        }
        for (j, cell) in table[0].iter_mut().enumerate() {
            *cell = j;
        }
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut best = (table[i - 1][j] + 1)
                    .min(table[i][j - 1] + 1)
                    .min(table[i - 1][j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    best = best.min(table[i - 2][j - 2] + 1);
                }
                table[i][j] = best;
            }
        }
        table[a.len()][b.len()]
    }

    #[test]
    fn the_banded_walk_agrees_with_the_full_table() {
        let words = [
            "rijnsoever",
            "rijnsovre",
            "rynsoever",
            "jansen",
            "janssen",
            "jansens",
            "dijkstra",
            "dykstra",
            "sanne",
            "snane",
            "anne",
            "zoë",
            "zoe",
            "yılmaz",
            "yilmaz",
            "bakker",
            "baker",
            "veld",
            "intveld",
            "devries",
            "vries",
            "de",
            "r",
            "ab",
            "abcd",
            "dcba",
        ];
        for word in words {
            for term in words {
                for distance in 1..=2u8 {
                    let within = reference(word, term) <= usize::from(distance);
                    assert_eq!(
                        matches(word, distance, false, term),
                        within,
                        "{word} ~ {term} within {distance}"
                    );
                    let prefix_within = (0..=term.chars().count()).any(|end| {
                        let prefix: String = term.chars().take(end).collect();
                        reference(word, &prefix) <= usize::from(distance)
                    });
                    assert_eq!(
                        matches(word, distance, true, term),
                        prefix_within,
                        "{word} prefix of {term} within {distance}"
                    );
                }
            }
        }
    }
}
