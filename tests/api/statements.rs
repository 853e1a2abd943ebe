//! No N+1: a deep nested query issues the same number of SQL statements
//! whether the program holds a little or ten times as much.

use serde_json::json;

use crate::helpers::{TestApp, TestUser, spawn_app};
use crate::planning::{depend, workstream};

const DEEP: &str = "{
  programs(first: 5) {
    nodes {
      key
      owner { name }
      members(first: 10) { role user { name } }
      workstreams(first: 25) {
        totalCount
        nodes {
          name
          lead { name }
          team { name }
          milestones(first: 5) { nodes { name dueDate } }
          upstream(first: 5) { nodes { status upstream { name } downstream { name } } }
          downstream(first: 5) { nodes { status upstream { name } downstream { name } } }
        }
      }
      decisions(first: 25) { nodes { title options { title } decidedBy { name } } }
      risks(first: 25) { nodes { title score owner { name } } }
    }
  }
}";

/// Two programs, each with `size` workstreams in a chain, two milestones per
/// workstream, and `size` decisions and risks.
async fn seed(app: &TestApp, tpm: &TestUser, tag: &str, size: usize) {
    for p in 0..2 {
        let program = app
            .create_program(tpm, &format!("{tag}{p}"), "Seeded")
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut previous: Option<String> = None;
        for w in 0..size {
            let ws = workstream(
                app,
                tpm,
                &program,
                &format!("WS {w}"),
                Some("2026-01-01"),
                Some("2026-01-10"),
            )
            .await;
            for m in 0..2 {
                app.as_user(
                    tpm,
                    "mutation($input: CreateMilestoneInput!) { createMilestone(input: $input) { milestone { id } } }",
                    json!({ "input": { "workstreamId": ws, "name": format!("M{m}"), "dueDate": "2026-01-05" } }),
                )
                .await;
            }
            if let Some(previous) = &previous {
                depend(app, tpm, previous, &ws, json!({})).await;
            }
            previous = Some(ws);
        }
        for i in 0..size {
            app.as_user(
                tpm,
                "mutation($input: CreateDecisionInput!) { createDecision(input: $input) { decision { id } } }",
                json!({ "input": { "programId": program, "title": format!("D{i}"), "options": [{ "title": "A" }, { "title": "B" }] } }),
            )
            .await;
            app.as_user(
                tpm,
                "mutation($input: CreateRiskInput!) { createRisk(input: $input) { risk { id } } }",
                json!({ "input": { "programId": program, "title": format!("R{i}"), "likelihood": 3, "impact": 4, "ownerId": tpm.id } }),
            )
            .await;
        }
    }
}

/// Statements for the deep query: the fewest over three requests, since a
/// DataLoader batch can split in two when its keys arrive a moment apart.
async fn statements_for_deep_query(app: &TestApp, tpm: &TestUser) -> (u64, serde_json::Value) {
    let mut fewest = u64::MAX;
    let mut body = serde_json::Value::Null;
    for _ in 0..3 {
        let before = app.server.statements.get();
        body = app.as_user(tpm, DEEP, json!({})).await;
        fewest = fewest.min(app.server.statements.get() - before);
    }
    (fewest, body)
}

#[tokio::test]
async fn a_deep_query_costs_the_same_statements_at_ten_times_the_data() {
    let small = spawn_app().await;
    let tpm = small.member("Tpm").await;
    seed(&small, &tpm, "S", 2).await;
    let (small_count, body) = statements_for_deep_query(&small, &tpm).await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(
        body["data"]["programs"]["nodes"][0]["workstreams"]["totalCount"],
        2
    );

    let large = spawn_app().await;
    let tpm = large.member("Tpm").await;
    seed(&large, &tpm, "L", 20).await;
    let (large_count, body) = statements_for_deep_query(&large, &tpm).await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(
        body["data"]["programs"]["nodes"][1]["workstreams"]["totalCount"],
        20
    );
    assert_eq!(
        body["data"]["programs"]["nodes"][0]["workstreams"]["nodes"][5]["milestones"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Ten times the rows may not cost more statements; a timing split of a
    // batch costs at most one more per loader level, a per-row query dozens.
    assert!(
        large_count <= small_count + 2,
        "statements grew with the data: {small_count} → {large_count}"
    );
    assert!(
        (5..30).contains(&large_count),
        "{large_count} statements for one query"
    );
    eprintln!("deep query: {large_count} SQL statements at either size");
}
