//! Groups, posts and announcements at company scale, against the release `plein` binary as a
//! separate process: the demo company of 30,000 people, 2,000 groups, 1,000,000 posts and
//! 3,000,000 reactions (written straight into the database before the server starts, which
//! then builds its post index from the tables). A quarter of the posts have a comment, one in a
//! hundred is deleted; the text is a made-up language of 20,000 words used as often as words
//! are in real text (Zipf), and searches use the words people search for (not the 100 commonest).
//!
//! 1. home feed, first page and a next page, over HTTP at a steady 500 requests/s for a member
//!    of 50 groups; in the same run the naive query (join memberships and posts, order by time)
//!    straight on the database;
//! 2. creating posts, one after another;
//! 3. post search over HTTP at a steady 200 queries/s;
//! 4. publishing a required announcement to all 30,000 people until every notification exists,
//!    and its statistics.
//!
//! cargo bench -p plein-server --bench social                        (SQLite)
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo bench -p plein-server --bench social                      (PostgreSQL)
//! SOCIAL_POSTS=100000 shrinks the data for a quick look; SOCIAL_KEEP=1 keeps the data
//! directory (and database) afterwards and prints where it is.

mod common;

use std::io::Write as _;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use common::{GIVE_UP, Site, drop_databases, insert, ms, percentile, stop};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom as _;
use rand::{Rng as _, SeedableRng as _};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

const PEOPLE: usize = 30_000;
const GROUPS: usize = 2_000;
const GROUPS_PER_PERSON: usize = 10;
const MY_GROUPS: usize = 50;
const REACTIONS_PER_POST: usize = 3;
const FEED_RATE: u64 = 500;
const SEARCH_RATE: u64 = 200;
const LOAD_SECONDS: u64 = 10;
const WARM_UP_SECONDS: u64 = 1;
const BASELINE_QUERIES: usize = 300;
const CREATED_POSTS: usize = 300;
const PASSWORD: &str = "bench password 1234";
/// Words in the made-up language of the bench's posts, and how common the most common is: the
/// word of rank r is used in proportion to 1/r (Zipf's law, as in real text).
const VOCABULARY: usize = 20_000;
const SYLLABLES: &[&str] = &[
    "ba", "be", "bo", "da", "de", "di", "do", "fa", "fe", "ga", "ge", "ha", "he", "ja", "ka", "ke",
    "ko", "la", "le", "li", "lo", "ma", "me", "mo", "na", "ne", "no", "pa", "pe", "po", "ra", "re",
    "ro", "sa", "se", "so", "ta", "te", "to", "va", "ve", "wa", "we", "za", "ze", "ver", "ont",
    "aan", "uit", "kan", "tin", "berg", "land", "stad", "werk", "plan", "dag",
];
/// Queries use no word among the most common ones (nobody searches for "de" or "het").
const QUERY_FROM_RANK: usize = 100;
/// One post in this many has a comment; one in `DELETED_EVERY` is deleted (half of those
/// keep their place for their comment).
const COMMENT_EVERY: usize = 4;
const DELETED_EVERY: usize = 100;

struct Language {
    words: Vec<String>,
    zipf: rand::distr::weighted::WeightedIndex<f64>,
}

impl Language {
    fn new(rng: &mut StdRng) -> anyhow::Result<Language> {
        let mut seen = std::collections::HashSet::new();
        let mut words = Vec::with_capacity(VOCABULARY);
        while words.len() < VOCABULARY {
            let syllables = rng.random_range(2..=4);
            let word: String = (0..syllables)
                .filter_map(|_| SYLLABLES.choose(rng).copied())
                .collect();
            if seen.insert(word.clone()) {
                words.push(word);
            }
        }
        let zipf = rand::distr::weighted::WeightedIndex::new(
            (1..=VOCABULARY).map(|rank| 1.0 / rank as f64),
        )?;
        Ok(Language { words, zipf })
    }

    fn word(&self, rng: &mut StdRng) -> &str {
        &self.words[rng.sample(&self.zipf)]
    }

    fn sentence(&self, rng: &mut StdRng, words: std::ops::Range<usize>) -> String {
        let count = rng.random_range(words);
        (0..count)
            .map(|_| self.word(rng))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A word someone would search for: drawn like the text, less the most common ones.
    fn searched_word(&self, rng: &mut StdRng) -> &str {
        loop {
            let rank = rng.sample(&self.zipf);
            if rank >= QUERY_FROM_RANK {
                return &self.words[rank];
            }
        }
    }
}

fn posts_wanted() -> usize {
    std::env::var("SOCIAL_POSTS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1_000_000)
}

fn v7_at(rng: &mut StdRng, millis: i64) -> Uuid {
    uuid::Builder::from_unix_timestamp_millis(
        u64::try_from(millis).unwrap_or_default(),
        &rng.random(),
    )
    .into_uuid()
}

/// 2,000 groups, memberships, posts and reactions, straight into the tables. Answers my groups.
async fn fill(
    db: &DatabaseConnection,
    language: &Language,
    me: Uuid,
    posts: usize,
) -> anyhow::Result<Vec<Uuid>> {
    let mut rng = StdRng::seed_from_u64(9);
    let backend = db.get_database_backend();
    let people: Vec<Uuid> = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id FROM people WHERE active",
        ))
        .await?
        .iter()
        .map(|row| row.try_get_by_index::<Uuid>(0))
        .collect::<Result<_, _>>()?;
    let now = chrono::Utc::now();
    let groups: Vec<Uuid> = (0..GROUPS).map(|_| Uuid::now_v7()).collect();
    let rows = groups
        .iter()
        .enumerate()
        .map(|(n, id)| {
            vec![
                (*id).into(),
                format!("bench-group-{n}").into(),
                format!("Groep {n}").into(),
                String::new().into(),
                (if n % 2 == 0 { "work" } else { "casual" })
                    .to_owned()
                    .into(),
                (if n % 10 == 0 { "private" } else { "public" })
                    .to_owned()
                    .into(),
                "everyone".to_owned().into(),
                now.into(),
                now.into(),
            ]
        })
        .collect();
    insert(
        db,
        "groups (id, slug, name, description, kind, visibility, posting, created_at, updated_at)",
        9,
        rows,
        500,
    )
    .await?;
    let mine: Vec<Uuid> = groups
        .choose_multiple(&mut rng, MY_GROUPS)
        .copied()
        .collect();
    let mut memberships = Vec::new();
    let mut members_of: Vec<Vec<Uuid>> = vec![Vec::new(); GROUPS];
    for person in &people {
        let chosen: std::collections::BTreeSet<usize> = (0..GROUPS_PER_PERSON)
            .map(|_| rng.random_range(0..GROUPS))
            .collect();
        for index in chosen {
            members_of[index].push(*person);
            memberships.push((groups[index], *person));
        }
    }
    for group in &mine {
        memberships.push((*group, me));
        if let Some(index) = groups.iter().position(|id| id == group) {
            members_of[index].push(me);
        }
    }
    memberships.sort();
    memberships.dedup();
    let rows = memberships
        .iter()
        .map(|(group, person)| {
            vec![
                (*group).into(),
                (*person).into(),
                "member".to_owned().into(),
                "member".to_owned().into(),
                now.into(),
                now.into(),
            ]
        })
        .collect();
    insert(
        db,
        "group_members (group_id, person_id, role, state, created_at, updated_at)",
        6,
        rows,
        1_000,
    )
    .await?;
    println!("{} groups, {} memberships", GROUPS, memberships.len());

    let year_ago = now.timestamp_millis() - 365 * 24 * 3_600 * 1_000;
    let span = now.timestamp_millis() - 60_000 - year_ago;
    let started = Instant::now();
    let mut written = 0;
    while written < posts {
        let batch = (posts - written).min(20_000);
        let mut post_rows = Vec::with_capacity(batch);
        let mut reaction_rows = Vec::with_capacity(batch * REACTIONS_PER_POST);
        let mut comment_rows = Vec::with_capacity(batch / COMMENT_EVERY + 1);
        let mut moments: Vec<i64> = (0..batch)
            .map(|_| year_ago + rng.random_range(0..span))
            .collect();
        moments.sort_unstable();
        for millis in moments {
            let index = rng.random_range(0..GROUPS);
            let members = &members_of[index];
            let Some(&author) = members.choose(&mut rng) else {
                continue;
            };
            let id = v7_at(&mut rng, millis);
            let at = chrono::DateTime::from_timestamp_millis(millis).unwrap_or(now);
            let number = written + post_rows.len();
            let deleted = (number % DELETED_EVERY == 0).then_some(at);
            post_rows.push(vec![
                id.into(),
                groups[index].into(),
                author.into(),
                language.sentence(&mut rng, 6..20).into(),
                at.into(),
                deleted.into(),
            ]);
            if number % COMMENT_EVERY == 0 || number % (DELETED_EVERY * 2) == 0 {
                let commenter = members.choose(&mut rng).copied().unwrap_or(author);
                comment_rows.push(vec![
                    v7_at(&mut rng, millis + 1).into(),
                    id.into(),
                    commenter.into(),
                    language.sentence(&mut rng, 3..12).into(),
                    at.into(),
                ]);
            }
            let reactors: std::collections::BTreeSet<Uuid> = (0..REACTIONS_PER_POST)
                .filter_map(|_| members.choose(&mut rng).copied())
                .collect();
            for person in reactors {
                reaction_rows.push(vec![
                    id.into(),
                    person.into(),
                    "like".to_owned().into(),
                    at.into(),
                ]);
            }
        }
        written += batch;
        insert(
            db,
            "posts (id, group_id, author_id, body, created_at, deleted_at)",
            6,
            post_rows,
            2_000,
        )
        .await?;
        insert(
            db,
            "comments (id, post_id, author_id, body, created_at)",
            5,
            comment_rows,
            2_000,
        )
        .await?;
        insert(
            db,
            "reactions (post_id, person_id, reaction, created_at)",
            4,
            reaction_rows,
            2_000,
        )
        .await?;
        print!(
            "\r{written} posts written ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
        std::io::stdout().flush()?;
    }
    println!();
    // What autovacuum does within minutes of a bulk load in production: statistics, and on
    // PostgreSQL the visibility map that lets index-only scans skip the table.
    let settle = match db.get_database_backend() {
        DbBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    db.execute_unprepared(settle).await?;
    // And the write-back of the gigabyte the load put in the log, which a database spreads over
    // minutes: done now, so the measurements see a settled database, not the load's aftermath
    // (checkpoints from the load otherwise ran through whole measurement phases).
    let flush = match db.get_database_backend() {
        DbBackend::Postgres => "CHECKPOINT",
        _ => "PRAGMA wal_checkpoint(TRUNCATE)",
    };
    db.execute_unprepared(flush).await?;
    Ok(mine)
}

/// The naive home feed: join my memberships and the posts, newest first.
async fn baseline(db: &DatabaseConnection, me: Uuid) -> anyhow::Result<Vec<Duration>> {
    let backend = db.get_database_backend();
    let parameter = if backend == DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let sql = format!(
        "SELECT p.* FROM posts p JOIN group_members m ON m.group_id = p.group_id \
         WHERE m.person_id = {parameter} AND m.state = 'member' AND p.deleted_at IS NULL \
         ORDER BY p.created_at DESC LIMIT 20"
    );
    let mut latencies = Vec::with_capacity(BASELINE_QUERIES);
    for _ in 0..BASELINE_QUERIES {
        let started = Instant::now();
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql.clone(),
                [me.into()],
            ))
            .await?;
        latencies.push(started.elapsed());
        std::hint::black_box(rows);
    }
    latencies.sort();
    Ok(latencies)
}

fn report(what: &str, latencies: &[Duration], failures: usize) {
    println!(
        "{what}: {} answers, {failures} failed, p50 {}, p99 {}, max {}",
        latencies.len(),
        ms(percentile(latencies, 0.5)),
        ms(percentile(latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default())
    );
}

async fn run() -> anyhow::Result<()> {
    let postgres = std::env::var("TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres"));
    println!(
        "backend: {}",
        if postgres { "PostgreSQL" } else { "SQLite" }
    );
    let site = Site::create(0).await?;
    let demo = site
        .command(&[
            "demo",
            "--people",
            &PEOPLE.to_string(),
            "--seed",
            "1",
            "--no-serve",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()?;
    anyhow::ensure!(demo.status.success(), "plein demo failed");
    site.create_admin("bench@plein.example", "Bench Admin", PASSWORD)?;
    let db = Database::connect(&site.database_url).await?;
    let backend = db.get_database_backend();
    let me: Uuid = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT id FROM people WHERE email = 'bench@plein.example'",
        ))
        .await?
        .context("no bench admin")?
        .try_get_by_index(0)?;
    let posts = posts_wanted();
    let started = Instant::now();
    let language = Language::new(&mut StdRng::seed_from_u64(3))?;
    fill(&db, &language, me, posts).await?;
    println!("data written in {:.1} s", started.elapsed().as_secs_f64());

    let started = Instant::now();
    let server = site.serve()?;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .pool_max_idle_per_host(64)
        .build()?;
    site.wait_ready(&client).await?;
    println!(
        "first start (post index built from {posts} posts) ready in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    site.wait_settled(&client).await?;
    println!(
        "outbox consumers caught up {:.1} s after the start",
        started.elapsed().as_secs_f64()
    );
    let login = client
        .post(site.url("/api/v1/auth/login"))
        .json(&json!({"email": "bench@plein.example", "password": PASSWORD}))
        .send()
        .await?;
    anyhow::ensure!(login.status().is_success(), "login failed");

    // Home feed: the first page, and the page after it.
    let first: Value = client
        .get(site.url("/api/v1/feed"))
        .send()
        .await?
        .json()
        .await?;
    let cursor = first["next_cursor"]
        .as_str()
        .context("no next page")?
        .to_owned();
    let total = (FEED_RATE * (LOAD_SECONDS + WARM_UP_SECONDS)) as usize;
    let warm_up = (FEED_RATE * WARM_UP_SECONDS) as usize;
    let (client_a, url) = (client.clone(), site.url("/api/v1/feed"));
    let (latencies, failures) =
        common::steady_load(FEED_RATE, total, warm_up, move |_| client_a.get(&url)).await?;
    report(
        &format!("home feed, first page, over HTTP at {FEED_RATE}/s"),
        &latencies,
        failures,
    );
    let feed_p99 = percentile(&latencies, 0.99);
    let (client_b, url) = (client.clone(), site.url("/api/v1/feed"));
    let (latencies, failures) = common::steady_load(FEED_RATE, total, warm_up, move |_| {
        client_b.get(&url).query(&[("cursor", cursor.as_str())])
    })
    .await?;
    report(
        &format!("home feed, next page, over HTTP at {FEED_RATE}/s"),
        &latencies,
        failures,
    );
    let naive = baseline(&db, me).await?;
    println!(
        "naive join ordered by time, {} queries one at a time on the database: p50 {}, p99 {} ({:.1}× Plein's p99 over HTTP)",
        naive.len(),
        ms(percentile(&naive, 0.5)),
        ms(percentile(&naive, 0.99)),
        percentile(&naive, 0.99).as_secs_f64() / feed_p99.as_secs_f64()
    );

    // Creating posts, one after another, in my groups.
    let my_groups: Value = client
        .get(site.url("/api/v1/groups?mine=true&limit=50"))
        .send()
        .await?
        .json()
        .await?;
    let group_ids: Vec<String> = my_groups["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|group| group["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    anyhow::ensure!(!group_ids.is_empty(), "the bench admin is in no group");
    let mut created = Vec::with_capacity(CREATED_POSTS);
    for n in 0..CREATED_POSTS {
        let group = &group_ids[n % group_ids.len()];
        let started = Instant::now();
        let response = client
            .post(site.url(&format!("/api/v1/groups/{group}/posts")))
            .json(&json!({"body": format!("Bench bericht {n} over de borrel en de planning")}))
            .send()
            .await?;
        anyhow::ensure!(response.status().as_u16() == 201, "create post failed");
        response.bytes().await?;
        created.push(started.elapsed());
    }
    created.sort();
    report("create a post, one at a time", &created, 0);

    // Post search at a steady rate.
    let mut rng = StdRng::seed_from_u64(5);
    let queries: Vec<String> = (0..1_000)
        .map(|_| {
            let word = language.searched_word(&mut rng).to_owned();
            match rng.random_range(0..4) {
                0 => word,
                1 => word.chars().take(4).collect(),
                2 if word.len() >= 6 => {
                    let mut typo: Vec<char> = word.chars().collect();
                    typo.remove(2);
                    typo.into_iter().collect()
                }
                _ => format!("{word} {}", language.searched_word(&mut rng)),
            }
        })
        .collect();
    let total = (SEARCH_RATE * (LOAD_SECONDS + WARM_UP_SECONDS)) as usize;
    let warm_up = (SEARCH_RATE * WARM_UP_SECONDS) as usize;
    let (client_c, url) = (client.clone(), site.url("/api/v1/posts/search"));
    let (latencies, failures) = common::steady_load(SEARCH_RATE, total, warm_up, move |index| {
        client_c
            .get(&url)
            .query(&[("q", queries[index % queries.len()].as_str())])
    })
    .await?;
    report(
        &format!("post search over HTTP at {SEARCH_RATE}/s"),
        &latencies,
        failures,
    );

    // A required announcement to everyone: audience fixed, every notification made.
    let draft: Value = client
        .post(site.url("/api/v1/announcements"))
        .json(&json!({"title": "Bench", "body": "Lees dit", "requires_ack": true}))
        .send()
        .await?
        .json()
        .await?;
    let id = draft["id"].as_str().context("no announcement")?.to_owned();
    let started = Instant::now();
    let published = client
        .post(site.url(&format!("/api/v1/announcements/{id}/publish")))
        .json(&json!({}))
        .send()
        .await?;
    anyhow::ensure!(published.status().is_success(), "publish failed");
    let answered = started.elapsed();
    let parameter = if backend == DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let (recipients, notified) = loop {
        let count = |sql: String| {
            let db = db.clone();
            let id: Uuid = id.parse().unwrap_or_default();
            async move {
                let row = db
                    .query_one_raw(Statement::from_sql_and_values(backend, sql, [id.into()]))
                    .await?
                    .context("no count")?;
                anyhow::Ok(row.try_get_by_index::<i64>(0)?)
            }
        };
        let recipients = count(format!(
            "SELECT count(*) FROM announcement_recipients WHERE announcement_id = {parameter}"
        ))
        .await?;
        let notified = count(format!("SELECT count(*) FROM notifications WHERE announcement_id = {parameter} AND kind = 'announcement'")).await?;
        if notified >= recipients && recipients > 0 {
            break (recipients, notified);
        }
        anyhow::ensure!(started.elapsed() < GIVE_UP, "notifications never all made");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    println!(
        "publish a required announcement: {recipients} recipients fixed, answered in {}, {notified} notifications made in {}",
        ms(answered),
        ms(started.elapsed())
    );
    let mut stats = Vec::new();
    for _ in 0..30 {
        let started = Instant::now();
        let response = client
            .get(site.url(&format!("/api/v1/announcements/{id}/stats")))
            .send()
            .await?;
        anyhow::ensure!(response.status().is_success(), "stats failed");
        response.bytes().await?;
        stats.push(started.elapsed());
    }
    stats.sort();
    report(
        "announcement statistics page (30,000 recipients)",
        &stats,
        0,
    );

    stop(server)?;
    drop(db);
    if std::env::var_os("SOCIAL_KEEP").is_some() {
        println!("kept {} ({})", site.dir.keep().display(), site.database_url);
        return Ok(());
    }
    drop_databases(std::slice::from_ref(&site.database_url)).await
}

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}
