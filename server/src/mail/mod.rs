//! Mail. What Plein sends is queued in the database inside the transaction that decides it, and
//! a worker on every node hands due mails to the SMTP server: a mail is claimed for a while
//! before it is sent, so several nodes never send it twice, and one that fails for a passing
//! reason is tried again later (a minute, then doubling up to an hour, ten times in all). With
//! no SMTP server configured, mails are written to the log instead and admins see that mail is
//! off. Sent mails keep no body (a mail may carry a link's secret) and are pruned after a month.

pub mod templates;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult,
    Statement,
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::config::{SmtpSettings, SmtpTls};
use crate::entities::mail_queue;

/// Mails one worker claims at a time.
const BATCH: u64 = 20;
/// The longest one hand-over to the SMTP server may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a claimed mail is held by the node sending it: longer than a whole batch can take
/// with every hand-over timing out, so no other node takes it while it may still go out.
const CLAIM: Duration = Duration::from_secs(600);
const _: () = assert!(CLAIM.as_secs() > SEND_TIMEOUT.as_secs() * BATCH);
/// How often a worker looks for mails queued on other nodes or due for another try.
const POLL: Duration = Duration::from_secs(5);
/// Tries before a mail is given up.
const MAX_ATTEMPTS: i32 = 10;
/// Sent and failed mails are kept (without their bodies) this long for the admin's status.
const KEEP_DAYS: i64 = 30;

/// One mail to queue.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The address alone: names never reach a header.
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Where mail goes: an SMTP server, or the log.
#[derive(Clone)]
pub struct Mailer(Arc<Inner>);

struct Inner {
    smtp: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
    wake: tokio::sync::Notify,
    description: Option<String>,
}

/// Why a mail was not handed over.
#[derive(Debug)]
enum SendError {
    /// It will not work later either (the server refused the recipient, the mail is malformed).
    Permanent(String),
    Transient(String),
}

impl Mailer {
    pub fn new(settings: Option<&SmtpSettings>) -> anyhow::Result<Mailer> {
        let smtp = match settings {
            Some(settings) => Some((transport(settings)?, settings.from.clone())),
            None => None,
        };
        Ok(Mailer(Arc::new(Inner {
            smtp,
            wake: tokio::sync::Notify::new(),
            description: settings.map(|settings| {
                format!(
                    "{}:{} ({})",
                    settings.host,
                    settings.port,
                    match settings.tls {
                        SmtpTls::None => "no TLS",
                        SmtpTls::Starttls => "STARTTLS",
                        SmtpTls::Tls => "TLS",
                    }
                )
            }),
        })))
    }

    /// Whether mail goes to an SMTP server (otherwise to the log).
    pub fn enabled(&self) -> bool {
        self.0.smtp.is_some()
    }

    /// The SMTP server, for the admin's status.
    pub fn server(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The sender address, for the admin's status.
    pub fn from(&self) -> Option<String> {
        self.0.smtp.as_ref().map(|(_, from)| from.to_string())
    }

    /// Tells this node's worker that mails were queued (after the commit).
    pub fn wake(&self) {
        self.0.wake.notify_one();
    }

    async fn send(&self, row: &mail_queue::Model) -> Result<(), SendError> {
        let Some((transport, from)) = &self.0.smtp else {
            tracing::info!(
                to = %row.recipient,
                subject = %row.subject,
                body = %row.text_body,
                "mail not sent: no SMTP server is configured (smtp.host)"
            );
            return Ok(());
        };
        let to: Mailbox = row
            .recipient
            .parse()
            .map_err(|error| SendError::Permanent(format!("not an address: {error}")))?;
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(row.subject.clone())
            .message_id(Some(format!("<{}@{}>", row.id, from.email.domain())))
            .multipart(MultiPart::alternative_plain_html(
                row.text_body.clone(),
                row.html_body.clone(),
            ))
            .map_err(|error| SendError::Permanent(format!("cannot build the mail: {error}")))?;
        match transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_permanent() => Err(SendError::Permanent(error.to_string())),
            Err(error) => Err(SendError::Transient(error.to_string())),
        }
    }
}

fn transport(settings: &SmtpSettings) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let builder = match settings.tls {
        SmtpTls::None => {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str())
        }
        SmtpTls::Starttls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(settings.host.as_str())?
        }
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(settings.host.as_str())?,
    };
    let mut builder = builder.port(settings.port).timeout(Some(SEND_TIMEOUT));
    if let (Some(username), Some(password)) = (&settings.username, &settings.password) {
        builder = builder.credentials(Credentials::new(username.clone(), password.clone()));
    }
    Ok(builder.build())
}

/// Queues mails in the caller's transaction; wake the mailer after the commit.
pub async fn queue(db: &impl ConnectionTrait, mails: Vec<Outgoing>) -> Result<(), DbErr> {
    let now = Utc::now();
    let rows: Vec<mail_queue::ActiveModel> = mails
        .into_iter()
        .map(|mail| mail_queue::ActiveModel {
            id: Set(Uuid::now_v7()),
            recipient: Set(mail.to),
            subject: Set(mail.subject),
            text_body: Set(mail.text),
            html_body: Set(mail.html),
            attempts: Set(0),
            next_attempt_at: Set(now),
            claimed_until: Set(None),
            last_error: Set(None),
            created_at: Set(now),
            sent_at: Set(None),
            failed_at: Set(None),
        })
        .collect();
    // Each row is 12 parameters: stay well under SQLite's and PostgreSQL's limits.
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(1_000).collect();
        mail_queue::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Claims due mails for this node: none of them is claimed by another node until `CLAIM` has
/// passed.
async fn claim(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Vec<mail_queue::Model>, DbErr> {
    let backend = db.get_database_backend();
    let lock = if backend == sea_orm::DbBackend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let until = now + chrono::Duration::from_std(CLAIM).unwrap_or_default();
    let sql = format!(
        "UPDATE mail_queue SET claimed_until = $1, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM mail_queue WHERE sent_at IS NULL AND failed_at IS NULL \
         AND next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until < $2) \
         ORDER BY next_attempt_at LIMIT $3{lock}) \
         RETURNING *"
    );
    mail_queue::Model::find_by_statement(Statement::from_sql_and_values(
        backend,
        sql,
        [until.into(), now.into(), (BATCH as i64).into()],
    ))
    .all(db)
    .await
}

async fn sent(db: &DatabaseConnection, id: Uuid) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        "UPDATE mail_queue SET sent_at = $1, text_body = '', html_body = '', \
         claimed_until = NULL, last_error = NULL WHERE id = $2",
        [Utc::now().into(), id.into()],
    ))
    .await?;
    Ok(())
}

async fn not_sent(
    db: &DatabaseConnection,
    row: &mail_queue::Model,
    error: SendError,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let now = Utc::now();
    let (permanent, message) = match error {
        SendError::Permanent(message) => (true, message),
        SendError::Transient(message) => (false, message),
    };
    if permanent || row.attempts >= MAX_ATTEMPTS {
        metrics::counter!("plein_mail_failed_total").increment(1);
        tracing::warn!(id = %row.id, to = %row.recipient, error = %message, attempts = row.attempts, "mail given up");
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            "UPDATE mail_queue SET failed_at = $1, text_body = '', html_body = '', \
             claimed_until = NULL, last_error = $2 WHERE id = $3",
            [now.into(), message.into(), row.id.into()],
        ))
        .await?;
        return Ok(());
    }
    let wait = retry_wait(row.attempts);
    tracing::info!(id = %row.id, to = %row.recipient, error = %message, retry_in_secs = wait.num_seconds(), "mail not sent yet");
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        "UPDATE mail_queue SET next_attempt_at = $1, claimed_until = NULL, last_error = $2 \
         WHERE id = $3",
        [(now + wait).into(), message.into(), row.id.into()],
    ))
    .await?;
    Ok(())
}

/// After `attempts` tries: a minute, doubling, at most an hour.
fn retry_wait(attempts: i32) -> chrono::Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 6)).unwrap_or(0);
    chrono::Duration::minutes((1_i64 << doublings).min(60))
}

/// Sends what is due now; how many mails were claimed.
pub async fn send_due(db: &DatabaseConnection, mailer: &Mailer) -> Result<usize, DbErr> {
    let rows = claim(db, Utc::now()).await?;
    for row in &rows {
        match mailer.send(row).await {
            Ok(()) => {
                metrics::counter!("plein_mail_sent_total").increment(1);
                sent(db, row.id).await?;
            }
            Err(error) => not_sent(db, row, error).await?,
        }
    }
    Ok(rows.len())
}

/// The worker of this node: sends as soon as mails are queued here, and looks for others'
/// and retries every few seconds.
pub fn spawn_worker(
    db: DatabaseConnection,
    mailer: Mailer,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let woken = mailer.0.wake.notified();
            let claimed = match send_due(&db, &mailer).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(%error, "cannot send queued mail");
                    0
                }
            };
            if claimed as u64 == BATCH {
                continue;
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = woken => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    })
}

/// What the queue holds, for the admin's status.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueueCounts {
    pub waiting: u64,
    pub failed: u64,
    pub sent: u64,
}

pub async fn counts(db: &impl ConnectionTrait) -> Result<QueueCounts, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        waiting: i64,
        failed: i64,
        sent: i64,
    }
    let backend = db.get_database_backend();
    let row = Row::find_by_statement(Statement::from_string(
        backend,
        "SELECT \
         COALESCE(SUM(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END), 0) AS waiting, \
         COALESCE(SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS failed, \
         COALESCE(SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS sent \
         FROM mail_queue",
    ))
    .one(db)
    .await?;
    Ok(row.map_or_else(QueueCounts::default, |row| QueueCounts {
        waiting: u64::try_from(row.waiting).unwrap_or(0),
        failed: u64::try_from(row.failed).unwrap_or(0),
        sent: u64::try_from(row.sent).unwrap_or(0),
    }))
}

/// Forgets sent and failed mails older than a month.
pub async fn prune(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let before = Utc::now() - chrono::Duration::days(KEEP_DAYS);
    let backend = db.get_database_backend();
    let result = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "DELETE FROM mail_queue WHERE (sent_at IS NOT NULL AND sent_at < $1) \
             OR (failed_at IS NOT NULL AND failed_at < $1)",
            [before.into()],
        ))
        .await?;
    Ok(result.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_a_minute_then_double_up_to_an_hour() {
        let minutes: Vec<i64> = (1..=9).map(|n| retry_wait(n).num_minutes()).collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }
}
