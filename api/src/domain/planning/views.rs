//! What a plan looks like to people: the dependency graph as Mermaid or DOT
//! and the executive brief, gathered from the plan and rendered by the pure
//! `crate::planning` renderers.

use std::collections::{HashMap, HashSet};

use entity::{
    audit_event::{self, Subject, Verb},
    decision, dependency,
    enums::{DecisionStatus, DependencyStatus, Locale, RiskStatus},
    risk, status_update, team, user, workstream,
};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{GraphFormat, ProgramPlan};
use crate::auth::Viewer;
use crate::domain::{
    Domain,
    access::{self, Visible},
};
use crate::error::ApiResult;
use crate::i18n::Message;
use crate::planning::{
    brief::{self, BriefFacts, DecisionLine, DependencyLine, RiskLine, SpendLine},
    render,
};

impl Domain {
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
        let mut seen: HashSet<Uuid> = shown.iter().map(|ws| ws.id).collect();
        for dep in &dependencies {
            for end in [dep.upstream_id, dep.downstream_id] {
                if !seen.contains(&end)
                    && let Some(ws) = plan.workstream(end)
                {
                    seen.insert(end);
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

    /// The program's spend for the brief, from the costs `viewer` may see.
    async fn spend_line(
        &self,
        viewer: &Viewer,
        plan: &ProgramPlan,
    ) -> ApiResult<Option<SpendLine>> {
        let costs = access::visible(viewer, entity::cost::Entity::find())?
            .narrow(entity::cost::Column::ProgramId.eq(plan.program.id))
            .all(&self.db)
            .await?;
        let rows: Vec<&entity::cost::Model> = costs.iter().map(|row| &**row).collect();
        Ok(
            crate::domain::costs::spend(
                &plan.program,
                &rows,
                plan.today,
                plan.schedule.finish_date,
            )
            .map(|spend| SpendLine {
                total: spend.total,
                currency: spend.currency,
                budget_used_percent: spend.budget_used_percent,
                time_elapsed_percent: spend.time_elapsed_percent,
            }),
        )
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
        let overdue: Vec<_> = plan.overdue().cloned().collect();
        let at_risk: Vec<_> = plan.at_risk().cloned().collect();
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
            translations: crate::domain::status_updates::translations(u)
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
            spend: self.spend_line(viewer, plan).await?,
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
