//! Storage faults: after a write fails for lack of space, no connection goes
//! back to the pool inside a transaction, and every write answered OK is
//! still there for other connections and after a restart (SQLite); pooled
//! connections the database dropped are replaced before they serve
//! (PostgreSQL).

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, TestUser, error_code, spawn_app_on};

const CREATE: &str =
    "mutation($input: CreateProgramInput!) { createProgram(input: $input) { program { id key } } }";

async fn create(app: &TestApp, tpm: &TestUser, key: &str, description: &str) -> Value {
    app.as_user(
        tpm,
        CREATE,
        json!({ "input": { "key": key, "name": "Storage", "description": description } }),
    )
    .await
}

/// The keys of the programs in the database at `url`, read by a fresh
/// connection of its own (not the server's pool).
async fn stored_keys(url: &str) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = sea_orm::Database::connect(url)
        .await
        .expect("open the database");
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT key FROM programs ORDER BY key",
        ))
        .await
        .expect("read the programs");
    let keys = rows
        .iter()
        .map(|row| row.try_get::<String>("", "key").expect("a key"))
        .collect();
    db.close().await.ok();
    keys
}

/// The same scenario on any way of running out of space: a write fails,
/// space comes back, a mutation fails after its transaction began, then
/// writes are confirmed — and must be kept. One pooled connection, so a
/// connection left inside a transaction would serve everything after.
async fn confirmed_writes_are_kept_after_the_disk_fills<Full, Room>(
    url: &str,
    make_full: impl FnOnce(TestApp) -> Full,
    make_room: impl FnOnce(TestApp) -> Room,
) where
    Full: Future<Output = TestApp>,
    Room: Future<Output = TestApp>,
{
    let app = spawn_app_on(TestDb::existing(url), &["--database-max-connections", "1"]).await;
    let tpm = app.member("Tpm").await;
    let body = create(&app, &tpm, "BEFORE", "").await;
    assert!(body["errors"].is_null(), "{body}");

    let app = make_full(app).await;
    let mut refused = 0;
    for n in 0..5 {
        let body = create(&app, &tpm, &format!("FULL{n}"), &"x".repeat(20_000)).await;
        if body["errors"].is_array() {
            assert_eq!(error_code(&body), "INTERNAL_SERVER_ERROR", "{body}");
            refused += 1;
        }
    }
    assert!(refused > 0, "the full disk refused no write");

    let app = make_room(app).await;
    // A mutation that fails after its transaction began …
    let taken = create(&app, &tpm, "BEFORE", "").await;
    assert_eq!(error_code(&taken), "BAD_USER_INPUT", "{taken}");
    // … then writes that are confirmed.
    let mut confirmed = Vec::new();
    for key in ["AFTERA", "AFTERB", "AFTERC"] {
        let body = create(&app, &tpm, key, "").await;
        assert!(
            body["data"]["createProgram"]["program"]["id"].is_string(),
            "{body}"
        );
        confirmed.push(key.to_owned());
    }
    // Another connection sees every confirmed write …
    let seen = stored_keys(url).await;
    for key in &confirmed {
        assert!(
            seen.contains(key),
            "{key} was confirmed but is not stored: {seen:?}"
        );
    }
    // … and so does the server after a restart.
    let pool = app.server.domain.db.clone();
    app.server.shutdown().await.expect("shutdown");
    pool.close().await.ok();
    let app = spawn_app_on(TestDb::existing(url), &[]).await;
    let body = app
        .as_user(&tpm, "{ programs(first: 50) { nodes { key } } }", json!({}))
        .await;
    let keys: Vec<&str> = body["data"]["programs"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter_map(|node| node["key"].as_str())
        .collect();
    for key in &confirmed {
        assert!(
            keys.contains(&key.as_str()),
            "{key} was lost in a restart: {keys:?}"
        );
    }
    // Let go of the files (the full-disk case unmounts their file system).
    let db = app.server.domain.db.clone();
    app.server.shutdown().await.expect("shutdown");
    db.close().await.ok();
}

fn sqlite_only() -> bool {
    std::env::var("TRESTLE_TEST_DATABASE_URL").map_or(true, |url| url.is_empty())
}

/// `PRAGMA max_page_count` on `app`'s (only) pooled connection.
async fn set_max_page_count(app: &TestApp, pages: Option<i64>) {
    use sea_orm::{ConnectionTrait, Statement};
    let db = &app.server.domain.db;
    let pages = match pages {
        Some(pages) => pages,
        None => {
            let row = db
                .query_one_raw(Statement::from_string(
                    db.get_database_backend(),
                    "PRAGMA page_count",
                ))
                .await
                .expect("page count")
                .expect("a row");
            row.try_get_by_index::<i64>(0).expect("a number")
        }
    };
    db.execute_unprepared(&format!("PRAGMA max_page_count = {pages}"))
        .await
        .expect("set max_page_count");
}

#[tokio::test]
async fn a_database_full_in_the_middle_of_a_write_never_confirms_a_write_it_does_not_keep() {
    // SQLite's `max_page_count` makes the database full where it stands,
    // without privileges. It fails the statement that needs a page
    // (SQLITE_FULL), not the COMMIT: the failed-COMMIT cases are the
    // I/O-error one below (unprivileged) and the real full disk (root).
    if !sqlite_only() {
        return;
    }
    let db = TestDb::new().await;
    confirmed_writes_are_kept_after_the_disk_fills(
        &db.url,
        |app| async move {
            set_max_page_count(&app, None).await;
            app
        },
        |app| async move {
            set_max_page_count(&app, Some(1 << 30)).await;
            app
        },
    )
    .await;
}

/// A small tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(size: &str) -> Option<Self> {
        let path =
            std::env::temp_dir().join(format!("trestle-full-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&path).ok()?;
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if mounted {
            Some(Self(path))
        } else {
            let _ = std::fs::remove_dir(&path);
            None
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Background tasks of the stopped servers may hold a file a moment longer.
        for _ in 0..50 {
            let unmounted = std::process::Command::new("umount")
                .arg(&self.0)
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            if unmounted {
                let _ = std::fs::remove_dir(&self.0);
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        // Detach it at least; it goes away once the files are closed.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Fill the file system holding `path` until a write fails for lack of space.
fn fill(path: &std::path::Path) {
    use std::io::Write;
    let mut filler = std::fs::File::create(path).expect("create the filler");
    for chunk in [64 * 1024, 4096, 512, 1] {
        let bytes = vec![0u8; chunk];
        while filler
            .write_all(&bytes)
            .and_then(|()| filler.flush())
            .is_ok()
        {}
    }
}

#[tokio::test]
async fn a_full_disk_never_confirms_a_write_it_does_not_keep() {
    if !sqlite_only() {
        return;
    }
    let Some(disk) = Tmpfs::mount("16m") else {
        eprintln!(
            "skipped the real full-disk case: mounting a tmpfs needs root (CAP_SYS_ADMIN); the max_page_count case still runs"
        );
        return;
    };
    let url = format!("sqlite://{}/trestle.db?mode=rwc", disk.0.display());
    let filler = disk.0.join("filler");
    let room = filler.clone();
    confirmed_writes_are_kept_after_the_disk_fills(
        &url,
        |app| async move {
            fill(&filler);
            app
        },
        |app| async move {
            std::fs::remove_file(&room).expect("free the disk");
            app
        },
    )
    .await;
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_commit_failing_on_an_io_error_never_leaves_a_connection_inside_a_transaction() {
    // Unprivileged fault injection: the server's file-size limit (RLIMIT_FSIZE)
    // is lowered to the write-ahead log's current size, so the next COMMIT's
    // write fails (EFBIG, an I/O error to SQLite), then raised again.
    use crate::helpers::{ServerProcess, post_graphql};
    use rustix::process::{Pid, Resource, Rlimit, prlimit};
    if !sqlite_only() {
        return;
    }
    let db = TestDb::new().await;
    let path = db
        .url
        .strip_prefix("sqlite://")
        .and_then(|rest| rest.split('?').next())
        .expect("an SQLite file")
        .to_owned();
    let env = [("TRESTLE_DATABASE_MAX_CONNECTIONS", "1")];
    // A write past the limit raises SIGXFSZ: ignored, it becomes an error.
    let server = ServerProcess::start(&db, &env, "trap '' XFSZ; ").await;
    let client = reqwest::Client::new();
    let token = server.admin_token(&client).await;
    let create = |key: &str, description: String| {
        let (client, token, address) = (&client, token.clone(), server.address.clone());
        let input =
            json!({ "input": { "key": key, "name": "Storage", "description": description } });
        async move {
            post_graphql(client, &address, Some(&token), CREATE, input)
                .await
                .expect("an answer")
        }
    };
    let body = create("BEFORE", String::new()).await;
    assert!(body["errors"].is_null(), "{body}");

    let pid = Pid::from_raw(server.pid() as i32);
    let limit = |bytes: Option<u64>| {
        prlimit(
            pid,
            Resource::Fsize,
            Rlimit {
                current: bytes,
                maximum: None,
            },
        )
        .expect("set the server's file-size limit");
    };
    let wal = std::fs::metadata(format!("{path}-wal"))
        .expect("the WAL")
        .len();
    limit(Some(wal));
    let mut refused = 0;
    for n in 0..5 {
        let body = create(&format!("FULL{n}"), "x".repeat(20_000)).await;
        if body["errors"].is_array() {
            assert_eq!(error_code(&body), "INTERNAL_SERVER_ERROR", "{body}");
            refused += 1;
        }
    }
    assert!(refused > 0, "no write failed");
    limit(None);

    let taken = create("BEFORE", String::new()).await;
    assert_eq!(error_code(&taken), "BAD_USER_INPUT", "{taken}");
    let confirmed = ["AFTERA", "AFTERB", "AFTERC"];
    for key in confirmed {
        let body = create(key, String::new()).await;
        assert!(
            body["data"]["createProgram"]["program"]["id"].is_string(),
            "{body}"
        );
    }
    let seen = stored_keys(&db.url).await;
    for key in confirmed {
        assert!(
            seen.iter().any(|k| k == key),
            "{key} was confirmed but is not stored: {seen:?}"
        );
    }
    // Killed and started again, the server still has every confirmed write.
    drop(server);
    let server = ServerProcess::start(&db, &[], "").await;
    let body = post_graphql(
        &client,
        &server.address,
        Some(&token),
        "{ programs(first: 50) { nodes { key } } }",
        json!({}),
    )
    .await
    .expect("an answer");
    let keys = body["data"]["programs"]["nodes"].to_string();
    for key in confirmed {
        assert!(keys.contains(key), "{key} was lost in a restart: {keys}");
    }
}

/// `count` programs created at once, keyed `{prefix}0`, `{prefix}1`, …
async fn create_together(app: &TestApp, tpm: &TestUser, prefix: &str, count: usize) -> Vec<Value> {
    let keys: Vec<String> = (0..count).map(|n| format!("{prefix}{n}")).collect();
    futures::future::join_all(keys.iter().map(|key| create(app, tpm, key, ""))).await
}

/// Pooled connections the database dropped (a restart, a failover, an idle
/// timeout in a proxy) are found out before they serve: a connection idle
/// for more than a second is pinged on its way out of the pool and replaced
/// if dead, so no request fails for it (PostgreSQL).
#[tokio::test]
async fn connections_the_database_dropped_are_replaced_before_they_serve() {
    use sea_orm::{ConnectionTrait, Database, Statement};
    if sqlite_only() {
        return;
    }
    let db = TestDb::new().await;
    let url = db.url.clone();
    let app = spawn_app_on(db, &["--database-max-connections", "4"]).await;
    let tpm = app.member("Tpm").await;
    // Every pooled connection in use once.
    let bodies = create_together(&app, &tpm, "WARM", 8).await;
    assert!(
        bodies.iter().all(|body| body["errors"].is_null()),
        "{bodies:?}"
    );

    // The sessions that sat idle past the ping threshold ended from outside
    // the server (as a restart or a proxy would), then used at once. The
    // server's own background work keeps some sessions busy, so this waits
    // for at least one idle session.
    let outside = Database::connect(url.as_str()).await.expect("connect");
    let mut ended = 0;
    for _ in 0..10 {
        tokio::time::sleep(std::time::Duration::from_millis(2_000)).await;
        ended = outside
            .query_all_raw(Statement::from_string(
                outside.get_database_backend(),
                "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid() \
                 AND state = 'idle' AND query NOT LIKE 'LISTEN%' \
                 AND state_change < now() - interval '1500 milliseconds'",
            ))
            .await
            .expect("end the server's idle sessions")
            .len();
        if ended > 0 {
            break;
        }
    }
    outside.close().await.ok();
    assert!(ended > 0, "no pooled session sat idle");

    let bodies = create_together(&app, &tpm, "AFTER", 8).await;
    for body in &bodies {
        assert!(body["errors"].is_null(), "{body}");
    }
    let body = app
        .as_user(&tpm, "{ programs(first: 50) { totalCount } }", json!({}))
        .await;
    assert_eq!(body["data"]["programs"]["totalCount"], 16, "{body}");
}
