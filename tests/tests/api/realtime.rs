//! The live socket over real websockets against a spawned server: who may open one, what
//! reaches whom, resuming without loss or duplicates, `resync`, closing on logout and
//! deactivation, slow consumers, bad frames, and (on PostgreSQL) a second node.

use plein_tests::socket::{self, Socket};
use plein_tests::{Someone, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap_or_default().to_owned()
}

async fn say(
    app: &TestApp,
    who: &Someone,
    conversation: &str,
    body: &str,
) -> anyhow::Result<Value> {
    app.expect_as(
        &who.client,
        Method::POST,
        &format!("/api/v1/conversations/{conversation}/messages"),
        Some(json!({"body": body, "client_id": uuid::Uuid::new_v4().to_string()})),
        StatusCode::CREATED,
    )
    .await
}

/// A live socket for `who`, opened once the node has delivered everything so far (so earlier
/// events do not arrive on it).
async fn live(app: &TestApp, who: &Someone) -> anyhow::Result<(Socket, i64)> {
    app.caught_up().await?;
    let mut socket = socket::open(&app.address, &who.cookie, None).await?;
    let hello = socket.expect("hello").await?;
    assert_eq!(hello["person_id"], who.id.as_str());
    assert_eq!(hello["resumed"], false);
    Ok((socket, hello["seq"].as_i64().unwrap_or_default()))
}

#[tokio::test]
async fn only_a_signed_in_person_from_our_own_origin_opens_a_socket() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Aarts", "employee").await?;
    let anonymous = socket::connect(&app.address, "", None, None).await?;
    let refused = anonymous.err().map(|refused| refused.status);
    assert_eq!(refused, Some(401));
    let foreign = socket::connect(
        &app.address,
        &anna.cookie,
        None,
        Some("https://evil.example"),
    )
    .await?
    .err();
    assert_eq!(foreign.as_ref().map(|refused| refused.status), Some(403));
    assert_eq!(
        foreign.map(|refused| refused.body["error"]["code"].clone()),
        Some(json!("cross_origin_refused"))
    );
    let negative = socket::connect(&app.address, &anna.cookie, Some(-1), None)
        .await?
        .err()
        .map(|refused| refused.status);
    assert_eq!(negative, Some(422));
    let (socket, _) = live(&app, &anna).await?;
    socket.close().await?;
    // A client without cookies sends the session as a bearer token (no `Origin`: not a
    // browser).
    let secret = anna
        .cookie
        .split_once('=')
        .map(|(_, secret)| secret.to_owned())
        .unwrap_or_default();
    let mut bearer = match socket::connect_with(
        &app.address,
        None,
        &[("authorization", format!("Bearer {secret}"))],
    )
    .await?
    {
        Ok(socket) => socket,
        Err(refused) => anyhow::bail!("refused: {refused:?}"),
    };
    assert_eq!(bearer.expect("hello").await?["person_id"], anna.id.as_str());
    let wrong = socket::connect_with(
        &app.address,
        None,
        &[("authorization", "Bearer not-a-session".to_owned())],
    )
    .await?
    .err()
    .map(|refused| refused.status);
    assert_eq!(wrong, Some(401));
    Ok(())
}

#[tokio::test]
async fn a_message_reaches_its_conversation_and_no_one_else() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Aarts", "employee").await?;
    let bram = app.someone("Bram Bos", "employee").await?;
    let carla = app.someone("Carla Claes", "employee").await?;
    let conversation = app.conversation(&anna, &[&bram]).await?;
    let carla_with_anna = app.conversation(&carla, &[&anna]).await?;
    let (mut bram_socket, _) = live(&app, &bram).await?;
    let (mut anna_socket, _) = live(&app, &anna).await?;
    let (mut carla_socket, _) = live(&app, &carla).await?;

    let sent = say(&app, &anna, &conversation, "Koffie?").await?;
    let frame = bram_socket.expect("message.created").await?;
    assert_eq!(frame["message"]["id"], id_of(&sent).as_str());
    assert_eq!(frame["message"]["conversation_id"], conversation.as_str());
    assert_eq!(frame["message"]["author_id"], anna.id.as_str());
    assert_eq!(frame["message"]["body"], "Koffie?");
    assert_eq!(frame["message"]["client_id"], sent["client_id"]);
    assert!(frame["seq"].as_i64().is_some_and(|seq| seq > 0), "{frame}");
    // The sender's own tabs hear it too.
    let own = anna_socket.expect("message.created").await?;
    assert_eq!(own["seq"], frame["seq"]);

    // Carla hears nothing of it: the first frame she gets is her own conversation's.
    let hers = say(&app, &anna, &carla_with_anna, "Hoi Carla").await?;
    let first = carla_socket.expect("message.created").await?;
    assert_eq!(first["message"]["id"], id_of(&hers).as_str());

    // Read markers and reactions travel too.
    app.expect_as(
        &bram.client,
        Method::POST,
        &format!("/api/v1/conversations/{conversation}/read"),
        Some(json!({"message_id": id_of(&sent)})),
        StatusCode::OK,
    )
    .await?;
    let _ = anna_socket.expect("message.created").await?; // to Carla
    let read = anna_socket.expect("conversation.read").await?;
    assert_eq!(read["person_id"], bram.id.as_str());
    assert_eq!(read["message_id"], id_of(&sent).as_str());
    app.expect_as(
        &bram.client,
        Method::PUT,
        &format!("/api/v1/messages/{}/reactions/love", id_of(&sent)),
        None,
        StatusCode::OK,
    )
    .await?;
    let reaction = anna_socket.expect("message.reaction_changed").await?;
    assert_eq!(reaction["reaction"], "love");
    assert_eq!(reaction["on"], true);
    Ok(())
}

#[tokio::test]
async fn group_events_reach_members_and_stop_at_once_when_they_leave() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let owner = app.someone("Olga Owner", "employee").await?;
    let member = app.someone("Mira Member", "employee").await?;
    let group = id_of(
        &app.expect_as(
            &owner.client,
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": "Geheim project", "kind": "work", "visibility": "secret"})),
            StatusCode::CREATED,
        )
        .await?,
    );
    let (mut socket, _) = live(&app, &member).await?;
    // Invited, then in: the group's events start.
    app.expect_as(
        &owner.client,
        Method::POST,
        &format!("/api/v1/groups/{group}/invitations"),
        Some(json!({"person_id": member.id})),
        StatusCode::CREATED,
    )
    .await?;
    let invited = socket.expect("membership.changed").await?;
    assert_eq!(invited["state"], "invited");
    // The invitation is a notification too.
    let badge = socket.expect("notifications.changed").await?;
    assert_eq!(badge["unread"], 1);
    app.expect_as(
        &member.client,
        Method::POST,
        &format!("/api/v1/groups/{group}/join"),
        None,
        StatusCode::OK,
    )
    .await?;
    let joined = socket.expect("membership.changed").await?;
    assert_eq!(joined["state"], "member");
    let post = app
        .expect_as(
            &owner.client,
            Method::POST,
            &format!("/api/v1/groups/{group}/posts"),
            Some(json!({"body": "Eerste stap"})),
            StatusCode::CREATED,
        )
        .await?;
    let created = socket.expect("post.created").await?;
    assert_eq!(created["post_id"], id_of(&post).as_str());
    assert_eq!(created["group_id"], group.as_str());

    // Out again: the next post is not theirs to hear; a direct message is.
    app.expect_as(
        &member.client,
        Method::POST,
        &format!("/api/v1/groups/{group}/leave"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    let left = socket.expect("membership.changed").await?;
    assert_eq!(left["state"], Value::Null);
    app.expect_as(
        &owner.client,
        Method::POST,
        &format!("/api/v1/groups/{group}/posts"),
        Some(json!({"body": "Tweede stap, zonder Mira"})),
        StatusCode::CREATED,
    )
    .await?;
    let conversation = app.conversation(&owner, &[&member]).await?;
    let started = socket.expect("conversation.changed").await?;
    assert_eq!(started["conversation_id"], conversation.as_str());
    let hello = say(&app, &owner, &conversation, "Jammer dat je weg bent").await?;
    let next = socket.expect("message.created").await?;
    assert_eq!(next["message"]["id"], id_of(&hello).as_str());
    Ok(())
}

#[tokio::test]
async fn a_socket_resumes_with_everything_missed_in_order_and_nothing_twice() -> anyhow::Result<()>
{
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Aarts", "employee").await?;
    let bram = app.someone("Bram Bos", "employee").await?;
    let conversation = app.conversation(&anna, &[&bram]).await?;
    let (mut socket, _) = live(&app, &bram).await?;
    say(&app, &anna, &conversation, "een").await?;
    let seen = socket.expect("message.created").await?;
    let last_seq = seen["seq"].as_i64().unwrap_or_default();
    socket.close().await?;

    let mut missed = Vec::new();
    for word in ["twee", "drie", "vier"] {
        missed.push(id_of(&say(&app, &anna, &conversation, word).await?));
    }
    app.caught_up().await?;
    let mut socket = socket::open(&app.address, &bram.cookie, Some(last_seq)).await?;
    let mut replayed = Vec::new();
    let hello = loop {
        let frame = socket.next().await?;
        if frame["type"] == "hello" {
            break frame;
        }
        assert_eq!(frame["type"], "message.created", "{frame}");
        replayed.push(
            frame["message"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    };
    assert_eq!(replayed, missed, "in order, each once, nothing older");
    assert_eq!(hello["resumed"], true);
    // Live again, from exactly where the replay stopped.
    let after = say(&app, &anna, &conversation, "vijf").await?;
    let next = socket.expect("message.created").await?;
    assert_eq!(next["message"]["id"], id_of(&after).as_str());
    Ok(())
}

#[tokio::test]
async fn a_position_that_cannot_be_replayed_is_answered_with_resync() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Aarts", "employee").await?;
    let mut future = socket::open(&app.address, &anna.cookie, Some(1_000_000_000)).await?;
    let frame = future.expect("resync").await?;
    assert!(
        frame["reason"]
            .as_str()
            .is_some_and(|reason| !reason.is_empty())
    );
    let seq = frame["seq"].as_i64().unwrap_or(-1);
    assert!(seq >= 0, "{frame}");

    // Events pruned past the position: resync too.
    let bram = app.someone("Bram Bos", "employee").await?;
    let conversation = app.conversation(&anna, &[&bram]).await?;
    say(&app, &anna, &conversation, "oud nieuws").await?;
    app.caught_up().await?;
    let head = plein_server::events::head(&app.handle.state.db).await?;
    plein_server::events::prune(
        &app.handle.state.db,
        chrono::Utc::now() + chrono::Duration::hours(1),
    )
    .await?;
    let mut pruned = socket::open(&app.address, &anna.cookie, Some(head.seq - 1)).await?;
    pruned.expect("resync").await?;
    Ok(())
}

#[tokio::test]
async fn logout_and_deactivation_close_open_sockets_at_once() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Aarts", "employee").await?;
    let (mut socket, _) = live(&app, &anna).await?;
    // A second tab of another session stays open when this one logs out.
    let (second_client, second_cookie) = app
        .login_session("anna.aarts@plein.example", plein_tests::PERSON_PASSWORD)
        .await?;
    let mut other_tab = socket::open(&app.address, &second_cookie, None).await?;
    other_tab.expect("hello").await?;
    app.expect_as(
        &anna.client,
        Method::POST,
        "/api/v1/auth/logout",
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    let (code, _) = socket.closed().await?;
    assert_eq!(code, 4001);

    // Deactivation (by an admin, or through SCIM) closes every one of their sockets.
    let admin_id = app.get_json("/api/v1/me").await?["id"].clone();
    assert!(admin_id.is_string());
    app.expect_as(
        &app.client,
        Method::POST,
        &format!("/api/v1/admin/people/{}/deactivate", anna.id),
        None,
        StatusCode::OK,
    )
    .await?;
    let (code, _) = other_tab.closed().await?;
    assert_eq!(code, 4001);
    // Nor does a new one open.
    let again = socket::connect(&app.address, &second_cookie, None, None)
        .await?
        .err()
        .map(|refused| refused.status);
    assert_eq!(again, Some(401));
    drop(second_client);
    Ok(())
}

#[tokio::test]
async fn a_consumer_that_falls_behind_is_closed_and_others_are_not() -> anyhow::Result<()> {
    let app = TestApp::spawn_with(|raw| raw.ws_send_queue = 2).await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Aarts", "employee").await?;
    let bram = app.someone("Bram Bos", "employee").await?;
    let conversation = app.conversation(&anna, &[&bram]).await?;
    // A registration whose queue nobody reads: it fills after two frames.
    let hub = app.handle.state.hub.clone();
    let bram_id: uuid::Uuid = bram.id.parse()?;
    let (stalled, _queue, _) = hub.register(bram_id, uuid::Uuid::now_v7());
    let (mut reader, _) = live(&app, &bram).await?;
    let mut sent = Vec::new();
    for n in 0..4 {
        sent.push(id_of(
            &say(&app, &anna, &conversation, &format!("bericht {n}")).await?,
        ));
        let frame = reader.expect("message.created").await?;
        assert_eq!(frame["message"]["id"], sent[n].as_str());
    }
    assert!(stalled.connection.closed().is_cancelled());
    assert_eq!(
        stalled.connection.reason().map(|(code, _)| code),
        Some(4008)
    );
    Ok(())
}

#[tokio::test]
async fn bad_frames_get_error_frames_or_close_codes_never_a_crash() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Aarts", "employee").await?;
    let (mut socket, _) = live(&app, &anna).await?;
    socket.send_text(r#"{"type":"ping"}"#).await?;
    socket.expect("pong").await?;
    for (raw, code) in [
        ("not json", "malformed_frame"),
        (r#"{"no":"type"}"#, "malformed_frame"),
        (
            r#"{"type":"message.created","message":{}}"#,
            "unknown_frame",
        ),
        (
            r#"{"type":"subscribe","conversation_id":"00000000-0000-0000-0000-000000000000"}"#,
            "unknown_frame",
        ),
    ] {
        socket.send_text(raw).await?;
        let error = socket.expect("error").await?;
        assert_eq!(error["code"], code, "{raw}");
    }
    // Oversized: closed with 1009.
    socket
        .send_text(&format!(
            "{{\"type\":\"ping\",\"x\":\"{}\"}}",
            "a".repeat(70_000)
        ))
        .await?;
    let (code, _) = socket.closed().await?;
    assert_eq!(code, 1009);
    // Binary: closed with 1003.
    let (mut socket, _) = live(&app, &anna).await?;
    socket.send_binary(vec![0, 159, 146, 150]).await?;
    let (code, _) = socket.closed().await?;
    assert_eq!(code, 1003);
    // A flood is refused frame by frame, then closed.
    let (mut socket, _) = live(&app, &anna).await?;
    for _ in 0..150 {
        socket.send_text(r#"{"type":"ping"}"#).await?;
    }
    let (code, frames) = socket.closed().await?;
    assert_eq!(code, 1008);
    assert!(
        frames.iter().any(|frame| frame["code"] == "rate_limited"),
        "{frames:?}"
    );
    // The server is fine.
    let (socket, _) = live(&app, &anna).await?;
    socket.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_message_sent_on_one_node_arrives_on_a_socket_on_another() -> anyhow::Result<()> {
    let Some(two) = TwoNodes::start().await? else {
        return Ok(());
    };
    let (app, anna, conversation) = (&two.app, &two.anna, &two.conversation);
    let mut socket = two.bram_on_second_node().await?;
    let sent = say(app, anna, conversation, "Via het andere knooppunt").await?;
    let frame = socket.expect("message.created").await?;
    assert_eq!(frame["message"]["id"], id_of(&sent).as_str());
    Ok(())
}

#[tokio::test]
async fn the_notification_badge_is_live_on_every_tab() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Aarts", "employee").await?;
    let bram = app.someone("Bram Bos", "employee").await?;
    let carla = app.someone("Carla Claes", "employee").await?;
    let team = app.conversation(&anna, &[&bram, &carla]).await?;
    let (mut tab, _) = live(&app, &bram).await?;
    let (_, second_cookie) = app
        .login_session("bram.bos@plein.example", plein_tests::PERSON_PASSWORD)
        .await?;
    let mut other_tab = socket::open(&app.address, &second_cookie, None).await?;
    other_tab.expect("hello").await?;

    // A mention in a message is a notification, and the badge says so at once.
    let sent = say(
        &app,
        &anna,
        &team,
        &format!("<@{}> kun jij dit oppakken?", bram.id),
    )
    .await?;
    let message = tab.expect("message.created").await?;
    assert_eq!(message["message"]["id"], id_of(&sent).as_str());
    let changed = tab.expect("notifications.changed").await?;
    assert_eq!(changed["unread"], 1);
    let listed = app
        .expect_as(
            &bram.client,
            Method::GET,
            "/api/v1/notifications",
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(listed["items"][0]["kind"], "message_mention");
    assert_eq!(listed["items"][0]["conversation_id"], team.as_str());
    assert_eq!(listed["items"][0]["message_id"], id_of(&sent).as_str());
    // Read on one tab, cleared on the other.
    other_tab.expect("message.created").await?;
    other_tab.expect("notifications.changed").await?;
    app.expect_as(
        &bram.client,
        Method::POST,
        "/api/v1/notifications/read",
        Some(json!({})),
        StatusCode::OK,
    )
    .await?;
    let cleared = other_tab.expect("notifications.changed").await?;
    assert_eq!(cleared["unread"], 0);
    // Carla was not mentioned: her first frame is the message itself, no badge.
    let (mut carla_socket, _) = live(&app, &carla).await?;
    say(&app, &anna, &team, "Dank je").await?;
    carla_socket.expect("message.created").await?;
    Ok(())
}

#[tokio::test]
async fn typing_reaches_the_others_in_the_conversation_only() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Aarts", "employee").await?;
    let bram = app.someone("Bram Bos", "employee").await?;
    let carla = app.someone("Carla Claes", "employee").await?;
    let conversation = app.conversation(&anna, &[&bram]).await?;
    let theirs = app.conversation(&bram, &[&carla]).await?;
    let (mut anna_socket, _) = live(&app, &anna).await?;
    let (mut bram_socket, _) = live(&app, &bram).await?;
    anna_socket
        .send_text(&json!({"type": "typing", "conversation_id": conversation}).to_string())
        .await?;
    let typing = bram_socket.expect("typing").await?;
    assert_eq!(typing["conversation_id"], conversation.as_str());
    assert_eq!(typing["person_id"], anna.id.as_str());
    assert!(
        typing.get("seq").is_none(),
        "typing is not an event: {typing}"
    );
    // Someone else's conversation: refused, and nobody hears of it.
    anna_socket
        .send_text(&json!({"type": "typing", "conversation_id": theirs}).to_string())
        .await?;
    let refused = anna_socket.expect("error").await?;
    assert_eq!(refused["code"], "not_in_conversation");
    // A flood of typing is passed on once.
    for _ in 0..5 {
        bram_socket
            .send_text(&json!({"type": "typing", "conversation_id": conversation}).to_string())
            .await?;
    }
    anna_socket.expect("typing").await?;
    say(&app, &bram, &conversation, "klaar met typen").await?;
    let next = anna_socket.expect("message.created").await?;
    assert_eq!(next["message"]["body"], "klaar met typen");
    Ok(())
}

#[tokio::test]
async fn presence_follows_tabs_online_away_and_offline_with_last_seen() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Aarts", "employee").await?;
    let carla = app.someone("Carla Claes", "employee").await?;
    let (mut watcher, _) = live(&app, &carla).await?;
    watcher
        .send_text(&json!({"type": "presence.watch", "person_ids": [anna.id]}).to_string())
        .await?;
    let first = watcher.expect("presence").await?;
    assert_eq!(first["person_id"], anna.id.as_str());
    assert_eq!(first["state"], "offline");
    let (mut tab, _) = live(&app, &anna).await?;
    let online = watcher.expect("presence").await?;
    assert_eq!(online["state"], "online");
    assert_eq!(online["last_seen"], Value::Null);
    tab.send_text(r#"{"type":"presence","state":"away"}"#)
        .await?;
    assert_eq!(watcher.expect("presence").await?["state"], "away");
    // A second tab that is in use makes her online again; closing both, offline.
    let (second, _) = live(&app, &anna).await?;
    assert_eq!(watcher.expect("presence").await?["state"], "online");
    second.close().await?;
    assert_eq!(watcher.expect("presence").await?["state"], "away");
    tab.close().await?;
    let offline = watcher.expect("presence").await?;
    assert_eq!(offline["state"], "offline");
    assert!(offline["last_seen"].is_string(), "{offline}");
    watcher
        .send_text(
            &json!({"type": "presence.watch", "person_ids": vec![anna.id.clone(); 501]})
                .to_string(),
        )
        .await?;
    assert_eq!(watcher.expect("error").await?["code"], "too_many_watched");
    Ok(())
}

#[tokio::test]
async fn typing_and_presence_cross_nodes() -> anyhow::Result<()> {
    let Some(two) = TwoNodes::start().await? else {
        return Ok(());
    };
    let (app, anna, conversation) = (&two.app, &two.anna, &two.conversation);
    let mut on_b = two.bram_on_second_node().await?;
    on_b.send_text(&json!({"type": "presence.watch", "person_ids": [anna.id]}).to_string())
        .await?;
    assert_eq!(on_b.expect("presence").await?["state"], "offline");
    let (mut on_a, _) = live(app, anna).await?;
    assert_eq!(on_b.expect("presence").await?["state"], "online");
    on_a.send_text(&json!({"type": "typing", "conversation_id": conversation}).to_string())
        .await?;
    let typing = on_b.expect("typing").await?;
    assert_eq!(typing["person_id"], anna.id.as_str());
    on_a.close().await?;
    let offline = on_b.expect("presence").await?;
    assert_eq!(offline["state"], "offline");
    Ok(())
}

/// Anna and Bram in a direct conversation, on PostgreSQL with a second node (none on SQLite).
struct TwoNodes {
    app: TestApp,
    node: plein_tests::TestNode,
    anna: Someone,
    bram: Someone,
    conversation: String,
}

impl TwoNodes {
    async fn start() -> anyhow::Result<Option<TwoNodes>> {
        let app = TestApp::spawn().await?;
        if !app.database.is_postgres() {
            return Ok(None);
        }
        app.setup_admin().await?;
        let anna = app.someone("Anna Aarts", "employee").await?;
        let bram = app.someone("Bram Bos", "employee").await?;
        let conversation = app.conversation(&anna, &[&bram]).await?;
        let node = app.spawn_second_node().await?;
        node.caught_up().await?;
        app.caught_up().await?;
        Ok(Some(TwoNodes {
            app,
            node,
            anna,
            bram,
            conversation,
        }))
    }

    /// Bram's socket on the second node, reached (as browsers do) under the public origin.
    async fn bram_on_second_node(&self) -> anyhow::Result<Socket> {
        let origin = Some(self.app.address.as_str());
        let mut socket =
            match socket::connect(&self.node.address, &self.bram.cookie, None, origin).await? {
                Ok(socket) => socket,
                Err(refused) => anyhow::bail!("refused: {refused:?}"),
            };
        socket.expect("hello").await?;
        Ok(socket)
    }
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL=postgres://…"
)]
async fn a_node_killed_mid_stream_loses_nothing_its_clients_resume_on_the_other()
-> anyhow::Result<()> {
    const MESSAGES: usize = 60;
    let app = TestApp::spawn().await?;
    anyhow::ensure!(app.database.is_postgres(), "this test needs PostgreSQL");
    app.setup_admin().await?;
    let anna = app.someone("Anna Aarts", "employee").await?;
    let bram = app.someone("Bram Bos", "employee").await?;
    let conversation = app.conversation(&anna, &[&bram]).await?;
    app.caught_up().await?;

    // Bram is on a node of its own process; Anna writes through the other one, on and on.
    let mut doomed = plein_tests::process::NodeProcess::start(&app).await?;
    let origin = Some(app.address.as_str());
    let mut socket = match socket::connect(&doomed.address, &bram.cookie, None, origin).await? {
        Ok(socket) => socket,
        Err(refused) => anyhow::bail!("refused: {refused:?}"),
    };
    let mut last_seq = socket.expect("hello").await?["seq"]
        .as_i64()
        .unwrap_or_default();
    let writer = {
        let (client, url) = (
            anna.client.clone(),
            app.url(&format!("/api/v1/conversations/{conversation}/messages")),
        );
        tokio::spawn(async move {
            let mut sent = Vec::with_capacity(MESSAGES);
            for n in 0..MESSAGES {
                let response = client
                    .post(&url)
                    .json(&json!({"body": format!("Bericht {n}"), "client_id": format!("stream-{n}")}))
                    .send()
                    .await?;
                anyhow::ensure!(response.status() == StatusCode::CREATED, "send {n} failed");
                let message: Value = response.json().await?;
                sent.push(id_of(&message));
            }
            anyhow::Ok(sent)
        })
    };
    let mut received: Vec<String> = Vec::new();
    let take = |frame: &Value, received: &mut Vec<String>, last_seq: &mut i64| {
        if let Some(seq) = frame["seq"].as_i64() {
            *last_seq = (*last_seq).max(seq);
        }
        if frame["type"] == "message.created" {
            received.push(
                frame["message"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    };
    // Mid-stream: after some messages have arrived, the node dies without a word.
    while received.len() < 10 {
        let frame = socket.next().await?;
        take(&frame, &mut received, &mut last_seq);
    }
    doomed.kill().await?;
    // Whatever was already on the wire still counts; then the connection is gone.
    while let Ok(frame) = socket.next().await {
        take(&frame, &mut received, &mut last_seq);
    }
    anyhow::ensure!(
        received.len() < MESSAGES,
        "the stream ended before the node was killed"
    );

    // The client moves to the surviving node and resumes from the last `seq` it saw.
    let mut moved = socket::open(&app.address, &bram.cookie, Some(last_seq)).await?;
    loop {
        let frame = moved.next().await?;
        if frame["type"] == "hello" {
            assert_eq!(frame["resumed"], true, "{frame}");
        }
        take(&frame, &mut received, &mut last_seq);
        if received.len() >= MESSAGES {
            break;
        }
    }
    let sent = writer.await??;
    assert_eq!(received, sent, "every message once, in order");
    Ok(())
}

#[tokio::test]
async fn sockets_take_turns_to_be_set_up_while_other_requests_go_on() -> anyhow::Result<()> {
    // A pool of 5 leaves 2 turns for sockets being set up.
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Aarts", "employee").await?;
    app.caught_up().await?;
    let hub = app.handle.state.hub.clone();
    let mut turns = Vec::new();
    for _ in 0..2 {
        turns.push(hub.setup_turn().await);
    }
    assert!(turns.iter().all(Option::is_some));
    let (address, cookie) = (app.address.clone(), anna.cookie.clone());
    let mut opening = tokio::spawn(async move { socket::open(&address, &cookie, None).await });
    // Every turn is taken: the socket waits (not even authenticated yet), other requests do not.
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(300), &mut opening)
            .await
            .is_err(),
        "a socket opened without a turn"
    );
    let me = app
        .expect_as(
            &anna.client,
            Method::GET,
            "/api/v1/me",
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(me["id"], anna.id.as_str());
    drop(turns);
    let mut socket = opening.await??;
    let hello = socket.expect("hello").await?;
    assert_eq!(hello["person_id"], anna.id.as_str());
    // Its turn is given back once it has said hello: both turns are free again.
    let both = async { [hub.setup_turn().await, hub.setup_turn().await] };
    let again = tokio::time::timeout(std::time::Duration::from_secs(10), both).await?;
    assert!(again.iter().all(Option::is_some));
    Ok(())
}
