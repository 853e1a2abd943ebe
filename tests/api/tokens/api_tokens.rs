//! API tokens: a secret shown once, working until revoked, and never a way
//! to mint more of them.

use serde_json::json;

use crate::fixtures::tokens::VIEWER;
use crate::fixtures::{api_token, mutate, revoke_api_token};
use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn api_tokens_work_until_revoked() {
    let app = spawn_app().await;
    let member = app.member("Scripter").await;
    let payload = mutate(
        &app,
        &member,
        "createApiToken",
        json!({ "name": "CI sync" }),
        "token apiToken { id name prefix revokedAt }",
    )
    .await;
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

    revoke_api_token(&app, &member, &id).await;
    let body = app.graphql(Some(&secret), VIEWER, json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn an_api_token_cannot_create_api_tokens() {
    let app = spawn_app().await;
    let member = app.member("Scripter").await;
    let (secret, _) = api_token(&app, &member, "child").await;
    let tokens = app.count_rows("api_tokens").await;

    let body = app
        .graphql(
            Some(&secret),
            "mutation { createApiToken(input: { name: \"child\" }) { token apiToken { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert!(body["data"].is_null() || body["data"]["createApiToken"].is_null());
    assert_eq!(app.count_rows("api_tokens").await, tokens);
    // The token still reads as its user.
    let body = app.graphql(Some(&secret), VIEWER, json!({})).await;
    assert_eq!(body["data"]["viewer"]["id"], member.id.as_str());
}
