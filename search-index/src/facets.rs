//! Facet counts (department, location, skill) in one collector over string fast fields: per
//! matching person a few ordinal reads and increments; names are looked up once per value at the
//! end. tantivy's own facet collector, run once per field, cost as much as the search itself.

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::segments::{FACETS, Snapshot};

/// Counts per value, one map per counted field, in [`FACETS`] order.
pub type Counts = Vec<HashMap<String, u64>>;

pub struct FacetCounter {
    segments: Snapshot,
}

impl FacetCounter {
    /// Counts every facet in [`FACETS`], from the columns each segment keeps open.
    pub fn new(segments: Snapshot) -> Self {
        FacetCounter { segments }
    }
}

pub struct SegmentFacetCounter {
    columns: Vec<Option<(StrColumn, Vec<u32>)>>,
}

impl Collector for FacetCounter {
    type Fruit = Counts;
    type Child = SegmentFacetCounter;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFacetCounter> {
        let data = self.segments.data(reader)?;
        let columns = (0..FACETS.len())
            .map(|position| {
                data.facet(position).map(|column| {
                    let counts = vec![0u32; column.num_terms()];
                    (column.clone(), counts)
                })
            })
            .collect();
        Ok(SegmentFacetCounter { columns })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Counts>) -> tantivy::Result<Counts> {
        let mut merged: Counts = vec![HashMap::new(); FACETS.len()];
        for fruit in fruits {
            for (total, counts) in merged.iter_mut().zip(fruit) {
                for (value, count) in counts {
                    *total.entry(value).or_insert(0) += count;
                }
            }
        }
        Ok(merged)
    }
}

impl SegmentCollector for SegmentFacetCounter {
    type Fruit = Counts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for (column, counts) in self.columns.iter_mut().flatten() {
            for ord in column.term_ords(doc) {
                if let Some(count) = counts.get_mut(ord as usize) {
                    *count += 1;
                }
            }
        }
    }

    fn harvest(self) -> Counts {
        self.columns
            .into_iter()
            .map(|column| {
                let mut values = HashMap::new();
                let Some((column, counts)) = column else {
                    return values;
                };
                let mut text = String::new();
                for (ord, &count) in counts.iter().enumerate() {
                    if count > 0 && column.ord_to_str(ord as u64, &mut text).unwrap_or(false) {
                        values.insert(text.clone(), u64::from(count));
                    }
                }
                values
            })
            .collect()
    }
}
