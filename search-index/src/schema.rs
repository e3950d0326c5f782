//! The index schema and how a person becomes a document.

use tantivy::Index;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TantivyDocument, TextFieldIndexing,
    TextOptions,
};
use tantivy::tokenizer::{SimpleTokenizer, TextAnalyzer};

use crate::PersonDocument;
use crate::text::{surname_sort_form, surname_tokens, tokens};

pub const ID_FIELD: &str = "id";
pub const SORT_KEY_FIELD: &str = "sort_key";
pub const DEPARTMENT_FACET: &str = "department";
pub const LOCATION_FACET: &str = "location";
pub const SKILL_FACET: &str = "skill";
/// Text is folded before it reaches tantivy; this tokenizer only splits the folded words.
const WORDS_TOKENIZER: &str = "plein_words";

#[derive(Clone, Copy)]
pub struct Fields {
    pub id: Field,
    /// Given, preferred and display names, and every surname form.
    pub name: Field,
    /// Title, department, location and skills.
    pub other: Field,
    /// The email address's local part, as words and run together. Matched exactly or as a
    /// prefix, never fuzzily: its terms are unique per person and would make typo matching slow.
    pub email: Field,
    pub department: Field,
    pub location: Field,
    pub skill: Field,
    /// The first eight bytes of "surname-without-particle given-name", for ordering ties.
    pub sort_key: Field,
    /// [`STATUS_ACTIVE`] or [`STATUS_INACTIVE`].
    pub status: Field,
    pub role: Field,
}

pub const STATUS_ACTIVE: &str = "active";
pub const STATUS_INACTIVE: &str = "inactive";

pub fn build() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(WORDS_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        id: builder.add_text_field(ID_FIELD, STRING | FAST),
        name: builder.add_text_field("name", words.clone()),
        other: builder.add_text_field("other", words.clone()),
        email: builder.add_text_field("email", words),
        department: builder.add_text_field(DEPARTMENT_FACET, STRING | FAST),
        location: builder.add_text_field(LOCATION_FACET, STRING | FAST),
        skill: builder.add_text_field(SKILL_FACET, STRING | FAST),
        sort_key: builder.add_u64_field(SORT_KEY_FIELD, INDEXED | FAST),
        status: builder.add_text_field("status", STRING),
        role: builder.add_text_field("role", STRING),
    };
    (builder.build(), fields)
}

pub fn register_tokenizers(index: &Index) {
    index.tokenizers().register(
        WORDS_TOKENIZER,
        TextAnalyzer::builder(SimpleTokenizer::default()).build(),
    );
}

/// How a facet value is stored and filtered on: as given, trimmed.
pub fn facet(value: &str) -> &str {
    value.trim()
}

pub fn sort_key(person: &PersonDocument) -> u64 {
    let given = person
        .preferred_name
        .as_deref()
        .unwrap_or(&person.given_name);
    let text = format!(
        "{} {}",
        surname_sort_form(&person.family_name),
        tokens(given).join(" ")
    );
    let mut bytes = [0u8; 8];
    for (slot, byte) in bytes.iter_mut().zip(text.bytes()) {
        *slot = byte;
    }
    u64::from_be_bytes(bytes)
}

pub fn document(fields: &Fields, person: &PersonDocument) -> TantivyDocument {
    let mut name_words = tokens(&person.given_name);
    if let Some(preferred) = &person.preferred_name {
        name_words.extend(tokens(preferred));
    }
    name_words.extend(tokens(&person.display_name));
    name_words.extend(surname_tokens(&person.family_name));

    let mut other_words = Vec::new();
    for text in [&person.title, &person.department, &person.location]
        .into_iter()
        .flatten()
    {
        other_words.extend(tokens(text));
    }
    for skill in &person.skills {
        other_words.extend(tokens(skill));
    }
    let local_part = person.email.split('@').next().unwrap_or_default();
    let mut email_words = tokens(local_part);
    if email_words.len() > 1 {
        email_words.push(email_words.concat());
    }

    let mut document = TantivyDocument::default();
    document.add_text(fields.id, &person.id);
    document.add_text(fields.name, name_words.join(" "));
    document.add_text(fields.other, other_words.join(" "));
    document.add_text(fields.email, email_words.join(" "));
    if let Some(department) = person
        .department
        .as_deref()
        .filter(|value| !value.trim().is_empty())
    {
        document.add_text(fields.department, facet(department));
    }
    if let Some(location) = person
        .location
        .as_deref()
        .filter(|value| !value.trim().is_empty())
    {
        document.add_text(fields.location, facet(location));
    }
    for skill in person
        .skills
        .iter()
        .filter(|value| !value.trim().is_empty())
    {
        document.add_text(fields.skill, facet(skill));
    }
    document.add_u64(fields.sort_key, sort_key(person));
    document.add_text(
        fields.status,
        if person.inactive {
            STATUS_INACTIVE
        } else {
            STATUS_ACTIVE
        },
    );
    if let Some(role) = person.role.as_deref() {
        document.add_text(fields.role, facet(role));
    }
    document
}
