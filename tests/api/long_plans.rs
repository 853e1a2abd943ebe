//! A plan longer than the calendar: every day given to the API is valid, but
//! a chain of long workstreams can end beyond the last day chrono represents.
//! The schedule ends on its last day instead of failing.

use serde_json::{Value, json};

use crate::fixtures::program;
use crate::helpers::{TestApp, TestUser, spawn_app_with};

/// Run `count` aliased copies of a mutation built by `field` in one request,
/// returning each copy's payload in order.
async fn batch(
    app: &TestApp,
    user: &TestUser,
    count: usize,
    field: impl Fn(usize) -> String,
) -> Vec<Value> {
    let fields: String = (0..count)
        .map(|n| format!("m{n}: {}\n", field(n)))
        .collect();
    let body = app
        .as_user(user, &format!("mutation {{ {fields} }}"), json!({}))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    (0..count)
        .map(|n| body["data"][format!("m{n}")].clone())
        .collect()
}

#[tokio::test]
async fn a_chain_longer_than_the_calendar_is_scheduled_to_its_last_day() {
    let app = spawn_app_with(&[
        "--rate-limit-per-minute",
        "0",
        "--now",
        "1900-01-01T00:00:00Z",
    ])
    .await;
    let tpm = app.member("Tpm").await;
    let p = program(&app, &tpm, "AEONS", json!({})).await;

    // 250 workstreams of 1,100 years each, one after another: 275,000 years.
    let mut chain = Vec::new();
    for round in 0..10 {
        let created = batch(&app, &tpm, 25, |n| {
            format!(
                r#"createWorkstream(input: {{ programId: "{p}", name: "Age {}", startDate: "1900-01-01", targetDate: "2999-12-31" }}) {{ workstream {{ id }} }}"#,
                round * 25 + n
            )
        })
        .await;
        chain.extend(
            created
                .iter()
                .map(|payload| payload["workstream"]["id"].as_str().unwrap().to_owned()),
        );
    }
    for pairs in chain.windows(2).collect::<Vec<_>>().chunks(25) {
        batch(&app, &tpm, pairs.len(), |n| {
            format!(
                r#"createDependency(input: {{ upstreamId: "{}", downstreamId: "{}" }}) {{ dependency {{ id }} }}"#,
                pairs[n][0], pairs[n][1]
            )
        })
        .await;
    }

    let body = app
        .as_user(
            &tpm,
            "query($id: ID!, $first: ID!) { program(id: $id) {
                forecastFinishDate
                criticalPath { durationDays finishDate workstreams { id } }
                schedule { workstream { id } earliestStart earliestFinish latestStart slackDays }
                slipImpact(workstreamId: $first, days: 3650) { finishDate finishDelayDays }
            } }",
            json!({ "id": p, "first": chain[0] }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let program = &body["data"]["program"];
    assert_eq!(program["forecastFinishDate"], "9999-12-31");
    assert_eq!(program["criticalPath"]["finishDate"], "9999-12-31");
    assert_eq!(program["slipImpact"]["finishDate"], "9999-12-31");
    assert_eq!(program["slipImpact"]["finishDelayDays"], 0);
    let schedule = program["schedule"].as_array().unwrap();
    assert_eq!(schedule.len(), 250);
    assert_eq!(schedule[249]["earliestFinish"], "9999-12-31");
    // Before the end of the calendar the chain is scheduled as usual: the
    // second workstream starts the day after the first ends.
    assert_eq!(schedule[0]["earliestFinish"], "2999-12-31");
    assert_eq!(schedule[1]["earliestStart"], "3000-01-01");
}
