//! A real websocket client for `/api/v1/ws`: connects with a session cookie (and the browser's
//! `Origin`), reads frames as JSON, and sees how the server closed it.

use std::time::Duration;

use anyhow::Context as _;
use futures::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for a frame before it fails (a bound for failure only).
const PATIENCE: Duration = Duration::from_secs(20);

pub struct Socket {
    inner: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What the server's handshake answered instead of switching protocols.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub body: Value,
}

/// Opens `/api/v1/ws` on `base` (`http://…`) with `cookie`, `since` and an `Origin` (the
/// server's own unless given).
pub async fn connect(
    base: &str,
    cookie: &str,
    since: Option<i64>,
    origin: Option<&str>,
) -> anyhow::Result<Result<Socket, Refused>> {
    let mut headers = vec![("origin", origin.unwrap_or(base).to_owned())];
    if !cookie.is_empty() {
        headers.push(("cookie", cookie.to_owned()));
    }
    connect_with(base, since, &headers).await
}

/// Opens `/api/v1/ws` on `base` with exactly these request headers.
pub async fn connect_with(
    base: &str,
    since: Option<i64>,
    headers: &[(&'static str, String)],
) -> anyhow::Result<Result<Socket, Refused>> {
    let mut url = format!("{}/api/v1/ws", base.replacen("http", "ws", 1));
    if let Some(since) = since {
        url.push_str(&format!("?since={since}"));
    }
    let mut request = url.into_client_request()?;
    for (name, value) in headers {
        request
            .headers_mut()
            .insert(*name, HeaderValue::from_str(value)?);
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((inner, _)) => Ok(Ok(Socket { inner })),
        Err(tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            let body = response
                .body()
                .as_ref()
                .and_then(|bytes| serde_json::from_slice(bytes).ok())
                .unwrap_or(Value::Null);
            Ok(Err(Refused { status, body }))
        }
        Err(error) => Err(error.into()),
    }
}

/// Like [`connect`], insisting that it opens.
pub async fn open(base: &str, cookie: &str, since: Option<i64>) -> anyhow::Result<Socket> {
    match connect(base, cookie, since, None).await? {
        Ok(socket) => Ok(socket),
        Err(refused) => anyhow::bail!("socket refused: {refused:?}"),
    }
}

impl Socket {
    /// The next text frame, as JSON (pings are answered by the client library).
    pub async fn next(&mut self) -> anyhow::Result<Value> {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.inner.next())
                .await
                .context("no frame arrived")?
                .context("the socket ended")??;
            match message {
                Message::Text(text) => return Ok(serde_json::from_str(text.as_str())?),
                Message::Close(frame) => anyhow::bail!("the server closed the socket: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// The next frame, which must be of `kind`.
    pub async fn expect(&mut self, kind: &str) -> anyhow::Result<Value> {
        let frame = self.next().await?;
        anyhow::ensure!(
            frame["type"] == kind,
            "expected a {kind} frame, got {frame}"
        );
        Ok(frame)
    }

    pub async fn send_text(&mut self, text: &str) -> anyhow::Result<()> {
        self.inner.send(Message::text(text)).await?;
        Ok(())
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.inner.send(Message::binary(bytes)).await?;
        Ok(())
    }

    /// Reads until the server closes the socket; its close code. Text frames before it are
    /// returned too.
    pub async fn closed(&mut self) -> anyhow::Result<(u16, Vec<Value>)> {
        let mut frames = Vec::new();
        loop {
            let message = tokio::time::timeout(PATIENCE, self.inner.next())
                .await
                .context("the socket was not closed")?;
            match message {
                None => anyhow::bail!("the connection ended without a close frame"),
                Some(Err(error)) => anyhow::bail!("the connection broke: {error}"),
                Some(Ok(Message::Close(frame))) => {
                    let code = frame.map_or(1005, |frame| u16::from(frame.code));
                    return Ok((code, frames));
                }
                Some(Ok(Message::Text(text))) => frames.push(serde_json::from_str(text.as_str())?),
                Some(Ok(_)) => {}
            }
        }
    }

    /// Closes from the client side.
    pub async fn close(mut self) -> anyhow::Result<()> {
        self.inner
            .close(Some(tungstenite::protocol::CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            }))
            .await?;
        Ok(())
    }
}
