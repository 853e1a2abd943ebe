//! Sign-in, tokens, API tokens and user administration.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, error_code, error_field, spawn_app};

const VIEWER: &str = "{ viewer { id email role } }";

fn claims(sub: &str, exp_offset: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "sub": sub, "iat": now, "exp": now + exp_offset, "iss": "trestle", "aud": "trestle-api" })
}

fn sign(claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

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
async fn anonymous_callers_get_unauthenticated() {
    let app = spawn_app().await;
    let body = app.graphql(None, VIEWER, json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let body = app
        .graphql(None, "{ programs { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_token_that_really_decodes_names_its_user() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = sign(&claims(&admin.id, 300), crate::helpers::JWT_SECRET);
    let body = app.graphql(Some(&token), VIEWER, json!({})).await;
    assert_eq!(body["data"]["viewer"]["id"], admin.id.as_str());
}

#[tokio::test]
async fn expired_forged_and_unsigned_tokens_are_unauthenticated() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let secret = crate::helpers::JWT_SECRET;
    let header_none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(&admin.id, 300).to_string());
    let mut no_aud = claims(&admin.id, 300);
    no_aud.as_object_mut().unwrap().remove("aud");
    let mut wrong_iss = claims(&admin.id, 300);
    wrong_iss["iss"] = json!("someone-else");
    let mut future_iat = claims(&admin.id, 7200);
    future_iat["iat"] = json!(chrono::Utc::now().timestamp() + 3600);
    let mut not_yet = claims(&admin.id, 7200);
    not_yet["nbf"] = json!(chrono::Utc::now().timestamp() + 3600);
    let tokens = [
        ("expired", sign(&claims(&admin.id, -3600), secret)),
        ("forged", sign(&claims(&admin.id, 300), "another-secret")),
        ("alg none", format!("{header_none}.{payload}.")),
        ("no audience", sign(&no_aud, secret)),
        ("wrong issuer", sign(&wrong_iss, secret)),
        ("issued in the future", sign(&future_iat, secret)),
        ("not yet valid", sign(&not_yet, secret)),
        (
            "unknown user",
            sign(&claims(&uuid::Uuid::now_v7().to_string(), 300), secret),
        ),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (what, token) in tokens {
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .bearer_auth(&token)
            .json(&json!({ "query": VIEWER }))
            .send()
            .await
            .expect("response");
        assert_eq!(response.status(), 401, "{what}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{what}: {body}");
    }
}

#[tokio::test]
async fn api_tokens_work_until_revoked() {
    let app = spawn_app().await;
    let member = app.member("Scripter").await;
    let created = app
        .as_user(
            &member,
            "mutation { createApiToken(input: { name: \"CI sync\" }) { token apiToken { id name prefix revokedAt } } }",
            json!({}),
        )
        .await;
    let payload = &created["data"]["createApiToken"];
    let secret = payload["token"].as_str().expect("secret").to_owned();
    let id = payload["apiToken"]["id"].as_str().expect("id").to_owned();
    assert!(secret.starts_with(payload["apiToken"]["prefix"].as_str().unwrap()));

    let body = app.graphql(Some(&secret), VIEWER, json!({})).await;
    assert_eq!(body["data"]["viewer"]["id"], member.id.as_str());

    // The secret is never shown again.
    let listed = app
        .as_user(
            &member,
            "{ viewer { apiTokens { id name prefix } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["data"]["viewer"]["apiTokens"][0]["id"], id.as_str());
    assert!(!listed.to_string().contains(&secret));

    let revoked = app
        .as_user(
            &member,
            "mutation($id: ID!) { revokeApiToken(input: { id: $id }) { apiToken { revokedAt } } }",
            json!({ "id": id }),
        )
        .await;
    assert!(
        revoked["data"]["revokeApiToken"]["apiToken"]["revokedAt"].is_string(),
        "{revoked}"
    );
    let body = app.graphql(Some(&secret), VIEWER, json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn an_api_token_cannot_create_api_tokens() {
    let app = spawn_app().await;
    let member = app.member("Scripter").await;
    const CREATE: &str =
        "mutation { createApiToken(input: { name: \"child\" }) { token apiToken { id } } }";
    let created = app.as_user(&member, CREATE, json!({})).await;
    let secret = created["data"]["createApiToken"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    let tokens = app.count_rows("api_tokens").await;

    let body = app.graphql(Some(&secret), CREATE, json!({})).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert!(body["data"].is_null() || body["data"]["createApiToken"].is_null());
    assert_eq!(app.count_rows("api_tokens").await, tokens);
    // The token still reads as its user.
    let body = app.graphql(Some(&secret), VIEWER, json!({})).await;
    assert_eq!(body["data"]["viewer"]["id"], member.id.as_str());
}

#[tokio::test]
async fn members_cannot_revoke_someone_elses_token() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let other = app.member("Other").await;
    let created = app
        .as_user(
            &owner,
            "mutation { createApiToken(input: { name: \"mine\" }) { apiToken { id } } }",
            json!({}),
        )
        .await;
    let id = created["data"]["createApiToken"]["apiToken"]["id"]
        .as_str()
        .unwrap();
    let body = app
        .as_user(
            &other,
            "mutation($id: ID!) { revokeApiToken(input: { id: $id }) { apiToken { id } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
}

#[tokio::test]
async fn only_admins_list_and_create_users() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let member = app.member("Member").await;
    let listed = app
        .as_user(
            &admin,
            "{ users { totalCount nodes { email } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["data"]["users"]["totalCount"], 2);

    let refused = app
        .as_user(&member, "{ users { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    let refused = app
        .as_user(
            &member,
            "mutation { createUser(input: { email: \"x@y.z\", name: \"X\", password: \"password-1\" }) { user { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    assert_eq!(app.count_rows("users").await, 2);
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
    let response: Value = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("accept-language", "ko-KR,ko;q=0.9,en;q=0.5")
        .json(&json!({ "query": VIEWER }))
        .send()
        .await
        .unwrap()
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
    app.create_program(&member, "AUD", "Audited").await;
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
