//! Status updates: posting one sets the program's health, snapshots the
//! forecast and target, and nothing can change it afterwards.

use serde_json::{Value, json};

use crate::fixtures::{
    cast, dated, korean_member, last_audit_event, last_audit_event_of, mutate, node_texts,
    set_member, workstream,
};
use crate::helpers::{BEFORE_THE_PLANS, error_code, error_field, spawn_app_with};

const POST: &str = "mutation($input: PostStatusUpdateInput!) { postStatusUpdate(input: $input) { statusUpdate { id health summary author { id } forecastFinish targetDate createdAt program { id } } program { id health version } } }";

#[tokio::test]
async fn posting_a_status_update_sets_program_health_and_bumps_its_version() {
    let app = spawn_app_with(&BEFORE_THE_PLANS).await;
    let cast = cast(&app, "STAT").await;
    let body = app
        .as_user(
            &cast.owner,
            "mutation($input: UpdateProgramInput!) { updateProgram(input: $input) { program { version } } }",
            json!({ "input": { "id": cast.program, "targetDate": "2026-06-30" } }),
        )
        .await;
    let version = body["data"]["updateProgram"]["program"]["version"]
        .as_i64()
        .unwrap_or_else(|| panic!("{body}"));
    // A fortnight of work each, and one undated.
    for (name, planned) in [
        ("Backend", dated("2026-05-01", "2026-05-15")),
        ("Frontend", dated("2026-07-06", "2026-07-20")),
        ("Docs", json!({})),
    ] {
        workstream(&app, &cast.owner, &cast.program, name, planned).await;
    }

    let events = app.count_rows("audit_events").await;
    let body = app
        .as_user(
            &cast.editor,
            POST,
            json!({ "input": { "programId": cast.program, "health": "AT_RISK", "summary": "Frontend slips three weeks.\n- vendor late" } }),
        )
        .await;
    let payload = &body["data"]["postStatusUpdate"];
    let update = &payload["statusUpdate"];
    assert_eq!(update["health"], "AT_RISK", "{body}");
    assert_eq!(
        update["summary"],
        "Frontend slips three weeks.\n- vendor late"
    );
    assert_eq!(update["author"]["id"], cast.editor.id.as_str());
    assert_eq!(update["forecastFinish"], "2026-07-20");
    assert_eq!(update["targetDate"], "2026-06-30");
    assert_eq!(update["program"]["id"], cast.program.as_str());
    assert_eq!(payload["program"]["health"], "AT_RISK");
    assert_eq!(payload["program"]["version"], version + 1);

    assert_eq!(app.count_rows("status_updates").await, 1);
    // Two entries: the update posted, and the program's health it set.
    assert_eq!(app.count_rows("audit_events").await, events + 2);
    let event = last_audit_event_of(&app, "statusUpdate.post").await;
    assert_eq!(event.entity_type, "StatusUpdate");
    assert_eq!(event.entity_id.to_string(), update["id"].as_str().unwrap());
    let health = last_audit_event(&app).await;
    assert_eq!(health.action, "program.update");
    assert_eq!(health.entity_id.to_string(), cast.program);
    assert_eq!(
        health.changes["health"],
        json!({ "before": "ON_TRACK", "after": "AT_RISK" })
    );

    // The snapshot stays as it was when the program's dates move on.
    app.as_user(
        &cast.owner,
        "mutation($input: UpdateProgramInput!) { updateProgram(input: $input) { program { version } } }",
        json!({ "input": { "id": cast.program, "targetDate": "2026-09-30" } }),
    )
    .await;
    let body = app
        .as_user(
            &cast.viewer,
            "query($id: ID!) { program(id: $id) { health latestStatusUpdate { targetDate forecastFinish } } }",
            json!({ "id": cast.program }),
        )
        .await;
    assert_eq!(body["data"]["program"]["health"], "AT_RISK", "{body}");
    assert_eq!(
        body["data"]["program"]["latestStatusUpdate"],
        json!({ "targetDate": "2026-06-30", "forecastFinish": "2026-07-20" })
    );
}

#[tokio::test]
async fn status_updates_list_newest_first_and_the_latest_is_the_newest() {
    let app = spawn_app_with(&BEFORE_THE_PLANS).await;
    let cast = cast(&app, "STAT").await;
    let query = "query($id: ID!, $first: Int, $after: String) { program(id: $id) { health latestStatusUpdate { summary } statusUpdates(first: $first, after: $after) { totalCount nodes { summary } pageInfo { hasNextPage endCursor } } } }";
    let body = app
        .as_user(&cast.viewer, query, json!({ "id": cast.program }))
        .await;
    assert!(
        body["data"]["program"]["latestStatusUpdate"].is_null(),
        "{body}"
    );
    assert_eq!(body["data"]["program"]["statusUpdates"]["totalCount"], 0);

    for (health, summary) in [
        ("ON_TRACK", "Week 1"),
        ("AT_RISK", "Week 2"),
        ("OFF_TRACK", "Week 3"),
    ] {
        let body = app
            .as_user(
                &cast.owner,
                POST,
                json!({ "input": { "programId": cast.program, "health": health, "summary": summary } }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let summaries = |body: &Value| node_texts(&body["data"]["program"]["statusUpdates"], "summary");
    let body = app
        .as_user(
            &cast.viewer,
            query,
            json!({ "id": cast.program, "first": 2 }),
        )
        .await;
    let program = &body["data"]["program"];
    assert_eq!(program["health"], "OFF_TRACK");
    assert_eq!(program["latestStatusUpdate"]["summary"], "Week 3");
    assert_eq!(program["statusUpdates"]["totalCount"], 3);
    assert_eq!(summaries(&body), ["Week 3", "Week 2"]);
    let cursor = program["statusUpdates"]["pageInfo"]["endCursor"].clone();
    let body = app
        .as_user(
            &cast.viewer,
            query,
            json!({ "id": cast.program, "first": 2, "after": cursor }),
        )
        .await;
    assert_eq!(summaries(&body), ["Week 1"]);
    assert_eq!(
        body["data"]["program"]["statusUpdates"]["pageInfo"]["hasNextPage"],
        false
    );
}

#[tokio::test]
async fn status_updates_cannot_be_changed_or_deleted() {
    let app = spawn_app_with(&BEFORE_THE_PLANS).await;
    let cast = cast(&app, "STAT").await;
    let body = app
        .as_user(
            &cast.owner,
            "{ __schema { mutationType { fields { name } } } }",
            json!({}),
        )
        .await;
    let names: Vec<String> = body["data"]["__schema"]["mutationType"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    let touching: Vec<&String> = names
        .iter()
        .filter(|n| n.to_lowercase().contains("statusupdate"))
        .collect();
    assert_eq!(touching, ["postStatusUpdate"]);

    let body = app
        .as_user(
            &cast.owner,
            POST,
            json!({ "input": { "programId": cast.program, "health": "ON_TRACK", "summary": "Fine" } }),
        )
        .await;
    let id = body["data"]["postStatusUpdate"]["statusUpdate"]["id"].clone();
    let body = app
        .as_user(
            &cast.owner,
            "mutation($id: ID!) { updateStatusUpdate(input: { id: $id, summary: \"Rewritten\" }) { statusUpdate { id } } }",
            json!({ "id": id }),
        )
        .await;
    assert!(body["errors"].is_array(), "{body}");
    assert_eq!(app.count_rows("status_updates").await, 1);
}

#[tokio::test]
async fn a_status_update_summary_is_validated_and_nothing_is_written() {
    let app = spawn_app_with(&BEFORE_THE_PLANS).await;
    let cast = cast(&app, "STAT").await;
    let events = app.count_rows("audit_events").await;
    for summary in [
        " ".to_owned(),
        "nul\u{0}byte".to_owned(),
        "s".repeat(20_001),
    ] {
        let body = app
            .as_user(
                &cast.editor,
                POST,
                json!({ "input": { "programId": cast.program, "health": "AT_RISK", "summary": summary } }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), "input.summary");
    }
    let body = app
        .as_user(
            &cast.editor,
            POST,
            json!({ "input": { "programId": cast.program, "health": "PURPLE", "summary": "x" } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(app.count_rows("status_updates").await, 0);
    assert_eq!(app.count_rows("audit_events").await, events);
    let body = app
        .as_user(
            &cast.viewer,
            "query($id: ID!) { program(id: $id) { health version } }",
            json!({ "id": cast.program }),
        )
        .await;
    assert_eq!(body["data"]["program"]["health"], "ON_TRACK", "{body}");
    assert_eq!(body["data"]["program"]["version"], 1);
}

#[tokio::test]
async fn a_status_update_reads_in_the_readers_language() {
    let app = spawn_app_with(&BEFORE_THE_PLANS).await;
    let cast = cast(&app, "STAT").await;
    let korean = korean_member(&app, "Kim").await;
    set_member(&app, &cast.owner, &cast.program, &korean, "VIEWER").await;
    let posted = mutate(
        &app,
        &cast.editor,
        "postStatusUpdate",
        json!({
            "programId": cast.program,
            "health": "AT_RISK",
            "summary": "Payments slipped a week.",
            "translations": [{ "locale": "KO", "summary": "결제가 1주 늦어졌습니다." }],
        }),
        "statusUpdate { summary originalSummary translations { locale summary } }",
    )
    .await;
    assert_eq!(
        posted["statusUpdate"],
        json!({
            "summary": "Payments slipped a week.",
            "originalSummary": "Payments slipped a week.",
            "translations": [{ "locale": "KO", "summary": "결제가 1주 늦어졌습니다." }],
        })
    );
    let event = last_audit_event_of(&app, "statusUpdate.post").await;
    assert_eq!(
        event.changes["translations"]["after"],
        json!([{ "locale": "KO", "summary": "결제가 1주 늦어졌습니다." }])
    );

    let query = "query($id: ID!) { program(id: $id) { latestStatusUpdate { summary en: summary(locale: EN) ko: summary(locale: KO) originalSummary } statusUpdates { nodes { summary } } brief } }";
    // A Korean reader reads the translation, everywhere the summary shows.
    let body = app
        .as_user(&korean, query, json!({ "id": cast.program }))
        .await;
    let program = &body["data"]["program"];
    assert_eq!(
        program["latestStatusUpdate"],
        json!({
            "summary": "결제가 1주 늦어졌습니다.",
            "en": "Payments slipped a week.",
            "ko": "결제가 1주 늦어졌습니다.",
            "originalSummary": "Payments slipped a week.",
        }),
        "{body}"
    );
    assert_eq!(
        node_texts(&program["statusUpdates"], "summary"),
        ["결제가 1주 늦어졌습니다."]
    );
    let brief = program["brief"].as_str().unwrap();
    assert!(
        brief.contains("**상태: 주의** — 결제가 1주 늦어졌습니다.\n"),
        "{brief}"
    );
    // An English reader reads it as written, unless they ask for Korean.
    let body = app
        .as_user(&cast.viewer, query, json!({ "id": cast.program }))
        .await;
    let program = &body["data"]["program"];
    assert_eq!(
        program["latestStatusUpdate"]["summary"],
        "Payments slipped a week."
    );
    assert_eq!(
        program["latestStatusUpdate"]["ko"],
        "결제가 1주 늦어졌습니다."
    );
    let brief = program["brief"].as_str().unwrap();
    assert!(
        brief.contains("**Health: at risk** — Payments slipped a week.\n"),
        "{brief}"
    );

    // Without a translation into the reader's language, the original shows.
    mutate(
        &app,
        &cast.editor,
        "postStatusUpdate",
        json!({ "programId": cast.program, "health": "ON_TRACK", "summary": "Back on plan.", "translations": [] }),
        "statusUpdate { id }",
    )
    .await;
    let body = app
        .as_user(&korean, query, json!({ "id": cast.program }))
        .await;
    let latest = &body["data"]["program"]["latestStatusUpdate"];
    assert_eq!(latest["summary"], "Back on plan.", "{body}");
    assert_eq!(latest["ko"], "Back on plan.");
}

#[tokio::test]
async fn bad_translations_are_refused_and_nothing_is_written() {
    let app = spawn_app_with(&BEFORE_THE_PLANS).await;
    let cast = cast(&app, "STAT").await;
    let events = app.count_rows("audit_events").await;
    for (translations, field) in [
        (
            json!([{ "locale": "KO", "summary": " " }]),
            "input.translations.0.summary",
        ),
        (
            json!([{ "locale": "KO", "summary": "nul\u{0}byte" }]),
            "input.translations.0.summary",
        ),
        (
            json!([{ "locale": "EN", "summary": "Fine" }, { "locale": "KO", "summary": "s".repeat(20_001) }]),
            "input.translations.1.summary",
        ),
        (
            json!([{ "locale": "KO", "summary": "하나" }, { "locale": "KO", "summary": "둘" }]),
            "input.translations.1.locale",
        ),
    ] {
        let body = app
            .as_user(
                &cast.editor,
                POST,
                json!({ "input": { "programId": cast.program, "health": "AT_RISK", "summary": "Fine", "translations": translations } }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), field, "{body}");
    }
    let body = app
        .as_user(
            &cast.editor,
            POST,
            json!({ "input": { "programId": cast.program, "health": "AT_RISK", "summary": "Fine", "translations": [{ "locale": "FR", "summary": "Bien" }] } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(app.count_rows("status_updates").await, 0);
    assert_eq!(app.count_rows("audit_events").await, events);
    let body = app
        .as_user(
            &cast.viewer,
            "query($id: ID!) { program(id: $id) { health version } }",
            json!({ "id": cast.program }),
        )
        .await;
    assert_eq!(body["data"]["program"]["health"], "ON_TRACK", "{body}");
    assert_eq!(body["data"]["program"]["version"], 1);
}
