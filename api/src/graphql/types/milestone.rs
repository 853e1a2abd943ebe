//! `Milestone` and the filter and order of milestone lists.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use entity::milestone;

use super::{
    connection::{ListConnection, connection, page_args},
    enums::{order_input, order_of},
    workstream::Workstream,
};
use crate::domain::access::Visible;
use crate::domain::milestones::{
    MilestoneFilter as DomainFilter, MilestoneOrderField as DomainField, is_overdue,
};
use crate::error::ApiError;
use crate::graphql::context::loaders;
use crate::graphql::scalars::Instant;
use crate::graphql::work::Text;
use crate::graphql::{context::scope, scalars::Date};
use crate::i18n::Message;

/// Which milestones to list.
#[derive(InputObject, Default)]
pub struct MilestoneFilter {
    /// Only completed (`true`) or only open (`false`) milestones.
    pub completed: Option<bool>,
    /// Only milestones due on or after this day.
    pub due_from: Option<Date>,
    /// Only milestones due on or before this day.
    pub due_to: Option<Date>,
    /// Only milestones due before this day.
    pub due_before: Option<Date>,
    /// Only milestones due after this day.
    pub due_after: Option<Date>,
    /// Only overdue milestones (`true`: open and due before today in the program's time zone) or only the others (`false`).
    pub overdue: Option<bool>,
}

/// Sortable fields of milestones.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::milestones::MilestoneOrderField")]
pub enum MilestoneOrderField {
    /// Due date (milestones without one come last).
    DueDate,
    /// Display name.
    Name,
    /// Creation time.
    CreatedAt,
}

order_input! {
    /// Order of a milestone list; ties are broken by id.
    MilestoneOrder { field: MilestoneOrderField => DomainField }
}

/// Filter, order and page milestones already loaded, as the connection a
/// list field returns.
#[allow(clippy::too_many_arguments)]
pub async fn page_milestones(
    ctx: &Context<'_>,
    rows: Vec<Visible<milestone::Model>>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
    filter: Option<MilestoneFilter>,
    order_by: Option<MilestoneOrder>,
) -> Result<ListConnection<Milestone>> {
    let (domain, _) = scope(ctx)?;
    let filter = filter.unwrap_or_default();
    let overdue = match (filter.overdue, rows.first()) {
        (Some(overdue), Some(row)) => {
            Some((overdue, loaders(ctx)?.today_of(row.program_id).await?))
        }
        _ => None,
    };
    let filter = DomainFilter {
        completed: filter.completed,
        due_from: filter.due_from.map(Into::into),
        due_to: filter.due_to.map(Into::into),
        due_before: filter.due_before.map(Into::into),
        due_after: filter.due_after.map(Into::into),
        overdue,
    };
    let page = domain.page_loaded(
        rows,
        |row| filter.matches(row),
        order_of(order_by, DomainField::CreatedAt),
        &page_args(first, after, last, before),
        |row| row.id,
    )?;
    Ok(connection(page, Milestone))
}

/// A dated checkpoint of a workstream.
pub struct Milestone(pub Visible<milestone::Model>);

/// A dated checkpoint of a workstream.
#[Object]
impl Milestone {
    /// Unique id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The workstream the milestone belongs to.
    async fn workstream(&self, ctx: &Context<'_>) -> Result<Workstream> {
        let loaders = loaders(ctx)?;
        Ok(loaders
            .workstreams
            .load_one(self.0.workstream_id)
            .await?
            .map(Workstream)
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
    /// Day the milestone is due.
    async fn due_date(&self) -> Option<Date> {
        self.0.due_date.map(Date)
    }
    /// When the milestone was reached; null while it is open.
    async fn completed_at(&self) -> Option<Instant> {
        self.0.completed_at.map(Instant)
    }
    /// Whether the milestone has been reached (`completedAt` is set).
    async fn is_completed(&self) -> bool {
        self.0.completed_at.is_some()
    }
    /// Whether it is open and its due day is before today in the program's time zone.
    async fn is_overdue(&self, ctx: &Context<'_>) -> Result<bool> {
        let today = loaders(ctx)?.today_of(self.0.program_id).await?;
        Ok(is_overdue(&self.0, today))
    }
    /// The due day moved by its workstream's forecast lateness; null without a due day.
    async fn forecast_date(&self, ctx: &Context<'_>) -> Result<Option<Date>> {
        let loaders = loaders(ctx)?;
        let Some(program) = loaders.programs.load_one(self.0.program_id).await? else {
            return Ok(None);
        };
        let plan = loaders.plan(&program).await?;
        Ok(plan.milestone_forecast(&self.0).map(Date))
    }
    /// Optimistic-concurrency version; pass it as `expectedVersion` when changing the milestone.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When the milestone was created.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When the milestone was last changed.
    async fn updated_at(&self) -> Instant {
        Instant(self.0.updated_at)
    }
}
