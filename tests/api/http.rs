//! HTTP discipline: media types, methods, sizes, hostile documents, probes.

use serde_json::{Value, json};

use crate::fixtures::program;
use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn non_json_posts_are_refused_and_write_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let users_before = app.count_rows("programs").await;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .bearer_auth(&admin.token)
            .header("content-type", content_type)
            .body(r#"{"query":"mutation { createProgram(input: {key: \"CSRF\", name: \"x\"}) { program { id } } }"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415, "{content_type}");
    }
    assert_eq!(app.count_rows("programs").await, users_before);
}

#[tokio::test]
async fn get_runs_queries_but_never_mutations() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let response = app
        .client
        .get(format!("{}/graphql", app.address))
        .bearer_auth(&admin.token)
        .query(&[("query", "{ viewer { email } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["viewer"]["email"], crate::helpers::ADMIN_EMAIL);

    let response = app
        .client
        .get(format!("{}/graphql", app.address))
        .bearer_auth(&admin.token)
        .query(&[(
            "query",
            "mutation { createProgram(input: {key: \"GET\", name: \"x\"}) { program { id } } }",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    assert_eq!(app.count_rows("programs").await, 0);
}

#[tokio::test]
async fn browsers_get_graphiql() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/graphql", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("graphiql"));
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let app = spawn_app().await;
    let padding = "x".repeat(2 * 1024 * 1024);
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": "{ viewer { id } }", "variables": { "pad": padding } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn deeply_nested_documents_are_refused_and_the_server_survives() {
    let app = spawn_app().await;
    for document in [
        format!(
            "{{ programs(filter: {{ search: {}\"x\"{} }}) {{ totalCount }} }}",
            "[".repeat(20_000),
            "]".repeat(20_000)
        ),
        format!("query {}", "{ a ".repeat(20_000)),
        format!(
            "{{ programs(filter: {}) {{ totalCount }} }}",
            "{a: ".repeat(5_000)
        ),
    ] {
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .json(&json!({ "query": document }))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{}", response.status());
        let body: Value = response.json().await.unwrap();
        assert!(!error_code(&body).is_empty(), "{body}");
    }
    let alive = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(alive.status(), 200);
}

#[tokio::test]
async fn malformed_requests_get_clear_errors() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT");

    let body = app.graphql(None, "{ viewer { id ", json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_PARSE_FAILED");
    // Syntax errors point at the position; they do not echo the document back.
    assert!(!body.to_string().contains("viewer"), "{body}");

    let admin = app.admin().await;
    let body = app
        .as_user(&admin, "{ viewer { nonsense } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");

    let body = app
        .as_user(
            &admin,
            "query($n: Int) { programs(first: $n) { totalCount } }",
            json!({ "n": "ten" }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn graphql_response_media_type_uses_http_status_for_request_errors() {
    let app = spawn_app().await;
    // A document that does not parse, one that does not validate, and one
    // over a limit: nothing ran, so the body has errors and no `data`.
    for (query, code) in [
        ("{ viewer { id ", "GRAPHQL_PARSE_FAILED"),
        ("{ noSuchField }", "GRAPHQL_VALIDATION_FAILED"),
        (
            "{ a: __typename b: __typename c: __typename d: __typename e: __typename f: __typename g: __typename h: __typename i: __typename j: __typename k: __typename l: __typename m: __typename n: __typename o: __typename p: __typename q: __typename r: __typename s: __typename t: __typename u: __typename v: __typename w: __typename x: __typename y: __typename z: __typename aa: __typename ab: __typename ac: __typename ad: __typename ae: __typename }",
            "QUERY_TOO_COMPLEX",
        ),
    ] {
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
        assert_eq!(
            response.headers()["content-type"],
            "application/graphql-response+json"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), code, "{body}");
        assert!(body.get("data").is_none(), "{body}");
    }
}

#[tokio::test]
async fn probes_and_request_ids() {
    let app = spawn_app().await;
    let health = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn a_client_request_id_is_kept_only_when_it_is_safe_to_log() {
    let app = spawn_app().await;
    let echoed = |id: String| {
        let app = &app;
        async move {
            let response = app
                .client
                .post(format!("{}/graphql", app.address))
                .header("x-request-id", id)
                .json(&json!({ "query": "{ __typename }" }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };
    assert_eq!(echoed("client-7f3a.42".into()).await, "client-7f3a.42");
    // Spaces and quotes could forge log fields; a huge id floods the log.
    for forged in [
        "x principal=admin status=200 \"graphql request\"".to_owned(),
        "a".repeat(5000),
    ] {
        let replaced = echoed(forged.clone()).await;
        assert_ne!(replaced, forged);
        assert!(
            uuid::Uuid::parse_str(&replaced).is_ok(),
            "not a generated id: {replaced}"
        );
    }
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let app = crate::helpers::spawn_app_with(&["--cors-origins", "https://app.example.com"]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.address))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,authorization",
            )
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(
        !refused
            .headers()
            .contains_key("access-control-allow-origin")
    );
}

#[tokio::test]
async fn production_hides_graphiql_and_introspection() {
    let app = crate::helpers::spawn_app_with(&[
        "--env",
        "production",
        "--bootstrap-admin-email",
        crate::helpers::ADMIN_EMAIL,
        "--bootstrap-admin-password",
        crate::helpers::ADMIN_PASSWORD,
    ])
    .await;
    let response = app
        .client
        .get(format!("{}/graphql", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_ne!(response.status(), 200);
    let body = app
        .graphql(None, "{ __schema { types { name } } }", json!({}))
        .await;
    assert!(body["data"]["__schema"].is_null(), "{body}");
    // Development serves the schema to explore.
    let dev = spawn_app().await;
    let body = dev
        .graphql(None, "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn internal_failures_reach_the_client_as_a_code_and_a_request_id_only() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    let program = program(&app, &tpm, "BROKEN", json!({ "name": "Broken" })).await;
    // Break the database under the server: the risks table disappears.
    app.server
        .domain
        .db
        .execute_unprepared(
            if app.server.domain.db.get_database_backend() == sea_orm::DbBackend::Postgres {
                "DROP TABLE risks CASCADE"
            } else {
                "DROP TABLE risks"
            },
        )
        .await
        .expect("drop a table");
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&tpm.token)
        .json(&json!({ "query": "query($id: ID!) { program(id: $id) { name risks { totalCount } } }", "variables": { "id": program } }))
        .send()
        .await
        .unwrap();
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "INTERNAL_SERVER_ERROR", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["requestId"],
        request_id.as_str()
    );
    let error = &body["errors"][0];
    let text = format!("{} {}", error["message"], error["extensions"]).to_lowercase();
    for leak in [
        "risks",
        "select",
        "sqlite",
        "postgres",
        "no such table",
        "relation",
        "/src/",
        ".rs",
    ] {
        assert!(!text.contains(leak), "the response leaks {leak:?}: {body}");
    }
    // The rest of the request still answers.
    assert_eq!(body["data"]["program"]["name"], "Broken");
}

#[tokio::test]
async fn oversized_request_headers_are_refused_with_431() {
    let app = crate::helpers::spawn_app_with(&["--max-header-bytes", "16384"]).await;
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("x-padding", "p".repeat(32 * 1024))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 431);
    let fine = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("x-padding", "p".repeat(4 * 1024))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status(), 200);
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = crate::helpers::spawn_app_with(&["--header-read-timeout-secs", "1"]).await;
    let mut socket = tokio::net::TcpStream::connect(app.server.addr)
        .await
        .unwrap();
    socket
        .write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
        .await
        .unwrap();
    // Never finish the headers: the server must close the connection by itself.
    let started = std::time::Instant::now();
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        socket.read_to_end(&mut buffer),
    )
    .await;
    assert!(read.is_ok(), "the connection was still open after 5 s");
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    // Others are still served.
    let alive = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(alive.status(), 200);
}
