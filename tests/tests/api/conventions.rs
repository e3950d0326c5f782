use std::collections::BTreeSet;

use plein_tests::{TestApp, expect_error, new_client};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn malformed_json_answers_400_with_a_useful_message() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"email\": \"a@b.nl\", ")
        .send()
        .await?;
    let body = expect_error(response, StatusCode::BAD_REQUEST, "malformed_json").await?;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("line 1"),
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn wrong_types_and_missing_fields_name_the_field() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let wrong_type = app
        .send_json(
            Method::POST,
            "/api/v1/auth/login",
            &json!({"email": 42, "password": "x"}),
        )
        .await?;
    let body = expect_error(wrong_type, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await?;
    assert!(
        body["error"]["fields"]["email"]
            .as_str()
            .unwrap_or_default()
            .contains("invalid type"),
        "{body}"
    );
    let missing = app
        .send_json(
            Method::POST,
            "/api/v1/auth/login",
            &json!({"email": "a@b.nl"}),
        )
        .await?;
    let body = expect_error(missing, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await?;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("password"),
        "{body}"
    );
    let not_object = app
        .send_json(Method::POST, "/api/v1/auth/login", &json!([1, 2]))
        .await?;
    expect_error(not_object, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await?;
    Ok(())
}

#[tokio::test]
async fn a_body_without_json_content_type_is_415() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .body("email=a&password=b")
        .send()
        .await?;
    expect_error(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_in_the_error_format() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    expect_error(
        app.client
            .get(app.url("/api/v1/nothing-here"))
            .send()
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    let wrong_method = app
        .client
        .delete(app.url("/api/v1/auth/login"))
        .send()
        .await?;
    assert!(wrong_method.headers().contains_key("allow"));
    expect_error(
        wrong_method,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413_and_nothing_is_stored() -> anyhow::Result<()> {
    let app = TestApp::spawn_with(|raw| raw.body_limit_bytes = 4096).await?;
    let token = app.setup_token().await?;
    let huge_name = "x".repeat(10_000);
    let response = app.send_json(Method::POST, "/api/v1/setup", &json!({"token": token, "email": "a@plein.example", "name": huge_name, "password": "long enough password"})).await?;
    expect_error(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await?;
    // Chunked, without Content-Length, is cut off at the limit as well.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..10).map(|_| Ok(vec![b' '; 1000])).collect();
    let streamed = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util_stream(chunks)))
        .send()
        .await?;
    expect_error(streamed, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await?;
    let status: Value = app.get_json("/api/v1/setup").await?;
    assert_eq!(status["needed"], true);
    Ok(())
}

fn futures_util_stream(
    chunks: Vec<Result<Vec<u8>, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + Sync + 'static {
    futures::stream::iter(chunks)
}

#[tokio::test]
async fn unicode_and_injection_strings_are_stored_as_plain_text() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let names = [
        "Zoë van 't Hoff-Ĳsselmeer 🌷",
        "Robert'); DROP TABLE people;--",
        "<script>alert(1)</script>",
    ];
    for (n, name) in names.iter().enumerate() {
        let person = app
            .create_person(
                &format!("naam{n}@plein.example"),
                name,
                "employee",
                "lang genoeg wachtwoord",
            )
            .await?;
        let id = person["id"].as_str().unwrap_or_default();
        let fetched: Value = app.get_json(&format!("/api/v1/admin/people/{id}")).await?;
        assert_eq!(fetched["display_name"], *name);
    }
    let control = app
        .send_json(
            Method::POST,
            "/api/v1/admin/people",
            &json!({"email": "ctl@plein.example", "name": "bell\u{7}"}),
        )
        .await?;
    expect_error(
        control,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn every_response_has_a_request_id_and_security_headers() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    for path in ["/healthz", "/api/v1/setup", "/api/v1/missing", "/api/v1/me"] {
        let response = app.client.get(app.url(path)).send().await?;
        let headers = response.headers();
        assert!(
            headers.get("x-request-id").is_some_and(|v| v.len() >= 32),
            "{path}"
        );
        assert_eq!(
            headers
                .get("x-content-type-options")
                .and_then(|v| v.to_str().ok()),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            headers.get("x-frame-options").and_then(|v| v.to_str().ok()),
            Some("DENY"),
            "{path}"
        );
        assert!(
            headers
                .get("content-security-policy")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("frame-ancestors 'none'")),
            "{path}"
        );
    }
    let echoed = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await?;
    assert_eq!(
        echoed
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("trace-me-123")
    );
    Ok(())
}

#[tokio::test]
async fn openapi_lists_every_route_and_the_docs_page_is_served_locally() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let document: Value = app.get_json("/api/openapi.json").await?;
    assert!(
        document["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3.1")
    );
    let mut listed = BTreeSet::new();
    for (path, item) in document["paths"].as_object().cloned().unwrap_or_default() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                listed.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let expected: BTreeSet<String> = [
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /api/v1/setup",
        "POST /api/v1/setup",
        "POST /api/v1/auth/login",
        "POST /api/v1/auth/logout",
        "POST /api/v1/auth/password-reset",
        "POST /api/v1/auth/password-reset/complete",
        "GET /api/v1/me",
        "PUT /api/v1/me/password",
        "PUT /api/v1/me/language",
        "GET /api/v1/me/sessions",
        "PATCH /api/v1/me/profile",
        "PUT /api/v1/me/photo",
        "DELETE /api/v1/me/photo",
        "GET /api/v1/people/{id}/photo",
        "POST /api/v1/admin/people/import",
        "GET /api/v1/people/{id}",
        "GET /api/v1/people/search",
        "GET /api/v1/people",
        "GET /api/v1/people/{id}/org",
        "DELETE /api/v1/me/sessions/{id}",
        "GET /api/v1/admin/people",
        "POST /api/v1/admin/invitations",
        "GET /api/v1/admin/mail",
        "POST /api/v1/admin/people",
        "GET /api/v1/admin/people/{id}",
        "PATCH /api/v1/admin/people/{id}",
        "PUT /api/v1/admin/people/{id}/role",
        "POST /api/v1/admin/people/{id}/deactivate",
        "POST /api/v1/admin/people/{id}/reactivate",
        "GET /api/v1/admin/tokens",
        "POST /api/v1/admin/tokens",
        "DELETE /api/v1/admin/tokens/{id}",
        "GET /api/v1/groups",
        "POST /api/v1/groups",
        "GET /api/v1/groups/{id}",
        "PATCH /api/v1/groups/{id}",
        "DELETE /api/v1/groups/{id}",
        "POST /api/v1/groups/{id}/join",
        "POST /api/v1/groups/{id}/leave",
        "GET /api/v1/groups/{id}/members",
        "PUT /api/v1/groups/{id}/members/{person_id}",
        "DELETE /api/v1/groups/{id}/members/{person_id}",
        "POST /api/v1/groups/{id}/invitations",
        "POST /api/v1/groups/{id}/requests/{person_id}/approve",
        "POST /api/v1/groups/{id}/requests/{person_id}/decline",
        "GET /api/v1/groups/{id}/posts",
        "POST /api/v1/groups/{id}/posts",
        "GET /api/v1/posts/{id}",
        "PATCH /api/v1/posts/{id}",
        "DELETE /api/v1/posts/{id}",
        "GET /api/v1/posts/{id}/comments",
        "POST /api/v1/posts/{id}/comments",
        "PUT /api/v1/posts/{id}/reactions/{reaction}",
        "DELETE /api/v1/posts/{id}/reactions/{reaction}",
        "PUT /api/v1/posts/{id}/pin",
        "DELETE /api/v1/posts/{id}/pin",
        "GET /api/v1/posts/{id}/versions",
        "GET /api/v1/posts/{id}/reactions",
        "GET /api/v1/posts/search",
        "POST /api/v1/posts/preview",
        "POST /api/v1/attachments",
        "GET /api/v1/attachments/{id}",
        "GET /api/v1/attachments/{id}/thumbnail",
        "GET /api/v1/groups/suggested",
        "GET /api/v1/groups/{id}/cover",
        "PUT /api/v1/groups/{id}/cover",
        "DELETE /api/v1/groups/{id}/cover",
        "GET /api/v1/feed",
        "GET /api/v1/people/{id}/posts",
        "GET /api/v1/notifications",
        "POST /api/v1/notifications/read",
        "PUT /api/v1/groups/{id}/mute",
        "DELETE /api/v1/groups/{id}/mute",
        "GET /api/v1/announcements",
        "POST /api/v1/announcements",
        "GET /api/v1/announcements/audience",
        "GET /api/v1/announcements/{id}",
        "PATCH /api/v1/announcements/{id}",
        "POST /api/v1/announcements/{id}/publish",
        "POST /api/v1/announcements/{id}/acknowledge",
        "POST /api/v1/announcements/{id}/remind",
        "GET /api/v1/announcements/{id}/stats",
        "GET /api/v1/announcements/{id}/stats.csv",
        "GET /api/v1/announcements/{id}/team",
        "GET /api/v1/announcements/{id}/comments",
        "POST /api/v1/announcements/{id}/comments",
        "DELETE /api/v1/announcements/{id}/comments/{comment_id}",
        "GET /api/v1/conversations",
        "POST /api/v1/conversations",
        "GET /api/v1/conversations/{id}",
        "PATCH /api/v1/conversations/{id}",
        "POST /api/v1/conversations/{id}/members",
        "POST /api/v1/conversations/{id}/leave",
        "GET /api/v1/conversations/{id}/messages",
        "POST /api/v1/conversations/{id}/messages",
        "POST /api/v1/conversations/{id}/read",
        "PATCH /api/v1/messages/{id}",
        "DELETE /api/v1/messages/{id}",
        "PUT /api/v1/messages/{id}/reactions/{reaction}",
        "DELETE /api/v1/messages/{id}/reactions/{reaction}",
        "GET /api/v1/groups/{id}/conversation",
        "GET /api/v1/messages/search",
        "GET /api/v1/ws",
        "GET /scim/v2/ServiceProviderConfig",
        "GET /scim/v2/ResourceTypes",
        "GET /scim/v2/ResourceTypes/{id}",
        "GET /scim/v2/Schemas",
        "GET /scim/v2/Schemas/{id}",
        "GET /scim/v2/Users",
        "POST /scim/v2/Users",
        "POST /scim/v2/Users/.search",
        "GET /scim/v2/Users/{id}",
        "PUT /scim/v2/Users/{id}",
        "PATCH /scim/v2/Users/{id}",
        "DELETE /scim/v2/Users/{id}",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(listed, expected);
    // Each listed route is really served (not 404/405) by this server.
    for route in &listed {
        let (method, path) = route.split_once(' ').unwrap_or_default();
        let concrete = path
            .replace("{id}", &uuid::Uuid::now_v7().to_string())
            .replace("{person_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{reaction}", "like");
        let response = app
            .client
            .request(method.parse()?, app.url(&concrete))
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        assert!(
            status != StatusCode::METHOD_NOT_ALLOWED && !body.contains("no such route"),
            "{route} is documented but not served: {status} {body}"
        );
    }

    let docs = app.client.get(app.url("/api/docs/")).send().await?;
    assert_eq!(docs.status(), StatusCode::OK);
    let html = docs.text().await?;
    assert!(
        html.contains("swagger") && !html.contains("https://"),
        "the docs page must not load from a CDN"
    );
    Ok(())
}

#[tokio::test]
async fn health_readiness_and_metrics_report_the_node() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let health: Value = app.get_json("/healthz").await?;
    assert_eq!(health["status"], "ok");
    let ready = app.client.get(app.url("/readyz")).send().await?;
    assert_eq!(ready.status(), StatusCode::OK);
    let ready: Value = ready.json().await?;
    assert_eq!(ready["database"], true);
    assert!(ready["outbox_head"].as_i64().unwrap_or(0) >= 1, "{ready}");

    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await?
        .text()
        .await?;
    for needle in [
        "plein_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}",
        "plein_http_request_duration_seconds_bucket",
        "plein_db_pool_connections",
        "plein_outbox_consumer_lag_events{consumer=\"search-index\"}",
        "plein_outbox_consumer_seq{consumer=\"search-index\"}",
        "plein_events_appended_total{kind=\"person.created\"}",
    ] {
        assert!(metrics.contains(needle), "missing {needle} in metrics");
    }
    Ok(())
}

#[tokio::test]
async fn a_request_that_stalls_is_answered_408_in_the_error_format() -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = TestApp::spawn_with(|raw| raw.request_timeout_secs = 1).await?;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await?;
    // Promise a body and send only part of it: the handler waits for the rest until the
    // request timeout answers for it.
    let request = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"email\":"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        response.extend_from_slice(&buffer[..read]);
        if response.windows(4).any(|window| window == b"\r\n\r\n") && response.ends_with(b"}}") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"code\":\"request_timeout\""), "{text}");
    assert!(text.to_lowercase().contains("x-request-id:"), "{text}");
    Ok(())
}

#[tokio::test]
async fn a_server_told_to_take_any_free_port_names_that_port_in_its_public_url()
-> anyhow::Result<()> {
    // The test configuration binds 127.0.0.1:0 and leaves `public_url` to be derived.
    let app = TestApp::spawn().await?;
    let served = &app.handle.state.config;
    assert_ne!(served.bind.port(), 0);
    assert_eq!(served.public_origin(), app.address);
    // A configured public URL is the address people use, whatever port the node took.
    let configured =
        TestApp::spawn_with(|raw| raw.public_url = Some("https://plein.example.nl".into())).await?;
    assert_eq!(
        configured.handle.state.config.public_url.as_str(),
        "https://plein.example.nl/"
    );
    Ok(())
}

/// The ports of this process's TCP connections to `port`, and whether each has TCP_NODELAY.
#[cfg(target_os = "linux")]
fn nodelay_of_connections_to(port: u16) -> anyhow::Result<Vec<bool>> {
    use rustix::net::sockopt;
    use rustix::process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open};
    let pidfd = pidfd_open(getpid(), PidfdFlags::empty())?;
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd")? {
        let Some(number) = entry?
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(socket) = pidfd_getfd(&pidfd, number, PidfdGetfdFlags::empty()) else {
            continue;
        };
        let Ok(Some(peer)) = rustix::net::getpeername(&socket) else {
            continue;
        };
        let Ok(peer) = std::net::SocketAddr::try_from(peer) else {
            continue;
        };
        if peer.port() == port {
            found.push(sockopt::tcp_nodelay(&socket)?);
        }
    }
    Ok(found)
}

#[cfg(target_os = "linux")]
#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL=postgres://…"
)]
async fn postgres_connections_have_nagle_turned_off() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    anyhow::ensure!(app.database.is_postgres(), "this test needs PostgreSQL");
    app.setup_admin().await?;
    let port = url::Url::parse(&app.database.url)?.port().unwrap_or(5432);
    let connections = nodelay_of_connections_to(port)?;
    assert!(!connections.is_empty(), "no database connection found");
    assert!(
        connections.iter().all(|nodelay| *nodelay),
        "some connections have Nagle on: {connections:?}"
    );
    Ok(())
}

/// Every status a route answers in a round of likely and unlikely requests (anonymous, as an
/// employee, as an admin; with an empty, a malformed and a non-JSON body; with unknown ids) is
/// declared for that route in the OpenAPI document, so generated clients and fuzzers agree with
/// the server.
#[tokio::test]
async fn every_status_a_route_answers_is_declared_in_the_openapi_document() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    app.create_person(
        "piet@plein.example",
        "Piet",
        "employee",
        "een lang genoeg wachtwoord",
    )
    .await?;
    let employee = app
        .login("piet@plein.example", "een lang genoeg wachtwoord")
        .await?;
    let document: Value = app.get_json("/api/openapi.json").await?;
    let anonymous = new_client()?;
    let callers = [
        ("anonymous", &anonymous),
        ("employee", &employee),
        ("admin", &app.client),
    ];
    let mut undeclared = Vec::new();
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let declared: Vec<&str> = operation["responses"]
                .as_object()
                .map(|responses| responses.keys().map(String::as_str).collect())
                .unwrap_or_default();
            let concrete = path
                .replace("{id}", &uuid::Uuid::now_v7().to_string())
                .replace("{person_id}", &uuid::Uuid::now_v7().to_string())
                .replace("{reaction}", "like");
            let bodies: &[(&str, &str)] = if method == "get" || method == "delete" {
                &[("", "")]
            } else {
                &[
                    ("application/json", "{}"),
                    ("application/json", "{\"name\": "),
                    ("text/plain", "hallo"),
                ]
            };
            for (who, client) in callers {
                for (content_type, body) in bodies {
                    // Logging out would end the session the next calls need.
                    if path == "/api/v1/auth/logout" && who != "anonymous" {
                        continue;
                    }
                    let mut request =
                        client.request(method.to_uppercase().parse()?, app.url(&concrete));
                    if !content_type.is_empty() {
                        request = request
                            .header("content-type", *content_type)
                            .body(body.to_string());
                    }
                    let status = request.send().await?.status();
                    checked += 1;
                    if status.is_server_error() || !declared.contains(&status.as_str()) {
                        undeclared.push(format!(
                            "{} {path} as {who} with {content_type:?}: {status}",
                            method.to_uppercase()
                        ));
                    }
                }
            }
        }
    }
    assert!(checked > 150, "only {checked} requests");
    undeclared.sort();
    undeclared.dedup();
    assert!(undeclared.is_empty(), "{}", undeclared.join("\n"));
    Ok(())
}
