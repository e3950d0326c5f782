use plein_tests::{TestApp, expect_error, new_client};
use reqwest::StatusCode;
use serde_json::Value;

const PASSWORD: &str = "drop en kaas en brood";
/// A bound on failure, not a wait: the tailer applies changes in milliseconds.
const GIVE_UP_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

async fn caught_up(app: &TestApp) -> anyhow::Result<()> {
    app.caught_up().await
}

async fn search(client: &reqwest::Client, app: &TestApp, query: &str) -> anyhow::Result<Value> {
    let response = client
        .get(app.url("/api/v1/people/search"))
        .query(&[("q", query)])
        .send()
        .await?;
    anyhow::ensure!(
        response.status() == StatusCode::OK,
        "search failed: {}",
        response.text().await?
    );
    Ok(response.json().await?)
}

fn names(results: &Value) -> Vec<String> {
    results["hits"]
        .as_array()
        .map(|hits| {
            hits.iter()
                .filter_map(|hit| hit["display_name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_new_colleague_is_found_by_a_misspelt_surname_without_its_particle() -> anyhow::Result<()>
{
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    app.create_person(
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
    caught_up(&app).await?;
    let koen = app.login("koen@plein.example", PASSWORD).await?;
    for query in ["rijnsoevr", "van rijnsoever", "vanrijnsoever", "sanne r"] {
        let results = search(&koen, &app, query).await?;
        assert_eq!(
            names(&results).first().map(String::as_str),
            Some("Sanne van Rijnsoever"),
            "{query}: {results}"
        );
    }
    let results = search(&koen, &app, "intveld").await?;
    assert_eq!(names(&results), ["Koen in 't Veld"]);
    assert_eq!(results["total"], 1);
    Ok(())
}

#[tokio::test]
async fn renamed_and_deactivated_people_are_reindexed_from_the_outbox() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let person = app
        .create_person("bram@plein.example", "Bram Dijkstra", "employee", PASSWORD)
        .await?;
    let id = person["id"].as_str().unwrap_or_default().to_owned();
    caught_up(&app).await?;
    assert_eq!(
        names(&search(&app.client, &app, "dykstra").await?),
        ["Bram Dijkstra"]
    );

    app.send_json(
        reqwest::Method::PATCH,
        &format!("/api/v1/admin/people/{id}"),
        &serde_json::json!({"name": "Bram Hoekstra"}),
    )
    .await?;
    caught_up(&app).await?;
    assert!(names(&search(&app.client, &app, "dijkstra").await?).is_empty());
    assert_eq!(
        names(&search(&app.client, &app, "hoekstra").await?),
        ["Bram Hoekstra"]
    );

    app.client
        .post(app.url(&format!("/api/v1/admin/people/{id}/deactivate")))
        .send()
        .await?;
    caught_up(&app).await?;
    let results = search(&app.client, &app, "hoekstra").await?;
    assert!(names(&results).is_empty(), "{results}");
    assert_eq!(results["total"], 0);
    Ok(())
}

#[tokio::test]
async fn own_profile_skills_become_searchable_with_facets() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    app.create_person("tim@plein.example", "Tim Visser", "employee", PASSWORD)
        .await?;
    let tim = app.login("tim@plein.example", PASSWORD).await?;
    tim.patch(app.url("/api/v1/me/profile"))
        .json(&serde_json::json!({"skills": ["Python", "Spark"]}))
        .send()
        .await?;
    caught_up(&app).await?;
    let results = search(&tim, &app, "python").await?;
    assert_eq!(names(&results), ["Tim Visser"]);
    let skills = results["facets"]["skill"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        skills
            .iter()
            .any(|facet| facet["value"] == "Python" && facet["count"] == 1),
        "{results}"
    );
    Ok(())
}

#[tokio::test]
async fn search_needs_a_caller_and_a_sane_limit() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let anonymous = new_client()?
        .get(app.url("/api/v1/people/search?q=jan"))
        .send()
        .await?;
    expect_error(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    let too_many = app
        .client
        .get(app.url("/api/v1/people/search?q=jan&limit=101"))
        .send()
        .await?;
    expect_error(
        too_many,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let long = "x".repeat(201);
    let too_long = app
        .client
        .get(app.url("/api/v1/people/search"))
        .query(&[("q", long.as_str())])
        .send()
        .await?;
    expect_error(
        too_long,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let odd = search(&app.client, &app, "'; DROP TABLE people; -- \u{1F337}").await?;
    assert_eq!(odd["total"], 0);
    Ok(())
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL=postgres://…"
)]
async fn on_postgres_a_change_on_one_node_is_found_by_search_on_another() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    anyhow::ensure!(app.database.is_postgres(), "this test needs PostgreSQL");
    app.setup_admin().await?;
    let other = app.spawn_second_node().await?;
    app.create_person(
        "lotte@plein.example",
        "Lotte van der Berg",
        "employee",
        PASSWORD,
    )
    .await?;
    let head = plein_server::events::head(&app.handle.state.db).await?;
    assert!(tokio::time::timeout(GIVE_UP_AFTER, other.handle.state.tailer.wait_for(head)).await?);
    // The admin's session is valid on every node: sessions live in the shared database.
    let results: Value = app
        .client
        .get(other.url("/api/v1/people/search"))
        .query(&[("q", "vanderberg")])
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(names(&results), ["Lotte van der Berg"]);
    Ok(())
}

#[tokio::test]
async fn a_whole_email_address_or_an_employee_number_finds_that_person_first() -> anyhow::Result<()>
{
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    for (email, name) in [
        ("tess.wooning@plein-acme.nl", "Tess Wooning"),
        ("tess.wouters@plein-acme.nl", "Tess Wouters"),
        ("wooning.bas@plein-acme.nl", "Bas Wooning"),
    ] {
        app.create_person(email, name, "employee", PASSWORD).await?;
    }
    caught_up(&app).await?;
    let tess = search(&app.client, &app, "Tess Wooning").await?;
    let tess_id = tess["hits"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let response = app
        .send_json(
            reqwest::Method::PATCH,
            &format!("/api/v1/admin/people/{tess_id}"),
            &serde_json::json!({"employee_id": "NL-04711"}),
        )
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    caught_up(&app).await?;

    for query in [
        "tess.wooning@plein-acme.nl",
        "Tess.Wooning@Plein-Acme.NL",
        "NL-04711",
        "nl-04711",
    ] {
        let found = search(&app.client, &app, query).await?;
        assert_eq!(
            names(&found).first().map(String::as_str),
            Some("Tess Wooning"),
            "{query}: {found}"
        );
        assert!(found["total"].as_u64().unwrap_or(0) >= 1);
    }
    // Someone else's address is not hers; an address nobody has finds no one in particular.
    let other = search(&app.client, &app, "tess.wouters@plein-acme.nl").await?;
    assert_eq!(
        names(&other).first().map(String::as_str),
        Some("Tess Wouters")
    );

    // Deactivated, she is not found by her address either.
    let deactivated = app
        .client
        .post(app.url(&format!("/api/v1/admin/people/{tess_id}/deactivate")))
        .send()
        .await?;
    assert_eq!(deactivated.status(), StatusCode::OK);
    caught_up(&app).await?;
    let gone = search(&app.client, &app, "tess.wooning@plein-acme.nl").await?;
    assert!(!names(&gone).contains(&"Tess Wooning".to_owned()), "{gone}");
    Ok(())
}
