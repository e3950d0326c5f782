//! The one writer of people: the same rules on every path, and under concurrency.

use plein_tests::{TestApp, expect_error, new_client};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "hutspot met klapstuk";
const IMPORT_COLUMNS: &str = "employee_id,given_name,family_name,email,title,department,location,manager_employee_id,phone,skills,languages";
const ROUNDS: usize = 12;

async fn id_of(person: &Value) -> String {
    person["id"].as_str().unwrap_or_default().to_owned()
}

/// Counted with an admin token: the signed-in admin may be among those demoted.
async fn active_admins(app: &TestApp, token: &str) -> anyhow::Result<usize> {
    let mut count = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/api/v1/admin/people?limit=100&cursor={cursor}"),
            None => "/api/v1/admin/people?limit=100".to_owned(),
        };
        let page: Value = new_client()?
            .get(app.url(&path))
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?;
        count += page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|person| person["role"] == "admin" && person["active"] == true)
            .count();
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(count),
        }
    }
}

async fn send(
    client: &reqwest::Client,
    token: &str,
    method: Method,
    url: String,
    body: Value,
) -> anyhow::Result<StatusCode> {
    Ok(client
        .request(method, url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?
        .status())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_demotions_of_the_last_two_admins_leave_one_admin() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let first = app.setup_admin().await?;
    let second = app
        .create_person(
            "tweede@plein.example",
            "Tweede Beheerder",
            "admin",
            PASSWORD,
        )
        .await?;
    // An admin token is no person, so it does not count as an admin itself.
    let token = app.create_token(&["admin"]).await?;
    let ids = [id_of(&first).await, id_of(&second).await];
    let client = new_client()?;
    for round in 0..ROUNDS {
        let demote = |id: &str| {
            send(
                &client,
                &token,
                Method::PUT,
                app.url(&format!("/api/v1/admin/people/{id}/role")),
                json!({"role": "employee"}),
            )
        };
        let (one, other) = tokio::join!(demote(&ids[0]), demote(&ids[1]));
        let mut statuses = [one?, other?];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CONFLICT],
            "round {round}: exactly one demotion may succeed"
        );
        assert_eq!(active_admins(&app, &token).await?, 1, "round {round}");
        // Both admins again for the next round.
        for id in &ids {
            let status = send(
                &client,
                &token,
                Method::PUT,
                app.url(&format!("/api/v1/admin/people/{id}/role")),
                json!({"role": "admin"}),
            )
            .await?;
            assert_eq!(status, StatusCode::OK);
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_manager_changes_that_would_make_a_loop_leave_no_loop() -> anyhow::Result<()>
{
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let token = app.create_token(&["admin"]).await?;
    let anne = id_of(
        &app.create_person("anne@plein.example", "Anne de Boer", "employee", PASSWORD)
            .await?,
    )
    .await;
    let bas = id_of(
        &app.create_person("bas@plein.example", "Bas Bakker", "employee", PASSWORD)
            .await?,
    )
    .await;
    let client = new_client()?;
    let set_manager = |id: &str, manager: Value| {
        send(
            &client,
            &token,
            Method::PATCH,
            app.url(&format!("/api/v1/admin/people/{id}")),
            json!({"manager_id": manager}),
        )
    };
    for round in 0..ROUNDS {
        let (one, other) = tokio::join!(
            set_manager(&anne, json!(bas)),
            set_manager(&bas, json!(anne))
        );
        let mut statuses = [one?, other?];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY],
            "round {round}: exactly one of the two may win"
        );
        let anne_now = app.get_json(&format!("/api/v1/people/{anne}")).await?;
        let bas_now = app.get_json(&format!("/api/v1/people/{bas}")).await?;
        let loop_made =
            anne_now["manager"]["id"] == json!(bas) && bas_now["manager"]["id"] == json!(anne);
        assert!(!loop_made, "round {round}: Anne and Bas manage each other");
        for id in [&anne, &bas] {
            assert_eq!(set_manager(id, Value::Null).await?, StatusCode::OK);
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_deactivated_manager_is_refused_by_admin_edits_scim_and_the_import() -> anyhow::Result<()>
{
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let leaver = app
        .create_person(
            "vertrokken@plein.example",
            "Vera Vertrokken",
            "employee",
            PASSWORD,
        )
        .await?;
    let leaver_id = id_of(&leaver).await;
    let employee = app
        .create_person("piet@plein.example", "Piet Jansen", "employee", PASSWORD)
        .await?;
    let employee_id = id_of(&employee).await;
    let response = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/admin/people/{leaver_id}"),
            &json!({"employee_id": "E77"}),
        )
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let deactivated = app
        .client
        .post(app.url(&format!("/api/v1/admin/people/{leaver_id}/deactivate")))
        .send()
        .await?;
    assert_eq!(deactivated.status(), StatusCode::OK);

    // Admin edit.
    let admin_edit = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/admin/people/{employee_id}"),
            &json!({"manager_id": leaver_id}),
        )
        .await?;
    let body = expect_error(
        admin_edit,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert!(
        body["error"]["fields"]["manager_id"]
            .as_str()
            .is_some_and(|problem| problem.contains("deactivated")),
        "{body}"
    );

    // SCIM.
    let scim_token = app.create_token(&["scim"]).await?;
    let scim = new_client()?
        .post(app.url("/scim/v2/Users"))
        .bearer_auth(&scim_token)
        .header("content-type", "application/scim+json")
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "nieuw@plein.example",
            "name": {"givenName": "Nina", "familyName": "Nieuw"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": leaver_id}}
        }))
        .send()
        .await?;
    assert_eq!(scim.status(), StatusCode::BAD_REQUEST);
    let scim_body: Value = scim.json().await?;
    assert!(
        scim_body["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("deactivated")),
        "{scim_body}"
    );

    // HR import.
    let csv = format!("{IMPORT_COLUMNS}\nE1,Nina,Nieuw,nina@plein.example,,,,E77,,,\n");
    let import = app.import_csv("", &csv).await?;
    let import_body =
        expect_error(import, StatusCode::UNPROCESSABLE_ENTITY, "invalid_rows").await?;
    assert!(
        import_body.to_string().contains("deactivated"),
        "{import_body}"
    );
    let profile = app
        .get_json(&format!("/api/v1/people/{employee_id}"))
        .await?;
    assert!(profile["manager"].is_null(), "nothing changed: {profile}");
    Ok(())
}
