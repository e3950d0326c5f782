use plein_tests::{TestApp, expect_error, new_client};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "stroopwafels bij de koffie";
const HEADER: &str = "employee_id,given_name,family_name,email,title,department,location,manager_employee_id,phone,skills,languages";

async fn imported(app: &TestApp, query: &str, csv: &str) -> anyhow::Result<Value> {
    let response = app.import_csv(query, csv).await?;
    anyhow::ensure!(
        response.status() == StatusCode::OK,
        "import failed: {}",
        response.text().await?
    );
    Ok(response.json().await?)
}

async fn person_by_employee_id(app: &TestApp, employee_id: &str) -> anyhow::Result<Value> {
    let row = plein_server::directory::repo::find_by_employee_id(&app.handle.state.db, employee_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{employee_id} was not imported"))?;
    app.get_json(&format!("/api/v1/people/{}", row.id)).await
}

async fn people_count(app: &TestApp) -> anyhow::Result<usize> {
    Ok(plein_server::directory::repo::all(&app.handle.state.db)
        .await?
        .len())
}

#[tokio::test]
async fn a_dutch_spreadsheet_export_is_imported_with_managers_listed_after_their_reports()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    // BOM, `;` between fields, quotes around a field holding `;`, CRLF, a report before its
    // manager, and a manager two levels up listed last.
    let csv = "\u{feff}employee_id;given_name;family_name;email;title;department;location;manager_employee_id;phone;skills;languages\r\n\
        E3;Sanne;van Rijnsoever;sanne@plein.example;Software engineer;IT;Amsterdam;E2;+31 6 1234 5678;\"Rust;PostgreSQL\";\"Nederlands;Engels\"\r\n\
        E2;Koen;in 't Veld;koen@plein.example;\"Manager IT; platform\";IT;Den Haag;E1;;;\r\n\
        E1;Zoë;de Vries;zoe@plein.example;Directeur;Directie;Den Haag;;;;\r\n";
    let summary = imported(&app, "", csv).await?;
    assert_eq!(
        summary,
        json!({"dry_run": false, "rows": 3, "created": 3, "updated": 0, "unchanged": 0, "deactivated": 0})
    );
    let sanne = person_by_employee_id(&app, "E3").await?;
    assert_eq!(sanne["family_name"], "van Rijnsoever");
    assert_eq!(sanne["display_name"], "Sanne van Rijnsoever");
    assert_eq!(sanne["skills"], json!(["Rust", "PostgreSQL"]));
    assert_eq!(sanne["languages"], json!(["Nederlands", "Engels"]));
    assert_eq!(sanne["manager"]["display_name"], "Koen in 't Veld");
    let koen = person_by_employee_id(&app, "E2").await?;
    assert_eq!(koen["title"], "Manager IT; platform");
    let chart: Value = app
        .get_json(&format!(
            "/api/v1/people/{}/org",
            sanne["id"].as_str().unwrap_or_default()
        ))
        .await?;
    let chain: Vec<&str> = chart["managers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|card| card["display_name"].as_str())
        .collect();
    assert_eq!(chain, ["Koen in 't Veld", "Zoë de Vries"]);
    assert_eq!(
        app.search_names("rijnsoevr").await?,
        ["Sanne van Rijnsoever"]
    );
    assert_eq!(app.search_names("zoe").await?, ["Zoë de Vries"]);
    Ok(())
}

#[tokio::test]
async fn importing_the_same_file_again_changes_nothing_and_a_dry_run_only_counts()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let csv = format!(
        "{HEADER}\nE1,Anne,de Boer,anne@plein.example,Jurist,Juridische Zaken,Utrecht,,,,\n\
         E2,Bas,Bakker,bas@plein.example,Inkoper,Inkoop,Zwolle,E1,,,\n"
    );
    imported(&app, "", &csv).await?;
    let events_before = plein_server::events::head(&app.handle.state.db).await?;
    let again = imported(&app, "", &csv).await?;
    assert_eq!(again["unchanged"], 2);
    assert_eq!(again["created"], 0);
    assert_eq!(again["updated"], 0);
    assert_eq!(
        plein_server::events::head(&app.handle.state.db).await?,
        events_before,
        "an import that changes nothing announces nothing"
    );

    let changed = csv.replace("Inkoper,Inkoop,Zwolle", "Hoofd inkoop,Inkoop,Zwolle")
        + "E3,Cor,Dam,cor@plein.example,,,,,,,\n";
    let dry = imported(&app, "?dry_run=true", &changed).await?;
    assert_eq!(
        dry,
        json!({"dry_run": true, "rows": 3, "created": 1, "updated": 1, "unchanged": 1, "deactivated": 0})
    );
    assert_eq!(person_by_employee_id(&app, "E2").await?["title"], "Inkoper");
    assert_eq!(people_count(&app).await?, 3, "admin, Anne and Bas only");

    let before_apply = plein_server::events::head(&app.handle.state.db).await?;
    let applied = imported(&app, "", &changed).await?;
    assert_eq!(applied["updated"], 1);
    assert_eq!(applied["created"], 1);
    let bas = person_by_employee_id(&app, "E2").await?;
    assert_eq!(bas["title"], "Hoofd inkoop");

    // One event about each person changed, and none about the unchanged one.
    // Once this node has delivered them, no running transaction holds them back.
    app.caught_up().await?;
    let announced =
        plein_server::events::read_after(&app.handle.state.db, before_apply, 100).await?;
    let about: Vec<(&str, String)> = announced
        .events
        .iter()
        .map(|stored| {
            let person = stored.event.person_id().map(|id| id.to_string());
            (stored.event.kind(), person.unwrap_or_default())
        })
        .collect();
    let cor = person_by_employee_id(&app, "E3").await?;
    assert_eq!(
        about,
        [
            (
                "person.updated",
                bas["id"].as_str().unwrap_or_default().to_owned()
            ),
            (
                "person.created",
                cor["id"].as_str().unwrap_or_default().to_owned()
            ),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn a_file_with_bad_rows_changes_nothing_and_names_every_bad_row() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let csv = format!(
        "{HEADER}\n\
         E1,Anne,de Boer,anne@plein.example,,,,,,,\n\
         E2,Bas,Bakker,not-an-address,,,,,,,\n\
         E3,Cor,Dam,cor@plein.example,,,,E99,,,\n\
         E1,Dirk,Eck,dirk@plein.example,,,,,,,\n\
         E5,Eva,Fens,eva@plein.example\n\
         E6,,Gans,gans@plein.example,,,,,,,\n\
         E7,Fenna,Hop,fenna@plein.example,,,,,06-abc,,\n\
         E8,'; DROP TABLE people; --,Ik,ik@plein.example,,,,,,,\n\
         E10,Gijs,Ham,ANNE@plein.example,,,,,,,\n"
    );
    let response = app.import_csv("", &csv).await?;
    let body = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_rows").await?;
    let rows: Vec<(u64, String)> = body["error"]["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            (
                row["line"].as_u64().unwrap_or_default(),
                row["column"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (3, "email".to_owned()),
            (4, "manager_employee_id".to_owned()),
            (5, "employee_id".to_owned()),
            (6, "-".to_owned()),
            (7, "given_name".to_owned()),
            (8, "phone".to_owned()),
            (10, "email".to_owned()),
        ],
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("7 rows")),
        "{body}"
    );
    assert_eq!(people_count(&app).await?, 1, "only the admin exists");
    Ok(())
}

#[tokio::test]
async fn a_manager_loop_is_refused_naming_the_rows_that_form_it() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let csv = format!(
        "{HEADER}\n\
         E1,Anne,de Boer,anne@plein.example,,,,E3,,,\n\
         E2,Bas,Bakker,bas@plein.example,,,,E1,,,\n\
         E3,Cor,Dam,cor@plein.example,,,,E2,,,\n\
         E4,Dirk,Eck,dirk@plein.example,,,,E4,,,\n\
         E5,Eva,Fens,eva@plein.example,,,,E1,,,\n"
    );
    let response = app.import_csv("", &csv).await?;
    let body = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_rows").await?;
    let rows = body["error"]["rows"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let lines: Vec<u64> = rows.iter().filter_map(|row| row["line"].as_u64()).collect();
    assert_eq!(lines, [2, 3, 4, 5], "{body}");
    let message = rows[0]["message"].as_str().unwrap_or_default();
    for part in ["E1 (line 2)", "E2 (line 3)", "E3 (line 4)"] {
        assert!(message.contains(part), "{message}");
    }
    assert_eq!(people_count(&app).await?, 1);

    // A loop through someone already in the directory is found too.
    imported(
        &app,
        "",
        &format!("{HEADER}\nE1,Anne,de Boer,anne@plein.example,,,,,,,\nE2,Bas,Bakker,bas@plein.example,,,,E1,,,\n"),
    )
    .await?;
    let response = app
        .import_csv(
            "",
            &format!("{HEADER}\nE1,Anne,de Boer,anne@plein.example,,,,E2,,,\n"),
        )
        .await?;
    let body = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_rows").await?;
    assert_eq!(body["error"]["rows"][0]["line"], 2);
    Ok(())
}

#[tokio::test]
async fn people_missing_from_the_file_are_deactivated_only_when_asked() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let leaver = app
        .create_person("lisa@plein.example", "Lisa Smit", "employee", PASSWORD)
        .await?;
    let leaver_id = leaver["id"].as_str().unwrap_or_default().to_owned();
    let response = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/admin/people/{leaver_id}"),
            &json!({"employee_id": "E9"}),
        )
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let lisa = app.login("lisa@plein.example", PASSWORD).await?;
    let csv = format!("{HEADER}\nE1,Anne,de Boer,anne@plein.example,,,,,,,\n");

    let kept = imported(&app, "", &csv).await?;
    assert_eq!(kept["deactivated"], 0);
    assert_eq!(app.search_names("lisa").await?, ["Lisa Smit"]);

    let dry = imported(&app, "?deactivate_missing=true&dry_run=true", &csv).await?;
    assert_eq!(dry["deactivated"], 1);
    assert_eq!(
        lisa.get(app.url("/api/v1/me")).send().await?.status(),
        StatusCode::OK
    );

    let before_apply = plein_server::events::head(&app.handle.state.db).await?;
    let applied = imported(&app, "?deactivate_missing=true", &csv).await?;
    assert_eq!(applied["deactivated"], 1);
    // Once this node has delivered them, no running transaction holds them back.
    app.caught_up().await?;
    let announced =
        plein_server::events::read_after(&app.handle.state.db, before_apply, 100).await?;
    match announced.events.as_slice() {
        [only] => match &only.event {
            plein_server::events::Event::PersonDeactivated { person } => {
                assert_eq!(person.id.to_string(), leaver_id);
                assert!(!person.active);
            }
            other => anyhow::bail!("expected a deactivation, got {other:?}"),
        },
        other => anyhow::bail!("expected one event about Lisa, got {other:?}"),
    }
    let me = lisa.get(app.url("/api/v1/me")).send().await?;
    expect_error(me, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    assert!(app.search_names("lisa").await?.is_empty());
    let browse: Value = app.get_json("/api/v1/people").await?;
    let listed: Vec<&str> = browse["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|card| card["display_name"].as_str())
        .collect();
    assert!(!listed.contains(&"Lisa Smit"), "{browse}");
    assert!(
        listed.contains(&"Beheerder"),
        "people without an employee number stay: {browse}"
    );

    // Back in the file, back in the directory.
    let back = imported(
        &app,
        "",
        &format!("{csv}E9,Lisa,Smit,lisa@plein.example,,,,,,,\n"),
    )
    .await?;
    assert_eq!(back["updated"], 1);
    assert_eq!(app.search_names("lisa").await?, ["Lisa Smit"]);
    Ok(())
}

#[tokio::test]
async fn an_import_cannot_deactivate_the_last_admin() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.setup_admin().await?;
    let response = app
        .send_json(
            Method::PATCH,
            &format!(
                "/api/v1/admin/people/{}",
                admin["id"].as_str().unwrap_or_default()
            ),
            &json!({"employee_id": "A1"}),
        )
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .import_csv(
            "?deactivate_missing=true",
            &format!("{HEADER}\nE1,Anne,de Boer,anne@plein.example,,,,,,,\n"),
        )
        .await?;
    expect_error(response, StatusCode::CONFLICT, "last_admin").await?;
    assert_eq!(people_count(&app).await?, 1);
    Ok(())
}

#[tokio::test]
async fn two_people_may_swap_email_addresses_in_one_import() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    imported(
        &app,
        "",
        &format!("{HEADER}\nE1,Anne,de Boer,a@plein.example,,,,,,,\nE2,Bas,Bakker,b@plein.example,,,,,,,\n"),
    )
    .await?;
    let swapped = imported(
        &app,
        "",
        &format!("{HEADER}\nE1,Anne,de Boer,b@plein.example,,,,,,,\nE2,Bas,Bakker,a@plein.example,,,,,,,\n"),
    )
    .await?;
    assert_eq!(swapped["updated"], 2);
    assert_eq!(
        person_by_employee_id(&app, "E1").await?["email"],
        "b@plein.example"
    );
    assert_eq!(
        person_by_employee_id(&app, "E2").await?["email"],
        "a@plein.example"
    );

    // Taking the address of someone outside the file is refused.
    let response = app
        .import_csv(
            "",
            &format!("{HEADER}\nE3,Cor,Dam,BEHEER@plein.example,,,,,,,\n"),
        )
        .await?;
    let body = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_rows").await?;
    assert_eq!(body["error"]["rows"][0]["column"], "email");
    Ok(())
}

#[tokio::test]
async fn the_import_is_for_admins_and_takes_a_csv_file() -> anyhow::Result<()> {
    let app = TestApp::spawn_with(|raw| raw.import_limit_bytes = 1024 * 1024).await?;
    app.setup_admin().await?;
    app.create_person("eva@plein.example", "Eva Fens", "employee", PASSWORD)
        .await?;
    let eva = app.login("eva@plein.example", PASSWORD).await?;
    let csv = format!("{HEADER}\nE1,Anne,de Boer,anne@plein.example,,,,,,,\n");
    let response = eva
        .post(app.url("/api/v1/admin/people/import"))
        .header("content-type", "text/csv")
        .body(csv.clone())
        .send()
        .await?;
    expect_error(response, StatusCode::FORBIDDEN, "forbidden").await?;
    let response = new_client()?
        .post(app.url("/api/v1/admin/people/import"))
        .header("content-type", "text/csv")
        .body(csv.clone())
        .send()
        .await?;
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthenticated").await?;

    let response = app
        .send_json(
            Method::POST,
            "/api/v1/admin/people/import",
            &json!({"rows": []}),
        )
        .await?;
    expect_error(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await?;
    let response = app.import_csv("", "  \n").await?;
    expect_error(response, StatusCode::BAD_REQUEST, "empty_file").await?;
    let response = app
        .import_csv(
            "",
            "employee_id,given_name,email,surname\nE1,A,a@plein.example,X\n",
        )
        .await?;
    let body = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_rows").await?;
    let columns: Vec<&str> = body["error"]["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| row["column"].as_str())
        .collect();
    assert_eq!(columns, ["surname", "family_name"]);
    let response = app.import_csv("?dry_run=maybe", &csv).await?;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // Larger than the 1 MiB JSON limit too, which the import limit never undercuts.
    let huge = csv.clone() + &"E2,Bas,Bakker,bas@plein.example,,,,,,,\n".repeat(40_000);
    let response = app.import_csv("", &huge).await?;
    expect_error(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await?;
    assert_eq!(people_count(&app).await?, 2);
    Ok(())
}

#[tokio::test]
async fn thousands_of_bad_rows_are_counted_but_the_list_is_capped() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let csv = format!("{HEADER}\n") + &"E1,Anne,de Boer,geen-adres,,,,,,,\n".repeat(3_000);
    let response = app.import_csv("", &csv).await?;
    let body = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_rows").await?;
    let listed = body["error"]["rows"].as_array().map_or(0, Vec::len);
    assert_eq!(listed, 500);
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("3000 rows have problems"), "{message}");
    Ok(())
}

#[tokio::test]
async fn a_chain_five_thousand_managers_deep_imports_and_its_org_chart_reaches_the_top()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    // Deep enough that the search index takes the import as one rebuild.
    const DEPTH: usize = 5_500;
    // Deepest first, so every manager comes after their report.
    let mut csv = format!("{HEADER}\n");
    for level in (1..=DEPTH).rev() {
        let manager = if level > 1 {
            format!("E{}", level - 1)
        } else {
            String::new()
        };
        csv.push_str(&format!(
            "E{level},Niveau,Laag {level},n{level}@plein.example,,,,{manager},,,\n"
        ));
    }
    let summary = imported(&app, "", &csv).await?;
    assert_eq!(summary["created"], DEPTH);
    assert_eq!(
        app.search_names(&format!("laag {DEPTH}"))
            .await?
            .first()
            .map(String::as_str),
        Some(format!("Niveau Laag {DEPTH}").as_str())
    );
    let deepest = person_by_employee_id(&app, &format!("E{DEPTH}")).await?;
    let chart: Value = app
        .get_json(&format!(
            "/api/v1/people/{}/org",
            deepest["id"].as_str().unwrap_or_default()
        ))
        .await?;
    let managers = chart["managers"].as_array().cloned().unwrap_or_default();
    assert_eq!(managers.len(), DEPTH - 1);
    assert_eq!(
        managers[0]["display_name"],
        format!("Niveau Laag {}", DEPTH - 1)
    );
    assert_eq!(managers[DEPTH - 2]["display_name"], "Niveau Laag 1");

    // Making the top report to the bottom closes a loop through every row.
    let looped = csv.replacen(
        "E1,Niveau,Laag 1,n1@plein.example,,,,,,,",
        &format!("E1,Niveau,Laag 1,n1@plein.example,,,,E{DEPTH},,,"),
        1,
    );
    let response = app.import_csv("", &looped).await?;
    let body = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_rows").await?;
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|message| message.starts_with(&format!("{DEPTH} rows"))),
        "{}",
        body["error"]["message"]
    );
    let loop_message = body["error"]["rows"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        loop_message.contains(&format!("({DEPTH} people in all)")),
        "{loop_message}"
    );
    assert!(loop_message.len() < 500, "{loop_message}");
    Ok(())
}
