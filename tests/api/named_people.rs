//! People named on a program's objects are its members: a workstream lead,
//! a risk owner, and a dependency's `committedBy` (of the upstream program).

use serde_json::json;

use crate::fixtures::{dependency, mutate, program, risk, set_member, workstream};
use crate::helpers::{error_code, error_field, spawn_app};

#[tokio::test]
async fn a_lead_or_risk_owner_from_outside_the_program_is_refused() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let outsider = app.member("Outsider").await;
    let p = program(&app, &owner, "NAMED", json!({})).await;
    let ws = workstream(&app, &owner, &p, "Search", json!({})).await;
    let audits = app.count_rows("audit_events").await;

    for (query, input, field) in [
        (
            "mutation($input: CreateWorkstreamInput!) { createWorkstream(input: $input) { workstream { id } } }",
            json!({ "programId": p, "name": "Led from outside", "leadId": outsider.id }),
            "input.leadId",
        ),
        (
            "mutation($input: UpdateWorkstreamInput!) { updateWorkstream(input: $input) { workstream { id } } }",
            json!({ "id": ws, "leadId": outsider.id }),
            "input.leadId",
        ),
        (
            "mutation($input: CreateRiskInput!) { createRisk(input: $input) { risk { id } } }",
            json!({ "programId": p, "title": "Owned from outside", "likelihood": 2, "impact": 2, "ownerId": outsider.id }),
            "input.ownerId",
        ),
    ] {
        let body = app.as_user(&owner, query, json!({ "input": input })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), field, "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("not a member"),
            "{body}"
        );
    }
    assert_eq!(
        app.count_rows("audit_events").await,
        audits,
        "nothing written"
    );

    // Once a member, the same person may lead and own.
    set_member(&app, &owner, &p, &outsider, "VIEWER").await;
    mutate(
        &app,
        &owner,
        "updateWorkstream",
        json!({ "id": ws, "leadId": outsider.id }),
        "workstream { lead { id } }",
    )
    .await;
    risk(&app, &owner, &p, "Owned", json!({ "ownerId": outsider.id })).await;
}

#[tokio::test]
async fn a_promise_is_made_by_a_member_of_the_upstream_program() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let downstream_only = app.member("Down").await;
    let upstream_lead = app.member("Up").await;
    let down = program(&app, &owner, "DOWN", json!({})).await;
    let up = program(&app, &owner, "UP", json!({})).await;
    set_member(&app, &owner, &down, &downstream_only, "EDITOR").await;
    set_member(&app, &owner, &up, &upstream_lead, "VIEWER").await;
    let waits = workstream(&app, &owner, &down, "Checkout", json!({})).await;
    let delivers = workstream(&app, &owner, &up, "Payments", json!({})).await;

    let body = app
        .as_user(
            &owner,
            "mutation($input: CreateDependencyInput!) { createDependency(input: $input) { dependency { id } } }",
            json!({ "input": { "upstreamId": delivers, "downstreamId": waits, "committedDate": "2026-05-01", "committedById": downstream_only.id } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.committedById");

    let dep = dependency(
        &app,
        &owner,
        &delivers,
        &waits,
        json!({ "committedDate": "2026-05-01", "committedById": upstream_lead.id }),
    )
    .await;
    let body = app
        .as_user(
            &owner,
            "mutation($input: UpdateDependencyInput!) { updateDependency(input: $input) { dependency { id } } }",
            json!({ "input": { "id": dep, "committedById": downstream_only.id } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.committedById");
}

#[tokio::test]
async fn a_member_is_added_by_email_and_unassigned_when_they_leave() {
    let app = spawn_app().await;
    let owner = app.member("Owner").await;
    let lead = app.member("Lead").await;
    let p = program(&app, &owner, "LEAVE", json!({})).await;
    let email =
        app.as_user(&lead, "{ viewer { email } }", json!({})).await["data"]["viewer"]["email"]
            .as_str()
            .unwrap()
            .to_uppercase();

    let added = mutate(
        &app,
        &owner,
        "setProgramMember",
        json!({ "programId": p, "email": email, "role": "EDITOR" }),
        "member { role user { id } }",
    )
    .await;
    assert_eq!(added["member"]["user"]["id"], lead.id.as_str());
    for input in [
        json!({ "programId": p, "email": "nobody@trestle.test", "role": "EDITOR" }),
        json!({ "programId": p, "role": "EDITOR" }),
        json!({ "programId": p, "userId": lead.id, "email": email, "role": "EDITOR" }),
    ] {
        let body = app
            .as_user(
                &owner,
                "mutation($input: SetProgramMemberInput!) { setProgramMember(input: $input) { member { id } } }",
                json!({ "input": input }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input}: {body}");
    }

    let ws = workstream(&app, &owner, &p, "Search", json!({ "leadId": lead.id })).await;
    let r = risk(&app, &owner, &p, "Index", json!({ "ownerId": lead.id })).await;
    mutate(
        &app,
        &owner,
        "removeProgramMember",
        json!({ "programId": p, "userId": lead.id }),
        "removedUserId",
    )
    .await;
    let body = app
        .as_user(
            &owner,
            "query($ws: ID!, $r: ID!, $p: ID!) { workstream(id: $ws) { lead { id } version } risk(id: $r) { owner { id } } program(id: $p) { activity(first: 3) { nodes { action entityId changes } } } }",
            json!({ "ws": ws, "r": r, "p": p }),
        )
        .await;
    assert!(body["data"]["workstream"]["lead"].is_null(), "{body}");
    assert!(body["data"]["risk"]["owner"].is_null(), "{body}");
    let history = body["data"]["program"]["activity"]["nodes"]
        .as_array()
        .unwrap();
    let actions: Vec<&str> = history
        .iter()
        .map(|entry| entry["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["member.remove", "risk.update", "workstream.update"],
        "{body}"
    );
    assert_eq!(history[1]["changes"]["ownerId"]["after"], json!(null));
    assert_eq!(history[2]["changes"]["leadId"]["before"], lead.id.as_str());
}
