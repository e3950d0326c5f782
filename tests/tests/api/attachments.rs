//! Attachments: uploaded first, typed by their content, pictures with thumbnails, named by a
//! post, comment or announcement, and downloaded only by whoever may read what carries them.

use image::ImageFormat;
use plein_tests::pictures::{encode, png_bomb, red_left_blue_right};
use plein_tests::{Someone, TestApp, expect_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn upload(
    app: &TestApp,
    who: &Someone,
    name: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<reqwest::Response> {
    Ok(who
        .client
        .post(app.url("/api/v1/attachments"))
        .query(&[("name", name)])
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await?)
}

async fn uploaded(
    app: &TestApp,
    who: &Someone,
    name: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<Value> {
    let response = upload(app, who, name, content_type, bytes).await?;
    anyhow::ensure!(
        response.status() == StatusCode::CREATED,
        "upload: {} {}",
        response.status(),
        response.text().await?
    );
    Ok(response.json().await?)
}

async fn group(app: &TestApp, owner: &Someone, visibility: &str) -> anyhow::Result<String> {
    let group = app
        .expect_as(
            &owner.client,
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": format!("Groep {visibility}"), "kind": "casual", "visibility": visibility})),
            StatusCode::CREATED,
        )
        .await?;
    Ok(group["id"].as_str().unwrap_or_default().to_owned())
}

async fn attachment_rows(app: &TestApp) -> anyhow::Result<u64> {
    use plein_server::entities::attachments;
    use sea_orm::{EntityTrait, PaginatorTrait};
    Ok(attachments::Entity::find()
        .count(&app.handle.state.db)
        .await?)
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_picture_gets_a_thumbnail_and_is_read_by_whoever_reads_its_post() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let owner = app.someone("Olga Owner", "employee").await?;
    let outsider = app.someone("Otto Outsider", "employee").await?;
    let private = group(&app, &owner, "private").await?;

    let png = encode(&red_left_blue_right(2000, 1000), ImageFormat::Png)?;
    // The client says JPEG; the content says PNG, and the content wins.
    let picture = uploaded(
        &app,
        &owner,
        "../../vakantie.png",
        "image/jpeg",
        png.clone(),
    )
    .await?;
    assert_eq!(picture["kind"], "image");
    assert_eq!(picture["content_type"], "image/png");
    assert_eq!(picture["name"], "vakantie.png");
    assert_eq!(
        (picture["width"].as_u64(), picture["height"].as_u64()),
        (Some(2000), Some(1000))
    );
    assert_eq!(picture["size"].as_u64(), Some(png.len() as u64));
    let url = picture["url"].as_str().unwrap_or_default().to_owned();
    let thumbnail = picture["thumbnail_url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // Before it is attached, only its uploader sees it.
    let response = owner.client.get(app.url(&url)).send().await?;
    assert_eq!(response.status(), StatusCode::OK);
    expect_error(
        outsider.client.get(app.url(&url)).send().await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;

    let post = app
        .expect_as(
            &owner.client,
            Method::POST,
            &format!("/api/v1/groups/{private}/posts"),
            Some(json!({"body": "", "attachments": [picture["id"]]})),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(post["attachments"][0]["id"], picture["id"]);

    let response = owner.client.get(app.url(&url)).send().await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), "image/png");
    assert!(header(&response, "content-disposition").starts_with("inline;"));
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert_eq!(response.bytes().await?.to_vec(), png);

    let response = owner.client.get(app.url(&thumbnail)).send().await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), "image/jpeg");
    let small = image::load_from_memory(&response.bytes().await?)?;
    assert_eq!((small.width(), small.height()), (800, 400));

    // A private group's files are for its members alone; 404, so ids reveal nothing.
    for path in [&url, &thumbnail] {
        expect_error(
            outsider.client.get(app.url(path)).send().await?,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await?;
    }
    // Once the post is deleted its files go with it.
    let post_id = post["id"].as_str().unwrap_or_default();
    app.expect_as(
        &owner.client,
        Method::DELETE,
        &format!("/api/v1/posts/{post_id}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    expect_error(
        owner.client.get(app.url(&url)).send().await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn files_that_lie_bombs_and_oversized_uploads_are_handled_and_nothing_is_half_stored()
-> anyhow::Result<()> {
    let app = TestApp::spawn_with(|raw| raw.attachment_limit_bytes = 64 * 1024).await?;
    app.setup_admin().await?;
    let owner = app.someone("Olga Owner", "employee").await?;
    let public = group(&app, &owner, "public").await?;

    // An HTML page calling itself a PNG is kept as what it is, and only ever offered as a
    // download the browser may not render.
    let page = b"<html><script>alert(document.cookie)</script></html>".to_vec();
    let lie = uploaded(
        &app,
        &owner,
        "<img src=x onerror=alert(1)>.png",
        "image/png",
        page.clone(),
    )
    .await?;
    assert_eq!(lie["kind"], "file");
    assert_eq!(lie["content_type"], "text/html");
    assert!(lie["thumbnail_url"].is_null());
    let pdf = uploaded(
        &app,
        &owner,
        "Jaarplan 2027 – versie 2.pdf",
        "application/octet-stream",
        b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n".to_vec(),
    )
    .await?;
    assert_eq!(pdf["content_type"], "application/pdf");
    app.expect_as(
        &owner.client,
        Method::POST,
        &format!("/api/v1/groups/{public}/posts"),
        Some(json!({"body": "Bijlagen", "attachments": [lie["id"], pdf["id"]]})),
        StatusCode::CREATED,
    )
    .await?;
    let response = owner
        .client
        .get(app.url(lie["url"].as_str().unwrap_or_default()))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        header(&response, "content-disposition").starts_with("attachment;"),
        "{}",
        header(&response, "content-disposition")
    );
    assert!(header(&response, "content-security-policy").contains("sandbox"));
    assert_eq!(header(&response, "content-type"), "text/html");
    assert_eq!(response.bytes().await?.to_vec(), page);
    let response = owner
        .client
        .get(app.url(pdf["url"].as_str().unwrap_or_default()))
        .send()
        .await?;
    assert_eq!(
        header(&response, "content-disposition"),
        "attachment; filename=\"Jaarplan 2027 _ versie 2.pdf\"; filename*=UTF-8''Jaarplan%202027%20%E2%80%93%20versie%202.pdf"
    );

    let before = attachment_rows(&app).await?;
    let bomb = upload(&app, &owner, "bom.png", "image/png", png_bomb()?).await?;
    expect_error(bomb, StatusCode::UNPROCESSABLE_ENTITY, "image_too_large").await?;
    let broken = upload(
        &app,
        &owner,
        "kapot.png",
        "image/png",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRgarbage".to_vec(),
    )
    .await?;
    expect_error(broken, StatusCode::UNPROCESSABLE_ENTITY, "invalid_image").await?;
    let huge = upload(
        &app,
        &owner,
        "groot.bin",
        "application/octet-stream",
        vec![7u8; 65 * 1024],
    )
    .await?;
    expect_error(huge, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await?;
    let empty = upload(&app, &owner, "leeg.txt", "text/plain", Vec::new()).await?;
    expect_error(empty, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    assert_eq!(
        attachment_rows(&app).await?,
        before,
        "nothing stored for refused uploads"
    );
    Ok(())
}

#[tokio::test]
async fn only_your_own_free_uploads_can_be_attached_and_at_most_ten() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let owner = app.someone("Olga Owner", "employee").await?;
    let member = app.someone("Mira Member", "employee").await?;
    let public = group(&app, &owner, "public").await?;
    app.expect_as(
        &member.client,
        Method::POST,
        &format!("/api/v1/groups/{public}/join"),
        None,
        StatusCode::OK,
    )
    .await?;
    let posts = format!("/api/v1/groups/{public}/posts");

    let mine = uploaded(&app, &owner, "a.txt", "text/plain", b"een".to_vec()).await?;
    // Someone else's upload.
    let body = json!({"body": "Kijk", "attachments": [mine["id"]]});
    let error = app
        .expect_as(
            &member.client,
            Method::POST,
            &posts,
            Some(body),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await?;
    assert!(
        error["error"]["fields"]["attachments"].is_string(),
        "{error}"
    );
    // An id that is nobody's.
    let body = json!({"body": "Kijk", "attachments": [uuid::Uuid::now_v7()]});
    app.expect_as(
        &owner.client,
        Method::POST,
        &posts,
        Some(body),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await?;
    // The same file twice.
    let body = json!({"body": "Kijk", "attachments": [mine["id"], mine["id"]]});
    app.expect_as(
        &owner.client,
        Method::POST,
        &posts,
        Some(body),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await?;
    // Eleven files.
    let mut many = Vec::new();
    for n in 0..11 {
        many.push(
            uploaded(
                &app,
                &owner,
                &format!("{n}.txt"),
                "text/plain",
                format!("{n}").into_bytes(),
            )
            .await?["id"]
                .clone(),
        );
    }
    let body = json!({"body": "Veel", "attachments": many});
    app.expect_as(
        &owner.client,
        Method::POST,
        &posts,
        Some(body),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await?;
    // A refused post stores nothing: the files are still free to attach.
    let body = json!({"body": "", "attachments": many[..10]});
    let post = app
        .expect_as(
            &owner.client,
            Method::POST,
            &posts,
            Some(body),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(post["attachments"].as_array().map(Vec::len), Some(10));
    // A file attached to one post cannot move to another.
    let body = json!({"body": "Nog eens", "attachments": [many[0]]});
    app.expect_as(
        &owner.client,
        Method::POST,
        &posts,
        Some(body),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await?;
    // No text and no files is no post.
    let body = json!({"body": "  ", "attachments": []});
    app.expect_as(
        &owner.client,
        Method::POST,
        &posts,
        Some(body),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await?;

    // An edit may change the files; left out, they stay.
    let post_id = post["id"].as_str().unwrap_or_default();
    let edited = app
        .expect_as(
            &owner.client,
            Method::PATCH,
            &format!("/api/v1/posts/{post_id}"),
            Some(json!({"body": "Minder", "attachments": [many[3], mine["id"]]})),
            StatusCode::OK,
        )
        .await?;
    let ids: Vec<&Value> = edited["attachments"]
        .as_array()
        .map(|files| files.iter().map(|file| &file["id"]).collect())
        .unwrap_or_default();
    assert_eq!(ids, [&many[3], &mine["id"]]);
    assert!(edited["edited_at"].is_string());
    let kept = app
        .expect_as(
            &owner.client,
            Method::PATCH,
            &format!("/api/v1/posts/{post_id}"),
            Some(json!({"body": "Minder, maar anders"})),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(kept["attachments"].as_array().map(Vec::len), Some(2));

    // Comments carry files too; the post's readers download them.
    let file = uploaded(
        &app,
        &member,
        "route.gpx",
        "application/gpx+xml",
        b"<gpx></gpx>".to_vec(),
    )
    .await?;
    let comment = app
        .expect_as(
            &member.client,
            Method::POST,
            &format!("/api/v1/posts/{post_id}/comments"),
            Some(json!({"body": "", "attachments": [file["id"]]})),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(comment["attachments"][0]["id"], file["id"]);
    let response = owner
        .client
        .get(app.url(file["url"].as_str().unwrap_or_default()))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn an_announcements_files_are_for_its_recipients_and_hr() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let hr = app.someone_in("Hanna HR", "hr", "HR", "Utrecht").await?;
    let inside = app
        .someone_in("Anna Bakker", "employee", "Netwerk", "Amsterdam")
        .await?;
    let outside = app
        .someone_in("Karel Klant", "employee", "Verkoop", "Amsterdam")
        .await?;
    let file = uploaded(
        &app,
        &hr,
        "regeling.pdf",
        "application/pdf",
        b"%PDF-1.4\n".to_vec(),
    )
    .await?;
    let announcement = app.expect_as(&hr.client, Method::POST, "/api/v1/announcements",
        Some(json!({"title": "Nieuwe regeling", "body": "Zie bijlage", "audience": {"departments": ["Netwerk"]}, "attachments": [file["id"]]})),
        StatusCode::CREATED).await?;
    assert_eq!(announcement["attachments"][0]["id"], file["id"]);
    let id = announcement["id"].as_str().unwrap_or_default();
    let url = file["url"].as_str().unwrap_or_default();
    // A draft's files are HR's.
    expect_error(
        inside.client.get(app.url(url)).send().await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    app.expect_as(
        &hr.client,
        Method::POST,
        &format!("/api/v1/announcements/{id}/publish"),
        Some(json!({})),
        StatusCode::OK,
    )
    .await?;
    assert_eq!(
        inside.client.get(app.url(url)).send().await?.status(),
        StatusCode::OK
    );
    assert_eq!(
        hr.client.get(app.url(url)).send().await?.status(),
        StatusCode::OK
    );
    expect_error(
        outside.client.get(app.url(url)).send().await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    let shown = app
        .expect_as(
            &inside.client,
            Method::GET,
            &format!("/api/v1/announcements/{id}"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(shown["attachments"][0]["name"], "regeling.pdf");
    Ok(())
}
