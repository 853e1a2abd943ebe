//! External ids and links: a workstream, dependency or risk says where its
//! work lives in other tools, and a sync script finds "its" workstream again
//! by external id with `upsertWorkstream`.

use serde_json::json;

use crate::fixtures::{attempt, cast, mutate, risk, workstream};
use crate::helpers::{error_code, error_field, spawn_app};

const WORKSTREAM: &str = "workstream { id name version externalId links { url kind title } }";

#[tokio::test]
async fn rows_carry_external_ids_and_links_unique_in_their_program() {
    let app = spawn_app().await;
    let c = cast(&app, "LNK").await;
    let created = mutate(
        &app,
        &c.editor,
        "createWorkstream",
        json!({
            "programId": c.program, "name": "Checkout", "externalId": " PAY-12 ",
            "links": [
                { "url": "https://jira.example.com/browse/PAY-12", "kind": "JIRA", "title": "Epic" },
                { "url": "https://github.com/acme/pay/issues/7", "kind": "GITHUB" }
            ]
        }),
        WORKSTREAM,
    )
    .await;
    let ws = &created["workstream"];
    assert_eq!(ws["externalId"], "PAY-12", "trimmed: {ws}");
    assert_eq!(ws["links"][0]["kind"], "JIRA");
    assert_eq!(ws["links"][0]["title"], "Epic");
    assert_eq!(ws["links"][1]["title"], json!(null));

    // The same external id again in the program: refused, nothing written.
    let taken = attempt(
        &app,
        &c.editor,
        "createWorkstream",
        json!({ "programId": c.program, "name": "Copy", "externalId": "PAY-12" }),
        "workstream { id }",
    )
    .await;
    assert_eq!(error_code(&taken), "BAD_USER_INPUT", "{taken}");
    assert_eq!(error_field(&taken), "input.externalId", "{taken}");
    let other = workstream(&app, &c.editor, &c.program, "Other", json!({})).await;
    let clash = attempt(
        &app,
        &c.editor,
        "updateWorkstream",
        json!({ "id": other, "externalId": "PAY-12" }),
        "workstream { id }",
    )
    .await;
    assert_eq!(error_field(&clash), "input.externalId", "{clash}");
    // Another program may use it.
    let elsewhere = cast(&app, "LNKB").await;
    workstream(
        &app,
        &elsewhere.owner,
        &elsewhere.program,
        "Theirs",
        json!({ "externalId": "PAY-12" }),
    )
    .await;

    // Bad links: every one reported at once, by index.
    let bad = attempt(
        &app,
        &c.editor,
        "updateWorkstream",
        json!({ "id": other, "links": [
            { "url": "javascript:alert(1)", "kind": "OTHER" },
            { "url": "https://ok.example.com", "kind": "DOC" },
            { "url": "ftp://files.example.com/x", "kind": "DOC" }
        ] }),
        "workstream { id }",
    )
    .await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT", "{bad}");
    let fields: Vec<&str> = bad["errors"][0]["extensions"]["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{bad}"))
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["input.links.0.url", "input.links.2.url"], "{bad}");
    let too_many: Vec<_> = (0..21)
        .map(|i| json!({ "url": format!("https://x.example.com/{i}"), "kind": "OTHER" }))
        .collect();
    let refused = attempt(
        &app,
        &c.editor,
        "updateWorkstream",
        json!({ "id": other, "links": too_many }),
        "workstream { id }",
    )
    .await;
    assert_eq!(error_field(&refused), "input.links", "{refused}");

    // Null clears both.
    let cleared = mutate(
        &app,
        &c.editor,
        "updateWorkstream",
        json!({ "id": ws["id"], "externalId": null, "links": null }),
        WORKSTREAM,
    )
    .await;
    assert_eq!(cleared["workstream"]["externalId"], json!(null));
    assert_eq!(cleared["workstream"]["links"], json!([]));

    // Risks and dependencies carry them too.
    let r = risk(
        &app,
        &c.editor,
        &c.program,
        "Vendor",
        json!({ "externalId": "RISK-1", "links": [{ "url": "https://docs.example.com/r", "kind": "DOC" }] }),
    )
    .await;
    let dup = attempt(
        &app,
        &c.editor,
        "createRisk",
        json!({ "programId": c.program, "title": "Dup", "likelihood": 1, "impact": 1, "externalId": "RISK-1" }),
        "risk { id }",
    )
    .await;
    assert_eq!(error_field(&dup), "input.externalId", "{dup}");
    let upstream = workstream(&app, &c.editor, &c.program, "Up", json!({})).await;
    let dep = mutate(
        &app,
        &c.editor,
        "createDependency",
        json!({ "upstreamId": upstream, "downstreamId": other, "externalId": "LIN-9",
                "links": [{ "url": "https://linear.app/acme/issue/LIN-9", "kind": "LINEAR" }] }),
        "dependency { id externalId links { kind } }",
    )
    .await;
    assert_eq!(dep["dependency"]["externalId"], "LIN-9");
    assert_eq!(dep["dependency"]["links"][0]["kind"], "LINEAR");
    let read = app
        .as_user(
            &c.viewer,
            "query($id: ID!) { node(id: $id) { ... on Risk { externalId links { url } } } }",
            json!({ "id": r }),
        )
        .await;
    assert_eq!(read["data"]["node"]["externalId"], "RISK-1", "{read}");
    assert_eq!(
        read["data"]["node"]["links"][0]["url"],
        "https://docs.example.com/r"
    );
}

#[tokio::test]
async fn upsert_creates_once_then_changes_the_same_workstream() {
    let app = spawn_app().await;
    let c = cast(&app, "UPS").await;
    let first = mutate(
        &app,
        &c.editor,
        "upsertWorkstream",
        json!({ "programId": c.program, "externalId": "GH-42", "name": "Search", "progress": 10 }),
        &format!("created {WORKSTREAM}"),
    )
    .await;
    assert_eq!(first["created"], true, "{first}");
    let id = first["workstream"]["id"].clone();

    let second = mutate(
        &app,
        &c.editor,
        "upsertWorkstream",
        json!({ "programId": c.program, "externalId": "GH-42", "progress": 60,
                "links": [{ "url": "https://github.com/acme/search/issues/42", "kind": "GITHUB" }] }),
        "created workstream { id name version progress links { kind } }",
    )
    .await;
    assert_eq!(second["created"], false, "{second}");
    assert_eq!(second["workstream"]["id"], id);
    assert_eq!(second["workstream"]["name"], "Search", "absent fields kept");
    assert_eq!(second["workstream"]["progress"], 60);
    assert_eq!(second["workstream"]["version"], 2);

    // A stale version is a conflict; a new one needs a name.
    let stale = attempt(
        &app,
        &c.editor,
        "upsertWorkstream",
        json!({ "programId": c.program, "externalId": "GH-42", "expectedVersion": 1, "progress": 70 }),
        "created",
    )
    .await;
    assert_eq!(error_code(&stale), "CONFLICT", "{stale}");
    let nameless = attempt(
        &app,
        &c.editor,
        "upsertWorkstream",
        json!({ "programId": c.program, "externalId": "GH-43" }),
        "created",
    )
    .await;
    assert_eq!(error_field(&nameless), "input.name", "{nameless}");

    // Viewers and outsiders may not; an outsider learns nothing of the program.
    let viewer = attempt(
        &app,
        &c.viewer,
        "upsertWorkstream",
        json!({ "programId": c.program, "externalId": "GH-42", "progress": 1 }),
        "created",
    )
    .await;
    assert_eq!(error_code(&viewer), "FORBIDDEN", "{viewer}");
    let outsider = attempt(
        &app,
        &c.outsider,
        "upsertWorkstream",
        json!({ "programId": c.program, "externalId": "GH-42", "progress": 1 }),
        "created",
    )
    .await;
    assert_eq!(error_code(&outsider), "NOT_FOUND", "{outsider}");

    let list = app
        .as_user(
            &c.owner,
            "query($id: ID!) { program(id: $id) { workstreams(first: 10) { totalCount } } }",
            json!({ "id": c.program }),
        )
        .await;
    assert_eq!(
        list["data"]["program"]["workstreams"]["totalCount"], 1,
        "{list}"
    );
}
