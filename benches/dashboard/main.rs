//! The dashboard benchmark: Trestle against PostGraphile v4 and v5 and a
//! hand-written ceiling, side by side on one PostgreSQL database seeded
//! through Trestle's API, shapes and servers interleaved round by round.
//!
//! ```text
//! cargo bench --bench dashboard [-- --rounds 3 --seconds 5 --workstreams 50 --only trestle,ceiling
//!                                    --shapes S2 --connections 16]
//! ```
//!
//! PostgreSQL comes from `TRESTLE_BENCH_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432`); a fresh database is made and
//! dropped. PostGraphile runs from `benches/postgraphile/` (its packages,
//! pinned in `package-lock.json`, installed on first use); without npm it
//! is left out. Runs while other processes used more than 5 % of the
//! machine are discarded and run again later. Throughput is printed, never
//! asserted: the statement counts are held by `cargo test`.
//! `TRESTLE_BENCH_COMPARE=/path/to/trestle` adds another build of Trestle
//! as "Trestle compared", to measure a change side by side.

mod ceiling;
mod load;
mod machine;
mod servers;
#[path = "../support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use serde_json::json;

use load::Shot;
use servers::Server;

/// Set in the environment of this binary started as the ceiling server.
pub const CEILING_DATABASE: &str = "TRESTLE_BENCH_CEILING_DATABASE";
pub const CEILING_LISTEN: &str = "TRESTLE_BENCH_CEILING_LISTEN";

const SHAPES: [&str; 2] = ["S1", "S2"];
const CONNECTIONS: [usize; 2] = [1, 16];
/// Runs during which other processes used more of the machine are discarded.
const MAX_OTHERS: f64 = 0.05;

struct Options {
    rounds: usize,
    seconds: u64,
    workstreams: usize,
    only: Option<Vec<String>>,
    /// Shapes and connection counts measured (all by default).
    shapes: Vec<&'static str>,
    connections: Vec<usize>,
}

fn options() -> Options {
    let mut options = Options {
        rounds: 3,
        seconds: 5,
        workstreams: 50,
        only: None,
        shapes: SHAPES.to_vec(),
        connections: CONNECTIONS.to_vec(),
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--rounds" => options.rounds = value.parse().expect("--rounds N"),
            "--seconds" => options.seconds = value.parse().expect("--seconds N"),
            "--workstreams" => options.workstreams = value.parse().expect("--workstreams N"),
            "--shapes" => {
                options.shapes = SHAPES
                    .into_iter()
                    .filter(|shape| value.split(',').any(|v| v.eq_ignore_ascii_case(shape)))
                    .collect();
            }
            "--connections" => {
                options.connections = value
                    .split(',')
                    .map(|c| c.parse().expect("--connections 1,16"))
                    .collect();
            }
            "--only" => {
                options.only = Some(value.split(',').map(str::to_lowercase).collect());
            }
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    options
}

/// One measured run of a server on a shape at a number of connections.
struct Run {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    statements: Option<f64>,
    cpu_ms: f64,
    database_ms: f64,
    resident_mib: f64,
}

type Cell = (String, &'static str, usize);

fn main() {
    if let (Ok(database), Ok(listen)) = (
        std::env::var(CEILING_DATABASE),
        std::env::var(CEILING_LISTEN),
    ) {
        ceiling::serve(&database, listen.parse().expect("an address"));
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(bench(options()));
}

async fn bench(options: Options) {
    let postgres = std::env::var("TRESTLE_BENCH_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let store = support::Store::postgres(format!("{postgres}/postgres")).await;
    measure(&options, &store.url()).await;
    store.remove().await;
}

async fn measure(options: &Options, database: &str) {
    let wanted = |name: &str| {
        options.only.as_ref().is_none_or(|only| {
            only.iter()
                .any(|o| name.to_lowercase().replace(' ', "").contains(o))
        })
    };
    let mut servers: Vec<Server> = Vec::new();
    let trestle = servers::trestle("Trestle", None, database, &[]).await;
    let member = servers::seed(&trestle, "DASH", options.workstreams).await;
    let mut trestle = trestle;
    trestle.authorization = Some(member.clone());
    if wanted("trestle") {
        servers.push(trestle);
    }
    // The same build with a rate budget that never runs out: on PostgreSQL
    // every request reserves and settles its cost in `rate_budgets`.
    if wanted("trestlesharedbudget") {
        let budget = [("TRESTLE_RATE_LIMIT_PER_MINUTE", "1000000000000")];
        let mut shared = servers::trestle("Trestle shared budget", None, database, &budget).await;
        shared.authorization = Some(member.clone());
        servers.push(shared);
    }
    // Another build of Trestle side by side (a lever measured against the
    // build without it), signed in with the same token.
    if let Ok(binary) = std::env::var("TRESTLE_BENCH_COMPARE") {
        let mut other = servers::trestle("Trestle compared", Some(&binary), database, &[]).await;
        other.authorization = Some(member);
        servers.push(other);
    }
    if wanted("ceiling") {
        servers.push(servers::ceiling(database).await);
    }
    for version in ["v4", "v5"] {
        if wanted(&format!("postgraphile{version}"))
            && let Some(server) = servers::postgraphile(version, database).await
        {
            servers.push(server);
        }
    }

    let client = reqwest::Client::new();
    let mut shots = BTreeMap::new();
    for server in &servers {
        for (index, shape) in SHAPES.iter().enumerate() {
            let operation = if index == 0 {
                "ProgramByKey"
            } else {
                "Dashboard"
            };
            let body = json!({
                "query": server.documents[index],
                "operationName": operation,
                "variables": { "key": "DASH" },
            });
            let shot = Shot {
                addr: server.addr,
                path: server.path.clone(),
                authorization: server.authorization.clone(),
                body: Bytes::from(body.to_string()),
            };
            let (status, answer) = load::once(&shot).await;
            let text = String::from_utf8_lossy(&answer);
            assert!(
                status == 200 && !text.contains("\"errors\"") && text.contains("DASH"),
                "{} answers {shape} with {status}: {text:.400}",
                server.name
            );
            println!("{:<16} {shape}: {} bytes", server.name, answer.len());
            shots.insert((server.name.clone(), *shape), shot);
        }
    }

    let mut runs: BTreeMap<Cell, Vec<Run>> = BTreeMap::new();
    let mut discarded = 0;
    for round in 0..options.rounds {
        for &shape in &options.shapes {
            for &connections in &options.connections {
                // Rotate who goes first, so no server always follows the same one.
                for offset in 0..servers.len() {
                    let server = &servers[(offset + round) % servers.len()];
                    let shot = &shots[&(server.name.clone(), shape)];
                    let mut attempts = 0;
                    loop {
                        attempts += 1;
                        machine::wait_idle(MAX_OTHERS, Duration::from_secs(60)).await;
                        // What the server runs by itself (outbox polls), per second.
                        let idle_from = server.statements(&client).await;
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        let statements_before = server.statements(&client).await;
                        let background = idle_from.zip(statements_before).map(|(a, b)| b - a);
                        let before = machine::Sample::take(server.pid());
                        let measured = load::run(
                            shot,
                            connections,
                            Duration::from_secs(1),
                            Duration::from_secs(options.seconds),
                        )
                        .await;
                        let after = machine::Sample::take(server.pid());
                        let resident_mib = machine::resident_mib(server.pid());
                        let statements_after = server.statements(&client).await;
                        let used = machine::used(before, after);
                        assert_eq!(measured.failures, 0, "{} failed requests", server.name);
                        if used.others > MAX_OTHERS && attempts < 4 {
                            discarded += 1;
                            continue;
                        }
                        // Every answered request is in the CPU and statement counters,
                        // the warm-up's and those that straddled the window too.
                        let counted = measured.completed.max(1) as f64;
                        let run = Run {
                            per_second: measured.per_second(),
                            p50: measured.quantile(0.5),
                            p99: measured.quantile(0.99),
                            statements: statements_before
                                .zip(statements_after)
                                .zip(background)
                                .map(|((b, a), idle)| {
                                    let length = 1.0 + options.seconds as f64;
                                    (a - b - idle * length).max(0.0) / counted
                                }),
                            cpu_ms: used.server * 1000.0 / counted,
                            database_ms: used.database * 1000.0 / counted,
                            resident_mib,
                        };
                        eprintln!(
                            "round {} {shape} c{connections:<2} {:<16} {:>8.0} req/s  p99 {:>6.1} ms  others {:>4.1} %",
                            round + 1,
                            server.name,
                            run.per_second,
                            run.p99.as_secs_f64() * 1000.0,
                            used.others * 100.0
                        );
                        runs.entry((server.name.clone(), shape, connections))
                            .or_default()
                            .push(run);
                        break;
                    }
                }
            }
        }
    }
    report(&servers, &runs, options, discarded);
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

struct Summary {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    statements: Option<f64>,
    cpu_ms: f64,
    database_ms: f64,
    resident_mib: f64,
}

fn summarise(runs: &[Run]) -> Summary {
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    Summary {
        per_second: median(runs.iter().map(|r| r.per_second).collect()),
        p50_ms: median(runs.iter().map(|r| ms(&r.p50)).collect()),
        p99_ms: median(runs.iter().map(|r| ms(&r.p99)).collect()),
        statements: runs
            .iter()
            .map(|r| r.statements)
            .collect::<Option<Vec<_>>>()
            .map(median),
        cpu_ms: median(runs.iter().map(|r| r.cpu_ms).collect()),
        database_ms: median(runs.iter().map(|r| r.database_ms).collect()),
        resident_mib: runs.iter().map(|r| r.resident_mib).fold(0.0, f64::max),
    }
}

fn report(
    servers: &[Server],
    runs: &BTreeMap<Cell, Vec<Run>>,
    options: &Options,
    discarded: usize,
) {
    println!(
        "\n{} rounds of {} s per cell, {} workstreams; {} runs discarded for other load\n",
        options.rounds, options.seconds, options.workstreams, discarded
    );
    println!(
        "| shape | conns | server | req/s | p50 ms | p99 ms | SQL/req | server CPU ms/req | PostgreSQL CPU ms/req | RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut summaries = BTreeMap::new();
    for shape in SHAPES {
        for connections in CONNECTIONS {
            for server in servers {
                let Some(cell) = runs.get(&(server.name.clone(), shape, connections)) else {
                    continue;
                };
                let s = summarise(cell);
                println!(
                    "| {shape} | {connections} | {} | {:.0} | {:.2} | {:.2} | {} | {:.2} | {:.2} | {:.0} |",
                    server.name,
                    s.per_second,
                    s.p50_ms,
                    s.p99_ms,
                    s.statements.map_or("–".into(), |n| format!("{n:.1}")),
                    s.cpu_ms,
                    s.database_ms,
                    s.resident_mib
                );
                summaries.insert((server.name.clone(), shape, connections), s);
            }
        }
    }
    let get = |name: &str, shape: &'static str| summaries.get(&(name.to_owned(), shape, 16));
    let Some(s2) = get("Trestle", "S2") else {
        return;
    };
    println!("\nGoals at 16 connections:");
    let goal = |label: String, met: bool| {
        println!("  {} {label}", if met { "met    " } else { "NOT met" });
    };
    if let Some(v5) = get("PostGraphile v5", "S2") {
        let ratio = s2.per_second / v5.per_second;
        goal(
            format!("S2 {ratio:.2}× PostGraphile v5 (≥ 2)"),
            ratio >= 2.0,
        );
    }
    if let Some(v4) = get("PostGraphile v4", "S2") {
        println!(
            "          S2 {:.2}× PostGraphile v4",
            s2.per_second / v4.per_second
        );
    }
    if let Some(ceiling) = get("ceiling", "S2") {
        let ratio = s2.per_second / ceiling.per_second;
        goal(format!("S2 {ratio:.2}× the ceiling (≥ 0.6)"), ratio >= 0.6);
    }
    goal(
        format!("S2 p99 {:.1} ms (≤ 40)", s2.p99_ms),
        s2.p99_ms <= 40.0,
    );
    if let (Some(s1), Some(ceiling)) = (get("Trestle", "S1"), get("ceiling", "S1")) {
        let ratio = s1.per_second / ceiling.per_second;
        goal(format!("S1 {ratio:.2}× the ceiling (≥ 0.5)"), ratio >= 0.5);
    }
    let statements = SHAPES
        .iter()
        .flat_map(|shape| CONNECTIONS.map(|c| (*shape, c)))
        .filter_map(|(shape, c)| summaries.get(&("Trestle".to_owned(), shape, c)))
        .filter_map(|s| s.statements)
        .fold(0.0, f64::max);
    goal(
        format!("S2 at most {statements:.1} SQL statements per request (≤ 5)"),
        statements <= 5.0,
    );
    let resident = summaries
        .iter()
        .filter(|((name, _, _), _)| name == "Trestle")
        .map(|(_, s)| s.resident_mib)
        .fold(0.0, f64::max);
    goal(
        format!("Trestle resident memory {resident:.0} MiB under load (≤ 64)"),
        resident <= 64.0,
    );
}
