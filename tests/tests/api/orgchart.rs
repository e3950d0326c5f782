use plein_tests::{TestApp, expect_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "stamppot met worst";

async fn person(app: &TestApp, email: &str, name: &str) -> anyhow::Result<String> {
    let created = app.create_person(email, name, "employee", PASSWORD).await?;
    Ok(created["id"].as_str().unwrap_or_default().to_owned())
}

async fn set_hr(app: &TestApp, id: &str, patch: Value) -> anyhow::Result<reqwest::Response> {
    app.send_json(Method::PATCH, &format!("/api/v1/admin/people/{id}"), &patch)
        .await
}

fn names(cards: &Value) -> Vec<String> {
    cards
        .as_array()
        .map(|cards| {
            cards
                .iter()
                .filter_map(|card| card["display_name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_org_chart_shows_managers_to_the_top_reports_and_peers() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let ceo = person(&app, "ceo@plein.example", "Ingrid Bos").await?;
    let cto = person(&app, "cto@plein.example", "Olivier van der Linden").await?;
    let lead = person(&app, "lead@plein.example", "Femke Dijkstra").await?;
    let sanne = person(&app, "sanne@plein.example", "Sanne van Rijnsoever").await?;
    let koen = person(&app, "koen@plein.example", "Koen in 't Veld").await?;
    for (id, manager) in [(&cto, &ceo), (&lead, &cto), (&sanne, &lead), (&koen, &lead)] {
        let response = set_hr(&app, id, json!({"manager_id": manager, "department": "IT"})).await?;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await?
        );
    }
    let chart = app.get_json(&format!("/api/v1/people/{lead}/org")).await?;
    assert_eq!(
        names(&chart["managers"]),
        ["Olivier van der Linden", "Ingrid Bos"]
    );
    assert_eq!(
        names(&chart["reports"]),
        ["Sanne van Rijnsoever", "Koen in 't Veld"]
    );
    assert!(names(&chart["peers"]).is_empty());
    let sanne_chart = app.get_json(&format!("/api/v1/people/{sanne}/org")).await?;
    assert_eq!(names(&sanne_chart["peers"]), ["Koen in 't Veld"]);
    assert_eq!(names(&sanne_chart["managers"]).len(), 3);

    let profile = app.get_json(&format!("/api/v1/people/{sanne}")).await?;
    assert_eq!(profile["manager"]["display_name"], "Femke Dijkstra");
    Ok(())
}

#[tokio::test]
async fn a_manager_loop_is_refused_and_nothing_changes() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let boss = person(&app, "boss@plein.example", "Anna Janssen").await?;
    let report = person(&app, "report@plein.example", "Tim Visser").await?;
    assert_eq!(
        set_hr(&app, &report, json!({"manager_id": boss}))
            .await?
            .status(),
        StatusCode::OK
    );
    let looped = set_hr(&app, &boss, json!({"manager_id": report})).await?;
    let body = expect_error(
        looped,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert!(
        body["error"]["fields"]["manager_id"]
            .as_str()
            .unwrap_or_default()
            .contains("loop"),
        "{body}"
    );
    let own = set_hr(&app, &boss, json!({"manager_id": boss})).await?;
    expect_error(own, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    let unknown = set_hr(&app, &boss, json!({"manager_id": uuid::Uuid::now_v7()})).await?;
    expect_error(
        unknown,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let chart = app.get_json(&format!("/api/v1/people/{boss}/org")).await?;
    assert!(names(&chart["managers"]).is_empty());
    Ok(())
}

#[tokio::test]
async fn hr_fields_keep_particles_and_employee_numbers_unique() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let first = person(&app, "a@plein.example", "A B").await?;
    let second = person(&app, "b@plein.example", "C D").await?;
    let updated: Value = set_hr(
        &app,
        &first,
        json!({"given_name": "Lotte", "family_name": "van der Berg", "employee_id": "E1001", "title": "HR Advisor"}),
    )
    .await?
    .json()
    .await?;
    assert_eq!(updated["display_name"], "Lotte van der Berg");
    let profile = app.get_json(&format!("/api/v1/people/{first}")).await?;
    assert_eq!(profile["family_name"], "van der Berg");
    assert_eq!(profile["employee_id"], "E1001");
    let taken = set_hr(&app, &second, json!({"employee_id": "E1001"})).await?;
    expect_error(taken, StatusCode::CONFLICT, "employee_id_taken").await?;
    let cleared: Value = set_hr(&app, &first, json!({"title": null}))
        .await?
        .json()
        .await?;
    assert_eq!(cleared["display_name"], "Lotte van der Berg");
    assert!(app.get_json(&format!("/api/v1/people/{first}")).await?["title"].is_null());
    Ok(())
}

#[tokio::test]
async fn the_directory_lists_people_the_dutch_way_page_by_page() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    for (email, name) in [
        ("vries@plein.example", "Anne de Vries"),
        ("rijn@plein.example", "Sanne van Rijnsoever"),
        ("veld@plein.example", "Koen in 't Veld"),
        ("bakker@plein.example", "Bram Bakker"),
    ] {
        let id = person(&app, email, name).await?;
        set_hr(
            &app,
            &id,
            json!({"department": if name.starts_with('B') { "Finance" } else { "IT" }}),
        )
        .await?;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/api/v1/people?limit=2&cursor={cursor}"),
            None => "/api/v1/people?limit=2".to_owned(),
        };
        let page = app.get_json(&path).await?;
        seen.extend(names(&page["items"]));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            "Bram Bakker",
            "Beheerder",
            "Sanne van Rijnsoever",
            "Koen in 't Veld",
            "Anne de Vries"
        ]
    );
    let it = app.get_json("/api/v1/people?department=IT").await?;
    assert_eq!(
        names(&it["items"]),
        ["Sanne van Rijnsoever", "Koen in 't Veld", "Anne de Vries"]
    );
    let bad = app
        .client
        .get(app.url("/api/v1/people?cursor=bogus"))
        .send()
        .await?;
    expect_error(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    Ok(())
}
