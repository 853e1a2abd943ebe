//! Planning benchmark: prints its figures.
//!
//! `cargo bench --bench planning` times the pure forecast (forward and
//! backward passes, critical path) on generated programs of 1,000 and
//! 10,000 workstreams with about five dependencies each, a fifth of the work
//! finished, a third under way, a tenth of the dependencies resolved and a
//! fifth promised, today in the middle of the plan. With `TRESTLE_BENCH_DATABASE_URL=postgres://…/postgres`
//! it also loads the 10,000-workstream program into a fresh PostgreSQL
//! database and times the `criticalPath` query end to end over HTTP.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::json;
use trestle_api::planning::{Edge, PlanGraph, Progress, Task, schedule::schedule};

mod support;

use support::{Lcg, Store, bench_program, dependency_row, generate, serve, workstream_row};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn pure(n: usize) {
    let (tasks, edges) = generate(n);
    let mut rng = Lcg(7);
    let today = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
    let days = |d: u64| chrono::Duration::days(d as i64);
    let graph = PlanGraph {
        tasks: tasks
            .iter()
            .map(|(id, start, target)| Task {
                id: *id,
                start: Some(*start),
                target: Some(*target),
                progress: match rng.next(10) {
                    0 | 1 => Progress::Done {
                        started: Some(*start + days(rng.next(5))),
                        finished: Some(*target + days(rng.next(9))),
                    },
                    2..=4 => Progress::Started(*start + days(rng.next(5))),
                    _ => Progress::NotStarted,
                },
                external: false,
            })
            .collect(),
        edges: edges
            .iter()
            .map(|&(upstream, downstream)| Edge {
                upstream,
                downstream,
                resolved: rng.next(10) == 0,
                committed: (rng.next(5) == 0).then(|| today + days(rng.next(90))),
            })
            .collect(),
        today,
    };
    let _ = schedule(&graph);
    let samples: Vec<Duration> = (0..25)
        .map(|_| {
            let started = Instant::now();
            let result = schedule(&graph);
            let elapsed = started.elapsed();
            assert!(result.finish_date.is_some());
            elapsed
        })
        .collect();
    let m = median(samples);
    println!(
        "pure forecast + critical path: {n:>6} workstreams, {:>6} dependencies: median {:>8.3} ms ({:.1} ns per edge)",
        edges.len(),
        m.as_secs_f64() * 1e3,
        m.as_nanos() as f64 / edges.len() as f64
    );
}

async fn end_to_end(n: usize) {
    let store = Store::create().await;
    let server = serve(&store.url(), &[]).await;
    let db = &server.domain.db;
    let (owner, program_id) = bench_program(db).await;
    let (tasks, edges) = generate(n);
    let loading = Instant::now();
    for chunk in tasks.chunks(2000) {
        entity::workstream::Entity::insert_many(
            chunk
                .iter()
                .map(|(id, start, target)| workstream_row(program_id, *id, *start, *target)),
        )
        .exec_without_returning(db)
        .await
        .unwrap();
    }
    for chunk in edges.chunks(4000) {
        entity::dependency::Entity::insert_many(
            chunk
                .iter()
                .map(|(up, down)| dependency_row(program_id, *up, *down)),
        )
        .exec_without_returning(db)
        .await
        .unwrap();
    }
    db.execute_unprepared("ANALYZE").await.unwrap();
    println!(
        "loaded {n} workstreams and {} dependencies into PostgreSQL in {:.1} s",
        edges.len(),
        loading.elapsed().as_secs_f64()
    );

    let (token, _) = server.domain.jwt.issue(owner).unwrap();
    let client = reqwest::Client::new();
    let endpoint = format!("http://{}/graphql", server.addr);
    let query = json!({
        "query": "query($id: ID!) { program(id: $id) { criticalPath { finishDate durationDays workstreams { id } } } }",
        "variables": { "id": program_id.to_string() }
    });
    let mut samples = Vec::new();
    let mut statements = 0;
    for round in 0..8 {
        let before = server.statements.get();
        let started = Instant::now();
        let body: serde_json::Value = client
            .post(&endpoint)
            .bearer_auth(&token)
            .json(&query)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let elapsed = started.elapsed();
        assert!(body["errors"].is_null(), "{body}");
        statements = server.statements.get() - before;
        if round > 0 {
            samples.push(elapsed);
        }
    }
    println!(
        "criticalPath query end to end on PostgreSQL: {n} workstreams, {} dependencies: median {:.1} ms, {statements} SQL statements",
        edges.len(),
        median(samples).as_secs_f64() * 1e3
    );
    server.shutdown().await.ok();
    store.remove().await;
}

fn main() {
    // `cargo test --benches` runs this with `--bench`-less args; keep it quick then.
    let quick = std::env::args().any(|a| a == "--test");
    pure(1_000);
    if quick {
        return;
    }
    pure(10_000);
    match std::env::var("TRESTLE_BENCH_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(end_to_end(10_000));
        }
        _ => println!(
            "set TRESTLE_BENCH_DATABASE_URL=postgres://…/postgres to time the end-to-end query"
        ),
    }
}
