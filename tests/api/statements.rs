//! No N+1: a deep nested query issues the same number of SQL statements
//! whether the program holds a little or ten times as much.

use serde_json::json;

use crate::fixtures::{
    baseline, comment, dated, decision, dependency, fewest_statements, milestone, program, risk,
    set_member, workstream,
};
use crate::helpers::{TestApp, TestUser, spawn_app};

const DEEP: &str = "{
  viewer { notifications(first: 50) { totalCount nodes { kind program { key } actor { name } comment { body } subject { __typename ... on Workstream { name } } } } }
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
          downstream(first: 5) { nodes { status upstream { name } downstream { name } comments(first: 5) { nodes { body } } } }
          comments(first: 5) { nodes { body author { name } mentions { name } } }
        }
      }
      decisions(first: 25) { nodes { title options { title } decidedBy { name } comments(first: 5) { nodes { body author { name } } } } }
      risks(first: 25) { nodes { title score owner { name } comments(first: 5) { nodes { body } } } }
      baselines(first: 5) { nodes { name capturedBy { name } finishDeltaDays variance(first: 25) { workstream { name } deltaDays } milestoneVariance(first: 50) { milestone { name } deltaDays } } }
      forecastHistory { source forecastFinishDate }
    }
  }
}";

/// Two programs, each with `size` workstreams in a chain, two milestones per
/// workstream, `size` decisions and risks, a colleague's comment mentioning
/// the TPM on each workstream, decision and risk, and two baselines.
async fn seed(app: &TestApp, tpm: &TestUser, tag: &str, size: usize) {
    let colleague = app.member("Colleague").await;
    for p in 0..2 {
        let program = program(app, tpm, &format!("{tag}{p}"), json!({})).await;
        set_member(app, tpm, &program, &colleague, "EDITOR").await;
        let mut previous: Option<String> = None;
        for w in 0..size {
            let ws = workstream(
                app,
                tpm,
                &program,
                &format!("WS {w}"),
                dated("2026-01-01", "2026-01-10"),
            )
            .await;
            for m in 0..2 {
                let due = json!({ "dueDate": "2026-01-05" });
                milestone(app, tpm, &ws, &format!("M{m}"), due).await;
            }
            if let Some(previous) = &previous {
                let dep = dependency(app, tpm, previous, &ws, json!({})).await;
                comment(app, &colleague, &dep, "On its way", &[]).await;
            }
            comment(app, &colleague, &ws, "Started", &[tpm]).await;
            previous = Some(ws);
        }
        for i in 0..size {
            let options = json!({ "options": [{ "title": "A" }, { "title": "B" }] });
            let d = decision(app, tpm, &program, &format!("D{i}"), options).await;
            comment(app, &colleague, &d, "Option A", &[tpm]).await;
            let owned = json!({ "likelihood": 3, "impact": 4, "ownerId": tpm.id });
            let r = risk(app, tpm, &program, &format!("R{i}"), owned).await;
            comment(app, &colleague, &r, "Mitigating", &[]).await;
        }
        for name in ["Kickoff", "Replan"] {
            baseline(app, tpm, &program, name).await;
        }
    }
}

#[tokio::test]
async fn a_deep_query_costs_the_same_statements_at_ten_times_the_data() {
    let small = spawn_app().await;
    let tpm = small.member("Tpm").await;
    seed(&small, &tpm, "S", 2).await;
    let (small_count, body) = fewest_statements(&small, &tpm, DEEP, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(
        body["data"]["programs"]["nodes"][0]["workstreams"]["totalCount"],
        2
    );

    let large = spawn_app().await;
    let tpm = large.member("Tpm").await;
    seed(&large, &tpm, "L", 20).await;
    let (large_count, body) = fewest_statements(&large, &tpm, DEEP, json!({})).await;
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
    assert_eq!(
        body["data"]["programs"]["nodes"][0]["workstreams"]["nodes"][5]["comments"]["nodes"][0]["mentions"]
            [0]["name"],
        "Tpm"
    );
    assert_eq!(
        body["data"]["viewer"]["notifications"]["totalCount"], 80,
        "a mention per workstream and decision"
    );

    // Ten times the rows may not cost more statements; a timing split of a
    // batch costs at most one more per loader level, a per-row query dozens.
    assert!(
        large_count <= small_count + 2,
        "statements grew with the data: {small_count} → {large_count}"
    );
    assert!(
        (5..45).contains(&large_count),
        "{large_count} statements for one query"
    );
    eprintln!("deep query: {large_count} SQL statements at either size");
}
