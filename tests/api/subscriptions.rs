//! Live change events over `/graphql/ws` (`graphql-transport-ws`): who may
//! subscribe, what arrives, what never does, and across replicas.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{
        Message,
        client::IntoClientRequest,
        http::HeaderValue,
        protocol::{CloseFrame, frame::coding::CloseCode},
    },
};

use crate::helpers::{
    TestApp, TestDb, TestUser, error_code, spawn_app, spawn_app_on, spawn_app_with,
};

/// How long a test waits for something that should happen.
const PATIENCE: Duration = Duration::from_secs(10);

const PROGRAM_EVENTS: &str = "subscription($programId: ID!) { programEvents(programId: $programId) { id kind action entityType entityId actor { id name } at } }";

/// A `graphql-transport-ws` client.
struct Socket {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What the server sent, as the test sees it.
#[derive(Debug)]
enum Received {
    /// A protocol message.
    Message(Value),
    /// The server closed the connection.
    Closed(Option<CloseFrame>),
}

impl Socket {
    /// Open `/graphql/ws` on `app`; nothing is sent yet.
    async fn open(app: &TestApp) -> Self {
        let url = format!("{}/graphql/ws", app.address.replacen("http", "ws", 1));
        let mut request = url.into_client_request().expect("a WebSocket URL");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (stream, response) = tokio::time::timeout(PATIENCE, connect_async(request))
            .await
            .expect("the upgrade in time")
            .expect("the server upgrades");
        assert_eq!(
            response
                .headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok()),
            Some("graphql-transport-ws")
        );
        Self { stream }
    }

    /// Open `/graphql/ws` on `app` from the loopback address `from`; the
    /// HTTP status when the server refuses the upgrade.
    async fn try_open_from(app: &TestApp, from: std::net::Ipv4Addr) -> Result<Self, u16> {
        let url = format!("{}/graphql/ws", app.address.replacen("http", "ws", 1));
        let mut request = url.into_client_request().expect("a WebSocket URL");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket
            .bind(std::net::SocketAddr::from((from, 0)))
            .expect("bind the client address");
        let tcp = socket.connect(app.server.addr).await.expect("connect");
        match tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(tcp)).await {
            Ok((stream, _)) => Ok(Self { stream }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(error) => panic!("the upgrade failed: {error}"),
        }
    }

    /// The close code the server ends this socket with, within `PATIENCE`.
    async fn close_code(&mut self) -> u16 {
        match self.receive().await {
            Received::Closed(Some(frame)) => frame.code.into(),
            other => panic!("expected a close frame, got {other:?}"),
        }
    }

    /// Open and initialise with `payload`, expecting `connection_ack`.
    async fn connect(app: &TestApp, payload: Value) -> Self {
        let mut socket = Self::open(app).await;
        socket.init(payload).await;
        match socket.receive().await {
            Received::Message(message) if message["type"] == "connection_ack" => socket,
            other => panic!("expected connection_ack, got {other:?}"),
        }
    }

    /// Open and sign in as `user`.
    async fn signed_in(app: &TestApp, user: &TestUser) -> Self {
        Self::connect(
            app,
            json!({ "Authorization": format!("Bearer {}", user.token) }),
        )
        .await
    }

    async fn send(&mut self, message: Value) {
        self.stream
            .send(Message::text(message.to_string()))
            .await
            .expect("the socket accepts a message");
    }

    async fn init(&mut self, payload: Value) {
        self.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
    }

    /// Start operation `id`.
    async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "type": "subscribe", "id": id, "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// Subscribe to `program`'s events as operation `id`.
    async fn watch(&mut self, id: &str, program: &str) {
        self.subscribe(id, PROGRAM_EVENTS, json!({ "programId": program }))
            .await;
    }

    /// The next protocol message or the close; fails the test after `PATIENCE`.
    async fn receive(&mut self) -> Received {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .expect("the server sent nothing in time");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    let message: Value = serde_json::from_str(&text).expect("JSON messages");
                    if message["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return Received::Message(message);
                }
                Some(Ok(Message::Close(frame))) => return Received::Closed(frame),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Received::Closed(None),
            }
        }
    }

    /// The next `next` payload of operation `id`.
    async fn next_payload(&mut self, id: &str) -> Value {
        match self.receive().await {
            Received::Message(message) if message["type"] == "next" && message["id"] == id => {
                message["payload"].clone()
            }
            other => panic!("expected a `next` for {id}, got {other:?}"),
        }
    }

    /// The next event of operation `id`.
    async fn next_event(&mut self, id: &str) -> Value {
        let payload = self.next_payload(id).await;
        let event = payload["data"]["programEvents"].clone();
        assert!(event.is_object(), "expected an event, got {payload}");
        event
    }

    /// Operation `id` ends next.
    async fn expect_complete(&mut self, id: &str) {
        match self.receive().await {
            Received::Message(message) if message["type"] == "complete" && message["id"] == id => {}
            other => panic!("expected `complete` for {id}, got {other:?}"),
        }
    }
}

/// Wait until `app` holds at least `count` live event subscriptions, so a
/// change committed afterwards is certain to reach them.
async fn subscribed(app: &TestApp, count: usize) {
    let deadline = Instant::now() + PATIENCE;
    while app.server.domain.events.subscriber_count() < count {
        assert!(
            Instant::now() < deadline,
            "the subscription was not registered in time"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn add_member(app: &TestApp, owner: &TestUser, program: &str, user: &TestUser, role: &str) {
    let body = app
        .as_user(
            owner,
            "mutation($input: SetProgramMemberInput!) { setProgramMember(input: $input) { member { role } } }",
            json!({ "input": { "programId": program, "userId": user.id, "role": role } }),
        )
        .await;
    assert_eq!(
        body["data"]["setProgramMember"]["member"]["role"], role,
        "{body}"
    );
}

async fn create_workstream(app: &TestApp, by: &TestUser, program: &str, name: &str) -> Value {
    app.as_user(
        by,
        "mutation($input: CreateWorkstreamInput!) { createWorkstream(input: $input) { workstream { id } } }",
        json!({ "input": { "programId": program, "name": name } }),
    )
    .await
}

async fn workstream_id(app: &TestApp, by: &TestUser, program: &str, name: &str) -> String {
    let body = create_workstream(app, by, program, name).await;
    body["data"]["createWorkstream"]["workstream"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("createWorkstream failed: {body}"))
        .to_owned()
}

/// A program owned by a TPM, with an EDITOR and a VIEWER.
struct Team {
    tpm: TestUser,
    editor: TestUser,
    viewer: TestUser,
    program: String,
}

async fn team(app: &TestApp, key: &str) -> Team {
    let tpm = app.member("Tpm").await;
    let editor = app.member("Editor").await;
    let viewer = app.member("Viewer").await;
    let program = app.create_program(&tpm, key, "Live").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    add_member(app, &tpm, &program, &editor, "EDITOR").await;
    add_member(app, &tpm, &program, &viewer, "VIEWER").await;
    Team {
        tpm,
        editor,
        viewer,
        program,
    }
}

#[tokio::test]
async fn a_member_sees_a_workstream_another_member_creates() {
    let app = spawn_app().await;
    let team = team(&app, "LIVE").await;
    let mut socket = Socket::signed_in(&app, &team.viewer).await;
    socket.watch("events", &team.program).await;
    subscribed(&app, 1).await;

    let started = Instant::now();
    let workstream = workstream_id(&app, &team.editor, &team.program, "Payments").await;
    let answered = started.elapsed();
    let event = socket.next_event("events").await;
    let latency = started.elapsed();

    assert_eq!(event["kind"], "CREATED");
    assert_eq!(event["action"], "workstream.create");
    assert_eq!(event["entityType"], "Workstream");
    assert_eq!(event["entityId"], workstream.as_str());
    assert_eq!(event["actor"]["id"], team.editor.id.as_str());
    assert_eq!(event["actor"]["name"], "Editor");
    assert!(
        chrono::DateTime::parse_from_rfc3339(event["at"].as_str().unwrap()).is_ok(),
        "{event}"
    );
    // The same entry is in the program's history.
    let body = app
        .as_user(
            &team.viewer,
            "query($id: ID!) { program(id: $id) { activity(first: 1) { nodes { id } } } }",
            json!({ "id": team.program }),
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
    let team = team(&app, "KINDS").await;
    let newcomer = app.member("Newcomer").await;
    // A lower-case `authorization` key is accepted too.
    let mut socket = Socket::connect(
        &app,
        json!({ "authorization": format!("Bearer {}", team.viewer.token) }),
    )
    .await;
    socket.watch("events", &team.program).await;
    subscribed(&app, 1).await;

    add_member(&app, &team.tpm, &team.program, &newcomer, "VIEWER").await;
    let event = socket.next_event("events").await;
    assert_eq!(
        (&event["kind"], &event["action"], &event["entityType"]),
        (
            &json!("CREATED"),
            &json!("member.set"),
            &json!("ProgramMember")
        )
    );
    add_member(&app, &team.tpm, &team.program, &newcomer, "EDITOR").await;
    assert_eq!(socket.next_event("events").await["kind"], "UPDATED");

    let body = app
        .as_user(
            &team.editor,
            "mutation($input: PostStatusUpdateInput!) { postStatusUpdate(input: $input) { statusUpdate { id } } }",
            json!({ "input": { "programId": team.program, "health": "AT_RISK", "summary": "Vendor late" } }),
        )
        .await;
    let update = body["data"]["postStatusUpdate"]["statusUpdate"]["id"].clone();
    assert!(update.is_string(), "{body}");
    let event = socket.next_event("events").await;
    assert_eq!(
        (&event["kind"], &event["entityType"], &event["entityId"]),
        (&json!("POSTED"), &json!("StatusUpdate"), &update)
    );

    let body = app
        .as_user(
            &team.tpm,
            "mutation($input: ArchiveProgramInput!) { archiveProgram(input: $input) { program { id } } }",
            json!({ "input": { "id": team.program } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let event = socket.next_event("events").await;
    assert_eq!(
        (&event["kind"], &event["entityType"], &event["entityId"]),
        (&json!("ARCHIVED"), &json!("Program"), &json!(team.program))
    );
}

#[tokio::test]
async fn a_subscription_outlives_the_request_timeout() {
    let app = spawn_app_with(&["--request-timeout-secs", "1"]).await;
    let team = team(&app, "LONG").await;
    let mut socket = Socket::signed_in(&app, &team.viewer).await;
    socket.watch("events", &team.program).await;
    subscribed(&app, 1).await;

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let workstream = workstream_id(&app, &team.editor, &team.program, "Later").await;
    assert_eq!(
        socket.next_event("events").await["entityId"],
        workstream.as_str()
    );
}

#[tokio::test]
async fn a_non_member_gets_not_found_as_for_a_missing_program() {
    let app = spawn_app().await;
    let team = team(&app, "HIDDEN").await;
    let outsider = app.member("Outsider").await;
    let mut socket = Socket::signed_in(&app, &outsider).await;

    socket.watch("hidden", &team.program).await;
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
    let team = team(&app, "ADMINS").await;
    let admin = app.admin().await;
    let mut socket = Socket::signed_in(&app, &admin).await;
    socket.watch("events", &team.program).await;
    subscribed(&app, 1).await;

    let workstream = workstream_id(&app, &team.tpm, &team.program, "Audit").await;
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
    let team = team(&app, "MINE").await;
    let other = app.create_program(&team.tpm, "OTHER", "Other").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut socket = Socket::signed_in(&app, &team.tpm).await;
    socket.watch("events", &team.program).await;
    subscribed(&app, 1).await;

    workstream_id(&app, &team.tpm, &other, "Elsewhere").await;
    // Events arrive in commit order: the first one must be this program's.
    let mine = workstream_id(&app, &team.tpm, &team.program, "Here").await;
    let event = socket.next_event("events").await;
    assert_eq!(event["entityId"], mine.as_str(), "{event}");
}

#[tokio::test]
async fn a_refused_mutation_delivers_nothing() {
    let app = spawn_app().await;
    let team = team(&app, "REFUSE").await;
    let mut socket = Socket::signed_in(&app, &team.tpm).await;
    socket.watch("events", &team.program).await;
    subscribed(&app, 1).await;

    // A VIEWER may not create; a blank name is invalid; a stale version conflicts.
    let refused = create_workstream(&app, &team.viewer, &team.program, "Nope").await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    let invalid = create_workstream(&app, &team.editor, &team.program, "   ").await;
    assert_eq!(error_code(&invalid), "BAD_USER_INPUT", "{invalid}");
    let stale = app
        .as_user(
            &team.tpm,
            "mutation($input: UpdateProgramInput!) { updateProgram(input: $input) { program { id } } }",
            json!({ "input": { "id": team.program, "name": "Renamed", "expectedVersion": 99 } }),
        )
        .await;
    assert_eq!(error_code(&stale), "CONFLICT", "{stale}");

    let accepted = workstream_id(&app, &team.editor, &team.program, "Yes").await;
    let event = socket.next_event("events").await;
    assert_eq!(event["entityId"], accepted.as_str(), "{event}");
    assert_eq!(event["kind"], "CREATED");
}

#[tokio::test]
async fn rolled_back_work_is_never_announced() {
    use trestle_api::domain::audit;
    let app = spawn_app().await;
    let team = team(&app, "ROLLBACK").await;
    let mut socket = Socket::signed_in(&app, &team.tpm).await;
    socket.watch("events", &team.program).await;
    subscribed(&app, 1).await;

    // A history entry written and then rolled back, as a failing mutation would.
    let domain = &app.server.domain;
    let txn = domain.begin_write().await.expect("a transaction");
    let now = chrono::Utc::now();
    let never_stored = entity::workstream::Model {
        id: uuid::Uuid::now_v7(),
        program_id: team.program.parse().unwrap(),
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
    };
    audit::record(
        &txn,
        Some(team.tpm.id.parse().unwrap()),
        audit::Change::created(&never_stored),
    )
    .await
    .expect("the entry is written");
    txn.rollback().await.expect("the rollback");

    let accepted = workstream_id(&app, &team.editor, &team.program, "Committed").await;
    let event = socket.next_event("events").await;
    assert_eq!(event["entityId"], accepted.as_str(), "{event}");
}

#[tokio::test]
async fn a_removed_member_stops_receiving_events() {
    let app = spawn_app().await;
    let team = team(&app, "LEAVE").await;
    let mut socket = Socket::signed_in(&app, &team.viewer).await;
    socket.watch("events", &team.program).await;
    subscribed(&app, 1).await;

    let body = app
        .as_user(
            &team.tpm,
            "mutation($input: RemoveProgramMemberInput!) { removeProgramMember(input: $input) { removedUserId } }",
            json!({ "input": { "programId": team.program, "userId": team.viewer.id } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");

    socket.expect_complete("events").await;
}

#[tokio::test]
async fn only_subscriptions_run_over_the_socket() {
    let app = spawn_app().await;
    let team = team(&app, "ONLYSUB").await;
    let mut socket = Socket::signed_in(&app, &team.tpm).await;

    socket
        .subscribe(
            "mutation",
            "mutation($input: CreateWorkstreamInput!) { createWorkstream(input: $input) { workstream { id } } }",
            json!({ "input": { "programId": team.program, "name": "Sneaky" } }),
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
    let team = team(&app, "BOUNDED").await;
    let mut socket = Socket::signed_in(&app, &team.tpm).await;
    for n in 0..64 {
        socket.watch(&format!("op{n}"), &team.program).await;
    }
    subscribed(&app, 64).await;

    socket.watch("one-too-many", &team.program).await;
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
    socket.watch("again", &team.program).await;
    subscribed(&app, 64).await;
    let workstream = workstream_id(&app, &team.tpm, &team.program, "Room").await;
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
    let team = team(&writer, "REPLICA").await;

    let mut socket = Socket::signed_in(&reader, &team.viewer).await;
    socket.watch("events", &team.program).await;
    subscribed(&reader, 1).await;

    let started = Instant::now();
    let workstream = workstream_id(&writer, &team.editor, &team.program, "Cross").await;
    let answered = started.elapsed();
    let event = socket.next_event("events").await;
    eprintln!(
        "cross-replica event {:?} after the mutation was sent, which was answered after {answered:?}",
        started.elapsed()
    );
    assert_eq!(event["entityId"], workstream.as_str());
    assert_eq!(event["actor"]["id"], team.editor.id.as_str());
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
    let team = team(&app, "RECOVER").await;
    let mut socket = Socket::signed_in(&app, &team.viewer).await;
    socket.watch("events", &team.program).await;
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
    assert_eq!(terminated.len(), 1, "one listener per server");

    // Committed while the listener is down or just back: back-filled or heard.
    let first = workstream_id(&app, &team.editor, &team.program, "During").await;
    let second = workstream_id(&app, &team.editor, &team.program, "After").await;
    assert_eq!(
        socket.next_event("events").await["entityId"],
        first.as_str()
    );
    assert_eq!(
        socket.next_event("events").await["entityId"],
        second.as_str()
    );
}

/// A signed Trestle token for `user` with this `iat` and `exp` (seconds from now).
fn token_expiring(user: &TestUser, issued: i64, expires: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": user.id, "iat": now + issued, "exp": now + expires,
        "iss": "trestle", "aud": "trestle-api",
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(crate::helpers::JWT_SECRET.as_bytes()),
    )
    .expect("a token")
}

/// An API token of `user`: (secret, id).
async fn api_token(app: &TestApp, user: &TestUser) -> (String, String) {
    let body = app
        .as_user(
            user,
            "mutation { createApiToken(input: { name: \"live\" }) { token apiToken { id } } }",
            json!({}),
        )
        .await;
    let payload = &body["data"]["createApiToken"];
    (
        payload["token"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned(),
        payload["apiToken"]["id"].as_str().unwrap().to_owned(),
    )
}

async fn revoke(app: &TestApp, user: &TestUser, id: &str) {
    let body = app
        .as_user(
            user,
            "mutation($id: ID!) { revokeApiToken(input: { id: $id }) { apiToken { revokedAt } } }",
            json!({ "id": id }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
}

#[tokio::test]
async fn the_bearer_scheme_of_connection_init_is_case_insensitive() {
    let app = spawn_app().await;
    let team = team(&app, "CASE").await;
    let mut sockets = Vec::new();
    for scheme in ["bearer", "BEARER", "BeArEr"] {
        let mut socket = Socket::connect(
            &app,
            json!({ "Authorization": format!("{scheme} {}", team.viewer.token) }),
        )
        .await;
        socket.watch("events", &team.program).await;
        sockets.push(socket);
    }
    subscribed(&app, 3).await;
}

#[tokio::test]
async fn revoking_an_api_token_closes_its_sockets_as_forbidden() {
    let app = spawn_app().await;
    let team = team(&app, "REVOKE").await;
    let (secret, id) = api_token(&app, &team.viewer).await;
    let mut socket =
        Socket::connect(&app, json!({ "Authorization": format!("Bearer {secret}") })).await;
    socket.watch("events", &team.program).await;
    // A socket on another credential of the same user stays open.
    let mut other = Socket::signed_in(&app, &team.viewer).await;
    other.watch("events", &team.program).await;
    subscribed(&app, 2).await;

    let started = Instant::now();
    revoke(&app, &team.viewer, &id).await;
    assert_eq!(socket.close_code().await, 4403);
    eprintln!(
        "closed {:?} after the revocation was sent",
        started.elapsed()
    );
    let workstream = workstream_id(&app, &team.editor, &team.program, "After").await;
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
    let team = team(&writer, "REVOKED").await;
    let (secret, id) = api_token(&writer, &team.viewer).await;
    let mut socket = Socket::connect(
        &reader,
        json!({ "Authorization": format!("Bearer {secret}") }),
    )
    .await;
    socket.watch("events", &team.program).await;
    subscribed(&reader, 1).await;

    let started = Instant::now();
    revoke(&writer, &team.viewer, &id).await;
    assert_eq!(socket.close_code().await, 4403);
    let elapsed = started.elapsed();
    eprintln!("closed on the other replica {elapsed:?} after the revocation was sent");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[tokio::test]
async fn a_token_reaching_its_expiry_closes_its_sockets_as_forbidden() {
    let app = spawn_app().await;
    let team = team(&app, "EXPIRY").await;
    // Signed a minute ago, expired 27 s ago: accepted within the 30 s leeway
    // for about 3 s more, and not a moment longer.
    let token = token_expiring(&team.viewer, -60, -27);
    let mut socket =
        Socket::connect(&app, json!({ "Authorization": format!("Bearer {token}") })).await;
    socket.watch("events", &team.program).await;
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
    let team = team(&app, "IDLE").await;
    let mut silent = Socket::signed_in(&app, &team.viewer).await;
    let mut live = Socket::signed_in(&app, &team.viewer).await;
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
    live.watch("events", &team.program).await;
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
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&viewer.token)
        .json(&json!({ "query": "{ viewer { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
}

#[tokio::test]
async fn open_sockets_are_told_the_server_is_going_away_on_shutdown() {
    let app = spawn_app().await;
    let team = team(&app, "BYE").await;
    let mut socket = Socket::signed_in(&app, &team.viewer).await;
    socket.watch("events", &team.program).await;
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
