//! Typed helpers that set up what a test needs through the API, each
//! returning an id or panicking with the response body.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

/// Run `name(input: $input) { selection }` as `user` and return its payload;
/// panics with the body unless it succeeds.
pub async fn mutate(
    app: &TestApp,
    user: &TestUser,
    name: &str,
    input: Value,
    selection: &str,
) -> Value {
    let mut input_type: Vec<char> = name.chars().collect();
    input_type[0] = input_type[0].to_ascii_uppercase();
    let input_type: String = input_type.into_iter().collect();
    let body = app
        .as_user(
            user,
            &format!(
                "mutation($input: {input_type}Input!) {{ {name}(input: $input) {{ {selection} }} }}"
            ),
            json!({ "input": input }),
        )
        .await;
    assert!(body["errors"].is_null(), "{name} failed: {body}");
    body["data"][name].clone()
}

/// Run a `create…` mutation and return the id of the `object` it created.
pub async fn create(
    app: &TestApp,
    user: &TestUser,
    name: &str,
    object: &str,
    input: Value,
) -> String {
    let payload = mutate(app, user, name, input, &format!("{object} {{ id }}")).await;
    payload[object]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{name} returned no {object} id: {payload}"))
        .to_owned()
}

/// A program owned by `owner`; returns its id.
pub async fn program(app: &TestApp, owner: &TestUser, key: &str, extra: Value) -> String {
    let mut input = json!({ "key": key, "name": key });
    merge(&mut input, extra);
    create(app, owner, "createProgram", "program", input).await
}

/// Give `user` a role in a program.
pub async fn member(app: &TestApp, owner: &TestUser, program: &str, user: &TestUser, role: &str) {
    mutate(
        app,
        owner,
        "setProgramMember",
        json!({ "programId": program, "userId": user.id, "role": role }),
        "member { id }",
    )
    .await;
}

/// A workstream of `program`; returns its id.
pub async fn workstream(
    app: &TestApp,
    user: &TestUser,
    program: &str,
    name: &str,
    extra: Value,
) -> String {
    let mut input = json!({ "programId": program, "name": name });
    merge(&mut input, extra);
    create(app, user, "createWorkstream", "workstream", input).await
}

/// `downstream` waits on `upstream`; returns the dependency's id.
pub async fn dependency(
    app: &TestApp,
    user: &TestUser,
    upstream: &str,
    downstream: &str,
    extra: Value,
) -> String {
    let mut input = json!({ "upstreamId": upstream, "downstreamId": downstream });
    merge(&mut input, extra);
    create(app, user, "createDependency", "dependency", input).await
}

/// A milestone of `workstream`; returns its id.
pub async fn milestone(app: &TestApp, user: &TestUser, workstream: &str, name: &str) -> String {
    create(
        app,
        user,
        "createMilestone",
        "milestone",
        json!({ "workstreamId": workstream, "name": name, "dueDate": "2026-06-01" }),
    )
    .await
}

/// A risk of `program`; returns its id.
pub async fn risk(
    app: &TestApp,
    user: &TestUser,
    program: &str,
    title: &str,
    extra: Value,
) -> String {
    let mut input = json!({ "programId": program, "title": title, "likelihood": 4, "impact": 4 });
    merge(&mut input, extra);
    create(app, user, "createRisk", "risk", input).await
}

/// A proposed decision of `program`; returns its id.
pub async fn decision(
    app: &TestApp,
    user: &TestUser,
    program: &str,
    title: &str,
    extra: Value,
) -> String {
    let mut input = json!({ "programId": program, "title": title });
    merge(&mut input, extra);
    create(app, user, "createDecision", "decision", input).await
}

/// Post a status update to `program`; returns its id.
pub async fn status_update(app: &TestApp, user: &TestUser, program: &str, summary: &str) -> String {
    create(
        app,
        user,
        "postStatusUpdate",
        "statusUpdate",
        json!({ "programId": program, "health": "AT_RISK", "summary": summary }),
    )
    .await
}

/// Add the fields of `extra` (an object) to `input`.
fn merge(input: &mut Value, extra: Value) {
    if let (Value::Object(input), Value::Object(extra)) = (input, extra) {
        input.extend(extra);
    }
}
