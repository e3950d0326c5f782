use plein_tests::{TestApp, expect_error, new_client};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "hagelslag op brood";

#[tokio::test]
async fn only_admins_reach_admin_routes_whatever_the_role_of_the_caller() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let employee = app
        .create_person("emma@plein.example", "Emma", "employee", PASSWORD)
        .await?;
    app.create_person("hanna@plein.example", "Hanna", "hr", PASSWORD)
        .await?;
    let employee_id = employee["id"].as_str().unwrap_or_default().to_owned();

    let anonymous = new_client()?;
    let emma = app.login("emma@plein.example", PASSWORD).await?;
    let hanna = app.login("hanna@plein.example", PASSWORD).await?;
    let admin_routes = [
        ("GET", "/api/v1/admin/people".to_owned(), None),
        ("GET", format!("/api/v1/admin/people/{employee_id}"), None),
        (
            "PATCH",
            format!("/api/v1/admin/people/{employee_id}"),
            Some(json!({"name": "Hacked"})),
        ),
        (
            "POST",
            "/api/v1/admin/people".to_owned(),
            Some(json!({"email": "x@plein.example", "name": "X"})),
        ),
        (
            "PUT",
            format!("/api/v1/admin/people/{employee_id}/role"),
            Some(json!({"role": "admin"})),
        ),
        (
            "POST",
            format!("/api/v1/admin/people/{employee_id}/deactivate"),
            None,
        ),
        (
            "POST",
            format!("/api/v1/admin/people/{employee_id}/reactivate"),
            None,
        ),
        ("GET", "/api/v1/admin/tokens".to_owned(), None),
        (
            "POST",
            "/api/v1/admin/tokens".to_owned(),
            Some(json!({"name": "x", "scopes": ["admin"]})),
        ),
    ];
    for (method, path, body) in &admin_routes {
        for (who, client, status, code) in [
            (
                "anonymous",
                &anonymous,
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
            ),
            ("employee", &emma, StatusCode::FORBIDDEN, "forbidden"),
            ("hr", &hanna, StatusCode::FORBIDDEN, "forbidden"),
        ] {
            let mut request = client.request(method.parse()?, app.url(path));
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await?;
            expect_error(response, status, code)
                .await
                .map_err(|error| anyhow::anyhow!("{who} {method} {path}: {error}"))?;
        }
    }
    // Nothing changed: Emma is still an active employee.
    let emma_now: Value = app
        .get_json(&format!("/api/v1/admin/people/{employee_id}"))
        .await?;
    assert_eq!(emma_now["role"], "employee");
    assert_eq!(emma_now["active"], true);
    Ok(())
}

#[tokio::test]
async fn an_admin_changes_roles_and_the_new_role_takes_effect_at_once() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let person = app
        .create_person("bram@plein.example", "Bram", "employee", PASSWORD)
        .await?;
    let bram = app.login("bram@plein.example", PASSWORD).await?;
    assert_eq!(
        bram.get(app.url("/api/v1/admin/people"))
            .send()
            .await?
            .status(),
        StatusCode::FORBIDDEN
    );

    let id = person["id"].as_str().unwrap_or_default();
    let promoted: Value = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/admin/people/{id}/role"),
            &json!({"role": "admin"}),
        )
        .await?
        .json()
        .await?;
    assert_eq!(promoted["role"], "admin");
    assert_eq!(
        bram.get(app.url("/api/v1/admin/people"))
            .send()
            .await?
            .status(),
        StatusCode::OK
    );

    let bad_role = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/admin/people/{id}/role"),
            &json!({"role": "superuser"}),
        )
        .await?;
    let body = expect_error(bad_role, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await?;
    assert!(body["error"]["fields"]["role"].is_string(), "{body}");
    Ok(())
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_or_deactivated() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.setup_admin().await?;
    let id = admin["id"].as_str().unwrap_or_default();
    let demote = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/admin/people/{id}/role"),
            &json!({"role": "employee"}),
        )
        .await?;
    expect_error(demote, StatusCode::CONFLICT, "last_admin").await?;
    let deactivate = app
        .client
        .post(app.url(&format!("/api/v1/admin/people/{id}/deactivate")))
        .send()
        .await?;
    expect_error(deactivate, StatusCode::CONFLICT, "last_admin").await?;
    assert_eq!(
        app.client.get(app.url("/api/v1/me")).send().await?.status(),
        StatusCode::OK
    );
    Ok(())
}

#[tokio::test]
async fn deactivation_ends_sessions_at_once_and_blocks_login_until_reactivated()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let person = app
        .create_person("lotte@plein.example", "Lotte", "employee", PASSWORD)
        .await?;
    let id = person["id"].as_str().unwrap_or_default();
    let lotte = app.login("lotte@plein.example", PASSWORD).await?;
    assert_eq!(
        lotte.get(app.url("/api/v1/me")).send().await?.status(),
        StatusCode::OK
    );

    let deactivated: Value = app
        .client
        .post(app.url(&format!("/api/v1/admin/people/{id}/deactivate")))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(deactivated["active"], false);
    expect_error(
        lotte.get(app.url("/api/v1/me")).send().await?,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await?;
    assert!(app.login("lotte@plein.example", PASSWORD).await.is_err());

    let reactivated: Value = app
        .client
        .post(app.url(&format!("/api/v1/admin/people/{id}/reactivate")))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(reactivated["active"], true);
    // The old session stays dead; a new login works.
    assert_eq!(
        lotte.get(app.url("/api/v1/me")).send().await?.status(),
        StatusCode::UNAUTHORIZED
    );
    app.login("lotte@plein.example", PASSWORD).await?;
    Ok(())
}

#[tokio::test]
async fn someone_elses_or_made_up_ids_are_not_found() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let unknown = uuid::Uuid::now_v7();
    for path in [
        format!("/api/v1/admin/people/{unknown}"),
        "/api/v1/admin/people/not-a-uuid".to_owned(),
        "/api/v1/admin/people/1%27%20OR%201=1".to_owned(),
    ] {
        expect_error(
            app.client.get(app.url(&path)).send().await?,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await?;
    }
    let response = app
        .client
        .delete(app.url(&format!("/api/v1/admin/tokens/{unknown}")))
        .send()
        .await?;
    expect_error(response, StatusCode::NOT_FOUND, "not_found").await?;
    Ok(())
}

#[tokio::test]
async fn admin_people_list_pages_with_a_cursor() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    for n in 0..5 {
        app.create_person(
            &format!("collega{n}@plein.example"),
            &format!("Collega {n}"),
            "employee",
            PASSWORD,
        )
        .await?;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = app.url("/api/v1/admin/people?limit=2");
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let page: Value = app.client.get(url).send().await?.json().await?;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|item| item["email"].as_str().unwrap_or_default().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 6);

    let too_big = app
        .client
        .get(app.url("/api/v1/admin/people?limit=100000"))
        .send()
        .await?;
    let body = expect_error(
        too_big,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert!(body["error"]["fields"]["limit"].is_string());
    let bad_cursor = app
        .client
        .get(app.url("/api/v1/admin/people?cursor=%27%3B%20DROP%20TABLE%20people"))
        .send()
        .await?;
    expect_error(
        bad_cursor,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let not_a_number = app
        .client
        .get(app.url("/api/v1/admin/people?limit=lots"))
        .send()
        .await?;
    expect_error(not_a_number, StatusCode::BAD_REQUEST, "invalid_query").await?;
    Ok(())
}

#[tokio::test]
async fn api_tokens_are_shown_once_work_by_scope_and_stop_working_when_revoked()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let created: Value = app
        .send_json(
            Method::POST,
            "/api/v1/admin/tokens",
            &json!({"name": "HR-koppeling", "scopes": ["admin"]}),
        )
        .await?
        .json()
        .await?;
    let secret = created["secret"].as_str().unwrap_or_default().to_owned();
    assert!(secret.starts_with("plein_"), "{created}");
    let listed = app
        .client
        .get(app.url("/api/v1/admin/tokens"))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        listed.contains("HR-koppeling") && !listed.contains(&secret),
        "the secret must not be listed"
    );

    let bearer = reqwest::Client::new();
    let people = bearer
        .get(app.url("/api/v1/admin/people"))
        .bearer_auth(&secret)
        .send()
        .await?;
    assert_eq!(people.status(), StatusCode::OK);
    let me = bearer
        .get(app.url("/api/v1/me"))
        .bearer_auth(&secret)
        .send()
        .await?;
    expect_error(me, StatusCode::FORBIDDEN, "forbidden").await?;

    let scim: Value = app
        .send_json(
            Method::POST,
            "/api/v1/admin/tokens",
            &json!({"name": "Entra ID", "scopes": ["scim"]}),
        )
        .await?
        .json()
        .await?;
    let scim_secret = scim["secret"].as_str().unwrap_or_default();
    let refused = bearer
        .get(app.url("/api/v1/admin/people"))
        .bearer_auth(scim_secret)
        .send()
        .await?;
    expect_error(refused, StatusCode::FORBIDDEN, "insufficient_scope").await?;

    let id = created["token"]["id"].as_str().unwrap_or_default();
    let revoked: Value = app
        .client
        .delete(app.url(&format!("/api/v1/admin/tokens/{id}")))
        .send()
        .await?
        .json()
        .await?;
    assert!(revoked["revoked_at"].is_string());
    let after = bearer
        .get(app.url("/api/v1/admin/people"))
        .bearer_auth(&secret)
        .send()
        .await?;
    expect_error(after, StatusCode::UNAUTHORIZED, "invalid_token").await?;
    let garbage = bearer
        .get(app.url("/api/v1/admin/people"))
        .bearer_auth("plein_nonsense")
        .send()
        .await?;
    expect_error(garbage, StatusCode::UNAUTHORIZED, "invalid_token").await?;

    let no_scopes = app
        .send_json(
            Method::POST,
            "/api/v1/admin/tokens",
            &json!({"name": "", "scopes": []}),
        )
        .await?;
    let body = expect_error(
        no_scopes,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert!(
        body["error"]["fields"]["name"].is_string()
            && body["error"]["fields"]["scopes"].is_string()
    );
    Ok(())
}

#[tokio::test]
async fn an_admin_token_can_administer_without_a_person() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let created: Value = app
        .send_json(
            Method::POST,
            "/api/v1/admin/tokens",
            &json!({"name": "script", "scopes": ["admin"]}),
        )
        .await?
        .json()
        .await?;
    let secret = created["secret"].as_str().unwrap_or_default();
    let made = reqwest::Client::new()
        .post(app.url("/api/v1/admin/people"))
        .bearer_auth(secret)
        .json(
            &json!({"email": "via.token@plein.example", "name": "Via Token", "password": PASSWORD}),
        )
        .send()
        .await?;
    assert_eq!(made.status(), StatusCode::CREATED);
    app.login("via.token@plein.example", PASSWORD).await?;
    Ok(())
}

#[tokio::test]
async fn an_admin_corrects_a_persons_name_and_email_and_the_new_email_signs_in()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let person = app
        .create_person(
            "j.devries@plein.example",
            "Jan de Vris",
            "employee",
            PASSWORD,
        )
        .await?;
    app.create_person("bezet@plein.example", "Bezet", "employee", PASSWORD)
        .await?;
    let path = format!(
        "/api/v1/admin/people/{}",
        person["id"].as_str().unwrap_or_default()
    );

    let updated: Value = app
        .send_json(
            Method::PATCH,
            &path,
            &json!({"name": "Jan de Vries", "email": "Jan.deVries@plein.example"}),
        )
        .await?
        .json()
        .await?;
    assert_eq!(updated["display_name"], "Jan de Vries");
    assert_eq!(updated["email"], "Jan.deVries@plein.example");
    app.login("jan.devries@plein.example", PASSWORD).await?;
    assert!(
        app.login("j.devries@plein.example", PASSWORD)
            .await
            .is_err()
    );

    let taken = app
        .send_json(
            Method::PATCH,
            &path,
            &json!({"email": "BEZET@plein.example"}),
        )
        .await?;
    expect_error(taken, StatusCode::CONFLICT, "email_taken").await?;
    let invalid = app
        .send_json(Method::PATCH, &path, &json!({"email": "nope", "name": ""}))
        .await?;
    let body = expect_error(
        invalid,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert!(
        body["error"]["fields"]["email"].is_string() && body["error"]["fields"]["name"].is_string()
    );
    let unknown_field = app
        .send_json(Method::PATCH, &path, &json!({"role": "admin"}))
        .await?;
    expect_error(
        unknown_field,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await?;
    let unchanged: Value = app.get_json(&path).await?;
    assert_eq!(unchanged["email"], "Jan.deVries@plein.example");
    assert_eq!(unchanged["role"], "employee");
    Ok(())
}

/// The display names on one page of the admins' list, with its total and next cursor.
async fn admin_page(app: &TestApp, query: &str) -> anyhow::Result<(Vec<String>, u64, Value)> {
    let response = app
        .client
        .get(app.url(&format!("/api/v1/admin/people?{query}")))
        .send()
        .await?;
    anyhow::ensure!(
        response.status() == StatusCode::OK,
        "{query}: {}",
        response.text().await?
    );
    let page: Value = response.json().await?;
    let names = page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|person| person["display_name"].as_str().map(str::to_owned))
        .collect();
    Ok((names, page["total"].as_u64().unwrap_or_default(), page))
}

#[tokio::test]
async fn admins_search_everyone_and_filter_by_role_status_and_department() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let mut ids = Vec::new();
    for (email, name, role, department) in [
        (
            "tess.wooning@plein.example",
            "Tess Wooning",
            "hr",
            "Netwerk",
        ),
        ("piet@plein.example", "Piet Jansen", "employee", "Marketing"),
        ("anna@plein.example", "Anna Bakker", "employee", "Netwerk"),
    ] {
        let person = app.create_person(email, name, role, PASSWORD).await?;
        let id = person["id"].as_str().unwrap_or_default().to_owned();
        let patched = app
            .send_json(
                Method::PATCH,
                &format!("/api/v1/admin/people/{id}"),
                &json!({"department": department}),
            )
            .await?;
        assert_eq!(patched.status(), StatusCode::OK);
        ids.push(id);
    }
    let deactivated = app
        .client
        .post(app.url(&format!("/api/v1/admin/people/{}/deactivate", ids[2])))
        .send()
        .await?;
    assert_eq!(deactivated.status(), StatusCode::OK);
    app.caught_up().await?;

    // Without filters: everyone in creation order, with every department for the filter.
    let (names, total, page) = admin_page(&app, "").await?;
    assert_eq!(total, 4);
    assert_eq!(
        names,
        ["Beheerder", "Tess Wooning", "Piet Jansen", "Anna Bakker"]
    );
    assert_eq!(page["departments"], json!(["Marketing", "Netwerk"]));
    assert_eq!(page["items"][1]["department"], "Netwerk");

    // The search engine, deactivated people included, which colleague search leaves out.
    assert_eq!(admin_page(&app, "q=tess").await?.0, ["Tess Wooning"]);
    assert_eq!(
        admin_page(&app, "q=tess.wooning%40plein.example").await?.0,
        ["Tess Wooning"]
    );
    assert_eq!(admin_page(&app, "q=bakkr").await?.0, ["Anna Bakker"]);
    assert!(app.search_names("bakker").await?.is_empty());
    assert_eq!(
        admin_page(&app, "status=inactive").await?.0,
        ["Anna Bakker"]
    );
    assert_eq!(admin_page(&app, "role=hr").await?.0, ["Tess Wooning"]);
    assert_eq!(
        admin_page(&app, "department=Netwerk&status=active")
            .await?
            .0,
        ["Tess Wooning"]
    );
    assert_eq!(
        admin_page(&app, "department=Netwerk").await?.0,
        ["Anna Bakker", "Tess Wooning"],
        "browsing with a filter lists in name order"
    );
    assert!(
        admin_page(&app, "role=admin&status=inactive")
            .await?
            .0
            .is_empty()
    );

    // Pages of a filtered list follow one another without repeats.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(cursor) => format!("status=active&limit=1&cursor={cursor}"),
            None => "status=active&limit=1".to_owned(),
        };
        let (names, total, page) = admin_page(&app, &query).await?;
        assert_eq!(total, 3);
        seen.extend(names);
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(seen.len() <= 3, "the pages do not end: {seen:?}");
    }
    seen.sort();
    assert_eq!(seen, ["Beheerder", "Piet Jansen", "Tess Wooning"]);

    for bad in [
        "role=boss",
        "status=asleep",
        "limit=101",
        "q=x&cursor=bm90LWEtY3Vyc29y",
    ] {
        let response = app
            .client
            .get(app.url(&format!("/api/v1/admin/people?{bad}")))
            .send()
            .await?;
        assert!(
            response.status() == StatusCode::UNPROCESSABLE_ENTITY
                || response.status() == StatusCode::BAD_REQUEST,
            "{bad}: {}",
            response.status()
        );
        let body: Value = response.json().await?;
        assert!(body["error"]["code"].is_string(), "{bad}: {body}");
    }
    Ok(())
}
