//! Priorities and capacity: a workstream's `priority` and `effortDays`, a
//! team's `capacityDaysPerWeek`, and what a team holds across programs —
//! its `commitments`, its `priorityConflicts` and its weekly `load` — each
//! checked against dates and numbers worked out by hand below.
//!
//! Now is 2026-03-01 12:00 UTC (a Sunday): work planned after it is
//! forecast on its plan, unless an upstream pushes it.

use serde_json::{Value, json};

use crate::fixtures::{
    attempt, dated, dependency, last_audit_event_of, mutate, program, set_member, workstream,
};
use crate::helpers::{TestApp, TestUser, error_code, error_field, spawn_app_with};

const NOW: [&str; 2] = ["--now", "2026-03-01T12:00:00Z"];

/// A team created by `user` with `extra` fields; returns its id.
async fn team_with(app: &TestApp, user: &TestUser, name: &str, extra: Value) -> String {
    let mut input = json!({ "name": name });
    input
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let payload = mutate(app, user, "createTeam", input, "team { id }").await;
    payload["team"]["id"].as_str().unwrap().to_owned()
}

/// `fields` plus `teamId` and `priority`.
fn staffed(team: &str, priority: &str, fields: Value) -> Value {
    let mut fields = fields;
    fields["teamId"] = json!(team);
    fields["priority"] = json!(priority);
    fields
}

/// The team's `selection` as `user`; panics on errors.
async fn team_view(app: &TestApp, user: &TestUser, team: &str, selection: &str) -> Value {
    let body = app
        .as_user(
            user,
            &format!("query($id: ID!) {{ team(id: $id) {{ {selection} }} }}"),
            json!({ "id": team }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["team"].clone()
}

/// The names of a connection's or list's nodes.
fn names(nodes: &Value) -> Vec<&str> {
    nodes
        .as_array()
        .unwrap_or_else(|| panic!("no list: {nodes}"))
        .iter()
        .map(|node| node["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn priority_defaults_to_p2_and_effort_and_capacity_are_set_and_cleared() {
    let app = spawn_app_with(&NOW).await;
    let tpm = app.member("Tpm").await;
    let p = program(&app, &tpm, "PRIO", json!({})).await;

    let plain = workstream(&app, &tpm, &p, "Plain", json!({})).await;
    let body = app
        .as_user(
            &tpm,
            "query($id: ID!) { workstream(id: $id) { priority effortDays } }",
            json!({ "id": plain }),
        )
        .await;
    assert_eq!(body["data"]["workstream"]["priority"], "P2", "{body}");
    assert!(body["data"]["workstream"]["effortDays"].is_null(), "{body}");

    let urgent = mutate(
        &app,
        &tpm,
        "createWorkstream",
        json!({ "programId": p, "name": "Urgent", "priority": "P0", "effortDays": 3.5 }),
        "workstream { id priority effortDays version }",
    )
    .await;
    let ws = &urgent["workstream"];
    assert_eq!(ws["priority"], "P0", "{urgent}");
    assert_eq!(ws["effortDays"], 3.5, "{urgent}");

    // Absent keeps, a value sets, null clears the estimate; the history says what changed.
    let changed = mutate(
        &app,
        &tpm,
        "updateWorkstream",
        json!({ "id": ws["id"], "priority": "P1", "expectedVersion": ws["version"] }),
        "workstream { priority effortDays }",
    )
    .await;
    assert_eq!(changed["workstream"]["priority"], "P1", "{changed}");
    assert_eq!(changed["workstream"]["effortDays"], 3.5, "{changed}");
    let event = last_audit_event_of(&app, "workstream.update").await;
    assert_eq!(
        event.changes["priority"]["before"], "P0",
        "{:?}",
        event.changes
    );
    assert_eq!(
        event.changes["priority"]["after"], "P1",
        "{:?}",
        event.changes
    );
    let cleared = mutate(
        &app,
        &tpm,
        "updateWorkstream",
        json!({ "id": ws["id"], "effortDays": null }),
        "workstream { priority effortDays }",
    )
    .await;
    assert_eq!(cleared["workstream"]["priority"], "P1", "{cleared}");
    assert!(cleared["workstream"]["effortDays"].is_null(), "{cleared}");

    // Priority is never empty; effort is 0 to 100,000 days.
    let refusals = [
        (
            "updateWorkstream",
            json!({ "id": ws["id"], "priority": null }),
            "input.priority",
        ),
        (
            "updateWorkstream",
            json!({ "id": ws["id"], "effortDays": -1 }),
            "input.effortDays",
        ),
        (
            "updateWorkstream",
            json!({ "id": ws["id"], "effortDays": 100_001 }),
            "input.effortDays",
        ),
        (
            "createWorkstream",
            json!({ "programId": p, "name": "Bad", "effortDays": -0.5 }),
            "input.effortDays",
        ),
        (
            "createTeam",
            json!({ "name": "Bad", "capacityDaysPerWeek": -1 }),
            "input.capacityDaysPerWeek",
        ),
        (
            "createTeam",
            json!({ "name": "Huge", "capacityDaysPerWeek": 10_001 }),
            "input.capacityDaysPerWeek",
        ),
    ];
    for (name, input, field) in refusals {
        let selection = if name == "createTeam" {
            "team { id }"
        } else {
            "workstream { id }"
        };
        let body = attempt(&app, &tpm, name, input, selection).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), field, "{body}");
    }

    // Upserts and imports carry both.
    let upserted = mutate(
        &app,
        &tpm,
        "upsertWorkstream",
        json!({ "programId": p, "externalId": "SYNC-9", "name": "Synced", "priority": "P3", "effortDays": 8 }),
        "workstream { priority effortDays }",
    )
    .await;
    assert_eq!(upserted["workstream"]["priority"], "P3", "{upserted}");
    assert_eq!(upserted["workstream"]["effortDays"], 8.0, "{upserted}");
    let body = app
        .as_user(
            &tpm,
            "query($id: ID!) { program(id: $id) { export(format: CSV) } }",
            json!({ "id": p }),
        )
        .await;
    let csv = body["data"]["program"]["export"].as_str().unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .contains(",priority,effortDays,"),
        "{csv}"
    );
    let copy = program(&app, &tpm, "PRIOCOPY", json!({})).await;
    let imported = mutate(
        &app,
        &tpm,
        "importProgram",
        json!({ "programId": copy, "format": "CSV", "data": csv }),
        "program { workstreams(orderBy: { field: PRIORITY }) { nodes { name priority effortDays } } }",
    )
    .await;
    let nodes = &imported["program"]["workstreams"]["nodes"];
    assert_eq!(names(nodes), ["Urgent", "Plain", "Synced"], "{imported}");
    assert_eq!(nodes[2]["effortDays"], 8.0, "{imported}");

    // A team's capacity: set on create, changed, cleared.
    let team = team_with(
        &app,
        &tpm,
        "Platform",
        json!({ "capacityDaysPerWeek": 25.5 }),
    )
    .await;
    assert_eq!(
        team_view(&app, &tpm, &team, "capacityDaysPerWeek").await["capacityDaysPerWeek"],
        25.5
    );
    for (value, expected) in [(json!(40), json!(40.0)), (Value::Null, Value::Null)] {
        let payload = mutate(
            &app,
            &tpm,
            "updateTeam",
            json!({ "id": team, "capacityDaysPerWeek": value }),
            "team { capacityDaysPerWeek }",
        )
        .await;
        assert_eq!(
            payload["team"]["capacityDaysPerWeek"], expected,
            "{payload}"
        );
    }
}

#[tokio::test]
async fn commitments_are_unfinished_work_by_priority_then_forecast_finish() {
    let app = spawn_app_with(&NOW).await;
    let tpm = app.member("Tpm").await;
    let a = program(&app, &tpm, "CMTA", json!({})).await;
    let b = program(&app, &tpm, "CMTB", json!({})).await;
    let team = team_with(&app, &tpm, "Payments", json!({})).await;
    let other = team_with(&app, &tpm, "Other", json!({})).await;
    let add = |p: &String, name: &'static str, priority: &'static str, fields: Value| {
        let (app, tpm, team, p) = (&app, &tpm, team.clone(), p.clone());
        async move { workstream(app, tpm, &p, name, staffed(&team, priority, fields)).await }
    };
    add(
        &a,
        "A normal early",
        "P2",
        dated("2026-03-02", "2026-03-10"),
    )
    .await;
    add(&a, "A urgent late", "P0", dated("2026-04-01", "2026-04-30")).await;
    add(&a, "A urgent undated", "P0", json!({})).await;
    add(
        &b,
        "B urgent early",
        "P0",
        dated("2026-03-05", "2026-03-20"),
    )
    .await;
    add(&b, "B high", "P1", dated("2026-05-01", "2026-05-31")).await;
    add(&b, "B done", "P0", json!({ "status": "DONE" })).await;
    add(&b, "B cancelled", "P0", json!({ "status": "CANCELLED" })).await;
    workstream(&app, &tpm, &b, "Not ours", staffed(&other, "P0", json!({}))).await;
    // Planned 02-28..03-31 (31 days), pushed by its upstream (not the
    // team's) to start 03-14: forecast to finish 04-14, before 04-30.
    let up = workstream(
        &app,
        &tpm,
        &a,
        "Upstream",
        dated("2026-03-02", "2026-03-13"),
    )
    .await;
    let pushed = add(
        &a,
        "A urgent pushed",
        "P0",
        dated("2026-02-28", "2026-03-31"),
    )
    .await;
    dependency(&app, &tpm, &up, &pushed, json!({})).await;

    let expected = [
        "B urgent early",   // P0, 03-20
        "A urgent pushed",  // P0, 03-14 + 31 days = 04-14
        "A urgent late",    // P0, 04-30
        "A urgent undated", // P0, unscheduled
        "B high",           // P1
        "A normal early",   // P2
    ];
    let view = team_view(
        &app,
        &tpm,
        &team,
        "commitments { totalCount nodes { name program { key } } }",
    )
    .await;
    assert_eq!(view["commitments"]["totalCount"], 6, "{view}");
    assert_eq!(names(&view["commitments"]["nodes"]), expected, "{view}");

    // Paged forward and backward in the same order.
    let page = |args: &str| {
        let (app, tpm, team) = (&app, &tpm, &team);
        let selection = format!(
            "commitments({args}) {{ pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} nodes {{ name }} }}"
        );
        async move { team_view(app, tpm, team, &selection).await["commitments"].clone() }
    };
    let first = page("first: 4").await;
    assert_eq!(names(&first["nodes"]), expected[..4], "{first}");
    assert_eq!(first["pageInfo"]["hasNextPage"], true, "{first}");
    let rest = page(&format!(
        "first: 4, after: {}",
        first["pageInfo"]["endCursor"]
    ))
    .await;
    assert_eq!(names(&rest["nodes"]), expected[4..], "{rest}");
    assert_eq!(rest["pageInfo"]["hasNextPage"], false, "{rest}");
    let last = page("last: 2").await;
    assert_eq!(names(&last["nodes"]), expected[4..], "{last}");
    assert_eq!(last["pageInfo"]["hasPreviousPage"], true, "{last}");
}

#[tokio::test]
async fn urgent_work_of_different_programs_at_the_same_time_conflicts() {
    let app = spawn_app_with(&NOW).await;
    let tpm = app.member("Tpm").await;
    let a = program(&app, &tpm, "CFA", json!({})).await;
    let b = program(&app, &tpm, "CFB", json!({})).await;
    let team = team_with(&app, &tpm, "Identity", json!({})).await;
    let add = |p: &String, name: &'static str, priority: &'static str, fields: Value| {
        let (app, tpm, team, p) = (&app, &tpm, team.clone(), p.clone());
        async move { workstream(app, tpm, &p, name, staffed(&team, priority, fields)).await }
    };
    add(&a, "A1", "P0", dated("2026-03-02", "2026-03-13")).await;
    // Overlaps A1 but in the same program: not a conflict.
    add(&a, "A2", "P1", dated("2026-03-10", "2026-03-20")).await;
    // Overlaps A1 (03-12..03-13) and A2 (03-12..03-20).
    add(&b, "B1", "P1", dated("2026-03-12", "2026-03-25")).await;
    // Overlaps everything but is P2: not urgent.
    add(&b, "B2", "P2", dated("2026-03-01", "2026-03-31")).await;
    // Urgent but after everything else.
    add(&b, "B3", "P0", dated("2026-04-01", "2026-04-10")).await;
    // Urgent and overlapping, but done.
    add(&b, "B4", "P0", json!({ "status": "DONE", "startedOn": "2026-02-20", "startDate": "2026-02-20", "targetDate": "2026-03-20" })).await;

    let view = team_view(
        &app,
        &tpm,
        &team,
        "priorityConflicts { first { name } second { name } overlapStart overlapEnd overlapDays }",
    )
    .await;
    let mut found: Vec<(String, String, String, String, i64)> = view["priorityConflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["first"]["name"].as_str().unwrap().to_owned(),
                c["second"]["name"].as_str().unwrap().to_owned(),
                c["overlapStart"].as_str().unwrap().to_owned(),
                c["overlapEnd"].as_str().unwrap().to_owned(),
                c["overlapDays"].as_i64().unwrap(),
            )
        })
        .collect();
    found.sort();
    let row = |a: &str, b: &str, s: &str, e: &str, d: i64| {
        (a.to_owned(), b.to_owned(), s.to_owned(), e.to_owned(), d)
    };
    assert_eq!(
        found,
        vec![
            row("A1", "B1", "2026-03-12", "2026-03-13", 2),
            row("A2", "B1", "2026-03-12", "2026-03-20", 9),
        ],
        "{view}"
    );
    let one = team_view(
        &app,
        &tpm,
        &team,
        "priorityConflicts(first: 1) { overlapDays }",
    )
    .await;
    assert_eq!(
        one["priorityConflicts"].as_array().unwrap().len(),
        1,
        "{one}"
    );
}

#[tokio::test]
async fn load_spreads_effort_over_the_forecast_span_in_iso_weeks() {
    let app = spawn_app_with(&NOW).await;
    let tpm = app.member("Tpm").await;
    let a = program(&app, &tpm, "LOADA", json!({})).await;
    let b = program(&app, &tpm, "LOADB", json!({})).await;
    let team = team_with(&app, &tpm, "Data", json!({ "capacityDaysPerWeek": 5 })).await;
    let staff = |extra: Value| {
        let mut fields = extra;
        fields["teamId"] = json!(team);
        fields
    };
    // Planned Tue 03-03..Thu 03-12 (9 days), pushed by its upstream (not the
    // team's) to Thu 03-05..Sat 03-14: 10 days, 1 effort-day each; 4 fall in
    // the week of Mon 03-02 (Thu–Sun), 6 in the week of 03-09 (Mon–Sat).
    let up = workstream(
        &app,
        &tpm,
        &a,
        "Upstream",
        dated("2026-03-02", "2026-03-04"),
    )
    .await;
    let pushed = workstream(
        &app,
        &tpm,
        &a,
        "Pushed",
        staff(json!({ "startDate": "2026-03-03", "targetDate": "2026-03-12", "effortDays": 10 })),
    )
    .await;
    dependency(&app, &tpm, &up, &pushed, json!({})).await;
    // In another program: Mon 03-16..Sun 03-22, 7 days, all in one week.
    workstream(
        &app,
        &tpm,
        &b,
        "Elsewhere",
        staff(json!({ "startDate": "2026-03-16", "targetDate": "2026-03-22", "effortDays": 7 })),
    )
    .await;
    // No estimate, finished, or cancelled: no demand.
    workstream(
        &app,
        &tpm,
        &a,
        "Unestimated",
        staff(dated("2026-03-02", "2026-03-29")),
    )
    .await;
    workstream(
        &app,
        &tpm,
        &b,
        "Finished",
        staff(json!({ "status": "DONE", "startedOn": "2026-02-20", "startDate": "2026-02-20", "targetDate": "2026-03-20", "effortDays": 30 })),
    )
    .await;
    workstream(
        &app,
        &tpm,
        &b,
        "Dropped",
        staff(json!({ "status": "CANCELLED", "startDate": "2026-03-02", "targetDate": "2026-03-20", "effortDays": 30 })),
    )
    .await;

    // Wed 03-04 to Mon 03-23: the four weeks starting 03-02, 03-09, 03-16, 03-23.
    let view = team_view(
        &app,
        &tpm,
        &team,
        r#"load(from: "2026-03-04", to: "2026-03-23") { overloadedWeeks weeks { weekStart demandDays capacityDays utilization overloaded } }"#,
    )
    .await;
    let load = &view["load"];
    assert_eq!(
        load["weeks"],
        json!([
            { "weekStart": "2026-03-02", "demandDays": 4.0, "capacityDays": 5.0, "utilization": 0.8, "overloaded": false },
            { "weekStart": "2026-03-09", "demandDays": 6.0, "capacityDays": 5.0, "utilization": 1.2, "overloaded": true },
            { "weekStart": "2026-03-16", "demandDays": 7.0, "capacityDays": 5.0, "utilization": 1.4, "overloaded": true },
            { "weekStart": "2026-03-23", "demandDays": 0.0, "capacityDays": 5.0, "utilization": 0.0, "overloaded": false },
        ]),
        "{view}"
    );
    assert_eq!(load["overloadedWeeks"], 2, "{view}");

    // Without a capacity there is no utilization and nothing is overloaded.
    mutate(
        &app,
        &tpm,
        "updateTeam",
        json!({ "id": team, "capacityDaysPerWeek": null }),
        "team { id }",
    )
    .await;
    let view = team_view(
        &app,
        &tpm,
        &team,
        r#"load(from: "2026-03-09", to: "2026-03-09") { weeks { weekStart demandDays capacityDays utilization overloaded } }"#,
    )
    .await;
    assert_eq!(
        view["load"]["weeks"],
        json!([{ "weekStart": "2026-03-09", "demandDays": 6.0, "capacityDays": null, "utilization": null, "overloaded": false }]),
        "{view}"
    );
}

#[tokio::test]
async fn a_load_range_is_in_order_and_at_most_104_weeks() {
    let app = spawn_app_with(&NOW).await;
    let tpm = app.member("Tpm").await;
    let team = team_with(&app, &tpm, "Range", json!({})).await;
    let load = |from: &'static str, to: &'static str| {
        let (app, tpm, team) = (&app, &tpm, &team);
        async move {
            app.as_user(
                tpm,
                "query($id: ID!, $from: Date!, $to: Date!) { team(id: $id) { load(from: $from, to: $to) { weeks { weekStart } } } }",
                json!({ "id": team, "from": from, "to": to }),
            )
            .await
        }
    };
    for (from, to) in [("2026-03-10", "2026-03-09"), ("2026-03-02", "2028-03-06")] {
        let body = load(from, to).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), "to", "{body}");
    }
    // Mon 2026-03-02 to Sun 2028-02-27: exactly 104 weeks.
    let body = load("2026-03-02", "2028-02-27").await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(
        body["data"]["team"]["load"]["weeks"]
            .as_array()
            .unwrap()
            .len(),
        104
    );
}

#[tokio::test]
async fn a_hidden_programs_work_never_shows_in_a_teams_commitments_conflicts_or_load() {
    let app = spawn_app_with(&NOW).await;
    let tpm = app.member("Tpm").await;
    let secret_owner = app.member("Sam").await;
    let viewer = app.member("Vic").await;
    let visible = program(&app, &tpm, "SEEN", json!({})).await;
    let hidden = program(&app, &secret_owner, "UNSEEN", json!({})).await;
    set_member(&app, &tpm, &visible, &viewer, "VIEWER").await;
    let team = team_with(&app, &tpm, "Shared", json!({ "capacityDaysPerWeek": 10 })).await;
    let fields = |effort: i64| {
        json!({ "teamId": team, "priority": "P0", "effortDays": effort,
                "startDate": "2026-03-02", "targetDate": "2026-03-08" })
    };
    workstream(&app, &tpm, &visible, "Seen work", fields(5)).await;
    let secret = workstream(&app, &secret_owner, &hidden, "Secret work", fields(70)).await;

    let selection = r#"commitments { totalCount nodes { id name } }
        priorityConflicts { first { id } second { id } }
        load(from: "2026-03-02", to: "2026-03-08") { weeks { demandDays utilization overloaded } }"#;
    // Someone who sees both: the secret work is there, a conflict, an overloaded week.
    let both = app.admin().await;
    let all = team_view(&app, &both, &team, selection).await;
    assert_eq!(all["commitments"]["totalCount"], 2, "{all}");
    assert_eq!(
        all["priorityConflicts"].as_array().unwrap().len(),
        1,
        "{all}"
    );
    assert_eq!(all["load"]["weeks"][0]["demandDays"], 75.0, "{all}");
    assert_eq!(all["load"]["weeks"][0]["overloaded"], true, "{all}");

    // A viewer of one program only: nothing of the other, on any of them.
    for user in [&viewer, &tpm] {
        let seen = team_view(&app, user, &team, selection).await;
        assert_eq!(seen["commitments"]["totalCount"], 1, "{seen}");
        assert_eq!(
            names(&seen["commitments"]["nodes"]),
            ["Seen work"],
            "{seen}"
        );
        assert_eq!(seen["priorityConflicts"], json!([]), "{seen}");
        assert_eq!(
            seen["load"]["weeks"],
            json!([{ "demandDays": 5.0, "utilization": 0.5, "overloaded": false }]),
            "{seen}"
        );
        let text = seen.to_string();
        assert!(
            !text.contains(&secret) && !text.contains("Secret"),
            "{text}"
        );
    }
}
