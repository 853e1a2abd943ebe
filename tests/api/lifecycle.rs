//! The real binary under signals: SIGTERM drains in-flight requests,
//! SIGKILL in the middle of writes leaves no half-applied mutation.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestDb};

struct Process {
    child: Child,
    address: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

async fn start(db: &TestDb) -> Process {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_trestle"))
        .arg("serve")
        .env("TRESTLE_DATABASE_URL", &db.url)
        .env("TRESTLE_LISTEN", format!("127.0.0.1:{port}"))
        .env("TRESTLE_JWT_SECRET", "lifecycle-secret")
        .env("TRESTLE_BOOTSTRAP_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("TRESTLE_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("TRESTLE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the trestle binary");
    let process = Process {
        child,
        address: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if client
            .get(format!("{}/readyz", process.address))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return process;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not become ready");
}

impl Drop for Process {
    // A failing test must not leave a server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(process: &Process, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(process.child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success());
}

async fn login(client: &reqwest::Client, address: &str) -> String {
    let body: Value = client
        .post(format!("{address}/graphql"))
        .json(&json!({ "query": "mutation($i: LoginInput!) { login(input: $i) { token } }", "variables": { "i": { "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD } } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"]["login"]["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

async fn create_program(
    client: &reqwest::Client,
    address: &str,
    token: &str,
    key: String,
) -> Result<Value, reqwest::Error> {
    client
        .post(format!("{address}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": "mutation($i: CreateProgramInput!) { createProgram(input: $i) { program { id } } }", "variables": { "i": { "key": key, "name": "Load" } } }))
        .send()
        .await?
        .json()
        .await
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish_and_exits_promptly() {
    let db = TestDb::new().await;
    let mut process = start(&db).await;
    // One connection per request: a keep-alive connection closed by the
    // server while idle is a client-side retry matter, not a dropped request.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let token = login(&client, &process.address).await;
    let requests: Vec<_> = (0..60)
        .map(|i| {
            let client = client.clone();
            let address = process.address.clone();
            let token = token.clone();
            tokio::spawn(
                async move { create_program(&client, &address, &token, format!("T{i}")).await },
            )
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    signal(&process, "TERM");
    let stopped = Instant::now();
    // While draining it reports not ready, so a load balancer stops routing to it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let ready = client
        .get(format!("{}/readyz", process.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    for request in requests {
        match request.await.unwrap() {
            Ok(body) => assert!(
                body["data"]["createProgram"]["program"]["id"].is_string()
                    || body["errors"].is_array(),
                "{body}"
            ),
            // Refused before it was accepted is fine; accepted and then dropped is not.
            Err(error) => assert!(
                error.is_connect(),
                "a request was dropped mid-flight: {error}"
            ),
        }
    }
    loop {
        if let Some(status) = process.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn sigkill_during_writes_never_leaves_a_half_applied_mutation() {
    let db = TestDb::new().await;
    for round in 0..3u64 {
        let mut process = start(&db).await;
        let client = reqwest::Client::new();
        let token = login(&client, &process.address).await;
        let landed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        // Writers keep creating programs until the server dies under them.
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let client = client.clone();
                let address = process.address.clone();
                let token = token.clone();
                let landed = landed.clone();
                tokio::spawn(async move {
                    for i in 0.. {
                        match create_program(&client, &address, &token, format!("R{round}W{w}N{i}"))
                            .await
                        {
                            Ok(body) if body["data"]["createProgram"].is_object() => {
                                landed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                })
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(20);
        while landed.load(std::sync::atomic::Ordering::Relaxed) < 10 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(3 * round)).await;
        signal(&process, "KILL");
        let _ = process.child.wait();
        for writer in writers {
            let _ = writer.await;
        }
    }
    // Restart on the same database and check every committed mutation is whole.
    let process = start(&db).await;
    let conn = sea_orm::Database::connect(&db.url).await.unwrap();
    use sea_orm::{ConnectionTrait, Statement};
    let count = |sql: &'static str| {
        let conn = &conn;
        async move {
            let row = conn
                .query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get::<i64>("", "n").unwrap()
        }
    };
    let programs = count("SELECT COUNT(*) AS n FROM programs").await;
    let owners = count("SELECT COUNT(*) AS n FROM program_members WHERE role = 'OWNER'").await;
    let created =
        count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'program.create'").await;
    assert!(programs > 0, "no write committed before the kills");
    assert_eq!(owners, programs, "a program without its owner membership");
    assert_eq!(
        created, programs,
        "audit rows do not match committed mutations"
    );
    if conn.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        let row = conn
            .query_one_raw(Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                "PRAGMA integrity_check",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get_by_index::<String>(0).unwrap(), "ok");
        let broken = conn
            .query_all_raw(Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                "PRAGMA foreign_key_check",
            ))
            .await
            .unwrap();
        assert!(broken.is_empty(), "foreign keys broken after SIGKILL");
    }
    conn.close().await.ok();
    let mut process = process;
    signal(&process, "TERM");
    let _ = process.child.wait();
}

#[tokio::test]
async fn postgres_cancels_a_statement_that_outlives_its_timeout() {
    use sea_orm::ConnectionTrait;
    let app = crate::helpers::spawn_app_with(&["--database-statement-timeout-secs", "1"]).await;
    let db = &app.server.domain.db;
    if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        // SQLite runs in process: there is no server-side statement to cancel.
        return;
    }
    let started = Instant::now();
    let result = db.execute_unprepared("SELECT pg_sleep(5)").await;
    assert!(result.is_err(), "a 5 s statement ran past a 1 s timeout");
    assert!(started.elapsed() < Duration::from_secs(4));
    // The pool is still usable afterwards.
    assert!(db.execute_unprepared("SELECT 1").await.is_ok());
}
