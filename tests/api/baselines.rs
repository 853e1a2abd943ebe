//! Baselines: a capture stores every workstream's and milestone's planned
//! and forecast dates; variance and the finish delta measure today's
//! forecast against it; the forecast's history lists status updates and
//! baselines. Who may capture and read is in `authorization`.

use serde_json::{Value, json};

use crate::fixtures::{
    Cast, Socket, attempt, baseline, cast, dated, dependency, last_audit_event, milestone, mutate,
    node_texts, status_update, subscribed, workstream,
};
use crate::helpers::{BEFORE_THE_PLANS, TestApp, error_code, error_field, spawn_app_with};

const BASELINE: &str = "id name capturedAt capturedBy { id } targetDate forecastFinishDate finishDeltaDays
    variance { workstream { id name } workstreamId baselinePlannedFinish plannedFinish plannedDeltaDays baselineFinish forecastFinish deltaDays }
    milestoneVariance { milestone { id } milestoneId baselineDueDate dueDate baselineForecastDate forecastDate deltaDays }";

/// A program due 2026-03-31: A (January) → B (February, with a milestone
/// due 02-20), and C (first half of January) on its own.
struct Plan {
    cast: Cast,
    a: String,
    b: String,
    c: String,
    m: String,
}

async fn plan(app: &TestApp, key: &str) -> Plan {
    let cast = cast(app, key).await;
    mutate(
        app,
        &cast.owner,
        "updateProgram",
        json!({ "id": cast.program, "targetDate": "2026-03-31" }),
        "program { id }",
    )
    .await;
    let (owner, program) = (&cast.owner, &cast.program);
    let a = workstream(app, owner, program, "A", dated("2026-01-01", "2026-01-31")).await;
    let b = workstream(app, owner, program, "B", dated("2026-02-01", "2026-02-28")).await;
    let c = workstream(app, owner, program, "C", dated("2026-01-01", "2026-01-15")).await;
    dependency(app, owner, &a, &b, json!({})).await;
    let m = milestone(
        app,
        owner,
        &b,
        "B ready",
        json!({ "dueDate": "2026-02-20" }),
    )
    .await;
    Plan { cast, a, b, c, m }
}

/// The program's baselines, newest first, with every field.
async fn baselines(app: &TestApp, plan: &Plan) -> Value {
    let body = app
        .as_user(
            &plan.cast.viewer,
            &format!(
                "query($id: ID!) {{ program(id: $id) {{ forecastFinishDate baselines(first: 5) {{ totalCount nodes {{ {BASELINE} }} }} }} }}"
            ),
            json!({ "id": plan.cast.program }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["program"].clone()
}

/// The variance entry of workstream `id`.
fn entry<'a>(baseline: &'a Value, field: &str, key: &str, id: &str) -> &'a Value {
    baseline[field]
        .as_array()
        .unwrap_or_else(|| panic!("no {field}: {baseline}"))
        .iter()
        .find(|entry| entry[key] == id)
        .unwrap_or_else(|| panic!("no entry for {id}: {baseline}"))
}

#[tokio::test]
async fn capturing_a_baseline_stores_every_workstream_and_milestone_and_records_it() {
    let app = spawn_app_with(&BEFORE_THE_PLANS).await;
    let plan = plan(&app, "BASE").await;
    let events = app.count_rows("audit_events").await;

    let payload = mutate(
        &app,
        &plan.cast.editor,
        "captureBaseline",
        json!({ "programId": plan.cast.program, "name": "  Kickoff " }),
        &format!("baseline {{ {BASELINE} program {{ id }} }}"),
    )
    .await;
    let captured = &payload["baseline"];
    assert_eq!(captured["name"], "Kickoff", "{payload}");
    assert_eq!(captured["capturedBy"]["id"], plan.cast.editor.id.as_str());
    assert_eq!(captured["program"]["id"], plan.cast.program.as_str());
    assert_eq!(captured["targetDate"], "2026-03-31");
    assert_eq!(captured["forecastFinishDate"], "2026-02-28");
    assert_eq!(captured["finishDeltaDays"], 0);
    assert_eq!(captured["variance"].as_array().unwrap().len(), 3);
    let b = entry(captured, "variance", "workstreamId", &plan.b);
    assert_eq!(b["workstream"]["name"], "B");
    assert_eq!(b["baselinePlannedFinish"], "2026-02-28");
    assert_eq!(b["baselineFinish"], "2026-02-28");
    assert_eq!(b["deltaDays"], 0);
    let m = entry(captured, "milestoneVariance", "milestoneId", &plan.m);
    assert_eq!(m["baselineDueDate"], "2026-02-20", "{captured}");
    assert_eq!(m["baselineForecastDate"], "2026-02-20");
    assert_eq!(m["deltaDays"], 0);

    // One row and one history entry, which names the snapshot without copying it.
    assert_eq!(app.count_rows("baselines").await, 1);
    assert_eq!(app.count_rows("audit_events").await, events + 1);
    let event = last_audit_event(&app).await;
    assert_eq!(event.action, "baseline.capture");
    assert_eq!(event.entity_type, "Baseline");
    assert_eq!(
        event.entity_id.to_string(),
        captured["id"].as_str().unwrap()
    );
    assert_eq!(event.changes["name"]["after"], "Kickoff");
    assert_eq!(event.changes["workstreams"]["after"], 3);
    assert_eq!(event.changes["milestones"]["after"], 1);
    let activity = app
        .as_user(
            &plan.cast.viewer,
            "query($id: ID!) { program(id: $id) { activity(first: 1) { nodes { action entityType entityId actor { id } } } } }",
            json!({ "id": plan.cast.program }),
        )
        .await;
    let latest = &activity["data"]["program"]["activity"]["nodes"][0];
    assert_eq!(latest["action"], "baseline.capture", "{activity}");
    assert_eq!(latest["entityId"], captured["id"]);
    assert_eq!(latest["actor"]["id"], plan.cast.editor.id.as_str());

    // The owner may capture too; the list is newest first.
    baseline(&app, &plan.cast.owner, &plan.cast.program, "Replan").await;
    let program = baselines(&app, &plan).await;
    assert_eq!(program["baselines"]["totalCount"], 2);
    assert_eq!(
        node_texts(&program["baselines"], "name"),
        ["Replan", "Kickoff"]
    );
}

#[tokio::test]
async fn variance_and_finish_delta_measure_a_moved_target_against_the_baseline() {
    let app = spawn_app_with(&BEFORE_THE_PLANS).await;
    let plan = plan(&app, "VARY").await;
    baseline(&app, &plan.cast.editor, &plan.cast.program, "Kickoff").await;

    // A's target moves ten days: A finishes 02-10, so B starts 02-11 and,
    // 27 days long, finishes 03-10, ten days after its 02-28 target; B's
    // milestone moves with it from 02-20 to 03-02. C does not move.
    mutate(
        &app,
        &plan.cast.editor,
        "updateWorkstream",
        json!({ "id": plan.a, "targetDate": "2026-02-10" }),
        "workstream { id }",
    )
    .await;
    let program = baselines(&app, &plan).await;
    assert_eq!(program["forecastFinishDate"], "2026-03-10", "{program}");
    let kickoff = &program["baselines"]["nodes"][0];
    assert_eq!(kickoff["forecastFinishDate"], "2026-02-28");
    assert_eq!(kickoff["finishDeltaDays"], 10);

    let a = entry(kickoff, "variance", "workstreamId", &plan.a);
    assert_eq!(a["baselinePlannedFinish"], "2026-01-31", "{a}");
    assert_eq!(a["plannedFinish"], "2026-02-10");
    assert_eq!(a["plannedDeltaDays"], 10);
    assert_eq!(a["baselineFinish"], "2026-01-31");
    assert_eq!(a["forecastFinish"], "2026-02-10");
    assert_eq!(a["deltaDays"], 10);
    let b = entry(kickoff, "variance", "workstreamId", &plan.b);
    assert_eq!(b["plannedFinish"], "2026-02-28", "{b}");
    assert_eq!(b["plannedDeltaDays"], 0);
    assert_eq!(b["baselineFinish"], "2026-02-28");
    assert_eq!(b["forecastFinish"], "2026-03-10");
    assert_eq!(b["deltaDays"], 10);
    let c = entry(kickoff, "variance", "workstreamId", &plan.c);
    assert_eq!(c["deltaDays"], 0, "{c}");
    let m = entry(kickoff, "milestoneVariance", "milestoneId", &plan.m);
    assert_eq!(m["dueDate"], "2026-02-20", "{m}");
    assert_eq!(m["baselineForecastDate"], "2026-02-20");
    assert_eq!(m["forecastDate"], "2026-03-02");
    assert_eq!(m["deltaDays"], 10);

    // A deleted workstream keeps its entry, with nothing to compare.
    mutate(
        &app,
        &plan.cast.editor,
        "deleteWorkstream",
        json!({ "id": plan.c }),
        "deletedWorkstreamId",
    )
    .await;
    let program = baselines(&app, &plan).await;
    let kickoff = &program["baselines"]["nodes"][0];
    let c = entry(kickoff, "variance", "workstreamId", &plan.c);
    assert!(c["workstream"].is_null(), "{c}");
    assert_eq!(c["baselineFinish"], "2026-01-15");
    assert!(c["forecastFinish"].is_null());
    assert!(c["deltaDays"].is_null());
    assert_eq!(kickoff["variance"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_bad_baseline_name_is_refused_and_nothing_is_written() {
    let app = spawn_app_with(&BEFORE_THE_PLANS).await;
    let plan = plan(&app, "NAME").await;
    let events = app.count_rows("audit_events").await;
    for name in ["   ".to_owned(), "x".repeat(201)] {
        let body = attempt(
            &app,
            &plan.cast.owner,
            "captureBaseline",
            json!({ "programId": plan.cast.program, "name": name }),
            "baseline { id }",
        )
        .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), "input.name", "{body}");
    }
    assert_eq!(app.count_rows("baselines").await, 0);
    assert_eq!(app.count_rows("audit_events").await, events);
}

#[tokio::test]
async fn forecast_history_lists_status_updates_and_baselines_oldest_first() {
    let app = spawn_app_with(&BEFORE_THE_PLANS).await;
    let plan = plan(&app, "HIST").await;
    let (editor, program) = (&plan.cast.editor, &plan.cast.program);
    let first_update = status_update(&app, editor, program, "On plan").await;
    let kickoff = baseline(&app, editor, program, "Kickoff").await;
    mutate(
        &app,
        editor,
        "updateWorkstream",
        json!({ "id": plan.a, "targetDate": "2026-02-10" }),
        "workstream { id }",
    )
    .await;
    let second_update = status_update(&app, editor, program, "A slipped").await;

    let body = app
        .as_user(
            &plan.cast.viewer,
            "query($id: ID!) { program(id: $id) { forecastHistory { on at forecastFinishDate targetDate source sourceId name statusUpdate { id summary } baseline { id name } } } }",
            json!({ "id": program }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let history = body["data"]["program"]["forecastHistory"]
        .as_array()
        .unwrap();
    let summary: Vec<(&str, &str, &str)> = history
        .iter()
        .map(|point| {
            (
                point["source"].as_str().unwrap(),
                point["sourceId"].as_str().unwrap(),
                point["forecastFinishDate"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("STATUS_UPDATE", first_update.as_str(), "2026-02-28"),
            ("BASELINE", kickoff.as_str(), "2026-02-28"),
            ("STATUS_UPDATE", second_update.as_str(), "2026-03-10"),
        ],
        "{body}"
    );
    assert_eq!(history[1]["name"], "Kickoff");
    assert_eq!(history[1]["baseline"]["id"], kickoff.as_str());
    assert!(history[1]["statusUpdate"].is_null());
    assert!(history[0]["name"].is_null());
    assert_eq!(history[2]["statusUpdate"]["summary"], "A slipped");
    assert!(
        history
            .iter()
            .all(|point| point["targetDate"] == "2026-03-31")
    );
    let on = history[0]["on"].as_str().unwrap();
    assert!(history[0]["at"].as_str().unwrap().starts_with(on), "{body}");

    // `first` keeps the oldest.
    let body = app
        .as_user(
            &plan.cast.viewer,
            "query($id: ID!) { program(id: $id) { forecastHistory(first: 1) { sourceId } } }",
            json!({ "id": program }),
        )
        .await;
    assert_eq!(
        body["data"]["program"]["forecastHistory"],
        json!([{ "sourceId": first_update }]),
        "{body}"
    );
}

#[tokio::test]
async fn a_member_hears_a_baseline_captured() {
    let app = spawn_app_with(&BEFORE_THE_PLANS).await;
    let plan = plan(&app, "HEAR").await;
    let mut socket = Socket::signed_in(&app, &plan.cast.viewer).await;
    socket.watch("events", &plan.cast.program).await;
    subscribed(&app, 1).await;

    let id = baseline(&app, &plan.cast.editor, &plan.cast.program, "Kickoff").await;
    let event = socket.next_event("events").await;
    assert_eq!(event["kind"], "CREATED", "{event}");
    assert_eq!(event["action"], "baseline.capture");
    assert_eq!(event["entityType"], "Baseline");
    assert_eq!(event["entityId"], id.as_str());
}
