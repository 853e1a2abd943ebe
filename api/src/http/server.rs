//! The accept loop: every connection admitted under the caps, timed from the
//! moment it is accepted, served as HTTP/1.1, and drained on shutdown.
//!
//! - A connection counts against `TRESTLE_MAX_CONNECTIONS` and its client
//!   address's `TRESTLE_MAX_CONNECTIONS_PER_ADDRESS` from `accept` until its
//!   socket closes, WebSocket upgrades included (the count travels with the
//!   socket). Over the per-address cap it is answered `503` and closed at
//!   once; at the total cap the oldest connection that has not yet sent a
//!   request head is closed to make room, and only when there is none is the
//!   new one answered `503`. The process never runs out of file descriptors.
//! - A connection must send a complete request head within
//!   `TRESTLE_HEADER_READ_TIMEOUT_SECS` of being accepted, and again of
//!   each response when kept alive: one that sends nothing, or only part of
//!   a head, is closed.
//! - Only HTTP/1.1 is served. Cleartext HTTP/2 (h2c) is refused: its
//!   preface is not a valid HTTP/1.1 request and the connection is closed.

use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tower::ServiceExt;

use super::metrics::Metrics;
use super::occupancy::{Full, Occupancy, Seat};
use super::rate_limit::client_network;

/// Limits on each connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Longest a client may take to send a request head, counted from the
    /// connection's acceptance and from the end of each response.
    pub header_read_timeout: Duration,
    /// Largest request head (request line and headers) in bytes; larger answers 431.
    pub max_header_bytes: usize,
    /// Longest shutdown waits for open connections to finish.
    pub drain_timeout: Duration,
}

/// What the accept loop needs besides the router.
pub struct Listening {
    /// Limits on each connection.
    pub limits: ConnectionLimits,
    /// Open connections, capped in total and per client address.
    pub connections: Arc<Occupancy<IpAddr>>,
    /// Set to `true` once the listener has closed: WebSockets say goodbye.
    pub stopping: watch::Sender<bool>,
    /// Refusals are counted here.
    pub metrics: Arc<Metrics>,
}

/// The answer to a connection over a cap, written without reading anything.
static OVER_CAPACITY: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    let body = serde_json::json!({
        "errors": [{
            "message": crate::i18n::Message::TooManyConnections.text(crate::i18n::Locale::En),
            "extensions": { "code": "SERVICE_UNAVAILABLE" }
        }]
    })
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
});

/// Longest the accept loop waits for an evicted connection to close.
const EVICTION_WAIT: Duration = Duration::from_millis(250);

/// The most open-file descriptors Trestle will use for connections by default.
const DEFAULT_MAX_CONNECTIONS_CAP: usize = 10_000;

/// Raise the soft open-file limit to the hard one (as Go's runtime does) and
/// derive the default connection cap from it: the limit less a reserve for
/// the database pool (SQLite holds three files per connection), the
/// listener, logs and the event listener; at most 10,000.
pub fn default_max_connections(database_connections: u32) -> usize {
    let reserve = 64 + 3 * database_connections as usize;
    match open_file_limit() {
        Some(limit) => (limit as usize)
            .saturating_sub(reserve)
            .clamp(16, DEFAULT_MAX_CONNECTIONS_CAP),
        None => 1024 - reserve.min(1008),
    }
}

#[cfg(unix)]
fn open_file_limit() -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if let Err(error) = setrlimit(Resource::Nofile, raised) {
            tracing::debug!(%error, "could not raise the open-file limit");
        }
    }
    getrlimit(Resource::Nofile).current.or(Some(u64::MAX))
}

#[cfg(not(unix))]
fn open_file_limit() -> Option<u64> {
    None
}

/// Connections that have not sent a complete request head yet, oldest first.
/// When the total cap is reached, the oldest of them is closed to make room:
/// a client that connects and sends its request at once is never kept out
/// by connections that send nothing.
#[derive(Default)]
struct Pending {
    next: std::sync::atomic::AtomicU64,
    waiting: std::sync::Mutex<std::collections::BTreeMap<u64, oneshot::Sender<()>>>,
}

impl Pending {
    fn waiting(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<u64, oneshot::Sender<()>>> {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new connection: its number and the signal that evicts it.
    fn register(&self) -> (u64, oneshot::Receiver<()>) {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (evict, evicted) = oneshot::channel();
        self.waiting().insert(id, evict);
        (id, evicted)
    }

    /// Connection `id` sent a request head, or ended: it is no longer a candidate.
    fn settle(&self, id: u64) {
        self.waiting().remove(&id);
    }

    /// Close the oldest connection still waiting for its first request head;
    /// false when there is none.
    fn evict_oldest(&self) -> bool {
        let mut waiting = self.waiting();
        while let Some((_, evict)) = waiting.pop_first() {
            if evict.send(()).is_ok() {
                return true;
            }
        }
        false
    }
}

/// A client socket that holds its place in the connection table until it closes.
struct Counted {
    stream: TcpStream,
    _seat: Seat<IpAddr>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Serve `router` on `listener` until `shutdown` resolves, then stop
/// accepting, let in-flight requests finish, tell WebSockets to close, and
/// wait (at most `drain_timeout`) for every connection to end.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    listening: Listening,
) -> io::Result<()> {
    let Listening {
        limits,
        connections,
        stopping,
        metrics,
    } = listening;
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192));
    let http = Arc::new(http);
    let pending = Arc::new(Pending::default());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let address = client_network(peer.ip());
        let seat = match connections.enter(address) {
            Err(Full::Total) => {
                // Full: make room by closing a connection that has sent
                // nothing, and wait (briefly) for its place to free.
                let freed = connections.freed();
                if pending.evict_oldest() {
                    let _ = tokio::time::timeout(EVICTION_WAIT, freed).await;
                }
                connections.enter(address)
            }
            entered => entered,
        };
        let seat = match seat {
            Ok(seat) => seat,
            Err(full) => {
                metrics.connection_refused(full);
                // The socket is new and its send buffer empty: this never blocks.
                let _ = stream.try_write(&OVER_CAPACITY);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (id, evicted) = pending.register();
        let service = router.clone().map_request({
            let pending = pending.clone();
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                pending.settle(id);
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                request.map(axum::body::Body::new)
            }
        });
        let io = TokioIo::new(Counted {
            stream,
            _seat: seat,
        });
        let http = http.clone();
        let mut stopping = stopping.subscribe();
        let pending = pending.clone();
        tokio::spawn(async move {
            let connection = http
                .serve_connection(io, TowerToHyperService::new(service))
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                // Dropping the connection closes its socket.
                Ok(()) = evicted => Ok(()),
                () = stopped(&mut stopping) => {
                    // Finish the request in flight, if any, then close.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            pending.settle(id);
            if let Err(error) = result {
                tracing::debug!(error = %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    if tokio::time::timeout(limits.drain_timeout, connections.emptied())
        .await
        .is_err()
    {
        tracing::warn!(
            open = connections.open(),
            "connections still open after the drain timeout; closing them"
        );
    }
    Ok(())
}

/// Resolves once `stopping` is `true` (or its sender is gone).
pub async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stopping| *stopping).await;
}

/// The label of a cap in metrics.
pub fn cap_label(full: Full) -> &'static str {
    match full {
        Full::Total => "total",
        Full::Key => "address",
    }
}
