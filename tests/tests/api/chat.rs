//! Chat over REST: direct conversations (one per pair), group conversations, group channels,
//! idempotent sending, history cursors, read markers and unread counts, reactions, edits and
//! deletes, and what outsiders and bad input get.

use plein_tests::{TestApp, expect_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap_or_default().to_owned()
}

fn bodies(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|message| message["body"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_direct_conversation_is_one_per_pair_and_sending_is_idempotent() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Aarts", "employee").await?;
    let bram = app.someone("Bram Bos", "employee").await?;
    let carla = app.someone("Carla Claes", "employee").await?;

    let started = app
        .expect_as(
            &anna.client,
            Method::POST,
            "/api/v1/conversations",
            Some(json!({"person_ids": [bram.id]})),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(started["kind"], "direct");
    let conversation = id_of(&started);
    // Starting it again, from either side, gives the same one.
    for who in [&anna, &bram] {
        let other = if who.id == anna.id { &bram } else { &anna };
        let again = app
            .expect_as(
                &who.client,
                Method::POST,
                "/api/v1/conversations",
                Some(json!({"person_ids": [other.id, who.id]})),
                StatusCode::OK,
            )
            .await?;
        assert_eq!(id_of(&again), conversation);
    }

    let path = format!("/api/v1/conversations/{conversation}/messages");
    let sent = app
        .expect_as(
            &anna.client,
            Method::POST,
            &path,
            Some(json!({"body": "Hoi **Bram**", "client_id": "tab1-0001"})),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(sent["conversation_id"], conversation.as_str());
    assert_eq!(sent["author_id"], anna.id.as_str());
    assert_eq!(sent["client_id"], "tab1-0001");
    assert!(
        sent["html"]
            .as_str()
            .is_some_and(|html| html.contains("<strong>Bram</strong>")),
        "{sent}"
    );
    // A resend (the answer was lost) stores nothing new.
    let resent = app
        .expect_as(
            &anna.client,
            Method::POST,
            &path,
            Some(json!({"body": "Hoi **Bram**", "client_id": "tab1-0001"})),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(id_of(&resent), id_of(&sent));
    let history = app
        .expect_as(&bram.client, Method::GET, &path, None, StatusCode::OK)
        .await?;
    assert_eq!(bodies(&history), vec!["Hoi **Bram**"]);

    // Bram has one unread; reading it clears it, and Anna sees that he read it.
    let list = app
        .expect_as(
            &bram.client,
            Method::GET,
            "/api/v1/conversations",
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(list["unread_total"], 1, "{list}");
    assert_eq!(list["items"][0]["unread"], 1);
    assert_eq!(
        list["items"][0]["last_message"]["id"],
        id_of(&sent).as_str()
    );
    let anna_list = app
        .expect_as(
            &anna.client,
            Method::GET,
            "/api/v1/conversations",
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(anna_list["unread_total"], 0, "her own message is read");
    let read = app
        .expect_as(
            &bram.client,
            Method::POST,
            &format!("/api/v1/conversations/{conversation}/read"),
            Some(json!({"message_id": id_of(&sent)})),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(read["unread"], 0);
    let seen = app
        .expect_as(
            &anna.client,
            Method::GET,
            &format!("/api/v1/conversations/{conversation}"),
            None,
            StatusCode::OK,
        )
        .await?;
    let bram_read = seen["members"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|member| member["person"]["id"] == bram.id.as_str())
        .map(|member| member["last_read_id"].clone());
    assert_eq!(bram_read, Some(Value::String(id_of(&sent))), "{seen}");

    // Someone outside it learns nothing, not even that it exists.
    for (method, path, body) in [
        (
            Method::GET,
            format!("/api/v1/conversations/{conversation}"),
            None,
        ),
        (Method::GET, path.clone(), None),
        (
            Method::POST,
            path.clone(),
            Some(json!({"body": "ik ook", "client_id": "x"})),
        ),
        (
            Method::POST,
            format!("/api/v1/conversations/{conversation}/read"),
            Some(json!({"message_id": id_of(&sent)})),
        ),
        (
            Method::PUT,
            format!("/api/v1/messages/{}/reactions/like", id_of(&sent)),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/messages/{}", id_of(&sent)),
            None,
        ),
    ] {
        let mut request = carla.client.request(method.clone(), app.url(&path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        expect_error(request.send().await?, StatusCode::NOT_FOUND, "not_found").await?;
    }
    let carla_list = app
        .expect_as(
            &carla.client,
            Method::GET,
            "/api/v1/conversations",
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(carla_list["items"], json!([]));
    Ok(())
}

#[tokio::test]
async fn history_pages_before_after_and_around_a_message() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Aarts", "employee").await?;
    let bram = app.someone("Bram Bos", "employee").await?;
    let conversation = app.conversation(&anna, &[&bram]).await?;
    let path = format!("/api/v1/conversations/{conversation}/messages");
    let mut ids = Vec::new();
    for n in 1..=7 {
        let sent = app
            .expect_as(
                &anna.client,
                Method::POST,
                &path,
                Some(json!({"body": format!("m{n}"), "client_id": format!("c{n}")})),
                StatusCode::CREATED,
            )
            .await?;
        ids.push(id_of(&sent));
    }
    let page = |query: String| {
        let app = &app;
        let bram = &bram;
        let path = path.clone();
        async move {
            app.expect_as(
                &bram.client,
                Method::GET,
                &format!("{path}?{query}"),
                None,
                StatusCode::OK,
            )
            .await
        }
    };
    let newest = page("limit=3".to_owned()).await?;
    assert_eq!(bodies(&newest), ["m5", "m6", "m7"]);
    assert_eq!(
        (newest["has_older"].clone(), newest["has_newer"].clone()),
        (json!(true), json!(false))
    );
    let older = page(format!("limit=3&before={}", ids[4])).await?;
    assert_eq!(bodies(&older), ["m2", "m3", "m4"]);
    assert_eq!(older["has_older"], true);
    let oldest = page(format!("limit=3&before={}", ids[1])).await?;
    assert_eq!(bodies(&oldest), ["m1"]);
    assert_eq!(oldest["has_older"], false);
    let newer = page(format!("limit=2&after={}", ids[2])).await?;
    assert_eq!(bodies(&newer), ["m4", "m5"]);
    assert_eq!(newer["has_newer"], true);
    let around = page(format!("limit=4&around={}", ids[3])).await?;
    assert_eq!(bodies(&around), ["m3", "m4", "m5", "m6"]);
    assert_eq!(
        (around["has_older"].clone(), around["has_newer"].clone()),
        (json!(true), json!(true))
    );
    expect_error(
        bram.client
            .get(app.url(&format!("{path}?before={}&after={}", ids[1], ids[2])))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn group_conversations_take_members_who_may_leave_and_a_group_has_one_channel()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Aarts", "employee").await?;
    let bram = app.someone("Bram Bos", "employee").await?;
    let carla = app.someone("Carla Claes", "employee").await?;
    let dirk = app.someone("Dirk Dekker", "employee").await?;

    let team = app
        .expect_as(
            &anna.client,
            Method::POST,
            "/api/v1/conversations",
            Some(json!({"person_ids": [bram.id, carla.id], "name": "Borrelcommissie"})),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(team["kind"], "group");
    assert_eq!(team["name"], "Borrelcommissie");
    assert_eq!(team["member_count"], 3);
    let team_id = id_of(&team);
    let grown = app
        .expect_as(
            &carla.client,
            Method::POST,
            &format!("/api/v1/conversations/{team_id}/members"),
            Some(json!({"person_ids": [dirk.id]})),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(grown["member_count"], 4);
    app.expect_as(
        &bram.client,
        Method::POST,
        &format!("/api/v1/conversations/{team_id}/leave"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    expect_error(
        bram.client
            .get(app.url(&format!("/api/v1/conversations/{team_id}/messages")))
            .send()
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    // A direct conversation is not left, and takes no one else.
    let direct = app.conversation(&anna, &[&dirk]).await?;
    expect_error(
        anna.client
            .post(app.url(&format!("/api/v1/conversations/{direct}/leave")))
            .send()
            .await?,
        StatusCode::CONFLICT,
        "cannot_leave",
    )
    .await?;
    expect_error(
        anna.client
            .post(app.url(&format!("/api/v1/conversations/{direct}/members")))
            .json(&json!({"person_ids": [carla.id]}))
            .send()
            .await?,
        StatusCode::CONFLICT,
        "not_a_group_conversation",
    )
    .await?;

    // A group's channel is for its members; a secret group's is as secret as the group.
    let public = id_of(
        &app.expect_as(
            &anna.client,
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": "Fotografie", "kind": "casual", "visibility": "public"})),
            StatusCode::CREATED,
        )
        .await?,
    );
    let secret = id_of(
        &app.expect_as(
            &anna.client,
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": "Overname", "kind": "work", "visibility": "secret"})),
            StatusCode::CREATED,
        )
        .await?,
    );
    let channel = app
        .expect_as(
            &anna.client,
            Method::GET,
            &format!("/api/v1/groups/{public}/conversation"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(channel["kind"], "channel");
    assert_eq!(channel["group_id"], public.as_str());
    assert_eq!(channel["name"], "Fotografie");
    let again = app
        .expect_as(
            &anna.client,
            Method::GET,
            &format!("/api/v1/groups/{public}/conversation"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(id_of(&again), id_of(&channel));
    expect_error(
        carla
            .client
            .get(app.url(&format!("/api/v1/groups/{public}/conversation")))
            .send()
            .await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    expect_error(
        carla
            .client
            .get(app.url(&format!("/api/v1/groups/{secret}/conversation")))
            .send()
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    let channel_path = format!("/api/v1/conversations/{}/messages", id_of(&channel));
    expect_error(
        carla
            .client
            .post(app.url(&channel_path))
            .json(&json!({"body": "mag ik?", "client_id": "c1"}))
            .send()
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    // Joining the group opens its channel; leaving closes it again.
    app.expect_as(
        &carla.client,
        Method::POST,
        &format!("/api/v1/groups/{public}/join"),
        None,
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &carla.client,
        Method::POST,
        &channel_path,
        Some(json!({"body": "Mooie plaatjes!", "client_id": "c1"})),
        StatusCode::CREATED,
    )
    .await?;
    let anna_list = app
        .expect_as(
            &anna.client,
            Method::GET,
            "/api/v1/conversations",
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(
        anna_list["items"][0]["id"],
        id_of(&channel).as_str(),
        "most recent first"
    );
    assert_eq!(anna_list["items"][0]["unread"], 1);
    app.expect_as(
        &carla.client,
        Method::POST,
        &format!("/api/v1/groups/{public}/leave"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    expect_error(
        carla.client.get(app.url(&channel_path)).send().await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    // An archived group's channel stays readable and takes no new messages.
    app.expect_as(
        &anna.client,
        Method::PATCH,
        &format!("/api/v1/groups/{public}"),
        Some(json!({"archived": true})),
        StatusCode::OK,
    )
    .await?;
    expect_error(
        anna.client
            .post(app.url(&channel_path))
            .json(&json!({"body": "nog iemand?", "client_id": "a2"}))
            .send()
            .await?,
        StatusCode::CONFLICT,
        "group_archived",
    )
    .await?;
    let history = app
        .expect_as(
            &anna.client,
            Method::GET,
            &channel_path,
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(bodies(&history), ["Mooie plaatjes!"]);
    Ok(())
}

#[tokio::test]
async fn reactions_edits_and_deletes_belong_to_their_people() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Aarts", "employee").await?;
    let bram = app.someone("Bram Bos", "employee").await?;
    let conversation = app.conversation(&anna, &[&bram]).await?;
    let path = format!("/api/v1/conversations/{conversation}/messages");
    let first = app
        .expect_as(
            &anna.client,
            Method::POST,
            &path,
            Some(json!({"body": "Lunch om 12?", "client_id": "a1"})),
            StatusCode::CREATED,
        )
        .await?;
    let message = id_of(&first);
    let reply = app
        .expect_as(
            &bram.client,
            Method::POST,
            &path,
            Some(json!({"body": "Ja!", "client_id": "b1", "reply_to": message})),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(reply["reply_to"]["id"], message.as_str());
    assert_eq!(reply["reply_to"]["excerpt"], "Lunch om 12?");

    // A reaction twice is once; taking it back twice is fine too.
    for _ in 0..2 {
        let reacted = app
            .expect_as(
                &bram.client,
                Method::PUT,
                &format!("/api/v1/messages/{message}/reactions/celebrate"),
                None,
                StatusCode::OK,
            )
            .await?;
        assert_eq!(
            reacted["reactions"],
            json!([{"reaction": "celebrate", "count": 1}])
        );
        assert_eq!(reacted["my_reactions"], json!(["celebrate"]));
    }
    let seen_by_anna = app
        .expect_as(&anna.client, Method::GET, &path, None, StatusCode::OK)
        .await?;
    assert_eq!(seen_by_anna["items"][0]["my_reactions"], json!([]));
    assert_eq!(seen_by_anna["items"][0]["reactions"][0]["count"], 1);
    expect_error(
        bram.client
            .put(app.url(&format!("/api/v1/messages/{message}/reactions/applause")))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;

    // Only the author edits; the edit is marked.
    expect_error(
        bram.client
            .patch(app.url(&format!("/api/v1/messages/{message}")))
            .json(&json!({"body": "Lunch om 1?"}))
            .send()
            .await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    let edited = app
        .expect_as(
            &anna.client,
            Method::PATCH,
            &format!("/api/v1/messages/{message}"),
            Some(json!({"body": "Lunch om 12:30?"})),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(edited["body"], "Lunch om 12:30?");
    assert!(edited["edited_at"].is_string());

    // Deleting leaves a placeholder; its text is gone, also from the quote under the reply.
    expect_error(
        bram.client
            .delete(app.url(&format!("/api/v1/messages/{message}")))
            .send()
            .await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    app.expect_as(
        &anna.client,
        Method::DELETE,
        &format!("/api/v1/messages/{message}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    let after = app
        .expect_as(&bram.client, Method::GET, &path, None, StatusCode::OK)
        .await?;
    assert_eq!(after["items"][0]["deleted"], true);
    assert_eq!(after["items"][0]["body"], "");
    assert_eq!(after["items"][0]["html"], "");
    assert_eq!(after["items"][1]["reply_to"]["deleted"], true);
    assert_eq!(after["items"][1]["reply_to"]["excerpt"], "");
    expect_error(
        anna.client
            .patch(app.url(&format!("/api/v1/messages/{message}")))
            .json(&json!({"body": "toch niet"}))
            .send()
            .await?,
        StatusCode::CONFLICT,
        "message_deleted",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn bad_chat_input_gets_a_clear_error_and_stores_nothing() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Aarts", "employee").await?;
    let bram = app.someone("Bram Bos", "employee").await?;
    let carla = app.someone("Carla Claes", "employee").await?;
    let conversation = app.conversation(&anna, &[&bram]).await?;
    let other = app.conversation(&anna, &[&carla]).await?;
    let elsewhere = id_of(
        &app.expect_as(
            &anna.client,
            Method::POST,
            &format!("/api/v1/conversations/{other}/messages"),
            Some(json!({"body": "elders", "client_id": "e1"})),
            StatusCode::CREATED,
        )
        .await?,
    );
    let path = format!("/api/v1/conversations/{conversation}/messages");
    let unknown = uuid::Uuid::now_v7();
    let cases = [
        (json!({"body": "", "client_id": "a"}), "body"),
        (
            json!({"body": "x".repeat(10_001), "client_id": "a"}),
            "body",
        ),
        (json!({"body": "nul\u{0000}byte", "client_id": "a"}), "body"),
        (json!({"body": "hoi", "client_id": ""}), "client_id"),
        (json!({"body": "hoi", "client_id": "é"}), "client_id"),
        (
            json!({"body": "hoi", "client_id": "x".repeat(65)}),
            "client_id",
        ),
        (
            json!({"body": "hoi", "client_id": "a", "reply_to": elsewhere}),
            "reply_to",
        ),
        (
            json!({"body": format!("hoi <@{unknown}>"), "client_id": "a"}),
            "body",
        ),
    ];
    for (body, field) in cases {
        let refused = expect_error(
            anna.client.post(app.url(&path)).json(&body).send().await?,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await?;
        assert!(
            refused["error"]["fields"][field].is_string(),
            "{body}: {refused}"
        );
    }
    let wrong_type = anna
        .client
        .post(app.url(&path))
        .json(&json!({"body": 42, "client_id": "a"}))
        .send()
        .await?;
    assert_eq!(wrong_type.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let malformed = anna
        .client
        .post(app.url(&path))
        .header("content-type", "application/json")
        .body("{\"body\": ")
        .send()
        .await?;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    // Unicode and injection strings are text like any other.
    let odd = "'); DROP TABLE messages; -- 🎉 <img src=x onerror=alert(1)>";
    let stored = app
        .expect_as(
            &anna.client,
            Method::POST,
            &path,
            Some(json!({"body": odd, "client_id": "odd"})),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(stored["body"], odd);
    let html = stored["html"].as_str().unwrap_or_default();
    assert!(!html.contains("onerror") && html.contains("🎉"), "{html}");
    let history = app
        .expect_as(&bram.client, Method::GET, &path, None, StatusCode::OK)
        .await?;
    assert_eq!(bodies(&history), [odd], "only the good one was stored");

    for (body, field) in [
        (json!({"person_ids": []}), "person_ids"),
        (json!({"person_ids": [anna.id]}), "person_ids"),
        (json!({"person_ids": [unknown]}), "person_ids"),
        (
            json!({"person_ids": [bram.id], "name": "x".repeat(101)}),
            "name",
        ),
    ] {
        let refused = expect_error(
            anna.client
                .post(app.url("/api/v1/conversations"))
                .json(&body)
                .send()
                .await?,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await?;
        assert!(
            refused["error"]["fields"][field].is_string(),
            "{body}: {refused}"
        );
    }
    let too_many: Vec<String> = (0..100).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    expect_error(
        anna.client
            .post(app.url("/api/v1/conversations"))
            .json(&json!({"person_ids": too_many}))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    expect_error(
        anna.client
            .post(app.url(&format!("/api/v1/conversations/{conversation}/read")))
            .json(&json!({"message_id": elsewhere}))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn message_search_finds_only_in_my_conversations_and_follows_edits_and_deletes()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anna = app.someone("Anna Aarts", "employee").await?;
    let bram = app.someone("Bram Bos", "employee").await?;
    let carla = app.someone("Carla Claes", "employee").await?;
    let ours = app.conversation(&anna, &[&bram]).await?;
    let theirs = app.conversation(&bram, &[&carla]).await?;
    let mut sent = Vec::new();
    for (who, conversation, body) in [
        (&anna, &ours, "Zullen we vrijdag gaan lunchen?"),
        (&bram, &ours, "Lunch bij het café om twaalf"),
        (&bram, &theirs, "Vertrouwelijk: lunch over de reorganisatie"),
        (&anna, &ours, "Ik neem de fiets mee <script>x</script>"),
    ] {
        let message = app
            .expect_as(
                &who.client,
                Method::POST,
                &format!("/api/v1/conversations/{conversation}/messages"),
                Some(json!({"body": body, "client_id": format!("c-{}", sent.len())})),
                StatusCode::CREATED,
            )
            .await?;
        sent.push(id_of(&message));
    }
    app.caught_up().await?;
    let search = |who: &plein_tests::Someone, query: &[(&str, &str)]| {
        let request = who
            .client
            .get(app.url("/api/v1/messages/search"))
            .query(query);
        async move {
            let response = request.send().await?;
            anyhow::ensure!(response.status() == StatusCode::OK, "{}", response.status());
            let found: Value = response.json().await?;
            let ids: Vec<String> = found["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(id_of)
                .collect();
            anyhow::Ok((ids, found))
        }
    };
    // Newest first, prefixes of the last word, accents folded; only my conversations.
    let (ids, found) = search(&anna, &[("q", "lunch")]).await?;
    assert_eq!(ids, [sent[1].clone(), sent[0].clone()], "{found}");
    assert_eq!(found["total"], 2);
    assert_eq!(found["conversations"][0]["id"], ours.as_str());
    assert_eq!(
        found["conversations"].as_array().map(Vec::len),
        Some(1),
        "each conversation once"
    );
    assert_eq!(search(&anna, &[("q", "cafe")]).await?.0, [sent[1].clone()]);
    assert!(
        search(&anna, &[("q", "reorganisatie")]).await?.0.is_empty(),
        "someone else's conversation is not searched"
    );
    assert_eq!(
        search(&carla, &[("q", "reorganisatie")]).await?.0,
        [sent[2].clone()]
    );
    assert_eq!(
        search(&bram, &[("q", "lunch"), ("author", &anna.id)])
            .await?
            .0,
        [sent[0].clone()]
    );
    assert_eq!(
        search(&bram, &[("q", "lunch"), ("conversation_id", &theirs)])
            .await?
            .0,
        [sent[2].clone()]
    );
    let (page, first) = search(&bram, &[("q", "lunch"), ("limit", "2")]).await?;
    assert_eq!(page, [sent[2].clone(), sent[1].clone()]);
    let cursor = first["next_cursor"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        search(
            &bram,
            &[("q", "lunch"), ("limit", "2"), ("cursor", &cursor)]
        )
        .await?
        .0,
        [sent[0].clone()]
    );
    // Markup is text to search, not code.
    assert_eq!(
        search(&anna, &[("q", "script")]).await?.0,
        [sent[3].clone()]
    );
    // Someone else's conversation by id: as if it did not exist.
    expect_error(
        anna.client
            .get(app.url("/api/v1/messages/search"))
            .query(&[("q", "lunch"), ("conversation_id", theirs.as_str())])
            .send()
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    for (query, field) in [
        (vec![("q", "x".repeat(201))], "q"),
        (
            vec![("q", "lunch".to_owned()), ("limit", "0".to_owned())],
            "limit",
        ),
        (
            vec![("q", "lunch".to_owned()), ("cursor", "%%".to_owned())],
            "cursor",
        ),
    ] {
        let response = anna
            .client
            .get(app.url("/api/v1/messages/search"))
            .query(&query)
            .send()
            .await?;
        let body = expect_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await?;
        assert!(body.to_string().contains(field), "{body}");
    }
    // An edit is found by its new words, a delete not at all.
    app.expect_as(
        &anna.client,
        Method::PATCH,
        &format!("/api/v1/messages/{}", sent[0]),
        Some(json!({"body": "Zullen we zaterdag wandelen?"})),
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &bram.client,
        Method::DELETE,
        &format!("/api/v1/messages/{}", sent[1]),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    app.caught_up().await?;
    assert!(search(&anna, &[("q", "lunch")]).await?.0.is_empty());
    assert_eq!(
        search(&anna, &[("q", "wandel")]).await?.0,
        [sent[0].clone()]
    );
    // Leaving a group conversation ends finding its messages.
    let team = app.conversation(&anna, &[&bram, &carla]).await?;
    app.expect_as(
        &carla.client,
        Method::POST,
        &format!("/api/v1/conversations/{team}/messages"),
        Some(json!({"body": "Teamuitje naar de Efteling", "client_id": "team-1"})),
        StatusCode::CREATED,
    )
    .await?;
    app.caught_up().await?;
    assert_eq!(search(&bram, &[("q", "efteling")]).await?.0.len(), 1);
    app.expect_as(
        &bram.client,
        Method::POST,
        &format!("/api/v1/conversations/{team}/leave"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    assert!(search(&bram, &[("q", "efteling")]).await?.0.is_empty());
    Ok(())
}
