//! Program membership and the program's history.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, error_code, error_field, spawn_app};

const SET: &str = "mutation($input: SetProgramMemberInput!) { setProgramMember(input: $input) { member { role user { id } } } }";
const REMOVE: &str = "mutation($input: RemoveProgramMemberInput!) { removeProgramMember(input: $input) { removedUserId program { id } } }";

async fn set_member(
    app: &TestApp,
    by: &TestUser,
    program: &str,
    user: &TestUser,
    role: &str,
) -> Value {
    app.as_user(
        by,
        SET,
        json!({ "input": { "programId": program, "userId": user.id, "role": role } }),
    )
    .await
}

#[tokio::test]
async fn owners_add_members_who_then_see_the_program_with_their_role() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let editor = app.member("Editor").await;
    let program = app.create_program(&owner, "MEM", "Members").await;
    let id = program["id"].as_str().unwrap();

    let body = set_member(&app, &owner, id, &editor, "EDITOR").await;
    assert_eq!(
        body["data"]["setProgramMember"]["member"]["role"], "EDITOR",
        "{body}"
    );
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

    let body = set_member(&app, &owner, id, &editor, "VIEWER").await;
    assert_eq!(body["data"]["setProgramMember"]["member"]["role"], "VIEWER");
    let seen = app
        .as_user(
            &editor,
            "query($id: ID!) { program(id: $id) { viewerRole viewerCanEdit } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(seen["data"]["program"]["viewerCanEdit"], false);
}

#[tokio::test]
async fn only_owners_manage_members() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let editor = app.member("Editor").await;
    let viewer = app.member("Viewer").await;
    let outsider = app.member("Outsider").await;
    let program = app.create_program(&owner, "MGR", "Managed").await;
    let id = program["id"].as_str().unwrap();
    set_member(&app, &owner, id, &editor, "EDITOR").await;
    set_member(&app, &owner, id, &viewer, "VIEWER").await;

    assert_eq!(
        error_code(&set_member(&app, &editor, id, &outsider, "VIEWER").await),
        "FORBIDDEN"
    );
    assert_eq!(
        error_code(&set_member(&app, &viewer, id, &outsider, "VIEWER").await),
        "FORBIDDEN"
    );
    assert_eq!(
        error_code(&set_member(&app, &outsider, id, &outsider, "OWNER").await),
        "NOT_FOUND"
    );
    let anonymous = app
        .graphql(
            None,
            SET,
            json!({ "input": { "programId": id, "userId": outsider.id, "role": "VIEWER" } }),
        )
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    let admin = app.admin().await;
    let body = set_member(&app, &admin, id, &outsider, "VIEWER").await;
    assert_eq!(
        body["data"]["setProgramMember"]["member"]["role"], "VIEWER",
        "{body}"
    );
    assert_eq!(app.count_rows("program_members").await, 4);
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
        let program = app.create_program(&first, &key, "Race").await;
        let id = program["id"].as_str().unwrap().to_owned();
        set_member(&app, &first, &id, &second, "OWNER").await;
        assert_eq!(owners(&app, &id).await, 2);
        // Even trials demote, odd ones remove: each owner acts on the other.
        let act = |by: &TestUser, other: &TestUser| {
            let (app, id) = (&app, id.clone());
            let (by, other) = (by.clone(), other.clone());
            async move {
                if trial % 2 == 0 {
                    set_member(app, &by, &id, &other, "VIEWER").await
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
    let program = app.create_program(&owner, "LAST", "Last owner").await;
    let id = program["id"].as_str().unwrap();

    let body = set_member(&app, &owner, id, &owner, "EDITOR").await;
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
async fn members_can_leave_but_not_remove_others() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let a = app.member("A").await;
    let b = app.member("B").await;
    let program = app.create_program(&owner, "LEAVE", "Leaving").await;
    let id = program["id"].as_str().unwrap();
    set_member(&app, &owner, id, &a, "EDITOR").await;
    set_member(&app, &owner, id, &b, "VIEWER").await;
    let body = app
        .as_user(
            &a,
            REMOVE,
            json!({ "input": { "programId": id, "userId": b.id } }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let body = app
        .as_user(
            &b,
            REMOVE,
            json!({ "input": { "programId": id, "userId": b.id } }),
        )
        .await;
    assert_eq!(
        body["data"]["removeProgramMember"]["removedUserId"],
        b.id.as_str(),
        "{body}"
    );
    let body = app
        .as_user(
            &owner,
            REMOVE,
            json!({ "input": { "programId": id, "userId": b.id } }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
}

#[tokio::test]
async fn unknown_users_are_bad_input() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let program = app.create_program(&owner, "UNK", "Unknown").await;
    let body = app
        .as_user(
            &owner,
            SET,
            json!({ "input": { "programId": program["id"], "userId": uuid::Uuid::now_v7().to_string(), "role": "VIEWER" } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(error_field(&body), "input.userId");
}

#[tokio::test]
async fn activity_lists_every_change_newest_first() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let editor = app.member("Editor").await;
    let program = app.create_program(&owner, "HIST", "History").await;
    let id = program["id"].as_str().unwrap();
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
