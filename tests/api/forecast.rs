//! Forecasts that follow reality: a "Market entry: Japan" program in Seoul
//! whose payments wait on an identity team in another program, asked the
//! questions a TPM asks, every answer checked against dates worked out by
//! hand below.
//!
//! Now is 2026-11-30 20:00 UTC: 2026-12-01 in Seoul and Tokyo, 2026-11-30 in UTC.
//!
//! - JP "Legal entity": DONE, planned 10-01..10-31, actually 10-01..10-20.
//! - JP "Localization" (team Localization): started 11-03, planned
//!   11-01..12-05 (34 days) → forecast 11-03..12-07, 2 days late.
//! - ID "SSO for Japan" (team Identity, program ID in Tokyo): started 10-15,
//!   planned 10-15..11-25 → still open, so it finishes today at the
//!   earliest: 12-01.
//! - JP "Payments integration" (team Payments): planned 12-01..2027-01-31
//!   (61 days); waits on SSO (needed 12-01, promised 12-10) and on
//!   Localization (needed 12-08). SSO delivers max(12-01, promise 12-10) =
//!   12-10, Localization 12-07 → starts 12-11, finishes 2027-02-10 (10 late).
//! - JP "Customer accounts": planned 12-01..12-31 (30 days), waits on SSO
//!   (no promise, needed 12-01) → 12-02..2027-01-01.
//! - JP "Launch readiness": planned 2027-02-01..03-31 (58 days), waits on
//!   Payments → 2027-02-11..2027-04-10: 10 days after the 03-31 target.
//! - Critical path: Payments → Launch (Payments' start is bound by the
//!   promise, not by work in this program).
//! - Payments is predicted to deliver to Launch on 02-10, needed 02-01.
//! - Identity slips 14 days: SSO 12-01 → 12-15, its delivery 12-15 (past
//!   the promise) → Payments 12-16..2027-02-15, Launch → 2027-04-15 (+5),
//!   Customer accounts → 2027-01-15 (+14).

use serde_json::{Value, json};

use crate::fixtures::{
    dated, dependency, milestone, mutate, program, set_member, team, workstream,
};
use crate::helpers::{TestApp, TestUser, error_code, spawn_app_with};

const NOW: [&str; 2] = ["--now", "2026-11-30T20:00:00Z"];

struct Japan {
    jp: String,
    identity: String,
    localization: String,
    payments_team: String,
    sso: String,
    localization_ws: String,
    payments: String,
    launch: String,
    sso_to_payments: String,
}

async fn japan(app: &TestApp, tpm: &TestUser) -> Japan {
    let jp = program(
        app,
        tpm,
        "JP",
        json!({ "name": "Market entry: Japan", "timeZone": "Asia/Seoul",
                "startDate": "2026-10-01", "targetDate": "2027-03-31" }),
    )
    .await;
    let id = program(
        app,
        tpm,
        "ID",
        json!({ "name": "Identity platform", "timeZone": "Asia/Tokyo" }),
    )
    .await;
    let identity = team(app, tpm, "Identity").await;
    let localization = team(app, tpm, "Localization").await;
    let payments_team = team(app, tpm, "Payments").await;

    // (program, name, planned start, target, what happened and who does it)
    let plan = [
        (
            &jp,
            "Legal entity",
            "2026-10-01",
            "2026-10-31",
            json!({ "status": "DONE", "startedOn": "2026-10-01", "finishedOn": "2026-10-20" }),
        ),
        (
            &jp,
            "Localization",
            "2026-11-01",
            "2026-12-05",
            json!({ "status": "IN_PROGRESS", "startedOn": "2026-11-03", "teamId": localization }),
        ),
        (
            &id,
            "SSO for Japan",
            "2026-10-15",
            "2026-11-25",
            json!({ "status": "IN_PROGRESS", "startedOn": "2026-10-15", "teamId": identity }),
        ),
        (
            &jp,
            "Payments integration",
            "2026-12-01",
            "2027-01-31",
            json!({ "teamId": payments_team }),
        ),
        (
            &jp,
            "Customer accounts",
            "2026-12-01",
            "2026-12-31",
            json!({}),
        ),
        (
            &jp,
            "Launch readiness",
            "2027-02-01",
            "2027-03-31",
            json!({}),
        ),
    ];
    let mut ids = Vec::new();
    for (program, name, start, target, mut extra) in plan {
        extra["startDate"] = json!(start);
        extra["targetDate"] = json!(target);
        ids.push(workstream(app, tpm, program, name, extra).await);
    }
    let [legal, localization_ws, sso, payments, accounts, launch] =
        <[String; 6]>::try_from(ids).expect("six workstreams");
    // (upstream, downstream, need date, promise or status)
    let mut dependencies = Vec::new();
    for (up, down, needed_by, extra) in [
        (
            &legal,
            &localization_ws,
            "2026-11-01",
            json!({ "status": "RESOLVED" }),
        ),
        (
            &sso,
            &payments,
            "2026-12-01",
            json!({ "committedDate": "2026-12-10" }),
        ),
        (&localization_ws, &payments, "2026-12-08", json!({})),
        (&sso, &accounts, "2026-12-01", json!({})),
        (&payments, &launch, "2027-02-01", json!({})),
    ] {
        let mut extra = extra;
        extra["neededBy"] = json!(needed_by);
        dependencies.push(dependency(app, tpm, up, down, extra).await);
    }
    let sso_to_payments = dependencies.swap_remove(1);
    Japan {
        jp,
        identity,
        localization,
        payments_team,
        sso,
        localization_ws,
        payments,
        launch,
        sso_to_payments,
    }
}

fn names(list: &Value, path: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| {
            path.split('.')
                .fold(item, |v, key| &v[key])
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn will_we_make_the_date() {
    let app = spawn_app_with(&NOW).await;
    let tpm = app.member("Tpm").await;
    let j = japan(&app, &tpm).await;
    let body = app
        .as_user(
            &tpm,
            include_str!("../../examples/will-we-make-the-date.graphql"),
            json!({ "key": "JP" }),
        )
        .await;
    let p = &body["data"]["program"];
    assert_eq!(p["targetDate"], "2027-03-31", "{body}");
    assert_eq!(p["forecastFinishDate"], "2027-04-10", "{body}");
    assert_eq!(p["health"], "ON_TRACK", "the posted health stays: {body}");
    assert_eq!(p["computedHealth"]["health"], "AT_RISK", "{body}");
    let reasons = &p["computedHealth"]["reasons"];
    assert_eq!(
        names(reasons, "code"),
        [
            "FORECAST_LATE",
            "AT_RISK_DEPENDENCY_ON_CRITICAL_PATH",
            "AT_RISK_DEPENDENCY_ON_CRITICAL_PATH"
        ],
        "{body}"
    );
    assert_eq!(reasons[0]["entityId"], j.jp.as_str());
    assert_eq!(
        reasons[0]["message"],
        "The forecast finish 2027-04-10 is 10 days after the target 2027-03-31."
    );
    assert_eq!(reasons[1]["entityId"], j.sso_to_payments.as_str());
    assert_eq!(
        names(&p["criticalPath"]["workstreams"], "name"),
        ["Payments integration", "Launch readiness"]
    );
    let schedule = p["schedule"].as_array().unwrap();
    let entry = |name: &str| {
        schedule
            .iter()
            .find(|e| e["workstream"]["name"] == name)
            .unwrap_or_else(|| panic!("{name} not scheduled: {body}"))
            .clone()
    };
    let legal = entry("Legal entity");
    assert_eq!(
        (&legal["forecastStart"], &legal["forecastFinish"]),
        (&json!("2026-10-01"), &json!("2026-10-20"))
    );
    assert_eq!(
        legal["isCritical"], false,
        "finished work is never critical"
    );
    let localization = entry("Localization");
    assert_eq!(localization["plannedFinish"], "2026-12-05");
    assert_eq!(localization["forecastStart"], "2026-11-03");
    assert_eq!(localization["forecastFinish"], "2026-12-07");
    assert_eq!(localization["lateDays"], 2);
    assert_eq!(localization["slackDays"], 3);
    let payments = entry("Payments integration");
    assert_eq!(payments["forecastStart"], "2026-12-11");
    assert_eq!(payments["forecastFinish"], "2027-02-10");
    assert_eq!(payments["lateDays"], 10);
    assert_eq!(entry("Launch readiness")["forecastStart"], "2027-02-11");

    // Past offTrackAfterDays (14 by default, here 7) the program is off track.
    mutate(
        &app,
        &tpm,
        "updateProgram",
        json!({ "id": j.jp, "offTrackAfterDays": 7 }),
        "program { offTrackAfterDays }",
    )
    .await;
    let body = app
        .as_user(
            &tpm,
            "query($id: ID!) { program(id: $id) { computedHealth { health reasons { code health } } } }",
            json!({ "id": j.jp }),
        )
        .await;
    assert_eq!(
        body["data"]["program"]["computedHealth"]["health"], "OFF_TRACK",
        "{body}"
    );
}

#[tokio::test]
async fn what_is_blocking_payments() {
    let app = spawn_app_with(&NOW).await;
    let tpm = app.member("Tpm").await;
    let j = japan(&app, &tpm).await;
    let body = app
        .as_user(
            &tpm,
            include_str!("../../examples/what-is-blocking.graphql"),
            json!({ "workstreamId": j.payments }),
        )
        .await;
    let upstream = body["data"]["workstream"]["upstream"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone();
    let by = |name: &str| {
        upstream
            .iter()
            .find(|d| d["upstream"]["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {body}"))
            .clone()
    };
    let sso = by("SSO for Japan");
    assert_eq!(sso["upstream"]["program"]["key"], "ID");
    assert_eq!(
        sso["predictedDelivery"], "2026-12-10",
        "the promise governs"
    );
    assert_eq!(sso["isPredictedLate"], true);
    assert_eq!(sso["isOverdue"], false, "needed today, not before");
    let localization = by("Localization");
    assert_eq!(localization["predictedDelivery"], "2026-12-07");
    assert_eq!(localization["isPredictedLate"], false);

    let body = app
        .as_user(
            &tpm,
            "query($id: ID!) { program(id: $id) { atRiskDependencies { upstream { name } } overdueDependencies { id } } }",
            json!({ "id": j.jp }),
        )
        .await;
    let p = &body["data"]["program"];
    assert_eq!(
        names(&p["atRiskDependencies"], "upstream.name"),
        ["SSO for Japan", "Payments integration"],
        "predicted late for payments, and payments for launch: {body}"
    );
    assert_eq!(p["overdueDependencies"], json!([]));
}

#[tokio::test]
async fn which_team_is_the_bottleneck() {
    let app = spawn_app_with(&NOW).await;
    let tpm = app.member("Tpm").await;
    let j = japan(&app, &tpm).await;
    let body = app
        .as_user(
            &tpm,
            include_str!("../../examples/team-bottlenecks.graphql"),
            json!({ "key": "JP" }),
        )
        .await;
    let teams = body["data"]["program"]["bottlenecks"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone();
    let rows: Vec<(String, i64, i64, f64)> = teams
        .iter()
        .map(|t| {
            (
                t["team"]["id"].as_str().unwrap().to_owned(),
                t["downstreamCount"].as_i64().unwrap(),
                t["directDownstreamCount"].as_i64().unwrap(),
                t["criticalPathShare"].as_f64().unwrap(),
            )
        })
        .collect();
    // Identity: payments, accounts and launch wait; localization: payments
    // and launch; payments: launch (and it is half the critical path).
    assert_eq!(
        rows,
        vec![
            (j.identity.clone(), 3, 2, 0.0),
            (j.localization.clone(), 2, 1, 0.0),
            (j.payments_team.clone(), 1, 1, 0.5),
        ],
        "{body}"
    );
    assert!(teams.iter().all(|t| t["workstream"].is_null()));
}

#[tokio::test]
async fn what_moves_if_identity_slips_two_weeks() {
    let app = spawn_app_with(&NOW).await;
    let tpm = app.member("Tpm").await;
    let j = japan(&app, &tpm).await;
    let payments_live = milestone(
        &app,
        &tpm,
        &j.payments,
        "Payments live",
        json!({ "dueDate": "2027-01-31" }),
    )
    .await;
    let body = app
        .as_user(
            &tpm,
            include_str!("../../examples/team-slip.graphql"),
            json!({ "key": "ID", "teamId": j.identity }),
        )
        .await;
    let impact = &body["data"]["program"]["slipImpact"];
    let moved: Vec<(String, String, i64, String)> = impact["affected"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|a| {
            (
                a["workstream"]["program"]["key"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                a["workstream"]["name"].as_str().unwrap().to_owned(),
                a["slipDays"].as_i64().unwrap(),
                a["newFinish"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("ID", "SSO for Japan", 14, "2026-12-15"),
        ("JP", "Customer accounts", 14, "2027-01-15"),
        ("JP", "Payments integration", 5, "2027-02-15"),
        ("JP", "Launch readiness", 5, "2027-04-15"),
    ];
    let mut moved = moved;
    moved.sort_by(|a, b| a.3.cmp(&b.3));
    assert_eq!(
        moved,
        expected
            .iter()
            .map(|(p, n, d, f)| (p.to_string(), n.to_string(), *d, f.to_string()))
            .collect::<Vec<_>>(),
        "{body}"
    );
    assert_eq!(
        impact["finishDelayDays"], 14,
        "the identity program's own finish"
    );
    let milestones = impact["milestones"].as_array().unwrap();
    assert_eq!(milestones.len(), 1, "{body}");
    assert_eq!(milestones[0]["milestone"]["id"], payments_live.as_str());
    // Due 01-31, forecast 10 days late (02-10), 5 more after the slip.
    assert_eq!(milestones[0]["newForecastDate"], "2027-02-15");
    assert_eq!(milestones[0]["slipDays"], 5);

    // The same slip as one workstream, seen from Japan: refused, it is not
    // Japan's; and exactly one of workstreamId and teamId is needed.
    let body = app
        .as_user(
            &tpm,
            "query($id: ID!, $ws: ID) { program(id: $id) { slipImpact(workstreamId: $ws, days: 14) { finishDelayDays } } }",
            json!({ "id": j.jp, "ws": j.sso }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let body = app
        .as_user(
            &tpm,
            "query($id: ID!) { program(id: $id) { slipImpact(days: 14) { finishDelayDays } } }",
            json!({ "id": j.jp }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    // Localization's own two-week slip moves payments by 11 days (12-21 + 1).
    let body = app
        .as_user(
            &tpm,
            "query($id: ID!, $ws: ID) { program(id: $id) { slipImpact(workstreamId: $ws, days: 14) { finishDelayDays finishDate } } }",
            json!({ "id": j.jp, "ws": j.localization_ws }),
        )
        .await;
    let impact = &body["data"]["program"]["slipImpact"];
    assert_eq!(impact["finishDelayDays"], 11, "{body}");
    assert_eq!(impact["finishDate"], "2027-04-21");
}

#[tokio::test]
async fn milestones_are_overdue_and_forecast_in_the_programs_time_zone() {
    let app = spawn_app_with(&NOW).await;
    let tpm = app.member("Tpm").await;
    let j = japan(&app, &tpm).await;
    for (workstream, name, due) in [
        (&j.localization_ws, "Glossary signed off", "2026-11-30"),
        (&j.payments, "Payments live", "2027-01-31"),
        (&j.launch, "Go live", "2027-03-31"),
    ] {
        milestone(&app, &tpm, workstream, name, json!({ "dueDate": due })).await;
    }
    let body = app
        .as_user(
            &tpm,
            "query($id: ID!) { program(id: $id) {
                overdue: milestones(filter: { overdue: true }) { nodes { name isOverdue } }
                later: milestones(filter: { dueAfter: \"2026-12-31\" }, orderBy: { field: DUE_DATE }) {
                    nodes { name dueDate forecastDate isOverdue }
                }
            } }",
            json!({ "id": j.jp }),
        )
        .await;
    let p = &body["data"]["program"];
    // Due 11-30: overdue on 12-01 in Seoul, though it is still 11-30 in UTC.
    assert_eq!(
        names(&p["overdue"]["nodes"], "name"),
        ["Glossary signed off"],
        "{body}"
    );
    let later = p["later"]["nodes"].as_array().unwrap();
    assert_eq!(later[0]["forecastDate"], "2027-02-10", "{body}");
    assert_eq!(later[1]["name"], "Go live");
    assert_eq!(later[1]["forecastDate"], "2027-04-10");
    assert_eq!(later[1]["isOverdue"], false);

    // The same need date in a UTC program is not overdue yet.
    let utc = program(&app, &tpm, "UTC", json!({})).await;
    let up = workstream(&app, &tpm, &utc, "Up", dated("2026-11-01", "2026-12-20")).await;
    let down = workstream(&app, &tpm, &utc, "Down", dated("2026-12-21", "2026-12-31")).await;
    let dep = dependency(&app, &tpm, &up, &down, json!({ "neededBy": "2026-11-29" })).await;
    let in_seoul = dependency(
        &app,
        &tpm,
        &up,
        &j.launch,
        json!({ "neededBy": "2026-11-30" }),
    )
    .await;
    let query = "query($a: ID!, $b: ID!) { a: dependency(id: $a) { isOverdue } b: dependency(id: $b) { isOverdue } }";
    let body = app
        .as_user(&tpm, query, json!({ "a": dep, "b": in_seoul }))
        .await;
    assert_eq!(body["data"]["a"]["isOverdue"], true, "{body}");
    assert_eq!(
        body["data"]["b"]["isOverdue"], true,
        "judged in Seoul: {body}"
    );
    mutate(
        &app,
        &tpm,
        "updateDependency",
        json!({ "id": dep, "neededBy": "2026-11-30" }),
        "dependency { id }",
    )
    .await;
    let body = app
        .as_user(&tpm, query, json!({ "a": dep, "b": in_seoul }))
        .await;
    assert_eq!(
        body["data"]["a"]["isOverdue"], false,
        "still 11-30 in UTC: {body}"
    );

    // A time zone this server does not know is refused, nothing written.
    let body = crate::fixtures::attempt(
        &app,
        &tpm,
        "updateProgram",
        json!({ "id": j.jp, "timeZone": "Mars/Olympus" }),
        "program { timeZone }",
    )
    .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let body = app
        .as_user(
            &tpm,
            "query($id: ID!) { program(id: $id) { timeZone offTrackAfterDays } }",
            json!({ "id": j.jp }),
        )
        .await;
    assert_eq!(body["data"]["program"]["timeZone"], "Asia/Seoul");
    assert_eq!(body["data"]["program"]["offTrackAfterDays"], 14);
}

#[tokio::test]
async fn actual_dates_follow_the_status_and_stay_in_the_past() {
    let app = spawn_app_with(&NOW).await;
    let tpm = app.member("Tpm").await;
    let viewer = app.member("Viewer").await;
    let j = japan(&app, &tpm).await;
    set_member(&app, &tpm, &j.jp, &viewer, "VIEWER").await;
    let ws = workstream(
        &app,
        &tpm,
        &j.jp,
        "Tax registration",
        dated("2026-11-20", "2026-12-20"),
    )
    .await;
    let set_status = async |status: &str| {
        mutate(
            &app,
            &tpm,
            "updateWorkstream",
            json!({ "id": ws, "status": status }),
            "workstream { status startedOn finishedOn }",
        )
        .await["workstream"]
            .clone()
    };
    // Today is 12-01 in Seoul.
    let started = set_status("IN_PROGRESS").await;
    assert_eq!(started["startedOn"], "2026-12-01", "{started}");
    assert!(started["finishedOn"].is_null());
    let done = set_status("DONE").await;
    assert_eq!(
        (&done["startedOn"], &done["finishedOn"]),
        (&json!("2026-12-01"), &json!("2026-12-01"))
    );
    let reopened = set_status("IN_PROGRESS").await;
    assert!(reopened["finishedOn"].is_null(), "{reopened}");
    // A jump straight to DONE sets both; backfilling is allowed.
    let jumped = workstream(
        &app,
        &tpm,
        &j.jp,
        "Bank account",
        json!({ "status": "DONE" }),
    )
    .await;
    let payload = mutate(
        &app,
        &tpm,
        "updateWorkstream",
        json!({ "id": jumped, "startedOn": "2026-11-02", "finishedOn": "2026-11-09" }),
        "workstream { startedOn finishedOn }",
    )
    .await;
    assert_eq!(payload["workstream"]["finishedOn"], "2026-11-09");
    // Not after today, not finished before started; nothing is written.
    for (input, field) in [
        (
            json!({ "id": ws, "startedOn": "2026-12-02" }),
            "input.startedOn",
        ),
        (
            json!({ "id": jumped, "startedOn": "2026-11-10", "finishedOn": "2026-11-09" }),
            "input.finishedOn",
        ),
    ] {
        let body =
            crate::fixtures::attempt(&app, &tpm, "updateWorkstream", input, "workstream { id }")
                .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(crate::helpers::error_field(&body), field, "{body}");
    }
    let body = app
        .as_user(
            &tpm,
            "query($id: ID!) { workstream(id: $id) { startedOn finishedOn } }",
            json!({ "id": jumped }),
        )
        .await;
    assert_eq!(body["data"]["workstream"]["startedOn"], "2026-11-02");
    // A viewer reads the actuals and the forecast but cannot change them.
    let body = app
        .as_user(&viewer, "query($id: ID!) { workstream(id: $id) { startedOn } program(id: $p) { computedHealth { health } } }".replace("$id: ID!)", "$id: ID!, $p: ID!)").as_str(), json!({ "id": jumped, "p": j.jp }))
        .await;
    assert_eq!(
        body["data"]["workstream"]["startedOn"], "2026-11-02",
        "{body}"
    );
    assert_eq!(
        body["data"]["program"]["computedHealth"]["health"], "AT_RISK",
        "{body}"
    );
    let body = crate::fixtures::attempt(
        &app,
        &viewer,
        "updateWorkstream",
        json!({ "id": jumped, "finishedOn": "2026-11-08" }),
        "workstream { id }",
    )
    .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
}

#[tokio::test]
async fn forecasts_load_in_a_constant_number_of_statements() {
    let app = spawn_app_with(&NOW).await;
    let tpm = app.member("Tpm").await;
    let j = japan(&app, &tpm).await;
    let query = "query($id: ID!) { program(id: $id) {
        forecastFinishDate computedHealth { health }
        schedule { forecastFinish }
        bottlenecks(groupBy: TEAM) { team { name } }
        atRiskDependencies { predictedDelivery isOverdue }
        milestones { nodes { forecastDate isOverdue } }
    } }";
    let small = crate::fixtures::fewest_statements(&app, &tpm, query, json!({ "id": j.jp })).await;
    // Ten more workstreams, each waiting on the last, with milestones.
    let mut last = j.launch.clone();
    for i in 0..10 {
        let ws = workstream(
            &app,
            &tpm,
            &j.jp,
            &format!("Extra {i}"),
            dated("2027-01-01", "2027-01-05"),
        )
        .await;
        milestone(&app, &tpm, &ws, "m", json!({ "dueDate": "2027-01-05" })).await;
        dependency(&app, &tpm, &last, &ws, json!({ "neededBy": "2027-01-01" })).await;
        last = ws;
    }
    let large = crate::fixtures::fewest_statements(&app, &tpm, query, json!({ "id": j.jp })).await;
    assert_eq!(
        small.0, large.0,
        "statements grew with the plan: {}",
        large.1
    );
}

/// Work that leaves the program and comes back: this program's late work
/// delays another program's, which delays this program's again.
#[tokio::test]
async fn a_delay_that_goes_through_another_program_comes_back() {
    let app = spawn_app_with(&NOW).await;
    let tpm = app.member("Tpm").await;
    let here = program(&app, &tpm, "HERE", json!({})).await;
    let there = program(&app, &tpm, "THERE", json!({})).await;
    // Started 11-01 for 10 days: forecast to finish today (11-30 in UTC) at the earliest.
    let first = workstream(
        &app,
        &tpm,
        &here,
        "First",
        json!({ "startDate": "2026-11-01", "targetDate": "2026-11-11",
                "status": "IN_PROGRESS", "startedOn": "2026-11-01" }),
    )
    .await;
    let middle = workstream(
        &app,
        &tpm,
        &there,
        "Middle",
        dated("2026-11-12", "2026-11-22"),
    )
    .await;
    let last = workstream(&app, &tpm, &here, "Last", dated("2026-11-23", "2026-11-30")).await;
    dependency(&app, &tpm, &first, &middle, json!({})).await;
    dependency(&app, &tpm, &middle, &last, json!({})).await;
    let body = app
        .as_user(
            &tpm,
            "query($id: ID!) { program(id: $id) { forecastFinishDate schedule { workstream { name } forecastStart } } }",
            json!({ "id": here }),
        )
        .await;
    // First ends 11-30, Middle runs 12-01..12-11, Last 12-12..12-19.
    assert_eq!(
        body["data"]["program"]["forecastFinishDate"], "2026-12-19",
        "{body}"
    );
}
