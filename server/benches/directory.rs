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

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use common::{GIVE_UP, Site, drop_databases, ms, percentile, stop};
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
    let url = site.url("/api/v1/people/search");
    let (latencies, failures) = {
        let (client, token, mix) = (client.clone(), token.clone(), mix.clone());
        common::steady_load(
            RATE_PER_SECOND,
            (RATE_PER_SECOND * (LOAD_SECONDS + WARM_UP_SECONDS)) as usize,
            (RATE_PER_SECOND * WARM_UP_SECONDS) as usize,
            move |index| {
                client
                    .get(&url)
                    .bearer_auth(&token)
                    .query(&[("q", mix[index % mix.len()].as_str())])
            },
        )
        .await?
    };
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

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}
