//! `GET /metrics`: Prometheus text format, one registry per server.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use sea_orm::{DatabaseConnection, DatabaseConnectionType};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::AppState;
use super::occupancy::Full;
use crate::db::StatementCounter;

/// Distinct operation names kept as label values; later ones count as `other`.
const MAX_OPERATION_LABELS: usize = 200;

/// Why a request was refused by a limit.
#[derive(Debug, Clone, Copy)]
pub enum Rejection {
    /// The document costs too much.
    Cost,
    /// The principal's budget is spent.
    Rate,
    /// Too many failed sign-ins.
    SignIn,
}

impl Rejection {
    fn label(self) -> &'static str {
        match self {
            Self::Cost => "cost",
            Self::Rate => "rate",
            Self::SignIn => "sign_in",
        }
    }
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    errors: IntCounterVec,
    rejected: IntCounterVec,
    statements: IntCounter,
    statements_seen: Mutex<u64>,
    counter: StatementCounter,
    pool_open: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
    connections_refused: IntCounterVec,
    connections_open: IntGauge,
    websockets_refused: IntCounterVec,
    websockets_open: IntGauge,
    operations: Mutex<HashSet<String>>,
    token: Option<SecretString>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Metrics {
    /// A fresh registry reading statements from `counter`; `token`, when set,
    /// is required as a bearer token on `GET /metrics`.
    pub fn new(
        counter: StatementCounter,
        token: Option<SecretString>,
    ) -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("trestle".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "graphql_requests_total",
                "GraphQL requests by operation name and first error code (OK without errors).",
            ),
            &["operation", "code"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "graphql_request_duration_seconds",
                "Time to answer a GraphQL request, by operation name and first error code.",
            ),
            &["operation", "code"],
        )?;
        let errors = IntCounterVec::new(
            Opts::new("graphql_errors_total", "GraphQL errors sent, by code."),
            &["code"],
        )?;
        let rejected = IntCounterVec::new(
            Opts::new(
                "graphql_rejected_total",
                "Requests refused by a limit: cost, rate or sign_in.",
            ),
            &["limit"],
        )?;
        let statements = IntCounter::new("db_statements_total", "SQL statements executed.")?;
        let pool_open = IntGauge::new("db_pool_connections", "Open pooled database connections.")?;
        let pool_idle = IntGauge::new(
            "db_pool_idle_connections",
            "Open pooled database connections not in use.",
        )?;
        let pool_max = IntGauge::new(
            "db_pool_max_connections",
            "Most database connections the pool opens.",
        )?;
        let connections_refused = IntCounterVec::new(
            Opts::new(
                "connections_refused_total",
                "Connections answered 503 and closed at accept, by the cap they met: total or address.",
            ),
            &["cap"],
        )?;
        let connections_open = IntGauge::new(
            "connections_open",
            "Open client connections, WebSockets included.",
        )?;
        let websockets_refused = IntCounterVec::new(
            Opts::new(
                "websockets_refused_total",
                "WebSockets refused by a cap: total, address or user.",
            ),
            &["cap"],
        )?;
        let websockets_open = IntGauge::new("websockets_open", "Open GraphQL WebSockets.")?;
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(connections_refused.clone()),
            Box::new(connections_open.clone()),
            Box::new(websockets_refused.clone()),
            Box::new(websockets_open.clone()),
            Box::new(duration.clone()),
            Box::new(errors.clone()),
            Box::new(rejected.clone()),
            Box::new(statements.clone()),
            Box::new(pool_open.clone()),
            Box::new(pool_idle.clone()),
            Box::new(pool_max.clone()),
        ] {
            registry.register(collector)?;
        }
        // Every limit shows up from the first scrape, at zero until it refuses.
        for rejection in [Rejection::Cost, Rejection::Rate, Rejection::SignIn] {
            rejected.with_label_values(&[rejection.label()]);
        }
        for cap in ["total", "address"] {
            connections_refused.with_label_values(&[cap]);
        }
        for cap in ["total", "address", "user"] {
            websockets_refused.with_label_values(&[cap]);
        }
        Ok(Self {
            registry,
            requests,
            duration,
            errors,
            rejected,
            statements,
            statements_seen: Mutex::new(0),
            counter,
            pool_open,
            pool_idle,
            pool_max,
            connections_refused,
            connections_open,
            websockets_refused,
            websockets_open,
            operations: Mutex::new(HashSet::new()),
            token,
        })
    }

    /// The label for an operation name: client-chosen, so only well-formed
    /// names are kept, and only so many of them; a name not seen before
    /// takes a slot only when `may_add` (a signed-in caller's operation
    /// that ran), so anonymous or refused requests cannot use them up.
    fn operation_label(&self, operation: Option<&str>, may_add: bool) -> String {
        let Some(name) = operation else {
            return "unnamed".into();
        };
        let well_formed = !name.is_empty()
            && name.len() <= 64
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !well_formed {
            return "other".into();
        }
        let mut known = lock(&self.operations);
        if known.contains(name) || (may_add && known.len() < MAX_OPERATION_LABELS) {
            known.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".into()
        }
    }

    /// Record one answered GraphQL request; `ran` when a signed-in caller's
    /// operation was executed (its name may then become a new label).
    pub fn observe(&self, operation: Option<&str>, ran: bool, codes: &[String], elapsed: Duration) {
        let operation = self.operation_label(operation, ran);
        let code = codes.first().map_or("OK", String::as_str);
        self.requests.with_label_values(&[&operation, code]).inc();
        self.duration
            .with_label_values(&[&operation, code])
            .observe(elapsed.as_secs_f64());
        for code in codes {
            self.errors.with_label_values(&[code]).inc();
        }
    }

    /// Record a refusal by a limit.
    pub fn rejected(&self, rejection: Rejection) {
        self.rejected.with_label_values(&[rejection.label()]).inc();
    }

    /// Record a connection refused at accept by a cap.
    pub fn connection_refused(&self, full: Full) {
        self.connections_refused
            .with_label_values(&[super::server::cap_label(full)])
            .inc();
    }

    /// Record a WebSocket refused by a cap (`total`, `address` or `user`).
    pub fn websocket_refused(&self, cap: &'static str) {
        self.websockets_refused.with_label_values(&[cap]).inc();
    }

    fn sync(&self, db: &DatabaseConnection) {
        {
            let mut seen = lock(&self.statements_seen);
            let now = self.counter.get();
            self.statements.inc_by(now.saturating_sub(*seen));
            *seen = now.max(*seen);
        }
        let (open, idle, max) = match &db.inner {
            DatabaseConnectionType::SqlxSqlitePoolConnection(_) => {
                let pool = db.get_sqlite_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
                let pool = db.get_postgres_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            _ => return,
        };
        self.pool_open.set(i64::from(open));
        self.pool_idle.set(i64::try_from(idle).unwrap_or(i64::MAX));
        self.pool_max.set(i64::from(max));
    }

    /// The metrics in Prometheus text format, with `open_connections` and
    /// `open_websockets` as they stand.
    pub fn render(
        &self,
        db: &DatabaseConnection,
        open_connections: usize,
        open_websockets: usize,
    ) -> Result<String, prometheus::Error> {
        self.sync(db);
        self.connections_open
            .set(i64::try_from(open_connections).unwrap_or(i64::MAX));
        self.websockets_open
            .set(i64::try_from(open_websockets).unwrap_or(i64::MAX));
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        String::from_utf8(buffer).map_err(|error| prometheus::Error::Msg(error.to_string()))
    }

    fn authorised(&self, headers: &HeaderMap) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(super::credentials::bearer_token)
            .unwrap_or("");
        // Compare digests so the comparison takes the same time wherever it differs.
        Sha256::digest(presented.as_bytes()) == Sha256::digest(token.expose_secret().as_bytes())
    }
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !state.metrics.authorised(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
        )
            .into_response();
    }
    let open_connections = state.connections.open();
    let open_websockets = state.websockets.open();
    match state
        .metrics
        .render(&state.domain.db, open_connections, open_websockets)
    {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            text,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "could not render the metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_bounded_label_values() {
        let metrics = Metrics::new(StatementCounter::default(), None).unwrap();
        assert_eq!(metrics.operation_label(None, true), "unnamed");
        assert_eq!(metrics.operation_label(Some("Anonymous"), false), "other");
        assert_eq!(
            metrics.operation_label(Some("Dashboard"), true),
            "Dashboard"
        );
        assert_eq!(
            metrics.operation_label(Some("Dashboard"), false),
            "Dashboard"
        );
        assert_eq!(metrics.operation_label(Some("a\"b"), true), "other");
        assert_eq!(
            metrics.operation_label(Some(&"x".repeat(65)), true),
            "other"
        );
        for i in 0..MAX_OPERATION_LABELS {
            metrics.operation_label(Some(&format!("Op{i}")), true);
        }
        assert_eq!(
            metrics.operation_label(Some("Dashboard"), true),
            "Dashboard"
        );
        assert_eq!(metrics.operation_label(Some("OneTooMany"), true), "other");
    }

    #[test]
    fn two_servers_in_one_process_keep_separate_registries() {
        let first = Metrics::new(StatementCounter::default(), None).unwrap();
        let second = Metrics::new(StatementCounter::default(), None).unwrap();
        first.rejected(Rejection::Rate);
        let rate_refusals = |metrics: &Metrics| metrics.rejected.with_label_values(&["rate"]).get();
        assert_eq!(rate_refusals(&first), 1);
        assert_eq!(rate_refusals(&second), 0);
    }
}
