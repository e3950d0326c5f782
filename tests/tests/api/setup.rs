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
async fn the_setup_link_opens_a_form_that_posts_to_the_setup_api() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let token = app.setup_token().await?;
    let page = app
        .client
        .get(app.url(&format!("/setup?token={token}")))
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"))
    );
    let html = page.text().await?;
    assert!(
        html.contains("id=\"setup-form\"") && html.contains("src=\"/assets/setup.js\""),
        "{html}"
    );
    let script = app.client.get(app.url("/assets/setup.js")).send().await?;
    assert!(
        script
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/javascript"))
    );
    assert!(script.text().await?.contains("/api/v1/setup"));
    Ok(())
}
