//! Server configuration: every setting is a flag and an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use secrecy::SecretString;

/// Where the server runs: production turns on the safer defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Environment {
    /// Local work: GraphiQL, introspection and a first-start admin.
    #[default]
    Development,
    /// Public deployment: no GraphiQL, no introspection, no first-start admin.
    Production,
}

/// Settings shared by every subcommand that opens the database.
#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// Database URL: `sqlite://…` or `postgres://…`.
    #[arg(
        long,
        global = true,
        env = "TRESTLE_DATABASE_URL",
        default_value = "sqlite://trestle.db?mode=rwc"
    )]
    pub database_url: String,
    /// Largest number of pooled database connections.
    #[arg(
        long,
        global = true,
        env = "TRESTLE_DATABASE_MAX_CONNECTIONS",
        default_value_t = 10
    )]
    pub database_max_connections: u32,
    /// PostgreSQL: longest a single SQL statement may run, in seconds, before the database cancels it (0 = no limit).
    #[arg(
        long,
        global = true,
        env = "TRESTLE_DATABASE_STATEMENT_TIMEOUT_SECS",
        default_value_t = 30
    )]
    pub database_statement_timeout_secs: u64,
    /// PostgreSQL: a direct connection for live events (`LISTEN`) when `TRESTLE_DATABASE_URL` goes through a transaction-mode pooler such as PgBouncer.
    #[arg(long, global = true, env = "TRESTLE_DATABASE_LISTEN_URL")]
    pub database_listen_url: Option<String>,
    /// Apply pending migrations on start; when false, a database that needs them is refused (run `trestle migrate up` first).
    #[arg(long, global = true, env = "TRESTLE_MIGRATE_ON_START", action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", default_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub migrate_on_start: bool,
}

/// Token settings shared by `serve` and `token`.
#[derive(Debug, Clone, Args)]
pub struct JwtConfig {
    /// HS256 signing secret; generated once and kept in the database when unset.
    #[arg(long, env = "TRESTLE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<SecretString>,
    /// `iss` of issued tokens, required on incoming ones.
    #[arg(long, env = "TRESTLE_JWT_ISSUER", default_value = "trestle")]
    pub jwt_issuer: String,
    /// `aud` of issued tokens, required on incoming ones.
    #[arg(long, env = "TRESTLE_JWT_AUDIENCE", default_value = "trestle-api")]
    pub jwt_audience: String,
    /// Lifetime of tokens issued by `login`, in minutes.
    #[arg(long, env = "TRESTLE_JWT_TTL_MINUTES", default_value_t = 720)]
    pub jwt_ttl_minutes: u32,
    /// Earlier HS256 secrets, comma-separated: tokens they signed stay valid during a rotation.
    #[arg(
        long,
        env = "TRESTLE_JWT_PREVIOUS_SECRETS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub jwt_previous_secrets: Vec<SecretString>,
    /// External identity provider whose signed tokens are accepted.
    #[command(flatten)]
    pub oidc: OidcConfig,
}

/// An external identity provider (OIDC): its public keys and the claims its tokens must carry.
#[derive(Debug, Clone, Args)]
pub struct OidcConfig {
    /// JWKS file with the identity provider's public keys (RSA, P-256, P-384 or Ed25519).
    #[arg(
        long,
        env = "TRESTLE_OIDC_JWKS_FILE",
        conflicts_with = "oidc_public_key_file"
    )]
    pub oidc_jwks_file: Option<PathBuf>,
    /// PEM file with the identity provider's one public key (RSA, P-256, P-384 or Ed25519).
    #[arg(long, env = "TRESTLE_OIDC_PUBLIC_KEY_FILE")]
    pub oidc_public_key_file: Option<PathBuf>,
    /// `iss` required on identity-provider tokens (required with a key file).
    #[arg(long, env = "TRESTLE_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// `aud` required on identity-provider tokens (required with a key file).
    #[arg(long, env = "TRESTLE_OIDC_AUDIENCE")]
    pub oidc_audience: Option<String>,
    /// Claim of identity-provider tokens holding the email of an existing Trestle user.
    #[arg(long, env = "TRESTLE_OIDC_EMAIL_CLAIM", default_value = "email")]
    pub oidc_email_claim: String,
}

/// Settings of `trestle serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Database settings.
    #[command(flatten)]
    pub database: DatabaseConfig,
    /// Token settings.
    #[command(flatten)]
    pub jwt: JwtConfig,
    /// Address to bind.
    #[arg(long, env = "TRESTLE_LISTEN", default_value = "127.0.0.1:8080", value_parser = listen_address)]
    pub listen: SocketAddr,
    /// `development` or `production` (production: no GraphiQL, no introspection, no first-start admin).
    #[arg(long = "env", env = "TRESTLE_ENV", value_enum, default_value_t = Environment::Development)]
    pub environment: Environment,
    /// Allow schema introspection (default: true in development, false in production).
    #[arg(long, env = "TRESTLE_INTROSPECTION", value_parser = clap::builder::BoolishValueParser::new())]
    pub introspection: Option<bool>,
    /// Serve GraphiQL to browsers on `GET /graphql` (default: true in development).
    #[arg(long, env = "TRESTLE_GRAPHIQL", value_parser = clap::builder::BoolishValueParser::new())]
    pub graphiql: Option<bool>,
    /// Browser origins allowed to call the API, comma-separated.
    #[arg(long, env = "TRESTLE_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Request headers those origins may send besides `Authorization`,
    /// `Content-Type`, `Accept`, `Accept-Language` and `Idempotency-Key`, comma-separated
    /// (tracing and client-identification headers by default).
    #[arg(
        long,
        env = "TRESTLE_CORS_ALLOW_HEADERS",
        value_delimiter = ',',
        default_value = "traceparent,tracestate,baggage,sentry-trace,x-request-id,apollographql-client-name,apollographql-client-version,apollo-require-preflight"
    )]
    pub cors_allow_headers: Vec<String>,
    /// Create this ADMIN user on start if no user has this email.
    #[arg(long, env = "TRESTLE_BOOTSTRAP_ADMIN_EMAIL")]
    pub bootstrap_admin_email: Option<String>,
    /// Password of the bootstrap admin.
    #[arg(long, env = "TRESTLE_BOOTSTRAP_ADMIN_PASSWORD", hide_env_values = true)]
    pub bootstrap_admin_password: Option<SecretString>,
    /// Largest request body in bytes.
    #[arg(long, env = "TRESTLE_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Largest GraphQL document in bytes.
    #[arg(long, env = "TRESTLE_MAX_DOCUMENT_BYTES", default_value_t = 64 * 1024)]
    pub max_document_bytes: usize,
    /// Deepest bracket nesting a document may have before it is parsed.
    #[arg(long, env = "TRESTLE_MAX_DOCUMENT_NESTING", default_value_t = 48)]
    pub max_document_nesting: usize,
    /// Deepest selection nesting a query may have.
    #[arg(long, env = "TRESTLE_MAX_QUERY_DEPTH", default_value_t = 15)]
    pub max_query_depth: usize,
    /// Largest page a list may be asked for (`first`/`last`).
    #[arg(long, env = "TRESTLE_MAX_PAGE_SIZE", default_value_t = 100)]
    pub max_page_size: usize,
    /// Most levels of the dependency graph one cycle check may fetch (one SQL statement each) before `createDependency` is refused with `QUERY_TOO_COMPLEX`.
    #[arg(long, env = "TRESTLE_MAX_CYCLE_SEARCH_STEPS", default_value_t = 256)]
    pub max_cycle_search_steps: usize,
    /// Most workstreams one cycle check may visit before `createDependency` is refused with `QUERY_TOO_COMPLEX`.
    #[arg(
        long,
        env = "TRESTLE_MAX_CYCLE_SEARCH_WORKSTREAMS",
        default_value_t = 20_000
    )]
    pub max_cycle_search_workstreams: usize,
    /// Load the demo program into an empty database and print demo sign-ins.
    #[arg(long, env = "TRESTLE_DEMO", action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", default_value = "false", value_parser = clap::builder::BoolishValueParser::new())]
    pub demo: bool,
    /// The instant (RFC 3339) forecasts and overdue checks take as now, for demos and reproducible tests; writes are still stamped with the real time (default: the system clock).
    #[arg(long, env = "TRESTLE_NOW")]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// After SIGTERM, milliseconds to keep serving while `/readyz` reports 503, before closing the listener.
    #[arg(long, env = "TRESTLE_SHUTDOWN_DRAIN_MS", default_value_t = 1000)]
    pub shutdown_drain_ms: u64,
    /// Seconds a connection may take to send a complete request head, from its acceptance and after each response; then it is closed.
    #[arg(long, env = "TRESTLE_HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub header_read_timeout_secs: u64,
    /// Most open client connections, WebSockets included; more are answered 503 and closed (default: the open-file limit less a reserve, at most 10000).
    #[arg(long, env = "TRESTLE_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Most open connections from one client address (IPv6: its /64); more are answered 503 and closed (0 = no cap, e.g. behind a proxy).
    #[arg(
        long,
        env = "TRESTLE_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 256
    )]
    pub max_connections_per_address: usize,
    /// Most open GraphQL WebSockets in total (default: half of the connection cap).
    #[arg(long, env = "TRESTLE_MAX_WEBSOCKETS")]
    pub max_websockets: Option<usize>,
    /// Most open GraphQL WebSockets from one client address (0 = no cap).
    #[arg(long, env = "TRESTLE_MAX_WEBSOCKETS_PER_ADDRESS", default_value_t = 64)]
    pub max_websockets_per_address: usize,
    /// Most open GraphQL WebSockets of one user (0 = no cap).
    #[arg(long, env = "TRESTLE_MAX_WEBSOCKETS_PER_USER", default_value_t = 16)]
    pub max_websockets_per_user: usize,
    /// Seconds a WebSocket may stay silent (not even answering pings) before it is closed.
    #[arg(
        long,
        env = "TRESTLE_WEBSOCKET_IDLE_TIMEOUT_SECS",
        default_value_t = 60
    )]
    pub websocket_idle_timeout_secs: u64,
    /// Seconds between the pings the server sends on each WebSocket.
    #[arg(
        long,
        env = "TRESTLE_WEBSOCKET_PING_INTERVAL_SECS",
        default_value_t = 20
    )]
    pub websocket_ping_interval_secs: u64,
    /// Largest request head (request line and headers) in bytes, at least 8192; larger answers 431.
    #[arg(long, env = "TRESTLE_MAX_HEADER_BYTES", default_value_t = 64 * 1024)]
    pub max_header_bytes: usize,
    /// Seconds a request may run before it is cancelled.
    #[arg(long, env = "TRESTLE_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Highest estimated query cost: fields selected, lists multiplied by their page, planning work added.
    #[arg(
        long,
        env = "TRESTLE_MAX_QUERY_COMPLEXITY",
        default_value_t = 1_000_000
    )]
    pub max_query_complexity: u64,
    /// Most aliased fields in a document (counted after fragment expansion).
    #[arg(long, env = "TRESTLE_MAX_ALIASES", default_value_t = 50)]
    pub max_aliases: u64,
    /// Most fields at the root of an operation.
    #[arg(long, env = "TRESTLE_MAX_ROOT_FIELDS", default_value_t = 30)]
    pub max_root_fields: u64,
    /// Most directives in a document (counted after fragment expansion).
    #[arg(long, env = "TRESTLE_MAX_DIRECTIVES", default_value_t = 50)]
    pub max_directives: u64,
    /// Most fragment spreads in a document (counted after expansion).
    #[arg(long, env = "TRESTLE_MAX_FRAGMENTS", default_value_t = 200)]
    pub max_fragments: u64,
    /// Items the cost assumes for a list field without a `first` argument (introspection, a decision's options).
    #[arg(long, env = "TRESTLE_ASSUMED_LIST_SIZE", default_value_t = 20)]
    pub assumed_list_size: u64,
    /// Most estimated cost executing at once across all callers (a request holds its estimate while it runs and waits its turn when the total would pass this; one larger than this runs alone).
    #[arg(long, env = "TRESTLE_MAX_IN_FLIGHT_COST", default_value_t = 2_000_000)]
    pub max_in_flight_cost: u64,
    /// Most work one request may do, in cost points: a point per workstream and dependency of each plan loaded, per 64 bytes of text rendered or returned; past it the request's remaining fields answer `QUERY_TOO_COMPLEX` (measure `work`).
    #[arg(long, env = "TRESTLE_MAX_REQUEST_WORK", default_value_t = 1_000_000)]
    pub max_request_work: u64,
    /// Bytes of documents clients register by hash (Apollo's automatic persisted queries), in each replica's cache and in the table all replicas share; 0 turns them off.
    #[arg(long, env = "TRESTLE_PERSISTED_QUERY_CACHE_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub persisted_query_cache_bytes: u64,
    /// JSON file of trusted documents, SHA-256 hex → document (GraphQL Code Generator's persisted documents, or Apollo's persisted-query manifest); clients may send their hash alone.
    #[arg(long, env = "TRESTLE_TRUSTED_DOCUMENTS")]
    pub trusted_documents: Option<std::path::PathBuf>,
    /// Run trusted documents only: any other document is refused with `PERSISTED_QUERY_NOT_IN_LIST`, and clients cannot register new ones.
    #[arg(long, env = "TRESTLE_REQUIRE_TRUSTED_DOCUMENTS", action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", default_value = "false", value_parser = clap::builder::BoolishValueParser::new())]
    pub require_trusted_documents: bool,
    /// Seconds between sweeps for the clock's notifications (overdue dependencies, decisions and status updates coming due); every replica sweeps and each notification is still written once per subject, recipient and day (0 = off).
    #[arg(long, env = "TRESTLE_NOTIFICATION_SWEEP_SECS", default_value_t = 60)]
    pub notification_sweep_secs: u64,
    /// Seconds a replica may remember a signed-in caller's account and memberships, saving a statement per request; a committed change to a user, an API token, a program or a membership makes every replica read them anew (this one at once, the others when PostgreSQL tells them), so the time bounds only changes made outside Trestle (0 = read on every request).
    #[arg(long, env = "TRESTLE_CALLER_CACHE_SECS", default_value_t = 5)]
    pub caller_cache_secs: u64,
    /// Let webhooks post to loopback, private and link-local addresses (a receiver on this machine or network); off, such targets are refused.
    #[arg(long, env = "TRESTLE_WEBHOOK_ALLOW_PRIVATE", action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", default_value = "false", value_parser = clap::builder::BoolishValueParser::new())]
    pub webhook_allow_private: bool,
    /// Seconds one webhook delivery attempt may take before it counts as failed.
    #[arg(long, env = "TRESTLE_WEBHOOK_TIMEOUT_SECS", default_value_t = 10)]
    pub webhook_timeout_secs: u64,
    /// Milliseconds before the first retry of a failed webhook delivery; each later retry waits three times longer (7 attempts in all).
    #[arg(long, env = "TRESTLE_WEBHOOK_RETRY_BASE_MS", default_value_t = 10_000)]
    pub webhook_retry_base_ms: u64,
    /// Milliseconds between looks at the webhook outbox for deliveries written by other replicas and retries coming due (this server's own are sent at once).
    #[arg(long, env = "TRESTLE_WEBHOOK_POLL_MS", default_value_t = 1000)]
    pub webhook_poll_ms: u64,
    /// Most webhook deliveries in flight from this server at once, one program's at most a quarter of them (0 = no deliveries from this server).
    #[arg(long, env = "TRESTLE_WEBHOOK_CONCURRENCY", default_value_t = 16)]
    pub webhook_concurrency: usize,
    /// Most items a plain list field returns (`schedule`, `overdueDependencies`, …); its `first` argument may ask for fewer, never more.
    #[arg(long, env = "TRESTLE_MAX_LIST_SIZE", default_value_t = 1000)]
    pub max_list_size: usize,
    /// Query-cost points per principal per minute (0 = off); a request is admitted when its estimate fits, then charged what it cost; one budget for every replica on a PostgreSQL database (in memory on SQLite).
    #[arg(long, env = "TRESTLE_RATE_LIMIT_PER_MINUTE", default_value_t = 100_000)]
    pub rate_limit_per_minute: u64,
    /// Extra points each mutation field costs against the rate limit.
    #[arg(long, env = "TRESTLE_RATE_LIMIT_MUTATION_COST", default_value_t = 10)]
    pub rate_limit_mutation_cost: u64,
    /// Failed sign-ins allowed per client address in the window, then 429 until the oldest leaves it (0 = no sign-in limits).
    #[arg(long, env = "TRESTLE_SIGN_IN_MAX_FAILURES", default_value_t = 10)]
    pub sign_in_max_failures: u32,
    /// Length of the failed sign-in window in seconds; an account's failures are forgiven after as long without one.
    #[arg(long, env = "TRESTLE_SIGN_IN_WINDOW_SECS", default_value_t = 900)]
    pub sign_in_window_secs: u64,
    /// Failed sign-ins an account may have before each further attempt from an unrecognised address must wait (1 s, doubling).
    #[arg(long, env = "TRESTLE_SIGN_IN_FREE_FAILURES", default_value_t = 5)]
    pub sign_in_free_failures: u32,
    /// Longest wait between attempts on an account under attack, in seconds.
    #[arg(long, env = "TRESTLE_SIGN_IN_MAX_DELAY_SECS", default_value_t = 300)]
    pub sign_in_max_delay_secs: u64,
    /// Most password hashes computed at once (argon2 takes 19 MiB each); others wait (default: the number of cores).
    #[arg(long, env = "TRESTLE_MAX_CONCURRENT_HASHES")]
    pub max_concurrent_hashes: Option<usize>,
    /// Take the client address from the last `X-Forwarded-For` entry (only behind a proxy that sets it).
    #[arg(long, env = "TRESTLE_TRUST_FORWARDED_FOR", action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", default_value = "false", value_parser = clap::builder::BoolishValueParser::new())]
    pub trust_forwarded_for: bool,
    /// Bearer token required on `GET /metrics` (unset: open).
    #[arg(long, env = "TRESTLE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<SecretString>,
}

impl ServeConfig {
    /// Whether introspection is on, after applying the environment's default.
    pub fn introspection_enabled(&self) -> bool {
        self.introspection
            .unwrap_or(self.environment == Environment::Development)
    }

    /// Whether GraphiQL is served, after applying the environment's default.
    pub fn graphiql_enabled(&self) -> bool {
        self.graphiql
            .unwrap_or(self.environment == Environment::Development)
    }
}

/// A listen address: `host:port`, or a port alone for this machine only.
fn listen_address(value: &str) -> Result<SocketAddr, String> {
    let value = value.trim();
    if let Ok(port) = value.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    value.parse().map_err(|_| {
        format!(
            "{value:?} is not an address to listen on; expected host:port, e.g. 127.0.0.1:8080 (this machine only), 0.0.0.0:8080 (every interface) or a port alone"
        )
    })
}
