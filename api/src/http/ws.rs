//! `/graphql/ws`: subscriptions over the `graphql-transport-ws` protocol.
//!
//! The client signs in with its `connection_init` payload,
//! `{"Authorization": "Bearer …"}`; a bad credential closes the socket with
//! 4403 (Forbidden), and without one every subscription answers
//! `UNAUTHENTICATED`. No `connection_init` within 3 seconds closes it with 4408. Only subscriptions run here: queries and mutations go
//! to `POST /graphql`, behind the HTTP guards.

use std::sync::{
    Arc, OnceLock,
    atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering},
};
use std::time::Duration;

use async_graphql::{
    Data, ErrorExtensionValues, Executor, Request as GqlRequest, Response as GqlResponse,
    ServerError,
    http::{WebSocket as GqlWebSocket, WebSocketProtocols, WsMessage},
    parser::types::{DocumentOperations, OperationType},
};
use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message as WsFrame, WebSocket},
    },
    http::{HeaderMap, StatusCode, header},
    response::Response,
};
use futures::{SinkExt, StreamExt, future, stream::BoxStream};
use serde_json::Value as Json;

use super::{AppState, REQUEST_ID, guard, refusal};
use crate::auth::Viewer;
use crate::error::ApiError;
use crate::graphql::{AppSchema, RequestContext};
use crate::i18n::{Locale, Message, locale_from_accept_language};

/// The subprotocols served, preferred first (`graphql-ws` is the legacy one).
const PROTOCOLS: [&str; 2] = ["graphql-transport-ws", "graphql-ws"];

/// Close code of a refused `connection_init` (graphql-transport-ws: Forbidden).
const CLOSE_FORBIDDEN: u16 = 4403;
/// Close code when the server failed to check the credential.
const CLOSE_INTERNAL: u16 = 4500;
/// Close code when no `connection_init` arrived in time.
const CLOSE_INIT_TIMEOUT: u16 = 4408;
/// How long a new connection may wait before its `connection_init` (as
/// graphql-ws's default `connectionInitWaitTimeout`).
const INIT_TIMEOUT: Duration = Duration::from_secs(3);
/// Most operations one connection may keep running at once.
const MAX_OPERATIONS: usize = 64;

/// `GET /graphql/ws`: upgrade to a GraphQL WebSocket.
pub async fn graphql_ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let locale = locale_from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let upgrade = upgrade
        .protocols(PROTOCOLS)
        .max_message_size(state.limits.max_body_bytes);
    let protocol = match upgrade.selected_protocol().and_then(|p| p.to_str().ok()) {
        Some("graphql-transport-ws") => WebSocketProtocols::GraphQLWS,
        Some("graphql-ws") => WebSocketProtocols::SubscriptionsTransportWS,
        _ => {
            return refusal(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                &Message::InvalidFormat {
                    expected: "Sec-WebSocket-Protocol: graphql-transport-ws",
                },
                locale,
            );
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
        }
        .serve(socket)
    })
}

/// One WebSocket connection before its `connection_init`.
struct Connection {
    state: AppState,
    protocol: WebSocketProtocols,
    /// From `Accept-Language`, until the viewer is known.
    locale: Locale,
    request_id: Arc<str>,
}

impl Connection {
    async fn serve(self, socket: WebSocket) {
        let (mut sink, stream) = socket.split();
        let input = stream
            .take_while(|frame| future::ready(frame.is_ok()))
            .filter_map(|frame| {
                future::ready(match frame {
                    Ok(frame @ (WsFrame::Text(_) | WsFrame::Binary(_))) => Some(frame.into_data()),
                    _ => None,
                })
            });
        let viewer_locale = Arc::new(OnceLock::new());
        // Set when `connection_init` is refused: the close code to send.
        let refused = Arc::new(AtomicU16::new(0));
        let initialised = Arc::new(AtomicBool::new(false));
        let executor = SubscriptionExecutor {
            schema: self.state.schema.clone(),
            limits: self.state.limits.clone(),
            locale: viewer_locale.clone(),
            fallback_locale: self.locale,
            request_id: self.request_id.clone(),
            running: Arc::new(AtomicUsize::new(0)),
        };
        let on_init = {
            let state = self.state.clone();
            let refused = refused.clone();
            let initialised = initialised.clone();
            let request_id = self.request_id.clone();
            let locale = self.locale;
            move |payload: Json| async move {
                initialised.store(true, Ordering::SeqCst);
                match viewer(&state, &payload, locale).await {
                    Ok(viewer) => {
                        let _ = viewer_locale.set(viewer.locale);
                        let mut data = Data::default();
                        data.insert(RequestContext {
                            viewer,
                            request_id: request_id.to_string(),
                        });
                        Ok(data)
                    }
                    Err(code) => {
                        refused.store(code, Ordering::SeqCst);
                        Err(async_graphql::Error::new(if code == CLOSE_FORBIDDEN {
                            "Forbidden"
                        } else {
                            "Internal Server Error"
                        }))
                    }
                }
            }
        };
        let protocol = self.protocol;
        let outgoing = GqlWebSocket::new(executor, input, protocol)
            .on_connection_init(on_init)
            .map(|message| match message {
                WsMessage::Text(text) => WsFrame::Text(text.into()),
                WsMessage::Close(code, reason) => {
                    // The library closes a refused init with 1002; the
                    // protocol asks for 4403 Forbidden.
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
        let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
        futures::pin_mut!(init_deadline);
        loop {
            let frame = tokio::select! {
                frame = outgoing.next() => match frame {
                    Some(frame) => frame,
                    None => break,
                },
                () = &mut init_deadline, if !initialised.load(Ordering::SeqCst) => {
                    let _ = sink
                        .send(WsFrame::Close(Some(CloseFrame {
                            code: CLOSE_INIT_TIMEOUT,
                            reason: "Connection initialisation timeout".into(),
                        })))
                        .await;
                    break;
                }
            };
            if sink.send(frame).await.is_err() {
                break;
            }
        }
    }
}

/// The caller named by a `connection_init` payload; `Err` is the close code.
async fn viewer(state: &AppState, payload: &Json, locale: Locale) -> Result<Viewer, u16> {
    let credential = payload
        .get("Authorization")
        .or_else(|| payload.get("authorization"));
    let Some(credential) = credential.filter(|value| !value.is_null()) else {
        return Ok(Viewer::anonymous(locale));
    };
    let token = credential
        .as_str()
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or(CLOSE_FORBIDDEN)?;
    match state.domain.authenticate(token).await {
        Ok(user) => Ok(Viewer::signed_in(user)),
        Err(ApiError::Unauthenticated(_)) => Err(CLOSE_FORBIDDEN),
        Err(error) => {
            tracing::error!(error = ?error, "authenticating a WebSocket failed unexpectedly");
            Err(CLOSE_INTERNAL)
        }
    }
}

/// Runs the subscriptions of one connection: the HTTP document limits, only
/// subscription operations, and errors finished as over HTTP.
#[derive(Clone)]
struct SubscriptionExecutor {
    schema: AppSchema,
    limits: super::HttpLimits,
    /// The viewer's locale, once `connection_init` has been accepted.
    locale: Arc<OnceLock<Locale>>,
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
        self.locale.get().copied().unwrap_or(self.fallback_locale)
    }

    /// Why `request` may not run here, if it may not.
    fn refusal(&self, request: &mut GqlRequest) -> Option<ApiError> {
        if guard::check_document(
            &request.query,
            self.limits.max_document_bytes,
            self.limits.max_document_nesting,
        )
        .is_err()
        {
            return Some(ApiError::bad_input("query", Message::DocumentTooLarge));
        }
        let operation_name = request.operation_name.clone();
        // A syntax error is reported by the executor itself.
        let document = request.parsed_query().ok()?;
        let operation = match (&document.operations, operation_name.as_deref()) {
            (DocumentOperations::Single(op), _) => Some(op.node.ty),
            (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
            (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
                ops.values().next().map(|op| op.node.ty)
            }
            _ => None,
        };
        match operation {
            Some(OperationType::Query | OperationType::Mutation) => Some(ApiError::bad_input(
                "query",
                Message::InvalidFormat {
                    expected: "a subscription (send queries and mutations to POST /graphql)",
                },
            )),
            _ => None,
        }
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
        mut request: GqlRequest,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, GqlResponse> {
        let locale = self.locale();
        let running = Running(self.running.clone());
        let refused = if self.running.fetch_add(1, Ordering::SeqCst) >= MAX_OPERATIONS {
            Some(ApiError::bad_input(
                "id",
                Message::TooManyItems {
                    max: MAX_OPERATIONS,
                },
            ))
        } else {
            self.refusal(&mut request)
        };
        if let Some(error) = refused {
            let response = GqlResponse::from_errors(vec![server_error(&error, locale)]);
            return futures::stream::once(future::ready(response)).boxed();
        }
        let request_id = self.request_id.clone();
        Executor::execute_stream(&self.schema, request, session_data)
            .map(move |mut response| {
                let _running = &running;
                finish_errors(&mut response, locale, &request_id);
                response
            })
            .boxed()
    }
}

/// A GraphQL error for `error`, in `locale`, with its code.
fn server_error(error: &ApiError, locale: Locale) -> ServerError {
    let mut server_error = ServerError::new(error.message(locale), None);
    let extensions = server_error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default);
    extensions.set("code", error.code());
    if let ApiError::BadUserInput { field, .. } = error {
        extensions.set("field", field.as_str());
    }
    server_error
}

/// Localise domain errors, give every error a code and keep internals out,
/// exactly as over HTTP.
fn finish_errors(response: &mut GqlResponse, locale: Locale, request_id: &str) {
    super::graphql::finish_errors(response, locale, request_id);
}
