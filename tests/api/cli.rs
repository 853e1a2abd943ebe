//! The command line as a newcomer meets it: what it prints, and errors that
//! say what happened and what to do.

use std::process::{Command, Output};

use serde_json::json;

use crate::fixtures::{program, status_update};
use crate::helpers::{spawn_app, spawn_app_with};

fn trestle(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trestle"));
    command.args(args);
    for name in [
        "TRESTLE_DEMO",
        "TRESTLE_LISTEN",
        "TRESTLE_DATABASE_URL",
        "TRESTLE_LOG",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command.output().expect("trestle runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh SQLite database in its own directory.
fn sqlite() -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("trestle-cli-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/cli.db?mode=rwc", dir.display());
    (dir, url)
}

#[test]
fn migrate_says_what_it_did_and_takes_the_database_after_the_action() {
    let (dir, url) = sqlite();
    let status = trestle(&["migrate", "status", "--database-url", &url], &[]);
    assert!(status.status.success(), "{}", text(&status.stderr));
    let listed = text(&status.stdout);
    assert!(
        listed.contains("pending  m20261125_000001_create_users"),
        "{listed}"
    );

    let up = trestle(&["migrate", "up", "--database-url", &url], &[]);
    assert!(up.status.success(), "{}", text(&up.stderr));
    let applied = text(&up.stdout);
    assert!(
        applied.contains("applied m20261125_000001_create_users"),
        "{applied}"
    );

    let again = trestle(&["migrate", "--database-url", &url, "up"], &[]);
    assert!(
        text(&again.stdout).contains("up to date"),
        "{}",
        text(&again.stdout)
    );

    let down = trestle(&["migrate", "down", "--database-url", &url], &[]);
    assert!(
        text(&down.stdout).contains("rolled back m2026"),
        "{}",
        text(&down.stdout)
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn starting_on_a_busy_address_names_it_before_anything_else_once() {
    let (dir, url) = sqlite();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = busy.local_addr().unwrap().to_string();
    let output = trestle(
        &["serve", "--listen", &address, "--database-url", &url],
        &[],
    );
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert_eq!(
        stderr
            .matches(&format!("cannot listen on {address}"))
            .count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("--listen"), "says what to do: {stderr}");
    assert!(
        !stderr.contains("first start"),
        "no password printed for a server that never ran: {stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}'),
        "no colour codes off a terminal: {stderr:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn database_errors_say_what_to_do() {
    // PostgreSQL that is not there: refused at once, by address.
    let down = trestle(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/trestle",
        ],
        &[],
    );
    let stderr = text(&down.stderr);
    assert!(!down.status.success());
    assert!(
        stderr.contains("cannot connect to PostgreSQL at 127.0.0.1:1"),
        "{stderr}"
    );
    assert!(!stderr.contains("pool timed out"), "{stderr}");

    // A new SQLite file without mode=rwc: the hint.
    let dir = std::env::temp_dir().join(format!("trestle-cli-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/new.db", dir.display());
    let missing = trestle(
        &["serve", "--listen", "127.0.0.1:0", "--database-url", &url],
        &[],
    );
    let stderr = text(&missing.stderr);
    assert!(stderr.contains("?mode=rwc"), "{stderr}");
    assert_eq!(
        stderr.matches("cannot open the SQLite database").count(),
        1,
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn on_off_settings_take_the_usual_spellings_and_bad_ones_name_the_variable() {
    // `1`, `yes` and `on` are accepted: the start goes on to the database.
    for yes in ["1", "yes", "on", "true"] {
        let output = trestle(
            &["--database-url", "postgres://postgres@127.0.0.1:1/trestle"],
            &[("TRESTLE_DEMO", yes)],
        );
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains("cannot connect to PostgreSQL"),
            "{yes}: {stderr}"
        );
    }
    let output = trestle(&[], &[("TRESTLE_DEMO", "maybe")]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("TRESTLE_DEMO"), "{stderr}");
}

#[test]
fn a_port_alone_is_a_listen_address_and_a_bad_one_gets_an_example() {
    let output = trestle(
        &[
            "--listen",
            "0",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/trestle",
        ],
        &[],
    );
    assert!(
        text(&output.stderr).contains("cannot connect to PostgreSQL"),
        "{}",
        text(&output.stderr)
    );
    let bad = trestle(&["--listen", "localhost-8080"], &[]);
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("e.g. 127.0.0.1:8080"),
        "{}",
        text(&bad.stderr)
    );
}

#[tokio::test]
async fn posting_a_status_update_writes_two_plain_history_entries() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    let id = program(&app, &tpm, "HIST", json!({ "name": "History" })).await;
    status_update(&app, &tpm, &id, "All good").await;
    let body = app
        .as_user(
            &tpm,
            "query($id: ID!) { program(id: $id) { activity(first: 5) { nodes { action entityType changes } } } }",
            json!({ "id": id }),
        )
        .await;
    let entries = body["data"]["program"]["activity"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    let post = entries
        .iter()
        .find(|e| e["action"] == "statusUpdate.post")
        .unwrap_or_else(|| panic!("{body}"));
    let health = entries
        .iter()
        .find(|e| e["action"] == "program.update")
        .unwrap_or_else(|| panic!("{body}"));
    // Every entry's changes are `{field: {before, after}}`.
    for entry in [post, health] {
        for (field, change) in entry["changes"].as_object().unwrap() {
            let keys: Vec<&String> = change.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["after", "before"], "{field} in {entry}");
        }
    }
    assert!(health["changes"]["health"]["after"].is_string(), "{health}");
}

#[tokio::test]
async fn operation_names_become_metric_labels_only_for_signed_in_requests_that_ran() {
    let app = spawn_app_with(&[]).await;
    for n in 0..5 {
        let _ = app
            .client
            .post(format!("{}/graphql", app.address))
            .json(&json!({ "query": "{ __typename }", "operationName": format!("Flood{n}") }))
            .send()
            .await
            .unwrap();
    }
    let admin = app.admin().await;
    let _ = app
        .as_user(&admin, "query Dashboard { viewer { id } }", json!({}))
        .await;
    let metrics = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!metrics.contains("Flood"), "anonymous names take no label");
    assert!(metrics.contains("operation=\"Dashboard\""), "{metrics}");
}

#[tokio::test]
async fn a_korean_reader_gets_the_whole_message_in_korean() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let response = app
        .post(
            Some(&admin.token),
            "{ workstream(id: \"not-a-uuid\") { id } }",
            json!({}),
            &[("accept-language", "ko-KR")],
        )
        .await;
    let body: serde_json::Value = response.json().await.unwrap();
    let message = body["errors"][0]["message"].as_str().unwrap();
    // The admin's own language wins over the header; ask in Korean as the admin.
    let korean = app
        .as_user(
            &admin,
            "mutation { updateViewer(input: { locale: KO }) { user { locale } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        korean["data"]["updateViewer"]["user"]["locale"], "KO",
        "{korean}"
    );
    let body = app
        .as_user(
            &admin,
            "{ workstream(id: \"not-a-uuid\") { id } }",
            json!({}),
        )
        .await;
    let korean_message = body["errors"][0]["message"].as_str().unwrap();
    assert!(korean_message.contains("UUID"), "{korean_message}");
    assert!(
        !korean_message.contains("a UUID") && !korean_message.contains("expected"),
        "no English inside the Korean message: {korean_message} (was {message})"
    );
}

#[tokio::test]
async fn a_planned_drain_is_not_logged_as_an_error() {
    use std::time::{Duration, Instant};
    let (dir, url) = sqlite();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.join("server.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_trestle"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            &url,
        ])
        .env("TRESTLE_LOG", "info")
        .env("TRESTLE_SHUTDOWN_DRAIN_MS", "3000")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(30);
    while crate::helpers::healthz(addr, Duration::from_secs(1)).await != Some(200) {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let client = reqwest::Client::new();
    let mut draining = false;
    for _ in 0..40 {
        let status = client
            .get(format!("http://{addr}/readyz"))
            .send()
            .await
            .map(|response| response.status().as_u16());
        if status.is_ok_and(|status| status == 503) {
            draining = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(draining, "/readyz answers 503 while draining");
    assert!(child.wait().unwrap().success());
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(!logged.contains("ERROR"), "{logged}");
    assert!(
        !logged.contains('\u{1b}'),
        "no colour codes in a log file: {logged:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
