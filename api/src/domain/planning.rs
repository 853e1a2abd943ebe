//! Planning over stored data: loads a program's graph in a constant number
//! of statements and hands it to the pure algorithms in `crate::planning`.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use entity::{
    audit_event::{self, Subject, Verb},
    decision, dependency,
    enums::{DecisionStatus, DependencyStatus, Locale, RiskStatus},
    program, risk, status_update, team, user, workstream,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Visibility, Visible},
    dependencies::is_overdue,
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;
use crate::planning::{
    PlanGraph, Task, bottlenecks,
    brief::{self, BriefFacts, DecisionLine, DependencyLine, RiskLine},
    render,
    schedule::{self, Schedule, SlipImpact},
};

/// Longest slip `slipImpact` will model, in days.
pub const MAX_SLIP_DAYS: i64 = 3650;

/// A program's workstreams and dependencies, ready for analysis.
///
/// The schedule is computed over everything that constrains the program,
/// including workstreams in programs the viewer cannot see (only the
/// resulting dates show); what the plan hands out is what the viewer may see.
pub struct ProgramPlan {
    /// The program.
    pub program: Visible<program::Model>,
    /// Its workstreams.
    workstreams: Vec<Visible<workstream::Model>>,
    /// Workstreams of other programs linked to this program's by a
    /// dependency, those the viewer may see.
    outside: Vec<Visible<workstream::Model>>,
    /// Dependencies touching the program's workstreams whose both ends the
    /// viewer may see.
    dependencies: Vec<Visible<dependency::Model>>,
    /// The plan as the algorithms see it: every task and edge.
    graph: PlanGraph,
    /// The computed schedule.
    pub schedule: Schedule,
    /// The day the plan was computed on.
    pub today: NaiveDate,
}

/// Output formats of the dependency graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    /// Mermaid flowchart.
    Mermaid,
    /// Graphviz DOT.
    Dot,
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

    /// Visible dependencies past their need date and not resolved.
    pub fn overdue(&self) -> Vec<Visible<dependency::Model>> {
        self.visible_dependencies()
            .filter(|dep| is_overdue(dep, self.today))
            .cloned()
            .collect()
    }

    /// Visible dependencies marked at risk or blocked, or promised after they are needed.
    pub fn at_risk(&self) -> Vec<Visible<dependency::Model>> {
        self.visible_dependencies()
            .filter(|dep| dep.status != DependencyStatus::Resolved && !is_overdue(dep, self.today))
            .filter(|dep| {
                matches!(
                    dep.status,
                    DependencyStatus::AtRisk | DependencyStatus::Blocked
                ) || matches!((dep.committed_date, dep.needed_by), (Some(c), Some(n)) if c > n)
            })
            .cloned()
            .collect()
    }

    /// In-program workstreams most other work waits on, counted over the
    /// dependencies the viewer may see: `(workstream, transitive, direct)`.
    pub fn bottlenecks(&self, limit: usize) -> Vec<(Visible<workstream::Model>, usize, usize)> {
        let ids: Vec<Uuid> = self.workstreams.iter().map(|ws| ws.id).collect();
        let edges: Vec<(Uuid, Uuid)> = self
            .dependencies
            .iter()
            .filter(|dep| dep.status != DependencyStatus::Resolved)
            .map(|dep| (dep.upstream_id, dep.downstream_id))
            .collect();
        bottlenecks::downstream_counts(&ids, &edges)
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
}

fn plan_graph(
    workstreams: &[workstream::Model],
    outside: &[workstream::Model],
    dependencies: &[dependency::Model],
) -> PlanGraph {
    let tasks = workstreams
        .iter()
        .map(|ws| (ws, false))
        .chain(outside.iter().map(|ws| (ws, true)))
        .map(|(ws, external)| Task {
            id: ws.id,
            start: ws.start_date,
            target: ws.target_date,
            external,
        })
        .collect();
    PlanGraph {
        tasks,
        edges: dependencies
            .iter()
            .map(|dep| (dep.upstream_id, dep.downstream_id))
            .collect(),
    }
}

impl Domain {
    /// Load and schedule a program the viewer may see: a constant number of
    /// statements whatever its size.
    pub async fn program_plan(
        &self,
        visibility: &Visibility,
        program: Visible<program::Model>,
    ) -> ApiResult<ProgramPlan> {
        let (workstreams, outside, dependencies) = load_graph(&self.db, program.id).await?;
        let graph = plan_graph(&workstreams, &outside, &dependencies);
        let schedule = schedule::schedule(&graph);
        Ok(ProgramPlan {
            workstreams: visibility.admit_all(&self.db, workstreams).await?,
            outside: visibility.admit_all(&self.db, outside).await?,
            dependencies: visibility.admit_all(&self.db, dependencies).await?,
            program,
            graph,
            schedule,
            today: self.today(),
        })
    }

    /// What moves if a workstream of the program finishes `days` later.
    pub fn slip_impact(
        plan: &ProgramPlan,
        workstream_id: Uuid,
        days: i64,
    ) -> ApiResult<SlipImpact> {
        if !(0..=MAX_SLIP_DAYS).contains(&days) {
            return Err(ApiError::bad_input(
                "days",
                Message::OutOfRange {
                    min: 0,
                    max: MAX_SLIP_DAYS,
                },
            ));
        }
        if !plan.workstreams.iter().any(|ws| ws.id == workstream_id) {
            return Err(ApiError::bad_input("workstreamId", Message::NotFound));
        }
        schedule::slip_impact(&plan.graph, workstream_id, days)
            .ok_or_else(|| ApiError::bad_input("workstreamId", Message::Unscheduled))
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
        let today = plan.today;
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
                troubled: is_overdue(dep, today) || dep.status == DependencyStatus::Blocked,
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

/// The program's workstreams, the outside workstreams they wait on, and
/// every dependency touching them: three statements.
async fn load_graph(
    db: &impl ConnectionTrait,
    program_id: Uuid,
) -> ApiResult<(
    Vec<workstream::Model>,
    Vec<workstream::Model>,
    Vec<dependency::Model>,
)> {
    let workstreams = workstream::Entity::find()
        .filter(workstream::Column::ProgramId.eq(program_id))
        .order_by_asc(workstream::Column::CreatedAt)
        .order_by_asc(workstream::Column::Id)
        .all(db)
        .await?;
    let in_program = Query::select()
        .column(workstream::Column::Id)
        .from(workstream::Entity)
        .and_where(Expr::col(workstream::Column::ProgramId).eq(program_id))
        .to_owned();
    let dependencies = dependency::Entity::find()
        .filter(
            Condition::any()
                .add(dependency::Column::ProgramId.eq(program_id))
                .add(dependency::Column::UpstreamId.in_subquery(in_program.clone()))
                .add(dependency::Column::DownstreamId.in_subquery(in_program)),
        )
        .all(db)
        .await?;
    let own: HashSet<Uuid> = workstreams.iter().map(|ws| ws.id).collect();
    let outside_ids: HashSet<Uuid> = dependencies
        .iter()
        .flat_map(|dep| [dep.upstream_id, dep.downstream_id])
        .filter(|id| !own.contains(id))
        .collect();
    let outside = if outside_ids.is_empty() {
        Vec::new()
    } else {
        workstream::Entity::find()
            .filter(workstream::Column::Id.is_in(outside_ids))
            .all(db)
            .await?
    };
    Ok((workstreams, outside, dependencies))
}

/// The forecast finish of a program from its schedule (used for status-update snapshots).
pub async fn forecast_finish(
    db: &impl ConnectionTrait,
    program_id: Uuid,
) -> ApiResult<Option<NaiveDate>> {
    let (workstreams, outside, dependencies) = load_graph(db, program_id).await?;
    Ok(schedule::schedule(&plan_graph(&workstreams, &outside, &dependencies)).finish_date)
}
