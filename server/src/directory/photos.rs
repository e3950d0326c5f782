//! Profile photos: an upload is decoded under limits (no decompression bombs), turned upright,
//! cropped square and re-encoded as JPEG thumbnails. Re-encoding from pixels drops EXIF and
//! anything else the file carried. Thumbnails live in the blob store under
//! `photos/<person id>/<version>-<size>.jpg`.

use std::path::{Path, PathBuf};

use image::ImageFormat;
use image::imageops::FilterType;
use uuid::Uuid;

use anyhow::Context;

use crate::blobs::{BlobInfo, Blobs};
use crate::error::ApiResult;
use crate::images;
pub use crate::images::UploadLimiter;

/// Largest upload accepted.
pub const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;
/// Media types an upload may declare.
pub const ACCEPTED_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];
/// Thumbnail edges, in pixels; the first is the default.
pub const SIZES: [u32; 2] = [256, 64];

/// The URL a client fetches a photo from; the version makes it cacheable for good.
pub fn url(person_id: Uuid, version: &str) -> String {
    format!("/api/v1/people/{person_id}/photo?v={version}")
}

/// Decodes an upload and returns JPEG thumbnails, one per entry of [`SIZES`], on the blocking
/// pool.
pub async fn make_thumbnails(bytes: axum::body::Bytes) -> ApiResult<Vec<(u32, Vec<u8>)>> {
    images::process(move || thumbnails(&bytes)).await
}

/// Decodes an upload and returns square JPEG thumbnails, one per entry of [`SIZES`].
pub fn thumbnails(bytes: &[u8]) -> ApiResult<Vec<(u32, Vec<u8>)>> {
    let picture = images::decode(
        bytes,
        &[ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::WebP],
    )?;
    let mut result = Vec::with_capacity(SIZES.len());
    let mut source = picture;
    // Largest first; each smaller size is made from the previous one, which is far cheaper.
    for size in SIZES {
        let square = source.resize_to_fill(size, size, FilterType::CatmullRom);
        result.push((size, images::jpeg(&square)?));
        source = square;
    }
    Ok(result)
}

/// The blob key of one size of one version of a person's photo.
pub fn key(person_id: Uuid, version: &str, size: u32) -> String {
    format!("photos/{person_id}/{version}-{size}.jpg")
}

/// Where photos were kept before the blob store: `<data_dir>/photos/<person>/<version>-<size>.jpg`.
fn legacy_file(data_dir: &Path, person_id: Uuid, version: &str, size: u32) -> PathBuf {
    data_dir
        .join("photos")
        .join(person_id.to_string())
        .join(format!("{version}-{size}.jpg"))
}

/// Stores a new version's thumbnails in the blob store.
pub async fn store(
    blobs: &Blobs,
    person_id: Uuid,
    version: &str,
    thumbnails: &[(u32, Vec<u8>)],
) -> anyhow::Result<()> {
    for (size, bytes) in thumbnails {
        blobs
            .put_bytes(&key(person_id, version, *size), "image/jpeg", bytes.clone())
            .await?;
    }
    Ok(())
}

/// Removes one version's thumbnails; missing ones are fine.
pub async fn discard(blobs: &Blobs, person_id: Uuid, version: &str) {
    for size in SIZES {
        let key = key(person_id, version, size);
        if let Err(error) = blobs.delete(&key).await {
            tracing::warn!(%key, error = %format!("{error:#}"), "cannot remove an old photo");
        }
    }
}

/// One size of a photo as stored. A photo uploaded before the blob store existed is taken into
/// it the first time it is asked for.
pub async fn find(
    blobs: &Blobs,
    data_dir: &Path,
    person_id: Uuid,
    version: &str,
    size: u32,
) -> anyhow::Result<Option<BlobInfo>> {
    let key = key(person_id, version, size);
    if let Some(info) = blobs.info(&key).await? {
        return Ok(Some(info));
    }
    let legacy = legacy_file(data_dir, person_id, version, size);
    match tokio::fs::read(&legacy).await {
        Ok(bytes) => {
            let info = blobs.put_bytes(&key, "image/jpeg", bytes).await?;
            if let Err(error) = tokio::fs::remove_file(&legacy).await {
                tracing::warn!(path = %legacy.display(), %error, "cannot remove a photo moved into the blob store");
            }
            Ok(Some(info))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).context("cannot read a photo from before the blob store"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use image::DynamicImage;
    use std::io::Cursor;

    fn encode(picture: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut bytes = Vec::new();
        picture
            .write_to(&mut Cursor::new(&mut bytes), format)
            .expect("encodes");
        bytes
    }

    #[test]
    fn a_wide_png_becomes_square_jpegs_of_both_sizes() {
        let picture = DynamicImage::new_rgba8(300, 120);
        let made = thumbnails(&encode(&picture, ImageFormat::Png)).expect("thumbnails");
        let sizes: Vec<(u32, (u32, u32))> = made
            .iter()
            .map(|(size, jpeg)| {
                let decoded = image::load_from_memory(jpeg).expect("valid jpeg");
                (*size, (decoded.width(), decoded.height()))
            })
            .collect();
        assert_eq!(sizes, [(256, (256, 256)), (64, (64, 64))]);
    }

    #[test]
    fn a_gif_is_refused() {
        let error = thumbnails(b"GIF89a\x01\x00\x01\x00").expect_err("gif refused");
        assert_eq!(error.code, "unsupported_image");
    }
}
