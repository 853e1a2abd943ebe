//! Teams: anyone signed in creates and reads them; only the creator (or an
//! ADMIN) changes one; a team's workstreams respect program visibility.

use serde_json::{Value, json};

use crate::fixtures::{audit_actions, node_texts, program, set_member, team, workstream};
use crate::helpers::{TestApp, TestUser, error_code, error_field, spawn_app};

const CREATE: &str = "mutation($input: CreateTeamInput!) { createTeam(input: $input) { team { id name description version createdBy { id } createdAt updatedAt } } }";
const UPDATE: &str = "mutation($input: UpdateTeamInput!) { updateTeam(input: $input) { team { id name description version } } }";
const LOOKUP: &str = "query($id: ID!) { team(id: $id) { id name description } }";
const LIST: &str = "query($first: Int, $after: String, $filter: TeamFilter, $orderBy: TeamOrder) { teams(first: $first, after: $after, filter: $filter, orderBy: $orderBy) { totalCount nodes { name } pageInfo { hasNextPage endCursor } } }";

fn names(body: &Value) -> Vec<String> {
    node_texts(&body["data"]["teams"], "name")
}

async fn create(app: &TestApp, user: &TestUser, input: Value) -> Value {
    app.as_user(user, CREATE, json!({ "input": input })).await
}

#[tokio::test]
async fn any_signed_in_user_creates_and_reads_teams() {
    let app = spawn_app().await;
    let alice = app.member("Alice").await;
    let bob = app.member("Bob").await;
    let body = create(
        &app,
        &alice,
        json!({ "name": " Payments ", "description": "Owns checkout" }),
    )
    .await;
    let created = &body["data"]["createTeam"]["team"];
    assert_eq!(created["name"], "Payments", "{body}");
    assert_eq!(created["description"], "Owns checkout");
    assert_eq!(created["version"], 1);
    assert_eq!(created["createdBy"]["id"], alice.id.as_str());
    let id = created["id"].as_str().unwrap().to_owned();

    // Someone who has nothing to do with the team reads it too.
    let read = app.as_user(&bob, LOOKUP, json!({ "id": id })).await;
    assert_eq!(read["data"]["team"]["name"], "Payments", "{read}");
    let missing = app
        .as_user(
            &bob,
            LOOKUP,
            json!({ "id": uuid::Uuid::now_v7().to_string() }),
        )
        .await;
    assert!(
        missing["data"]["team"].is_null() && missing["errors"].is_null(),
        "{missing}"
    );

    for name in ["Search", "Platform", "Data platform"] {
        team(&app, &bob, name).await;
    }
    let body = app.as_user(&alice, LIST, json!({})).await;
    assert_eq!(
        names(&body),
        ["Data platform", "Payments", "Platform", "Search"]
    );
    let body = app
        .as_user(&alice, LIST, json!({ "filter": { "search": "PLAT" } }))
        .await;
    assert_eq!(names(&body), ["Data platform", "Platform"]);
    let body = app
        .as_user(
            &alice,
            LIST,
            json!({ "orderBy": { "field": "CREATED_AT", "direction": "DESC" } }),
        )
        .await;
    assert_eq!(
        names(&body),
        ["Data platform", "Platform", "Search", "Payments"]
    );

    // Paging by name.
    let first = app.as_user(&alice, LIST, json!({ "first": 3 })).await;
    assert_eq!(names(&first), ["Data platform", "Payments", "Platform"]);
    assert_eq!(first["data"]["teams"]["totalCount"], 4);
    let cursor = first["data"]["teams"]["pageInfo"]["endCursor"].clone();
    let next = app
        .as_user(&alice, LIST, json!({ "first": 3, "after": cursor }))
        .await;
    assert_eq!(names(&next), ["Search"]);
    assert_eq!(next["data"]["teams"]["pageInfo"]["hasNextPage"], false);

    assert_eq!(
        audit_actions(&app)
            .await
            .iter()
            .filter(|a| *a == "team.create")
            .count(),
        4
    );
}

#[tokio::test]
async fn team_names_are_unique_ignoring_case() {
    let app = spawn_app().await;
    let alice = app.member("Alice").await;
    let bob = app.member("Bob").await;
    team(&app, &alice, "Payments").await;
    let audits = app.count_rows("audit_events").await;
    for name in ["Payments", "payments", " PAYMENTS "] {
        let body = create(&app, &bob, json!({ "name": name })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{name}: {body}");
        assert_eq!(error_field(&body), "input.name");
    }
    // Renaming onto another team's name is refused the same way.
    let other = team(&app, &bob, "Search").await;
    let body = app
        .as_user(
            &bob,
            UPDATE,
            json!({ "input": { "id": other, "name": "PAYMENTS" } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.name");
    // Changing only the case of one's own name is fine.
    let body = app
        .as_user(
            &bob,
            UPDATE,
            json!({ "input": { "id": other, "name": "SEARCH" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateTeam"]["team"]["name"], "SEARCH",
        "{body}"
    );
    assert_eq!(app.count_rows("teams").await, 2);
    assert_eq!(app.count_rows("audit_events").await, audits + 2);
}

#[tokio::test]
async fn invalid_team_input_names_the_field_and_writes_nothing() {
    let app = spawn_app().await;
    let alice = app.member("Alice").await;
    let audits = app.count_rows("audit_events").await;
    for (input, field) in [
        (json!({ "name": "   " }), "input.name"),
        (json!({ "name": "x".repeat(201) }), "input.name"),
        (json!({ "name": "tab\u{0}" }), "input.name"),
        (
            json!({ "name": "ok", "description": "nul\u{0}" }),
            "input.description",
        ),
        (
            json!({ "name": "ok", "description": "d".repeat(20_001) }),
            "input.description",
        ),
    ] {
        let body = create(&app, &alice, input.clone()).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input}: {body}");
        assert_eq!(error_field(&body), field, "{input}");
    }
    assert_eq!(app.count_rows("teams").await, 0);
    assert_eq!(app.count_rows("audit_events").await, audits);
}

#[tokio::test]
async fn a_team_is_updated_at_its_version_with_absent_fields_kept_and_nulls_cleared() {
    let app = spawn_app().await;
    let creator = app.member("Creator").await;
    let admin = app.admin().await;
    let id = team(&app, &creator, "Payments").await;

    let body = app
        .as_user(
            &creator,
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 1, "description": "Checkout and billing" } }),
        )
        .await;
    let team = &body["data"]["updateTeam"]["team"];
    assert_eq!(team["description"], "Checkout and billing", "{body}");
    assert_eq!(team["name"], "Payments");
    assert_eq!(team["version"], 2);

    let audits = app.count_rows("audit_events").await;
    let body = app
        .as_user(
            &creator,
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 1, "name": "Stale" } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    let body = app
        .as_user(
            &creator,
            UPDATE,
            json!({ "input": { "id": id, "name": null } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(error_field(&body), "input.name");
    let body = app
        .as_user(
            &creator,
            UPDATE,
            json!({ "input": { "id": uuid::Uuid::now_v7().to_string(), "name": "Ghost" } }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    assert_eq!(app.count_rows("audit_events").await, audits);

    let body = app
        .as_user(
            &admin,
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 2, "name": "Payments & Billing", "description": null } }),
        )
        .await;
    let team = &body["data"]["updateTeam"]["team"];
    assert_eq!(team["name"], "Payments & Billing", "{body}");
    assert!(team["description"].is_null());
    assert_eq!(team["version"], 3);
    let actions = audit_actions(&app).await;
    assert_eq!(actions.last().map(String::as_str), Some("team.update"));
    assert_eq!(app.count_rows("audit_events").await, audits + 1);
}

#[tokio::test]
async fn a_team_lists_only_workstreams_in_programs_the_viewer_can_see() {
    let app = spawn_app().await;
    let alice = app.member("Alice").await;
    let bob = app.member("Bob").await;
    let carol = app.member("Carol").await;
    let admin = app.admin().await;
    let team = team(&app, &alice, "Platform").await;
    let open = program(&app, &alice, "OPEN", json!({})).await;
    let secret = program(&app, &bob, "SECRET", json!({})).await;
    set_member(&app, &alice, &open, &carol, "VIEWER").await;
    let staffed = json!({ "teamId": team });
    workstream(&app, &alice, &open, "Open work", staffed.clone()).await;
    workstream(&app, &bob, &secret, "Secret work", staffed).await;
    workstream(&app, &bob, &secret, "Unstaffed", json!({})).await;

    let query = "query($id: ID!) { team(id: $id) { workstreams(orderBy: { field: NAME }) { totalCount nodes { name program { key } } } } }";
    let seen = |user: &TestUser| {
        let user = user.clone();
        let app = &app;
        let team = team.clone();
        async move {
            let body = app.as_user(&user, query, json!({ "id": team })).await;
            node_texts(&body["data"]["team"]["workstreams"], "name")
        }
    };
    assert_eq!(seen(&alice).await, ["Open work"]);
    assert_eq!(seen(&carol).await, ["Open work"]);
    assert_eq!(seen(&bob).await, ["Secret work"]);
    assert_eq!(seen(&admin).await, ["Open work", "Secret work"]);
    let stranger = app.member("Stranger").await;
    assert_eq!(seen(&stranger).await, Vec::<String>::new());
}
