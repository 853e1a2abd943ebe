//! What the benchmarks share: a deterministic generator of programs, a
//! fresh database, a server on it and a program to fill.

#![allow(dead_code)]

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// A deterministic pseudo-random sequence (no dependency needed).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound.max(1)
    }
}

/// A generated workstream: id, start, target.
pub type Generated = (Uuid, NaiveDate, NaiveDate);

/// `n` workstreams over a year, each waiting on up to ten earlier ones
/// (about five on average).
pub fn generate(n: usize) -> (Vec<Generated>, Vec<(Uuid, Uuid)>) {
    let mut rng = Lcg(42);
    let base = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let mut ids: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
    ids.sort();
    let tasks = ids
        .iter()
        .map(|id| {
            let start = base + chrono::Duration::days(rng.next(365) as i64);
            (
                *id,
                start,
                start + chrono::Duration::days(5 + rng.next(55) as i64),
            )
        })
        .collect();
    let mut edges = Vec::with_capacity(n * 5);
    let mut seen = std::collections::HashSet::new();
    for i in 1..n {
        for _ in 0..rng.next(11) {
            let j = rng.next(i as u64) as usize;
            if seen.insert((j, i)) {
                edges.push((ids[j], ids[i]));
            }
        }
    }
    (tasks, edges)
}

/// A stored, open, requested dependency between two workstreams of `program`.
pub fn dependency_row(
    program: Uuid,
    upstream: Uuid,
    downstream: Uuid,
) -> entity::dependency::ActiveModel {
    use sea_orm::ActiveValue::Set;
    let now = chrono::Utc::now();
    entity::dependency::ActiveModel {
        id: Set(Uuid::now_v7()),
        program_id: Set(program),
        upstream_id: Set(upstream),
        downstream_id: Set(downstream),
        upstream_program_id: Set(program),
        description: Set(None),
        needed_by: Set(None),
        status: Set(entity::enums::DependencyStatus::Open),
        committed_date: Set(None),
        committed_by_id: Set(None),
        commitment: Set(entity::enums::Commitment::Requested),
        commitment_note: Set(None),
        decline_reason: Set(None),
        delivered_on: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        external_id: Set(None),
        links: Set(serde_json::json!([])),
    }
}

/// Where a benchmark's database lives, removed at the end: a fresh
/// PostgreSQL database beside `TRESTLE_BENCH_DATABASE_URL` when it is set,
/// else a SQLite file in a temporary directory.
pub enum Store {
    Sqlite { dir: std::path::PathBuf },
    Postgres { admin_url: String, name: String },
}

impl Store {
    pub async fn create() -> Store {
        match std::env::var("TRESTLE_BENCH_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => Store::postgres(admin_url).await,
            _ => {
                let dir =
                    std::env::temp_dir().join(format!("trestle-bench-{}", Uuid::now_v7().simple()));
                std::fs::create_dir_all(&dir).expect("create the temporary directory");
                Store::Sqlite { dir }
            }
        }
    }

    /// A fresh PostgreSQL database beside the one `admin_url` names.
    pub async fn postgres(admin_url: String) -> Store {
        let name = format!("trestle_bench_{}", Uuid::now_v7().simple());
        let admin = sea_orm::Database::connect(&admin_url)
            .await
            .expect("connect to PostgreSQL");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create database");
        admin.close().await.ok();
        Store::Postgres { admin_url, name }
    }

    pub fn url(&self) -> String {
        match self {
            Store::Sqlite { dir } => format!("sqlite://{}/bench.db?mode=rwc", dir.display()),
            Store::Postgres { admin_url, name } => {
                let (prefix, _) = admin_url
                    .rsplit_once('/')
                    .expect("a URL with a database name");
                format!("{prefix}/{name}")
            }
        }
    }

    pub fn engine(&self) -> &'static str {
        match self {
            Store::Sqlite { .. } => "SQLite",
            Store::Postgres { .. } => "PostgreSQL",
        }
    }

    pub async fn remove(self) {
        match self {
            Store::Sqlite { dir } => {
                std::fs::remove_dir_all(dir).ok();
            }
            Store::Postgres { admin_url, name } => {
                if let Ok(admin) = sea_orm::Database::connect(&admin_url).await {
                    admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await
                        .ok();
                }
            }
        }
    }
}

#[derive(clap::Parser)]
struct BenchArgs {
    #[command(flatten)]
    serve: trestle_api::config::ServeConfig,
}

/// A production-profile server on `url` (no rate limit: the benchmarks time
/// the work, not the caller's budget), with `extra` flags.
pub async fn serve(url: &str, extra: &[&str]) -> trestle_api::app::RunningServer {
    let mut args = vec![
        "bench",
        "--database-url",
        url,
        "--listen",
        "127.0.0.1:0",
        "--jwt-secret",
        "bench-secret-bench-secret-bench-secret",
        "--env",
        "production",
        "--bootstrap-admin-email",
        "bench@trestle.test",
        "--bootstrap-admin-password",
        "bench-password",
        "--rate-limit-per-minute",
        "0",
    ];
    args.extend(extra);
    let config = <BenchArgs as clap::Parser>::parse_from(args).serve;
    trestle_api::app::start(config, std::future::pending())
        .await
        .expect("start")
}

/// An empty active program `BENCH` whose OWNER is the bootstrap admin;
/// returns the owner's and the program's ids.
pub async fn bench_program(db: &sea_orm::DatabaseConnection) -> (Uuid, Uuid) {
    use sea_orm::{ActiveValue::Set, EntityTrait};
    let owner = trestle_api::domain::users::find_by_email(db, "bench@trestle.test")
        .await
        .unwrap()
        .unwrap();
    let now = chrono::Utc::now();
    let program_id = Uuid::now_v7();
    entity::program::Entity::insert(entity::program::ActiveModel {
        id: Set(program_id),
        key: Set("BENCH".into()),
        name: Set("Benchmark".into()),
        description: Set(None),
        objective: Set(None),
        status: Set(entity::enums::ProgramStatus::Active),
        health: Set(entity::enums::Health::OnTrack),
        start_date: Set(None),
        target_date: Set(None),
        budget_amount: Set(None),
        budget_currency: Set(None),
        expected_benefit_amount: Set(None),
        expected_benefit_currency: Set(None),
        owner_id: Set(owner.id),
        archived_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        time_zone: Set("UTC".into()),
        off_track_after_days: Set(14),
    })
    .exec(db)
    .await
    .unwrap();
    entity::program_member::Entity::insert(entity::program_member::ActiveModel {
        id: Set(Uuid::now_v7()),
        program_id: Set(program_id),
        user_id: Set(owner.id),
        role: Set(entity::enums::ProgramRole::Owner),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec(db)
    .await
    .unwrap();
    (owner.id, program_id)
}

/// A stored workstream of `program`, under way from `start` to `target`.
pub fn workstream_row(
    program: Uuid,
    id: Uuid,
    start: NaiveDate,
    target: NaiveDate,
) -> entity::workstream::ActiveModel {
    use sea_orm::ActiveValue::Set;
    let now = chrono::Utc::now();
    entity::workstream::ActiveModel {
        id: Set(id),
        program_id: Set(program),
        name: Set(format!("Service {}", &id.simple().to_string()[24..])),
        description: Set(None),
        team_id: Set(None),
        lead_id: Set(None),
        status: Set(entity::enums::WorkstreamStatus::InProgress),
        health: Set(entity::enums::Health::OnTrack),
        start_date: Set(Some(start)),
        target_date: Set(Some(target)),
        started_on: Set(Some(start)),
        priority: Set(entity::enums::Priority::P2),
        effort_days: Set(None),
        finished_on: Set(None),
        progress: Set(0),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        external_id: Set(None),
        links: Set(serde_json::json!([])),
    }
}
