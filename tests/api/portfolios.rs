//! Portfolios: a leader groups programs, reads what they add up to and a
//! brief of them; a reader sees only the programs they can see, and only
//! the owner or an ADMIN changes a portfolio.

use serde_json::{Value, json};

use crate::fixtures::{attempt, dated, dependency, mutate, program, risk, set_member, workstream};
use crate::helpers::{error_code, error_field, spawn_app_with};

/// Today is 2026-03-10 in UTC.
const NOW: [&str; 2] = ["--now", "2026-03-10T12:00:00Z"];

const PORTFOLIO: &str = r#"portfolio(id: $id) {
    id name description version owner { id }
    programs { totalCount nodes { key } }
    rollup { programCount byHealth { health count } byComputedHealth { health count }
             latestForecastFinish overdueDependencies atRiskDependencies openRisks
             spend { amount currency } budget { amount currency } }
    en: brief(locale: EN) ko: brief(locale: KO) }"#;

fn read(id: &str) -> (String, Value) {
    (
        format!("query($id: ID!) {{ {PORTFOLIO} }}"),
        json!({ "id": id }),
    )
}

#[tokio::test]
async fn a_portfolio_rolls_up_its_programs_for_each_reader() {
    let app = spawn_app_with(&NOW).await;
    let lead = app.member("Lead").await;
    let analyst = app.member("Analyst").await;
    let stranger = app.member("Stranger").await;
    let gdpr = program(
        &app,
        &lead,
        "GDPR",
        json!({ "targetDate": "2026-06-30", "budget": { "amount": 1000, "currency": "EUR" } }),
    )
    .await;
    let apac = program(
        &app,
        &lead,
        "APAC",
        json!({ "budget": { "amount": 5000, "currency": "USD" } }),
    )
    .await;
    set_member(&app, &lead, &gdpr, &analyst, "VIEWER").await;
    let up = workstream(
        &app,
        &lead,
        &gdpr,
        "Consent",
        dated("2026-03-01", "2026-04-30"),
    )
    .await;
    let down = workstream(
        &app,
        &lead,
        &gdpr,
        "Audit",
        dated("2026-05-01", "2026-06-30"),
    )
    .await;
    // Overdue: needed before today, not delivered.
    dependency(&app, &lead, &up, &down, json!({ "neededBy": "2026-03-01" })).await;
    workstream(
        &app,
        &lead,
        &apac,
        "Launch",
        dated("2026-02-01", "2026-08-31"),
    )
    .await;
    risk(&app, &lead, &apac, "Visa delays", json!({})).await;
    for (program, amount, currency) in [(&gdpr, 200, "EUR"), (&apac, 700, "USD")] {
        mutate(
            &app,
            &lead,
            "recordCost",
            json!({ "programId": program, "amount": { "amount": amount, "currency": currency },
                    "incurredOn": "2026-03-02", "category": "people" }),
            "cost { id }",
        )
        .await;
    }

    let created = mutate(
        &app,
        &lead,
        "createPortfolio",
        json!({ "name": " Expansion ", "description": "Where we grow", "programIds": [apac, gdpr, apac] }),
        "portfolio { id name version }",
    )
    .await;
    let id = created["portfolio"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["portfolio"]["name"], "Expansion");

    let (query, variables) = read(&id);
    let body = app.as_user(&lead, &query, variables.clone()).await;
    assert!(body["errors"].is_null(), "{body}");
    let portfolio = &body["data"]["portfolio"];
    assert_eq!(portfolio["owner"]["id"], lead.id.as_str());
    assert_eq!(
        portfolio["programs"],
        json!({ "totalCount": 2, "nodes": [{ "key": "APAC" }, { "key": "GDPR" }] }),
        "repeats dropped, by key: {portfolio}"
    );
    let rollup = &portfolio["rollup"];
    assert_eq!(rollup["programCount"], 2, "{rollup}");
    assert_eq!(
        rollup["byHealth"],
        json!([
            { "health": "ON_TRACK", "count": 2 },
            { "health": "AT_RISK", "count": 0 },
            { "health": "OFF_TRACK", "count": 0 }
        ])
    );
    let computed: i64 = rollup["byComputedHealth"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["count"].as_i64().unwrap())
        .sum();
    assert_eq!(computed, 2, "{rollup}");
    let finishes = app
        .as_user(
            &lead,
            "query($a: ID!, $b: ID!) { a: program(id: $a) { forecastFinishDate } b: program(id: $b) { forecastFinishDate } }",
            json!({ "a": gdpr, "b": apac }),
        )
        .await;
    let latest = ["a", "b"]
        .iter()
        .filter_map(|p| finishes["data"][p]["forecastFinishDate"].as_str())
        .max()
        .expect("forecasts");
    assert_eq!(
        rollup["latestForecastFinish"], latest,
        "{rollup} {finishes}"
    );
    assert_eq!(rollup["overdueDependencies"], 1, "{rollup}");
    assert_eq!(rollup["openRisks"], 1, "{rollup}");
    assert_eq!(
        rollup["spend"],
        json!([{ "amount": 200, "currency": "EUR" }, { "amount": 700, "currency": "USD" }])
    );
    assert_eq!(
        rollup["budget"],
        json!([{ "amount": 1000, "currency": "EUR" }, { "amount": 5000, "currency": "USD" }])
    );
    let en = portfolio["en"].as_str().unwrap();
    assert!(en.starts_with("# Expansion — portfolio brief"), "{en}");
    assert!(en.contains("2 program(s)."), "{en}");
    assert!(en.contains("Dependencies: 1 overdue"), "{en}");
    assert!(en.contains("- APAC APAC:"), "{en}");
    assert!(en.contains("- GDPR GDPR:"), "{en}");
    let ko = portfolio["ko"].as_str().unwrap();
    assert!(ko.contains("프로그램 2개."), "{ko}");

    // The analyst sees GDPR only: the portfolio, for its sake, and nothing of APAC.
    let body = app.as_user(&analyst, &query, variables.clone()).await;
    let portfolio = &body["data"]["portfolio"];
    assert_eq!(
        portfolio["programs"]["nodes"],
        json!([{ "key": "GDPR" }]),
        "{body}"
    );
    assert_eq!(portfolio["rollup"]["programCount"], 1);
    assert_eq!(
        portfolio["rollup"]["openRisks"], 0,
        "APAC's risk is not counted"
    );
    assert_eq!(
        portfolio["rollup"]["spend"],
        json!([{ "amount": 200, "currency": "EUR" }])
    );
    assert!(!body.to_string().contains("APAC"), "{body}");
    let listed = app
        .as_user(
            &analyst,
            "{ portfolios { totalCount nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["data"]["portfolios"]["totalCount"], 1, "{listed}");

    // Someone who sees none of its programs does not see it at all.
    let body = app.as_user(&stranger, &query, variables.clone()).await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["portfolio"], Value::Null);
    let listed = app
        .as_user(&stranger, "{ portfolios { totalCount } }", json!({}))
        .await;
    assert_eq!(listed["data"]["portfolios"]["totalCount"], 0, "{listed}");

    // An ADMIN sees every portfolio.
    let admin = app.admin().await;
    let body = app.as_user(&admin, &query, variables).await;
    assert_eq!(
        body["data"]["portfolio"]["programs"]["totalCount"], 2,
        "{body}"
    );
}

#[tokio::test]
async fn only_the_owner_or_an_admin_changes_a_portfolio() {
    let app = spawn_app_with(&NOW).await;
    let lead = app.member("Lead").await;
    let editor = app.member("Editor").await;
    let stranger = app.member("Stranger").await;
    let gdpr = program(&app, &lead, "GDPR", json!({})).await;
    let apac = program(&app, &lead, "APAC", json!({})).await;
    let secret = program(&app, &stranger, "SECR", json!({})).await;
    set_member(&app, &lead, &gdpr, &editor, "EDITOR").await;
    let id = mutate(
        &app,
        &lead,
        "createPortfolio",
        json!({ "name": "Expansion", "programIds": [gdpr] }),
        "portfolio { id }",
    )
    .await["portfolio"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // An editor of one of its programs reads it but may not change it.
    let refused = attempt(
        &app,
        &editor,
        "updatePortfolio",
        json!({ "id": id, "name": "Mine" }),
        "portfolio { id }",
    )
    .await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    let hidden = attempt(
        &app,
        &stranger,
        "setPortfolioPrograms",
        json!({ "id": id, "programIds": [secret] }),
        "portfolio { id }",
    )
    .await;
    assert_eq!(error_code(&hidden), "NOT_FOUND", "{hidden}");

    // The owner may not add a program they cannot see; nothing changes.
    let unseen = attempt(
        &app,
        &lead,
        "setPortfolioPrograms",
        json!({ "id": id, "programIds": [apac, secret] }),
        "portfolio { id }",
    )
    .await;
    assert_eq!(error_code(&unseen), "NOT_FOUND", "{unseen}");
    let programs = "query($id: ID!) { portfolio(id: $id) { version programs { nodes { key } } } }";
    let body = app.as_user(&lead, programs, json!({ "id": id })).await;
    assert_eq!(
        body["data"]["portfolio"]["programs"]["nodes"],
        json!([{ "key": "GDPR" }])
    );
    let version = body["data"]["portfolio"]["version"].as_i64().unwrap();

    let set = mutate(
        &app,
        &lead,
        "setPortfolioPrograms",
        json!({ "id": id, "programIds": [apac], "expectedVersion": version }),
        "portfolio { version programs { nodes { key } } }",
    )
    .await;
    assert_eq!(
        set["portfolio"]["programs"]["nodes"],
        json!([{ "key": "APAC" }])
    );
    // The editor no longer sees any of its programs, so no longer the portfolio.
    let gone = app.as_user(&editor, programs, json!({ "id": id })).await;
    assert_eq!(gone["data"]["portfolio"], Value::Null, "{gone}");

    // A program the owner cannot see, added by an ADMIN, stays when the
    // owner sets the programs they see.
    let admin = app.admin().await;
    mutate(
        &app,
        &admin,
        "setPortfolioPrograms",
        json!({ "id": id, "programIds": [apac, secret] }),
        "portfolio { id }",
    )
    .await;
    mutate(
        &app,
        &lead,
        "setPortfolioPrograms",
        json!({ "id": id, "programIds": [gdpr] }),
        "portfolio { id }",
    )
    .await;
    let held = app.as_user(&admin, programs, json!({ "id": id })).await;
    assert_eq!(
        held["data"]["portfolio"]["programs"]["nodes"],
        json!([{ "key": "GDPR" }, { "key": "SECR" }]),
        "{held}"
    );
    let version = held["data"]["portfolio"]["version"].as_i64().unwrap() - 1;
    let stale = attempt(
        &app,
        &lead,
        "updatePortfolio",
        json!({ "id": id, "name": "Again", "expectedVersion": version }),
        "portfolio { id }",
    )
    .await;
    assert_eq!(error_code(&stale), "CONFLICT", "{stale}");
    let blank = attempt(
        &app,
        &lead,
        "updatePortfolio",
        json!({ "id": id, "name": " " }),
        "portfolio { id }",
    )
    .await;
    assert_eq!(error_field(&blank), "input.name", "{blank}");
    let too_many: Vec<String> = (0..101).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let many = attempt(
        &app,
        &lead,
        "setPortfolioPrograms",
        json!({ "id": id, "programIds": too_many }),
        "portfolio { id }",
    )
    .await;
    assert_eq!(error_field(&many), "input.programIds", "{many}");

    let renamed = mutate(
        &app,
        &admin,
        "updatePortfolio",
        json!({ "id": id, "name": "Growth", "description": "By the ADMIN" }),
        "portfolio { name description }",
    )
    .await;
    assert_eq!(renamed["portfolio"]["name"], "Growth");
}
