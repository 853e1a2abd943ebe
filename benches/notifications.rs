//! Notification sweep benchmark: prints its figures.
//!
//! `TRESTLE_BENCH_DATABASE_URL=postgres://…/postgres cargo bench --bench
//! notifications` fills a fresh PostgreSQL database with a program of
//! 2,000 workstreams whose 1,000 dependencies are all overdue, each
//! downstream workstream with a lead, and times the sweep for the clock's
//! notifications (one per dependency to the OWNER and one to the lead):
//! the first sweep of the day, which writes them; the next sweep of the same
//! replica, which remembers what it wrote; and another replica's first sweep
//! that day, whose every write finds the row already there. Without a URL it
//! runs the same on a SQLite file.

use std::time::Instant;

use chrono::{Duration, Utc};
use entity::enums::{Locale, ProgramRole, UserRole};
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait};
use trestle_api::domain::{sweep::SweepMemory, users::NewUser};
use uuid::Uuid;

mod support;

use support::{Store, bench_program, dependency_row, serve, workstream_row};

const DEPENDENCIES: usize = 1_000;

async fn run(url: &str, label: &str) {
    let server = serve(url, &["--notification-sweep-secs", "0"]).await;
    let domain = &server.domain;
    let db = &domain.db;
    let (_, program_id) = bench_program(db).await;
    // Each downstream workstream's lead, a member, is told besides the OWNER.
    let lead = domain
        .insert_user(
            None,
            NewUser {
                email: "lead@trestle.test".into(),
                name: "Lead".into(),
                password: "lead-password".into(),
                role: UserRole::Member,
                locale: Locale::En,
            },
            "bench",
        )
        .await
        .unwrap();
    entity::program_member::Entity::insert(entity::program_member::ActiveModel {
        id: Set(Uuid::now_v7()),
        program_id: Set(program_id),
        user_id: Set(lead.id),
        role: Set(ProgramRole::Editor),
        version: Set(1),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
    })
    .exec(db)
    .await
    .unwrap();
    let today = Utc::now().date_naive();
    let (start, target) = (today - Duration::days(60), today + Duration::days(60));
    let pairs: Vec<(Uuid, Uuid)> = (0..DEPENDENCIES)
        .map(|_| (Uuid::now_v7(), Uuid::now_v7()))
        .collect();
    for chunk in pairs.chunks(500) {
        entity::workstream::Entity::insert_many(chunk.iter().flat_map(|(up, down)| {
            let mut downstream = workstream_row(program_id, *down, start, target);
            downstream.lead_id = Set(Some(lead.id));
            [workstream_row(program_id, *up, start, target), downstream]
        }))
        .exec_without_returning(db)
        .await
        .unwrap();
        entity::dependency::Entity::insert_many(chunk.iter().map(|(up, down)| {
            let mut row = dependency_row(program_id, *up, *down);
            row.needed_by = Set(Some(today - Duration::days(3)));
            row
        }))
        .exec_without_returning(db)
        .await
        .unwrap();
    }
    let mut memories = [SweepMemory::default(), SweepMemory::default()];
    for (what, replica) in [
        ("first sweep of the day (writes)", 0),
        ("the same replica again (remembers)", 0),
        ("another replica's first sweep (all written already)", 1),
    ] {
        let memory = &mut memories[replica];
        let before = server.statements.get();
        let started = Instant::now();
        let notices = domain.sweep_notifications(memory).await.unwrap();
        let elapsed = started.elapsed();
        let statements = server.statements.get() - before;
        println!(
            "{label}: {what}: {notices} notices in {:.1} ms, {statements} SQL statements",
            elapsed.as_secs_f64() * 1e3
        );
    }
    let written = entity::notification::Entity::find()
        .count(db)
        .await
        .unwrap();
    println!("{label}: {written} notifications stored for {DEPENDENCIES} overdue dependencies");
    server.shutdown().await.ok();
}

fn main() {
    // `cargo test --benches` runs this with `--test`; nothing to check quickly.
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = Store::create().await;
        run(&store.url(), store.engine()).await;
        store.remove().await;
    });
}
