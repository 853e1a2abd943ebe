//! Three replicas on one PostgreSQL database, set up as the README's
//! "Deploying on PostgreSQL with several replicas" says: `trestle migrate
//! up` first, then replicas that do not migrate (`TRESTLE_MIGRATE_ON_START
//! =false`), all with one JWT secret and the bootstrap admin, started
//! together. Mixed reads and writes go to all three, subscribers listen on
//! each, and one replica is killed with SIGKILL mid-load and started again:
//! every acknowledged write is there once, every subscriber on a surviving
//! replica sees every event once and in the same (commit) order, one that
//! reconnects gets no duplicate, and the clock's sweep writes each
//! notification once. One principal's rate budget, the failed sign-ins of
//! an address and automatic persisted queries hold across the three.
//!
//! Replicas share state only on PostgreSQL: on the SQLite run of the suite
//! these tests return at once (CI runs the suite on PostgreSQL too).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::fixtures::{Received, Socket};
use crate::helpers::{
    ADMIN_EMAIL, ServerProcess, TestDb, error_code, migrate_up, persisted, post, post_graphql,
    sha256,
};
use crate::webhooks::receiver;

fn on_postgres() -> bool {
    std::env::var("TRESTLE_TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty())
}

/// A fresh database, migrated by `trestle migrate up` as a deployment's
/// one-shot job does.
async fn migrated_database() -> TestDb {
    let db = TestDb::new().await;
    migrate_up(&db.url).await;
    db
}

/// Three replicas of `db`, started together, that leave the schema alone.
async fn three_replicas(db: &TestDb, env: &[(&str, &str)]) -> Vec<ServerProcess> {
    let mut env = env.to_vec();
    env.push(("TRESTLE_MIGRATE_ON_START", "false"));
    let (a, b, c) = tokio::join!(
        ServerProcess::start(db, &env, ""),
        ServerProcess::start(db, &env, ""),
        ServerProcess::start(db, &env, ""),
    );
    vec![a, b, c]
}

const CREATE_WORKSTREAM: &str = "mutation($input: CreateWorkstreamInput!) { createWorkstream(input: $input) { workstream { id name } } }";

/// Create workstream `name` in `program` with an `Idempotency-Key`, trying
/// the replicas in turn from `first` until one acknowledges it (a replica
/// that died holds the key until its claim lapses: 409 meanwhile; one that
/// died after its work committed leaves the key as run, answer not kept:
/// the workstream is then read by its name). The id.
async fn acknowledged_workstream(
    client: &reqwest::Client,
    addresses: &[String],
    token: &str,
    program: &str,
    name: &str,
    first: usize,
) -> String {
    let body = json!({
        "query": CREATE_WORKSTREAM,
        "variables": { "input": { "programId": program, "name": name } },
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    for attempt in first.. {
        assert!(Instant::now() < deadline, "{name} was never acknowledged");
        let address = &addresses[attempt % addresses.len()];
        match post(client, address, Some(token), body.clone(), Some(name)).await {
            Some((200, _, answer)) => {
                if let Some(id) = answer["data"]["createWorkstream"]["workstream"]["id"].as_str() {
                    return id.to_owned();
                }
            }
            Some((409, _, answer))
                if answer["errors"][0]["message"]
                    .as_str()
                    .is_some_and(|message| message.contains("was not kept")) =>
            {
                let query = "query($id: ID!) { program(id: $id) { workstreams(first: 100) { nodes { id name } } } }";
                let found = post_graphql(
                    client,
                    address,
                    Some(token),
                    query,
                    json!({ "id": program }),
                )
                .await
                .expect("a JSON answer");
                let nodes = found["data"]["program"]["workstreams"]["nodes"]
                    .as_array()
                    .cloned();
                let id = nodes
                    .unwrap_or_default()
                    .into_iter()
                    .find(|node| node["name"] == name)
                    .and_then(|node| node["id"].as_str().map(str::to_owned));
                return id.unwrap_or_else(|| panic!("{name} ran but is not there: {found}"));
            }
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    unreachable!()
}

/// The ids of `program`'s history entries, oldest first.
async fn history(
    client: &reqwest::Client,
    address: &str,
    token: &str,
    program: &str,
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let body = post_graphql(
            client,
            address,
            Some(token),
            "query($id: ID!, $after: String) { program(id: $id) { activity(first: 100, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } }",
            json!({ "id": program, "after": after }),
        )
        .await
        .expect("the history");
        let page = &body["data"]["program"]["activity"];
        let nodes = page["nodes"].as_array().unwrap_or_else(|| panic!("{body}"));
        ids.extend(nodes.iter().map(|n| n["id"].as_str().unwrap().to_owned()));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    // Newest first on the wire.
    ids.reverse();
    ids
}

/// A subscriber to several programs' events on one replica.
struct Subscriber {
    socket: Socket,
    /// Event ids per program, in the order received.
    seen: Vec<Vec<String>>,
}

impl Subscriber {
    async fn watching(address: &str, token: &str, programs: &[String]) -> Self {
        let mut socket = Socket::signed_in_at(address, token).await;
        for (i, program) in programs.iter().enumerate() {
            socket.watch(&i.to_string(), program).await;
        }
        Self {
            socket,
            seen: vec![Vec::new(); programs.len()],
        }
    }

    /// Read events until `want` returns true or the socket closes; whether it is still open.
    async fn read_until(&mut self, want: impl Fn(&[Vec<String>]) -> bool) -> bool {
        while !want(&self.seen) {
            match self.socket.receive().await {
                Received::Message(message) if message["type"] == "next" => {
                    let program: usize = message["id"].as_str().unwrap().parse().unwrap();
                    let event = &message["payload"]["data"]["programEvents"];
                    let id = event["id"].as_str().unwrap_or_else(|| panic!("{message}"));
                    self.seen[program].push(id.to_owned());
                }
                Received::Message(other) => panic!("unexpected message {other}"),
                Received::Closed(_) => return false,
            }
        }
        true
    }
}

impl Subscriber {
    /// Whether it hears an event of every program within `patience`.
    async fn hears_every_program(&mut self, patience: Duration) -> bool {
        let heard = |seen: &[Vec<String>]| seen.iter().all(|s| !s.is_empty());
        tokio::time::timeout(patience, self.read_until(heard))
            .await
            .unwrap_or(false)
    }

    /// What it saw of `program` that is not in `before`.
    fn since(&self, program: usize, before: &HashSet<String>) -> Vec<String> {
        self.seen[program]
            .iter()
            .filter(|id| !before.contains(*id))
            .cloned()
            .collect()
    }
}

/// Whether `part` is `whole` from some point to its end.
fn is_suffix(part: &[String], whole: &[String]) -> bool {
    part.len() <= whole.len() && whole[whole.len() - part.len()..] == *part
}

#[tokio::test]
async fn three_replicas_lose_nothing_when_one_is_killed_mid_load() {
    if !on_postgres() {
        return;
    }
    let db = migrated_database().await;
    let env = [
        ("TRESTLE_NOTIFICATION_SWEEP_SECS", "1"),
        // One delivery in flight per replica: a killed replica can have
        // sent at most one that it did not get to record.
        ("TRESTLE_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("TRESTLE_WEBHOOK_CONCURRENCY", "1"),
        ("TRESTLE_WEBHOOK_POLL_MS", "100"),
        // What the killed replica had claimed is sent again after its
        // lease: this timeout + 30 s.
        ("TRESTLE_WEBHOOK_TIMEOUT_SECS", "2"),
        // A killed replica's idempotency claims lapse after this + 5 s.
        ("TRESTLE_REQUEST_TIMEOUT_SECS", "3"),
    ];
    let mut replicas = three_replicas(&db, &env).await;
    let mut addresses: Vec<String> = replicas.iter().map(|r| r.address.clone()).collect();
    let client = reqwest::Client::new();
    let token = replicas[0].admin_token(&client).await;

    let mut programs = Vec::new();
    for key in ["ALPHA", "BRAVO"] {
        let body = post_graphql(
            &client,
            &addresses[1],
            Some(&token),
            "mutation($input: CreateProgramInput!) { createProgram(input: $input) { program { id } } }",
            json!({ "input": { "key": key, "name": key } }),
        )
        .await
        .unwrap();
        programs.push(
            body["data"]["createProgram"]["program"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // A webhook on the first program: its outbox is worked by all three.
    let mut hooks = receiver(0).await;
    let hooked = post_graphql(
        &client,
        &addresses[0],
        Some(&token),
        "mutation($p: ID!, $u: String!) { createWebhook(input: { programId: $p, url: $u, events: [\"workstream.create\"] }) { secret } }",
        json!({ "p": programs[0], "u": hooks.url }),
    )
    .await
    .unwrap();
    assert!(hooked["errors"].is_null(), "{hooked}");
    // A subscriber on each replica, live once it has heard a write made
    // after it subscribed: probe each program until every one has. Only
    // what comes after the history as it stands then is compared.
    let mut subscribers = Vec::new();
    for address in &addresses {
        subscribers.push(Subscriber::watching(address, &token, &programs).await);
    }
    let mut probes: Vec<(usize, String)> = Vec::new();
    let mut live = vec![false; subscribers.len()];
    for round in 0.. {
        assert!(round < 20, "the subscriptions did not go live");
        for (i, program) in programs.iter().enumerate() {
            let name = format!("probe-{round}-{i}");
            let id = acknowledged_workstream(&client, &addresses, &token, program, &name, i).await;
            probes.push((i, id));
        }
        for (subscriber, live) in subscribers.iter_mut().zip(&mut live) {
            *live = *live || subscriber.hears_every_program(Duration::from_secs(1)).await;
        }
        if live.iter().all(|live| *live) {
            break;
        }
    }
    let before: Vec<HashSet<String>> = futures::future::join_all(
        programs
            .iter()
            .map(|p| history(&client, &addresses[0], &token, p)),
    )
    .await
    .into_iter()
    .map(|ids| ids.into_iter().collect())
    .collect();

    // A decision due tomorrow: every replica sweeps each second.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();
    post_graphql(
        &client,
        &addresses[2],
        Some(&token),
        "mutation($input: CreateDecisionInput!) { createDecision(input: $input) { decision { id } } }",
        json!({ "input": { "programId": programs[0], "title": "Pick a region", "dueDate": tomorrow.to_string() } }),
    )
    .await
    .unwrap();

    // Writers and readers over all three replicas; replica 2 is killed mid-load.
    const WRITERS: usize = 4;
    const WRITES: usize = 24;
    let written = Arc::new(std::sync::Mutex::new(Vec::<(usize, String, String)>::new()));
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let (client, addresses, token, programs, written) = (
            client.clone(),
            addresses.clone(),
            token.clone(),
            programs.clone(),
            written.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for i in 0..WRITES {
                let program = (writer + i) % programs.len();
                let name = format!("w{writer}-{i}");
                let id = acknowledged_workstream(
                    &client,
                    &addresses,
                    &token,
                    &programs[program],
                    &name,
                    writer + i,
                )
                .await;
                written.lock().unwrap().push((program, name, id));
            }
        }));
    }
    let reader = {
        let (client, addresses, token, program) = (
            client.clone(),
            addresses.clone(),
            token.clone(),
            programs[0].clone(),
        );
        tokio::spawn(async move {
            let mut answered = 0;
            for i in 0..60 {
                let body = json!({ "query": "query($id: ID!) { program(id: $id) { workstreams(first: 20) { totalCount nodes { id name } } } }", "variables": { "id": program } });
                if let Some((200, _, answer)) =
                    post(&client, &addresses[i % 3], Some(&token), body, None).await
                {
                    assert!(answer["errors"].is_null(), "{answer}");
                    answered += 1;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            answered
        })
    };
    // Kill replica 2 once a third of the writes are acknowledged.
    while written.lock().unwrap().len() < WRITERS * WRITES / 3 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    replicas[2].signal("KILL");
    let killed = Instant::now();
    let _ = replicas[2].child.wait();
    let killed_at = written.lock().unwrap().len();
    // Its subscriber is cut off; it reconnects to a surviving replica.
    let mut lost = subscribers.pop().unwrap();
    assert!(!lost.read_until(|_| false).await, "the socket closes");
    let mut reconnected = Subscriber::watching(&addresses[0], &token, &programs).await;
    // Started again, on a new port, as an orchestrator would.
    replicas[2] = ServerProcess::start(
        &db,
        &[env.as_slice(), &[("TRESTLE_MIGRATE_ON_START", "false")]].concat(),
        "",
    )
    .await;
    addresses[2] = replicas[2].address.clone();
    let mut restarted = Subscriber::watching(&addresses[2], &token, &programs).await;
    // Writers that started before the restart keep the old address; new
    // tasks of the same writers would reach the restarted one.
    for task in tasks {
        task.await.unwrap();
    }
    let answered = reader.await.unwrap();
    assert!(
        answered >= 30,
        "reads answered while one replica was down: {answered}"
    );
    // A few more writes through the restarted replica.
    let mut after_restart = Vec::new();
    for i in 0..4 {
        let (program, name) = (&programs[i % 2], format!("after-{i}"));
        let restarted = &addresses[2..];
        after_restart
            .push(acknowledged_workstream(&client, restarted, &token, program, &name, 0).await);
    }

    // Every acknowledged write is there once.
    let written = written.lock().unwrap().clone();
    assert_eq!(written.len(), WRITERS * WRITES);
    eprintln!(
        "{} writes acknowledged, {killed_at} before the kill",
        written.len()
    );
    for (index, program) in programs.iter().enumerate() {
        let body = post_graphql(
            &client,
            &addresses[1],
            Some(&token),
            "query($id: ID!) { program(id: $id) { workstreams(first: 100) { totalCount nodes { id name } } } }",
            json!({ "id": program }),
        )
        .await
        .unwrap();
        let nodes = body["data"]["program"]["workstreams"]["nodes"]
            .as_array()
            .unwrap()
            .clone();
        let names: Vec<&str> = nodes.iter().map(|n| n["name"].as_str().unwrap()).collect();
        let unique: HashSet<&str> = names.iter().copied().collect();
        assert_eq!(unique.len(), names.len(), "a write landed twice: {names:?}");
        for (_, name, id) in written.iter().filter(|(p, _, _)| *p == index) {
            assert!(
                nodes
                    .iter()
                    .any(|n| n["id"] == id.as_str() && n["name"] == name.as_str()),
                "acknowledged {name} ({id}) is missing"
            );
        }
        // Probes, the writers' share and the four written after the restart.
        let expected = probes.iter().filter(|(p, _)| *p == index).count()
            + written.iter().filter(|(p, _, _)| *p == index).count()
            + 2;
        assert_eq!(names.len(), expected);
    }

    // Subscribers on the surviving replicas saw every event once, in the same order.
    let histories: Vec<Vec<String>> = futures::future::join_all(
        programs
            .iter()
            .map(|p| history(&client, &addresses[0], &token, p)),
    )
    .await
    .into_iter()
    .zip(&before)
    .map(|(ids, before)| ids.into_iter().filter(|id| !before.contains(id)).collect())
    .collect();
    let complete = |seen: &[Vec<String>]| {
        seen.iter()
            .zip(&histories)
            .zip(&before)
            .all(|((seen, history), before)| {
                seen.iter().filter(|id| !before.contains(*id)).count() >= history.len()
            })
    };
    for subscriber in &mut subscribers {
        assert!(
            subscriber.read_until(complete).await,
            "a surviving subscriber was cut off"
        );
    }
    for (program, history) in histories.iter().enumerate() {
        let expected: HashSet<&String> = history.iter().collect();
        let before = &before[program];
        for subscriber in &subscribers {
            let seen = subscriber.since(program, before);
            assert_eq!(seen.len(), history.len(), "every event once");
            assert_eq!(seen.iter().collect::<HashSet<_>>(), expected);
        }
        let reference = subscribers[0].since(program, before);
        assert_eq!(
            reference,
            subscribers[1].since(program, before),
            "one order"
        );
        // The reconnected and the restarted subscriber: the rest of that order, no duplicate.
        for late in [&mut reconnected, &mut restarted] {
            let last = reference.last().unwrap().clone();
            assert!(
                late.read_until(|seen| seen[program].last() == Some(&last))
                    .await
            );
            let seen = late.since(program, before);
            assert!(
                is_suffix(&seen, &reference),
                "a late subscriber's events: {seen:?}"
            );
        }
    }

    // Every workstream created in the first program was delivered; only a
    // delivery the killed replica had in flight may have come twice, with
    // the same delivery id and body.
    let created: HashSet<String> = written
        .iter()
        .filter(|(p, _, _)| *p == 0)
        .map(|(_, _, id)| id.clone())
        .chain(
            probes
                .iter()
                .filter(|(p, _)| *p == 0)
                .map(|(_, id)| id.clone()),
        )
        .chain(after_restart.iter().step_by(2).cloned())
        .collect();
    let mut delivered = std::collections::HashMap::new();
    let mut repeated = 0;
    while delivered.len() < created.len() {
        let hit = tokio::time::timeout(Duration::from_secs(60), hooks.hits.recv())
            .await
            .expect("every delivery within the killed replica's lease")
            .expect("the receiver runs");
        let entity = hit.json()["entityId"].as_str().unwrap().to_owned();
        let delivery = (hit.header("trestle-delivery").to_owned(), hit.body.clone());
        match delivered.get(&entity) {
            Some(first) => {
                assert_eq!(first, &delivery, "a repeat is the same delivery");
                repeated += 1;
            }
            None => {
                delivered.insert(entity, delivery);
            }
        }
    }
    assert_eq!(delivered.keys().cloned().collect::<HashSet<_>>(), created);
    // What the killed replica had claimed is sent again once its lease
    // (the webhook timeout + 30 s) is over: only then is every repeat in.
    tokio::time::sleep_until((killed + Duration::from_secs(2 + 30 + 2)).into()).await;
    while hooks.hits.try_recv().is_ok() {
        repeated += 1;
    }
    eprintln!("{} deliveries, {repeated} repeated", delivered.len());
    assert!(repeated <= 1, "{repeated} deliveries came twice");

    // Each replica swept every second; the decision's notice was written once.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let body = post_graphql(
        &client,
        &addresses[0],
        Some(&token),
        "{ viewer { notifications(first: 100) { nodes { kind } } } }",
        json!({}),
    )
    .await
    .unwrap();
    let due = body["data"]["viewer"]["notifications"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter(|n| n["kind"] == "DECISION_DUE")
        .count();
    assert_eq!(due, 1, "{body}");
}

#[tokio::test]
async fn one_budget_one_count_of_failed_sign_ins_and_one_set_of_persisted_queries_across_three_replicas()
 {
    if !on_postgres() {
        return;
    }
    let db = migrated_database().await;
    let replicas = three_replicas(
        &db,
        &[
            ("TRESTLE_RATE_LIMIT_PER_MINUTE", "60"),
            ("TRESTLE_SIGN_IN_MAX_FAILURES", "4"),
            // Sign-ins cost their fields only, so the address's rate budget
            // is not what refuses them below.
            ("TRESTLE_RATE_LIMIT_MUTATION_COST", "0"),
        ],
    )
    .await;
    let addresses: Vec<&str> = replicas.iter().map(|r| r.address.as_str()).collect();
    let client = reqwest::Client::new();
    let token = replicas[0].admin_token(&client).await;

    // One budget of 60 points a minute, spent by twelve clients at once,
    // round robin over the three. The first request, alone, tells the cost
    // of one (nothing was spent before it).
    let started = Instant::now();
    let viewer = json!({ "query": "{ viewer { id } }" });
    let (status, headers, _) = post(&client, addresses[0], Some(&token), viewer.clone(), None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let cost: f64 = headers["x-ratelimit-used"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let burst = (0..12).map(|client_index| {
        let (client, token, viewer) = (client.clone(), token.clone(), viewer.clone());
        let addresses: Vec<String> = addresses.iter().map(|a| a.to_string()).collect();
        async move {
            let mut admitted = 0;
            for i in client_index.. {
                let address = &addresses[i % 3];
                let (status, _, body) = post(&client, address, Some(&token), viewer.clone(), None)
                    .await
                    .unwrap();
                if status == 429 {
                    assert_eq!(error_code(&body), "RATE_LIMITED");
                    return admitted;
                }
                assert_eq!(status, 200, "{body}");
                admitted += 1;
                assert!(admitted < 200, "never refused");
            }
            unreachable!()
        }
    });
    let admitted: usize = futures::future::join_all(burst).await.into_iter().sum();
    let spent = (admitted + 1) as f64 * cost;
    // One point a second refills meanwhile.
    let refilled = started.elapsed().as_secs_f64() + 1.0;
    eprintln!(
        "{} requests of {cost} points admitted across three replicas; {spent} points in all",
        admitted + 1
    );
    assert!(
        spent <= 60.0 + refilled,
        "{spent} points admitted of a budget of 60"
    );
    assert!(spent >= 50.0, "{spent} points admitted of a budget of 60");

    // A document registered on one replica runs by its hash on the others
    // (anonymous: the user's budget is spent).
    let query = "{ __typename }";
    let by_hash = json!({ "extensions": persisted(&sha256(query)) });
    let with_document = json!({ "query": query, "extensions": persisted(&sha256(query)) });
    let (_, _, unknown) = post(&client, addresses[1], None, by_hash.clone(), None)
        .await
        .unwrap();
    assert_eq!(error_code(&unknown), "PERSISTED_QUERY_NOT_FOUND");
    let (_, _, registered) = post(&client, addresses[0], None, with_document, None)
        .await
        .unwrap();
    assert_eq!(registered["data"]["__typename"], "Query", "{registered}");
    for address in &addresses[1..] {
        let (_, _, answer) = post(&client, address, None, by_hash.clone(), None)
            .await
            .unwrap();
        assert_eq!(answer["data"]["__typename"], "Query", "{answer}");
    }

    // Four failed sign-ins from one address, one per replica in turn; the fifth is refused anywhere.
    let login = |password: &str| {
        json!({
            "query": "mutation($input: LoginInput!) { login(input: $input) { token } }",
            "variables": { "input": { "email": ADMIN_EMAIL, "password": password } },
        })
    };
    // The admin signed in from here before: failures count against the address only.
    for i in 0..4 {
        let (_, _, body) = post(&client, addresses[i % 3], None, login("wrong"), None)
            .await
            .unwrap();
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
    for address in &addresses {
        let (status, _, body) = post(&client, address, None, login("wrong"), None)
            .await
            .unwrap();
        assert_eq!((status, error_code(&body)), (429, "RATE_LIMITED"), "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("failed sign-ins"), "{body}");
    }
}

#[tokio::test]
async fn a_replica_that_does_not_migrate_refuses_a_database_that_needs_it() {
    let db = TestDb::new().await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_trestle"))
        .arg("serve")
        .env("TRESTLE_DATABASE_URL", &db.url)
        .env("TRESTLE_LISTEN", "127.0.0.1:0")
        .env("TRESTLE_MIGRATE_ON_START", "false")
        .env("TRESTLE_LOG", "error")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(30), output)
        .await
        .expect("the server refused to start instead of serving")
        .expect("run trestle serve");
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("trestle migrate up"),
        "the refusal says what to run: {said}"
    );
}
