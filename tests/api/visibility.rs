//! What a non-member may learn about a program: nothing, on any path.
//!
//! Program Q carries a marker in every text it holds and is linked to
//! program P by cross-program dependencies and a risk. A VIEWER of P only
//! then reads everything they can reach — every generated operation of the
//! schema-driven fuzzer, a deep query per object type, the planning fields,
//! the brief, the graph, the history and a live subscription while Q
//! changes — and neither the marker nor any of Q's ids may ever show.

use serde_json::{Value, json};

use crate::fixtures::{
    Socket, baseline, comment, dated, decision, dependency, fewest_statements, milestone, mutate,
    program, risk, set_member, status_update, subscribed, team, workstream,
};
use crate::generate::{Generator, Rng, ids_in, load_schema};
use crate::helpers::{TestApp, TestUser, error_code, spawn_app_with};

/// Written into every text of the hidden program.
const MARKER: &str = "ZQXHIDDEN";

/// Two programs, P and the hidden Q, linked across.
struct World {
    /// OWNER of P only.
    p_owner: TestUser,
    /// EDITOR of P only.
    p_editor: TestUser,
    /// VIEWER of P only: the one who must learn nothing about Q.
    p_viewer: TestUser,
    /// OWNER of Q only.
    q_owner: TestUser,
    /// EDITOR of both, who links them.
    bridge: TestUser,
    p: String,
    p_workstreams: Vec<String>,
    /// A risk of P linked to a dependency whose upstream end is in Q.
    p_risk: String,
    /// Everything of Q's, and every dependency between P and Q.
    hidden_ids: Vec<String>,
    /// Q's owner, a directory entry among them.
    q_owner_id: String,
}

fn marked(text: &str) -> String {
    format!("{text} {MARKER}")
}

async fn world(app: &TestApp) -> World {
    let p_owner = app.member("Pat").await;
    let p_editor = app.member("Pia").await;
    let p_viewer = app.member("Vic").await;
    let q_owner = app
        .user_with_role(&format!("Quinn{MARKER}"), "MEMBER")
        .await;
    let bridge = app.member("Bea").await;
    let p = program(app, &p_owner, "PVIS", json!({ "targetDate": "2026-12-31" })).await;
    let q = program(
        app,
        &q_owner,
        "QVIS",
        json!({ "name": marked("Secret program"), "description": marked("about"), "objective": marked("goal"), "targetDate": "2026-12-31" }),
    )
    .await;
    set_member(app, &p_owner, &p, &p_editor, "EDITOR").await;
    set_member(app, &p_owner, &p, &p_viewer, "VIEWER").await;
    set_member(app, &p_owner, &p, &bridge, "EDITOR").await;
    set_member(app, &q_owner, &q, &bridge, "EDITOR").await;

    // One team staffs urgent work in both programs at the same time.
    let shared = team(app, &bridge, "Shared platform").await;
    let p1 = workstream(
        app,
        &p_owner,
        &p,
        "Checkout",
        json!({ "startDate": "2026-03-01", "targetDate": "2026-03-31", "teamId": shared,
                "priority": "P0", "effortDays": 10 }),
    )
    .await;
    let p2 = workstream(
        app,
        &p_owner,
        &p,
        "Billing",
        dated("2026-04-01", "2026-04-30"),
    )
    .await;
    let q1 = workstream(
        app,
        &q_owner,
        &q,
        &marked("Vault"),
        json!({ "description": marked("desc"), "startDate": "2026-01-01", "targetDate": "2026-06-30", "leadId": q_owner.id,
                "teamId": shared, "priority": "P0", "effortDays": 50,
                "externalId": marked("Q-1"), "links": [{ "url": format!("https://jira.example.com/{MARKER}"), "kind": "JIRA", "title": marked("epic") }] }),
    )
    .await;
    let q2 = workstream(
        app,
        &q_owner,
        &q,
        &marked("Ledger"),
        dated("2026-01-01", "2026-02-28"),
    )
    .await;
    let q_milestone = milestone(app, &q_owner, &q1, &marked("Audit"), json!({})).await;
    // Q2 → Q1 inside Q; Q1 → P1 and P2 → Q2 across.
    let inside_q = dependency(
        app,
        &q_owner,
        &q2,
        &q1,
        json!({ "description": marked("inside") }),
    )
    .await;
    let across_down = dependency(
        app,
        &bridge,
        &q1,
        &p1,
        json!({ "description": marked("needs the vault"), "neededBy": "2026-01-15", "status": "AT_RISK",
                "externalId": marked("DEP"), "links": [{ "url": format!("https://linear.app/{MARKER}"), "kind": "LINEAR" }] }),
    )
    .await;
    let across_up = dependency(
        app,
        &bridge,
        &p2,
        &q2,
        json!({ "description": marked("feeds the ledger"), "neededBy": "2026-01-20" }),
    )
    .await;
    let p_risk = risk(
        app,
        &bridge,
        &p,
        "Vault late",
        json!({ "dependencyId": across_down, "ownerId": bridge.id }),
    )
    .await;
    let q_risk = risk(
        app,
        &q_owner,
        &q,
        &marked("Breach"),
        json!({ "description": marked("d"), "mitigation": marked("m"), "dependencyId": inside_q, "workstreamId": q1,
                "externalId": marked("R"), "links": [{ "url": format!("https://docs.example.com/{MARKER}"), "kind": "DOC" }] }),
    )
    .await;
    let q_decision = decision(
        app,
        &q_owner,
        &q,
        &marked("Pick a vendor"),
        json!({ "context": marked("context"), "options": [{ "title": marked("A"), "pros": marked("p"), "cons": marked("c") }] }),
    )
    .await;
    // Conversations: inside Q, on a dependency across, and in P; the Q side
    // answers the request from P, whose workstream lead is P's viewer.
    let q_comment = comment(
        app,
        &q_owner,
        &q_decision,
        &marked("vendor talk"),
        &[&bridge],
    )
    .await;
    let across_comment = comment(app, &bridge, &across_down, &marked("about the vault"), &[]).await;
    mutate(
        app,
        &p_owner,
        "updateWorkstream",
        json!({ "id": p1, "leadId": p_viewer.id }),
        "workstream { id }",
    )
    .await;
    mutate(
        app,
        &bridge,
        "commitDependency",
        json!({ "id": across_down, "committedDate": "2026-02-01", "note": marked("promise") }),
        "dependency { id }",
    )
    .await;
    comment(app, &p_editor, &p1, "Kick-off on Monday", &[&p_viewer]).await;
    let q_update = status_update(app, &q_owner, &q, &marked("all quiet")).await;
    let q_cost = mutate(
        app,
        &q_owner,
        "recordCost",
        json!({ "programId": q, "workstreamId": q1, "amount": { "amount": 7, "currency": "USD" }, "incurredOn": "2026-01-05",
                "category": marked("vault"), "description": marked("spent") }),
        "cost { id }",
    )
    .await["cost"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    mutate(
        app,
        &p_owner,
        "recordCost",
        json!({ "programId": p, "workstreamId": p1, "amount": { "amount": 5, "currency": "USD" }, "incurredOn": "2026-01-05", "category": "cloud" }),
        "cost { id }",
    )
    .await;
    let q_baseline = baseline(app, &q_owner, &q, &marked("Kickoff")).await;
    status_update(app, &p_owner, &p, "P is fine").await;
    baseline(app, &p_owner, &p, "P kickoff").await;
    // Changes after P's status update, so the brief counts them.
    mutate(
        app,
        &bridge,
        "updateDependency",
        json!({ "id": across_down, "description": marked("still needs the vault") }),
        "dependency { id }",
    )
    .await;
    workstream(
        app,
        &p_owner,
        &p,
        "Launch",
        dated("2026-05-01", "2026-05-31"),
    )
    .await;

    let q_webhook = mutate(
        app,
        &q_owner,
        "createWebhook",
        json!({ "programId": q, "url": format!("https://hooks.example.com/{MARKER}"), "events": ["*"], "description": marked("sync") }),
        "webhook { id }",
    )
    .await["webhook"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A portfolio of both programs, which P's viewer reads for P's sake,
    // and one of Q alone, which P's viewer never sees.
    let mut hidden_portfolio = None;
    for (owner, name, programs) in [
        (&bridge, "Both".to_owned(), vec![p.clone(), q.clone()]),
        (&q_owner, marked("Vaults"), vec![q.clone()]),
    ] {
        let id = mutate(
            app,
            owner,
            "createPortfolio",
            json!({ "name": name, "programIds": programs }),
            "portfolio { id }",
        )
        .await["portfolio"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        if owner.id == q_owner.id {
            hidden_portfolio = Some(id);
        } else {
            // A goal of the shared portfolio pursued by both programs.
            mutate(
                app,
                &bridge,
                "createGoal",
                json!({ "title": "Both faster", "metric": "latency", "unit": "ms", "baselineValue": 9.0,
                        "targetValue": 3.0, "portfolioId": id, "programIds": [p, q] }),
                "goal { id }",
            )
            .await;
        }
    }
    let q_goal = mutate(
        app,
        &q_owner,
        "createGoal",
        json!({ "title": marked("Vault uptime"), "metric": marked("uptime"), "unit": "%", "baselineValue": 99.0,
                "targetValue": 99.9, "programIds": [q] }),
        "goal { id }",
    )
    .await["goal"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    mutate(
        app,
        &q_owner,
        "recordGoalValue",
        json!({ "goalId": q_goal, "value": 99.5, "note": marked("measured") }),
        "goal { id }",
    )
    .await;
    let q_owner_id = q_owner.id.clone();
    let mut hidden_ids = vec![
        q.clone(),
        q1.clone(),
        q2.clone(),
        q_milestone,
        inside_q,
        across_down,
        across_up,
        q_risk,
        q_decision,
        q_update,
        q_cost,
        hidden_portfolio.expect("Q's portfolio"),
        q_goal,
        q_baseline,
        q_owner.id.clone(),
        q_comment,
        across_comment,
        q_webhook,
    ];
    // The ids of Q's history entries.
    let history = app
        .as_user(
            &q_owner,
            "query($id: ID!) { program(id: $id) { activity(first: 100) { nodes { id } } decisions { nodes { options { id } } } } }",
            json!({ "id": q }),
        )
        .await;
    hidden_ids.extend(ids_in(&history));
    World {
        p_owner,
        p_editor,
        p_viewer,
        q_owner,
        bridge,
        p,
        p_workstreams: vec![p1, p2],
        p_risk,
        hidden_ids,
        q_owner_id,
    }
}

impl World {
    /// Fail if `text` names anything of Q's.
    fn assert_hides(&self, what: &str, text: &str) {
        assert!(
            !text.contains(MARKER),
            "{what} shows a text of the hidden program:\n{text}"
        );
        for id in &self.hidden_ids {
            assert!(
                !text.contains(id.as_str()),
                "{what} shows the hidden id {id}:\n{text}"
            );
        }
    }
}

/// What `node` and `nodes` ask of whatever an id names: every type's texts.
const NODE_SELECTION: &str = "__typename id ... on Program { key name description objective } ... on Workstream { name description externalId links { url title } } ... on Milestone { name } ... on Dependency { description commitmentNote externalId links { url title } } ... on Decision { title context options { title pros cons } } ... on DecisionOption { title pros cons } ... on Risk { title description mitigation externalId links { url title } } ... on StatusUpdate { summary } ... on Baseline { name } ... on Comment { body } ... on AuditEvent { action entityId changes } ... on Portfolio { name description } ... on Goal { title metric unit } ... on Webhook { url description events } ... on WebhookDelivery { event payload }";

/// Every field a viewer of P can reach, nested where objects lead elsewhere.
const DEEP: &str = r#"
fragment Ws on Workstream {
  id name description status externalId program { id key name }
  team { id name workstreams(first: 100) { totalCount nodes { id name program { id key name } } } }
  lead { id name email }
  milestones(first: 100) { totalCount nodes { id name workstream { id } isOverdue forecastDate } }
  startedOn finishedOn
  upstream(first: 100) { totalCount nodes { ...Dep } }
  downstream(first: 100) { totalCount nodes { ...Dep } }
}
fragment Talk on CommentConnection {
  totalCount nodes { id body createdAt editedAt author { id name } mentions { id name } subject { __typename ... on Workstream { id name } ... on Dependency { id } ... on Decision { id title } ... on Risk { id title } } }
}
fragment Dep on Dependency {
  id description status neededBy committedDate committedBy { id name } externalId
  commitment commitmentNote declineReason deliveredOn
  predictedDelivery isPredictedLate isOverdue
  upstream { id name program { id key name } } downstream { id name program { id key name } }
}
query($p: ID!, $ws: ID!, $risk: ID!) {
  viewer { id name notifications(first: 100) { totalCount nodes { id kind message(locale: EN) program { id key name } actor { id name } comment { id body } subject { __typename ... on Program { id name } ... on Workstream { id name } ... on Dependency { id description } ... on Decision { id title } ... on Risk { id title } } } } }
  programs(first: 100, includeArchived: true) { totalCount nodes { id key name } }
  portfolios(first: 1) { totalCount nodes { id name owner { id name } programs(first: 100) { totalCount nodes { id key name } }
    rollup { programCount byHealth { health count } byComputedHealth { health count } latestForecastFinish overdueDependencies atRiskDependencies openRisks spend { amount currency } budget { amount currency } }
    brief(locale: EN) goals(first: 5) { totalCount nodes { id title programs(first: 5) { nodes { id key name } } portfolio { id name } history(first: 5) { nodes { value note } } } } } }
  teams(first: 100) { nodes { id name workstreams(first: 100) { totalCount nodes { id name } } } }
  teamWork: teams(first: 5) { nodes { id
    commitments(first: 20) { totalCount nodes { id name program { id key name } } }
    priorityConflicts(first: 20) { first { id name } second { id name program { id key name } } overlapStart overlapEnd }
    load(from: "2026-01-01", to: "2026-12-31") { weeks { weekStart demandDays } } } }
  program(id: $p) {
    id key name owner { id name } members { role user { id name email } }
    json: export(format: JSON) csv: export(format: CSV)
    workstreams(first: 100) { totalCount nodes { ...Ws } }
    dependencies(first: 100) { totalCount nodes { ...Dep } }
    talkOnWorkstreams: workstreams(first: 20) { nodes { id comments(first: 5) { ...Talk } } }
    talkOnDependencies: dependencies(first: 20) { nodes { id comments(first: 5) { ...Talk } } }
    decisions(first: 100) { totalCount nodes { id title options { title } supersedes { id } supersededBy { id } comments(first: 3) { ...Talk } } }
    risks(first: 100) { totalCount nodes { id title externalId links { url title } owner { id name } workstream { id name } dependency { ...Dep } comments(first: 3) { ...Talk } } }
    statusUpdates(first: 100) { totalCount nodes { id summary originalSummary translations { locale summary } author { id name } } }
    goals(first: 5) { totalCount nodes { id title metric progress programs(first: 5) { nodes { id key name } } history(first: 5) { nodes { value note } } } }
    costs(first: 100) { totalCount nodes { id amount { amount currency } category description workstream { id name } recordedBy { id name } program { id name } } }
    spend { total { amount currency } byCategory { category total { amount } } burnRatePerWeek { amount } budgetUsedPercent timeElapsedPercent forecastAtCompletion { amount } }
    roi expectedBenefit { amount currency }
    baselines(first: 10) { totalCount nodes { id name capturedBy { id name } finishDeltaDays variance(first: 100) { workstream { id name } workstreamId deltaDays } milestoneVariance(first: 100) { milestone { id name } milestoneId deltaDays } } }
    forecastHistory { on source sourceId name statusUpdate { id summary } baseline { id name } }
    activity(first: 100) { totalCount nodes { id action entityType entityId changes actor { id name } } }
    schedule { workstream { id name } earliestStart earliestFinish forecastStart forecastFinish plannedFinish lateDays slackDays }
    computedHealth { health reasons { code message entityType entityId } }
    milestones(first: 100) { totalCount nodes { id name forecastDate isOverdue workstream { id name } } }
    overdueMilestones: milestones(first: 100, filter: { overdue: true }) { nodes { id name } }
    unscheduledWorkstreams { id name }
    forecastFinishDate
    criticalPath { workstreams { id name } finishDate durationDays }
    slipImpact(workstreamId: $ws, days: 30) { finishDate affected { workstream { id name program { id key name } } slipDays } milestones { milestone { id name } newForecastDate } }
    overdueDependencies { ...Dep }
    atRiskDependencies { ...Dep }
    bottlenecks(first: 100) { workstream { id name } team { id name } downstreamCount directDownstreamCount overdueDeliveries }
    teamBottlenecks: bottlenecks(first: 100, groupBy: TEAM) { team { id name workstreams(first: 100) { nodes { id name } } } downstreamCount criticalPathShare }
    mermaid: dependencyGraph(format: MERMAID)
    dot: dependencyGraph(format: DOT)
    en: brief(locale: EN)
    ko: brief(locale: KO)
    enSummary: briefSummary(locale: EN)
    koSummary: briefSummary(locale: KO)
  }
  workstream(id: $ws) { ...Ws }
  risk(id: $risk) { id dependency { ...Dep } comments(first: 10) { ...Talk } }
}
"#;

#[tokio::test]
async fn a_viewer_of_one_program_learns_nothing_about_another_on_any_path() {
    let app = spawn_app_with(&["--rate-limit-per-minute", "0"]).await;
    let world = world(&app).await;
    let viewer = &world.p_viewer;

    // The reported leak: a risk's dependency leading into the hidden program.
    let body = app
        .as_user(
            viewer,
            "query($id: ID!) { risk(id: $id) { title dependency { upstream { program { key name workstreams { nodes { name } } } } } } }",
            json!({ "id": world.p_risk }),
        )
        .await;
    assert_eq!(body["data"]["risk"]["title"], "Vault late", "{body}");
    assert!(body["data"]["risk"]["dependency"].is_null(), "{body}");
    world.assert_hides("risk.dependency", &body.to_string());

    // One deep query over every object type, planning field, brief, graph and history.
    for ws in &world.p_workstreams {
        let body = app
            .as_user(
                viewer,
                DEEP,
                json!({ "p": world.p, "ws": ws, "risk": world.p_risk }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
        let mine = &body["data"]["viewer"]["notifications"];
        assert_eq!(mine["totalCount"], 1, "only the mention in P: {body}");
        let portfolios = &body["data"]["portfolios"];
        assert_eq!(
            portfolios["totalCount"], 1,
            "only the one holding P: {body}"
        );
        let both = &portfolios["nodes"][0];
        assert_eq!(both["programs"]["totalCount"], 1, "P alone: {body}");
        assert_eq!(both["rollup"]["programCount"], 1, "{body}");
        assert_eq!(mine["nodes"][0]["kind"], "MENTIONED", "{body}");
        let program = &body["data"]["program"];
        assert!(
            program["activity"]["totalCount"].as_i64().unwrap() > 5,
            "{body}"
        );
        assert!(
            program["en"].as_str().unwrap().contains("Checkout"),
            "{body}"
        );
        world.assert_hides("the deep query", &body.to_string());
    }
    // The same query as the bridge, who sees both programs, does show Q:
    // the assertions above can fail.
    let seen_by_bridge = app
        .as_user(
            &world.bridge,
            DEEP,
            json!({ "p": world.p, "ws": world.p_workstreams[0], "risk": world.p_risk }),
        )
        .await
        .to_string();
    assert!(seen_by_bridge.contains(MARKER), "{seen_by_bridge}");

    // Direct lookups of Q's ids answer null, like ids that do not exist.
    for id in &world.hidden_ids {
        let body = app
            .as_user(
                viewer,
                "query($id: ID!) { program(id: $id) { id } workstream(id: $id) { id } dependency(id: $id) { id } decision(id: $id) { id } risk(id: $id) { id } team(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
        for field in ["program", "workstream", "dependency", "decision", "risk"] {
            assert!(body["data"][field].is_null(), "{field}({id}): {body}");
        }
    }
    let by_key = app
        .as_user(viewer, "{ program(key: \"QVIS\") { id } }", json!({}))
        .await;
    assert!(by_key["data"]["program"].is_null(), "{by_key}");

    // Relay's refetching answers null for them too, like for ids that do
    // not exist. (Q's owner is a person of the directory, whom anyone finds.)
    let hidden_objects: Vec<&String> = world
        .hidden_ids
        .iter()
        .filter(|id| **id != world.q_owner.id)
        .collect();
    let missing = uuid::Uuid::now_v7().to_string();
    let refetch = |id: &str| {
        let id = id.to_owned();
        let app = &app;
        async move {
            app.as_user(
                viewer,
                &format!("{{ node(id: \"{id}\") {{ {NODE_SELECTION} }} }}"),
                json!({}),
            )
            .await
            .to_string()
            .replace(&id, "ID")
        }
    };
    let absent = refetch(&missing).await;
    assert!(!absent.contains("error"), "{absent}");
    for id in &hidden_objects {
        let body = refetch(id).await;
        world.assert_hides(&format!("node({id})"), &body);
        assert_eq!(body, absent, "node({id})");
    }
    let body = app
        .as_user(
            viewer,
            &format!("query($ids: [ID!]!) {{ nodes(ids: $ids) {{ {NODE_SELECTION} }} }}"),
            json!({ "ids": hidden_objects }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(
        body["data"]["nodes"],
        json!(vec![Value::Null; hidden_objects.len()]),
        "{body}"
    );
    world.assert_hides("nodes", &body.to_string());
    // Among P's own ids, only Q's answer null.
    let mut mixed: Vec<&String> = world.p_workstreams.iter().collect();
    mixed.extend(hidden_objects.iter().copied());
    let body = app
        .as_user(
            viewer,
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": mixed }),
        )
        .await;
    assert_eq!(
        body["data"]["nodes"][0]["id"],
        world.p_workstreams[0].as_str(),
        "{body}"
    );
    assert_eq!(
        body["data"]["nodes"][1]["id"],
        world.p_workstreams[1].as_str(),
        "{body}"
    );
    world.assert_hides("nodes of P and Q", &body.to_string());
    // Whoever sees Q does read it through `node`: the assertions above can fail.
    let seen_by_bridge = app
        .as_user(
            &world.bridge,
            &format!("query($ids: [ID!]!) {{ nodes(ids: $ids) {{ {NODE_SELECTION} }} }}"),
            json!({ "ids": hidden_objects }),
        )
        .await
        .to_string();
    assert!(seen_by_bridge.contains(MARKER), "{seen_by_bridge}");

    // Every operation the schema-driven fuzzer generates, with P's and Q's ids.
    let schema = load_schema(&app, &viewer.token).await;
    // Q's owner is in the directory every signed-in user may look up by
    // id: handed their id, `node` answers it. It must show nowhere else.
    let mut ids: Vec<String> = world
        .hidden_ids
        .iter()
        .filter(|id| **id != world.q_owner_id)
        .cloned()
        .collect();
    ids.extend(world.p_workstreams.iter().cloned());
    ids.push(world.p.clone());
    ids.push(world.p_risk.clone());
    let mut generator = Generator {
        schema: &schema,
        rng: Rng(0x5ec7),
        ids,
    };
    for n in 0..600 {
        let document = generator.operation();
        // Ending the viewer's session would leave the rest unanswered.
        if document.contains("logout") {
            continue;
        }
        let body = app.as_user(viewer, &document, json!({})).await;
        world.assert_hides(
            &format!("generated operation {n} {document}"),
            &body.to_string(),
        );
    }
    // The viewer was answered to the end, not refused.
    let body = app.as_user(viewer, "{ viewer { id } }", json!({})).await;
    assert_eq!(body["data"]["viewer"]["id"], viewer.id.as_str(), "{body}");
}

#[tokio::test]
async fn a_subscriber_of_one_program_hears_nothing_of_another() {
    let app = spawn_app_with(&["--rate-limit-per-minute", "0"]).await;
    let world = world(&app).await;
    let mut socket = Socket::signed_in(&app, &world.p_viewer).await;
    socket.watch("p", &world.p).await;
    let mut inbox = Socket::signed_in(&app, &world.p_viewer).await;
    inbox
        .subscribe(
            "mine",
            "subscription { viewerNotifications { id kind message program { id name } actor { id name } comment { body } subject { __typename ... on Dependency { id description } ... on Workstream { id name } } } }",
            json!({}),
        )
        .await;
    subscribed(&app, 2).await;

    // Q changes, and so do the dependencies and the risk linking P and Q.
    let across = app
        .as_user(
            &world.bridge,
            "query($id: ID!) { program(id: $id) { dependencies { nodes { id } } } }",
            json!({ "id": world.p }),
        )
        .await;
    for id in ids_in(&across["data"]["program"]["dependencies"]) {
        mutate(
            &app,
            &world.bridge,
            "updateDependency",
            json!({ "id": id, "description": marked("changed") }),
            "dependency { id }",
        )
        .await;
    }
    mutate(
        &app,
        &world.bridge,
        "updateRisk",
        json!({ "id": world.p_risk, "dependencyId": null }),
        "risk { id }",
    )
    .await;
    let q_side = workstream(
        &app,
        &world.q_owner,
        &world.hidden_ids[0],
        &marked("New vault"),
        json!({}),
    )
    .await;
    let cross = dependency(
        &app,
        &world.bridge,
        &q_side,
        &world.p_workstreams[1],
        json!({}),
    )
    .await;
    mutate(
        &app,
        &world.bridge,
        "deleteDependency",
        json!({ "id": cross }),
        "deletedDependencyId",
    )
    .await;
    // The Q side answers the request from P, whose lead is the viewer.
    let across_down = world.hidden_ids[5].clone();
    for (name, input) in [
        (
            "declineDependency",
            json!({ "id": across_down, "reason": marked("no") }),
        ),
        ("deliverDependency", json!({ "id": across_down })),
    ] {
        mutate(&app, &world.bridge, name, input, "dependency { id }").await;
    }
    // Then something of P's that the viewer does hear, closing the window.
    let last = workstream(&app, &world.p_editor, &world.p, "Visible", json!({})).await;
    crate::fixtures::comment(
        &app,
        &world.p_editor,
        &last,
        "Welcome aboard",
        &[&world.p_viewer],
    )
    .await;
    let first = inbox.next_payload("mine").await;
    world.assert_hides("a notification", &first.to_string());
    assert_eq!(
        first["data"]["viewerNotifications"]["comment"]["body"], "Welcome aboard",
        "the mention in P comes first: {first}"
    );

    let mut heard = Vec::new();
    loop {
        let event = socket.next_event("p").await;
        world.assert_hides("a program event", &event.to_string());
        assert!(!event.to_string().contains(&cross), "{event}");
        let done = event["entityId"] == last.as_str();
        heard.push(event);
        if done {
            break;
        }
    }
    assert!(!heard.is_empty());
}

#[tokio::test]
async fn a_refused_cycle_names_only_workstreams_the_caller_can_see() {
    let app = spawn_app_with(&["--rate-limit-per-minute", "0"]).await;
    let world = world(&app).await;
    // P1 → P2 closes P1 → P2 → Q2 → Q1 → P1, half of it inside Q.
    let body = app
        .as_user(
            &world.p_editor,
            "mutation($input: CreateDependencyInput!) { createDependency(input: $input) { dependency { id } } }",
            json!({ "input": { "upstreamId": world.p_workstreams[0], "downstreamId": world.p_workstreams[1] } }),
        )
        .await;
    assert_eq!(error_code(&body), "DEPENDENCY_CYCLE", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["cycle"],
        json!([world.p_workstreams[0], world.p_workstreams[1]]),
        "{body}"
    );
    world.assert_hides("the cycle refusal", &body.to_string());

    // Whoever sees both programs gets the whole cycle.
    let body = app
        .as_user(
            &world.bridge,
            "mutation($input: CreateDependencyInput!) { createDependency(input: $input) { dependency { id } } }",
            json!({ "input": { "upstreamId": world.p_workstreams[0], "downstreamId": world.p_workstreams[1] } }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["cycle"]
            .as_array()
            .map(Vec::len),
        Some(4),
        "{body}"
    );
}

#[tokio::test]
async fn history_and_brief_leave_out_what_names_a_hidden_program() {
    let app = spawn_app_with(&["--rate-limit-per-minute", "0"]).await;
    let world = world(&app).await;
    let query = "query($id: ID!) { program(id: $id) { activity(first: 100) { totalCount nodes { entityType entityId } } brief(locale: EN) } }";
    let as_viewer = app
        .as_user(&world.p_viewer, query, json!({ "id": world.p }))
        .await;
    let as_owner_of_both = app
        .as_user(&world.bridge, query, json!({ "id": world.p }))
        .await;
    let count = |body: &Value| {
        body["data"]["program"]["activity"]["totalCount"]
            .as_i64()
            .unwrap()
    };
    // The dependencies across (both of them: a change to a dependency
    // between two programs is in both histories), the Q side's promise, the
    // comment on one, the risk linked to one and the change to it are in P's
    // history, but only for those who can see Q too.
    assert_eq!(
        count(&as_owner_of_both) - count(&as_viewer),
        6,
        "{as_viewer}\n{as_owner_of_both}"
    );
    let brief = |body: &Value| {
        body["data"]["program"]["brief"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(
        brief(&as_owner_of_both).contains("- dependencies: 1 changed"),
        "{}",
        brief(&as_owner_of_both)
    );
    assert!(
        brief(&as_viewer).contains("- workstreams: 1 added"),
        "{}",
        brief(&as_viewer)
    );
    assert!(
        !brief(&as_viewer).contains("dependencies:"),
        "{}",
        brief(&as_viewer)
    );
    world.assert_hides("P's history", &as_viewer.to_string());
    let _ = (&world.p_owner, &world.q_owner);
}

#[tokio::test]
async fn a_hidden_id_costs_the_same_work_as_a_missing_one() {
    let app = spawn_app_with(&["--rate-limit-per-minute", "0"]).await;
    let world = world(&app).await;
    let hidden_workstream = &world.hidden_ids[1];
    let hidden_dependency = &world.hidden_ids[5];
    let hidden_risk = &world.hidden_ids[7];
    let missing = uuid::Uuid::now_v7().to_string();
    let operations = [
        "query($id: ID!) { workstream(id: $id) { id } }",
        "query($id: ID!) { dependency(id: $id) { id } }",
        "query($id: ID!) { risk(id: $id) { id } }",
        "query($id: ID!) { program(id: $id) { id } }",
        "mutation($id: ID!) { updateWorkstream(input: { id: $id, name: \"x\" }) { workstream { id } } }",
        "mutation($id: ID!) { createMilestone(input: { workstreamId: $id, name: \"x\" }) { milestone { id } } }",
        "mutation($id: ID!) { updateDependency(input: { id: $id, description: \"x\" }) { dependency { id } } }",
        "mutation($id: ID!) { deleteRisk(input: { id: $id }) { deletedRiskId } }",
        "mutation($id: ID!) { captureBaseline(input: { programId: $id, name: \"x\" }) { baseline { id } } }",
    ];
    let hidden_for = |operation: &str| {
        if operation.contains("ependency") {
            hidden_dependency
        } else if operation.contains("isk") {
            hidden_risk
        } else if operation.contains("program") {
            &world.hidden_ids[0]
        } else {
            hidden_workstream
        }
    };
    for operation in operations {
        let (hidden, hidden_body) = fewest_statements(
            &app,
            &world.p_editor,
            operation,
            json!({ "id": hidden_for(operation) }),
        )
        .await;
        let (absent, absent_body) =
            fewest_statements(&app, &world.p_editor, operation, json!({ "id": missing })).await;
        // The same answer, word for word, for the same work.
        assert_eq!(
            hidden_body
                .to_string()
                .replace(hidden_for(operation).as_str(), "ID"),
            absent_body.to_string().replace(missing.as_str(), "ID"),
            "{operation}"
        );
        assert_eq!(hidden, absent, "{operation}: {hidden_body}");
    }
}

#[tokio::test]
async fn a_hidden_id_costs_node_the_same_work_as_a_missing_one() {
    let app = spawn_app_with(&["--rate-limit-per-minute", "0"]).await;
    let world = world(&app).await;
    let missing = uuid::Uuid::now_v7().to_string();
    // Q's program, workstream, dependency across, risk and decision.
    for at in [0, 1, 5, 7, 8] {
        let hidden = &world.hidden_ids[at];
        for operation in [
            "query($id: ID!) { node(id: $id) { id } }",
            "query($id: ID!) { nodes(ids: [$id]) { id } }",
        ] {
            let (hidden_cost, hidden_body) =
                fewest_statements(&app, &world.p_viewer, operation, json!({ "id": hidden })).await;
            let (absent_cost, absent_body) =
                fewest_statements(&app, &world.p_viewer, operation, json!({ "id": missing })).await;
            assert_eq!(hidden_body, absent_body, "{operation}");
            assert_eq!(
                hidden_cost, absent_cost,
                "{operation} of {hidden}: statements for a hidden id and a missing one"
            );
        }
    }
}
