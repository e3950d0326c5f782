//! The `postgres` store: blobs as numbered chunks in `blob_chunks`, written in one transaction
//! and read back chunk by chunk, so any node serves any file with nothing else to run.

use anyhow::Context;
use bytes::{Bytes, BytesMut};
use futures::stream::StreamExt;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait,
};

use super::backend::Backend;
use super::{ByteRange, ByteStream};
use crate::entities::blob_chunks;

/// Every chunk but the last holds exactly this many bytes, so a range maps to chunk numbers.
const CHUNK: usize = 256 * 1024;

pub struct PostgresBackend {
    db: DatabaseConnection,
}

impl PostgresBackend {
    pub fn new(db: DatabaseConnection) -> Self {
        PostgresBackend { db }
    }
}

#[async_trait::async_trait]
impl Backend for PostgresBackend {
    async fn write(&self, key: &str, mut body: ByteStream) -> anyhow::Result<()> {
        let tx = self.db.begin().await?;
        blob_chunks::Entity::delete_many()
            .filter(blob_chunks::Column::Key.eq(key))
            .exec(&tx)
            .await?;
        let mut pending = BytesMut::with_capacity(CHUNK);
        let mut number = 0i32;
        while let Some(chunk) = body.next().await {
            let mut chunk = chunk.context("reading the blob's content failed")?;
            while !chunk.is_empty() {
                let take = (CHUNK - pending.len()).min(chunk.len());
                pending.extend_from_slice(&chunk.split_to(take));
                if pending.len() == CHUNK {
                    insert(&tx, key, number, pending.split().freeze()).await?;
                    number += 1;
                }
            }
        }
        if !pending.is_empty() {
            insert(&tx, key, number, pending.freeze()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn read(&self, key: &str, range: ByteRange) -> anyhow::Result<ByteStream> {
        let chunk = CHUNK as u64;
        let first = range.start / chunk;
        let last = range.end / chunk;
        let db = self.db.clone();
        let key = key.to_owned();
        let chunks = futures::stream::iter(first..=last).then(move |number| {
            let db = db.clone();
            let key = key.clone();
            async move {
                let data: Option<Vec<u8>> = blob_chunks::Entity::find()
                    .select_only()
                    .column(blob_chunks::Column::Data)
                    .filter(blob_chunks::Column::Key.eq(key.as_str()))
                    .filter(
                        blob_chunks::Column::Number.eq(i32::try_from(number).unwrap_or(i32::MAX)),
                    )
                    .into_tuple()
                    .one(&db)
                    .await
                    .map_err(std::io::Error::other)?;
                let data = data.ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("chunk {number} of blob {key} is missing"),
                    )
                })?;
                let offset = number * chunk;
                let from = range.start.saturating_sub(offset) as usize;
                let to = ((range.end + 1 - offset) as usize).min(data.len());
                if from > to {
                    return Err(std::io::Error::other(format!(
                        "chunk {number} of blob {key} is shorter than its size says"
                    )));
                }
                Ok(Bytes::from(data).slice(from..to))
            }
        });
        Ok(chunks.boxed())
    }

    async fn remove(&self, key: &str) -> anyhow::Result<()> {
        blob_chunks::Entity::delete_many()
            .filter(blob_chunks::Column::Key.eq(key))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

async fn insert(
    tx: &impl sea_orm::ConnectionTrait,
    key: &str,
    number: i32,
    data: Bytes,
) -> anyhow::Result<()> {
    blob_chunks::Entity::insert(blob_chunks::ActiveModel {
        key: Set(key.to_owned()),
        number: Set(number),
        data: Set(data.to_vec()),
    })
    .exec_without_returning(tx)
    .await?;
    Ok(())
}
