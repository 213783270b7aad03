//! One device's TCP listener on 127.0.0.1 and its HTTP/1.1 connections: a task per listener
//! and per connection on the shared runtime. The listener closes while the device is
//! `offline` (connections refused) and re-binds the same port when it comes back.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::device::{Device, Gate};
use crate::isapi;

/// Runs until the fleet shuts down (the shutdown sender sends or is dropped).
pub(crate) async fn run(
    dev: Arc<Device>,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
) {
    let addr: SocketAddr = dev.addr;
    let mut listener = Some(listener);
    let mut gate = dev.gate_rx();
    loop {
        let g = *gate.borrow_and_update();
        if g == Gate::Refuse {
            listener = None;
        } else if listener.is_none() {
            match TcpListener::bind(addr).await {
                Ok(l) => listener = Some(l),
                Err(e) => {
                    tracing::warn!(%addr, error = %e, "cannot re-bind device port yet");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                        _ = shutdown.changed() => return,
                    }
                    continue;
                }
            }
        }
        match &listener {
            Some(l) => tokio::select! {
                r = l.accept() => match r {
                    Ok((stream, _)) => spawn_connection(Arc::clone(&dev), stream, shutdown.clone()),
                    // Out of descriptors or similar: back off instead of spinning.
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                },
                r = gate.changed() => if r.is_err() { return },
                _ = shutdown.changed() => return,
            },
            None => tokio::select! {
                r = gate.changed() => if r.is_err() { return },
                _ = shutdown.changed() => return,
            },
        }
    }
}

fn spawn_connection(dev: Arc<Device>, stream: TcpStream, mut shutdown: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(stream);
        let svc = service_fn(move |req| isapi::serve(Arc::clone(&dev), req));
        let conn = http1::Builder::new().serve_connection(io, svc);
        tokio::select! {
            _ = conn => {}
            _ = shutdown.changed() => {}
        }
    });
}
