//! Start-up: open and migrate the database, prepare keys and admins, serve.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use entity::setting;
use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait, sea_query::OnConflict};
use secrecy::SecretString;
use tokio::{sync::oneshot, task::JoinHandle};

use crate::auth::{JwtKeys, password::random_secret};
use crate::config::{DatabaseConfig, Environment, JwtConfig, ServeConfig};
use crate::db::{self, StatementCounter};
use crate::domain::{Domain, Limits, users};
use crate::error::ApiError;
use crate::graphql::schema_builder;
use crate::http::{self, AppState, HttpLimits};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("database: {}", describe(.0))]
    Database(#[from] DbErr),
    /// The address could not be bound.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// A setting is invalid.
    #[error("configuration: {0}")]
    Config(String),
}

/// A database error as a person reads it: our own explanations without the driver's prefix.
fn describe(error: &DbErr) -> String {
    match error {
        DbErr::Custom(message) => message.clone(),
        other => other.to_string(),
    }
}

impl From<ApiError> for StartError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Internal(cause) => Self::Config(cause.to_string()),
            other => Self::Config(format!(
                "{other}: {}",
                other.message(crate::i18n::Locale::En)
            )),
        }
    }
}

/// The settings key of the generated JWT secret.
const JWT_SECRET_KEY: &str = "jwt_secret";

/// Text of the documents a replica keeps parsed (see `http::document::Parsed`):
/// a client's few dozen documents many times over.
const PARSED_DOCUMENT_BYTES: u64 = 1024 * 1024;

/// The configured secret, or the one generated once and kept in the database.
/// Replicas starting together agree: the first insert wins, all read it back.
pub async fn jwt_secret(
    db: &DatabaseConnection,
    config: &JwtConfig,
) -> Result<SecretString, DbErr> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.clone());
    }
    if let Some(stored) = setting::Entity::find_by_id(JWT_SECRET_KEY.to_owned())
        .one(db)
        .await?
    {
        return Ok(SecretString::from(stored.value));
    }
    tracing::warn!(
        "TRESTLE_JWT_SECRET is not set: generating a signing secret and keeping it in the database"
    );
    setting::Entity::insert(setting::ActiveModel {
        key: Set(JWT_SECRET_KEY.to_owned()),
        value: Set(random_secret(64)),
        updated_at: Set(crate::domain::now()),
    })
    .on_conflict(
        OnConflict::column(setting::Column::Key)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let stored = setting::Entity::find_by_id(JWT_SECRET_KEY.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(JWT_SECRET_KEY.into()))?;
    Ok(SecretString::from(stored.value))
}

/// Open the database, migrate it and build the token keys.
pub async fn open(
    database: &DatabaseConfig,
    jwt: &JwtConfig,
    limits: Limits,
    statements: &StatementCounter,
) -> Result<Domain, StartError> {
    let db = db::connect(database, statements).await?;
    db::prepare_schema(&db, database.migrate_on_start).await?;
    let secret = jwt_secret(&db, jwt).await?;
    let keys = JwtKeys::from_config(&secret, jwt).map_err(|e| StartError::Config(e.to_string()))?;
    Ok(Domain::new(db, keys, limits))
}

/// A server running in the background (used by `serve` and by the tests).
pub struct RunningServer {
    /// The bound address.
    pub addr: SocketAddr,
    /// The services, for tests that inspect state directly.
    pub domain: Domain,
    /// SQL statements executed so far.
    pub statements: StatementCounter,
    /// Sign-ins of the demo accounts, when `--demo` loaded the demo program.
    pub demo_sign_ins: Vec<crate::demo::DemoSignIn>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Stop accepting, let in-flight requests finish, and wait.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.handle.await.map_err(std::io::Error::other)?
    }

    /// Wait until the server stops by itself.
    pub async fn wait(self) -> std::io::Result<()> {
        self.handle.await.map_err(std::io::Error::other)?
    }
}

/// Prepare everything and start serving in the background; `stop` ends it.
pub async fn start(
    config: ServeConfig,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<RunningServer, StartError> {
    if config.environment == Environment::Production {
        crate::auth::keys::require_long_secrets(&config.jwt)
            .map_err(|e| StartError::Config(e.to_string()))?;
    }
    // Take the address first: a clash is reported before anything else happens.
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|error| {
            let hint = if error.kind() == std::io::ErrorKind::AddrInUse {
                "another server is using it; stop it or choose another address with --listen or TRESTLE_LISTEN (e.g. 127.0.0.1:8081)"
            } else {
                "choose another address with --listen or TRESTLE_LISTEN (e.g. 127.0.0.1:8080)"
            };
            StartError::Config(format!("cannot listen on {}: {error}; {hint}", config.listen))
        })?;
    let statements = StatementCounter::default();
    let domain = open(
        &config.database,
        &config.jwt,
        Limits {
            max_page_size: config.max_page_size,
            max_list_size: config.max_list_size,
            max_request_work: config.max_request_work,
            allow_private_webhooks: config.webhook_allow_private,
            cycle_search: crate::planning::cycles::Budget {
                steps: config.max_cycle_search_steps,
                workstreams: config.max_cycle_search_workstreams,
            },
            max_concurrent_hashes: config
                .max_concurrent_hashes
                .unwrap_or_else(crate::domain::default_concurrent_hashes),
            sign_ins: Some(crate::domain::sign_ins::SignInPolicy {
                max_failures_per_address: config.sign_in_max_failures,
                window: Duration::from_secs(config.sign_in_window_secs),
                free_failures: config.sign_in_free_failures,
                max_delay: Duration::from_secs(config.sign_in_max_delay_secs.max(1)),
            }),
        },
        &statements,
    )
    .await?;
    let domain = match config.now {
        Some(now) => domain.with_clock(crate::domain::clock::FixedClock(now)),
        None => domain,
    }
    .remembering_callers_for(Duration::from_secs(config.caller_cache_secs));
    // Follow committed changes before serving, so no subscriber misses one.
    domain
        .events
        .start(&domain.db, config.database.database_listen_url.as_deref())
        .await?;

    let bootstrap = match (
        &config.bootstrap_admin_email,
        &config.bootstrap_admin_password,
    ) {
        (Some(email), Some(password)) => Some((email.as_str(), password)),
        (None, None) => None,
        _ => {
            return Err(StartError::Config(
                "set both TRESTLE_BOOTSTRAP_ADMIN_EMAIL and TRESTLE_BOOTSTRAP_ADMIN_PASSWORD"
                    .into(),
            ));
        }
    };
    let first_start = config.environment == Environment::Development;
    match users::ensure_admins(&domain, bootstrap, first_start).await? {
        users::AdminBootstrap::Existing => {}
        users::AdminBootstrap::Configured(email) => {
            tracing::info!(%email, "created the bootstrap admin");
        }
        users::AdminBootstrap::FirstStart { email, password } => {
            tracing::warn!(
                "first start: sign in as {email} with password {password} (shown only once; change it or create your own admin)"
            );
        }
    }

    let documents = Arc::new(
        http::document::DocumentPolicy::from_config(&config)
            .await
            .map_err(StartError::Config)?,
    );
    // Documents are judged before they run, over HTTP and WebSocket alike
    // (`http::steps::judge`); the parser's own recursion limit stays as a backstop.
    let mut schema = schema_builder()
        .data(domain.clone())
        .limit_recursive_depth(64);
    if !config.introspection_enabled() {
        schema = schema.disable_introspection().disable_suggestions();
    }
    let schema = schema.finish();
    let mut demo_sign_ins = Vec::new();
    if config.demo {
        match crate::demo::load(&domain, &schema).await? {
            Some(sign_ins) => {
                for sign_in in &sign_ins {
                    tracing::warn!(
                        "demo {}: sign in as {} with password {}",
                        sign_in.role,
                        sign_in.email,
                        sign_in.password
                    );
                }
                demo_sign_ins = sign_ins;
            }
            None => tracing::info!("the database already holds programs: the demo was not loaded"),
        }
    }
    let draining = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let max_connections = config.max_connections.unwrap_or_else(|| {
        http::server::default_max_connections(config.database.database_max_connections)
    });
    let connections =
        http::occupancy::Occupancy::new(max_connections.max(1), config.max_connections_per_address);
    let websockets = Arc::new(http::WebSocketLimits::new(
        config.max_websockets.unwrap_or(max_connections / 2).max(1),
        config.max_websockets_per_address,
        config.max_websockets_per_user,
        Duration::from_secs(config.websocket_idle_timeout_secs.max(1)),
        Duration::from_secs(config.websocket_ping_interval_secs.max(1)),
    ));
    let (stopping, stopping_rx) = tokio::sync::watch::channel(false);
    let metrics = Arc::new(
        http::metrics::Metrics::new(statements.clone(), config.metrics_token.clone())
            .map_err(|error| StartError::Config(error.to_string()))?,
    );
    if config.webhook_concurrency > 0 {
        tokio::spawn(crate::webhooks::worker::run(
            crate::events::background_connection(&domain.db),
            crate::webhooks::DeliveryPolicy {
                allow_private: config.webhook_allow_private,
                timeout: Duration::from_secs(config.webhook_timeout_secs.max(1)),
                retry_base: Duration::from_millis(config.webhook_retry_base_ms.max(1)),
                poll: Duration::from_millis(config.webhook_poll_ms.max(10)),
                concurrency: config.webhook_concurrency,
            },
            stopping_rx.clone(),
        ));
    }
    if config.notification_sweep_secs > 0 {
        tokio::spawn(crate::domain::sweep::run(
            domain.clone(),
            Duration::from_secs(config.notification_sweep_secs),
            stopping_rx.clone(),
        ));
    }
    let state = AppState {
        draining: draining.clone(),
        schema: schema.clone(),
        domain: domain.clone(),
        limits: HttpLimits {
            max_body_bytes: config.max_body_bytes,
            max_document_bytes: config.max_document_bytes,
            max_document_nesting: config.max_document_nesting,
            graphiql: config.graphiql_enabled(),
            introspection: config.introspection_enabled(),
            idempotency_lease: Duration::from_secs(config.request_timeout_secs + 5),
            in_flight: http::InFlight::new(config.max_in_flight_cost),
        },
        documents,
        parsed: http::document::Parsed::new(PARSED_DOCUMENT_BYTES),
        persisted: Arc::new(
            http::persisted::PersistedDocuments::new(
                config.persisted_query_cache_bytes,
                config.trusted_documents.as_deref(),
                config.require_trusted_documents,
            )
            .map_err(StartError::Config)?
            .shared_through(domain.db.clone()),
        ),
        rate_limits: Arc::new(http::rate_limit::RateLimits::from_config(
            &config, &domain.db,
        )),
        metrics: metrics.clone(),
        connections: connections.clone(),
        websockets,
        stopping: stopping_rx,
    };
    let cors = http::CorsPolicy {
        origins: config.cors_origins.clone(),
        allow_headers: config.cors_allow_headers.clone(),
    };
    let router = http::router(
        state,
        &cors,
        Duration::from_secs(config.request_timeout_secs),
    )
    .map_err(StartError::Config)?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let drain = Duration::from_millis(config.shutdown_drain_ms);
    let shutdown = async move {
        tokio::select! {
            _ = stop => {
                // Keep serving, and accepting, while `/readyz` says 503 so that
                // load balancers stop routing here before the listener closes;
                // connections already queued are then served, not reset.
                draining.store(true, std::sync::atomic::Ordering::SeqCst);
                tokio::time::sleep(drain).await;
            },
            _ = rx => {},
        }
    };
    let listening = http::Listening {
        limits: http::ConnectionLimits {
            header_read_timeout: Duration::from_secs(config.header_read_timeout_secs.max(1)),
            max_header_bytes: config.max_header_bytes,
            // In-flight requests end by their timeout; WebSockets close at once.
            drain_timeout: Duration::from_secs(config.request_timeout_secs + 5),
        },
        connections,
        stopping,
        metrics,
    };
    let handle = tokio::spawn(http::serve(listener, router, shutdown, listening));
    Ok(RunningServer {
        addr,
        domain,
        statements,
        demo_sign_ins,
        shutdown: Some(tx),
        handle,
    })
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
