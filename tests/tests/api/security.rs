//! Client addresses behind proxies, login limits, token scopes on every route, and metrics.

use plein_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, expect_error, new_client};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "stroopwafel met koffie";

async fn login_from(
    app_url: &str,
    forwarded_for: Option<&str>,
    email: &str,
    password: &str,
) -> anyhow::Result<reqwest::Response> {
    let mut request = new_client()?
        .post(format!("{app_url}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}));
    if let Some(forwarded) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded);
    }
    Ok(request.send().await?)
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_client_cannot_dodge_login_limits_by_writing_its_own_forwarded_for_hop()
-> anyhow::Result<()> {
    let app = TestApp::spawn_with(|raw| {
        raw.trusted_proxies = vec!["127.0.0.1/32".to_owned()];
        raw.login_failures_per_account_and_address = 3;
    })
    .await?;
    app.setup_admin().await?;
    // The proxy appends the real client (203.0.113.9); the client invents a new first hop
    // every time. Only the right-most untrusted address counts.
    let mut statuses = Vec::new();
    for attempt in 0..4 {
        let forwarded = format!("10.9.8.{attempt}, 203.0.113.9");
        let response = login_from(
            &app.address,
            Some(&forwarded),
            ADMIN_EMAIL,
            "wrong wrong wrong",
        )
        .await?;
        statuses.push(response.status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // The sessions list records the address the proxy saw.
    let owner = login_from(
        &app.address,
        Some("198.51.100.7"),
        ADMIN_EMAIL,
        ADMIN_PASSWORD,
    )
    .await?;
    assert_eq!(owner.status(), StatusCode::OK);
    let sessions: Value = app.get_json("/api/v1/me/sessions").await?;
    let addresses: Vec<&str> = sessions["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|session| session["ip_address"].as_str())
        .collect();
    assert!(addresses.contains(&"198.51.100.7"), "{sessions}");
    Ok(())
}

#[tokio::test]
async fn without_trusted_proxies_forwarded_for_is_ignored() -> anyhow::Result<()> {
    let app = TestApp::spawn_with(|raw| raw.login_failures_per_account_and_address = 2).await?;
    app.setup_admin().await?;
    let mut statuses = Vec::new();
    for attempt in 0..3 {
        let forwarded = format!("198.51.100.{attempt}");
        let response = login_from(
            &app.address,
            Some(&forwarded),
            ADMIN_EMAIL,
            "wrong wrong wrong",
        )
        .await?;
        statuses.push(response.status());
    }
    assert_eq!(statuses[2], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    Ok(())
}

#[tokio::test]
async fn a_flood_from_one_address_does_not_stop_the_owner_signing_in_from_another()
-> anyhow::Result<()> {
    let app = TestApp::spawn_with(|raw| {
        raw.trusted_proxies = vec!["127.0.0.0/8".to_owned()];
        raw.login_failures_per_account_and_address = 5;
        raw.login_attempts_per_ip_per_minute = 1_000;
    })
    .await?;
    app.setup_admin().await?;
    let mut refused = 0;
    let mut delayed = Vec::new();
    for _ in 0..30 {
        let response = login_from(
            &app.address,
            Some("203.0.113.66"),
            ADMIN_EMAIL,
            "raden raden",
        )
        .await?;
        match response.status() {
            StatusCode::UNAUTHORIZED => refused += 1,
            StatusCode::TOO_MANY_REQUESTS => delayed.push(retry_after(&response)),
            other => anyhow::bail!("unexpected answer {other}"),
        }
    }
    // Five checks, then waits that double with every further check; a very slow machine may
    // let one or two more through, never most of them.
    assert!(
        (5..=8).contains(&refused),
        "{refused} password checks of 30"
    );
    assert!(
        delayed.iter().all(|wait| (1..=900).contains(wait)),
        "{delayed:?}"
    );
    let owner = login_from(
        &app.address,
        Some("198.51.100.7"),
        ADMIN_EMAIL,
        ADMIN_PASSWORD,
    )
    .await?;
    assert_eq!(
        owner.status(),
        StatusCode::OK,
        "the owner signs in from elsewhere"
    );
    Ok(())
}

#[tokio::test]
async fn failures_from_one_address_delay_that_account_there_but_not_other_accounts()
-> anyhow::Result<()> {
    let app = TestApp::spawn_with(|raw| raw.login_failures_per_account_and_address = 2).await?;
    app.setup_admin().await?;
    app.create_person("piet@plein.example", "Piet", "employee", PASSWORD)
        .await?;
    for _ in 0..2 {
        let response = login_from(&app.address, None, ADMIN_EMAIL, "wrong wrong wrong").await?;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = login_from(
        &app.address,
        None,
        &ADMIN_EMAIL.to_uppercase(),
        ADMIN_PASSWORD,
    )
    .await?;
    let wait = retry_after(&limited);
    assert!((1..=60).contains(&wait), "retry-after {wait}");
    expect_error(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await?;
    let piet = login_from(&app.address, None, "piet@plein.example", PASSWORD).await?;
    assert_eq!(piet.status(), StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn many_sign_ins_from_one_address_are_turned_away_before_any_password_check()
-> anyhow::Result<()> {
    let app = TestApp::spawn_with(|raw| raw.login_attempts_per_ip_per_minute = 4).await?;
    let mut statuses = Vec::new();
    for n in 0..5 {
        let response = login_from(
            &app.address,
            None,
            &format!("iemand{n}@plein.example"),
            "whatever whatever",
        )
        .await?;
        statuses.push(response.status());
    }
    assert_eq!(&statuses[..4], &[StatusCode::UNAUTHORIZED; 4]);
    assert_eq!(statuses[4], StatusCode::TOO_MANY_REQUESTS);
    Ok(())
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL=postgres://…"
)]
async fn on_postgres_login_failures_on_one_node_count_on_another() -> anyhow::Result<()> {
    let app = TestApp::spawn_with(|raw| raw.login_failures_per_account_and_address = 3).await?;
    anyhow::ensure!(app.database.is_postgres(), "this test needs PostgreSQL");
    app.setup_admin().await?;
    let other = app.spawn_second_node().await?;
    for node in [&app.address, &other.address, &app.address] {
        let response = login_from(node, None, ADMIN_EMAIL, "wrong wrong wrong").await?;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let fourth = login_from(&other.address, None, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    expect_error(fourth, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await?;
    Ok(())
}

/// Every route Plein serves, as the OpenAPI document lists them (SCIM's included).
async fn every_route(app: &TestApp) -> anyhow::Result<Vec<(Method, String)>> {
    let document: Value = app.get_json("/api/openapi.json").await?;
    let mut routes = Vec::new();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                routes.push((method.to_uppercase().parse()?, path.clone()));
            }
        }
    }
    anyhow::ensure!(routes.len() > 30, "the route list looks short: {routes:?}");
    anyhow::ensure!(
        routes
            .iter()
            .any(|(method, path)| *method == Method::PATCH && path == "/scim/v2/Users/{id}"),
        "the document lists SCIM's routes too: {routes:?}"
    );
    Ok(routes)
}

fn concrete(path: &str) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&id);
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

async fn call(
    app: &TestApp,
    method: &Method,
    path: &str,
    token: Option<&str>,
) -> anyhow::Result<(StatusCode, String)> {
    let mut request = new_client()?.request(method.clone(), app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if *method != Method::GET && *method != Method::DELETE {
        request = request.json(&json!({}));
    }
    let response = request.send().await?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let code = body["error"]["code"]
        .as_str()
        .or_else(|| body["scimType"].as_str())
        .unwrap_or_default()
        .to_owned();
    Ok((status, code))
}

/// What a token of one scope must get from a route that needs a caller.
fn reached(scope: &str, method: &Method, path: &str) -> bool {
    let scim = path.starts_with("/scim/");
    match scope {
        "scim" => scim,
        "metrics" => path == "/metrics",
        "read" => {
            *method == Method::GET
                && path.starts_with("/api/v1/")
                && !path.starts_with("/api/v1/admin/")
        }
        "admin" => !scim,
        _ => false,
    }
}

#[tokio::test]
async fn every_route_answers_every_token_scope_as_its_scope_allows() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let scopes = ["scim", "read", "metrics", "admin"];
    let mut tokens = Vec::new();
    for scope in scopes {
        tokens.push((scope, app.create_token(&[scope]).await?));
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    for (method, template) in every_route(&app).await? {
        let path = concrete(&template);
        let (anonymous, _) = call(&app, &method, &path, None).await?;
        if anonymous != StatusCode::UNAUTHORIZED {
            // Open to everyone (health, sign-in, setup): no scope involved.
            continue;
        }
        for (scope, secret) in &tokens {
            let (status, code) = call(&app, &method, &path, Some(secret)).await?;
            let kept_out = status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED;
            let ok = if reached(scope, &method, &template) {
                // Past the scope check: the route itself answers (404 for a made-up id, 403
                // for person-only routes, 422 for the empty body), never as a scope refusal.
                code != "insufficient_scope" && status != StatusCode::UNAUTHORIZED
            } else {
                kept_out && status.as_u16() < 500
            };
            if !ok {
                failures.push(format!(
                    "{scope} token: {method} {template} → {status} {code}"
                ));
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} checks ran");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

#[tokio::test]
async fn a_read_token_reads_the_directory_and_changes_nothing() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.setup_admin().await?;
    let read = app.create_token(&["read"]).await?;
    app.caught_up().await?;
    let client = new_client()?;
    let found: Value = client
        .get(app.url("/api/v1/people/search?q=beheerder"))
        .bearer_auth(&read)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(found["total"], 1, "{found}");
    let id = admin["id"].as_str().unwrap_or_default();
    let profile = client
        .get(app.url(&format!("/api/v1/people/{id}")))
        .bearer_auth(&read)
        .send()
        .await?;
    assert_eq!(profile.status(), StatusCode::OK);
    let change = client
        .patch(app.url(&format!("/api/v1/admin/people/{id}")))
        .bearer_auth(&read)
        .json(&json!({"title": "Hacker"}))
        .send()
        .await?;
    expect_error(change, StatusCode::FORBIDDEN, "insufficient_scope").await?;
    Ok(())
}

#[tokio::test]
async fn metrics_need_an_admin_or_a_metrics_token_unless_served_on_their_own_address()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anonymous = new_client()?.get(app.url("/metrics")).send().await?;
    expect_error(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    app.create_person("piet@plein.example", "Piet", "employee", PASSWORD)
        .await?;
    let employee = app.login("piet@plein.example", PASSWORD).await?;
    let refused = employee.get(app.url("/metrics")).send().await?;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let scraper = app.create_token(&["metrics"]).await?;
    let scraped = new_client()?
        .get(app.url("/metrics"))
        .bearer_auth(&scraper)
        .send()
        .await?;
    assert_eq!(scraped.status(), StatusCode::OK);
    assert!(scraped.text().await?.contains("plein_http_requests_total"));
    let admin_view = app.client.get(app.url("/metrics")).send().await?;
    assert_eq!(admin_view.status(), StatusCode::OK);

    let separate =
        TestApp::spawn_with(|raw| raw.metrics_bind = Some("127.0.0.1:0".parse().ok()).flatten())
            .await?;
    let metrics_address = separate
        .metrics_address
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no metrics address"))?;
    let open = new_client()?
        .get(format!("{metrics_address}/metrics"))
        .send()
        .await?;
    assert_eq!(open.status(), StatusCode::OK);
    assert!(open.text().await?.contains("plein_db_pool_connections"));
    let elsewhere = new_client()?
        .get(format!("{metrics_address}/api/v1/people"))
        .send()
        .await?;
    assert_eq!(
        elsewhere.status(),
        StatusCode::NOT_FOUND,
        "only metrics there"
    );
    let main_port = new_client()?.get(separate.url("/metrics")).send().await?;
    assert_eq!(main_port.status(), StatusCode::UNAUTHORIZED);
    Ok(())
}

#[tokio::test]
async fn an_employee_sending_a_bad_body_to_an_admin_route_is_told_403_not_422() -> anyhow::Result<()>
{
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    app.create_person("piet@plein.example", "Piet", "employee", PASSWORD)
        .await?;
    let employee = app.login("piet@plein.example", PASSWORD).await?;
    let mut checked = 0;
    for (method, template) in every_route(&app).await? {
        if !template.starts_with("/api/v1/admin/") {
            continue;
        }
        let response = employee
            .request(method.clone(), app.url(&concrete(&template)))
            .header("content-type", "application/json")
            .body("{\"name\": ")
            .send()
            .await?;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{method} {template}"
        );
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} admin routes");
    Ok(())
}
