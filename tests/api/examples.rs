//! The demo program and every `.graphql` example of the repository, run
//! against a live server so the README's queries cannot rot.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, TestUser, spawn_app_on};

async fn demo_owner(app: &TestApp) -> TestUser {
    let owner = app
        .server
        .demo_sign_ins
        .iter()
        .find(|s| s.role == "OWNER")
        .expect("the demo printed an owner sign-in");
    app.signed_in(&owner.email, &owner.password).await
}

#[tokio::test]
async fn the_demo_loads_a_realistic_program_once() {
    let db = TestDb::new().await;
    let url = db.url.clone();
    let app = spawn_app_on(db, &["--demo"]).await;
    assert_eq!(app.server.demo_sign_ins.len(), 3);
    let roles: Vec<&str> = app.server.demo_sign_ins.iter().map(|s| s.role).collect();
    assert_eq!(roles, ["OWNER", "EDITOR", "VIEWER"]);
    let owner = demo_owner(&app).await;
    let body = app
        .as_user(
            &owner,
            "{ program(key: \"PAY\") {
                workstreams { totalCount }
                dependencies { totalCount }
                decisions { totalCount nodes { status supersededBy { title } } }
                risks { totalCount }
                statusUpdates { totalCount }
                members { role }
                overdueDependencies { id }
                atRiskDependencies { id }
                unscheduledWorkstreams { name }
                criticalPath { workstreams { name } }
                forecastFinishDate
                baselines(first: 5) { totalCount nodes { name forecastFinishDate finishDeltaDays variance(first: 100) { deltaDays } } }
                forecastHistory { source }
                timeZone
                computedHealth { health reasons { code } }
                latestStatusUpdate { en: summary(locale: EN) ko: summary(locale: KO) }
                schedule { workstream { name status } lateDays forecastFinish plannedFinish }
                atRisk: atRiskDependencies { upstream { name program { key } } isPredictedLate committedDate predictedDelivery }
            } }",
            json!({}),
        )
        .await;
    let p = &body["data"]["program"];
    assert_eq!(p["workstreams"]["totalCount"], 13, "{body}");
    assert_eq!(p["dependencies"]["totalCount"], 17);
    assert_eq!(p["decisions"]["totalCount"], 8);
    let superseded = p["decisions"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "SUPERSEDED")
        .count();
    assert_eq!(superseded, 1);
    assert_eq!(p["risks"]["totalCount"], 10);
    assert_eq!(p["statusUpdates"]["totalCount"], 2);
    assert_eq!(p["members"].as_array().unwrap().len(), 3);
    assert!(!p["overdueDependencies"].as_array().unwrap().is_empty());
    assert!(!p["atRiskDependencies"].as_array().unwrap().is_empty());
    assert_eq!(p["unscheduledWorkstreams"].as_array().unwrap().len(), 1);
    assert!(
        p["criticalPath"]["workstreams"].as_array().unwrap().len() >= 3,
        "{body}"
    );
    // The first screen shows the forecast following reality: finished and
    // late work, a promise, another program's upstream that slipped, a
    // baseline from the kickoff and a status update in both languages.
    assert_eq!(p["timeZone"], "Asia/Seoul");
    assert_ne!(p["computedHealth"]["health"], "ON_TRACK", "{body}");
    let schedule = p["schedule"].as_array().unwrap();
    assert!(
        schedule
            .iter()
            .any(|e| e["workstream"]["status"] == "DONE" && e["lateDays"].as_i64() > Some(0)),
        "finished late: {body}"
    );
    assert!(
        schedule
            .iter()
            .any(|e| e["workstream"]["status"] == "IN_PROGRESS" && e["lateDays"].as_i64() > Some(0)),
        "late work under way: {body}"
    );
    let at_risk = p["atRisk"].as_array().unwrap();
    assert!(
        at_risk
            .iter()
            .any(|d| d["upstream"]["program"]["key"] == "IDP" && d["isPredictedLate"] == true),
        "the slipped SSO in another program: {body}"
    );
    assert!(
        at_risk.iter().any(|d| !d["committedDate"].is_null()),
        "a promise: {body}"
    );
    assert!(
        p["baselines"]["nodes"][0]["finishDeltaDays"].as_i64() > Some(0),
        "drifted since the kickoff: {body}"
    );
    let update = &p["latestStatusUpdate"];
    assert_ne!(update["en"], update["ko"], "{body}");
    assert!(update["ko"].as_str().unwrap().contains("볼트"), "{body}");
    // The Kickoff baseline predates the dependencies that pushed work later.
    assert_eq!(p["baselines"]["totalCount"], 1);
    let kickoff = &p["baselines"]["nodes"][0];
    assert_eq!(kickoff["name"], "Kickoff");
    assert!(kickoff["finishDeltaDays"].as_i64().unwrap() > 0, "{body}");
    assert!(
        kickoff["variance"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["deltaDays"].as_i64().unwrap_or(0) > 0),
        "{body}"
    );
    let sources: Vec<&str> = p["forecastHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|point| point["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["BASELINE", "STATUS_UPDATE", "STATUS_UPDATE"]);

    // The handshake and the conversation: a request the identity team has
    // not answered, one it declined, a decision under discussion with a
    // mention, and unread notifications for every demo sign-in.
    let talk = app
        .as_user(
            &owner,
            "{ program(key: \"PAY\") {
                dependencies(first: 50) { nodes { commitment upstream { program { key } } declineReason committedBy { id } } }
                decisions(filter: { status: [PROPOSED] }, first: 1) { nodes { comments { totalCount nodes { mentions { id } } } } }
            } }",
            json!({}),
        )
        .await;
    let deps = talk["data"]["program"]["dependencies"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{talk}"));
    let across = |commitment: &str| {
        deps.iter()
            .any(|d| d["commitment"] == commitment && d["upstream"]["program"]["key"] == "IDP")
    };
    assert!(across("REQUESTED") && across("DECLINED"), "{talk}");
    assert!(
        deps.iter()
            .any(|d| d["commitment"] == "COMMITTED" && d["committedBy"]["id"].is_string()),
        "{talk}"
    );
    let thread = &talk["data"]["program"]["decisions"]["nodes"][0]["comments"];
    assert_eq!(thread["totalCount"], 2, "{talk}");
    for sign_in in &app.server.demo_sign_ins {
        let user = app.signed_in(&sign_in.email, &sign_in.password).await;
        let inbox = app
            .as_user(
                &user,
                "{ viewer { notifications(unreadOnly: true) { totalCount nodes { kind } } } }",
                json!({}),
            )
            .await;
        assert!(
            inbox["data"]["viewer"]["notifications"]["totalCount"].as_i64() > Some(0),
            "{}: {inbox}",
            sign_in.role
        );
    }

    // A second start on the same database leaves the data alone.
    let programs = app.count_rows("programs").await;
    let again = spawn_app_on(TestDb::existing(&url), &["--demo"]).await;
    assert!(again.server.demo_sign_ins.is_empty());
    assert_eq!(again.count_rows("programs").await, programs);
}

#[tokio::test]
async fn every_graphql_example_runs_without_errors_on_the_demo() {
    let app = spawn_app_on(TestDb::new().await, &["--demo"]).await;
    let owner = demo_owner(&app).await;
    let critical = app
        .as_user(
            &owner,
            "{ program(key: \"PAY\") { criticalPath { workstreams { id } } } }",
            json!({}),
        )
        .await;
    let workstream_id = critical["data"]["program"]["criticalPath"]["workstreams"][0]["id"].clone();
    let teams = app
        .as_user(
            &owner,
            "{ program(key: \"PAY\") { bottlenecks(groupBy: TEAM, first: 1) { team { id } } } }",
            json!({}),
        )
        .await;
    let team_id = teams["data"]["program"]["bottlenecks"][0]["team"]["id"].clone();
    assert!(
        team_id.is_string(),
        "the demo has a team others wait on: {teams}"
    );
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let mut ran = 0;
    for entry in std::fs::read_dir(dir).expect("examples/ exists") {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("graphql") {
            continue;
        }
        let document = std::fs::read_to_string(&path).unwrap();
        let mut variables = json!({});
        if document.contains("$workstreamId") {
            variables["workstreamId"] = workstream_id.clone();
        }
        if document.contains("$teamId") {
            variables["teamId"] = team_id.clone();
        }
        let body = app.as_user(&owner, &document, variables).await;
        assert!(body["errors"].is_null(), "{}: {body}", path.display());
        assert!(
            body["data"]
                .as_object()
                .is_some_and(|d| d.values().all(|v| !v.is_null())),
            "{}: {body}",
            path.display()
        );
        ran += 1;
    }
    assert!(ran >= 8, "only {ran} examples found");
}

#[tokio::test]
async fn the_demo_brief_reads_in_both_languages() {
    let app = spawn_app_on(TestDb::new().await, &["--demo"]).await;
    let owner = demo_owner(&app).await;
    let body = app
        .as_user(
            &owner,
            "{ program(key: \"PAY\") { en: brief(locale: EN) ko: brief(locale: KO) } }",
            json!({}),
        )
        .await;
    let en = body["data"]["program"]["en"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"));
    let ko = body["data"]["program"]["ko"].as_str().unwrap();
    for section in [
        "## Critical path",
        "## Overdue dependencies",
        "## Top risks",
        "## Decisions waiting",
        "## Since the last status update",
    ] {
        assert!(en.contains(section), "{section}\n{en}");
    }
    assert!(en.contains("Vault"), "{en}");
    for section in [
        "## 주경로",
        "## 기한이 지난 의존 관계",
        "## 주요 리스크",
        "## 결정 대기 중인 사안",
        "## 지난 상태 보고",
    ] {
        assert!(ko.contains(section), "{section}\n{ko}");
    }
    assert!(ko.contains("워크스트림 1건 변경"), "{ko}");
    let _: Value = body;
}
