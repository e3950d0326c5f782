//! Profile photos: an upload is decoded under limits (no decompression bombs), turned upright,
//! cropped square and re-encoded as JPEG thumbnails. Re-encoding from pixels drops EXIF and
//! anything else the file carried. Thumbnails live in the blob store under
//! `photos/<person id>/<version>-<size>.jpg`.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};
use uuid::Uuid;

use anyhow::Context;

use crate::blobs::{BlobInfo, Blobs};
use crate::error::{ApiError, ApiResult};

/// Largest upload accepted.
pub const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;
/// Media types an upload may declare.
pub const ACCEPTED_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];
/// Thumbnail edges, in pixels; the first is the default.
pub const SIZES: [u32; 2] = [256, 64];
/// Larger pictures are refused before their pixels are decoded: a profile photo needs far less,
/// and decoding costs CPU in proportion (40 megapixels took 2.4 s). 24 megapixels still takes a
/// phone's full-size 12 or 24 MP picture.
const MAX_EDGE: u32 = 6_000;
const MAX_PIXELS: u64 = 24_000_000;
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;
const JPEG_QUALITY: u8 = 85;

/// The URL a client fetches a photo from; the version makes it cacheable for good.
pub fn url(person_id: Uuid, version: &str) -> String {
    format!("/api/v1/people/{person_id}/photo?v={version}")
}

fn invalid(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

fn decode_error(error: image::ImageError) -> ApiError {
    match error {
        image::ImageError::Limits(_) => invalid(
            "image_too_large",
            format!("the picture is too large to process; at most {MAX_EDGE}×{MAX_EDGE} pixels"),
        ),
        image::ImageError::Unsupported(_) => invalid(
            "unsupported_image",
            "this kind of picture is not supported; use JPEG, PNG or WebP",
        ),
        _ => invalid(
            "invalid_image",
            "the file is not a readable JPEG, PNG or WebP picture",
        ),
    }
}

/// Photos each person may have decoded per hour on one node: decoding is the costly part.
#[derive(Clone)]
pub struct UploadLimiter {
    per_person: std::sync::Arc<governor::DefaultKeyedRateLimiter<Uuid>>,
}

impl UploadLimiter {
    pub fn new(per_hour: u32) -> Self {
        let per_hour = std::num::NonZeroU32::new(per_hour).unwrap_or(std::num::NonZeroU32::MIN);
        UploadLimiter {
            per_person: std::sync::Arc::new(governor::RateLimiter::keyed(
                governor::Quota::per_hour(per_hour),
            )),
        }
    }

    /// Takes one upload from the person's allowance, or answers 429 with the wait.
    pub fn check(&self, person_id: Uuid) -> ApiResult<()> {
        use governor::clock::Clock as _;
        self.per_person.check_key(&person_id).map_err(|not_until| {
            let clock = governor::clock::DefaultClock::default();
            ApiError::rate_limited(not_until.wait_time_from(clock.now()).as_secs().max(1))
        })
    }

    /// Drops people who have not uploaded lately.
    pub fn prune(&self) {
        self.per_person.retain_recent();
    }
}

/// Decoding takes up to `MAX_DECODE_BYTES` of memory; this many at once.
static PROCESSING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// [`thumbnails`] on the blocking pool, a bounded number at a time.
pub async fn make_thumbnails(bytes: axum::body::Bytes) -> ApiResult<Vec<(u32, Vec<u8>)>> {
    let _permit = PROCESSING.acquire().await.map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(move || thumbnails(&bytes))
        .await
        .map_err(|error| ApiError::internal(anyhow::anyhow!("photo task failed: {error}")))?
}

/// Decodes an upload and returns JPEG thumbnails, one per entry of [`SIZES`]. CPU-bound: call
/// it off the async threads.
pub fn thumbnails(bytes: &[u8]) -> ApiResult<Vec<(u32, Vec<u8>)>> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| invalid("invalid_image", "the file cannot be read"))?;
    match reader.format() {
        Some(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP) => {}
        _ => {
            return Err(invalid(
                "unsupported_image",
                "the file is not a JPEG, PNG or WebP picture",
            ));
        }
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_EDGE);
    limits.max_image_height = Some(MAX_EDGE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(invalid(
            "image_too_large",
            format!(
                "the picture has {width}×{height} pixels; at most {} megapixels",
                MAX_PIXELS / 1_000_000
            ),
        ));
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    picture.apply_orientation(orientation);

    let mut result = Vec::with_capacity(SIZES.len());
    let mut source = picture;
    // Largest first; each smaller size is made from the previous one, which is far cheaper.
    for size in SIZES {
        let square = source.resize_to_fill(size, size, FilterType::CatmullRom);
        let flat = flatten_on_white(&square);
        let mut jpeg = Vec::new();
        JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY)
            .encode_image(&flat)
            .map_err(ApiError::internal)?;
        result.push((size, jpeg));
        source = square;
    }
    Ok(result)
}

/// JPEG has no transparency: transparent parts become white rather than black.
fn flatten_on_white(picture: &DynamicImage) -> RgbImage {
    if !picture.color().has_alpha() {
        return picture.to_rgb8();
    }
    let rgba = picture.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [red, green, blue, alpha] = rgba.get_pixel(x, y).0;
        let blend = |channel: u8| -> u8 {
            let alpha = u16::from(alpha);
            ((u16::from(channel) * alpha + 255 * (255 - alpha)) / 255) as u8
        };
        image::Rgb([blend(red), blend(green), blend(blue)])
    })
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
    fn transparency_becomes_white() {
        let picture = DynamicImage::new_rgba8(10, 10);
        let made = thumbnails(&encode(&picture, ImageFormat::Png)).expect("thumbnails");
        let decoded = image::load_from_memory(&made[1].1)
            .expect("valid jpeg")
            .to_rgb8();
        assert!(
            decoded
                .get_pixel(5, 5)
                .0
                .iter()
                .all(|&channel| channel > 240)
        );
    }

    #[test]
    fn a_gif_is_refused() {
        let error = thumbnails(b"GIF89a\x01\x00\x01\x00").expect_err("gif refused");
        assert_eq!(error.code, "unsupported_image");
    }
}
