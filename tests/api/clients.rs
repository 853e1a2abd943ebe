//! What GraphQL clients rely on: the playground served from this origin,
//! persisted queries (Apollo's automatic ones and trusted documents),
//! Relay's `node`, compression, CORS for tracing headers, and refusals in
//! the media type the client accepted.

use serde_json::{Value, json};

use crate::fixtures::{
    decision, dependency, fewest_statements, milestone, program, risk, workstream,
};
use crate::helpers::{
    TestApp, TestDb, error_code, persisted, sha256, spawn_app, spawn_app_on, spawn_app_with,
};

/// A POST of `body` (a whole GraphQL request) with `token`.
async fn post(app: &TestApp, token: &str, body: Value) -> Value {
    app.client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn page(app: &TestApp) -> reqwest::Response {
    app.client
        .get(format!("{}/graphql", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_playground_loads_only_from_this_server() {
    let app = spawn_app().await;
    let response = page(&app).await;
    assert_eq!(response.status(), 200);
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("default-src 'self'"), "{policy}");
    assert!(policy.contains("script-src 'self';"), "{policy}");
    let html = response.text().await.unwrap();
    // No other host: every reference is a path on this server.
    for needle in ["http://", "https://", "//cdn", "src=\"//", "href=\"//"] {
        assert!(
            !html.contains(needle),
            "the page references {needle}: {html}"
        );
    }
    assert!(!html.contains("<script>"), "no inline script: {html}");
    let assets: Vec<&str> = html
        .split(['"', '\''])
        .filter(|part| part.starts_with("/graphiql/"))
        .collect();
    assert!(
        assets.iter().any(|a| a.ends_with(".js")) && assets.iter().any(|a| a.ends_with(".css")),
        "{assets:?}"
    );
    for asset in &assets {
        let response = app
            .client
            .get(format!("{}{asset}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        let media = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let expected = if asset.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(media.starts_with(expected), "{asset}: {media}");
        assert!(
            response.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        let body = response.text().await.unwrap();
        assert!(
            !body.contains("https://unpkg.com"),
            "{asset} loads from a CDN"
        );
    }
    // The page's own script speaks to /graphql and /graphql/ws with the Headers tab.
    let script = assets
        .iter()
        .find(|a| a.contains("trestle"))
        .expect("the page's own script");
    let script = app
        .client
        .get(format!("{}{script}", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        script.contains("/graphql/ws"),
        "subscriptions over /graphql/ws"
    );
    assert!(
        script.contains("connectionParams"),
        "headers sent in connection_init"
    );
    // Compressed when asked, once: the same bytes again, and they are the file.
    let largest = assets
        .iter()
        .find(|a| a.contains("graphiql-") && a.ends_with(".js"))
        .expect("GraphiQL");
    let fetch = |encoding: &'static str| {
        app.client
            .get(format!("{}{largest}", app.address))
            .header("accept-encoding", encoding)
            .send()
    };
    let raw = fetch("identity").await.unwrap().bytes().await.unwrap();
    let brotli = fetch("br").await.unwrap();
    assert_eq!(brotli.headers()["content-encoding"], "br");
    let brotli = brotli.bytes().await.unwrap();
    assert!(
        brotli.len() < raw.len() / 2,
        "{} of {}",
        brotli.len(),
        raw.len()
    );
    assert_eq!(fetch("br").await.unwrap().bytes().await.unwrap(), brotli);
    let gzip = fetch("gzip").await.unwrap();
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    let mut unpacked = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&gzip.bytes().await.unwrap()[..]),
        &mut unpacked,
    )
    .unwrap();
    assert_eq!(unpacked, raw);
    let missing = app
        .client
        .get(format!("{}/graphiql/nothing.js", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn production_serves_no_playground_and_says_why_introspection_is_refused() {
    let app = spawn_app_with(&[
        "--env",
        "production",
        "--bootstrap-admin-email",
        crate::helpers::ADMIN_EMAIL,
        "--bootstrap-admin-password",
        crate::helpers::ADMIN_PASSWORD,
    ])
    .await;
    assert_ne!(page(&app).await.status(), 200);
    let script = app
        .client
        .get(format!("{}/graphiql/trestle-graphiql.js", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 404);
    let admin = app.admin().await;
    for document in [
        "{ __schema { types { name } } }",
        "{ __type(name: \"Program\") { name } }",
        "query { viewer { id } ...F } fragment F on Query { __schema { queryType { name } } }",
    ] {
        let body = app.as_user(&admin, document, json!({})).await;
        assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("TRESTLE_INTROSPECTION"), "{message}");
        assert!(body.get("data").is_none(), "nothing ran: {body}");
    }
    // `__typename` is not introspection.
    let body = app
        .as_user(&admin, "{ __typename viewer { id } }", json!({}))
        .await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
}

#[tokio::test]
async fn the_root_path_says_where_to_go() {
    let app = spawn_app().await;
    let text = app
        .client
        .get(format!("{}/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 200);
    assert!(text.text().await.unwrap().contains("POST /graphql"));
    let html = app
        .client
        .get(format!("{}/", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("href=\"/graphql\""), "{html}");
}

#[tokio::test]
async fn automatic_persisted_queries_fall_back_once_then_go_by_hash() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let document = "query Me { viewer { id email } }";
    let hash = sha256(document);

    let unknown = post(
        &app,
        &admin.token,
        json!({ "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(
        error_code(&unknown),
        "PERSISTED_QUERY_NOT_FOUND",
        "{unknown}"
    );
    assert!(unknown.get("data").is_none());

    let registered = post(
        &app,
        &admin.token,
        json!({ "query": document, "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(
        registered["data"]["viewer"]["id"],
        admin.id.as_str(),
        "{registered}"
    );

    let by_hash = post(
        &app,
        &admin.token,
        json!({ "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(
        by_hash["data"]["viewer"]["id"],
        admin.id.as_str(),
        "{by_hash}"
    );

    // GET, as Apollo's link sends hashed queries with useGETForHashedQueries.
    let by_get: Value = app
        .client
        .get(format!("{}/graphql", app.address))
        .bearer_auth(&admin.token)
        .query(&[("extensions", persisted(&hash).to_string())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        by_get["data"]["viewer"]["id"],
        admin.id.as_str(),
        "{by_get}"
    );

    // A hash that is not the document's is refused, and nothing is kept under it.
    let other = "{ viewer { name } }";
    let forged = post(
        &app,
        &admin.token,
        json!({ "query": other, "extensions": persisted(&sha256("{ teams { totalCount } }")) }),
    )
    .await;
    assert_eq!(error_code(&forged), "BAD_USER_INPUT", "{forged}");
    let still_unknown = post(
        &app,
        &admin.token,
        json!({ "extensions": persisted(&sha256("{ teams { totalCount } }")) }),
    )
    .await;
    assert_eq!(error_code(&still_unknown), "PERSISTED_QUERY_NOT_FOUND");

    // A document that does not parse is not kept either.
    let broken = "{ viewer { ";
    let refused = post(
        &app,
        &admin.token,
        json!({ "query": broken, "extensions": persisted(&sha256(broken)) }),
    )
    .await;
    assert_eq!(error_code(&refused), "GRAPHQL_PARSE_FAILED");
    let never_kept = post(
        &app,
        &admin.token,
        json!({ "extensions": persisted(&sha256(broken)) }),
    )
    .await;
    assert_eq!(error_code(&never_kept), "PERSISTED_QUERY_NOT_FOUND");

    let malformed = post(
        &app,
        &admin.token,
        json!({ "extensions": { "persistedQuery": { "version": 2, "sha256Hash": hash } } }),
    )
    .await;
    assert_eq!(error_code(&malformed), "BAD_USER_INPUT", "{malformed}");
}

#[tokio::test]
async fn without_a_cache_hashes_are_not_supported_and_documents_still_run() {
    let app = spawn_app_with(&["--persisted-query-cache-bytes", "0"]).await;
    let admin = app.admin().await;
    let document = "{ viewer { id } }";
    let body = post(
        &app,
        &admin.token,
        json!({ "query": document, "extensions": persisted(&sha256(document)) }),
    )
    .await;
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_SUPPORTED", "{body}");
    let plain = app.as_user(&admin, document, json!({})).await;
    assert_eq!(plain["data"]["viewer"]["id"], admin.id.as_str());
}

#[tokio::test]
async fn a_server_that_requires_trusted_documents_runs_those_only() {
    let trusted = "query Me { viewer { id } }";
    let dir = std::env::temp_dir().join(format!("trestle-trusted-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("documents.json");
    std::fs::write(&file, json!({ sha256(trusted): trusted }).to_string()).unwrap();
    let app = spawn_app_on(
        TestDb::new().await,
        &[
            "--trusted-documents",
            file.to_str().unwrap(),
            "--require-trusted-documents",
        ],
    )
    .await;
    // Signing in is a document too: mint the admin's token directly.
    let admin_id = {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        entity::user::Entity::find()
            .filter(entity::user::Column::Email.eq(crate::helpers::ADMIN_EMAIL))
            .one(&app.server.domain.db)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let (token, _) = app.server.domain.jwt.issue(admin_id).unwrap();

    let by_hash = post(
        &app,
        &token,
        json!({ "extensions": persisted(&sha256(trusted)) }),
    )
    .await;
    assert_eq!(
        by_hash["data"]["viewer"]["id"],
        admin_id.to_string(),
        "{by_hash}"
    );
    let by_text = post(&app, &token, json!({ "query": trusted })).await;
    assert_eq!(
        by_text["data"]["viewer"]["id"],
        admin_id.to_string(),
        "{by_text}"
    );

    let other = "{ viewer { id email } }";
    let refused = post(&app, &token, json!({ "query": other })).await;
    assert_eq!(
        error_code(&refused),
        "PERSISTED_QUERY_NOT_IN_LIST",
        "{refused}"
    );
    // Registering a new one is refused too.
    let register = post(
        &app,
        &token,
        json!({ "query": other, "extensions": persisted(&sha256(other)) }),
    )
    .await;
    assert_eq!(
        error_code(&register),
        "PERSISTED_QUERY_NOT_IN_LIST",
        "{register}"
    );
    let unknown = post(
        &app,
        &token,
        json!({ "extensions": persisted(&sha256(other)) }),
    )
    .await;
    assert_eq!(
        error_code(&unknown),
        "PERSISTED_QUERY_NOT_FOUND",
        "{unknown}"
    );

    // A file whose hashes are not its documents' stops the server from starting.
    std::fs::write(&file, json!({ sha256("{ a }"): trusted }).to_string()).unwrap();
    let db = TestDb::new().await;
    let config =
        crate::helpers::serve_config(&db, &["--trusted-documents", file.to_str().unwrap()])
            .unwrap();
    let error = trestle_api::app::start(config, std::future::pending())
        .await
        .err()
        .expect("a bad trusted documents file is refused");
    assert!(error.to_string().contains("SHA-256"), "{error}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn answers_are_compressed_when_the_client_asks() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let introspection = "{ __schema { types { name fields { name } } } }";
    for (accept, encoding) in [("gzip", "gzip"), ("br", "br"), ("gzip, deflate, br", "br")] {
        let response = app
            .post(
                Some(&admin.token),
                introspection,
                json!({}),
                &[("accept-encoding", accept)],
            )
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-encoding"], encoding, "{accept}");
    }
    let plain = app
        .post(Some(&admin.token), introspection, json!({}), &[])
        .await;
    assert!(plain.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn browsers_may_send_tracing_and_client_headers() {
    let origin = "https://app.example.com";
    let preflight = |app: &TestApp, headers: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.address))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", headers)
            .send()
    };
    let app = spawn_app_with(&["--cors-origins", origin]).await;
    let asked = "authorization,content-type,traceparent,baggage,sentry-trace,x-request-id,apollographql-client-name,apollographql-client-version";
    let response = preflight(&app, asked).await.unwrap();
    assert!(response.status().is_success());
    let allowed = response.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in asked.split(',') {
        assert!(allowed.contains(header), "{header} not in {allowed}");
    }
    // The list is configurable.
    let custom =
        spawn_app_with(&["--cors-origins", origin, "--cors-allow-headers", "x-tenant"]).await;
    let response = preflight(&custom, "x-tenant").await.unwrap();
    let allowed = response.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed.contains("x-tenant") && !allowed.contains("traceparent"),
        "{allowed}"
    );
    // A name that is not a header name stops the server from starting.
    let db = TestDb::new().await;
    let config =
        crate::helpers::serve_config(&db, &["--cors-allow-headers", "bad header"]).unwrap();
    let error = trestle_api::app::start(config, std::future::pending())
        .await
        .err()
        .expect("refused");
    assert!(
        error.to_string().contains("TRESTLE_CORS_ALLOW_HEADERS"),
        "{error}"
    );
}

#[tokio::test]
async fn refusals_come_in_the_media_type_the_client_accepted() {
    let app = spawn_app_with(&["--rate-limit-per-minute", "60"]).await;
    let graphql_json = "application/graphql-response+json";
    let bad_token = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth("not-a-token")
        .header("accept", graphql_json)
        .json(&json!({ "query": "{ viewer { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_token.status(), 401);
    assert_eq!(bad_token.headers()["content-type"], graphql_json);
    let admin = app.admin().await;
    let mut limited = None;
    for _ in 0..100 {
        let response = app
            .post(
                Some(&admin.token),
                "{ viewer { id name email role locale } }",
                json!({}),
                &[("accept", graphql_json)],
            )
            .await;
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
    }
    let limited = limited.expect("the budget runs out");
    assert_eq!(limited.headers()["content-type"], graphql_json);
    let body: Value = limited.json().await.unwrap();
    assert_eq!(error_code(&body), "RATE_LIMITED");
}

#[tokio::test]
async fn node_refetches_every_kind_and_hides_what_the_viewer_cannot_see() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    let outsider = app.member("Outsider").await;
    let program_id = program(&app, &tpm, "NODE", json!({ "name": "Node" })).await;
    let a = workstream(&app, &tpm, &program_id, "A", json!({})).await;
    let b = workstream(&app, &tpm, &program_id, "B", json!({})).await;
    let dependency_id = dependency(&app, &tpm, &a, &b, json!({})).await;
    let milestone_id = milestone(&app, &tpm, &a, "M", json!({})).await;
    let risk_id = risk(&app, &tpm, &program_id, "R", json!({})).await;
    let decision_id = decision(&app, &tpm, &program_id, "D", json!({})).await;
    let expected = [
        (program_id.as_str(), "Program"),
        (a.as_str(), "Workstream"),
        (dependency_id.as_str(), "Dependency"),
        (milestone_id.as_str(), "Milestone"),
        (risk_id.as_str(), "Risk"),
        (decision_id.as_str(), "Decision"),
        (tpm.id.as_str(), "User"),
    ];
    let ids: Vec<&str> = expected.iter().map(|(id, _)| *id).collect();
    let query = "query($ids: [ID!]!, $one: ID!) { node(id: $one) { id ... on Program { name } } nodes(ids: $ids) { __typename id } }";
    let body = app
        .as_user(&tpm, query, json!({ "ids": ids, "one": program_id }))
        .await;
    assert_eq!(body["data"]["node"]["name"], "Node", "{body}");
    for (at, (id, kind)) in expected.iter().enumerate() {
        assert_eq!(body["data"]["nodes"][at]["id"], *id, "{body}");
        assert_eq!(body["data"]["nodes"][at]["__typename"], *kind, "{body}");
    }
    // Hidden is the same as missing: null, no error.
    let missing = uuid::Uuid::now_v7().to_string();
    let mut hidden_ids = ids.clone();
    hidden_ids.retain(|id| *id != tpm.id);
    hidden_ids.push(&missing);
    let hidden = app
        .as_user(
            &outsider,
            query,
            json!({ "ids": hidden_ids, "one": program_id }),
        )
        .await;
    assert!(hidden["errors"].is_null(), "{hidden}");
    assert!(hidden["data"]["node"].is_null(), "{hidden}");
    assert!(
        hidden["data"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(Value::is_null),
        "{hidden}"
    );
    // Repeated ids answer at each place; a bad id names its position.
    let repeated = app
        .as_user(&tpm, query, json!({ "ids": [a, a], "one": a }))
        .await;
    assert_eq!(repeated["data"]["nodes"][1]["id"], a.as_str(), "{repeated}");
    let bad = app
        .as_user(&tpm, query, json!({ "ids": [a, "nope"], "one": a }))
        .await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT");
    assert_eq!(bad["errors"][0]["extensions"]["field"], "ids.1", "{bad}");
    let too_many: Vec<String> = (0..101).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let over = app
        .as_user(&tpm, query, json!({ "ids": too_many, "one": a }))
        .await;
    assert_eq!(error_code(&over), "BAD_USER_INPUT", "{over}");
    let anonymous = app
        .graphql(None, query, json!({ "ids": [a], "one": a }))
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
}

#[tokio::test]
async fn nodes_cost_the_same_statements_for_three_ids_and_for_thirty() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    let program_id = program(&app, &tpm, "NODES", json!({ "name": "Nodes" })).await;
    let mut ids = vec![program_id.clone()];
    for n in 0..30 {
        let id = workstream(&app, &tpm, &program_id, &format!("W{n}"), json!({})).await;
        ids.push(id.clone());
        ids.push(risk(&app, &tpm, &program_id, &format!("R{n}"), json!({})).await);
        let _ = id;
    }
    let query = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Workstream { name program { name } } ... on Risk { title } } }";
    let (few, body) = fewest_statements(&app, &tpm, query, json!({ "ids": ids[..3] })).await;
    assert_eq!(body["data"]["nodes"][2]["title"], "R0", "{body}");
    let (many, body) = fewest_statements(&app, &tpm, query, json!({ "ids": ids[..61] })).await;
    assert_eq!(body["data"]["nodes"].as_array().unwrap().len(), 61);
    assert!(many <= few + 1, "{few} statements for 3 ids, {many} for 61");
}
