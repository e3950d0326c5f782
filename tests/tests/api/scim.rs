use plein_tests::{TestApp, new_client};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const PASSWORD: &str = "kibbeling met knoflooksaus";

/// `/scim/v2/Users` with `filter` in the query string.
fn users_where(filter: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("filter", filter)
        .finish();
    format!("/scim/v2/Users?{query}")
}

/// A SCIM client as an identity provider is one: a bearer token with the `scim` scope.
struct Scim<'a> {
    app: &'a TestApp,
    token: String,
    client: reqwest::Client,
}

impl Scim<'_> {
    async fn connect(app: &TestApp) -> anyhow::Result<Scim<'_>> {
        app.setup_admin().await?;
        let created: Value = app
            .send_json(
                Method::POST,
                "/api/v1/admin/tokens",
                &json!({"name": "Entra ID", "scopes": ["scim"]}),
            )
            .await?
            .json()
            .await?;
        Ok(Scim {
            app,
            token: created["secret"].as_str().unwrap_or_default().to_owned(),
            client: new_client()?,
        })
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<reqwest::Response> {
        let mut request = self
            .client
            .request(method, self.app.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/scim+json")
                .body(body.to_string());
        }
        Ok(request.send().await?)
    }

    /// Sends and expects `status`; returns the parsed body (Null when empty).
    async fn expect(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        status: StatusCode,
    ) -> anyhow::Result<Value> {
        let response = self.send(method.clone(), path, body).await?;
        let actual = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await?;
        anyhow::ensure!(
            actual == status,
            "{method} {path}: expected {status}, got {actual}: {text}"
        );
        if text.is_empty() {
            return Ok(Value::Null);
        }
        anyhow::ensure!(
            content_type.starts_with("application/scim+json"),
            "{method} {path}: content type {content_type}"
        );
        Ok(serde_json::from_str(&text)?)
    }

    /// Expects a SCIM error body with this status and `scimType`.
    async fn expect_error(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        status: StatusCode,
        scim_type: Option<&str>,
    ) -> anyhow::Result<Value> {
        let error = self.expect(method, path, body, status).await?;
        anyhow::ensure!(
            error["schemas"] == json!(["urn:ietf:params:scim:api:messages:2.0:Error"]),
            "not a SCIM error: {error}"
        );
        anyhow::ensure!(error["status"].as_str() == Some(status.as_str()), "{error}");
        anyhow::ensure!(
            error["scimType"].as_str() == scim_type,
            "expected scimType {scim_type:?}: {error}"
        );
        Ok(error)
    }
}

/// The shape Microsoft Entra ID sends when it provisions someone.
fn entra_user(user_name: &str, external_id: &str, employee_number: &str) -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "externalId": external_id,
        "userName": user_name,
        "active": true,
        "displayName": "Sanne van Rijnsoever",
        "title": "Netwerkspecialist",
        "emails": [{"primary": true, "type": "work", "value": user_name}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Sanne van Rijnsoever", "familyName": "van Rijnsoever", "givenName": "Sanne"},
        "addresses": [{"type": "work", "formatted": "Kantoor Groningen", "locality": "Groningen", "country": "NL"}],
        "preferredLanguage": "nl-NL",
        ENTERPRISE: {"employeeNumber": employee_number, "department": "Netwerk"}
    })
}

#[tokio::test]
async fn discovery_describes_users_with_the_enterprise_extension() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let scim = Scim::connect(&app).await?;
    let config = scim
        .expect(
            Method::GET,
            "/scim/v2/ServiceProviderConfig",
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["filter"]["supported"], true);
    assert_eq!(config["etag"]["supported"], true);
    assert_eq!(
        config["authenticationSchemes"][0]["type"],
        "oauthbearertoken"
    );
    let types = scim
        .expect(Method::GET, "/scim/v2/ResourceTypes", None, StatusCode::OK)
        .await?;
    assert_eq!(types["Resources"][0]["endpoint"], "/Users");
    assert_eq!(
        types["Resources"][0]["schemaExtensions"][0]["schema"],
        ENTERPRISE
    );
    let schemas = scim
        .expect(Method::GET, "/scim/v2/Schemas", None, StatusCode::OK)
        .await?;
    let ids: Vec<&str> = schemas["Resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|schema| schema["id"].as_str())
        .collect();
    assert_eq!(ids, [USER, ENTERPRISE]);
    let user_schema = scim
        .expect(
            Method::GET,
            &format!("/scim/v2/Schemas/{USER}"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(user_schema["attributes"][0]["name"], "userName");
    scim.expect_error(
        Method::GET,
        "/scim/v2/Groups",
        None,
        StatusCode::NOT_FOUND,
        None,
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn only_a_token_with_the_scim_scope_may_provision() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let scim = Scim::connect(&app).await?;
    let anonymous = new_client()?.get(app.url("/scim/v2/Users")).send().await?;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    let body: Value = anonymous.json().await?;
    assert_eq!(body["status"], "401");
    // The admin's session cookie is not a provisioning credential.
    let with_session = app.client.get(app.url("/scim/v2/Users")).send().await?;
    assert_eq!(with_session.status(), StatusCode::UNAUTHORIZED);
    let admin_token: Value = app
        .send_json(
            Method::POST,
            "/api/v1/admin/tokens",
            &json!({"name": "hr", "scopes": ["admin"]}),
        )
        .await?
        .json()
        .await?;
    let wrong_scope = new_client()?
        .get(app.url("/scim/v2/Users"))
        .bearer_auth(admin_token["secret"].as_str().unwrap_or_default())
        .send()
        .await?;
    assert_eq!(wrong_scope.status(), StatusCode::FORBIDDEN);
    let forged = new_client()?
        .get(app.url("/scim/v2/Users"))
        .bearer_auth(format!("{}x", scim.token))
        .send()
        .await?;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    scim.expect(Method::GET, "/scim/v2/Users", None, StatusCode::OK)
        .await?;
    Ok(())
}

#[tokio::test]
async fn the_rfc_create_example_round_trips_with_etag_and_location() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let scim = Scim::connect(&app).await?;
    // RFC 7644 §3.3 as written: a userName that is not an address, and no emails.
    let body = json!({
        "schemas": [USER],
        "userName": "bjensen",
        "externalId": "bjensen",
        "name": {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barbara"}
    });
    let response = scim
        .send(Method::POST, "/scim/v2/Users", Some(&body))
        .await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str()?.to_owned();
    let etag = response.headers()["etag"].to_str()?.to_owned();
    let created: Value = response.json().await?;
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    assert!(location.ends_with(&format!("/scim/v2/Users/{id}")));
    assert_eq!(created["meta"]["version"], etag.as_str());
    assert_eq!(created["meta"]["resourceType"], "User");
    // Without a displayName the formatted name is shown.
    assert_eq!(created["displayName"], "Ms. Barbara J Jensen III");
    assert_eq!(created["userName"], "bjensen");
    assert_eq!(created["active"], true);
    assert!(created.get("emails").is_none(), "{created}");

    let fetched = scim
        .expect(
            Method::GET,
            &format!("/scim/v2/Users/{id}"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(fetched, created);
    let not_modified = scim
        .client
        .get(app.url(&format!("/scim/v2/Users/{id}")))
        .bearer_auth(&scim.token)
        .header("if-none-match", &etag)
        .send()
        .await?;
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);

    let again = json!({"schemas": [USER], "userName": "BJENSEN", "name": {"givenName": "B"}});
    scim.expect_error(
        Method::POST,
        "/scim/v2/Users",
        Some(&again),
        StatusCode::CONFLICT,
        Some("uniqueness"),
    )
    .await?;
    let same_external = json!({"schemas": [USER], "userName": "other@example.com", "externalId": "bjensen", "name": {"givenName": "O"}});
    scim.expect_error(
        Method::POST,
        "/scim/v2/Users",
        Some(&same_external),
        StatusCode::CONFLICT,
        Some("uniqueness"),
    )
    .await?;

    // A stale version is refused; the current one works.
    let rename = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "Architect"}]});
    let path = format!("/scim/v2/Users/{id}");
    let stale = scim
        .client
        .patch(app.url(&path))
        .bearer_auth(&scim.token)
        .header("content-type", "application/scim+json")
        .header("if-match", "W/\"0\"")
        .body(rename.to_string())
        .send()
        .await?;
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    let fresh = scim
        .client
        .patch(app.url(&path))
        .bearer_auth(&scim.token)
        .header("content-type", "application/scim+json")
        .header("if-match", &etag)
        .body(rename.to_string())
        .send()
        .await?;
    assert_eq!(fresh.status(), StatusCode::OK);
    let patched: Value = fresh.json().await?;
    assert_eq!(patched["title"], "Architect");
    assert_ne!(patched["meta"]["version"], etag.as_str());
    Ok(())
}

#[tokio::test]
async fn entra_id_provisions_finds_updates_and_disables_a_person() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let scim = Scim::connect(&app).await?;
    let user_name = "sanne@plein.example";
    // Entra first looks the person up, then creates them.
    let found = scim
        .expect(
            Method::GET,
            "/scim/v2/Users?filter=userName+eq+%22Sanne%40plein.example%22",
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(found["totalResults"], 0);
    assert_eq!(found["Resources"], json!([]));
    let created = scim
        .expect(
            Method::POST,
            "/scim/v2/Users",
            Some(&entra_user(user_name, "8f2c-entra", "E100")),
            StatusCode::CREATED,
        )
        .await?;
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(created[ENTERPRISE]["employeeNumber"], "E100");
    assert_eq!(created["addresses"][0]["locality"], "Groningen");
    for filter in [
        "userName eq \"SANNE@plein.example\"",
        "externalId eq \"8f2c-entra\"",
        "emails[type eq \"work\"].value eq \"sanne@plein.example\"",
        "emails.value eq \"sanne@plein.example\"",
    ] {
        let listed: Value = scim
            .client
            .get(app.url("/scim/v2/Users"))
            .bearer_auth(&scim.token)
            .query(&[("filter", filter)])
            .send()
            .await?
            .json()
            .await?;
        assert_eq!(listed["totalResults"], 1, "{filter}: {listed}");
        assert_eq!(listed["Resources"][0]["id"], id.as_str(), "{filter}");
    }
    assert_eq!(
        app.search_names("rijnsoevr").await?,
        ["Sanne van Rijnsoever"]
    );

    // A manager, then Entra's update shapes.
    let manager = scim
        .expect(
            Method::POST,
            "/scim/v2/Users",
            Some(&json!({"schemas": [USER], "userName": "koen@plein.example", "name": {"givenName": "Koen", "familyName": "in 't Veld"}})),
            StatusCode::CREATED,
        )
        .await?;
    let manager_id = manager["id"].as_str().unwrap_or_default().to_owned();
    let patch = json!({
        "schemas": [PATCH],
        "Operations": [
            {"op": "Replace", "path": "title", "value": "Teamleider Netwerk"},
            {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Netwerk Noord"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": manager_id},
            {"op": "Replace", "path": "displayName", "value": "Sanne van Rijnsoever-Bos"}
        ]
    });
    let patched = scim
        .expect(
            Method::PATCH,
            &format!("/scim/v2/Users/{id}"),
            Some(&patch),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(patched["title"], "Teamleider Netwerk");
    assert_eq!(patched[ENTERPRISE]["manager"]["value"], manager_id.as_str());
    let profile: Value = app.get_json(&format!("/api/v1/people/{id}")).await?;
    assert_eq!(profile["department"], "Netwerk Noord");
    assert_eq!(profile["manager"]["display_name"], "Koen in 't Veld");

    // The manager reporting to Sanne would close a loop.
    let looping = json!({"schemas": [PATCH], "Operations": [
        {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": {"value": id}}
    ]});
    scim.expect_error(
        Method::PATCH,
        &format!("/scim/v2/Users/{manager_id}"),
        Some(&looping),
        StatusCode::BAD_REQUEST,
        Some("invalidValue"),
    )
    .await?;

    // Sanne signs in (an admin gave her a password), then Entra disables her.
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/admin/people",
            &json!({"email": "lotte@plein.example", "name": "Lotte Smit", "password": PASSWORD}),
        )
        .await?;
    let lotte: Value = response.json().await?;
    let lotte_id = lotte["id"].as_str().unwrap_or_default().to_owned();
    let lotte_client = app.login("lotte@plein.example", PASSWORD).await?;
    let disable = json!({"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    let disabled = scim
        .expect(
            Method::PATCH,
            &format!("/scim/v2/Users/{lotte_id}"),
            Some(&disable),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(disabled["active"], false);
    let me = lotte_client.get(app.url("/api/v1/me")).send().await?;
    assert_eq!(
        me.status(),
        StatusCode::UNAUTHORIZED,
        "her session ended at once"
    );
    assert!(app.search_names("lotte").await?.is_empty());
    let browse: Value = app.get_json("/api/v1/people").await?;
    assert!(!browse.to_string().contains("Lotte Smit"), "{browse}");
    Ok(())
}

#[tokio::test]
async fn okta_replaces_and_deactivates_with_a_pathless_patch() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let scim = Scim::connect(&app).await?;
    let created = scim
        .expect(
            Method::POST,
            "/scim/v2/Users",
            Some(&json!({
                "schemas": [USER],
                "userName": "noor@plein.example",
                "name": {"givenName": "Noor", "familyName": "de Wit"},
                "emails": [{"primary": true, "value": "noor@plein.example", "type": "work"}],
                "displayName": "Noor de Wit",
                "locale": "nl-NL",
                "externalId": "00u1okta",
                "groups": [],
                "password": "ignored-by-plein-1",
                "active": true
            })),
            StatusCode::CREATED,
        )
        .await?;
    let path = format!(
        "/scim/v2/Users/{}",
        created["id"].as_str().unwrap_or_default()
    );
    let replaced = scim
        .expect(
            Method::PUT,
            &path,
            Some(&json!({
                "schemas": [USER],
                "id": created["id"],
                "userName": "noor@plein.example",
                "name": {"givenName": "Noor", "familyName": "de Wit-Jansen"},
                "active": true,
                "title": "Jurist"
            })),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(replaced["displayName"], "Noor de Wit-Jansen");
    assert_eq!(replaced["title"], "Jurist");
    assert!(
        replaced.get("externalId").is_none(),
        "PUT replaces: {replaced}"
    );
    let deactivated = scim
        .expect(
            Method::PATCH,
            &path,
            Some(&json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": false}}]})),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(deactivated["active"], false);
    let inactive: Value = scim
        .client
        .get(app.url("/scim/v2/Users"))
        .bearer_auth(&scim.token)
        .query(&[("filter", "active eq false")])
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(inactive["totalResults"], 1);
    Ok(())
}

#[tokio::test]
async fn users_are_paged_with_start_index_and_count() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let scim = Scim::connect(&app).await?;
    for number in 1..=5 {
        scim.expect(
            Method::POST,
            "/scim/v2/Users",
            Some(&json!({"schemas": [USER], "userName": format!("p{number}@plein.example"), "name": {"givenName": format!("P{number}")}})),
            StatusCode::CREATED,
        )
        .await?;
    }
    let page = scim
        .expect(
            Method::GET,
            "/scim/v2/Users?startIndex=2&count=2",
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(page["totalResults"], 6, "five provisioned and the admin");
    assert_eq!(page["startIndex"], 2);
    assert_eq!(page["itemsPerPage"], 2);
    let names: Vec<&str> = page["Resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|user| user["userName"].as_str())
        .collect();
    assert_eq!(names, ["p1@plein.example", "p2@plein.example"]);
    let counted = scim
        .expect(Method::GET, "/scim/v2/Users?count=0", None, StatusCode::OK)
        .await?;
    assert_eq!(counted["totalResults"], 6);
    assert_eq!(counted["Resources"], json!([]));
    let filtered = scim
        .expect(
            Method::GET,
            "/scim/v2/Users?filter=userName+sw+%22p%22&startIndex=4&count=10",
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(filtered["totalResults"], 5);
    assert_eq!(filtered["itemsPerPage"], 2);
    scim.expect_error(
        Method::GET,
        "/scim/v2/Users?count=many",
        None,
        StatusCode::BAD_REQUEST,
        Some("invalidValue"),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_deleted_user_is_gone_for_scim_deactivated_in_plein_and_can_come_back()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let scim = Scim::connect(&app).await?;
    let created = scim
        .expect(
            Method::POST,
            "/scim/v2/Users",
            Some(&entra_user("sanne@plein.example", "x-1", "E1")),
            StatusCode::CREATED,
        )
        .await?;
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    let path = format!("/scim/v2/Users/{id}");
    scim.expect(Method::DELETE, &path, None, StatusCode::NO_CONTENT)
        .await?;
    scim.expect_error(Method::GET, &path, None, StatusCode::NOT_FOUND, None)
        .await?;
    scim.expect_error(Method::DELETE, &path, None, StatusCode::NOT_FOUND, None)
        .await?;
    assert!(app.search_names("sanne").await?.is_empty());
    let admin_view: Value = app.get_json(&format!("/api/v1/admin/people/{id}")).await?;
    assert_eq!(admin_view["active"], false);

    let back = scim
        .expect(
            Method::POST,
            "/scim/v2/Users",
            Some(&entra_user("sanne@plein.example", "x-2", "E1")),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(back["id"], id.as_str(), "the same person returns");
    assert_eq!(app.search_names("sanne").await?, ["Sanne van Rijnsoever"]);
    Ok(())
}

#[tokio::test]
async fn bad_requests_get_scim_errors_and_change_nothing() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let scim = Scim::connect(&app).await?;
    let malformed = scim
        .client
        .post(app.url("/scim/v2/Users"))
        .bearer_auth(&scim.token)
        .header("content-type", "application/scim+json")
        .body("{\"userName\": ")
        .send()
        .await?;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let body: Value = malformed.json().await?;
    assert_eq!(body["scimType"], "invalidSyntax");
    let wrong_type = scim
        .client
        .post(app.url("/scim/v2/Users"))
        .bearer_auth(&scim.token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await?;
    assert_eq!(wrong_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let cases = [
        (json!({"schemas": [USER], "userName": "  "}), "invalidValue"),
        (
            json!({"schemas": [USER], "userName": "bell\u{7}"}),
            "invalidValue",
        ),
        (
            json!({"schemas": [USER], "userName": "x".repeat(321)}),
            "invalidValue",
        ),
        (
            json!({"schemas": [USER], "userName": "jdoe", "emails": [{"value": "not an address", "primary": true}]}),
            "invalidValue",
        ),
        (
            json!({"schemas": [USER], "userName": "a@plein.example", "shoeSize": 44}),
            "invalidPath",
        ),
        (
            json!({"schemas": [USER], "userName": "a@plein.example", "active": "sometimes", "name": {"givenName": "A"}}),
            "invalidValue",
        ),
        (
            json!({"schemas": [USER], "userName": "a@plein.example", "name": "Anne"}),
            "invalidValue",
        ),
        (
            json!({"schemas": [USER], "userName": "a@plein.example", "name": {"givenName": "A"}, ENTERPRISE: {"manager": "not-an-id"}}),
            "invalidValue",
        ),
        (json!(["not", "an", "object"]), "invalidSyntax"),
    ];
    for (body, scim_type) in cases {
        scim.expect_error(
            Method::POST,
            "/scim/v2/Users",
            Some(&body),
            StatusCode::BAD_REQUEST,
            Some(scim_type),
        )
        .await?;
    }
    for filter in [
        "shoeSize eq \"44\"",
        "userName eq \"a\" or",
        "(userName eq \"a\"",
        "emails[type eq \"work\"",
        "active gt true",
        "meta.lastModified gt \"last week\"",
    ] {
        scim.expect_error(
            Method::GET,
            &users_where(filter),
            None,
            StatusCode::BAD_REQUEST,
            Some("invalidFilter"),
        )
        .await?;
    }
    scim.expect_error(
        Method::GET,
        "/scim/v2/Users/not-a-uuid",
        None,
        StatusCode::NOT_FOUND,
        None,
    )
    .await?;
    let listed = scim
        .expect(Method::GET, "/scim/v2/Users", None, StatusCode::OK)
        .await?;
    assert_eq!(listed["totalResults"], 1, "only the admin: {listed}");
    Ok(())
}

/// The userNames (lower-cased, sorted) a filter finds.
async fn found(scim: &Scim<'_>, filter: &str) -> anyhow::Result<Vec<String>> {
    let listed = scim
        .expect(Method::GET, &users_where(filter), None, StatusCode::OK)
        .await?;
    let mut names: Vec<String> = listed["Resources"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|user| user["userName"].as_str().unwrap_or_default().to_lowercase())
        .collect();
    names.sort();
    anyhow::ensure!(
        listed["totalResults"] == json!(names.len()),
        "{filter}: totalResults disagrees with the page: {listed}"
    );
    Ok(names)
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn user_names_need_not_be_addresses_and_addresses_come_from_emails() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let scim = Scim::connect(&app).await?;
    let create = |body: Value| {
        let scim = &scim;
        async move {
            scim.expect(
                Method::POST,
                "/scim/v2/Users",
                Some(&body),
                StatusCode::CREATED,
            )
            .await
        }
    };
    // Only a userName: created, shown by that name, without an address.
    let only = create(json!({"schemas": [USER], "userName": "only"})).await?;
    assert_eq!(only["displayName"], "only");
    assert!(only.get("emails").is_none(), "{only}");
    let person = app
        .get_json(&format!(
            "/api/v1/people/{}",
            only["id"].as_str().unwrap_or_default()
        ))
        .await?;
    assert_eq!(person["email"], Value::Null, "{person}");
    assert_eq!(person["display_name"], "only");

    // The primary address wins over the work one; names fall back to given + family.
    let kees = create(json!({"schemas": [USER], "userName": "kees", "name": {"givenName": "Kees", "familyName": "Kok"},
        "emails": [{"value": "kees@thuis.example", "type": "home", "primary": true}, {"value": "kees@work.example", "type": "work"}]}))
    .await?;
    assert_eq!(kees["emails"][0]["value"], "kees@thuis.example");
    assert_eq!(kees["displayName"], "Kees Kok");
    // Without a primary entry the work one; a home-only list gives no address.
    let piet = create(json!({"schemas": [USER], "userName": "PIET",
        "emails": [{"value": "piet@thuis.example", "type": "home"}, {"value": "piet@work.example", "type": "work"}]}))
    .await?;
    assert_eq!(piet["emails"][0]["value"], "piet@work.example");
    let home = create(json!({"schemas": [USER], "userName": "home-only",
        "emails": [{"value": "h@thuis.example", "type": "home"}]}))
    .await?;
    assert!(home.get("emails").is_none(), "{home}");
    // A userName that is an address is the address when emails gives none.
    let anne = create(json!({"schemas": [USER], "userName": "Anne@Example.nl", "name": {"formatted": "Anne de Vries"}})).await?;
    assert_eq!(anne["emails"][0]["value"], "Anne@Example.nl");
    assert_eq!(anne["displayName"], "Anne de Vries");

    // userNames are unique without regard to case, and so are addresses.
    for body in [
        json!({"schemas": [USER], "userName": "piet"}),
        json!({"schemas": [USER], "userName": "anne@example.NL"}),
        json!({"schemas": [USER], "userName": "other", "emails": [{"value": "PIET@work.example", "primary": true}]}),
    ] {
        scim.expect_error(
            Method::POST,
            "/scim/v2/Users",
            Some(&body),
            StatusCode::CONFLICT,
            Some("uniqueness"),
        )
        .await?;
    }

    // Renaming someone whose address was their userName moves the address along.
    let anne_path = format!("/scim/v2/Users/{}", anne["id"].as_str().unwrap_or_default());
    let renamed = scim
        .expect(
            Method::PATCH,
            &anne_path,
            Some(&json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "userName", "value": "anne.smit@example.nl"}]})),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(renamed["emails"][0]["value"], "anne.smit@example.nl");
    // An address given through a value path, and taken away again.
    let only_path = format!("/scim/v2/Users/{}", only["id"].as_str().unwrap_or_default());
    let given = scim
        .expect(
            Method::PATCH,
            &only_path,
            Some(&json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "emails[type eq \"work\" and primary eq true].value", "value": "only@work.example"}]})),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(given["emails"][0]["value"], "only@work.example");
    assert_eq!(given["userName"], "only");
    let removed = scim
        .expect(
            Method::PATCH,
            &only_path,
            Some(&json!({"schemas": [PATCH], "Operations": [{"op": "remove", "path": "emails"}]})),
            StatusCode::OK,
        )
        .await?;
    assert!(removed.get("emails").is_none(), "{removed}");
    assert_eq!(found(&scim, "userName eq \"ONLY\"").await?, ["only"]);
    Ok(())
}

#[tokio::test]
async fn the_whole_filter_grammar_is_answered_by_the_database() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let scim = Scim::connect(&app).await?;
    let mut created = Vec::new();
    for body in [
        json!({"schemas": [USER], "userName": "jdoe", "name": {"givenName": "John", "familyName": "Doe"}}),
        json!({"schemas": [USER, ENTERPRISE], "userName": "anne@example.nl", "title": "Engineer",
            ENTERPRISE: {"department": "Netwerk", "employeeNumber": "E1"}}),
        json!({"schemas": [USER], "userName": "piet", "title": "Designer", "active": false,
            "emails": [{"value": "piet@work.example", "type": "work"}]}),
        json!({"schemas": [USER], "userName": "kees", "name": {"formatted": "Kees K. 50%_off"},
            "externalId": "Kees-X", "emails": [{"value": "kees@thuis.example", "type": "home", "primary": true}]}),
        json!({"schemas": [USER], "userName": "only"}),
    ] {
        created.push(
            scim.expect(
                Method::POST,
                "/scim/v2/Users",
                Some(&body),
                StatusCode::CREATED,
            )
            .await?,
        );
    }
    let admin = "beheer@plein.example";
    let everyone = sorted(&["jdoe", "anne@example.nl", "piet", "kees", "only", admin]);
    let cases: &[(&str, &[&str])] = &[
        ("userName eq \"PIET\"", &["piet"]),
        (
            "userName eq \"jdoe\" or userName eq \"kees\"",
            &["jdoe", "kees"],
        ),
        ("userName sw \"J\" or userName ew \"ES\"", &["jdoe", "kees"]),
        (
            "not (userName sw \"j\") and title pr",
            &["anne@example.nl", "piet"],
        ),
        (
            "(title eq \"engineer\" or title eq \"Designer\") and active eq true",
            &["anne@example.nl"],
        ),
        (
            "title eq \"Engineer\" or title eq \"Designer\" and active eq true",
            &["anne@example.nl"],
        ),
        ("active eq false", &["piet"]),
        ("active ne true", &["piet"]),
        (
            "title ne \"Engineer\"",
            &["jdoe", "piet", "kees", "only", admin],
        ),
        (
            "emails[type eq \"work\" and primary eq true].value eq \"PIET@work.example\"",
            &["piet"],
        ),
        (
            "emails[ type eq \"work\" ]",
            &["anne@example.nl", "piet", "kees", admin],
        ),
        (
            "emails[value ew \"@work.example\" or value co \"thuis\"]",
            &["piet", "kees"],
        ),
        ("not (emails pr)", &["jdoe", "only"]),
        ("emails.value ew \"example.nl\"", &["anne@example.nl"]),
        ("displayName co \"k. 50%_\"", &["kees"]),
        ("displayName co \"%\" and not (displayName co \"k\")", &[]),
        ("name.formatted eq \"John Doe\"", &["jdoe"]),
        (
            "name.familyName eq \"doe\" and name.givenName sw \"jo\"",
            &["jdoe"],
        ),
        ("externalId eq \"Kees-X\"", &["kees"]),
        ("externalId eq \"kees-x\"", &[]),
        (
            "externalId sw \"Kees\" and not (externalId co \"kees\")",
            &["kees"],
        ),
        (
            "externalId ew \"-X\" and not (externalId ew \"-x\")",
            &["kees"],
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"netwerk\"",
            &["anne@example.nl"],
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber pr",
            &["anne@example.nl"],
        ),
        (
            "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"only\"",
            &["only"],
        ),
        ("userName gt \"only\"", &["piet"]),
        (
            "userName ge \"only\" and userName le \"piet\"",
            &["only", "piet"],
        ),
        ("userName lt \"b\"", &["anne@example.nl"]),
        ("nickName pr", &[]),
        (
            "meta.resourceType eq \"User\" and id pr",
            &["jdoe", "anne@example.nl", "piet", "kees", "only", admin],
        ),
        ("id eq \"not-an-id\"", &[]),
        (
            "meta.created ge \"2000-01-01T00:00:00Z\" and meta.created lt \"2100-01-01T01:00:00+01:00\"",
            &["jdoe", "anne@example.nl", "piet", "kees", "only", admin],
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(found(&scim, filter).await?, sorted(expected), "{filter}");
    }
    let id = created[2]["id"].as_str().unwrap_or_default();
    assert_eq!(found(&scim, &format!("id eq \"{id}\"")).await?, ["piet"]);
    assert_eq!(found(&scim, "not (nickName pr)").await?, everyone);

    // Times compare at the precision they are shown with, against what the server said.
    let modified: Vec<(String, String)> = created
        .iter()
        .map(|user| {
            (
                user["userName"].as_str().unwrap_or_default().to_lowercase(),
                user["meta"]["lastModified"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    let (_, anne_modified) = &modified[1];
    for (operator, holds) in [
        ("gt", (|a: &str, b: &str| a > b) as fn(&str, &str) -> bool),
        ("ge", |a, b| a >= b),
        ("lt", |a, b| a < b),
        ("le", |a, b| a <= b),
        ("eq", |a, b| a == b),
    ] {
        let expected: Vec<&str> = modified
            .iter()
            .filter(|(_, at)| holds(at, anne_modified))
            .map(|(name, _)| name.as_str())
            .collect();
        let filter = format!(
            "meta.lastModified {operator} \"{anne_modified}\" and not (userName eq \"{admin}\")"
        );
        assert_eq!(found(&scim, &filter).await?, sorted(&expected), "{filter}");
    }

    // A filtered list is paged like any other, its total counting every match.
    let page = scim
        .expect(
            Method::GET,
            &format!("{}&startIndex=2&count=2", users_where("emails pr")),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(page["totalResults"], 4);
    assert_eq!(page["startIndex"], 2);
    assert_eq!(page["Resources"].as_array().map(Vec::len), Some(2));
    Ok(())
}

#[tokio::test]
async fn attributes_and_excluded_attributes_shape_every_answer() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let scim = Scim::connect(&app).await?;
    let keys = |value: &Value| {
        let mut keys: Vec<String> = value
            .as_object()
            .map(|object| object.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    };
    let body = entra_user("sanne@plein.example", "x-1", "E7");
    let created = scim
        .expect(
            Method::POST,
            "/scim/v2/Users?attributes=userName,name.givenName",
            Some(&body),
            StatusCode::CREATED,
        )
        .await?;
    assert_eq!(keys(&created), ["id", "name", "schemas", "userName"]);
    assert_eq!(keys(&created["name"]), ["givenName"]);
    let path = format!(
        "/scim/v2/Users/{}",
        created["id"].as_str().unwrap_or_default()
    );

    let got = scim
        .expect(
            Method::GET,
            &format!("{path}?attributes=emails.value,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert_eq!(keys(&got), ["emails", "id", "schemas", ENTERPRISE]);
    assert_eq!(got["emails"], json!([{"value": "sanne@plein.example"}]));
    assert_eq!(keys(&got[ENTERPRISE]), ["department"]);

    let without = scim
        .expect(
            Method::GET,
            &format!("{path}?excludedAttributes=meta,emails,ID,name.familyName,{ENTERPRISE}"),
            None,
            StatusCode::OK,
        )
        .await?;
    assert!(without.get("id").is_some(), "id is always returned");
    for gone in ["meta", "emails", ENTERPRISE] {
        assert!(without.get(gone).is_none(), "{gone}: {without}");
    }
    assert!(without["name"].get("familyName").is_none());
    assert!(without["name"].get("givenName").is_some());
    assert!(without.get("userName").is_some());

    let patched = scim
        .expect(
            Method::PATCH,
            &format!("{path}?attributes=title"),
            Some(&json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "Architect"}]})),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(keys(&patched), ["id", "schemas", "title"]);

    let listed = scim
        .expect(
            Method::GET,
            "/scim/v2/Users?attributes=userName",
            None,
            StatusCode::OK,
        )
        .await?;
    let resources = listed["Resources"].as_array().cloned().unwrap_or_default();
    assert_eq!(resources.len(), 2);
    for user in &resources {
        assert_eq!(keys(user), ["id", "schemas", "userName"]);
    }

    // The same through POST /Users/.search, the filter in the body.
    let search = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "emails[type eq \"work\"].value eq \"SANNE@plein.example\"",
        "attributes": ["displayName"],
        "startIndex": 1,
        "count": 10
    });
    let found = scim
        .expect(
            Method::POST,
            "/scim/v2/Users/.search",
            Some(&search),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(found["totalResults"], 1);
    assert_eq!(
        keys(&found["Resources"][0]),
        ["displayName", "id", "schemas"]
    );
    let excluded = scim
        .expect(
            Method::POST,
            "/scim/v2/Users/.search",
            Some(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "excludedAttributes": ["meta"]})),
            StatusCode::OK,
        )
        .await?;
    assert_eq!(excluded["totalResults"], 2);
    assert!(excluded["Resources"][0].get("meta").is_none());
    for (bad, scim_type) in [
        (json!({"filter": "userName pr"}), "invalidSyntax"),
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName eq"}),
            "invalidFilter",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "count": "ten"}),
            "invalidValue",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "attributes": [1]}),
            "invalidValue",
        ),
    ] {
        scim.expect_error(
            Method::POST,
            "/scim/v2/Users/.search",
            Some(&bad),
            StatusCode::BAD_REQUEST,
            Some(scim_type),
        )
        .await?;
    }
    Ok(())
}
