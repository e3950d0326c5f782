//! On-disk indexes that remember how far into the outbox they are: the last applied event's
//! sequence and the schema version travel in each commit's payload.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tantivy::directory::MmapDirectory;
use tantivy::schema::Schema;
use tantivy::{Index, IndexWriter};

use crate::{OpenState, Result, SearchError};

#[derive(Debug, Serialize, Deserialize)]
struct CommitPayload {
    schema_version: u32,
    last_seq: i64,
}

fn io(error: std::io::Error) -> SearchError {
    SearchError::Tantivy(error.into())
}

/// Opens the index in `dir`, creating it, or wiping it when its schema or version differs.
pub(crate) fn open_versioned(
    dir: &Path,
    schema: Schema,
    version: u32,
) -> Result<(Index, OpenState)> {
    std::fs::create_dir_all(dir).map_err(io)?;
    let directory = MmapDirectory::open(dir)?;
    let existing = Index::exists(&directory)?;
    let index = if existing {
        Index::open(directory)?
    } else {
        Index::create(directory, schema.clone(), tantivy::IndexSettings::default())?
    };
    let payload = if existing {
        index
            .load_metas()?
            .payload
            .and_then(|text| serde_json::from_str::<CommitPayload>(&text).ok())
    } else {
        None
    };
    let current = payload
        .as_ref()
        .is_some_and(|payload| payload.schema_version == version)
        && index.schema() == schema;
    if current {
        let state = payload.map_or(OpenState::NeedsRebuild, |payload| {
            OpenState::UpToSeq(payload.last_seq)
        });
        return Ok((index, state));
    }
    drop(index);
    // Another schema: start over in the same directory.
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_file() {
            std::fs::remove_file(&path).map_err(io)?;
        }
    }
    let index = Index::create(
        MmapDirectory::open(dir)?,
        schema,
        tantivy::IndexSettings::default(),
    )?;
    Ok((index, OpenState::NeedsRebuild))
}

/// Commits with the schema version and the last applied outbox sequence.
pub(crate) fn commit(writer: &mut IndexWriter, version: u32, last_seq: i64) -> Result<()> {
    let payload = serde_json::to_string(&CommitPayload {
        schema_version: version,
        last_seq,
    })
    .map_err(|error| {
        SearchError::Tantivy(tantivy::TantivyError::InternalError(error.to_string()))
    })?;
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&payload);
    prepared.commit()?;
    Ok(())
}
