//! The blob store: every store streams in and out with ranges and hashes, files move between
//! stores resumably, and downloads answer ETags and byte ranges.

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use plein_server::blobs::{BlobInfo, Blobs, ByteRange, Kind};
use plein_server::{Config, RawConfig, db};
use plein_tests::{TestApp, TestDatabase, expect_error, new_client, test_raw_config};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

/// A little over two and a half PostgreSQL chunks, in bytes no two chunks share.
fn content() -> Vec<u8> {
    (0..700_001u32)
        .map(|n| (n.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// The content in uneven pieces, as a request body arrives.
fn pieces(content: &[u8]) -> plein_server::blobs::ByteStream {
    let length = content.len();
    let cuts = [
        0,
        1.min(length),
        100_000.min(length),
        600_000.min(length),
        length,
    ];
    let parts: Vec<std::io::Result<Bytes>> = cuts
        .windows(2)
        .map(|pair| Ok(Bytes::copy_from_slice(&content[pair[0]..pair[1]])))
        .collect();
    futures::stream::iter(parts).boxed()
}

async fn read_all(
    blobs: &Blobs,
    info: &BlobInfo,
    range: Option<ByteRange>,
) -> anyhow::Result<Vec<u8>> {
    let mut stream = blobs.read(info, range).await?;
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

async fn open_store(
    adjust: impl FnOnce(&mut RawConfig),
) -> anyhow::Result<(TestDatabase, Blobs, Arc<tempfile::TempDir>)> {
    let dir = Arc::new(tempfile::tempdir()?);
    let database = TestDatabase::create(dir.clone()).await?;
    let mut raw = test_raw_config(&dir, &database.url);
    adjust(&mut raw);
    let config = Config::from_raw(raw)?;
    let connection = db::connect(&config).await?;
    db::migrate(&connection).await?;
    let blobs = Blobs::open(&config, connection)?;
    Ok((database, blobs, dir))
}

/// Puts, reads whole and in ranges (across chunk borders), and deletes, in the store `blobs`
/// writes to.
async fn round_trip(blobs: &Blobs) -> anyhow::Result<()> {
    let content = content();
    let info = blobs
        .put(
            "files/test/report.bin",
            "application/octet-stream",
            pieces(&content),
        )
        .await?;
    assert_eq!(info.store, blobs.write_to());
    assert_eq!(info.size, content.len() as u64);
    assert_eq!(info.sha256, hex::encode(Sha256::digest(&content)));
    let stored = blobs.info("files/test/report.bin").await?;
    assert_eq!(stored.as_ref(), Some(&info));

    assert!(
        read_all(blobs, &info, None).await? == content,
        "whole content"
    );
    for (start, end) in [
        (0, 0),
        (262_140, 262_150),
        (524_287, 524_288),
        (699_990, 700_000),
    ] {
        let part = read_all(blobs, &info, Some(ByteRange { start, end })).await?;
        assert!(
            part == content[start as usize..=end as usize],
            "bytes {start}-{end}"
        );
    }
    assert!(
        blobs
            .read(
                &info,
                Some(ByteRange {
                    start: 10,
                    end: 700_001
                })
            )
            .await
            .is_err(),
        "a range past the end is refused"
    );

    // Replacing a blob replaces its content and hash.
    let again = blobs
        .put("files/test/report.bin", "text/plain", pieces(b"kort"))
        .await?;
    assert_eq!(again.size, 4);
    assert_eq!(read_all(blobs, &again, None).await?, b"kort");

    blobs.delete("files/test/report.bin").await?;
    assert_eq!(blobs.info("files/test/report.bin").await?, None);
    blobs.delete("files/test/report.bin").await?;
    assert!(
        blobs
            .put("../escape", "text/plain", pieces(b"x"))
            .await
            .is_err(),
        "keys cannot leave the store"
    );
    Ok(())
}

#[tokio::test]
async fn the_fs_store_streams_files_in_and_out_with_ranges_and_hashes() -> anyhow::Result<()> {
    let (_database, blobs, _dir) = open_store(|raw| raw.blob_store = Some(Kind::Fs)).await?;
    round_trip(&blobs).await
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL=postgres://…"
)]
async fn the_postgres_store_streams_files_in_and_out_in_chunks() -> anyhow::Result<()> {
    let (database, blobs, _dir) = open_store(|raw| raw.blob_store = Some(Kind::Postgres)).await?;
    anyhow::ensure!(database.is_postgres(), "this test needs PostgreSQL");
    round_trip(&blobs).await
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL=postgres://…"
)]
async fn a_migration_moves_every_file_resumably_and_each_stays_readable() -> anyhow::Result<()> {
    let (database, on_disk, dir) = open_store(|raw| raw.blob_store = Some(Kind::Fs)).await?;
    anyhow::ensure!(database.is_postgres(), "this test needs PostgreSQL");
    let mut stored = Vec::new();
    for n in 0..3 {
        let text = format!("bestand nummer {n}").into_bytes();
        stored.push((
            on_disk
                .put_bytes(&format!("files/{n}.txt"), "text/plain", text.clone())
                .await?,
            text,
        ));
    }
    // The same database, seen by a node configured for the postgres store.
    let mut raw = test_raw_config(&dir, &database.url);
    raw.blob_store = Some(Kind::Postgres);
    let config = Config::from_raw(raw)?;
    let in_database = Blobs::open(&config, db::connect(&config).await?)?;

    let first = in_database
        .migrate(Kind::Postgres, Some(1), &|_, _| {})
        .await?;
    assert_eq!((first.moved, first.remaining), (1, 2), "stopped after one");
    for (info, text) in &stored {
        let now = in_database
            .info(&info.key)
            .await?
            .ok_or_else(|| anyhow::anyhow!("{} vanished", info.key))?;
        assert_eq!(now.sha256, info.sha256);
        assert_eq!(
            &read_all(&in_database, &now, None).await?,
            text,
            "readable mid-way"
        );
    }
    let rest = in_database
        .migrate(Kind::Postgres, None, &|_, _| {})
        .await?;
    assert_eq!(
        (rest.moved, rest.remaining),
        (2, 0),
        "resumed where it stopped"
    );
    for (info, text) in &stored {
        let now = in_database
            .info(&info.key)
            .await?
            .ok_or_else(|| anyhow::anyhow!("{} vanished", info.key))?;
        assert_eq!(now.store, Kind::Postgres);
        assert_eq!(&read_all(&in_database, &now, None).await?, text);
        assert!(
            !config.data_dir.join("blobs").join(&info.key).exists(),
            "the old copy of {} is gone",
            info.key
        );
    }
    let nothing = in_database
        .migrate(Kind::Postgres, None, &|_, _| {})
        .await?;
    assert_eq!(nothing.moved, 0);
    Ok(())
}

/// An S3 protocol server of its own, on a free loopback port; stopped when dropped.
struct Moto {
    child: std::process::Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Settings for the S3 store on the test's own moto server.
fn use_moto(raw: &mut RawConfig, endpoint: &str) {
    raw.blob_store = Some(Kind::S3);
    raw.s3_endpoint = Some(endpoint.to_owned());
    raw.s3_bucket = Some("plein-test".to_owned());
    raw.s3_access_key_id = Some("test".to_owned());
    raw.s3_secret_access_key = Some("test".to_owned());
}

async fn start_moto() -> anyhow::Result<Moto> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = std::process::Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let client = new_client()?;
    let ready = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        loop {
            if client.get(&moto.endpoint).send().await.is_ok() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await;
    anyhow::ensure!(ready.is_ok(), "moto_server did not start");
    let created = client
        .put(format!("{}/plein-test", moto.endpoint))
        .send()
        .await?;
    anyhow::ensure!(created.status().is_success(), "cannot create the bucket");
    Ok(moto)
}

#[tokio::test]
#[cfg_attr(
    not(s3_tests),
    ignore = "needs moto_server: pip install 'moto[server]', TEST_S3=moto"
)]
async fn the_s3_store_streams_files_in_and_out_of_an_s3_server() -> anyhow::Result<()> {
    let moto = start_moto().await?;
    let endpoint = moto.endpoint.clone();
    let (_database, blobs, _dir) = open_store(move |raw| use_moto(raw, &endpoint)).await?;
    round_trip(&blobs).await?;
    // And a migration from this node's disk into S3.
    let (database, on_disk, dir) = open_store(|raw| raw.blob_store = Some(Kind::Fs)).await?;
    let info = on_disk
        .put_bytes("files/a.txt", "text/plain", b"van schijf".to_vec())
        .await?;
    let mut raw = test_raw_config(&dir, &database.url);
    use_moto(&mut raw, &moto.endpoint);
    let config = Config::from_raw(raw)?;
    let to_s3 = Blobs::open(&config, db::connect(&config).await?)?;
    let moved = to_s3.migrate(Kind::S3, None, &|_, _| {}).await?;
    assert_eq!(moved.moved, 1);
    let now = to_s3
        .info(&info.key)
        .await?
        .ok_or_else(|| anyhow::anyhow!("vanished"))?;
    assert_eq!(now.store, Kind::S3);
    assert_eq!(read_all(&to_s3, &now, None).await?, b"van schijf");
    Ok(())
}

#[tokio::test]
async fn a_photo_download_answers_its_etag_and_byte_ranges() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.setup_admin().await?;
    let picture = image::DynamicImage::new_rgb8(120, 120);
    let mut png = Vec::new();
    picture.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
    let uploaded: serde_json::Value = app
        .client
        .put(app.url("/api/v1/me/photo"))
        .header("content-type", "image/png")
        .body(png)
        .send()
        .await?
        .json()
        .await?;
    let url = app.url(uploaded["photo_url"].as_str().unwrap_or_default());
    let whole = app.client.get(&url).send().await?;
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    let etag = whole.headers()["etag"].to_str()?.to_owned();
    let bytes = whole.bytes().await?;
    assert_eq!(etag, format!("\"{}\"", hex::encode(Sha256::digest(&bytes))));

    let cached = app
        .client
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await?;
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);

    let part = app
        .client
        .get(&url)
        .header("range", "bytes=2-11")
        .send()
        .await?;
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 2-11/{}", bytes.len()).as_str()
    );
    assert_eq!(part.bytes().await?, bytes[2..12]);

    let beyond = app
        .client
        .get(&url)
        .header("range", format!("bytes={}-", bytes.len() + 5))
        .send()
        .await?;
    assert_eq!(
        beyond.headers()["content-range"],
        format!("bytes */{}", bytes.len()).as_str()
    );
    expect_error(
        beyond,
        StatusCode::RANGE_NOT_SATISFIABLE,
        "range_not_satisfiable",
    )
    .await?;
    Ok(())
}

/// A `plein serve` process of its own; killed when dropped.
struct ServerProcess {
    child: std::process::Child,
    address: String,
    /// The first-run setup token, when the process printed one.
    setup_token: Option<String>,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `plein` binary next to this test binary (`cargo test --workspace` builds it).
fn plein_binary() -> anyhow::Result<std::path::PathBuf> {
    let test_binary = std::env::current_exe()?;
    let profile_dir = test_binary
        .parent()
        .and_then(|deps| deps.parent())
        .ok_or_else(|| anyhow::anyhow!("no target directory"))?;
    let binary = profile_dir.join("plein");
    anyhow::ensure!(
        binary.exists(),
        "{} is missing: run the tests with `cargo test --workspace`",
        binary.display()
    );
    Ok(binary)
}

/// Starts `plein serve` on `database_url` with a data dir of its own and reads its log until
/// it serves (and, with no admin yet, printed its setup link).
fn start_server(
    database_url: &str,
    data_dir: &std::path::Path,
    expect_setup: bool,
) -> anyhow::Result<ServerProcess> {
    use std::io::BufRead;
    let mut child = std::process::Command::new(plein_binary()?)
        .arg("serve")
        .env_remove("PLEIN_CONFIG")
        .env("PLEIN_DATABASE_URL", database_url)
        .env("PLEIN_DATA_DIR", data_dir)
        .env("PLEIN_BIND", "127.0.0.1:0")
        .env("PLEIN_LOG", "info")
        .env("PLEIN_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stderr"))?;
    let mut server = ServerProcess {
        child,
        address: String::new(),
        setup_token: None,
    };
    let mut lines = std::io::BufReader::new(stderr).lines();
    for line in lines.by_ref() {
        let entry: serde_json::Value = serde_json::from_str(&line?).unwrap_or_default();
        let message = entry["message"].as_str().unwrap_or_default();
        if message == "serving"
            && let Some(address) = entry["address"].as_str()
        {
            server.address = format!("http://{address}");
        }
        if let Some(start) = message.find("/setup?token=") {
            let token = &message[start + "/setup?token=".len()..];
            server.setup_token = token.split_whitespace().next().map(str::to_owned);
        }
        if !server.address.is_empty() && (!expect_setup || server.setup_token.is_some()) {
            break;
        }
    }
    anyhow::ensure!(
        !server.address.is_empty(),
        "the server never said it was serving"
    );
    // Keep draining the log so the process never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok(server)
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL=postgres://…"
)]
async fn on_postgres_a_photo_uploaded_on_one_server_process_is_served_by_another()
-> anyhow::Result<()> {
    let dir = Arc::new(tempfile::tempdir()?);
    let database = TestDatabase::create(dir.clone()).await?;
    anyhow::ensure!(database.is_postgres(), "this test needs PostgreSQL");
    let first = start_server(&database.url, &dir.path().join("first"), true)?;
    let token = first
        .setup_token
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no setup link printed"))?;
    let client = new_client()?;
    let setup = client
        .post(format!("{}/api/v1/setup", first.address))
        .json(&serde_json::json!({"token": token, "email": "beheer@plein.example", "name": "Beheer", "password": "een heel lang wachtwoord"}))
        .send()
        .await?;
    assert_eq!(setup.status(), StatusCode::CREATED);
    let picture = image::DynamicImage::new_rgb8(90, 60);
    let mut png = Vec::new();
    picture.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
    let uploaded: serde_json::Value = client
        .put(format!("{}/api/v1/me/photo", first.address))
        .header("content-type", "image/png")
        .body(png)
        .send()
        .await?
        .json()
        .await?;
    let path = uploaded["photo_url"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no photo url: {uploaded}"))?
        .to_owned();
    let from_first = client
        .get(format!("{}{path}", first.address))
        .send()
        .await?;
    assert_eq!(from_first.status(), StatusCode::OK);
    let etag = from_first.headers()["etag"].clone();
    let bytes = from_first.bytes().await?;

    // Another process with a data dir of its own: only the database is shared.
    let second = start_server(&database.url, &dir.path().join("second"), false)?;
    let from_second = client
        .get(format!("{}{path}", second.address))
        .send()
        .await?;
    assert_eq!(from_second.status(), StatusCode::OK);
    assert_eq!(from_second.headers()["etag"], etag);
    assert_eq!(from_second.bytes().await?, bytes);
    assert!(
        !dir.path()
            .join("second")
            .join("blobs")
            .join("photos")
            .exists(),
        "served from the database, not from a disk"
    );
    Ok(())
}
