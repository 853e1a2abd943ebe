//! The real binary under signals: SIGTERM drains in-flight requests,
//! SIGKILL in the middle of writes leaves no half-applied mutation.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{ServerProcess, TestDb, post_graphql};

/// Create program `key` as the holder of `token`; the body, or why none came.
async fn create_program(
    client: &reqwest::Client,
    address: &str,
    token: &str,
    key: String,
) -> reqwest::Result<Value> {
    let query = "mutation($i: CreateProgramInput!) { createProgram(input: $i) { program { id } } }";
    let variables = json!({ "i": { "key": key, "name": "Load" } });
    post_graphql(client, address, Some(token), query, variables).await
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish_and_exits_promptly() {
    let db = TestDb::new().await;
    let mut process = ServerProcess::start(&db, &[], "").await;
    // One connection per request: a keep-alive connection closed by the
    // server while idle is a client-side retry matter, not a dropped request.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let token = process.admin_token(&client).await;
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
    process.signal("TERM");
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
        let mut process = ServerProcess::start(&db, &[], "").await;
        let client = reqwest::Client::new();
        let token = process.admin_token(&client).await;
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
        process.signal("KILL");
        let _ = process.child.wait();
        for writer in writers {
            let _ = writer.await;
        }
    }
    // Restart on the same database and check every committed mutation is whole.
    let process = ServerProcess::start(&db, &[], "").await;
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
    process.signal("TERM");
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
