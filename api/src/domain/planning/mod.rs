//! Planning over stored data: loads a program's graph in a constant number
//! of statements and hands it to the pure algorithms in `crate::planning`.

mod views;

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use entity::{
    dependency,
    enums::{Commitment, DependencyStatus, WorkstreamStatus},
    milestone, program, workstream,
};
use uuid::Uuid;

use super::{
    Domain,
    access::{Visibility, Visible},
    dependencies::is_overdue,
    near::{Near, load_near_many, plan_graph},
};
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;
use crate::planning::{
    PlanGraph, bottlenecks,
    schedule::{self, Schedule, SlipImpact},
};

/// Longest slip `slipImpact` will model, in days.
pub const MAX_SLIP_DAYS: i64 = 3650;

/// A program's workstreams and dependencies, ready for analysis.
///
/// The forecast is computed over everything that constrains the program or
/// that it constrains, across programs, including workstreams in programs
/// the viewer cannot see (only the resulting dates show); what the plan
/// hands out is what the viewer may see.
pub struct ProgramPlan {
    /// The program.
    pub program: Visible<program::Model>,
    /// Its workstreams.
    workstreams: Vec<Visible<workstream::Model>>,
    /// Workstreams of other programs up- or downstream of the program's,
    /// those the viewer may see.
    outside: Vec<Visible<workstream::Model>>,
    /// Dependencies touching the program's workstreams whose both ends the
    /// viewer may see.
    dependencies: Vec<Visible<dependency::Model>>,
    /// The plan as the algorithms see it: every task and edge.
    graph: PlanGraph,
    /// The computed forecast.
    pub schedule: Schedule,
    /// Today in the program's time zone.
    pub today: NaiveDate,
    /// Today in each program of the plan, by program id.
    todays: HashMap<Uuid, NaiveDate>,
    /// Where each visible workstream is: `(own, index)` into `workstreams` or `outside`.
    positions: HashMap<Uuid, (bool, usize)>,
    /// How much waits on each workstream, computed once however many
    /// fields ask: `(workstream, transitive, direct)`, most first.
    waiting: std::sync::OnceLock<Vec<(Uuid, usize, usize)>>,
}

/// Output formats of the dependency graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    /// Mermaid flowchart.
    Mermaid,
    /// Graphviz DOT.
    Dot,
}

/// What a slip is applied to.
#[derive(Debug, Clone, Copy)]
pub enum Slipped {
    /// One workstream of the program.
    Workstream(Uuid),
    /// Every unfinished workstream of a team in the program.
    Team(Uuid),
}

/// Work that other work waits on: a workstream, or a team's unfinished work.
#[derive(Debug, Clone)]
pub struct Bottleneck {
    /// The workstream, when counted per workstream.
    pub workstream: Option<Visible<workstream::Model>>,
    /// The workstream's team, or the team counted.
    pub team_id: Option<Uuid>,
    /// Workstreams waiting on it, directly or through others (per team:
    /// unfinished workstreams of other teams).
    pub waiting: usize,
    /// Of those, waiting directly.
    pub direct: usize,
    /// Overdue dependencies the team must deliver.
    pub overdue_deliveries: usize,
    /// Share of the critical path's workstreams it accounts for (0 to 1).
    pub critical_path_share: f64,
}

impl ProgramPlan {
    /// A workstream of the plan the viewer may see.
    pub fn workstream(&self, id: Uuid) -> Option<&Visible<workstream::Model>> {
        match *self.positions.get(&id)? {
            (true, i) => self.workstreams.get(i),
            (false, i) => self.outside.get(i),
        }
    }

    /// Workstreams and dependencies the plan was computed over.
    pub fn size(&self) -> usize {
        self.graph.tasks.len() + self.graph.edges.len()
    }

    /// The program's own workstreams.
    pub fn workstreams(&self) -> &[Visible<workstream::Model>] {
        &self.workstreams
    }

    /// Dependencies whose both ends the viewer may see.
    pub fn visible_dependencies(&self) -> impl Iterator<Item = &Visible<dependency::Model>> {
        self.dependencies.iter()
    }

    /// The program's own workstreams among `ids`, in that order.
    pub fn own_workstreams(&self, ids: &[Uuid]) -> Vec<Visible<workstream::Model>> {
        ids.iter()
            .filter_map(|id| self.workstream(*id))
            .filter(|ws| ws.program_id == self.program.id)
            .cloned()
            .collect()
    }

    /// Today in a program of the plan's time zone (the plan's own today for others).
    pub fn today_of(&self, program_id: Uuid) -> NaiveDate {
        self.todays.get(&program_id).copied().unwrap_or(self.today)
    }

    /// When a dependency is predicted to be delivered: none when resolved,
    /// else the later of its upstream's forecast finish and its promise.
    pub fn predicted_delivery(&self, dep: &dependency::Model) -> Option<NaiveDate> {
        self.schedule.delivery(
            dep.upstream_id,
            dep.status == DependencyStatus::Resolved,
            dep.committed_date,
        )
    }

    /// Whether a dependency is predicted to be delivered after it is needed.
    pub fn is_predicted_late(&self, dep: &dependency::Model) -> bool {
        matches!((self.predicted_delivery(dep), dep.needed_by), (Some(p), Some(n)) if p > n)
    }

    /// Whether a dependency is unresolved and needed before today in the
    /// downstream program's time zone.
    pub fn is_overdue(&self, dep: &dependency::Model) -> bool {
        is_overdue(dep, self.today_of(dep.program_id))
    }

    /// Visible dependencies past their need date and not resolved.
    pub fn overdue(&self) -> impl Iterator<Item = &Visible<dependency::Model>> {
        self.visible_dependencies()
            .filter(|dep| self.is_overdue(dep))
    }

    /// Visible dependencies not resolved and not yet overdue that are marked
    /// at risk or blocked, declined by the upstream team, or predicted to be
    /// delivered after they are needed.
    pub fn at_risk(&self) -> impl Iterator<Item = &Visible<dependency::Model>> {
        self.visible_dependencies()
            .filter(|dep| dep.status != DependencyStatus::Resolved && !self.is_overdue(dep))
            .filter(|dep| {
                matches!(
                    dep.status,
                    DependencyStatus::AtRisk | DependencyStatus::Blocked
                ) || dep.commitment == Commitment::Declined
                    || self.is_predicted_late(dep)
            })
    }

    /// A milestone's forecast: its due day moved by the days its workstream
    /// (this program's or a visible one of another) is forecast to be late.
    pub fn milestone_forecast(&self, milestone: &milestone::Model) -> Option<NaiveDate> {
        schedule::milestone_forecast(
            milestone.due_date,
            self.workstream(milestone.workstream_id)
                .and_then(|ws| ws.target_date),
            self.schedule.forecast_finish(milestone.workstream_id),
        )
    }

    /// Open dependencies the viewer may see, as `(upstream, downstream)` pairs.
    fn open_edges(&self) -> Vec<(Uuid, Uuid)> {
        self.dependencies
            .iter()
            .filter(|dep| dep.status != DependencyStatus::Resolved)
            .map(|dep| (dep.upstream_id, dep.downstream_id))
            .collect()
    }

    /// The program's unfinished workstreams.
    fn unfinished(&self) -> impl Iterator<Item = &Visible<workstream::Model>> {
        self.workstreams.iter().filter(|ws| is_unfinished(ws))
    }

    /// In-program workstreams most other work waits on, counted over the
    /// dependencies the viewer may see: `(workstream, transitive, direct)`.
    pub fn bottlenecks(&self, limit: usize) -> Vec<(Visible<workstream::Model>, usize, usize)> {
        let counts = self.waiting.get_or_init(|| {
            let ids: Vec<Uuid> = self.workstreams.iter().map(|ws| ws.id).collect();
            bottlenecks::downstream_counts(&ids, &self.open_edges())
        });
        let by_id: HashMap<Uuid, &Visible<workstream::Model>> =
            self.workstreams.iter().map(|ws| (ws.id, ws)).collect();
        counts
            .iter()
            .take(limit)
            .filter_map(|(id, total, direct)| {
                by_id.get(id).map(|ws| ((*ws).clone(), *total, *direct))
            })
            .collect()
    }

    /// Workstreams of the program most other work waits on, with the
    /// dependencies they are late to deliver and their share of the critical path.
    pub fn workstream_bottlenecks(&self, limit: usize) -> Vec<Bottleneck> {
        let late = self.overdue_by_upstream();
        self.bottlenecks(limit)
            .into_iter()
            .map(|(ws, waiting, direct)| {
                let critical = &self.schedule.critical_path;
                Bottleneck {
                    team_id: ws.team_id,
                    overdue_deliveries: late.get(&ws.id).copied().unwrap_or(0),
                    critical_path_share: if critical.contains(&ws.id) {
                        1.0 / critical.len() as f64
                    } else {
                        0.0
                    },
                    workstream: Some(ws),
                    waiting,
                    direct,
                }
            })
            .collect()
    }

    /// How many overdue dependencies each workstream must deliver.
    fn overdue_by_upstream(&self) -> HashMap<Uuid, usize> {
        let mut late: HashMap<Uuid, usize> = HashMap::new();
        for dep in self.overdue() {
            *late.entry(dep.upstream_id).or_default() += 1;
        }
        late
    }

    /// A bottleneck with nothing waiting yet: the overdue dependencies
    /// (`late`, by upstream) the workstreams `belongs` picks must deliver,
    /// and their share of the critical path.
    fn measures(&self, late: &HashMap<Uuid, usize>, belongs: impl Fn(Uuid) -> bool) -> Bottleneck {
        let critical = &self.schedule.critical_path;
        Bottleneck {
            workstream: None,
            team_id: None,
            waiting: 0,
            direct: 0,
            overdue_deliveries: late
                .iter()
                .filter(|(upstream, _)| belongs(**upstream))
                .map(|(_, count)| count)
                .sum(),
            critical_path_share: if critical.is_empty() {
                0.0
            } else {
                critical.iter().filter(|id| belongs(**id)).count() as f64 / critical.len() as f64
            },
        }
    }

    /// Teams whose unfinished work (in this program, or in another that
    /// this program waits on) the most other unfinished work waits on.
    pub fn team_bottlenecks(&self, limit: usize) -> Vec<Bottleneck> {
        // The program's unfinished work and other programs' (visible) that
        // it waits on or that waits on it.
        let unfinished: Vec<&Visible<workstream::Model>> = self
            .workstreams
            .iter()
            .chain(self.outside.iter())
            .filter(|ws| is_unfinished(ws))
            .collect();
        let ids: Vec<Uuid> = unfinished.iter().map(|ws| ws.id).collect();
        let team_of: HashMap<Uuid, Uuid> = unfinished
            .iter()
            .filter_map(|ws| Some((ws.id, ws.team_id?)))
            .collect();
        let late = self.overdue_by_upstream();
        let mut teams: Vec<Bottleneck> =
            bottlenecks::group_counts(&ids, &self.open_edges(), |id| team_of.get(&id).copied())
                .into_iter()
                .map(|(team_id, waiting, direct)| Bottleneck {
                    workstream: None,
                    team_id: Some(team_id),
                    waiting,
                    direct,
                    ..self.measures(&late, |id| team_of.get(&id) == Some(&team_id))
                })
                .collect();
        teams.sort_by(|a, b| {
            b.waiting
                .cmp(&a.waiting)
                .then(b.overdue_deliveries.cmp(&a.overdue_deliveries))
                .then(b.critical_path_share.total_cmp(&a.critical_path_share))
                .then(a.team_id.cmp(&b.team_id))
        });
        teams.truncate(limit);
        teams
    }

    /// The program's unfinished workstreams of one team.
    pub fn team_workstreams(&self, team_id: Uuid) -> Vec<Uuid> {
        self.unfinished()
            .filter(|ws| ws.team_id == Some(team_id))
            .map(|ws| ws.id)
            .collect()
    }
}

/// Neither done nor cancelled.
pub(crate) fn is_unfinished(ws: &workstream::Model) -> bool {
    !matches!(
        ws.status,
        WorkstreamStatus::Done | WorkstreamStatus::Cancelled
    )
}

impl Domain {
    /// Load and forecast `programs`, by program: a constant number of
    /// statements whatever their number and size.
    pub async fn program_plans(
        &self,
        visibility: &Visibility,
        programs: Vec<Visible<program::Model>>,
    ) -> ApiResult<HashMap<Uuid, ProgramPlan>> {
        let ids: Vec<Uuid> = programs.iter().map(|p| p.id).collect();
        let mut near = load_near_many(&self.db, &ids).await?;
        let mut plans = HashMap::with_capacity(programs.len());
        for program in programs {
            if let Some(near) = near.remove(&program.id) {
                let id = program.id;
                plans.insert(id, self.program_plan(visibility, program, near).await?);
            }
        }
        Ok(plans)
    }

    /// Forecast a program the viewer may see from what is near it.
    async fn program_plan(
        &self,
        visibility: &Visibility,
        program: Visible<program::Model>,
        near: Near,
    ) -> ApiResult<ProgramPlan> {
        let today = self.today_of(&program);
        let todays = near
            .programs
            .iter()
            .map(|p| (p.id, self.today_of(p)))
            .collect();
        let graph = plan_graph(program.id, &near.workstreams, &near.dependencies, today);
        let schedule = schedule::schedule(&graph);
        let (own, outside): (Vec<_>, Vec<_>) = near
            .workstreams
            .into_iter()
            .partition(|ws| ws.program_id == program.id);
        let own_ids: HashSet<Uuid> = own.iter().map(|ws| ws.id).collect();
        let touching: Vec<dependency::Model> = near
            .dependencies
            .into_iter()
            .filter(|dep| {
                own_ids.contains(&dep.upstream_id) || own_ids.contains(&dep.downstream_id)
            })
            .collect();
        let own = visibility.admit_all(&self.db, own).await?;
        let outside = visibility.admit_all(&self.db, outside).await?;
        let positions = own
            .iter()
            .enumerate()
            .map(|(i, ws)| (ws.id, (true, i)))
            .chain(
                outside
                    .iter()
                    .enumerate()
                    .map(|(i, ws)| (ws.id, (false, i))),
            )
            .collect();
        Ok(ProgramPlan {
            workstreams: own,
            outside,
            positions,
            dependencies: visibility.admit_all(&self.db, touching).await?,
            program,
            graph,
            schedule,
            today,
            todays,
            waiting: Default::default(),
        })
    }

    /// What moves if a workstream, or all of a team's unfinished work in the
    /// program, finishes `days` later.
    pub fn slip_impact(plan: &ProgramPlan, slipped: Slipped, days: i64) -> ApiResult<SlipImpact> {
        if !(0..=MAX_SLIP_DAYS).contains(&days) {
            return Err(ApiError::bad_input(
                "days",
                Message::OutOfRange {
                    min: 0,
                    max: MAX_SLIP_DAYS,
                },
            ));
        }
        let (field, ids) = match slipped {
            Slipped::Workstream(id) => {
                if !plan.workstreams.iter().any(|ws| ws.id == id) {
                    return Err(ApiError::bad_input("workstreamId", Message::NotFound));
                }
                ("workstreamId", vec![id])
            }
            Slipped::Team(id) => ("teamId", plan.team_workstreams(id)),
        };
        schedule::slip_impact(&plan.graph, &ids, days)
            .ok_or_else(|| ApiError::bad_input(field, Message::Unscheduled))
    }
}
