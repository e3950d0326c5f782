//! Post search: the words of posts and comments, folded like people search (accents, case),
//! every query word matched as a word, with one typo forgiven from five letters, and the last
//! one also as a prefix (people type as they search). One document per post or comment, with
//! its group and author for the filter and the facets. On disk, kept current from the outbox;
//! which groups a searcher may read is decided by the server and passed in.

use std::path::Path;
use std::sync::Mutex;

use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::agg_result::{AggregationResult, AggregationResults, BucketResult};
use tantivy::aggregation::{AggContextParams, AggregationCollector, AggregationLimitsGuard, Key};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery, TermSetQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value as _,
};
use tantivy::tokenizer::{SimpleTokenizer, TextAnalyzer};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::text::tokens;
use crate::{FacetValue, OpenState, Result, SearchError, store};

/// Bumped whenever the schema or the text folding changes; the index is then rebuilt.
pub const POST_SCHEMA_VERSION: u32 = 2;
const WORDS: &str = "post_words";
const WRITER_BYTES: usize = 50_000_000;
/// Words of a query beyond this are ignored.
const MAX_WORDS: usize = 8;
pub const MAX_POST_LIMIT: usize = 50;
const FACET_VALUES: usize = 20;
/// A last query word this long or longer is also matched as a prefix.
const PREFIX_FROM: usize = 3;

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
    /// The groups whose posts the searcher may read: the only ones searched.
    pub readable_groups: Vec<String>,
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

pub struct PostIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(WORDS)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        id: builder.add_text_field("id", STRING | STORED),
        post_id: builder.add_text_field("post_id", STRING | STORED),
        // Fast too: the facets count them per match from their columns.
        group_id: builder.add_text_field("group_id", STRING | FAST),
        author_id: builder.add_text_field("author_id", STRING | FAST),
        kind: builder.add_text_field("kind", STRING | STORED),
        text: builder.add_text_field("text", words),
        created: builder.add_i64_field("created", INDEXED | FAST),
    };
    (builder.build(), fields)
}

impl PostIndex {
    /// Opens the index in `dir`, creating it, or wiping it when its schema version differs.
    pub fn open(dir: &Path) -> Result<(PostIndex, OpenState)> {
        let (schema, fields) = schema();
        let (index, state) = store::open_versioned(dir, schema, POST_SCHEMA_VERSION)?;
        Ok((Self::from_index(index, fields)?, state))
    }

    /// An index in memory, for tests and benchmarks.
    pub fn in_memory() -> Result<PostIndex> {
        let (schema, fields) = schema();
        Self::from_index(Index::create_in_ram(schema), fields)
    }

    fn from_index(index: Index, fields: Fields) -> Result<PostIndex> {
        index.tokenizers().register(
            WORDS,
            TextAnalyzer::builder(SimpleTokenizer::default()).build(),
        );
        let writer = index.writer(WRITER_BYTES)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(PostIndex {
            reader,
            writer: Mutex::new(writer),
            fields,
        })
    }

    fn writer(&self) -> Result<std::sync::MutexGuard<'_, IndexWriter>> {
        self.writer.lock().map_err(|_| SearchError::WriterPoisoned)
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
        let writer = self.writer()?;
        for item in items {
            writer.delete_term(Term::from_field_text(self.fields.id, &item.id));
            writer.add_document(self.document(item))?;
        }
        Ok(())
    }

    /// Removes posts or comments by id, and everything on the posts among them.
    pub fn remove(&self, ids: &[String]) -> Result<()> {
        let writer = self.writer()?;
        for id in ids {
            writer.delete_term(Term::from_field_text(self.fields.id, id));
            writer.delete_term(Term::from_field_text(self.fields.post_id, id));
        }
        Ok(())
    }

    /// Removes everything in a group (deleted).
    pub fn remove_group(&self, group_id: &str) -> Result<()> {
        self.writer()?
            .delete_term(Term::from_field_text(self.fields.group_id, group_id));
        Ok(())
    }

    /// Removes everything, before a rebuild.
    pub fn clear(&self) -> Result<()> {
        self.writer()?.delete_all_documents()?;
        Ok(())
    }

    /// Makes changes searchable and records the last applied outbox sequence with them.
    pub fn commit(&self, last_seq: i64) -> Result<()> {
        let mut writer = self.writer()?;
        store::commit(&mut writer, POST_SCHEMA_VERSION, last_seq)?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn words(&self, query: &str) -> Vec<(Occur, Box<dyn Query>)> {
        let words: Vec<String> = tokens(query).into_iter().take(MAX_WORDS).collect();
        let last = words.len().saturating_sub(1);
        words
            .iter()
            .enumerate()
            .map(|(position, word)| -> (Occur, Box<dyn Query>) {
                let term = Term::from_field_text(self.fields.text, word);
                let mut either: Vec<(Occur, Box<dyn Query>)> = vec![(
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
                        2.0,
                    )),
                )];
                let length = word.chars().count();
                if length >= 5 {
                    either.push((
                        Occur::Should,
                        Box::new(FuzzyTermQuery::new(term.clone(), 1, true)),
                    ));
                }
                if position == last && length >= PREFIX_FROM {
                    either.push((
                        Occur::Should,
                        Box::new(FuzzyTermQuery::new_prefix(term, 0, true)),
                    ));
                }
                (Occur::Must, Box::new(BooleanQuery::new(either)))
            })
            .collect()
    }

    fn term_set(field: Field, values: &[String]) -> Box<dyn Query> {
        Box::new(TermSetQuery::new(
            values
                .iter()
                .map(|value| Term::from_field_text(field, value)),
        ))
    }

    fn one_of(field: Field, value: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::Basic,
        ))
    }

    /// Keeps the search to the readable groups, by the shorter list: the readable groups, or
    /// every other group this searcher's segments hold (most people may read most groups, and
    /// a filter costs what its groups' posts number). `None` when nothing is left out.
    fn readable_filter(
        &self,
        searcher: &tantivy::Searcher,
        readable: &[String],
    ) -> Result<Option<(Occur, Box<dyn Query>)>> {
        let readable_set: std::collections::HashSet<&[u8]> =
            readable.iter().map(|group| group.as_bytes()).collect();
        let mut others = std::collections::BTreeSet::new();
        for segment in searcher.segment_readers() {
            let index = segment.inverted_index(self.fields.group_id)?;
            let mut terms = index
                .terms()
                .stream()
                .map_err(tantivy::TantivyError::from)?;
            while terms.advance() {
                if !readable_set.contains(terms.key()) {
                    others.insert(String::from_utf8_lossy(terms.key()).into_owned());
                }
            }
        }
        if others.is_empty() {
            return Ok(None);
        }
        let others: Vec<String> = others.into_iter().collect();
        Ok(Some(if others.len() < readable.len() {
            (
                Occur::MustNot,
                Self::term_set(self.fields.group_id, &others),
            )
        } else {
            (Occur::Must, Self::term_set(self.fields.group_id, readable))
        }))
    }

    pub fn search(&self, request: &PostSearch) -> Result<PostResults> {
        let fields = self.fields;
        let mut base = self.words(&request.query);
        if base.is_empty() || request.readable_groups.is_empty() {
            return Ok(PostResults::default());
        }
        let searcher = self.reader.searcher();
        if let Some(filter) = self.readable_filter(&searcher, &request.readable_groups)? {
            base.push(filter);
        }
        // Facets count what the words find before the group and author filters narrow it.
        let facet_query = BooleanQuery::new(
            base.iter()
                .map(|(occur, query)| (*occur, query.box_clone()))
                .collect(),
        );
        // Counted from the group and author columns of the matches only, however many groups
        // and authors the index holds.
        let aggregations: Aggregations = serde_json::from_value(serde_json::json!({
            "groups": {"terms": {"field": "group_id", "size": FACET_VALUES}},
            "authors": {"terms": {"field": "author_id", "size": FACET_VALUES}},
        }))
        .map_err(|error| tantivy::TantivyError::InvalidArgument(error.to_string()))?;
        let counted: AggregationResults = searcher.search(
            &facet_query,
            &AggregationCollector::from_aggs(
                aggregations,
                AggContextParams::new(
                    AggregationLimitsGuard::default(),
                    tantivy::tokenizer::TokenizerManager::default(),
                ),
            ),
        )?;
        let top = |name: &str| -> Vec<FacetValue> {
            let Some(AggregationResult::BucketResult(BucketResult::Terms { buckets, .. })) =
                counted.0.get(name)
            else {
                return Vec::new();
            };
            buckets
                .iter()
                .filter_map(|bucket| match &bucket.key {
                    Key::Str(value) => Some(FacetValue {
                        value: value.clone(),
                        count: bucket.doc_count,
                    }),
                    _ => None,
                })
                .collect()
        };
        let mut clauses = base;
        if let Some(group) = request.group.as_deref() {
            clauses.push((Occur::Must, Self::one_of(fields.group_id, group)));
        }
        if let Some(author) = request.author.as_deref() {
            clauses.push((Occur::Must, Self::one_of(fields.author_id, author)));
        }
        let query = BooleanQuery::new(clauses);
        let limit = request.limit.clamp(1, MAX_POST_LIMIT);
        let (top_docs, total) = searcher.search(
            &query,
            &(
                TopDocs::with_limit(limit)
                    .and_offset(request.offset)
                    .order_by_score(),
                Count,
            ),
        )?;
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
            groups: top("groups"),
            authors: top("authors"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            readable_groups: groups.iter().map(|group| (*group).to_owned()).collect(),
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
    fn the_group_filter_holds_whichever_list_it_is_built_from() -> Result<()> {
        let index = PostIndex::in_memory()?;
        index.upsert(&[
            item("p1", "p1", "g1", "anna", "borrel"),
            item("p2", "p2", "g2", "anna", "borrel"),
            item("p3", "p3", "g3", "anna", "borrel"),
        ])?;
        index.commit(1)?;
        // A group that arrives in a later segment is left out until it is named readable.
        index.upsert(&[item("p4", "p4", "g4", "anna", "borrel")])?;
        index.commit(2)?;
        let found = |groups: &[&str]| -> Result<Vec<String>> {
            let mut ids: Vec<String> = search(&index, "borrel", groups)?
                .hits
                .into_iter()
                .map(|hit| hit.id)
                .collect();
            ids.sort();
            Ok(ids)
        };
        assert_eq!(found(&["g1"])?, ["p1"], "the readable list is shorter");
        assert_eq!(
            found(&["g1", "g2", "g3"])?,
            ["p1", "p2", "p3"],
            "the list of the others is shorter"
        );
        assert_eq!(
            found(&["g1", "g2", "g3", "g4", "g5"])?,
            ["p1", "p2", "p3", "p4"],
            "nothing is left out"
        );
        assert_eq!(found(&["g9"])?, Vec::<String>::new());
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
            readable_groups: vec!["g1".to_owned(), "g2".to_owned()],
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
}
