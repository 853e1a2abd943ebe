//! The ceiling: a hand-written axum + sqlx server answering the two shapes
//! with flat SQL (one statement for S1, three for S2) and no GraphQL
//! execution, authorization or limits — what no general server can beat.

use std::net::SocketAddr;

use axum::{Json, Router, extract::State, routing::post};
use chrono::NaiveDate;
use serde_json::{Map, Value, json};
use sqlx::PgPool;
use uuid::Uuid;

type Program = (
    Uuid,
    String,
    String,
    String,
    String,
    Option<NaiveDate>,
    Option<NaiveDate>,
);
type WorkstreamRow = (
    Uuid,
    String,
    String,
    i32,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<Uuid>,
    Option<String>,
);
type DependencyRow = (Uuid, Uuid, String, Option<NaiveDate>, Uuid, String, String);

/// Serve on `addr` from the database at `url` until killed.
pub fn serve(url: &str, addr: SocketAddr) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(16)
            .connect(url)
            .await
            .expect("the ceiling connects to PostgreSQL");
        let app = Router::new()
            .route("/graphql", post(answer))
            .with_state(pool);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("the ceiling binds");
        axum::serve(listener, app)
            .await
            .expect("the ceiling serves");
    });
}

async fn answer(State(pool): State<PgPool>, Json(request): Json<Value>) -> Json<Value> {
    let key = request["variables"]["key"].as_str().unwrap_or_default();
    let dashboard = request["operationName"] == "Dashboard";
    match shape(&pool, key, dashboard).await {
        Ok(program) => Json(json!({ "data": { "program": program } })),
        Err(error) => Json(json!({ "errors": [{ "message": error.to_string() }] })),
    }
}

async fn shape(pool: &PgPool, key: &str, dashboard: bool) -> sqlx::Result<Value> {
    let program: Option<Program> = sqlx::query_as(
        "SELECT id, key, name, status, health, start_date, target_date FROM programs WHERE key = $1",
    )
    .bind(key)
    .fetch_optional(pool)
    .await?;
    let Some((id, key, name, status, health, start, target)) = program else {
        return Ok(Value::Null);
    };
    let mut program = json!({
        "id": id, "key": key, "name": name, "status": status, "health": health,
        "startDate": start, "targetDate": target,
    });
    if !dashboard {
        return Ok(program);
    }
    let workstreams: Vec<WorkstreamRow> = sqlx::query_as(
        "SELECT w.id, w.name, w.status, w.progress, w.start_date, w.target_date, t.id, t.name \
         FROM workstreams w LEFT JOIN teams t ON t.id = w.team_id \
         WHERE w.program_id = $1 ORDER BY w.created_at, w.id LIMIT 100",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let dependencies: Vec<DependencyRow> = sqlx::query_as(
        "SELECT d.downstream_id, d.id, d.status, d.needed_by, u.id, u.name, u.status \
         FROM dependencies d JOIN workstreams w ON w.id = d.downstream_id \
         JOIN workstreams u ON u.id = d.upstream_id \
         WHERE w.program_id = $1 ORDER BY d.created_at, d.id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let mut upstream: std::collections::HashMap<Uuid, Vec<Value>> = Default::default();
    for (downstream, id, status, needed_by, up, up_name, up_status) in dependencies {
        let nodes = upstream.entry(downstream).or_default();
        if nodes.len() < 20 {
            nodes.push(json!({
                "id": id, "status": status, "neededBy": needed_by,
                "upstream": { "id": up, "name": up_name, "status": up_status },
            }));
        }
    }
    let nodes: Vec<Value> = workstreams
        .into_iter()
        .map(
            |(id, name, status, progress, start, target, team, team_name)| {
                let team = team.map(|team| json!({ "id": team, "name": team_name }));
                let waits = upstream.remove(&id).unwrap_or_default();
                json!({
                    "id": id, "name": name, "status": status, "progress": progress,
                    "startDate": start, "targetDate": target, "team": team,
                    "upstream": { "nodes": waits },
                })
            },
        )
        .collect();
    let total = nodes.len();
    let fields: &mut Map<String, Value> = program.as_object_mut().expect("an object");
    fields.insert(
        "workstreams".into(),
        json!({ "totalCount": total, "nodes": nodes }),
    );
    Ok(program)
}
