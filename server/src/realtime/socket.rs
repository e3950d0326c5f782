//! One socket's loop, generic over the sink and stream so it runs over channels in tests: frames
//! from the hub's queue go out, client frames are answered, pings keep it honest, and a close
//! asked for by the hub (session ended, too slow, shutdown) goes out with its code.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use futures::{Sink, SinkExt as _, Stream, StreamExt as _};
use tokio::time::{Instant, MissedTickBehavior};
use uuid::Uuid;

use super::frames::{ClientFrame, MAX_WATCHED, ServerFrame, TabState, close};
use super::hub::{Connection, QueueReader};
use crate::events::Position;

/// Client frames per second a socket may send; more are refused with an `error` frame.
const FRAMES_PER_SECOND: u32 = 20;
/// Refused or malformed frames in a row before the socket is closed.
const STRIKES: u32 = 100;
/// One typing signal per conversation per this long is passed on; more are dropped.
const TYPING_EVERY: Duration = Duration::from_secs(2);

/// Heartbeat timing for sockets.
#[derive(Debug, Clone, Copy)]
pub struct Heartbeat {
    pub ping_interval: Duration,
}

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The client closed or the connection broke.
    ClientGone,
    /// The server closed it with this code.
    Closed(u16),
}

/// What a socket's client frames act on: typing and presence, which skip the outbox.
#[async_trait::async_trait]
pub trait Signals: Send + Sync {
    /// The connection's person types in `conversation`; false when they are not in it.
    fn typing(&self, connection: &Connection, conversation: Uuid) -> bool;
    /// The tab is visible and used, or hidden or idle.
    fn tab_state(&self, connection: &Connection, state: TabState);
    /// The connection watches these people from now on; their presence now.
    async fn watch(&self, connection: &Arc<Connection>, people: Vec<Uuid>) -> Vec<ServerFrame>;
}

fn text(frame: &ServerFrame) -> Message {
    Message::Text(Utf8Bytes::from(
        serde_json::to_string(frame).unwrap_or_else(|_| "{\"type\":\"error\"}".to_owned()),
    ))
}

fn close_message(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}

/// How long a socket closed for what its client sent goes on reading until the client closes.
const CLOSE_LINGER: Duration = Duration::from_secs(2);

/// Closes the socket for what its client sent. What the client sent after that is read and
/// dropped until it closes too (or `CLOSE_LINGER` passes): a connection closed with bytes
/// unread is reset, and the client would see the reset instead of the close frame's code.
async fn refuse<S, R>(sink: &mut S, stream: &mut R, code: u16, reason: &'static str) -> Ended
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let _ = sink.send(close_message(code, reason)).await;
    let _ = tokio::time::timeout(CLOSE_LINGER, async {
        while let Some(Ok(message)) = stream.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
    Ended::Closed(code)
}

/// A client's text frame, or why it is refused (code, message).
fn parse(raw: &str) -> Result<ClientFrame, (&'static str, &'static str)> {
    serde_json::from_str::<ClientFrame>(raw).map_err(|_| {
        match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(value) => match value.get("type").and_then(|kind| kind.as_str()) {
                Some(kind) if ["ping", "typing", "presence", "presence.watch"].contains(&kind) => (
                    "malformed_frame",
                    "this frame's fields are not as documented",
                ),
                Some(_) => (
                    "unknown_frame",
                    "this frame type is not one the server takes",
                ),
                None => (
                    "malformed_frame",
                    "a frame is a JSON object with a string `type`",
                ),
            },
            Err(_) => ("malformed_frame", "a frame is JSON text"),
        }
    })
}

/// Per-socket limits on what the client sends.
struct Limits {
    window: Instant,
    in_window: u32,
    strikes: u32,
    typing: HashMap<Uuid, Instant>,
}

impl Limits {
    fn new() -> Self {
        Limits {
            window: Instant::now(),
            in_window: 0,
            strikes: 0,
            typing: HashMap::new(),
        }
    }

    /// Counts a frame; false when the client sends too many.
    fn allow(&mut self) -> bool {
        if self.window.elapsed() >= Duration::from_secs(1) {
            self.window = Instant::now();
            self.in_window = 0;
        }
        self.in_window += 1;
        self.in_window <= FRAMES_PER_SECOND
    }

    /// Whether a typing signal for `conversation` goes on now.
    fn typing(&mut self, conversation: Uuid) -> bool {
        let now = Instant::now();
        if self
            .typing
            .get(&conversation)
            .is_some_and(|last| now.duration_since(*last) < TYPING_EVERY)
        {
            return false;
        }
        if self.typing.len() > 100 {
            self.typing
                .retain(|_, last| now.duration_since(*last) < TYPING_EVERY);
        }
        self.typing.insert(conversation, now);
        true
    }
}

/// The answers to one client text frame; `Err` with a close code when the client must go.
async fn answer(
    raw: &str,
    connection: &Arc<Connection>,
    signals: &dyn Signals,
    limits: &mut Limits,
) -> Result<Vec<ServerFrame>, u16> {
    let outcome = if limits.allow() {
        parse(raw)
    } else {
        Err(("rate_limited", "too many frames; slow down"))
    };
    let refused = match outcome {
        Ok(ClientFrame::Ping) => return Ok(vec![ServerFrame::Pong]),
        Ok(ClientFrame::Typing { conversation_id }) => {
            if !limits.typing(conversation_id) {
                limits.strikes = 0;
                return Ok(Vec::new());
            }
            if signals.typing(connection, conversation_id) {
                limits.strikes = 0;
                return Ok(Vec::new());
            }
            ("not_in_conversation", "you are not in that conversation")
        }
        Ok(ClientFrame::Presence { state }) => {
            signals.tab_state(connection, state);
            limits.strikes = 0;
            return Ok(Vec::new());
        }
        Ok(ClientFrame::PresenceWatch { person_ids }) if person_ids.len() > MAX_WATCHED => {
            ("too_many_watched", "watch at most 500 people at a time")
        }
        Ok(ClientFrame::PresenceWatch { person_ids }) => {
            limits.strikes = 0;
            return Ok(signals.watch(connection, person_ids).await);
        }
        Err(refused) => refused,
    };
    limits.strikes += 1;
    if limits.strikes >= STRIKES {
        return Err(1008);
    }
    Ok(vec![ServerFrame::error(refused.0, refused.1)])
}

/// Runs the socket until either side ends it; queued frames of events at or before `seen` are
/// dropped.
pub async fn run<S, R>(
    mut sink: S,
    mut stream: R,
    connection: Arc<Connection>,
    mut queue: QueueReader,
    signals: &dyn Signals,
    heartbeat: Heartbeat,
    seen: Position,
) -> Ended
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let mut ping = tokio::time::interval_at(
        Instant::now() + heartbeat.ping_interval,
        heartbeat.ping_interval,
    );
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut unanswered = 0u32;
    let mut limits = Limits::new();
    let closed = connection.closed().clone();
    loop {
        let outgoing: Vec<Message> = tokio::select! {
            biased;
            () = closed.cancelled() => {
                let (code, reason) = connection.reason().unwrap_or((close::GOING_AWAY, "closing"));
                let _ = sink.send(close_message(code, reason)).await;
                return Ended::Closed(code);
            }
            frame = queue.recv() => {
                // The client saw it already (it resumed from a node that was ahead of this one).
                if frame.position.is_some_and(|position| position <= seen) {
                    continue;
                }
                vec![Message::Text(frame.text.clone())]
            }
            incoming = stream.next() => {
                let message = match incoming {
                    None => return Ended::ClientGone,
                    Some(Err(error)) => {
                        // Too large a frame (tungstenite's capacity error), or a broken
                        // connection: say why if we still can.
                        if error.to_string().contains("Space limit exceeded") {
                            let _ = sink.send(close_message(close::TOO_BIG, "a frame is at most 64 KiB")).await;
                            return Ended::Closed(close::TOO_BIG);
                        }
                        return Ended::ClientGone;
                    }
                    Some(Ok(message)) => message,
                };
                unanswered = 0;
                match message {
                    Message::Text(raw) if raw.len() > super::routes::MAX_FRAME_BYTES => {
                        return refuse(&mut sink, &mut stream, close::TOO_BIG, "a frame is at most 64 KiB").await;
                    }
                    Message::Text(raw) => {
                        match answer(raw.as_str(), &connection, signals, &mut limits).await {
                            Ok(frames) => frames.iter().map(text).collect(),
                            Err(code) => {
                                return refuse(&mut sink, &mut stream, code, "too many refused frames").await;
                            }
                        }
                    }
                    Message::Binary(_) => {
                        return refuse(&mut sink, &mut stream, close::BINARY_REFUSED, "frames are JSON text").await;
                    }
                    Message::Close(_) => return Ended::ClientGone,
                    // Pongs answer our pings; pings are answered by the protocol layer.
                    Message::Ping(_) | Message::Pong(_) => continue,
                }
            }
            _ = ping.tick() => {
                if unanswered >= 2 {
                    let _ = sink.send(close_message(close::HEARTBEAT_MISSED, "no answer to pings")).await;
                    return Ended::Closed(close::HEARTBEAT_MISSED);
                }
                unanswered += 1;
                vec![Message::Ping(Default::default())]
            }
        };
        for message in outgoing {
            // A client that does not read must not hold the task: a close from the hub wins.
            tokio::select! {
                biased;
                sent = sink.send(message) => {
                    if sent.is_err() {
                        return Ended::ClientGone;
                    }
                }
                () = closed.cancelled() => {
                    return Ended::Closed(connection.reason().map_or(close::GOING_AWAY, |(code, _)| code));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_are_parsed_or_refused_with_a_code() {
        assert!(matches!(parse(r#"{"type":"ping"}"#), Ok(ClientFrame::Ping)));
        assert!(matches!(
            parse(r#"{"type":"presence","state":"away"}"#),
            Ok(ClientFrame::Presence {
                state: TabState::Away
            })
        ));
        let code = |raw: &str| parse(raw).err().map(|(code, _)| code);
        assert_eq!(code(r#"{"type":"teleport"}"#), Some("unknown_frame"));
        assert_eq!(code(r#"{"kind":"ping"}"#), Some("malformed_frame"));
        assert_eq!(code(r#"[1,2"#), Some("malformed_frame"));
        assert_eq!(code(r#"{"type":42}"#), Some("malformed_frame"));
        assert_eq!(code(r#"{"type":"typing"}"#), Some("malformed_frame"));
        assert_eq!(
            code(r#"{"type":"presence","state":"offline"}"#),
            Some("malformed_frame")
        );
    }

    #[test]
    fn typing_passes_once_per_conversation_per_moment() {
        let mut limits = Limits::new();
        let here = Uuid::now_v7();
        let there = Uuid::now_v7();
        assert!(limits.typing(here));
        assert!(!limits.typing(here));
        assert!(limits.typing(there));
    }
}
