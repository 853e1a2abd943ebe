//! `Workstream`, its status enum and the filter and order of workstream lists.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use entity::workstream;

use super::{
    Program, User,
    connection::{ListConnection, connection, page_args},
    dependency::{Dependency, DependencyFilter, DependencyOrder, page_dependencies},
    enums::{Health, Priority, order_input, order_of},
    milestone::{Milestone, MilestoneFilter, MilestoneOrder},
    team::Team,
};
use crate::domain::Domain;
use crate::domain::access::Visible;
use crate::domain::loaders::group;
use crate::domain::pagination::{Page, PageArgs};
use crate::domain::workstreams::{
    WorkstreamFilter as DomainFilter, WorkstreamOrderField as DomainField,
};
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::loaders;
use crate::graphql::prefetch;
use crate::graphql::scalars::Instant;
use crate::graphql::work::Text;
use crate::graphql::{
    context::{parse_optional_id, scope},
    scalars::Date,
};
use crate::i18n::Message;

/// Lifecycle of a workstream.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::WorkstreamStatus")]
pub enum WorkstreamStatus {
    /// Work has not started.
    NotStarted,
    /// Work is under way.
    InProgress,
    /// Work cannot proceed until something changes.
    Blocked,
    /// Work is finished.
    Done,
    /// Work was stopped for good.
    Cancelled,
}

/// Which workstreams to list.
#[derive(InputObject, Default)]
pub struct WorkstreamFilter {
    /// Only workstreams in one of these statuses.
    pub status: Option<Vec<WorkstreamStatus>>,
    /// Only workstreams with one of these healths.
    pub health: Option<Vec<Health>>,
    /// Only workstreams staffed by this team.
    pub team_id: Option<ID>,
    /// Only workstreams led by this user.
    pub lead_id: Option<ID>,
    /// Case-insensitive text contained in the name.
    pub search: Option<String>,
    /// Only workstreams whose target date is on or after this day.
    pub target_date_from: Option<Date>,
    /// Only workstreams whose target date is on or before this day.
    pub target_date_to: Option<Date>,
    /// Only workstreams with one of these priorities.
    pub priority: Option<Vec<Priority>>,
}

impl WorkstreamFilter {
    fn into_domain(self) -> ApiResult<DomainFilter> {
        Ok(DomainFilter {
            status: self.status.map(|s| s.into_iter().map(Into::into).collect()),
            health: self.health.map(|h| h.into_iter().map(Into::into).collect()),
            team_id: parse_optional_id("filter.teamId", self.team_id.as_ref())?,
            lead_id: parse_optional_id("filter.leadId", self.lead_id.as_ref())?,
            search: self.search,
            target_date_from: self.target_date_from.map(Into::into),
            target_date_to: self.target_date_to.map(Into::into),
            priority: self
                .priority
                .map(|p| p.into_iter().map(Into::into).collect()),
        })
    }
}

/// Sortable fields of workstreams.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::workstreams::WorkstreamOrderField")]
pub enum WorkstreamOrderField {
    /// Display name.
    Name,
    /// Start date (workstreams without one come last).
    StartDate,
    /// Target date (workstreams without one come last).
    TargetDate,
    /// Status in lifecycle order: NOT_STARTED, IN_PROGRESS, BLOCKED, DONE, CANCELLED.
    Status,
    /// Priority, most urgent first: P0, P1, P2, P3.
    Priority,
    /// Creation time.
    CreatedAt,
}

order_input! {
    /// Order of a workstream list; ties are broken by id.
    WorkstreamOrder { field: WorkstreamOrderField => DomainField }
}

/// Filter, order and page workstreams already loaded and restricted to
/// visible programs, as the connection a list field returns.
#[allow(clippy::too_many_arguments)]
pub async fn page_workstreams(
    ctx: &Context<'_>,
    rows: Vec<Visible<workstream::Model>>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
    filter: Option<WorkstreamFilter>,
    order_by: Option<WorkstreamOrder>,
) -> Result<ListConnection<Workstream>> {
    let (domain, _) = scope(ctx)?;
    let args = page_args(first, after, last, before);
    let page = workstream_page(domain, rows, &args, filter, order_by)?;
    let rows: Vec<_> = page.items.iter().map(|(_, row)| row).collect();
    prefetch::workstreams(ctx, &prefetch::Ahead::nodes(ctx), &rows).await?;
    Ok(connection(page, Workstream))
}

/// The page of workstreams `rows` a list field with these arguments shows.
pub fn workstream_page(
    domain: &Domain,
    rows: Vec<Visible<workstream::Model>>,
    args: &PageArgs,
    filter: Option<WorkstreamFilter>,
    order_by: Option<WorkstreamOrder>,
) -> ApiResult<Page<Visible<workstream::Model>>> {
    let filter = filter.unwrap_or_default().into_domain()?;
    domain.page_loaded(
        rows,
        |row| filter.matches(row),
        order_of(order_by, DomainField::CreatedAt),
        args,
        |row| row.id,
    )
}

/// A stream of work inside a program.
pub struct Workstream(pub Visible<workstream::Model>);

/// A stream of work inside a program, staffed by a team and led by one person.
#[Object]
impl Workstream {
    /// Unique id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The program the workstream belongs to.
    async fn program(&self, ctx: &Context<'_>) -> Result<Program> {
        let loaders = loaders(ctx)?;
        Ok(loaders
            .programs
            .load_one(self.0.program_id)
            .await?
            .map(Program)
            .ok_or(ApiError::NotFound(Message::NotFound))?)
    }
    /// Display name.
    async fn name(&self) -> Text<&str> {
        Text(&self.0.name)
    }
    /// Longer description.
    async fn description(&self) -> Option<Text<&str>> {
        self.0.description.as_deref().map(Text)
    }
    /// Its id in another tool (a Jira key, a GitHub issue number), unique in its program.
    async fn external_id(&self) -> Option<Text<&str>> {
        self.0.external_id.as_deref().map(Text)
    }
    /// Where its work is tracked in other tools.
    async fn links(&self) -> Vec<super::link::Link> {
        super::link::links_of(&self.0.links)
    }
    /// The team doing the work.
    async fn team(&self, ctx: &Context<'_>) -> Result<Option<Team>> {
        let Some(team_id) = self.0.team_id else {
            return Ok(None);
        };
        let loaders = loaders(ctx)?;
        Ok(loaders.teams.load_one(team_id).await?.map(Team))
    }
    /// The person leading the workstream.
    async fn lead(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(lead_id) = self.0.lead_id else {
            return Ok(None);
        };
        let loaders = loaders(ctx)?;
        Ok(loaders.users.load_one(lead_id).await?.map(User))
    }
    /// Lifecycle status.
    async fn status(&self) -> WorkstreamStatus {
        self.0.status.into()
    }
    /// How likely the workstream is to land on its target date.
    async fn health(&self) -> Health {
        self.0.health.into()
    }
    /// Planned first day.
    async fn start_date(&self) -> Option<Date> {
        self.0.start_date.map(Date)
    }
    /// Planned last day; never before `startDate`.
    async fn target_date(&self) -> Option<Date> {
        self.0.target_date.map(Date)
    }
    /// Percent complete, 0–100.
    async fn progress(&self) -> i32 {
        self.0.progress
    }
    /// How urgent it is against the rest of its team's work (`P2` unless set).
    async fn priority(&self) -> Priority {
        self.0.priority.into()
    }
    /// Estimated work in person-days, if estimated; spread over its forecast span in its team's load.
    async fn effort_days(&self) -> Option<f64> {
        self.0.effort_days
    }
    /// Day work actually started; set when the status first leaves NOT_STARTED.
    async fn started_on(&self) -> Option<Date> {
        self.0.started_on.map(Date)
    }
    /// Day work actually finished; set when the status becomes DONE.
    async fn finished_on(&self) -> Option<Date> {
        self.0.finished_on.map(Date)
    }
    /// The workstream's milestones (by creation time unless ordered otherwise).
    #[allow(clippy::too_many_arguments)]
    async fn milestones(
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
            MilestoneFilter,
        >,
        #[graphql(desc = "The order of the items (ties broken by id).")] order_by: Option<
            MilestoneOrder,
        >,
    ) -> Result<ListConnection<Milestone>> {
        let loaders = loaders(ctx)?;
        let rows = group(&loaders.milestones_by_workstream, self.0.id).await?;
        super::milestone::page_milestones(ctx, rows, first, after, last, before, filter, order_by)
            .await
    }
    /// Dependencies this workstream waits on (it is their downstream); only
    /// those whose upstream the viewer can see.
    #[allow(clippy::too_many_arguments)]
    async fn upstream(
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
            DependencyFilter,
        >,
        #[graphql(desc = "The order of the items (ties broken by id).")] order_by: Option<
            DependencyOrder,
        >,
    ) -> Result<ListConnection<Dependency>> {
        let loaders = loaders(ctx)?;
        let rows = group(&loaders.dependencies_by_downstream, self.0.id).await?;
        page_dependencies(ctx, rows, first, after, last, before, filter, order_by).await
    }
    /// Dependencies waiting on this workstream (it is their upstream); only
    /// those whose downstream the viewer can see.
    #[allow(clippy::too_many_arguments)]
    async fn downstream(
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
            DependencyFilter,
        >,
        #[graphql(desc = "The order of the items (ties broken by id).")] order_by: Option<
            DependencyOrder,
        >,
    ) -> Result<ListConnection<Dependency>> {
        let loaders = loaders(ctx)?;
        let rows = group(&loaders.dependencies_by_upstream, self.0.id).await?;
        page_dependencies(ctx, rows, first, after, last, before, filter, order_by).await
    }
    /// The conversation on this workstream, oldest first.
    async fn comments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n (at most the server's page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n (at most the server's page size).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> Result<ListConnection<super::comment::Comment>> {
        super::comment::comments_on(
            ctx,
            |loaders| &loaders.comments_by_workstream,
            self.0.id,
            first,
            after,
            last,
            before,
        )
        .await
    }
    /// Optimistic-concurrency version; pass it as `expectedVersion` when changing the workstream.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When the workstream was created.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When the workstream was last changed.
    async fn updated_at(&self) -> Instant {
        Instant(self.0.updated_at)
    }
}

/// `Program.workstreams`: the program's workstreams, loaded in one batch
/// with those of sibling programs, then filtered, ordered and paged.
#[allow(clippy::too_many_arguments)]
pub async fn program_workstreams(
    ctx: &Context<'_>,
    program_id: uuid::Uuid,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
    filter: Option<WorkstreamFilter>,
    order_by: Option<WorkstreamOrder>,
) -> Result<ListConnection<Workstream>> {
    let loaders = loaders(ctx)?;
    let rows = group(&loaders.workstreams_by_program, program_id).await?;
    page_workstreams(ctx, rows, first, after, last, before, filter, order_by).await
}
