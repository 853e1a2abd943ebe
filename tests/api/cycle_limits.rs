//! The cycle check is bounded and shares no lock between unrelated writers:
//! a search that would go too far is refused, and racing halves of a cycle
//! across programs still cannot both land.

use serde_json::json;

use crate::fixtures::{dependency, program, workstream};
use crate::helpers::{error_code, spawn_app, spawn_app_with};

const CREATE: &str = "mutation($input: CreateDependencyInput!) { createDependency(input: $input) { dependency { id } } }";

#[tokio::test]
async fn a_cycle_check_that_would_search_too_far_is_refused_with_bounded_work() {
    let app = spawn_app_with(&[
        "--max-cycle-search-steps",
        "20",
        "--rate-limit-per-minute",
        "0",
    ])
    .await;
    let tpm = app.member("Tpm").await;
    let p = program(&app, &tpm, "CHAIN", json!({})).await;
    let mut chain = Vec::new();
    for n in 0..45 {
        chain.push(workstream(&app, &tpm, &p, &format!("W{n}"), json!({})).await);
    }
    for pair in chain.windows(2) {
        dependency(&app, &tpm, &pair[0], &pair[1], json!({})).await;
    }
    let dependencies = app.count_rows("dependencies").await;
    let audits = app.count_rows("audit_events").await;

    // Closing the chain into a loop would walk 44 levels: more than 20.
    let before = app.server.statements.get();
    let body = app
        .as_user(
            &tpm,
            CREATE,
            json!({ "input": { "upstreamId": chain[44], "downstreamId": chain[0] } }),
        )
        .await;
    let statements = app.server.statements.get() - before;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
    let extensions = &body["errors"][0]["extensions"];
    assert_eq!(extensions["measure"], "cycleSearch", "{body}");
    assert_eq!(extensions["limit"], 20, "{body}");
    assert!(
        statements <= 20 + 8,
        "{statements} statements for a search limited to 20 steps"
    );
    assert_eq!(app.count_rows("dependencies").await, dependencies);
    assert_eq!(app.count_rows("audit_events").await, audits);

    // Work in front of or behind the long chain is checked from its short
    // side, within the same budget.
    let before_chain = workstream(&app, &tpm, &p, "Kickoff", json!({})).await;
    dependency(&app, &tpm, &before_chain, &chain[0], json!({})).await;
    let after_chain = workstream(&app, &tpm, &p, "Launch", json!({})).await;
    dependency(&app, &tpm, &chain[44], &after_chain, json!({})).await;
}

#[tokio::test]
async fn racing_halves_of_a_cycle_across_programs_cannot_both_land() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    let a = program(&app, &tpm, "RACEA", json!({})).await;
    let b = program(&app, &tpm, "RACEB", json!({})).await;
    let c = program(&app, &tpm, "RACEC", json!({})).await;
    for round in 0..5 {
        // w → x and y → z exist; x → y and z → w would each be fine alone,
        // together they close w → x → y → z → w across three programs.
        let w = workstream(&app, &tpm, &a, &format!("W{round}"), json!({})).await;
        let x = workstream(&app, &tpm, &b, &format!("X{round}"), json!({})).await;
        let y = workstream(&app, &tpm, &c, &format!("Y{round}"), json!({})).await;
        let z = workstream(&app, &tpm, &a, &format!("Z{round}"), json!({})).await;
        dependency(&app, &tpm, &w, &x, json!({})).await;
        dependency(&app, &tpm, &y, &z, json!({})).await;
        let (first, second) = tokio::join!(
            app.as_user(
                &tpm,
                CREATE,
                json!({ "input": { "upstreamId": x, "downstreamId": y } })
            ),
            app.as_user(
                &tpm,
                CREATE,
                json!({ "input": { "upstreamId": z, "downstreamId": w } })
            ),
        );
        let landed = [&first, &second]
            .iter()
            .filter(|body| body["data"]["createDependency"].is_object())
            .count();
        assert_eq!(landed, 1, "{first} {second}");
        assert!(
            [&first, &second]
                .iter()
                .any(|body| error_code(body) == "DEPENDENCY_CYCLE"),
            "{first} {second}"
        );
    }
}
