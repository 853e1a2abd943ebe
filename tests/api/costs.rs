//! What a request is estimated and charged: every list bounded by what it
//! may return, planning fields by the work behind them, introspection by
//! its size.

use serde_json::{Value, json};

use crate::fixtures::{charged, dependency, program, workstream};
use crate::helpers::{TestApp, TestUser, error_code, spawn_app, spawn_app_with};

/// A program with `n` overdue dependencies, each between two new workstreams.
async fn overdue(app: &TestApp, tpm: &TestUser, key: &str, n: usize) -> String {
    let p = program(app, tpm, key, json!({})).await;
    for i in 0..n {
        let dated = json!({ "startDate": "2026-01-01", "targetDate": "2026-01-31" });
        let up = workstream(app, tpm, &p, &format!("Up {i}"), dated.clone()).await;
        let down = workstream(app, tpm, &p, &format!("Down {i}"), dated).await;
        dependency(app, tpm, &up, &down, json!({ "neededBy": "2020-01-01" })).await;
    }
    p
}

#[tokio::test]
async fn a_plain_list_is_estimated_at_what_it_may_return_and_returns_no_more() {
    let app = spawn_app_with(&["--max-query-complexity", "500"]).await;
    let tpm = app.member("Tpm").await;
    let p = overdue(&app, &tpm, "LISTS", 3).await;

    // Without `first` a list may return up to 1,000 items: over the limit.
    let body = app
        .as_user(
            &tpm,
            "query($id: ID!) { program(id: $id) { overdueDependencies { id } } }",
            json!({ "id": p }),
        )
        .await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
    assert!(body["errors"][0]["extensions"]["cost"].as_u64().unwrap() > 1000);

    let body = app
        .as_user(
            &tpm,
            "query($id: ID!) { program(id: $id) { overdueDependencies(first: 2) { id } schedule(first: 4) { slackDays } members(first: 1) { role } } }",
            json!({ "id": p }),
        )
        .await;
    let lists = &body["data"]["program"];
    assert_eq!(
        lists["overdueDependencies"].as_array().unwrap().len(),
        2,
        "{body}"
    );
    assert_eq!(lists["schedule"].as_array().unwrap().len(), 4, "{body}");
    assert_eq!(lists["members"].as_array().unwrap().len(), 1, "{body}");

    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    let p = program(&app, &tpm, "LISTS", json!({})).await;
    let body = app
        .as_user(
            &tpm,
            "query($id: ID!) { program(id: $id) { schedule(first: 1001) { slackDays } } }",
            json!({ "id": p }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
}

#[tokio::test]
async fn planning_fields_are_estimated_and_charged_for_their_work() {
    let app = spawn_app_with(&["--max-query-complexity", "300"]).await;
    let tpm = app.member("Tpm").await;
    let p = overdue(&app, &tpm, "PLANS", 4).await;

    // A brief returns one string but computes a plan and renders it.
    let body = app
        .as_user(
            &tpm,
            "query($id: ID!) { program(id: $id) { brief } }",
            json!({ "id": p }),
        )
        .await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
    // So does a computed health: three programs' worth is past the limit.
    let health = "{ programs(first: 3) { nodes { computedHealth { health } } } }";
    let body = app.as_user(&tpm, health, json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");

    // A small budget refills slowly enough that the charge reads exactly.
    let app = spawn_app_with(&["--rate-limit-per-minute", "3000"]).await;
    let tpm = app.member("Tpm").await;
    let p = overdue(&app, &tpm, "PLANS", 4).await;
    let (cost, body) = charged(
        &app,
        &tpm,
        "query($id: ID!) { program(id: $id) { brief } }",
        json!({ "id": p }),
    )
    .await;
    let brief = body["data"]["program"]["brief"].as_str().unwrap();
    // Two fields returned; 8 workstreams and 4 dependencies planned; the
    // Markdown rendered.
    let rendered = brief.len().div_ceil(64) as u64;
    // (Less a point or two the bucket refills between the two requests.)
    assert!(cost + 2 >= 2 + 12 + rendered, "charged {cost}");
}

#[tokio::test]
async fn introspection_is_charged_for_every_field_it_returns() {
    // A small budget refills slowly enough that the charge reads exactly.
    let app = spawn_app_with(&["--rate-limit-per-minute", "3000"]).await;
    let tpm = app.member("Tpm").await;
    let (cost, body) = charged(
        &app,
        &tpm,
        "{ __schema { types { name fields { name } } } }",
        json!({}),
    )
    .await;
    let types = body["data"]["__schema"]["types"].as_array().unwrap();
    let fields: usize = types
        .iter()
        .map(|ty| ty["fields"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(types.len() > 100);
    assert!(
        cost as usize + 2 >= types.len() * 2 + fields,
        "charged {cost} for {} types and {fields} fields",
        types.len()
    );
}

#[tokio::test]
async fn a_request_is_admitted_only_when_the_budget_holds_its_estimate() {
    let app = spawn_app_with(&["--rate-limit-per-minute", "1200"]).await;
    let tpm = app.member("Tpm").await;
    let p = overdue(&app, &tpm, "ADMIT", 1).await;
    let brief = "query($id: ID!) { program(id: $id) { brief } }";
    // Spend the budget down below the brief's estimate (a planning field and
    // its rendering, some 500 points), a few hundred points at a time (the
    // schema's type names), but not to nothing.
    loop {
        let response = app
            .post(
                Some(&tpm.token),
                "{ __schema { types { name } } }",
                json!({}),
                &[],
            )
            .await;
        assert_eq!(response.status(), 200);
        let remaining: u64 = response.headers()["x-ratelimit-remaining"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        if remaining < 500 {
            assert!(remaining > 10, "spent too far: {remaining}");
            break;
        }
    }

    // A brief returns one field, yet is estimated at some 500 points: it
    // waits until the budget holds them, however cheap it would have been.
    let response = app
        .post(Some(&tpm.token), brief, json!({ "id": p }), &[])
        .await;
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
    // A cheap request still fits.
    let body = app.as_user(&tpm, "{ viewer { id } }", json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
}

/// A plan larger than what one request may do is refused on every field
/// that reads it, whether the program's fields plan it or a page loads it
/// ahead for them: no field is served a plan past the cap.
#[tokio::test]
async fn a_plan_past_the_work_cap_is_refused_however_it_is_loaded() {
    let app = spawn_app_with(&["--max-request-work", "50"]).await;
    let tpm = app.member("Tpm").await;
    // 40 workstreams and 20 dependencies: 60 points of planning.
    let p = overdue(&app, &tpm, "WORK", 20).await;
    let one = "query($id: ID!) { program(id: $id) { name forecastFinishDate again: forecastFinishDate } }";
    let page =
        "{ programs(first: 5) { nodes { name forecastFinishDate again: forecastFinishDate } } }";
    for (query, program) in [(one, "/data/program"), (page, "/data/programs/nodes/0")] {
        let body = app.as_user(&tpm, query, json!({ "id": p })).await;
        let program = body.pointer(program).unwrap_or(&Value::Null);
        assert_eq!(program["name"], "WORK", "{body}");
        assert!(program["forecastFinishDate"].is_null(), "{body}");
        assert!(program["again"].is_null(), "{body}");
        let refused = body["errors"].as_array().map_or(0, |errors| {
            let work = |e: &&Value| e["extensions"]["measure"] == "work";
            errors.iter().filter(work).count()
        });
        assert_eq!(refused, 2, "each planning field refused: {body}");
    }
}

/// One request's work is capped, whatever the document's estimate: a VIEWER
/// who aliases the dependency graph or asks for long stored text gets what
/// fits, and `QUERY_TOO_COMPLEX` (measure `work`) for the rest, instead of
/// hundreds of megabytes (the limits benchmark got 265 MiB from 50 aliased
/// graphs and 286 MiB from 50 aliased lists of 60 KB descriptions).
#[tokio::test]
async fn one_request_does_no_more_work_than_its_cap() {
    let app = spawn_app_with(&["--max-request-work", "600"]).await;
    let tpm = app.member("Tpm").await;
    let viewer = app.member("Viewer").await;
    let p = overdue(&app, &tpm, "WORK", 20).await;
    crate::fixtures::set_member(&app, &tpm, &p, &viewer, "VIEWER").await;

    let graphs: String = (0..20)
        .map(|i| format!("g{i}: dependencyGraph(format: DOT) "))
        .collect();
    let body = app
        .as_user(
            &viewer,
            &format!("query($id: ID!) {{ program(id: $id) {{ {graphs} }} }}"),
            json!({ "id": p }),
        )
        .await;
    let rendered: Vec<&str> = body["data"]["program"]
        .as_object()
        .map(|fields| fields.values().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(!rendered.is_empty(), "the first graphs fit: {body}");
    assert!(rendered.len() < 20, "not all twenty: {body}");
    let bytes: usize = rendered.iter().map(|g| g.len()).sum();
    assert!(bytes <= 600 * 64, "{bytes} bytes rendered past the cap");
    let refusal = body["errors"]
        .as_array()
        .and_then(|errors| errors.iter().find(|e| e["extensions"]["measure"] == "work"))
        .unwrap_or_else(|| panic!("no work refusal: {body}"));
    assert_eq!(refusal["extensions"]["code"], "QUERY_TOO_COMPLEX");

    // Long stored text counts too: each description is 10,000 characters.
    let long = "x".repeat(10_000);
    let rows = app
        .as_user(
            &tpm,
            "query($id: ID!) { program(id: $id) { dependencies(first: 20) { nodes { id } } } }",
            json!({ "id": p }),
        )
        .await;
    for node in rows["data"]["program"]["dependencies"]["nodes"]
        .as_array()
        .unwrap()
    {
        crate::fixtures::mutate(
            &app,
            &tpm,
            "updateDependency",
            json!({ "id": node["id"], "description": long }),
            "dependency { id }",
        )
        .await;
    }
    let body = app
        .as_user(
            &viewer,
            "query($id: ID!) { program(id: $id) { dependencies(first: 20) { nodes { description } } } }",
            json!({ "id": p }),
        )
        .await;
    let returned = body["data"]["program"]["dependencies"]["nodes"]
        .as_array()
        .map_or(0, |nodes| {
            nodes
                .iter()
                .filter(|n| n["description"].is_string())
                .count()
        });
    assert!(
        returned < 20,
        "all 200,000 characters came back: {returned}"
    );
    assert!(
        body["errors"]
            .as_array()
            .is_some_and(|errors| errors.iter().any(|e| e["extensions"]["measure"] == "work")),
        "{body}"
    );
}

/// Large requests take turns under the in-flight cap instead of failing:
/// with a cap smaller than each request's estimate, concurrent ones all
/// answer, one at a time, and a small request does not wait behind them.
#[tokio::test]
async fn large_requests_take_turns_under_the_in_flight_cap() {
    let app = spawn_app_with(&[
        "--max-in-flight-cost",
        "400",
        "--rate-limit-per-minute",
        "0",
    ])
    .await;
    let tpm = app.member("Tpm").await;
    let p = overdue(&app, &tpm, "TURN", 3).await;
    let heavy = "query($id: ID!) { program(id: $id) { workstreams(first: 100) { nodes { id name upstream(first: 20) { nodes { id } } } } } }";
    let answers =
        futures::future::join_all((0..6).map(|_| app.as_user(&tpm, heavy, json!({ "id": p }))))
            .await;
    for body in &answers {
        assert!(body["errors"].is_null(), "{body}");
        assert_eq!(
            body["data"]["program"]["workstreams"]["nodes"]
                .as_array()
                .unwrap()
                .len(),
            6
        );
    }
    let body = app.as_user(&tpm, "{ viewer { id } }", json!({})).await;
    assert_eq!(body["data"]["viewer"]["id"], tpm.id.as_str());
}
