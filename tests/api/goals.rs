//! Goals: a portfolio or its programs move a metric from a baseline to a
//! target; every value recorded is kept, the latest day's is current, and
//! only those who may change the goal record values.

use serde_json::{Value, json};

use crate::fixtures::{Cast, attempt, cast, mutate, program, set_member};
use crate::helpers::{error_code, error_field, spawn_app_with};

const NOW: [&str; 2] = ["--now", "2026-03-10T12:00:00Z"];

const GOAL: &str = "goal { id title unit baselineValue targetValue currentValue targetDate progress version owner { id } portfolio { id } programs { nodes { key } } history { nodes { value recordedOn note recordedBy { id } } } }";

#[tokio::test]
async fn a_goal_moves_from_its_baseline_to_its_target() {
    let app = spawn_app_with(&NOW).await;
    let lead = app.member("Lead").await;
    let viewer = app.member("Viewer").await;
    let checkout = program(&app, &lead, "CHK", json!({})).await;
    set_member(&app, &lead, &checkout, &viewer, "VIEWER").await;
    let portfolio = mutate(
        &app,
        &lead,
        "createPortfolio",
        json!({ "name": "Speed", "programIds": [checkout] }),
        "portfolio { id }",
    )
    .await["portfolio"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = mutate(
        &app,
        &lead,
        "createGoal",
        json!({ "title": "Fast checkout", "metric": "p95 checkout latency", "unit": "ms",
                "baselineValue": 800.0, "targetValue": 300.0, "targetDate": "2026-09-30",
                "portfolioId": portfolio, "programIds": [checkout] }),
        GOAL,
    )
    .await;
    let goal = &created["goal"];
    let id = goal["id"].as_str().unwrap().to_owned();
    assert_eq!(goal["currentValue"], 800.0, "{goal}");
    assert_eq!(goal["progress"], 0.0);
    assert_eq!(goal["owner"]["id"], lead.id.as_str());
    assert_eq!(goal["portfolio"]["id"], portfolio.as_str());
    assert_eq!(goal["programs"]["nodes"], json!([{ "key": "CHK" }]));
    assert_eq!(goal["history"]["nodes"], json!([]));

    let recorded = mutate(
        &app,
        &lead,
        "recordGoalValue",
        json!({ "goalId": id, "value": 550.0, "recordedOn": "2026-03-05", "note": "CDN" }),
        GOAL,
    )
    .await;
    assert_eq!(recorded["goal"]["currentValue"], 550.0);
    assert_eq!(recorded["goal"]["progress"], 0.5);
    // An older measurement joins the history without becoming current.
    let older = mutate(
        &app,
        &lead,
        "recordGoalValue",
        json!({ "goalId": id, "value": 700.0, "recordedOn": "2026-03-01" }),
        GOAL,
    )
    .await;
    assert_eq!(older["goal"]["currentValue"], 550.0);
    let history = &older["goal"]["history"]["nodes"];
    assert_eq!(history[0]["value"], 700.0, "oldest first: {history}");
    assert_eq!(history[1]["value"], 550.0);
    assert_eq!(history[1]["note"], "CDN");
    assert_eq!(history[1]["recordedBy"]["id"], lead.id.as_str());
    // Without a day, today.
    let today = mutate(
        &app,
        &lead,
        "recordGoalValue",
        json!({ "goalId": id, "value": 500.0 }),
        GOAL,
    )
    .await;
    assert_eq!(
        today["goal"]["history"]["nodes"][2]["recordedOn"],
        "2026-03-10"
    );
    assert_eq!(today["goal"]["currentValue"], 500.0);

    let version = today["goal"]["version"].as_i64().unwrap();
    let updated = mutate(
        &app,
        &lead,
        "updateGoal",
        json!({ "id": id, "targetValue": 400.0, "expectedVersion": version }),
        GOAL,
    )
    .await;
    // (500 − 800) / (400 − 800).
    assert_eq!(updated["goal"]["progress"], 0.75);

    // The program's viewer reads it on the program and on the portfolio.
    let read = app
        .as_user(
            &viewer,
            "query($p: ID!, $f: ID!) { program(id: $p) { goals { totalCount nodes { id } } } portfolio(id: $f) { goals { nodes { id title } } } }",
            json!({ "p": checkout, "f": portfolio }),
        )
        .await;
    assert!(read["errors"].is_null(), "{read}");
    assert_eq!(
        read["data"]["program"]["goals"]["nodes"][0]["id"],
        id.as_str(),
        "{read}"
    );
    assert_eq!(
        read["data"]["portfolio"]["goals"]["nodes"][0]["title"],
        "Fast checkout"
    );

    // Goals and portfolios are nodes: their readers refetch them by id;
    // someone who may read neither gets null, as for an id that does not exist.
    let stranger = app.member("Stranger").await;
    let refetch = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Goal { title } ... on Portfolio { name } } }";
    let ids = json!({ "ids": [id, portfolio] });
    let read = app.as_user(&viewer, refetch, ids.clone()).await;
    assert_eq!(
        read["data"]["nodes"],
        json!([{ "__typename": "Goal", "id": id, "title": "Fast checkout" },
               { "__typename": "Portfolio", "id": portfolio, "name": "Speed" }]),
        "{read}"
    );
    let hidden = app.as_user(&stranger, refetch, ids).await;
    assert_eq!(hidden["data"]["nodes"], json!([null, null]), "{hidden}");
}

#[tokio::test]
async fn only_those_who_may_change_a_goal_record_its_values() {
    let app = spawn_app_with(&NOW).await;
    let lead = app.member("Lead").await;
    let editor = app.member("Editor").await;
    let viewer = app.member("Viewer").await;
    let stranger = app.member("Stranger").await;
    let checkout = program(&app, &lead, "CHK", json!({})).await;
    set_member(&app, &lead, &checkout, &editor, "EDITOR").await;
    set_member(&app, &lead, &checkout, &viewer, "VIEWER").await;
    let input = json!({ "title": "Conversion", "metric": "checkout conversion", "unit": "%",
                        "baselineValue": 2.0, "targetValue": 3.0, "programIds": [checkout] });

    let homeless = attempt(
        &app,
        &lead,
        "createGoal",
        json!({ "title": "T", "metric": "m", "unit": "%", "baselineValue": 1.0, "targetValue": 2.0 }),
        "goal { id }",
    )
    .await;
    assert_eq!(error_field(&homeless), "input.programIds", "{homeless}");
    let blank = attempt(
        &app,
        &lead,
        "createGoal",
        json!({ "title": " ", "metric": "m", "unit": "%", "baselineValue": 1.0, "targetValue": 2.0, "programIds": [checkout] }),
        "goal { id }",
    )
    .await;
    assert_eq!(error_field(&blank), "input.title", "{blank}");
    let by_viewer = attempt(&app, &viewer, "createGoal", input.clone(), "goal { id }").await;
    assert_eq!(error_code(&by_viewer), "FORBIDDEN", "{by_viewer}");
    let by_stranger = attempt(&app, &stranger, "createGoal", input.clone(), "goal { id }").await;
    assert_eq!(error_code(&by_stranger), "NOT_FOUND", "{by_stranger}");
    assert_eq!(app.count_rows("goals").await, 0);

    let id = mutate(&app, &editor, "createGoal", input, "goal { id }").await["goal"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let value = json!({ "goalId": id, "value": 2.5 });
    let refused = attempt(
        &app,
        &viewer,
        "recordGoalValue",
        value.clone(),
        "goal { id }",
    )
    .await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    let hidden = attempt(
        &app,
        &stranger,
        "recordGoalValue",
        value.clone(),
        "goal { id }",
    )
    .await;
    assert_eq!(error_code(&hidden), "NOT_FOUND", "{hidden}");
    assert_eq!(app.count_rows("goal_values").await, 0);
    // The program's OWNER may, though the editor set it.
    mutate(&app, &lead, "recordGoalValue", value, "goal { id }").await;
    let stale = attempt(
        &app,
        &editor,
        "updateGoal",
        json!({ "id": id, "title": "Again", "expectedVersion": 1 }),
        "goal { id }",
    )
    .await;
    assert_eq!(error_code(&stale), "CONFLICT", "{stale}");
    let cleared = attempt(
        &app,
        &editor,
        "updateGoal",
        json!({ "id": id, "targetValue": null }),
        "goal { id }",
    )
    .await;
    assert_eq!(error_field(&cleared), "input.targetValue", "{cleared}");
    // A goal handed to someone outside its programs: they read and change it
    // as its owner, and may hand it on.
    let handed = mutate(
        &app,
        &editor,
        "createGoal",
        json!({ "title": "Handed", "metric": "m", "unit": "%", "baselineValue": 2.0,
                "targetValue": 3.0, "programIds": [checkout], "ownerId": stranger.id }),
        "goal { id owner { id } }",
    )
    .await["goal"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Until a value is recorded, the current value follows the baseline.
    let rebased = mutate(
        &app,
        &stranger,
        "updateGoal",
        json!({ "id": handed, "baselineValue": 2.2 }),
        "goal { currentValue progress }",
    )
    .await;
    assert_eq!(rebased["goal"]["currentValue"], 2.2, "{rebased}");
    let on = mutate(
        &app,
        &stranger,
        "updateGoal",
        json!({ "id": handed, "ownerId": editor.id }),
        "goal { owner { id } }",
    )
    .await;
    assert_eq!(on["goal"]["owner"]["id"], editor.id.as_str(), "{on}");
    let seen = app
        .as_user(
            &stranger,
            "query($p: ID!) { program(id: $p) { goals { totalCount } } }",
            json!({ "p": checkout }),
        )
        .await;
    assert_eq!(seen["data"]["program"], Value::Null, "{seen}");
}

#[tokio::test]
async fn a_goal_or_a_portfolio_set_by_mistake_is_deleted_with_what_it_holds() {
    let app = spawn_app_with(&NOW).await;
    let Cast {
        owner: lead,
        editor,
        viewer,
        program: gdpr,
        ..
    } = cast(&app, "GDPR").await;
    let portfolio = mutate(
        &app,
        &lead,
        "createPortfolio",
        json!({ "name": "Compliance", "programIds": [gdpr] }),
        "portfolio { id }",
    )
    .await["portfolio"]["id"]
        .clone();
    let goal = |title: &str, portfolio: Value| {
        let (app, lead) = (&app, &lead);
        let input = json!({ "title": title, "metric": "m", "unit": "%", "baselineValue": 0.0,
                            "targetValue": 100.0, "programIds": [gdpr], "portfolioId": portfolio });
        async move {
            let goal =
                mutate(app, lead, "createGoal", input, "goal { id }").await["goal"]["id"].clone();
            let value = json!({ "goalId": goal, "value": 10.0 });
            mutate(app, lead, "recordGoalValue", value, "goal { id }").await;
            goal
        }
    };
    let of_portfolio = goal("Audit passed", portfolio.clone()).await;
    let of_program = goal("Consent banner", Value::Null).await;

    // Whoever may change a goal deletes it, with its values.
    let delete = json!({ "id": of_program, "expectedVersion": 1 });
    let refused = attempt(&app, &viewer, "deleteGoal", delete.clone(), "deletedGoalId").await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    let stale = attempt(&app, &editor, "deleteGoal", delete, "deletedGoalId").await;
    assert_eq!(
        error_code(&stale),
        "CONFLICT",
        "a value moved its version: {stale}"
    );
    let deleted = mutate(
        &app,
        &editor,
        "deleteGoal",
        json!({ "id": of_program }),
        "deletedGoalId",
    )
    .await;
    assert_eq!(deleted["deletedGoalId"], of_program);
    assert_eq!(app.count_rows("goals").await, 1);
    assert_eq!(app.count_rows("goal_values").await, 1);

    // Only the portfolio's owner deletes it; its goals go with it, its
    // programs stay.
    let delete = json!({ "id": portfolio });
    let refused = attempt(
        &app,
        &editor,
        "deletePortfolio",
        delete.clone(),
        "deletedPortfolioId",
    )
    .await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    let deleted = mutate(&app, &lead, "deletePortfolio", delete, "deletedPortfolioId").await;
    assert_eq!(deleted["deletedPortfolioId"], portfolio);
    for table in [
        "portfolios",
        "portfolio_programs",
        "goals",
        "goal_programs",
        "goal_values",
    ] {
        assert_eq!(app.count_rows(table).await, 0, "{table}");
    }
    let read = app
        .as_user(
            &viewer,
            "query($id: ID!, $goal: ID!) { program(id: $id) { key goals { totalCount } } node(id: $goal) { id } portfolios { totalCount } }",
            json!({ "id": gdpr, "goal": of_portfolio }),
        )
        .await;
    assert_eq!(read["data"]["program"]["key"], "GDPR", "{read}");
    assert_eq!(read["data"]["program"]["goals"]["totalCount"], 0);
    assert_eq!(read["data"]["node"], Value::Null);
    assert_eq!(read["data"]["portfolios"]["totalCount"], 0);
    let history = crate::fixtures::last_audit_event_of(&app, "goal.delete").await;
    assert_eq!(
        history.entity_id.to_string(),
        of_portfolio.as_str().unwrap()
    );
}

#[tokio::test]
async fn a_goal_set_on_a_portfolio_being_deleted_goes_with_its_history_or_is_refused() {
    let app = spawn_app_with(&NOW).await;
    let lead = app.member("Lead").await;
    let gdpr = program(&app, &lead, "GDPR", json!({})).await;
    let portfolio = mutate(
        &app,
        &lead,
        "createPortfolio",
        json!({ "name": "Compliance", "programIds": [gdpr] }),
        "portfolio { id }",
    )
    .await["portfolio"]["id"]
        .clone();
    let creates = (0..8).map(|i| {
        let input = json!({ "title": format!("Goal {i}"), "metric": "m", "unit": "%",
                            "baselineValue": 0.0, "targetValue": 1.0, "portfolioId": portfolio });
        attempt(&app, &lead, "createGoal", input, "goal { id }")
    });
    let delete = attempt(
        &app,
        &lead,
        "deletePortfolio",
        json!({ "id": portfolio }),
        "deletedPortfolioId",
    );
    let (created, deleted) = futures::join!(futures::future::join_all(creates), delete);
    assert_eq!(
        deleted["data"]["deletePortfolio"]["deletedPortfolioId"], portfolio,
        "{deleted}"
    );
    let mut set = 0;
    for body in &created {
        if body["errors"].is_null() {
            set += 1;
        } else {
            assert_eq!(
                error_code(body),
                "NOT_FOUND",
                "set after the deletion: {body}"
            );
        }
    }
    // Every goal that was set is gone, each with its own history entry.
    assert_eq!(app.count_rows("goals").await, 0);
    let actions = crate::fixtures::audit_actions(&app).await;
    let deleted_goals = actions.iter().filter(|a| *a == "goal.delete").count();
    assert_eq!(deleted_goals, set, "{actions:?}");
}
