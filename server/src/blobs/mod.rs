//! The blob store: every file Plein keeps (profile photos today; attachments, covers and exports
//! later) goes through here, never straight to a disk. Three stores, chosen by `blob_store`:
//! `fs` (a folder in the data dir, one node), `postgres` (chunks in the database, any number of
//! nodes) and `s3` (any S3-compatible service). Content streams in and out; each blob's row in
//! `blobs` records its size, its SHA-256 (the ETag) and which store holds it, so every node can
//! serve every file, even while `plein blobs migrate` moves them from one store to another.

mod backend;
mod postgres;
mod serve;

use std::sync::{Arc, Mutex};

use anyhow::Context;
use bytes::Bytes;
use chrono::Utc;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use backend::Backend;
pub use serve::{ByteRange, requested_range, respond};

use crate::config::Config;
use crate::entities::blobs;

/// A stream of content, in chunks.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

/// Where blobs live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Fs,
    Postgres,
    S3,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Fs => "fs",
            Kind::Postgres => "postgres",
            Kind::S3 => "s3",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        [Kind::Fs, Kind::Postgres, Kind::S3]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// One stored blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    pub key: String,
    pub store: Kind,
    pub size: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    pub content_type: String,
}

impl BlobInfo {
    /// A strong ETag: the content hash.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.sha256)
    }
}

impl TryFrom<blobs::Model> for BlobInfo {
    type Error = anyhow::Error;

    fn try_from(row: blobs::Model) -> anyhow::Result<Self> {
        Ok(BlobInfo {
            store: Kind::parse(&row.store).with_context(|| {
                format!("blob {} is in an unknown store {}", row.key, row.store)
            })?,
            size: u64::try_from(row.size).context("negative blob size")?,
            key: row.key,
            sha256: row.sha256,
            content_type: row.content_type,
        })
    }
}

/// What `plein blobs migrate` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MigrateSummary {
    pub moved: u64,
    pub bytes: u64,
    /// Blobs still in other stores (when stopped early by a limit).
    pub remaining: u64,
}

/// Every store this node can reach, and the one new blobs go to.
pub struct Blobs {
    db: DatabaseConnection,
    write_to: Kind,
    fs: Arc<dyn Backend>,
    postgres: Option<Arc<dyn Backend>>,
    s3: Option<Arc<dyn Backend>>,
}

pub type SharedBlobs = Arc<Blobs>;

impl Blobs {
    pub fn open(config: &Config, db: DatabaseConnection) -> anyhow::Result<Blobs> {
        let fs = backend::filesystem(&config.data_dir.join("blobs"))?;
        let postgres = (db.get_database_backend() == DbBackend::Postgres)
            .then(|| Arc::new(postgres::PostgresBackend::new(db.clone())) as Arc<dyn Backend>);
        let s3 = config.s3.as_ref().map(backend::s3).transpose()?;
        let blobs = Blobs {
            db,
            write_to: config.blob_store,
            fs,
            postgres,
            s3,
        };
        blobs.backend(config.blob_store)?;
        Ok(blobs)
    }

    /// The store new blobs are written to.
    pub fn write_to(&self) -> Kind {
        self.write_to
    }

    fn backend(&self, kind: Kind) -> anyhow::Result<&dyn Backend> {
        let backend = match kind {
            Kind::Fs => Some(&self.fs),
            Kind::Postgres => self.postgres.as_ref(),
            Kind::S3 => self.s3.as_ref(),
        };
        backend
            .map(|backend| backend.as_ref())
            .with_context(|| match kind {
                Kind::Postgres => "the postgres blob store needs a PostgreSQL database".to_owned(),
                Kind::S3 => {
                    "the s3 blob store needs `s3_bucket` (and its endpoint and keys)".to_owned()
                }
                Kind::Fs => "the fs blob store is missing".to_owned(),
            })
    }

    /// Stores `body` under `key`, streaming, in the configured store; replaces what was there.
    pub async fn put(
        &self,
        key: &str,
        content_type: &str,
        body: ByteStream,
    ) -> anyhow::Result<BlobInfo> {
        self.put_in(self.write_to, key, content_type, body).await
    }

    /// Stores bytes already in memory.
    pub async fn put_bytes(
        &self,
        key: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> anyhow::Result<BlobInfo> {
        let body = futures::stream::once(async move { Ok(Bytes::from(bytes)) }).boxed();
        self.put(key, content_type, body).await
    }

    async fn put_in(
        &self,
        kind: Kind,
        key: &str,
        content_type: &str,
        body: ByteStream,
    ) -> anyhow::Result<BlobInfo> {
        validate_key(key)?;
        let previous = self.info(key).await?;
        let (hashed, digest) = hashing(body);
        self.backend(kind)?.write(key, hashed).await?;
        let (size, sha256) = digest.finish()?;
        let info = BlobInfo {
            key: key.to_owned(),
            store: kind,
            size,
            sha256,
            content_type: content_type.to_owned(),
        };
        self.record(&info).await?;
        if let Some(previous) = previous
            && previous.store != kind
        {
            self.backend(previous.store)?.remove(key).await?;
        }
        Ok(info)
    }

    async fn record(&self, info: &BlobInfo) -> anyhow::Result<()> {
        blobs::Entity::insert(blobs::ActiveModel {
            key: Set(info.key.clone()),
            store: Set(info.store.as_str().to_owned()),
            size: Set(i64::try_from(info.size).context("blob too large")?),
            sha256: Set(info.sha256.clone()),
            content_type: Set(info.content_type.clone()),
            created_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::column(blobs::Column::Key)
                .update_columns([
                    blobs::Column::Store,
                    blobs::Column::Size,
                    blobs::Column::Sha256,
                    blobs::Column::ContentType,
                    blobs::Column::CreatedAt,
                ])
                .to_owned(),
        )
        .exec(&self.db)
        .await?;
        Ok(())
    }

    pub async fn info(&self, key: &str) -> anyhow::Result<Option<BlobInfo>> {
        blobs::Entity::find_by_id(key.to_owned())
            .one(&self.db)
            .await?
            .map(BlobInfo::try_from)
            .transpose()
    }

    /// The content of a blob, or the bytes of `range` within it.
    pub async fn read(
        &self,
        info: &BlobInfo,
        range: Option<ByteRange>,
    ) -> anyhow::Result<ByteStream> {
        if let Some(range) = range {
            anyhow::ensure!(
                range.start <= range.end && range.end < info.size,
                "range {}-{} is outside blob {} of {} bytes",
                range.start,
                range.end,
                info.key,
                info.size
            );
        }
        if info.size == 0 {
            return Ok(futures::stream::empty().boxed());
        }
        let whole = ByteRange {
            start: 0,
            end: info.size - 1,
        };
        self.backend(info.store)?
            .read(&info.key, range.unwrap_or(whole))
            .await
    }

    /// Removes a blob; a missing one is fine.
    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        let Some(info) = self.info(key).await? else {
            return Ok(());
        };
        blobs::Entity::delete_by_id(key.to_owned())
            .exec(&self.db)
            .await?;
        self.backend(info.store)?.remove(key).await
    }

    /// Copies every blob not yet in `to` there, checks its hash, switches its row and removes the
    /// old copy, one blob at a time: stopped at any point (or after `limit` blobs), it resumes
    /// where it was, and every blob stays readable throughout.
    pub async fn migrate(
        &self,
        to: Kind,
        limit: Option<u64>,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> anyhow::Result<MigrateSummary> {
        self.backend(to)?;
        let pending = || blobs::Entity::find().filter(blobs::Column::Store.ne(to.as_str()));
        let total = PaginatorTrait::count(pending(), &self.db).await?;
        let mut summary = MigrateSummary::default();
        loop {
            if limit.is_some_and(|limit| summary.moved >= limit) {
                break;
            }
            let batch = pending()
                .order_by_asc(blobs::Column::Key)
                .limit(100)
                .all(&self.db)
                .await?;
            if batch.is_empty() {
                break;
            }
            for row in batch {
                if limit.is_some_and(|limit| summary.moved >= limit) {
                    break;
                }
                let info = BlobInfo::try_from(row)?;
                self.move_one(&info, to).await?;
                summary.moved += 1;
                summary.bytes += info.size;
                progress(summary.moved, total);
            }
        }
        summary.remaining = PaginatorTrait::count(pending(), &self.db).await?;
        Ok(summary)
    }

    async fn move_one(&self, info: &BlobInfo, to: Kind) -> anyhow::Result<()> {
        let content = self.read(info, None).await?;
        let (hashed, digest) = hashing(content);
        self.backend(to)?.write(&info.key, hashed).await?;
        let (size, sha256) = digest.finish()?;
        if size != info.size || sha256 != info.sha256 {
            self.backend(to)?.remove(&info.key).await?;
            anyhow::bail!(
                "blob {} read back as {size} bytes with hash {sha256}, not {} bytes with {}; left where it was",
                info.key,
                info.size,
                info.sha256
            );
        }
        let moved = blobs::Entity::update_many()
            .col_expr(blobs::Column::Store, to.as_str().into())
            .filter(blobs::Column::Key.eq(info.key.as_str()))
            .filter(blobs::Column::Store.eq(info.store.as_str()))
            .filter(blobs::Column::Sha256.eq(info.sha256.as_str()))
            .exec(&self.db)
            .await?;
        if moved.rows_affected == 1 {
            self.backend(info.store)?.remove(&info.key).await?;
        } else {
            // Replaced or deleted meanwhile: the copy just made is not the blob any more.
            self.backend(to)?.remove(&info.key).await?;
        }
        Ok(())
    }
}

/// Keys are paths of plain segments: no empty, `.` or `..` segment, nothing that could leave
/// the store's folder.
fn validate_key(key: &str) -> anyhow::Result<()> {
    let fine = !key.is_empty()
        && key.len() <= 512
        && key.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        });
    anyhow::ensure!(fine, "{key:?} is not a valid blob key");
    Ok(())
}

/// The size and SHA-256 of what went through a stream.
struct Digest256(Arc<Mutex<(Sha256, u64)>>);

impl Digest256 {
    fn finish(self) -> anyhow::Result<(u64, String)> {
        let state = self
            .0
            .lock()
            .map_err(|_| anyhow::anyhow!("blob hash state poisoned"))?;
        let (hasher, size) = &*state;
        Ok((*size, hex::encode(hasher.clone().finalize())))
    }
}

fn hashing(body: ByteStream) -> (ByteStream, Digest256) {
    let state = Arc::new(Mutex::new((Sha256::new(), 0u64)));
    let seen = state.clone();
    let stream = body
        .inspect_ok(move |chunk| {
            if let Ok(mut state) = seen.lock() {
                state.0.update(chunk);
                state.1 += chunk.len() as u64;
            }
        })
        .boxed();
    (stream, Digest256(state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_climb_out_of_the_store() {
        assert!(validate_key("photos/0195/abc-256.jpg").is_ok());
        for bad in [
            "", "/abs", "a//b", "a/../b", "..", "a/./b", "a\\b", "a b", "a/",
        ] {
            assert!(validate_key(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn kinds_round_trip() {
        for kind in [Kind::Fs, Kind::Postgres, Kind::S3] {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("ftp"), None);
    }
}
