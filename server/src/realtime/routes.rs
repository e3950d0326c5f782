//! `GET /api/v1/ws`: the one socket per browser tab. Authenticated like any request (session
//! cookie or bearer token), refused before the upgrade from a foreign `Origin`; with `since` it
//! first replays what the person missed, in order, without duplicates, or says `resync`.

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use futures::{Sink, SinkExt as _, StreamExt as _};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::frames::ServerFrame;
use super::hub::{Registration, SharedHub};
use super::socket::{self, Heartbeat};
use crate::auth::AuthenticatedPerson;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::events::{self, Position};
use crate::http::{AppQuery, CurrentPerson};
use crate::state::AppState;

/// The largest frame a client may send.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// The largest frame read before the connection is dropped. Frames between this and
/// `MAX_FRAME_BYTES` are read whole and refused with 1009, so that the close frame reaches the
/// client: a socket closed with unread bytes is reset, and the client would see only that.
const MAX_READ_BYTES: usize = 1024 * 1024;
/// Per-socket read buffer: small, as 30,000 idle sockets each hold one.
const READ_BUFFER_BYTES: usize = 512;
/// Bytes the server lets pile up for one slow reader before the write fails.
const MAX_WRITE_BUFFER_BYTES: usize = 1024 * 1024;
/// Events read at a time while replaying.
const REPLAY_BATCH: u64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(open_socket))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SocketQuery {
    /// The `seq` of the last durable frame seen: what came after is replayed first. Without
    /// it the socket is live from now.
    #[param(minimum = 0)]
    pub since: Option<i64>,
}

/// The live socket (websocket upgrade). Server frames are `ServerFrame`, client frames
/// `ClientFrame` (see the schemas); close codes: 4001 session ended, 4008 too slow (reconnect
/// with `since`), 4009 heartbeat missed, 1001 server restarting, 1003 binary frame, 1008 too
/// many refused frames, 1009 frame over 64 KiB.
#[utoipa::path(
    get, path = "/api/v1/ws", tag = "realtime",
    params(SocketQuery),
    responses(
        (status = 101, description = "Switching to the websocket protocol"),
        (status = 400, description = "Not a websocket upgrade request", body = ErrorBody),
        (status = 426, description = "This connection cannot be upgraded", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A foreign `Origin` (`cross_origin_refused`), or not a person", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn open_socket(
    State(state): State<AppState>,
    turn: SetupTurn,
    CurrentPerson(person): CurrentPerson,
    AppQuery(query): AppQuery<SocketQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> ApiResult<Response> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let expected = state.config.public_origin();
        if origin.as_bytes() != expected.as_bytes() {
            return Err(ApiError::forbidden_code(
                "cross_origin_refused",
                "sockets from other origins are refused",
            ));
        }
    }
    if query.since.is_some_and(|since| since < 0) {
        return Err(ApiError::field("since", "must be 0 or more"));
    }
    Ok(upgrade
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
        .max_message_size(MAX_READ_BYTES)
        .max_frame_size(MAX_READ_BYTES)
        .on_upgrade(move |socket| serve(state, turn, person, query.since, socket)))
}

/// A turn among the sockets being set up on this node, taken before the request is
/// authenticated (extractors run in order) and given back once the socket has said hello.
struct SetupTurn {
    _permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl FromRequestParts<AppState> for SetupTurn {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        _parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(SetupTurn {
            _permit: state.hub.setup_turn().await,
        })
    }
}

fn text(frame: &ServerFrame) -> Message {
    Message::Text(Utf8Bytes::from(
        serde_json::to_string(frame).unwrap_or_default(),
    ))
}

async fn serve(
    state: AppState,
    turn: SetupTurn,
    person: AuthenticatedPerson,
    since: Option<i64>,
    socket: WebSocket,
) {
    let hub = state.hub.clone();
    let (registration, queue, registered_at) = hub.register(person.id, person.session_id);
    let (mut sink, stream) = socket.split();
    // The set-up's futures (the session check, a replay from the outbox) are large and live
    // only while the socket opens: boxed, not part of this task's own allocation.
    let begun = Box::pin(begin(
        &state,
        turn,
        &registration,
        &mut sink,
        &person,
        since,
        registered_at,
    ))
    .await;
    let Some(seen) = begun else {
        return;
    };
    let heartbeat = Heartbeat {
        ping_interval: state.config.ws_ping_interval,
    };
    drop(state);
    // The loop runs in a task of its own that holds only what it needs (under 1 KiB); this one,
    // with the upgrade's and the set-up's state (over 2.5 KiB before), ends here.
    let looping = async move {
        let connection = registration.connection.clone();
        socket::run(
            sink,
            stream,
            connection,
            queue,
            hub.as_ref(),
            heartbeat,
            seen,
        )
        .await;
        drop(registration);
    };
    tokio::spawn(looping);
}

/// Checks the session once more, replays what the client missed (or says `resync`) and says
/// hello; the position the client has seen everything up to, or `None` when it went away.
async fn begin<S>(
    state: &AppState,
    turn: SetupTurn,
    registration: &Registration,
    sink: &mut S,
    person: &AuthenticatedPerson,
    since: Option<i64>,
    registered_at: Position,
) -> Option<Position>
where
    S: Sink<Message> + Unpin,
{
    let hub = &state.hub;
    // A session ended between the request's check and the registration closes the socket
    // here; any later end reaches it through the hub.
    match crate::auth::repo::session_is_live(&state.db, person.session_id).await {
        Ok(true) => {}
        Ok(false) => {
            registration
                .connection
                .close(super::frames::close::SESSION_ENDED, "session ended");
        }
        Err(error) => {
            tracing::warn!(%error, "cannot check the session of a new socket");
        }
    }
    // Where the outbox begins, for a resume: the last statement taken in turn. What follows
    // writes to the client, who may be slow to read.
    let resume = match since {
        Some(since) => Some(
            events::pruned_through(&state.db)
                .await
                .map(|pruned| Resume { since, pruned }),
        ),
        None => None,
    };
    drop(turn);
    let (first, seen) = match resume {
        None => (
            ServerFrame::Hello {
                seq: registered_at.seq,
                person_id: person.id,
                resumed: false,
            },
            registered_at,
        ),
        Some(resume) => {
            match async { replay(state, hub, sink, person.id, resume?, registered_at).await }.await
            {
                Ok(Some(seen)) => (
                    ServerFrame::Hello {
                        seq: registered_at.max(seen).seq,
                        person_id: person.id,
                        resumed: true,
                    },
                    seen.max(registered_at),
                ),
                Ok(None) => (
                    ServerFrame::Resync {
                        seq: registered_at.seq,
                        reason: "the events since `since` are no longer kept (or never were)"
                            .to_owned(),
                    },
                    registered_at,
                ),
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), "socket replay failed");
                    (
                        ServerFrame::Resync {
                            seq: registered_at.seq,
                            reason: "this node cannot replay the missed events now".to_owned(),
                        },
                        registered_at,
                    )
                }
            }
        }
    };
    sink.send(text(&first)).await.ok()?;
    Some(seen)
}

/// A client's `since`, and where the outbox began when the socket was set up.
struct Resume {
    since: i64,
    pruned: Position,
}

/// Sends the person's frames for the events after `since` up to where the hub took over.
/// `None`: `since` cannot be resolved (pruned, or unknown); the client must resync. Returns the
/// position the client has now seen everything up to.
async fn replay<S>(
    state: &AppState,
    hub: &SharedHub,
    sink: &mut S,
    person: Uuid,
    Resume { since, pruned }: Resume,
    until: Position,
) -> anyhow::Result<Option<Position>>
where
    S: Sink<Message> + Unpin,
{
    // Most resumes are after a short drop: the frames are still in the hub's memory (unless
    // the outbox has been pruned past them since: beyond the window, resync as always).
    if let Some((from, frames)) = hub.replay_recent(since, until, person).await?
        && from >= pruned
    {
        metrics::counter!("plein_ws_replayed_frames_total").increment(frames.len() as u64);
        for frame in frames {
            sink.send(Message::Text(frame))
                .await
                .map_err(|_| anyhow::anyhow!("the client went away during the replay"))?;
        }
        return Ok(Some(until.max(from)));
    }
    let Some(mut position) = events::resolve(&state.db, since).await? else {
        metrics::counter!("plein_ws_resyncs_total").increment(1);
        return Ok(None);
    };
    let started = position;
    let mut replayed = 0u64;
    while position < until {
        let batch = events::read_after(&state.db, position, REPLAY_BATCH).await?;
        for stored in &batch.events {
            if stored.position() > until {
                break;
            }
            if let Some(frame) = hub.frame_for(stored, person).await? {
                sink.send(Message::Text(frame))
                    .await
                    .map_err(|_| anyhow::anyhow!("the client went away during the replay"))?;
                replayed += 1;
            }
        }
        match batch.end {
            Some(end) => position = end.min(until),
            None => break,
        }
    }
    metrics::counter!("plein_ws_replayed_frames_total").increment(replayed);
    Ok(Some(started.max(position)))
}
