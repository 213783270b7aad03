//! The device link's WebSocket endpoint (`/link/v1`, `docs/link-protocol.md`): the
//! socket is pumped here; the protocol itself lives in the app's `LinkSession`.
//! Pings go out every heartbeat; a link silent for longer than the limit is closed
//! when the limit runs out, and its devices are looked at again (so they show
//! offline if they are).

use crate::AppState;
use crate::problem::Problem;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts as _, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::{SinkExt as _, StreamExt as _};
use siteward_app::{App, LinkClose, LinkOut};
use siteward_link::frame::{MAX_FRAME_BYTES, SUBPROTOCOL, close};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// How long a new connection may take to register.
const REGISTER_WITHIN: Duration = Duration::from_secs(10);

/// `GET /link/v1` with a WebSocket upgrade.
pub(crate) async fn link(State(s): State<AppState>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let peer = crate::auth::peer(&parts);
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &s).await {
        Ok(ws) => ws,
        Err(rejection) => {
            return Problem::new(
                StatusCode::BAD_REQUEST,
                "link.not_websocket",
                format!("the device link is a WebSocket endpoint: {rejection}"),
            )
            .into_response();
        }
    };
    let ws = ws
        .protocols([SUBPROTOCOL])
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        // Thousands of mostly idle links: small buffers (the default read buffer is
        // 128 KiB per connection, filled on every read; a larger frame makes room
        // for itself); every frame is sent at once.
        .read_buffer_size(1024)
        .write_buffer_size(0);
    if ws.selected_protocol().is_none() {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "link.subprotocol",
            format!("the device link needs the WebSocket subprotocol {SUBPROTOCOL}"),
        )
        .into_response();
    }
    let app = s.app.clone();
    ws.on_upgrade(move |socket| serve(app, socket, peer))
}

async fn serve(app: App, socket: WebSocket, peer: Option<IpAddr>) {
    let (mut session, mut out) = app.open_link(peer);
    let (mut tx, mut rx) = socket.split();
    if tx
        .send(Message::Text(session.hello().encode().into()))
        .await
        .is_err()
    {
        Box::pin(session.end()).await;
        return;
    }
    let silence = app.link_silence_limit();
    let mut ticker = tokio::time::interval(app.link_heartbeat());
    ticker.tick().await;
    let opened = Instant::now();
    let mut heard = Instant::now();
    // When the link would be silent too long. Moved on lazily: a frame only
    // notes when it was heard, and the timer, when it fires early, is set again
    // from that, so the limit is kept to the millisecond at one wake-up per
    // silence limit, not one timer update per frame.
    let deadline = tokio::time::sleep(silence);
    tokio::pin!(deadline);
    let mut stopping = app.links_stopping();
    let ending: Option<LinkClose> = loop {
        tokio::select! {
            msg = rx.next() => {
                heard = Instant::now();
                match msg {
                    Some(Ok(Message::Text(t))) => {
                        // Boxed: registering is a large future (database and
                        // device reads), and held inline it would make every
                        // link's task that large for as long as it lives.
                        if let Err(c) = Box::pin(session.take(t.as_str())).await {
                            break Some(c);
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        break Some(LinkClose { code: close::MALFORMED, reason: "binary frames are not part of the protocol".into() });
                    }
                    Some(Ok(Message::Close(_))) | None => break None,
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "device link read failed");
                        break None;
                    }
                }
            }
            o = out.recv() => match o {
                Some(LinkOut::Frame(f)) => {
                    if tx.send(Message::Text(f.encode().into())).await.is_err() {
                        break None;
                    }
                }
                Some(LinkOut::Close(c)) => break Some(*c),
                None => break None,
            },
            changed = stopping.changed() => {
                let stop = changed.is_err() || *stopping.borrow_and_update();
                if stop {
                    break Some(LinkClose { code: close::GOING_AWAY, reason: "the server is stopping".into() });
                }
            }
            () = &mut deadline => {
                let due = heard + silence;
                if Instant::now() >= due {
                    break Some(LinkClose { code: close::TIMEOUT, reason: "silent too long".into() });
                }
                deadline.as_mut().reset(due.into());
            }
            _ = ticker.tick() => {
                if !session.registered() && opened.elapsed() > REGISTER_WITHIN {
                    break Some(LinkClose { code: close::TIMEOUT, reason: "no register in time".into() });
                }
                if tx.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break None;
                }
            }
        }
    };
    if let Some(c) = ending {
        tracing::debug!(code = c.code, reason = %c.reason, "closing a device link");
        let _ = tx
            .send(Message::Close(Some(CloseFrame {
                code: c.code,
                reason: c.reason.into(),
            })))
            .await;
    }
    // Boxed: ending reads the store; held inline, that future would make every
    // link's task as large for as long as the link lives.
    Box::pin(session.end()).await;
}
