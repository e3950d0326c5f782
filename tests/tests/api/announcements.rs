//! HR announcements: audience preview, publishing fixes the audience, recipients open and
//! acknowledge, statistics and CSV, corrections and material changes, widening, languages,
//! scheduling, and who may do what.

use plein_tests::{Someone, TestApp, expect_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn hr_publishes_to_a_department_and_follows_who_acknowledged() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let hr = app.someone_in("Hanna HR", "hr", "HR", "Utrecht").await?;
    let anna = app
        .someone_in("Anna Bakker", "employee", "Netwerk", "Amsterdam")
        .await?;
    let bram = app
        .someone_in("Bram Visser", "employee", "Netwerk", "Groningen")
        .await?;
    let cees = app
        .someone_in("Cees Smit", "employee", "Marketing", "Amsterdam")
        .await?;

    // The "reaches N people" preview.
    for (query, count) in [
        ("", 5),
        ("department=Netwerk", 2),
        ("department=Netwerk&location=Amsterdam", 1),
        ("department=Netwerk&department=Marketing", 3),
        ("location=Nergens", 0),
    ] {
        let answer = app
            .expect_as(
                &hr.client,
                Method::GET,
                &format!("/api/v1/announcements/audience?{query}"),
                None,
                StatusCode::OK,
            )
            .await?;
        assert_eq!(answer["count"], count, "{query}");
    }
    app.expect_as(
        &anna.client,
        Method::GET,
        "/api/v1/announcements/audience",
        None,
        StatusCode::FORBIDDEN,
    )
    .await?;
    app.expect_as(
        &anna.client,
        Method::POST,
        "/api/v1/announcements",
        Some(json!({"title": "Hallo", "body": "Van mij"})),
        StatusCode::FORBIDDEN,
    )
    .await?;

    let draft = app
        .expect_as(
            &hr.client,
            Method::POST,
            "/api/v1/announcements",
            Some(json!({
                "title": "Nieuwe werktijden", "body": "Vanaf **maandag** <script>x</script>",
                "translation": {"title": "New working hours", "body": "From **Monday**"},
                "audience": {"departments": ["Netwerk"], "locations": []},
                "requires_ack": true
            })),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(draft["state"], "draft");
    assert_eq!(draft["languages"], json!(["nl", "en"]));
    let id = draft["id"].as_str().unwrap_or_default().to_owned();
    // A draft reaches nobody yet.
    app.expect_as(
        &anna.client,
        Method::GET,
        &format!("/api/v1/announcements/{id}"),
        None,
        StatusCode::NOT_FOUND,
    )
    .await?;

    let published = app
        .expect_as(
            &hr.client,
            Method::POST,
            &format!("/api/v1/announcements/{id}/publish"),
            Some(json!({})),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(published["state"], "published");
    // The audience is fixed: someone joining Netwerk afterwards does not get it.
    let late = app
        .someone_in("Dirk Later", "employee", "Netwerk", "Amsterdam")
        .await?;
    app.expect_as(
        &late.client,
        Method::GET,
        &format!("/api/v1/announcements/{id}"),
        None,
        StatusCode::NOT_FOUND,
    )
    .await?;
    app.expect_as(
        &cees.client,
        Method::GET,
        &format!("/api/v1/announcements/{id}"),
        None,
        StatusCode::NOT_FOUND,
    )
    .await?;
    let listed = app
        .expect_as(
            &cees.client,
            Method::GET,
            "/api/v1/announcements",
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(0));

    // Each reader sees their language; opening is recorded; acknowledging twice is once.
    app.expect_as(
        &anna.client,
        Method::PUT,
        "/api/v1/me/language",
        Some(json!({"language": "en"})),
        StatusCode::OK,
    )
    .await?;
    let seen = app
        .expect_as(
            &anna.client,
            Method::GET,
            &format!("/api/v1/announcements/{id}"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(seen["title"], "New working hours");
    assert!(seen["receipt"]["opened_at"].is_string());
    assert_eq!(seen["receipt"]["acknowledged_at"], Value::Null);
    let seen = app
        .expect_as(
            &bram.client,
            Method::GET,
            "/api/v1/announcements",
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(seen["items"][0]["title"], "Nieuwe werktijden");
    assert!(
        !seen["items"][0]["body_html"]
            .as_str()
            .unwrap_or_default()
            .contains("<script")
    );
    for _ in 0..2 {
        let acknowledged = app
            .expect_as(
                &anna.client,
                Method::POST,
                &format!("/api/v1/announcements/{id}/acknowledge"),
                None,
                StatusCode::OK,
            )
            .await?;
        assert!(acknowledged["receipt"]["acknowledged_at"].is_string());
    }
    app.expect_as(
        &cees.client,
        Method::POST,
        &format!("/api/v1/announcements/{id}/acknowledge"),
        None,
        StatusCode::NOT_FOUND,
    )
    .await?;

    let stats = app
        .expect_as(
            &hr.client,
            Method::GET,
            &format!("/api/v1/announcements/{id}/stats"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(
        (
            stats["reached"].as_u64(),
            stats["opened"].as_u64(),
            stats["acknowledged"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(
        stats["by_department"],
        json!([{"value": "Netwerk", "reached": 2, "opened": 1, "acknowledged": 1}])
    );
    assert_eq!(stats["by_location"].as_array().map(Vec::len), Some(2));
    assert_eq!(stats["not_acknowledged"][0]["id"], bram.id.as_str());
    app.expect_as(
        &anna.client,
        Method::GET,
        &format!("/api/v1/announcements/{id}/stats"),
        None,
        StatusCode::FORBIDDEN,
    )
    .await?;
    let csv = hr
        .client
        .get(app.url(&format!("/api/v1/announcements/{id}/stats.csv")))
        .send()
        .await?;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()?
            .starts_with("text/csv")
    );
    let csv = csv.text().await?;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("name,email,department"));

    // A correction keeps acknowledgements; a material change starts them over.
    let corrected = app
        .expect_as(
            &hr.client,
            Method::PATCH,
            &format!("/api/v1/announcements/{id}"),
            Some(json!({"body": "Vanaf maandag 1 december"})),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(corrected["version"], 1);
    let stats = app
        .expect_as(
            &hr.client,
            Method::GET,
            &format!("/api/v1/announcements/{id}/stats"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(stats["acknowledged"], 1);
    let changed = app
        .expect_as(
            &hr.client,
            Method::PATCH,
            &format!("/api/v1/announcements/{id}"),
            Some(json!({"body": "Vanaf dinsdag", "material": true})),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(changed["version"], 2);
    let stats = app
        .expect_as(
            &hr.client,
            Method::GET,
            &format!("/api/v1/announcements/{id}/stats"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(stats["acknowledged"], 0);

    // Widening adds people; narrowing a published audience is refused.
    app.expect_as(
        &hr.client,
        Method::PATCH,
        &format!("/api/v1/announcements/{id}"),
        Some(json!({"audience": {"departments": ["Netwerk", "Marketing"]}})),
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &cees.client,
        Method::GET,
        &format!("/api/v1/announcements/{id}"),
        None,
        StatusCode::OK,
    )
    .await?;
    expect_error(
        hr.client
            .patch(app.url(&format!("/api/v1/announcements/{id}")))
            .json(&json!({"audience": {"departments": ["Marketing"]}}))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn scheduling_plain_announcements_and_bad_input() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let hr = app.someone_in("Hanna HR", "hr", "HR", "Utrecht").await?;
    let anna = app
        .someone_in("Anna Bakker", "employee", "Netwerk", "Amsterdam")
        .await?;
    let later = (chrono::Utc::now() + chrono::TimeDelta::hours(2)).to_rfc3339();
    let scheduled = app
        .expect_as(
            &hr.client,
            Method::POST,
            "/api/v1/announcements",
            Some(json!({"title": "Borrel", "body": "Vrijdag om vijf", "publish_at": later})),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(scheduled["state"], "scheduled");
    let id = scheduled["id"].as_str().unwrap_or_default().to_owned();
    app.expect_as(
        &anna.client,
        Method::GET,
        &format!("/api/v1/announcements/{id}"),
        None,
        StatusCode::NOT_FOUND,
    )
    .await?;
    // Its time comes: the scheduler publishes it (called here directly instead of waiting).
    let earlier = (chrono::Utc::now() - chrono::TimeDelta::minutes(1)).to_rfc3339();
    app.expect_as(
        &hr.client,
        Method::PATCH,
        &format!("/api/v1/announcements/{id}"),
        Some(json!({"publish_at": earlier})),
        StatusCode::OK,
    )
    .await?;
    let state = &app.handle.state;
    let published =
        plein_server::announcements::service::publish_due(&state.db, &state.doorbell, &state.hub)
            .await
            .map_err(|error| anyhow::anyhow!(error.message))?;
    assert_eq!(published, 1);
    let seen = app
        .expect_as(
            &anna.client,
            Method::GET,
            &format!("/api/v1/announcements/{id}"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(seen["state"], "published");
    expect_error(
        anna.client
            .post(app.url(&format!("/api/v1/announcements/{id}/acknowledge")))
            .send()
            .await?,
        StatusCode::CONFLICT,
        "no_acknowledgement",
    )
    .await?;

    for (body, code) in [
        (json!({"title": "", "body": "x"}), "validation_failed"),
        (
            json!({"title": "x".repeat(201), "body": "x"}),
            "validation_failed",
        ),
        (
            json!({"title": "x", "body": "x".repeat(20_001)}),
            "validation_failed",
        ),
        (
            json!({"title": "x", "body": "x", "language": "de"}),
            "validation_failed",
        ),
        (
            json!({"title": "x", "body": "x", "due_at": later}),
            "validation_failed",
        ),
        (
            json!({"title": "x", "body": "x", "publish_at": later, "expires_at": earlier}),
            "validation_failed",
        ),
        (
            json!({"title": "x", "body": "x", "requires_ack": "yes"}),
            "invalid_body",
        ),
        (
            json!({"title": "x", "body": "x", "audience": {"departments": "Netwerk"}}),
            "invalid_body",
        ),
    ] {
        let response = hr
            .client
            .post(app.url("/api/v1/announcements"))
            .json(&body)
            .send()
            .await?;
        expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, code).await?;
    }
    let all = app
        .expect_as(
            &hr.client,
            Method::GET,
            "/api/v1/announcements",
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(
        all["items"].as_array().map(Vec::len),
        Some(1),
        "nothing half-stored"
    );
    Ok(())
}

/// The kinds of someone's notifications, newest first, once every event is applied.
async fn kinds(app: &TestApp, who: &Someone) -> anyhow::Result<Vec<String>> {
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
    Ok(page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item["kind"].as_str().map(str::to_owned))
        .collect())
}

#[tokio::test]
async fn announcements_are_pinned_on_home_until_acknowledged_and_people_are_told()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let hr = app.someone_in("Hanna HR", "hr", "HR", "Utrecht").await?;
    let anna = app
        .someone_in("Anna Bakker", "employee", "Netwerk", "Amsterdam")
        .await?;
    let cees = app
        .someone_in("Cees Smit", "employee", "Marketing", "Amsterdam")
        .await?;
    let create = |body: Value| {
        let app = &app;
        let hr = &hr;
        async move {
            let created = app
                .expect_as(
                    &hr.client,
                    Method::POST,
                    "/api/v1/announcements",
                    Some(body),
                    StatusCode::CREATED,
                )
                .await?;
            let id = created["id"].as_str().unwrap_or_default().to_owned();
            app.expect_as(
                &hr.client,
                Method::POST,
                &format!("/api/v1/announcements/{id}/publish"),
                Some(json!({})),
                StatusCode::OK,
            )
            .await?;
            anyhow::Ok(id)
        }
    };
    let required = create(
        json!({"title": "Veiligheid", "body": "Lees dit", "requires_ack": true,
        "audience": {"departments": ["Netwerk"]}}),
    )
    .await?;
    let plain = create(json!({"title": "Kerstborrel", "body": "Iedereen welkom"})).await?;
    let expired = create(json!({"title": "Oud nieuws", "body": "Voorbij",
        "expires_at": (chrono::Utc::now() + chrono::TimeDelta::milliseconds(1)).to_rfc3339()}))
    .await?;

    // Home: the required one first, then the others; expired ones leave (they stay in the archive).
    let home = app
        .expect_as(
            &anna.client,
            Method::GET,
            "/api/v1/feed",
            None,
            StatusCode::OK,
        )
        .await?;
    let pinned: Vec<&str> = home["announcements"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(pinned, [required.as_str(), plain.as_str()]);
    let archive = app
        .expect_as(
            &anna.client,
            Method::GET,
            "/api/v1/announcements",
            None,
            StatusCode::OK,
        )
        .await?;
    assert!(archive.to_string().contains(&expired));
    let home = app
        .expect_as(
            &cees.client,
            Method::GET,
            "/api/v1/feed",
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(
        home["announcements"].as_array().map(Vec::len),
        Some(1),
        "not the Netwerk one"
    );
    app.expect_as(
        &anna.client,
        Method::POST,
        &format!("/api/v1/announcements/{required}/acknowledge"),
        None,
        StatusCode::OK,
    )
    .await?;
    let home = app
        .expect_as(
            &anna.client,
            Method::GET,
            "/api/v1/feed",
            None,
            StatusCode::OK,
        )
        .await?;
    let pinned: Vec<&str> = home["announcements"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(pinned, [plain.as_str()], "acknowledged: no longer pinned");

    // Notifications: each new announcement; a reminder only to who has not acknowledged.
    assert_eq!(
        kinds(&app, &anna).await?,
        ["announcement", "announcement", "announcement"]
    );
    assert_eq!(kinds(&app, &cees).await?, ["announcement", "announcement"]);
    let reminder =
        create(json!({"title": "Enquête", "body": "Vul in", "requires_ack": true})).await?;
    app.expect_as(
        &anna.client,
        Method::POST,
        &format!("/api/v1/announcements/{reminder}/acknowledge"),
        None,
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &hr.client,
        Method::POST,
        &format!("/api/v1/announcements/{reminder}/remind"),
        None,
        StatusCode::ACCEPTED,
    )
    .await?;
    assert_eq!(kinds(&app, &cees).await?[0], "acknowledgement_reminder");
    assert_eq!(kinds(&app, &anna).await?[0], "announcement");
    app.expect_as(
        &anna.client,
        Method::POST,
        &format!("/api/v1/announcements/{reminder}/remind"),
        None,
        StatusCode::FORBIDDEN,
    )
    .await?;
    expect_error(
        hr.client
            .post(app.url(&format!("/api/v1/announcements/{plain}/remind")))
            .send()
            .await?,
        StatusCode::CONFLICT,
        "no_acknowledgement",
    )
    .await?;
    // Widening tells only the people added; a material change tells everyone again.
    let before = kinds(&app, &anna).await?.len();
    app.expect_as(
        &hr.client,
        Method::PATCH,
        &format!("/api/v1/announcements/{required}"),
        Some(json!({"audience": {"departments": ["Netwerk", "Marketing"]}})),
        StatusCode::OK,
    )
    .await?;
    assert_eq!(kinds(&app, &anna).await?.len(), before);
    assert_eq!(kinds(&app, &cees).await?[0], "announcement");
    app.expect_as(
        &hr.client,
        Method::PATCH,
        &format!("/api/v1/announcements/{required}"),
        Some(json!({"body": "Lees dit opnieuw", "material": true})),
        StatusCode::OK,
    )
    .await?;
    assert_eq!(kinds(&app, &anna).await?.len(), before + 1);
    Ok(())
}

#[tokio::test]
async fn managers_see_which_of_their_reports_have_not_acknowledged() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let hr = app.someone_in("Hanna HR", "hr", "HR", "Utrecht").await?;
    let manager = app
        .someone_in("Mona Manager", "employee", "Netwerk", "Amsterdam")
        .await?;
    let lead = app
        .someone_in("Lars Lead", "employee", "Netwerk", "Amsterdam")
        .await?;
    let engineer = app
        .someone_in("Eva Engineer", "employee", "Netwerk", "Amsterdam")
        .await?;
    let elsewhere = app
        .someone_in("Olaf Other", "employee", "Netwerk", "Amsterdam")
        .await?;
    for (report, boss) in [(&lead, &manager), (&engineer, &lead)] {
        let response = app
            .send_json(
                Method::PATCH,
                &format!("/api/v1/admin/people/{}", report.id),
                &json!({"manager_id": boss.id}),
            )
            .await?;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let created = app
        .expect_as(
            &hr.client,
            Method::POST,
            "/api/v1/announcements",
            Some(json!({"title": "Veiligheid", "body": "Lees dit", "requires_ack": true})),
            StatusCode::CREATED,
        )
        .await?;
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    app.expect_as(
        &hr.client,
        Method::POST,
        &format!("/api/v1/announcements/{id}/publish"),
        Some(json!({})),
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &lead.client,
        Method::POST,
        &format!("/api/v1/announcements/{id}/acknowledge"),
        None,
        StatusCode::OK,
    )
    .await?;
    app.expect_as(
        &elsewhere.client,
        Method::POST,
        &format!("/api/v1/announcements/{id}/acknowledge"),
        None,
        StatusCode::OK,
    )
    .await?;
    let team = app
        .expect_as(
            &manager.client,
            Method::GET,
            &format!("/api/v1/announcements/{id}/team"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(
        (team["reached"].as_u64(), team["acknowledged"].as_u64()),
        (Some(2), Some(1))
    );
    let missing: Vec<&str> = team["not_acknowledged"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(missing, [engineer.id.as_str()]);
    let lead_view = app
        .expect_as(
            &lead.client,
            Method::GET,
            &format!("/api/v1/announcements/{id}/team"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(lead_view["reached"], 1);
    let nobody = app
        .expect_as(
            &engineer.client,
            Method::GET,
            &format!("/api/v1/announcements/{id}/team"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(nobody["reached"], 0);
    Ok(())
}

#[tokio::test]
async fn recipients_comment_when_comments_are_on_and_only_they_read_them() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let hr = app.someone_in("Hanna HR", "hr", "HR", "Utrecht").await?;
    let anna = app
        .someone_in("Anna Bakker", "employee", "Netwerk", "Amsterdam")
        .await?;
    let karel = app
        .someone_in("Karel Klant", "employee", "Verkoop", "Amsterdam")
        .await?;
    let create = |comments: bool| json!({"title": "Thuiswerken", "body": "Nieuwe afspraken", "audience": {"departments": ["Netwerk"]}, "comments_enabled": comments});
    let open = app
        .expect_as(
            &hr.client,
            Method::POST,
            "/api/v1/announcements",
            Some(create(true)),
            StatusCode::CREATED,
        )
        .await?;
    let closed = app
        .expect_as(
            &hr.client,
            Method::POST,
            "/api/v1/announcements",
            Some(create(false)),
            StatusCode::CREATED,
        )
        .await?;
    let open_id = open["id"].as_str().unwrap_or_default().to_owned();
    let closed_id = closed["id"].as_str().unwrap_or_default().to_owned();
    let comments = format!("/api/v1/announcements/{open_id}/comments");
    // Not before it is published.
    let error = app
        .expect_as(
            &hr.client,
            Method::POST,
            &comments,
            Some(json!({"body": "Vroeg"})),
            StatusCode::CONFLICT,
        )
        .await?;
    assert_eq!(error["error"]["code"], "not_published");
    for id in [&open_id, &closed_id] {
        app.expect_as(
            &hr.client,
            Method::POST,
            &format!("/api/v1/announcements/{id}/publish"),
            Some(json!({})),
            StatusCode::OK,
        )
        .await?;
    }
    let comment = app
        .expect_as(
            &anna.client,
            Method::POST,
            &comments,
            Some(json!({"body": "Fijn! **Eindelijk** <script>x</script>"})),
            StatusCode::CREATED,
        )
        .await?;
    assert!(
        comment["body_html"]
            .as_str()
            .unwrap_or_default()
            .contains("<strong>Eindelijk</strong>")
    );
    assert!(
        !comment["body_html"]
            .as_str()
            .unwrap_or_default()
            .contains("<script")
    );
    let error = app
        .expect_as(
            &anna.client,
            Method::POST,
            &format!("/api/v1/announcements/{closed_id}/comments"),
            Some(json!({"body": "Mag dit?"})),
            StatusCode::CONFLICT,
        )
        .await?;
    assert_eq!(error["error"]["code"], "comments_disabled");
    // Someone it did not reach neither reads nor writes them.
    app.expect_as(
        &karel.client,
        Method::GET,
        &comments,
        None,
        StatusCode::NOT_FOUND,
    )
    .await?;
    app.expect_as(
        &karel.client,
        Method::POST,
        &comments,
        Some(json!({"body": "Hallo"})),
        StatusCode::NOT_FOUND,
    )
    .await?;
    app.expect_as(
        &anna.client,
        Method::POST,
        &comments,
        Some(json!({"body": "  "})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await?;
    let listed = app
        .expect_as(&hr.client, Method::GET, &comments, None, StatusCode::OK)
        .await?;
    assert_eq!(listed["items"][0]["author"]["id"], anna.id.as_str());
    // Its author or HR deletes it; it stays as "deleted".
    let comment_id = comment["id"].as_str().unwrap_or_default();
    let one = format!("{comments}/{comment_id}");
    app.expect_as(
        &hr.client,
        Method::DELETE,
        &one,
        None,
        StatusCode::NO_CONTENT,
    )
    .await?;
    let listed = app
        .expect_as(&anna.client, Method::GET, &comments, None, StatusCode::OK)
        .await?;
    assert_eq!(listed["items"][0]["deleted"], true);
    assert_eq!(listed["items"][0]["body"], "");
    Ok(())
}

/// The statistics list the first hundred who have not acknowledged, in name order, whether
/// most have not (people are walked in name order) or only a few (their receipts are read).
#[tokio::test]
async fn statistics_list_those_who_have_not_acknowledged_in_name_order() -> anyhow::Result<()> {
    use sea_orm::{ConnectionTrait as _, Statement};
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let hr = app.someone_in("Hanna HR", "hr", "HR", "Utrecht").await?;
    let company = plein_server::demo::generate(300, 5);
    let csv = String::from_utf8(plein_server::demo::to_csv(&company)?)?;
    let imported = app.import_csv("", &csv).await?;
    assert_eq!(imported.status(), StatusCode::OK);
    let draft = app
        .expect_as(
            &hr.client,
            Method::POST,
            "/api/v1/announcements",
            Some(json!({"title": "Nieuw beleid", "body": "Lees dit", "requires_ack": true})),
            StatusCode::CREATED,
        )
        .await?;
    let id = draft["id"].as_str().unwrap_or_default().to_owned();
    app.expect_as(
        &hr.client,
        Method::POST,
        &format!("/api/v1/announcements/{id}/publish"),
        Some(json!({})),
        StatusCode::OK,
    )
    .await?;
    let db = &app.handle.state.db;
    let backend = db.get_database_backend();
    let announcement: uuid::Uuid = id.parse()?;
    let parameter = |n: usize| {
        if backend == sea_orm::DbBackend::Postgres {
            format!("${n}")
        } else {
            "?".to_owned()
        }
    };
    // What the list must be, by a plain join.
    let expected = || async {
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT p.id FROM people p JOIN announcement_recipients r \
                     ON r.person_id = p.id AND r.announcement_id = {} \
                     WHERE r.acknowledged_at IS NULL ORDER BY p.sort_name, p.id LIMIT 100",
                    parameter(1)
                ),
                [announcement.into()],
            ))
            .await?;
        rows.iter()
            .map(|row| Ok(row.try_get_by_index::<uuid::Uuid>(0)?.to_string()))
            .collect::<anyhow::Result<Vec<String>>>()
    };
    let listed = || async {
        let stats = app
            .expect_as(
                &hr.client,
                Method::GET,
                &format!("/api/v1/announcements/{id}/stats"),
                None,
                StatusCode::OK,
            )
            .await?;
        let ids: Vec<String> = stats["not_acknowledged"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|person| person["id"].as_str().map(str::to_owned))
            .collect();
        anyhow::Ok((
            stats["reached"].as_u64(),
            stats["acknowledged"].as_u64(),
            ids,
        ))
    };

    // Nobody has acknowledged: the first hundred of everyone.
    let (reached, acknowledged, ids) = listed().await?;
    let everyone = reached.unwrap_or_default();
    assert!(everyone > 300, "{everyone}");
    assert_eq!(acknowledged, Some(0));
    assert_eq!(ids.len(), 100);
    assert_eq!(ids, expected().await?);

    // All but seven have (set straight in the database, as if they had clicked).
    let kept: Vec<String> = expected().await?.into_iter().step_by(13).take(7).collect();
    assert_eq!(kept.len(), 7);
    let placeholders: Vec<String> = (0..kept.len()).map(|n| parameter(n + 2)).collect();
    let mut values: Vec<sea_orm::Value> = vec![announcement.into()];
    for person in &kept {
        values.push(person.parse::<uuid::Uuid>()?.into());
    }
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        format!(
            "UPDATE announcement_recipients SET acknowledged_at = reached_at \
             WHERE announcement_id = {} AND person_id NOT IN ({})",
            parameter(1),
            placeholders.join(", ")
        ),
        values,
    ))
    .await?;
    let (_, acknowledged, ids) = listed().await?;
    assert_eq!(acknowledged, Some(everyone - 7));
    assert_eq!(ids, expected().await?);
    let mut sorted_kept = kept.clone();
    sorted_kept.sort();
    let mut sorted_ids = ids.clone();
    sorted_ids.sort();
    assert_eq!(sorted_ids, sorted_kept, "exactly the seven who have not");
    Ok(())
}

/// On PostgreSQL, publishing to thousands refreshes the planner's statistics of the recipients
/// table at once (automatic statistics come up to a minute later, and until then the
/// statistics page is planned for a handful of rows).
#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL=postgres://…"
)]
async fn publishing_to_thousands_refreshes_the_planner_statistics() -> anyhow::Result<()> {
    use sea_orm::{ConnectionTrait as _, Statement};
    let app = TestApp::spawn().await?;
    anyhow::ensure!(app.database.is_postgres(), "this test needs PostgreSQL");
    app.setup_admin().await?;
    let hr = app.someone_in("Hanna HR", "hr", "HR", "Utrecht").await?;
    let company = plein_server::demo::generate(1_100, 9);
    let csv = String::from_utf8(plein_server::demo::to_csv(&company)?)?;
    assert_eq!(app.import_csv("", &csv).await?.status(), StatusCode::OK);
    let db = &app.handle.state.db;
    let analysed = || async {
        let row = db
            .query_one_raw(Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables \
                 WHERE relname = 'announcement_recipients'",
            ))
            .await?;
        anyhow::Ok(row.map(|row| row.try_get_by_index::<bool>(0)).transpose()?)
    };
    assert_eq!(analysed().await?, Some(false));
    let draft = app
        .expect_as(
            &hr.client,
            Method::POST,
            "/api/v1/announcements",
            Some(json!({"title": "Iedereen", "body": "Lees dit", "requires_ack": true})),
            StatusCode::CREATED,
        )
        .await?;
    let id = draft["id"].as_str().unwrap_or_default().to_owned();
    app.expect_as(
        &hr.client,
        Method::POST,
        &format!("/api/v1/announcements/{id}/publish"),
        Some(json!({})),
        StatusCode::OK,
    )
    .await?;
    // In the background: asked until it shows, for at most ten seconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while analysed().await? != Some(true) {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the recipients' statistics were not refreshed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok(())
}
