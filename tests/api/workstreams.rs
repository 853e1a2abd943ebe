//! Workstreams and their milestones: writing them and reading them back
//! through `workstream(id:)` and `Program.workstreams`.

use serde_json::{Value, json};

use crate::fixtures::{
    audit_actions, cast, dated, milestone, mutate, node_texts, program, set_member, team,
    workstream,
};
use crate::helpers::{TestApp, TestUser, error_code, error_field, spawn_app};

const CREATE: &str = "mutation($input: CreateWorkstreamInput!) { createWorkstream(input: $input) { workstream { id } } }";
const UPDATE: &str = "mutation($input: UpdateWorkstreamInput!) { updateWorkstream(input: $input) { workstream { id name description status health startDate targetDate progress version team { id } lead { id } } } }";
const DELETE: &str = "mutation($input: DeleteWorkstreamInput!) { deleteWorkstream(input: $input) { deletedWorkstreamId program { id } } }";
const LOOKUP: &str = "query($id: ID!) { workstream(id: $id) { id name version } }";
const FIELDS: &str = "id name description status health startDate targetDate progress version program { id } team { id name } lead { id }";

const CREATE_MILESTONE: &str = "mutation($input: CreateMilestoneInput!) { createMilestone(input: $input) { milestone { id name dueDate completedAt isCompleted version workstream { id } } } }";
const UPDATE_MILESTONE: &str = "mutation($input: UpdateMilestoneInput!) { updateMilestone(input: $input) { milestone { id name dueDate completedAt isCompleted version } } }";
const DELETE_MILESTONE: &str = "mutation($input: DeleteMilestoneInput!) { deleteMilestone(input: $input) { deletedMilestoneId workstream { id } } }";

/// Create a workstream as `user` (must succeed) and return all its fields.
async fn create(app: &TestApp, user: &TestUser, input: Value) -> Value {
    let selection = format!("workstream {{ {FIELDS} }}");
    mutate(app, user, "createWorkstream", input, &selection).await["workstream"].clone()
}

#[tokio::test]
async fn an_owner_creates_reads_updates_and_deletes_a_workstream() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let lead = app.member("Lead").await;
    let program = program(&app, &owner, "MIG", json!({})).await;
    set_member(&app, &owner, &program, &lead, "VIEWER").await;
    let team = team(&app, &owner, "Platform").await;
    let audits_before = app.count_rows("audit_events").await;

    let created = create(
        &app,
        &owner,
        json!({ "programId": program, "name": "  Move the payment services  ", "description": "All 14 of them", "teamId": team, "leadId": lead.id, "status": "IN_PROGRESS", "health": "AT_RISK", "startDate": "2026-02-01", "targetDate": "2026-04-30", "progress": 10 }),
    )
    .await;
    assert_eq!(created["name"], "Move the payment services");
    assert_eq!(created["status"], "IN_PROGRESS");
    assert_eq!(created["health"], "AT_RISK");
    assert_eq!(created["startDate"], "2026-02-01");
    assert_eq!(created["targetDate"], "2026-04-30");
    assert_eq!(created["progress"], 10);
    assert_eq!(created["version"], 1);
    assert_eq!(created["program"]["id"], program.as_str());
    assert_eq!(created["team"]["name"], "Platform");
    assert_eq!(created["lead"]["id"], lead.id.as_str());
    let id = created["id"].as_str().unwrap().to_owned();

    // Defaults for everything optional.
    let bare = create(
        &app,
        &owner,
        json!({ "programId": program, "name": "Bare" }),
    )
    .await;
    assert_eq!(bare["status"], "NOT_STARTED");
    assert_eq!(bare["health"], "ON_TRACK");
    assert_eq!(bare["progress"], 0);
    assert!(bare["team"].is_null() && bare["lead"].is_null());

    let read = app.as_user(&owner, LOOKUP, json!({ "id": id })).await;
    assert_eq!(
        read["data"]["workstream"]["name"],
        "Move the payment services"
    );

    // Absent fields stay, null clears, values set.
    let body = app
        .as_user(
            &owner,
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 1, "progress": 55, "description": null, "leadId": null, "status": "BLOCKED" } }),
        )
        .await;
    let updated = &body["data"]["updateWorkstream"]["workstream"];
    assert_eq!(updated["progress"], 55, "{body}");
    assert!(updated["description"].is_null());
    assert!(updated["lead"].is_null());
    assert_eq!(updated["team"]["id"], team.as_str());
    assert_eq!(updated["status"], "BLOCKED");
    assert_eq!(updated["startDate"], "2026-02-01");
    assert_eq!(updated["version"], 2);

    let body = app
        .as_user(
            &owner,
            DELETE,
            json!({ "input": { "id": id, "expectedVersion": 2 } }),
        )
        .await;
    assert_eq!(
        body["data"]["deleteWorkstream"]["deletedWorkstreamId"],
        id.as_str(),
        "{body}"
    );
    assert_eq!(
        body["data"]["deleteWorkstream"]["program"]["id"],
        program.as_str()
    );
    let read = app.as_user(&owner, LOOKUP, json!({ "id": id })).await;
    assert!(read["data"]["workstream"].is_null(), "{read}");
    assert_eq!(app.count_rows("workstreams").await, 1);

    // One history entry per successful mutation, each naming what it did.
    assert_eq!(app.count_rows("audit_events").await - audits_before, 4);
    let actions = audit_actions(&app).await;
    let tail: Vec<&str> = actions[actions.len() - 4..]
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        [
            "workstream.create",
            "workstream.create",
            "workstream.update",
            "workstream.delete"
        ]
    );
}

#[tokio::test]
async fn invalid_workstream_input_names_the_field_and_writes_nothing() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let program = program(&app, &owner, "VAL", json!({})).await;
    let audits = app.count_rows("audit_events").await;
    let missing = uuid::Uuid::now_v7().to_string();
    let cases = [
        (json!({ "name": " " }), "input.name"),
        (json!({ "name": "x".repeat(201) }), "input.name"),
        (json!({ "name": "nul\u{0}" }), "input.name"),
        (
            json!({ "name": "ok", "description": "nul\u{0}byte" }),
            "input.description",
        ),
        (
            json!({ "name": "ok", "description": "d".repeat(20_001) }),
            "input.description",
        ),
        (
            json!({ "name": "ok", "startDate": "2026-05-01", "targetDate": "2026-04-30" }),
            "input.targetDate",
        ),
        (json!({ "name": "ok", "progress": 101 }), "input.progress"),
        (json!({ "name": "ok", "progress": -1 }), "input.progress"),
        (json!({ "name": "ok", "teamId": missing }), "input.teamId"),
        (json!({ "name": "ok", "leadId": missing }), "input.leadId"),
        (
            json!({ "name": "ok", "leadId": "not-a-uuid" }),
            "input.leadId",
        ),
        (
            json!({ "name": "ok", "status": "SLEEPING" }),
            "input.status",
        ),
    ];
    for (input, field) in cases {
        let mut input = input;
        input["programId"] = json!(program);
        let body = app
            .as_user(&owner, CREATE, json!({ "input": input.clone() }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input}: {body}");
        assert_eq!(error_field(&body), field, "{input}: {body}");
    }
    let body = app
        .as_user(
            &owner,
            CREATE,
            json!({ "input": { "programId": "nope", "name": "ok" } }),
        )
        .await;
    assert_eq!(error_field(&body), "input.programId", "{body}");
    assert_eq!(app.count_rows("workstreams").await, 0);
    assert_eq!(app.count_rows("audit_events").await, audits);
}

#[tokio::test]
async fn updates_are_validated_against_the_stored_values() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let program = program(&app, &owner, "UPD", json!({})).await;
    let id = workstream(
        &app,
        &owner,
        &program,
        "Dated",
        dated("2026-03-01", "2026-03-31"),
    )
    .await;
    let audits = app.count_rows("audit_events").await;
    let cases = [
        // Only one side moves, past the stored other side.
        (json!({ "targetDate": "2026-02-28" }), "input.targetDate"),
        (json!({ "startDate": "2026-04-01" }), "input.targetDate"),
        // Null on a required field.
        (json!({ "name": null }), "input.name"),
        (json!({ "status": null }), "input.status"),
        (json!({ "progress": null }), "input.progress"),
        (json!({ "progress": 300 }), "input.progress"),
        (json!({ "name": "a\u{0}b" }), "input.name"),
        (
            json!({ "teamId": uuid::Uuid::now_v7().to_string() }),
            "input.teamId",
        ),
    ];
    for (changes, field) in cases {
        let mut input = changes.clone();
        input["id"] = json!(id);
        let body = app.as_user(&owner, UPDATE, json!({ "input": input })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{changes}: {body}");
        assert_eq!(error_field(&body), field, "{changes}: {body}");
    }
    // Clearing the start lifts the constraint; moving both together is fine.
    let body = app
        .as_user(
            &owner,
            UPDATE,
            json!({ "input": { "id": id, "startDate": "2026-05-01", "targetDate": "2026-05-20" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateWorkstream"]["workstream"]["version"], 2,
        "{body}"
    );
    assert_eq!(app.count_rows("audit_events").await, audits + 1);
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict_and_changes_nothing() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let program = program(&app, &owner, "CON", json!({})).await;
    let id = workstream(&app, &owner, &program, "W", json!({})).await;
    let first = app
        .as_user(
            &owner,
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 1, "name": "First" } }),
        )
        .await;
    assert_eq!(
        first["data"]["updateWorkstream"]["workstream"]["version"],
        2
    );
    let audits = app.count_rows("audit_events").await;
    let second = app
        .as_user(
            &owner,
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 1, "name": "Second" } }),
        )
        .await;
    assert_eq!(error_code(&second), "CONFLICT", "{second}");
    let delete = app
        .as_user(
            &owner,
            DELETE,
            json!({ "input": { "id": id, "expectedVersion": 1 } }),
        )
        .await;
    assert_eq!(error_code(&delete), "CONFLICT", "{delete}");
    let read = app.as_user(&owner, LOOKUP, json!({ "id": id })).await;
    assert_eq!(read["data"]["workstream"]["name"], "First");
    assert_eq!(read["data"]["workstream"]["version"], 2);
    assert_eq!(app.count_rows("audit_events").await, audits);
}

const PROGRAM_WORKSTREAMS: &str = "query($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $filter: WorkstreamFilter, $orderBy: WorkstreamOrder) { program(id: $id) { workstreams(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) { totalCount nodes { name } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }";

fn names(body: &Value) -> Vec<String> {
    node_texts(&body["data"]["program"]["workstreams"], "name")
}

#[tokio::test]
async fn program_workstreams_filter_order_and_page_in_memory() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let lead = app.member("Lead").await;
    let program = program(&app, &owner, "LIST", json!({})).await;
    set_member(&app, &owner, &program, &lead, "EDITOR").await;
    let team = team(&app, &owner, "Payments").await;
    let rows = [
        ("Alpha", "DONE", Some("2026-03-10"), true),
        ("Bravo", "IN_PROGRESS", Some("2026-05-01"), false),
        ("Charlie", "NOT_STARTED", None, true),
        ("Delta", "BLOCKED", Some("2026-04-15"), false),
        ("Echo", "IN_PROGRESS", Some("2026-06-30"), true),
        ("Foxtrot", "CANCELLED", Some("2026-01-31"), false),
    ];
    for (name, status, target, staffed) in rows {
        let mut input = json!({ "status": status, "targetDate": target });
        if staffed {
            input["teamId"] = json!(team);
            input["leadId"] = json!(lead.id);
        }
        workstream(&app, &owner, &program, name, input).await;
    }
    let query = |vars: Value| {
        let mut vars = vars;
        vars["id"] = json!(program);
        app.as_user(&owner, PROGRAM_WORKSTREAMS, vars)
    };

    // Default order: creation.
    let all = query(json!({})).await;
    assert_eq!(
        names(&all),
        ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"]
    );
    assert_eq!(all["data"]["program"]["workstreams"]["totalCount"], 6);

    // Target date, latest first, undated last; walked two at a time.
    let order = json!({ "field": "TARGET_DATE", "direction": "DESC" });
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let body = query(json!({ "first": 2, "after": after, "orderBy": order })).await;
        seen.extend(names(&body));
        let info = &body["data"]["program"]["workstreams"]["pageInfo"];
        if !info["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = info["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(
        seen,
        ["Echo", "Bravo", "Delta", "Alpha", "Foxtrot", "Charlie"]
    );
    // And backwards from the end.
    let body = query(json!({ "last": 2, "orderBy": order })).await;
    assert_eq!(names(&body), ["Foxtrot", "Charlie"]);
    assert_eq!(
        body["data"]["program"]["workstreams"]["pageInfo"]["hasPreviousPage"],
        true
    );

    // Status in lifecycle order, ties by id.
    let body = query(json!({ "orderBy": { "field": "STATUS" } })).await;
    let by_status = names(&body);
    assert_eq!(by_status[0], "Charlie");
    assert_eq!(by_status[3], "Delta");
    assert_eq!(by_status[5], "Foxtrot");

    // Filters combine.
    let body =
        query(json!({ "filter": { "status": ["IN_PROGRESS"] }, "orderBy": { "field": "NAME" } }))
            .await;
    assert_eq!(names(&body), ["Bravo", "Echo"]);
    assert_eq!(body["data"]["program"]["workstreams"]["totalCount"], 2);
    let body =
        query(json!({ "filter": { "teamId": team, "status": ["IN_PROGRESS", "DONE"] } })).await;
    assert_eq!(names(&body), ["Alpha", "Echo"]);
    let body = query(json!({ "filter": { "leadId": lead.id, "search": "CHAR" } })).await;
    assert_eq!(names(&body), ["Charlie"]);
    let body = query(json!({ "filter": { "targetDateFrom": "2026-03-10", "targetDateTo": "2026-05-01" }, "orderBy": { "field": "TARGET_DATE" } })).await;
    assert_eq!(names(&body), ["Alpha", "Delta", "Bravo"]);
    let body = query(json!({ "filter": { "search": "%" } })).await;
    assert_eq!(names(&body), Vec::<String>::new());

    // Same page-size and cursor rules as the root lists.
    let body = query(json!({ "first": 101 })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let cursor = all["data"]["program"]["workstreams"]["pageInfo"]["endCursor"].clone();
    let body = query(json!({ "after": cursor, "orderBy": order })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
}

#[tokio::test]
async fn milestones_are_created_completed_listed_and_deleted() {
    let app = spawn_app().await;
    let c = cast(&app, "MS").await;
    let ws = workstream(&app, &c.owner, &c.program, "W", json!({})).await;
    let audits = app.count_rows("audit_events").await;

    let mut ids = Vec::new();
    for (name, due) in [
        ("Design signed off", Some("2026-03-01")),
        ("Pilot live", Some("2026-02-01")),
        ("Someday", None),
    ] {
        let body = app
            .as_user(
                &c.editor,
                CREATE_MILESTONE,
                json!({ "input": { "workstreamId": ws, "name": name, "dueDate": due } }),
            )
            .await;
        let milestone = &body["data"]["createMilestone"]["milestone"];
        assert_eq!(milestone["isCompleted"], false, "{body}");
        assert_eq!(milestone["workstream"]["id"], ws.as_str());
        ids.push(milestone["id"].as_str().unwrap().to_owned());
    }

    let body = app
        .as_user(
            &c.editor,
            UPDATE_MILESTONE,
            json!({ "input": { "id": ids[1], "expectedVersion": 1, "completedAt": "2026-02-03T10:00:00Z" } }),
        )
        .await;
    let done = &body["data"]["updateMilestone"]["milestone"];
    assert_eq!(done["isCompleted"], true, "{body}");
    assert_eq!(done["dueDate"], "2026-02-01");
    assert_eq!(done["version"], 2);

    let list = "query($id: ID!, $filter: MilestoneFilter, $orderBy: MilestoneOrder) { workstream(id: $id) { milestones(filter: $filter, orderBy: $orderBy) { totalCount nodes { name } } } }";
    let names = |body: &Value| -> Vec<String> {
        body["data"]["workstream"]["milestones"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|n| n["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let body = app
        .as_user(
            &c.viewer,
            list,
            json!({ "id": ws, "orderBy": { "field": "DUE_DATE" } }),
        )
        .await;
    assert_eq!(names(&body), ["Pilot live", "Design signed off", "Someday"]);
    let body = app
        .as_user(
            &c.viewer,
            list,
            json!({ "id": ws, "filter": { "completed": false } }),
        )
        .await;
    assert_eq!(names(&body), ["Design signed off", "Someday"]);
    let body = app
        .as_user(
            &c.viewer,
            list,
            json!({ "id": ws, "filter": { "dueFrom": "2026-02-15" } }),
        )
        .await;
    assert_eq!(names(&body), ["Design signed off"]);

    // Reopening clears the completion; a stale version is refused.
    let body = app
        .as_user(
            &c.owner,
            UPDATE_MILESTONE,
            json!({ "input": { "id": ids[1], "expectedVersion": 2, "completedAt": null } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateMilestone"]["milestone"]["isCompleted"], false,
        "{body}"
    );
    let body = app
        .as_user(
            &c.owner,
            UPDATE_MILESTONE,
            json!({ "input": { "id": ids[1], "expectedVersion": 2, "name": "Late" } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT");

    let body = app
        .as_user(
            &c.admin,
            DELETE_MILESTONE,
            json!({ "input": { "id": ids[2] } }),
        )
        .await;
    assert_eq!(
        body["data"]["deleteMilestone"]["deletedMilestoneId"],
        ids[2].as_str(),
        "{body}"
    );
    assert_eq!(
        body["data"]["deleteMilestone"]["workstream"]["id"],
        ws.as_str()
    );
    assert_eq!(app.count_rows("milestones").await, 2);
    // 3 creates, complete, reopen, delete.
    assert_eq!(app.count_rows("audit_events").await, audits + 6);
    let actions = audit_actions(&app).await;
    assert_eq!(actions.last().map(String::as_str), Some("milestone.delete"));
}

#[tokio::test]
async fn milestone_input_is_validated_and_nothing_is_written() {
    let app = spawn_app().await;
    let c = cast(&app, "MSW").await;
    let ws = workstream(&app, &c.owner, &c.program, "W", json!({})).await;
    let existing = milestone(&app, &c.owner, &ws, "Existing", json!({})).await;
    let audits = app.count_rows("audit_events").await;

    for (input, field) in [
        (json!({ "workstreamId": ws, "name": "" }), "input.name"),
        (
            json!({ "workstreamId": ws, "name": "ok", "description": "\u{0}" }),
            "input.description",
        ),
        (
            json!({ "workstreamId": ws, "name": "ok", "dueDate": "2026-02-30" }),
            "input.dueDate",
        ),
        (
            json!({ "workstreamId": "x", "name": "ok" }),
            "input.workstreamId",
        ),
    ] {
        let body = app
            .as_user(
                &c.editor,
                CREATE_MILESTONE,
                json!({ "input": input.clone() }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input}: {body}");
        assert_eq!(error_field(&body), field, "{input}: {body}");
    }
    let body = app
        .as_user(
            &c.editor,
            UPDATE_MILESTONE,
            json!({ "input": { "id": existing, "name": null } }),
        )
        .await;
    assert_eq!(error_field(&body), "input.name");
    // A workstream that does not exist is NOT_FOUND, not a field error.
    let body = app
        .as_user(
            &c.editor,
            CREATE_MILESTONE,
            json!({ "input": { "workstreamId": uuid::Uuid::now_v7().to_string(), "name": "ok" } }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    assert_eq!(app.count_rows("milestones").await, 1);
    assert_eq!(app.count_rows("audit_events").await, audits);
}

#[tokio::test]
async fn deleting_a_workstream_removes_its_milestones_and_writes_one_event() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let program = program(&app, &owner, "DEL", json!({})).await;
    let ws = workstream(&app, &owner, &program, "W", json!({})).await;
    for name in ["One", "Two"] {
        milestone(&app, &owner, &ws, name, json!({})).await;
    }
    assert_eq!(app.count_rows("milestones").await, 2);
    let audits = app.count_rows("audit_events").await;
    let body = app
        .as_user(&owner, DELETE, json!({ "input": { "id": ws } }))
        .await;
    assert_eq!(
        body["data"]["deleteWorkstream"]["deletedWorkstreamId"],
        ws.as_str(),
        "{body}"
    );
    assert_eq!(app.count_rows("milestones").await, 0);
    assert_eq!(app.count_rows("audit_events").await, audits + 1);
}
