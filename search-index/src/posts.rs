//! Post search: the words of posts and comments, folded like people search (accents, case),
//! every query word matched as a word, with one typo forgiven from five letters, and the last
//! one also as a prefix (people type as they search). One document per post or comment, with
//! its group and author for the filter and the facets. On disk, kept current from the outbox;
//! which groups a searcher may read is decided by the server and passed in.

use std::path::Path;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur};
use tantivy::schema::{FAST, Field, INDEXED, STORED, STRING, Schema, Value as _};
use tantivy::{TantivyDocument, Term};

use crate::text::tokens;
use crate::written::{
    ColumnCounts, KeptIndex, WrittenIndex, one_of, readable, words, words_options,
};
use crate::{FacetValue, OpenState, Result};

pub use crate::written::KeyFilter as GroupFilter;

/// Bumped whenever the schema or the text folding changes; the index is then rebuilt.
pub const POST_SCHEMA_VERSION: u32 = 2;
const GROUP_ID: &str = "group_id";
const AUTHOR_ID: &str = "author_id";
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
        created: builder.add_i64_field("created", INDEXED | FAST),
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
        let mut base = words(fields.text, &request.query);
        if base.is_empty() || request.groups.is_nothing() {
            return Ok(PostResults::default());
        }
        let searcher = self.store.searcher();
        base.push((Occur::Must, readable(GROUP_ID, &request.groups)));
        // Counted from the group and author columns of the matches only, however many groups
        // and authors the index holds.
        let facets = ColumnCounts {
            columns: &[GROUP_ID, AUTHOR_ID],
            size: FACET_VALUES,
        };
        let limit = request.limit.clamp(1, MAX_POST_LIMIT);
        let top = TopDocs::with_limit(limit)
            .and_offset(request.offset)
            .order_by_score();
        let narrowed = request.group.is_some() || request.author.is_some();
        // Facets count what the words find before the group and author filters narrow it:
        // without those filters, one pass over the matches collects everything.
        let (top_docs, total, counted) = if narrowed {
            let counted = searcher.search(
                &BooleanQuery::new(
                    base.iter()
                        .map(|(occur, query)| (*occur, query.box_clone()))
                        .collect(),
                ),
                &facets,
            )?;
            let mut clauses = base;
            if let Some(group) = request.group.as_deref() {
                clauses.push((Occur::Must, one_of(fields.group_id, group)));
            }
            if let Some(author) = request.author.as_deref() {
                clauses.push((Occur::Must, one_of(fields.author_id, author)));
            }
            let (top_docs, total) = searcher.search(&BooleanQuery::new(clauses), &(top, Count))?;
            (top_docs, total, counted)
        } else {
            searcher.search(&BooleanQuery::new(base), &(top, Count, facets))?
        };
        let mut counted = counted.into_iter();
        let (groups, authors) = (
            counted.next().unwrap_or_default(),
            counted.next().unwrap_or_default(),
        );
        let mut hits = Vec::with_capacity(top_docs.len());
        for (_, address) in top_docs {
            let document: TantivyDocument = searcher.doc(address)?;
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
            total,
            groups,
            authors,
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
