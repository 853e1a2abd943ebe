//! Remembered callers: a signed-in caller's account and memberships are
//! read once and remembered (`TRESTLE_CALLER_CACHE_SECS`), so a request
//! costs one statement less, until a change to accounts or memberships
//! commits — on this replica at once, on the others when PostgreSQL tells
//! them — or the time runs out (a change made outside Trestle).

use std::time::{Duration, Instant};

use entity::user;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

use crate::fixtures::{attempt, fewest_statements, mutation_document, program, set_member};
use crate::helpers::{
    ServerProcess, TestApp, TestDb, TestUser, error_code, migrate_up, post, post_graphql,
    spawn_app, spawn_app_with,
};

const PROGRAM_BY_KEY: &str = include_str!("../../benches/shapes/trestle-s1.graphql");
const LOGOUT_EVERYWHERE: &str = "mutation { logoutEverywhere { loggedOutAt } }";

async fn key_seen(app: &TestApp, user: &TestUser, key: &str) -> Value {
    let body = app
        .as_user(user, PROGRAM_BY_KEY, json!({ "key": key }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["program"]["key"].clone()
}

#[tokio::test]
async fn a_remembered_caller_costs_no_statement_and_a_change_to_access_is_seen_at_once() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let viewer = app.member("Viewer").await;
    let one = program(&app, &owner, "ONE", json!({})).await;
    let two = program(&app, &owner, "TWO", json!({})).await;
    set_member(&app, &owner, &one, &viewer, "VIEWER").await;

    // The program alone: the caller was read by an earlier request.
    let (statements, body) =
        fewest_statements(&app, &viewer, PROGRAM_BY_KEY, json!({ "key": "ONE" })).await;
    assert_eq!(body["data"]["program"]["key"], "ONE", "{body}");
    assert_eq!(statements, 1);
    assert_eq!(key_seen(&app, &viewer, "TWO").await, Value::Null);

    // Added, then removed: each seen by the very next request.
    set_member(&app, &owner, &two, &viewer, "VIEWER").await;
    assert_eq!(key_seen(&app, &viewer, "TWO").await, "TWO");
    let input = json!({ "programId": one, "userId": viewer.id });
    let removed = attempt(&app, &owner, "removeProgramMember", input, "removedUserId").await;
    assert!(removed["errors"].is_null(), "{removed}");
    assert_eq!(key_seen(&app, &viewer, "ONE").await, Value::Null);

    // A token ended is refused by the next request, remembered or not.
    key_seen(&app, &viewer, "TWO").await;
    let ended = app.as_user(&viewer, LOGOUT_EVERYWHERE, json!({})).await;
    assert!(ended["errors"].is_null(), "{ended}");
    let response = app
        .post(
            Some(&viewer.token),
            PROGRAM_BY_KEY,
            json!({ "key": "TWO" }),
            &[],
        )
        .await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn with_no_time_to_remember_every_request_reads_its_caller() {
    let app = spawn_app_with(&["--caller-cache-secs", "0"]).await;
    let owner = app.member("Owner").await;
    program(&app, &owner, "OWN", json!({})).await;
    let (statements, body) =
        fewest_statements(&app, &owner, PROGRAM_BY_KEY, json!({ "key": "OWN" })).await;
    assert_eq!(body["data"]["program"]["key"], "OWN", "{body}");
    assert_eq!(
        statements, 2,
        "the caller with its programs, and the program"
    );
}

#[tokio::test]
async fn a_change_made_outside_trestle_is_seen_once_the_time_runs_out() {
    let app = spawn_app_with(&["--caller-cache-secs", "1"]).await;
    let member = app.member("Member").await;
    let viewer = "{ viewer { id } }";
    assert!(app.as_user(&member, viewer, json!({})).await["errors"].is_null());
    // Deactivated by hand in SQL: no history entry, no notification.
    let db = &app.server.domain.db;
    let id: uuid::Uuid = member.id.parse().expect("a UUID");
    let updated = user::Entity::update_many()
        .col_expr(user::Column::DeactivatedAt, Expr::value(chrono::Utc::now()))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await
        .expect("the update");
    assert_eq!(updated.rows_affected, 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = app.post(Some(&member.token), viewer, json!({}), &[]).await;
        if response.status() == 401 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still accepted after 10 s: {} {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Two replicas remembering callers for ten minutes: what one commits
/// reaches what the other remembers through PostgreSQL's notifications.
#[tokio::test]
async fn a_replica_forgets_a_remembered_caller_when_another_commits_a_change_to_it() {
    let Ok(url) = std::env::var("TRESTLE_TEST_DATABASE_URL") else {
        return;
    };
    if url.is_empty() {
        return;
    }
    let db = TestDb::new().await;
    migrate_up(&db.url).await;
    let env = [
        ("TRESTLE_MIGRATE_ON_START", "false"),
        ("TRESTLE_CALLER_CACHE_SECS", "600"),
    ];
    let (a, b) = tokio::join!(
        ServerProcess::start(&db, &env, ""),
        ServerProcess::start(&db, &env, "")
    );
    let client = reqwest::Client::new();
    let admin = a.admin_token(&client).await;
    let ask = |replica: &ServerProcess, token: &str, query: &str, variables: Value| {
        let (client, address, token) = (client.clone(), replica.address.clone(), token.to_owned());
        let query = query.to_owned();
        async move {
            post_graphql(&client, &address, Some(&token), &query, variables)
                .await
                .expect("a JSON answer")
        }
    };
    let created = ask(
        &a,
        &admin,
        &mutation_document("createUser", "user { id }"),
        json!({ "input": { "email": "far@trestle.test", "name": "Far", "password": "password-123", "role": "MEMBER" } }),
    )
    .await;
    let member = created["data"]["createUser"]["user"]["id"].clone();
    let program = ask(
        &a,
        &admin,
        &mutation_document("createProgram", "program { id }"),
        json!({ "input": { "key": "FAR", "name": "Far" } }),
    )
    .await["data"]["createProgram"]["program"]["id"]
        .clone();
    let set = ask(
        &a,
        &admin,
        &mutation_document("setProgramMember", "member { role }"),
        json!({ "input": { "programId": program, "userId": member, "role": "VIEWER" } }),
    )
    .await;
    assert!(set["errors"].is_null(), "{set}");
    let login = post_graphql(
        &client,
        &b.address,
        None,
        &mutation_document("login", "token"),
        json!({ "input": { "email": "far@trestle.test", "password": "password-123" } }),
    )
    .await
    .expect("a JSON answer");
    let token = login["data"]["login"]["token"]
        .as_str()
        .expect("a token")
        .to_owned();

    // Remembered on B with the program.
    for _ in 0..3 {
        let body = ask(&b, &token, PROGRAM_BY_KEY, json!({ "key": "FAR" })).await;
        assert_eq!(body["data"]["program"]["key"], "FAR", "{body}");
    }
    // Removed on A: B stops showing it within moments, not ten minutes.
    let removed = ask(
        &a,
        &admin,
        &mutation_document("removeProgramMember", "removedUserId"),
        json!({ "input": { "programId": program, "userId": member } }),
    )
    .await;
    assert!(removed["errors"].is_null(), "{removed}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !ask(&b, &token, PROGRAM_BY_KEY, json!({ "key": "FAR" })).await["data"]["program"]
        .is_null()
    {
        assert!(
            Instant::now() < deadline,
            "B still shows the program 5 s later"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Ended on A: refused on B within moments.
    let ended = ask(&a, &token, LOGOUT_EVERYWHERE, json!({})).await;
    assert!(ended["errors"].is_null(), "{ended}");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let body = json!({ "query": "{ viewer { id } }" });
        let (status, _, answer) = post(&client, &b.address, Some(&token), body, None)
            .await
            .expect("B answers");
        if status == 401 {
            assert_eq!(error_code(&answer), "UNAUTHENTICATED");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "B still accepts the token 5 s later"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
