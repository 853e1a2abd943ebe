//! Spawns the real server on a random port against a fresh database and
//! speaks GraphQL over HTTP to it.

use std::path::PathBuf;

use clap::Parser;
use serde_json::{Value, json};
use trestle_api::{app, config::ServeConfig};

/// The HS256 secret every test server signs with (long enough for production).
pub const JWT_SECRET: &str = "test-secret-for-the-suite-of-black-box-tests";

/// The bootstrap admin every test server starts with.
pub const ADMIN_EMAIL: &str = "admin@trestle.test";
/// Its password.
pub const ADMIN_PASSWORD: &str = "admin-password-1";

#[derive(Parser)]
struct ConfigArgs {
    #[command(flatten)]
    serve: ServeConfig,
}

/// A database that exists for one test and is removed afterwards.
pub struct TestDb {
    /// URL the server connects to.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    None,
    SqliteFile(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A fresh SQLite file, or a fresh PostgreSQL database when
    /// `TRESTLE_TEST_DATABASE_URL` is set.
    pub async fn new() -> Self {
        match std::env::var("TRESTLE_TEST_DATABASE_URL") {
            Ok(base) if !base.is_empty() => Self::postgres(&base).await,
            _ => {
                let path = std::env::temp_dir()
                    .join(format!("trestle-test-{}.db", uuid::Uuid::now_v7().simple()));
                Self {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    cleanup: Cleanup::SqliteFile(path),
                }
            }
        }
    }

    /// Another handle on the database at `url`, removed by its first owner only.
    pub fn existing(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            cleanup: Cleanup::None,
        }
    }

    async fn postgres(base: &str) -> Self {
        use sea_orm::ConnectionTrait;
        let name = format!("trestle_test_{}", uuid::Uuid::now_v7().simple());
        let admin = sea_orm::Database::connect(base)
            .await
            .expect("TRESTLE_TEST_DATABASE_URL must point at a reachable PostgreSQL server");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create the test database");
        admin.close().await.ok();
        let (prefix, _) = base
            .rsplit_once('/')
            .expect("a postgres URL with a database name");
        let query = base
            .split_once('?')
            .map(|(_, q)| format!("?{q}"))
            .unwrap_or_default();
        Self {
            url: format!("{prefix}/{name}{query}"),
            cleanup: Cleanup::Postgres {
                admin_url: base.to_owned(),
                name,
            },
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::None => {}
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let admin_url = admin_url.clone();
                let name = name.clone();
                // Drop runs inside the test's runtime: use a thread with its own.
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    runtime.block_on(async {
                        use sea_orm::ConnectionTrait;
                        let admin = sea_orm::Database::connect(&admin_url).await.ok()?;
                        admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await
                            .ok()?;
                        admin.close().await.ok()
                    })
                })
                .join();
            }
        }
    }
}

/// A running server and a client for it.
pub struct TestApp {
    /// Base URL, e.g. `http://127.0.0.1:43123`.
    pub address: String,
    /// The HTTP client.
    pub client: reqwest::Client,
    /// The running server.
    pub server: app::RunningServer,
    /// The database, removed when the app is dropped.
    _database: TestDb,
}

/// Start a server with the default test configuration.
/// A `--now` before every date the planning tests use, so their plans are
/// forecast as planned (nothing has started and today constrains nothing).
pub const BEFORE_THE_PLANS: [&str; 2] = ["--now", "2026-01-01T00:00:00Z"];

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Start a server with extra `serve` flags.
pub async fn spawn_app_with(extra: &[&str]) -> TestApp {
    let db = TestDb::new().await;
    spawn_app_on(db, extra).await
}

/// The `serve` configuration of a test server on `db` with extra flags: the
/// suite's secret and bootstrap admin unless `extra` says otherwise.
pub fn serve_config(db: &TestDb, extra: &[&str]) -> Result<ServeConfig, clap::Error> {
    let mut args = vec![
        "trestle",
        "--database-url",
        &db.url,
        "--listen",
        "127.0.0.1:0",
    ];
    if !extra.contains(&"--jwt-secret") {
        args.extend(["--jwt-secret", JWT_SECRET]);
    }
    if !extra.contains(&"--database-max-connections") {
        args.extend(["--database-max-connections", "5"]);
    }
    // The clock's notifications only where a test asks for them, so no
    // sweep lands in the middle of a count.
    if !extra.contains(&"--notification-sweep-secs") {
        args.extend(["--notification-sweep-secs", "0"]);
    }
    let has_bootstrap = extra
        .iter()
        .any(|a| a.starts_with("--bootstrap") || a.starts_with("--env"));
    if !has_bootstrap {
        args.extend([
            "--bootstrap-admin-email",
            ADMIN_EMAIL,
            "--bootstrap-admin-password",
            ADMIN_PASSWORD,
        ]);
    }
    args.extend(extra);
    ConfigArgs::try_parse_from(args).map(|args| args.serve)
}

/// Start a server on an existing database with extra flags.
pub async fn spawn_app_on(db: TestDb, extra: &[&str]) -> TestApp {
    let config = serve_config(&db, extra).expect("valid test configuration");
    let server = app::start(config, std::future::pending())
        .await
        .expect("the server starts");
    TestApp {
        address: format!("http://{}", server.addr),
        client: reqwest::Client::new(),
        server,
        _database: db,
    }
}

/// A signed-in test user.
#[derive(Clone, Debug)]
pub struct TestUser {
    /// User id.
    pub id: String,
    /// Bearer token.
    pub token: String,
}

impl TestApp {
    /// POST a GraphQL request with an optional bearer token; returns the JSON body.
    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.post(token, query, variables, &[])
            .await
            .json()
            .await
            .expect("a JSON body")
    }

    /// POST a GraphQL request with an optional bearer token and extra
    /// headers; the response, for its status and headers.
    pub async fn post(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = graphql_request(&self.client, &self.address, token, query, variables);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("the server answers")
    }

    /// Run a request as `user`.
    pub async fn as_user(&self, user: &TestUser, query: &str, variables: Value) -> Value {
        self.graphql(Some(&user.token), query, variables).await
    }

    /// Sign in and return the token.
    pub async fn login(&self, email: &str, password: &str) -> Value {
        self.graphql(
            None,
            "mutation($input: LoginInput!) { login(input: $input) { token expiresAt user { id email role } } }",
            json!({ "input": { "email": email, "password": password } }),
        )
        .await
    }

    /// The bootstrap admin, signed in.
    pub async fn admin(&self) -> TestUser {
        self.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// The user with these credentials, signed in.
    pub async fn signed_in(&self, email: &str, password: &str) -> TestUser {
        let body = self.login(email, password).await;
        let login = &body["data"]["login"];
        let text = |value: &Value| {
            value
                .as_str()
                .unwrap_or_else(|| panic!("{email} cannot sign in: {body}"))
                .to_owned()
        };
        TestUser {
            id: text(&login["user"]["id"]),
            token: text(&login["token"]),
        }
    }

    /// Create a MEMBER through `createUser` and sign them in.
    pub async fn member(&self, name: &str) -> TestUser {
        self.user_with_role(name, "MEMBER").await
    }

    /// Create a user with `role` through `createUser`; the token is minted directly.
    pub async fn user_with_role(&self, name: &str, role: &str) -> TestUser {
        let admin = self.admin().await;
        let email = format!(
            "{}-{}@trestle.test",
            name.to_lowercase(),
            uuid::Uuid::now_v7().simple()
        );
        let body = self
            .as_user(
                &admin,
                "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }",
                json!({ "input": { "email": email, "name": name, "password": "password-123", "role": role } }),
            )
            .await;
        let id = body["data"]["createUser"]["user"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("createUser failed: {body}"))
            .to_owned();
        let (token, _) = self
            .server
            .domain
            .jwt
            .issue(uuid::Uuid::parse_str(&id).expect("uuid"))
            .expect("token");
        TestUser { id, token }
    }

    /// Count rows of a table directly in the database.
    pub async fn count_rows(&self, table: &str) -> i64 {
        use sea_orm::{ConnectionTrait, Statement};
        let db = &self.server.domain.db;
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("count query")
            .expect("a row");
        row.try_get::<i64>("", "n").expect("a count")
    }
}

/// A GraphQL POST to the server at `address` (`http://…`), with a bearer
/// token if given.
pub fn graphql_request(
    client: &reqwest::Client,
    address: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> reqwest::RequestBuilder {
    let request = client
        .post(format!("{address}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

/// POST a GraphQL request to the server at `address`; the JSON body, or why
/// there is none.
pub async fn post_graphql(
    client: &reqwest::Client,
    address: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> reqwest::Result<Value> {
    graphql_request(client, address, token, query, variables)
        .send()
        .await?
        .json()
        .await
}

/// The `extensions.code` of the first error.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

/// The `extensions.field` of the first error.
pub fn error_field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or("")
}

/// `GET /healthz` on a fresh connection from 127.0.0.1: the status, if the
/// server answered within `patience`.
pub async fn healthz(server: std::net::SocketAddr, patience: std::time::Duration) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let check = async {
        let mut stream = tokio::net::TcpStream::connect(server).await.ok()?;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.ok()?;
        let text = String::from_utf8_lossy(&response);
        text.split(' ').nth(1)?.parse().ok()
    };
    tokio::time::timeout(patience, check).await.ok().flatten()
}

/// POST a document to `address`: the status, headers and body, or `None`
/// when the replica is not there to answer.
pub async fn post(
    client: &reqwest::Client,
    address: &str,
    token: Option<&str>,
    body: Value,
    idempotency_key: Option<&str>,
) -> Option<(u16, reqwest::header::HeaderMap, Value)> {
    let mut request = client
        .post(format!("{address}/graphql"))
        .timeout(std::time::Duration::from_secs(10))
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(key) = idempotency_key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.ok()?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.ok()?;
    Some((status, headers, body))
}

/// The lowercase SHA-256 hex of a document, as persisted queries name it.
pub fn sha256(document: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(document.as_bytes()))
}

/// The `extensions` of a request by persisted-query `hash`.
pub fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

/// Run `trestle migrate up` on the database at `url`, as a deployment's
/// one-shot migration job does.
pub async fn migrate_up(url: &str) {
    let status = tokio::process::Command::new(env!("CARGO_BIN_EXE_trestle"))
        .args(["migrate", "up"])
        .env("TRESTLE_DATABASE_URL", url)
        .env("TRESTLE_LOG", "error")
        .stdout(std::process::Stdio::null())
        .status()
        .await
        .expect("run trestle migrate up");
    assert!(status.success(), "trestle migrate up failed");
}

/// The `trestle` binary serving in its own process, killed when dropped.
pub struct ServerProcess {
    /// The process, for its exit status.
    pub child: std::process::Child,
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// Its base URL, e.g. `http://127.0.0.1:43123`.
    pub address: String,
}

impl ServerProcess {
    /// Start `trestle serve` on `db` with extra environment variables, after
    /// the shell commands `setup` (e.g. `ulimit -n 1024 && `).
    pub async fn start(db: &TestDb, env: &[(&str, &str)], setup: &str) -> Self {
        use std::time::{Duration, Instant};
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port())
            .expect("a free port");
        let child = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{setup}exec \"$0\" serve"))
            .arg(env!("CARGO_BIN_EXE_trestle"))
            .env("TRESTLE_DATABASE_URL", &db.url)
            .env("TRESTLE_LISTEN", format!("127.0.0.1:{port}"))
            .env("TRESTLE_JWT_SECRET", JWT_SECRET)
            .env("TRESTLE_BOOTSTRAP_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("TRESTLE_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("TRESTLE_LOG", "error")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the trestle binary");
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let process = Self {
            child,
            addr,
            address: format!("http://{addr}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while healthz(process.addr, Duration::from_secs(1)).await != Some(200) {
            assert!(Instant::now() < deadline, "the server did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        process
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Send it signal `name` (`TERM`, `KILL`, …).
    pub fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Sign the bootstrap admin in through `client`; the token.
    pub async fn admin_token(&self, client: &reqwest::Client) -> String {
        let body = post_graphql(
            client,
            &self.address,
            None,
            "mutation($input: LoginInput!) { login(input: $input) { token } }",
            json!({ "input": { "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD } }),
        )
        .await
        .expect("the server answers with JSON");
        body["data"]["login"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {body}"))
            .to_owned()
    }

    /// Its resident memory in KiB (Linux).
    pub fn resident_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("the process status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }
}

impl Drop for ServerProcess {
    // A failing test must not leave a server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
