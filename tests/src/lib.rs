//! Test harness: spawns the real server on port 0 with a fresh database (SQLite in a temp dir,
//! or its own PostgreSQL database when `TEST_DATABASE_URL` is set) and talks to it over HTTP.

pub mod pictures;
pub mod process;
pub mod smtp;
pub mod socket;

use std::sync::Arc;

use anyhow::Context;
use plein_server::app::AppHandle;
use plein_server::{Application, Config, RawConfig};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};

pub const ADMIN_EMAIL: &str = "beheer@plein.example";
pub const ADMIN_PASSWORD: &str = "een heel geheim wachtwoord";
/// The password of people tests create with [`TestApp::someone`].
pub const PERSON_PASSWORD: &str = "een lang genoeg wachtwoord";

/// Someone signed in with a client of their own.
pub struct Someone {
    pub id: String,
    pub client: reqwest::Client,
    /// Their session cookie (`name=value`), for a socket.
    pub cookie: String,
}

/// A database of its own for one test; PostgreSQL databases are dropped when it goes away.
pub struct TestDatabase {
    pub url: String,
    postgres_admin_url: Option<String>,
    name: String,
    _dir: Arc<tempfile::TempDir>,
}

impl TestDatabase {
    /// PostgreSQL when `TEST_DATABASE_URL` names one, else a SQLite file in `dir`.
    pub async fn create(dir: Arc<tempfile::TempDir>) -> anyhow::Result<TestDatabase> {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if admin_url.starts_with("postgres") => {
                Self::create_postgres(&admin_url, dir).await
            }
            _ => Ok(Self::create_sqlite(dir)),
        }
    }

    pub fn create_sqlite(dir: Arc<tempfile::TempDir>) -> TestDatabase {
        let path = dir.path().join("plein.db");
        TestDatabase {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            postgres_admin_url: None,
            name: String::new(),
            _dir: dir,
        }
    }

    /// Creates a fresh database on the server `admin_url` points at.
    pub async fn create_postgres(
        admin_url: &str,
        dir: Arc<tempfile::TempDir>,
    ) -> anyhow::Result<TestDatabase> {
        let name = format!("plein_test_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(admin_url)
            .await
            .context("cannot reach TEST_DATABASE_URL")?;
        admin
            .execute_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("CREATE DATABASE {name}"),
            ))
            .await?;
        admin.close().await?;
        let mut url = url::Url::parse(admin_url)?;
        url.set_path(&format!("/{name}"));
        Ok(TestDatabase {
            url: url.to_string(),
            postgres_admin_url: Some(admin_url.to_owned()),
            name,
            _dir: dir,
        })
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres_admin_url.is_some()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(admin_url) = self.postgres_admin_url.clone() else {
            return;
        };
        let name = self.name.clone();
        // Drop runs inside the test's runtime; do the async clean-up on a thread of its own.
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(admin) = Database::connect(admin_url.as_str()).await {
                    let drop_sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = admin
                        .execute_raw(Statement::from_string(DbBackend::Postgres, drop_sql))
                        .await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// A running server and a cookie-keeping client for it.
pub struct TestApp {
    pub address: String,
    /// `metrics_bind`'s address, when the test set one.
    pub metrics_address: Option<String>,
    pub handle: AppHandle,
    pub client: reqwest::Client,
    pub config: Config,
    pub database: TestDatabase,
    pub dir: Arc<tempfile::TempDir>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// An event about a made-up person, for exercising the outbox: writer `writer`'s `n`th.
pub fn sample_event(writer: u64, n: u64) -> plein_server::events::Event {
    use plein_server::directory::dto::{PersonEvent, Role};
    plein_server::events::Event::PersonUpdated {
        person: PersonEvent {
            id: uuid::Uuid::now_v7(),
            email: Some(format!("writer{writer}.{n}@plein.example")),
            display_name: format!("Writer {writer} event {n}"),
            role: Role::Employee,
            active: true,
        },
    }
}

/// Settings every test server starts from.
pub fn test_raw_config(dir: &tempfile::TempDir, database_url: &str) -> RawConfig {
    RawConfig {
        bind: "127.0.0.1:0"
            .parse()
            .unwrap_or_else(|_| RawConfig::default().bind),
        data_dir: dir.path().join("data"),
        database_url: Some(database_url.to_owned()),
        log: std::env::var("TEST_LOG").unwrap_or_else(|_| "error".to_owned()),
        database_max_connections: 5,
        ..RawConfig::default()
    }
}

impl TestApp {
    pub async fn spawn() -> anyhow::Result<TestApp> {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns with adjusted settings on a free port. `public_url` names that port unless set.
    pub async fn spawn_with(adjust: impl FnOnce(&mut RawConfig)) -> anyhow::Result<TestApp> {
        let dir = Arc::new(tempfile::tempdir()?);
        let database = TestDatabase::create(dir.clone()).await?;
        let mut raw = test_raw_config(&dir, &database.url);
        adjust(&mut raw);
        let config = Config::from_raw(raw)?;
        plein_server::telemetry::init(&config.log, config.log_format)?;
        let application = Application::build(config).await?;
        let address = format!("http://127.0.0.1:{}", application.port());
        let metrics_address = application
            .metrics_port()
            .map(|port| format!("http://127.0.0.1:{port}"));
        let handle = application.handle();
        // The configuration as served: port 0 became the bound port, in `public_url` too.
        let config = Config::clone(&handle.state.config);
        let server = tokio::spawn(application.run_until_stopped());
        let client = new_client()?;
        Ok(TestApp {
            address,
            metrics_address,
            handle,
            client,
            config,
            database,
            dir,
            server: Some(server),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// The setup token the server printed in its link.
    pub async fn setup_token(&self) -> anyhow::Result<String> {
        plein_server::admin::service::ensure_setup_token(&self.handle.state.db)
            .await?
            .context("setup is already done")
    }

    /// Completes first-run setup; `self.client` is then signed in as the admin.
    pub async fn setup_admin(&self) -> anyhow::Result<Value> {
        let token = self.setup_token().await?;
        let response = self
            .client
            .post(self.url("/api/v1/setup"))
            .json(&json!({"token": token, "email": ADMIN_EMAIL, "name": "Beheerder", "password": ADMIN_PASSWORD}))
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == StatusCode::CREATED,
            "setup failed: {}",
            response.text().await?
        );
        Ok(response.json::<Value>().await?["person"].clone())
    }

    /// Creates a person as the admin (`self.client` must be signed in as one).
    pub async fn create_person(
        &self,
        email: &str,
        name: &str,
        role: &str,
        password: &str,
    ) -> anyhow::Result<Value> {
        let response = self
            .client
            .post(self.url("/api/v1/admin/people"))
            .json(&json!({"email": email, "name": name, "role": role, "password": password}))
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == StatusCode::CREATED,
            "create person failed: {}",
            response.text().await?
        );
        Ok(response.json().await?)
    }

    /// Creates a person named `name` with `role` (their address made from the name) and signs
    /// them in.
    pub async fn someone(&self, name: &str, role: &str) -> anyhow::Result<Someone> {
        let email = format!("{}@plein.example", name.to_lowercase().replace(' ', "."));
        let created = self
            .create_person(&email, name, role, PERSON_PASSWORD)
            .await?;
        self.signed_in(created["id"].as_str().unwrap_or_default(), &email)
            .await
    }

    /// Signs in a person who exists already (with the tests' password).
    pub async fn signed_in(&self, id: &str, email: &str) -> anyhow::Result<Someone> {
        let (client, cookie) = self.login_session(email, PERSON_PASSWORD).await?;
        Ok(Someone {
            id: id.to_owned(),
            client,
            cookie,
        })
    }

    /// Like [`someone`](Self::someone), working in `department` at `location`.
    pub async fn someone_in(
        &self,
        name: &str,
        role: &str,
        department: &str,
        location: &str,
    ) -> anyhow::Result<Someone> {
        let person = self.someone(name, role).await?;
        let patched = self
            .send_json(
                reqwest::Method::PATCH,
                &format!("/api/v1/admin/people/{}", person.id),
                &json!({"department": department, "location": location}),
            )
            .await?;
        anyhow::ensure!(
            patched.status() == StatusCode::OK,
            "{}",
            patched.text().await?
        );
        Ok(person)
    }

    /// Sends a request as `who` (a JSON body when given) and insists on `status`; answers the
    /// JSON body (Null when there is none).
    pub async fn expect_as(
        &self,
        who: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        status: StatusCode,
    ) -> anyhow::Result<Value> {
        let mut request = who.request(method.clone(), self.url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let got = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(
            got == status,
            "{method} {path}: expected {status}, got {got}: {body}"
        );
        Ok(body)
    }

    /// Starts a conversation as `from` with `others` (one other: their direct conversation, new);
    /// its id.
    pub async fn conversation(
        &self,
        from: &Someone,
        others: &[&Someone],
    ) -> anyhow::Result<String> {
        let ids: Vec<&str> = others.iter().map(|other| other.id.as_str()).collect();
        let started = self
            .expect_as(
                &from.client,
                reqwest::Method::POST,
                "/api/v1/conversations",
                Some(json!({"person_ids": ids})),
                StatusCode::CREATED,
            )
            .await?;
        started["id"]
            .as_str()
            .map(str::to_owned)
            .context("no id in the answer")
    }

    /// A new client signed in as `email`.
    pub async fn login(&self, email: &str, password: &str) -> anyhow::Result<reqwest::Client> {
        Ok(self.login_session(email, password).await?.0)
    }

    /// A new client signed in as `email`, and its session cookie (`name=value`).
    pub async fn login_session(
        &self,
        email: &str,
        password: &str,
    ) -> anyhow::Result<(reqwest::Client, String)> {
        let client = new_client()?;
        let response = client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await?;
        let cookie = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|value| value.split(';').next())
            .collect::<Vec<_>>()
            .join("; ");
        anyhow::ensure!(
            response.status() == StatusCode::OK,
            "login failed: {}",
            response.text().await?
        );
        Ok((client, cookie))
    }

    /// Starts another node on the same database with its own data directory (its own search
    /// index), as a second server process of a multi-node deployment would be.
    pub async fn spawn_second_node(&self) -> anyhow::Result<TestNode> {
        let dir = tempfile::tempdir()?;
        let mut config = self.config.clone();
        config.data_dir = dir.path().join("data");
        config.bind = "127.0.0.1:0".parse()?;
        let application = Application::build(config).await?;
        let address = format!("http://127.0.0.1:{}", application.port());
        let handle = application.handle();
        tokio::spawn(application.run_until_stopped());
        Ok(TestNode {
            address,
            handle,
            _dir: dir,
        })
    }

    /// Waits until this node's consumers (the search index among them) have applied every event
    /// committed so far. The bound is for failure only: catching up takes milliseconds.
    pub async fn caught_up(&self) -> anyhow::Result<()> {
        caught_up(&self.handle).await
    }

    /// The display names search finds for `query`, once this node has indexed every change.
    pub async fn search_names(&self, query: &str) -> anyhow::Result<Vec<String>> {
        self.caught_up().await?;
        let response = self
            .client
            .get(self.url("/api/v1/people/search"))
            .query(&[("q", query)])
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == StatusCode::OK,
            "search failed: {}",
            response.text().await?
        );
        let results: Value = response.json().await?;
        Ok(results["hits"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|hit| hit["display_name"].as_str().map(str::to_owned))
            .collect())
    }

    /// Sends a CSV file to the HR import with the app's own client.
    pub async fn import_csv(&self, query: &str, csv: &str) -> anyhow::Result<reqwest::Response> {
        Ok(self
            .client
            .post(self.url(&format!("/api/v1/admin/people/import{query}")))
            .header("content-type", "text/csv; charset=utf-8")
            .body(csv.to_owned())
            .send()
            .await?)
    }

    /// GET with the app's own client, parsed as JSON.
    /// Creates an API token with `scopes` as the admin and returns its secret.
    pub async fn create_token(&self, scopes: &[&str]) -> anyhow::Result<String> {
        let response = self
            .send_json(
                reqwest::Method::POST,
                "/api/v1/admin/tokens",
                &json!({"name": format!("test {}", scopes.join("+")), "scopes": scopes}),
            )
            .await?;
        anyhow::ensure!(
            response.status() == StatusCode::CREATED,
            "token creation failed: {}",
            response.text().await?
        );
        let created: Value = response.json().await?;
        created["secret"]
            .as_str()
            .map(str::to_owned)
            .context("no secret in the answer")
    }

    pub async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self.client.get(self.url(path)).send().await?.json().await?)
    }

    /// Sends JSON with the app's own client.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> anyhow::Result<reqwest::Response> {
        Ok(self
            .client
            .request(method, self.url(path))
            .json(body)
            .send()
            .await?)
    }

    /// Stops the server and waits until it has shut down.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.handle.shutdown.cancel();
        if let Some(server) = self.server.take() {
            server.await??;
        }
        Ok(())
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.handle.shutdown.cancel();
    }
}

pub fn new_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().cookie_store(true).build()?)
}

/// Asserts an error body in our format and returns it.
pub async fn expect_error(
    response: reqwest::Response,
    status: StatusCode,
    code: &str,
) -> anyhow::Result<Value> {
    let actual_status = response.status();
    let has_request_id = response.headers().contains_key("x-request-id");
    let body: Value = response.json().await.context("error body is not JSON")?;
    anyhow::ensure!(
        actual_status == status,
        "expected {status}, got {actual_status}: {body}"
    );
    anyhow::ensure!(
        body["error"]["code"] == code,
        "expected code {code}, got {body}"
    );
    anyhow::ensure!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "no message in {body}"
    );
    anyhow::ensure!(has_request_id, "no x-request-id header");
    Ok(body)
}

/// A second server on the same database; stops when dropped.
pub struct TestNode {
    pub address: String,
    pub handle: AppHandle,
    _dir: tempfile::TempDir,
}

impl TestNode {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Waits until this node has applied every event committed so far, on any node.
    pub async fn caught_up(&self) -> anyhow::Result<()> {
        caught_up(&self.handle).await
    }
}

/// Waits until a node's consumers have applied every event committed so far. The bound is for
/// failure only: catching up takes milliseconds.
async fn caught_up(node: &AppHandle) -> anyhow::Result<()> {
    let head = plein_server::events::head(&node.state.db).await?;
    let done = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        node.state.tailer.wait_for(head),
    )
    .await?;
    anyhow::ensure!(done, "the tailer stopped before catching up");
    Ok(())
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.handle.shutdown.cancel();
    }
}
