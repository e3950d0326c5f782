//! Shared application state handed to every handler.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DatabaseConnection;

use crate::auth::password::PasswordHasher;
use crate::auth::rate_limit::LoginLimiter;
use crate::blobs::SharedBlobs;
use crate::config::Config;
use crate::directory::indexer::SharedIndex;
use crate::events::{Doorbell, ListenerStatus, Position, TailerHandle};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub passwords: PasswordHasher,
    pub login_limiter: LoginLimiter,
    pub reset_limiter: crate::auth::links::ResetLimiter,
    /// Where mail goes (an SMTP server or the log); its worker sends the queue.
    pub mailer: crate::mail::Mailer,
    pub doorbell: Doorbell,
    pub tailer: TailerHandle,
    /// The PostgreSQL listener that hears other nodes' commits (none on SQLite).
    pub listener: Option<tokio::sync::watch::Receiver<ListenerStatus>>,
    pub metrics: PrometheusHandle,
    pub search: SharedIndex,
    /// The group directory's index on this node.
    pub group_search: crate::groups::indexer::SharedGroupIndex,
    /// Each group's newest post ids on this node, for home feeds.
    pub recent_posts: crate::posts::recent::SharedRecentPosts,
    /// Post search on this node.
    pub post_search: crate::posts::indexer::SharedPostIndex,
    pub message_search: crate::chat::indexer::SharedMessageIndex,
    /// This node's sockets and what they may hear.
    pub hub: crate::realtime::hub::SharedHub,
    pub blobs: SharedBlobs,
    pub photo_uploads: crate::images::UploadLimiter,
    pub attachment_uploads: crate::images::UploadLimiter,
    /// The outbox head when this node started; it is ready once it has delivered that far.
    pub startup_head: Position,
}
