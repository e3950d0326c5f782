//! The directory at company scale, against the release `plein` binary as a separate process:
//!
//! 1. HR import of the 30,000-person demo company over HTTP, until the last person is searchable;
//! 2. cold start with 30,000 people (process start until `/readyz` and a first search answer);
//! 3. colleague search over HTTP at a steady 1,000 queries/s, and in the same run the naive
//!    baseline a peer would use: `lower(column) LIKE '%word%'` over the same rows, straight on the
//!    database (no HTTP in its way, so the comparison favours the baseline).
//!
//! cargo bench -p plein-server --bench directory                      (SQLite)
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo bench -p plein-server --bench directory                    (PostgreSQL)

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom as _;
use rand::{Rng as _, SeedableRng as _};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::Value;

const PEOPLE: usize = 30_000;
const ROUNDS: usize = 3;
const RATE_PER_SECOND: u64 = 1_000;
const LOAD_SECONDS: u64 = 10;
const WARM_UP_SECONDS: u64 = 1;
const BASELINE_QUERIES: usize = 300;
const GIVE_UP: Duration = Duration::from_secs(120);

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1_000.0)
}

/// One server's data: its directory and its database.
struct Site {
    dir: tempfile::TempDir,
    database_url: String,
    port: u16,
}

impl Site {
    async fn create(round: usize) -> anyhow::Result<Site> {
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

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn command(&self, args: &[&str]) -> Command {
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

    fn admin_token(&self) -> anyhow::Result<String> {
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

    fn serve(&self) -> anyhow::Result<Child> {
        Ok(self
            .command(&["serve"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?)
    }

    async fn wait_ready(&self, client: &reqwest::Client) -> anyhow::Result<()> {
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

fn stop(mut server: Child) -> anyhow::Result<()> {
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()?;
    server.wait()?;
    Ok(())
}

async fn search(
    client: &reqwest::Client,
    site: &Site,
    token: &str,
    query: &str,
) -> anyhow::Result<Value> {
    let response = client
        .get(site.url("/api/v1/people/search"))
        .bearer_auth(token)
        .query(&[("q", query)])
        .send()
        .await?;
    anyhow::ensure!(response.status().is_success(), "search {query} failed");
    Ok(response.json().await?)
}

/// A mix of what people type: surnames, typeahead prefixes, first name + surname start, one
/// and two typos, first name + department.
fn queries(company: &[plein_server::demo::DemoPerson], count: usize) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(42);
    let mut queries = Vec::with_capacity(count);
    while queries.len() < count {
        let Some(person) = company.choose(&mut rng) else {
            break;
        };
        let surname = person
            .family_name
            .split_whitespace()
            .last()
            .unwrap_or_default()
            .to_lowercase();
        let letters: Vec<char> = surname.chars().collect();
        let query = match rng.random_range(0..6) {
            0 => surname.clone(),
            1 => letters.iter().take(4).collect(),
            2 => format!(
                "{} {}",
                person.given_name.to_lowercase(),
                letters.first().map(char::to_string).unwrap_or_default()
            ),
            3 if letters.len() >= 5 => {
                let mut typo = letters.clone();
                typo.remove(letters.len() / 2);
                typo.into_iter().collect()
            }
            4 if letters.len() >= 8 => {
                let mut typo = letters.clone();
                typo.swap(1, 2);
                typo.remove(letters.len() - 2);
                typo.into_iter().collect()
            }
            _ => format!(
                "{} {}",
                person.given_name.to_lowercase(),
                person.department.to_lowercase()
            ),
        };
        queries.push(query);
    }
    queries
}

/// Sends `queries` at a steady rate; latency counts from when each request was due, so a slow
/// answer cannot hide the ones queued behind it.
///
/// The schedule is kept by a thread of its own with the operating system's sleep (tens of µs
/// late at most): tokio's timer works in whole milliseconds, which would add up to a
/// millisecond of waiting in the load generator to every answer.
async fn steady_load(
    client: &reqwest::Client,
    site: &Site,
    token: &str,
    queries: &[String],
) -> anyhow::Result<(Vec<Duration>, usize)> {
    let interval = Duration::from_micros(1_000_000 / RATE_PER_SECOND);
    let total = (RATE_PER_SECOND * (LOAD_SECONDS + WARM_UP_SECONDS)) as usize;
    let warm_up = (RATE_PER_SECOND * WARM_UP_SECONDS) as usize;
    let runtime = tokio::runtime::Handle::current();
    let client = client.clone();
    let url = site.url("/api/v1/people/search");
    let token = token.to_owned();
    let queries = queries.to_vec();
    let tasks = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut tasks = Vec::with_capacity(total);
        for index in 0..total {
            let due = started + interval * index as u32;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let client = client.clone();
            let url = url.clone();
            let token = token.clone();
            let query = queries[index % queries.len()].clone();
            tasks.push(runtime.spawn(async move {
                let response = client
                    .get(url)
                    .bearer_auth(token)
                    .query(&[("q", query.as_str())])
                    .send()
                    .await;
                let ok = match response {
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
    for task in tasks {
        let (index, latency, ok) = task.await?;
        if !ok {
            failures += 1;
        }
        if index >= warm_up {
            latencies.push(latency);
        }
    }
    latencies.sort();
    Ok((latencies, failures))
}

/// The naive search a peer would run: every word somewhere in name, title, department,
/// location or email, case-insensitively, sorted by name, first 20.
async fn baseline(database_url: &str, queries: &[String]) -> anyhow::Result<Vec<Duration>> {
    let db = Database::connect(database_url).await?;
    let backend = db.get_database_backend();
    let mut latencies = Vec::with_capacity(queries.len());
    for query in queries {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        let mut conditions = Vec::new();
        let mut values: Vec<sea_orm::Value> = Vec::new();
        for word in &words {
            let mut ors = Vec::new();
            for column in ["display_name", "title", "department", "location", "email"] {
                values.push(format!("%{word}%").into());
                let placeholder = match backend {
                    DbBackend::Postgres => format!("${}", values.len()),
                    _ => "?".to_owned(),
                };
                ors.push(format!("lower({column}) LIKE {placeholder}"));
            }
            conditions.push(format!("({})", ors.join(" OR ")));
        }
        let sql = format!(
            "SELECT id, display_name, title, department, location FROM people \
             WHERE active AND {} ORDER BY sort_name LIMIT 20",
            conditions.join(" AND ")
        );
        let started = Instant::now();
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        latencies.push(started.elapsed());
        std::hint::black_box(rows);
    }
    latencies.sort();
    Ok(latencies)
}

async fn import_round(round: usize, csv: &[u8], last_email_local: &str) -> anyhow::Result<Round> {
    let client = reqwest::Client::new();
    let site = Site::create(round).await?;
    let migrate = site.command(&["migrate"]).stdout(Stdio::null()).status()?;
    anyhow::ensure!(migrate.success(), "migrate failed");
    let token = site.admin_token()?;
    let server = site.serve()?;
    site.wait_ready(&client).await?;

    let started = Instant::now();
    let response = client
        .post(site.url("/api/v1/admin/people/import"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(csv.to_vec())
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "import failed: {}",
        response.text().await?
    );
    let committed = started.elapsed();
    loop {
        let found = search(&client, &site, &token, last_email_local).await?;
        if found["total"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < GIVE_UP,
            "the import never became searchable"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let searchable = started.elapsed();
    stop(server)?;

    let started = Instant::now();
    let server = site.serve()?;
    site.wait_ready(&client).await?;
    let ready = started.elapsed();
    search(&client, &site, &token, "jansen").await?;
    let first_answer = started.elapsed();
    Ok(Round {
        committed,
        searchable,
        ready,
        first_answer,
        site,
        token,
        server,
    })
}

/// What one round measured, and its server, still running.
struct Round {
    committed: Duration,
    searchable: Duration,
    ready: Duration,
    first_answer: Duration,
    site: Site,
    token: String,
    server: Child,
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

async fn run() -> anyhow::Result<()> {
    let backend = if std::env::var("TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres"))
    {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let company = plein_server::demo::generate(PEOPLE, 1);
    let csv = plein_server::demo::to_csv(&company)?;
    let last_email_local = company
        .last()
        .and_then(|person| person.email.split('@').next())
        .unwrap_or_default()
        .to_owned();
    println!(
        "backend: {backend}; {PEOPLE} people, {} KiB of CSV",
        csv.len() / 1024
    );

    let mut committed = Vec::new();
    let mut searchable = Vec::new();
    let mut ready = Vec::new();
    let mut answered = Vec::new();
    let mut kept: Option<Round> = None;
    let mut databases = Vec::new();
    for round in 0..ROUNDS {
        let measured = import_round(round, &csv, &last_email_local).await?;
        println!(
            "round {}: import committed {}, searchable {}; cold start ready {}, first answer {}",
            round + 1,
            ms(measured.committed),
            ms(measured.searchable),
            ms(measured.ready),
            ms(measured.first_answer)
        );
        committed.push(measured.committed);
        searchable.push(measured.searchable);
        ready.push(measured.ready);
        answered.push(measured.first_answer);
        databases.push(measured.site.database_url.clone());
        // The last round's server stays up for the search load.
        if let Some(previous) = kept.replace(measured) {
            stop(previous.server)?;
        }
    }
    println!(
        "median of {ROUNDS}: import committed {}, searchable {}; cold start ready {}, first answer {}",
        ms(median(committed)),
        ms(median(searchable)),
        ms(median(ready)),
        ms(median(answered))
    );

    let Round {
        site,
        token,
        server,
        ..
    } = kept.context("no rounds ran")?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let mix = queries(&company, 2_000);
    let (latencies, failures) = steady_load(&client, &site, &token, &mix).await?;
    let baseline = baseline(&site.database_url, &mix[..BASELINE_QUERIES]).await?;
    println!(
        "search over HTTP at {RATE_PER_SECOND}/s for {LOAD_SECONDS} s: {} answers, {failures} failed, p50 {}, p99 {}, max {}",
        latencies.len(),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default())
    );
    println!(
        "baseline lower(...) LIKE '%word%' on {backend}, {} queries one at a time: p50 {}, p99 {}",
        baseline.len(),
        ms(percentile(&baseline, 0.5)),
        ms(percentile(&baseline, 0.99))
    );
    println!(
        "p99 ratio baseline / plein: {:.1}×",
        percentile(&baseline, 0.99).as_secs_f64() / percentile(&latencies, 0.99).as_secs_f64()
    );
    stop(server)?;
    drop_databases(&databases).await
}

/// Drops the PostgreSQL databases the rounds created (SQLite ones go with their temp dirs).
async fn drop_databases(urls: &[String]) -> anyhow::Result<()> {
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

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}
