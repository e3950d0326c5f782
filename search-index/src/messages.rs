//! Message search: the words of chat messages, matched like post search (folded, one typo from
//! five letters, the last word also as a prefix), newest first. One document per message, with
//! its conversation for the filter; which conversations a searcher is in is decided by the
//! server and passed in.

use std::path::Path;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur};
use tantivy::schema::{FAST, Field, INDEXED, STORED, STRING, Schema, Value as _};
use tantivy::{Order, TantivyDocument, Term};

use crate::text::tokens;
use crate::written::{KeptIndex, KeyFilter, WrittenIndex, one_of, readable, words, words_options};
use crate::{OpenState, Result};

/// Bumped whenever the schema or the text folding changes; the index is then rebuilt.
pub const MESSAGE_SCHEMA_VERSION: u32 = 1;
const CONVERSATION_ID: &str = "conversation_id";
const CREATED: &str = "created";
pub const MAX_MESSAGE_LIMIT: usize = 50;

/// A message, as the index knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageDocument {
    pub id: String,
    pub conversation_id: String,
    pub author_id: String,
    pub text: String,
    /// Milliseconds since 1970: the newest match comes first.
    pub created_millis: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageSearch {
    pub query: String,
    /// The conversations the searcher is in.
    pub conversations: KeyFilter,
    /// Only this conversation.
    pub conversation: Option<String>,
    /// Only by this person.
    pub author: Option<String>,
    pub limit: usize,
    pub offset: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageResults {
    /// Message ids, newest first.
    pub ids: Vec<String>,
    pub total: usize,
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    conversation_id: Field,
    author_id: Field,
    text: Field,
    created: Field,
}

impl KeptIndex for MessageIndex {
    fn kept(&self) -> &WrittenIndex {
        &self.store
    }
}

pub struct MessageIndex {
    store: WrittenIndex,
    fields: Fields,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let fields = Fields {
        id: builder.add_text_field("id", STRING | STORED),
        conversation_id: builder.add_text_field(CONVERSATION_ID, STRING | FAST),
        author_id: builder.add_text_field("author_id", STRING),
        text: builder.add_text_field("text", words_options()),
        created: builder.add_i64_field(CREATED, INDEXED | FAST),
    };
    (builder.build(), fields)
}

impl MessageIndex {
    /// Opens the index in `dir`, creating it, or wiping it when its schema version differs.
    pub fn open(dir: &Path) -> Result<(MessageIndex, OpenState)> {
        let (schema, fields) = schema();
        let (store, state) = WrittenIndex::open(dir, schema, MESSAGE_SCHEMA_VERSION)?;
        Ok((MessageIndex { store, fields }, state))
    }

    /// An index in memory, for tests.
    pub fn in_memory() -> Result<MessageIndex> {
        let (schema, fields) = schema();
        Ok(MessageIndex {
            store: WrittenIndex::in_memory(schema, MESSAGE_SCHEMA_VERSION)?,
            fields,
        })
    }

    /// Adds or replaces messages. Visible after [`commit`](Self::commit).
    pub fn upsert(&self, items: &[MessageDocument]) -> Result<()> {
        let fields = self.fields;
        let writer = self.store.writer()?;
        for item in items {
            writer.delete_term(Term::from_field_text(fields.id, &item.id));
            let mut document = TantivyDocument::default();
            document.add_text(fields.id, &item.id);
            document.add_text(fields.conversation_id, &item.conversation_id);
            document.add_text(fields.author_id, &item.author_id);
            document.add_text(fields.text, tokens(&item.text).join(" "));
            document.add_i64(fields.created, item.created_millis);
            writer.add_document(document)?;
        }
        Ok(())
    }

    /// Removes messages by id (deleted).
    pub fn remove(&self, ids: &[String]) -> Result<()> {
        let writer = self.store.writer()?;
        for id in ids {
            writer.delete_term(Term::from_field_text(self.fields.id, id));
        }
        Ok(())
    }

    pub fn search(&self, request: &MessageSearch) -> Result<MessageResults> {
        let fields = self.fields;
        let mut clauses = words(fields.text, &request.query);
        if clauses.is_empty() || request.conversations.is_nothing() {
            return Ok(MessageResults::default());
        }
        clauses.push((
            Occur::Must,
            readable(CONVERSATION_ID, &request.conversations),
        ));
        if let Some(conversation) = request.conversation.as_deref() {
            clauses.push((Occur::Must, one_of(fields.conversation_id, conversation)));
        }
        if let Some(author) = request.author.as_deref() {
            clauses.push((Occur::Must, one_of(fields.author_id, author)));
        }
        let searcher = self.store.searcher();
        let newest = TopDocs::with_limit(request.limit.clamp(1, MAX_MESSAGE_LIMIT))
            .and_offset(request.offset)
            .order_by_fast_field::<i64>(CREATED, Order::Desc);
        let (top, total) = searcher.search(&BooleanQuery::new(clauses), &(newest, Count))?;
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
        Ok(MessageResults { ids, total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, conversation: &str, author: &str, text: &str, at: i64) -> MessageDocument {
        MessageDocument {
            id: id.to_owned(),
            conversation_id: conversation.to_owned(),
            author_id: author.to_owned(),
            text: text.to_owned(),
            created_millis: at,
        }
    }

    fn find(index: &MessageIndex, query: &str, conversations: &[&str]) -> Result<Vec<String>> {
        Ok(index
            .search(&MessageSearch {
                query: query.to_owned(),
                conversations: KeyFilter::Only(
                    conversations.iter().map(|id| (*id).to_owned()).collect(),
                ),
                limit: 10,
                ..MessageSearch::default()
            })?
            .ids)
    }

    #[test]
    fn newest_first_only_in_the_searchers_conversations() -> Result<()> {
        let index = MessageIndex::in_memory()?;
        index.upsert(&[
            message("m1", "c1", "anna", "Zullen we vrijdag lunchen?", 1),
            message("m2", "c1", "bram", "Lunch om twaalf uur", 3),
            message(
                "m3",
                "c2",
                "anna",
                "Vertrouwelijk: lunch met de directie",
                2,
            ),
            message("m4", "c3", "carla", "Café of kantine?", 4),
        ])?;
        index.commit(1)?;
        assert_eq!(
            find(&index, "lunch", &["c1"])?,
            ["m2", "m1"],
            "the last word also as a prefix, newest first"
        );
        assert_eq!(find(&index, "lunch om", &["c1"])?, ["m2"], "every word");
        assert_eq!(
            find(&index, "lunc", &["c1", "c2"])?,
            ["m2", "m3", "m1"],
            "another of the searcher's conversations"
        );
        assert_eq!(find(&index, "lunchen", &["c1"])?, ["m1"]);
        assert_eq!(find(&index, "vrjdag", &["c1"])?, ["m1"], "one typo");
        assert_eq!(find(&index, "cafe", &["c3"])?, ["m4"], "accents folded");
        assert_eq!(find(&index, "cafe", &["c1", "c2"])?, Vec::<String>::new());
        assert_eq!(find(&index, "lunch", &[])?, Vec::<String>::new());
        assert_eq!(find(&index, "", &["c1"])?, Vec::<String>::new());
        let narrowed = index.search(&MessageSearch {
            query: "lunch".to_owned(),
            conversations: KeyFilter::Only(vec!["c1".to_owned(), "c2".to_owned()]),
            author: Some("anna".to_owned()),
            limit: 10,
            ..MessageSearch::default()
        })?;
        assert_eq!(narrowed.ids, ["m3", "m1"]);
        assert_eq!(narrowed.total, 2);
        let one = index.search(&MessageSearch {
            query: "lunch".to_owned(),
            conversations: KeyFilter::Only(vec!["c1".to_owned(), "c2".to_owned()]),
            conversation: Some("c2".to_owned()),
            limit: 10,
            ..MessageSearch::default()
        })?;
        assert_eq!(one.ids, ["m3"]);
        Ok(())
    }

    #[test]
    fn edits_replace_and_deletes_remove() -> Result<()> {
        let index = MessageIndex::in_memory()?;
        index.upsert(&[message("m1", "c1", "anna", "fietsen", 1)])?;
        index.commit(1)?;
        index.upsert(&[message("m1", "c1", "anna", "wandelen", 1)])?;
        index.commit(2)?;
        assert_eq!(find(&index, "fietsen", &["c1"])?, Vec::<String>::new());
        assert_eq!(find(&index, "wandelen", &["c1"])?, ["m1"]);
        index.remove(&["m1".to_owned()])?;
        index.commit(3)?;
        assert!(index.is_empty());
        Ok(())
    }

    #[test]
    fn a_reopened_index_remembers_its_position() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|error| crate::SearchError::Tantivy(error.into()))?;
        {
            let (index, state) = MessageIndex::open(dir.path())?;
            assert_eq!(state, OpenState::NeedsRebuild);
            index.upsert(&[message("m1", "c1", "anna", "borrel", 1)])?;
            index.commit(9)?;
        }
        let (index, state) = MessageIndex::open(dir.path())?;
        assert_eq!(state, OpenState::UpToSeq(9));
        assert_eq!(find(&index, "borrel", &["c1"])?, ["m1"]);
        Ok(())
    }
}
