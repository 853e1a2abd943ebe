//! Live change events over `/graphql/ws` (`graphql-transport-ws`): who may
//! subscribe, what arrives, what never does, and across replicas.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::{Message, protocol::frame::coding::CloseCode};

use crate::fixtures::tokens::{hs256, hs256_header, now, trestle_claims};
use crate::fixtures::{
    PATIENCE, Received, Socket, api_token, attempt, cast, program, revoke_api_token, set_member,
    subscribed, workstream,
};
use crate::helpers::{JWT_SECRET, TestDb, error_code, spawn_app, spawn_app_on, spawn_app_with};

#[tokio::test]
async fn a_member_sees_a_workstream_another_member_creates() {
    let app = spawn_app().await;
    let cast = cast(&app, "LIVE").await;
    let mut socket = Socket::signed_in(&app, &cast.viewer).await;
    socket.watch("events", &cast.program).await;
    subscribed(&app, 1).await;

    let started = Instant::now();
    let workstream = workstream(&app, &cast.editor, &cast.program, "Payments", json!({})).await;
    let answered = started.elapsed();
    let event = socket.next_event("events").await;
    let latency = started.elapsed();

    assert_eq!(event["kind"], "CREATED");
    assert_eq!(event["action"], "workstream.create");
    assert_eq!(event["entityType"], "Workstream");
    assert_eq!(event["entityId"], workstream.as_str());
    assert_eq!(event["actor"]["id"], cast.editor.id.as_str());
    assert_eq!(event["actor"]["name"], "Editor");
    assert!(
        chrono::DateTime::parse_from_rfc3339(event["at"].as_str().unwrap()).is_ok(),
        "{event}"
    );
    // The same entry is in the program's history.
    let body = app
        .as_user(
            &cast.viewer,
            "query($id: ID!) { program(id: $id) { activity(first: 1) { nodes { id } } } }",
            json!({ "id": cast.program }),
        )
        .await;
    assert_eq!(
        body["data"]["program"]["activity"]["nodes"][0]["id"], event["id"],
        "{body}"
    );
    eprintln!(
        "event {latency:?} after the mutation was sent, which was answered after {answered:?}"
    );
}

#[tokio::test]
async fn every_kind_of_change_arrives_with_its_kind() {
    let app = spawn_app().await;
    let cast = cast(&app, "KINDS").await;
    let newcomer = app.member("Newcomer").await;
    // A lower-case `authorization` key is accepted too.
    let mut socket = Socket::connect(
        &app,
        json!({ "authorization": format!("Bearer {}", cast.viewer.token) }),
    )
    .await;
    socket.watch("events", &cast.program).await;
    subscribed(&app, 1).await;

    set_member(&app, &cast.owner, &cast.program, &newcomer, "VIEWER").await;
    let event = socket.next_event("events").await;
    assert_eq!(
        (&event["kind"], &event["action"], &event["entityType"]),
        (
            &json!("CREATED"),
            &json!("member.set"),
            &json!("ProgramMember")
        )
    );
    set_member(&app, &cast.owner, &cast.program, &newcomer, "EDITOR").await;
    assert_eq!(socket.next_event("events").await["kind"], "UPDATED");

    let body = app
        .as_user(
            &cast.editor,
            "mutation($input: PostStatusUpdateInput!) { postStatusUpdate(input: $input) { statusUpdate { id } } }",
            json!({ "input": { "programId": cast.program, "health": "AT_RISK", "summary": "Vendor late" } }),
        )
        .await;
    let update = body["data"]["postStatusUpdate"]["statusUpdate"]["id"].clone();
    assert!(update.is_string(), "{body}");
    let event = socket.next_event("events").await;
    assert_eq!(
        (&event["kind"], &event["entityType"], &event["entityId"]),
        (&json!("POSTED"), &json!("StatusUpdate"), &update)
    );
    // The program's health the update set is its own change.
    let event = socket.next_event("events").await;
    assert_eq!(
        (&event["kind"], &event["entityType"], &event["entityId"]),
        (&json!("UPDATED"), &json!("Program"), &json!(cast.program))
    );

    let body = app
        .as_user(
            &cast.owner,
            "mutation($input: ArchiveProgramInput!) { archiveProgram(input: $input) { program { id } } }",
            json!({ "input": { "id": cast.program } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let event = socket.next_event("events").await;
    assert_eq!(
        (&event["kind"], &event["entityType"], &event["entityId"]),
        (&json!("ARCHIVED"), &json!("Program"), &json!(cast.program))
    );
}

#[tokio::test]
async fn a_subscription_outlives_the_request_timeout() {
    let app = spawn_app_with(&["--request-timeout-secs", "1"]).await;
    let cast = cast(&app, "LONG").await;
    let mut socket = Socket::signed_in(&app, &cast.viewer).await;
    socket.watch("events", &cast.program).await;
    subscribed(&app, 1).await;

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let workstream = workstream(&app, &cast.editor, &cast.program, "Later", json!({})).await;
    assert_eq!(
        socket.next_event("events").await["entityId"],
        workstream.as_str()
    );
}

#[tokio::test]
async fn a_non_member_gets_not_found_as_for_a_missing_program() {
    let app = spawn_app().await;
    let cast = cast(&app, "HIDDEN").await;
    let mut socket = Socket::signed_in(&app, &cast.outsider).await;

    socket.watch("hidden", &cast.program).await;
    let hidden = socket.next_payload("hidden").await;
    socket.expect_complete("hidden").await;
    socket
        .watch("missing", &uuid::Uuid::now_v7().to_string())
        .await;
    let missing = socket.next_payload("missing").await;
    socket.expect_complete("missing").await;

    assert_eq!(error_code(&hidden), "NOT_FOUND", "{hidden}");
    assert_eq!(
        hidden["errors"][0]["message"],
        missing["errors"][0]["message"]
    );
    assert_eq!(error_code(&missing), "NOT_FOUND");
    assert!(hidden["data"].is_null(), "{hidden}");
}

#[tokio::test]
async fn an_admin_may_watch_any_program() {
    let app = spawn_app().await;
    let cast = cast(&app, "ADMINS").await;
    let mut socket = Socket::signed_in(&app, &cast.admin).await;
    socket.watch("events", &cast.program).await;
    subscribed(&app, 1).await;

    let workstream = workstream(&app, &cast.owner, &cast.program, "Audit", json!({})).await;
    assert_eq!(
        socket.next_event("events").await["entityId"],
        workstream.as_str()
    );
}

#[tokio::test]
async fn a_connection_init_without_a_token_is_closed_as_unauthorized() {
    let app = spawn_app().await;
    for payload in [
        json!({}),
        json!({ "Authorization": null }),
        json!({ "authorization": null, "other": 1 }),
    ] {
        let mut socket = Socket::open(&app).await;
        socket.init(payload.clone()).await;
        match socket.receive().await {
            Received::Closed(Some(frame)) => {
                assert_eq!(frame.code, CloseCode::from(4401), "{payload}");
            }
            other => panic!("expected a close with 4401 for {payload}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_bad_token_closes_the_connection_as_forbidden() {
    let app = spawn_app().await;
    for payload in [
        json!({ "Authorization": "Bearer not-a-token" }),
        json!({ "Authorization": "Basic dXNlcjpwYXNz" }),
        json!({ "authorization": 42 }),
    ] {
        let mut socket = Socket::open(&app).await;
        socket.init(payload.clone()).await;
        match socket.receive().await {
            Received::Closed(Some(frame)) => {
                assert_eq!(frame.code, CloseCode::from(4403), "{payload}");
            }
            other => panic!("expected a close with 4403 for {payload}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_init_timeout() {
    let app = spawn_app().await;
    let mut socket = Socket::open(&app).await;
    match socket.receive().await {
        Received::Closed(Some(frame)) => assert_eq!(frame.code, CloseCode::from(4408)),
        other => panic!("expected a close with 4408, got {other:?}"),
    }
}

#[tokio::test]
async fn events_of_another_program_are_not_delivered() {
    let app = spawn_app().await;
    let cast = cast(&app, "MINE").await;
    let other = program(&app, &cast.owner, "OTHER", json!({})).await;
    let mut socket = Socket::signed_in(&app, &cast.owner).await;
    socket.watch("events", &cast.program).await;
    subscribed(&app, 1).await;

    workstream(&app, &cast.owner, &other, "Elsewhere", json!({})).await;
    // Events arrive in commit order: the first one must be this program's.
    let mine = workstream(&app, &cast.owner, &cast.program, "Here", json!({})).await;
    let event = socket.next_event("events").await;
    assert_eq!(event["entityId"], mine.as_str(), "{event}");
}

#[tokio::test]
async fn a_refused_mutation_delivers_nothing() {
    let app = spawn_app().await;
    let cast = cast(&app, "REFUSE").await;
    let mut socket = Socket::signed_in(&app, &cast.owner).await;
    socket.watch("events", &cast.program).await;
    subscribed(&app, 1).await;

    // A VIEWER may not create; a blank name is invalid; a stale version conflicts.
    let create = |name: &str| json!({ "programId": cast.program, "name": name });
    let selection = "workstream { id }";
    let refused = attempt(
        &app,
        &cast.viewer,
        "createWorkstream",
        create("Nope"),
        selection,
    )
    .await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    let invalid = attempt(
        &app,
        &cast.editor,
        "createWorkstream",
        create("   "),
        selection,
    )
    .await;
    assert_eq!(error_code(&invalid), "BAD_USER_INPUT", "{invalid}");
    let stale = app
        .as_user(
            &cast.owner,
            "mutation($input: UpdateProgramInput!) { updateProgram(input: $input) { program { id } } }",
            json!({ "input": { "id": cast.program, "name": "Renamed", "expectedVersion": 99 } }),
        )
        .await;
    assert_eq!(error_code(&stale), "CONFLICT", "{stale}");

    let accepted = workstream(&app, &cast.editor, &cast.program, "Yes", json!({})).await;
    let event = socket.next_event("events").await;
    assert_eq!(event["entityId"], accepted.as_str(), "{event}");
    assert_eq!(event["kind"], "CREATED");
}

#[tokio::test]
async fn rolled_back_work_is_never_announced() {
    use trestle_api::domain::audit;
    let app = spawn_app().await;
    let cast = cast(&app, "ROLLBACK").await;
    let mut socket = Socket::signed_in(&app, &cast.owner).await;
    socket.watch("events", &cast.program).await;
    subscribed(&app, 1).await;

    // A history entry written and then rolled back, as a failing mutation would.
    let domain = &app.server.domain;
    let txn = domain.begin_write().await.expect("a transaction");
    let now = chrono::Utc::now();
    let never_stored = entity::workstream::Model {
        id: uuid::Uuid::now_v7(),
        program_id: cast.program.parse().unwrap(),
        name: "Rolled back".into(),
        description: None,
        team_id: None,
        lead_id: None,
        status: entity::enums::WorkstreamStatus::NotStarted,
        health: entity::enums::Health::OnTrack,
        start_date: None,
        target_date: None,
        progress: 0,
        version: 1,
        created_at: now,
        updated_at: now,
        started_on: None,
        finished_on: None,
        external_id: None,
        links: serde_json::json!([]),
        priority: entity::enums::Priority::P2,
        effort_days: None,
    };
    audit::record(
        &txn,
        Some(cast.owner.id.parse().unwrap()),
        audit::Change::created(&never_stored),
    )
    .await
    .expect("the entry is written");
    txn.rollback().await.expect("the rollback");

    let accepted = workstream(&app, &cast.editor, &cast.program, "Committed", json!({})).await;
    let event = socket.next_event("events").await;
    assert_eq!(event["entityId"], accepted.as_str(), "{event}");
}

#[tokio::test]
async fn a_removed_member_stops_receiving_events() {
    let app = spawn_app().await;
    let cast = cast(&app, "LEAVE").await;
    let mut socket = Socket::signed_in(&app, &cast.viewer).await;
    socket.watch("events", &cast.program).await;
    subscribed(&app, 1).await;

    let body = app
        .as_user(
            &cast.owner,
            "mutation($input: RemoveProgramMemberInput!) { removeProgramMember(input: $input) { removedUserId } }",
            json!({ "input": { "programId": cast.program, "userId": cast.viewer.id } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");

    socket.expect_complete("events").await;
}

#[tokio::test]
async fn only_subscriptions_run_over_the_socket() {
    let app = spawn_app().await;
    let cast = cast(&app, "ONLYSUB").await;
    let mut socket = Socket::signed_in(&app, &cast.owner).await;

    socket
        .subscribe(
            "mutation",
            "mutation($input: CreateWorkstreamInput!) { createWorkstream(input: $input) { workstream { id } } }",
            json!({ "input": { "programId": cast.program, "name": "Sneaky" } }),
        )
        .await;
    let payload = socket.next_payload("mutation").await;
    assert_eq!(error_code(&payload), "BAD_USER_INPUT", "{payload}");
    socket.expect_complete("mutation").await;
    assert_eq!(app.count_rows("workstreams").await, 0);
}

#[tokio::test]
async fn a_connection_runs_a_bounded_number_of_operations() {
    let app = spawn_app().await;
    let cast = cast(&app, "BOUNDED").await;
    let mut socket = Socket::signed_in(&app, &cast.owner).await;
    for n in 0..64 {
        socket.watch(&format!("op{n}"), &cast.program).await;
    }
    subscribed(&app, 64).await;

    socket.watch("one-too-many", &cast.program).await;
    let payload = socket.next_payload("one-too-many").await;
    assert_eq!(error_code(&payload), "BAD_USER_INPUT", "{payload}");
    socket.expect_complete("one-too-many").await;

    // Ending one makes room for another.
    socket
        .send(json!({ "type": "complete", "id": "op0" }))
        .await;
    let deadline = Instant::now() + PATIENCE;
    while app.server.domain.events.subscriber_count() > 63 {
        assert!(Instant::now() < deadline, "op0 did not end in time");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    socket.watch("again", &cast.program).await;
    subscribed(&app, 64).await;
    let workstream = workstream(&app, &cast.owner, &cast.program, "Room", json!({})).await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        assert!(Instant::now() < deadline, "`again` delivered nothing");
        match socket.receive().await {
            Received::Message(message) if message["id"] == "again" => {
                assert_eq!(
                    message["payload"]["data"]["programEvents"]["entityId"],
                    workstream.as_str(),
                    "{message}"
                );
                break;
            }
            // The other operations' events, and the `complete` of `op0`.
            Received::Message(message) => assert!(
                message["type"] == "next" || message["id"] == "op0",
                "{message}"
            ),
            Received::Closed(frame) => panic!("closed: {frame:?}"),
        }
    }
}

#[tokio::test]
async fn an_event_raised_on_one_replica_reaches_a_subscriber_on_another() {
    // Replicas share a database only on PostgreSQL (LISTEN/NOTIFY).
    if std::env::var("TRESTLE_TEST_DATABASE_URL").map_or(true, |url| url.is_empty()) {
        return;
    }
    let db = TestDb::new().await;
    let url = db.url.clone();
    let writer = spawn_app_on(db, &[]).await;
    let reader = spawn_app_on(TestDb::existing(&url), &[]).await;
    let cast = cast(&writer, "REPLICA").await;

    let mut socket = Socket::signed_in(&reader, &cast.viewer).await;
    socket.watch("events", &cast.program).await;
    subscribed(&reader, 1).await;

    let started = Instant::now();
    let workstream = workstream(&writer, &cast.editor, &cast.program, "Cross", json!({})).await;
    let answered = started.elapsed();
    let event = socket.next_event("events").await;
    eprintln!(
        "cross-replica event {:?} after the mutation was sent, which was answered after {answered:?}",
        started.elapsed()
    );
    assert_eq!(event["entityId"], workstream.as_str());
    assert_eq!(event["actor"]["id"], cast.editor.id.as_str());
    assert_eq!(event["kind"], "CREATED");
}

#[tokio::test]
async fn events_survive_a_lost_listener_connection() {
    // The LISTEN connection exists only on PostgreSQL.
    if std::env::var("TRESTLE_TEST_DATABASE_URL").map_or(true, |url| url.is_empty()) {
        return;
    }
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app().await;
    let cast = cast(&app, "RECOVER").await;
    let mut socket = Socket::signed_in(&app, &cast.viewer).await;
    socket.watch("events", &cast.program).await;
    subscribed(&app, 1).await;

    let db = &app.server.domain.db;
    let terminated = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
        ))
        .await
        .expect("terminate the listener");
    assert_eq!(
        terminated.len(),
        2,
        "one listener per server and feed (history, notifications)"
    );

    // Committed while the listener is down or just back: back-filled or heard.
    let first = workstream(&app, &cast.editor, &cast.program, "During", json!({})).await;
    let second = workstream(&app, &cast.editor, &cast.program, "After", json!({})).await;
    assert_eq!(
        socket.next_event("events").await["entityId"],
        first.as_str()
    );
    assert_eq!(
        socket.next_event("events").await["entityId"],
        second.as_str()
    );
}

#[tokio::test]
async fn the_bearer_scheme_of_connection_init_is_case_insensitive() {
    let app = spawn_app().await;
    let cast = cast(&app, "CASE").await;
    let mut sockets = Vec::new();
    for scheme in ["bearer", "BEARER", "BeArEr"] {
        let mut socket = Socket::connect(
            &app,
            json!({ "Authorization": format!("{scheme} {}", cast.viewer.token) }),
        )
        .await;
        socket.watch("events", &cast.program).await;
        sockets.push(socket);
    }
    subscribed(&app, 3).await;
}

#[tokio::test]
async fn revoking_an_api_token_closes_its_sockets_as_forbidden() {
    let app = spawn_app().await;
    let cast = cast(&app, "REVOKE").await;
    let (secret, id) = api_token(&app, &cast.viewer, "live").await;
    let mut socket =
        Socket::connect(&app, json!({ "Authorization": format!("Bearer {secret}") })).await;
    socket.watch("events", &cast.program).await;
    // A socket on another credential of the same user stays open.
    let mut other = Socket::signed_in(&app, &cast.viewer).await;
    other.watch("events", &cast.program).await;
    subscribed(&app, 2).await;

    let started = Instant::now();
    revoke_api_token(&app, &cast.viewer, &id).await;
    assert_eq!(socket.close_code().await, 4403);
    eprintln!(
        "closed {:?} after the revocation was sent",
        started.elapsed()
    );
    let workstream = workstream(&app, &cast.editor, &cast.program, "After", json!({})).await;
    assert_eq!(
        other.next_event("events").await["entityId"],
        workstream.as_str()
    );
}

#[tokio::test]
async fn revoking_an_api_token_on_one_replica_closes_its_sockets_on_another() {
    // Replicas share a database only on PostgreSQL (LISTEN/NOTIFY).
    if std::env::var("TRESTLE_TEST_DATABASE_URL").map_or(true, |url| url.is_empty()) {
        return;
    }
    let db = TestDb::new().await;
    let url = db.url.clone();
    let writer = spawn_app_on(db, &[]).await;
    let reader = spawn_app_on(TestDb::existing(&url), &[]).await;
    let cast = cast(&writer, "REVOKED").await;
    let (secret, id) = api_token(&writer, &cast.viewer, "live").await;
    let mut socket = Socket::connect(
        &reader,
        json!({ "Authorization": format!("Bearer {secret}") }),
    )
    .await;
    socket.watch("events", &cast.program).await;
    subscribed(&reader, 1).await;

    let started = Instant::now();
    revoke_api_token(&writer, &cast.viewer, &id).await;
    assert_eq!(socket.close_code().await, 4403);
    let elapsed = started.elapsed();
    eprintln!("closed on the other replica {elapsed:?} after the revocation was sent");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[tokio::test]
async fn a_token_reaching_its_expiry_closes_its_sockets_as_forbidden() {
    let app = spawn_app().await;
    let cast = cast(&app, "EXPIRY").await;
    // Signed a minute ago, expired 27 s ago: accepted within the 30 s leeway
    // for about 3 s more, and not a moment longer.
    let mut claims = trestle_claims(&cast.viewer.id);
    claims["iat"] = json!(now() - 60);
    claims["exp"] = json!(now() - 27);
    let token = hs256(&hs256_header(None), &claims, JWT_SECRET.as_bytes());
    let mut socket =
        Socket::connect(&app, json!({ "Authorization": format!("Bearer {token}") })).await;
    socket.watch("events", &cast.program).await;
    let started = Instant::now();
    assert_eq!(socket.close_code().await, 4403);
    let elapsed = started.elapsed();
    assert!(
        elapsed > Duration::from_secs(1) && elapsed < Duration::from_secs(6),
        "{elapsed:?}"
    );
    // HTTP refuses the same token by now.
    let body = app
        .graphql(Some(&token), "{ viewer { id } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test]
async fn sockets_are_capped_per_user_per_address_and_in_total() {
    use std::net::Ipv4Addr;
    let app = spawn_app_with(&[
        "--max-websockets-per-user",
        "2",
        "--max-websockets-per-address",
        "3",
        "--max-websockets",
        "4",
    ])
    .await;
    let first = app.member("First").await;
    let second = app.member("Second").await;
    let home = Ipv4Addr::LOCALHOST;
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(Socket::signed_in(&app, &first).await);
    }
    // A third socket of the same user is refused when it signs in.
    let mut third = Socket::open(&app).await;
    third
        .init(json!({ "Authorization": format!("Bearer {}", first.token) }))
        .await;
    assert_eq!(third.close_code().await, 4429);
    drop(third);
    // Another user from the same address fills the address's three places …
    held.push(Socket::signed_in(&app, &second).await);
    // … so the address's fourth socket is refused before the upgrade.
    let mut refused = None;
    for _ in 0..50 {
        match Socket::try_open_from(&app, home).await {
            Err(status) => {
                refused = Some(status);
                break;
            }
            // The refused socket's place frees when the server notices it closed.
            Ok(socket) => {
                drop(socket);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    assert_eq!(refused, Some(429));
    // A fourth address fills the total; a fifth socket anywhere is refused.
    let _fourth = Socket::try_open_from(&app, Ipv4Addr::new(127, 0, 0, 2))
        .await
        .expect("the fourth socket");
    assert_eq!(
        Socket::try_open_from(&app, Ipv4Addr::new(127, 0, 0, 3))
            .await
            .err(),
        Some(503)
    );
    // Closing one makes room again.
    drop(held.pop());
    let deadline = Instant::now() + PATIENCE;
    loop {
        if Socket::try_open_from(&app, Ipv4Addr::new(127, 0, 0, 3))
            .await
            .is_ok()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the freed place was never reused"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_silent_socket_is_closed_after_the_idle_timeout_and_a_live_one_kept() {
    let app = spawn_app_with(&[
        "--websocket-idle-timeout-secs",
        "2",
        "--websocket-ping-interval-secs",
        "1",
    ])
    .await;
    let cast = cast(&app, "IDLE").await;
    let mut silent = Socket::signed_in(&app, &cast.viewer).await;
    let mut live = Socket::signed_in(&app, &cast.viewer).await;
    // The live client reads, so its library answers every ping.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(3500);
    let mut pinged = false;
    while let Ok(frame) = tokio::time::timeout_at(deadline, live.stream.next()).await {
        match frame {
            Some(Ok(Message::Ping(_))) => pinged = true,
            Some(Ok(Message::Close(frame))) => panic!("the live socket was closed: {frame:?}"),
            Some(Ok(_)) => {}
            other => panic!("the live socket ended: {other:?}"),
        }
    }
    assert!(pinged, "the server sent no ping");
    // The silent client's library answers the queued pings only now, on a
    // socket the server has closed: the close frame may be lost to a reset.
    match silent.receive().await {
        Received::Closed(None) => {}
        Received::Closed(Some(frame)) => assert_eq!(frame.code, CloseCode::from(1000)),
        other => panic!("the silent socket was kept open: {other:?}"),
    }
    live.watch("events", &cast.program).await;
    subscribed(&app, 1).await;
}

#[tokio::test]
async fn subscribe_messages_spend_the_users_rate_budget() {
    let app = spawn_app_with(&["--rate-limit-per-minute", "60"]).await;
    let viewer = app.member("Viewer").await;
    let mut socket = Socket::signed_in(&app, &viewer).await;
    let missing = uuid::Uuid::now_v7().to_string();
    let mut limited = None;
    for n in 0..20 {
        let id = format!("op{n}");
        socket.watch(&id, &missing).await;
        let payload = socket.next_payload(&id).await;
        socket.expect_complete(&id).await;
        if error_code(&payload) == "RATE_LIMITED" {
            limited = Some(payload);
            break;
        }
        assert_eq!(error_code(&payload), "NOT_FOUND", "{payload}");
    }
    let limited = limited.expect("60 points a minute ran out within 20 subscribe messages");
    assert!(limited["errors"][0]["extensions"]["retryAfter"].as_u64() >= Some(1));
    // The budget is the same one HTTP requests spend.
    let response = app
        .post(Some(&viewer.token), "{ viewer { id } }", json!({}), &[])
        .await;
    assert_eq!(response.status(), 429);
}

#[tokio::test]
async fn open_sockets_are_told_the_server_is_going_away_on_shutdown() {
    let app = spawn_app().await;
    let cast = cast(&app, "BYE").await;
    let mut socket = Socket::signed_in(&app, &cast.viewer).await;
    socket.watch("events", &cast.program).await;
    subscribed(&app, 1).await;
    let crate::helpers::TestApp { server, .. } = app;
    let started = Instant::now();
    let stopped = tokio::spawn(server.shutdown());
    assert_eq!(socket.close_code().await, 1001);
    tokio::time::timeout(PATIENCE, stopped)
        .await
        .expect("the server stopped in time")
        .unwrap()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
