//! Groups over HTTP: who sees and does what (a table over people and visibilities), joining,
//! invitations, requests, roles, the last owner, archiving and deleting, and bad input.

use std::collections::BTreeMap;

use plein_tests::{PERSON_PASSWORD, Someone, TestApp, expect_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn call(
    app: &TestApp,
    who: &reqwest::Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<(StatusCode, Value)> {
    let mut request = who.request(method, app.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await?;
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// What one person gets from one group: GET the group, GET its members, listed in
/// `GET /groups`, GET its invitations.
type Seen = (u16, u16, bool, u16);

#[tokio::test]
async fn who_sees_and_does_what_in_public_private_and_secret_groups() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let owner = app.someone("Olga Owner", "employee").await?;
    let group_admin = app.someone("Gijs Admin", "employee").await?;
    let member = app.someone("Mira Member", "employee").await?;
    let invited = app.someone("Ivo Invited", "employee").await?;
    let requester = app.someone("Rosa Requester", "employee").await?;
    let outsider = app.someone("Otto Outsider", "employee").await?;
    let leaver = app.someone("Lars Leaver", "employee").await?;

    let mut groups = BTreeMap::new();
    for visibility in ["public", "private", "secret"] {
        let group = app.expect_as(&owner.client,
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": format!("Fotografie {visibility}"), "kind": "casual", "visibility": visibility,
                "description": "Wij **fotograferen** <script>alert(1)</script>"})),
            StatusCode::CREATED,
        )
        .await?;
        assert_eq!(group["my_role"], "owner");
        assert_eq!(group["member_count"], 1);
        assert!(
            !group["description_html"]
                .as_str()
                .unwrap_or_default()
                .contains("<script")
        );
        let id = group["id"].as_str().unwrap_or_default().to_owned();
        let invitations = format!("/api/v1/groups/{id}/invitations");
        for someone in [&group_admin, &member, &invited, &leaver] {
            let answer = app
                .expect_as(
                    &owner.client,
                    Method::POST,
                    &invitations,
                    Some(json!({"person_id": someone.id})),
                    StatusCode::CREATED,
                )
                .await?;
            assert_eq!(answer["state"], "invited");
        }
        for someone in [&group_admin, &member, &leaver] {
            let joined = app
                .expect_as(
                    &someone.client,
                    Method::POST,
                    &format!("/api/v1/groups/{id}/join"),
                    None,
                    StatusCode::OK,
                )
                .await?;
            assert_eq!(joined["my_state"], "member", "{visibility}");
        }
        app.expect_as(
            &owner.client,
            Method::PUT,
            &format!("/api/v1/groups/{id}/members/{}", group_admin.id),
            Some(json!({"role": "admin"})),
            StatusCode::OK,
        )
        .await?;
        // Leaving takes effect at once: the leaver is one of the outsiders again.
        app.expect_as(
            &leaver.client,
            Method::POST,
            &format!("/api/v1/groups/{id}/leave"),
            None,
            StatusCode::NO_CONTENT,
        )
        .await?;
        if visibility == "private" {
            let asked = app
                .expect_as(
                    &requester.client,
                    Method::POST,
                    &format!("/api/v1/groups/{id}/join"),
                    None,
                    StatusCode::OK,
                )
                .await?;
            assert_eq!(asked["my_state"], "requested");
        }
        groups.insert(visibility, id);
    }

    // Per person and visibility: GET the group, GET its members, listed in GET /groups, GET its
    // invitations.
    let people: [(&str, &reqwest::Client, [Seen; 3]); 8] = [
        (
            "owner",
            &owner.client,
            [
                (200, 200, true, 200),
                (200, 200, true, 200),
                (200, 200, true, 200),
            ],
        ),
        (
            "group admin",
            &group_admin.client,
            [
                (200, 200, true, 200),
                (200, 200, true, 200),
                (200, 200, true, 200),
            ],
        ),
        (
            "member",
            &member.client,
            [
                (200, 200, true, 403),
                (200, 200, true, 403),
                (200, 200, true, 403),
            ],
        ),
        (
            "invited",
            &invited.client,
            [
                (200, 200, true, 403),
                (200, 403, true, 403),
                (200, 403, true, 403),
            ],
        ),
        (
            "requester",
            &requester.client,
            [
                (200, 200, true, 403),
                (200, 403, true, 403),
                (404, 404, false, 404),
            ],
        ),
        (
            "outsider",
            &outsider.client,
            [
                (200, 200, true, 403),
                (200, 403, true, 403),
                (404, 404, false, 404),
            ],
        ),
        (
            "leaver",
            &leaver.client,
            [
                (200, 200, true, 403),
                (200, 403, true, 403),
                (404, 404, false, 404),
            ],
        ),
        (
            "platform admin",
            &app.client,
            [
                (200, 200, true, 403),
                (200, 403, true, 403),
                (200, 403, false, 403),
            ],
        ),
    ];
    let mut wrong = Vec::new();
    for (who, client, expected) in people {
        let (_, listed) = call(&app, client, Method::GET, "/api/v1/groups?limit=200", None).await?;
        let listed_ids: Vec<&str> = listed["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|group| group["id"].as_str())
            .collect();
        for (visibility, (see, members, in_list, invitations)) in
            ["public", "private", "secret"].into_iter().zip(expected)
        {
            let id = &groups[visibility];
            let (got_see, _) = call(
                &app,
                client,
                Method::GET,
                &format!("/api/v1/groups/{id}"),
                None,
            )
            .await?;
            let (got_members, _) = call(
                &app,
                client,
                Method::GET,
                &format!("/api/v1/groups/{id}/members"),
                None,
            )
            .await?;
            let (got_invitations, _) = call(
                &app,
                client,
                Method::GET,
                &format!("/api/v1/groups/{id}/members?state=invited"),
                None,
            )
            .await?;
            let got = (
                got_see.as_u16(),
                got_members.as_u16(),
                listed_ids.contains(&id.as_str()),
                got_invitations.as_u16(),
            );
            if got != (see, members, in_list, invitations) {
                wrong.push(format!(
                    "{who} / {visibility}: expected {:?}, got {got:?}",
                    (see, members, in_list, invitations)
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // The owner's view of the secret group: members and the open invitation, paged.
    let secret = &groups["secret"];
    let page = app
        .expect_as(
            &owner.client,
            Method::GET,
            &format!("/api/v1/groups/{secret}/members?limit=2"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
    let cursor = page["next_cursor"].as_str().unwrap_or_default();
    let rest = app
        .expect_as(
            &owner.client,
            Method::GET,
            &format!("/api/v1/groups/{secret}/members?limit=2&cursor={cursor}"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest["next_cursor"], Value::Null);
    let open = app
        .expect_as(
            &owner.client,
            Method::GET,
            &format!("/api/v1/groups/{secret}/members?state=invited"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(open["items"][0]["person"]["id"], invited.id.as_str());
    Ok(())
}

#[tokio::test]
async fn joining_requests_invitations_roles_and_the_last_owner() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let owner = app.someone("Olga Owner", "employee").await?;
    let anna = app.someone("Anna Bakker", "employee").await?;
    let piet = app.someone("Piet Jansen", "employee").await?;
    let create = |visibility: &'static str, name: &'static str| {
        let app = &app;
        let owner = &owner;
        async move {
            app.expect_as(
                &owner.client,
                Method::POST,
                "/api/v1/groups",
                Some(json!({"name": name, "kind": "work", "visibility": visibility})),
                StatusCode::CREATED,
            )
            .await
        }
    };
    let private = create("private", "Netwerkbeheer").await?;
    let id = private["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(private["slug"], "netwerkbeheer");
    let again = create("public", "Netwerkbeheer").await?;
    assert_eq!(
        again["slug"], "netwerkbeheer-2",
        "a taken slug gets a number"
    );

    // A request to a private group; approving it makes a member, declining removes it.
    let asked = app
        .expect_as(
            &anna.client,
            Method::POST,
            &format!("/api/v1/groups/{id}/join"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(asked["my_state"], "requested");
    let twice = app
        .expect_as(
            &anna.client,
            Method::POST,
            &format!("/api/v1/groups/{id}/join"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(
        twice["my_state"], "requested",
        "asking twice changes nothing"
    );
    expect_error(
        anna.client
            .post(app.url(&format!("/api/v1/groups/{id}/requests/{}/approve", anna.id)))
            .send()
            .await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    let approved = app
        .expect_as(
            &owner.client,
            Method::POST,
            &format!("/api/v1/groups/{id}/requests/{}/approve", anna.id),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(approved["state"], "member");
    app.expect_as(
        &piet.client,
        Method::POST,
        &format!("/api/v1/groups/{id}/join"),
        None,
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &owner.client,
        Method::POST,
        &format!("/api/v1/groups/{id}/requests/{}/decline", piet.id),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    let piets_view = app
        .expect_as(
            &piet.client,
            Method::GET,
            &format!("/api/v1/groups/{id}"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(piets_view["my_state"], Value::Null);
    app.expect_as(
        &owner.client,
        Method::POST,
        &format!("/api/v1/groups/{id}/requests/{}/approve", piet.id),
        None,
        StatusCode::NOT_FOUND,
    )
    .await?;

    // An invitation is declined with leave; a member cannot invite; an unknown person is refused.
    app.expect_as(
        &owner.client,
        Method::POST,
        &format!("/api/v1/groups/{id}/invitations"),
        Some(json!({"person_id": piet.id})),
        StatusCode::CREATED,
    )
    .await?;
    app.expect_as(
        &piet.client,
        Method::POST,
        &format!("/api/v1/groups/{id}/leave"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    expect_error(
        anna.client
            .post(app.url(&format!("/api/v1/groups/{id}/invitations")))
            .json(&json!({"person_id": piet.id}))
            .send()
            .await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    expect_error(
        owner
            .client
            .post(app.url(&format!("/api/v1/groups/{id}/invitations")))
            .json(&json!({"person_id": uuid::Uuid::now_v7()}))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;

    // The last owner cannot leave or step down; with a second owner they can.
    expect_error(
        owner
            .client
            .post(app.url(&format!("/api/v1/groups/{id}/leave")))
            .send()
            .await?,
        StatusCode::CONFLICT,
        "last_owner",
    )
    .await?;
    let owner_id = &owner.id;
    expect_error(
        owner
            .client
            .put(app.url(&format!("/api/v1/groups/{id}/members/{owner_id}")))
            .json(&json!({"role": "member"}))
            .send()
            .await?,
        StatusCode::CONFLICT,
        "last_owner",
    )
    .await?;
    // Only owners make owners: an admin may not.
    app.expect_as(
        &owner.client,
        Method::PUT,
        &format!("/api/v1/groups/{id}/members/{}", anna.id),
        Some(json!({"role": "admin"})),
        StatusCode::OK,
    )
    .await?;
    expect_error(
        anna.client
            .put(app.url(&format!("/api/v1/groups/{id}/members/{}", anna.id)))
            .json(&json!({"role": "owner"}))
            .send()
            .await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    app.expect_as(
        &owner.client,
        Method::PUT,
        &format!("/api/v1/groups/{id}/members/{}", anna.id),
        Some(json!({"role": "owner"})),
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &owner.client,
        Method::POST,
        &format!("/api/v1/groups/{id}/leave"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    let view = app
        .expect_as(
            &anna.client,
            Method::GET,
            &format!("/api/v1/groups/{id}"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(view["member_count"], 1);
    assert_eq!(view["my_role"], "owner");

    // Settings: owners and admins; archiving stops joining; deleting hides it from everyone.
    let changed = app
        .expect_as(
            &anna.client,
            Method::PATCH,
            &format!("/api/v1/groups/{id}"),
            Some(json!({"name": "Netwerk & infra", "visibility": "public", "posting": "admins"})),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(changed["visibility"], "public");
    assert_eq!(changed["posting"], "admins");
    expect_error(
        piet.client
            .patch(app.url(&format!("/api/v1/groups/{id}")))
            .json(&json!({"name": "Van mij"}))
            .send()
            .await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    let archived = app
        .expect_as(
            &app.client,
            Method::PATCH,
            &format!("/api/v1/groups/{id}"),
            Some(json!({"archived": true})),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(archived["archived"], true);
    expect_error(
        piet.client
            .post(app.url(&format!("/api/v1/groups/{id}/join")))
            .send()
            .await?,
        StatusCode::CONFLICT,
        "group_archived",
    )
    .await?;
    app.expect_as(
        &piet.client,
        Method::DELETE,
        &format!("/api/v1/groups/{id}"),
        None,
        StatusCode::FORBIDDEN,
    )
    .await?;
    app.expect_as(
        &anna.client,
        Method::DELETE,
        &format!("/api/v1/groups/{id}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    app.expect_as(
        &anna.client,
        Method::GET,
        &format!("/api/v1/groups/{id}"),
        None,
        StatusCode::NOT_FOUND,
    )
    .await?;
    let listed = app
        .expect_as(
            &piet.client,
            Method::GET,
            "/api/v1/groups",
            None,
            StatusCode::OK,
        )
        .await?;
    assert!(!listed.to_string().contains(&id));

    // My groups, by kind, paged in name order.
    let mine = app
        .expect_as(
            &owner.client,
            Method::GET,
            "/api/v1/groups?mine=true&kind=work&limit=1",
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(mine["items"][0]["slug"], "netwerkbeheer-2");
    assert_eq!(mine["next_cursor"], Value::Null);
    Ok(())
}

#[tokio::test]
async fn bad_group_input_is_refused_and_nothing_is_stored() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let long = "x".repeat(121);
    let cases = [
        (
            json!({"name": "  ", "kind": "work", "visibility": "public"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"name": long, "kind": "work", "visibility": "public"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"name": "Bel\u{7}", "kind": "work", "visibility": "public"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"name": "Koor", "kind": "choir", "visibility": "public"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            json!({"name": "Koor", "kind": "casual", "visibility": "hidden"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            json!({"name": "Koor", "kind": "casual", "visibility": "public", "slug": "Koor Club"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"name": "Koor", "kind": "casual", "visibility": "public", "slug": "-koor"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"name": "Koor", "kind": "casual", "visibility": "public", "description": "x".repeat(5001)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"name": "Koor'; DROP TABLE groups; --", "kind": "casual", "visibility": "public", "slug": "koor"}),
            StatusCode::CREATED,
            "",
        ),
        (
            json!({"name": "Ander koor", "kind": "casual", "visibility": "public", "slug": "koor"}),
            StatusCode::CONFLICT,
            "slug_taken",
        ),
    ];
    for (body, status, code) in cases {
        let response = app.send_json(Method::POST, "/api/v1/groups", &body).await?;
        if status == StatusCode::CREATED {
            assert_eq!(response.status(), status, "{body}");
        } else {
            expect_error(response, status, code).await?;
        }
    }
    let listed = app.get_json("/api/v1/groups").await?;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["items"][0]["name"], "Koor'; DROP TABLE groups; --");
    let response = app
        .client
        .get(app.url("/api/v1/groups?cursor=bm9wZQ"))
        .send()
        .await?;
    expect_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let response = app
        .client
        .get(app.url("/api/v1/groups/not-a-uuid"))
        .send()
        .await?;
    assert!(response.status().is_client_error());
    Ok(())
}

#[tokio::test]
async fn the_group_directory_is_searched_by_name_and_description_and_keeps_secrets()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let owner = app.someone("Olga Owner", "employee").await?;
    let outsider = app.someone("Otto Outsider", "employee").await?;
    let invited = app.someone("Ivo Invited", "employee").await?;
    let mut ids = BTreeMap::new();
    for (name, description, visibility, kind) in [
        (
            "Fotografie",
            "Samen op pad met de camera",
            "public",
            "casual",
        ),
        (
            "Hardlopen",
            "Elke zaterdag tien kilometer",
            "private",
            "casual",
        ),
        (
            "Fotografie reorganisatie",
            "Vertrouwelijk",
            "secret",
            "work",
        ),
        ("Netwerkbeheer", "Storingen en onderhoud", "public", "work"),
    ] {
        let group = app.expect_as(&owner.client, Method::POST, "/api/v1/groups",
            Some(json!({"name": name, "description": description, "visibility": visibility, "kind": kind})), StatusCode::CREATED).await?;
        ids.insert(name, group["id"].as_str().unwrap_or_default().to_owned());
    }
    app.caught_up().await?;
    let names = |who: &Someone, query: &str| {
        let app = &app;
        let client = who.client.clone();
        let query = query.to_owned();
        async move {
            let response = client
                .get(app.url("/api/v1/groups"))
                .query(&[("q", query.as_str())])
                .send()
                .await?;
            anyhow::ensure!(
                response.status() == StatusCode::OK,
                "{}",
                response.text().await?
            );
            let page: Value = response.json().await?;
            Ok::<Vec<String>, anyhow::Error>(
                page["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|group| group["name"].as_str().map(str::to_owned))
                    .collect(),
            )
        }
    };
    assert_eq!(names(&outsider, "fotografie").await?, ["Fotografie"]);
    assert_eq!(
        names(&owner, "fotografie").await?,
        ["Fotografie", "Fotografie reorganisatie"]
    );
    assert_eq!(
        names(&outsider, "camra").await?,
        ["Fotografie"],
        "a typo in the description"
    );
    assert_eq!(
        names(&outsider, "zaterdag").await?,
        ["Hardlopen"],
        "private groups are listed"
    );
    assert_eq!(
        names(&outsider, "vertrouwelijk").await?,
        Vec::<String>::new()
    );
    // An invitation makes the secret group findable for the invitee.
    let secret = &ids["Fotografie reorganisatie"];
    app.expect_as(
        &owner.client,
        Method::POST,
        &format!("/api/v1/groups/{secret}/invitations"),
        Some(json!({"person_id": invited.id})),
        StatusCode::CREATED,
    )
    .await?;
    assert_eq!(
        names(&invited, "vertrouwelijk").await?,
        ["Fotografie reorganisatie"]
    );
    // Kind filters; renames and deletions reach the index through the outbox.
    let kind = owner
        .client
        .get(app.url("/api/v1/groups"))
        .query(&[("q", "fotografie"), ("kind", "work")])
        .send()
        .await?;
    let kind: Value = kind.json().await?;
    assert_eq!(kind["items"].as_array().map(Vec::len), Some(1));
    let network = &ids["Netwerkbeheer"];
    app.expect_as(
        &owner.client,
        Method::PATCH,
        &format!("/api/v1/groups/{network}"),
        Some(json!({"name": "Infrastructuur"})),
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &owner.client,
        Method::DELETE,
        &format!("/api/v1/groups/{}", ids["Fotografie"]),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    app.caught_up().await?;
    assert_eq!(
        names(&outsider, "infrastructuur").await?,
        ["Infrastructuur"]
    );
    assert_eq!(
        names(&outsider, "netwerkbeheer").await?,
        Vec::<String>::new()
    );
    assert_eq!(names(&outsider, "fotografie").await?, Vec::<String>::new());
    let too_long = outsider
        .client
        .get(app.url("/api/v1/groups"))
        .query(&[("q", "x".repeat(201))])
        .send()
        .await?;
    expect_error(
        too_long,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    Ok(())
}

/// One row of the authorisation matrix: GET the group, its members, its feed, a post by id;
/// comment; react; download the post's attachment; whether search finds the post; and whether
/// a mention in that post told them.
/// see, members, feed, read, comment, react, download (statuses); found in search, notified of
/// a mention, told of the post live over the socket.
type Cell = (u16, u16, u16, u16, u16, u16, u16, bool, bool, bool);

#[tokio::test]
async fn the_authorisation_matrix_over_people_visibilities_and_post_actions() -> anyhow::Result<()>
{
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let owner = app.someone("Olga Owner", "employee").await?;
    let group_admin = app.someone("Gijs Admin", "employee").await?;
    let member = app.someone("Mira Member", "employee").await?;
    let invited = app.someone("Ivo Invited", "employee").await?;
    let requester = app.someone("Rosa Requester", "employee").await?;
    let outsider = app.someone("Otto Outsider", "employee").await?;
    let hr_created = app
        .create_person("hanna.hr@plein.example", "Hanna HR", "hr", PERSON_PASSWORD)
        .await?;
    let hr = app
        .signed_in(
            hr_created["id"].as_str().unwrap_or_default(),
            "hanna.hr@plein.example",
        )
        .await?;
    let leaver = app.someone("Dina Deactivated", "employee").await?;
    let admin_id = app.get_json("/api/v1/me").await?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // Everyone's socket is open before anything happens in the groups.
    let (_, admin_cookie) = app
        .login_session(plein_tests::ADMIN_EMAIL, plein_tests::ADMIN_PASSWORD)
        .await?;
    app.caught_up().await?;
    let mut sockets = BTreeMap::new();
    for (who, cookie) in [
        ("owner", &owner.cookie),
        ("group admin", &group_admin.cookie),
        ("member", &member.cookie),
        ("invited", &invited.cookie),
        ("requester", &requester.cookie),
        ("non-member", &outsider.cookie),
        ("platform admin", &admin_cookie),
        ("hr", &hr.cookie),
    ] {
        let mut socket = plein_tests::socket::open(&app.address, cookie, None).await?;
        socket.expect("hello").await?;
        sockets.insert(who, socket);
    }

    let mut posts = BTreeMap::new();
    let mut groups = BTreeMap::new();
    let mut files = BTreeMap::new();
    // A word only that visibility's post has, to search for.
    let word = |visibility: &str| match visibility {
        "public" => "zonnebloem",
        "private" => "tulpenveld",
        _ => "orchidee",
    };
    for visibility in ["public", "private", "secret"] {
        let group = app.expect_as(&owner.client, Method::POST, "/api/v1/groups",
            Some(json!({"name": format!("Groep {visibility}"), "kind": "work", "visibility": visibility})), StatusCode::CREATED).await?;
        let id = group["id"].as_str().unwrap_or_default().to_owned();
        for someone in [&group_admin, &member, &invited, &leaver] {
            app.expect_as(
                &owner.client,
                Method::POST,
                &format!("/api/v1/groups/{id}/invitations"),
                Some(json!({"person_id": someone.id})),
                StatusCode::CREATED,
            )
            .await?;
        }
        for someone in [&group_admin, &member, &leaver] {
            app.expect_as(
                &someone.client,
                Method::POST,
                &format!("/api/v1/groups/{id}/join"),
                None,
                StatusCode::OK,
            )
            .await?;
        }
        app.expect_as(
            &owner.client,
            Method::PUT,
            &format!("/api/v1/groups/{id}/members/{}", group_admin.id),
            Some(json!({"role": "admin"})),
            StatusCode::OK,
        )
        .await?;
        if visibility == "private" {
            app.expect_as(
                &requester.client,
                Method::POST,
                &format!("/api/v1/groups/{id}/join"),
                None,
                StatusCode::OK,
            )
            .await?;
        }
        let everyone: Vec<String> = [
            &group_admin,
            &member,
            &invited,
            &requester,
            &outsider,
            &hr,
            &leaver,
        ]
        .iter()
        .map(|someone| format!("<@{}>", someone.id))
        .chain([format!("<@{admin_id}>")])
        .collect();
        let file: Value = owner
            .client
            .post(app.url("/api/v1/attachments?name=notulen.txt"))
            .body(format!("Notulen {visibility}"))
            .send()
            .await?
            .json()
            .await?;
        let post = app
            .expect_as(
                &owner.client,
                Method::POST,
                &format!("/api/v1/groups/{id}/posts"),
                Some(json!({
                    "body": format!("Voor {} over de {}", everyone.join(" "), word(visibility)),
                    "attachments": [file["id"]],
                })),
                StatusCode::CREATED,
            )
            .await?;
        files.insert(
            visibility,
            file["url"].as_str().unwrap_or_default().to_owned(),
        );
        posts.insert(
            visibility,
            post["id"].as_str().unwrap_or_default().to_owned(),
        );
        groups.insert(visibility, id);
    }
    // Deactivation ends the sessions: every call answers 401 and nothing is told.
    let deactivated = app
        .client
        .post(app.url(&format!("/api/v1/admin/people/{}/deactivate", leaver.id)))
        .send()
        .await?;
    assert_eq!(deactivated.status(), StatusCode::OK);
    app.caught_up().await?;
    // What each socket was told: read up to a message everyone still active gets last.
    let active = [
        &owner,
        &group_admin,
        &member,
        &invited,
        &requester,
        &outsider,
        &hr,
    ];
    let all: Vec<&str> = active.iter().map(|someone| someone.id.as_str()).collect();
    let last_word = app
        .expect_as(
            &app.client,
            Method::POST,
            "/api/v1/conversations",
            Some(json!({"person_ids": all, "name": "Iedereen"})),
            StatusCode::CREATED,
        )
        .await?;
    let sentinel = app
        .expect_as(
            &app.client,
            Method::POST,
            &format!(
                "/api/v1/conversations/{}/messages",
                last_word["id"].as_str().unwrap_or_default()
            ),
            Some(json!({"body": "Dat was alles", "client_id": "sentinel"})),
            StatusCode::CREATED,
        )
        .await?;
    let mut heard: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (who, socket) in &mut sockets {
        loop {
            let frame = socket.next().await?;
            if frame["type"] == "message.created" && frame["message"]["id"] == sentinel["id"] {
                break;
            }
            if frame["type"] == "post.created" {
                heard
                    .entry(*who)
                    .or_default()
                    .push(frame["post_id"].as_str().unwrap_or_default().to_owned());
            }
        }
    }
    let deactivated_socket = plein_tests::socket::connect(&app.address, &leaver.cookie, None, None)
        .await?
        .err()
        .map(|refused| refused.status);
    assert_eq!(deactivated_socket, Some(401));

    let full: Cell = (200, 200, 200, 200, 201, 200, 200, true, true, true);
    // Public groups' posts are read by anyone; live frames go to members only.
    let reader: Cell = (200, 200, 200, 200, 403, 403, 200, true, true, false);
    let outside: Cell = (200, 403, 403, 404, 404, 404, 404, false, false, false);
    let hidden: Cell = (404, 404, 404, 404, 404, 404, 404, false, false, false);
    let gone: Cell = (401, 401, 401, 401, 401, 401, 401, false, false, false);
    let admin_client = app.client.clone();
    let people: [(&str, &reqwest::Client, [Cell; 3]); 9] = [
        ("owner", &owner.client, [full, full, full]),
        ("group admin", &group_admin.client, [full, full, full]),
        ("member", &member.client, [full, full, full]),
        ("invited", &invited.client, [reader, outside, outside]),
        ("requester", &requester.client, [reader, outside, hidden]),
        ("non-member", &outsider.client, [reader, outside, hidden]),
        ("platform admin", &admin_client, [reader, outside, outside]),
        ("hr", &hr.client, [reader, outside, hidden]),
        ("deactivated", &leaver.client, [gone, gone, gone]),
    ];
    let mut wrong = Vec::new();
    for (who, client, expected) in people {
        for (visibility, cell) in ["public", "private", "secret"].into_iter().zip(expected) {
            let group = &groups[visibility];
            let post = &posts[visibility];
            let status = |response: reqwest::Response| response.status().as_u16();
            let see = status(
                client
                    .get(app.url(&format!("/api/v1/groups/{group}")))
                    .send()
                    .await?,
            );
            let members = status(
                client
                    .get(app.url(&format!("/api/v1/groups/{group}/members")))
                    .send()
                    .await?,
            );
            let feed = status(
                client
                    .get(app.url(&format!("/api/v1/groups/{group}/posts")))
                    .send()
                    .await?,
            );
            let read = status(
                client
                    .get(app.url(&format!("/api/v1/posts/{post}")))
                    .send()
                    .await?,
            );
            let comment = status(
                client
                    .post(app.url(&format!("/api/v1/posts/{post}/comments")))
                    .json(&json!({"body": "Hoi"}))
                    .send()
                    .await?,
            );
            let react = status(
                client
                    .put(app.url(&format!("/api/v1/posts/{post}/reactions/like")))
                    .send()
                    .await?,
            );
            let download = status(client.get(app.url(&files[visibility])).send().await?);
            let found = if who == "deactivated" {
                false
            } else {
                let results: Value = client
                    .get(app.url("/api/v1/posts/search"))
                    .query(&[("q", word(visibility))])
                    .send()
                    .await?
                    .json()
                    .await?;
                results["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|hit| hit["post"]["id"] == post.as_str())
            };
            let told = if who == "owner" || who == "deactivated" {
                cell.8
            } else {
                let page: Value = client
                    .get(app.url("/api/v1/notifications?limit=100"))
                    .send()
                    .await?
                    .json()
                    .await?;
                page["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|item| item["kind"] == "mention" && item["post_id"] == post.as_str())
            };
            let live = heard
                .get(who)
                .is_some_and(|posts| posts.iter().any(|id| id == post));
            let got: Cell = (
                see, members, feed, read, comment, react, download, found, told, live,
            );
            if got != cell {
                wrong.push(format!(
                    "{who} / {visibility}: expected {cell:?}, got {got:?}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    Ok(())
}

#[tokio::test]
async fn suggestions_put_groups_of_my_departments_colleagues_first_and_leave_out_mine_and_secret_ones()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let me = app
        .someone_in("Mila Nieuw", "employee", "Netwerk", "Utrecht")
        .await?;
    let colleague = app
        .someone_in("Cas Collega", "employee", "Netwerk", "Utrecht")
        .await?;
    let other = app
        .someone_in("Ola Ander", "employee", "Verkoop", "Utrecht")
        .await?;
    let create = |who: &plein_tests::Someone, name: &str, visibility: &str| {
        let body = json!({"name": name, "kind": "casual", "visibility": visibility});
        let client = who.client.clone();
        let url = app.url("/api/v1/groups");
        async move {
            let response = client.post(url).json(&body).send().await?;
            anyhow::ensure!(response.status() == StatusCode::CREATED);
            let group: Value = response.json().await?;
            anyhow::Ok(group["id"].as_str().unwrap_or_default().to_owned())
        }
    };
    let quiet = create(&other, "Aquarium", "public").await?;
    let busy = create(&other, "Bordspellen", "public").await?;
    let colleagues = create(&colleague, "Cricket", "private").await?;
    let secret = create(&colleague, "Directie", "secret").await?;
    let mine = create(&me, "Eigen club", "public").await?;
    app.expect_as(
        &other.client,
        Method::POST,
        &format!("/api/v1/groups/{busy}/posts"),
        Some(json!({"body": "Spelletjesavond!"})),
        StatusCode::CREATED,
    )
    .await?;
    let suggested = app
        .expect_as(
            &me.client,
            Method::GET,
            "/api/v1/groups/suggested",
            None,
            StatusCode::OK,
        )
        .await?;
    let ids: Vec<&str> = suggested["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|group| group["id"].as_str())
                .collect()
        })
        .unwrap_or_default();
    // Most colleagues from my department first, then the most active, then by name.
    assert_eq!(ids, [colleagues.as_str(), busy.as_str(), quiet.as_str()]);
    assert!(!ids.contains(&secret.as_str()) && !ids.contains(&mine.as_str()));
    app.expect_as(
        &me.client,
        Method::GET,
        "/api/v1/groups/suggested?limit=0",
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_cover_is_set_by_the_groups_admins_and_shown_to_whoever_sees_the_group()
-> anyhow::Result<()> {
    use image::ImageFormat;
    use plein_tests::pictures::{encode, red_left_blue_right};
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let owner = app.someone("Olga Owner", "employee").await?;
    let outsider = app.someone("Otto Outsider", "employee").await?;
    let group = app
        .expect_as(
            &owner.client,
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": "Zeilen", "kind": "casual", "visibility": "private"})),
            StatusCode::CREATED,
        )
        .await?;
    let id = group["id"].as_str().unwrap_or_default().to_owned();
    assert!(group["cover_url"].is_null());
    let png = encode(&red_left_blue_right(900, 900), ImageFormat::Png)?;
    let put = |who: &plein_tests::Someone, bytes: Vec<u8>| {
        who.client
            .put(app.url(&format!("/api/v1/groups/{id}/cover")))
            .header("content-type", "image/png")
            .body(bytes)
            .send()
    };
    expect_error(
        put(&outsider, png.clone()).await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    let response = put(&owner, png).await?;
    assert_eq!(response.status(), StatusCode::OK);
    let updated: Value = response.json().await?;
    let cover_url = updated["cover_url"].as_str().unwrap_or_default().to_owned();
    assert!(
        cover_url.starts_with(&format!("/api/v1/groups/{id}/cover?v=")),
        "{cover_url}"
    );
    // A private group's name, description and cover are for everyone to see.
    let response = outsider.client.get(app.url(&cover_url)).send().await?;
    assert_eq!(response.status(), StatusCode::OK);
    let cover = image::load_from_memory(&response.bytes().await?)?;
    assert_eq!((cover.width(), cover.height()), (1200, 400));
    expect_error(
        put(&owner, b"not a picture".to_vec()).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unsupported_image",
    )
    .await?;
    let removed = app
        .expect_as(
            &owner.client,
            Method::DELETE,
            &format!("/api/v1/groups/{id}/cover"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert!(removed["cover_url"].is_null());
    expect_error(
        outsider.client.get(app.url(&cover_url)).send().await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn the_demo_company_has_groups_posts_and_announcements_everyone_can_find()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.setup_admin().await?;
    let company = plein_server::demo::generate(300, 3);
    let csv = String::from_utf8(plein_server::demo::to_csv(&company)?)?;
    let imported = app.import_csv("", &csv).await?;
    assert_eq!(
        imported.status(),
        StatusCode::OK,
        "{}",
        imported.text().await?
    );
    let admin_id: uuid::Uuid = admin["person"]["id"]
        .as_str()
        .or(admin["id"].as_str())
        .unwrap_or_default()
        .parse()?;
    let state = &app.handle.state;
    let made =
        plein_server::demo::social::populate(&state.db, &state.doorbell, admin_id, 3).await?;
    assert!(
        made.groups >= 8 && made.posts > 50 && made.comments > 0 && made.reactions > 0,
        "{made:?}"
    );
    assert_eq!(made.announcements, 3);
    let again =
        plein_server::demo::social::populate(&state.db, &state.doorbell, admin_id, 3).await?;
    assert_eq!(
        again.groups + again.posts + again.announcements,
        0,
        "a second run adds nothing"
    );
    app.caught_up().await?;

    // The clubs are in the directory; the secret one is not, for the admin who is not in it.
    let clubs = app.get_json("/api/v1/groups?kind=casual&limit=50").await?;
    let names: Vec<&str> = clubs["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|group| group["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        names.contains(&"Hardloopclub") && names.contains(&"Borrelcommissie"),
        "{names:?}"
    );
    assert!(!names.contains(&"Ondernemingsraad"));
    // Posts are searchable and have reactions and comments.
    let found = app.get_json("/api/v1/posts/search?q=welkom").await?;
    assert!(found["total"].as_u64().unwrap_or_default() > 0, "{found}");
    // The announcement for everyone reached everyone, and most acknowledged.
    let list = app.get_json("/api/v1/announcements").await?;
    let everyone = list["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|item| item["title"] == "Nieuwe thuiswerkregeling")
        })
        .cloned()
        .unwrap_or_default();
    let id = everyone["id"].as_str().unwrap_or_default();
    let stats = app
        .get_json(&format!("/api/v1/announcements/{id}/stats"))
        .await?;
    let reached = stats["reached"].as_u64().unwrap_or_default();
    let acknowledged = stats["acknowledged"].as_u64().unwrap_or_default();
    assert!(
        reached >= 300 && acknowledged * 2 > reached && acknowledged < reached,
        "{stats}"
    );
    Ok(())
}
