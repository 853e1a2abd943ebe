//! Dependencies between workstreams, within and across programs: writing
//! them, who may, and who can see them from where.

use chrono::{Days, Utc};
use serde_json::{Value, json};

use crate::fixtures::{
    audit_actions, depend, dependency, node_texts, program, set_member, workstream,
};
use crate::helpers::{TestApp, TestUser, error_code, error_field, spawn_app};

const CREATE: &str = "mutation($input: CreateDependencyInput!) { createDependency(input: $input) { dependency { id description neededBy status committedDate committedBy { id } isOverdue commitmentGapDays version upstream { id } downstream { id } } } }";
const UPDATE: &str = "mutation($input: UpdateDependencyInput!) { updateDependency(input: $input) { dependency { id description neededBy status committedDate committedBy { id } isOverdue commitmentGapDays version } } }";
const DELETE: &str = "mutation($input: DeleteDependencyInput!) { deleteDependency(input: $input) { deletedDependencyId upstream { id } downstream { id } } }";
const LOOKUP: &str =
    "query($id: ID!) { dependency(id: $id) { id upstream { id name } downstream { id name } } }";
const PROGRAM_DEPENDENCIES: &str = "query($id: ID!, $filter: DependencyFilter, $orderBy: DependencyOrder, $first: Int, $after: String) { program(id: $id) { dependencies(filter: $filter, orderBy: $orderBy, first: $first, after: $after) { totalCount nodes { id description isOverdue } pageInfo { hasNextPage endCursor } } } }";
const WORKSTREAM_ENDS: &str = "query($id: ID!) { workstream(id: $id) { upstream { totalCount nodes { id } } downstream { totalCount nodes { id } } } }";

fn day(offset: i64) -> String {
    let today = Utc::now().date_naive();
    let day = if offset >= 0 {
        today.checked_add_days(Days::new(offset as u64))
    } else {
        today.checked_sub_days(Days::new(offset.unsigned_abs()))
    };
    day.unwrap().format("%Y-%m-%d").to_string()
}

fn program_dependency_ids(body: &Value) -> Vec<String> {
    node_texts(&body["data"]["program"]["dependencies"], "id")
}

fn end_ids(body: &Value, end: &str) -> Vec<String> {
    node_texts(&body["data"]["workstream"][end], "id")
}

#[tokio::test]
async fn an_editor_records_a_dependency_and_reads_it_from_both_ends() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let editor = app.member("Editor").await;
    let promiser = app.member("Promiser").await;
    let p = program(&app, &owner, "DEP", json!({})).await;
    set_member(&app, &owner, &p, &editor, "EDITOR").await;
    set_member(&app, &owner, &p, &promiser, "VIEWER").await;
    let api = workstream(&app, &owner, &p, "Payments API", json!({})).await;
    let app_ws = workstream(&app, &owner, &p, "Checkout app", json!({})).await;
    let audits = app.count_rows("audit_events").await;

    let body = app
        .as_user(
            &editor,
            CREATE,
            json!({ "input": { "upstreamId": api, "downstreamId": app_ws, "description": "Refund endpoint", "neededBy": "2099-03-01", "committedDate": "2099-03-11", "committedById": promiser.id } }),
        )
        .await;
    let dep = &body["data"]["createDependency"]["dependency"];
    assert_eq!(dep["status"], "OPEN", "{body}");
    assert_eq!(dep["upstream"]["id"], api.as_str());
    assert_eq!(dep["downstream"]["id"], app_ws.as_str());
    assert_eq!(dep["neededBy"], "2099-03-01");
    assert_eq!(dep["committedDate"], "2099-03-11");
    assert_eq!(dep["committedBy"]["id"], promiser.id.as_str());
    assert_eq!(dep["commitmentGapDays"], 10);
    assert_eq!(dep["isOverdue"], false);
    assert_eq!(dep["version"], 1);
    let id = dep["id"].as_str().unwrap().to_owned();

    let body = app.as_user(&owner, LOOKUP, json!({ "id": id })).await;
    assert_eq!(
        body["data"]["dependency"]["upstream"]["name"], "Payments API",
        "{body}"
    );
    let body = app
        .as_user(&owner, WORKSTREAM_ENDS, json!({ "id": app_ws }))
        .await;
    assert_eq!(end_ids(&body, "upstream"), [id.as_str()]);
    assert_eq!(end_ids(&body, "downstream"), Vec::<String>::new());
    let body = app
        .as_user(&owner, WORKSTREAM_ENDS, json!({ "id": api }))
        .await;
    assert_eq!(end_ids(&body, "downstream"), [id.as_str()]);
    let body = app
        .as_user(&owner, PROGRAM_DEPENDENCIES, json!({ "id": p }))
        .await;
    assert_eq!(program_dependency_ids(&body), [id.as_str()]);

    // The promise moves forward; a null clears it.
    let body = app
        .as_user(
            &editor,
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 1, "committedDate": "2099-02-27", "status": "AT_RISK" } }),
        )
        .await;
    let dep = &body["data"]["updateDependency"]["dependency"];
    assert_eq!(dep["commitmentGapDays"], -2, "{body}");
    assert_eq!(dep["status"], "AT_RISK");
    assert_eq!(dep["version"], 2);
    let body = app
        .as_user(
            &editor,
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 2, "committedDate": null, "committedById": null, "description": null } }),
        )
        .await;
    let dep = &body["data"]["updateDependency"]["dependency"];
    assert!(dep["commitmentGapDays"].is_null(), "{body}");
    assert!(dep["committedBy"].is_null());
    assert!(dep["description"].is_null());
    assert_eq!(dep["neededBy"], "2099-03-01");

    let body = app
        .as_user(
            &editor,
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 2, "status": "RESOLVED" } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    let body = app
        .as_user(
            &editor,
            UPDATE,
            json!({ "input": { "id": id, "status": null } }),
        )
        .await;
    assert_eq!(error_field(&body), "input.status", "{body}");

    let body = app
        .as_user(
            &editor,
            DELETE,
            json!({ "input": { "id": id, "expectedVersion": 1 } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    let body = app
        .as_user(
            &editor,
            DELETE,
            json!({ "input": { "id": id, "expectedVersion": 3 } }),
        )
        .await;
    let deleted = &body["data"]["deleteDependency"];
    assert_eq!(deleted["deletedDependencyId"], id.as_str(), "{body}");
    assert_eq!(deleted["upstream"]["id"], api.as_str());
    assert_eq!(deleted["downstream"]["id"], app_ws.as_str());
    assert_eq!(app.count_rows("dependencies").await, 0);
    let body = app.as_user(&owner, LOOKUP, json!({ "id": id })).await;
    assert!(body["data"]["dependency"].is_null(), "{body}");

    // create, a new promise (a commitment), an update, delete: one event each.
    assert_eq!(app.count_rows("audit_events").await, audits + 4);
    let actions = audit_actions(&app).await;
    let tail: Vec<&str> = actions[actions.len() - 4..]
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        [
            "dependency.create",
            "dependency.commit",
            "dependency.update",
            "dependency.delete"
        ]
    );
}

#[tokio::test]
async fn invalid_dependencies_are_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let p = program(&app, &owner, "BAD", json!({})).await;
    let a = workstream(&app, &owner, &p, "A", json!({})).await;
    let b = workstream(&app, &owner, &p, "B", json!({})).await;
    let c = workstream(&app, &owner, &p, "C", json!({})).await;
    dependency(&app, &owner, &a, &b, json!({})).await;
    let audits = app.count_rows("audit_events").await;

    let body = depend(&app, &owner, &a, &a, json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.upstreamId");

    let body = depend(&app, &owner, &a, &b, json!({})).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");

    let missing = uuid::Uuid::now_v7().to_string();
    for (input, field) in [
        (
            json!({ "upstreamId": c, "downstreamId": a, "committedById": missing }),
            "input.committedById",
        ),
        (
            json!({ "upstreamId": c, "downstreamId": a, "description": "nul\u{0}" }),
            "input.description",
        ),
        (
            json!({ "upstreamId": c, "downstreamId": a, "neededBy": "tomorrow" }),
            "input.neededBy",
        ),
        (
            json!({ "upstreamId": "x", "downstreamId": a }),
            "input.upstreamId",
        ),
    ] {
        let body = app
            .as_user(&owner, CREATE, json!({ "input": input.clone() }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input}: {body}");
        assert_eq!(error_field(&body), field, "{input}: {body}");
    }
    // A workstream that does not exist, at either end, is NOT_FOUND.
    let body = depend(&app, &owner, &missing, &a, json!({})).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let body = depend(&app, &owner, &a, &missing, json!({})).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");

    assert_eq!(app.count_rows("dependencies").await, 1);
    assert_eq!(app.count_rows("audit_events").await, audits);
}

#[tokio::test]
async fn overdue_and_commitment_gap_follow_the_dates_and_filter_the_program_list() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let p = program(&app, &owner, "LATE", json!({})).await;
    let up = workstream(&app, &owner, &p, "Upstream", json!({})).await;
    let mut downs = Vec::new();
    for name in ["D1", "D2", "D3", "D4"] {
        downs.push(workstream(&app, &owner, &p, name, json!({})).await);
    }
    let cases = [
        ("late", Some(day(-1)), "OPEN", true),
        ("late but resolved", Some(day(-3)), "RESOLVED", false),
        ("due today", Some(day(0)), "BLOCKED", false),
        ("no date", None, "AT_RISK", false),
    ];
    for ((description, needed_by, status, overdue), down) in cases.iter().zip(&downs) {
        let body = app
            .as_user(
                &owner,
                CREATE,
                json!({ "input": { "upstreamId": up, "downstreamId": down, "description": description, "neededBy": needed_by, "status": status } }),
            )
            .await;
        assert_eq!(
            body["data"]["createDependency"]["dependency"]["isOverdue"], *overdue,
            "{description}: {body}"
        );
    }
    let descriptions = |body: &Value| -> Vec<String> {
        body["data"]["program"]["dependencies"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|n| n["description"].as_str().unwrap().to_owned())
            .collect()
    };
    let body = app
        .as_user(
            &owner,
            PROGRAM_DEPENDENCIES,
            json!({ "id": p, "filter": { "overdue": true } }),
        )
        .await;
    assert_eq!(descriptions(&body), ["late"]);
    let body = app
        .as_user(
            &owner,
            PROGRAM_DEPENDENCIES,
            json!({ "id": p, "filter": { "overdue": false, "status": ["OPEN", "BLOCKED", "RESOLVED"] } }),
        )
        .await;
    assert_eq!(descriptions(&body), ["late but resolved", "due today"]);
    let body = app
        .as_user(
            &owner,
            PROGRAM_DEPENDENCIES,
            json!({ "id": p, "orderBy": { "field": "NEEDED_BY" } }),
        )
        .await;
    assert_eq!(
        descriptions(&body),
        ["late but resolved", "late", "due today", "no date"]
    );
    let body = app
        .as_user(
            &owner,
            PROGRAM_DEPENDENCIES,
            json!({ "id": p, "orderBy": { "field": "STATUS", "direction": "DESC" } }),
        )
        .await;
    assert_eq!(
        descriptions(&body),
        ["late but resolved", "due today", "no date", "late"]
    );
    // Paged two at a time in memory, same cursors as everywhere.
    let first = app
        .as_user(
            &owner,
            PROGRAM_DEPENDENCIES,
            json!({ "id": p, "first": 2, "orderBy": { "field": "NEEDED_BY" } }),
        )
        .await;
    assert_eq!(descriptions(&first), ["late but resolved", "late"]);
    assert_eq!(first["data"]["program"]["dependencies"]["totalCount"], 4);
    let cursor = first["data"]["program"]["dependencies"]["pageInfo"]["endCursor"].clone();
    let next = app
        .as_user(
            &owner,
            PROGRAM_DEPENDENCIES,
            json!({ "id": p, "first": 2, "after": cursor, "orderBy": { "field": "NEEDED_BY" } }),
        )
        .await;
    assert_eq!(descriptions(&next), ["due today", "no date"]);
}

/// Two programs: `down` waits on `up` across them.
struct CrossProgram {
    /// Owner of the downstream program.
    tpm_down: TestUser,
    /// Owner of the upstream program.
    tpm_up: TestUser,
    /// EDITOR downstream and VIEWER upstream.
    both: TestUser,
    /// EDITOR downstream only.
    only_down: TestUser,
    /// EDITOR upstream only.
    only_up: TestUser,
    /// VIEWER in both programs.
    reader: TestUser,
    admin: TestUser,
    down_program: String,
    up_program: String,
    down: String,
    up: String,
}

async fn cross_program(app: &TestApp) -> CrossProgram {
    let tpm_down = app.member("TpmDown").await;
    let tpm_up = app.member("TpmUp").await;
    let both = app.member("Both").await;
    let only_down = app.member("OnlyDown").await;
    let only_up = app.member("OnlyUp").await;
    let reader = app.member("Reader").await;
    let admin = app.admin().await;
    let down_program = program(app, &tpm_down, "APP", json!({})).await;
    let up_program = program(app, &tpm_up, "INFRA", json!({})).await;
    set_member(app, &tpm_down, &down_program, &both, "EDITOR").await;
    set_member(app, &tpm_up, &up_program, &both, "VIEWER").await;
    set_member(app, &tpm_down, &down_program, &only_down, "EDITOR").await;
    set_member(app, &tpm_up, &up_program, &only_up, "EDITOR").await;
    set_member(app, &tpm_down, &down_program, &reader, "VIEWER").await;
    set_member(app, &tpm_up, &up_program, &reader, "VIEWER").await;
    let down = workstream(app, &tpm_down, &down_program, "Checkout on k8s", json!({})).await;
    let up = workstream(app, &tpm_up, &up_program, "Cluster ready", json!({})).await;
    CrossProgram {
        tpm_down,
        tpm_up,
        both,
        only_down,
        only_up,
        reader,
        admin,
        down_program,
        up_program,
        down,
        up,
    }
}

#[tokio::test]
async fn creating_a_cross_program_dependency_needs_edit_downstream_and_read_upstream() {
    let app = spawn_app().await;
    let x = cross_program(&app).await;
    let audits = app.count_rows("audit_events").await;

    // Cannot see the upstream program: exactly like an upstream that does not exist.
    let hidden = depend(&app, &x.only_down, &x.up, &x.down, json!({})).await;
    assert_eq!(error_code(&hidden), "NOT_FOUND", "{hidden}");
    let missing = uuid::Uuid::now_v7().to_string();
    let missing = depend(&app, &x.only_down, &missing, &x.down, json!({})).await;
    assert_eq!(
        hidden["errors"][0]["message"],
        missing["errors"][0]["message"]
    );
    assert_eq!(
        hidden["errors"][0]["extensions"],
        missing["errors"][0]["extensions"]
    );
    // Cannot see the downstream program.
    let body = depend(&app, &x.only_up, &x.up, &x.down, json!({})).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    // Reads the downstream program only.
    let body = depend(&app, &x.reader, &x.up, &x.down, json!({})).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = app
        .graphql(
            None,
            CREATE,
            json!({ "input": { "upstreamId": x.up, "downstreamId": x.down } }),
        )
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert_eq!(app.count_rows("dependencies").await, 0);
    assert_eq!(app.count_rows("audit_events").await, audits);

    // EDIT downstream + READ upstream is enough; the row lives downstream.
    let id = dependency(&app, &x.both, &x.up, &x.down, json!({})).await;
    let row = {
        use sea_orm::EntityTrait;
        entity::dependency::Entity::find_by_id(uuid::Uuid::parse_str(&id).unwrap())
            .one(&app.server.domain.db)
            .await
            .unwrap()
            .expect("the dependency row")
    };
    assert_eq!(row.program_id.to_string(), x.down_program);
    let body = app
        .as_user(
            &x.both,
            "query($id: ID!) { program(id: $id) { dependencies { nodes { id } } } }",
            json!({ "id": x.down_program }),
        )
        .await;
    assert_eq!(program_dependency_ids(&body), [id.as_str()]);

    // Admins may do it anywhere.
    let other = workstream(&app, &x.tpm_up, &x.up_program, "Observability", json!({})).await;
    dependency(&app, &x.admin, &other, &x.down, json!({})).await;
    // Two dependencies and the extra workstream.
    assert_eq!(app.count_rows("audit_events").await, audits + 3);
}

#[tokio::test]
async fn a_cross_program_dependency_is_visible_only_to_members_of_both_programs() {
    let app = spawn_app().await;
    let x = cross_program(&app).await;
    let id = dependency(&app, &x.both, &x.up, &x.down, json!({})).await;

    let sees = |user: &TestUser| {
        let user = user.clone();
        let app = &app;
        let (id, down, up) = (id.clone(), x.down.clone(), x.up.clone());
        let (down_program, up_program) = (x.down_program.clone(), x.up_program.clone());
        async move {
            let lookup = app.as_user(&user, LOOKUP, json!({ "id": id })).await;
            assert!(lookup["errors"].is_null(), "{lookup}");
            let by_id = !lookup["data"]["dependency"].is_null();
            let mut seen = vec![by_id];
            for (program, ws, end) in [
                (down_program, down, "upstream"),
                (up_program, up, "downstream"),
            ] {
                let list = app
                    .as_user(&user, PROGRAM_DEPENDENCIES, json!({ "id": program }))
                    .await;
                let ends = app
                    .as_user(&user, WORKSTREAM_ENDS, json!({ "id": ws }))
                    .await;
                if list["data"]["program"].is_null() {
                    // Cannot see the program at all: nothing to list it in.
                    assert!(ends["data"]["workstream"].is_null(), "{ends}");
                    continue;
                }
                let in_list = program_dependency_ids(&list).contains(&id);
                let in_ends = end_ids(&ends, end).contains(&id);
                assert_eq!(in_list, in_ends, "{list} {ends}");
                assert_eq!(
                    list["data"]["program"]["dependencies"]["totalCount"],
                    json!(usize::from(in_list))
                );
                seen.push(in_list);
            }
            seen
        }
    };
    // Members of both programs see it from everywhere.
    assert_eq!(sees(&x.both).await, [true, true, true]);
    assert_eq!(sees(&x.reader).await, [true, true, true]);
    assert_eq!(sees(&x.admin).await, [true, true, true]);
    // Members of one program learn nothing about the other through it.
    assert_eq!(sees(&x.tpm_down).await, [false, false]);
    assert_eq!(sees(&x.only_down).await, [false, false]);
    assert_eq!(sees(&x.tpm_up).await, [false, false]);
    assert_eq!(sees(&x.only_up).await, [false, false]);
    let body = app.graphql(None, LOOKUP, json!({ "id": id })).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn changing_a_cross_program_dependency_needs_edit_on_either_end_and_read_on_both() {
    let app = spawn_app().await;
    let x = cross_program(&app).await;
    let id = dependency(&app, &x.both, &x.up, &x.down, json!({})).await;
    let audits = app.count_rows("audit_events").await;

    let refusals = [
        (Some(x.tpm_down.token.as_str()), "NOT_FOUND"),
        (Some(x.only_down.token.as_str()), "NOT_FOUND"),
        (Some(x.tpm_up.token.as_str()), "NOT_FOUND"),
        (Some(x.only_up.token.as_str()), "NOT_FOUND"),
        (Some(x.reader.token.as_str()), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ];
    for (token, code) in refusals {
        let body = app
            .graphql(
                token,
                UPDATE,
                json!({ "input": { "id": id, "status": "BLOCKED" } }),
            )
            .await;
        assert_eq!(error_code(&body), code, "update: {body}");
        let body = app
            .graphql(token, DELETE, json!({ "input": { "id": id } }))
            .await;
        assert_eq!(error_code(&body), code, "delete: {body}");
    }
    assert_eq!(app.count_rows("audit_events").await, audits);

    // EDIT on the downstream end with READ upstream.
    let body = app
        .as_user(
            &x.both,
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 1, "status": "AT_RISK" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateDependency"]["dependency"]["status"], "AT_RISK",
        "{body}"
    );
    // EDIT on the upstream end, once they can read the downstream program:
    // the upstream team records its promise.
    set_member(&app, &x.tpm_down, &x.down_program, &x.only_up, "VIEWER").await;
    let body = app
        .as_user(
            &x.only_up,
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 2, "committedDate": "2099-01-31", "committedById": x.only_up.id } }),
        )
        .await;
    let dep = &body["data"]["updateDependency"]["dependency"];
    assert_eq!(dep["committedBy"]["id"], x.only_up.id.as_str(), "{body}");
    assert_eq!(dep["version"], 3);
    let body = app
        .as_user(
            &x.admin,
            UPDATE,
            json!({ "input": { "id": id, "neededBy": "2099-02-01" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateDependency"]["dependency"]["commitmentGapDays"], -1,
        "{body}"
    );
    let body = app
        .as_user(&x.only_up, DELETE, json!({ "input": { "id": id } }))
        .await;
    assert_eq!(
        body["data"]["deleteDependency"]["deletedDependencyId"],
        id.as_str(),
        "{body}"
    );
    assert_eq!(app.count_rows("dependencies").await, 0);
    // Three updates and a delete; the membership change wrote its own event.
    assert_eq!(app.count_rows("audit_events").await, audits + 5);
}

#[tokio::test]
async fn deleting_an_upstream_workstream_removes_its_dependencies_in_other_programs() {
    let app = spawn_app().await;
    let x = cross_program(&app).await;
    dependency(&app, &x.both, &x.up, &x.down, json!({})).await;
    let audits = app.count_rows("audit_events").await;
    let body = app
        .as_user(
            &x.tpm_up,
            "mutation($input: DeleteWorkstreamInput!) { deleteWorkstream(input: $input) { deletedWorkstreamId } }",
            json!({ "input": { "id": x.up } }),
        )
        .await;
    assert_eq!(
        body["data"]["deleteWorkstream"]["deletedWorkstreamId"],
        x.up.as_str(),
        "{body}"
    );
    assert_eq!(app.count_rows("dependencies").await, 0);
    assert_eq!(app.count_rows("audit_events").await, audits + 1);
    let body = app
        .as_user(&x.both, WORKSTREAM_ENDS, json!({ "id": x.down }))
        .await;
    assert_eq!(end_ids(&body, "upstream"), Vec::<String>::new());
}
