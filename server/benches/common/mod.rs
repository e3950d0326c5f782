//! What the HTTP benches share: a `plein` process on a fresh database, a steady load generator,
//! and percentiles.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, Value as SqlValue,
};

pub const GIVE_UP: Duration = Duration::from_secs(600);

pub fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

pub fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1_000.0)
}

/// One server's data: its directory and its database.
pub struct Site {
    pub dir: tempfile::TempDir,
    pub database_url: String,
    pub port: u16,
}

impl Site {
    pub async fn create(round: usize) -> anyhow::Result<Site> {
        let dir = tempfile::tempdir()?;
        let database_url = match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if admin_url.starts_with("postgres") => {
                let name = format!("plein_bench_{}_{round}", std::process::id());
                let admin = Database::connect(&admin_url).await?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await?;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await?;
                let mut url = url::Url::parse(&admin_url)?;
                url.set_path(&format!("/{name}"));
                url.to_string()
            }
            _ => format!("sqlite://{}/plein.db?mode=rwc", dir.path().display()),
        };
        let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = probe.local_addr()?.port();
        drop(probe);
        Ok(Site {
            dir,
            database_url,
            port,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_plein"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("PLEIN_CONFIG")
            .env("PLEIN_DATA_DIR", self.dir.path().join("data"))
            .env("PLEIN_DATABASE_URL", &self.database_url)
            .env("PLEIN_BIND", format!("127.0.0.1:{}", self.port))
            .env(
                "PLEIN_PUBLIC_URL",
                format!("http://127.0.0.1:{}", self.port),
            )
            .env("PLEIN_LOG", "warn")
            .stdin(Stdio::null());
        command
    }

    /// Creates a platform admin (`plein admin create`) who signs in with `password`.
    pub fn create_admin(&self, email: &str, name: &str, password: &str) -> anyhow::Result<()> {
        use std::io::Write as _;
        let mut admin = self
            .command(&["admin", "create", "--email", email, "--name", name])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        admin
            .stdin
            .take()
            .context("no stdin")?
            .write_all(format!("{password}\n").as_bytes())?;
        anyhow::ensure!(admin.wait()?.success(), "admin create failed");
        Ok(())
    }

    pub fn admin_token(&self) -> anyhow::Result<String> {
        let output = self
            .command(&["token", "create", "--name", "bench", "--scope", "admin"])
            .stdout(Stdio::piped())
            .output()?;
        anyhow::ensure!(output.status.success(), "token create failed");
        String::from_utf8(output.stdout)?
            .lines()
            .last()
            .map(str::to_owned)
            .context("no token printed")
    }

    pub fn serve(&self) -> anyhow::Result<Child> {
        Ok(self
            .command(&["serve"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?)
    }

    pub async fn wait_ready(&self, client: &reqwest::Client) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if let Ok(response) = client.get(self.url("/readyz")).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            anyhow::ensure!(started.elapsed() < GIVE_UP, "server never became ready");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Site {
    /// Waits until every outbox consumer has caught up with the outbox (after a first start
    /// they work through what `plein demo` wrote, beside any load): measurements then see the
    /// server as it runs day to day.
    pub async fn wait_settled(&self, client: &reqwest::Client) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            let ready: serde_json::Value =
                client.get(self.url("/readyz")).send().await?.json().await?;
            let head = ready["outbox_head"].as_i64().unwrap_or(i64::MAX);
            let settled = ready["consumers"].as_array().is_some_and(|consumers| {
                consumers
                    .iter()
                    .all(|consumer| consumer["seq"].as_i64().is_some_and(|seq| seq >= head))
            });
            if settled {
                return Ok(());
            }
            anyhow::ensure!(started.elapsed() < GIVE_UP, "consumers never caught up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

pub fn stop(mut server: Child) -> anyhow::Result<()> {
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()?;
    server.wait()?;
    Ok(())
}

/// Sends `total` requests at `rate` per second; latency counts from when each request was due,
/// so a slow answer cannot hide the ones queued behind it. The first `warm_up` are not counted.
/// Answers the sorted latencies and the number of failures.
///
/// The schedule is kept by a thread of its own with the operating system's sleep (tens of µs
/// late at most): tokio's timer works in whole milliseconds, which would add up to a
/// millisecond of waiting in the load generator to every answer.
pub async fn steady_load(
    rate: u64,
    total: usize,
    warm_up: usize,
    request: impl Fn(usize) -> reqwest::RequestBuilder + Send + 'static,
) -> anyhow::Result<(Vec<Duration>, usize)> {
    let interval = Duration::from_micros(1_000_000 / rate);
    let began = std::time::SystemTime::now();
    let runtime = tokio::runtime::Handle::current();
    let tasks = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut tasks = Vec::with_capacity(total);
        for index in 0..total {
            let due = started + interval * index as u32;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let pending = request(index);
            tasks.push(runtime.spawn(async move {
                let ok = match pending.send().await {
                    Ok(response) => {
                        let status = response.status();
                        response.bytes().await.is_ok() && status.is_success()
                    }
                    Err(_) => false,
                };
                (index, due.elapsed(), ok)
            }));
        }
        tasks
    })
    .await?;
    let mut latencies = Vec::with_capacity(total);
    let mut failures = 0;
    let mut trace = String::new();
    for task in tasks {
        let (index, latency, ok) = task.await?;
        if !ok {
            failures += 1;
        }
        if index >= warm_up {
            latencies.push(latency);
        }
        trace.push_str(&format!("{index},{},{ok}\n", latency.as_micros()));
    }
    // BENCH_TRACE_DIR=dir keeps each load's answers in order (request number, microseconds,
    // answered well), to see when in a run a slow stretch came; the first line gives the wall
    // clock of the first request (Unix seconds), to line the trace up with system statistics.
    if let Some(dir) = std::env::var_os("BENCH_TRACE_DIR") {
        static LOADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let load = LOADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::path::Path::new(&dir).join(format!("load-{}-{load}.csv", std::process::id()));
        let began = began
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        std::fs::write(
            path,
            format!("# began {began:.3}\nrequest,micros,ok\n{trace}"),
        )?;
    }
    latencies.sort();
    Ok((latencies, failures))
}

/// Drops the PostgreSQL databases the rounds created (SQLite ones go with their temp dirs).
pub async fn drop_databases(urls: &[String]) -> anyhow::Result<()> {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        return Ok(());
    };
    if !admin_url.starts_with("postgres") {
        return Ok(());
    }
    let admin = Database::connect(&admin_url).await?;
    for url in urls {
        let name = url::Url::parse(url)?
            .path()
            .trim_start_matches('/')
            .to_owned();
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
    }
    Ok(())
}

/// Placeholders for `rows` rows of `columns` values, in the backend's style.
pub fn placeholders(backend: DbBackend, rows: usize, columns: usize) -> String {
    let mut sql = String::new();
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push(',');
            }
            match backend {
                DbBackend::Postgres => sql.push_str(&format!("${}", row * columns + column + 1)),
                _ => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql
}

/// Inserts rows in statements of `chunk` rows, in one transaction per statement.
pub async fn insert(
    db: &DatabaseConnection,
    table_and_columns: &str,
    columns: usize,
    rows: Vec<Vec<SqlValue>>,
    chunk: usize,
) -> anyhow::Result<()> {
    let backend = db.get_database_backend();
    for part in rows.chunks(chunk) {
        let sql = format!(
            "INSERT INTO {table_and_columns} VALUES {}",
            placeholders(backend, part.len(), columns)
        );
        let values: Vec<SqlValue> = part.iter().flatten().cloned().collect();
        db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    Ok(())
}
