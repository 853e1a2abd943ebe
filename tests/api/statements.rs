//! No N+1: a deep nested query issues the same number of SQL statements
//! whether the program holds a little or ten times as much.

use serde_json::{Value, json};

use crate::fixtures::{
    baseline, charged, comment, dated, decision, dependency, fewest_statements, milestone, mutate,
    program, risk, set_member, team, workstream,
};
use crate::helpers::{TestApp, TestUser, spawn_app, spawn_app_with};

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

/// The benchmark's dashboard (`benches/shapes/`): a program, its
/// workstreams with their team, and what each waits on with its upstream.
const DASHBOARD: &str = include_str!("../../benches/shapes/trestle-s2.graphql");
const PROGRAM_BY_KEY: &str = include_str!("../../benches/shapes/trestle-s1.graphql");

/// A program of `size` workstreams over three teams, each waiting on the one
/// before and the one two before, that `viewer` may see.
async fn seed_dashboard(app: &TestApp, tpm: &TestUser, viewer: &TestUser, key: &str, size: usize) {
    let program = program(app, tpm, key, json!({})).await;
    set_member(app, tpm, &program, viewer, "VIEWER").await;
    let mut teams = Vec::new();
    for t in 0..3 {
        teams.push(team(app, tpm, &format!("{key} team {t}")).await);
    }
    let mut ids: Vec<String> = Vec::new();
    for w in 0..size {
        let fields = json!({ "teamId": teams[w % 3], "startDate": "2026-02-02", "targetDate": "2026-03-02" });
        let ws = workstream(app, tpm, &program, &format!("WS {w}"), fields).await;
        for before in [1, 2] {
            if w >= before {
                dependency(app, tpm, &ids[w - before], &ws, json!({})).await;
            }
        }
        ids.push(ws);
    }
}

/// The fewest statements `concurrent` simultaneous requests with
/// `variables` cost together, over five tries (a background statement must
/// not tip the balance).
async fn fewest_together(
    app: &TestApp,
    user: &TestUser,
    query: &str,
    variables: Value,
    concurrent: usize,
) -> u64 {
    let mut fewest = u64::MAX;
    for _ in 0..5 {
        let before = app.server.statements.get();
        let answers = futures::future::join_all(
            (0..concurrent).map(|_| app.as_user(user, query, variables.clone())),
        )
        .await;
        for body in answers {
            assert!(body["errors"].is_null(), "{body}");
        }
        fewest = fewest.min(app.server.statements.get() - before);
    }
    fewest
}

/// Asserts that `query` for program `key` takes exactly `statements` per
/// request, alone and sixteen at once.
async fn each_takes(app: &TestApp, user: &TestUser, query: &str, key: &str, statements: u64) {
    for concurrent in [1, 16] {
        let together = fewest_together(app, user, query, json!({ "key": key }), concurrent).await;
        assert_eq!(
            together,
            statements * concurrent as u64,
            "{key}: {together} statements for {concurrent} requests"
        );
    }
}

#[tokio::test]
async fn the_dashboard_takes_four_statements_at_any_size_and_any_concurrency() {
    // Eighty dashboards of a hundred workstreams are more than a minute's budget.
    let app = spawn_app_with(&["--rate-limit-per-minute", "0"]).await;
    let tpm = app.member("Tpm").await;
    let viewer = app.member("Viewer").await;
    for (key, size) in [("TEN", 10), ("FIFTY", 50), ("HUNDRED", 100)] {
        seed_dashboard(&app, &tpm, &viewer, key, size).await;
        let body = app.as_user(&viewer, DASHBOARD, json!({ "key": key })).await;
        let nodes = &body["data"]["program"]["workstreams"]["nodes"];
        assert_eq!(nodes.as_array().map(Vec::len), Some(size), "{body}");
        let last = &nodes[size - 1]["upstream"]["nodes"];
        assert_eq!(last[0]["upstream"]["name"], format!("WS {}", size - 2));
        assert_eq!(last[1]["upstream"]["name"], format!("WS {}", size - 3));
        assert!(nodes[size - 1]["team"]["name"].is_string(), "{body}");
        // The program, its workstreams, their teams, their dependencies (the
        // upstream ends are on the page); the caller with its programs was
        // read by an earlier request and is remembered (`tests/api/callers.rs`).
        each_takes(&app, &viewer, DASHBOARD, key, 4).await;
        // The program.
        assert_eq!(
            fewest_together(&app, &viewer, PROGRAM_BY_KEY, json!({ "key": key }), 16).await,
            16
        );
    }
}

/// The dashboard's lists asked for twice under aliases, through `edges` and
/// `nodes`, with a fragment spread in two places that reaches one level
/// further (the upstream ends' teams).
const ALIASED: &str = "query Aliased($key: String!) {
  program(key: $key) {
    key
    workstreams(first: 100) {
      edges { node { id waitsOn: upstream(first: 20) { nodes { ...Wait } } } }
      nodes {
        name
        upstream(first: 20) { nodes { id upstream { id name } } }
        downstream(first: 20) { edges { node { ...Wait } } }
      }
    }
  }
}
fragment Wait on Dependency { status upstream { name team { name } } downstream { name } }";

#[tokio::test]
async fn aliases_and_fragments_load_ahead_once_at_any_concurrency() {
    let app = spawn_app_with(&["--rate-limit-per-minute", "0"]).await;
    let tpm = app.member("Tpm").await;
    let viewer = app.member("Viewer").await;
    for (key, size) in [("TEN", 10), ("FIFTY", 50)] {
        seed_dashboard(&app, &tpm, &viewer, key, size).await;
        let body = app.as_user(&viewer, ALIASED, json!({ "key": key })).await;
        assert!(body["errors"].is_null(), "{body}");
        let list = &body["data"]["program"]["workstreams"];
        let waits = &list["edges"][size - 1]["node"]["waitsOn"]["nodes"];
        assert_eq!(waits[0]["upstream"]["name"], format!("WS {}", size - 2));
        assert_eq!(
            waits[0]["upstream"]["team"]["name"],
            format!("{key} team {}", (size - 2) % 3)
        );
        assert_eq!(waits[1]["downstream"]["name"], format!("WS {}", size - 1));
        let last = &list["nodes"][size - 1]["upstream"]["nodes"];
        assert_eq!(last[1]["upstream"]["name"], format!("WS {}", size - 3));
        let feeds = &list["nodes"][0]["downstream"]["edges"];
        assert_eq!(feeds[0]["node"]["downstream"]["name"], "WS 1");
        assert_eq!(
            feeds[1]["node"]["upstream"]["team"]["name"],
            format!("{key} team 0")
        );
        // The program, its workstreams, what they wait on, what waits on
        // them, and the far ends' teams: one statement each, however the
        // selections are spelled and however many requests interleave.
        each_takes(&app, &viewer, ALIASED, key, 5).await;
    }
}

/// What a portfolio review reads: each program with its plan, its goals
/// with their programs and values, the portfolio's rollup and goals, and
/// the team's commitments across the programs.
const PORTFOLIO_REVIEW: &str = r#"{
  portfolios(first: 5) {
    nodes {
      name
      rollup { programCount openRisks overdueDependencies latestForecastFinish spend { amount currency } }
      goals(first: 5) { nodes { title currentValue programs(first: 20) { totalCount nodes { key } } } }
      programs(first: 20) {
        nodes {
          key
          forecastFinishDate
          computedHealth { health }
          criticalPath { finishDate workstreams { name } }
          goals(first: 5) {
            nodes {
              title progress owner { name } portfolio { name }
              programs(first: 20) { nodes { key } }
              history(first: 5) { nodes { value recordedBy { name } } }
            }
          }
        }
      }
    }
  }
  teams(first: 5) {
    nodes {
      name
      commitments(first: 50) { totalCount nodes { name program { key } } }
      priorityConflicts(first: 50) { overlapDays }
      load(from: "2026-02-02", to: "2026-04-27") { overloadedWeeks }
    }
  }
}"#;

/// Every program with what its plan says.
const PROGRAM_FORECASTS: &str = "{ programs(first: 20) { nodes { key forecastFinishDate criticalPath { finishDate } bottlenecks { workstream { name } } } } }";

/// A portfolio of `size` programs that `viewer` may see, each a chain of
/// three P1 workstreams of one team, the first waiting on the previous
/// program's last, with a risk, a cost, and a goal of its own with two
/// values; and a goal of the portfolio over every program.
async fn seed_portfolio(app: &TestApp, tpm: &TestUser, viewer: &TestUser, size: usize) {
    let platform = team(app, tpm, "Platform").await;
    let mut programs = Vec::new();
    let mut previous: Option<String> = None;
    for p in 0..size {
        let program = program(app, tpm, &format!("P{p:02}"), json!({})).await;
        set_member(app, tpm, &program, viewer, "VIEWER").await;
        for w in 0..3 {
            let fields = json!({ "teamId": platform, "priority": "P1", "startDate": "2026-02-02", "targetDate": "2026-02-20" });
            let ws = workstream(app, tpm, &program, &format!("P{p} WS {w}"), fields).await;
            if let Some(previous) = &previous {
                dependency(app, tpm, previous, &ws, json!({})).await;
            }
            previous = Some(ws);
        }
        risk(
            app,
            tpm,
            &program,
            "Vendor",
            json!({ "likelihood": 3, "impact": 3 }),
        )
        .await;
        let cost = json!({ "programId": program, "amount": { "amount": 100, "currency": "EUR" },
                           "incurredOn": "2026-02-03", "category": "People" });
        mutate(app, tpm, "recordCost", cost, "cost { id }").await;
        let goal = json!({ "title": format!("Goal {p}"), "metric": "Adoption", "unit": "%",
                           "baselineValue": 0.0, "targetValue": 100.0, "targetDate": "2026-06-30",
                           "programIds": [program] });
        let goal = mutate(app, tpm, "createGoal", goal, "goal { id }").await["goal"]["id"].clone();
        for (value, day) in [(20.0, "2026-02-10"), (40.0, "2026-02-17")] {
            let value = json!({ "goalId": goal, "value": value, "recordedOn": day });
            mutate(app, tpm, "recordGoalValue", value, "goal { id }").await;
        }
        programs.push(program);
    }
    let portfolio = json!({ "name": "Growth", "programIds": programs });
    let portfolio =
        mutate(app, tpm, "createPortfolio", portfolio, "portfolio { id }").await["portfolio"]["id"]
            .clone();
    let goal = json!({ "title": "Revenue", "metric": "ARR", "unit": "EUR", "baselineValue": 1.0,
                       "targetValue": 2.0, "targetDate": "2026-12-31", "portfolioId": portfolio,
                       "programIds": programs });
    mutate(app, tpm, "createGoal", goal, "goal { id }").await;
}

#[tokio::test]
async fn a_portfolio_review_costs_as_many_statements_for_two_as_for_twelve_programs() {
    let (mut counts, mut forecasts) = (Vec::new(), Vec::new());
    for size in [2, 12] {
        let app = spawn_app_with(&[
            "--rate-limit-per-minute",
            "0",
            "--now",
            "2026-02-04T12:00:00Z",
        ])
        .await;
        let tpm = app.member("Tpm").await;
        let viewer = app.member("Viewer").await;
        seed_portfolio(&app, &tpm, &viewer, size).await;
        let (count, body) = fewest_statements(&app, &viewer, PORTFOLIO_REVIEW, json!({})).await;
        assert!(body["errors"].is_null(), "{body}");
        let portfolio = &body["data"]["portfolios"]["nodes"][0];
        assert_eq!(portfolio["rollup"]["programCount"], size);
        assert_eq!(portfolio["rollup"]["openRisks"], size);
        assert_eq!(
            portfolio["rollup"]["spend"],
            json!([{ "amount": 100 * size, "currency": "EUR" }])
        );
        assert_eq!(portfolio["goals"]["nodes"][0]["title"], "Revenue");
        assert_eq!(
            portfolio["goals"]["nodes"][0]["programs"]["totalCount"],
            size
        );
        let programs = portfolio["programs"]["nodes"].as_array().unwrap();
        assert_eq!(programs.len(), size);
        let last = &programs[size - 1];
        assert_eq!(last["key"], format!("P{:02}", size - 1));
        assert_eq!(
            last["criticalPath"]["workstreams"].as_array().map(Vec::len),
            Some(3),
            "{last}"
        );
        let goals = &last["goals"]["nodes"];
        assert_eq!(goals.as_array().map(Vec::len), Some(2), "{goals}");
        let own = goals
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["title"] == format!("Goal {}", size - 1))
            .unwrap();
        assert_eq!(own["progress"], 0.4);
        assert_eq!(own["history"]["nodes"][1]["recordedBy"]["name"], "Tpm");
        assert_eq!(own["programs"]["nodes"], json!([{ "key": last["key"] }]));
        // Planned together, each program is planned as it is alone.
        for program in programs {
            let alone = app
                .as_user(
                    &viewer,
                    "query($key: String!) { program(key: $key) { key forecastFinishDate computedHealth { health } criticalPath { finishDate workstreams { name } } } }",
                    json!({ "key": program["key"] }),
                )
                .await;
            let alone = &alone["data"]["program"];
            for field in ["forecastFinishDate", "computedHealth", "criticalPath"] {
                assert_eq!(
                    program[field], alone[field],
                    "{field} of {}",
                    program["key"]
                );
            }
        }
        let team = &body["data"]["teams"]["nodes"][0];
        assert_eq!(team["commitments"]["totalCount"], 3 * size);
        // Loaded ahead level by level, sixteen reviews at once cost
        // sixteen times one, however their batches would have interleaved.
        let together = fewest_together(&app, &viewer, PORTFOLIO_REVIEW, json!({}), 16).await;
        assert_eq!(together, 16 * count, "{size} programs: {count} alone");
        counts.push(count);

        // A page of programs with their forecasts is planned at once, so
        // sixteen such requests together cost sixteen times one.
        let (alone, body) = fewest_statements(&app, &viewer, PROGRAM_FORECASTS, json!({})).await;
        assert_eq!(
            body["data"]["programs"]["nodes"].as_array().map(Vec::len),
            Some(size)
        );
        let together = fewest_together(&app, &viewer, PROGRAM_FORECASTS, json!({}), 16).await;
        assert_eq!(together, 16 * alone, "{size} programs: {alone} alone");
        forecasts.push(alone);
    }
    // Each kind of row is read once for every program together: six times
    // the programs cost not one statement more.
    assert_eq!(
        counts[0], counts[1],
        "statements grew with the programs: {counts:?}"
    );
    assert_eq!(
        forecasts[0], forecasts[1],
        "statements grew with the programs: {forecasts:?}"
    );
    eprintln!("portfolio review: {counts:?} SQL statements; forecasts: {forecasts:?}");
}

/// A page of a portfolio's or a goal's programs, or of a program's goals,
/// loaded ahead for the whole page above it at once, plans the programs on
/// the page only: what a request computes is what it shows.
#[tokio::test]
async fn a_page_of_a_portfolios_programs_plans_only_that_page() {
    const PORTFOLIO: &str = "query($first: Int) { portfolios(first: 1) { nodes { programs(first: $first) { nodes { key forecastFinishDate } } } } }";
    const GOAL: &str = "query($first: Int) { portfolios(first: 1) { nodes { goals(first: 1) { nodes { programs(first: $first) { nodes { key forecastFinishDate } } } } } } }";
    // P00's goals by target date: its own (P00 alone), then the portfolio's
    // (all twelve).
    const GOALS: &str = "query($first: Int) { program(key: \"P00\") { goals(first: $first) { nodes { programs { nodes { key forecastFinishDate } } } } } }";
    // Rate limited, so that each response says what it cost.
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    let viewer = app.member("Viewer").await;
    seed_portfolio(&app, &tpm, &viewer, 12).await;
    for (query, few, many) in [(PORTFOLIO, 2, 12), (GOAL, 2, 12), (GOALS, 1, 2)] {
        let (short, body) = charged(&app, &viewer, query, json!({ "first": few })).await;
        assert!(body["errors"].is_null(), "{body}");
        let (long, body) = charged(&app, &viewer, query, json!({ "first": many })).await;
        assert!(body["errors"].is_null(), "{body}");
        // Each plan costs a point per workstream and dependency it loads.
        assert!(
            3 * short < long,
            "{query}: the page of {few} cost {short} points, of {many} {long}"
        );
    }
}
