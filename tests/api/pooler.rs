//! Behind PgBouncer in transaction mode, as the README's "Behind PgBouncer"
//! sets it up: PgBouncer ≥ 1.21 with `max_prepared_statements`
//! (`.ci/pgbouncer/start.sh`, built by `.ci/pgbouncer/install.sh` on first
//! use), the statement timeout set on the database instead of in the
//! connection's startup options, migrations and `LISTEN` on direct
//! connections. Two replicas then sign in, write concurrently, refuse a
//! cycle (a serializable transaction), share one set of persisted queries,
//! count a failed sign-in under a row lock, and deliver an event raised on
//! one to a subscriber on the other.
//!
//! PostgreSQL only: on the SQLite run of the suite this returns at once.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use crate::fixtures::Socket;
use crate::helpers::{
    ServerProcess, TestDb, error_code, migrate_up, persisted, post, post_graphql, sha256,
};

/// A PgBouncer in front of the local PostgreSQL, stopped when dropped.
struct PgBouncer {
    pid: String,
    port: u16,
    _dir: tempdir::Dir,
}

mod tempdir {
    /// A directory removed when dropped.
    pub struct Dir(pub std::path::PathBuf);

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl PgBouncer {
    async fn start() -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".ci/pgbouncer/start.sh");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port())
            .expect("a free port");
        let dir = std::env::temp_dir().join(format!("trestle-pgbouncer-{}", uuid::Uuid::now_v7()));
        let output = tokio::process::Command::new(&script)
            .arg(port.to_string())
            .arg(&dir)
            .stderr(std::process::Stdio::inherit())
            .output()
            .await
            .expect("run .ci/pgbouncer/start.sh");
        assert!(
            output.status.success(),
            "PgBouncer did not start (see .ci/pgbouncer/start.sh)"
        );
        let pid = String::from_utf8(output.stdout).unwrap().trim().to_owned();
        Self {
            pid,
            port,
            _dir: tempdir::Dir(dir),
        }
    }

    /// `url` with its host and port replaced by the bouncer's.
    fn in_front_of(&self, url: &str) -> String {
        let (_, database) = url.rsplit_once('/').expect("a database URL");
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-QUIT", &self.pid])
            .status();
    }
}

async fn graphql(address: &str, token: Option<&str>, query: &str, variables: Value) -> Value {
    post_graphql(&reqwest::Client::new(), address, token, query, variables)
        .await
        .expect("a JSON answer")
}

#[tokio::test]
async fn two_replicas_work_behind_pgbouncer_in_transaction_mode() {
    if !std::env::var("TRESTLE_TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty()) {
        return;
    }
    let bouncer = PgBouncer::start().await;
    let db = TestDb::new().await;
    {
        use sea_orm::ConnectionTrait;
        let direct = sea_orm::Database::connect(&db.url).await.unwrap();
        let name = db.url.rsplit_once('/').unwrap().1;
        // The statement timeout lives on the database: PgBouncer refuses
        // it as a startup option.
        direct
            .execute_unprepared(&format!(
                "ALTER DATABASE {name} SET statement_timeout = '30s'"
            ))
            .await
            .unwrap();
        direct.close().await.unwrap();
    }
    // Migrations on the direct connection, as the README says.
    migrate_up(&db.url).await;

    let pooled = TestDb::existing(&bouncer.in_front_of(&db.url));
    let env = [
        ("TRESTLE_DATABASE_LISTEN_URL", db.url.as_str()),
        ("TRESTLE_DATABASE_STATEMENT_TIMEOUT_SECS", "0"),
        ("TRESTLE_MIGRATE_ON_START", "false"),
        ("TRESTLE_RATE_LIMIT_PER_MINUTE", "100000"),
    ];
    let (a, b) = tokio::join!(
        ServerProcess::start(&pooled, &env, ""),
        ServerProcess::start(&pooled, &env, ""),
    );
    let client = reqwest::Client::new();
    let token = a.admin_token(&client).await;
    let token = token.as_str();

    let created = graphql(
        &b.address,
        Some(token),
        "mutation { createProgram(input: { key: \"POOL\", name: \"Pooled\" }) { program { id } } }",
        json!({}),
    )
    .await;
    let program = created["data"]["createProgram"]["program"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();

    // A subscriber on one replica hears a write made through the other.
    let mut socket = Socket::signed_in_at(&a.address, token).await;
    socket.watch("events", &program).await;
    // Live once it hears a change made after it subscribed.
    for round in 0.. {
        assert!(round < 20, "the subscription did not go live");
        graphql(
            &b.address,
            Some(token),
            "mutation($input: UpdateProgramInput!) { updateProgram(input: $input) { program { id } } }",
            json!({ "input": { "id": program, "description": format!("probe {round}") } }),
        )
        .await;
        let heard = tokio::time::timeout(Duration::from_secs(1), socket.next_event("events"));
        if heard.await.is_ok() {
            break;
        }
    }

    // Concurrent writes through both replicas, over the pooler's few connections.
    let writes = (0..12).map(|i| {
        let address = if i % 2 == 0 { &a.address } else { &b.address };
        graphql(
            address,
            Some(token),
            "mutation($input: CreateWorkstreamInput!) { createWorkstream(input: $input) { workstream { id } } }",
            json!({ "input": { "programId": program, "name": format!("ws-{i}") } }),
        )
    });
    let mut workstreams = Vec::new();
    for body in futures::future::join_all(writes).await {
        let id = body["data"]["createWorkstream"]["workstream"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"));
        workstreams.push(id.to_owned());
    }
    // Every one arrives (after any late probe).
    let mut heard = std::collections::HashSet::new();
    while !workstreams.iter().all(|id| heard.contains(id)) {
        let event = socket.next_event("events").await;
        heard.insert(event["entityId"].as_str().unwrap().to_owned());
    }

    // A dependency, then the cycle it would close is refused.
    let depend = |from: &str, to: &str| json!({ "input": { "upstreamId": from, "downstreamId": to, "description": "needs" } });
    const CREATE_DEPENDENCY: &str = "mutation($input: CreateDependencyInput!) { createDependency(input: $input) { dependency { id } } }";
    let first = graphql(
        &a.address,
        Some(token),
        CREATE_DEPENDENCY,
        depend(&workstreams[0], &workstreams[1]),
    )
    .await;
    assert!(first["errors"].is_null(), "{first}");
    let cycle = graphql(
        &b.address,
        Some(token),
        CREATE_DEPENDENCY,
        depend(&workstreams[1], &workstreams[0]),
    )
    .await;
    assert_eq!(error_code(&cycle), "DEPENDENCY_CYCLE", "{cycle}");

    // One set of persisted queries, and reads through either replica.
    let query = "{ viewer { email } }";
    let extensions = persisted(&sha256(query));
    let registered = json!({ "query": query, "extensions": extensions });
    let (status, _, _) = post(&client, &a.address, Some(token), registered, None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let by_hash = json!({ "extensions": extensions });
    let (_, _, by_hash) = post(&client, &b.address, Some(token), by_hash, None)
        .await
        .unwrap();
    assert!(by_hash["data"]["viewer"]["email"].is_string(), "{by_hash}");
    let read = graphql(
        &b.address,
        Some(token),
        "query($id: ID!) { program(id: $id) { workstreams(first: 50) { totalCount } criticalPath { durationDays } } }",
        json!({ "id": program }),
    )
    .await;
    assert_eq!(
        read["data"]["program"]["workstreams"]["totalCount"], 12,
        "{read}"
    );

    // A failed sign-in is counted (a locked row in a transaction) and answered.
    let wrong = graphql(
        &b.address,
        None,
        "mutation { login(input: { email: \"admin@trestle.test\", password: \"wrong\" }) { token } }",
        json!({}),
    )
    .await;
    assert_eq!(error_code(&wrong), "UNAUTHENTICATED", "{wrong}");
}
