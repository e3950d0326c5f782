//! Pictures for upload tests: ordinary ones and hostile ones.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

pub fn encode(picture: &DynamicImage, format: ImageFormat) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    picture.write_to(&mut Cursor::new(&mut bytes), format)?;
    Ok(bytes)
}

/// A `width`×`height` picture, left half red and right half blue.
pub fn red_left_blue_right(width: u32, height: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            Rgb([220, 0, 0])
        } else {
            Rgb([0, 0, 220])
        }
    }))
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A small file whose header promises 60,000 × 60,000 pixels: decoding it would need 14 GB.
pub fn png_bomb() -> anyhow::Result<Vec<u8>> {
    let mut png = encode(&DynamicImage::new_rgb8(1, 1), ImageFormat::Png)?;
    // IHDR data starts after the 8-byte signature, 4-byte length and 4-byte type.
    png[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    Ok(png)
}
