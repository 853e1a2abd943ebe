//! `GET /metrics`: Prometheus text, per server.

use std::collections::BTreeMap;

use serde_json::json;

use crate::fixtures::program;
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// The scrape, as text.
async fn scrape(app: &TestApp) -> String {
    let response = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    response.text().await.unwrap()
}

/// The value of the sample `name` whose labels are exactly `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let wanted: BTreeMap<&str, &str> = labels.iter().copied().collect();
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, found) = match series.split_once('{') {
                Some((metric, rest)) => {
                    let found: BTreeMap<&str, &str> = rest
                        .trim_end_matches('}')
                        .split(',')
                        .filter(|pair| !pair.is_empty())
                        .filter_map(|pair| {
                            let (key, value) = pair.split_once('=')?;
                            Some((key, value.trim_matches('"')))
                        })
                        .collect();
                    (metric, found)
                }
                None => (series, BTreeMap::new()),
            };
            (metric == name && found == wanted).then(|| value.parse().ok())?
        })
}

#[tokio::test]
async fn requests_are_counted_and_timed_by_operation_and_error_code() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for _ in 0..2 {
        let body = app
            .as_user(&admin, "query Dashboard { viewer { id } }", json!({}))
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    app.graphql(None, "query Secret { users { totalCount } }", json!({}))
        .await;
    let text = scrape(&app).await;
    let ok = [("operation", "Dashboard"), ("code", "OK")];
    assert_eq!(
        sample(&text, "trestle_graphql_requests_total", &ok),
        Some(2.0)
    );
    assert_eq!(
        sample(&text, "trestle_graphql_request_duration_seconds_count", &ok),
        Some(2.0)
    );
    // An anonymous caller's operation name takes no label of its own.
    let refused = [("operation", "other"), ("code", "UNAUTHENTICATED")];
    assert_eq!(
        sample(&text, "trestle_graphql_requests_total", &refused),
        Some(1.0)
    );
    assert!(
        sample(
            &text,
            "trestle_graphql_errors_total",
            &[("code", "UNAUTHENTICATED")]
        )
        .is_some_and(|n| n >= 1.0)
    );
    // The helper's sign-in is an unnamed operation.
    assert!(
        sample(
            &text,
            "trestle_graphql_requests_total",
            &[("operation", "unnamed"), ("code", "OK")]
        )
        .is_some_and(|n| n >= 1.0)
    );
}

#[tokio::test]
async fn statements_and_the_connection_pool_are_reported() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    program(&app, &admin, "METR", json!({})).await;
    let text = scrape(&app).await;
    let statements = sample(&text, "trestle_db_statements_total", &[]).unwrap();
    assert_eq!(statements, app.server.statements.get() as f64);
    assert!(statements > 0.0);
    // The suite's servers open at most 5 connections.
    assert_eq!(
        sample(&text, "trestle_db_pool_max_connections", &[]),
        Some(5.0)
    );
    let open = sample(&text, "trestle_db_pool_connections", &[]).unwrap();
    let idle = sample(&text, "trestle_db_pool_idle_connections", &[]).unwrap();
    assert!(open >= 1.0 && idle <= open, "{open} open, {idle} idle");
}

#[tokio::test]
async fn refusals_by_cost_and_rate_are_counted_apart() {
    let app = spawn_app_with(&[
        "--rate-limit-per-minute",
        "20",
        "--max-query-complexity",
        "5",
    ])
    .await;
    let body = app
        .graphql(None, "{ programs { nodes { id } } }", json!({}))
        .await;
    assert_eq!(crate::helpers::error_code(&body), "QUERY_TOO_COMPLEX");
    let mut rate_limited = 0;
    for _ in 0..30 {
        let body = app.graphql(None, "{ __typename }", json!({})).await;
        if crate::helpers::error_code(&body) == "RATE_LIMITED" {
            rate_limited += 1;
        }
    }
    assert!(rate_limited > 0);
    let text = scrape(&app).await;
    assert_eq!(
        sample(
            &text,
            "trestle_graphql_rejected_total",
            &[("limit", "cost")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            "trestle_graphql_rejected_total",
            &[("limit", "rate")]
        ),
        Some(f64::from(rate_limited))
    );
    assert_eq!(
        sample(
            &text,
            "trestle_graphql_requests_total",
            &[("operation", "unnamed"), ("code", "RATE_LIMITED")]
        ),
        Some(f64::from(rate_limited))
    );
}

#[tokio::test]
async fn each_server_keeps_its_own_registry() {
    let busy = spawn_app().await;
    let quiet = spawn_app().await;
    let admin = busy.admin().await;
    for _ in 0..3 {
        busy.as_user(&admin, "query Busy { __typename }", json!({}))
            .await;
    }
    let labels = [("operation", "Busy"), ("code", "OK")];
    assert_eq!(
        sample(
            &scrape(&busy).await,
            "trestle_graphql_requests_total",
            &labels
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &scrape(&quiet).await,
            "trestle_graphql_requests_total",
            &labels
        ),
        None
    );
}

#[tokio::test]
async fn a_configured_metrics_token_is_required() {
    let app = spawn_app_with(&["--metrics-token", "scrape-secret"]).await;
    let url = format!("{}/metrics", app.address);
    let anonymous = app.client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let wrong = app
        .client
        .get(&url)
        .bearer_auth("guess")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let right = app
        .client
        .get(&url)
        .bearer_auth("scrape-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    assert!(
        right
            .text()
            .await
            .unwrap()
            .contains("trestle_db_statements_total")
    );
}
