//! Posts, comments and reactions over HTTP: who may read and write, paging that stays put,
//! edits, deletion that keeps a commented post's place, idempotent reactions, bad input.

use plein_tests::{TestApp, expect_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn members_post_comment_and_react_and_others_only_read_what_they_may() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let owner = app.someone("Olga Owner", "employee").await?;
    let member = app.someone("Mira Member", "employee").await?;
    let outsider = app.someone("Otto Outsider", "employee").await?;
    let public = app
        .expect_as(
            &owner.client,
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": "Hardlopen", "kind": "casual", "visibility": "public"})),
            StatusCode::CREATED,
        )
        .await?;
    let group = id_of(&public);
    let secret = app
        .expect_as(
            &owner.client,
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": "Reorganisatie", "kind": "work", "visibility": "secret"})),
            StatusCode::CREATED,
        )
        .await?;
    let secret_group = id_of(&secret);
    app.expect_as(
        &member.client,
        Method::POST,
        &format!("/api/v1/groups/{group}/join"),
        None,
        StatusCode::OK,
    )
    .await?;

    // A post: Markdown rendered and sanitised.
    let post = app.expect_as(&member.client, Method::POST, &format!("/api/v1/groups/{group}/posts"),
        Some(json!({"body": "Zaterdag **10 km** <script>alert(1)</script> [x](javascript:alert(1))"})), StatusCode::CREATED).await?;
    let html = post["body_html"].as_str().unwrap_or_default();
    assert!(html.contains("<strong>10 km</strong>"), "{html}");
    assert!(
        !html.contains("<script") && !html.contains("javascript:"),
        "{html}"
    );
    assert_eq!(post["author"]["id"], member.id.as_str());
    let post_id = id_of(&post);

    // Anyone reads a public group's posts; only members post, comment and react.
    app.expect_as(
        &outsider.client,
        Method::GET,
        &format!("/api/v1/posts/{post_id}"),
        None,
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &outsider.client,
        Method::POST,
        &format!("/api/v1/groups/{group}/posts"),
        Some(json!({"body": "Ik ook"})),
        StatusCode::FORBIDDEN,
    )
    .await?;
    app.expect_as(
        &outsider.client,
        Method::POST,
        &format!("/api/v1/posts/{post_id}/comments"),
        Some(json!({"body": "Leuk"})),
        StatusCode::FORBIDDEN,
    )
    .await?;
    app.expect_as(
        &outsider.client,
        Method::PUT,
        &format!("/api/v1/posts/{post_id}/reactions/like"),
        None,
        StatusCode::FORBIDDEN,
    )
    .await?;

    // A secret group's post does not exist for outsiders.
    let hidden = app
        .expect_as(
            &owner.client,
            Method::POST,
            &format!("/api/v1/groups/{secret_group}/posts"),
            Some(json!({"body": "Vertrouwelijk"})),
            StatusCode::CREATED,
        )
        .await?;
    let hidden_id = id_of(&hidden);
    for path in [
        format!("/api/v1/posts/{hidden_id}"),
        format!("/api/v1/posts/{hidden_id}/comments"),
        format!("/api/v1/groups/{secret_group}/posts"),
    ] {
        let body = app
            .expect_as(
                &outsider.client,
                Method::GET,
                &path,
                None,
                StatusCode::NOT_FOUND,
            )
            .await?;
        assert!(!body.to_string().contains("Vertrouwelijk"));
    }
    app.expect_as(
        &outsider.client,
        Method::PUT,
        &format!("/api/v1/posts/{hidden_id}/reactions/like"),
        None,
        StatusCode::NOT_FOUND,
    )
    .await?;

    // Reactions: a toggle, idempotent, counted per reaction, with the caller's own.
    for _ in 0..2 {
        let summary = app
            .expect_as(
                &owner.client,
                Method::PUT,
                &format!("/api/v1/posts/{post_id}/reactions/like"),
                None,
                StatusCode::OK,
            )
            .await?;
        assert_eq!(
            summary["reactions"],
            json!([{"reaction": "like", "count": 1}])
        );
        assert_eq!(summary["my_reactions"], json!(["like"]));
    }
    app.expect_as(
        &member.client,
        Method::PUT,
        &format!("/api/v1/posts/{post_id}/reactions/celebrate"),
        None,
        StatusCode::OK,
    )
    .await?;
    let summary = app
        .expect_as(
            &member.client,
            Method::PUT,
            &format!("/api/v1/posts/{post_id}/reactions/like"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(
        summary["reactions"],
        json!([{"reaction": "like", "count": 2}, {"reaction": "celebrate", "count": 1}])
    );
    assert_eq!(summary["my_reactions"], json!(["like", "celebrate"]));
    let summary = app
        .expect_as(
            &owner.client,
            Method::DELETE,
            &format!("/api/v1/posts/{post_id}/reactions/like"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(
        summary["reactions"][0],
        json!({"reaction": "like", "count": 1})
    );
    assert_eq!(summary["my_reactions"], json!([]));
    expect_error(
        owner
            .client
            .put(app.url(&format!("/api/v1/posts/{post_id}/reactions/angry")))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;

    // Comments, and a reply that quotes the comment it answers.
    let first = app
        .expect_as(
            &owner.client,
            Method::POST,
            &format!("/api/v1/posts/{post_id}/comments"),
            Some(json!({"body": "Ik loop mee!"})),
            StatusCode::CREATED,
        )
        .await?;
    let reply = app
        .expect_as(
            &member.client,
            Method::POST,
            &format!("/api/v1/posts/{post_id}/comments"),
            Some(json!({"body": "Top", "reply_to": id_of(&first)})),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(reply["reply_to"]["excerpt"], "Ik loop mee!");
    assert_eq!(reply["reply_to"]["author"]["id"], owner.id.as_str());
    let other = app
        .expect_as(
            &member.client,
            Method::POST,
            &format!("/api/v1/groups/{group}/posts"),
            Some(json!({"body": "Andere post"})),
            StatusCode::CREATED,
        )
        .await?;
    expect_error(
        member
            .client
            .post(app.url(&format!("/api/v1/posts/{}/comments", id_of(&other))))
            .json(&json!({"body": "x", "reply_to": id_of(&first)}))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let listed = app
        .expect_as(
            &outsider.client,
            Method::GET,
            &format!("/api/v1/posts/{post_id}/comments"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(2));
    let fetched = app
        .expect_as(
            &outsider.client,
            Method::GET,
            &format!("/api/v1/posts/{post_id}"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(fetched["comment_count"], 2);

    // Edits: the author only, marked as edited.
    app.expect_as(
        &owner.client,
        Method::PATCH,
        &format!("/api/v1/posts/{post_id}"),
        Some(json!({"body": "Van mij"})),
        StatusCode::FORBIDDEN,
    )
    .await?;
    let edited = app
        .expect_as(
            &member.client,
            Method::PATCH,
            &format!("/api/v1/posts/{post_id}"),
            Some(json!({"body": "Zaterdag 12 km"})),
            StatusCode::OK,
        )
        .await?;
    assert!(edited["edited_at"].is_string());
    assert_eq!(edited["body"], "Zaterdag 12 km");

    // Deleting: a commented post keeps its place as deleted; one without comments is gone.
    app.expect_as(
        &outsider.client,
        Method::DELETE,
        &format!("/api/v1/posts/{post_id}"),
        None,
        StatusCode::FORBIDDEN,
    )
    .await?;
    app.expect_as(
        &owner.client,
        Method::DELETE,
        &format!("/api/v1/posts/{post_id}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    let kept = app
        .expect_as(
            &member.client,
            Method::GET,
            &format!("/api/v1/posts/{post_id}"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(kept["deleted"], true);
    assert_eq!(kept["body"], "");
    app.expect_as(
        &member.client,
        Method::POST,
        &format!("/api/v1/posts/{post_id}/comments"),
        Some(json!({"body": "Nog één"})),
        StatusCode::CONFLICT,
    )
    .await?;
    app.expect_as(
        &member.client,
        Method::DELETE,
        &format!("/api/v1/posts/{}", id_of(&other)),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    app.expect_as(
        &member.client,
        Method::GET,
        &format!("/api/v1/posts/{}", id_of(&other)),
        None,
        StatusCode::NOT_FOUND,
    )
    .await?;
    let feed = app
        .expect_as(
            &member.client,
            Method::GET,
            &format!("/api/v1/groups/{group}/posts"),
            None,
            StatusCode::OK,
        )
        .await?;
    let ids: Vec<String> = feed["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(id_of)
        .collect();
    assert_eq!(ids, [post_id.as_str()]);

    // Archived groups keep their posts readable and take no new ones.
    app.expect_as(
        &owner.client,
        Method::PATCH,
        &format!("/api/v1/groups/{group}"),
        Some(json!({"archived": true})),
        StatusCode::OK,
    )
    .await?;
    expect_error(
        member
            .client
            .post(app.url(&format!("/api/v1/groups/{group}/posts")))
            .json(&json!({"body": "Nog een"}))
            .send()
            .await?,
        StatusCode::CONFLICT,
        "group_archived",
    )
    .await?;
    app.expect_as(
        &outsider.client,
        Method::GET,
        &format!("/api/v1/groups/{group}/posts"),
        None,
        StatusCode::OK,
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn the_feed_pages_newest_first_and_stays_put_while_posts_arrive() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let owner = app.someone("Olga Owner", "employee").await?;
    let group = id_of(
        &app.expect_as(
            &owner.client,
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": "Fotografie", "kind": "casual", "visibility": "private"})),
            StatusCode::CREATED,
        )
        .await?,
    );
    let mut written = Vec::new();
    for n in 1..=5 {
        let post = app
            .expect_as(
                &owner.client,
                Method::POST,
                &format!("/api/v1/groups/{group}/posts"),
                Some(json!({"body": format!("Foto {n}")})),
                StatusCode::CREATED,
            )
            .await?;
        written.push(id_of(&post));
    }
    let feed = |cursor: Option<String>| {
        let app = &app;
        let owner = &owner;
        let group = group.clone();
        async move {
            let path = match cursor {
                Some(cursor) => format!("/api/v1/groups/{group}/posts?limit=2&cursor={cursor}"),
                None => format!("/api/v1/groups/{group}/posts?limit=2"),
            };
            app.expect_as(&owner.client, Method::GET, &path, None, StatusCode::OK)
                .await
        }
    };
    let mut seen = Vec::new();
    let mut page = feed(None).await?;
    // A post arriving while someone pages does not shift what they see next.
    app.expect_as(
        &owner.client,
        Method::POST,
        &format!("/api/v1/groups/{group}/posts"),
        Some(json!({"body": "Nieuw"})),
        StatusCode::CREATED,
    )
    .await?;
    loop {
        seen.extend(page["items"].as_array().into_iter().flatten().map(id_of));
        match page["next_cursor"].as_str() {
            Some(cursor) => page = feed(Some(cursor.to_owned())).await?,
            None => break,
        }
        assert!(seen.len() <= 5, "the pages do not end: {seen:?}");
    }
    written.reverse();
    assert_eq!(seen, written);

    let too_long = "x".repeat(20_001);
    expect_error(
        owner
            .client
            .post(app.url(&format!("/api/v1/groups/{group}/posts")))
            .json(&json!({"body": too_long}))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    expect_error(
        owner
            .client
            .post(app.url(&format!("/api/v1/groups/{group}/posts")))
            .json(&json!({"body": "   "}))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    expect_error(
        owner
            .client
            .post(app.url(&format!("/api/v1/groups/{group}/posts")))
            .json(&json!({"body": 42}))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await?;
    expect_error(
        owner
            .client
            .get(app.url(&format!("/api/v1/groups/{group}/posts?limit=0")))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    // Someone else's ids: a post id is not a group id.
    app.expect_as(
        &owner.client,
        Method::GET,
        &format!("/api/v1/groups/{}/posts", written[0]),
        None,
        StatusCode::NOT_FOUND,
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn home_profiles_pins_versions_and_retried_posts() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let owner = app.someone("Olga Owner", "employee").await?;
    let member = app.someone("Mira Member", "employee").await?;
    let outsider = app.someone("Otto Outsider", "employee").await?;
    let create_group = |name: &'static str, visibility: &'static str| {
        let app = &app;
        let owner = &owner;
        async move {
            let group = app
                .expect_as(
                    &owner.client,
                    Method::POST,
                    "/api/v1/groups",
                    Some(json!({"name": name, "kind": "casual", "visibility": visibility})),
                    StatusCode::CREATED,
                )
                .await?;
            anyhow::Ok(id_of(&group))
        }
    };
    let public = create_group("Koor", "public").await?;
    let private = create_group("Bestuur", "private").await?;
    let elsewhere = create_group("Schaakclub", "public").await?;
    app.expect_as(
        &member.client,
        Method::POST,
        &format!("/api/v1/groups/{public}/join"),
        None,
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &owner.client,
        Method::POST,
        &format!("/api/v1/groups/{private}/invitations"),
        Some(json!({"person_id": member.id})),
        StatusCode::CREATED,
    )
    .await?;
    app.expect_as(
        &member.client,
        Method::POST,
        &format!("/api/v1/groups/{private}/join"),
        None,
        StatusCode::OK,
    )
    .await?;

    let post = |group: String, body: &'static str| {
        let app = &app;
        let owner = &owner;
        async move {
            let post = app
                .expect_as(
                    &owner.client,
                    Method::POST,
                    &format!("/api/v1/groups/{group}/posts"),
                    Some(json!({"body": body})),
                    StatusCode::CREATED,
                )
                .await?;
            anyhow::Ok(id_of(&post))
        }
    };
    let in_public = post(public.clone(), "Repetitie dinsdag").await?;
    let in_private = post(private.clone(), "Begroting").await?;
    let in_elsewhere = post(elsewhere.clone(), "Toernooi").await?;

    // Home: the groups I am a member of, newest first; not the others.
    let home = app
        .expect_as(
            &member.client,
            Method::GET,
            "/api/v1/feed",
            None,
            StatusCode::OK,
        )
        .await?;
    let ids: Vec<String> = home["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(id_of)
        .collect();
    assert_eq!(ids, [in_private.as_str(), in_public.as_str()]);
    // A profile's posts: what the viewer may read.
    let seen_by_outsider = app
        .expect_as(
            &outsider.client,
            Method::GET,
            &format!("/api/v1/people/{}/posts", owner.id),
            None,
            StatusCode::OK,
        )
        .await?;
    let ids: Vec<String> = seen_by_outsider["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(id_of)
        .collect();
    assert_eq!(ids, [in_elsewhere.as_str(), in_public.as_str()]);
    let seen_by_member = app
        .expect_as(
            &member.client,
            Method::GET,
            &format!("/api/v1/people/{}/posts", owner.id),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(seen_by_member["items"].as_array().map(Vec::len), Some(3));
    app.expect_as(
        &member.client,
        Method::GET,
        &format!("/api/v1/people/{}/posts", uuid::Uuid::now_v7()),
        None,
        StatusCode::NOT_FOUND,
    )
    .await?;

    // Pins: the group's admins, three at most, shown on top of the first page only.
    let mut extra = Vec::new();
    for body in ["Een", "Twee", "Drie"] {
        extra.push(post(public.clone(), body).await?);
    }
    app.expect_as(
        &member.client,
        Method::PUT,
        &format!("/api/v1/posts/{in_public}/pin"),
        None,
        StatusCode::FORBIDDEN,
    )
    .await?;
    for id in [&in_public, &extra[0], &extra[1]] {
        let pinned = app
            .expect_as(
                &owner.client,
                Method::PUT,
                &format!("/api/v1/posts/{id}/pin"),
                None,
                StatusCode::OK,
            )
            .await?;
        assert_eq!(pinned["pinned"], true);
    }
    expect_error(
        owner
            .client
            .put(app.url(&format!("/api/v1/posts/{}/pin", extra[2])))
            .send()
            .await?,
        StatusCode::CONFLICT,
        "too_many_pins",
    )
    .await?;
    let feed = app
        .expect_as(
            &member.client,
            Method::GET,
            &format!("/api/v1/groups/{public}/posts"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(feed["pinned"].as_array().map(Vec::len), Some(3));
    let ids: Vec<String> = feed["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(id_of)
        .collect();
    assert_eq!(
        ids,
        [extra[2].as_str()],
        "pinned posts are not repeated below"
    );
    app.expect_as(
        &owner.client,
        Method::DELETE,
        &format!("/api/v1/posts/{}/pin", extra[0]),
        None,
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &owner.client,
        Method::PUT,
        &format!("/api/v1/posts/{}/pin", extra[2]),
        None,
        StatusCode::OK,
    )
    .await?;

    // Earlier versions: kept on edit and delete, for the group's admins only.
    let mine = app
        .expect_as(
            &member.client,
            Method::POST,
            &format!("/api/v1/groups/{public}/posts"),
            Some(json!({"body": "Eerste versie"})),
            StatusCode::CREATED,
        )
        .await?;
    let mine = id_of(&mine);
    app.expect_as(
        &member.client,
        Method::PATCH,
        &format!("/api/v1/posts/{mine}"),
        Some(json!({"body": "Tweede versie"})),
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &member.client,
        Method::DELETE,
        &format!("/api/v1/posts/{mine}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    app.expect_as(
        &member.client,
        Method::GET,
        &format!("/api/v1/posts/{mine}/versions"),
        None,
        StatusCode::FORBIDDEN,
    )
    .await?;
    let versions = app
        .expect_as(
            &owner.client,
            Method::GET,
            &format!("/api/v1/posts/{mine}/versions"),
            None,
            StatusCode::OK,
        )
        .await?;
    let bodies: Vec<&str> = versions
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["body"].as_str())
        .collect();
    assert_eq!(bodies, ["Eerste versie", "Tweede versie"]);

    // A retried post with the same Idempotency-Key is stored once.
    let send = || {
        owner
            .client
            .post(app.url(&format!("/api/v1/groups/{public}/posts")))
            .header("idempotency-key", "composer-7f3a")
            .json(&json!({"body": "Dubbelklik"}))
            .send()
    };
    let first: Value = send().await?.json().await?;
    let second: Value = send().await?.json().await?;
    assert_eq!(id_of(&first), id_of(&second));
    let feed = app
        .expect_as(
            &owner.client,
            Method::GET,
            &format!("/api/v1/groups/{public}/posts?limit=100"),
            None,
            StatusCode::OK,
        )
        .await?;
    let twice = feed["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|post| post["body"] == "Dubbelklik")
        .count();
    assert_eq!(twice, 1);
    let bad_key = owner
        .client
        .post(app.url(&format!("/api/v1/groups/{public}/posts")))
        .header("idempotency-key", "x".repeat(201))
        .json(&json!({"body": "Lang"}))
        .send()
        .await?;
    expect_error(
        bad_key,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn who_reacted_is_listed_newest_first_and_filtered_by_reaction() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let owner = app.someone("Olga Owner", "employee").await?;
    let anna = app.someone("Anna Bakker", "employee").await?;
    let bram = app.someone("Bram Visser", "employee").await?;
    let group = app
        .expect_as(
            &owner.client,
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": "Koken", "kind": "casual", "visibility": "private"})),
            StatusCode::CREATED,
        )
        .await?;
    let group = id_of(&group);
    app.expect_as(
        &owner.client,
        Method::POST,
        &format!("/api/v1/groups/{group}/invitations"),
        Some(json!({"person_id": anna.id})),
        StatusCode::CREATED,
    )
    .await?;
    app.expect_as(
        &anna.client,
        Method::POST,
        &format!("/api/v1/groups/{group}/join"),
        None,
        StatusCode::OK,
    )
    .await?;
    let post = app
        .expect_as(
            &owner.client,
            Method::POST,
            &format!("/api/v1/groups/{group}/posts"),
            Some(json!({"body": "Recept: stamppot"})),
            StatusCode::CREATED,
        )
        .await?;
    let post = id_of(&post);
    for (who, reaction) in [(&owner, "like"), (&anna, "love"), (&anna, "like")] {
        app.expect_as(
            &who.client,
            Method::PUT,
            &format!("/api/v1/posts/{post}/reactions/{reaction}"),
            None,
            StatusCode::OK,
        )
        .await?;
    }
    let all = app
        .expect_as(
            &owner.client,
            Method::GET,
            &format!("/api/v1/posts/{post}/reactions"),
            None,
            StatusCode::OK,
        )
        .await?;
    let listed: Vec<(String, String)> = all["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    (
                        item["person"]["display_name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        item["reaction"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(listed.len(), 3);
    assert!(listed.contains(&("Anna Bakker".to_owned(), "love".to_owned())));
    let likes = app
        .expect_as(
            &owner.client,
            Method::GET,
            &format!("/api/v1/posts/{post}/reactions?reaction=like&limit=1"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(likes["items"].as_array().map(Vec::len), Some(1));
    let cursor = likes["next_cursor"].as_str().unwrap_or_default().to_owned();
    let rest = app
        .expect_as(
            &owner.client,
            Method::GET,
            &format!("/api/v1/posts/{post}/reactions?reaction=like&limit=1&cursor={cursor}"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(rest["items"][0]["reaction"], "like");
    assert!(rest["next_cursor"].is_null());
    assert_ne!(
        rest["items"][0]["person"]["id"],
        likes["items"][0]["person"]["id"]
    );
    // Not a member of the private group: the post is not there.
    app.expect_as(
        &bram.client,
        Method::GET,
        &format!("/api/v1/posts/{post}/reactions"),
        None,
        StatusCode::NOT_FOUND,
    )
    .await?;
    let error = app
        .expect_as(
            &owner.client,
            Method::GET,
            &format!("/api/v1/posts/{post}/reactions?reaction=meh"),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await?;
    assert_eq!(error["error"]["code"], "invalid_query");
    Ok(())
}

/// Home gathers each group's newest posts; a person in more groups than one statement takes
/// still pages through all of them, newest first, once each.
#[tokio::test]
async fn home_pages_through_many_groups_newest_first() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let owner = app.someone("Olga Owner", "employee").await?;
    let mut written = Vec::new();
    for n in 0..105 {
        let group = id_of(
            &app.expect_as(
                &owner.client,
                Method::POST,
                "/api/v1/groups",
                Some(
                    json!({"name": format!("Club {n}"), "kind": "casual", "visibility": "public"}),
                ),
                StatusCode::CREATED,
            )
            .await?,
        );
        // A few groups have more posts than a page; most have one.
        for m in 0..(if n % 40 == 0 { 9 } else { 1 }) {
            let post = app
                .expect_as(
                    &owner.client,
                    Method::POST,
                    &format!("/api/v1/groups/{group}/posts"),
                    Some(json!({"body": format!("Bericht {n}.{m}")})),
                    StatusCode::CREATED,
                )
                .await?;
            written.push(id_of(&post));
        }
    }
    // Deleted: posts without comments leave (the ten newest among them, more than a page reads
    // ahead), one with a comment keeps its place.
    let mut gone = written.split_off(written.len() - 10);
    gone.push(written.remove(3));
    let kept = written[10].clone();
    app.expect_as(
        &owner.client,
        Method::POST,
        &format!("/api/v1/posts/{kept}/comments"),
        Some(json!({"body": "Blijft staan"})),
        StatusCode::CREATED,
    )
    .await?;
    for post in gone.iter().chain([&kept]) {
        app.expect_as(
            &owner.client,
            Method::DELETE,
            &format!("/api/v1/posts/{post}"),
            None,
            StatusCode::NO_CONTENT,
        )
        .await?;
    }
    let mut seen: Vec<String> = Vec::new();
    let mut deleted = Vec::new();
    let mut path = "/api/v1/feed?limit=7".to_owned();
    loop {
        let page = app
            .expect_as(&owner.client, Method::GET, &path, None, StatusCode::OK)
            .await?;
        for item in page["items"].as_array().into_iter().flatten() {
            seen.push(id_of(item));
            if item["deleted"] == json!(true) {
                deleted.push(id_of(item));
            }
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/feed?limit=7&cursor={cursor}"),
            None => break,
        }
        assert!(seen.len() <= written.len(), "the pages do not end");
    }
    written.reverse();
    assert_eq!(seen, written);
    assert_eq!(deleted, [kept]);
    Ok(())
}

/// Every node keeps each group's newest posts in memory for home feeds: a node that has
/// already answered for a group learns of a post written on another node from the outbox.
#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL=postgres://…"
)]
async fn home_on_one_node_shows_what_was_posted_on_another() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    anyhow::ensure!(app.database.is_postgres(), "this test needs PostgreSQL");
    app.setup_admin().await?;
    let owner = app.someone("Olga Owner", "employee").await?;
    let group = id_of(
        &app.expect_as(
            &owner.client,
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": "Hardlopen", "kind": "casual", "visibility": "public"})),
            StatusCode::CREATED,
        )
        .await?,
    );
    let write = |body: &'static str| {
        let (app, owner, group) = (&app, &owner, group.clone());
        async move {
            app.expect_as(
                &owner.client,
                Method::POST,
                &format!("/api/v1/groups/{group}/posts"),
                Some(json!({ "body": body })),
                StatusCode::CREATED,
            )
            .await
            .map(|post| id_of(&post))
        }
    };
    let other = app.spawn_second_node().await?;
    let home = || async {
        let page: Value = owner
            .client
            .get(other.url("/api/v1/feed"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        anyhow::Ok(
            page["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(id_of)
                .collect::<Vec<_>>(),
        )
    };
    let first = write("Zondag 10 km").await?;
    other.caught_up().await?;
    assert_eq!(home().await?, std::slice::from_ref(&first));
    // Written on the first node after the second has the group in memory.
    let second = write("Dinsdag intervallen").await?;
    other.caught_up().await?;
    assert_eq!(home().await?, [second, first]);
    Ok(())
}
