use plein_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, expect_error, new_client};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "stroopwafel met koffie";

#[tokio::test]
async fn login_sets_an_httponly_lax_session_cookie_without_secure_on_loopback_http()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let response = new_client()?
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(cookie.starts_with("plein_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "{cookie}");
    let value = cookie
        .trim_start_matches("plein_session=")
        .split(';')
        .next()
        .unwrap_or_default();
    assert!(value.len() >= 43, "the token must carry 256 bits: {value}");
    Ok(())
}

#[tokio::test]
async fn cookies_are_secure_when_the_public_url_is_https() -> anyhow::Result<()> {
    let app =
        TestApp::spawn_with(|raw| raw.public_url = Some("https://plein.example.nl".into())).await?;
    let token = app.setup_token().await?;
    let response = app.send_json(Method::POST, "/api/v1/setup", &json!({"token": token, "email": ADMIN_EMAIL, "name": "Beheer", "password": ADMIN_PASSWORD})).await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(response.headers().contains_key("strict-transport-security"));
    Ok(())
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let wrong_password = new_client()?
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": "not the password"}))
        .send()
        .await?;
    let unknown = new_client()?
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "nobody@plein.example", "password": "not the password"}))
        .send()
        .await?;
    let first = expect_error(
        wrong_password,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await?;
    let second = expect_error(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await?;
    assert_eq!(first, second);
    Ok(())
}

#[tokio::test]
async fn email_matching_is_case_insensitive_and_duplicates_are_refused() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    app.create_person(
        "Jan.Jansen@Plein.Example",
        "Jan Jansen",
        "employee",
        PASSWORD,
    )
    .await?;
    app.login("jan.jansen@plein.example", PASSWORD).await?;
    let duplicate = app
        .client
        .post(app.url("/api/v1/admin/people"))
        .json(
            &json!({"email": "JAN.JANSEN@plein.example", "name": "Jan Twee", "password": PASSWORD}),
        )
        .send()
        .await?;
    expect_error(duplicate, StatusCode::CONFLICT, "email_taken").await?;
    Ok(())
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let response = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(cookie.contains("Max-Age=0"), "{cookie}");
    expect_error(
        app.client.get(app.url("/api/v1/me")).send().await?,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_forged_session_cookie_is_unauthenticated() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let response = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .header(
            "cookie",
            "plein_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )
        .send()
        .await?;
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    Ok(())
}

#[tokio::test]
async fn changing_the_password_checks_the_old_one_and_ends_other_sessions() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    app.create_person("sanne@plein.example", "Sanne", "employee", PASSWORD)
        .await?;
    let laptop = app.login("sanne@plein.example", PASSWORD).await?;
    let phone = app.login("sanne@plein.example", PASSWORD).await?;

    let short = laptop
        .put(app.url("/api/v1/me/password"))
        .json(&json!({"current_password": PASSWORD, "new_password": "kort"}))
        .send()
        .await?;
    let body = expect_error(short, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    assert!(body["error"]["fields"]["new_password"].is_string());

    let wrong = laptop
        .put(app.url("/api/v1/me/password"))
        .json(&json!({"current_password": "niet het wachtwoord", "new_password": "een nieuw lang wachtwoord"}))
        .send()
        .await?;
    expect_error(wrong, StatusCode::FORBIDDEN, "wrong_password").await?;

    let changed = laptop
        .put(app.url("/api/v1/me/password"))
        .json(&json!({"current_password": PASSWORD, "new_password": "een nieuw lang wachtwoord"}))
        .send()
        .await?;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        laptop.get(app.url("/api/v1/me")).send().await?.status(),
        StatusCode::OK
    );
    assert_eq!(
        phone.get(app.url("/api/v1/me")).send().await?.status(),
        StatusCode::UNAUTHORIZED
    );
    app.login("sanne@plein.example", "een nieuw lang wachtwoord")
        .await?;
    assert!(app.login("sanne@plein.example", PASSWORD).await.is_err());
    Ok(())
}

#[tokio::test]
async fn people_list_and_revoke_their_own_sessions_but_not_anyone_elses() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    app.create_person("kees@plein.example", "Kees", "employee", PASSWORD)
        .await?;
    let desk = app.login("kees@plein.example", PASSWORD).await?;
    let lost_laptop = app.login("kees@plein.example", PASSWORD).await?;

    let sessions: Value = desk
        .get(app.url("/api/v1/me/sessions"))
        .send()
        .await?
        .json()
        .await?;
    let items = sessions["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "{sessions}");
    assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);
    let other = items
        .iter()
        .find(|s| s["current"] == false)
        .map(|s| s["id"].clone())
        .unwrap_or_default();
    let other_id = other.as_str().unwrap_or_default();

    // The admin cannot end Kees's session through their own session list.
    let foreign = app
        .client
        .delete(app.url(&format!("/api/v1/me/sessions/{other_id}")))
        .send()
        .await?;
    expect_error(foreign, StatusCode::NOT_FOUND, "not_found").await?;
    assert_eq!(
        lost_laptop
            .get(app.url("/api/v1/me"))
            .send()
            .await?
            .status(),
        StatusCode::OK
    );

    let revoked = desk
        .delete(app.url(&format!("/api/v1/me/sessions/{other_id}")))
        .send()
        .await?;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        lost_laptop
            .get(app.url("/api/v1/me"))
            .send()
            .await?
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        desk.get(app.url("/api/v1/me")).send().await?.status(),
        StatusCode::OK
    );
    Ok(())
}

#[tokio::test]
async fn cross_site_state_changes_with_a_cookie_are_refused() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let cross_site = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await?;
    expect_error(cross_site, StatusCode::FORBIDDEN, "cross_origin_refused").await?;
    let foreign_origin = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .header("origin", "https://evil.example")
        .send()
        .await?;
    expect_error(
        foreign_origin,
        StatusCode::FORBIDDEN,
        "cross_origin_refused",
    )
    .await?;
    assert_eq!(
        app.client.get(app.url("/api/v1/me")).send().await?.status(),
        StatusCode::OK
    );
    let same_origin = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .header("origin", app.config.public_origin())
        .header("sec-fetch-site", "same-origin")
        .send()
        .await?;
    assert_eq!(same_origin.status(), StatusCode::NO_CONTENT);
    Ok(())
}

#[tokio::test]
async fn the_chosen_language_follows_a_person_to_every_device() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    app.create_person("sanne@plein.example", "Sanne", "employee", PASSWORD)
        .await?;
    let laptop = app.login("sanne@plein.example", PASSWORD).await?;
    let me: Value = laptop
        .get(app.url("/api/v1/me"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(me["language"], Value::Null, "{me}");

    let chosen = laptop
        .put(app.url("/api/v1/me/language"))
        .json(&json!({"language": "nl"}))
        .send()
        .await?;
    assert_eq!(chosen.status(), StatusCode::OK);
    let chosen: Value = chosen.json().await?;
    assert_eq!(chosen["language"], "nl", "{chosen}");

    // A new session elsewhere starts in Dutch.
    let phone = app.login("sanne@plein.example", PASSWORD).await?;
    let me: Value = phone
        .get(app.url("/api/v1/me"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(me["language"], "nl", "{me}");

    // Languages Plein does not speak, and other shapes, are refused; nothing changes.
    for body in [
        json!({"language": "de"}),
        json!({"language": 1}),
        json!({"language": "nl", "theme": "dark"}),
    ] {
        let refused = phone
            .put(app.url("/api/v1/me/language"))
            .json(&body)
            .send()
            .await?;
        let status = refused.status();
        let answer: Value = refused.json().await?;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{body}: {status} {answer}"
        );
        assert!(answer["error"]["code"].is_string(), "{answer}");
    }
    let me: Value = phone
        .get(app.url("/api/v1/me"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(me["language"], "nl", "{me}");

    // Back to following the browser.
    let cleared: Value = phone
        .put(app.url("/api/v1/me/language"))
        .json(&json!({"language": null}))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(cleared["language"], Value::Null, "{cleared}");

    // Anonymous callers have no language to set.
    let anonymous = new_client()?
        .put(app.url("/api/v1/me/language"))
        .json(&json!({"language": "en"}))
        .send()
        .await?;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    Ok(())
}
