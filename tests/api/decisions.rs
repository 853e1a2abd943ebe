//! Decisions: proposing, changing, deciding and superseding them.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::fixtures::{audit_actions, cast, last_audit_event, mutate, node_texts, program};
use crate::helpers::{TestApp, TestUser, error_code, error_field, spawn_app};

const FIELDS: &str = "id title context outcome rationale consequences status dueDate decidedAt decidedBy { id } options { title pros cons } supersededBy { id } proposedReplacement { id } supersedes { id } program { id } version createdAt updatedAt";

fn create_query() -> String {
    format!(
        "mutation($input: CreateDecisionInput!) {{ createDecision(input: $input) {{ decision {{ {FIELDS} }} }} }}"
    )
}

fn update_query() -> String {
    format!(
        "mutation($input: UpdateDecisionInput!) {{ updateDecision(input: $input) {{ decision {{ {FIELDS} }} }} }}"
    )
}

fn decide_query() -> String {
    format!(
        "mutation($input: DecideDecisionInput!) {{ decideDecision(input: $input) {{ decision {{ {FIELDS} }} superseded {{ id status }} }} }}"
    )
}

fn lookup_query() -> String {
    format!("query($id: ID!) {{ decision(id: $id) {{ {FIELDS} }} }}")
}

/// Propose a decision as `user` and return it.
async fn propose(app: &TestApp, user: &TestUser, input: Value) -> Value {
    let selection = format!("decision {{ {FIELDS} }}");
    mutate(app, user, "createDecision", input, &selection).await["decision"].clone()
}

/// Decide a decision as `user` and return the whole response.
async fn decide(app: &TestApp, user: &TestUser, id: &str, status: &str) -> Value {
    app.as_user(
        user,
        &decide_query(),
        json!({ "input": { "id": id, "status": status, "outcome": "Go", "rationale": "Because" } }),
    )
    .await
}

async fn lookup(app: &TestApp, user: &TestUser, id: &str) -> Value {
    let body = app
        .as_user(user, &lookup_query(), json!({ "id": id }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["decision"].clone()
}

#[tokio::test]
async fn a_proposed_decision_is_created_with_its_options_and_read_back() {
    let app = spawn_app().await;
    let cast = cast(&app, "ADR").await;
    let decision = propose(
        &app,
        &cast.editor,
        json!({
            "programId": cast.program,
            "title": "Pick a message broker",
            "context": "Ordering matters.\n\tAnd 한국어 too.",
            "dueDate": "2026-04-30",
            "options": [
                { "title": "Kafka", "pros": "Ordering", "cons": "Operations" },
                { "title": "SQS" },
            ],
        }),
    )
    .await;
    assert_eq!(decision["status"], "PROPOSED");
    assert_eq!(decision["title"], "Pick a message broker");
    assert_eq!(decision["context"], "Ordering matters.\n\tAnd 한국어 too.");
    assert_eq!(decision["dueDate"], "2026-04-30");
    assert_eq!(decision["version"], 1);
    assert_eq!(decision["program"]["id"], cast.program.as_str());
    assert!(decision["decidedBy"].is_null() && decision["decidedAt"].is_null());
    assert_eq!(
        decision["options"],
        json!([
            { "title": "Kafka", "pros": "Ordering", "cons": "Operations" },
            { "title": "SQS", "pros": null, "cons": null },
        ])
    );

    let id = decision["id"].as_str().unwrap();
    assert_eq!(lookup(&app, &cast.viewer, id).await, decision);
    let body = app
        .as_user(
            &cast.viewer,
            "query($id: ID!) { program(id: $id) { decisions { totalCount nodes { id options { title } } } } }",
            json!({ "id": cast.program }),
        )
        .await;
    let list = &body["data"]["program"]["decisions"];
    assert_eq!(list["totalCount"], 1, "{body}");
    assert_eq!(list["nodes"][0]["id"], id);
    assert_eq!(list["nodes"][0]["options"][1]["title"], "SQS");
}

#[tokio::test]
async fn updating_a_decision_replaces_its_options_and_null_clears() {
    let app = spawn_app().await;
    let cast = cast(&app, "ADR").await;
    let decision = propose(
        &app,
        &cast.owner,
        json!({ "programId": cast.program, "title": "Broker", "context": "ctx", "dueDate": "2026-04-30",
                "options": [{ "title": "A" }, { "title": "B" }, { "title": "C" }] }),
    )
    .await;
    let id = decision["id"].as_str().unwrap();
    let body = app
        .as_user(
            &cast.editor,
            &update_query(),
            json!({ "input": { "id": id, "expectedVersion": 1, "title": "Message broker",
                    "context": null, "dueDate": null, "consequences": "We run Kafka.",
                    "options": [{ "title": "Kafka", "pros": "Replay" }] } }),
        )
        .await;
    let updated = &body["data"]["updateDecision"]["decision"];
    assert_eq!(updated["title"], "Message broker", "{body}");
    assert!(updated["context"].is_null());
    assert!(updated["dueDate"].is_null());
    assert_eq!(updated["consequences"], "We run Kafka.");
    assert_eq!(
        updated["options"],
        json!([{ "title": "Kafka", "pros": "Replay", "cons": null }])
    );
    assert_eq!(updated["version"], 2);
    assert_eq!(app.count_rows("decision_options").await, 1);

    // Absent fields stay; a null title is refused.
    let body = app
        .as_user(
            &cast.editor,
            &update_query(),
            json!({ "input": { "id": id, "title": null } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.title");
    let body = app
        .as_user(
            &cast.editor,
            &update_query(),
            json!({ "input": { "id": id, "options": null } }),
        )
        .await;
    let updated = &body["data"]["updateDecision"]["decision"];
    assert_eq!(updated["options"], json!([]), "{body}");
    assert_eq!(updated["title"], "Message broker");
    assert_eq!(updated["consequences"], "We run Kafka.");
    assert_eq!(app.count_rows("decision_options").await, 0);
}

#[tokio::test]
async fn deciding_records_who_decided_and_when() {
    let app = spawn_app().await;
    let cast = cast(&app, "ADR").await;
    let decision = propose(
        &app,
        &cast.owner,
        json!({ "programId": cast.program, "title": "Broker" }),
    )
    .await;
    let id = decision["id"].as_str().unwrap();
    let before = Utc::now();
    let body = app
        .as_user(
            &cast.editor,
            &decide_query(),
            json!({ "input": { "id": id, "expectedVersion": 1, "status": "ACCEPTED",
                    "outcome": "Kafka", "rationale": "Ordering and replay" } }),
        )
        .await;
    let after = Utc::now();
    let decided = &body["data"]["decideDecision"]["decision"];
    assert_eq!(decided["status"], "ACCEPTED", "{body}");
    assert_eq!(decided["outcome"], "Kafka");
    assert_eq!(decided["rationale"], "Ordering and replay");
    assert_eq!(decided["decidedBy"]["id"], cast.editor.id.as_str());
    assert_eq!(decided["version"], 2);
    let at: DateTime<Utc> = decided["decidedAt"].as_str().unwrap().parse().unwrap();
    assert!(
        at >= before - chrono::TimeDelta::seconds(1) && at <= after,
        "{at}"
    );
    assert_eq!(body["data"]["decideDecision"]["superseded"], json!([]));

    let rejected = propose(
        &app,
        &cast.owner,
        json!({ "programId": cast.program, "title": "Second broker" }),
    )
    .await;
    let body = decide(
        &app,
        &cast.owner,
        rejected["id"].as_str().unwrap(),
        "REJECTED",
    )
    .await;
    let decided = &body["data"]["decideDecision"]["decision"];
    assert_eq!(decided["status"], "REJECTED", "{body}");
    assert_eq!(decided["decidedBy"]["id"], cast.owner.id.as_str());
    assert!(decided["decidedAt"].is_string());
}

#[tokio::test]
async fn deciding_twice_is_a_conflict_and_writes_nothing() {
    let app = spawn_app().await;
    let cast = cast(&app, "ADR").await;
    let decision = propose(
        &app,
        &cast.owner,
        json!({ "programId": cast.program, "title": "Broker" }),
    )
    .await;
    let id = decision["id"].as_str().unwrap();
    let body = decide(&app, &cast.owner, id, "ACCEPTED").await;
    assert!(body["errors"].is_null(), "{body}");
    let events = app.count_rows("audit_events").await;
    for status in ["ACCEPTED", "REJECTED"] {
        let body = decide(&app, &cast.editor, id, status).await;
        assert_eq!(error_code(&body), "CONFLICT", "{body}");
    }
    assert_eq!(app.count_rows("audit_events").await, events);
    let stored = lookup(&app, &cast.owner, id).await;
    assert_eq!(stored["status"], "ACCEPTED");
    assert_eq!(stored["decidedBy"]["id"], cast.owner.id.as_str());
    assert_eq!(stored["version"], 2);

    // Only ACCEPTED or REJECTED are verdicts.
    let other = propose(
        &app,
        &cast.owner,
        json!({ "programId": cast.program, "title": "Other" }),
    )
    .await;
    for status in ["PROPOSED", "SUPERSEDED"] {
        let body = decide(&app, &cast.owner, other["id"].as_str().unwrap(), status).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), "input.status");
    }
}

#[tokio::test]
async fn accepting_a_superseding_decision_links_old_and_new_both_ways() {
    let app = spawn_app().await;
    let cast = cast(&app, "ADR").await;
    let old = propose(
        &app,
        &cast.owner,
        json!({ "programId": cast.program, "title": "Use RabbitMQ" }),
    )
    .await;
    let old_id = old["id"].as_str().unwrap();
    decide(&app, &cast.owner, old_id, "ACCEPTED").await;

    let new = propose(
        &app,
        &cast.editor,
        json!({ "programId": cast.program, "title": "Move to Kafka", "supersedesId": old_id }),
    )
    .await;
    let new_id = new["id"].as_str().unwrap();
    // While the new decision is proposed, the link is pending on both sides.
    assert_eq!(new["supersedes"], json!([{ "id": old_id }]));
    let stored_old = lookup(&app, &cast.viewer, old_id).await;
    assert_eq!(stored_old["status"], "ACCEPTED");
    assert!(stored_old["supersededBy"].is_null());
    assert_eq!(stored_old["proposedReplacement"]["id"], new_id);
    // The old decision cannot get a second pending replacement.
    let body = app
        .as_user(
            &cast.editor,
            &create_query(),
            json!({ "input": { "programId": cast.program, "title": "Move to NATS", "supersedesId": old_id } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.supersedesId");

    let events = app.count_rows("audit_events").await;
    let body = decide(&app, &cast.editor, new_id, "ACCEPTED").await;
    assert_eq!(
        body["data"]["decideDecision"]["superseded"],
        json!([{ "id": old_id, "status": "SUPERSEDED" }]),
        "{body}"
    );
    assert_eq!(app.count_rows("audit_events").await, events + 1);
    let event = last_audit_event(&app).await;
    assert_eq!(event.action, "decision.decide");
    assert_eq!(event.entity_id.to_string(), new_id);
    assert_eq!(event.changes["status"]["after"], "ACCEPTED");
    assert_eq!(event.changes["supersedes"]["entityId"], old_id);
    assert_eq!(
        event.changes["supersedes"]["changes"]["status"],
        json!({ "before": "ACCEPTED", "after": "SUPERSEDED" })
    );

    let stored_old = lookup(&app, &cast.viewer, old_id).await;
    assert_eq!(stored_old["status"], "SUPERSEDED");
    assert_eq!(stored_old["supersededBy"]["id"], new_id);
    assert!(stored_old["proposedReplacement"].is_null());
    let stored_new = lookup(&app, &cast.viewer, new_id).await;
    assert_eq!(stored_new["status"], "ACCEPTED");
    assert_eq!(stored_new["supersedes"], json!([{ "id": old_id }]));
    // A superseded decision cannot be superseded again.
    let body = app
        .as_user(
            &cast.editor,
            &create_query(),
            json!({ "input": { "programId": cast.program, "title": "Again", "supersedesId": old_id } }),
        )
        .await;
    assert_eq!(error_field(&body), "input.supersedesId", "{body}");
}

#[tokio::test]
async fn rejecting_a_superseding_decision_releases_the_old_one() {
    let app = spawn_app().await;
    let cast = cast(&app, "ADR").await;
    let old = propose(
        &app,
        &cast.owner,
        json!({ "programId": cast.program, "title": "Use RabbitMQ" }),
    )
    .await;
    let old_id = old["id"].as_str().unwrap();
    decide(&app, &cast.owner, old_id, "ACCEPTED").await;
    let new = propose(
        &app,
        &cast.owner,
        json!({ "programId": cast.program, "title": "Move to Kafka", "supersedesId": old_id }),
    )
    .await;
    let body = decide(&app, &cast.owner, new["id"].as_str().unwrap(), "REJECTED").await;
    assert_eq!(
        body["data"]["decideDecision"]["superseded"],
        json!([]),
        "{body}"
    );
    assert_eq!(
        body["data"]["decideDecision"]["decision"]["supersedes"],
        json!([])
    );
    let stored_old = lookup(&app, &cast.owner, old_id).await;
    assert_eq!(stored_old["status"], "ACCEPTED");
    assert!(stored_old["proposedReplacement"].is_null());
    // The old decision can be superseded by a later proposal.
    let later = propose(
        &app,
        &cast.owner,
        json!({ "programId": cast.program, "title": "Move to NATS", "supersedesId": old_id }),
    )
    .await;
    assert_eq!(later["supersedes"], json!([{ "id": old_id }]));
}

#[tokio::test]
async fn only_an_accepted_decision_of_the_same_program_can_be_superseded() {
    let app = spawn_app().await;
    let cast = cast(&app, "ADR").await;
    let proposed = propose(
        &app,
        &cast.owner,
        json!({ "programId": cast.program, "title": "Still proposed" }),
    )
    .await;
    let elsewhere = program(&app, &cast.owner, "OTHER", json!({})).await;
    let foreign = propose(
        &app,
        &cast.owner,
        json!({ "programId": elsewhere, "title": "Other program" }),
    )
    .await;
    decide(
        &app,
        &cast.owner,
        foreign["id"].as_str().unwrap(),
        "ACCEPTED",
    )
    .await;
    let decisions = app.count_rows("decisions").await;
    let events = app.count_rows("audit_events").await;
    for supersedes in [
        proposed["id"].as_str().unwrap().to_owned(),
        foreign["id"].as_str().unwrap().to_owned(),
        uuid::Uuid::now_v7().to_string(),
    ] {
        let body = app
            .as_user(
                &cast.owner,
                &create_query(),
                json!({ "input": { "programId": cast.program, "title": "New", "supersedesId": supersedes } }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), "input.supersedesId");
    }
    assert_eq!(app.count_rows("decisions").await, decisions);
    assert_eq!(app.count_rows("audit_events").await, events);
}

#[tokio::test]
async fn decision_input_is_validated_with_code_and_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let cast = cast(&app, "ADR").await;
    let option = |title: &str| json!({ "title": title });
    let too_many: Vec<Value> = (0..21).map(|i| option(&format!("O{i}"))).collect();
    let cases = [
        (json!({ "title": "x".repeat(201) }), "input.title"),
        (json!({ "title": "  " }), "input.title"),
        (
            json!({ "title": "ok", "context": "nul\u{0}byte" }),
            "input.context",
        ),
        (
            json!({ "title": "ok", "context": "c".repeat(20_001) }),
            "input.context",
        ),
        (
            json!({ "title": "ok", "options": too_many }),
            "input.options",
        ),
        (
            json!({ "title": "ok", "options": [option("A"), option("B"), option(" ")] }),
            "input.options.2.title",
        ),
        (
            json!({ "title": "ok", "options": [{ "title": "A", "cons": "bell\u{7}" }] }),
            "input.options.0.cons",
        ),
        (
            json!({ "title": "ok", "dueDate": "2026-02-30" }),
            "input.dueDate",
        ),
    ];
    for (mut input, field) in cases {
        input["programId"] = json!(cast.program);
        let body = app
            .as_user(&cast.editor, &create_query(), json!({ "input": input }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input}: {body}");
        assert_eq!(error_field(&body), field, "{input}: {body}");
        assert!(body["errors"][0]["message"].is_string());
    }
    assert_eq!(app.count_rows("decisions").await, 0);
    assert_eq!(app.count_rows("decision_options").await, 0);
    // Exactly 20 options and texts at the limit are fine.
    let twenty: Vec<Value> = (0..20).map(|i| option(&format!("O{i}"))).collect();
    let decision = propose(
        &app,
        &cast.editor,
        json!({ "programId": cast.program, "title": "t".repeat(200), "context": "가".repeat(20_000), "options": twenty }),
    )
    .await;
    assert_eq!(decision["options"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict_for_update_and_decide() {
    let app = spawn_app().await;
    let cast = cast(&app, "ADR").await;
    let decision = propose(
        &app,
        &cast.owner,
        json!({ "programId": cast.program, "title": "Broker" }),
    )
    .await;
    let id = decision["id"].as_str().unwrap();
    let body = app
        .as_user(
            &cast.owner,
            &update_query(),
            json!({ "input": { "id": id, "expectedVersion": 1, "title": "Broker v2" } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let events = app.count_rows("audit_events").await;
    let body = app
        .as_user(
            &cast.editor,
            &update_query(),
            json!({ "input": { "id": id, "expectedVersion": 1, "title": "Lost update" } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    let body = app
        .as_user(
            &cast.editor,
            &decide_query(),
            json!({ "input": { "id": id, "expectedVersion": 1, "status": "ACCEPTED" } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    assert_eq!(app.count_rows("audit_events").await, events);
    let stored = lookup(&app, &cast.owner, id).await;
    assert_eq!(stored["title"], "Broker v2");
    assert_eq!(stored["status"], "PROPOSED");
    assert_eq!(stored["version"], 2);
}

#[tokio::test]
async fn each_successful_decision_mutation_writes_one_audit_event() {
    let app = spawn_app().await;
    let cast = cast(&app, "ADR").await;
    let start = audit_actions(&app).await.len();
    let old = propose(
        &app,
        &cast.owner,
        json!({ "programId": cast.program, "title": "Old", "options": [{ "title": "A" }] }),
    )
    .await;
    let old_id = old["id"].as_str().unwrap();
    decide(&app, &cast.owner, old_id, "ACCEPTED").await;
    let new = propose(
        &app,
        &cast.owner,
        json!({ "programId": cast.program, "title": "New", "supersedesId": old_id }),
    )
    .await;
    let event = last_audit_event(&app).await;
    assert_eq!(event.entity_type, "Decision");
    assert_eq!(event.changes["title"]["after"], "New");
    assert_eq!(
        event.changes["supersedes"]["changes"]["supersededById"]["after"],
        new["id"]
    );
    app.as_user(
        &cast.owner,
        &update_query(),
        json!({ "input": { "id": new["id"], "options": [{ "title": "B" }] } }),
    )
    .await;
    let event = last_audit_event(&app).await;
    assert_eq!(
        event.changes["options"],
        json!({ "before": [], "after": [{ "title": "B", "pros": null, "cons": null }] })
    );
    decide(&app, &cast.owner, new["id"].as_str().unwrap(), "ACCEPTED").await;
    assert_eq!(
        audit_actions(&app).await[start..],
        [
            "decision.create",
            "decision.decide",
            "decision.create",
            "decision.update",
            "decision.decide"
        ]
    );
}

#[tokio::test]
async fn program_decisions_filter_order_and_page() {
    let app = spawn_app().await;
    let cast = cast(&app, "ADR").await;
    for (title, due) in [
        ("Broker", Some("2026-05-01")),
        ("Database", Some("2026-03-01")),
        ("CI system", None),
        ("Cloud region", Some("2026-04-01")),
    ] {
        propose(
            &app,
            &cast.owner,
            json!({ "programId": cast.program, "title": title, "dueDate": due, "context": format!("About {title}") }),
        )
        .await;
    }
    let query = "query($id: ID!, $filter: DecisionFilter, $orderBy: DecisionOrder, $first: Int, $after: String) { program(id: $id) { decisions(filter: $filter, orderBy: $orderBy, first: $first, after: $after) { totalCount nodes { id title } pageInfo { hasNextPage endCursor } } } }";
    let titles = |body: &Value| node_texts(&body["data"]["program"]["decisions"], "title");
    let run = |vars: Value| {
        let mut vars = vars;
        vars["id"] = json!(cast.program);
        app.as_user(&cast.viewer, query, vars)
    };
    let body = run(json!({ "orderBy": { "field": "DUE_DATE" } })).await;
    assert_eq!(
        titles(&body),
        ["Database", "Cloud region", "Broker", "CI system"]
    );
    let body = run(json!({ "orderBy": { "field": "TITLE", "direction": "DESC" } })).await;
    assert_eq!(
        titles(&body),
        ["Database", "Cloud region", "CI system", "Broker"]
    );
    let body =
        run(json!({ "filter": { "dueBefore": "2026-05-01" }, "orderBy": { "field": "DUE_DATE" } }))
            .await;
    assert_eq!(titles(&body), ["Database", "Cloud region"]);
    let body = run(json!({ "filter": { "search": "CLOUD" } })).await;
    assert_eq!(titles(&body), ["Cloud region"]);
    let body = run(json!({ "filter": { "status": ["ACCEPTED"] } })).await;
    assert_eq!(titles(&body), Vec::<String>::new());

    // Paging by creation time walks every decision once.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let body = run(json!({ "first": 3, "after": after })).await;
        assert_eq!(body["data"]["program"]["decisions"]["totalCount"], 4);
        seen.extend(titles(&body));
        let info = &body["data"]["program"]["decisions"]["pageInfo"];
        if !info["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = info["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, ["Broker", "Database", "CI system", "Cloud region"]);
    let body = run(json!({ "first": 101 })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
}
