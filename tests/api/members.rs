//! Program membership and the program's history.

use serde_json::{Value, json};

use crate::fixtures::{attempt, program, set_member};
use crate::helpers::{TestApp, TestUser, error_code, error_field, spawn_app};

const REMOVE: &str = "mutation($input: RemoveProgramMemberInput!) { removeProgramMember(input: $input) { removedUserId program { id } } }";

/// Ask as `by` for `user` to have `role` in `program`; the whole response.
async fn try_set_member(
    app: &TestApp,
    by: &TestUser,
    program: &str,
    user: &TestUser,
    role: &str,
) -> Value {
    let input = json!({ "programId": program, "userId": user.id, "role": role });
    attempt(app, by, "setProgramMember", input, "member { role }").await
}

#[tokio::test]
async fn owners_add_members_who_then_see_the_program_with_their_role() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let editor = app.member("Editor").await;
    let program = program(&app, &owner, "MEM", json!({})).await;
    let id = program.as_str();

    let added = set_member(&app, &owner, id, &editor, "EDITOR").await;
    assert_eq!(added["member"]["user"]["id"], editor.id.as_str());
    let seen = app
        .as_user(
            &editor,
            "query($id: ID!) { program(id: $id) { viewerRole viewerCanEdit members { role } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(seen["data"]["program"]["viewerRole"], "EDITOR");
    assert_eq!(seen["data"]["program"]["viewerCanEdit"], true);
    assert_eq!(
        seen["data"]["program"]["members"].as_array().unwrap().len(),
        2
    );

    set_member(&app, &owner, id, &editor, "VIEWER").await;
    let seen = app
        .as_user(
            &editor,
            "query($id: ID!) { program(id: $id) { viewerRole viewerCanEdit } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(seen["data"]["program"]["viewerCanEdit"], false);
}

/// How many OWNERs `program` has, read straight from the database.
async fn owners(app: &TestApp, program: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let db = &app.server.domain.db;
    let program: uuid::Uuid = program.parse().unwrap();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            format!(
                "SELECT COUNT(*) AS n FROM program_members WHERE program_id = {} AND role = 'OWNER'",
                match db.get_database_backend() {
                    sea_orm::DbBackend::Postgres => "$1",
                    _ => "?",
                }
            ),
            [program.into()],
        ))
        .await
        .expect("count owners")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("a count")
}

#[tokio::test]
async fn two_owners_demoting_or_removing_each_other_at_once_leave_one_owner() {
    let app = spawn_app().await;
    let first = app.member("First").await;
    let second = app.member("Second").await;
    for trial in 0..10 {
        let key = format!("RACE{trial}");
        let id = program(&app, &first, &key, json!({})).await;
        set_member(&app, &first, &id, &second, "OWNER").await;
        assert_eq!(owners(&app, &id).await, 2);
        // Even trials demote, odd ones remove: each owner acts on the other.
        let act = |by: &TestUser, other: &TestUser| {
            let (app, id) = (&app, id.clone());
            let (by, other) = (by.clone(), other.clone());
            async move {
                if trial % 2 == 0 {
                    try_set_member(app, &by, &id, &other, "VIEWER").await
                } else {
                    app.as_user(
                        &by,
                        REMOVE,
                        json!({ "input": { "programId": id, "userId": other.id } }),
                    )
                    .await
                }
            }
        };
        let (a, b) = tokio::join!(act(&first, &second), act(&second, &first));
        assert_eq!(
            owners(&app, &id).await,
            1,
            "trial {trial} left no single owner: {a} {b}"
        );
        // Exactly one of the two won; the other was refused.
        let refused = [&a, &b]
            .iter()
            .filter(|body| body["errors"].is_array())
            .count();
        assert_eq!(refused, 1, "trial {trial}: {a} {b}");
    }
}

#[tokio::test]
async fn the_last_owner_cannot_leave_or_be_demoted() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let second = app.member("Second").await;
    let program = program(&app, &owner, "LAST", json!({})).await;
    let id = program.as_str();

    let body = try_set_member(&app, &owner, id, &owner, "EDITOR").await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(error_field(&body), "input.role");
    let body = app
        .as_user(
            &owner,
            REMOVE,
            json!({ "input": { "programId": id, "userId": owner.id } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");

    set_member(&app, &owner, id, &second, "OWNER").await;
    let body = app
        .as_user(
            &owner,
            REMOVE,
            json!({ "input": { "programId": id, "userId": owner.id } }),
        )
        .await;
    assert_eq!(
        body["data"]["removeProgramMember"]["removedUserId"],
        owner.id.as_str(),
        "{body}"
    );
    // Having left, the former owner no longer sees the program.
    assert!(body["data"]["removeProgramMember"]["program"].is_null());
    let lookup = app
        .as_user(
            &owner,
            "query($id: ID!) { program(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert!(lookup["data"]["program"].is_null());
}

#[tokio::test]
async fn unknown_users_are_bad_input() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let program = program(&app, &owner, "UNK", json!({})).await;
    let input = json!({ "programId": program, "userId": uuid::Uuid::now_v7().to_string(), "role": "VIEWER" });
    let body = attempt(&app, &owner, "setProgramMember", input, "member { role }").await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(error_field(&body), "input.userId");
}

#[tokio::test]
async fn activity_lists_every_change_newest_first() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let editor = app.member("Editor").await;
    let program = program(&app, &owner, "HIST", json!({ "name": "History" })).await;
    let id = program.as_str();
    set_member(&app, &owner, id, &editor, "EDITOR").await;
    app.as_user(
        &owner,
        "mutation($id: ID!) { updateProgram(input: { id: $id, name: \"History 2\" }) { program { name } } }",
        json!({ "id": id }),
    )
    .await;
    let body = app
        .as_user(
            &editor,
            "query($id: ID!) { program(id: $id) { activity { totalCount nodes { action entityType actor { id } changes } } } }",
            json!({ "id": id }),
        )
        .await;
    let activity = &body["data"]["program"]["activity"];
    assert_eq!(activity["totalCount"], 3, "{body}");
    let actions: Vec<&str> = activity["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["program.update", "member.set", "program.create"]);
    assert_eq!(activity["nodes"][0]["changes"]["name"]["before"], "History");
    assert_eq!(
        activity["nodes"][0]["changes"]["name"]["after"],
        "History 2"
    );
    assert_eq!(activity["nodes"][0]["actor"]["id"], owner.id.as_str());

    let filtered = app
        .as_user(
            &editor,
            "query($id: ID!) { program(id: $id) { activity(filter: { entityType: \"ProgramMember\" }) { totalCount } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(filtered["data"]["program"]["activity"]["totalCount"], 1);
}
