use anyhow::Context as _;
use plein_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, expect_error, new_client};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn setup_is_needed_on_a_fresh_server_and_creates_a_signed_in_admin() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let status: Value = app.get_json("/api/v1/setup").await?;
    assert_eq!(status["needed"], true);

    let admin = app.setup_admin().await?;
    assert_eq!(admin["role"], "admin");
    assert_eq!(admin["email"], ADMIN_EMAIL);

    let me: Value = app.get_json("/api/v1/me").await?;
    assert_eq!(me["id"], admin["id"]);
    let status: Value = app.get_json("/api/v1/setup").await?;
    assert_eq!(status["needed"], false);
    Ok(())
}

#[tokio::test]
async fn setup_with_a_wrong_token_is_refused_and_changes_nothing() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let response = app.send_json(Method::POST, "/api/v1/setup", &json!({"token": "guessed", "email": "x@plein.example", "name": "X", "password": ADMIN_PASSWORD})).await?;
    expect_error(response, StatusCode::FORBIDDEN, "invalid_setup_token").await?;
    let status: Value = app.get_json("/api/v1/setup").await?;
    assert_eq!(status["needed"], true);
    // The real token still works afterwards.
    app.setup_admin().await?;
    Ok(())
}

#[tokio::test]
async fn setup_works_exactly_once_even_when_two_attempts_race() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let token = app.setup_token().await?;
    let attempt = |email: &'static str| {
        let client = new_client();
        let url = app.url("/api/v1/setup");
        let token = token.clone();
        async move {
            let body = json!({"token": token, "email": email, "name": "Eerste", "password": ADMIN_PASSWORD});
            client?
                .post(url)
                .json(&body)
                .send()
                .await
                .map_err(anyhow::Error::from)
        }
    };
    let (first, second) = tokio::join!(attempt("een@plein.example"), attempt("twee@plein.example"));
    let mut statuses = [first?.status(), second?.status()];
    statuses.sort();
    assert_eq!(statuses[0], StatusCode::CREATED);
    assert!(
        statuses[1] == StatusCode::FORBIDDEN || statuses[1] == StatusCode::CONFLICT,
        "{statuses:?}"
    );

    let again = app.send_json(Method::POST, "/api/v1/setup", &json!({"token": token, "email": "drie@plein.example", "name": "Drie", "password": ADMIN_PASSWORD})).await?;
    expect_error(again, StatusCode::CONFLICT, "already_set_up").await?;
    Ok(())
}

#[tokio::test]
async fn setup_rejects_a_short_password_and_bad_email_without_using_the_token() -> anyhow::Result<()>
{
    let app = TestApp::spawn().await?;
    let token = app.setup_token().await?;
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/setup",
            &json!({"token": token, "email": "not-an-email", "name": "  ", "password": "short"}),
        )
        .await?;
    let body = expect_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let fields = &body["error"]["fields"];
    assert!(
        fields["email"].is_string() && fields["name"].is_string() && fields["password"].is_string(),
        "{body}"
    );
    assert_eq!(app.setup_token().await?, token);
    Ok(())
}

#[tokio::test]
async fn the_setup_link_opens_the_web_client() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let token = app.setup_token().await?;
    let page = app
        .client
        .get(app.url(&format!("/setup?token={token}")))
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(header(&page, "content-type"), "text/html");
    // index.html is revalidated on every load, so a new release is picked up at once.
    assert_eq!(header(&page, "cache-control"), "no-cache");
    let html = page.text().await?;
    assert!(html.contains("<div id=\"app\">"), "{html}");
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("index.html loads no script")?;
    assert!(script.starts_with("/assets/app/"), "{script}");

    // Hashed assets are cached for good, with an ETag for revalidation all the same.
    let asset = app.client.get(app.url(script)).send().await?;
    assert_eq!(asset.status(), StatusCode::OK);
    assert_eq!(header(&asset, "content-type"), "text/javascript");
    assert_eq!(
        header(&asset, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    let etag = header(&asset, "etag");
    assert!(asset.text().await?.contains("/api/v1/people/search"));
    let again = app
        .client
        .get(app.url(script))
        .header("If-None-Match", &etag)
        .send()
        .await?;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    Ok(())
}

#[tokio::test]
async fn client_routes_get_the_app_and_unknown_files_and_api_paths_a_404() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    for route in [
        "/",
        "/people/3f1c2d40-0000-4000-8000-000000000000",
        "/search?q=van%20dijk",
        "/admin",
    ] {
        let page = app.client.get(app.url(route)).send().await?;
        assert_eq!(page.status(), StatusCode::OK, "{route}");
        assert!(page.text().await?.contains("<div id=\"app\">"), "{route}");
    }
    for missing in ["/favicon.ico", "/assets/app/nothing-here.js"] {
        let response = app.client.get(app.url(missing)).send().await?;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
    }
    // The API keeps answering in its own format.
    let api = app
        .client
        .get(app.url("/api/v1/no-such-thing"))
        .send()
        .await?;
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = api.json().await?;
    assert_eq!(body["error"]["code"], "not_found", "{body}");
    let posted = app.client.post(app.url("/people")).send().await?;
    assert_eq!(posted.status(), StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn the_client_is_sent_compressed_when_the_browser_accepts_it() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let page = app
        .client
        .get(app.url("/"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(header(&page, "content-encoding"), "gzip");
    Ok(())
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .unwrap_or_default()
}
