//! Planning analyses as pure functions: no database, no GraphQL.
//!
//! A program's workstreams are tasks on a calendar; dependencies are
//! finish-to-start edges. Everything here works on [`PlanGraph`]: the plan
//! (start and target dates), what has happened (actual starts and
//! finishes, resolved dependencies), promises (committed dates) and today.

pub mod bottlenecks;
pub mod brief;
pub mod capacity;
pub mod cycles;
pub mod portfolio;
pub mod render;
pub mod schedule;

use chrono::NaiveDate;
use uuid::Uuid;

/// How far a workstream has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Not started: it starts when its plan, today and its upstream allow.
    NotStarted,
    /// Started on this day and not finished.
    Started(NaiveDate),
    /// Finished: fixed where it happened, constrained by nothing.
    Done {
        /// The day it started, if recorded.
        started: Option<NaiveDate>,
        /// The day it finished, if recorded.
        finished: Option<NaiveDate>,
    },
    /// Cancelled: left out of every pass, with its dependencies.
    Cancelled,
}

/// One workstream as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// The workstream id.
    pub id: Uuid,
    /// Planned first day (inclusive).
    pub start: Option<NaiveDate>,
    /// Planned last day (inclusive).
    pub target: Option<NaiveDate>,
    /// What has happened so far.
    pub progress: Progress,
    /// Whether it belongs to another program: it is forecast by the same
    /// rules, and constrains this program, but is not part of its schedule.
    pub external: bool,
}

impl Task {
    /// Planned duration in days (`target - start`), when both dates are set.
    pub fn duration(&self) -> Option<i64> {
        match (self.start, self.target) {
            (Some(start), Some(target)) => Some((target - start).num_days()),
            _ => None,
        }
    }
}

/// A finish-to-start dependency between two tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    /// The task that must deliver.
    pub upstream: Uuid,
    /// The task that waits.
    pub downstream: Uuid,
    /// Delivered: it constrains nothing any more.
    pub resolved: bool,
    /// The day the upstream team promised; a promise later than the
    /// upstream's forecast governs.
    pub committed: Option<NaiveDate>,
}

impl Edge {
    /// An unresolved edge with no promise.
    pub fn plain(upstream: Uuid, downstream: Uuid) -> Self {
        Self {
            upstream,
            downstream,
            resolved: false,
            committed: None,
        }
    }
}

/// Workstreams, the finish-to-start edges between them, and today.
#[derive(Debug, Clone, Default)]
pub struct PlanGraph {
    /// The tasks.
    pub tasks: Vec<Task>,
    /// The edges: each downstream waits for its upstream.
    pub edges: Vec<Edge>,
    /// The day the forecast is made on: nothing unfinished happens before it.
    pub today: NaiveDate,
}

impl PlanGraph {
    /// Every edge as an `(upstream, downstream)` pair.
    pub fn pairs(&self) -> Vec<(Uuid, Uuid)> {
        self.edges
            .iter()
            .map(|edge| (edge.upstream, edge.downstream))
            .collect()
    }
}

#[cfg(test)]
mod oracle_tests;
