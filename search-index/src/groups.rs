//! The group directory's index: names and descriptions, folded like people search (accents,
//! case), every word matched as a word or a prefix, with one typo forgiven from five letters.
//! It lives in memory (a company has thousands of groups, not millions) and is rebuilt from the
//! database when a node starts, then kept current from the outbox.

use std::sync::Mutex;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value as _,
};
use tantivy::tokenizer::{SimpleTokenizer, TextAnalyzer};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::text::tokens;
use crate::{Result, SearchError};

const WORDS: &str = "group_words";
/// Memory for the writer; groups are small documents.
const WRITER_BYTES: usize = 15_000_000;
/// Words of a query beyond this are ignored.
const MAX_WORDS: usize = 8;
pub const MAX_GROUP_LIMIT: usize = 100;

/// What the index knows of a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupDocument {
    pub id: String,
    pub name: String,
    pub description: String,
    /// `work` or `casual`.
    pub kind: String,
    /// `public`, `private` or `secret`.
    pub visibility: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupSearch {
    pub query: String,
    pub kind: Option<String>,
    /// Secret groups the searcher belongs to (or is invited to): the only secret ones found.
    pub secret_visible: Vec<String>,
    pub limit: usize,
    pub offset: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupResults {
    /// Best match first.
    pub ids: Vec<String>,
    pub total: usize,
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    name: Field,
    description: Field,
    kind: Field,
    visibility: Field,
}

pub struct GroupIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
}

impl GroupIndex {
    /// An empty index in memory.
    pub fn new() -> Result<GroupIndex> {
        let mut builder = Schema::builder();
        let words = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(WORDS)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let fields = Fields {
            id: builder.add_text_field("id", STRING | STORED),
            name: builder.add_text_field("name", words.clone()),
            description: builder.add_text_field("description", words),
            kind: builder.add_text_field("kind", STRING),
            visibility: builder.add_text_field("visibility", STRING),
        };
        let index = Index::create_in_ram(builder.build());
        index.tokenizers().register(
            WORDS,
            TextAnalyzer::builder(SimpleTokenizer::default()).build(),
        );
        let writer = index.writer(WRITER_BYTES)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(GroupIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
        })
    }

    fn document(&self, group: &GroupDocument) -> TantivyDocument {
        let mut document = TantivyDocument::default();
        document.add_text(self.fields.id, &group.id);
        document.add_text(self.fields.name, tokens(&group.name).join(" "));
        document.add_text(
            self.fields.description,
            tokens(&group.description).join(" "),
        );
        document.add_text(self.fields.kind, &group.kind);
        document.add_text(self.fields.visibility, &group.visibility);
        document
    }

    /// Adds or replaces groups, and removes the groups named in `removed`; searchable at once.
    pub fn apply(&self, groups: &[GroupDocument], removed: &[String]) -> Result<()> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| SearchError::WriterPoisoned)?;
        for id in removed.iter().chain(groups.iter().map(|group| &group.id)) {
            writer.delete_term(Term::from_field_text(self.fields.id, id));
        }
        for group in groups {
            writer.add_document(self.document(group))?;
        }
        writer.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Replaces everything with `groups`.
    pub fn replace_all(&self, groups: &[GroupDocument]) -> Result<()> {
        {
            let mut writer = self
                .writer
                .lock()
                .map_err(|_| SearchError::WriterPoisoned)?;
            writer.delete_all_documents()?;
            writer.commit()?;
        }
        self.apply(groups, &[])
    }

    pub fn search(&self, request: &GroupSearch) -> Result<GroupResults> {
        let fields = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in tokens(&request.query).into_iter().take(MAX_WORDS) {
            let distance = if word.chars().count() >= 5 { 1 } else { 0 };
            let in_field = |field: Field, boost: f32| -> Box<dyn Query> {
                let term = Term::from_field_text(field, &word);
                let exact: Box<dyn Query> = Box::new(BoostQuery::new(
                    Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
                    boost * 2.0,
                ));
                let prefix: Box<dyn Query> = Box::new(BoostQuery::new(
                    Box::new(FuzzyTermQuery::new_prefix(term, distance, true)),
                    boost,
                ));
                Box::new(BooleanQuery::new(vec![
                    (Occur::Should, exact),
                    (Occur::Should, prefix),
                ]))
            };
            let either: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
                (Occur::Should, in_field(fields.name, 3.0)),
                (Occur::Should, in_field(fields.description, 1.0)),
            ]));
            clauses.push((Occur::Must, either));
        }
        if clauses.is_empty() {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        if let Some(kind) = request.kind.as_deref() {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(fields.kind, kind),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        let mut visible: Vec<(Occur, Box<dyn Query>)> = ["public", "private"]
            .into_iter()
            .map(|visibility| -> (Occur, Box<dyn Query>) {
                (
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(fields.visibility, visibility),
                        IndexRecordOption::Basic,
                    )),
                )
            })
            .collect();
        for id in &request.secret_visible {
            visible.push((
                Occur::Should,
                Box::new(TermQuery::new(
                    Term::from_field_text(fields.id, id),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(visible))));
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let limit = request.limit.clamp(1, MAX_GROUP_LIMIT);
        let (top, total) = searcher.search(
            &query,
            &(
                TopDocs::with_limit(limit)
                    .and_offset(request.offset)
                    .order_by_score(),
                Count,
            ),
        )?;
        let mut ids = Vec::with_capacity(top.len());
        for (_, address) in top {
            let document: TantivyDocument = searcher.doc(address)?;
            if let Some(id) = document
                .get_first(fields.id)
                .and_then(|value| value.as_str())
            {
                ids.push(id.to_owned());
            }
        }
        Ok(GroupResults { ids, total })
    }

    /// The index's own handle, for maintenance.
    pub fn index(&self) -> &Index {
        &self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: &str, name: &str, description: &str, visibility: &str) -> GroupDocument {
        GroupDocument {
            id: id.to_owned(),
            name: name.to_owned(),
            description: description.to_owned(),
            kind: "casual".to_owned(),
            visibility: visibility.to_owned(),
        }
    }

    fn found(index: &GroupIndex, query: &str, secret: &[&str]) -> Result<Vec<String>> {
        Ok(index
            .search(&GroupSearch {
                query: query.to_owned(),
                secret_visible: secret.iter().map(|id| (*id).to_owned()).collect(),
                limit: 10,
                ..GroupSearch::default()
            })?
            .ids)
    }

    #[test]
    fn names_and_descriptions_are_found_by_word_prefix_and_typo_but_secret_ones_only_by_members()
    -> Result<()> {
        let index = GroupIndex::new()?;
        index.apply(
            &[
                group("a", "Fotografie", "Samen op pad met de camera", "public"),
                group(
                    "b",
                    "Hardlopen",
                    "Elke zaterdag tien kilometer, ook fotografen welkom",
                    "private",
                ),
                group("c", "Reorganisatie Fotografie", "Vertrouwelijk", "secret"),
            ],
            &[],
        )?;
        // "fotografen" in b's description is one edit from a prefix of the word.
        assert_eq!(
            found(&index, "fotografie", &[])?,
            ["a", "b"],
            "name above description"
        );
        assert_eq!(found(&index, "foto", &[])?, ["a", "b"], "prefix");
        assert_eq!(
            found(&index, "fotgrafie", &[])?.first().map(String::as_str),
            Some("a"),
            "one typo"
        );
        assert_eq!(found(&index, "camera", &[])?, ["a"]);
        assert_eq!(found(&index, "Café zaterdag", &[])?, Vec::<String>::new());
        assert_eq!(found(&index, "zaterdag kilometer", &[])?, ["b"]);
        assert_eq!(
            found(&index, "reorganisatie", &[])?,
            Vec::<String>::new(),
            "secret"
        );
        assert_eq!(
            found(&index, "reorganisatie", &["c"])?,
            ["c"],
            "secret, for a member"
        );
        index.apply(&[], &["a".to_owned()])?;
        assert_eq!(found(&index, "camera", &[])?, Vec::<String>::new());
        index.replace_all(&[group("d", "Koor", "", "public")])?;
        assert_eq!(found(&index, "", &[])?, ["d"]);
        Ok(())
    }
}
