//! `Team`.

use async_graphql::{Context, ID, Object, Result};
use entity::team;

use super::{
    User,
    connection::{ListConnection, connection, page_args},
    team_load::{PriorityConflict, TeamLoad},
    workstream::{Workstream, WorkstreamFilter, WorkstreamOrder, page_workstreams},
};
use crate::domain::access::Visible;
use crate::domain::loaders::group;
use crate::graphql::context::{loaders, scope};
use crate::graphql::prefetch;
use crate::graphql::scalars::{Date, Instant};
use crate::graphql::work::Text;

/// An engineering team that staffs workstreams.
pub struct Team(pub Visible<team::Model>);

/// An engineering team that staffs workstreams, possibly across several programs.
#[Object]
impl Team {
    /// Unique id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Unique display name.
    async fn name(&self) -> Text<&str> {
        Text(&self.0.name)
    }
    /// Longer description.
    async fn description(&self) -> Option<Text<&str>> {
        self.0.description.as_deref().map(Text)
    }
    /// Who created the team; they (and administrators) may change it.
    async fn created_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(user_id) = self.0.created_by_id else {
            return Ok(None);
        };
        let loaders = loaders(ctx)?;
        Ok(loaders.users.load_one(user_id).await?.map(User))
    }
    /// The team's workstreams, only those in programs the viewer can see
    /// (by creation time unless ordered otherwise).
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
            WorkstreamFilter,
        >,
        #[graphql(desc = "The order of the items (ties broken by id).")] order_by: Option<
            WorkstreamOrder,
        >,
    ) -> Result<ListConnection<Workstream>> {
        let loaders = loaders(ctx)?;
        let rows = group(&loaders.workstreams_by_team, self.0.id).await?;
        page_workstreams(ctx, rows, first, after, last, before, filter, order_by).await
    }
    /// Person-days of work the team can do in a week; null when not set.
    async fn capacity_days_per_week(&self) -> Option<f64> {
        self.0.capacity_days_per_week
    }
    /// What the team has promised: its unfinished (not DONE or CANCELLED)
    /// workstreams in the programs the viewer can see, by priority (P0
    /// first), then forecast finish (unscheduled last), then id.
    async fn commitments(
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
    ) -> Result<ListConnection<Workstream>> {
        let (domain, _) = scope(ctx)?;
        let work = loaders(ctx)?.team_work(self.0.id).await?;
        let page = domain.page_commitments(work, &page_args(first, after, last, before))?;
        let rows: Vec<_> = page.items.iter().map(|(_, row)| row).collect();
        prefetch::workstreams(ctx, &prefetch::Ahead::nodes(ctx), &rows).await?;
        Ok(connection(page, Workstream))
    }
    /// Pairs of the team's unfinished P0 or P1 workstreams in different
    /// programs (both visible to the viewer) whose forecast spans overlap,
    /// by the first day of the overlap.
    async fn priority_conflicts(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "At most this many, from the first (default and largest: the server's list size, 1,000 unless configured)."
        )]
        first: Option<i32>,
    ) -> Result<Vec<PriorityConflict>> {
        let loaders = loaders(ctx)?;
        let size = loaders.list_size(first)?;
        let conflicts = loaders.priority_conflicts(self.0.id).await?;
        Ok(conflicts
            .into_iter()
            .take(size)
            .map(PriorityConflict)
            .collect())
    }
    /// The team's load in every ISO week (Monday to Sunday) touching the
    /// range from `from` to `to`, at most 104 weeks. Each of its unfinished
    /// workstreams in the programs the viewer can see spreads its effort
    /// evenly over the calendar days of its forecast span.
    async fn load(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first day of the range.")] from: Date,
        #[graphql(desc = "The last day of the range (not before `from`).")] to: Date,
    ) -> Result<TeamLoad> {
        let weeks = loaders(ctx)?
            .team_load(&self.0, from.into(), to.into())
            .await?;
        Ok(TeamLoad(weeks))
    }
    /// When the team was created.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When the team was last changed.
    async fn updated_at(&self) -> Instant {
        Instant(self.0.updated_at)
    }
    /// Optimistic-concurrency version; pass it as `expectedVersion` when changing the team.
    async fn version(&self) -> i32 {
        self.0.version
    }
}
