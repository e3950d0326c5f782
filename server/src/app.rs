//! The application: state, router and layers, background tasks, serving and graceful shutdown.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use sea_orm::DbBackend;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::LatencyUnit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::csrf::CsrfLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::password::PasswordHasher;
use crate::auth::rate_limit::LoginLimiter;
use crate::config::{Config, LogFormat};
use crate::directory::indexer::SearchIndexer;
use crate::error::ApiError;
use crate::events::{self, Doorbell, Tailer};
use crate::http::middleware::{api_errors, track_metrics};
use crate::http::openapi::ApiDoc;
use crate::state::AppState;
use crate::{admin, auth, db, directory, http, telemetry};

const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(600);
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
     script-src 'self'; connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; \
     form-action 'self'; frame-ancestors 'none'";

/// The API router with its OpenAPI document; every route is registered through it, so the
/// document lists every route.
pub fn api_router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::routes::router())
        .merge(admin::routes::router())
        .merge(directory::routes::router())
        .merge(crate::groups::routes::router())
        .merge(crate::posts::routes::router())
        .merge(crate::chat::routes::router())
        .merge(crate::realtime::routes::router())
        .merge(crate::attachments::routes::router())
        .merge(crate::notifications::routes::router())
        .merge(crate::announcements::routes::router())
        .merge(http::ops::router())
        .merge(crate::scim::routes::router());
    let (router, mut openapi) = router.split_for_parts();
    http::openapi::declare_common_answers(&mut openapi);
    (router, openapi)
}

/// Builds the full router with its layers.
pub fn router(state: AppState) -> anyhow::Result<Router> {
    let (api, openapi) = api_router();
    let public_origin = state.config.public_origin();
    let csrf = CsrfLayer::new()
        .add_trusted_origin(&public_origin)
        .with_context(|| {
            format!(
                "invalid configuration: key `public_url` is not a browser origin: {public_origin}"
            )
        })?
        .with_insecure_bypass(|_, uri| uri.path().starts_with("/scim/"))
        .with_rejection_response(|_| {
            ApiError::forbidden_code(
                "cross_origin_refused",
                "cross-origin requests that change data are refused",
            )
            .into_response()
        });
    let mut security_headers = vec![
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    if state.config.public_url.scheme() == "https" {
        security_headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    let body_limit = state.config.body_limit_bytes;
    // The hard cap for any body; routes taking JSON stop at `body_limit` via `DefaultBodyLimit`.
    let upload_limit = body_limit
        .max(state.config.import_limit_bytes)
        .max(state.config.attachment_limit_bytes)
        .max(directory::photos::MAX_UPLOAD_BYTES);
    let timeout = state.config.request_timeout;

    let mut router: Router = api
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi))
        // The browser client, and its routes; a JSON 404 under /api and for other methods.
        .fallback(http::web::serve)
        .with_state(state)
        .layer(DefaultBodyLimit::max(body_limit));
    router = router.layer(
        ServiceBuilder::new()
            .layer(SetSensitiveHeadersLayer::new([header::AUTHORIZATION, header::COOKIE, header::SET_COOKIE]))
            .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                let request_id = request
                    .headers()
                    .get(REQUEST_ID_HEADER)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", request_id = %request_id, method = %request.method(), path = %request.uri().path())
            })
            .on_request(())
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Micros)))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
            .layer(axum::middleware::from_fn(track_metrics))
            .layer(axum::middleware::from_fn(api_errors))
            .layer(CatchPanicLayer::new())
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
            .layer(RequestBodyLimitLayer::new(upload_limit))
            .layer(CompressionLayer::new())
            .layer(csrf),
    );
    // Outermost, so error bodies written by the middleware above carry them too.
    for (name, value) in security_headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    Ok(router)
}

/// A built application: bound to its port, state ready, background tasks running.
pub struct Application {
    listener: TcpListener,
    /// `metrics_bind`, when set: `/metrics` without a token, nothing else.
    metrics_listener: Option<TcpListener>,
    router: Router,
    state: AppState,
    shutdown: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// What tests and embedders may hold on to while the application runs.
#[derive(Clone)]
pub struct AppHandle {
    pub state: AppState,
    pub shutdown: CancellationToken,
}

impl Application {
    /// Binds, connects, migrates, opens (or rebuilds) the search index and starts the tailer.
    /// Port 0 picks a free port; a `public_url` derived from `bind` then names that port.
    pub async fn build(mut config: Config) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let bound = listener.local_addr()?;
        if config.public_url.port() == Some(0) {
            config
                .public_url
                .set_port(Some(bound.port()))
                .map_err(|()| anyhow::anyhow!("cannot put port {bound} in `public_url`"))?;
        }
        config.bind = bound;
        let metrics_listener = match config.metrics_bind {
            Some(address) => Some(
                TcpListener::bind(address)
                    .await
                    .with_context(|| format!("cannot listen on {address} (`metrics_bind`)"))?,
            ),
            None => None,
        };
        let db = db::connect(&config).await?;
        db::migrate(&db).await?;
        let shutdown = CancellationToken::new();
        let doorbell = Doorbell::new();
        let mut tasks = Vec::new();
        let mut listener_status = None;
        let shared = db.get_database_backend() == DbBackend::Postgres;
        let bus = if shared {
            let (bus, task) =
                crate::realtime::bus::SignalBus::postgres(db.clone(), shutdown.child_token());
            tasks.push(task);
            bus
        } else {
            crate::realtime::bus::SignalBus::local()
        };
        // Half the database pool for sockets being set up, the rest for everything else.
        let hub = crate::realtime::hub::Hub::new(
            db.clone(),
            config.ws_send_queue,
            bus,
            (config.database_max_connections / 2) as usize,
        );
        if shared {
            let (status, task) = events::spawn_postgres_listener(
                config.database_url.clone(),
                db.clone(),
                doorbell.clone(),
                Arc::new(crate::realtime::hub::HubSignals(hub.clone())),
                shutdown.child_token(),
            );
            tasks.push(crate::realtime::hub::spawn_presence_keeper(
                hub.clone(),
                shutdown.child_token(),
            ));
            listener_status = Some(status);
            tasks.push(task);
            tasks.push(events::spawn_notifier(
                db.clone(),
                doorbell.clone(),
                shutdown.child_token(),
            ));
        }
        let startup_head = events::head(&db).await?;
        let (search, search_position) =
            directory::indexer::open(&db, &config.data_dir.join("search")).await?;
        let indexer = SearchIndexer::new(db.clone(), search.clone(), search_position);
        let (group_search, group_position) = crate::groups::indexer::open(&db).await?;
        let group_indexer = crate::groups::indexer::GroupIndexer::new(
            db.clone(),
            group_search.clone(),
            group_position,
        );
        let (post_search, post_position) =
            crate::posts::indexer::open(&db, &config.data_dir.join("post-search")).await?;
        let post_indexer =
            crate::posts::indexer::PostIndexer::new(db.clone(), post_search.clone(), post_position);
        let (message_search, message_position) =
            crate::chat::indexer::open(&db, &config.data_dir.join("message-search")).await?;
        let message_indexer = crate::chat::indexer::MessageIndexer::new(
            db.clone(),
            message_search.clone(),
            message_position,
        );
        let recent_posts = crate::posts::recent::RecentPosts::new();
        let hub_feeder = crate::realtime::hub::HubFeeder::new(hub.clone()).await?;
        let tailer = Tailer::new(db.clone(), doorbell.clone())
            .with_consumer(Arc::new(indexer))
            .with_consumer(Arc::new(group_indexer))
            .with_consumer(Arc::new(post_indexer))
            .with_consumer(Arc::new(message_indexer))
            .with_consumer(Arc::new(
                crate::notifications::maker::NotificationMaker::new(
                    db.clone(),
                    doorbell.clone(),
                    hub.clone(),
                ),
            ))
            .with_consumer(Arc::new(crate::posts::recent::RecentPostsFeeder::new(
                db.clone(),
                recent_posts.clone(),
            )))
            .with_consumer(Arc::new(hub_feeder));
        let (tailer_handle, consumer_tasks) = tailer.spawn(shutdown.child_token()).await?;
        tasks.extend(consumer_tasks);

        let blobs = Arc::new(
            crate::blobs::Blobs::open(&config, db.clone()).context("cannot open the blob store")?,
        );
        let mailer = crate::mail::Mailer::new(config.smtp.as_ref())?;
        if !mailer.enabled() {
            tracing::warn!(
                "no SMTP server is configured (smtp.host): mails are written to the log"
            );
        }
        tasks.push(crate::mail::spawn_worker(
            db.clone(),
            mailer.clone(),
            shutdown.child_token(),
        ));
        let state = AppState {
            blobs,
            mailer,
            reset_limiter: crate::auth::links::ResetLimiter::new(
                config.password_resets_per_address_per_hour,
                config.password_resets_per_ip_per_hour,
            ),
            photo_uploads: crate::images::UploadLimiter::new(config.photo_uploads_per_hour),
            attachment_uploads: crate::images::UploadLimiter::new(
                config.attachment_uploads_per_hour,
            ),
            db: db.clone(),
            passwords: PasswordHasher::new(config.password_hash_concurrency)?,
            login_limiter: LoginLimiter::new(
                config.login_attempts_per_ip_per_minute,
                config.login_policy,
            ),
            doorbell,
            tailer: tailer_handle,
            group_search,
            post_search,
            message_search,
            recent_posts,
            hub: hub.clone(),
            listener: listener_status,
            metrics: telemetry::prometheus()?,
            search,
            startup_head,
            config: Arc::new(config),
        };
        let stopping = shutdown.child_token();
        tasks.push(tokio::spawn(async move {
            stopping.cancelled().await;
            // Sockets hear why and resume elsewhere; upgraded connections outlive the server's
            // graceful wait otherwise.
            hub.close_all();
        }));
        tasks.push(spawn_housekeeping(state.clone(), shutdown.child_token()));
        tasks.push(spawn_scheduler(state.clone(), shutdown.child_token()));

        let router = router(state.clone())?;
        Ok(Application {
            listener,
            metrics_listener,
            router,
            state,
            shutdown,
            tasks,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|address| address.port())
            .unwrap_or(0)
    }

    /// The port of `metrics_bind`, when set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
            .map(|address| address.port())
    }

    pub fn handle(&self) -> AppHandle {
        AppHandle {
            state: self.state.clone(),
            shutdown: self.shutdown.clone(),
        }
    }

    /// Serves until SIGINT/SIGTERM or the shutdown token; in-flight requests finish first.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let shutdown = self.shutdown.clone();
        let address = self.listener.local_addr()?;
        tracing::info!(%address, public_url = %self.state.config.public_url, "serving");
        let signal_token = shutdown.clone();
        let signal = shutdown_signal()?;
        announce_setup(&self.state).await?;
        tokio::spawn(async move {
            signal.await;
            tracing::info!("shutting down");
            signal_token.cancel();
        });
        if let Some(metrics_listener) = self.metrics_listener {
            let metrics_address = metrics_listener.local_addr()?;
            tracing::info!(address = %metrics_address, "serving metrics");
            let metrics_router = Router::new()
                .route("/metrics", axum::routing::get(http::ops::open_metrics))
                .with_state(self.state.clone());
            let stop = shutdown.clone();
            tokio::spawn(async move {
                let served = axum::serve(metrics_listener, metrics_router)
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .await;
                if let Err(error) = served {
                    tracing::error!(%error, "metrics listener failed");
                }
            });
        }
        let graceful = shutdown.clone();
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { graceful.cancelled().await })
        .await
        .context("server failed")?;
        shutdown.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
        self.state
            .db
            .clone()
            .close()
            .await
            .context("cannot close the database")?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Registers SIGINT/SIGTERM handlers now (so a signal arriving early is not lost) and returns a
/// future that completes on the first of them.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
        Ok(async move {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// While no admin exists, every start logs the setup link.
async fn announce_setup(state: &AppState) -> anyhow::Result<()> {
    if let Some(token) = admin::service::ensure_setup_token(&state.db).await? {
        let mut link = state
            .config
            .public_url
            .join("setup")
            .context("cannot build the setup link")?;
        link.query_pairs_mut().append_pair("token", &token);
        tracing::warn!("no admin yet: finish setup at {link}");
        // The banner is for a person at a terminal; logs (journald, JSON) have the line above.
        if state.config.log_format == LogFormat::Text && std::io::stderr().is_terminal() {
            eprintln!("\n  Plein has no admin yet. Open this link to create one:\n\n    {link}\n");
        }
    }
    Ok(())
}

/// How often scheduled announcements are looked for.
const SCHEDULER_INTERVAL: Duration = Duration::from_secs(10);

/// Publishes scheduled announcements when their time comes, and sends the reminders before an
/// acknowledgement is due (on any node; the row lock decides).
fn spawn_scheduler(state: AppState, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(SCHEDULER_INTERVAL);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = interval.tick() => {
                    match crate::announcements::service::publish_due(&state.db, &state.doorbell, &state.hub).await {
                        Ok(published) if published > 0 => tracing::info!(published, "scheduled announcements published"),
                        Ok(_) => {}
                        Err(error) => tracing::warn!(error = %error.message, "cannot publish scheduled announcements"),
                    }
                    match crate::announcements::service::remind_due(&state.db, &state.doorbell).await {
                        Ok(sent) if sent > 0 => tracing::info!(sent, "acknowledgement reminders sent"),
                        Ok(_) => {}
                        Err(error) => tracing::warn!(error = %error.message, "cannot send acknowledgement reminders"),
                    }
                }
            }
        }
    })
}

fn spawn_housekeeping(state: AppState, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(HOUSEKEEPING_INTERVAL);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = interval.tick() => {
                    match auth::service::housekeeping(&state).await {
                        Ok(removed) if removed > 0 => tracing::info!(removed, "expired sessions removed"),
                        Ok(_) => {}
                        Err(error) => tracing::warn!(%error, "housekeeping failed"),
                    }
                    match crate::attachments::remove_unattached(&state.db, &state.blobs).await {
                        Ok(removed) if removed > 0 => tracing::info!(removed, "unattached uploads removed"),
                        Ok(_) => {}
                        Err(error) => tracing::warn!(error = %error.message, "cannot remove unattached uploads"),
                    }
                    match crate::mail::prune(&state.db).await {
                        Ok(removed) if removed > 0 => tracing::info!(removed, "old mail records pruned"),
                        Ok(_) => {}
                        Err(error) => tracing::warn!(%error, "cannot prune old mail records"),
                    }
                    match auth::links::prune(&state.db).await {
                        Ok(removed) if removed > 0 => tracing::debug!(removed, "spent account links removed"),
                        Ok(_) => {}
                        Err(error) => tracing::warn!(%error, "cannot remove spent account links"),
                    }
                    let cutoff = chrono::Utc::now() - state.config.event_retention;
                    match events::prune(&state.db, cutoff).await {
                        Ok(removed) if removed > 0 => tracing::info!(removed, "old events pruned"),
                        Ok(_) => {}
                        Err(error) => tracing::warn!(%error, "cannot prune old events"),
                    }
                }
            }
        }
    })
}
