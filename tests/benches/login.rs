//! Sign-in timing over HTTP: a wrong password and an unknown email must cost the same, so the
//! answer time does not reveal who has an account. Also the cost of a successful sign-in.
//!
//! cargo bench -p plein-tests --bench login

use std::time::{Duration, Instant};

use plein_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, new_client};
use serde_json::json;

const ROUNDS: usize = 60;

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn time_logins(app: &TestApp, email: &str, password: &str) -> anyhow::Result<Vec<Duration>> {
    let client = new_client()?;
    let mut timings = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let response = client
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await?;
        let status = response.status();
        response.bytes().await?;
        timings.push(started.elapsed());
        anyhow::ensure!(
            status.as_u16() == 200 || status.as_u16() == 401,
            "unexpected {status}"
        );
    }
    timings.sort();
    Ok(timings)
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let app = TestApp::spawn_with(|raw| {
            raw.login_failures_per_account_and_address = 10_000;
            raw.login_failures_per_account = 10_000;
            raw.login_failures_per_address = 10_000;
            raw.login_attempts_per_ip_per_minute = 10_000;
        })
        .await?;
        app.setup_admin().await?;
        println!("| case | rounds | p50 | p99 |");
        println!("|---|---|---|---|");
        for (label, email, password) in [
            ("wrong password", ADMIN_EMAIL, "not the right password"),
            (
                "unknown email",
                "nobody@plein.example",
                "not the right password",
            ),
            ("successful sign-in", ADMIN_EMAIL, ADMIN_PASSWORD),
        ] {
            let timings = time_logins(&app, email, password).await?;
            println!(
                "| {label} | {ROUNDS} | {:.1} ms | {:.1} ms |",
                percentile(&timings, 0.5).as_secs_f64() * 1000.0,
                percentile(&timings, 0.99).as_secs_f64() * 1000.0
            );
        }
        app.stop().await
    })
}
