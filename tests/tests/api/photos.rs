use image::{DynamicImage, ImageFormat};
use plein_tests::pictures::{encode, png_bomb, red_left_blue_right};
use plein_tests::{TestApp, expect_error, new_client};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "hagelslag op een boterham";

/// The blob keys of a person's photos, in whichever store the test server uses.
async fn stored_photos(app: &TestApp, person_id: &str) -> anyhow::Result<Vec<String>> {
    use plein_server::entities::blobs;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    Ok(blobs::Entity::find()
        .filter(blobs::Column::Key.starts_with(format!("photos/{person_id}/")))
        .all(&app.handle.state.db)
        .await?
        .into_iter()
        .map(|row| row.key)
        .collect())
}

/// An EXIF block saying "rotate 90° clockwise to view" and carrying a description that must not
/// survive: a stand-in for GPS coordinates and camera serial numbers.
fn exif_segment() -> Vec<u8> {
    let description = b"SECRET-GPS-52.3676N-4.9041E\0";
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&2u16.to_be_bytes());
    // Orientation (0x0112), SHORT, 1 value: 6.
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
    // ImageDescription (0x010E), ASCII, stored after the IFD.
    let offset = 8 + 2 + 2 * 12 + 4;
    tiff.extend_from_slice(&[0x01, 0x0e, 0, 2]);
    tiff.extend_from_slice(&(description.len() as u32).to_be_bytes());
    tiff.extend_from_slice(&(offset as u32).to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(description);
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff);
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    segment.extend_from_slice(&payload);
    segment
}

fn jpeg_with_exif(picture: &DynamicImage) -> anyhow::Result<Vec<u8>> {
    let plain = encode(picture, ImageFormat::Jpeg)?;
    let mut with_exif = plain[..2].to_vec();
    with_exif.extend_from_slice(&exif_segment());
    with_exif.extend_from_slice(&plain[2..]);
    Ok(with_exif)
}

async fn upload(
    client: &reqwest::Client,
    app: &TestApp,
    content_type: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<reqwest::Response> {
    Ok(client
        .put(app.url("/api/v1/me/photo"))
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await?)
}

async fn with_sanne(app: &TestApp) -> anyhow::Result<(String, reqwest::Client)> {
    app.setup_admin().await?;
    let sanne = app
        .create_person(
            "sanne@plein.example",
            "Sanne de Vries",
            "employee",
            PASSWORD,
        )
        .await?;
    let client = app.login("sanne@plein.example", PASSWORD).await?;
    Ok((sanne["id"].as_str().unwrap_or_default().to_owned(), client))
}

#[tokio::test]
async fn an_uploaded_photo_is_turned_upright_cropped_square_and_stripped_of_exif()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let (sanne_id, sanne) = with_sanne(&app).await?;
    let original = jpeg_with_exif(&red_left_blue_right(400, 200))?;
    assert!(original.windows(10).any(|w| w == b"SECRET-GPS"));
    let response = upload(&sanne, &app, "image/jpeg", original).await?;
    assert_eq!(response.status(), StatusCode::OK);
    let profile: Value = response.json().await?;
    let photo_url = profile["photo_url"].as_str().unwrap_or_default().to_owned();
    assert!(
        photo_url.starts_with(&format!("/api/v1/people/{sanne_id}/photo?v=")),
        "{profile}"
    );

    let colleague = app.client.get(app.url(&photo_url)).send().await?;
    assert_eq!(colleague.status(), StatusCode::OK);
    assert_eq!(colleague.headers()["content-type"], "image/jpeg");
    assert_eq!(
        colleague.headers()["cache-control"],
        "private, max-age=31536000, immutable"
    );
    let etag = colleague.headers()["etag"].to_str()?.to_owned();
    let bytes = colleague.bytes().await?;
    assert!(
        !bytes.windows(10).any(|w| w == b"SECRET-GPS"),
        "EXIF survived"
    );
    assert!(
        !bytes.windows(4).any(|w| w == b"Exif"),
        "an EXIF block survived"
    );
    let thumbnail = image::load_from_memory(&bytes)?.to_rgb8();
    assert_eq!(thumbnail.dimensions(), (256, 256));
    // Rotated 90° clockwise, the red left half is now on top.
    let top = thumbnail.get_pixel(128, 20).0;
    let bottom = thumbnail.get_pixel(128, 235).0;
    assert!(top[0] > 150 && top[2] < 80, "top is {top:?}");
    assert!(bottom[2] > 150 && bottom[0] < 80, "bottom is {bottom:?}");

    let small = app
        .client
        .get(app.url(&format!("{photo_url}&size=64")))
        .send()
        .await?;
    assert_eq!(image::load_from_memory(&small.bytes().await?)?.width(), 64);
    let revalidated = app
        .client
        .get(app.url(&photo_url))
        .header("if-none-match", &etag)
        .send()
        .await?;
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
    let unversioned = app
        .client
        .get(app.url(&format!("/api/v1/people/{sanne_id}/photo")))
        .send()
        .await?;
    assert_eq!(unversioned.headers()["cache-control"], "private, no-cache");
    let wrong_size = app
        .client
        .get(app.url(&format!("{photo_url}&size=1000")))
        .send()
        .await?;
    expect_error(
        wrong_size,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let anonymous = new_client()?.get(app.url(&photo_url)).send().await?;
    expect_error(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await?;

    app.caught_up().await?;
    let results: Value = app
        .client
        .get(app.url("/api/v1/people/search"))
        .query(&[("q", "sanne")])
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(results["hits"][0]["photo_url"], photo_url.as_str());
    Ok(())
}

#[tokio::test]
async fn a_new_photo_replaces_the_old_files_and_removing_it_clears_the_url() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let (sanne_id, sanne) = with_sanne(&app).await?;
    let transparent = encode(&DynamicImage::new_rgba8(50, 80), ImageFormat::Png)?;
    let first: Value = upload(&sanne, &app, "image/png", transparent)
        .await?
        .json()
        .await?;
    let webp = encode(&red_left_blue_right(90, 90), ImageFormat::WebP)?;
    let second: Value = upload(&sanne, &app, "image/webp", webp)
        .await?
        .json()
        .await?;
    assert_ne!(first["photo_url"], second["photo_url"]);
    assert_eq!(
        stored_photos(&app, &sanne_id).await?.len(),
        2,
        "one version in two sizes remains"
    );

    let removed = sanne.delete(app.url("/api/v1/me/photo")).send().await?;
    assert_eq!(removed.status(), StatusCode::OK);
    let profile: Value = removed.json().await?;
    assert!(profile["photo_url"].is_null());
    assert!(stored_photos(&app, &sanne_id).await?.is_empty());
    let gone = app
        .client
        .get(app.url(&format!("/api/v1/people/{sanne_id}/photo")))
        .send()
        .await?;
    expect_error(gone, StatusCode::NOT_FOUND, "not_found").await?;
    Ok(())
}

#[tokio::test]
async fn bombs_fakes_and_wrong_types_are_refused_and_nothing_changes() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let (sanne_id, sanne) = with_sanne(&app).await?;
    let png = encode(&DynamicImage::new_rgb8(20, 20), ImageFormat::Png)?;
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "image/png",
            png_bomb()?,
            StatusCode::UNPROCESSABLE_ENTITY,
            "image_too_large",
        ),
        (
            "image/gif",
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "image/png",
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unsupported_image",
        ),
        (
            "image/jpeg",
            b"\xFF\xD8\xFF\xE0 this is not really a jpeg".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_image",
        ),
        (
            "image/jpeg",
            png[..png.len() / 2].to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_image",
        ),
        (
            "text/plain",
            png.clone(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "image/jpeg",
            vec![0xFF; 5 * 1024 * 1024 + 1],
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (content_type, bytes, status, code) in cases {
        let response = upload(&sanne, &app, content_type, bytes).await?;
        expect_error(response, status, code).await?;
    }
    let profile: Value = app.get_json(&format!("/api/v1/people/{sanne_id}")).await?;
    assert!(profile["photo_url"].is_null(), "{profile}");
    assert!(!app.config.data_dir.join("photos").join(&sanne_id).exists());
    // A token is not a person and has no photo of its own.
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/admin/tokens",
            &json!({"name": "hr", "scopes": ["admin"]}),
        )
        .await?;
    let secret = response.json::<Value>().await?["secret"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let response = new_client()?
        .put(app.url("/api/v1/me/photo"))
        .bearer_auth(secret)
        .header("content-type", "image/png")
        .body(png)
        .send()
        .await?;
    assert!(response.status().is_client_error());
    Ok(())
}

#[tokio::test]
async fn a_deactivated_colleagues_photo_is_not_served() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let (sanne_id, sanne) = with_sanne(&app).await?;
    let png = encode(&red_left_blue_right(40, 40), ImageFormat::Png)?;
    let profile: Value = upload(&sanne, &app, "image/png", png).await?.json().await?;
    let photo_url = profile["photo_url"].as_str().unwrap_or_default().to_owned();
    app.create_person("koen@plein.example", "Koen Bos", "employee", PASSWORD)
        .await?;
    let koen = app.login("koen@plein.example", PASSWORD).await?;
    assert_eq!(
        koen.get(app.url(&photo_url)).send().await?.status(),
        StatusCode::OK
    );
    let response = app
        .send_json(
            Method::POST,
            &format!("/api/v1/admin/people/{sanne_id}/deactivate"),
            &json!({}),
        )
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let hidden = koen.get(app.url(&photo_url)).send().await?;
    expect_error(hidden, StatusCode::NOT_FOUND, "not_found").await?;
    Ok(())
}

#[tokio::test]
async fn photo_uploads_per_person_are_limited() -> anyhow::Result<()> {
    let app = TestApp::spawn_with(|raw| raw.photo_uploads_per_hour = 2).await?;
    let (_sanne_id, sanne) = with_sanne(&app).await?;
    let png = encode(&DynamicImage::new_rgb8(30, 30), ImageFormat::Png)?;
    for _ in 0..2 {
        let response = upload(&sanne, &app, "image/png", png.clone()).await?;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let limited = upload(&sanne, &app, "image/png", png.clone()).await?;
    assert!(limited.headers().contains_key("retry-after"));
    expect_error(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await?;
    // Someone else is not held back by Sanne's uploads.
    app.create_person("koen@plein.example", "Koen Bakker", "employee", PASSWORD)
        .await?;
    let koen = app.login("koen@plein.example", PASSWORD).await?;
    let response = upload(&koen, &app, "image/png", png).await?;
    assert_eq!(response.status(), StatusCode::OK);
    Ok(())
}
