//! Post search: words of posts and comments, typo-tolerant, only in groups the searcher may read,
//! with counts per group and author, current as posts change.

use plein_tests::{Someone, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn group(
    app: &TestApp,
    owner: &Someone,
    name: &str,
    visibility: &str,
) -> anyhow::Result<String> {
    let group = app
        .expect_as(
            &owner.client,
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": name, "kind": "casual", "visibility": visibility})),
            StatusCode::CREATED,
        )
        .await?;
    Ok(group["id"].as_str().unwrap_or_default().to_owned())
}

async fn post(app: &TestApp, who: &Someone, group: &str, body: &str) -> anyhow::Result<String> {
    let post = app
        .expect_as(
            &who.client,
            Method::POST,
            &format!("/api/v1/groups/{group}/posts"),
            Some(json!({"body": body})),
            StatusCode::CREATED,
        )
        .await?;
    Ok(post["id"].as_str().unwrap_or_default().to_owned())
}

async fn search(app: &TestApp, who: &Someone, query: &[(&str, &str)]) -> anyhow::Result<Value> {
    app.caught_up().await?;
    let response = who
        .client
        .get(app.url("/api/v1/posts/search"))
        .query(query)
        .send()
        .await?;
    anyhow::ensure!(
        response.status() == StatusCode::OK,
        "search: {}",
        response.text().await?
    );
    Ok(response.json().await?)
}

/// (post id, matched comment id or "") of each hit, sorted.
fn hits(results: &Value) -> Vec<(String, String)> {
    let mut hits: Vec<(String, String)> = results["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|hit| {
                    (
                        hit["post"]["id"].as_str().unwrap_or_default().to_owned(),
                        hit["comment"]["id"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    hits.sort();
    hits
}

fn hit(post: &str) -> (String, String) {
    (post.to_owned(), String::new())
}

#[tokio::test]
async fn posts_and_comments_are_found_with_typos_only_where_the_searcher_may_read()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let olga = app.someone("Olga Owner", "employee").await?;
    let mira = app.someone("Mira Member", "employee").await?;
    let otto = app.someone("Otto Outsider", "employee").await?;
    let public = group(&app, &olga, "Fotografie", "public").await?;
    let private = group(&app, &olga, "Borrelcommissie", "private").await?;
    let secret = group(&app, &olga, "Reorganisatie", "secret").await?;
    app.expect_as(
        &mira.client,
        Method::POST,
        &format!("/api/v1/groups/{public}/join"),
        None,
        StatusCode::OK,
    )
    .await?;

    let sunset = post(
        &app,
        &olga,
        &public,
        "Zonsondergang bij het Markermeer, wie gaat er mee fotograferen?",
    )
    .await?;
    let drinks = post(
        &app,
        &olga,
        &private,
        "De borrel bij het Markermeer is vrijdag",
    )
    .await?;
    let plans = post(&app, &olga, &secret, "Plannen voor het Markermeer-kantoor").await?;
    let comment = app
        .expect_as(
            &mira.client,
            Method::POST,
            &format!("/api/v1/posts/{sunset}/comments"),
            Some(json!({"body": "Ik neem mijn statief mee naar het Markermeer"})),
            StatusCode::CREATED,
        )
        .await?;
    let comment_id = comment["id"].as_str().unwrap_or_default().to_owned();

    // Olga reads all three groups; Otto only the public one.
    let found = search(&app, &olga, &[("q", "markermeer")]).await?;
    assert_eq!(hits(&found), {
        let mut expected = vec![
            hit(&sunset),
            hit(&drinks),
            hit(&plans),
            (sunset.clone(), comment_id.clone()),
        ];
        expected.sort();
        expected
    });
    assert_eq!(found["total"], 4);
    let found = search(&app, &otto, &[("q", "markermeer")]).await?;
    assert_eq!(hits(&found), {
        let mut expected = vec![hit(&sunset), (sunset.clone(), comment_id.clone())];
        expected.sort();
        expected
    });
    // Facets never name a group the searcher may not read.
    let group_names: Vec<&str> = found["groups"]
        .as_array()
        .map(|groups| {
            groups
                .iter()
                .filter_map(|group| group["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(group_names, ["Fotografie"]);

    // One typo, and the last word as a prefix.
    assert_eq!(
        hits(&search(&app, &otto, &[("q", "zonsondergnag")]).await?),
        [hit(&sunset)]
    );
    assert_eq!(
        hits(&search(&app, &otto, &[("q", "zonsondergang fotogr")]).await?),
        [hit(&sunset)]
    );
    // A comment hit brings its post and the comment.
    let found = search(&app, &otto, &[("q", "statief")]).await?;
    assert_eq!(
        found["items"][0]["comment"]["author"]["id"],
        mira.id.as_str()
    );
    assert_eq!(found["items"][0]["post"]["id"], sunset.as_str());

    // Group and author filters; the facets count before them.
    let found = search(&app, &olga, &[("q", "markermeer"), ("author", &mira.id)]).await?;
    assert_eq!(hits(&found), [(sunset.clone(), comment_id.clone())]);
    let count_of = |facets: &Value, key: &str, id: &str| {
        facets.as_array().and_then(|values| {
            values
                .iter()
                .find(|value| value[key] == id || value[key]["id"] == id)
                .and_then(|value| value["count"].as_u64())
        })
    };
    assert_eq!(count_of(&found["authors"], "person", &olga.id), Some(3));
    assert_eq!(count_of(&found["groups"], "group_id", &public), Some(2));
    let found = search(&app, &olga, &[("q", "markermeer"), ("group", &private)]).await?;
    assert_eq!(hits(&found), [hit(&drinks)]);

    // Paging.
    let first = search(&app, &olga, &[("q", "markermeer"), ("limit", "3")]).await?;
    let cursor = first["next_cursor"].as_str().unwrap_or_default().to_owned();
    assert!(!cursor.is_empty());
    let second = search(
        &app,
        &olga,
        &[("q", "markermeer"), ("limit", "3"), ("cursor", &cursor)],
    )
    .await?;
    assert_eq!(second["items"].as_array().map(Vec::len), Some(1));
    assert!(second["next_cursor"].is_null());

    // Edits are searched as they are now; deleted posts take their comments with them.
    app.expect_as(
        &olga.client,
        Method::PATCH,
        &format!("/api/v1/posts/{sunset}"),
        Some(json!({"body": "Zonsopkomst bij het IJmeer"})),
        StatusCode::OK,
    )
    .await?;
    assert_eq!(
        hits(&search(&app, &otto, &[("q", "ijmeer")]).await?),
        [hit(&sunset)]
    );
    assert_eq!(
        hits(&search(&app, &otto, &[("q", "zonsondergang")]).await?),
        Vec::<(String, String)>::new()
    );
    app.expect_as(
        &olga.client,
        Method::DELETE,
        &format!("/api/v1/posts/{sunset}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    assert_eq!(
        hits(&search(&app, &otto, &[("q", "statief")]).await?),
        Vec::<(String, String)>::new()
    );

    // A deleted group's posts are gone from search at once (readable groups are decided per
    // search).
    app.expect_as(
        &olga.client,
        Method::DELETE,
        &format!("/api/v1/groups/{secret}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    assert_eq!(
        hits(&search(&app, &olga, &[("q", "kantoor")]).await?),
        Vec::<(String, String)>::new()
    );

    // Bad input.
    let long = "a".repeat(201);
    let response = otto
        .client
        .get(app.url("/api/v1/posts/search"))
        .query(&[("q", long.as_str())])
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let found = search(&app, &otto, &[("q", "' OR 1=1 --  <script>")]).await?;
    assert_eq!(found["total"], 0);
    Ok(())
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL=postgres://…"
)]
async fn a_node_that_starts_later_fills_its_post_index_from_the_tables() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    anyhow::ensure!(app.database.is_postgres(), "this test needs PostgreSQL");
    app.setup_admin().await?;
    let olga = app.someone("Olga Owner", "employee").await?;
    let public = group(&app, &olga, "Fietsen", "public").await?;
    let ride = post(&app, &olga, &public, "Rondje IJsselmeer op zondag").await?;
    let other = app.spawn_second_node().await?;
    let head = plein_server::events::head(&app.handle.state.db).await?;
    assert!(other.handle.state.tailer.wait_for(head).await);
    let found: Value = olga
        .client
        .get(other.url("/api/v1/posts/search"))
        .query(&[("q", "ijsselmeer")])
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(hits(&found), [hit(&ride)]);
    Ok(())
}
