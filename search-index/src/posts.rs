//! Post search: the words of posts and comments, folded like people search (accents, case),
//! every query word matched as a word, with one typo forgiven from five letters, and the last
//! one also as a prefix (people type as they search). One document per post or comment, with
//! its group and author for the filter and the facets. On disk, kept current from the outbox;
//! which groups a searcher may read is decided by the server and passed in.

use std::path::Path;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::query::{BooleanQuery, Weight};
use tantivy::schema::{FAST, Field, INDEXED, STORED, STRING, Schema, Value as _};
use tantivy::{
    DocAddress, DocId, DocSet as _, Score, SegmentOrdinal, SegmentReader, TERMINATED,
    TantivyDocument, Term,
};

use crate::text::tokens;
use crate::written::{
    FACET_SHARD_FACTOR, KeptIndex, KeyTest, OneValue, WrittenIndex, accepted_ords, most_common,
    sum_segments, words, words_options,
};
use crate::{FacetValue, OpenState, Result};

pub use crate::written::KeyFilter as GroupFilter;

/// Bumped whenever the schema or the text folding changes; the index is then rebuilt.
pub const POST_SCHEMA_VERSION: u32 = 2;
const GROUP_ID: &str = "group_id";
const AUTHOR_ID: &str = "author_id";
const CREATED: &str = "created";
pub const MAX_POST_LIMIT: usize = 50;
const FACET_VALUES: usize = 20;

/// A post or a comment, as the index knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostDocument {
    /// The post's or the comment's id.
    pub id: String,
    /// The post (for a comment: the post it is on).
    pub post_id: String,
    pub group_id: String,
    pub author_id: String,
    /// `post` or `comment`.
    pub kind: String,
    pub text: String,
    /// Milliseconds since 1970; newer wins among equally good matches.
    pub created_millis: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostSearch {
    pub query: String,
    /// The groups whose posts the searcher may read.
    pub groups: GroupFilter,
    /// Only this group.
    pub group: Option<String>,
    /// Only by this person.
    pub author: Option<String>,
    pub limit: usize,
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostHit {
    pub id: String,
    pub post_id: String,
    /// `post` or `comment`.
    pub kind: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostResults {
    /// Best match first.
    pub hits: Vec<PostHit>,
    pub total: usize,
    /// Matches per group and per author (most first), before the group and author filters.
    pub groups: Vec<FacetValue>,
    pub authors: Vec<FacetValue>,
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    post_id: Field,
    group_id: Field,
    author_id: Field,
    kind: Field,
    text: Field,
    created: Field,
}

impl KeptIndex for PostIndex {
    fn kept(&self) -> &WrittenIndex {
        &self.store
    }
}

pub struct PostIndex {
    store: WrittenIndex,
    fields: Fields,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let fields = Fields {
        id: builder.add_text_field("id", STRING | STORED),
        post_id: builder.add_text_field("post_id", STRING | STORED),
        // Fast too: the facets count them per match from their columns.
        group_id: builder.add_text_field(GROUP_ID, STRING | FAST),
        author_id: builder.add_text_field(AUTHOR_ID, STRING | FAST),
        kind: builder.add_text_field("kind", STRING | STORED),
        text: builder.add_text_field("text", words_options()),
        created: builder.add_i64_field(CREATED, INDEXED | FAST),
    };
    (builder.build(), fields)
}

impl PostIndex {
    /// Opens the index in `dir`, creating it, or wiping it when its schema version differs.
    pub fn open(dir: &Path) -> Result<(PostIndex, OpenState)> {
        let (schema, fields) = schema();
        let (store, state) = WrittenIndex::open(dir, schema, POST_SCHEMA_VERSION)?;
        Ok((PostIndex { store, fields }, state))
    }

    /// An index in memory, for tests and benchmarks.
    pub fn in_memory() -> Result<PostIndex> {
        let (schema, fields) = schema();
        Ok(PostIndex {
            store: WrittenIndex::in_memory(schema, POST_SCHEMA_VERSION)?,
            fields,
        })
    }

    fn document(&self, item: &PostDocument) -> TantivyDocument {
        let fields = self.fields;
        let mut document = TantivyDocument::default();
        document.add_text(fields.id, &item.id);
        document.add_text(fields.post_id, &item.post_id);
        document.add_text(fields.group_id, &item.group_id);
        document.add_text(fields.author_id, &item.author_id);
        document.add_text(fields.kind, &item.kind);
        document.add_text(fields.text, tokens(&item.text).join(" "));
        document.add_i64(fields.created, item.created_millis);
        document
    }

    /// Adds or replaces posts and comments. Visible after [`commit`](Self::commit).
    pub fn upsert(&self, items: &[PostDocument]) -> Result<()> {
        let writer = self.store.writer()?;
        for item in items {
            writer.delete_term(Term::from_field_text(self.fields.id, &item.id));
            writer.add_document(self.document(item))?;
        }
        Ok(())
    }

    /// Removes posts or comments by id, and everything on the posts among them.
    pub fn remove(&self, ids: &[String]) -> Result<()> {
        let writer = self.store.writer()?;
        for id in ids {
            writer.delete_term(Term::from_field_text(self.fields.id, id));
            writer.delete_term(Term::from_field_text(self.fields.post_id, id));
        }
        Ok(())
    }

    /// Removes everything in a group (deleted).
    pub fn remove_group(&self, group_id: &str) -> Result<()> {
        self.store
            .writer()?
            .delete_term(Term::from_field_text(self.fields.group_id, group_id));
        Ok(())
    }

    pub fn search(&self, request: &PostSearch) -> Result<PostResults> {
        let fields = self.fields;
        let words = words(fields.text, &request.query);
        if words.is_empty() || request.groups.is_nothing() {
            return Ok(PostResults::default());
        }
        let searcher = self.store.searcher();
        let limit = request.limit.clamp(1, MAX_POST_LIMIT);
        let matches = Matches {
            groups: request.groups.test(),
            group: request.group.clone(),
            author: request.author.clone(),
            kept: request.offset.saturating_add(limit),
        };
        let found = searcher.search(&BooleanQuery::new(words), &matches)?;
        let mut hits = Vec::with_capacity(limit);
        for ranked in found.best.into_iter().skip(request.offset).take(limit) {
            let document: TantivyDocument = searcher.doc(ranked.address)?;
            let text = |field: Field| {
                document
                    .get_first(field)
                    .and_then(|value| value.as_str())
                    .map(str::to_owned)
            };
            if let (Some(id), Some(post_id), Some(kind)) =
                (text(fields.id), text(fields.post_id), text(fields.kind))
            {
                hits.push(PostHit { id, post_id, kind });
            }
        }
        Ok(PostResults {
            hits,
            total: found.total,
            groups: found.groups,
            authors: found.authors,
        })
    }
}

/// Everything a post search needs from the words' matches, in one pass over them: each match's
/// group is read once and decides whether the searcher may read it; the readable ones are
/// counted per group and per author (the facets, before the group and author filters narrow),
/// and those the filters keep are counted and ranked (best score, then newest). A match the
/// searcher may not read is never scored.
struct Matches {
    groups: KeyTest,
    group: Option<String>,
    author: Option<String>,
    /// Hits kept per segment: the page asked for and every one before it.
    kept: usize,
}

struct Found {
    /// Best first.
    best: Vec<Ranked>,
    total: usize,
    groups: Vec<FacetValue>,
    authors: Vec<FacetValue>,
}

#[derive(Debug, Clone, Copy)]
struct Ranked {
    score: Score,
    created: i64,
    address: DocAddress,
}

impl Ranked {
    /// Greater is better: a higher score, then newer, then the earlier document.
    fn rank(&self, other: &Self) -> std::cmp::Ordering {
        self.score
            .total_cmp(&other.score)
            .then(self.created.cmp(&other.created))
            .then(other.address.cmp(&self.address))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.rank(other).is_eq()
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank(other)
    }
}

/// A filter of the hits on a column: none, a value's ordinal in this segment, or a value the
/// segment does not hold (nothing here passes).
#[derive(Clone, Copy)]
enum Narrow {
    Any,
    Ord(usize),
    Absent,
}

impl Narrow {
    fn of(value: Option<&str>, column: Option<&StrColumn>) -> std::io::Result<Narrow> {
        let Some(value) = value else {
            return Ok(Narrow::Any);
        };
        let ord = match column {
            Some(column) => column.dictionary().term_ord(value.as_bytes())?,
            None => None,
        };
        Ok(ord
            .and_then(|ord| usize::try_from(ord).ok())
            .map_or(Narrow::Absent, Narrow::Ord))
    }

    fn passes(self, ord: Option<usize>) -> bool {
        match self {
            Narrow::Any => true,
            Narrow::Ord(wanted) => ord == Some(wanted),
            Narrow::Absent => false,
        }
    }
}

struct SegmentMatches {
    segment: SegmentOrdinal,
    /// None when the segment has no group column (no documents).
    groups: Option<(StrColumn, OneValue<u64>)>,
    readable: Vec<bool>,
    group_counts: Vec<u32>,
    authors: Option<(StrColumn, OneValue<u64>)>,
    author_counts: Vec<u32>,
    created: Option<OneValue<i64>>,
    only_group: Narrow,
    only_author: Narrow,
    kept: usize,
    /// The best so far, in no order: up to twice `kept` before they are pruned to `kept`
    /// (amortised, a match costs no more than a comparison with the floor).
    best: Vec<Ranked>,
    /// The worst of the best since the last pruning; nothing below it can make the page.
    floor: Option<Ranked>,
    total: usize,
    shard: usize,
}

impl SegmentMatches {
    /// Takes a match; `score` is asked only when the searcher may read it and the filters keep it.
    #[inline]
    fn offer(&mut self, doc: DocId, score: impl FnOnce() -> Score) {
        let Some(group) = self.groups.as_ref().and_then(|(_, ords)| ords.ord(doc)) else {
            return;
        };
        if !self.readable.get(group).copied().unwrap_or(false) {
            return;
        }
        if let Some(count) = self.group_counts.get_mut(group) {
            *count += 1;
        }
        let author = self.authors.as_ref().and_then(|(_, ords)| ords.ord(doc));
        if let Some(count) = author.and_then(|author| self.author_counts.get_mut(author)) {
            *count += 1;
        }
        if !self.only_group.passes(Some(group)) || !self.only_author.passes(author) {
            return;
        }
        self.total += 1;
        if self.kept == 0 {
            return;
        }
        let score = score();
        if self.floor.is_some_and(|floor| score < floor.score) {
            return;
        }
        let ranked = Ranked {
            score,
            created: self
                .created
                .as_ref()
                .and_then(|created| created.of(doc))
                .unwrap_or(i64::MIN),
            address: DocAddress::new(self.segment, doc),
        };
        if self.floor.is_some_and(|floor| ranked < floor) {
            return;
        }
        self.best.push(ranked);
        if self.best.len() >= self.kept.saturating_mul(2) {
            self.prune();
        }
    }

    /// Keeps the `kept` best and raises the floor to the last of them.
    fn prune(&mut self) {
        if self.best.len() <= self.kept {
            return;
        }
        let last = self.kept.saturating_sub(1);
        self.best.select_nth_unstable_by(last, |a, b| b.cmp(a));
        self.best.truncate(self.kept);
        self.floor = self.best.get(last).copied();
    }
}

impl SegmentCollector for SegmentMatches {
    type Fruit = (Vec<Ranked>, usize, Vec<(String, u64)>, Vec<(String, u64)>);

    fn collect(&mut self, doc: DocId, score: Score) {
        self.offer(doc, || score);
    }

    fn harvest(mut self) -> Self::Fruit {
        self.prune();
        let named = |column: &Option<(StrColumn, OneValue<u64>)>, counts: &[u32]| {
            column
                .as_ref()
                .map(|(column, _)| most_common(column, counts, self.shard))
                .unwrap_or_default()
        };
        let groups = named(&self.groups, &self.group_counts);
        let authors = named(&self.authors, &self.author_counts);
        (self.best, self.total, groups, authors)
    }
}

impl Collector for Matches {
    type Fruit = Found;
    type Child = SegmentMatches;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentMatches> {
        let fast = reader.fast_fields();
        let groups = fast.str(GROUP_ID)?;
        let authors = fast.str(AUTHOR_ID)?;
        let readable = match &groups {
            Some(column) => accepted_ords(column, &self.groups)?,
            None => Vec::new(),
        };
        let counts = |column: &Option<StrColumn>| {
            vec![0u32; column.as_ref().map_or(0, |column| column.num_terms())]
        };
        let with_ords = |column: Option<StrColumn>| {
            column.map(|column| {
                let ords = OneValue::ords(&column);
                (column, ords)
            })
        };
        Ok(SegmentMatches {
            segment,
            only_group: Narrow::of(self.group.as_deref(), groups.as_ref())?,
            only_author: Narrow::of(self.author.as_deref(), authors.as_ref())?,
            group_counts: counts(&groups),
            author_counts: counts(&authors),
            groups: with_ords(groups),
            readable,
            authors: with_ords(authors),
            created: fast.column_opt::<i64>(CREATED)?.map(OneValue::new),
            kept: self.kept,
            best: Vec::with_capacity(self.kept.saturating_mul(2)),
            floor: None,
            total: 0,
            shard: FACET_VALUES.saturating_mul(FACET_SHARD_FACTOR),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    /// Walks the words' matches itself, so that a match is scored only when it is kept.
    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<<SegmentMatches as SegmentCollector>::Fruit> {
        let mut matches = self.for_segment(segment, reader)?;
        let mut scorer = weight.scorer(reader, 1.0)?;
        let alive = reader.alive_bitset();
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            if alive.is_none_or(|alive| alive.is_alive(doc)) {
                matches.offer(doc, || scorer.score());
            }
            doc = scorer.advance();
        }
        Ok(matches.harvest())
    }

    fn merge_fruits(
        &self,
        segments: Vec<<SegmentMatches as SegmentCollector>::Fruit>,
    ) -> tantivy::Result<Found> {
        let mut best = Vec::new();
        let mut total = 0;
        for (ranked, count, _, _) in &segments {
            best.extend_from_slice(ranked);
            total += count;
        }
        best.sort_unstable_by(|a, b| b.cmp(a));
        best.truncate(self.kept);
        Ok(Found {
            best,
            total,
            groups: sum_segments(
                segments.iter().map(|(_, _, groups, _)| groups.as_slice()),
                FACET_VALUES,
            ),
            authors: sum_segments(
                segments.iter().map(|(_, _, _, authors)| authors.as_slice()),
                FACET_VALUES,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SearchError;

    fn item(id: &str, post: &str, group: &str, author: &str, text: &str) -> PostDocument {
        PostDocument {
            id: id.to_owned(),
            post_id: post.to_owned(),
            group_id: group.to_owned(),
            author_id: author.to_owned(),
            kind: if id == post { "post" } else { "comment" }.to_owned(),
            text: text.to_owned(),
            created_millis: 0,
        }
    }

    fn search(index: &PostIndex, query: &str, groups: &[&str]) -> Result<PostResults> {
        index.search(&PostSearch {
            query: query.to_owned(),
            groups: GroupFilter::Only(groups.iter().map(|group| (*group).to_owned()).collect()),
            limit: 10,
            ..PostSearch::default()
        })
    }

    fn ids(results: &PostResults) -> Vec<&str> {
        let mut ids: Vec<&str> = results.hits.iter().map(|hit| hit.id.as_str()).collect();
        ids.sort_unstable();
        ids
    }

    #[test]
    fn words_typos_prefixes_and_only_readable_groups() -> Result<()> {
        let index = PostIndex::in_memory()?;
        index.upsert(&[
            item(
                "p1",
                "p1",
                "g1",
                "anna",
                "De borrel is vrijdag in de kantine",
            ),
            item(
                "c1",
                "p1",
                "g1",
                "bram",
                "Ik neem bitterballen mee naar de borrel",
            ),
            item(
                "p2",
                "p2",
                "g2",
                "anna",
                "Reorganisatie: vertrouwelijk plan",
            ),
            item("p3", "p3", "g1", "carla", "Café open tot laat"),
        ])?;
        index.commit(7)?;
        assert_eq!(ids(&search(&index, "borrel", &["g1"])?), ["c1", "p1"]);
        assert_eq!(
            ids(&search(&index, "borl", &["g1"])?),
            Vec::<&str>::new(),
            "4 letters: no typo"
        );
        assert_eq!(
            ids(&search(&index, "borel", &["g1"])?),
            ["c1", "p1"],
            "5 letters: one typo"
        );
        assert_eq!(
            ids(&search(&index, "bitterbalen", &["g1"])?),
            ["c1"],
            "one typo"
        );
        assert_eq!(
            ids(&search(&index, "borrel kant", &["g1"])?),
            ["p1"],
            "last word as prefix"
        );
        assert_eq!(
            ids(&search(&index, "cafe", &["g1"])?),
            ["p3"],
            "accents folded"
        );
        assert_eq!(
            ids(&search(&index, "reorganisatie", &["g1"])?),
            Vec::<&str>::new(),
            "another group's posts are not searched"
        );
        assert_eq!(
            ids(&search(&index, "reorganisatie", &["g1", "g2"])?),
            ["p2"]
        );
        assert_eq!(ids(&search(&index, "", &["g1"])?), Vec::<&str>::new());
        Ok(())
    }

    #[test]
    fn the_group_filter_checks_every_match_in_every_segment() -> Result<()> {
        let index = PostIndex::in_memory()?;
        index.upsert(&[
            item("p1", "p1", "g1", "anna", "borrel"),
            item("p2", "p2", "g2", "anna", "borrel"),
            item("p3", "p3", "g3", "anna", "borrel"),
        ])?;
        index.commit(1)?;
        // A later segment holds a group of its own: each segment's group column is matched
        // against the readable list by itself.
        index.upsert(&[item("p4", "p4", "g4", "anna", "borrel")])?;
        index.commit(2)?;
        let with = |groups: GroupFilter| -> Result<Vec<String>> {
            let results = index.search(&PostSearch {
                query: "borrel".to_owned(),
                groups,
                limit: 10,
                ..PostSearch::default()
            })?;
            let mut ids: Vec<String> = results.hits.into_iter().map(|hit| hit.id).collect();
            ids.sort();
            Ok(ids)
        };
        let listed = |groups: &[&str]| groups.iter().map(|group| (*group).to_owned()).collect();
        let found = |groups: &[&str]| with(GroupFilter::Only(listed(groups)));
        assert_eq!(found(&["g1"])?, ["p1"]);
        assert_eq!(
            found(&["g3", "g1", "g2"])?,
            ["p1", "p2", "p3"],
            "in any order"
        );
        assert_eq!(found(&["g4", "g0", "g2"])?, ["p2", "p4"], "across segments");
        assert_eq!(
            found(&["g5", "g4", "g3", "g2", "g1", "g1"])?,
            ["p1", "p2", "p3", "p4"],
            "nothing is left out"
        );
        assert_eq!(found(&["g9"])?, Vec::<String>::new());
        let all_but = |groups: &[&str]| with(GroupFilter::AllBut(listed(groups)));
        assert_eq!(all_but(&[])?, ["p1", "p2", "p3", "p4"]);
        assert_eq!(all_but(&["g4", "g1"])?, ["p2", "p3"], "across segments");
        assert_eq!(all_but(&["g9"])?, ["p1", "p2", "p3", "p4"]);
        let accepted =
            |test: fn(&[u8]) -> bool| with(GroupFilter::Accepted(crate::KeyTest::new(test)));
        assert_eq!(
            accepted(|key| key != b"g2".as_slice() && key != b"g3".as_slice())?,
            ["p1", "p4"],
            "across segments"
        );
        assert_eq!(accepted(|_| false)?, Vec::<String>::new());
        assert_eq!(accepted(|_| true)?, ["p1", "p2", "p3", "p4"]);
        Ok(())
    }

    #[test]
    fn equal_matches_rank_newest_first_and_pages_follow_on_across_segments() -> Result<()> {
        let index = PostIndex::in_memory()?;
        let at = |id: &str, group: &str, author: &str, millis: i64| PostDocument {
            created_millis: millis,
            ..item(id, id, group, author, "picknick in het park")
        };
        // Three segments, the times mixed over them; g9 is not readable.
        index.upsert(&[at("p1", "g1", "anna", 10), at("p5", "g2", "bram", 50)])?;
        index.commit(1)?;
        index.upsert(&[at("p3", "g1", "bram", 30), at("p9", "g9", "anna", 90)])?;
        index.commit(2)?;
        index.upsert(&[at("p2", "g2", "anna", 20), at("p4", "g1", "anna", 40)])?;
        index.commit(3)?;
        let page = |offset: usize, group: Option<&str>| {
            index.search(&PostSearch {
                query: "picknick".to_owned(),
                groups: GroupFilter::AllBut(vec!["g9".to_owned()]),
                group: group.map(str::to_owned),
                limit: 2,
                offset,
                ..PostSearch::default()
            })
        };
        let in_order = |results: &PostResults| -> Vec<String> {
            results.hits.iter().map(|hit| hit.id.clone()).collect()
        };
        let mut walked = Vec::new();
        for offset in [0, 2, 4] {
            let results = page(offset, None)?;
            assert_eq!(results.total, 5, "the unreadable match is not counted");
            walked.extend(in_order(&results));
        }
        assert_eq!(walked, ["p5", "p4", "p3", "p2", "p1"]);
        // Narrowed to g1, which the first segment holds but not the last's newest.
        let narrowed = page(0, Some("g1"))?;
        assert_eq!(in_order(&narrowed), ["p4", "p3"]);
        assert_eq!(narrowed.total, 3);
        let facet = |values: &[FacetValue]| -> Vec<(String, u64)> {
            values
                .iter()
                .map(|facet| (facet.value.clone(), facet.count))
                .collect()
        };
        assert_eq!(
            facet(&narrowed.groups),
            [("g1".to_owned(), 3), ("g2".to_owned(), 2)],
            "facets count every readable match, before the group filter"
        );
        assert_eq!(
            facet(&narrowed.authors),
            [("anna".to_owned(), 3), ("bram".to_owned(), 2)]
        );
        // A group no segment holds, and one only an unreadable post is in.
        for group in ["g0", "g9"] {
            let none = page(0, Some(group))?;
            assert!(none.hits.is_empty(), "{group}");
            assert_eq!(none.total, 0);
            assert_eq!(none.groups.len(), 2, "facets still counted");
        }
        Ok(())
    }

    #[test]
    fn the_newest_of_many_equal_matches_make_the_page_in_any_order_of_writing() -> Result<()> {
        let index = PostIndex::in_memory()?;
        // 60 equal posts whose times are shuffled against the order they are written in.
        let posts: Vec<PostDocument> = (0..60_i64)
            .map(|n| {
                let id = format!("p{n}");
                PostDocument {
                    created_millis: (n * 37) % 60,
                    ..item(&id, &id, "g1", "anna", "vrijdagmiddagborrel")
                }
            })
            .collect();
        index.upsert(&posts)?;
        index.commit(1)?;
        let results = index.search(&PostSearch {
            query: "vrijdagmiddag".to_owned(),
            groups: GroupFilter::Only(vec!["g1".to_owned()]),
            limit: 4,
            ..PostSearch::default()
        })?;
        let newest: Vec<String> = {
            let mut by_time: Vec<&PostDocument> = posts.iter().collect();
            by_time.sort_by_key(|post| std::cmp::Reverse(post.created_millis));
            by_time.iter().take(4).map(|post| post.id.clone()).collect()
        };
        let found: Vec<String> = results.hits.into_iter().map(|hit| hit.id).collect();
        assert_eq!(found, newest);
        assert_eq!(results.total, 60);
        Ok(())
    }

    #[test]
    fn facets_count_before_filters_narrow() -> Result<()> {
        let index = PostIndex::in_memory()?;
        index.upsert(&[
            item("p1", "p1", "g1", "anna", "lunch wandeling"),
            item("p2", "p2", "g2", "anna", "lunch sport"),
            item("p3", "p3", "g2", "bram", "lunch quiz"),
        ])?;
        index.commit(1)?;
        let results = index.search(&PostSearch {
            query: "lunch".to_owned(),
            groups: GroupFilter::AllBut(vec!["g3".to_owned()]),
            author: Some("bram".to_owned()),
            limit: 10,
            ..PostSearch::default()
        })?;
        assert_eq!(ids(&results), ["p3"]);
        assert_eq!(results.total, 1);
        let count = |values: &[FacetValue], value: &str| {
            values
                .iter()
                .find(|facet| facet.value == value)
                .map(|facet| facet.count)
        };
        assert_eq!(count(&results.groups, "g2"), Some(2));
        assert_eq!(count(&results.groups, "g1"), Some(1));
        assert_eq!(count(&results.authors, "anna"), Some(2));
        assert_eq!(count(&results.authors, "bram"), Some(1));
        Ok(())
    }

    #[test]
    fn facets_sum_over_segments_skip_removed_posts_and_list_the_most_common_first() -> Result<()> {
        let index = PostIndex::in_memory()?;
        index.upsert(&[
            item("p1", "p1", "g1", "anna", "quiz"),
            item("p2", "p2", "g2", "bram", "quiz"),
            item("p3", "p3", "g2", "bram", "quiz"),
        ])?;
        index.commit(1)?;
        index.upsert(&[
            item("p4", "p4", "g1", "anna", "quiz"),
            item("p5", "p5", "g1", "carla", "quiz"),
            item("p6", "p6", "g3", "carla", "quiz"),
        ])?;
        index.commit(2)?;
        index.remove(&["p3".to_owned()])?;
        index.commit(3)?;
        let results = search(&index, "quiz", &["g1", "g2", "g3"])?;
        assert_eq!(results.total, 5);
        let listed = |values: &[FacetValue]| -> Vec<(String, u64)> {
            values
                .iter()
                .map(|facet| (facet.value.clone(), facet.count))
                .collect()
        };
        assert_eq!(
            listed(&results.groups),
            [
                ("g1".to_owned(), 3),
                ("g2".to_owned(), 1),
                ("g3".to_owned(), 1)
            ]
        );
        assert_eq!(
            listed(&results.authors),
            [
                ("anna".to_owned(), 2),
                ("carla".to_owned(), 2),
                ("bram".to_owned(), 1)
            ]
        );
        Ok(())
    }

    #[test]
    fn facets_keep_each_value_with_its_own_count_when_there_are_more_values_than_listed()
    -> Result<()> {
        let index = PostIndex::in_memory()?;
        // Author k wrote k posts; names sort in another order than their counts.
        let authors = 2 * FACET_VALUES + 5;
        let mut documents = Vec::new();
        for author in 1..=authors {
            for post in 0..author {
                let id = format!("p{author}-{post}");
                let name = format!("author-{:02}", (author * 7) % 100);
                documents.push(item(&id, &id, "g1", &name, "quiz"));
            }
        }
        index.upsert(&documents)?;
        index.commit(1)?;
        // One segment, whose counts are exact (the writer's threads may have made several;
        // counts summed over segments are approximate for values near the cut).
        index.compact()?;
        let results = search(&index, "quiz", &["g1"])?;
        let expected: Vec<(String, u64)> = (1..=authors)
            .rev()
            .take(FACET_VALUES)
            .map(|author| (format!("author-{:02}", (author * 7) % 100), author as u64))
            .collect();
        let got: Vec<(String, u64)> = results
            .authors
            .iter()
            .map(|facet| (facet.value.clone(), facet.count))
            .collect();
        assert_eq!(got, expected);
        Ok(())
    }

    #[test]
    fn removing_a_post_removes_its_comments_and_a_reopened_index_remembers_its_position()
    -> Result<()> {
        let dir = tempfile::tempdir().map_err(|error| SearchError::Tantivy(error.into()))?;
        {
            let (index, state) = PostIndex::open(dir.path())?;
            assert_eq!(state, OpenState::NeedsRebuild);
            index.upsert(&[
                item("p1", "p1", "g1", "anna", "fietsen"),
                item("c1", "p1", "g1", "bram", "fietsen ook"),
                item("p2", "p2", "g1", "anna", "fietsen morgen"),
            ])?;
            index.remove(&["p1".to_owned()])?;
            index.commit(42)?;
            assert_eq!(ids(&search(&index, "fietsen", &["g1"])?), ["p2"]);
            index.remove_group("g1")?;
            index.commit(43)?;
            assert!(index.is_empty());
        }
        let (_, state) = PostIndex::open(dir.path())?;
        assert_eq!(state, OpenState::UpToSeq(43));
        Ok(())
    }

    #[test]
    fn compacting_keeps_every_document_and_the_position() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|error| SearchError::Tantivy(error.into()))?;
        {
            let (index, _) = PostIndex::open(dir.path())?;
            for (seq, word) in [(1, "fietsen"), (2, "zwemmen"), (3, "wandelen")] {
                let id = format!("p{seq}");
                index.upsert(&[item(&id, &id, "g1", "anna", word)])?;
                index.commit(seq)?;
            }
            assert!(index.store.searcher().segment_readers().len() > 1);
            index.compact()?;
            assert_eq!(index.store.searcher().segment_readers().len(), 1);
            assert_eq!(index.len(), 3);
            assert_eq!(ids(&search(&index, "zwemmen", &["g1"])?), ["p2"]);
            // Only the merged segment's files are left on disk (nothing is left to delete at the
            // first commit under traffic).
            let live = index.store.searcher().segment_readers()[0]
                .segment_id()
                .uuid_string();
            let segment_files: Vec<String> = std::fs::read_dir(dir.path())
                .map_err(|error| SearchError::Tantivy(error.into()))?
                .filter_map(|entry| entry.ok())
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.len() > 32 && name.as_bytes()[32] == b'.')
                .collect();
            assert!(!segment_files.is_empty());
            assert!(
                segment_files.iter().all(|name| name.starts_with(&live)),
                "{segment_files:?}"
            );
        }
        let (index, state) = PostIndex::open(dir.path())?;
        assert_eq!(state, OpenState::UpToSeq(3));
        assert_eq!(index.len(), 3);
        Ok(())
    }
}
