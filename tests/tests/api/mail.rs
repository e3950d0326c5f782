//! Mail through a real SMTP server the test starts: "forgot password", invitations, the mail
//! status admins see, refused recipients and the limits on reset requests.

use plein_tests::smtp::SmtpServer;
use plein_tests::{ADMIN_EMAIL, PERSON_PASSWORD, TestApp, expect_error, new_client};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const IMPORT_HEADER: &str = "employee_id,given_name,family_name,email,title,department,location,manager_employee_id,phone,skills,languages";

async fn app_mailing_to(smtp: &SmtpServer) -> anyhow::Result<TestApp> {
    let settings = smtp.settings();
    TestApp::spawn_with(|raw| raw.smtp = Some(settings)).await
}

/// The admin's view of the mail queue once nothing waits any more.
async fn settled_mail_status(app: &TestApp) -> anyhow::Result<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let status = app.get_json("/api/v1/admin/mail").await?;
        if status["waiting"] == 0 {
            return Ok(status);
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "mail still waiting: {status}"
        );
        // Nudges the node's worker instead of waiting for its next look.
        app.handle.state.mailer.wake();
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_forgotten_password_is_reset_through_the_mailed_link_once() -> anyhow::Result<()> {
    let mut smtp = SmtpServer::start(&[]).await?;
    let app = app_mailing_to(&smtp).await?;
    app.setup_admin().await?;
    let saskia = app.someone("Saskia Smit", "employee").await?;
    let email = "saskia.smit@plein.example";

    // Known and unknown addresses get the same answer.
    let anonymous = new_client()?;
    let mut answers = Vec::new();
    for address in ["niemand@plein.example", "  Saskia.Smit@PLEIN.example "] {
        let response = anonymous
            .post(app.url("/api/v1/auth/password-reset"))
            .json(&json!({"email": address}))
            .send()
            .await?;
        answers.push((response.status(), response.text().await?));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, StatusCode::ACCEPTED);

    let mail = smtp.next_mail().await?;
    assert_eq!(mail.to, [email]);
    assert_eq!(mail.from, "plein@plein.example");
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Reset your Plein password")
    );
    assert!(mail.raw.contains("Saskia Smit"), "{}", mail.raw);
    assert!(mail.raw.contains("text/html"), "an HTML part too");
    let link = mail.link_to("reset").expect("a reset link in the mail");
    assert!(link.starts_with(&app.address), "{link} on the public URL");
    let token = url::Url::parse(&link)?
        .query_pairs()
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.into_owned())
        .expect("a token");

    // Bad input: no change.
    expect_error(
        anonymous
            .post(app.url("/api/v1/auth/password-reset/complete"))
            .json(&json!({"token": token, "password": "kort"}))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    expect_error(
        anonymous
            .post(app.url("/api/v1/auth/password-reset/complete"))
            .json(&json!({"token": format!("{token}x"), "password": "een nieuw lang wachtwoord"}))
            .send()
            .await?,
        StatusCode::BAD_REQUEST,
        "invalid_link",
    )
    .await?;
    let malformed = anonymous
        .post(app.url("/api/v1/auth/password-reset/complete"))
        .header("content-type", "application/json")
        .body("{\"token\": \"abc\", ")
        .send()
        .await?;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let body: Value = malformed.json().await?;
    assert!(body["error"]["code"].is_string(), "{body}");

    // The link sets the password; every session of the person ends.
    let response = anonymous
        .post(app.url("/api/v1/auth/password-reset/complete"))
        .json(&json!({"token": token, "password": "een nieuw lang wachtwoord"}))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let me = saskia.client.get(app.url("/api/v1/me")).send().await?;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    app.login(email, "een nieuw lang wachtwoord").await?;
    let old = anonymous
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PERSON_PASSWORD}))
        .send()
        .await?;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);

    // Once only.
    expect_error(
        anonymous
            .post(app.url("/api/v1/auth/password-reset/complete"))
            .json(&json!({"token": token, "password": "nog een ander wachtwoord"}))
            .send()
            .await?,
        StatusCode::BAD_REQUEST,
        "invalid_link",
    )
    .await?;
    // Nothing went to the unknown address; the sent mail keeps no body.
    let status = settled_mail_status(&app).await?;
    assert_eq!(status["sent"], 1, "{status}");
    assert!(smtp.try_mail().is_none());
    Ok(())
}

#[tokio::test]
async fn invitations_reach_those_who_cannot_sign_in_and_welcome_them_once() -> anyhow::Result<()> {
    let mut smtp = SmtpServer::start(&[]).await?;
    let app = app_mailing_to(&smtp).await?;
    app.setup_admin().await?;
    let hr = app.someone("Hanna HR", "hr").await?;
    let employee = app.someone("Erik Employee", "employee").await?;
    let csv = format!(
        "{IMPORT_HEADER}\nE1,Zoë,d'Ăngelo,zoe@plein.example,,Sales,Utrecht,,,,\nE2,Bram,Bos,bram@plein.example,,Sales,Utrecht,,,,\nE3,Cor,Claes,cor@plein.example,,IT,Delft,,,,\n"
    );
    assert_eq!(app.import_csv("", &csv).await?.status(), StatusCode::OK);

    // Only HR and admins invite, and exactly one way of choosing.
    app.expect_as(
        &employee.client,
        Method::POST,
        "/api/v1/admin/invitations",
        Some(json!({"department": "Sales"})),
        StatusCode::FORBIDDEN,
    )
    .await?;
    let both = app
        .expect_as(
            &hr.client,
            Method::POST,
            "/api/v1/admin/invitations",
            Some(json!({"department": "Sales", "all_without_sign_in": true})),
            StatusCode::BAD_REQUEST,
        )
        .await?;
    assert_eq!(both["error"]["code"], "invalid_invitation");
    app.expect_as(
        &hr.client,
        Method::POST,
        "/api/v1/admin/invitations",
        Some(json!({"person_ids": ["not-a-uuid"]})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await?;

    // Sales: Zoë and Bram; someone who can sign in already and an unknown id are skipped.
    let outcome = app
        .expect_as(
            &hr.client,
            Method::POST,
            "/api/v1/admin/invitations",
            Some(json!({"department": "Sales"})),
            StatusCode::ACCEPTED,
        )
        .await?;
    assert_eq!(outcome, json!({"invited": 2, "skipped": 0}));
    let outcome = app
        .expect_as(
            &hr.client,
            Method::POST,
            "/api/v1/admin/invitations",
            Some(json!({"person_ids": [employee.id, uuid::Uuid::now_v7()]})),
            StatusCode::ACCEPTED,
        )
        .await?;
    assert_eq!(outcome, json!({"invited": 0, "skipped": 2}));

    let mut mails = vec![smtp.next_mail().await?, smtp.next_mail().await?];
    mails.sort_by(|a, b| a.to.cmp(&b.to));
    assert_eq!(mails[0].to, ["bram@plein.example"]);
    assert_eq!(mails[1].to, ["zoe@plein.example"]);
    for mail in &mails {
        assert_eq!(
            mail.header("To").map(|to| to.contains(&mail.to[0])),
            Some(true)
        );
        assert!(mail.header("Bcc").is_none());
        assert_eq!(
            mail.header("Subject").as_deref(),
            Some("Hanna HR invites you to Plein")
        );
    }
    // Unicode names survive the trip (quoted-printable in the text part).
    assert!(
        mails[1].raw.contains("Zo=C3=AB") || mails[1].raw.contains("Zoë"),
        "{}",
        mails[1].raw
    );

    let link = mails[1].link_to("welcome").expect("a welcome link");
    let token = url::Url::parse(&link)?
        .query_pairs()
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.into_owned())
        .expect("a token");
    let anonymous = new_client()?;
    let response = anonymous
        .post(app.url("/api/v1/auth/password-reset/complete"))
        .json(&json!({"token": token, "password": "welkom bij plein zoë"}))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    app.login("zoe@plein.example", "welkom bij plein zoë")
        .await?;
    let again = anonymous
        .post(app.url("/api/v1/auth/password-reset/complete"))
        .json(&json!({"token": token, "password": "welkom bij plein zoë"}))
        .send()
        .await?;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);

    // Everyone who cannot sign in yet: Bram (his first link unused) and Cor; not Zoë now.
    let outcome = app
        .expect_as(
            &hr.client,
            Method::POST,
            "/api/v1/admin/invitations",
            Some(json!({"all_without_sign_in": true})),
            StatusCode::ACCEPTED,
        )
        .await?;
    assert_eq!(outcome["invited"], 2, "{outcome}");
    let mut to: Vec<String> = vec![
        smtp.next_mail().await?.to.concat(),
        smtp.next_mail().await?.to.concat(),
    ];
    to.sort();
    assert_eq!(to, ["bram@plein.example", "cor@plein.example"]);
    Ok(())
}

#[tokio::test]
async fn a_refused_recipient_is_given_up_and_admins_see_it() -> anyhow::Result<()> {
    let mut smtp = SmtpServer::start(&["weg@plein.example"]).await?;
    let app = app_mailing_to(&smtp).await?;
    app.setup_admin().await?;
    let csv = format!(
        "{IMPORT_HEADER}\nE1,Wim,Weg,weg@plein.example,,Sales,Utrecht,,,,\nE2,Ada,Aan,ada@plein.example,,Sales,Utrecht,,,,\n"
    );
    assert_eq!(app.import_csv("", &csv).await?.status(), StatusCode::OK);
    let status = app.get_json("/api/v1/admin/mail").await?;
    assert_eq!(status["enabled"], true);
    assert_eq!(status["from"], "Plein <plein@plein.example>");
    app.expect_as(
        &app.client,
        Method::POST,
        "/api/v1/admin/invitations",
        Some(json!({"department": "Sales"})),
        StatusCode::ACCEPTED,
    )
    .await?;
    assert_eq!(smtp.next_mail().await?.to, ["ada@plein.example"]);
    let status = settled_mail_status(&app).await?;
    assert_eq!(
        (status["sent"].clone(), status["failed"].clone()),
        (json!(1), json!(1)),
        "{status}"
    );
    Ok(())
}

#[tokio::test]
async fn without_smtp_mail_is_off_and_reset_requests_are_limited() -> anyhow::Result<()> {
    let app = TestApp::spawn_with(|raw| {
        raw.password_resets_per_address_per_hour = 2;
        raw.password_resets_per_ip_per_hour = 4;
    })
    .await?;
    app.setup_admin().await?;
    let status = app.get_json("/api/v1/admin/mail").await?;
    assert_eq!(status["enabled"], false, "{status}");
    let anonymous = new_client()?;
    let reset = |email: &'static str| {
        anonymous
            .post(app.url("/api/v1/auth/password-reset"))
            .json(&json!({"email": email}))
            .send()
    };
    // Per address (known or not), then per client.
    assert_eq!(reset(ADMIN_EMAIL).await?.status(), StatusCode::ACCEPTED);
    assert_eq!(reset(ADMIN_EMAIL).await?.status(), StatusCode::ACCEPTED);
    let limited = reset(ADMIN_EMAIL).await?;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(
        reset("iemand@plein.example").await?.status(),
        StatusCode::ACCEPTED
    );
    expect_error(
        reset("nog.iemand@plein.example").await?,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await?;
    // Not an address at all, or the wrong shape.
    let fresh = TestApp::spawn().await?;
    let wrong_type = new_client()?
        .post(fresh.url("/api/v1/auth/password-reset"))
        .json(&json!({"email": 42}))
        .send()
        .await?;
    assert!(wrong_type.status().is_client_error());
    let body: Value = wrong_type.json().await?;
    assert!(body["error"]["code"].is_string(), "{body}");
    Ok(())
}

/// Two nodes on one database, both sending the queue: every mail goes out exactly once.
#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL=postgres://…"
)]
async fn two_nodes_send_the_queue_without_sending_a_mail_twice() -> anyhow::Result<()> {
    let mut smtp = SmtpServer::start(&[]).await?;
    let app = app_mailing_to(&smtp).await?;
    anyhow::ensure!(app.database.is_postgres(), "this test needs PostgreSQL");
    let node_b = app.spawn_second_node().await?;
    app.setup_admin().await?;
    let people = 120;
    let mut csv = format!("{IMPORT_HEADER}\n");
    for n in 0..people {
        csv.push_str(&format!(
            "E{n},Persoon,Nummer {n},p{n}@plein.example,,Sales,Utrecht,,,,\n"
        ));
    }
    assert_eq!(app.import_csv("", &csv).await?.status(), StatusCode::OK);
    let outcome = app
        .expect_as(
            &app.client,
            Method::POST,
            "/api/v1/admin/invitations",
            Some(json!({"all_without_sign_in": true})),
            StatusCode::ACCEPTED,
        )
        .await?;
    assert_eq!(outcome["invited"], people);
    // Both workers look at once: node B's as it would after its next poll.
    node_b.handle.state.mailer.wake();
    let mut received = std::collections::BTreeMap::<String, u32>::new();
    for _ in 0..people {
        let mail = smtp.next_mail().await?;
        *received.entry(mail.to.concat()).or_default() += 1;
    }
    assert_eq!(received.len(), people, "one mail per person");
    let status = settled_mail_status(&app).await?;
    assert_eq!(status["sent"], people, "{status}");
    assert!(smtp.try_mail().is_none(), "no mail twice");
    Ok(())
}
