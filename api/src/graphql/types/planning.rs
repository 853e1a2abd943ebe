//! Planning results: schedule, critical path, slip impact, bottlenecks.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use entity::workstream;
use uuid::Uuid;

use super::Workstream;
use crate::domain::access::Visible;
use crate::domain::loaders::Loaders;
use crate::domain::planning::{GraphFormat as DomainFormat, ProgramPlan};
use crate::graphql::context::request_data;
use crate::graphql::scalars::Date;
use crate::planning::schedule::{SlipImpact as DomainImpact, Slot};

/// Text formats of the dependency graph.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum GraphFormat {
    /// A Mermaid `flowchart`, for Markdown and most web renderers.
    Mermaid,
    /// Graphviz DOT, for `dot` and its tools.
    Dot,
}

impl From<GraphFormat> for DomainFormat {
    fn from(value: GraphFormat) -> Self {
        match value {
            GraphFormat::Mermaid => Self::Mermaid,
            GraphFormat::Dot => Self::Dot,
        }
    }
}

fn by_id(plan: &ProgramPlan) -> HashMap<Uuid, &Visible<workstream::Model>> {
    plan.workstreams().iter().map(|ws| (ws.id, ws)).collect()
}

/// Where one workstream can sit on the calendar, from the forward and backward passes.
pub struct ScheduleEntry {
    slot: Slot,
    workstream: Visible<workstream::Model>,
}

/// Where one workstream can sit on the calendar, from the forward and backward passes.
#[Object]
impl ScheduleEntry {
    /// The workstream.
    async fn workstream(&self) -> Workstream {
        Workstream(self.workstream.clone())
    }
    /// Earliest day it can start: its start date, or the day after its last upstream finishes.
    async fn earliest_start(&self) -> Date {
        Date(self.slot.earliest_start)
    }
    /// Earliest day it can finish.
    async fn earliest_finish(&self) -> Date {
        Date(self.slot.earliest_finish)
    }
    /// Latest day it can start without moving the program's forecast finish.
    async fn latest_start(&self) -> Date {
        Date(self.slot.latest_start)
    }
    /// Latest day it can finish without moving the program's forecast finish.
    async fn latest_finish(&self) -> Date {
        Date(self.slot.latest_finish)
    }
    /// Days it can slip without moving the forecast finish.
    async fn slack_days(&self) -> i64 {
        self.slot.slack_days
    }
    /// Whether it has zero slack.
    async fn is_critical(&self) -> bool {
        self.slot.slack_days == 0
    }
}

/// The first `size` entries of the schedule of a plan, in dependency order.
pub fn schedule_entries(plan: &ProgramPlan, size: usize) -> Vec<ScheduleEntry> {
    let index = by_id(plan);
    plan.schedule
        .slots
        .iter()
        .take(size)
        .filter_map(|slot| {
            index.get(&slot.id).map(|ws| ScheduleEntry {
                slot: slot.clone(),
                workstream: (*ws).clone(),
            })
        })
        .collect()
}

/// The in-program workstreams of `ids`, in that order.
pub fn workstreams_of(plan: &ProgramPlan, ids: &[Uuid]) -> Vec<Workstream> {
    plan.own_workstreams(ids)
        .into_iter()
        .map(Workstream)
        .collect()
}

/// The chain of zero-slack workstreams that sets the program's finish date.
pub struct CriticalPath {
    workstreams: Vec<Workstream>,
    finish_date: Option<Date>,
    duration_days: Option<i64>,
}

/// The chain of zero-slack workstreams that sets the program's finish date.
#[Object]
impl CriticalPath {
    /// The workstreams, first to last; empty when nothing is scheduled.
    async fn workstreams(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "At most this many, from the first (default and largest: the server's list size, 1,000 unless configured)."
        )]
        first: Option<i32>,
    ) -> Result<&[Workstream]> {
        let size = request_data::<Loaders>(ctx)?.list_size(first)?;
        Ok(&self.workstreams[..size.min(self.workstreams.len())])
    }
    /// The forecast finish the chain sets.
    async fn finish_date(&self) -> Option<Date> {
        self.finish_date
    }
    /// Calendar days from the first workstream's earliest start to the finish, both included.
    async fn duration_days(&self) -> Option<i64> {
        self.duration_days
    }
}

/// Build the critical path object of a plan.
pub fn critical_path(plan: &Arc<ProgramPlan>) -> CriticalPath {
    CriticalPath {
        workstreams: workstreams_of(plan, &plan.schedule.critical_path),
        finish_date: plan.schedule.finish_date.map(Date),
        duration_days: plan.schedule.critical_path_days,
    }
}

/// One workstream moved by a slip.
#[derive(SimpleObject)]
pub struct SlipImpactEntry {
    /// The workstream.
    pub workstream: Workstream,
    /// How many days its earliest finish moves.
    pub slip_days: i64,
    /// Its new earliest finish.
    pub new_finish: Date,
}

/// What moves if one workstream finishes later. Nothing is written.
pub struct SlipImpact {
    finish_date: Option<Date>,
    finish_delay_days: i64,
    affected: Vec<SlipImpactEntry>,
}

/// What moves if one workstream finishes later. Nothing is written.
#[Object]
impl SlipImpact {
    /// The program's forecast finish after the slip.
    async fn finish_date(&self) -> Option<Date> {
        self.finish_date
    }
    /// How many days the forecast finish moves.
    async fn finish_delay_days(&self) -> i64 {
        self.finish_delay_days
    }
    /// Every workstream whose earliest finish moves, the slipped one included, in dependency order.
    async fn affected(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "At most this many (default and largest: the server's list size, 1,000 unless configured)."
        )]
        first: Option<i32>,
    ) -> Result<&[SlipImpactEntry]> {
        let size = request_data::<Loaders>(ctx)?.list_size(first)?;
        Ok(&self.affected[..size.min(self.affected.len())])
    }
}

/// Build the slip impact object of a plan.
pub fn slip_impact(plan: &ProgramPlan, impact: DomainImpact) -> SlipImpact {
    let index = by_id(plan);
    SlipImpact {
        finish_date: impact.finish_date.map(Date),
        finish_delay_days: impact.finish_delay_days,
        affected: impact
            .affected
            .into_iter()
            .filter_map(|(id, slip_days, new_finish)| {
                index.get(&id).map(|ws| SlipImpactEntry {
                    workstream: Workstream((*ws).clone()),
                    slip_days,
                    new_finish: Date(new_finish),
                })
            })
            .collect(),
    }
}

/// A workstream that other work waits on.
#[derive(SimpleObject)]
pub struct Bottleneck {
    /// The workstream.
    pub workstream: Workstream,
    /// Workstreams waiting on it, directly or through others (open dependencies only).
    pub downstream_count: i64,
    /// Workstreams waiting on it directly.
    pub direct_downstream_count: i64,
}
