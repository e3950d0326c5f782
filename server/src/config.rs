//! Configuration: defaults, then an optional `plein.toml`, then `PLEIN_*` environment variables.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::auth::rate_limit::LoginPolicy;
use crate::blobs::Kind;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Settings as written by the operator. Every field can be set in `plein.toml` or as
/// `PLEIN_<FIELD>` in the environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub public_url: Option<String>,
    pub log: String,
    pub log_format: LogFormat,
    /// Overrides the `Secure` cookie flag; by default it is set unless the public URL is plain
    /// HTTP on a loopback host.
    pub cookie_secure: Option<bool>,
    pub session_ttl_hours: u32,
    pub body_limit_bytes: usize,
    /// Largest CSV file the HR import accepts over HTTP.
    pub import_limit_bytes: usize,
    pub request_timeout_secs: u64,
    /// Sign-in requests per client address per minute on one node, before the database is asked.
    pub login_attempts_per_ip_per_minute: u32,
    /// Failed sign-ins within an hour before each further attempt waits: for one account from
    /// one address, for one account from anywhere, and for one address across accounts.
    pub login_failures_per_account_and_address: u32,
    pub login_failures_per_account: u32,
    pub login_failures_per_address: u32,
    /// Profile photos one person may upload per hour (each is decoded, which costs CPU).
    pub photo_uploads_per_hour: u32,
    /// Largest file one attachment may be (posts, comments, announcements).
    pub attachment_limit_bytes: usize,
    /// Attachments one person may upload per hour.
    pub attachment_uploads_per_hour: u32,
    /// Reverse proxies (CIDRs) whose `X-Forwarded-For` is believed: the client is the right-most
    /// address not among them. In the environment: comma-separated.
    pub trusted_proxies: Vec<String>,
    /// Replaced by `trusted_proxies`; kept only to explain that at start-up.
    pub trust_proxy_headers: Option<bool>,
    /// Serve `/metrics` without a token on this separate address (e.g. `127.0.0.1:9090`).
    pub metrics_bind: Option<SocketAddr>,
    pub password_hash_concurrency: Option<usize>,
    pub database_max_connections: u32,
    /// Events older than this are pruned from the outbox; a socket or node that was away
    /// longer resynchronises.
    pub event_retention_hours: u32,
    /// The socket's heartbeat: a ping this often; a client that answers none of two is gone.
    pub ws_ping_interval_secs: u64,
    /// Frames queued for one socket; a client that falls this far behind is closed and resumes
    /// on reconnect.
    pub ws_send_queue: usize,
    /// Where files go: `fs`, `postgres` or `s3`. Default: `fs` with SQLite, `postgres` with
    /// PostgreSQL.
    pub blob_store: Option<Kind>,
    /// The S3-compatible service (`blob_store = "s3"`, or the source or target of
    /// `plein blobs migrate`). Without an endpoint, AWS itself.
    pub s3_endpoint: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_region: Option<String>,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<String>,
    /// Allow `http://` endpoints (default: only when the endpoint is one).
    pub s3_allow_http: Option<bool>,
    /// The SMTP server mail goes out through (`[smtp]` in `plein.toml`, `PLEIN_SMTP__HOST` and
    /// so on). Without it mails are written to the log.
    pub smtp: Option<RawSmtp>,
    /// "Forgot password" requests for one address per hour, and from one client address, on one
    /// node.
    pub password_resets_per_address_per_hour: u32,
    pub password_resets_per_ip_per_hour: u32,
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text (a relay on the same host or network).
    None,
    /// Plain, upgraded with STARTTLS before anything else is said; refused without it.
    Starttls,
    /// TLS from the first byte ("SMTPS", usually port 465).
    Tls,
}

/// `[smtp]` as written by the operator.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtp {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: Option<SmtpTls>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender: `Plein <plein@example.nl>` or `plein@example.nl`.
    pub from: Option<String>,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            public_url: None,
            log: "info".to_owned(),
            log_format: LogFormat::Text,
            cookie_secure: None,
            session_ttl_hours: 24 * 14,
            body_limit_bytes: 1024 * 1024,
            import_limit_bytes: 64 * 1024 * 1024,
            request_timeout_secs: 30,
            login_attempts_per_ip_per_minute: 30,
            login_failures_per_account_and_address: 5,
            login_failures_per_account: 50,
            login_failures_per_address: 100,
            photo_uploads_per_hour: 20,
            attachment_limit_bytes: 25 * 1024 * 1024,
            attachment_uploads_per_hour: 200,
            trusted_proxies: Vec::new(),
            trust_proxy_headers: None,
            metrics_bind: None,
            password_hash_concurrency: None,
            database_max_connections: 16,
            event_retention_hours: 72,
            ws_ping_interval_secs: 30,
            ws_send_queue: 64,
            blob_store: None,
            s3_endpoint: None,
            s3_bucket: None,
            s3_region: None,
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_allow_http: None,
            smtp: None,
            password_resets_per_address_per_hour: 3,
            password_resets_per_ip_per_hour: 20,
        }
    }
}

/// A proxy address or network: `10.0.0.0/8`, `192.168.1.7`, `::1`.
fn parse_proxy(text: &str) -> anyhow::Result<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| {
            anyhow::anyhow!(
                "invalid configuration: key `trusted_proxies` has {text:?}, which is not an address or CIDR network"
            )
        })
}

/// Environment variables that configure the process but are not settings of `RawConfig`.
const NON_SETTING_VARIABLES: &[&str] = &["config"];

/// The validated configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub public_url: Url,
    pub log: String,
    pub log_format: LogFormat,
    pub cookie_secure: bool,
    pub session_ttl: chrono::Duration,
    pub body_limit_bytes: usize,
    pub import_limit_bytes: usize,
    pub request_timeout: std::time::Duration,
    pub login_attempts_per_ip_per_minute: u32,
    pub login_policy: LoginPolicy,
    pub photo_uploads_per_hour: u32,
    pub attachment_limit_bytes: usize,
    pub attachment_uploads_per_hour: u32,
    pub trusted_proxies: Vec<IpNet>,
    pub metrics_bind: Option<SocketAddr>,
    pub password_hash_concurrency: usize,
    pub database_max_connections: u32,
    pub event_retention: chrono::Duration,
    pub ws_ping_interval: std::time::Duration,
    pub ws_send_queue: usize,
    pub blob_store: Kind,
    pub s3: Option<S3Settings>,
    pub smtp: Option<SmtpSettings>,
    pub password_resets_per_address_per_hour: u32,
    pub password_resets_per_ip_per_hour: u32,
}

/// The SMTP server, checked.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: lettre::message::Mailbox,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl SmtpSettings {
    fn from_raw(raw: RawSmtp) -> anyhow::Result<Option<SmtpSettings>> {
        let Some(host) = raw.host.filter(|host| !host.trim().is_empty()) else {
            if raw.from.is_some() || raw.username.is_some() || raw.port.is_some() {
                bail!(
                    "invalid configuration: key `smtp.host` is missing (the other `smtp` keys are set)"
                );
            }
            return Ok(None);
        };
        let Some(from) = raw.from.filter(|from| !from.trim().is_empty()) else {
            bail!(
                "invalid configuration: key `smtp.from` is missing: the address mail is sent from"
            );
        };
        let from: lettre::message::Mailbox = from.parse().map_err(|_| {
            anyhow::anyhow!(
                "invalid configuration: key `smtp.from` has {from:?}, which is not an address such as `Plein <plein@example.nl>`"
            )
        })?;
        if raw.username.is_some() != raw.password.is_some() {
            bail!("invalid configuration: keys `smtp.username` and `smtp.password` go together");
        }
        let tls = raw.tls.unwrap_or(SmtpTls::Starttls);
        let port = raw.port.unwrap_or(match tls {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        });
        if port == 0 {
            bail!("invalid configuration: key `smtp.port` must be a port number");
        }
        Ok(Some(SmtpSettings {
            host: host.trim().to_owned(),
            port,
            tls,
            username: raw.username,
            password: raw.password,
            from,
        }))
    }
}

/// An S3-compatible blob store.
#[derive(Clone)]
pub struct S3Settings {
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

impl Config {
    /// Loads the configuration: defaults, then the TOML file (when given, or `./plein.toml` when
    /// present), then `PLEIN_*` variables.
    pub fn load(config_file: Option<&Path>) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
        match config_file {
            Some(path) => {
                if !path.exists() {
                    bail!("configuration file {} does not exist", path.display());
                }
                figment = figment.merge(Toml::file_exact(path));
            }
            None if Path::new("plein.toml").exists() => {
                figment = figment.merge(Toml::file_exact("plein.toml"));
            }
            None => {}
        }
        // Tables nest with a double underscore: `PLEIN_SMTP__HOST` is `smtp.host`.
        figment = figment.merge(
            Env::prefixed("PLEIN_")
                .filter(|key| {
                    !NON_SETTING_VARIABLES.contains(&key.as_str())
                        && key.as_str() != "trusted_proxies"
                })
                .split("__"),
        );
        // A list in one variable: `PLEIN_TRUSTED_PROXIES=10.0.0.0/8,192.168.0.0/16`.
        if let Ok(list) = std::env::var("PLEIN_TRUSTED_PROXIES") {
            let proxies: Vec<String> = list
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect();
            figment = figment.merge(Serialized::default("trusted_proxies", proxies));
        }
        let raw: RawConfig = figment
            .extract()
            .map_err(|error| anyhow::anyhow!("invalid configuration: {error}"))?;
        Config::from_raw(raw)
    }

    /// Validates raw settings and fills in derived defaults.
    pub fn from_raw(raw: RawConfig) -> anyhow::Result<Config> {
        let database_url = match raw.database_url {
            Some(url) if url.trim().is_empty() => {
                bail!("invalid configuration: key `database_url` is empty")
            }
            Some(url) => url,
            None => format!(
                "sqlite://{}?mode=rwc",
                raw.data_dir.join("plein.db").display()
            ),
        };
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            bail!(
                "invalid configuration: key `database_url` must start with sqlite:// or postgres://"
            );
        }
        let public_url = match raw.public_url {
            Some(text) => {
                let url = Url::parse(text.trim_end_matches('/')).with_context(|| {
                    format!("invalid configuration: key `public_url` is not a URL: {text:?}")
                })?;
                if url.scheme() != "http" && url.scheme() != "https" {
                    bail!(
                        "invalid configuration: key `public_url` must be an http:// or https:// URL"
                    );
                }
                url
            }
            None => {
                let host = if raw.bind.ip().is_unspecified() {
                    "localhost".to_owned()
                } else {
                    raw.bind.ip().to_string()
                };
                let host = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host
                };
                Url::parse(&format!("http://{host}:{}", raw.bind.port()))
                    .context("invalid configuration: cannot derive `public_url` from `bind`")?
            }
        };
        let cookie_secure = raw
            .cookie_secure
            .unwrap_or_else(|| !(public_url.scheme() == "http" && is_loopback_host(&public_url)));
        if raw.session_ttl_hours == 0 {
            bail!("invalid configuration: key `session_ttl_hours` must be at least 1");
        }
        if raw.body_limit_bytes < 1024 {
            bail!("invalid configuration: key `body_limit_bytes` must be at least 1024");
        }
        if raw.request_timeout_secs == 0 {
            bail!("invalid configuration: key `request_timeout_secs` must be at least 1");
        }
        if raw.login_attempts_per_ip_per_minute == 0
            || raw.login_failures_per_account_and_address == 0
            || raw.login_failures_per_account == 0
            || raw.login_failures_per_address == 0
        {
            bail!("invalid configuration: login attempt limits must be at least 1");
        }
        if raw.photo_uploads_per_hour == 0 {
            bail!("invalid configuration: key `photo_uploads_per_hour` must be at least 1");
        }
        if raw.attachment_limit_bytes < 1024 {
            bail!("invalid configuration: key `attachment_limit_bytes` must be at least 1024");
        }
        if raw.attachment_uploads_per_hour == 0 {
            bail!("invalid configuration: key `attachment_uploads_per_hour` must be at least 1");
        }
        if raw.trust_proxy_headers.is_some() {
            bail!(
                "invalid configuration: key `trust_proxy_headers` was replaced by `trusted_proxies`, \
                 the addresses of your reverse proxies (e.g. trusted_proxies = [\"10.0.0.0/8\"])"
            );
        }
        let trusted_proxies = raw
            .trusted_proxies
            .iter()
            .map(|text| parse_proxy(text))
            .collect::<anyhow::Result<Vec<IpNet>>>()?;
        let postgres = !database_url.starts_with("sqlite:");
        let blob_store = raw
            .blob_store
            .unwrap_or(if postgres { Kind::Postgres } else { Kind::Fs });
        if blob_store == Kind::Postgres && !postgres {
            bail!(
                "invalid configuration: key `blob_store` is `postgres` but the database is SQLite; use `fs` or `s3`"
            );
        }
        let s3 = match raw.s3_bucket.filter(|bucket| !bucket.trim().is_empty()) {
            Some(bucket) => Some(S3Settings {
                allow_http: raw.s3_allow_http.unwrap_or_else(|| {
                    raw.s3_endpoint
                        .as_deref()
                        .is_some_and(|endpoint| endpoint.starts_with("http://"))
                }),
                endpoint: raw.s3_endpoint,
                bucket,
                region: raw.s3_region,
                access_key_id: raw.s3_access_key_id,
                secret_access_key: raw.s3_secret_access_key,
            }),
            None => None,
        };
        if blob_store == Kind::S3 && s3.is_none() {
            bail!("invalid configuration: key `blob_store` is `s3`, which needs `s3_bucket`");
        }
        if raw.ws_ping_interval_secs == 0 {
            bail!("invalid configuration: key `ws_ping_interval_secs` must be at least 1");
        }
        if !(1..=100_000).contains(&raw.ws_send_queue) {
            bail!("invalid configuration: key `ws_send_queue` must be between 1 and 100000");
        }
        if raw.event_retention_hours == 0 {
            bail!("invalid configuration: key `event_retention_hours` must be at least 1");
        }
        if raw.password_resets_per_address_per_hour == 0 || raw.password_resets_per_ip_per_hour == 0
        {
            bail!("invalid configuration: password reset limits must be at least 1");
        }
        let smtp = match raw.smtp {
            Some(smtp) => SmtpSettings::from_raw(smtp)?,
            None => None,
        };
        if raw.database_max_connections == 0 {
            bail!("invalid configuration: key `database_max_connections` must be at least 1");
        }
        let password_hash_concurrency = match raw.password_hash_concurrency {
            Some(0) => {
                bail!("invalid configuration: key `password_hash_concurrency` must be at least 1")
            }
            Some(n) => n,
            None => std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(2),
        };
        Ok(Config {
            bind: raw.bind,
            data_dir: raw.data_dir,
            database_url,
            public_url,
            log: raw.log,
            log_format: raw.log_format,
            cookie_secure,
            session_ttl: chrono::Duration::hours(i64::from(raw.session_ttl_hours)),
            body_limit_bytes: raw.body_limit_bytes,
            import_limit_bytes: raw.import_limit_bytes.max(raw.body_limit_bytes),
            request_timeout: std::time::Duration::from_secs(raw.request_timeout_secs),
            login_attempts_per_ip_per_minute: raw.login_attempts_per_ip_per_minute,
            login_policy: LoginPolicy {
                per_account_and_address: raw.login_failures_per_account_and_address,
                per_account: raw.login_failures_per_account,
                per_address: raw.login_failures_per_address,
            },
            photo_uploads_per_hour: raw.photo_uploads_per_hour,
            attachment_limit_bytes: raw.attachment_limit_bytes,
            attachment_uploads_per_hour: raw.attachment_uploads_per_hour,
            trusted_proxies,
            metrics_bind: raw.metrics_bind,
            password_hash_concurrency,
            database_max_connections: raw.database_max_connections,
            event_retention: chrono::Duration::hours(i64::from(raw.event_retention_hours)),
            ws_ping_interval: std::time::Duration::from_secs(raw.ws_ping_interval_secs),
            ws_send_queue: raw.ws_send_queue,
            blob_store,
            s3,
            smtp,
            password_resets_per_address_per_hour: raw.password_resets_per_address_per_hour,
            password_resets_per_ip_per_hour: raw.password_resets_per_ip_per_hour,
        })
    }

    /// The public origin (scheme, host, port) browsers send in `Origin`.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_serve_sqlite_in_the_data_dir_on_loopback_without_secure_cookies()
    -> anyhow::Result<()> {
        let config = Config::from_raw(RawConfig::default())?;
        assert_eq!(config.database_url, "sqlite://./data/plein.db?mode=rwc");
        assert_eq!(config.public_url.as_str(), "http://127.0.0.1:8080/");
        assert!(!config.cookie_secure);
        Ok(())
    }

    #[test]
    fn https_public_url_makes_cookies_secure() -> anyhow::Result<()> {
        let raw = RawConfig {
            public_url: Some("https://plein.example.nl".into()),
            ..RawConfig::default()
        };
        assert!(Config::from_raw(raw)?.cookie_secure);
        Ok(())
    }

    #[test]
    fn plain_http_on_a_real_host_still_gets_secure_cookies() -> anyhow::Result<()> {
        let raw = RawConfig {
            public_url: Some("http://intranet.example.nl".into()),
            ..RawConfig::default()
        };
        assert!(Config::from_raw(raw)?.cookie_secure);
        Ok(())
    }

    #[test]
    fn smtp_needs_a_sender_and_takes_its_port_from_the_tls_mode() -> anyhow::Result<()> {
        let raw = |smtp: RawSmtp| RawConfig {
            smtp: Some(smtp),
            ..RawConfig::default()
        };
        let without_from = Config::from_raw(raw(RawSmtp {
            host: Some("mail.example.nl".into()),
            ..RawSmtp::default()
        }));
        let message = without_from.map(|_| ()).unwrap_err().to_string();
        assert!(message.contains("smtp.from"), "{message}");
        let bad_from = Config::from_raw(raw(RawSmtp {
            host: Some("mail.example.nl".into()),
            from: Some("Plein <not an address>".into()),
            ..RawSmtp::default()
        }));
        assert!(bad_from.is_err());
        let config = Config::from_raw(raw(RawSmtp {
            host: Some("mail.example.nl".into()),
            tls: Some(SmtpTls::Tls),
            from: Some("Plein <plein@example.nl>".into()),
            ..RawSmtp::default()
        }))?;
        let smtp = config.smtp.context("smtp settings")?;
        assert_eq!(smtp.port, 465);
        assert_eq!(smtp.from.email.to_string(), "plein@example.nl");
        let half_login = Config::from_raw(raw(RawSmtp {
            host: Some("mail.example.nl".into()),
            from: Some("plein@example.nl".into()),
            username: Some("plein".into()),
            ..RawSmtp::default()
        }));
        assert!(half_login.is_err());
        Ok(())
    }

    #[test]
    fn an_unknown_database_scheme_names_the_key() {
        let raw = RawConfig {
            database_url: Some("mysql://x".into()),
            ..RawConfig::default()
        };
        let message = Config::from_raw(raw).map(|_| ()).unwrap_err().to_string();
        assert!(message.contains("database_url"), "{message}");
    }
}
