//! `/graphql/ws`: subscriptions over the `graphql-transport-ws` protocol.
//!
//! The client signs in with its `connection_init` payload,
//! `{"Authorization": "Bearer …"}`. Close codes:
//!
//! - 4401: `connection_init` carried no credential (anonymous sockets are refused);
//! - 4403: the credential is bad, or stopped being valid while the socket
//!   was open (an API token revoked on any replica, a token past its expiry);
//! - 4408: no `connection_init` within 3 seconds;
//! - 4429: the user has too many sockets open, or the client address's
//!   budget is spent;
//! - 4500: the credential could not be checked;
//! - 1000: nothing was heard from the client (not even a pong) for the idle timeout;
//! - 1001: the server is shutting down.
//!
//! Sockets are capped in total and per client address when they open (503
//! and 429 before the upgrade) and per user when they sign in. The server
//! pings every socket; each `subscribe` is charged to the user's rate budget
//! like an HTTP request. Only subscriptions run here: queries and mutations
//! go to `POST /graphql`, behind the HTTP guards.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{
    Arc, Mutex, OnceLock,
    atomic::{AtomicU16, AtomicUsize, Ordering},
};
use std::time::Duration;

use async_graphql::{
    Data, Executor, Request as GqlRequest, Response as GqlResponse, ServerError,
    http::{WebSocket as GqlWebSocket, WebSocketProtocols, WsMessage},
    parser::types::OperationType,
};
use axum::{
    Extension,
    extract::{
        ConnectInfo, State, WebSocketUpgrade,
        ws::{CloseFrame, Message as WsFrame, WebSocket},
    },
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};
use futures::{SinkExt, StreamExt, future, stream::BoxStream};
use serde_json::Value as Json;
use tokio::sync::mpsc;
use tokio::time::Instant;
use uuid::Uuid;

use super::{
    AppState, REQUEST_ID,
    credentials::{self, Refused},
    graphql::client_address,
    metrics::Rejection,
    occupancy::{Full, Occupancy, Seat},
    rate_limit::{Principal, client_network},
    respond::{self, Media, Refusal},
    steps,
};
use crate::auth::{AuthUser, Viewer};
use crate::domain::credentials::{CredentialEnd, CredentialWatch};
use crate::domain::loaders::{CurrentLoaders, Loaders};
use crate::error::{ApiError, codes};
use crate::graphql::RequestContext;
use crate::i18n::{Locale, Message, locale_from_accept_language};

/// The subprotocols served, preferred first (`graphql-ws` is the legacy one).
const PROTOCOLS: [&str; 2] = ["graphql-transport-ws", "graphql-ws"];

/// Close code of a `connection_init` without a credential (Unauthorized).
const CLOSE_UNAUTHORIZED: u16 = 4401;
/// Close code of a refused or ended credential (Forbidden).
const CLOSE_FORBIDDEN: u16 = 4403;
/// Close code when no `connection_init` arrived in time.
const CLOSE_INIT_TIMEOUT: u16 = 4408;
/// Close code when a cap or the rate budget refuses the socket.
const CLOSE_TOO_MANY: u16 = 4429;
/// Close code when the server failed to check the credential.
const CLOSE_INTERNAL: u16 = 4500;
/// Close code after the idle timeout (normal closure).
const CLOSE_IDLE: u16 = 1000;
/// Close code on shutdown (going away).
const CLOSE_GOING_AWAY: u16 = 1001;
/// How long a new connection may wait before its `connection_init` (as
/// graphql-ws's default `connectionInitWaitTimeout`).
const INIT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long, after sending a close frame, the server waits for the client's.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// Most operations one connection may keep running at once.
const MAX_OPERATIONS: usize = 64;
/// Bytes buffered per socket for reading and before writing: small, since
/// GraphQL messages are small and thousands of sockets may be open.
const SOCKET_BUFFER_BYTES: usize = 4 * 1024;
/// Most bytes queued for a client that does not read; then the socket closes.
const MAX_WRITE_BUFFER_BYTES: usize = 1024 * 1024;

/// The WebSocket caps and timers, and the sockets open now.
pub struct WebSocketLimits {
    /// Open sockets, capped in total and per client address.
    pub by_address: Arc<Occupancy<IpAddr>>,
    /// Signed-in sockets, capped per user.
    pub by_user: Arc<Occupancy<Uuid>>,
    /// A socket from which nothing (not even a pong) arrives for this long is closed.
    pub idle_timeout: Duration,
    /// How often the server pings each socket.
    pub ping_interval: Duration,
}

impl WebSocketLimits {
    /// Caps of `max_total` sockets, `max_per_address` per client address and
    /// `max_per_user` per user (0: no cap of that kind).
    pub fn new(
        max_total: usize,
        max_per_address: usize,
        max_per_user: usize,
        idle_timeout: Duration,
        ping_interval: Duration,
    ) -> Self {
        Self {
            by_address: Occupancy::new(
                if max_total == 0 {
                    usize::MAX
                } else {
                    max_total
                },
                max_per_address,
            ),
            by_user: Occupancy::new(usize::MAX, max_per_user),
            idle_timeout,
            ping_interval,
        }
    }

    /// Sockets open now.
    pub fn open(&self) -> usize {
        self.by_address.open()
    }
}

/// The connection's peer address, when the server recorded it.
type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

/// `GET /graphql/ws`: upgrade to a GraphQL WebSocket.
pub async fn graphql_ws(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let locale = locale_from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let address = client_network(client_address(
        &headers,
        peer.map(|p| p.0.0),
        state.rate_limits.trust_forwarded_for,
    ));
    let media = Media::accepted(&headers);
    // Opening a socket is an anonymous request: the address pays for it.
    let principal = Principal::Address(address);
    if let Err(refusal) = steps::admit(&state, principal, locale).await {
        return refusal.into_response(media);
    }
    if let Some(limiter) = &state.rate_limits.requests {
        limiter.charge(principal, 1).await;
    }
    let seat = match state.websockets.by_address.enter(address) {
        Ok(seat) => seat,
        Err(Full::Total) => {
            state.metrics.websocket_refused("total");
            return Refusal::http(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::SERVICE_UNAVAILABLE,
                &Message::TooManyWebSockets,
                locale,
            )
            .into_response(media);
        }
        Err(Full::Key) => {
            state.metrics.websocket_refused("address");
            return Refusal::http(
                StatusCode::TOO_MANY_REQUESTS,
                codes::RATE_LIMITED,
                &Message::TooManyWebSockets,
                locale,
            )
            .header(header::RETRY_AFTER, HeaderValue::from(1u64))
            .into_response(media);
        }
    };
    let upgrade = upgrade
        .protocols(PROTOCOLS)
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
        .max_message_size(state.limits.max_body_bytes)
        .max_frame_size(state.limits.max_body_bytes);
    let protocol = match upgrade.selected_protocol().and_then(|p| p.to_str().ok()) {
        Some("graphql-transport-ws") => WebSocketProtocols::GraphQLWS,
        Some("graphql-ws") => WebSocketProtocols::SubscriptionsTransportWS,
        _ => {
            return Refusal::http(
                StatusCode::BAD_REQUEST,
                codes::BAD_USER_INPUT,
                &Message::InvalidFormat {
                    expected: crate::i18n::Format::WebSocketProtocol,
                },
                locale,
            )
            .into_response(media);
        }
    };
    let request_id: Arc<str> = headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .into();
    upgrade.on_upgrade(move |socket| {
        Connection {
            state,
            protocol,
            locale,
            request_id,
            address,
            _seat: seat,
        }
        .serve(socket)
    })
}

/// A signed-in socket: its user, what ends its credential, its place under
/// the per-user cap.
struct SignedIn {
    user: AuthUser,
    watch: CredentialWatch,
    seat: Seat<Uuid>,
}

/// One WebSocket connection.
struct Connection {
    state: AppState,
    protocol: WebSocketProtocols,
    /// From `Accept-Language`, until the viewer is known.
    locale: Locale,
    request_id: Arc<str>,
    /// The client network, for the budget and the cap.
    address: IpAddr,
    _seat: Seat<IpAddr>,
}

/// A close frame.
fn close(code: u16, reason: &'static str) -> WsFrame {
    WsFrame::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

impl Connection {
    async fn serve(self, socket: WebSocket) {
        let (mut sink, stream) = socket.split();
        // Every frame, pongs included, shows the client is alive.
        let heard = Arc::new(Mutex::new(Instant::now()));
        let input = {
            let heard = heard.clone();
            stream
                .take_while(|frame| future::ready(frame.is_ok()))
                .inspect(move |_| {
                    *heard
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Instant::now();
                })
                .filter_map(|frame| {
                    future::ready(match frame {
                        Ok(frame @ (WsFrame::Text(_) | WsFrame::Binary(_))) => {
                            Some(frame.into_data())
                        }
                        _ => None,
                    })
                })
        };
        let viewer = Arc::new(OnceLock::new());
        // Set when `connection_init` is refused: the close code to send.
        let refused = Arc::new(AtomicU16::new(0));
        let (signed_in_tx, mut signed_in_rx) = mpsc::unbounded_channel::<SignedIn>();
        let executor = SubscriptionExecutor {
            state: self.state.clone(),
            viewer: viewer.clone(),
            fallback_locale: self.locale,
            request_id: self.request_id.clone(),
            running: Arc::new(AtomicUsize::new(0)),
        };
        let on_init = {
            let state = self.state.clone();
            let refused = refused.clone();
            let request_id = self.request_id.clone();
            let address = self.address;
            move |payload: Json| async move {
                match sign_in(&state, address, &payload).await {
                    Ok(signed_in) => {
                        let _ = viewer.set(signed_in.user.clone());
                        let mut data = Data::default();
                        data.insert(RequestContext {
                            viewer: Viewer::signed_in(signed_in.user.clone()),
                            request_id: request_id.to_string(),
                            address: Some(address),
                        });
                        let _ = signed_in_tx.send(signed_in);
                        Ok(data)
                    }
                    Err(code) => {
                        refused.store(code, Ordering::SeqCst);
                        Err(async_graphql::Error::new(match code {
                            CLOSE_UNAUTHORIZED => "Unauthorized",
                            CLOSE_FORBIDDEN => "Forbidden",
                            CLOSE_TOO_MANY => "Too many requests",
                            _ => "Internal Server Error",
                        }))
                    }
                }
            }
        };
        let outgoing = GqlWebSocket::new(executor, input, self.protocol)
            .on_connection_init(on_init)
            .map(|message| match message {
                WsMessage::Text(text) => WsFrame::Text(text.into()),
                WsMessage::Close(code, reason) => {
                    // The library closes a refused init with 1002; the
                    // protocol asks for 4401 or 4403.
                    let code = match refused.load(Ordering::SeqCst) {
                        0 => code,
                        refusal => refusal,
                    };
                    WsFrame::Close(Some(CloseFrame {
                        code,
                        reason: reason.into(),
                    }))
                }
            });
        futures::pin_mut!(outgoing);
        let limits = &self.state.websockets;
        let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
        futures::pin_mut!(init_deadline);
        let idle = tokio::time::sleep(limits.idle_timeout);
        futures::pin_mut!(idle);
        let mut pings =
            tokio::time::interval_at(Instant::now() + limits.ping_interval, limits.ping_interval);
        let mut stopping = self.state.stopping.clone();
        // Held while the socket is open: the user's place under the cap.
        let mut user_seat: Option<Seat<Uuid>> = None;
        // Resolves when the credential ends, once signed in.
        let mut ended: Pin<Box<dyn Future<Output = CredentialEnd> + Send>> =
            Box::pin(future::pending());
        loop {
            let frame = tokio::select! {
                frame = outgoing.next() => match frame {
                    Some(frame) => frame,
                    None => break,
                },
                Some(SignedIn { user, watch, seat }) = signed_in_rx.recv() => {
                    user_seat = Some(seat);
                    ended = Box::pin(async move { watch.ended(&user).await });
                    continue;
                }
                end = &mut ended => close(CLOSE_FORBIDDEN, match end {
                    CredentialEnd::Expired => "Credential expired",
                    CredentialEnd::Revoked => "Credential revoked",
                }),
                () = &mut init_deadline, if user_seat.is_none() && refused.load(Ordering::SeqCst) == 0 => {
                    close(CLOSE_INIT_TIMEOUT, "Connection initialisation timeout")
                }
                () = &mut idle => {
                    let last = *heard.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    if last.elapsed() < limits.idle_timeout {
                        idle.as_mut().reset(last + limits.idle_timeout);
                        continue;
                    }
                    close(CLOSE_IDLE, "Idle timeout")
                }
                _ = pings.tick() => WsFrame::Ping(Default::default()),
                () = super::server::stopped(&mut stopping) => {
                    close(CLOSE_GOING_AWAY, "Server shutting down")
                }
            };
            let closing = matches!(frame, WsFrame::Close(_));
            if sink.send(frame).await.is_err() {
                break;
            }
            if closing {
                // The closing handshake: let the client answer before the
                // socket closes, so its close frame is not lost to a reset.
                let _ = tokio::time::timeout(CLOSE_GRACE, async {
                    while outgoing.next().await.is_some() {}
                })
                .await;
                break;
            }
        }
        drop(user_seat);
    }
}

/// Check the `connection_init` payload; `Err` is the close code. A bad
/// credential is paid for by the client address, as over HTTP.
async fn sign_in(state: &AppState, address: IpAddr, payload: &Json) -> Result<SignedIn, u16> {
    let credential = payload
        .get("Authorization")
        .or_else(|| payload.get("authorization"))
        .filter(|value| !value.is_null());
    let Some(credential) = credential else {
        return Err(CLOSE_UNAUTHORIZED);
    };
    let value = credential.as_str().unwrap_or_default().as_bytes();
    // Follow committed changes before checking, so an ending in between is seen.
    let watch = state.domain.watch_credential();
    let user = match credentials::authenticate(state, address, Some(value)).await {
        Ok(Some(caller)) => caller.user,
        Ok(None) => return Err(CLOSE_UNAUTHORIZED),
        Err(Refused::Unauthenticated(_)) => {
            if let Some(limiter) = &state.rate_limits.requests {
                limiter.charge(Principal::Address(address), 1).await;
            }
            return Err(CLOSE_FORBIDDEN);
        }
        Err(Refused::RateLimited(_)) => {
            state.metrics.rejected(Rejection::Rate);
            return Err(CLOSE_TOO_MANY);
        }
        Err(Refused::Internal) => return Err(CLOSE_INTERNAL),
    };
    let seat = state.websockets.by_user.enter(user.id).map_err(|_| {
        state.metrics.websocket_refused("user");
        CLOSE_TOO_MANY
    })?;
    Ok(SignedIn { user, watch, seat })
}

/// Runs the subscriptions of one connection: the HTTP document limits, only
/// subscription operations, each charged to the user's budget, and errors
/// finished as over HTTP.
#[derive(Clone)]
struct SubscriptionExecutor {
    state: AppState,
    /// The signed-in user, once `connection_init` has been accepted.
    viewer: Arc<OnceLock<AuthUser>>,
    fallback_locale: Locale,
    request_id: Arc<str>,
    /// Operations of this connection still running.
    running: Arc<AtomicUsize>,
}

/// Counts one running operation until dropped with its stream.
struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl SubscriptionExecutor {
    fn locale(&self) -> Locale {
        self.viewer
            .get()
            .map_or(self.fallback_locale, |user| user.locale)
    }

    /// Judge `request` as over HTTP, allow only a subscription, and charge
    /// its estimated cost to the user's budget; or the error to answer.
    async fn admit(&self, request: &mut GqlRequest) -> Result<(), ServerError> {
        let locale = self.locale();
        let judged = steps::judge(&self.state, request, locale)
            .await
            .map_err(Refusal::into_error)?;
        if let Some(OperationType::Query | OperationType::Mutation) =
            judged.analysis.as_ref().map(|analysis| analysis.kind)
        {
            let error = ApiError::bad_input(
                "query",
                Message::InvalidFormat {
                    expected: crate::i18n::Format::Subscription,
                },
            );
            return Err(Refusal::request_error(&error, locale).into_error());
        }
        if let Some(user) = self.viewer.get() {
            let principal = Principal::User(user.id);
            let reservation = steps::reserve(&self.state, principal, &judged, locale)
                .await
                .map_err(Refusal::into_error)?;
            // A subscription runs on: it pays its estimate up front.
            if let (Some(limiter), Some(reservation)) =
                (&self.state.rate_limits.requests, reservation)
            {
                let estimate = judged
                    .analysis
                    .as_ref()
                    .map_or(1, |analysis| analysis.measures.complexity);
                limiter.settle(reservation, estimate).await;
            }
        }
        request.set_parsed_query(judged.document);
        Ok(())
    }
}

impl Executor for SubscriptionExecutor {
    async fn execute(&self, request: GqlRequest) -> GqlResponse {
        self.execute_stream(request, None)
            .next()
            .await
            .unwrap_or_default()
    }

    fn execute_stream(
        &self,
        request: GqlRequest,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, GqlResponse> {
        let executor = self.clone();
        let running = Running(self.running.clone());
        let over = self.running.fetch_add(1, Ordering::SeqCst) >= MAX_OPERATIONS;
        futures::stream::once(async move {
            executor
                .admitted_stream(request, session_data, running, over)
                .await
        })
        .flatten()
        .boxed()
    }
}

impl SubscriptionExecutor {
    /// The responses of `request` once it is admitted, or its refusal.
    async fn admitted_stream(
        &self,
        mut request: GqlRequest,
        session_data: Option<Arc<Data>>,
        running: Running,
        over: bool,
    ) -> BoxStream<'static, GqlResponse> {
        let locale = self.locale();
        let refused = if over {
            let error = ApiError::bad_input(
                "id",
                Message::TooManyItems {
                    max: MAX_OPERATIONS,
                },
            );
            Err(Refusal::request_error(&error, locale).into_error())
        } else {
            self.admit(&mut request).await
        };
        if let Err(error) = refused {
            let response = GqlResponse::from_errors(vec![error]);
            return futures::stream::once(future::ready(response)).boxed();
        }
        // Loaders for the fields of each event, remembering nothing across
        // events; the notification subscription renews them (with a
        // cache of its own) before each one it delivers.
        if let Some(user) = self.viewer.get() {
            let viewer = Viewer::signed_in(user.clone());
            request = request.data(CurrentLoaders::new(Loaders::uncached(
                &self.state.domain,
                &viewer,
            )));
        }
        let request_id = self.request_id.clone();
        Executor::execute_stream(&self.state.schema, request, session_data)
            .map(move |mut response| {
                let _running = &running;
                respond::finish_errors(&mut response, locale, &request_id);
                response
            })
            .boxed()
    }
}
