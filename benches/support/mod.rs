//! What the benchmarks share: a deterministic generator of programs.

#![allow(dead_code)]

use chrono::NaiveDate;
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
    }
}
