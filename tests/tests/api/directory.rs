use plein_server::entities::events as event_rows;
use plein_tests::{TestApp, expect_error, new_client};
use reqwest::{Method, StatusCode};
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::{Value, json};

const PASSWORD: &str = "poffertjes met poedersuiker";

async fn with_colleagues(app: &TestApp) -> anyhow::Result<(String, reqwest::Client)> {
    app.setup_admin().await?;
    let sanne = app
        .create_person(
            "sanne@plein.example",
            "Sanne van Rijnsoever",
            "employee",
            PASSWORD,
        )
        .await?;
    app.create_person(
        "koen@plein.example",
        "Koen in 't Veld",
        "employee",
        PASSWORD,
    )
    .await?;
    let sanne_client = app.login("sanne@plein.example", PASSWORD).await?;
    Ok((
        sanne["id"].as_str().unwrap_or_default().to_owned(),
        sanne_client,
    ))
}

#[tokio::test]
async fn a_colleague_sees_a_profile_with_the_surname_particle_kept() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let (sanne_id, _) = with_colleagues(&app).await?;
    let koen = app.login("koen@plein.example", PASSWORD).await?;
    let profile: Value = koen
        .get(app.url(&format!("/api/v1/people/{sanne_id}")))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(profile["given_name"], "Sanne");
    assert_eq!(profile["family_name"], "van Rijnsoever");
    assert_eq!(profile["display_name"], "Sanne van Rijnsoever");
    assert_eq!(profile["skills"], json!([]));
    assert!(profile["manager"].is_null());
    let anonymous = new_client()?
        .get(app.url(&format!("/api/v1/people/{sanne_id}")))
        .send()
        .await?;
    expect_error(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    Ok(())
}

#[tokio::test]
async fn people_edit_what_they_own_and_the_bio_is_rendered_safely() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let (sanne_id, sanne) = with_colleagues(&app).await?;
    let patch = json!({
        "preferred_name": "  Sanne ",
        "phone": "+31 6 1234 5678",
        "skills": ["Rust", "rust", " Kafka ", ""],
        "languages": ["Nederlands", "English"],
        "bio": "**Data** engineer <script>alert(1)</script> [mijn site](javascript:alert(1))"
    });
    let updated: Value = sanne
        .patch(app.url("/api/v1/me/profile"))
        .json(&patch)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(updated["preferred_name"], "Sanne");
    assert_eq!(updated["skills"], json!(["Rust", "Kafka"]));
    assert_eq!(updated["languages"], json!(["Nederlands", "English"]));
    let html = updated["bio_html"].as_str().unwrap_or_default();
    assert!(html.contains("<strong>Data</strong>"), "{html}");
    assert!(
        !html.contains("<script") && !html.contains("javascript:"),
        "{html}"
    );

    let koen = app.login("koen@plein.example", PASSWORD).await?;
    let seen: Value = koen
        .get(app.url(&format!("/api/v1/people/{sanne_id}")))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(seen["phone"], "+31 6 1234 5678");
    assert_eq!(seen["bio"], updated["bio"]);

    // null clears a field; absent fields stay.
    let cleared: Value = sanne
        .patch(app.url("/api/v1/me/profile"))
        .json(&json!({"phone": null}))
        .send()
        .await?
        .json()
        .await?;
    assert!(cleared["phone"].is_null());
    assert_eq!(cleared["skills"], json!(["Rust", "Kafka"]));
    Ok(())
}

#[tokio::test]
async fn hr_owned_fields_cannot_be_changed_by_the_person() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let (sanne_id, sanne) = with_colleagues(&app).await?;
    for field in [
        "title",
        "department",
        "email",
        "given_name",
        "manager_id",
        "role",
    ] {
        let response = sanne
            .patch(app.url("/api/v1/me/profile"))
            .json(&json!({ field: "x" }))
            .send()
            .await?;
        expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await?;
    }
    let profile = app.get_json(&format!("/api/v1/people/{sanne_id}")).await?;
    assert!(profile["title"].is_null());
    assert_eq!(profile["role"], "employee");
    Ok(())
}

#[tokio::test]
async fn invalid_profile_input_is_refused_whole() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let (sanne_id, sanne) = with_colleagues(&app).await?;
    let too_many: Vec<String> = (0..31).map(|n| format!("skill {n}")).collect();
    let response = sanne
        .patch(app.url("/api/v1/me/profile"))
        .json(&json!({"phone": "call me maybe", "bio": "x".repeat(2001), "skills": too_many, "preferred_name": "ok"}))
        .send()
        .await?;
    let body = expect_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let fields = &body["error"]["fields"];
    assert!(
        fields["phone"].is_string() && fields["bio"].is_string() && fields["skills"].is_string(),
        "{body}"
    );
    let profile = app.get_json(&format!("/api/v1/people/{sanne_id}")).await?;
    assert!(
        profile["preferred_name"].is_null(),
        "nothing may be stored half-way"
    );
    let wrong_type = sanne
        .patch(app.url("/api/v1/me/profile"))
        .json(&json!({"skills": "Rust"}))
        .send()
        .await?;
    expect_error(wrong_type, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await?;
    Ok(())
}

#[tokio::test]
async fn deactivated_people_are_hidden_from_colleagues_but_not_from_admins() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let (sanne_id, _) = with_colleagues(&app).await?;
    let koen = app.login("koen@plein.example", PASSWORD).await?;
    app.client
        .post(app.url(&format!("/api/v1/admin/people/{sanne_id}/deactivate")))
        .send()
        .await?;
    let hidden = koen
        .get(app.url(&format!("/api/v1/people/{sanne_id}")))
        .send()
        .await?;
    expect_error(hidden, StatusCode::NOT_FOUND, "not_found").await?;
    let admin_view = app.get_json(&format!("/api/v1/people/{sanne_id}")).await?;
    assert_eq!(admin_view["active"], false);
    Ok(())
}

#[tokio::test]
async fn a_profile_change_appends_one_event_and_a_no_op_none() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let (_, sanne) = with_colleagues(&app).await?;
    let count_updates = || async {
        let rows = event_rows::Entity::find()
            .order_by_asc(event_rows::Column::Seq)
            .all(&app.handle.state.db)
            .await?;
        anyhow::Ok(
            rows.iter()
                .filter(|row| row.kind == "person.updated")
                .count(),
        )
    };
    assert_eq!(count_updates().await?, 0);
    let patch = json!({"languages": ["Nederlands"]});
    sanne
        .patch(app.url("/api/v1/me/profile"))
        .json(&patch)
        .send()
        .await?;
    assert_eq!(count_updates().await?, 1);
    sanne
        .patch(app.url("/api/v1/me/profile"))
        .json(&patch)
        .send()
        .await?;
    assert_eq!(count_updates().await?, 1);
    let token_call = app
        .send_json(Method::PATCH, "/api/v1/me/profile", &patch)
        .await?;
    assert_eq!(
        token_call.status(),
        StatusCode::OK,
        "the admin edits their own profile"
    );
    Ok(())
}
