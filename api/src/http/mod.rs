//! HTTP: the router, middleware and the server's lifecycle.

pub mod credentials;
pub mod document;
mod graphql;
mod health;
pub mod idempotency;
pub mod metrics;
pub mod occupancy;
pub mod persisted;
mod playground;
pub mod rate_limit;
mod respond;
pub mod server;
mod steps;
mod ws;

use std::time::Duration;

use axum::{
    Router,
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    classify::StatusInRangeAsFailures,
    compression::CompressionLayer,
    cors::{AllowOrigin, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

use crate::domain::Domain;
use crate::graphql::AppSchema;
use crate::i18n::{Locale, Message};

pub use graphql::{HttpLimits, InFlight};
pub use server::{ConnectionLimits, Listening, serve};
pub use ws::WebSocketLimits;

/// The header carrying the request id.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Everything a handler needs.
#[derive(Clone)]
pub struct AppState {
    /// Set once shutdown has begun: `/readyz` answers 503 while requests drain.
    pub draining: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The executable schema.
    pub schema: AppSchema,
    /// The domain services.
    pub domain: Domain,
    /// HTTP-level limits.
    pub limits: HttpLimits,
    /// The document limits and the schema's types they are measured on.
    pub documents: std::sync::Arc<document::DocumentPolicy>,
    /// Documents parsed before, by their text.
    pub parsed: document::Parsed,
    /// The documents run by hash (automatic persisted queries, trusted documents).
    pub persisted: std::sync::Arc<persisted::PersistedDocuments>,
    /// The per-principal rate budgets (shared through PostgreSQL, in memory on SQLite).
    pub rate_limits: std::sync::Arc<rate_limit::RateLimits>,
    /// This server's metrics registry.
    pub metrics: std::sync::Arc<metrics::Metrics>,
    /// Open client connections, capped in total and per client address.
    pub connections: std::sync::Arc<occupancy::Occupancy<std::net::IpAddr>>,
    /// The WebSocket caps and timers, and the sockets open now.
    pub websockets: std::sync::Arc<WebSocketLimits>,
    /// Becomes `true` when the server stops accepting: WebSockets close (1001).
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

/// A GraphQL-shaped error body with an HTTP status, for refusals before execution.
pub fn refusal(status: StatusCode, code: &str, message: &Message, locale: Locale) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message.text(locale), "extensions": { "code": code } }]
    });
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    refusal(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL_SERVER_ERROR",
        &Message::Internal,
        Locale::En,
    )
}

/// Which browser origins may call the API, and which request headers they
/// may send besides the five every client needs.
#[derive(Debug, Clone, Default)]
pub struct CorsPolicy {
    /// Allowed origins (none: no cross-origin browser calls).
    pub origins: Vec<String>,
    /// Extra request headers allowed.
    pub allow_headers: Vec<String>,
}

impl CorsPolicy {
    /// The layer, or which configured header is not a header name.
    fn layer(&self) -> Result<CorsLayer, String> {
        let allowed: Vec<HeaderValue> = self
            .origins
            .iter()
            .filter(|origin| !origin.trim().is_empty())
            .filter_map(|origin| HeaderValue::from_str(origin.trim()).ok())
            .collect();
        let mut headers = vec![
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            HeaderName::from_static(idempotency::HEADER),
        ];
        for name in self.allow_headers.iter().map(|name| name.trim()) {
            if name.is_empty() {
                continue;
            }
            headers.push(HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                format!("TRESTLE_CORS_ALLOW_HEADERS: {name:?} is not a header name (expected e.g. traceparent,x-request-id)")
            })?);
        }
        Ok(CorsLayer::new()
            .allow_origin(AllowOrigin::list(allowed))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers(headers)
            .expose_headers([
                REQUEST_ID,
                header::RETRY_AFTER,
                HeaderName::from_static("x-ratelimit-limit"),
                HeaderName::from_static("x-ratelimit-remaining"),
                HeaderName::from_static("x-ratelimit-used"),
                HeaderName::from_static("x-ratelimit-reset"),
                HeaderName::from_static(idempotency::REPLAYED),
            ])
            .max_age(Duration::from_secs(600)))
    }
}

/// Longest client-chosen request id kept; a longer one is replaced.
const MAX_REQUEST_ID_CHARS: usize = 128;

/// Whether a client's `x-request-id` may be kept: it ends up in every log
/// line of the request, so only a short token of letters, digits and
/// `-_.:/+=` (no spaces, quotes or line breaks that could forge log fields).
fn is_safe_request_id(value: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_CHARS).contains(&value.len())
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(b))
}

/// Drop a client's `x-request-id` that is not safe to log, so a fresh one is generated.
fn sanitise_request_id<B>(mut request: axum::http::Request<B>) -> axum::http::Request<B> {
    let headers = request.headers_mut();
    let unsafe_id = headers.get_all(&REQUEST_ID).iter().count() > 1
        || headers
            .get(&REQUEST_ID)
            .is_some_and(|value| !is_safe_request_id(value.as_bytes()));
    if unsafe_id {
        headers.remove(&REQUEST_ID);
    }
    request
}

/// The application router with its middleware, or what is wrong with the CORS policy.
pub fn router(
    state: AppState,
    cors: &CorsPolicy,
    request_timeout: Duration,
) -> Result<Router, String> {
    let middleware = ServiceBuilder::new()
        .map_request(sanitise_request_id)
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(
            // 503 is an answer, not a failure: draining (`/readyz`), at a cap, timed out.
            TraceLayer::new(StatusInRangeAsFailures::new(500..=502).into_make_classifier())
                .make_span_with(|request: &axum::http::Request<_>| {
                let request_id = request
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %request_id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, request_timeout))
        .layer(cors.layer()?)
        // Answers are compressed when the client asks (gzip or brotli).
        .layer(CompressionLayer::new());
    Ok(Router::new()
        .route(
            "/graphql",
            get(graphql::get_graphql).post(graphql::post_graphql),
        )
        .route("/graphql/ws", get(ws::graphql_ws))
        .route("/", get(playground::landing))
        .route(playground::ASSET_PATH, get(playground::asset))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .with_state(state)
        .layer(middleware))
}

#[cfg(test)]
mod tests {
    use super::is_safe_request_id;

    #[test]
    fn only_short_plain_request_ids_are_kept() {
        for good in [
            "abc-123",
            "0190a1a2-7b3c-7d4e-8f90-a1b2c3d4e5f6",
            "trace:span/1+2=",
        ] {
            assert!(is_safe_request_id(good.as_bytes()), "{good}");
        }
        let long = "a".repeat(129);
        for bad in [
            "",
            "ok principal=admin",
            "a\"b",
            "line\nbreak",
            "caf\u{e9}",
            long.as_str(),
        ] {
            assert!(!is_safe_request_id(bad.as_bytes()), "{bad:?}");
        }
    }
}
