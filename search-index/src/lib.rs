//! Search over people; tantivy lives here.
