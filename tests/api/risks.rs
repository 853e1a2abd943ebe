//! Risks: scoring, validation, what a risk may threaten, and deletion.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::{
    audit_actions, cast, dependency, last_audit_event, mutate, node_texts, program, workstream,
};
use crate::helpers::{TestApp, TestUser, error_code, error_field, spawn_app};

const FIELDS: &str = "id title description likelihood impact score status mitigation owner { id } workstream { id } dependency { id } program { id } version createdAt updatedAt";

fn create_query() -> String {
    format!(
        "mutation($input: CreateRiskInput!) {{ createRisk(input: $input) {{ risk {{ {FIELDS} }} }} }}"
    )
}

fn update_query() -> String {
    format!(
        "mutation($input: UpdateRiskInput!) {{ updateRisk(input: $input) {{ risk {{ {FIELDS} }} }} }}"
    )
}

const DELETE: &str =
    "mutation($input: DeleteRiskInput!) { deleteRisk(input: $input) { deletedRiskId } }";

fn lookup_query() -> String {
    format!("query($id: ID!) {{ risk(id: $id) {{ {FIELDS} }} }}")
}

/// Record a risk as `user` and return it.
async fn create(app: &TestApp, user: &TestUser, input: Value) -> Value {
    let selection = format!("risk {{ {FIELDS} }}");
    mutate(app, user, "createRisk", input, &selection).await["risk"].clone()
}

/// A dependency between two new workstreams of `program`, created by its `owner`.
async fn linked_pair(app: &TestApp, owner: &TestUser, program: &str) -> String {
    let upstream = workstream(app, owner, program, "Platform", json!({})).await;
    let downstream = workstream(app, owner, program, "Product", json!({})).await;
    dependency(app, owner, &upstream, &downstream, json!({})).await
}

#[tokio::test]
async fn a_risk_scores_likelihood_times_impact() {
    let app = spawn_app().await;
    let cast = cast(&app, "RISK").await;
    let risk = create(
        &app,
        &cast.editor,
        json!({ "programId": cast.program, "title": "Vendor slips", "description": "The vendor may slip.",
                "likelihood": 3, "impact": 4, "mitigation": "Second vendor", "ownerId": cast.viewer.id }),
    )
    .await;
    assert_eq!(risk["score"], 12);
    assert_eq!(risk["status"], "OPEN");
    assert_eq!(risk["owner"]["id"], cast.viewer.id.as_str());
    assert_eq!(risk["program"]["id"], cast.program.as_str());
    assert_eq!(risk["version"], 1);
    let id = risk["id"].as_str().unwrap();

    let body = app
        .as_user(
            &cast.owner,
            &update_query(),
            json!({ "input": { "id": id, "expectedVersion": 1, "impact": 5, "status": "MITIGATING", "ownerId": null, "description": null } }),
        )
        .await;
    let updated = &body["data"]["updateRisk"]["risk"];
    assert_eq!(updated["score"], 15, "{body}");
    assert_eq!(updated["likelihood"], 3);
    assert_eq!(updated["status"], "MITIGATING");
    assert!(updated["owner"].is_null());
    assert!(updated["description"].is_null());
    assert_eq!(updated["mitigation"], "Second vendor");
    assert_eq!(updated["version"], 2);

    let body = app
        .as_user(&cast.viewer, &lookup_query(), json!({ "id": id }))
        .await;
    assert_eq!(body["data"]["risk"], *updated, "{body}");
    let body = app
        .as_user(
            &cast.viewer,
            "query($id: ID!) { program(id: $id) { risks { totalCount nodes { id score } } } }",
            json!({ "id": cast.program }),
        )
        .await;
    assert_eq!(
        body["data"]["program"]["risks"],
        json!({ "totalCount": 1, "nodes": [{ "id": id, "score": 15 }] }),
        "{body}"
    );
}

#[tokio::test]
async fn likelihood_and_impact_outside_one_to_five_are_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let cast = cast(&app, "RISK").await;
    let events = app.count_rows("audit_events").await;
    for (likelihood, impact, field) in [
        (0, 3, "input.likelihood"),
        (6, 3, "input.likelihood"),
        (3, 0, "input.impact"),
        (3, 6, "input.impact"),
        (-1, 3, "input.likelihood"),
    ] {
        let body = app
            .as_user(
                &cast.editor,
                &create_query(),
                json!({ "input": { "programId": cast.program, "title": "Risk", "likelihood": likelihood, "impact": impact } }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), field, "{body}");
    }
    assert_eq!(app.count_rows("risks").await, 0);
    assert_eq!(app.count_rows("audit_events").await, events);

    let risk = create(
        &app,
        &cast.editor,
        json!({ "programId": cast.program, "title": "Risk", "likelihood": 1, "impact": 5 }),
    )
    .await;
    let events = app.count_rows("audit_events").await;
    for (input, field) in [
        (json!({ "likelihood": 7 }), "input.likelihood"),
        (json!({ "impact": 0 }), "input.impact"),
        (json!({ "likelihood": null }), "input.likelihood"),
        (json!({ "impact": null }), "input.impact"),
        (json!({ "status": null }), "input.status"),
        (json!({ "title": null }), "input.title"),
    ] {
        let mut input = input;
        input["id"] = risk["id"].clone();
        let body = app
            .as_user(&cast.editor, &update_query(), json!({ "input": input }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input}: {body}");
        assert_eq!(error_field(&body), field, "{input}: {body}");
    }
    assert_eq!(app.count_rows("audit_events").await, events);
    let body = app
        .as_user(&cast.editor, &lookup_query(), json!({ "id": risk["id"] }))
        .await;
    assert_eq!(body["data"]["risk"]["score"], 5);
    assert_eq!(body["data"]["risk"]["version"], 1);
}

#[tokio::test]
async fn risk_texts_and_owner_are_validated() {
    let app = spawn_app().await;
    let cast = cast(&app, "RISK").await;
    let cases = [
        (json!({ "title": "x".repeat(201) }), "input.title"),
        (json!({ "title": "a\u{0}b" }), "input.title"),
        (json!({ "description": "nul\u{0}" }), "input.description"),
        (
            json!({ "mitigation": "m".repeat(20_001) }),
            "input.mitigation",
        ),
        (
            json!({ "ownerId": Uuid::now_v7().to_string() }),
            "input.ownerId",
        ),
        (json!({ "ownerId": "not-a-uuid" }), "input.ownerId"),
    ];
    for (extra, field) in cases {
        let mut input =
            json!({ "programId": cast.program, "title": "Risk", "likelihood": 2, "impact": 2 });
        for (key, value) in extra.as_object().unwrap() {
            input[key] = value.clone();
        }
        let body = app
            .as_user(&cast.editor, &create_query(), json!({ "input": input }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{extra}: {body}");
        assert_eq!(error_field(&body), field, "{extra}: {body}");
    }
    assert_eq!(app.count_rows("risks").await, 0);
}

#[tokio::test]
async fn a_risk_may_only_threaten_workstreams_and_dependencies_of_its_program() {
    let app = spawn_app().await;
    let cast = cast(&app, "RISK").await;
    let threatened = workstream(&app, &cast.owner, &cast.program, "Migration", json!({})).await;
    let dependency = linked_pair(&app, &cast.owner, &cast.program).await;
    let risk = create(
        &app,
        &cast.editor,
        json!({ "programId": cast.program, "title": "Slip", "likelihood": 2, "impact": 3,
                "workstreamId": threatened, "dependencyId": dependency }),
    )
    .await;
    assert_eq!(risk["workstream"]["id"], threatened.as_str());
    assert_eq!(risk["dependency"]["id"], dependency.as_str());

    // Another program the editor can see: refused as bad input.
    let visible = program(&app, &cast.editor, "MINE", json!({})).await;
    let visible_workstream = workstream(&app, &cast.editor, &visible, "Elsewhere", json!({})).await;
    let visible_dependency = linked_pair(&app, &cast.editor, &visible).await;
    // A program the editor cannot see: as if it did not exist.
    let hidden = program(&app, &cast.outsider, "HIDDEN", json!({})).await;
    let hidden_workstream = workstream(&app, &cast.outsider, &hidden, "Secret", json!({})).await;
    let hidden_dependency = linked_pair(&app, &cast.outsider, &hidden).await;
    let risks = app.count_rows("risks").await;
    let cases = [
        ("workstreamId", visible_workstream, "BAD_USER_INPUT"),
        ("dependencyId", visible_dependency, "BAD_USER_INPUT"),
        ("workstreamId", hidden_workstream, "NOT_FOUND"),
        ("dependencyId", hidden_dependency, "NOT_FOUND"),
        ("workstreamId", Uuid::now_v7().to_string(), "NOT_FOUND"),
        ("dependencyId", Uuid::now_v7().to_string(), "NOT_FOUND"),
    ];
    for (key, id, code) in cases {
        let mut input =
            json!({ "programId": cast.program, "title": "Slip", "likelihood": 2, "impact": 3 });
        input[key] = json!(id);
        let body = app
            .as_user(&cast.editor, &create_query(), json!({ "input": input }))
            .await;
        assert_eq!(error_code(&body), code, "{key}: {body}");
        if code == "BAD_USER_INPUT" {
            assert_eq!(error_field(&body), format!("input.{key}"));
        }
        let update = json!({ "input": { "id": risk["id"], key: id } });
        let body = app.as_user(&cast.editor, &update_query(), update).await;
        assert_eq!(error_code(&body), code, "update {key}: {body}");
    }
    assert_eq!(app.count_rows("risks").await, risks);

    let body = app
        .as_user(
            &cast.editor,
            &update_query(),
            json!({ "input": { "id": risk["id"], "workstreamId": null, "dependencyId": null } }),
        )
        .await;
    let updated = &body["data"]["updateRisk"]["risk"];
    assert!(
        updated["workstream"].is_null() && updated["dependency"].is_null(),
        "{body}"
    );
}

#[tokio::test]
async fn deleting_a_risk_returns_its_id_and_removes_it() {
    let app = spawn_app().await;
    let cast = cast(&app, "RISK").await;
    let risk = create(
        &app,
        &cast.editor,
        json!({ "programId": cast.program, "title": "Risk", "likelihood": 2, "impact": 2 }),
    )
    .await;
    let id = risk["id"].as_str().unwrap();
    let body = app
        .as_user(
            &cast.editor,
            DELETE,
            json!({ "input": { "id": id, "expectedVersion": 1 } }),
        )
        .await;
    assert_eq!(body["data"]["deleteRisk"]["deletedRiskId"], id, "{body}");
    assert_eq!(app.count_rows("risks").await, 0);
    let event = last_audit_event(&app).await;
    assert_eq!(event.action, "risk.delete");
    assert_eq!(event.changes["title"]["before"], "Risk");
    let body = app
        .as_user(&cast.editor, &lookup_query(), json!({ "id": id }))
        .await;
    assert!(body["data"]["risk"].is_null(), "{body}");
    let body = app
        .as_user(&cast.editor, DELETE, json!({ "input": { "id": id } }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict_for_update_and_delete() {
    let app = spawn_app().await;
    let cast = cast(&app, "RISK").await;
    let risk = create(
        &app,
        &cast.editor,
        json!({ "programId": cast.program, "title": "Risk", "likelihood": 2, "impact": 2 }),
    )
    .await;
    let id = risk["id"].as_str().unwrap();
    let body = app
        .as_user(
            &cast.owner,
            &update_query(),
            json!({ "input": { "id": id, "expectedVersion": 1, "likelihood": 4 } }),
        )
        .await;
    assert_eq!(body["data"]["updateRisk"]["risk"]["score"], 8, "{body}");
    let events = app.count_rows("audit_events").await;
    let body = app
        .as_user(
            &cast.editor,
            &update_query(),
            json!({ "input": { "id": id, "expectedVersion": 1, "impact": 5 } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    let body = app
        .as_user(
            &cast.editor,
            DELETE,
            json!({ "input": { "id": id, "expectedVersion": 1 } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    assert_eq!(app.count_rows("risks").await, 1);
    assert_eq!(app.count_rows("audit_events").await, events);
}

#[tokio::test]
async fn each_successful_risk_mutation_writes_one_audit_event() {
    let app = spawn_app().await;
    let cast = cast(&app, "RISK").await;
    let start = audit_actions(&app).await.len();
    let risk = create(
        &app,
        &cast.editor,
        json!({ "programId": cast.program, "title": "Risk", "likelihood": 2, "impact": 2 }),
    )
    .await;
    let event = last_audit_event(&app).await;
    assert_eq!(event.entity_type, "Risk");
    assert_eq!(event.entity_id.to_string(), risk["id"].as_str().unwrap());
    assert_eq!(
        event.actor_id.map(|a| a.to_string()),
        Some(cast.editor.id.clone())
    );
    app.as_user(
        &cast.editor,
        &update_query(),
        json!({ "input": { "id": risk["id"], "likelihood": 5 } }),
    )
    .await;
    let event = last_audit_event(&app).await;
    assert_eq!(event.changes["score"], json!({ "before": 4, "after": 10 }));
    app.as_user(
        &cast.editor,
        DELETE,
        json!({ "input": { "id": risk["id"] } }),
    )
    .await;
    assert_eq!(
        audit_actions(&app).await[start..],
        ["risk.create", "risk.update", "risk.delete"]
    );
}

#[tokio::test]
async fn program_risks_filter_and_order() {
    let app = spawn_app().await;
    let cast = cast(&app, "RISK").await;
    for (title, likelihood, impact, status, owner) in [
        ("Vendor slip", 4, 5, "OPEN", Some(&cast.editor)),
        ("Hiring gap", 2, 2, "MITIGATING", None),
        ("Budget cut", 3, 4, "OPEN", Some(&cast.viewer)),
        ("Legal review", 1, 5, "CLOSED", Some(&cast.editor)),
    ] {
        create(
            &app,
            &cast.owner,
            json!({ "programId": cast.program, "title": title, "likelihood": likelihood, "impact": impact,
                    "status": status, "ownerId": owner.map(|o| o.id.clone()) }),
        )
        .await;
    }
    let query = "query($id: ID!, $filter: RiskFilter, $orderBy: RiskOrder) { program(id: $id) { risks(filter: $filter, orderBy: $orderBy) { totalCount nodes { title } } } }";
    let titles = |body: &Value| node_texts(&body["data"]["program"]["risks"], "title");
    let run = |vars: Value| {
        let mut vars = vars;
        vars["id"] = json!(cast.program);
        app.as_user(&cast.viewer, query, vars)
    };
    let body = run(json!({ "orderBy": { "field": "SCORE", "direction": "DESC" } })).await;
    assert_eq!(
        titles(&body),
        ["Vendor slip", "Budget cut", "Legal review", "Hiring gap"]
    );
    let body = run(json!({ "orderBy": { "field": "TITLE" } })).await;
    assert_eq!(
        titles(&body),
        ["Budget cut", "Hiring gap", "Legal review", "Vendor slip"]
    );
    let body = run(json!({ "filter": { "minScore": 5 }, "orderBy": { "field": "SCORE" } })).await;
    assert_eq!(titles(&body), ["Legal review", "Budget cut", "Vendor slip"]);
    let body = run(json!({ "filter": { "status": ["OPEN", "MITIGATING"] } })).await;
    assert_eq!(titles(&body), ["Vendor slip", "Hiring gap", "Budget cut"]);
    let body = run(json!({ "filter": { "ownerId": cast.editor.id } })).await;
    assert_eq!(titles(&body), ["Vendor slip", "Legal review"]);
    let body = run(json!({ "filter": { "search": "BUDGET" } })).await;
    assert_eq!(titles(&body), ["Budget cut"]);
    assert_eq!(body["data"]["program"]["risks"]["totalCount"], 1);
}
