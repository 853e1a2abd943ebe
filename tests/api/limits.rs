//! Production limits: query cost before execution, the per-principal
//! budget with its headers, and failed sign-ins.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, error_code, spawn_app, spawn_app_with};

/// `getIntrospectionQuery()` of graphql-js with its default options, as
/// GraphiQL and code generators send it.
const INTROSPECTION_QUERY: &str = r#"
    query IntrospectionQuery {
      __schema {
        queryType { name kind }
        mutationType { name kind }
        subscriptionType { name kind }
        types {
          ...FullType
        }
        directives {
          name
          description
          locations
          args {
            ...InputValue
          }
        }
      }
    }

    fragment FullType on __Type {
      kind
      name
      description
      fields(includeDeprecated: true) {
        name
        description
        args {
          ...InputValue
        }
        type {
          ...TypeRef
        }
        isDeprecated
        deprecationReason
      }
      inputFields {
        ...InputValue
      }
      interfaces {
        ...TypeRef
      }
      enumValues(includeDeprecated: true) {
        name
        description
        isDeprecated
        deprecationReason
      }
      possibleTypes {
        ...TypeRef
      }
    }

    fragment InputValue on __InputValue {
      name
      description
      type { ...TypeRef }
      defaultValue
    }

    fragment TypeRef on __Type {
      kind
      name
      ofType {
        name
        kind
        ofType {
          name
          kind
          ofType {
            name
            kind
            ofType {
              name
              kind
              ofType {
                name
                kind
                ofType {
                  name
                  kind
                  ofType {
                    name
                    kind
                    ofType {
                      name
                      kind
                      ofType {
                        name
                        kind
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
"#;

/// Four nested lists of 100: 103,020,202 by the cost rules (each level
/// `1 + 100 × (1 + child)`), far over the default limit.
const FOUR_LEVELS: &str = "{ programs(first: 100) { nodes { workstreams(first: 100) { nodes {
    upstream(first: 100) { nodes { upstream { downstream(first: 100) { nodes { id } } } } }
} } } } }";

fn header(response: &reqwest::Response, name: &str) -> u64 {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { token } }";

async fn login_from(
    app: &TestApp,
    email: &str,
    password: &str,
    address: &str,
) -> reqwest::Response {
    app.post(
        None,
        LOGIN,
        json!({ "input": { "email": email, "password": password } }),
        &[("x-forwarded-for", address)],
    )
    .await
}

#[tokio::test]
async fn the_standard_introspection_query_passes_with_the_default_limits() {
    let app = spawn_app().await;
    let body = app.graphql(None, INTROSPECTION_QUERY, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    let types = body["data"]["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "ProgramConnection"));
}

#[tokio::test]
async fn a_query_over_the_complexity_limit_is_refused_with_its_cost_and_limit() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let body = app.as_user(&admin, FOUR_LEVELS, json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
    let extensions = &body["errors"][0]["extensions"];
    assert_eq!(extensions["cost"], 103_020_202);
    assert_eq!(extensions["limit"], 1_000_000);
    assert_eq!(extensions["measure"], "complexity");
    assert!(body.get("data").is_none_or(Value::is_null), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("103020202")
    );

    // The GraphQL-over-HTTP media type answers a request error with 400.
    let response = app
        .post(
            Some(&admin.token),
            FOUR_LEVELS,
            json!({}),
            &[("accept", "application/graphql-response+json")],
        )
        .await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn a_refused_document_runs_no_resolver_and_no_sql() {
    let app = spawn_app_with(&["--max-query-complexity", "50"]).await;
    let admin = app.admin().await;

    // Anonymous: not a single statement.
    let before = app.server.statements.get();
    let body = app.graphql(None, FOUR_LEVELS, json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
    assert_eq!(app.server.statements.get(), before);

    // Signed in: only what reading the credential costs, as for `__typename`
    // (nothing once the caller is remembered, as it is after a first request).
    app.as_user(&admin, "{ __typename }", json!({})).await;
    let before = app.server.statements.get();
    app.as_user(&admin, "{ __typename }", json!({})).await;
    let credential = app.server.statements.get() - before;
    let before = app.server.statements.get();
    let body = app
        .as_user(
            &admin,
            "mutation { createProgram(input: { key: \"NOPE\", name: \"Never\" }) {
                program { workstreams(first: 100) { nodes { id name } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["cost"],
        1 + 1 + 1 + 1 + 100 * 2
    );
    assert_eq!(app.server.statements.get() - before, credential);
    assert_eq!(app.count_rows("programs").await, 0);
}

#[tokio::test]
async fn the_complexity_limit_is_configurable_and_follows_variables() {
    let app = spawn_app_with(&["--max-query-complexity", "10"]).await;
    let admin = app.admin().await;
    let query = "query($n: Int) { programs(first: $n) { nodes { id name } } }";
    // programs 1 + nodes (1 + n × 2): 8 at n = 3, 12 at n = 5.
    let body = app.as_user(&admin, query, json!({ "n": 3 })).await;
    assert!(body["errors"].is_null(), "{body}");
    let body = app.as_user(&admin, query, json!({ "n": 5 })).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
    assert_eq!(body["errors"][0]["extensions"]["cost"], 12);
    assert_eq!(body["errors"][0]["extensions"]["limit"], 10);
}

#[tokio::test]
async fn each_structural_limit_refuses_one_over_and_admits_the_limit() {
    let app = spawn_app_with(&[
        "--max-query-depth",
        "3",
        "--max-aliases",
        "2",
        "--max-root-fields",
        "3",
        "--max-directives",
        "2",
        "--max-fragments",
        "2",
    ])
    .await;
    let admin = app.admin().await;
    let cases = [
        (
            "depth",
            "{ programs { nodes { id } } }",
            "{ programs { nodes { owner { id } } } }",
            4,
        ),
        (
            "aliases",
            "{ a: viewer { id } b: viewer { id } }",
            "{ a: viewer { id } b: viewer { id } c: viewer { id } }",
            3,
        ),
        (
            "rootFields",
            "{ viewer { id } __typename t: __typename }",
            "{ viewer { id } __typename t: teams { totalCount } programs { totalCount } }",
            4,
        ),
        (
            "directives",
            "{ viewer { id @include(if: true) name @skip(if: false) } }",
            "{ viewer { id @include(if: true) name @skip(if: false) email @include(if: true) } }",
            3,
        ),
        (
            "fragments",
            "{ viewer { ...F } } fragment F on User { id ...G } fragment G on User { name }",
            "{ viewer { ...F ...G } } fragment F on User { id ...G } fragment G on User { name }",
            3,
        ),
    ];
    for (measure, admitted, refused, value) in cases {
        let body = app.as_user(&admin, admitted, json!({})).await;
        assert!(body["errors"].is_null(), "{measure}: {body}");
        let body = app.as_user(&admin, refused, json!({})).await;
        assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{measure}: {body}");
        let extensions = &body["errors"][0]["extensions"];
        assert_eq!(extensions["measure"], measure, "{body}");
        assert_eq!(extensions["cost"], value, "{body}");
    }
}

#[tokio::test]
async fn a_fragment_bomb_is_refused_before_it_expands() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    // Each fragment spreads the next twice: 2^40 copies of `id` once expanded.
    let mut document = String::from("{ viewer { ...F0 } }\n");
    for i in 0..40 {
        document.push_str(&format!(
            "fragment F{i} on User {{ ...F{next} ...F{next} }}\n",
            next = i + 1
        ));
    }
    document.push_str("fragment F40 on User { id }\n");
    let body = app.as_user(&admin, &document, json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
}

#[tokio::test]
async fn every_graphql_response_carries_the_rate_limit_headers() {
    // A budget that refills slower than requests spend it, so every answer
    // shows points used.
    let app = spawn_app_with(&["--rate-limit-per-minute", "600"]).await;
    let admin = app.admin().await;
    let get_mutation = app
        .client
        .get(format!("{}/graphql", app.address))
        .bearer_auth(&admin.token)
        .query(&[("query", "mutation { __typename }")])
        .send()
        .await
        .unwrap();
    let bad_token = app
        .post(Some("not-a-token"), "{ viewer { id } }", json!({}), &[])
        .await;
    let responses = [
        app.post(Some(&admin.token), "{ viewer { id } }", json!({}), &[])
            .await,
        app.post(Some(&admin.token), "{ viewer { nope } }", json!({}), &[])
            .await,
        app.post(Some(&admin.token), "{ viewer { id ", json!({}), &[])
            .await,
        app.post(Some(&admin.token), FOUR_LEVELS, json!({}), &[])
            .await,
        app.post(None, "{ users { totalCount } }", json!({}), &[])
            .await,
        bad_token,
        get_mutation,
    ];
    for response in &responses {
        let limit = header(response, "x-ratelimit-limit");
        let remaining = header(response, "x-ratelimit-remaining");
        assert_eq!(limit, 600, "{}", response.status());
        assert_eq!(header(response, "x-ratelimit-used"), limit - remaining);
        assert!(remaining < limit, "{} {remaining}", response.status());
        header(response, "x-ratelimit-reset");
    }
}

#[tokio::test]
async fn an_exhausted_budget_answers_429_with_retry_after_and_refills() {
    let app = spawn_app_with(&["--rate-limit-per-minute", "60"]).await;
    let first = app.member("First").await;
    let second = app.member("Second").await;
    let mut refused = None;
    for _ in 0..80 {
        let response = app
            .post(Some(&first.token), "{ __typename }", json!({}), &[])
            .await;
        if response.status() == 429 {
            refused = Some(response);
            break;
        }
        assert_eq!(response.status(), 200);
    }
    let refused = refused.expect("60 points a minute run out within 80 requests");
    let retry_after = header(&refused, "retry-after");
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    assert_eq!(header(&refused, "x-ratelimit-remaining"), 0);
    assert_eq!(header(&refused, "x-ratelimit-used"), 60);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(error_code(&body), "RATE_LIMITED");
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], retry_after);

    // Another user has a budget of their own.
    let other = app
        .post(Some(&second.token), "{ __typename }", json!({}), &[])
        .await;
    assert_eq!(other.status(), 200);

    // The bucket refills continuously: after Retry-After the next request runs.
    tokio::time::sleep(Duration::from_secs(retry_after) + Duration::from_millis(100)).await;
    let again = app
        .post(Some(&first.token), "{ __typename }", json!({}), &[])
        .await;
    assert_eq!(again.status(), 200);
}

#[tokio::test]
async fn a_mutation_costs_its_fields_plus_ten() {
    let app = spawn_app_with(&["--rate-limit-per-minute", "600"]).await;
    let member = app.member("Writer").await;
    let query = app
        .post(Some(&member.token), "{ viewer { id } }", json!({}), &[])
        .await;
    // viewer + id.
    assert_eq!(header(&query, "x-ratelimit-used"), 2);
    let mutation = app
        .post(
            Some(&member.token),
            "mutation { createTeam(input: { name: \"Payments\" }) { team { id } } }",
            json!({}),
            &[],
        )
        .await;
    // createTeam + team + id, and 10 for the mutation; a little refills meanwhile.
    let used = header(&mutation, "x-ratelimit-used");
    assert!((13..=15).contains(&used), "{used}");
}

#[tokio::test]
async fn anonymous_callers_share_their_address_budget_but_not_a_users() {
    let app = spawn_app_with(&["--rate-limit-per-minute", "30"]).await;
    let member = app.member("Member").await;
    let mut exhausted = false;
    for _ in 0..40 {
        if app
            .post(None, "{ __typename }", json!({}), &[])
            .await
            .status()
            == 429
        {
            exhausted = true;
            break;
        }
    }
    assert!(exhausted);
    let signed_in = app
        .post(Some(&member.token), "{ __typename }", json!({}), &[])
        .await;
    assert_eq!(signed_in.status(), 200);
    assert_eq!(header(&signed_in, "x-ratelimit-used"), 1);
}

#[tokio::test]
async fn failed_sign_ins_slow_an_account_down_but_never_lock_its_owner_out() {
    let app = spawn_app_with(&[
        "--trust-forwarded-for",
        "--sign-in-free-failures",
        "3",
        "--sign-in-max-delay-secs",
        "2",
    ])
    .await;
    // The admin signs in from the office once: that address is recognised.
    let office = "198.51.100.200";
    let body: Value = login_from(&app, ADMIN_EMAIL, ADMIN_PASSWORD, office)
        .await
        .json()
        .await
        .unwrap();
    assert!(body["data"]["login"]["token"].is_string(), "{body}");
    // Ten wrong passwords from ten addresses: the first three are free, then
    // each attempt has to wait (1 s, then 2 s at most here).
    let mut delayed = 0;
    for n in 1..=10 {
        let response = login_from(
            &app,
            ADMIN_EMAIL,
            "wrong-password",
            &format!("203.0.113.{n}"),
        )
        .await;
        match response.status().as_u16() {
            200 => {
                let body: Value = response.json().await.unwrap();
                assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
            }
            429 => {
                let retry_after = header(&response, "retry-after");
                assert!((1..=2).contains(&retry_after), "{retry_after}");
                delayed += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(delayed >= 6, "only {delayed} attempts were delayed");
    // A new address waits too, even with the right password …
    let waiting = login_from(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "192.0.2.77").await;
    assert_eq!(waiting.status(), 429);
    let retry_after = header(&waiting, "retry-after");
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    // … but the owner is not locked out: from the office at once,
    let body: Value = login_from(&app, ADMIN_EMAIL, ADMIN_PASSWORD, office)
        .await
        .json()
        .await
        .unwrap();
    assert!(body["data"]["login"]["token"].is_string(), "{body}");
    // and from anywhere once the (bounded) delay has passed.
    for n in 1..=3 {
        login_from(
            &app,
            ADMIN_EMAIL,
            "wrong-password",
            &format!("203.0.113.{}", 20 + n),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let body: Value = login_from(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "192.0.2.78")
        .await
        .json()
        .await
        .unwrap();
    assert!(body["data"]["login"]["token"].is_string(), "{body}");
}

#[tokio::test]
async fn failed_sign_ins_lock_the_client_address_across_accounts() {
    let app = spawn_app_with(&["--trust-forwarded-for", "--sign-in-max-failures", "3"]).await;
    for i in 0..3 {
        let email = format!("nobody-{i}@trestle.test");
        login_from(&app, &email, "guess", "203.0.113.9").await;
    }
    let locked = login_from(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "203.0.113.9").await;
    assert_eq!(locked.status(), 429);
    let elsewhere = login_from(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "203.0.113.10").await;
    assert_eq!(elsewhere.status(), 200);
    let body: Value = elsewhere.json().await.unwrap();
    assert!(body["data"]["login"]["token"].is_string(), "{body}");

    // Aliased sign-ins in one request count one each.
    let many = app.post(None,
        "mutation($i: LoginInput!) { a: login(input: $i) { token } b: login(input: $i) { token }
            c: login(input: $i) { token } d: login(input: $i) { token } }",
        json!({ "i": { "email": "x@trestle.test", "password": "guess" } }),
        &[("x-forwarded-for", "203.0.113.11")],
    )
    .await;
    assert_eq!(many.status(), 429);
}

#[tokio::test]
async fn a_forwarded_address_is_ignored_unless_trusted() {
    let app = spawn_app_with(&["--sign-in-max-failures", "3"]).await;
    for i in 0..3 {
        let address = format!("198.51.100.{i}");
        login_from(&app, "nobody@trestle.test", "guess", &address).await;
    }
    // Every attempt came from 127.0.0.1, whatever the header claimed.
    let locked = login_from(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "198.51.100.200").await;
    assert_eq!(locked.status(), 429);
}

#[tokio::test]
async fn successful_sign_ins_do_not_count_as_failures() {
    let app = spawn_app_with(&["--sign-in-max-failures", "2"]).await;
    for _ in 0..5 {
        let body = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert!(body["data"]["login"]["token"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn bad_credentials_spend_the_address_budget_and_then_get_429_without_a_statement() {
    let app = spawn_app_with(&["--rate-limit-per-minute", "30"]).await;
    let member = app.member("Member").await;
    // Wrong API tokens are refused with 401 and paid for by the address …
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let response = app
            .post(
                Some("trst_not-a-real-api-token"),
                "{ __typename }",
                json!({}),
                &[],
            )
            .await;
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses[0], 401, "{statuses:?}");
    // … until its budget is spent: then 429, before the token is looked up.
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429));

    let before = app.server.statements.get();
    for token in [
        "trst_another-wrong-api-token",
        "not.a.jwt",
        "eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
    ] {
        let response = app
            .post(Some(token), "{ __typename }", json!({}), &[])
            .await;
        assert_eq!(response.status(), 429, "{token}");
        assert!(header(&response, "retry-after") >= 1);
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "RATE_LIMITED", "{token}: {body}");
    }
    let anonymous = app.post(None, "{ __typename }", json!({}), &[]).await;
    assert_eq!(anonymous.status(), 429);
    assert_eq!(
        app.server.statements.get(),
        before,
        "a refused credential reached the database"
    );
    // A signed-in user from the same address spends their own budget.
    let signed_in = app
        .post(Some(&member.token), "{ __typename }", json!({}), &[])
        .await;
    assert_eq!(signed_in.status(), 200);
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = spawn_app().await;
    let member = app.member("Member").await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let authorization = format!("{scheme} {}", member.token);
        let response = app
            .post(
                None,
                "{ viewer { id } }",
                json!({}),
                &[("authorization", &authorization)],
            )
            .await;
        assert_eq!(response.status(), 200, "{scheme}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["data"]["viewer"]["id"], member.id.as_str(), "{scheme}");
    }
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn concurrent_failed_sign_ins_take_a_bounded_amount_of_memory_and_give_it_back() {
    use crate::helpers::{ServerProcess, TestDb};
    let db = TestDb::new().await;
    // No per-address limit, so every sign-in hashes; two hashes at a time.
    let server = ServerProcess::start(
        &db,
        &[
            ("TRESTLE_SIGN_IN_MAX_FAILURES", "0"),
            ("TRESTLE_MAX_CONCURRENT_HASHES", "2"),
            ("TRESTLE_RATE_LIMIT_PER_MINUTE", "0"),
        ],
        "",
    )
    .await;
    let client = reqwest::Client::new();
    let url = format!("http://{}/graphql", server.addr);
    // A hundred requests that hash nothing first, so that `before` holds
    // what serving a hundred at once takes.
    let warm_up = (0..100).map(|_| {
        client
            .post(&url)
            .json(&json!({ "query": "{ __typename }" }))
            .send()
    });
    for response in futures::future::join_all(warm_up).await {
        assert!(response.expect("the server answers").status().is_success());
    }
    let before = server.resident_kib();
    let attempts = (0..100).map(|n| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let response = client
                .post(url)
                .json(&json!({ "query": LOGIN, "variables": { "input": {
                    "email": format!("nobody-{n}@trestle.test"), "password": "guess-guess" } } }))
                .send()
                .await
                .expect("the server answers");
            let body: Value = response.json().await.unwrap();
            assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
        }
    });
    futures::future::join_all(attempts).await;
    let after = server.resident_kib();
    eprintln!(
        "resident memory: {before} KiB before, {after} KiB after 100 concurrent failed sign-ins"
    );
    // argon2 takes 19 MiB a hash, given back once it is done: two at a
    // time, and none kept afterwards by the threads that hashed.
    assert!(
        after.saturating_sub(before) < 16 * 1024,
        "{before} KiB before, {after} KiB after"
    );
}
