//! Sign-in, the first admin, user administration and the audit of every
//! write. Tokens, once issued, are `tokens`' business.

use serde_json::{Value, json};

use crate::fixtures::program;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, error_code, error_field, spawn_app};

const VIEWER: &str = "{ viewer { id email role } }";

#[tokio::test]
async fn admin_signs_in_and_sees_themself_as_viewer() {
    let app = spawn_app().await;
    let body = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let token = body["data"]["login"]["token"].as_str().expect("token");
    assert!(body["data"]["login"]["expiresAt"].is_string());
    let viewer = app.graphql(Some(token), VIEWER, json!({})).await;
    assert_eq!(viewer["data"]["viewer"]["email"], ADMIN_EMAIL);
    assert_eq!(viewer["data"]["viewer"]["role"], "ADMIN");
}

#[tokio::test]
async fn sign_in_is_case_insensitive_on_email() {
    let app = spawn_app().await;
    let body = app.login(&ADMIN_EMAIL.to_uppercase(), ADMIN_PASSWORD).await;
    assert!(body["data"]["login"]["token"].is_string(), "{body}");
}

#[tokio::test]
async fn wrong_password_and_unknown_user_are_refused_alike() {
    let app = spawn_app().await;
    let wrong = app.login(ADMIN_EMAIL, "not-the-password").await;
    let unknown = app.login("nobody@trestle.test", ADMIN_PASSWORD).await;
    assert_eq!(error_code(&wrong), "UNAUTHENTICATED");
    assert_eq!(error_code(&unknown), "UNAUTHENTICATED");
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert!(wrong["data"].is_null());
}

#[tokio::test]
async fn the_admin_lists_every_user() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    app.member("Member").await;
    let listed = app
        .as_user(
            &admin,
            "{ users { totalCount nodes { email } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["data"]["users"]["totalCount"], 2);
}

#[tokio::test]
async fn duplicate_emails_conflict_case_insensitively() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let create =
        "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id email } } }";
    let first = app
        .as_user(&admin, create, json!({ "input": { "email": "Ada@Example.com", "name": "Ada", "password": "password-1" } }))
        .await;
    assert_eq!(
        first["data"]["createUser"]["user"]["email"],
        "ada@example.com"
    );
    let second = app
        .as_user(&admin, create, json!({ "input": { "email": "ADA@example.COM", "name": "Ada 2", "password": "password-1" } }))
        .await;
    assert_eq!(error_code(&second), "CONFLICT");
}

#[tokio::test]
async fn invalid_user_input_names_the_field() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let create = "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }";
    let cases = [
        (
            json!({ "email": "no-at", "name": "N", "password": "password-1" }),
            "input.email",
        ),
        (
            json!({ "email": "a@b.c", "name": "N", "password": "short" }),
            "input.password",
        ),
        (
            json!({ "email": "a@b.c", "name": "bad\u{0}name", "password": "password-1" }),
            "input.name",
        ),
        (
            json!({ "email": "a@b.c", "name": "x".repeat(201), "password": "password-1" }),
            "input.name",
        ),
    ];
    for (input, field) in cases {
        let body = app.as_user(&admin, create, json!({ "input": input })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), field, "{body}");
    }
    assert_eq!(app.count_rows("users").await, 1);
}

#[tokio::test]
async fn messages_follow_the_callers_locale() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let create = "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }";
    app.as_user(&admin, create, json!({ "input": { "email": "ko@trestle.test", "name": "김", "password": "password-1", "locale": "KO" } }))
        .await;
    let session = app.login("ko@trestle.test", "password-1").await;
    let token = session["data"]["login"]["token"].as_str().unwrap();
    let body = app
        .graphql(Some(token), "{ users { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    assert_eq!(
        body["errors"][0]["message"],
        "관리자만 할 수 있는 작업입니다."
    );

    // Anonymous callers get the language of Accept-Language.
    let korean = [("accept-language", "ko-KR,ko;q=0.9,en;q=0.5")];
    let response: Value = app
        .post(None, VIEWER, json!({}), &korean)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(response["errors"][0]["message"], "로그인이 필요합니다.");
}

#[tokio::test]
async fn every_successful_mutation_writes_one_audit_event() {
    let app = spawn_app().await;
    let before = app.count_rows("audit_events").await;
    let member = app.member("Auditor").await;
    assert_eq!(app.count_rows("audit_events").await, before + 1);
    program(&app, &member, "AUD", json!({})).await;
    assert_eq!(app.count_rows("audit_events").await, before + 2);
    // A refused mutation writes nothing.
    let body = app
        .as_user(&member, "mutation { createProgram(input: { key: \"AUD\", name: \"Again\" }) { program { id } } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(app.count_rows("audit_events").await, before + 2);
}

#[tokio::test]
async fn the_first_start_admin_is_created_only_on_an_empty_database() {
    let app = crate::helpers::spawn_app_with(&["--env", "development"]).await;
    assert_eq!(app.count_rows("users").await, 1);
    let admin_exists = app.login("admin@localhost", "wrong-password").await;
    assert_eq!(error_code(&admin_exists), "UNAUTHENTICATED");
    let production = crate::helpers::spawn_app_with(&["--env", "production"]).await;
    assert_eq!(production.count_rows("users").await, 0);
}
