//! Planning analyses as pure functions: no database, no GraphQL.
//!
//! A program's workstreams are tasks on a calendar; dependencies are
//! finish-to-start edges. Everything here works on [`PlanGraph`].

pub mod bottlenecks;
pub mod brief;
pub mod cycles;
pub mod render;
pub mod schedule;

use chrono::NaiveDate;
use uuid::Uuid;

/// One workstream as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// The workstream id.
    pub id: Uuid,
    /// First day (inclusive).
    pub start: Option<NaiveDate>,
    /// Last day (inclusive).
    pub target: Option<NaiveDate>,
    /// Whether it belongs to another program: a fixed constraint at its target date.
    pub external: bool,
}

impl Task {
    /// Duration in days (`target - start`), when both dates are set.
    pub fn duration(&self) -> Option<i64> {
        match (self.start, self.target) {
            (Some(start), Some(target)) => Some((target - start).num_days()),
            _ => None,
        }
    }
}

/// Workstreams and the finish-to-start edges between them.
#[derive(Debug, Clone, Default)]
pub struct PlanGraph {
    /// The tasks.
    pub tasks: Vec<Task>,
    /// `(upstream, downstream)` pairs: the downstream waits for the upstream.
    pub edges: Vec<(Uuid, Uuid)>,
}

#[cfg(test)]
mod oracle_tests;
