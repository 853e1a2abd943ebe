//! Planning over stored data: loads a program's graph in a constant number
//! of statements and hands it to the pure algorithms in `crate::planning`.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use entity::{
    audit_event::{self, Subject, Verb},
    decision, dependency,
    enums::{DecisionStatus, DependencyStatus, Locale, RiskStatus, WorkstreamStatus},
    milestone, program, risk, status_update, team, user, workstream,
};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Visibility, Visible},
    dependencies::is_overdue,
    near::{load_near, plan_graph},
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;
use crate::planning::{
    PlanGraph, bottlenecks,
    brief::{self, BriefFacts, DecisionLine, DependencyLine, RiskLine},
    render,
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
        self.workstreams
            .iter()
            .chain(self.outside.iter())
            .find(|ws| ws.id == id)
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
            .filter_map(|id| self.workstreams.iter().find(|ws| ws.id == *id).cloned())
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
    pub fn overdue(&self) -> Vec<Visible<dependency::Model>> {
        self.visible_dependencies()
            .filter(|dep| self.is_overdue(dep))
            .cloned()
            .collect()
    }

    /// Visible dependencies not resolved and not yet overdue that are marked
    /// at risk or blocked, or predicted to be delivered after they are needed.
    pub fn at_risk(&self) -> Vec<Visible<dependency::Model>> {
        self.visible_dependencies()
            .filter(|dep| dep.status != DependencyStatus::Resolved && !self.is_overdue(dep))
            .filter(|dep| {
                matches!(
                    dep.status,
                    DependencyStatus::AtRisk | DependencyStatus::Blocked
                ) || self.is_predicted_late(dep)
            })
            .cloned()
            .collect()
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

    /// Whether a milestone is open and due before today (the program's time zone).
    pub fn milestone_overdue(&self, milestone: &milestone::Model) -> bool {
        milestone.completed_at.is_none()
            && milestone
                .due_date
                .is_some_and(|due| due < self.today_of(milestone.program_id))
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
        let ids: Vec<Uuid> = self.workstreams.iter().map(|ws| ws.id).collect();
        bottlenecks::downstream_counts(&ids, &self.open_edges())
            .into_iter()
            .filter_map(|(id, total, direct)| {
                self.workstreams
                    .iter()
                    .find(|ws| ws.id == id)
                    .map(|ws| (ws.clone(), total, direct))
            })
            .take(limit)
            .collect()
    }

    /// Workstreams of the program most other work waits on, with the
    /// dependencies they are late to deliver and their share of the critical path.
    pub fn workstream_bottlenecks(&self, limit: usize) -> Vec<Bottleneck> {
        self.bottlenecks(limit)
            .into_iter()
            .map(|(ws, waiting, direct)| {
                let id = ws.id;
                Bottleneck {
                    team_id: ws.team_id,
                    workstream: Some(ws),
                    waiting,
                    direct,
                    ..self.measures(|other| other == id)
                }
            })
            .collect()
    }

    /// A bottleneck with nothing waiting yet: the overdue dependencies the
    /// workstreams `belongs` picks must deliver, and their share of the critical path.
    fn measures(&self, belongs: impl Fn(Uuid) -> bool) -> Bottleneck {
        let critical = &self.schedule.critical_path;
        Bottleneck {
            workstream: None,
            team_id: None,
            waiting: 0,
            direct: 0,
            overdue_deliveries: self
                .overdue()
                .iter()
                .filter(|dep| belongs(dep.upstream_id))
                .count(),
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
        let mut teams: Vec<Bottleneck> =
            bottlenecks::group_counts(&ids, &self.open_edges(), |id| team_of.get(&id).copied())
                .into_iter()
                .map(|(team_id, waiting, direct)| Bottleneck {
                    workstream: None,
                    team_id: Some(team_id),
                    waiting,
                    direct,
                    ..self.measures(|id| team_of.get(&id) == Some(&team_id))
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

fn is_unfinished(ws: &workstream::Model) -> bool {
    !matches!(
        ws.status,
        WorkstreamStatus::Done | WorkstreamStatus::Cancelled
    )
}

impl Domain {
    /// Load and forecast a program the viewer may see: a constant number of
    /// statements whatever its size.
    pub async fn program_plan(
        &self,
        visibility: &Visibility,
        program: Visible<program::Model>,
    ) -> ApiResult<ProgramPlan> {
        let near = load_near(&self.db, program.id).await?;
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
        Ok(ProgramPlan {
            workstreams: visibility.admit_all(&self.db, own).await?,
            outside: visibility.admit_all(&self.db, outside).await?,
            dependencies: visibility.admit_all(&self.db, touching).await?,
            program,
            graph,
            schedule,
            today,
            todays,
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

    /// The program's dependency graph as Mermaid or DOT text.
    pub async fn dependency_graph(
        &self,
        plan: &ProgramPlan,
        format: GraphFormat,
        locale: Locale,
    ) -> ApiResult<String> {
        let team_ids: Vec<Uuid> = plan
            .workstreams
            .iter()
            .chain(plan.outside.iter())
            .filter_map(|ws| ws.team_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let teams: HashMap<Uuid, String> = if team_ids.is_empty() {
            HashMap::new()
        } else {
            team::Entity::find()
                .filter(team::Column::Id.is_in(team_ids))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|t| (t.id, t.name))
                .collect()
        };
        let critical: HashSet<Uuid> = plan.schedule.critical_path.iter().copied().collect();
        let critical_edges: HashSet<(Uuid, Uuid)> = plan
            .schedule
            .critical_path
            .windows(2)
            .map(|pair| (pair[0], pair[1]))
            .collect();
        let dependencies: Vec<&Visible<dependency::Model>> = plan.visible_dependencies().collect();
        let mut shown: Vec<&Visible<workstream::Model>> = plan.workstreams.iter().collect();
        for dep in &dependencies {
            for end in [dep.upstream_id, dep.downstream_id] {
                if !shown.iter().any(|ws| ws.id == end)
                    && let Some(ws) = plan.workstream(end)
                {
                    shown.push(ws);
                }
            }
        }
        let nodes: Vec<render::Node> = shown
            .iter()
            .map(|ws| render::Node {
                id: ws.id,
                label: ws.name.clone(),
                team: ws
                    .team_id
                    .and_then(|id| teams.get(&id).map(|name| (id, name.clone()))),
                external: ws.program_id != plan.program.id,
                critical: critical.contains(&ws.id),
            })
            .collect();
        let arrows: Vec<render::Arrow> = dependencies
            .iter()
            .map(|dep| render::Arrow {
                upstream: dep.upstream_id,
                downstream: dep.downstream_id,
                critical: critical_edges.contains(&(dep.upstream_id, dep.downstream_id)),
                troubled: plan.is_overdue(dep) || dep.status == DependencyStatus::Blocked,
            })
            .collect();
        let no_team = Message::NoTeam.text(locale);
        Ok(match format {
            GraphFormat::Mermaid => render::mermaid(&nodes, &arrows, &no_team),
            GraphFormat::Dot => render::dot(&nodes, &arrows, &no_team),
        })
    }

    /// The executive brief in `locale`, of what `viewer` may see.
    pub async fn brief(
        &self,
        viewer: &Viewer,
        plan: &ProgramPlan,
        locale: Locale,
    ) -> ApiResult<String> {
        Ok(brief::render(
            &self.brief_facts(viewer, plan).await?,
            locale,
        ))
    }

    /// Everything the brief says, in any language, of what `viewer` may see.
    pub async fn brief_facts(&self, viewer: &Viewer, plan: &ProgramPlan) -> ApiResult<BriefFacts> {
        use crate::planning::brief::{DECISION_HORIZON_DAYS, Localized, MilestoneLine};
        use entity::milestone;

        let program_id = plan.program.id;
        let latest = status_update::Entity::find()
            .filter(status_update::Column::ProgramId.eq(program_id))
            .order_by_desc(status_update::Column::CreatedAt)
            .order_by_desc(status_update::Column::Id)
            .one(&self.db)
            .await?;
        let mut risks = risk::Entity::find()
            .filter(risk::Column::ProgramId.eq(program_id))
            .filter(risk::Column::Status.is_in([RiskStatus::Open, RiskStatus::Mitigating]))
            .order_by_desc(risk::Column::Score)
            .order_by_asc(risk::Column::CreatedAt)
            .limit(5)
            .all(&self.db)
            .await?;
        risks.truncate(5);
        let decisions = decision::Entity::find()
            .filter(decision::Column::ProgramId.eq(program_id))
            .filter(decision::Column::Status.eq(DecisionStatus::Proposed))
            .all(&self.db)
            .await?;
        let overdue_milestones = milestone::Entity::find()
            .filter(milestone::Column::ProgramId.eq(program_id))
            .filter(milestone::Column::CompletedAt.is_null())
            .filter(milestone::Column::DueDate.lt(plan.today))
            .order_by_asc(milestone::Column::DueDate)
            .order_by_asc(milestone::Column::Name)
            .limit(10)
            .all(&self.db)
            .await?;
        let owner_ids: Vec<Uuid> = risks.iter().filter_map(|r| r.owner_id).collect();
        let owners: HashMap<Uuid, String> = if owner_ids.is_empty() {
            HashMap::new()
        } else {
            user::Entity::find()
                .filter(user::Column::Id.is_in(owner_ids))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|u| (u.id, u.name))
                .collect()
        };
        let mut since = Condition::all().add(audit_event::Column::ProgramId.eq(program_id));
        if let Some(latest) = &latest {
            // Changes after the update, not the posting of the update itself.
            since = since
                .add(audit_event::Column::At.gt(latest.created_at))
                .add(audit_event::Column::EntityId.ne(latest.id));
        }
        // Counted over the history the viewer may read, so nothing about a
        // program hidden from them is counted.
        let counts = access::visible(viewer, audit_event::Entity::find())?
            .narrow(since)
            .count_by_pair(
                &self.db,
                audit_event::Column::EntityType,
                audit_event::Column::Action,
            )
            .await?;
        let mut changes: Vec<(Subject, Verb, usize)> = counts
            .into_iter()
            .filter_map(|(entity_type, action, n)| {
                Some((
                    Subject::parse(&entity_type)?,
                    Verb::of_action(&action)?,
                    usize::try_from(n).ok()?,
                ))
            })
            .collect();
        changes.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));

        let name_of = |id: Uuid| {
            plan.workstream(id)
                .map_or_else(|| "?".to_owned(), |ws| ws.name.clone())
        };
        let critical_path: Vec<String> = plan
            .own_workstreams(&plan.schedule.critical_path)
            .iter()
            .map(|ws| ws.name.clone())
            .collect();
        let line = |dep: &Visible<dependency::Model>| DependencyLine {
            upstream: name_of(dep.upstream_id),
            downstream: name_of(dep.downstream_id),
            needed_by: dep.needed_by,
            committed: dep.committed_date,
        };
        let overdue = plan.overdue();
        let at_risk = plan.at_risk();
        let mut pending: Vec<DecisionLine> = decisions
            .into_iter()
            .map(|d| DecisionLine {
                title: d.title,
                due: d.due_date,
            })
            .collect();
        pending.sort_by_key(|d| (d.due.is_none(), d.due, d.title.clone()));
        // Decisions carry no workstream, so "needed now" is by due date alone.
        let horizon = plan.today + chrono::Days::new(DECISION_HORIZON_DAYS.unsigned_abs());
        let decisions_needed = pending
            .iter()
            .filter(|d| d.due.is_some_and(|due| due <= horizon))
            .cloned()
            .collect();
        let health_reason = latest.as_ref().map(|u| Localized {
            original: u.summary.clone(),
            translations: super::status_updates::translations(u)
                .into_iter()
                .map(|t| (t.locale, t.summary))
                .collect(),
        });
        let facts = BriefFacts {
            name: plan.program.name.clone(),
            key: plan.program.key.clone(),
            health: plan.program.health,
            // Computed health is wired in once `Program.computedHealth` lands.
            computed_health: None,
            health_reason,
            forecast: plan.schedule.finish_date,
            target: plan.program.target_date,
            critical_path,
            critical_days: plan.schedule.critical_path_days,
            unscheduled: plan.schedule.unscheduled.len(),
            blocker: biggest_blocker(plan, &overdue, &at_risk, &line),
            overdue: overdue.iter().map(line).collect(),
            at_risk: at_risk.iter().map(line).collect(),
            top_risks: risks
                .into_iter()
                .map(|r| RiskLine {
                    owner: r.owner_id.and_then(|id| owners.get(&id).cloned()),
                    title: r.title,
                    score: r.score,
                })
                .collect(),
            pending_decisions: pending,
            today: plan.today,
            decisions_needed,
            overdue_milestones: overdue_milestones
                .into_iter()
                .filter_map(|m| {
                    Some(MilestoneLine {
                        workstream: name_of(m.workstream_id),
                        due: m.due_date?,
                        name: m.name,
                    })
                })
                .collect(),
            last_update: latest.as_ref().map(|u| u.created_at.date_naive()),
            forecast_at_last_update: latest.and_then(|u| u.forecast_finish),
            changes,
        };
        Ok(facts)
    }
}

/// The one thing blocking the most work: the overdue or at-risk dependency
/// whose downstream holds up the most workstreams (overdue first, then the
/// earliest needed), else the workstream the most open work waits on.
fn biggest_blocker(
    plan: &ProgramPlan,
    overdue: &[Visible<dependency::Model>],
    at_risk: &[Visible<dependency::Model>],
    line: &impl Fn(&Visible<dependency::Model>) -> DependencyLine,
) -> Option<crate::planning::brief::Blocker> {
    use crate::planning::brief::Blocker;

    let bottlenecks = plan.bottlenecks(usize::MAX);
    let waiting_on = |id: Uuid| {
        bottlenecks
            .iter()
            .find(|(ws, _, _)| ws.id == id)
            .map_or(0, |(_, total, _)| *total)
    };
    let troubled = overdue
        .iter()
        .map(|dep| (dep, true))
        .chain(at_risk.iter().map(|dep| (dep, false)))
        .map(|(dep, is_overdue)| (dep, is_overdue, 1 + waiting_on(dep.downstream_id)))
        .min_by(|a, b| {
            b.2.cmp(&a.2)
                .then(b.1.cmp(&a.1))
                .then(a.0.needed_by.is_none().cmp(&b.0.needed_by.is_none()))
                .then(a.0.needed_by.cmp(&b.0.needed_by))
                .then(a.0.id.cmp(&b.0.id))
        });
    if let Some((dep, overdue, waiting)) = troubled {
        return Some(Blocker::Dependency {
            line: line(dep),
            overdue,
            waiting,
        });
    }
    bottlenecks
        .first()
        .map(|(ws, waiting, _)| Blocker::Bottleneck {
            workstream: ws.name.clone(),
            waiting: *waiting,
        })
}
