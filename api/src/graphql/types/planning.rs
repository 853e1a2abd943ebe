//! Planning results: schedule, critical path, slip impact, bottlenecks.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use entity::{milestone, workstream};
use uuid::Uuid;

use super::{Milestone, Team, Workstream};
use crate::domain::access::Visible;
use crate::domain::planning::{GraphFormat as DomainFormat, ProgramPlan};
use crate::graphql::context::loaders;
use crate::graphql::scalars::Date;
use crate::planning::schedule::{SlipImpact as DomainImpact, Slot, shift};

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

/// Where one workstream sits on the calendar: planned, forecast from what
/// has happened, and how much it may slip.
pub struct ScheduleEntry {
    slot: Slot,
    workstream: Visible<workstream::Model>,
}

/// Where one workstream sits on the calendar: planned, forecast from what
/// has happened, and how much it may slip.
#[Object]
impl ScheduleEntry {
    /// The workstream.
    async fn workstream(&self) -> Workstream {
        Workstream(self.workstream.clone())
    }
    /// The planned start (its start date).
    async fn planned_start(&self) -> Option<Date> {
        self.slot.planned_start.map(Date)
    }
    /// The planned finish (its target date).
    async fn planned_finish(&self) -> Option<Date> {
        self.slot.planned_finish.map(Date)
    }
    /// The forecast start: when it started, or when its plan, today and its upstream let it start.
    async fn forecast_start(&self) -> Date {
        Date(self.slot.forecast_start)
    }
    /// The forecast finish: when it finished, or when it will at this pace.
    async fn forecast_finish(&self) -> Date {
        Date(self.slot.forecast_finish)
    }
    /// Days the forecast finish is past the planned finish (0 when on time).
    async fn late_days(&self) -> i64 {
        self.slot.late_days
    }
    /// The forecast start (the name before forecasts followed reality).
    #[graphql(deprecation = "Use forecastStart.")]
    async fn earliest_start(&self) -> Date {
        Date(self.slot.forecast_start)
    }
    /// The forecast finish (the name before forecasts followed reality).
    #[graphql(deprecation = "Use forecastFinish.")]
    async fn earliest_finish(&self) -> Date {
        Date(self.slot.forecast_finish)
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
    /// Whether it is unfinished with zero slack: its slip moves the program's finish. Finished work never is.
    async fn is_critical(&self) -> bool {
        self.slot.critical
    }
}

/// The first `size` entries of the schedule of a plan, in dependency order.
pub fn schedule_entries(plan: &ProgramPlan, size: usize) -> Vec<ScheduleEntry> {
    plan.schedule
        .slots
        .iter()
        .take(size)
        .filter_map(|slot| {
            plan.workstream(slot.id).map(|ws| ScheduleEntry {
                slot: slot.clone(),
                workstream: ws.clone(),
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
        let size = loaders(ctx)?.list_size(first)?;
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
    /// The workstream (in this program or another the viewer can see).
    pub workstream: Workstream,
    /// How many days its forecast finish moves.
    pub slip_days: i64,
    /// Its new forecast finish.
    pub new_finish: Date,
}

/// One milestone moved by a slip.
#[derive(SimpleObject)]
pub struct MilestoneSlip {
    /// The milestone.
    pub milestone: Milestone,
    /// Its forecast date after the slip.
    pub new_forecast_date: Date,
    /// How many days its forecast date moves.
    pub slip_days: i64,
}

/// What moves if work finishes later. Nothing is written.
pub struct SlipImpact {
    finish_date: Option<Date>,
    finish_delay_days: i64,
    affected: Vec<SlipImpactEntry>,
    milestones: Vec<MilestoneSlip>,
}

/// What moves if work finishes later. Nothing is written.
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
    /// Every workstream whose forecast finish moves, the slipped ones included, in dependency order: this program's and those of other programs the viewer can see.
    async fn affected(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "At most this many (default and largest: the server's list size, 1,000 unless configured)."
        )]
        first: Option<i32>,
    ) -> Result<&[SlipImpactEntry]> {
        let size = loaders(ctx)?.list_size(first)?;
        Ok(&self.affected[..size.min(self.affected.len())])
    }
    /// Milestones whose forecast date moves, soonest first: this program's and those of other programs the viewer can see.
    async fn milestones(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "At most this many (default and largest: the server's list size, 1,000 unless configured)."
        )]
        first: Option<i32>,
    ) -> Result<&[MilestoneSlip]> {
        let size = loaders(ctx)?.list_size(first)?;
        Ok(&self.milestones[..size.min(self.milestones.len())])
    }
}

/// Build the slip impact object of a plan; `milestones` are those of the moved workstreams.
pub fn slip_impact(
    plan: &ProgramPlan,
    impact: DomainImpact,
    milestones: &[Visible<milestone::Model>],
) -> SlipImpact {
    let moved: HashMap<Uuid, i64> = impact
        .affected
        .iter()
        .map(|(id, days, _)| (*id, *days))
        .collect();
    let mut milestones: Vec<MilestoneSlip> = milestones
        .iter()
        .filter_map(|m| {
            let days = *moved.get(&m.workstream_id)?;
            let forecast = plan.milestone_forecast(m)?;
            Some(MilestoneSlip {
                new_forecast_date: Date(shift(forecast, days)),
                slip_days: days,
                milestone: Milestone(m.clone()),
            })
        })
        .collect();
    milestones.sort_by_key(|m| (m.new_forecast_date.0, m.milestone.0.id));
    SlipImpact {
        finish_date: impact.finish_date.map(Date),
        finish_delay_days: impact.finish_delay_days,
        affected: impact
            .affected
            .into_iter()
            .filter_map(|(id, slip_days, new_finish)| {
                plan.workstream(id).map(|ws| SlipImpactEntry {
                    workstream: Workstream(ws.clone()),
                    slip_days,
                    new_finish: Date(new_finish),
                })
            })
            .collect(),
        milestones,
    }
}

/// How bottlenecks are counted.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum BottleneckGrouping {
    /// Per workstream.
    #[default]
    Workstream,
    /// Per team: the work of other teams waiting on any of the team's unfinished work.
    Team,
}

/// Work that other work waits on: a workstream, or a team's unfinished work.
#[derive(SimpleObject)]
pub struct Bottleneck {
    /// The workstream (null when grouped by team).
    pub workstream: Option<Workstream>,
    /// The team: the workstream's, or the one grouped by.
    pub team: Option<Team>,
    /// Workstreams waiting on it, directly or through others (open dependencies only; grouped by team: unfinished work of other teams).
    pub downstream_count: i64,
    /// Workstreams waiting on it directly.
    pub direct_downstream_count: i64,
    /// Overdue dependencies it must deliver.
    pub overdue_deliveries: i64,
    /// Share of the critical path's workstreams it accounts for, from 0 to 1.
    pub critical_path_share: f64,
}
