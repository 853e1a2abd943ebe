//! Sessions and accounts that end: `logout` (the token sent),
//! `logoutEverywhere` (every signed token issued until now), an ADMIN's
//! change of someone's role and deactivation of a leaver — over HTTP, on
//! open subscriptions and across replicas — and Relay's `node`/`nodes`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::fixtures::tokens::{hs256, hs256_header, trestle_claims, viewer_with};
use crate::fixtures::{
    Received, Socket, api_token, baseline, cast, comment, decision, dependency, last_audit_event,
    milestone, mutation_document, program, risk, set_member, status_update, subscribed, team,
    unsubscribed, workstream,
};
use crate::helpers::{JWT_SECRET, TestApp, TestDb, TestUser, error_code, spawn_app, spawn_app_on};

const LOGOUT: &str = "mutation { logout { loggedOutAt } }";
const LOGOUT_EVERYWHERE: &str = "mutation { logoutEverywhere { loggedOutAt } }";
const LOGGED_OUT: &str = "This token was logged out; sign in again.";
const DEACTIVATED: &str = "This account is deactivated; ask an administrator to reactivate it.";
const PASSWORD: &str = "password-123";
/// Who the bearer is, and whether they may list everyone (ADMIN only).
const USERS: &str = "{ users { totalCount } }";
/// A user as an ADMIN finds them.
const FIND: &str = "query($s: String) { users(search: $s, first: 10) { totalCount nodes { id role version isActive deactivatedAt } } }";

/// As the fixtures' `attempt`: `name(input: $input) { selection }` as
/// `user`, the whole response; `deactivateUser` and `reactivateUser` take a
/// `UserActivationInput`.
async fn attempt(
    app: &TestApp,
    user: &TestUser,
    name: &str,
    input: Value,
    selection: &str,
) -> Value {
    let document = match name {
        "deactivateUser" | "reactivateUser" => format!(
            "mutation($input: UserActivationInput!) {{ {name}(input: $input) {{ {selection} }} }}"
        ),
        _ => mutation_document(name, selection),
    };
    app.as_user(user, &document, json!({ "input": input }))
        .await
}

/// As `attempt`, and its payload; panics with the body unless it succeeds.
async fn mutate(
    app: &TestApp,
    user: &TestUser,
    name: &str,
    input: Value,
    selection: &str,
) -> Value {
    let body = attempt(app, user, name, input, selection).await;
    assert!(body["errors"].is_null(), "{name} failed: {body}");
    body["data"][name].clone()
}

/// A server on a database whose URL the test knows (for `trestle token`
/// and a second replica).
async fn app_and_url() -> (TestApp, String) {
    let db = TestDb::new().await;
    let url = db.url.clone();
    (spawn_app_on(db, &[]).await, url)
}

/// A user created by the admin with `role`, signed in through `login`; their email.
async fn person(app: &TestApp, name: &str, role: &str) -> (TestUser, String) {
    let admin = app.admin().await;
    let email = format!(
        "{}-{}@trestle.test",
        name.to_lowercase(),
        uuid::Uuid::now_v7().simple()
    );
    mutate(
        app,
        &admin,
        "createUser",
        json!({ "email": email, "name": name, "password": PASSWORD, "role": role }),
        "user { id }",
    )
    .await;
    (app.signed_in(&email, PASSWORD).await, email)
}

/// The email of a signed-in user.
async fn email_of(app: &TestApp, user: &TestUser) -> String {
    let body = app.as_user(user, "{ viewer { email } }", json!({})).await;
    body["data"]["viewer"]["email"]
        .as_str()
        .unwrap_or_else(|| panic!("no email: {body}"))
        .to_owned()
}

/// A signed token of `user` that differs from any `login` gives (it lives
/// five minutes), signed with the server's secret.
fn hand_signed(user: &TestUser) -> String {
    hs256(
        &hs256_header(None),
        &trestle_claims(&user.id),
        JWT_SECRET.as_bytes(),
    )
}

/// A token of the user with `email` minted by `trestle token` against `url`,
/// living `minutes`.
fn cli_token(url: &str, email: &str, minutes: u32) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_trestle"))
        .args([
            "token",
            "--email",
            email,
            "--ttl-minutes",
            &minutes.to_string(),
        ])
        .env("TRESTLE_DATABASE_URL", url)
        .env("TRESTLE_JWT_SECRET", JWT_SECRET)
        .env("TRESTLE_LOG", "error")
        .output()
        .expect("run trestle token");
    assert!(
        output.status.success(),
        "trestle token failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).expect("UTF-8");
    token.trim().to_owned()
}

/// `token` is accepted over HTTP as `user_id`.
async fn assert_accepted(app: &TestApp, token: &str, user_id: &str, what: &str) {
    let (status, body, _) = viewer_with(app, token).await;
    assert_eq!(status, 200, "{what}: {body}");
    assert_eq!(body["data"]["viewer"]["id"], user_id, "{what}: {body}");
}

/// `token` is refused over HTTP with 401 `UNAUTHENTICATED`, and `message`
/// when one is given.
async fn assert_refused(app: &TestApp, token: &str, message: Option<&str>, what: &str) {
    let (status, body, _) = viewer_with(app, token).await;
    assert_eq!(status, 401, "{what}: {body}");
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{what}: {body}");
    assert!(body["data"].is_null(), "{what}: {body}");
    if let Some(message) = message {
        assert_eq!(body["errors"][0]["message"], message, "{what}: {body}");
    }
}

/// POST `query` with `token`: the status and the body.
async fn post(app: &TestApp, token: &str, query: &str, variables: Value) -> (u16, Value) {
    let response = app.post(Some(token), query, variables, &[]).await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// `logout` or `logoutEverywhere` with `token`, which must succeed; when it ended.
async fn log_out(app: &TestApp, token: &str, document: &str) -> String {
    let (status, body) = post(app, token, document, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["errors"].is_null(), "{body}");
    let field = if document == LOGOUT {
        "logout"
    } else {
        "logoutEverywhere"
    };
    let at = body["data"][field]["loggedOutAt"]
        .as_str()
        .unwrap_or_else(|| panic!("no loggedOutAt: {body}"));
    assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{body}");
    at.to_owned()
}

/// A socket signed in with `token`, watching `program`.
async fn watching(app: &TestApp, token: &str, program: &str) -> Socket {
    let mut socket =
        Socket::connect(app, json!({ "Authorization": format!("Bearer {token}") })).await;
    socket.watch("events", program).await;
    socket
}

/// The socket is closed with `code` within five seconds of `since`.
async fn assert_closed(socket: &mut Socket, code: u16, since: Instant, what: &str) {
    match socket.receive().await {
        Received::Closed(Some(frame)) => assert_eq!(u16::from(frame.code), code, "{what}"),
        other => panic!("{what}: expected a close with {code}, got {other:?}"),
    }
    let elapsed = since.elapsed();
    assert!(elapsed < Duration::from_secs(5), "{what}: {elapsed:?}");
}

/// The user `id` as an ADMIN finds them by `search`.
async fn found_by_admin(app: &TestApp, admin: &TestUser, search: &str, id: &str) -> Value {
    let body = app.as_user(admin, FIND, json!({ "s": search })).await;
    let nodes = body["data"]["users"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    nodes
        .iter()
        .find(|node| node["id"] == id)
        .unwrap_or_else(|| panic!("{id} not found by the admin: {body}"))
        .clone()
}

/// The `iat` claim of a signed token, read without checking it.
fn issued_at(token: &str) -> i64 {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let claims = token.split('.').nth(1).expect("a JWT");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).expect("base64")).expect("JSON");
    claims["iat"].as_i64().expect("an iat")
}

// ---------------------------------------------------------------- logout

#[tokio::test]
async fn logout_ends_only_the_token_it_was_sent_with() {
    let (app, url) = app_and_url().await;
    let (user, email) = person(&app, "Laptop", "MEMBER").await;
    let from_cli = cli_token(&url, &email, 30);
    let signed = hand_signed(&user);
    assert_ne!(from_cli, user.token);
    for token in [&user.token, &from_cli, &signed] {
        assert_accepted(&app, token, &user.id, "before").await;
    }
    let events = app.count_rows("audit_events").await;

    // The `login` token.
    log_out(&app, &user.token, LOGOUT).await;
    assert_refused(&app, &user.token, Some(LOGGED_OUT), "the logged-out token").await;
    assert_accepted(&app, &from_cli, &user.id, "the `trestle token` token").await;
    assert_accepted(&app, &signed, &user.id, "another signed token").await;
    let event = last_audit_event(&app).await;
    assert_eq!(event.action, "user.logout");
    assert_eq!(app.count_rows("audit_events").await, events + 1);
    // Once ended it cannot log out again.
    let (status, again) = post(&app, &user.token, LOGOUT, json!({})).await;
    assert_eq!(status, 401, "{again}");
    assert_eq!(error_code(&again), "UNAUTHENTICATED", "{again}");

    // The `trestle token` token, the same way.
    log_out(&app, &from_cli, LOGOUT).await;
    assert_refused(&app, &from_cli, Some(LOGGED_OUT), "the CLI token").await;
    assert_refused(&app, &user.token, Some(LOGGED_OUT), "still").await;
    assert_accepted(&app, &signed, &user.id, "the last signed token").await;
}

#[tokio::test]
async fn two_sign_ins_in_the_same_second_are_separate_sessions() {
    let app = spawn_app().await;
    let (user, email) = person(&app, "Twice", "MEMBER").await;
    // Two devices sign in within the same second (retried until they do).
    let (first, second) = loop {
        let first = app.signed_in(&email, PASSWORD).await;
        let second = app.signed_in(&email, PASSWORD).await;
        if issued_at(&first.token) == issued_at(&second.token) {
            break (first, second);
        }
    };
    log_out(&app, &first.token, LOGOUT).await;
    assert_refused(&app, &first.token, Some(LOGGED_OUT), "the first device").await;
    assert_accepted(&app, &second.token, &user.id, "the second device").await;
}

#[tokio::test]
async fn an_api_token_may_not_log_out_and_ends_nothing() {
    let app = spawn_app().await;
    let (user, _) = person(&app, "Script", "MEMBER").await;
    let (secret, _) = api_token(&app, &user, "ci").await;
    let before_events = app.count_rows("audit_events").await;
    let before_users = app
        .as_user(&user, "{ viewer { version } }", json!({}))
        .await;
    for document in [LOGOUT, LOGOUT_EVERYWHERE] {
        let (status, body) = post(&app, &secret, document, json!({})).await;
        assert_eq!(status, 200, "{document}: {body}");
        assert_eq!(error_code(&body), "FORBIDDEN", "{document}: {body}");
        assert!(body["data"].is_null(), "{document}: {body}");
    }
    assert_eq!(app.count_rows("audit_events").await, before_events);
    assert_eq!(app.count_rows("revoked_sessions").await, 0);
    let after_users = app
        .as_user(&user, "{ viewer { version } }", json!({}))
        .await;
    assert_eq!(after_users, before_users);
    assert_accepted(&app, &secret, &user.id, "the API token").await;
    assert_accepted(&app, &user.token, &user.id, "the session").await;
    // Anonymous callers have nothing to log out.
    for document in [LOGOUT, LOGOUT_EVERYWHERE] {
        let body = app.graphql(None, document, json!({})).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
}

#[tokio::test]
async fn logout_everywhere_ends_every_signed_token_on_every_replica_but_not_api_tokens() {
    let (app, url) = app_and_url().await;
    // A second server on the same database.
    let other = spawn_app_on(TestDb::existing(&url), &[]).await;
    let (user, email) = person(&app, "Lost", "MEMBER").await;
    let bystander = app.member("Bystander").await;
    let from_cli = cli_token(&url, &email, 30);
    let signed = hand_signed(&user);
    let (secret, _) = api_token(&app, &user, "ci").await;
    for token in [&user.token, &from_cli, &signed, &secret] {
        assert_accepted(&other, token, &user.id, "before").await;
    }

    log_out(&app, &user.token, LOGOUT_EVERYWHERE).await;
    assert_eq!(last_audit_event(&app).await.action, "user.logoutEverywhere");
    // The replica that ended them refuses them at once (the loop's first
    // round); the other once it hears of the ending, having remembered the
    // caller until then (`tests/api/callers.rs`).
    assert_refused(&app, &user.token, Some(LOGGED_OUT), "at once").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while viewer_with(&other, &user.token).await.0 != 401 {
        assert!(Instant::now() < deadline, "the other replica never heard");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for server in [&app, &other] {
        for (token, what) in [
            (&user.token, "the login token"),
            (&from_cli, "the CLI token"),
            (&signed, "a hand-signed token"),
        ] {
            assert_refused(server, token, Some(LOGGED_OUT), what).await;
        }
        assert_accepted(server, &secret, &user.id, "the API token").await;
        assert_accepted(server, &bystander.token, &bystander.id, "another user").await;
    }

    // A login right after (most likely within the same second) works, on
    // both replicas; so does `trestle token`.
    let fresh = app.signed_in(&email, PASSWORD).await;
    assert_accepted(&app, &fresh.token, &user.id, "a login after").await;
    assert_accepted(&other, &fresh.token, &user.id, "a login after").await;
    let later = cli_token(&url, &email, 30);
    assert_accepted(&other, &later, &user.id, "a CLI token after").await;
}

#[tokio::test]
async fn logout_everywhere_ends_a_token_issued_just_after_an_earlier_one_in_the_same_second() {
    let app = spawn_app().await;
    let (_, email) = person(&app, "Twice", "MEMBER").await;
    // Logged out everywhere, signed in, logged out everywhere again: the
    // token in between was issued before the second and must end with it.
    // Retried until both endings fall within one second.
    for _ in 0..20 {
        let start = app.signed_in(&email, PASSWORD).await;
        let first = log_out(&app, &start.token, LOGOUT_EVERYWHERE).await;
        let between = app.signed_in(&email, PASSWORD).await;
        assert_accepted(&app, &between.token, &start.id, "the token in between").await;
        let second = log_out(&app, &between.token, LOGOUT_EVERYWHERE).await;
        assert_refused(
            &app,
            &between.token,
            Some(LOGGED_OUT),
            &format!("issued between the endings at {first} and {second}"),
        )
        .await;
        if first.get(..19) == second.get(..19) {
            return;
        }
    }
    panic!("the two endings never fell within one second");
}

// ------------------------------------------------------- open subscriptions

#[tokio::test]
async fn logout_closes_the_sockets_of_that_token_alone() {
    let app = spawn_app().await;
    let cast = cast(&app, "BYESOCK").await;
    let viewer = &cast.viewer;
    let email = email_of(&app, viewer).await;
    let login = app.signed_in(&email, PASSWORD).await;
    let other = hand_signed(viewer);
    let mut ending = watching(&app, &login.token, &cast.program).await;
    let mut staying = watching(&app, &other, &cast.program).await;
    subscribed(&app, 2).await;

    let started = Instant::now();
    log_out(&app, &login.token, LOGOUT).await;
    assert_closed(&mut ending, 4403, started, "the logged-out token's socket").await;
    let later = workstream(&app, &cast.editor, &cast.program, "After", json!({})).await;
    assert_eq!(
        staying.next_event("events").await["entityId"],
        later.as_str()
    );
    // The ended token cannot open another.
    let mut again = Socket::open(&app).await;
    again
        .init(json!({ "Authorization": format!("Bearer {}", login.token) }))
        .await;
    assert_eq!(again.close_code().await, 4403);
}

#[tokio::test]
async fn logout_everywhere_closes_every_signed_socket_of_the_user_but_not_an_api_tokens() {
    let app = spawn_app().await;
    let cast = cast(&app, "ALLSOCK").await;
    let viewer = &cast.viewer;
    let (secret, _) = api_token(&app, viewer, "live").await;
    let mut first = watching(&app, &viewer.token, &cast.program).await;
    let mut second = watching(&app, &hand_signed(viewer), &cast.program).await;
    let mut script = watching(&app, &secret, &cast.program).await;
    let mut bystander = watching(&app, &cast.editor.token, &cast.program).await;
    subscribed(&app, 4).await;

    let started = Instant::now();
    log_out(&app, &viewer.token, LOGOUT_EVERYWHERE).await;
    assert_closed(&mut first, 4403, started, "the first session").await;
    assert_closed(&mut second, 4403, started, "the second session").await;
    let later = workstream(&app, &cast.owner, &cast.program, "After", json!({})).await;
    for socket in [&mut script, &mut bystander] {
        assert_eq!(
            socket.next_event("events").await["entityId"],
            later.as_str()
        );
    }
}

#[tokio::test]
async fn deactivation_closes_every_socket_of_the_user_api_tokens_included() {
    let app = spawn_app().await;
    let cast = cast(&app, "GONESOCK").await;
    let viewer = &cast.viewer;
    let (secret, _) = api_token(&app, viewer, "live").await;
    let mut session = watching(&app, &viewer.token, &cast.program).await;
    let mut script = watching(&app, &secret, &cast.program).await;
    let mut bystander = watching(&app, &cast.editor.token, &cast.program).await;
    subscribed(&app, 3).await;

    let started = Instant::now();
    mutate(
        &app,
        &cast.admin,
        "deactivateUser",
        json!({ "id": viewer.id }),
        "user { isActive }",
    )
    .await;
    assert_closed(&mut session, 4403, started, "the session").await;
    assert_closed(&mut script, 4403, started, "the API token").await;
    let later = workstream(&app, &cast.owner, &cast.program, "After", json!({})).await;
    assert_eq!(
        bystander.next_event("events").await["entityId"],
        later.as_str()
    );
}

#[tokio::test]
async fn a_new_role_closes_the_users_sockets_so_they_reconnect_with_it() {
    let app = spawn_app().await;
    let cast = cast(&app, "ROLESOCK").await;
    let mut socket = watching(&app, &cast.viewer.token, &cast.program).await;
    subscribed(&app, 1).await;
    let started = Instant::now();
    mutate(
        &app,
        &cast.admin,
        "updateUser",
        json!({ "id": cast.viewer.id, "role": "ADMIN" }),
        "user { role }",
    )
    .await;
    assert_closed(&mut socket, 4403, started, "the promoted user's socket").await;
    // Counted afresh once the closed socket's subscription is gone, so the
    // event below comes after the new one is registered.
    unsubscribed(&app).await;
    // The same token signs in again, now as an ADMIN.
    let mut again = watching(&app, &cast.viewer.token, &cast.program).await;
    subscribed(&app, 1).await;
    let later = workstream(&app, &cast.owner, &cast.program, "After", json!({})).await;
    assert_eq!(again.next_event("events").await["entityId"], later.as_str());
}

#[tokio::test]
async fn endings_on_one_replica_close_sockets_on_another() {
    // Replicas share a database only on PostgreSQL (LISTEN/NOTIFY).
    if std::env::var("TRESTLE_TEST_DATABASE_URL").map_or(true, |url| url.is_empty()) {
        return;
    }
    let db = TestDb::new().await;
    let url = db.url.clone();
    let writer = spawn_app_on(db, &[]).await;
    let reader = spawn_app_on(TestDb::existing(&url), &[]).await;
    let cast = cast(&writer, "REPLEND").await;
    let leaving = writer.member("Leaving").await;
    let lost = writer.member("Lost").await;
    for user in [&leaving, &lost] {
        set_member(&writer, &cast.owner, &cast.program, user, "VIEWER").await;
    }
    let (secret, _) = api_token(&writer, &leaving, "live").await;
    let logged_out = hand_signed(&cast.viewer);
    let mut one = watching(&reader, &logged_out, &cast.program).await;
    let mut kept = watching(&reader, &cast.viewer.token, &cast.program).await;
    let mut everywhere = watching(&reader, &lost.token, &cast.program).await;
    let mut deactivated = watching(&reader, &leaving.token, &cast.program).await;
    let mut script = watching(&reader, &secret, &cast.program).await;
    subscribed(&reader, 5).await;

    let started = Instant::now();
    log_out(&writer, &logged_out, LOGOUT).await;
    assert_closed(&mut one, 4403, started, "logout on the other replica").await;

    let started = Instant::now();
    log_out(&writer, &lost.token, LOGOUT_EVERYWHERE).await;
    assert_closed(
        &mut everywhere,
        4403,
        started,
        "logoutEverywhere on the other replica",
    )
    .await;

    let started = Instant::now();
    mutate(
        &writer,
        &cast.admin,
        "deactivateUser",
        json!({ "id": leaving.id }),
        "user { isActive }",
    )
    .await;
    assert_closed(&mut deactivated, 4403, started, "deactivation: the session").await;
    assert_closed(&mut script, 4403, started, "deactivation: the API token").await;

    // The viewer's other session heard everything and is still open.
    let later = workstream(&writer, &cast.owner, &cast.program, "After", json!({})).await;
    loop {
        match kept.receive().await {
            Received::Message(message) if message["type"] == "next" => {
                if message["payload"]["data"]["programEvents"]["entityId"] == later.as_str() {
                    break;
                }
            }
            other => panic!("the viewer's other socket: {other:?}"),
        }
    }
}

// ------------------------------------------------------------------ roles

#[tokio::test]
async fn an_admin_changes_a_role_and_it_applies_to_the_next_request() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (user, email) = person(&app, "Promoted", "MEMBER").await;
    let member = app.member("Member").await;
    let (status, listed) = post(&app, &user.token, USERS, json!({})).await;
    assert_eq!(
        (status, error_code(&listed)),
        (200, "FORBIDDEN"),
        "{listed}"
    );
    let start = found_by_admin(&app, &admin, &email, &user.id).await;
    assert_eq!(start["role"], "MEMBER");
    let version = start["version"].as_i64().expect("a version");

    // A MEMBER may not, and nothing changes.
    let refused = attempt(
        &app,
        &member,
        "updateUser",
        json!({ "id": user.id, "role": "ADMIN", "expectedVersion": version }),
        "user { role version }",
    )
    .await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    assert!(refused["data"].is_null(), "{refused}");
    assert_eq!(found_by_admin(&app, &admin, &email, &user.id).await, start);

    // Promoted: the same token lists everyone at once.
    let promoted = mutate(
        &app,
        &admin,
        "updateUser",
        json!({ "id": user.id, "role": "ADMIN", "expectedVersion": version }),
        "user { role version }",
    )
    .await;
    assert_eq!(promoted["user"]["role"], "ADMIN", "{promoted}");
    assert_eq!(promoted["user"]["version"], version + 1, "{promoted}");
    assert_eq!(last_audit_event(&app).await.action, "user.update");
    let (status, listed) = post(&app, &user.token, USERS, json!({})).await;
    assert_eq!(status, 200, "{listed}");
    assert!(
        listed["data"]["users"]["totalCount"].as_i64() >= Some(3),
        "{listed}"
    );

    // A stale version conflicts and changes nothing.
    let stale = attempt(
        &app,
        &admin,
        "updateUser",
        json!({ "id": user.id, "role": "MEMBER", "expectedVersion": version }),
        "user { role version }",
    )
    .await;
    assert_eq!(error_code(&stale), "CONFLICT", "{stale}");
    let now = found_by_admin(&app, &admin, &email, &user.id).await;
    assert_eq!(
        (&now["role"], &now["version"]),
        (&json!("ADMIN"), &json!(version + 1))
    );

    // Demoted again: FORBIDDEN at once.
    let demoted = mutate(
        &app,
        &admin,
        "updateUser",
        json!({ "id": user.id, "role": "MEMBER", "expectedVersion": version + 1 }),
        "user { role version }",
    )
    .await;
    assert_eq!(demoted["user"]["role"], "MEMBER", "{demoted}");
    assert_eq!(demoted["user"]["version"], version + 2, "{demoted}");
    let (status, listed) = post(&app, &user.token, USERS, json!({})).await;
    assert_eq!(
        (status, error_code(&listed)),
        (200, "FORBIDDEN"),
        "{listed}"
    );
    // Only ADMIN-only operations changed: the token itself still works.
    assert_accepted(&app, &user.token, &user.id, "the demoted user's token").await;
    let as_demoted = attempt(
        &app,
        &user,
        "updateUser",
        json!({ "id": member.id, "role": "ADMIN" }),
        "user { role }",
    )
    .await;
    assert_eq!(error_code(&as_demoted), "FORBIDDEN", "{as_demoted}");
}

#[tokio::test]
async fn the_last_active_admin_can_be_neither_demoted_nor_deactivated() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let email = email_of(&app, &admin).await;
    let start = found_by_admin(&app, &admin, &email, &admin.id).await;
    let events = app.count_rows("audit_events").await;

    let demote = json!({ "id": admin.id, "role": "MEMBER" });
    let refused = attempt(&app, &admin, "updateUser", demote.clone(), "user { role }").await;
    assert_eq!(error_code(&refused), "CONFLICT", "{refused}");
    assert!(refused["data"].is_null(), "{refused}");
    let refused = attempt(
        &app,
        &admin,
        "deactivateUser",
        json!({ "id": admin.id }),
        "user { isActive }",
    )
    .await;
    assert_eq!(error_code(&refused), "CONFLICT", "{refused}");
    assert_eq!(found_by_admin(&app, &admin, &email, &admin.id).await, start);
    assert_eq!(app.count_rows("audit_events").await, events);
    assert_accepted(&app, &admin.token, &admin.id, "the admin").await;

    // A deactivated second ADMIN does not count.
    let (second, second_email) = person(&app, "Second", "ADMIN").await;
    mutate(
        &app,
        &admin,
        "deactivateUser",
        json!({ "id": second.id }),
        "user { isActive }",
    )
    .await;
    let refused = attempt(&app, &admin, "updateUser", demote.clone(), "user { role }").await;
    assert_eq!(error_code(&refused), "CONFLICT", "{refused}");

    // An active one does: then the first may step down.
    mutate(
        &app,
        &admin,
        "reactivateUser",
        json!({ "id": second.id }),
        "user { isActive }",
    )
    .await;
    let second = app.signed_in(&second_email, PASSWORD).await;
    let stepped_down = mutate(&app, &second, "updateUser", demote, "user { role }").await;
    assert_eq!(stepped_down["user"]["role"], "MEMBER");
    // Now the second is the last.
    let refused = attempt(
        &app,
        &second,
        "updateUser",
        json!({ "id": second.id, "role": "MEMBER" }),
        "user { role }",
    )
    .await;
    assert_eq!(error_code(&refused), "CONFLICT", "{refused}");
}

// ------------------------------------------------------------- deactivation

#[tokio::test]
async fn a_deactivated_user_is_shut_out_at_once_and_after_reactivation_only_new_sign_ins_work() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let searcher = app.member("Searcher").await;
    let name = format!("Leaver{}", uuid::Uuid::now_v7().simple());
    let (user, email) = person(&app, &name, "MEMBER").await;
    let (secret, _) = api_token(&app, &user, "ci").await;
    let search =
        "query($s: String) { users(search: $s, first: 10) { totalCount nodes { id isActive } } }";
    let found = app.as_user(&searcher, search, json!({ "s": name })).await;
    assert_eq!(found["data"]["users"]["totalCount"], 1, "{found}");
    let wrong_password = app
        .post(None, LOGIN, login_input(&email, "not-the-password"), &[])
        .await;
    let wrong_status = wrong_password.status().as_u16();

    let deactivated = mutate(
        &app,
        &admin,
        "deactivateUser",
        json!({ "id": user.id }),
        "user { id isActive deactivatedAt }",
    )
    .await;
    assert_eq!(deactivated["user"]["isActive"], false, "{deactivated}");
    let at = deactivated["user"]["deactivatedAt"]
        .as_str()
        .expect("a time");
    assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
    assert_eq!(last_audit_event(&app).await.action, "user.deactivate");

    // No sign-in, no token, no API token.
    let response = app
        .post(None, LOGIN, login_input(&email, PASSWORD), &[])
        .await;
    assert_eq!(response.status().as_u16(), wrong_status);
    let refused: Value = response.json().await.expect("JSON");
    assert_eq!(error_code(&refused), "UNAUTHENTICATED", "{refused}");
    assert_eq!(refused["errors"][0]["message"], DEACTIVATED, "{refused}");
    assert!(refused["data"].is_null(), "{refused}");
    assert_refused(&app, &user.token, Some(DEACTIVATED), "the session").await;
    assert_refused(&app, &secret, None, "the API token").await;
    // The wrong password still says only that the credentials are wrong.
    let wrong = app.login(&email, "not-the-password").await;
    assert_eq!(error_code(&wrong), "UNAUTHENTICATED", "{wrong}");

    // Staffing searches no longer find them; an ADMIN does.
    let found = app.as_user(&searcher, search, json!({ "s": name })).await;
    assert_eq!(found["data"]["users"]["totalCount"], 0, "{found}");
    let by_admin = found_by_admin(&app, &admin, &name, &user.id).await;
    assert_eq!(by_admin["isActive"], false, "{by_admin}");
    assert_eq!(by_admin["deactivatedAt"], at, "{by_admin}");

    // Reactivated: they sign in again, but what they held stays refused.
    let reactivated = mutate(
        &app,
        &admin,
        "reactivateUser",
        json!({ "id": user.id }),
        "user { isActive deactivatedAt }",
    )
    .await;
    assert_eq!(
        reactivated["user"],
        json!({ "isActive": true, "deactivatedAt": null })
    );
    assert_eq!(last_audit_event(&app).await.action, "user.reactivate");
    let back = app.signed_in(&email, PASSWORD).await;
    assert_accepted(&app, &back.token, &user.id, "a new login").await;
    assert_refused(&app, &user.token, None, "the earlier session").await;
    assert_refused(&app, &secret, None, "the earlier API token").await;
    let found = app.as_user(&searcher, search, json!({ "s": name })).await;
    assert_eq!(found["data"]["users"]["totalCount"], 1, "{found}");
    assert_eq!(found["data"]["users"]["nodes"][0]["isActive"], true);
}

const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { token } }";

fn login_input(email: &str, password: &str) -> Value {
    json!({ "input": { "email": email, "password": password } })
}

#[tokio::test]
async fn members_may_neither_deactivate_nor_reactivate_anyone() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let member = app.member("Member").await;
    let (target, email) = person(&app, "Target", "MEMBER").await;
    let (gone, gone_email) = person(&app, "Gone", "MEMBER").await;
    mutate(
        &app,
        &admin,
        "deactivateUser",
        json!({ "id": gone.id }),
        "user { isActive }",
    )
    .await;
    let events = app.count_rows("audit_events").await;
    for (name, id) in [("deactivateUser", &target.id), ("reactivateUser", &gone.id)] {
        let body = attempt(
            &app,
            &member,
            name,
            json!({ "id": id }),
            "user { isActive deactivatedAt }",
        )
        .await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{name}: {body}");
        assert!(body["data"].is_null(), "{name}: {body}");
    }
    assert_eq!(app.count_rows("audit_events").await, events);
    assert_eq!(
        found_by_admin(&app, &admin, &email, &target.id).await["isActive"],
        true
    );
    assert_eq!(
        found_by_admin(&app, &admin, &gone_email, &gone.id).await["isActive"],
        false
    );
    assert_accepted(&app, &target.token, &target.id, "the target").await;
}

// ------------------------------------------------------------------ Relay

/// Everything of one program, one object of each kind, with its type name.
async fn one_of_each(
    app: &TestApp,
    owner: &TestUser,
    reader: &TestUser,
) -> Vec<(String, &'static str)> {
    let program = program(app, owner, "NODES", json!({})).await;
    set_member(app, owner, &program, reader, "VIEWER").await;
    let team = team(
        app,
        owner,
        &format!("Team {}", uuid::Uuid::now_v7().simple()),
    )
    .await;
    let upstream = workstream(app, owner, &program, "Up", json!({})).await;
    let downstream = workstream(app, owner, &program, "Down", json!({})).await;
    let milestone = milestone(app, owner, &upstream, "M", json!({})).await;
    let dependency = dependency(app, owner, &upstream, &downstream, json!({})).await;
    let decision = decision(
        app,
        owner,
        &program,
        "Pick",
        json!({ "options": [{ "title": "A" }] }),
    )
    .await;
    let risk = risk(app, owner, &program, "R", json!({})).await;
    let update = status_update(app, owner, &program, "Fine").await;
    let baseline = baseline(app, owner, &program, "B").await;
    let comment = comment(app, owner, &decision, "Which?", &[]).await;
    let body = app
        .as_user(
            owner,
            "query($id: ID!) { program(id: $id) { members { id user { id } } activity(first: 1) { nodes { id } } decisions { nodes { options { id } } } } }",
            json!({ "id": program }),
        )
        .await;
    let p = &body["data"]["program"];
    let text = |value: &Value| {
        value
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned()
    };
    let member = p["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"]["id"] == reader.id.as_str())
        .map(|m| text(&m["id"]))
        .unwrap_or_else(|| panic!("{body}"));
    vec![
        (owner.id.clone(), "User"),
        (team, "Team"),
        (program.clone(), "Program"),
        (member, "ProgramMember"),
        (upstream, "Workstream"),
        (milestone, "Milestone"),
        (dependency, "Dependency"),
        (decision, "Decision"),
        (
            text(&p["decisions"]["nodes"][0]["options"][0]["id"]),
            "DecisionOption",
        ),
        (risk, "Risk"),
        (update, "StatusUpdate"),
        (baseline, "Baseline"),
        (comment, "Comment"),
        (text(&p["activity"]["nodes"][0]["id"]), "AuditEvent"),
    ]
}

const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id } }";
const NODES: &str = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";

#[tokio::test]
async fn node_and_nodes_refetch_every_kind_of_object() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let reader = app.member("Reader").await;
    let mut objects = one_of_each(&app, &owner, &reader).await;
    // The reader's own notification and API token.
    let program = objects[2].0.clone();
    let workstream = objects[4].0.clone();
    comment(&app, &owner, &workstream, "Look", &[&reader]).await;
    let inbox = app
        .as_user(
            &reader,
            "{ viewer { notifications(first: 1) { nodes { id } } } }",
            json!({}),
        )
        .await;
    let notification = inbox["data"]["viewer"]["notifications"]["nodes"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{inbox}"))
        .to_owned();
    let (_, token) = api_token(&app, &reader, "mine").await;
    objects.push((notification, "Notification"));
    objects.push((token, "ApiToken"));

    for (id, typename) in &objects {
        let body = app.as_user(&reader, NODE, json!({ "id": id })).await;
        assert!(body["errors"].is_null(), "{typename}: {body}");
        assert_eq!(
            body["data"]["node"],
            json!({ "__typename": typename, "id": id }),
            "{typename}: {body}"
        );
    }
    // A type's own fields through a fragment.
    let body = app
        .as_user(
            &reader,
            "query($id: ID!) { node(id: $id) { id ... on Program { key } ... on Workstream { name } } }",
            json!({ "id": program }),
        )
        .await;
    assert_eq!(body["data"]["node"]["key"], "NODES", "{body}");

    // In the order asked, a missing id as null, the same id twice.
    let missing = uuid::Uuid::now_v7().to_string();
    let mut ids: Vec<Value> = objects.iter().map(|(id, _)| json!(id)).collect();
    ids.insert(3, json!(missing));
    ids.push(json!(objects[0].0));
    let body = app.as_user(&reader, NODES, json!({ "ids": ids })).await;
    assert!(body["errors"].is_null(), "{body}");
    let answered = body["data"]["nodes"].as_array().expect("a list");
    assert_eq!(answered.len(), ids.len(), "{body}");
    for (asked, node) in ids.iter().zip(answered) {
        if asked == &json!(missing) {
            assert!(node.is_null(), "{body}");
        } else {
            assert_eq!(&node["id"], asked, "{body}");
        }
    }
    // Not an id at all.
    let body = app.as_user(&reader, NODE, json!({ "id": "nope" })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let body = app.graphql(None, NODE, json!({ "id": program })).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test]
async fn node_answers_null_for_what_the_viewer_may_not_see_as_for_a_missing_id() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let reader = app.member("Reader").await;
    let outsider = app.member("Outsider").await;
    let objects = one_of_each(&app, &owner, &reader).await;
    // The reader's own API token and notification are theirs alone.
    let (_, token) = api_token(&app, &reader, "mine").await;
    comment(&app, &owner, &objects[4].0, "Look", &[&reader]).await;
    let inbox = app
        .as_user(
            &reader,
            "{ viewer { notifications(first: 1) { nodes { id } } } }",
            json!({}),
        )
        .await;
    let notification = inbox["data"]["viewer"]["notifications"]["nodes"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{inbox}"))
        .to_owned();
    let mut hidden: Vec<String> = objects
        .iter()
        .filter(|(_, typename)| !matches!(*typename, "User" | "Team"))
        .map(|(id, _)| id.clone())
        .collect();
    hidden.push(token);
    hidden.push(notification);

    let missing = uuid::Uuid::now_v7().to_string();
    let absent = app.as_user(&outsider, NODE, json!({ "id": missing })).await;
    assert!(absent["errors"].is_null(), "{absent}");
    assert!(absent["data"]["node"].is_null(), "{absent}");
    let absent = absent.to_string().replace(&missing, "ID");
    for id in &hidden {
        let body = app.as_user(&outsider, NODE, json!({ "id": id })).await;
        assert_eq!(body.to_string().replace(id.as_str(), "ID"), absent, "{id}");
    }
    let body = app
        .as_user(&outsider, NODES, json!({ "ids": hidden }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(
        body["data"]["nodes"],
        json!(vec![Value::Null; hidden.len()]),
        "{body}"
    );
    // The directory is everyone's: people and teams.
    for (id, typename) in objects
        .iter()
        .filter(|(_, t)| matches!(*t, "User" | "Team"))
    {
        let body = app.as_user(&outsider, NODE, json!({ "id": id })).await;
        assert_eq!(body["data"]["node"]["__typename"], *typename, "{body}");
    }
}

#[tokio::test]
async fn sessions_ended_at_the_same_moment_all_end() {
    let app = spawn_app().await;
    let (_, email) = person(&app, "Tabs", "MEMBER").await;
    let mut tokens = Vec::new();
    for _ in 0..8 {
        tokens.push(app.signed_in(&email, PASSWORD).await.token);
    }
    // Eight tabs log out at once, while the account changes its name.
    let renamer = app.signed_in(&email, PASSWORD).await;
    let rename = app.post(
        Some(&renamer.token),
        "mutation { updateViewer(input: { name: \"Renamed\" }) { user { name } } }",
        json!({}),
        &[],
    );
    let logouts = futures::future::join_all(
        tokens
            .iter()
            .map(|token| post(&app, token, LOGOUT, json!({}))),
    );
    let (renamed, answers) = tokio::join!(rename, logouts);
    assert_eq!(renamed.status(), 200);
    for (status, body) in answers {
        assert_eq!(status, 200, "{body}");
        assert!(body["errors"].is_null(), "a logout lost a race: {body}");
    }
    for token in &tokens {
        assert_refused(&app, token, Some(LOGGED_OUT), "a tab that logged out").await;
    }
    assert_accepted(&app, &renamer.token, &renamer.id, "the tab that stayed").await;
}
