//! People manage their own accounts: name, language and password; and find
//! each other by name or email to staff a program.

use serde_json::json;

use crate::fixtures::{api_token, attempt, mutate};
use crate::helpers::{TestUser, error_code, spawn_app};

const ME: &str = "{ viewer { name locale version } }";

#[tokio::test]
async fn people_change_their_own_name_language_and_password() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let email = format!("mina-{}@trestle.test", uuid::Uuid::now_v7().simple());
    let created = mutate(
        &app,
        &admin,
        "createUser",
        json!({ "email": email, "name": "Mina", "password": "first-password" }),
        "user { id }",
    )
    .await;
    let mina: TestUser = app.signed_in(&email, "first-password").await;
    assert_eq!(created["user"]["id"], mina.id.as_str());

    // Name and language; the messages follow the language at once.
    let changed = mutate(
        &app,
        &mina,
        "updateViewer",
        json!({ "name": "Mina Kim", "locale": "KO", "expectedVersion": 1 }),
        "user { name locale version }",
    )
    .await;
    assert_eq!(changed["user"]["name"], "Mina Kim");
    assert_eq!(changed["user"]["locale"], "KO");
    let me = app.as_user(&mina, ME, json!({})).await;
    assert_eq!(me["data"]["viewer"]["locale"], "KO", "{me}");
    let refused = attempt(&app, &mina, "updateViewer", json!({}), "user { id }").await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("변경할 항목"),
        "in Korean now: {refused}"
    );
    let stale = attempt(
        &app,
        &mina,
        "updateViewer",
        json!({ "name": "X", "expectedVersion": 1 }),
        "user { id }",
    )
    .await;
    assert_eq!(error_code(&stale), "CONFLICT", "{stale}");
    let blank = attempt(
        &app,
        &mina,
        "updateViewer",
        json!({ "name": " " }),
        "user { id }",
    )
    .await;
    assert_eq!(error_code(&blank), "BAD_USER_INPUT", "{blank}");

    // The password: the current one is required, a short one refused, an
    // API token may not change it; then only the new one signs in.
    let wrong = attempt(
        &app,
        &mina,
        "changePassword",
        json!({ "currentPassword": "not-it-at-all", "newPassword": "second-password" }),
        "user { id }",
    )
    .await;
    assert_eq!(error_code(&wrong), "BAD_USER_INPUT", "{wrong}");
    assert_eq!(
        wrong["errors"][0]["extensions"]["field"],
        "input.currentPassword"
    );
    let short = attempt(
        &app,
        &mina,
        "changePassword",
        json!({ "currentPassword": "first-password", "newPassword": "short" }),
        "user { id }",
    )
    .await;
    assert_eq!(
        short["errors"][0]["extensions"]["field"], "input.newPassword",
        "{short}"
    );
    let (secret, _) = api_token(&app, &mina, "script").await;
    let script = TestUser {
        id: mina.id.clone(),
        token: secret,
    };
    let by_token = attempt(
        &app,
        &script,
        "changePassword",
        json!({ "currentPassword": "first-password", "newPassword": "second-password" }),
        "user { id }",
    )
    .await;
    assert_eq!(error_code(&by_token), "FORBIDDEN", "{by_token}");
    mutate(
        &app,
        &mina,
        "changePassword",
        json!({ "currentPassword": "first-password", "newPassword": "second-password" }),
        "user { id }",
    )
    .await;
    let old = app.login(&email, "first-password").await;
    assert_eq!(error_code(&old), "UNAUTHENTICATED", "{old}");
    app.signed_in(&email, "second-password").await;
}

#[tokio::test]
async fn anyone_signed_in_finds_people_by_name_or_email_but_only_admins_list_everyone() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    app.member("Seo-yeon").await;
    app.member("Sam").await;
    let search =
        "query($s: String) { users(search: $s, first: 10) { totalCount nodes { name email } } }";
    let found = app.as_user(&tpm, search, json!({ "s": "SEO" })).await;
    assert_eq!(found["data"]["users"]["totalCount"], 1, "{found}");
    assert_eq!(found["data"]["users"]["nodes"][0]["name"], "Seo-yeon");
    let by_email = app.as_user(&tpm, search, json!({ "s": "sam-" })).await;
    assert_eq!(by_email["data"]["users"]["totalCount"], 1, "{by_email}");
    // `%` and `_` are letters, not wildcards.
    let wildcard = app.as_user(&tpm, search, json!({ "s": "%" })).await;
    assert_eq!(wildcard["data"]["users"]["totalCount"], 0, "{wildcard}");
    let everyone = app.as_user(&tpm, search, json!({ "s": null })).await;
    assert_eq!(error_code(&everyone), "FORBIDDEN", "{everyone}");
    let admin = app.admin().await;
    let all = app.as_user(&admin, search, json!({ "s": null })).await;
    assert_eq!(all["data"]["users"]["totalCount"], 4, "{all}");
    let anonymous = app.graphql(None, search, json!({ "s": "sam" })).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
}
