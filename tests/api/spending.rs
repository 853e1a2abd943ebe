//! Costs and spend: OWNERs and EDITORs record what a program spent, in the
//! program's one currency; the program adds it up against its budget and
//! the time elapsed, forecasts it at completion, weighs it against the
//! expected benefit, and the brief says how spend compares with time.

use serde_json::{Value, json};

use crate::fixtures::{attempt, cast, last_audit_event_of, mutate, program, workstream};
use crate::helpers::{error_code, error_field, spawn_app_with};

/// Today is 2026-01-05 in UTC: the fifth day of a ten-day program.
const NOW: [&str; 2] = ["--now", "2026-01-05T12:00:00Z"];

const COST: &str = "cost { id amount { amount currency } incurredOn category description workstream { id } recordedBy { id } program { id } createdAt }";

fn usd(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "USD" })
}

#[tokio::test]
async fn costs_add_up_against_the_budget_the_time_and_the_benefit() {
    let app = spawn_app_with(&NOW).await;
    let c = cast(&app, "SPND").await;
    mutate(
        &app,
        &c.owner,
        "updateProgram",
        json!({ "id": c.program, "startDate": "2026-01-01", "targetDate": "2026-01-11",
                "budget": usd(1_000), "expectedBenefit": usd(3_000) }),
        "program { id }",
    )
    .await;
    let ws = workstream(&app, &c.editor, &c.program, "Platform", json!({})).await;
    let first = mutate(
        &app,
        &c.editor,
        "recordCost",
        json!({ "programId": c.program, "workstreamId": ws, "amount": usd(300),
                "incurredOn": "2026-01-02", "category": " people ", "description": "Contractors" }),
        COST,
    )
    .await;
    let cost = &first["cost"];
    assert_eq!(cost["amount"], usd(300), "{cost}");
    assert_eq!(cost["category"], "people", "trimmed: {cost}");
    assert_eq!(cost["workstream"]["id"], ws.as_str());
    assert_eq!(cost["recordedBy"]["id"], c.editor.id.as_str());
    assert_eq!(cost["incurredOn"], "2026-01-02");
    for (amount, on, category) in [(100, "2026-01-03", "cloud"), (100, "2026-01-05", "people")] {
        mutate(
            &app,
            &c.owner,
            "recordCost",
            json!({ "programId": c.program, "amount": usd(amount), "incurredOn": on, "category": category }),
            "cost { id }",
        )
        .await;
    }
    let history = last_audit_event_of(&app, "cost.create").await;
    assert_eq!(history.entity_type, "Cost");

    let body = app
        .as_user(
            &c.viewer,
            r#"query($id: ID!) { program(id: $id) {
                budget { amount currency } expectedBenefit { amount currency } roi
                spend { total { amount currency } byCategory { category total { amount currency } }
                        burnRatePerWeek { amount currency } budgetUsedPercent timeElapsedPercent
                        forecastAtCompletion { amount currency } }
                costs(first: 10) { totalCount nodes { id category amount { amount } } }
                en: brief(locale: EN) ko: brief(locale: KO) } }"#,
            json!({ "id": c.program }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let program = &body["data"]["program"];
    assert_eq!(program["expectedBenefit"], usd(3_000), "{program}");
    let spend = &program["spend"];
    assert_eq!(spend["total"], usd(500), "{spend}");
    assert_eq!(
        spend["byCategory"],
        json!([
            { "category": "people", "total": usd(400) },
            { "category": "cloud", "total": usd(100) }
        ])
    );
    // 500 over five days (the 1st to the 5th): 700 a week.
    assert_eq!(spend["burnRatePerWeek"], usd(700));
    assert_eq!(spend["budgetUsedPercent"], 50.0);
    // Four of the ten days from the start to the target.
    assert_eq!(spend["timeElapsedPercent"], 40.0);
    // No workstream is scheduled, so the target date ends it: 100 a day for six more days.
    assert_eq!(spend["forecastAtCompletion"], usd(1_100));
    // (3,000 − 500) / 500.
    assert_eq!(program["roi"], 5.0);
    let costs = &program["costs"];
    assert_eq!(costs["totalCount"], 3);
    assert_eq!(costs["nodes"][2]["id"], cost["id"], "newest first: {costs}");
    let en = program["en"].as_str().unwrap();
    assert!(
        en.contains(
            "Spent **500 USD**: 50 % of the budget with 40 % of the time elapsed. \
             Spending keeps pace with time."
        ),
        "{en}"
    );
    let ko = program["ko"].as_str().unwrap();
    assert!(
        ko.contains("지출 **500 USD**: 예산의 50%를 썼고, 기간은 40% 지났습니다."),
        "{ko}"
    );

    // A cost is a node.
    let node = app
        .as_user(
            &c.viewer,
            "query($id: ID!) { node(id: $id) { __typename id } }",
            json!({ "id": cost["id"] }),
        )
        .await;
    assert_eq!(node["data"]["node"]["__typename"], "Cost", "{node}");

    // A cost recorded by mistake is deleted by an editor, not by a viewer;
    // the spend no longer counts it.
    let delete = json!({ "id": cost["id"] });
    let refused = attempt(
        &app,
        &c.viewer,
        "deleteCost",
        delete.clone(),
        "deletedCostId",
    )
    .await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    let deleted = mutate(&app, &c.editor, "deleteCost", delete, "deletedCostId").await;
    assert_eq!(deleted["deletedCostId"], cost["id"]);
    let after = app
        .as_user(
            &c.viewer,
            "query($id: ID!) { program(id: $id) { spend { total { amount } } costs { totalCount } } }",
            json!({ "id": c.program }),
        )
        .await;
    assert_eq!(
        after["data"]["program"]["spend"]["total"]["amount"], 200,
        "{after}"
    );
    assert_eq!(after["data"]["program"]["costs"]["totalCount"], 2);
    assert_eq!(
        last_audit_event_of(&app, "cost.delete").await.entity_type,
        "Cost"
    );
}

#[tokio::test]
async fn a_program_without_a_currency_has_no_spend_until_its_first_cost() {
    let app = spawn_app_with(&NOW).await;
    let c = cast(&app, "SPNE").await;
    let query = "query($id: ID!) { program(id: $id) { spend { total { amount currency } burnRatePerWeek { amount } budgetUsedPercent timeElapsedPercent forecastAtCompletion { amount } } roi } }";
    let before = app
        .as_user(&c.owner, query, json!({ "id": c.program }))
        .await;
    assert_eq!(
        before["data"]["program"],
        json!({ "spend": null, "roi": null }),
        "{before}"
    );
    mutate(
        &app,
        &c.owner,
        "recordCost",
        json!({ "programId": c.program, "amount": { "amount": 2_000_000, "currency": "KRW" },
                "incurredOn": "2026-01-04", "category": "cloud" }),
        "cost { id }",
    )
    .await;
    let after = app
        .as_user(&c.owner, query, json!({ "id": c.program }))
        .await;
    let spend = &after["data"]["program"]["spend"];
    assert_eq!(
        spend["total"],
        json!({ "amount": 2_000_000, "currency": "KRW" }),
        "{after}"
    );
    // Two days since the first cost (no start date): a million a day.
    assert_eq!(spend["burnRatePerWeek"]["amount"], 7_000_000);
    assert_eq!(spend["budgetUsedPercent"], Value::Null);
    assert_eq!(spend["timeElapsedPercent"], Value::Null);
    assert_eq!(spend["forecastAtCompletion"], Value::Null, "no end date");
    assert_eq!(after["data"]["program"]["roi"], Value::Null);

    // From now on the program's amounts are in KRW.
    let dollars = attempt(
        &app,
        &c.owner,
        "recordCost",
        json!({ "programId": c.program, "amount": usd(10), "incurredOn": "2026-01-04", "category": "cloud" }),
        "cost { id }",
    )
    .await;
    assert_eq!(error_code(&dollars), "BAD_USER_INPUT", "{dollars}");
    assert_eq!(error_field(&dollars), "input.amount.currency", "{dollars}");
    assert!(
        dollars["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("KRW"),
        "{dollars}"
    );
    let budget = attempt(
        &app,
        &c.owner,
        "updateProgram",
        json!({ "id": c.program, "budget": usd(5_000) }),
        "program { id }",
    )
    .await;
    assert_eq!(error_field(&budget), "input.budget.currency", "{budget}");
    mutate(
        &app,
        &c.owner,
        "updateProgram",
        json!({ "id": c.program, "budget": { "amount": 10_000_000, "currency": "KRW" } }),
        "program { budget { amount currency } }",
    )
    .await;
}

#[tokio::test]
async fn bad_costs_are_refused_and_nothing_is_written() {
    let app = spawn_app_with(&NOW).await;
    let c = cast(&app, "SPNB").await;
    let other = program(&app, &c.owner, "SPNO", json!({})).await;
    let elsewhere = workstream(&app, &c.owner, &other, "Elsewhere", json!({})).await;
    mutate(
        &app,
        &c.owner,
        "updateProgram",
        json!({ "id": c.program, "budget": usd(1_000) }),
        "program { id }",
    )
    .await;
    let good = json!({ "programId": c.program, "amount": usd(10), "incurredOn": "2026-01-04", "category": "cloud" });
    let with = |patch: Value| {
        let mut input = good.clone();
        for (key, value) in patch.as_object().unwrap() {
            input[key] = value.clone();
        }
        input
    };
    for (input, field) in [
        (
            with(json!({ "amount": { "amount": 10, "currency": "EUR" } })),
            "input.amount.currency",
        ),
        (
            with(json!({ "amount": { "amount": 10, "currency": "ZZZ" } })),
            "input.amount.currency",
        ),
        (with(json!({ "amount": usd(-1) })), "input.amount.amount"),
        (with(json!({ "category": "  " })), "input.category"),
        (
            with(json!({ "category": "x".repeat(201) })),
            "input.category",
        ),
    ] {
        let body = attempt(&app, &c.editor, "recordCost", input.clone(), "cost { id }").await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input}: {body}");
        assert_eq!(error_field(&body), field, "{input}: {body}");
    }
    // A workstream of another program: named as such to its owner, who sees
    // both, and missing to the editor, who sees only this one.
    let other_program = with(json!({ "workstreamId": elsewhere }));
    let body = attempt(
        &app,
        &c.owner,
        "recordCost",
        other_program.clone(),
        "cost { id }",
    )
    .await;
    assert_eq!(error_field(&body), "input.workstreamId", "{body}");
    let body = attempt(&app, &c.editor, "recordCost", other_program, "cost { id }").await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    // A budget in another currency than the expected benefit is refused on
    // the field the change sets.
    let benefit_only = program(
        &app,
        &c.owner,
        "SPNU",
        json!({ "expectedBenefit": usd(10) }),
    )
    .await;
    let budget = attempt(
        &app,
        &c.owner,
        "updateProgram",
        json!({ "id": benefit_only, "budget": { "amount": 10, "currency": "EUR" } }),
        "program { id }",
    )
    .await;
    assert_eq!(error_field(&budget), "input.budget.currency", "{budget}");
    // The expected benefit shares the budget's currency.
    let benefit = attempt(
        &app,
        &c.owner,
        "updateProgram",
        json!({ "id": c.program, "expectedBenefit": { "amount": 10, "currency": "EUR" } }),
        "program { id }",
    )
    .await;
    assert_eq!(
        error_field(&benefit),
        "input.expectedBenefit.currency",
        "{benefit}"
    );
    let created = attempt(
        &app,
        &c.owner,
        "createProgram",
        json!({ "key": "SPNC", "name": "Mixed", "budget": usd(1), "expectedBenefit": { "amount": 1, "currency": "JPY" } }),
        "program { id }",
    )
    .await;
    assert_eq!(
        error_field(&created),
        "input.expectedBenefit.currency",
        "{created}"
    );
    // A viewer may read but not record; nothing was written.
    let viewer = attempt(&app, &c.viewer, "recordCost", good.clone(), "cost { id }").await;
    assert_eq!(error_code(&viewer), "FORBIDDEN", "{viewer}");
    assert_eq!(app.count_rows("costs").await, 0);
}
