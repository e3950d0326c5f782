//! The stores behind the blob store: one trait, and the `fs` and `s3` stores through the
//! `object_store` crate. (`postgres` is in its own module.)

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use futures::stream::{StreamExt, TryStreamExt};
use object_store::buffered::BufWriter;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use tokio::io::AsyncWriteExt;

use super::{ByteRange, ByteStream};
use crate::config::S3Settings;

/// One place blobs can live. Keys are checked before they reach a backend.
#[async_trait::async_trait]
pub trait Backend: Send + Sync {
    /// Writes the whole stream under `key`, replacing what was there; nothing is visible under
    /// `key` until all of it is written.
    async fn write(&self, key: &str, body: ByteStream) -> anyhow::Result<()>;

    /// Streams the bytes `range` (inclusive) of `key`.
    async fn read(&self, key: &str, range: ByteRange) -> anyhow::Result<ByteStream>;

    /// Removes `key`; a missing one is fine.
    async fn remove(&self, key: &str) -> anyhow::Result<()>;
}

/// A folder on this node's disk.
pub fn filesystem(root: &Path) -> anyhow::Result<Arc<dyn Backend>> {
    std::fs::create_dir_all(root)
        .with_context(|| format!("cannot create the blob folder {}", root.display()))?;
    let store = object_store::local::LocalFileSystem::new_with_prefix(root)
        .with_context(|| format!("cannot open the blob folder {}", root.display()))?;
    Ok(Arc::new(ObjectBackend {
        store: Arc::new(store),
    }))
}

/// Any S3-compatible service.
pub fn s3(settings: &S3Settings) -> anyhow::Result<Arc<dyn Backend>> {
    let mut builder = object_store::aws::AmazonS3Builder::from_env()
        .with_bucket_name(&settings.bucket)
        .with_allow_http(settings.allow_http);
    if let Some(region) = &settings.region {
        builder = builder.with_region(region);
    }
    if let Some(endpoint) = &settings.endpoint {
        // MinIO, Ceph, Garage and most others address buckets by path.
        builder = builder
            .with_endpoint(endpoint)
            .with_virtual_hosted_style_request(false);
    }
    if let (Some(id), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
        builder = builder
            .with_access_key_id(id)
            .with_secret_access_key(secret);
    }
    let store = builder.build().context("invalid S3 blob store settings")?;
    Ok(Arc::new(ObjectBackend {
        store: Arc::new(store),
    }))
}

struct ObjectBackend {
    store: Arc<dyn ObjectStore>,
}

fn object_path(key: &str) -> anyhow::Result<ObjectPath> {
    ObjectPath::parse(key).with_context(|| format!("{key:?} is not a valid object path"))
}

#[async_trait::async_trait]
impl Backend for ObjectBackend {
    async fn write(&self, key: &str, mut body: ByteStream) -> anyhow::Result<()> {
        // Small blobs in one request, large ones as a multipart upload, never whole in memory.
        let mut writer = BufWriter::new(self.store.clone(), object_path(key)?);
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(error) => {
                    let _ = writer.abort().await;
                    return Err(error).context("reading the blob's content failed");
                }
            };
            if let Err(error) = writer.write_all(&chunk).await {
                let _ = writer.abort().await;
                return Err(error).with_context(|| format!("cannot write blob {key}"));
            }
        }
        writer
            .shutdown()
            .await
            .with_context(|| format!("cannot finish writing blob {key}"))
    }

    async fn read(&self, key: &str, range: ByteRange) -> anyhow::Result<ByteStream> {
        let options = GetOptions {
            range: Some(GetRange::Bounded(range.start..range.end + 1)),
            ..GetOptions::default()
        };
        let found = self
            .store
            .get_opts(&object_path(key)?, options)
            .await
            .with_context(|| format!("cannot read blob {key}"))?;
        Ok(found.into_stream().map_err(std::io::Error::other).boxed())
    }

    async fn remove(&self, key: &str) -> anyhow::Result<()> {
        match self.store.delete(&object_path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(error).with_context(|| format!("cannot remove blob {key}")),
        }
    }
}
