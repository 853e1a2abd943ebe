//! Schema-driven fuzzing: thousands of generated operations, well-formed and
//! not, sent with the token of every role; none may crash the server, answer
//! 5xx or surface an `INTERNAL_SERVER_ERROR`, and every error carries a code.

use serde_json::{Value, json};

use crate::generate::{Generator, Rng, ids_in, load_schema};
use crate::helpers::{TestDb, graphql_request, spawn_app_on};

#[tokio::test]
async fn generated_operations_from_every_role_never_fail_inside_the_server() {
    let app = spawn_app_on(
        TestDb::new().await,
        &[
            "--demo",
            "--rate-limit-per-minute",
            "0",
            "--sign-in-max-failures",
            "0",
        ],
    )
    .await;
    let mut tokens: Vec<Option<String>> = vec![
        None,
        Some(app.admin().await.token),
        Some(app.member("Outsider").await.token),
    ];
    for sign_in in app.server.demo_sign_ins.clone() {
        let body = app.login(&sign_in.email, &sign_in.password).await;
        tokens.push(body["data"]["login"]["token"].as_str().map(str::to_owned));
    }
    let owner = tokens[3].clone().expect("demo owner token");
    let schema = load_schema(&app, &owner).await;
    // Real ids from the demo, so generated operations reach deep into the domain.
    let ids_body = app
        .graphql(
            Some(&owner),
            "{ program(key: \"PAY\") { id workstreams { nodes { id } } dependencies { nodes { id } } decisions { nodes { id } } risks { nodes { id } } members { user { id } } } teams { nodes { id } } }",
            json!({}),
        )
        .await;
    let ids = ids_in(&ids_body);
    assert!(ids.len() > 20, "{ids_body}");

    // A fixed seed so a failure replays; set TRESTLE_FUZZ_SEED to explore further.
    let seed = std::env::var("TRESTLE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x7e57);
    let mut generator = Generator {
        schema: &schema,
        rng: Rng(seed),
        ids,
    };
    let operations = 2_400;
    let mut errors_seen = 0;
    for n in 0..operations {
        let document = generator.operation();
        // Ending a session or an account would leave later operations unsigned.
        if document.contains("logout") || document.contains("deactivateUser") {
            continue;
        }
        let token = tokens[n % tokens.len()].clone();
        let response = graphql_request(
            &app.client,
            &app.address,
            token.as_deref(),
            &document,
            json!({}),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("the server dropped operation {n}: {e}\n{document}"));
        let status = response.status();
        assert!(
            status.as_u16() < 500,
            "{status} for operation {n}:\n{document}"
        );
        let body: Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("not JSON ({e}) for:\n{document}"));
        for error in body["errors"].as_array().into_iter().flatten() {
            errors_seen += 1;
            let code = error["extensions"]["code"].as_str().unwrap_or("");
            assert!(
                !code.is_empty(),
                "an error without a code for operation {n}:\n{document}\n{body}"
            );
            assert_ne!(
                code, "INTERNAL_SERVER_ERROR",
                "operation {n} failed inside the server:\n{document}\n{body}"
            );
        }
    }
    // The generator must also produce refusals, or it tests nothing.
    assert!(
        errors_seen > operations / 10,
        "only {errors_seen} errors in {operations} operations"
    );
    let alive = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(alive.status(), 200);
    // Every role was still signed in at the end, so nothing ran anonymous by accident.
    for token in tokens.iter().flatten() {
        let body = app
            .graphql(Some(token), "{ viewer { id } }", json!({}))
            .await;
        assert!(body["data"]["viewer"]["id"].is_string(), "{body}");
    }
}
