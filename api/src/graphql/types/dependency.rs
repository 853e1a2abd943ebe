//! `Dependency`, its status enum and the filter and order of dependency lists.

use std::collections::HashSet;

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use entity::dependency;
use uuid::Uuid;

use super::{
    User,
    connection::{ListConnection, connection, page_args},
    enums::{order_input, order_of},
    workstream::Workstream,
};
use crate::domain::access::Visible;
use crate::domain::dependencies::{
    self as domain_dependencies, DependencyFilter as DomainFilter,
    DependencyOrderField as DomainField,
};
use crate::error::ApiError;
use crate::graphql::context::loaders;
use crate::graphql::prefetch;
use crate::graphql::scalars::Instant;
use crate::graphql::work::Text;
use crate::graphql::{context::scope, scalars::Date};
use crate::i18n::Message;

/// Where a dependency stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::DependencyStatus")]
pub enum DependencyStatus {
    /// Not delivered yet; nothing suggests trouble.
    Open,
    /// Delivery could come too late.
    AtRisk,
    /// The downstream workstream is stuck waiting.
    Blocked,
    /// Delivered; the downstream no longer waits.
    Resolved,
}

/// Which dependencies to list.
#[derive(InputObject, Default)]
pub struct DependencyFilter {
    /// Only dependencies in one of these statuses.
    pub status: Option<Vec<DependencyStatus>>,
    /// Only overdue (`true`) or only not overdue (`false`) dependencies.
    pub overdue: Option<bool>,
}

/// Sortable fields of dependencies.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::dependencies::DependencyOrderField")]
pub enum DependencyOrderField {
    /// Day the downstream needs the delivery (dependencies without one come last).
    NeededBy,
    /// Creation time.
    CreatedAt,
    /// Status in the order OPEN, AT_RISK, BLOCKED, RESOLVED.
    Status,
}

order_input! {
    /// Order of a dependency list; ties are broken by id.
    DependencyOrder { field: DependencyOrderField => DomainField }
}

/// Filter, order and page loaded dependencies (loaders hand out only those
/// whose both ends are visible) as the connection a list field returns.
#[allow(clippy::too_many_arguments)]
pub async fn page_dependencies(
    ctx: &Context<'_>,
    rows: Vec<Visible<dependency::Model>>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
    filter: Option<DependencyFilter>,
    order_by: Option<DependencyOrder>,
) -> Result<ListConnection<Dependency>> {
    let (domain, _) = scope(ctx)?;
    let filter = filter.unwrap_or_default();
    let filter = DomainFilter {
        status: filter
            .status
            .map(|s| s.into_iter().map(Into::into).collect()),
        overdue: filter.overdue,
    };
    // Overdue in each dependency's downstream program's time zone (only
    // read when the filter asks).
    let todays = if filter.overdue.is_some() {
        loaders(ctx)?
            .todays(rows.iter().map(|row| row.program_id))
            .await?
    } else {
        Default::default()
    };
    let today = domain.today();
    let page = domain.page_loaded(
        rows,
        |row| filter.matches(row, todays.get(&row.program_id).copied().unwrap_or(today)),
        order_of(order_by, DomainField::CreatedAt),
        &page_args(first, after, last, before),
        |row| row.id,
    )?;
    let rows: Vec<_> = page.items.iter().map(|(_, row)| row).collect();
    prefetch::dependencies(ctx, &prefetch::Ahead::nodes(ctx), &rows).await?;
    Ok(connection(page, Dependency))
}

async fn workstream(ctx: &Context<'_>, id: Uuid) -> Result<Workstream> {
    let loaders = loaders(ctx)?;
    Ok(loaders
        .workstreams
        .load_one(id)
        .await?
        .map(Workstream)
        .ok_or(ApiError::NotFound(Message::NotFound))?)
}

/// One workstream waiting on another.
pub struct Dependency(pub Visible<dependency::Model>);

impl Dependency {
    /// The forecast of the downstream's program, which includes the upstream's.
    async fn plan(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<std::sync::Arc<crate::domain::planning::ProgramPlan>>> {
        if self.0.status == entity::enums::DependencyStatus::Resolved {
            return Ok(None);
        }
        let loaders = loaders(ctx)?;
        let Some(program) = loaders.programs.load_one(self.0.program_id).await? else {
            return Ok(None);
        };
        Ok(Some(loaders.plan(&program).await?))
    }
}

/// A downstream workstream waiting on an upstream one to deliver, possibly
/// across programs; visible only to those who can see both ends.
#[Object]
impl Dependency {
    /// Unique id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The workstream that must deliver.
    async fn upstream(&self, ctx: &Context<'_>) -> Result<Workstream> {
        workstream(ctx, self.0.upstream_id).await
    }
    /// The workstream that waits for the delivery.
    async fn downstream(&self, ctx: &Context<'_>) -> Result<Workstream> {
        workstream(ctx, self.0.downstream_id).await
    }
    /// What is needed.
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
    /// Day the downstream workstream needs the delivery.
    async fn needed_by(&self) -> Option<Date> {
        self.0.needed_by.map(Date)
    }
    /// Where the dependency stands.
    async fn status(&self) -> DependencyStatus {
        self.0.status.into()
    }
    /// The upstream team's answer: REQUESTED on creation, then COMMITTED,
    /// DECLINED or DELIVERED (`commitDependency`, `declineDependency`,
    /// `deliverDependency`, by editors of the upstream program).
    async fn commitment(&self) -> super::enums::Commitment {
        self.0.commitment.into()
    }
    /// Day the upstream team promised to deliver (while COMMITTED, and kept once DELIVERED).
    async fn committed_date(&self) -> Option<Date> {
        self.0.committed_date.map(Date)
    }
    /// What the upstream team said with its commitment.
    async fn commitment_note(&self) -> Option<Text<&str>> {
        self.0.commitment_note.as_deref().map(Text)
    }
    /// Why the upstream team declined (while DECLINED).
    async fn decline_reason(&self) -> Option<Text<&str>> {
        self.0.decline_reason.as_deref().map(Text)
    }
    /// Day the upstream team delivered (once DELIVERED).
    async fn delivered_on(&self) -> Option<Date> {
        self.0.delivered_on.map(Date)
    }
    /// Who made the promise for the upstream team.
    async fn committed_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(user_id) = self.0.committed_by_id else {
            return Ok(None);
        };
        let loaders = loaders(ctx)?;
        Ok(loaders.users.load_one(user_id).await?.map(User))
    }
    /// Whether it is not RESOLVED and `neededBy` is before today in the downstream program's time zone.
    async fn is_overdue(&self, ctx: &Context<'_>) -> Result<bool> {
        let today = loaders(ctx)?.today_of(self.0.program_id).await?;
        Ok(domain_dependencies::is_overdue(&self.0, today))
    }
    /// When delivery is predicted: the later of the upstream's forecast
    /// finish (in whichever program it is) and `committedDate`; null once RESOLVED.
    async fn predicted_delivery(&self, ctx: &Context<'_>) -> Result<Option<Date>> {
        Ok(self
            .plan(ctx)
            .await?
            .and_then(|plan| plan.predicted_delivery(&self.0))
            .map(Date))
    }
    /// Whether the predicted delivery is after `neededBy`.
    async fn is_predicted_late(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self
            .plan(ctx)
            .await?
            .is_some_and(|plan| plan.is_predicted_late(&self.0)))
    }
    /// Days from `neededBy` to `committedDate`: positive when the promise lands
    /// after the need; null when either date is missing.
    async fn commitment_gap_days(&self) -> Option<i32> {
        domain_dependencies::commitment_gap_days(&self.0).and_then(|days| i32::try_from(days).ok())
    }
    /// The conversation on this dependency, oldest first.
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
            |loaders| &loaders.comments_by_dependency,
            self.0.id,
            first,
            after,
            last,
            before,
        )
        .await
    }
    /// Optimistic-concurrency version; pass it as `expectedVersion` when changing the dependency.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When the dependency was recorded.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When the dependency was last changed.
    async fn updated_at(&self) -> Instant {
        Instant(self.0.updated_at)
    }
}

/// `Program.dependencies`: every dependency touching the program's
/// workstreams at either end whose both ends are visible, then filtered,
/// ordered and paged.
#[allow(clippy::too_many_arguments)]
pub async fn program_dependencies(
    ctx: &Context<'_>,
    program_id: Uuid,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
    filter: Option<DependencyFilter>,
    order_by: Option<DependencyOrder>,
) -> Result<ListConnection<Dependency>> {
    let loaders = loaders(ctx)?;
    // Recorded here (the downstream end is in this program) and elsewhere
    // (the upstream end is), in one round.
    let (downstream_side, upstream_side) = futures::try_join!(
        loaders.dependencies_by_program.load_one(program_id),
        loaders
            .dependencies_by_upstream_program
            .load_one(program_id),
    )?;
    let mut rows = downstream_side.unwrap_or_default();
    let mut seen: HashSet<Uuid> = rows.iter().map(|row| row.id).collect();
    rows.extend(
        upstream_side
            .unwrap_or_default()
            .into_iter()
            .filter(|row| seen.insert(row.id)),
    );
    page_dependencies(ctx, rows, first, after, last, before, filter, order_by).await
}
