//! One socket's loop, generic over the sink and stream so it runs over channels in tests: frames
//! from the hub's queue go out, client frames are answered, pings keep it honest, and a close
//! asked for by the hub (session ended, too slow, shutdown) goes out with its code.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use futures::{Sink, SinkExt as _, Stream, StreamExt as _};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use super::frames::{ClientFrame, ServerFrame, close};
use super::hub::{Connection, Queued};
use crate::events::Position;

/// Client frames per second a socket may send; more are refused with an `error` frame.
const FRAMES_PER_SECOND: u32 = 20;
/// Refused or malformed frames in a row before the socket is closed.
const STRIKES: u32 = 100;

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

/// What a client's text frame calls for: the answer, or why it is refused (code, message).
fn answer(raw: &str) -> Result<ServerFrame, (&'static str, &'static str)> {
    match serde_json::from_str::<ClientFrame>(raw) {
        Ok(ClientFrame::Ping) => Ok(ServerFrame::Pong),
        Err(_) => match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(value) if value.get("type").and_then(|kind| kind.as_str()).is_some() => Err((
                "unknown_frame",
                "this frame type is not one the server takes",
            )),
            Ok(_) => Err((
                "malformed_frame",
                "a frame is a JSON object with a string `type`",
            )),
            Err(_) => Err(("malformed_frame", "a frame is JSON text")),
        },
    }
}

/// Runs the socket until either side ends it; queued frames at or before `seen` are dropped.
pub async fn run<S, R>(
    mut sink: S,
    mut stream: R,
    connection: Arc<Connection>,
    mut queue: mpsc::Receiver<Queued>,
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
    let mut window = Instant::now();
    let mut in_window = 0u32;
    let mut strikes = 0u32;
    let closed = connection.closed().clone();
    loop {
        let outgoing = tokio::select! {
            biased;
            () = closed.cancelled() => {
                let (code, reason) = connection.reason().unwrap_or((close::GOING_AWAY, "closing"));
                let _ = sink.send(close_message(code, reason)).await;
                return Ended::Closed(code);
            }
            frame = queue.recv() => match frame {
                // The client saw it already (it resumed from a node that was ahead of this one).
                Some((position, _)) if position <= seen => continue,
                Some((_, frame)) => Message::Text(frame),
                None => return Ended::ClientGone,
            },
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
                    Message::Text(raw) => {
                        if window.elapsed() >= Duration::from_secs(1) {
                            window = Instant::now();
                            in_window = 0;
                        }
                        in_window += 1;
                        let reply = if in_window > FRAMES_PER_SECOND {
                            Err(("rate_limited", "too many frames; slow down"))
                        } else {
                            answer(raw.as_str())
                        };
                        match reply {
                            Ok(frame) => {
                                strikes = 0;
                                text(&frame)
                            }
                            Err((code, message)) => {
                                strikes += 1;
                                if strikes >= STRIKES {
                                    let _ = sink.send(close_message(1008, "too many refused frames")).await;
                                    return Ended::Closed(1008);
                                }
                                text(&ServerFrame::error(code, message))
                            }
                        }
                    }
                    Message::Binary(_) => {
                        let _ = sink
                            .send(close_message(close::BINARY_REFUSED, "frames are JSON text"))
                            .await;
                        return Ended::Closed(close::BINARY_REFUSED);
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
                Message::Ping(Default::default())
            }
        };
        // A client that does not read must not hold the task: a close from the hub wins.
        tokio::select! {
            biased;
            sent = sink.send(outgoing) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_are_answered_or_refused_with_a_code() {
        assert!(matches!(
            answer(r#"{"type":"ping"}"#),
            Ok(ServerFrame::Pong)
        ));
        let code = |raw: &str| answer(raw).err().map(|(code, _)| code);
        assert_eq!(code(r#"{"type":"teleport"}"#), Some("unknown_frame"));
        assert_eq!(code(r#"{"kind":"ping"}"#), Some("malformed_frame"));
        assert_eq!(code(r#"[1,2"#), Some("malformed_frame"));
        assert_eq!(code(r#"{"type":42}"#), Some("malformed_frame"));
    }
}
