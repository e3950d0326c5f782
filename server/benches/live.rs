//! The live socket at company scale: a load generator over real websockets against two `plein`
//! processes on one PostgreSQL database (the demo company of 30,000 people, a session each).
//!
//! `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p plein-server --bench live`
//!
//! 1. idle memory: node A's resident memory at rest before and after 10,000 idle authenticated
//!    sockets (opened 500 at a time per shard), and the growth of the second 5,000 alone;
//! 2. one required announcement to everyone with 30,000 sockets open over both nodes: from its
//!    event's append (the last statement before the commit), from the publish answer and from
//!    the publish request to the `announcement.published` frame on every socket, with the CPU
//!    the nodes, PostgreSQL and the load generator spent meanwhile;
//! 3. chat: 10,000 sockets, 200 messages/s over 1,000 conversations, every message sent through
//!    node A and half of them received on node B: from send to the recipient's frame;
//! 4. a reconnect storm: all 10,000 sockets dropped at once and reopened with `since`, messages
//!    sent meanwhile; time until all have resumed, every message received once, and node A's
//!    answer times to other requests during it.
//!
//! Sockets live in shard processes (this binary run again with `PLEIN_LIVE_SHARD`), at most
//! 7,500 each: a process may hold 20,000 open files here. Shards and the driver share the
//! machine's clock, so a frame's receipt time is compared with the send time directly.

mod common;

use std::collections::HashSet;
use std::io::{BufRead as _, Write as _};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use common::{GIVE_UP, Site, drop_databases, insert, ms, percentile, stop};
use futures::StreamExt as _;
use sea_orm::{ConnectionTrait as _, Database, Statement, Value as SqlValue};
use serde_json::{Value, json};
use sha2::Digest as _;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use uuid::Uuid;

const PEOPLE: usize = 30_000;
const IDLE_SOCKETS: usize = 10_000;
/// Idle sockets a shard opens at a time: people opening tabs, not a reconnect storm (the storm
/// below is one), so that what stays is what the sockets hold, not what the node's allocator
/// kept from a burst of 5,000 requests at once.
const OPENING_AT_ONCE: usize = 500;
const CHAT_SOCKETS: usize = 10_000;
const CONVERSATIONS: usize = 1_000;
const CHAT_RATE: u64 = 200;
const CHAT_SECONDS: u64 = 20;
const PER_SHARD: usize = 7_500;
const PASSWORD: &str = "bench password 1234";
const SHARD_ENV: &str = "PLEIN_LIVE_SHARD";

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| i64::try_from(since.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// One socket's owner: who, with which session token, on which node.
#[derive(Clone)]
struct Seat {
    person: String,
    token: String,
    node: String,
}

// ---------------------------------------------------------------------------------------------
// Shard: holds sockets, answers commands on stdin with one JSON line each on stdout.
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Tally {
    /// Per socket, the last `seq` seen (for resuming).
    last_seq: Vec<i64>,
    /// Latencies (µs) of `announcement.published` frames (from the publish request).
    announced: Vec<i64>,
    /// Latencies (µs) of chat messages from someone else, with the receiving socket's number:
    /// send time is in the `client_id`.
    chat: Vec<(usize, i64)>,
    /// Storm messages received, by message id (each must come once).
    storm: Vec<String>,
    resumed: usize,
    /// Sockets the server told to reload instead (`resync`): nothing lost, but not resumed.
    resynced: usize,
    hellos: usize,
    published_at: i64,
}

async fn open_socket(
    seat: &Seat,
    origin: &str,
    since: Option<i64>,
) -> anyhow::Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
> {
    let mut url = format!("{}/api/v1/ws", seat.node.replacen("http", "ws", 1));
    if let Some(since) = since {
        url.push_str(&format!("?since={since}"));
    }
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("origin", HeaderValue::from_str(origin)?);
    request.headers_mut().insert(
        "cookie",
        HeaderValue::from_str(&format!("plein_session={}", seat.token))?,
    );
    // As small a read buffer as the server's: tungstenite zero-fills its whole read buffer
    // (128 KiB by default) before every read, which made the load generator, not Plein, the
    // busiest process while 30,000 frames arrived.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4 * 1024);
    let (stream, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), false).await?;
    Ok(stream)
}

/// Reads one socket until told to drop it; every frame goes into the tally.
async fn watch(
    index: usize,
    seat: Seat,
    origin: String,
    since: Option<i64>,
    tally: Arc<Mutex<Tally>>,
    stop: tokio_util::sync::CancellationToken,
    opening: Option<Arc<tokio::sync::Semaphore>>,
) -> anyhow::Result<()> {
    // A turn among the sockets opening at once, until the server's first frame.
    let mut turn = match opening {
        Some(opening) => Some(opening.acquire_owned().await?),
        None => None,
    };
    let mut stream = loop {
        match open_socket(&seat, &origin, since).await {
            Ok(stream) => break stream,
            // The node is busy accepting thousands: try again shortly.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    loop {
        // Once dropped, nothing more is taken from this socket: what it had not read is what a
        // dropped connection loses, and the resume must bring it.
        let message = tokio::select! {
            biased;
            () = stop.cancelled() => return Ok(()),
            message = stream.next() => message,
        };
        let Some(Ok(message)) = message else {
            return Ok(());
        };
        let Message::Text(text) = message else {
            continue;
        };
        let received = now_micros();
        turn.take();
        let frame: Value = serde_json::from_str(text.as_str())?;
        let mut tally = tally
            .lock()
            .map_err(|_| anyhow::anyhow!("tally poisoned"))?;
        if let Some(seq) = frame["seq"].as_i64() {
            let slot = &mut tally.last_seq[index];
            *slot = (*slot).max(seq);
        }
        match frame["type"].as_str() {
            Some("hello") => {
                tally.hellos += 1;
                if frame["resumed"] == true {
                    tally.resumed += 1;
                }
            }
            Some("resync") => {
                tally.resynced += 1;
            }
            Some("announcement.published") => {
                let latency = received - tally.published_at;
                tally.announced.push(latency);
            }
            Some("message.created") if frame["message"]["author_id"] != seat.person.as_str() => {
                let client_id = frame["message"]["client_id"].as_str().unwrap_or_default();
                if let Some(sent) = client_id
                    .strip_prefix("L")
                    .and_then(|rest| rest.split('-').next())
                    .and_then(|micros| micros.parse::<i64>().ok())
                {
                    tally.chat.push((index, received - sent));
                } else if client_id.starts_with('S') {
                    let id = frame["message"]["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    tally.storm.push(id);
                }
            }
            _ => {}
        }
    }
}

async fn shard() -> anyhow::Result<()> {
    // The first line on stdin says which sockets to hold; commands follow.
    let mut lines =
        tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(tokio::io::stdin()));
    let spec: Value = serde_json::from_str(&lines.next_line().await?.context("no seats given")?)?;
    let origin = spec["origin"].as_str().context("no origin")?.to_owned();
    let seats: Vec<Seat> = spec["seats"]
        .as_array()
        .context("no seats")?
        .iter()
        .map(|seat| Seat {
            person: seat[0].as_str().unwrap_or_default().to_owned(),
            token: seat[1].as_str().unwrap_or_default().to_owned(),
            node: seat[2].as_str().unwrap_or_default().to_owned(),
        })
        .collect();
    let tally = Arc::new(Mutex::new(Tally {
        last_seq: vec![0; seats.len()],
        ..Tally::default()
    }));
    let mut stop = tokio_util::sync::CancellationToken::new();
    let at_once = spec["at_once"].as_u64().map(|at_once| at_once as usize);
    let start = |since: Option<Vec<i64>>, stop: tokio_util::sync::CancellationToken| {
        // The first opening may go a few at a time; a reconnect is all at once.
        let opening = at_once
            .filter(|_| since.is_none())
            .map(|at_once| Arc::new(tokio::sync::Semaphore::new(at_once)));
        for (index, seat) in seats.iter().enumerate() {
            tokio::spawn(watch(
                index,
                seat.clone(),
                origin.clone(),
                since.as_ref().map(|since| since[index]),
                tally.clone(),
                stop.clone(),
                opening.clone(),
            ));
        }
    };
    let count = seats.len();
    let wait_for = |what: fn(&Tally) -> usize, target: usize| {
        let tally = tally.clone();
        async move {
            let started = Instant::now();
            loop {
                let reached = tally.lock().map(|tally| what(&tally)).unwrap_or(0);
                if reached >= target {
                    return Ok::<Duration, anyhow::Error>(started.elapsed());
                }
                anyhow::ensure!(started.elapsed() < GIVE_UP, "only {reached} of {target}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    let say = |value: Value| {
        println!("{value}");
        std::io::stdout().flush()
    };
    start(None, stop.clone());
    let opened = wait_for(|tally| tally.hellos, count).await?;
    say(json!({"ready": count, "seconds": opened.as_secs_f64()}))?;
    while let Some(line) = lines.next_line().await? {
        let command: Value = serde_json::from_str(&line)?;
        match command["do"].as_str() {
            Some("published_at") => {
                if let Ok(mut tally) = tally.lock() {
                    tally.published_at = command["at"].as_i64().unwrap_or_default();
                }
                say(json!({"ok": true}))?;
            }
            Some("announced") => {
                let wanted = command["count"].as_u64().unwrap_or(0) as usize;
                wait_for(|tally| tally.announced.len(), wanted).await?;
                let announced = tally
                    .lock()
                    .map(|tally| tally.announced.clone())
                    .unwrap_or_default();
                say(json!({"latencies": announced}))?;
            }
            Some("chat") => {
                let mut tally = tally
                    .lock()
                    .map_err(|_| anyhow::anyhow!("tally poisoned"))?;
                say(json!({"latencies": std::mem::take(&mut tally.chat)}))?;
            }
            Some("drop") => {
                // Every socket at once, without a close handshake; then all back with `since`.
                stop.cancel();
                stop = tokio_util::sync::CancellationToken::new();
                let since = {
                    let mut tally = tally
                        .lock()
                        .map_err(|_| anyhow::anyhow!("tally poisoned"))?;
                    tally.resumed = 0;
                    tally.resynced = 0;
                    tally.last_seq.clone()
                };
                start(Some(since), stop.clone());
                say(json!({"dropped": count}))?;
                let back = wait_for(|tally| tally.resumed + tally.resynced, count).await?;
                let (resumed, resynced) = tally
                    .lock()
                    .map(|tally| (tally.resumed, tally.resynced))
                    .unwrap_or_default();
                say(
                    json!({"resumed": resumed, "resynced": resynced, "seconds": back.as_secs_f64()}),
                )?;
            }
            Some("storm") => {
                let wanted = command["count"].as_u64().unwrap_or(0) as usize;
                // A bound for failure only: what is lost never comes.
                let waited = tokio::time::timeout(
                    Duration::from_secs(60),
                    wait_for(|tally| tally.storm.len(), wanted),
                )
                .await;
                let storm = tally
                    .lock()
                    .map(|tally| tally.storm.clone())
                    .unwrap_or_default();
                say(json!({"storm": storm, "complete": waited.is_ok()}))?;
            }
            _ => break,
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Driver.
// ---------------------------------------------------------------------------------------------

struct Shard {
    child: Child,
    input: ChildStdin,
    output: std::io::BufReader<ChildStdout>,
}

impl Shard {
    fn start(origin: &str, seats: &[Seat], at_once: Option<usize>) -> anyhow::Result<Shard> {
        let spec = json!({
            "origin": origin,
            "at_once": at_once,
            "seats": seats.iter().map(|seat| json!([seat.person, seat.token, seat.node])).collect::<Vec<_>>(),
        });
        let mut child = Command::new(std::env::current_exe()?)
            .env(SHARD_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let input = child.stdin.take().context("no stdin")?;
        let output = std::io::BufReader::new(child.stdout.take().context("no stdout")?);
        let mut shard = Shard {
            child,
            input,
            output,
        };
        shard.tell(spec)?;
        Ok(shard)
    }

    fn read(&mut self) -> anyhow::Result<Value> {
        let mut line = String::new();
        anyhow::ensure!(self.output.read_line(&mut line)? > 0, "a shard ended");
        Ok(serde_json::from_str(&line)?)
    }

    fn tell(&mut self, command: Value) -> anyhow::Result<()> {
        writeln!(self.input, "{command}")?;
        self.input.flush()?;
        Ok(())
    }

    fn ask(&mut self, command: Value) -> anyhow::Result<Value> {
        self.tell(command)?;
        self.read()
    }

    fn end(mut self) -> anyhow::Result<()> {
        self.tell(json!({"do": "end"}))?;
        self.child.wait()?;
        Ok(())
    }
}

/// Starts shards for `seats` (at most `PER_SHARD` each) and waits until every socket said hello.
/// `at_once`: sockets each shard opens at a time (none: all at once).
fn open_all(
    origin: &str,
    seats: &[Seat],
    at_once: Option<usize>,
) -> anyhow::Result<(Vec<Shard>, Duration)> {
    let started = Instant::now();
    let mut shards: Vec<Shard> = seats
        .chunks(PER_SHARD)
        .map(|part| Shard::start(origin, part, at_once))
        .collect::<anyhow::Result<_>>()?;
    for shard in &mut shards {
        let ready = shard.read()?;
        anyhow::ensure!(ready["ready"].is_number(), "shard not ready: {ready}");
    }
    Ok((shards, started.elapsed()))
}

fn micros_sorted(values: impl IntoIterator<Item = i64>) -> Vec<Duration> {
    let mut sorted: Vec<Duration> = values
        .into_iter()
        .map(|micros| Duration::from_micros(u64::try_from(micros).unwrap_or(0)))
        .collect();
    sorted.sort();
    sorted
}

fn report(what: &str, sorted: &[Duration]) {
    println!(
        "{what}: {} samples, min {}, p50 {}, p99 {}, max {}",
        sorted.len(),
        ms(sorted.first().copied().unwrap_or_default()),
        ms(percentile(sorted, 0.5)),
        ms(percentile(sorted, 0.99)),
        ms(sorted.last().copied().unwrap_or_default())
    );
}

/// A process's resident memory (all, and its anonymous part: what it allocated, without the
/// files it maps, such as the search indexes) and CPU seconds used so far.
struct Usage {
    rss_kb: u64,
    anon_kb: u64,
    cpu: f64,
}

fn process_usage(pid: u32) -> anyhow::Result<Usage> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> anyhow::Result<u64> {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse().ok())
            .with_context(|| format!("no {name}"))
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields
        .get(11..13)
        .map(|both| {
            both.iter()
                .filter_map(|value| value.parse::<f64>().ok())
                .sum()
        })
        .unwrap_or(0.0);
    Ok(Usage {
        rss_kb: field("VmRSS:")?,
        anon_kb: field("RssAnon:")?,
        cpu: ticks / 100.0,
    })
}

/// Resident memory and CPU seconds used so far by a process.
fn usage(pid: u32) -> anyhow::Result<(u64, f64)> {
    let usage = process_usage(pid)?;
    Ok((usage.rss_kb, usage.cpu))
}

/// CPU seconds used so far by the load generator's shards.
fn shards_cpu(shards: &[Shard]) -> f64 {
    shards
        .iter()
        .filter_map(|shard| process_usage(shard.child.id()).ok())
        .map(|usage| usage.cpu)
        .sum()
}

/// CPU seconds used so far by every PostgreSQL process on this machine (the server's backends
/// and its own workers).
fn postgres_cpu() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == "postgres")
        })
        .filter_map(|pid| process_usage(pid).ok())
        .map(|usage| usage.cpu)
        .sum()
}

/// A process's usage once it is at rest: under 10 ms of CPU in half a second (background work
/// such as the search indexes' merges done), or after 20 s whatever it is doing.
async fn quiet_usage(pid: u32) -> anyhow::Result<Usage> {
    let mut last = process_usage(pid)?;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = process_usage(pid)?;
        let quiet = now.cpu - last.cpu < 0.011;
        last = now;
        if quiet {
            break;
        }
    }
    Ok(last)
}

async fn run() -> anyhow::Result<()> {
    anyhow::ensure!(
        std::env::var("TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres")),
        "the live bench runs two nodes: set TEST_DATABASE_URL=postgres://…"
    );
    let site_a = Site::create(0).await?;
    let demo = site_a
        .command(&[
            "demo",
            "--people",
            &PEOPLE.to_string(),
            "--seed",
            "1",
            "--no-serve",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    anyhow::ensure!(demo.success(), "plein demo failed");
    site_a.create_admin("bench@plein.example", "Bench Admin", PASSWORD)?;

    // A session for everyone (what 30,000 logins would leave behind).
    let db = Database::connect(&site_a.database_url).await?;
    let backend = db.get_database_backend();
    let people: Vec<Uuid> = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id FROM people WHERE active AND email <> 'bench@plein.example' ORDER BY id",
        ))
        .await?
        .iter()
        .map(|row| row.try_get_by_index::<Uuid>(0))
        .collect::<Result<_, _>>()?;
    anyhow::ensure!(people.len() >= PEOPLE, "only {} people", people.len());
    let now = chrono::Utc::now();
    let mut tokens = Vec::with_capacity(people.len());
    let mut rows: Vec<Vec<SqlValue>> = Vec::with_capacity(people.len());
    for person in &people {
        let token = format!("bench{}", Uuid::new_v4().simple());
        rows.push(vec![
            Uuid::now_v7().into(),
            (*person).into(),
            hex::encode(sha2::Sha256::digest(token.as_bytes())).into(),
            now.into(),
            now.into(),
            (now + chrono::Duration::days(1)).into(),
        ]);
        tokens.push(token);
    }
    insert(
        &db,
        "sessions (id, person_id, token_hash, created_at, last_seen_at, expires_at)",
        6,
        rows,
        1_000,
    )
    .await?;

    // Two nodes; both answer to node A's public address (the browser's origin).
    let site_b = Site {
        dir: tempfile::tempdir()?,
        database_url: site_a.database_url.clone(),
        port: std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port(),
    };
    let origin = site_a.url("");
    let node_a = site_a.serve()?;
    let client = reqwest::Client::builder().cookie_store(true).build()?;
    site_a.wait_ready(&client).await?;
    let node_b = site_b
        .command(&["serve"])
        .env("PLEIN_PUBLIC_URL", &origin)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    site_b.wait_ready(&client).await?;
    site_a.wait_settled(&client).await?;
    site_b.wait_settled(&client).await?;
    let login = client
        .post(site_a.url("/api/v1/auth/login"))
        .json(&json!({"email": "bench@plein.example", "password": PASSWORD}))
        .send()
        .await?;
    anyhow::ensure!(login.status().is_success(), "bench login failed");
    let seat = |index: usize, node: &Site| Seat {
        person: people[index].to_string(),
        token: tokens[index].clone(),
        node: node.url(""),
    };

    // 1. Idle memory per socket on node A: its resident memory with the node at rest, before
    // and after 10,000 idle sockets (and halfway, for the cost of the second 5,000 alone).
    let before = quiet_usage(node_a.id()).await?;
    let idle: Vec<Seat> = (0..IDLE_SOCKETS)
        .map(|index| seat(index, &site_a))
        .collect();
    let (first, opened_first) =
        open_all(&origin, &idle[..IDLE_SOCKETS / 2], Some(OPENING_AT_ONCE))?;
    let halfway = quiet_usage(node_a.id()).await?;
    let (second, opened_second) =
        open_all(&origin, &idle[IDLE_SOCKETS / 2..], Some(OPENING_AT_ONCE))?;
    let after = quiet_usage(node_a.id()).await?;
    let per_socket = |from: &Usage, to: &Usage, sockets: usize, field: fn(&Usage) -> u64| {
        field(to).saturating_sub(field(from)) as f64 / sockets as f64
    };
    println!(
        "idle sockets: {IDLE_SOCKETS} opened in {:.1} s; node A resident memory {} MB -> {} MB: {:.2} KB per socket (anonymous memory: {:.2} KB); the second 5,000 alone: {:.2} KB per socket (anonymous: {:.2} KB)",
        (opened_first + opened_second).as_secs_f64(),
        before.rss_kb / 1024,
        after.rss_kb / 1024,
        per_socket(&before, &after, IDLE_SOCKETS, |usage| usage.rss_kb),
        per_socket(&before, &after, IDLE_SOCKETS, |usage| usage.anon_kb),
        per_socket(&halfway, &after, IDLE_SOCKETS / 2, |usage| usage.rss_kb),
        per_socket(&halfway, &after, IDLE_SOCKETS / 2, |usage| usage.anon_kb),
    );
    for shard in first.into_iter().chain(second) {
        shard.end()?;
    }

    // 2. One announcement to 30,000 sockets over two nodes.
    let everyone: Vec<Seat> = (0..PEOPLE)
        .map(|index| seat(index, if index % 2 == 0 { &site_a } else { &site_b }))
        .collect();
    let (mut shards, opened) = open_all(&origin, &everyone, None)?;
    println!(
        "announcement: {PEOPLE} sockets opened over two nodes in {:.1} s",
        opened.as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let draft: Value = client
        .post(site_a.url("/api/v1/announcements"))
        .json(&json!({"title": "Bench", "body": "Lees dit", "requires_ack": true}))
        .send()
        .await?
        .json()
        .await?;
    let id = draft["id"].as_str().context("no announcement")?.to_owned();
    let usage_a = usage(node_a.id())?;
    let usage_b = usage(node_b.id())?;
    let (generator_before, postgres_before) = (shards_cpu(&shards), postgres_cpu());
    println!("announcement: publishing");
    let published_at = now_micros();
    for shard in &mut shards {
        shard.ask(json!({"do": "published_at", "at": published_at}))?;
    }
    let published = client
        .post(site_a.url(&format!("/api/v1/announcements/{id}/publish")))
        .json(&json!({}))
        .send()
        .await?;
    anyhow::ensure!(published.status().is_success(), "publish failed");
    let answered = Duration::from_micros(u64::try_from(now_micros() - published_at).unwrap_or(0));
    let at_answer = [
        usage(node_a.id())?.1,
        usage(node_b.id())?.1,
        postgres_cpu(),
        shards_cpu(&shards),
    ];
    let mut latencies = Vec::new();
    for (shard, part) in shards.iter_mut().zip(everyone.chunks(PER_SHARD)) {
        let answer = shard.ask(json!({"do": "announced", "count": part.len()}))?;
        latencies.extend(
            answer["latencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_i64),
        );
    }
    let answered_micros = i64::try_from(answered.as_micros()).unwrap_or(0);
    let after_answer = micros_sorted(latencies.iter().map(|latency| latency - answered_micros));
    let sorted = micros_sorted(latencies.iter().copied());
    // The event's own time: taken as it is appended, the last statement before the commit,
    // so the figure from it covers at least the time from the commit.
    let appended = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT created_at FROM events WHERE kind = 'announcement.published' ORDER BY seq DESC LIMIT 1",
        ))
        .await?
        .context("no announcement event")?
        .try_get_by_index::<chrono::DateTime<chrono::Utc>>(0)?
        .timestamp_micros()
        - published_at;
    let after_commit = micros_sorted(latencies.iter().map(|latency| latency - appended));
    println!(
        "announcement: publish answered in {}; its event appended {} after the request",
        ms(answered),
        ms(Duration::from_micros(u64::try_from(appended).unwrap_or(0)))
    );
    report(
        "announcement: commit (the event's append) to the frame on every socket",
        &after_commit,
    );
    report(
        "announcement: publish answer (after the commit) to the frame on every socket",
        &after_answer,
    );
    report(
        "announcement: publish request to the frame on every socket",
        &sorted,
    );
    let (after_a, after_b) = (usage(node_a.id())?, usage(node_b.id())?);
    let (postgres_after, generator_after) = (postgres_cpu(), shards_cpu(&shards));
    println!(
        "announcement: CPU from the request to the last frame (of which after the answer): node A {:.2} s ({:.2}), node B {:.2} s ({:.2}), PostgreSQL {:.2} s ({:.2}), load generator ({} processes) {:.2} s ({:.2}); resident memory A {} MB, B {} MB",
        after_a.1 - usage_a.1,
        after_a.1 - at_answer[0],
        after_b.1 - usage_b.1,
        after_b.1 - at_answer[1],
        postgres_after - postgres_before,
        postgres_after - at_answer[2],
        shards.len(),
        generator_after - generator_before,
        generator_after - at_answer[3],
        after_a.0 / 1024,
        after_b.0 / 1024
    );
    for shard in shards {
        shard.end()?;
    }

    // 3. Chat: 1,000 direct conversations between people 2c (node A) and 2c+1 (node B).
    let cookie_of = |index: usize| format!("plein_session={}", tokens[index]);
    let plain = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let mut conversations = Vec::with_capacity(CONVERSATIONS);
    for pair in 0..CONVERSATIONS {
        let started: Value = plain
            .post(site_a.url("/api/v1/conversations"))
            .header("cookie", cookie_of(2 * pair))
            .header("origin", &origin)
            .json(&json!({"person_ids": [people[2 * pair + 1]]}))
            .send()
            .await?
            .json()
            .await?;
        conversations.push(
            started["id"]
                .as_str()
                .context("no conversation")?
                .to_owned(),
        );
    }
    let chatting: Vec<Seat> = (0..CHAT_SOCKETS)
        .map(|index| seat(index, if index % 2 == 0 { &site_a } else { &site_b }))
        .collect();
    let (mut shards, _) = open_all(&origin, &chatting, None)?;
    site_a.wait_settled(&client).await?;
    site_b.wait_settled(&client).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let usage_a = usage(node_a.id())?;
    let usage_b = usage(node_b.id())?;
    let total = (CHAT_RATE * CHAT_SECONDS) as usize;
    let urls: Vec<String> = conversations
        .iter()
        .map(|conversation| site_a.url(&format!("/api/v1/conversations/{conversation}/messages")))
        .collect();
    let cookies: Vec<String> = (0..2 * CONVERSATIONS).map(cookie_of).collect();
    let (sending, sending_origin) = (plain.clone(), origin.clone());
    let (answers, failures) = common::steady_load(CHAT_RATE, total, 0, move |n| {
        let pair = n % CONVERSATIONS;
        // Even: from node A's person to node B's; odd: the other way round.
        let sender = if n % 2 == 0 { 2 * pair } else { 2 * pair + 1 };
        sending
            .post(&urls[pair])
            .header("cookie", &cookies[sender])
            .header("origin", &sending_origin)
            .json(&json!({"body": format!("Bericht {n}"), "client_id": format!("L{}-{n}", now_micros())}))
    })
    .await?;
    // Let the last messages arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    // By the receiving socket's node: seats alternate between A (even) and B (odd).
    let (mut latencies, mut on_a, mut on_b) = (Vec::new(), Vec::new(), Vec::new());
    for (number, shard) in shards.iter_mut().enumerate() {
        let answer = shard.ask(json!({"do": "chat"}))?;
        for pair in answer["latencies"].as_array().into_iter().flatten() {
            let (Some(index), Some(latency)) = (pair[0].as_u64(), pair[1].as_i64()) else {
                continue;
            };
            latencies.push(latency);
            if (number * PER_SHARD + index as usize).is_multiple_of(2) {
                on_a.push(latency);
            } else {
                on_b.push(latency);
            }
        }
    }
    let (after_a, after_b) = (usage(node_a.id())?, usage(node_b.id())?);
    println!(
        "chat: {total} messages at {CHAT_RATE}/s over {CONVERSATIONS} conversations, {failures} failed sends, {} received",
        latencies.len()
    );
    report(
        "chat: send to the recipient's frame",
        &micros_sorted(latencies),
    );
    report(
        "chat: of which received on node A (the node sent to)",
        &micros_sorted(on_a),
    );
    report(
        "chat: of which received on node B (through PostgreSQL's NOTIFY)",
        &micros_sorted(on_b),
    );
    report("chat: the send's answer", &answers);
    println!(
        "chat: CPU node A {:.2} s, node B {:.2} s over {CHAT_SECONDS} s; resident memory A {} MB, B {} MB",
        after_a.1 - usage_a.1,
        after_b.1 - usage_b.1,
        after_a.0 / 1024,
        after_b.0 / 1024
    );

    // 4. Reconnect storm: all 10,000 dropped at once, messages sent while they come back.
    let usage_a = usage(node_a.id())?;
    let storm_started = Instant::now();
    for shard in &mut shards {
        shard.tell(json!({"do": "drop"}))?;
    }
    for shard in &mut shards {
        let dropped = shard.read()?;
        anyhow::ensure!(dropped["dropped"].is_number(), "{dropped}");
    }
    let sender = {
        let (plain, origin, site_url) = (plain.clone(), origin.clone(), site_a.url(""));
        let conversations = conversations.clone();
        let tokens = tokens.clone();
        tokio::spawn(async move {
            let mut ids = Vec::with_capacity(CONVERSATIONS);
            for (pair, conversation) in conversations.iter().enumerate() {
                let sent: Value = plain
                    .post(format!(
                        "{site_url}/api/v1/conversations/{conversation}/messages"
                    ))
                    .header("cookie", format!("plein_session={}", tokens[2 * pair]))
                    .header("origin", &origin)
                    .json(&json!({"body": "Tijdens de storm", "client_id": format!("S{pair}")}))
                    .send()
                    .await?
                    .json()
                    .await?;
                ids.push(sent["id"].as_str().unwrap_or_default().to_owned());
            }
            anyhow::Ok(ids)
        })
    };
    // Node A's answers to someone else meanwhile.
    let probe = {
        let (client, url) = (client.clone(), site_a.url("/api/v1/me"));
        tokio::spawn(async move {
            let mut times = Vec::new();
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until {
                let started = Instant::now();
                let ok = client
                    .get(&url)
                    .send()
                    .await
                    .is_ok_and(|answer| answer.status().is_success());
                times.push((started.elapsed(), ok));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            times
        })
    };
    let mut slowest = Duration::ZERO;
    let (mut resumed, mut resynced) = (0, 0);
    for shard in &mut shards {
        let back = shard.read()?;
        anyhow::ensure!(back["resumed"].is_number(), "{back}");
        resumed += back["resumed"].as_u64().unwrap_or(0);
        resynced += back["resynced"].as_u64().unwrap_or(0);
        slowest = slowest.max(Duration::from_secs_f64(
            back["seconds"].as_f64().unwrap_or(0.0),
        ));
    }
    let resumed_all = storm_started.elapsed();
    let sent = sender.await??;
    let mut received = Vec::new();
    let mut complete = true;
    for (number, (shard, part)) in shards
        .iter_mut()
        .zip(chatting.chunks(PER_SHARD))
        .enumerate()
    {
        // Recipients are the second person of each pair: those in this shard.
        let start = number * PER_SHARD;
        let wanted = (start..start + part.len())
            .filter(|index| index % 2 == 1 && index / 2 < CONVERSATIONS)
            .count();
        let answer = shard.ask(json!({"do": "storm", "count": wanted}))?;
        complete &= answer["complete"] == true;
        received.extend(
            answer["storm"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|id| id.as_str().map(str::to_owned)),
        );
    }
    let unique: HashSet<&String> = received.iter().collect();
    let expected: HashSet<&String> = sent.iter().collect();
    let probes = probe.await?;
    let mut probe_times: Vec<Duration> = probes.iter().map(|(time, _)| *time).collect();
    probe_times.sort();
    let probe_failures = probes.iter().filter(|(_, ok)| !ok).count();
    let after_a = usage(node_a.id())?;
    println!(
        "storm: {CHAT_SOCKETS} sockets dropped; all back in {:.2} s (slowest shard {:.2} s): {resumed} resumed, {resynced} told to resync; {} messages sent meanwhile, {} received ({} distinct, {} duplicates, {} missing{})",
        resumed_all.as_secs_f64(),
        slowest.as_secs_f64(),
        sent.len(),
        received.len(),
        unique.len(),
        received.len() - unique.len(),
        expected.difference(&unique).count(),
        if complete {
            ""
        } else {
            "; a shard gave up waiting"
        }
    );
    report(
        &format!("storm: node A answering GET /api/v1/me meanwhile ({probe_failures} failed)"),
        &probe_times,
    );
    println!("storm: node A CPU {:.2} s", after_a.1 - usage_a.1);
    for shard in shards {
        shard.end()?;
    }

    stop(node_a)?;
    stop(node_b)?;
    drop(db);
    drop_databases(std::slice::from_ref(&site_a.database_url)).await
}

fn main() -> anyhow::Result<()> {
    if std::env::var_os(SHARD_ENV).is_some() {
        // One thread per shard: the shards are several processes already, and a thread pool
        // per shard would spend the machine's two cores on waking and stealing between its
        // threads, cores the two nodes under test need.
        return tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(shard());
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}
