//! `Idempotency-Key`: a script that retries a mutation after a timeout
//! gets the first answer back instead of a second risk.

use std::time::Duration;

use serde_json::{Value, json};
use trestle_api::http::idempotency::fingerprint_of;

use crate::fixtures::{cast, mutation_document};
use crate::helpers::{TestApp, TestUser, error_code, spawn_app, spawn_app_with};

const CREATE_RISK: &str = "risk { id title }";

/// POST `createRisk` as `user` with `key`: status, whether replayed, body.
async fn create_risk(
    app: &TestApp,
    user: &TestUser,
    key: &str,
    input: Value,
) -> (u16, bool, Value) {
    let response = app
        .post(
            Some(&user.token),
            &mutation_document("createRisk", CREATE_RISK),
            json!({ "input": input }),
            &[("Idempotency-Key", key)],
        )
        .await;
    let status = response.status().as_u16();
    let replayed = response
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|value| value == "true");
    (
        status,
        replayed,
        response.json().await.expect("a JSON body"),
    )
}

async fn risk_count(app: &TestApp, user: &TestUser, program: &str) -> i64 {
    let body = app
        .as_user(
            user,
            "query($id: ID!) { program(id: $id) { risks(first: 1) { totalCount } } }",
            json!({ "id": program }),
        )
        .await;
    body["data"]["program"]["risks"]["totalCount"]
        .as_i64()
        .unwrap_or_else(|| panic!("{body}"))
}

/// Claim `key` of `user` for `createRisk` with `input`, as another replica
/// starting the same request would, held for `lease`; the user's id.
async fn claim_elsewhere(
    app: &TestApp,
    user: &TestUser,
    key: &str,
    input: &Value,
    lease: Duration,
) -> uuid::Uuid {
    let fingerprint = fingerprint_of(
        &mutation_document("createRisk", CREATE_RISK),
        None,
        &json!({ "input": input }),
    );
    let id: uuid::Uuid = user.id.parse().unwrap();
    app.server
        .domain
        .claim_idempotent(id, key, &fingerprint, lease)
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn a_retried_mutation_replays_its_first_answer_once_per_user_and_key() {
    let app = spawn_app().await;
    let c = cast(&app, "IDEM").await;
    let input =
        json!({ "programId": c.program, "title": "Vendor late", "likelihood": 3, "impact": 4 });

    let (status, replayed, first) = create_risk(&app, &c.editor, "retry-1", input.clone()).await;
    assert_eq!((status, replayed), (200, false), "{first}");
    let (status, replayed, again) = create_risk(&app, &c.editor, "retry-1", input.clone()).await;
    assert_eq!((status, replayed), (200, true), "{again}");
    assert_eq!(again, first, "the first answer, byte for byte");
    assert_eq!(risk_count(&app, &c.owner, &c.program).await, 1);

    // The same key with another body: refused, nothing written.
    let other = json!({ "programId": c.program, "title": "Other", "likelihood": 1, "impact": 1 });
    let (status, _, refused) = create_risk(&app, &c.editor, "retry-1", other.clone()).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(error_code(&refused), "CONFLICT", "{refused}");
    assert_eq!(risk_count(&app, &c.owner, &c.program).await, 1);

    // Keys are per user: the owner's "retry-1" is another key.
    let (status, replayed, owners) = create_risk(&app, &c.owner, "retry-1", other).await;
    assert_eq!((status, replayed), (200, false), "{owners}");
    assert_eq!(risk_count(&app, &c.owner, &c.program).await, 2);

    // A refused mutation is replayed as refused, without running again.
    let (_, _, forbidden) = create_risk(&app, &c.viewer, "v-1", input.clone()).await;
    assert_eq!(error_code(&forbidden), "FORBIDDEN", "{forbidden}");
    let (_, replayed, forbidden_again) = create_risk(&app, &c.viewer, "v-1", input.clone()).await;
    assert!(replayed);
    assert_eq!(forbidden_again, forbidden);

    // A bad key is refused before anything runs.
    for bad in ["", &"k".repeat(256), "has space"] {
        let (status, _, body) = create_risk(&app, &c.editor, bad, input.clone()).await;
        assert_eq!(status, 400, "{bad:?}: {body}");
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    }
    assert_eq!(risk_count(&app, &c.owner, &c.program).await, 2);

    // A secret shown once is never kept for replay: the retry is told the
    // first one ran, and no second token is made.
    let token = |key: &'static str| {
        let app = &app;
        let editor = &c.editor;
        async move {
            let response = app
                .post(
                    Some(&editor.token),
                    "mutation { createApiToken(input: { name: \"sync\" }) { token } }",
                    json!({}),
                    &[("Idempotency-Key", key)],
                )
                .await;
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (status, first) = token("tok-1").await;
    assert_eq!(status, 200, "{first}");
    assert!(
        first["data"]["createApiToken"]["token"]
            .as_str()
            .unwrap()
            .starts_with("trst_")
    );
    let (status, retried) = token("tok-1").await;
    assert_eq!(status, 409, "{retried}");
    assert_eq!(error_code(&retried), "CONFLICT");
    assert!(!retried.to_string().contains("trst_"), "{retried}");
    let tokens = app
        .as_user(&c.editor, "{ viewer { apiTokens { id } } }", json!({}))
        .await;
    assert_eq!(
        tokens["data"]["viewer"]["apiTokens"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{tokens}"
    );

    // Queries ignore the key.
    let response = app
        .post(
            Some(&c.editor.token),
            "{ viewer { id } }",
            json!({}),
            &[("Idempotency-Key", "retry-1")],
        )
        .await;
    assert!(response.headers().get("idempotent-replayed").is_none());
}

#[tokio::test]
async fn a_key_in_use_is_a_conflict_until_its_claim_lapses() {
    let app = spawn_app().await;
    let c = cast(&app, "IDEMRUN").await;
    let input = json!({ "programId": c.program, "title": "Slow", "likelihood": 2, "impact": 2 });

    // As if another replica were running the same request right now.
    claim_elsewhere(&app, &c.editor, "busy", &input, Duration::from_secs(60)).await;
    let (status, _, busy) = create_risk(&app, &c.editor, "busy", input.clone()).await;
    assert_eq!(status, 409, "{busy}");
    assert_eq!(error_code(&busy), "CONFLICT", "{busy}");
    assert_eq!(risk_count(&app, &c.owner, &c.program).await, 0);

    // A claim whose server died lapses, and the retry runs.
    claim_elsewhere(&app, &c.editor, "lapsed", &input, Duration::ZERO).await;
    let (status, replayed, ran) = create_risk(&app, &c.editor, "lapsed", input.clone()).await;
    assert_eq!((status, replayed), (200, false), "{ran}");
    assert_eq!(risk_count(&app, &c.owner, &c.program).await, 1);

    // Concurrent retries of one request: it runs once.
    let tries = (0..6).map(|_| create_risk(&app, &c.editor, "burst", input.clone()));
    let answers = futures::future::join_all(tries).await;
    let mut ids = std::collections::BTreeSet::new();
    for (status, _, body) in &answers {
        match status {
            200 => {
                ids.insert(body["data"]["createRisk"]["risk"]["id"].to_string());
            }
            409 => assert_eq!(error_code(body), "CONFLICT", "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(ids.len(), 1, "{answers:?}");
    assert_eq!(risk_count(&app, &c.owner, &c.program).await, 2);
}

#[tokio::test]
async fn work_that_committed_is_never_run_again_by_a_retry() {
    let app = spawn_app_with(&["--sign-in-max-failures", "1"]).await;
    let c = cast(&app, "IDEMDONE").await;
    let input = json!({ "programId": c.program, "title": "Half", "likelihood": 2, "impact": 2 });
    // The address has spent its failed sign-ins: a `login` now answers
    // `RATE_LIMITED`, an answer that gives the key back for a retry.
    app.login("nobody@trestle.test", "wrong").await;
    let document = "mutation($input: CreateRiskInput!) {
        createRisk(input: $input) { risk { id } }
        login(input: { email: \"nobody@trestle.test\", password: \"wrong\" }) { token }
    }";
    let send = || {
        app.post(
            Some(&c.editor.token),
            document,
            json!({ "input": input }),
            &[("Idempotency-Key", "half")],
        )
    };
    let first: Value = send().await.json().await.expect("a JSON body");
    assert!(
        first["data"]["createRisk"]["risk"]["id"].is_string(),
        "{first}"
    );
    assert_eq!(error_code(&first), "RATE_LIMITED", "{first}");
    assert_eq!(risk_count(&app, &c.owner, &c.program).await, 1);

    // The risk committed: the retry is told so instead of adding another.
    let retry = send().await;
    assert_eq!(retry.status(), 409);
    let retry: Value = retry.json().await.expect("a JSON body");
    assert_eq!(error_code(&retry), "CONFLICT", "{retry}");
    assert!(
        retry["errors"][0]["message"]
            .as_str()
            .is_some_and(|message| message.contains("was not kept")),
        "{retry}"
    );
    assert_eq!(risk_count(&app, &c.owner, &c.program).await, 1);

    // What a server that died between its commit and keeping the answer
    // leaves: the same, once its claim lapses.
    let editor = claim_elsewhere(&app, &c.editor, "died", &input, Duration::ZERO).await;
    let domain = &app.server.domain;
    trestle_api::domain::idempotency::holding(editor, "died".into(), async {
        // The mark a committed mutation writes in its transaction.
        let txn = domain.begin_write().await.unwrap();
        domain.commit(txn, editor, []).await.unwrap();
    })
    .await;
    let (status, _, died) = create_risk(&app, &c.editor, "died", input.clone()).await;
    assert_eq!(status, 409, "{died}");
    assert_eq!(error_code(&died), "CONFLICT", "{died}");
    assert_eq!(risk_count(&app, &c.owner, &c.program).await, 1);
}
