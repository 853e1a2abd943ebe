//! The example scripts of `examples/scripts/`, run with `python3` as a
//! script author runs them: the CSV sync creates, then updates, and follows
//! live events; the webhook receiver prints only what Trestle signed.

use std::process::{Output, Stdio};
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines, copy_bidirectional};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStdout, Command};

use crate::fixtures::{api_token, mutate, program, subscribed};
use crate::helpers::{TestApp, spawn_app_with};

/// How long a script may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(60);

/// The sample CSV's rows as the sync prints them on a first run.
const CREATED: [&str; 3] = [
    "created PAY-12 Checkout",
    "created PAY-13 Fraud scoring",
    "created PAY-14 Ledger migration",
];

/// The sample's workstreams once synced, as [`described`] puts them.
const SYNCED: [&str; 3] = [
    "PAY-12 | Checkout | IN_PROGRESS | 40 | 2026-03-02 | 2026-06-30",
    "PAY-13 | Fraud scoring | NOT_STARTED | 0 | 2026-05-04 | 2026-09-30",
    "PAY-14 | Ledger migration | BLOCKED | 0 | - | -",
];

const WORKSTREAMS: &str = "query($key: String!) { program(key: $key) { workstreams(first: 20) { totalCount nodes { id externalId name status progress startDate targetDate } } } }";

const DELIVERIES: &str = "query($key: String!) { program(key: $key) { webhooks(first: 1) { nodes { deliveries(first: 20) { nodes { id event payload } } } } } }";

/// The path of `examples/scripts/<name>`.
fn script(name: &str) -> String {
    format!("{}/examples/scripts/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `python3 examples/scripts/sync_workstreams.py <args>` as the holder of `token`, output captured.
fn sync_command(app: &TestApp, token: &str, args: &[&str]) -> Command {
    let mut command = Command::new("python3");
    command
        .arg(script("sync_workstreams.py"))
        .args(args)
        .env("TRESTLE_URL", &app.address)
        .env("TRESTLE_TOKEN", token)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Run the sync script with `args` to its end.
async fn run_sync(app: &TestApp, token: &str, args: &[&str]) -> Output {
    let child = sync_command(app, token, args)
        .spawn()
        .expect("python3 runs");
    finished(child).await
}

/// The output of `child` once it exits, within `PATIENCE`.
async fn finished(child: Child) -> Output {
    tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .expect("the script ends in time")
        .expect("its output")
}

/// Bytes a script printed, as text.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The lines of a stream, as text.
fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// `webhook_receiver.py` running with `secret`, once it listens.
struct Receiver {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    url: String,
}

impl Receiver {
    /// Start the receiver on `port`, exiting after `once` deliveries; returns once it prints `LISTENING <port>`.
    async fn start(port: u16, secret: &str, once: usize) -> Self {
        let mut child = Command::new("python3")
            .arg(script("webhook_receiver.py"))
            .args(["--port", &port.to_string(), "--once", &once.to_string()])
            .env("TRESTLE_WEBHOOK_SECRET", secret)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
        let first = tokio::time::timeout(PATIENCE, stdout.next_line())
            .await
            .expect("the receiver starts in time")
            .expect("its stdout");
        assert_eq!(first, Some(format!("LISTENING {port}")));
        Self {
            child,
            stdout,
            url: format!("http://127.0.0.1:{port}/"),
        }
    }

    /// Every line it printed after `LISTENING`, once it has exited successfully.
    async fn printed(mut self) -> Vec<String> {
        let mut printed = Vec::new();
        let read = async {
            while let Some(line) = self.stdout.next_line().await.expect("its stdout") {
                printed.push(line);
            }
            self.child.wait().await.expect("its exit status")
        };
        let status = tokio::time::timeout(PATIENCE, read)
            .await
            .expect("the receiver exits in time");
        assert!(status.success(), "the receiver failed: {status}");
        printed
    }

    /// POST `body` with `signature` (if any); the status it answers.
    async fn post(&self, signature: Option<&str>, body: &str) -> u16 {
        let mut request = reqwest::Client::new()
            .post(&self.url)
            .header("Trestle-Delivery", "d-1")
            .header("Trestle-Event", "workstream.create")
            .body(body.to_owned());
        if let Some(signature) = signature {
            request = request.header("Trestle-Signature", signature);
        }
        let response = request.send().await.expect("the receiver answers");
        response.status().as_u16()
    }
}

/// `t=<at>,v1=<hex HMAC-SHA256(secret, "<at>.<body>")>`.
fn signature(secret: &str, at: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(format!("{at}.{body}").as_bytes());
    format!("t={at},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The workstreams of program `key`, sorted by external id.
async fn workstreams(app: &TestApp, token: &str, key: &str) -> Vec<Value> {
    let body = app
        .graphql(Some(token), WORKSTREAMS, json!({ "key": key }))
        .await;
    let mut nodes = body["data"]["program"]["workstreams"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone();
    nodes.sort_by_key(|node| node["externalId"].to_string());
    nodes
}

/// A field as a script author would read it: a string's text, `-` for null.
fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

/// A workstream's external id, name, status, progress and dates, separated by `|`.
fn described(workstream: &Value) -> String {
    [
        "externalId",
        "name",
        "status",
        "progress",
        "startDate",
        "targetDate",
    ]
    .map(|field| shown(&workstream[field]))
    .join(" | ")
}

#[tokio::test]
async fn a_csv_sync_creates_then_updates_and_each_delivery_is_verified() {
    let app = spawn_app_with(&["--webhook-allow-private", "--webhook-poll-ms", "50"]).await;
    let owner = app.member("Sync").await;
    let program_id = program(&app, &owner, "SYNC", json!({})).await;
    let (token, _) = api_token(&app, &owner, "CSV sync").await;

    // The webhook's secret is the receiver's, so the port is chosen first;
    // nothing is delivered before the receiver listens.
    let port = free_port();
    let hook = mutate(
        &app,
        &owner,
        "createWebhook",
        json!({
            "programId": program_id,
            "url": format!("http://127.0.0.1:{port}/"),
            "events": ["workstream.*"],
        }),
        "secret",
    )
    .await;
    let secret = hook["secret"].as_str().expect("a secret");
    let receiver = Receiver::start(port, secret, 3).await;

    let sample = script("workstreams.csv");
    let first = run_sync(&app, &token, &["--program", "SYNC", &sample]).await;
    assert!(first.status.success(), "{}", text(&first.stderr));
    let mut expected = CREATED.map(str::to_owned).to_vec();
    expected.push("3 created, 0 updated".to_owned());
    assert_eq!(lines(&first.stdout), expected, "{}", text(&first.stderr));
    let created = workstreams(&app, &token, "SYNC").await;
    let described: Vec<String> = created.iter().map(described).collect();
    assert_eq!(described, SYNCED);

    // One verified line per created workstream, naming the delivery Trestle recorded.
    let body = app
        .graphql(Some(&token), DELIVERIES, json!({ "key": "SYNC" }))
        .await;
    let recorded = &body["data"]["program"]["webhooks"]["nodes"][0]["deliveries"]["nodes"];
    let recorded = recorded.as_array().unwrap_or_else(|| panic!("{body}"));
    let mut expected: Vec<String> = created
        .iter()
        .map(|workstream| {
            let id = &workstream["id"];
            let delivery = recorded
                .iter()
                .find(|d| d["event"] == "workstream.create" && d["payload"]["entityId"] == *id)
                .unwrap_or_else(|| panic!("no delivery of {id}: {body}"));
            let (delivery, id) = (shown(&delivery["id"]), shown(id));
            format!("DELIVERY {delivery} workstream.create CREATED Workstream {id}")
        })
        .collect();
    let mut printed = receiver.printed().await;
    printed.sort();
    expected.sort();
    assert_eq!(printed, expected);

    // Someone edits a synced workstream; the next run puts the CSV's values
    // back and adds nothing.
    mutate(
        &app,
        &owner,
        "updateWorkstream",
        json!({ "id": created[0]["id"], "progress": 90 }),
        "workstream { id }",
    )
    .await;
    let second = run_sync(&app, &token, &["--program", "SYNC", &sample]).await;
    assert!(second.status.success(), "{}", text(&second.stderr));
    let mut expected = CREATED
        .map(|line| line.replacen("created", "updated", 1))
        .to_vec();
    expected.push("0 created, 3 updated".to_owned());
    assert_eq!(lines(&second.stdout), expected, "{}", text(&second.stderr));
    assert_eq!(workstreams(&app, &token, "SYNC").await, created);
}

#[tokio::test]
async fn the_sync_script_follows_the_programs_live_events() {
    let app = spawn_app_with(&[]).await;
    let owner = app.member("Follow").await;
    program(&app, &owner, "LIVE", json!({})).await;
    let (token, _) = api_token(&app, &owner, "CSV sync").await;

    let sample = script("workstreams.csv");
    let following = sync_command(
        &app,
        &token,
        &["--program", "LIVE", &sample, "--follow", "5"],
    )
    .spawn()
    .expect("python3 runs");
    subscribed(&app, 1).await;
    let checkout = &workstreams(&app, &token, "LIVE").await[0];
    assert_eq!(checkout["externalId"], "PAY-12");
    let id = checkout["id"].as_str().expect("an id");
    mutate(
        &app,
        &owner,
        "updateWorkstream",
        json!({ "id": id, "progress": 55 }),
        "workstream { id }",
    )
    .await;

    let output = finished(following).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let printed = lines(&output.stdout);
    assert_eq!(
        printed.last().map(String::as_str),
        Some(format!("EVENT UPDATED Workstream {id}").as_str()),
        "{printed:?}"
    );
    assert!(
        printed.contains(&"3 created, 0 updated".to_owned()),
        "{printed:?}"
    );
}

/// A proxy to `server` that passes every connection through, except that the
/// answer to its `lose`-th (from 1) is read from the server and dropped.
async fn lossy_proxy(server: std::net::SocketAddr, lose: usize) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = format!("http://{}", listener.local_addr().expect("its address"));
    tokio::spawn(async move {
        for count in 1.. {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let mut upstream = TcpStream::connect(server).await.expect("the server");
            if count != lose {
                tokio::spawn(async move { copy_bidirectional(&mut client, &mut upstream).await });
                continue;
            }
            let (mut from_client, _to_client) = client.into_split();
            let (mut from_server, mut to_server) = upstream.into_split();
            tokio::spawn(async move { tokio::io::copy(&mut from_client, &mut to_server).await });
            // The server has answered (and closed, as the script asked); the
            // client sees the connection end without an answer.
            let mut answer = Vec::new();
            from_server.read_to_end(&mut answer).await.ok();
        }
    });
    address
}

#[tokio::test]
async fn a_lost_answer_is_retried_under_the_same_key_and_replayed() {
    let app = spawn_app_with(&[]).await;
    let owner = app.member("Sync").await;
    program(&app, &owner, "LOSS", json!({})).await;
    let (token, _) = api_token(&app, &owner, "CSV sync").await;
    // The first connection looks the program up; the second is the first row's upsert.
    let through_proxy = lossy_proxy(app.server.addr, 2).await;

    let sample = script("workstreams.csv");
    let output = finished(
        sync_command(&app, &token, &["--program", "LOSS", &sample])
            .env("TRESTLE_URL", &through_proxy)
            .spawn()
            .expect("python3 runs"),
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let mut expected = CREATED.map(str::to_owned).to_vec();
    expected[0].push_str(" (replayed: the first attempt had already done it)");
    expected.push("3 created, 0 updated".to_owned());
    assert_eq!(lines(&output.stdout), expected, "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("retrying in 1s"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(workstreams(&app, &token, "LOSS").await.len(), 3);
}

#[tokio::test]
async fn refused_rows_and_tokens_are_reported_with_their_code_and_fail_the_run() {
    let app = spawn_app_with(&[]).await;
    let owner = app.member("Sync").await;
    program(&app, &owner, "BAD", json!({})).await;
    let (token, _) = api_token(&app, &owner, "CSV sync").await;
    let csv = std::env::temp_dir().join(format!("trestle-sync-{}.csv", uuid::Uuid::now_v7()));
    std::fs::write(
        &csv,
        "external_id,name,status,start_date,target_date,progress\n\
         OPS-1,Dates backwards,,2026-09-01,2026-03-01,\n\
         OPS-2,Runbooks,DONE,,,100\n",
    )
    .expect("write the CSV");

    let path = csv.to_str().expect("a UTF-8 path");
    let output = run_sync(&app, &token, &["--program", "BAD", path]).await;
    std::fs::remove_file(&csv).ok();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert_eq!(
        lines(&output.stdout),
        ["created OPS-2 Runbooks", "1 created, 0 updated, 1 failed"]
    );
    let errors = text(&output.stderr);
    assert!(errors.contains("OPS-1: BAD_USER_INPUT: "), "{errors}");

    let sample = script("workstreams.csv");
    let missing = run_sync(&app, &token, &["--program", "NOPE", &sample]).await;
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("no program NOPE"),
        "{}",
        text(&missing.stderr)
    );

    let refused = run_sync(&app, "trst_not_a_token", &["--program", "BAD", &sample]).await;
    assert_eq!(refused.status.code(), Some(2));
    let errors = text(&refused.stderr);
    assert!(
        errors.contains("program BAD: UNAUTHENTICATED: "),
        "{errors}"
    );
}

#[tokio::test]
async fn the_receiver_answers_400_unless_the_signature_is_good_and_fresh() {
    let secret = "whsec_receiver_test";
    let receiver = Receiver::start(free_port(), secret, 1).await;
    let body = r#"{"kind":"CREATED","entityType":"Workstream","entityId":"w-1"}"#;
    let now = chrono::Utc::now().timestamp();

    assert_eq!(receiver.post(None, body).await, 400);
    let forged = signature("whsec_someone_else", now, body);
    assert_eq!(receiver.post(Some(&forged), body).await, 400);
    let stale = signature(secret, now - 600, body);
    assert_eq!(receiver.post(Some(&stale), body).await, 400);
    let good = signature(secret, now, body);
    assert_eq!(
        receiver.post(Some(&good), "{}").await,
        400,
        "signed another body"
    );

    assert_eq!(receiver.post(Some(&good), body).await, 200);
    assert_eq!(
        receiver.printed().await,
        ["DELIVERY d-1 workstream.create CREATED Workstream w-1"]
    );
}
