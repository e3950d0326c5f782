//! Pictures people upload (profile photos, group covers, attached images): decoded under limits
//! (no decompression bombs), turned upright, and re-encoded as JPEG from their pixels, which
//! drops EXIF and anything else the file carried. Decoding is CPU-bound; [`process`] runs it on
//! the blocking pool, a bounded number at a time.

use std::io::Cursor;

use axum::http::StatusCode;
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

use crate::error::{ApiError, ApiResult};

/// Larger pictures are refused before their pixels are decoded: decoding costs CPU in
/// proportion (40 megapixels took 2.4 s). 24 megapixels still takes a phone's full-size picture.
pub const MAX_EDGE: u32 = 6_000;
pub const MAX_PIXELS: u64 = 24_000_000;
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;
pub const JPEG_QUALITY: u8 = 85;

/// The raster formats Plein decodes.
pub fn decodable(format: ImageFormat) -> bool {
    matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif
    )
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
            "this kind of picture is not supported; use JPEG, PNG, WebP or GIF",
        ),
        _ => invalid(
            "invalid_image",
            "the file is not a readable JPEG, PNG, WebP or GIF picture",
        ),
    }
}

/// Decodes a picture in one of `formats`, upright, refusing more than [`MAX_PIXELS`].
pub fn decode(bytes: &[u8], formats: &[ImageFormat]) -> ApiResult<DynamicImage> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| invalid("invalid_image", "the file cannot be read"))?;
    if !reader
        .format()
        .is_some_and(|format| formats.contains(&format))
    {
        let names: Vec<&str> = formats
            .iter()
            .filter_map(|format| format.extensions_str().first().copied())
            .collect();
        return Err(invalid(
            "unsupported_image",
            format!(
                "the file is not a picture of a kind taken here ({})",
                names.join(", ")
            ),
        ));
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
    Ok(picture)
}

/// Encodes as JPEG; transparent parts become white rather than black.
pub fn jpeg(picture: &DynamicImage) -> ApiResult<Vec<u8>> {
    let flat = flatten_on_white(picture);
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY)
        .encode_image(&flat)
        .map_err(ApiError::internal)?;
    Ok(bytes)
}

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

/// Decoding takes up to `MAX_DECODE_BYTES` of memory; this many at once.
static PROCESSING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Runs picture work on the blocking pool, a bounded number at a time.
pub async fn process<T: Send + 'static>(
    work: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let _permit = PROCESSING.acquire().await.map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ApiError::internal(anyhow::anyhow!("picture task failed: {error}")))?
}

/// Takes one upload from a person's hourly allowance, or answers 429 with the wait.
#[derive(Clone)]
pub struct UploadLimiter {
    per_person: std::sync::Arc<governor::DefaultKeyedRateLimiter<uuid::Uuid>>,
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

    pub fn check(&self, person_id: uuid::Uuid) -> ApiResult<()> {
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
    fn transparency_becomes_white() {
        let picture = DynamicImage::new_rgba8(10, 10);
        let decoded = image::load_from_memory(&jpeg(&picture).expect("jpeg"))
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
    fn a_format_not_asked_for_is_refused() {
        let png = encode(&DynamicImage::new_rgb8(4, 4), ImageFormat::Png);
        assert!(decode(&png, &[ImageFormat::Png]).is_ok());
        let error = decode(&png, &[ImageFormat::Jpeg]).expect_err("png refused");
        assert_eq!(error.code, "unsupported_image");
    }
}
