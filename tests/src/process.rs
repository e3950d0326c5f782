//! A node as its own operating-system process (`plein serve`), for what an in-process node
//! cannot show: being killed with `kill -9` mid-stream.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::sync::mpsc;

use crate::TestApp;

/// The `plein` binary next to this test binary (`target/<profile>/plein`); `cargo test
/// --workspace` builds it with the server's own tests.
pub fn plein_binary() -> anyhow::Result<PathBuf> {
    let test = std::env::current_exe()?;
    let profile_dir = test
        .parent()
        .and_then(|deps| deps.parent())
        .context("the test binary is not in a cargo target directory")?;
    let binary = profile_dir.join(format!("plein{}", std::env::consts::EXE_SUFFIX));
    anyhow::ensure!(
        binary.exists(),
        "{} is missing: run `cargo build -p plein-server --bin plein` (or `cargo test --workspace`)",
        binary.display()
    );
    Ok(binary)
}

pub struct NodeProcess {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

/// Forwards each line the process writes, so its pipes never fill.
fn lines(stream: impl AsyncRead + Unpin + Send + 'static, to: mpsc::UnboundedSender<String>) {
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            if to.send(line).is_err() {
                break;
            }
        }
    });
}

impl NodeProcess {
    /// Starts another node of `app`'s deployment: the same database and public URL, its own
    /// data directory and port. Returns once it answers `/readyz`.
    pub async fn start(app: &TestApp) -> anyhow::Result<NodeProcess> {
        let dir = tempfile::tempdir()?;
        let mut child = tokio::process::Command::new(plein_binary()?)
            .arg("serve")
            .env("PLEIN_DATA_DIR", dir.path().join("data"))
            .env("PLEIN_DATABASE_URL", &app.database.url)
            .env("PLEIN_BIND", "127.0.0.1:0")
            .env("PLEIN_PUBLIC_URL", &app.address)
            .env("PLEIN_LOG", "warn,plein_server::app=info")
            .env("NO_COLOR", "1")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start plein")?;
        let (sender, mut output) = mpsc::unbounded_channel();
        if let Some(stdout) = child.stdout.take() {
            lines(stdout, sender.clone());
        }
        if let Some(stderr) = child.stderr.take() {
            lines(stderr, sender);
        }
        let mut seen = String::new();
        let address = tokio::time::timeout(Duration::from_secs(120), async {
            while let Some(line) = output.recv().await {
                seen.push_str(&line);
                seen.push('\n');
                if let Some(rest) = line.split("serving address=").nth(1) {
                    let address = rest.split_whitespace().next().unwrap_or_default();
                    return Some(format!("http://{address}"));
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .with_context(|| format!("plein did not say where it serves:\n{seen}"))?;
        // Keep draining its output.
        tokio::spawn(async move { while output.recv().await.is_some() {} });
        let client = crate::new_client()?;
        let ready = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                if let Ok(response) = client.get(format!("{address}/readyz")).send().await
                    && response.status().is_success()
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        anyhow::ensure!(ready.is_ok(), "plein at {address} never became ready");
        Ok(NodeProcess {
            address,
            child,
            _dir: dir,
        })
    }

    /// `kill -9`: no shutdown, no goodbye to its sockets.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}
