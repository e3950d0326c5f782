//! A segment's name and other-field terms as a byte trie in memory.
//!
//! Typo-tolerant matching walks a field's terms with an automaton. tantivy's term dictionary is
//! an FST kept compact on disk; decoding its nodes costs ≈ 70–80 ns per byte step, which made the
//! walk most of a search. These two fields hold few distinct terms (names, titles, departments,
//! offices and skills repeat across thousands of people), so a plain trie of them per segment is
//! small, built once when the segment becomes searchable, and walked at a few ns per step.

use std::io;

use tantivy::postings::TermInfo;
use tantivy::termdict::TermDictionary;
use tantivy_fst::Automaton;

const NO_TERM: u32 = u32::MAX;

/// One byte step. The children of a node are contiguous in `Trie::nodes`.
#[derive(Clone, Copy, Debug)]
struct Node {
    byte: u8,
    children: u16,
    first_child: u32,
    /// Index in `Trie::infos` of the term ending here, or `NO_TERM`.
    term: u32,
}

pub struct Trie {
    /// Breadth first; the root is node 0.
    nodes: Vec<Node>,
    infos: Vec<TermInfo>,
}

/// A node while building: its children by byte, in insertion (sorted) order.
struct Building {
    byte: u8,
    children: Vec<u32>,
    term: u32,
}

impl Trie {
    /// Reads every term of a dictionary.
    pub fn build(dictionary: &TermDictionary) -> io::Result<Trie> {
        let mut building = vec![Building {
            byte: 0,
            children: Vec::new(),
            term: NO_TERM,
        }];
        let mut infos = Vec::with_capacity(dictionary.num_terms());
        let mut stream = dictionary.stream()?;
        while stream.advance() {
            let mut at = 0usize;
            for &byte in stream.key() {
                // Terms come sorted, so a byte seen before is always the last child.
                let last = building[at]
                    .children
                    .last()
                    .copied()
                    .filter(|&child| building[child as usize].byte == byte);
                at = match last {
                    Some(child) => child as usize,
                    None => {
                        let child = building.len();
                        building.push(Building {
                            byte,
                            children: Vec::new(),
                            term: NO_TERM,
                        });
                        building[at].children.push(child as u32);
                        child
                    }
                };
            }
            building[at].term = infos.len() as u32;
            infos.push(stream.value().clone());
        }
        Ok(Trie {
            nodes: flatten(&building),
            infos,
        })
    }

    /// Calls `visit` with every term the automaton accepts (in no particular order), skipping
    /// every branch it rules out.
    pub fn walk<A: Automaton>(&self, automaton: &A, mut visit: impl FnMut(&[u8], &TermInfo)) {
        let Some(root) = self.nodes.first() else {
            return;
        };
        let start = automaton.start();
        if !automaton.can_match(&start) {
            return;
        }
        let mut stack: Vec<(u32, A::State, usize)> = Vec::new();
        self.push_children(automaton, root, &start, 1, &mut stack);
        let mut path: Vec<u8> = Vec::new();
        while let Some((index, state, depth)) = stack.pop() {
            let node = self.nodes[index as usize];
            path.truncate(depth - 1);
            path.push(node.byte);
            if node.term != NO_TERM && automaton.is_match(&state) {
                visit(&path, &self.infos[node.term as usize]);
            }
            self.push_children(automaton, &node, &state, depth + 1, &mut stack);
        }
    }

    fn push_children<A: Automaton>(
        &self,
        automaton: &A,
        node: &Node,
        state: &A::State,
        depth: usize,
        stack: &mut Vec<(u32, A::State, usize)>,
    ) {
        let first = node.first_child as usize;
        for index in first..first + usize::from(node.children) {
            let next = automaton.accept(state, self.nodes[index].byte);
            if automaton.can_match(&next) {
                stack.push((index as u32, next, depth));
            }
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.infos.len()
    }
}

/// Lays the nodes out breadth first so every node's children sit next to each other.
fn flatten(building: &[Building]) -> Vec<Node> {
    let mut nodes = Vec::with_capacity(building.len());
    let mut order = vec![0u32];
    let mut next = 0;
    while next < order.len() {
        let source = &building[order[next] as usize];
        nodes.push(Node {
            byte: source.byte,
            // A byte has 256 values, so a node has at most 256 children.
            children: source.children.len() as u16,
            first_child: order.len() as u32,
            term: source.term,
        });
        order.extend_from_slice(&source.children);
        next += 1;
    }
    nodes
}

#[cfg(test)]
mod tests {
    use tantivy::schema::{STRING, Schema};
    use tantivy::{Index, TantivyDocument};

    use super::*;

    /// Accepts terms starting with a prefix.
    struct StartsWith(&'static [u8]);

    impl Automaton for StartsWith {
        type State = Option<usize>;

        fn start(&self) -> Option<usize> {
            Some(0)
        }

        fn is_match(&self, state: &Option<usize>) -> bool {
            *state == Some(self.0.len())
        }

        fn can_match(&self, state: &Option<usize>) -> bool {
            state.is_some()
        }

        fn accept(&self, state: &Option<usize>, byte: u8) -> Option<usize> {
            let position = (*state)?;
            match self.0.get(position) {
                Some(&expected) => (expected == byte).then_some(position + 1),
                None => Some(position),
            }
        }
    }

    type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

    fn trie_of(words: &[&str]) -> TestResult<(Trie, Vec<String>)> {
        let mut builder = Schema::builder();
        let field = builder.add_text_field("word", STRING);
        let index = Index::create_in_ram(builder.build());
        let mut writer = index.writer(15_000_000)?;
        for word in words {
            let mut document = TantivyDocument::default();
            document.add_text(field, word);
            writer.add_document(document)?;
        }
        writer.commit()?;
        let searcher = index.reader()?.searcher();
        let segment = &searcher.segment_readers()[0];
        let inverted = segment.inverted_index(field)?;
        let trie = Trie::build(inverted.terms())?;
        let mut all = Vec::new();
        let mut stream = inverted.terms().stream()?;
        while stream.advance() {
            all.push(String::from_utf8(stream.key().to_vec())?);
        }
        Ok((trie, all))
    }

    fn walked(trie: &Trie, prefix: &'static str) -> Vec<String> {
        let mut found = Vec::new();
        trie.walk(&StartsWith(prefix.as_bytes()), |term, _| {
            found.push(String::from_utf8_lossy(term).into_owned());
        });
        found.sort();
        found
    }

    #[test]
    fn walks_every_accepted_term_and_nothing_else() -> TestResult {
        let words = [
            "rijnsoever",
            "rijn",
            "rijnsburg",
            "ruben",
            "r",
            "sanne",
            "zoë",
            "veld",
            "ver",
            "vermeulen",
        ];
        let (trie, all) = trie_of(&words)?;
        assert_eq!(trie.len(), words.len());
        assert_eq!(walked(&trie, ""), all);
        assert_eq!(walked(&trie, "rijn"), ["rijn", "rijnsburg", "rijnsoever"]);
        assert_eq!(
            walked(&trie, "r"),
            ["r", "rijn", "rijnsburg", "rijnsoever", "ruben"]
        );
        assert_eq!(walked(&trie, "ver"), ["ver", "vermeulen"]);
        assert_eq!(walked(&trie, "zo"), ["zoë"]);
        assert!(walked(&trie, "x").is_empty());
        Ok(())
    }

    #[test]
    fn term_infos_belong_to_their_terms() -> TestResult {
        let (trie, _) = trie_of(&["anna", "anna", "bram", "anna", "bram", "daan"])?;
        let mut frequencies = Vec::new();
        trie.walk(&StartsWith(b""), |term, info| {
            frequencies.push((String::from_utf8_lossy(term).into_owned(), info.doc_freq));
        });
        frequencies.sort();
        assert_eq!(
            frequencies,
            [
                ("anna".to_owned(), 3),
                ("bram".to_owned(), 2),
                ("daan".to_owned(), 1)
            ]
        );
        Ok(())
    }

    #[test]
    fn an_empty_dictionary_walks_nothing() -> TestResult {
        let trie = Trie::build(&TermDictionary::empty())?;
        assert!(walked(&trie, "").is_empty());
        Ok(())
    }
}
