//! `Program`.

use async_graphql::{Context, ID, Object, Result};
use entity::{enums::ProgramRole as StoredRole, program};
use uuid::Uuid;

use super::{
    AuditEvent, Dependency, Milestone, ProgramMember, Team, User, Workstream,
    connection::{ListConnection, connection, page_args},
    enums::Locale,
    enums::{Health, ProgramRole, ProgramStatus},
    health::ComputedHealth,
    milestone::{MilestoneFilter, MilestoneOrder},
    money::Money,
    planning::{
        self, Bottleneck, BottleneckGrouping, CriticalPath, GraphFormat, ScheduleEntry, SlipImpact,
    },
};
use crate::domain::access::Visible;
use crate::domain::loaders::group;
use crate::error::ApiError;
use crate::graphql::context::loaders;
use crate::graphql::scalars::Date;
use crate::graphql::scalars::Instant;
use crate::graphql::work::Text;
use crate::i18n::Message;

/// A cross-team program led by a TPM.
pub struct Program(pub Visible<program::Model>);

/// Which history entries to list.
#[derive(async_graphql::InputObject, Default)]
pub struct ActivityFilter {
    /// Only entries about this kind of entity, e.g. `Workstream`.
    pub entity_type: Option<String>,
    /// Only entries about this entity.
    pub entity_id: Option<ID>,
    /// Only entries by this user.
    pub actor_id: Option<ID>,
}

/// A cross-team program led by a TPM: workstreams, dependencies, decisions, risks and status.
#[Object]
impl Program {
    /// Unique id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Short unique key, e.g. `GDPR` or `K8S2026`.
    async fn key(&self) -> Text<&str> {
        Text(&self.0.key)
    }
    /// Display name.
    async fn name(&self) -> Text<&str> {
        Text(&self.0.name)
    }
    /// Longer description.
    async fn description(&self) -> Option<Text<&str>> {
        self.0.description.as_deref().map(Text)
    }
    /// What the program is meant to achieve.
    async fn objective(&self) -> Option<Text<&str>> {
        self.0.objective.as_deref().map(Text)
    }
    /// Lifecycle status.
    async fn status(&self) -> ProgramStatus {
        self.0.status.into()
    }
    /// Health, as set by the latest status update.
    async fn health(&self) -> Health {
        self.0.health.into()
    }
    /// First day of the program.
    async fn start_date(&self) -> Option<Date> {
        self.0.start_date.map(Date)
    }
    /// Day the program is meant to land.
    async fn target_date(&self) -> Option<Date> {
        self.0.target_date.map(Date)
    }
    /// IANA time zone in which "today" is taken for forecasts and overdue checks.
    async fn time_zone(&self) -> Text<&str> {
        Text(&self.0.time_zone)
    }
    /// Days the forecast may run past the target before the computed health is `OFF_TRACK`.
    async fn off_track_after_days(&self) -> i32 {
        self.0.off_track_after_days
    }
    /// Budget, if one is set.
    async fn budget(&self) -> Option<Money> {
        Money::stored(self.0.budget_amount, self.0.budget_currency.as_deref())
    }
    /// What the program is expected to return (benefit, savings, revenue), if set.
    async fn expected_benefit(&self) -> Option<Money> {
        Money::stored(
            self.0.expected_benefit_amount,
            self.0.expected_benefit_currency.as_deref(),
        )
    }
    /// What the program has spent, against its budget and the time elapsed;
    /// null until the program has a currency (a budget, an expected benefit or a cost).
    async fn spend(&self, ctx: &Context<'_>) -> Result<Option<super::cost::ProgramSpend>> {
        super::cost::program_spend(ctx, &self.0).await
    }
    /// Return on investment as a fraction: (expectedBenefit − spend.total) / spend.total;
    /// null without an expected benefit or with nothing spent.
    async fn roi(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        super::cost::program_roi(ctx, &self.0).await
    }
    /// Goals the program pursues that the reader may read, by target date.
    async fn goals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n (at most the server's page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n (at most the server's page size).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> Result<ListConnection<super::goal::Goal>> {
        super::goal::program_goals(ctx, self.0.id, first, after, last, before).await
    }
    /// Costs recorded against the program, newest first.
    async fn costs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n (at most the server's page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n (at most the server's page size).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> Result<ListConnection<super::Cost>> {
        super::cost::program_costs(ctx, self.0.id, first, after, last, before).await
    }
    /// The TPM who owns the program.
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let loaders = loaders(ctx)?;
        Ok(loaders.users.load_one(self.0.owner_id).await?.map(User))
    }
    /// Everyone with a role in the program, in the order they joined.
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "At most this many (default and largest: the server's list size, 1,000 unless configured)."
        )]
        first: Option<i32>,
    ) -> Result<Vec<ProgramMember>> {
        let loaders = loaders(ctx)?;
        let size = loaders.list_size(first)?;
        Ok(group(&loaders.members_by_program, self.0.id)
            .await?
            .into_iter()
            .take(size)
            .map(ProgramMember)
            .collect())
    }
    /// The program's workstreams (by creation time unless ordered otherwise).
    #[allow(clippy::too_many_arguments)]
    async fn workstreams(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Return the first n items (at most the server's page size, 100 unless configured)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (an edge's cursor, or pageInfo.endCursor)."
        )]
        after: Option<String>,
        #[graphql(desc = "Return the last n items (at most the server's page size).")] last: Option<
            i32,
        >,
        #[graphql(desc = "Return the items before this cursor (pageInfo.startCursor).")]
        before: Option<String>,
        #[graphql(desc = "Only the items matching every field set here.")] filter: Option<
            super::workstream::WorkstreamFilter,
        >,
        #[graphql(desc = "The order of the items (ties broken by id).")] order_by: Option<
            super::workstream::WorkstreamOrder,
        >,
    ) -> Result<ListConnection<super::Workstream>> {
        super::workstream::program_workstreams(
            ctx, self.0.id, first, after, last, before, filter, order_by,
        )
        .await
    }
    /// Every dependency touching the program's workstreams at either end, also
    /// across programs; only those whose both ends the viewer can see.
    #[allow(clippy::too_many_arguments)]
    async fn dependencies(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Return the first n items (at most the server's page size, 100 unless configured)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (an edge's cursor, or pageInfo.endCursor)."
        )]
        after: Option<String>,
        #[graphql(desc = "Return the last n items (at most the server's page size).")] last: Option<
            i32,
        >,
        #[graphql(desc = "Return the items before this cursor (pageInfo.startCursor).")]
        before: Option<String>,
        #[graphql(desc = "Only the items matching every field set here.")] filter: Option<
            super::dependency::DependencyFilter,
        >,
        #[graphql(desc = "The order of the items (ties broken by id).")] order_by: Option<
            super::dependency::DependencyOrder,
        >,
    ) -> Result<ListConnection<super::Dependency>> {
        super::dependency::program_dependencies(
            ctx, self.0.id, first, after, last, before, filter, order_by,
        )
        .await
    }
    /// The signed-in user's role in this program (null for an ADMIN who is not a member).
    async fn viewer_role(&self, ctx: &Context<'_>) -> Result<Option<ProgramRole>> {
        let loaders = loaders(ctx)?;
        Ok(loaders
            .viewer_roles
            .load_one(self.0.id)
            .await?
            .map(Into::into))
    }
    /// Whether the signed-in user may edit what is inside this program.
    async fn viewer_can_edit(&self, ctx: &Context<'_>) -> Result<bool> {
        let (_, viewer) = crate::graphql::context::scope(ctx)?;
        if viewer.is_admin() {
            return Ok(true);
        }
        let loaders = loaders(ctx)?;
        let role = loaders.viewer_roles.load_one(self.0.id).await?;
        Ok(matches!(role, Some(StoredRole::Owner | StoredRole::Editor)))
    }
    /// Where each scheduled workstream can sit on the calendar, in dependency order.
    async fn schedule(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "At most this many (default and largest: the server's list size, 1,000 unless configured)."
        )]
        first: Option<i32>,
    ) -> Result<Vec<ScheduleEntry>> {
        let loaders = loaders(ctx)?;
        let size = loaders.list_size(first)?;
        let plan = loaders.plan(&self.0).await?;
        Ok(planning::schedule_entries(&plan, size))
    }
    /// Workstreams missing a start or target date, left out of the schedule.
    async fn unscheduled_workstreams(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "At most this many (default and largest: the server's list size, 1,000 unless configured)."
        )]
        first: Option<i32>,
    ) -> Result<Vec<Workstream>> {
        let loaders = loaders(ctx)?;
        let size = loaders.list_size(first)?;
        let plan = loaders.plan(&self.0).await?;
        let unscheduled = &plan.schedule.unscheduled;
        Ok(planning::workstreams_of(
            &plan,
            &unscheduled[..size.min(unscheduled.len())],
        ))
    }
    /// The forecast finish: the latest forecast finish of any scheduled workstream.
    async fn forecast_finish_date(&self, ctx: &Context<'_>) -> Result<Option<Date>> {
        let plan = loaders(ctx)?.plan(&self.0).await?;
        Ok(plan.schedule.finish_date.map(Date))
    }
    /// The chain of zero-slack workstreams that sets the finish date.
    async fn critical_path(&self, ctx: &Context<'_>) -> Result<CriticalPath> {
        let plan = loaders(ctx)?.plan(&self.0).await?;
        Ok(planning::critical_path(&plan))
    }
    /// What moves if `workstreamId`, or every unfinished workstream of
    /// `teamId` in the program, finishes `days` later (0–3650), on the
    /// forecast; give one of the two. Nothing is written.
    async fn slip_impact(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The workstream that slips.")] workstream_id: Option<ID>,
        #[graphql(desc = "The team whose unfinished work in the program slips.")] team_id: Option<
            ID,
        >,
        #[graphql(desc = "How many days later it finishes (0 to 3650).")] days: i32,
    ) -> Result<SlipImpact> {
        use crate::domain::planning::Slipped;
        use crate::graphql::context::parse_id;
        let slipped = match (workstream_id, team_id) {
            (Some(id), None) => Slipped::Workstream(parse_id("workstreamId", &id)?),
            (None, Some(id)) => Slipped::Team(parse_id("teamId", &id)?),
            _ => {
                return Err(ApiError::bad_input(
                    "workstreamId",
                    Message::ExactlyOneOf {
                        fields: "workstreamId, teamId",
                    },
                )
                .into());
            }
        };
        let loaders = loaders(ctx)?;
        let plan = loaders.plan(&self.0).await?;
        let impact = crate::domain::Domain::slip_impact(&plan, slipped, days.into())?;
        // Milestones of every moved workstream the viewer can see, in any program.
        let moved: Vec<Uuid> = impact.affected.iter().map(|(id, _, _)| *id).collect();
        let milestones: Vec<_> = loaders
            .milestones_by_workstream
            .load_many(moved)
            .await?
            .into_values()
            .flatten()
            .collect();
        Ok(planning::slip_impact(&plan, impact, &milestones))
    }
    /// The program's milestones (by creation time unless ordered otherwise).
    #[allow(clippy::too_many_arguments)]
    async fn milestones(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n (at most the server's page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n (at most the server's page size).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
        #[graphql(desc = "Which milestones (all when absent).")] filter: Option<MilestoneFilter>,
        #[graphql(desc = "Their order (by creation time when absent; ties by id).")]
        order_by: Option<MilestoneOrder>,
    ) -> Result<ListConnection<Milestone>> {
        let loaders = loaders(ctx)?;
        let rows = group(&loaders.milestones_by_program, self.0.id).await?;
        super::milestone::page_milestones(ctx, rows, first, after, last, before, filter, order_by)
            .await
    }
    /// Health computed from the forecast, with its reasons; `health` stays the one last posted.
    async fn computed_health(&self, ctx: &Context<'_>) -> Result<ComputedHealth> {
        let loaders = loaders(ctx)?;
        Ok(ComputedHealth(loaders.computed_health(&self.0).await?))
    }
    /// Dependencies past their need date and not resolved.
    async fn overdue_dependencies(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "At most this many (default and largest: the server's list size, 1,000 unless configured)."
        )]
        first: Option<i32>,
    ) -> Result<Vec<Dependency>> {
        let loaders = loaders(ctx)?;
        let size = loaders.list_size(first)?;
        let plan = loaders.plan(&self.0).await?;
        Ok(plan.overdue().take(size).cloned().map(Dependency).collect())
    }
    /// Dependencies marked at risk or blocked, or promised after they are needed (not yet overdue).
    async fn at_risk_dependencies(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "At most this many (default and largest: the server's list size, 1,000 unless configured)."
        )]
        first: Option<i32>,
    ) -> Result<Vec<Dependency>> {
        let loaders = loaders(ctx)?;
        let size = loaders.list_size(first)?;
        let plan = loaders.plan(&self.0).await?;
        Ok(plan.at_risk().take(size).cloned().map(Dependency).collect())
    }
    /// Work the most other work waits on, most first (open dependencies only): workstreams, or teams with `groupBy: TEAM`.
    async fn bottlenecks(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default = 5,
            desc = "How many, most first (at most the server's list size, 1,000 unless configured)."
        )]
        first: i32,
        #[graphql(default, desc = "Count per workstream (default) or per team.")]
        group_by: BottleneckGrouping,
    ) -> Result<Vec<Bottleneck>> {
        let loaders = loaders(ctx)?;
        let limit = loaders.list_size(Some(first))?;
        let plan = loaders.plan(&self.0).await?;
        let rows = match group_by {
            BottleneckGrouping::Workstream => plan.workstream_bottlenecks(limit),
            BottleneckGrouping::Team => plan.team_bottlenecks(limit),
        };
        let team_ids: Vec<Uuid> = rows.iter().filter_map(|row| row.team_id).collect();
        let teams = loaders.teams.load_many(team_ids).await?;
        Ok(rows
            .into_iter()
            .map(|row| Bottleneck {
                team: row.team_id.and_then(|id| teams.get(&id).cloned()).map(Team),
                workstream: row.workstream.map(Workstream),
                downstream_count: row.waiting as i64,
                direct_downstream_count: row.direct as i64,
                overdue_deliveries: row.overdue_deliveries as i64,
                critical_path_share: row.critical_path_share,
            })
            .collect())
    }
    /// The dependency graph as text: workstreams grouped by team, the critical path highlighted.
    async fn dependency_graph(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "MERMAID for Markdown renderers, DOT for Graphviz.")] format: GraphFormat,
    ) -> Result<Text<String>> {
        let loaders = loaders(ctx)?;
        Ok(Text(
            loaders.dependency_graph(&self.0, format.into()).await?,
        ))
    }
    /// A concise Markdown executive brief (default: the viewer's language),
    /// opening with the paragraph `briefSummary` returns.
    async fn brief(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The language to write it in (default: the viewer's language).")]
        locale: Option<Locale>,
    ) -> Result<Text<String>> {
        let (_, viewer) = crate::graphql::context::scope(ctx)?;
        let locale = locale.map_or(viewer.locale, Into::into);
        let loaders = loaders(ctx)?;
        Ok(Text(loaders.brief(&self.0, locale).await?))
    }
    /// The brief's opening paragraph (default: the viewer's language): health,
    /// forecast against target and its trend since the last status update,
    /// the biggest blocker, the top risk and the decisions needed.
    async fn brief_summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The language to write it in (default: the viewer's language).")]
        locale: Option<Locale>,
    ) -> Result<Text<String>> {
        let (_, viewer) = crate::graphql::context::scope(ctx)?;
        let locale = locale.map_or(viewer.locale, Into::into);
        let loaders = loaders(ctx)?;
        Ok(Text(loaders.brief_summary(&self.0, locale).await?))
    }
    /// The program's history, newest first: every change to it and to everything in it.
    async fn activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Return the first n items (at most the server's page size, 100 unless configured)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (an edge's cursor, or pageInfo.endCursor)."
        )]
        after: Option<String>,
        #[graphql(desc = "Return the last n items (at most the server's page size).")] last: Option<
            i32,
        >,
        #[graphql(desc = "Return the items before this cursor (pageInfo.startCursor).")]
        before: Option<String>,
        #[graphql(desc = "Only the items matching every field set here.")] filter: Option<
            ActivityFilter,
        >,
    ) -> Result<ListConnection<AuditEvent>> {
        let (domain, viewer) = crate::graphql::context::scope(ctx)?;
        let filter = filter.unwrap_or_default();
        let page = Box::pin(domain.program_activity(
            viewer,
            self.0.id,
            crate::domain::members::ActivityFilter {
                entity_type: filter.entity_type,
                entity_id: crate::graphql::context::parse_optional_id(
                    "filter.entityId",
                    filter.entity_id.as_ref(),
                )?,
                actor_id: crate::graphql::context::parse_optional_id(
                    "filter.actorId",
                    filter.actor_id.as_ref(),
                )?,
            },
            &page_args(first, after, last, before),
        ))
        .await?;
        Ok(connection(page, AuditEvent))
    }
    /// Decisions of the program (default order: oldest first).
    #[allow(clippy::too_many_arguments)]
    async fn decisions(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Return the first n items (at most the server's page size, 100 unless configured)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (an edge's cursor, or pageInfo.endCursor)."
        )]
        after: Option<String>,
        #[graphql(desc = "Return the last n items (at most the server's page size).")] last: Option<
            i32,
        >,
        #[graphql(desc = "Return the items before this cursor (pageInfo.startCursor).")]
        before: Option<String>,
        #[graphql(desc = "Only the items matching every field set here.")] filter: Option<
            super::decision::DecisionFilter,
        >,
        #[graphql(desc = "The order of the items (ties broken by id).")] order_by: Option<
            super::decision::DecisionOrder,
        >,
    ) -> Result<ListConnection<super::Decision>> {
        super::decision::program_decisions(
            ctx, self.0.id, first, after, last, before, filter, order_by,
        )
        .await
    }
    /// Risks of the program (default order: oldest first).
    #[allow(clippy::too_many_arguments)]
    async fn risks(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Return the first n items (at most the server's page size, 100 unless configured)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (an edge's cursor, or pageInfo.endCursor)."
        )]
        after: Option<String>,
        #[graphql(desc = "Return the last n items (at most the server's page size).")] last: Option<
            i32,
        >,
        #[graphql(desc = "Return the items before this cursor (pageInfo.startCursor).")]
        before: Option<String>,
        #[graphql(desc = "Only the items matching every field set here.")] filter: Option<
            super::risk::RiskFilter,
        >,
        #[graphql(desc = "The order of the items (ties broken by id).")] order_by: Option<
            super::risk::RiskOrder,
        >,
    ) -> Result<ListConnection<super::Risk>> {
        super::risk::program_risks(ctx, self.0.id, first, after, last, before, filter, order_by)
            .await
    }
    /// Status updates of the program, newest first.
    async fn status_updates(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Return the first n items (at most the server's page size, 100 unless configured)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (an edge's cursor, or pageInfo.endCursor)."
        )]
        after: Option<String>,
        #[graphql(desc = "Return the last n items (at most the server's page size).")] last: Option<
            i32,
        >,
        #[graphql(desc = "Return the items before this cursor (pageInfo.startCursor).")]
        before: Option<String>,
    ) -> Result<ListConnection<super::StatusUpdate>> {
        super::status_update::program_status_updates(ctx, self.0.id, first, after, last, before)
            .await
    }
    /// Baselines of the program, newest first.
    async fn baselines(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n (at most the server's page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n (at most the server's page size).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> Result<ListConnection<super::Baseline>> {
        super::baseline::program_baselines(ctx, self.0.id, first, after, last, before).await
    }
    /// The plan (workstreams, milestones, dependencies, risks) as a file that `importProgram` reads back.
    async fn export(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "JSON or CSV.", default_with = "super::enums::PlanFormat::Json")]
        format: super::enums::PlanFormat,
    ) -> Result<Text<String>> {
        let (domain, viewer) = crate::graphql::context::scope(ctx)?;
        Ok(Text(
            Box::pin(domain.export_program(viewer, self.0.id, format.into())).await?,
        ))
    }
    /// The program's webhooks, newest first (OWNERs and ADMINs only; `FORBIDDEN` for others).
    async fn webhooks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n (at most the server's page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n (at most the server's page size).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> Result<ListConnection<super::Webhook>> {
        let (domain, viewer) = crate::graphql::context::scope(ctx)?;
        let rows = domain.program_webhooks(viewer, self.0.id).await?;
        let args = super::connection::page_args(first, after, last, before);
        let page = domain.page_newest_first(rows, "webhooks", &args, |w| w.created_at, |w| w.id)?;
        Ok(super::connection::connection(page, super::Webhook))
    }
    /// The forecast finish as status updates and baselines recorded it, oldest first.
    async fn forecast_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "At most this many, oldest first (default and largest: the server's list size, 1,000 unless configured)."
        )]
        first: Option<i32>,
    ) -> Result<Vec<super::ForecastPoint>> {
        let size = loaders(ctx)?.list_size(first)?;
        super::forecast_point::program_forecast_history(ctx, self.0.id, size).await
    }
    /// The most recent status update, if any.
    async fn latest_status_update(&self, ctx: &Context<'_>) -> Result<Option<super::StatusUpdate>> {
        super::status_update::program_latest_status_update(ctx, self.0.id).await
    }
    /// When the program was archived; archived programs are hidden from lists by default.
    async fn archived_at(&self) -> Option<Instant> {
        self.0.archived_at.map(Instant)
    }
    /// When the program was created.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When the program was last changed.
    async fn updated_at(&self) -> Instant {
        Instant(self.0.updated_at)
    }
    /// Optimistic-concurrency version; pass it as `expectedVersion` when updating.
    async fn version(&self) -> i32 {
        self.0.version
    }
}
