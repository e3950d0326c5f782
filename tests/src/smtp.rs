//! A real SMTP server for the tests: the npm package `smtp-server` (in `tests/servers`,
//! installed on first use with `npm ci`), run by Node.js on a free loopback port.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// One mail as the server received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent: headers and body.
    pub raw: String,
}

impl ReceivedMail {
    /// A header's value (unfolded), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or_default();
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }

    /// The first link to `page` of Plein in the plain text part (quoted-printable undone).
    pub fn link_to(&self, page: &str) -> Option<String> {
        let text = self.raw.replace("=\r\n", "").replace("=3D", "=");
        let start = text.find(&format!("/{page}?token="))?;
        let begin = text[..start].rfind("http")?;
        let end = text[start..]
            .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
            .map_or(text.len(), |end| start + end);
        Some(text[begin..end].to_owned())
    }
}

pub struct SmtpServer {
    pub port: u16,
    mails: mpsc::UnboundedReceiver<ReceivedMail>,
    _child: Child,
}

fn servers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("servers")
}

/// Installs the servers' packages once per test run.
fn install() -> anyhow::Result<()> {
    static INSTALLED: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut installed = INSTALLED
        .lock()
        .map_err(|_| anyhow::anyhow!("install lock poisoned"))?;
    if *installed || servers_dir().join("node_modules/smtp-server").exists() {
        *installed = true;
        return Ok(());
    }
    let status = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--silent"])
        .current_dir(servers_dir())
        .status()
        .context("cannot run npm (Node.js is needed for the test servers)")?;
    anyhow::ensure!(status.success(), "npm ci in tests/servers failed");
    *installed = true;
    Ok(())
}

impl SmtpServer {
    /// Starts a server; mail to the `reject` addresses is refused with a permanent error.
    pub async fn start(reject: &[&str]) -> anyhow::Result<SmtpServer> {
        install()?;
        let mut child = Command::new("node")
            .arg(servers_dir().join("smtp.mjs"))
            .env("SMTP_REJECT", reject.join(","))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start the SMTP server (node tests/servers/smtp.mjs)")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .context("the SMTP server did not start")??
            .context("the SMTP server ended")?;
        let port = serde_json::from_str::<Value>(&first)?["port"]
            .as_u64()
            .and_then(|port| u16::try_from(port).ok())
            .context("no port")?;
        let (sender, mails) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let Ok(value) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                let mail = ReceivedMail {
                    from: value["from"].as_str().unwrap_or_default().to_owned(),
                    to: value["to"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                    raw: value["raw"].as_str().unwrap_or_default().to_owned(),
                };
                if sender.send(mail).is_err() {
                    return;
                }
            }
        });
        Ok(SmtpServer {
            port,
            mails,
            _child: child,
        })
    }

    /// The next mail received, waiting up to 30 s.
    pub async fn next_mail(&mut self) -> anyhow::Result<ReceivedMail> {
        tokio::time::timeout(Duration::from_secs(30), self.mails.recv())
            .await
            .context("no mail arrived within 30 s")?
            .context("the SMTP server ended")
    }

    /// A mail received already, if any (without waiting).
    pub fn try_mail(&mut self) -> Option<ReceivedMail> {
        self.mails.try_recv().ok()
    }

    /// `[smtp]` settings for a Plein server sending here.
    pub fn settings(&self) -> plein_server::config::RawSmtp {
        plein_server::config::RawSmtp {
            host: Some("127.0.0.1".to_owned()),
            port: Some(self.port),
            tls: Some(plein_server::config::SmtpTls::None),
            from: Some("Plein <plein@plein.example>".to_owned()),
            ..Default::default()
        }
    }
}
