//! Webhooks: a program's changes posted, signed, to a receiver on loopback;
//! retried when it fails, sent after a restart, sent once by two replicas
//! sharing the outbox, never for a refused or rolled-back change, never
//! across programs, never to an internal address unless allowed.

use std::net::SocketAddr;
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};
use std::time::{Duration, Instant};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc;

use crate::fixtures::{attempt, cast, dependency, mutate, program, set_member, workstream};
use crate::helpers::{
    ServerProcess, TestApp, TestDb, error_code, error_field, post_graphql, spawn_app_with,
};

/// Flags of a server whose webhooks may reach this machine, retrying fast.
const LOCAL: [&str; 5] = [
    "--webhook-allow-private",
    "--webhook-retry-base-ms",
    "100",
    "--webhook-poll-ms",
    "50",
];

/// How long a test waits for a delivery before failing.
const PATIENCE: Duration = Duration::from_secs(15);

/// One request the receiver got.
pub(crate) struct Hit {
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) at: Instant,
}

impl Hit {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON payload")
    }
}

/// A webhook receiver on loopback that answers 500 to its first `failures`
/// requests and 200 after.
pub(crate) struct Receiver {
    pub(crate) url: String,
    pub(crate) hits: mpsc::UnboundedReceiver<Hit>,
}

#[derive(Clone)]
struct Plan {
    failures: Arc<AtomicUsize>,
    sender: mpsc::UnboundedSender<Hit>,
}

async fn receive(State(plan): State<Plan>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let failing = plan
        .failures
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            left.checked_sub(1)
        })
        .is_ok();
    let _ = plan.sender.send(Hit {
        headers,
        body,
        at: Instant::now(),
    });
    if failing {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

pub(crate) async fn receiver(failures: usize) -> Receiver {
    let (sender, hits) = mpsc::unbounded_channel();
    let plan = Plan {
        failures: Arc::new(AtomicUsize::new(failures)),
        sender,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let app = Router::new().route("/hook", post(receive)).with_state(plan);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver {
        url: format!("http://{addr}/hook"),
        hits,
    }
}

impl Receiver {
    pub(crate) async fn next(&mut self) -> Hit {
        tokio::time::timeout(PATIENCE, self.hits.recv())
            .await
            .expect("a delivery in time")
            .expect("the receiver runs")
    }
}

/// Whether `header` is `t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`,
/// checked here independently of the server's code.
fn signed(secret: &str, header: &str, body: &[u8]) -> bool {
    let Some((t, v1)) = header
        .split_once(',')
        .and_then(|(t, v1)| Some((t.strip_prefix("t=")?, v1.strip_prefix("v1=")?)))
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let now = chrono::Utc::now().timestamp();
    t.parse::<i64>().is_ok_and(|t| (now - t).abs() < 300)
        && hex::encode(mac.finalize().into_bytes()) == v1
}

const WEBHOOK: &str = "webhook { id url events active version } secret";

async fn create_webhook(
    app: &TestApp,
    user: &crate::helpers::TestUser,
    program: &str,
    url: &str,
    events: Value,
) -> (String, String) {
    let created = mutate(
        app,
        user,
        "createWebhook",
        json!({ "programId": program, "url": url, "events": events, "description": "sync" }),
        WEBHOOK,
    )
    .await;
    (
        created["webhook"]["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

const DELIVERIES: &str = "query($p: ID!) { program(id: $p) { webhooks(first: 5) { nodes { id deliveries(first: 20) { totalCount nodes { id event eventId state attempt statusCode durationMs deliveredAt nextAttemptAt error payload } } } } } }";

#[tokio::test]
async fn changes_are_posted_signed_to_the_webhooks_that_want_them() {
    let app = spawn_app_with(&LOCAL).await;
    let c = cast(&app, "HOOK").await;
    let mut rx = receiver(0).await;
    let (hook, secret) =
        create_webhook(&app, &c.owner, &c.program, &rx.url, json!(["workstream.*"])).await;
    assert!(
        secret.starts_with("whsec_") && secret.len() == 70,
        "{secret}"
    );

    let ws = workstream(
        &app,
        &c.editor,
        &c.program,
        "Checkout",
        json!({ "externalId": "PAY-1" }),
    )
    .await;
    let hit = rx.next().await;
    assert_eq!(hit.header("trestle-event"), "workstream.create");
    assert_eq!(hit.header("content-type"), "application/json");
    assert!(
        signed(&secret, hit.header("trestle-signature"), &hit.body),
        "{}",
        hit.header("trestle-signature")
    );
    assert!(!signed(
        "whsec_wrong",
        hit.header("trestle-signature"),
        &hit.body
    ));
    let payload = hit.json();
    assert_eq!(payload["kind"], "CREATED", "{payload}");
    assert_eq!(payload["entityType"], "Workstream");
    assert_eq!(payload["entityId"], ws.as_str());
    assert_eq!(payload["programId"], c.program.as_str());
    assert_eq!(payload["actor"]["id"], c.editor.id.as_str());
    assert_eq!(payload["changes"]["externalId"]["after"], "PAY-1");
    assert!(
        payload["id"].is_string() && payload["at"].is_string(),
        "{payload}"
    );

    // A risk is not a workstream change: not delivered. The next workstream
    // change is, so nothing was sent in between.
    crate::fixtures::risk(&app, &c.editor, &c.program, "Vendor", json!({})).await;
    mutate(
        &app,
        &c.editor,
        "updateWorkstream",
        json!({ "id": ws, "progress": 50 }),
        "workstream { id }",
    )
    .await;
    let next = rx.next().await;
    assert_eq!(next.header("trestle-event"), "workstream.update");
    assert_eq!(
        next.json()["changes"]["progress"],
        json!({ "before": 0, "after": 50 })
    );

    // The record of each delivery, for the owner.
    let read = app
        .as_user(&c.owner, DELIVERIES, json!({ "p": c.program }))
        .await;
    let hooks = &read["data"]["program"]["webhooks"]["nodes"];
    assert_eq!(hooks[0]["id"], hook.as_str(), "{read}");
    let deliveries = &hooks[0]["deliveries"];
    assert_eq!(deliveries["totalCount"], 2, "{read}");
    let newest = &deliveries["nodes"][0];
    assert_eq!(newest["event"], "workstream.update");
    assert_eq!(newest["state"], "DELIVERED");
    assert_eq!(newest["attempt"], 1);
    assert_eq!(newest["statusCode"], 200);
    assert_eq!(newest["id"], next.header("trestle-delivery"));
    assert!(newest["deliveredAt"].is_string() && newest["nextAttemptAt"].is_null());

    // Latency from the mutation's answer (after its commit) to the receiver.
    let mut latencies = Vec::new();
    for round in 0..20 {
        let sent = Instant::now();
        workstream(
            &app,
            &c.editor,
            &c.program,
            &format!("Load {round}"),
            json!({}),
        )
        .await;
        let answered = Instant::now();
        let hit = rx.next().await;
        latencies.push(
            hit.at
                .saturating_duration_since(answered.min(hit.at))
                .max(Duration::ZERO),
        );
        assert!(hit.at >= sent);
    }
    latencies.sort();
    eprintln!(
        "webhook delivery after commit: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms (20 deliveries)",
        latencies[10].as_secs_f64() * 1000.0,
        latencies[18].as_secs_f64() * 1000.0,
        latencies[19].as_secs_f64() * 1000.0,
    );
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_backoff_until_it_answers() {
    let app = spawn_app_with(&LOCAL).await;
    let c = cast(&app, "RETRY").await;
    let mut rx = receiver(2).await;
    let (_, secret) =
        create_webhook(&app, &c.owner, &c.program, &rx.url, json!(["workstream.*"])).await;
    workstream(&app, &c.editor, &c.program, "Flaky", json!({})).await;
    let hits = [rx.next().await, rx.next().await, rx.next().await];
    let delivery = hits[0].header("trestle-delivery").to_owned();
    for hit in &hits {
        assert_eq!(
            hit.header("trestle-delivery"),
            delivery,
            "one delivery, retried"
        );
        assert!(signed(&secret, hit.header("trestle-signature"), &hit.body));
    }
    // 100 ms, then 300 ms: each wait longer than the one before.
    let first_wait = hits[1].at - hits[0].at;
    let second_wait = hits[2].at - hits[1].at;
    assert!(first_wait >= Duration::from_millis(90), "{first_wait:?}");
    assert!(second_wait >= Duration::from_millis(250), "{second_wait:?}");

    let mut record = Value::Null;
    for _ in 0..100 {
        let read = app
            .as_user(&c.owner, DELIVERIES, json!({ "p": c.program }))
            .await;
        record = read["data"]["program"]["webhooks"]["nodes"][0]["deliveries"]["nodes"][0].clone();
        if record["state"] == "DELIVERED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(record["attempt"], 3, "{record}");
    assert_eq!(record["state"], "DELIVERED");
    assert_eq!(record["statusCode"], 200);
    assert!(record["error"].is_null(), "{record}");

    // Redelivery sends the same change again as a new delivery.
    let again = mutate(
        &app,
        &c.owner,
        "redeliverWebhook",
        json!({ "deliveryId": record["id"] }),
        "delivery { id state eventId }",
    )
    .await;
    assert_eq!(again["delivery"]["state"], "PENDING");
    assert_eq!(again["delivery"]["eventId"], record["eventId"]);
    let redelivered = rx.next().await;
    assert_eq!(
        redelivered.header("trestle-delivery"),
        again["delivery"]["id"]
    );
    assert_eq!(redelivered.body, hits[0].body, "the same payload");
    let viewer = attempt(
        &app,
        &c.viewer,
        "redeliverWebhook",
        json!({ "deliveryId": record["id"] }),
        "delivery { id }",
    )
    .await;
    assert_eq!(error_code(&viewer), "FORBIDDEN", "{viewer}");
}

#[tokio::test]
async fn refused_and_rolled_back_changes_are_never_delivered() {
    let app = spawn_app_with(&LOCAL).await;
    let c = cast(&app, "NODEL").await;
    let mut rx = receiver(0).await;
    create_webhook(&app, &c.owner, &c.program, &rx.url, json!(["*"])).await;
    // Everything: the webhook's own creation first.
    assert_eq!(rx.next().await.header("trestle-event"), "webhook.create");
    let ws = workstream(
        &app,
        &c.editor,
        &c.program,
        "Kept",
        json!({ "externalId": "K-1" }),
    )
    .await;
    assert_eq!(rx.next().await.header("trestle-event"), "workstream.create");

    // A refused mutation, a stale version and a unique clash inside the
    // transaction: none commits, none is delivered.
    let refused = attempt(
        &app,
        &c.viewer,
        "createWorkstream",
        json!({ "programId": c.program, "name": "No" }),
        "workstream { id }",
    )
    .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    let stale = attempt(
        &app,
        &c.editor,
        "updateWorkstream",
        json!({ "id": ws, "name": "Stale", "expectedVersion": 7 }),
        "workstream { id }",
    )
    .await;
    assert_eq!(error_code(&stale), "CONFLICT");
    let clash = attempt(
        &app,
        &c.editor,
        "createWorkstream",
        json!({ "programId": c.program, "name": "Dup", "externalId": "K-1" }),
        "workstream { id }",
    )
    .await;
    assert_eq!(error_field(&clash), "input.externalId");
    let cycle_a = workstream(&app, &c.editor, &c.program, "A", json!({})).await;
    assert_eq!(rx.next().await.json()["entityId"], cycle_a.as_str());
    dependency(&app, &c.editor, &ws, &cycle_a, json!({})).await;
    assert_eq!(rx.next().await.header("trestle-event"), "dependency.create");
    let cycle = attempt(
        &app,
        &c.editor,
        "createDependency",
        json!({ "upstreamId": cycle_a, "downstreamId": ws }),
        "dependency { id }",
    )
    .await;
    assert_eq!(error_code(&cycle), "DEPENDENCY_CYCLE", "{cycle}");

    // The next change that commits is the next one delivered.
    mutate(
        &app,
        &c.editor,
        "updateWorkstream",
        json!({ "id": ws, "progress": 5 }),
        "workstream { id }",
    )
    .await;
    let next = rx.next().await;
    assert_eq!(next.header("trestle-event"), "workstream.update");
    assert_eq!(next.json()["changes"]["progress"]["after"], 5);
}

#[tokio::test]
async fn webhooks_are_the_owners_and_never_carry_another_programs_changes() {
    let app = spawn_app_with(&LOCAL).await;
    let c = cast(&app, "MINE").await;
    let mut rx = receiver(0).await;
    let (hook, _) = create_webhook(
        &app,
        &c.owner,
        &c.program,
        &rx.url,
        json!(["workstream.*", "dependency.*"]),
    )
    .await;

    // Editors and viewers neither manage nor read them.
    for user in [&c.editor, &c.viewer] {
        let refused = attempt(
            &app,
            user,
            "createWebhook",
            json!({ "programId": c.program, "url": rx.url, "events": ["*"] }),
            "secret",
        )
        .await;
        assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
        let read = app
            .as_user(
                user,
                "query($p: ID!) { program(id: $p) { webhooks { totalCount } } }",
                json!({ "p": c.program }),
            )
            .await;
        assert_eq!(error_code(&read), "FORBIDDEN", "{read}");
        let changed = attempt(
            &app,
            user,
            "updateWebhook",
            json!({ "id": hook, "active": false }),
            "webhook { id }",
        )
        .await;
        assert_eq!(error_code(&changed), "FORBIDDEN", "{changed}");
    }
    let outsider = attempt(
        &app,
        &c.outsider,
        "deleteWebhook",
        json!({ "id": hook }),
        "deletedWebhookId",
    )
    .await;
    assert_eq!(error_code(&outsider), "NOT_FOUND", "{outsider}");

    // Another program's changes never reach it; a dependency across reaches
    // it only while its creator can see the other program too.
    let other_owner = app.member("Olga").await;
    let other = program(&app, &other_owner, "THEIRS", json!({})).await;
    let theirs = workstream(&app, &other_owner, &other, "Theirs", json!({})).await;
    set_member(&app, &other_owner, &other, &c.editor, "EDITOR").await;
    let mine = workstream(&app, &c.editor, &c.program, "Mine", json!({})).await;
    assert_eq!(rx.next().await.json()["entityId"], mine.as_str());
    let across = dependency(&app, &c.editor, &theirs, &mine, json!({})).await;
    set_member(&app, &other_owner, &other, &c.owner, "VIEWER").await;
    let seen = dependency(
        &app,
        &c.editor,
        &theirs,
        &workstream(&app, &c.editor, &c.program, "Mine 2", json!({})).await,
        json!({}),
    )
    .await;
    let hit = rx.next().await;
    assert_eq!(hit.header("trestle-event"), "workstream.create", "Mine 2");
    let hit = rx.next().await;
    assert_eq!(
        hit.json()["entityId"],
        seen.as_str(),
        "not {across}, made while the owner could not see THEIRS"
    );

    // A co-owner who cannot see THEIRS reads none of what lies between.
    let co_owner = app.member("Cora").await;
    set_member(&app, &c.owner, &c.program, &co_owner, "OWNER").await;
    let read = |user| {
        let app = &app;
        let program = c.program.clone();
        async move {
            app.as_user(user, DELIVERIES, json!({ "p": program }))
                .await
                .to_string()
        }
    };
    assert!(read(&c.owner).await.contains(&seen), "the creator sees it");
    assert!(
        !read(&co_owner).await.contains(&seen),
        "the co-owner does not"
    );

    // Webhooks and deliveries are nodes, refetched by those who read them.
    let deliveries = app
        .as_user(&c.owner, DELIVERIES, json!({ "p": c.program }))
        .await;
    let deliveries = &deliveries["data"]["program"]["webhooks"]["nodes"][0]["deliveries"]["nodes"];
    let delivery_of = |entity: &str| {
        deliveries
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["payload"]["entityId"] == entity)
            .map(|d| d["id"].clone())
            .unwrap_or_else(|| panic!("no delivery of {entity}: {deliveries}"))
    };
    let ids = json!({ "ids": [hook, delivery_of(&mine), delivery_of(&seen)] });
    let refetch = |user| {
        let (app, ids) = (&app, ids.clone());
        async move {
            let body = app
                .as_user(
                    user,
                    "query($ids: [ID!]!) { nodes(ids: $ids) { __typename } }",
                    ids,
                )
                .await;
            assert!(body["errors"].is_null(), "{body}");
            body["data"]["nodes"].clone()
        }
    };
    let (hook_node, delivery_node) = (
        json!({ "__typename": "Webhook" }),
        json!({ "__typename": "WebhookDelivery" }),
    );
    assert_eq!(
        refetch(&c.owner).await,
        json!([hook_node, delivery_node, delivery_node])
    );
    assert_eq!(
        refetch(&co_owner).await,
        json!([hook_node, delivery_node, null]),
        "the co-owner reads no delivery of what lies between"
    );
    for user in [&c.editor, &c.viewer, &c.outsider] {
        assert_eq!(
            refetch(user).await,
            json!([null, null, null]),
            "{}",
            user.id
        );
    }

    // Paused, it delivers nothing; resumed, it does again.
    mutate(
        &app,
        &c.owner,
        "updateWebhook",
        json!({ "id": hook, "active": false }),
        "webhook { active }",
    )
    .await;
    workstream(&app, &c.editor, &c.program, "While paused", json!({})).await;
    mutate(
        &app,
        &c.owner,
        "updateWebhook",
        json!({ "id": hook, "active": true, "events": ["workstream.update"] }),
        "webhook { active }",
    )
    .await;
    mutate(
        &app,
        &c.editor,
        "updateWorkstream",
        json!({ "id": mine, "progress": 9 }),
        "workstream { id }",
    )
    .await;
    assert_eq!(rx.next().await.json()["entityId"], mine.as_str());
    let deleted = mutate(
        &app,
        &c.owner,
        "deleteWebhook",
        json!({ "id": hook }),
        "deletedWebhookId",
    )
    .await;
    assert_eq!(deleted["deletedWebhookId"], hook.as_str());
}

#[tokio::test]
async fn internal_targets_and_unknown_events_are_refused() {
    let app = spawn_app_with(&[]).await;
    let c = cast(&app, "SSRF").await;
    for url in [
        "http://127.0.0.1:9000/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://10.0.0.8/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
        "ftp://files.example.com/hook",
        "file:///etc/passwd",
        "not a url",
    ] {
        let refused = attempt(
            &app,
            &c.owner,
            "createWebhook",
            json!({ "programId": c.program, "url": url, "events": ["*"] }),
            "secret",
        )
        .await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{url}: {refused}");
        assert_eq!(error_field(&refused), "input.url", "{url}: {refused}");
    }
    let events = attempt(&app, &c.owner, "createWebhook", json!({ "programId": c.program, "url": "https://hooks.example.com/t", "events": ["workstream.created", "risk.*", "nothing.*"] }), "secret").await;
    let fields: Vec<&str> = events["errors"][0]["extensions"]["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{events}"))
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["input.events.0", "input.events.2"], "{events}");
    let none = attempt(
        &app,
        &c.owner,
        "createWebhook",
        json!({ "programId": c.program, "url": "https://hooks.example.com/t", "events": [] }),
        "secret",
    )
    .await;
    assert_eq!(error_field(&none), "input.events", "{none}");
    let public = mutate(&app, &c.owner, "createWebhook", json!({ "programId": c.program, "url": "https://hooks.example.com/t", "events": ["risk.*"] }), WEBHOOK).await;
    assert_eq!(public["webhook"]["events"], json!(["risk.*"]));
    // Its URL stays out of the history every member reads.
    let history = app
        .as_user(&c.viewer, "query($p: ID!) { program(id: $p) { activity(first: 5) { nodes { action changes } } } }", json!({ "p": c.program }))
        .await;
    let text = history.to_string();
    assert!(text.contains("webhook.create"), "{text}");
    assert!(!text.contains("hooks.example.com"), "{text}");
}

/// Sign in as the bootstrap admin of `server` and run `query`.
async fn as_admin(
    server: &ServerProcess,
    client: &reqwest::Client,
    token: &str,
    query: &str,
    variables: Value,
) -> Value {
    post_graphql(client, &server.address, Some(token), query, variables)
        .await
        .expect("a JSON answer")
}

const CREATE_PROGRAM: &str =
    "mutation($k: String!) { createProgram(input: { key: $k, name: $k }) { program { id } } }";
const CREATE_HOOK: &str = "mutation($p: ID!, $u: String!) { createWebhook(input: { programId: $p, url: $u, events: [\"workstream.*\"] }) { secret } }";
const CREATE_WS: &str = "mutation($p: ID!, $n: String!) { createWorkstream(input: { programId: $p, name: $n }) { workstream { id } } }";

#[tokio::test]
async fn deliveries_survive_a_restart_and_two_replicas_send_each_once() {
    let db = TestDb::new().await;
    let env = [
        ("TRESTLE_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("TRESTLE_WEBHOOK_RETRY_BASE_MS", "1500"),
        ("TRESTLE_WEBHOOK_POLL_MS", "100"),
    ];
    let client = reqwest::Client::new();
    let first = ServerProcess::start(&db, &env, "").await;
    let token = first.admin_token(&client).await;
    let created = as_admin(
        &first,
        &client,
        &token,
        CREATE_PROGRAM,
        json!({ "k": "RESTART" }),
    )
    .await;
    let program = created["data"]["createProgram"]["program"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut rx = receiver(1).await;
    as_admin(
        &first,
        &client,
        &token,
        CREATE_HOOK,
        json!({ "p": program, "u": rx.url }),
    )
    .await;
    as_admin(
        &first,
        &client,
        &token,
        CREATE_WS,
        json!({ "p": program, "n": "Before the restart" }),
    )
    .await;
    // The first attempt fails; the server dies before the retry is due.
    let failed = rx.next().await;
    // Once the failure is recorded (the retry is due 1.5 s later), the server dies.
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.signal("KILL");
    let second = ServerProcess::start(&db, &env, "").await;
    let retried = rx.next().await;
    assert_eq!(
        retried.header("trestle-delivery"),
        failed.header("trestle-delivery")
    );
    assert_eq!(retried.body, failed.body);

    // A second replica on the same outbox: every delivery arrives once.
    let third = ServerProcess::start(&db, &env, "").await;
    let token = second.admin_token(&client).await;
    let replicas = [&second, &third];
    for round in 0..20 {
        let server = replicas[round % 2];
        as_admin(
            server,
            &client,
            &token,
            CREATE_WS,
            json!({ "p": program, "n": format!("Round {round}") }),
        )
        .await;
    }
    let mut seen = std::collections::HashSet::new();
    for _ in 0..20 {
        let hit = rx.next().await;
        assert!(
            seen.insert(hit.header("trestle-delivery").to_owned()),
            "delivered twice"
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(rx.hits.try_recv().is_err(), "nothing more");
    second.signal("KILL");
    third.signal("KILL");
}

async fn hang() -> StatusCode {
    tokio::time::sleep(Duration::from_secs(25)).await;
    StatusCode::OK
}

#[tokio::test]
async fn a_receiver_that_hangs_does_not_hold_up_other_programs_deliveries() {
    let mut flags = LOCAL.to_vec();
    flags.extend(["--webhook-concurrency", "4", "--webhook-timeout-secs", "30"]);
    let app = spawn_app_with(&flags).await;
    let slow = cast(&app, "SLOW").await;
    let fast = cast(&app, "FAST").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hanging = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(
        async move { axum::serve(listener, Router::new().route("/hook", post(hang))).await },
    );
    create_webhook(
        &app,
        &slow.owner,
        &slow.program,
        &hanging,
        json!(["workstream.*"]),
    )
    .await;
    let mut rx = receiver(0).await;
    create_webhook(
        &app,
        &fast.owner,
        &fast.program,
        &rx.url,
        json!(["workstream.*"]),
    )
    .await;
    for n in 0..6 {
        workstream(
            &app,
            &slow.editor,
            &slow.program,
            &format!("Stuck {n}"),
            json!({}),
        )
        .await;
    }
    let started = Instant::now();
    let ws = workstream(&app, &fast.editor, &fast.program, "Moving", json!({})).await;
    let hit = rx.next().await;
    assert_eq!(hit.json()["entityId"], ws.as_str());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "waited {:?} behind another program's receiver",
        started.elapsed()
    );
}
