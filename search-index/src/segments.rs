//! What each segment needs at search time beyond tantivy's own structures, read once.
//!
//! A segment never changes once written (deletions only hide documents), so its person ids by
//! document and the tries of its name and other-field terms are read when it first becomes
//! searchable and dropped when a merge retires it. Reading ids from the document store instead
//! decompresses a block per hit; opening the id column's dictionary per search costs more still.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tantivy::columnar::{ColumnValues, StrColumn};
use tantivy::index::SegmentId;
use tantivy::schema::Field;
use tantivy::{DocAddress, DocId, Searcher, SegmentReader};

use crate::Result;
use crate::schema::{DEPARTMENT_FACET, ID_FIELD, LOCATION_FACET, SKILL_FACET, SORT_KEY_FIELD};
use crate::trie::Trie;

pub struct SegmentData {
    /// Person id by document number; deleted documents keep theirs (they are never hits).
    ids: Vec<String>,
    tries: Vec<(Field, Trie)>,
    /// Department, location and skill columns, in [`FACETS`] order.
    facets: Vec<Option<StrColumn>>,
    sort_keys: Option<Arc<dyn ColumnValues<u64>>>,
}

/// The counted facets, in the order searches report them.
pub const FACETS: [&str; 3] = [DEPARTMENT_FACET, LOCATION_FACET, SKILL_FACET];

impl SegmentData {
    pub fn read(reader: &SegmentReader, trie_fields: &[Field]) -> tantivy::Result<SegmentData> {
        let mut tries = Vec::with_capacity(trie_fields.len());
        for &field in trie_fields {
            let inverted_index = reader.inverted_index(field)?;
            tries.push((field, Trie::build(inverted_index.terms())?));
        }
        let mut facets = Vec::with_capacity(FACETS.len());
        for facet in FACETS {
            facets.push(reader.fast_fields().str(facet)?);
        }
        let sort_keys = reader
            .fast_fields()
            .u64(SORT_KEY_FIELD)
            .ok()
            .map(|column| column.first_or_default_col(u64::MAX));
        Ok(SegmentData {
            ids: read_ids(reader)?,
            tries,
            facets,
            sort_keys,
        })
    }

    /// A facet's column, by its position in [`FACETS`].
    pub fn facet(&self, position: usize) -> Option<&StrColumn> {
        self.facets.get(position).and_then(Option::as_ref)
    }

    /// The directory order of a document (surname without particle, given name); documents
    /// without one sort last.
    pub fn sort_key(&self, doc: DocId) -> u64 {
        self.sort_keys
            .as_ref()
            .map_or(u64::MAX, |column| column.get_val(doc))
    }

    /// The field's terms as a trie, if this field has one.
    pub fn trie(&self, field: Field) -> Option<&Trie> {
        self.tries
            .iter()
            .find(|(trie_field, _)| *trie_field == field)
            .map(|(_, trie)| trie)
    }
}

pub struct SegmentCache {
    snapshot: RwLock<Snapshot>,
}

impl SegmentCache {
    pub fn new(trie_fields: Vec<Field>) -> Self {
        SegmentCache {
            snapshot: RwLock::new(Snapshot {
                segments: Arc::default(),
                trie_fields: trie_fields.into(),
            }),
        }
    }

    /// Reads the segments new to `searcher` and forgets the ones it no longer has.
    pub fn refresh(&self, searcher: &Searcher) -> Result<()> {
        let known = self.snapshot();
        let mut current = HashMap::with_capacity(searcher.segment_readers().len());
        for reader in searcher.segment_readers() {
            current.insert(reader.segment_id(), known.data(reader)?);
        }
        *self
            .snapshot
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Snapshot {
            segments: Arc::new(current),
            trie_fields: known.trie_fields,
        };
        Ok(())
    }

    /// The segments known now; cheap to take, and unaffected by later refreshes.
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

#[derive(Clone)]
pub struct Snapshot {
    segments: Arc<HashMap<SegmentId, Arc<SegmentData>>>,
    trie_fields: Arc<[Field]>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("segments", &self.segments.len())
            .finish_non_exhaustive()
    }
}

impl Snapshot {
    /// A segment's data; read now for a segment a searcher taken just before a refresh holds.
    pub fn data(&self, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentData>> {
        match self.segments.get(&reader.segment_id()) {
            Some(data) => Ok(Arc::clone(data)),
            None => Ok(Arc::new(SegmentData::read(reader, &self.trie_fields)?)),
        }
    }

    /// The ids of `addresses`, in their order.
    pub fn ids(
        &self,
        searcher: &Searcher,
        addresses: impl Iterator<Item = DocAddress>,
    ) -> Result<Vec<String>> {
        let readers = searcher.segment_readers();
        let mut by_segment: Vec<Option<Arc<SegmentData>>> = vec![None; readers.len()];
        let mut ids = Vec::new();
        for address in addresses {
            let segment = address.segment_ord as usize;
            let Some(reader) = readers.get(segment) else {
                continue;
            };
            let data = match &by_segment[segment] {
                Some(data) => Arc::clone(data),
                None => {
                    let data = self.data(reader)?;
                    by_segment[segment] = Some(Arc::clone(&data));
                    data
                }
            };
            if let Some(id) = data.ids.get(address.doc_id as usize) {
                ids.push(id.clone());
            }
        }
        Ok(ids)
    }
}

fn read_ids(reader: &SegmentReader) -> tantivy::Result<Vec<String>> {
    let Some(column) = reader.fast_fields().str(ID_FIELD)? else {
        return Ok(Vec::new());
    };
    // Ordinals follow the dictionary order: one pass over it gives every id text.
    let mut terms = Vec::with_capacity(column.num_terms());
    let mut stream = column.dictionary().stream()?;
    while stream.advance() {
        terms.push(String::from_utf8_lossy(stream.key()).into_owned());
    }
    Ok((0..reader.max_doc())
        .map(|doc| {
            column
                .term_ords(doc)
                .next()
                .and_then(|ord| terms.get(ord as usize).cloned())
                .unwrap_or_default()
        })
        .collect())
}
