//! In-app notifications: made by the outbox consumer for comments, replies, reactions (one
//! aggregated notification), join requests, approvals and invitations; read, muted, never about
//! what the person may not see; and made once when several nodes run the consumer.

use plein_tests::{Someone, TestApp, expect_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap_or_default().to_owned()
}

/// (kind, actor's name, others) of someone's notifications, newest first, once every event
/// is applied; and their unread count.
async fn told(app: &TestApp, who: &Someone) -> anyhow::Result<(Vec<(String, String, u64)>, u64)> {
    app.caught_up().await?;
    let page = app
        .expect_as(
            &who.client,
            Method::GET,
            "/api/v1/notifications?limit=100",
            None,
            StatusCode::OK,
        )
        .await?;
    let items = page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            (
                item["kind"].as_str().unwrap_or_default().to_owned(),
                item["actor"]["display_name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                item["others"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    Ok((items, page["unread"].as_u64().unwrap_or_default()))
}

fn note(kind: &str, actor: &str, others: u64) -> (String, String, u64) {
    (kind.to_owned(), actor.to_owned(), others)
}

#[tokio::test]
async fn comments_replies_reactions_requests_and_invitations_tell_the_right_people()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Bakker", "employee").await?;
    let bram = app.someone("Bram Visser", "employee").await?;
    let cees = app.someone("Cees Smit", "employee").await?;
    let dirk = app.someone("Dirk Mulder", "employee").await?;
    let eva = app.someone("Eva Bos", "employee").await?;
    let choir = id_of(
        &app.expect_as(
            &anna.client,
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": "Koor", "kind": "casual", "visibility": "public"})),
            StatusCode::CREATED,
        )
        .await?,
    );
    for someone in [&bram, &cees] {
        app.expect_as(
            &someone.client,
            Method::POST,
            &format!("/api/v1/groups/{choir}/join"),
            None,
            StatusCode::OK,
        )
        .await?;
    }
    let post = id_of(
        &app.expect_as(
            &anna.client,
            Method::POST,
            &format!("/api/v1/groups/{choir}/posts"),
            Some(json!({"body": "Repetitie dinsdag"})),
            StatusCode::CREATED,
        )
        .await?,
    );
    let comment = id_of(
        &app.expect_as(
            &bram.client,
            Method::POST,
            &format!("/api/v1/posts/{post}/comments"),
            Some(json!({"body": "Ik kom"})),
            StatusCode::CREATED,
        )
        .await?,
    );
    app.expect_as(
        &cees.client,
        Method::POST,
        &format!("/api/v1/posts/{post}/comments"),
        Some(json!({"body": "Ik ook", "reply_to": comment})),
        StatusCode::CREATED,
    )
    .await?;
    // Reactions: one notification, the latest actor and how many others.
    app.expect_as(
        &bram.client,
        Method::PUT,
        &format!("/api/v1/posts/{post}/reactions/like"),
        None,
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &bram.client,
        Method::PUT,
        &format!("/api/v1/posts/{post}/reactions/love"),
        None,
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &cees.client,
        Method::PUT,
        &format!("/api/v1/posts/{post}/reactions/celebrate"),
        None,
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &anna.client,
        Method::PUT,
        &format!("/api/v1/posts/{post}/reactions/like"),
        None,
        StatusCode::OK,
    )
    .await?;

    let (anna_told, unread) = told(&app, &anna).await?;
    assert_eq!(
        anna_told,
        [
            note("reaction", "Cees Smit", 1),
            note("comment", "Cees Smit", 0),
            note("comment", "Bram Visser", 0),
        ]
    );
    assert_eq!(unread, 3);
    assert_eq!(told(&app, &bram).await?.0, [note("reply", "Cees Smit", 0)]);
    assert!(
        told(&app, &cees).await?.0.is_empty(),
        "nobody is told about their own doing"
    );

    // A private group: the request reaches its owner, the approval the requester; an
    // invitation the invitee.
    let board = id_of(
        &app.expect_as(
            &anna.client,
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": "Bestuur", "kind": "work", "visibility": "private"})),
            StatusCode::CREATED,
        )
        .await?,
    );
    app.expect_as(
        &dirk.client,
        Method::POST,
        &format!("/api/v1/groups/{board}/join"),
        None,
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &anna.client,
        Method::POST,
        &format!("/api/v1/groups/{board}/requests/{}/approve", dirk.id),
        None,
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &anna.client,
        Method::POST,
        &format!("/api/v1/groups/{board}/invitations"),
        Some(json!({"person_id": eva.id})),
        StatusCode::CREATED,
    )
    .await?;
    assert_eq!(
        told(&app, &anna).await?.0[0],
        note("join_request", "Dirk Mulder", 0)
    );
    assert_eq!(
        told(&app, &dirk).await?.0,
        [note("request_approved", "Anna Bakker", 0)]
    );
    assert_eq!(
        told(&app, &eva).await?.0,
        [note("invitation", "Anna Bakker", 0)]
    );
    let page = app
        .expect_as(
            &eva.client,
            Method::GET,
            "/api/v1/notifications",
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(page["items"][0]["group"]["name"], "Bestuur");

    // Marking read: one (only one's own), then all.
    let page = app
        .expect_as(
            &anna.client,
            Method::GET,
            "/api/v1/notifications",
            None,
            StatusCode::OK,
        )
        .await?;
    let first = id_of(&page["items"][0]);
    let unread = app
        .expect_as(
            &eva.client,
            Method::POST,
            "/api/v1/notifications/read",
            Some(json!({"ids": [first]})),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(
        unread["unread"], 1,
        "someone else's ids change nothing of theirs: Eva still has hers"
    );
    let unread = app
        .expect_as(
            &anna.client,
            Method::POST,
            "/api/v1/notifications/read",
            Some(json!({"ids": [first]})),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(unread["unread"], 3);
    let unread = app
        .expect_as(
            &anna.client,
            Method::POST,
            "/api/v1/notifications/read",
            Some(json!({})),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(unread["unread"], 0);
    // A new reaction after reading starts a new notification.
    let fresh = app.someone("Fleur Jansen", "employee").await?;
    app.expect_as(
        &fresh.client,
        Method::POST,
        &format!("/api/v1/groups/{choir}/join"),
        None,
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &fresh.client,
        Method::PUT,
        &format!("/api/v1/posts/{post}/reactions/sad"),
        None,
        StatusCode::OK,
    )
    .await?;
    let (anna_told, unread) = told(&app, &anna).await?;
    assert_eq!(anna_told[0], note("reaction", "Fleur Jansen", 2));
    assert_eq!(unread, 1);

    // Muting a group silences its posts.
    app.expect_as(
        &anna.client,
        Method::PUT,
        &format!("/api/v1/groups/{choir}/mute"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    app.expect_as(
        &bram.client,
        Method::POST,
        &format!("/api/v1/posts/{post}/comments"),
        Some(json!({"body": "Nog iets"})),
        StatusCode::CREATED,
    )
    .await?;
    assert_eq!(told(&app, &anna).await?.1, 1);
    app.expect_as(
        &anna.client,
        Method::DELETE,
        &format!("/api/v1/groups/{choir}/mute"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    app.expect_as(
        &bram.client,
        Method::POST,
        &format!("/api/v1/posts/{post}/comments"),
        Some(json!({"body": "En nog"})),
        StatusCode::CREATED,
    )
    .await?;
    assert_eq!(told(&app, &anna).await?.1, 2);

    let too_many: Vec<String> = (0..501).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    expect_error(
        anna.client
            .post(app.url("/api/v1/notifications/read"))
            .json(&json!({"ids": too_many}))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn nobody_is_told_about_what_they_may_not_see() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Bakker", "employee").await?;
    let bram = app.someone("Bram Visser", "employee").await?;
    let secret = id_of(
        &app.expect_as(
            &anna.client,
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": "Reorganisatie", "kind": "work", "visibility": "secret"})),
            StatusCode::CREATED,
        )
        .await?,
    );
    app.expect_as(
        &anna.client,
        Method::POST,
        &format!("/api/v1/groups/{secret}/invitations"),
        Some(json!({"person_id": bram.id})),
        StatusCode::CREATED,
    )
    .await?;
    app.expect_as(
        &bram.client,
        Method::POST,
        &format!("/api/v1/groups/{secret}/join"),
        None,
        StatusCode::OK,
    )
    .await?;
    let post = id_of(
        &app.expect_as(
            &bram.client,
            Method::POST,
            &format!("/api/v1/groups/{secret}/posts"),
            Some(json!({"body": "Plan"})),
            StatusCode::CREATED,
        )
        .await?,
    );
    // Bram leaves; a comment on his post afterwards is not for him, and what he was told
    // about the group (the invitation) is no longer shown.
    app.expect_as(
        &bram.client,
        Method::POST,
        &format!("/api/v1/groups/{secret}/leave"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    app.expect_as(
        &anna.client,
        Method::POST,
        &format!("/api/v1/posts/{post}/comments"),
        Some(json!({"body": "Dank"})),
        StatusCode::CREATED,
    )
    .await?;
    let (bram_told, _) = told(&app, &bram).await?;
    assert!(bram_told.is_empty(), "{bram_told:?}");
    let page = app
        .expect_as(
            &bram.client,
            Method::GET,
            "/api/v1/notifications",
            None,
            StatusCode::OK,
        )
        .await?;
    assert!(!page.to_string().contains("Reorganisatie"));
    Ok(())
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL=postgres://…"
)]
async fn two_nodes_make_each_notification_once() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    anyhow::ensure!(app.database.is_postgres(), "this test needs PostgreSQL");
    app.setup_admin().await?;
    let second = app.spawn_second_node().await?;
    let anna = app.someone("Anna Bakker", "employee").await?;
    let mut others = Vec::new();
    for n in 0..6 {
        others.push(app.someone(&format!("Lid {n}"), "employee").await?);
    }
    let group = id_of(
        &app.expect_as(
            &anna.client,
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": "Koor", "kind": "casual", "visibility": "public"})),
            StatusCode::CREATED,
        )
        .await?,
    );
    let post = id_of(
        &app.expect_as(
            &anna.client,
            Method::POST,
            &format!("/api/v1/groups/{group}/posts"),
            Some(json!({"body": "Wie komt?"})),
            StatusCode::CREATED,
        )
        .await?,
    );
    let reactions = ["like", "love", "laugh", "celebrate", "insightful", "sad"];
    for (someone, reaction) in others.iter().zip(reactions) {
        // Anna's reaction to her own post makes no notification: batches of only such events
        // leave the shared cursor alone, and must not make either node skip or repeat the
        // comments around them.
        app.expect_as(
            &anna.client,
            Method::PUT,
            &format!("/api/v1/posts/{post}/reactions/{reaction}"),
            None,
            StatusCode::OK,
        )
        .await?;
        app.expect_as(
            &someone.client,
            Method::POST,
            &format!("/api/v1/groups/{group}/join"),
            None,
            StatusCode::OK,
        )
        .await?;
        app.expect_as(
            &someone.client,
            Method::POST,
            &format!("/api/v1/posts/{post}/comments"),
            Some(json!({"body": "Ik"})),
            StatusCode::CREATED,
        )
        .await?;
    }
    // Both nodes have applied everything; each comment made one notification.
    let head = plein_server::events::head(&app.handle.state.db).await?;
    for tailer in [&app.handle.state.tailer, &second.handle.state.tailer] {
        let done =
            tokio::time::timeout(std::time::Duration::from_secs(60), tailer.wait_for(head)).await?;
        anyhow::ensure!(done, "a tailer stopped");
    }
    let (anna_told, unread) = told(&app, &anna).await?;
    assert_eq!(anna_told.len(), 6, "{anna_told:?}");
    assert_eq!(unread, 6);
    Ok(())
}

#[tokio::test]
async fn mentions_link_to_profiles_and_tell_only_who_may_read_them() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Bakker", "employee").await?;
    let bram = app.someone("Bram Visser", "employee").await?;
    let dirk = app.someone("Dirk Mulder", "employee").await?;
    let choir = id_of(
        &app.expect_as(
            &anna.client,
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": "Koor", "kind": "casual", "visibility": "public"})),
            StatusCode::CREATED,
        )
        .await?,
    );
    let secret = id_of(
        &app.expect_as(
            &anna.client,
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": "Geheim", "kind": "work", "visibility": "secret"})),
            StatusCode::CREATED,
        )
        .await?,
    );
    let post = app
        .expect_as(
            &anna.client,
            Method::POST,
            &format!("/api/v1/groups/{choir}/posts"),
            Some(json!({"body": format!("Welkom <@{}> en <@{}>!", bram.id, dirk.id)})),
            StatusCode::CREATED,
        )
        .await?;
    let html = post["body_html"].as_str().unwrap_or_default();
    assert!(
        html.contains(&format!("<a href=\"/people/{}\"", bram.id))
            && html.contains("@Bram Visser</a>"),
        "{html}"
    );
    // Dirk is not a member, but anyone reads a public group: both are told.
    assert_eq!(
        told(&app, &bram).await?.0,
        [note("mention", "Anna Bakker", 0)]
    );
    assert_eq!(
        told(&app, &dirk).await?.0,
        [note("mention", "Anna Bakker", 0)]
    );
    // In a secret group a mention of an outsider tells them nothing.
    app.expect_as(
        &anna.client,
        Method::POST,
        &format!("/api/v1/groups/{secret}/posts"),
        Some(json!({"body": format!("Niet voor <@{}>", dirk.id)})),
        StatusCode::CREATED,
    )
    .await?;
    assert_eq!(told(&app, &dirk).await?.0.len(), 1);
    // A reply that also mentions the author of the comment it answers tells them once.
    let post_id = id_of(&post);
    app.expect_as(
        &bram.client,
        Method::POST,
        &format!("/api/v1/groups/{choir}/join"),
        None,
        StatusCode::OK,
    )
    .await?;
    let comment = id_of(
        &app.expect_as(
            &bram.client,
            Method::POST,
            &format!("/api/v1/posts/{post_id}/comments"),
            Some(json!({"body": "Dank!"})),
            StatusCode::CREATED,
        )
        .await?,
    );
    app.expect_as(
        &dirk.client,
        Method::POST,
        &format!("/api/v1/groups/{choir}/join"),
        None,
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &dirk.client,
        Method::POST,
        &format!("/api/v1/posts/{post_id}/comments"),
        Some(json!({"body": format!("Ja <@{}>", bram.id), "reply_to": comment})),
        StatusCode::CREATED,
    )
    .await?;
    assert_eq!(
        told(&app, &bram).await?.0[0],
        note("reply", "Dirk Mulder", 0)
    );
    assert_eq!(told(&app, &bram).await?.0.len(), 2);
    // Someone unknown cannot be mentioned; nothing is stored.
    let unknown = uuid::Uuid::now_v7();
    expect_error(
        anna.client
            .post(app.url(&format!("/api/v1/groups/{choir}/posts")))
            .json(&json!({"body": format!("Hoi <@{unknown}>")}))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let feed = app
        .expect_as(
            &anna.client,
            Method::GET,
            &format!("/api/v1/groups/{choir}/posts"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(feed["items"].as_array().map(Vec::len), Some(1));
    Ok(())
}
