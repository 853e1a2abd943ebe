//! Creating programs, who can see them, and paging through them.

use serde_json::{Value, json};

use crate::fixtures::{node_texts, program};
use crate::helpers::{TestApp, TestUser, error_code, error_field, spawn_app};

const CREATE: &str = "mutation($input: CreateProgramInput!) { createProgram(input: $input) { program { id key name status health startDate targetDate budget { amount currency } owner { id } viewerRole viewerCanEdit members { role user { id } } version } } }";

#[tokio::test]
async fn the_creator_becomes_owner() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    let body = app
        .as_user(
            &tpm,
            CREATE,
            json!({ "input": { "key": "GDPR", "name": "GDPR compliance", "startDate": "2026-01-05", "targetDate": "2026-06-30", "budget": { "amount": 1200000, "currency": "EUR" } } }),
        )
        .await;
    let program = &body["data"]["createProgram"]["program"];
    assert_eq!(program["key"], "GDPR", "{body}");
    assert_eq!(program["status"], "PLANNED");
    assert_eq!(program["health"], "ON_TRACK");
    assert_eq!(program["startDate"], "2026-01-05");
    assert_eq!(program["budget"]["currency"], "EUR");
    assert_eq!(program["owner"]["id"], tpm.id.as_str());
    assert_eq!(program["viewerRole"], "OWNER");
    assert_eq!(program["viewerCanEdit"], true);
    assert_eq!(program["members"][0]["user"]["id"], tpm.id.as_str());
    assert_eq!(program["members"][0]["role"], "OWNER");
    assert_eq!(program["version"], 1);
}

#[tokio::test]
async fn invalid_keys_are_bad_user_input_and_write_nothing() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    for key in ["g", "gdpr", "1ABC", "ABCDEFGHIJK", "AB-C", "ÄB"] {
        let body = app
            .as_user(
                &tpm,
                CREATE,
                json!({ "input": { "key": key, "name": "x" } }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{key}: {body}");
        assert_eq!(error_field(&body), "input.key", "{key}");
    }
    assert_eq!(app.count_rows("programs").await, 0);
    assert_eq!(app.count_rows("program_members").await, 0);
}

#[tokio::test]
async fn program_keys_are_unique() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    program(&app, &tpm, "MKT", json!({})).await;
    let body = app
        .as_user(
            &tpm,
            CREATE,
            json!({ "input": { "key": "MKT", "name": "Again" } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(error_field(&body), "input.key");
    assert_eq!(app.count_rows("programs").await, 1);
}

#[tokio::test]
async fn other_fields_are_validated_too() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    let cases = [
        (json!({ "key": "AB", "name": " " }), "input.name"),
        (
            json!({ "key": "AB", "name": "x".repeat(201) }),
            "input.name",
        ),
        (
            json!({ "key": "AB", "name": "ok", "description": "nul\u{0}byte" }),
            "input.description",
        ),
        (
            json!({ "key": "AB", "name": "ok", "description": "d".repeat(20_001) }),
            "input.description",
        ),
        (
            json!({ "key": "AB", "name": "ok", "startDate": "2026-05-01", "targetDate": "2026-04-01" }),
            "input.targetDate",
        ),
        (
            json!({ "key": "AB", "name": "ok", "budget": { "amount": -1, "currency": "USD" } }),
            "input.budget.amount",
        ),
        (
            json!({ "key": "AB", "name": "ok", "budget": { "amount": 1, "currency": "dollars" } }),
            "input.budget.currency",
        ),
        (
            json!({ "key": "AB", "name": "ok", "bogus": 1 }),
            "input.bogus",
        ),
        (json!({ "key": "AB", "name": 5 }), "input.name"),
        (
            json!({ "key": "AB", "name": "ok", "startDate": "2026-13-01" }),
            "input.startDate",
        ),
        // Only zero-width and other invisible characters: nothing to read.
        (
            json!({ "key": "AB", "name": "\u{200B}\u{200D}\u{FEFF}\u{3164}" }),
            "input.name",
        ),
        // Days outside 1900–2999 (a 9999-12-31 target made forecasts print
        // `+10000-…`).
        (
            json!({ "key": "AB", "name": "ok", "targetDate": "9999-12-31" }),
            "input.targetDate",
        ),
        (
            json!({ "key": "AB", "name": "ok", "startDate": "1899-12-31" }),
            "input.startDate",
        ),
    ];
    for (input, field) in cases {
        let body = app.as_user(&tpm, CREATE, json!({ "input": input })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input}: {body}");
        assert_eq!(error_field(&body), field, "{input}: {body}");
    }
    assert_eq!(app.count_rows("programs").await, 0);
    // The first and last day of the range are fine.
    let body = app
        .as_user(&tpm, CREATE, json!({ "input": { "key": "EDGE", "name": "Edges", "startDate": "1900-01-01", "targetDate": "2999-12-31" } }))
        .await;
    assert_eq!(
        body["data"]["createProgram"]["program"]["key"], "EDGE",
        "{body}"
    );
    // Long texts up to the limit, in any script, are fine.
    let body = app
        .as_user(&tpm, CREATE, json!({ "input": { "key": "KR", "name": "한국 시장 진출", "description": "설명".repeat(10_000) } }))
        .await;
    assert_eq!(
        body["data"]["createProgram"]["program"]["name"], "한국 시장 진출",
        "{body}"
    );
}

async fn lookups(app: &TestApp, user: &TestUser, id: &str, key: &str) -> (Value, Value, Value) {
    let by_id = app
        .as_user(
            user,
            "query($id: ID!) { program(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    let by_key = app
        .as_user(
            user,
            "query($key: String!) { program(key: $key) { id } }",
            json!({ "key": key }),
        )
        .await;
    let list = app
        .as_user(user, "{ programs { totalCount nodes { id } } }", json!({}))
        .await;
    (by_id, by_key, list)
}

#[tokio::test]
async fn non_members_cannot_tell_a_program_exists() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let outsider = app.member("Outsider").await;
    let program = program(&app, &owner, "SECRET", json!({})).await;
    let id = program.as_str();

    let (by_id, by_key, list) = lookups(&app, &owner, id, "SECRET").await;
    assert_eq!(by_id["data"]["program"]["id"], id);
    assert_eq!(by_key["data"]["program"]["id"], id);
    assert_eq!(list["data"]["programs"]["totalCount"], 1);

    let (by_id, by_key, list) = lookups(&app, &outsider, id, "SECRET").await;
    assert!(
        by_id["data"]["program"].is_null() && by_id["errors"].is_null(),
        "{by_id}"
    );
    assert!(
        by_key["data"]["program"].is_null() && by_key["errors"].is_null(),
        "{by_key}"
    );
    assert_eq!(list["data"]["programs"]["totalCount"], 0);
    assert_eq!(list["data"]["programs"]["nodes"], json!([]));

    // An id that does not exist looks exactly the same.
    let missing = uuid::Uuid::now_v7().to_string();
    let (by_id_missing, _, _) = lookups(&app, &outsider, &missing, "NOPE").await;
    assert_eq!(by_id_missing, by_id);

    // Admins see every program.
    let admin = app.admin().await;
    let (by_id, _, list) = lookups(&app, &admin, id, "SECRET").await;
    assert_eq!(by_id["data"]["program"]["id"], id);
    assert_eq!(list["data"]["programs"]["totalCount"], 1);
}

const PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String) { programs(first: $first, after: $after, last: $last, before: $before, orderBy: { field: KEY, direction: ASC }) { totalCount nodes { key } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";

fn keys(body: &Value) -> Vec<String> {
    node_texts(&body["data"]["programs"], "key")
}

#[tokio::test]
async fn pages_walk_forward_and_backward_without_gaps_or_repeats() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    let all: Vec<String> = (0..7).map(|i| format!("P{i}")).collect();
    for key in all.iter().rev() {
        program(&app, &tpm, key, json!({})).await;
    }

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let body = app
            .as_user(&tpm, PAGE, json!({ "first": 3, "after": after }))
            .await;
        assert_eq!(body["data"]["programs"]["totalCount"], 7);
        seen.extend(keys(&body));
        let info = &body["data"]["programs"]["pageInfo"];
        if !info["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = info["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, all);

    let mut seen_back = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let body = app
            .as_user(&tpm, PAGE, json!({ "last": 3, "before": before }))
            .await;
        let mut page = keys(&body);
        page.extend(seen_back);
        seen_back = page;
        let info = &body["data"]["programs"]["pageInfo"];
        if !info["hasPreviousPage"].as_bool().unwrap() {
            break;
        }
        before = info["startCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen_back, all);
}

#[tokio::test]
async fn a_page_does_not_skip_rows_when_earlier_rows_are_added() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    for key in ["B1", "B2", "B3", "B4"] {
        program(&app, &tpm, key, json!({})).await;
    }
    let first = app.as_user(&tpm, PAGE, json!({ "first": 2 })).await;
    assert_eq!(keys(&first), ["B1", "B2"]);
    program(&app, &tpm, "A1", json!({})).await;
    let cursor = first["data"]["programs"]["pageInfo"]["endCursor"].clone();
    let next = app
        .as_user(&tpm, PAGE, json!({ "first": 2, "after": cursor }))
        .await;
    assert_eq!(keys(&next), ["B3", "B4"]);
}

#[tokio::test]
async fn page_size_edges() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    for i in 0..3 {
        program(&app, &tpm, &format!("E{i}"), json!({})).await;
    }
    let zero = app.as_user(&tpm, PAGE, json!({ "first": 0 })).await;
    assert_eq!(keys(&zero), Vec::<String>::new());
    assert_eq!(zero["data"]["programs"]["pageInfo"]["hasNextPage"], true);
    let exact = app.as_user(&tpm, PAGE, json!({ "first": 3 })).await;
    assert_eq!(exact["data"]["programs"]["pageInfo"]["hasNextPage"], false);
    let max = app.as_user(&tpm, PAGE, json!({ "first": 100 })).await;
    assert_eq!(keys(&max).len(), 3);

    for (vars, field) in [
        (json!({ "first": 101 }), "first"),
        (json!({ "last": 101 }), "last"),
        (json!({ "first": -1 }), "first"),
        (json!({ "first": 1, "last": 1 }), "last"),
        (json!({ "after": "not-a-cursor" }), "after"),
    ] {
        let body = app.as_user(&tpm, PAGE, vars.clone()).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{vars}: {body}");
        assert_eq!(error_field(&body), field, "{vars}");
    }
    // A cursor from another ordering is refused rather than misread.
    let by_name = app
        .as_user(
            &tpm,
            "{ programs(first: 1, orderBy: { field: NAME }) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let cursor = by_name["data"]["programs"]["pageInfo"]["endCursor"].clone();
    let body = app.as_user(&tpm, PAGE, json!({ "after": cursor })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn programs_filter_by_status_and_search() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    program(&app, &tpm, "GDPR", json!({ "name": "Privacy compliance" })).await;
    program(&app, &tpm, "KOREA", json!({ "name": "Korea market entry" })).await;
    app.as_user(
        &tpm,
        CREATE,
        json!({ "input": { "key": "MIGR", "name": "Service migration", "status": "ACTIVE" } }),
    )
    .await;
    let query = "query($filter: ProgramFilter) { programs(filter: $filter, orderBy: { field: KEY }) { totalCount nodes { key } } }";
    let body = app
        .as_user(&tpm, query, json!({ "filter": { "search": "market" } }))
        .await;
    assert_eq!(keys(&body), ["KOREA"]);
    let body = app
        .as_user(&tpm, query, json!({ "filter": { "search": "gdp" } }))
        .await;
    assert_eq!(keys(&body), ["GDPR"]);
    let body = app
        .as_user(&tpm, query, json!({ "filter": { "status": ["ACTIVE"] } }))
        .await;
    assert_eq!(keys(&body), ["MIGR"]);
    let body = app
        .as_user(&tpm, query, json!({ "filter": { "search": "100%_" } }))
        .await;
    assert_eq!(body["data"]["programs"]["totalCount"], 0);
}

const UPDATE: &str = "mutation($input: UpdateProgramInput!) { updateProgram(input: $input) { program { id key name description targetDate status version } } }";

#[tokio::test]
async fn owners_update_programs_with_absent_fields_kept_and_nulls_cleared() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    let created = app
        .as_user(
            &tpm,
            CREATE,
            json!({ "input": { "key": "UPD", "name": "Update me", "targetDate": "2026-09-30" } }),
        )
        .await;
    let id = created["data"]["createProgram"]["program"]["id"].clone();
    let body = app
        .as_user(&tpm, UPDATE, json!({ "input": { "id": id, "expectedVersion": 1, "description": "Why", "status": "ACTIVE" } }))
        .await;
    let program = &body["data"]["updateProgram"]["program"];
    assert_eq!(program["name"], "Update me", "{body}");
    assert_eq!(program["description"], "Why");
    assert_eq!(program["status"], "ACTIVE");
    assert_eq!(program["targetDate"], "2026-09-30");
    assert_eq!(program["version"], 2);

    let body = app
        .as_user(
            &tpm,
            UPDATE,
            json!({ "input": { "id": id, "targetDate": null, "description": null } }),
        )
        .await;
    let program = &body["data"]["updateProgram"]["program"];
    assert!(
        program["targetDate"].is_null() && program["description"].is_null(),
        "{body}"
    );
    assert_eq!(program["version"], 3);

    let body = app
        .as_user(&tpm, UPDATE, json!({ "input": { "id": id, "name": null } }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(error_field(&body), "input.name");
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict_and_changes_nothing() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    let id = program(&app, &tpm, "STALE", json!({})).await;
    app.as_user(
        &tpm,
        UPDATE,
        json!({ "input": { "id": id, "expectedVersion": 1, "name": "First" } }),
    )
    .await;
    let body = app
        .as_user(
            &tpm,
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 1, "name": "Second" } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT");
    let now = app
        .as_user(
            &tpm,
            "query($id: ID!) { program(id: $id) { name version } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(now["data"]["program"]["name"], "First");
    assert_eq!(now["data"]["program"]["version"], 2);
}

#[tokio::test]
async fn concurrent_updates_on_one_version_let_exactly_one_win() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    let id = program(&app, &tpm, "RACE", json!({})).await;
    let attempts = (0..8).map(|i| {
        let app = &app;
        let tpm = &tpm;
        let id = id.clone();
        async move {
            app.as_user(tpm, UPDATE, json!({ "input": { "id": id, "expectedVersion": 1, "name": format!("Writer {i}") } }))
                .await
        }
    });
    let results = futures::future::join_all(attempts).await;
    let winners: Vec<&Value> = results
        .iter()
        .filter(|b| b["data"]["updateProgram"].is_object())
        .collect();
    let conflicts = results
        .iter()
        .filter(|b| error_code(b) == "CONFLICT")
        .count();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert_eq!(conflicts, 7, "{results:?}");
    let now = app
        .as_user(
            &tpm,
            "query($id: ID!) { program(id: $id) { name version } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        now["data"]["program"]["name"],
        winners[0]["data"]["updateProgram"]["program"]["name"]
    );
    assert_eq!(now["data"]["program"]["version"], 2);
}

#[tokio::test]
async fn archived_programs_leave_lists_unless_asked_for() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    let old = program(&app, &tpm, "OLD", json!({})).await;
    program(&app, &tpm, "NEW", json!({})).await;
    let body = app
        .as_user(
            &tpm,
            "mutation($id: ID!) { archiveProgram(input: { id: $id }) { program { archivedAt } } }",
            json!({ "id": old }),
        )
        .await;
    assert!(
        body["data"]["archiveProgram"]["program"]["archivedAt"].is_string(),
        "{body}"
    );
    let list = app
        .as_user(&tpm, "{ programs { nodes { key } } }", json!({}))
        .await;
    assert_eq!(keys(&list), ["NEW"]);
    let list = app
        .as_user(
            &tpm,
            "{ programs(includeArchived: true, orderBy: { field: KEY }) { nodes { key } } }",
            json!({}),
        )
        .await;
    assert_eq!(keys(&list), ["NEW", "OLD"]);
    let restore = app
        .as_user(&tpm, "mutation($id: ID!) { archiveProgram(input: { id: $id, archived: false }) { program { archivedAt } } }", json!({ "id": old }))
        .await;
    assert!(restore["data"]["archiveProgram"]["program"]["archivedAt"].is_null());
}

#[tokio::test]
async fn every_bad_field_of_a_new_program_is_reported_at_once() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    let body = app
        .as_user(
            &tpm,
            "mutation($input: CreateProgramInput!) { createProgram(input: $input) { program { id } } }",
            json!({ "input": {
                "key": "not a key",
                "name": "",
                "timeZone": "Mars/Olympus",
                "startDate": "2027-02-01",
                "targetDate": "2027-01-01",
            } }),
        )
        .await;
    assert_eq!(
        crate::helpers::error_code(&body),
        "BAD_USER_INPUT",
        "{body}"
    );
    let extensions = &body["errors"][0]["extensions"];
    let fields: Vec<&str> = extensions["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|error| error["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "input.key",
            "input.name",
            "input.targetDate",
            "input.timeZone"
        ],
        "{body}"
    );
    assert_eq!(extensions["field"], "input.key");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("3 more"),
        "{body}"
    );
    assert_eq!(app.count_rows("programs").await, 0);
}

#[tokio::test]
async fn every_bad_field_of_a_change_is_reported_at_once_and_nothing_changes() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    let id = program(&app, &tpm, "MANY", json!({ "name": "Many" })).await;
    let risk = crate::fixtures::risk(&app, &tpm, &id, "Vendor", json!({})).await;
    let body = app
        .as_user(
            &tpm,
            "mutation($input: UpdateRiskInput!) { updateRisk(input: $input) { risk { id } } }",
            json!({ "input": { "id": risk, "title": "", "likelihood": 9, "impact": 0 } }),
        )
        .await;
    let fields: Vec<&str> = body["errors"][0]["extensions"]["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|error| error["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["input.title", "input.likelihood", "input.impact"],
        "{body}"
    );
    let body = app
        .as_user(
            &tpm,
            "mutation($input: UpdateProgramInput!) { updateProgram(input: $input) { program { id } } }",
            json!({ "input": { "id": id, "name": "", "timeZone": "Nowhere/Land" } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["errors"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{body}"
    );
    let name = app
        .as_user(
            &tpm,
            "query($id: ID!) { program(id: $id) { name version } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(name["data"]["program"]["name"], "Many", "{name}");
}
