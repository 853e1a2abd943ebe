//! `Baseline` and its variance entries.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result};
use entity::{baseline, program};
use uuid::Uuid;

use super::{
    Milestone, Program, User, Workstream,
    connection::{ListConnection, connection, page_args},
};
use crate::domain::access::Visible;
use crate::domain::baselines::{self, MilestoneVariance, WorkstreamVariance, days_between};
use crate::domain::loaders::group;
use crate::domain::planning::ProgramPlan;
use crate::error::ApiError;
use crate::graphql::context::loaders;
use crate::graphql::scalars::Instant;
use crate::graphql::work::Text;
use crate::graphql::{context::scope, scalars::Date};
use crate::i18n::Message;

/// A named snapshot of a program's planned and forecast dates; never changed once captured.
pub struct Baseline(pub Visible<baseline::Model>);

/// A program's baselines the caller may see, loaded in one batch with its siblings'.
pub async fn program_rows(
    ctx: &Context<'_>,
    program_id: Uuid,
) -> Result<Vec<Visible<baseline::Model>>> {
    let loaders = loaders(ctx)?;
    Ok(group(&loaders.baselines_by_program, program_id).await?)
}

/// The `baselines` field of a program, newest first.
pub async fn program_baselines(
    ctx: &Context<'_>,
    program_id: Uuid,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<ListConnection<Baseline>> {
    let (domain, _) = scope(ctx)?;
    let rows = program_rows(ctx, program_id).await?;
    let args = page_args(first, after, last, before);
    let page = domain.page_newest_first(rows, "baselines", &args, |b| b.created_at, |b| b.id)?;
    Ok(connection(page, Baseline))
}

impl Baseline {
    async fn program_row(&self, ctx: &Context<'_>) -> Result<Visible<program::Model>> {
        let loaders = loaders(ctx)?;
        loaders
            .programs
            .load_one(self.0.program_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(Message::NotFound).into())
    }

    /// The program's plan today, computed once per request.
    async fn plan(&self, ctx: &Context<'_>) -> Result<Arc<ProgramPlan>> {
        let program = self.program_row(ctx).await?;
        Ok(loaders(ctx)?.plan(&program).await?)
    }
}

/// A named snapshot of a program's planned and forecast dates, never changed
/// once captured, to measure today's forecast against.
#[Object]
impl Baseline {
    /// Unique id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What it is called, such as "Kickoff".
    async fn name(&self) -> Text<&str> {
        Text(&self.0.name)
    }
    /// The program captured.
    async fn program(&self, ctx: &Context<'_>) -> Result<Program> {
        Ok(Program(self.program_row(ctx).await?))
    }
    /// When it was captured.
    async fn captured_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// Who captured it (null once their account is gone).
    async fn captured_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.captured_by_id else {
            return Ok(None);
        };
        let loaders = loaders(ctx)?;
        Ok(loaders.users.load_one(id).await?.map(User))
    }
    /// The program's target day when captured.
    async fn target_date(&self) -> Option<Date> {
        self.0.target_date.map(Date)
    }
    /// The program's forecast finish when captured.
    async fn forecast_finish_date(&self) -> Option<Date> {
        self.0.forecast_finish.map(Date)
    }
    /// Days the program's forecast finish has moved since (today's forecast
    /// minus the captured one; positive when later); null when either is missing.
    async fn finish_delta_days(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        let plan = self.plan(ctx).await?;
        Ok(baselines::finish_delta_days(&self.0, &plan))
    }
    /// Every workstream captured, in the order captured, against its dates today.
    async fn variance(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "At most this many, from the first (default and largest: the server's list size, 1,000 unless configured)."
        )]
        first: Option<i32>,
    ) -> Result<Vec<BaselineVariance>> {
        let size = loaders(ctx)?.list_size(first)?;
        let plan = self.plan(ctx).await?;
        Ok(baselines::workstream_variance(&self.0, &plan)?
            .into_iter()
            .take(size)
            .map(BaselineVariance)
            .collect())
    }
    /// Every milestone captured, in the order captured, against its dates today.
    async fn milestone_variance(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "At most this many, from the first (default and largest: the server's list size, 1,000 unless configured)."
        )]
        first: Option<i32>,
    ) -> Result<Vec<BaselineMilestoneVariance>> {
        let loaders = loaders(ctx)?;
        let size = loaders.list_size(first)?;
        let plan = self.plan(ctx).await?;
        let milestones = group(&loaders.milestones_by_program, self.0.program_id).await?;
        Ok(baselines::milestone_variance(&self.0, &plan, milestones)?
            .into_iter()
            .take(size)
            .map(BaselineMilestoneVariance)
            .collect())
    }
}

/// One workstream of a baseline: its captured dates against today's.
pub struct BaselineVariance(WorkstreamVariance);

/// One workstream of a baseline: its captured target and forecast finish against today's.
#[Object]
impl BaselineVariance {
    /// The workstream; null once deleted.
    async fn workstream(&self) -> Option<Workstream> {
        self.0.workstream.clone().map(Workstream)
    }
    /// The workstream's id, kept after it is deleted.
    async fn workstream_id(&self) -> ID {
        ID(self.0.workstream_id.to_string())
    }
    /// Its target day when the baseline was captured.
    async fn baseline_planned_finish(&self) -> Option<Date> {
        self.0.baseline_planned_finish.map(Date)
    }
    /// Its target day today.
    async fn planned_finish(&self) -> Option<Date> {
        self.0.planned_finish.map(Date)
    }
    /// Days its target moved since (positive when later); null when either is missing.
    async fn planned_delta_days(&self) -> Option<i64> {
        days_between(self.0.baseline_planned_finish, self.0.planned_finish)
    }
    /// Its forecast finish when the baseline was captured.
    async fn baseline_finish(&self) -> Option<Date> {
        self.0.baseline_finish.map(Date)
    }
    /// Its forecast finish today (null when deleted or unscheduled).
    async fn forecast_finish(&self) -> Option<Date> {
        self.0.forecast_finish.map(Date)
    }
    /// Days its forecast finish moved since (positive when later); null when either is missing.
    async fn delta_days(&self) -> Option<i64> {
        days_between(self.0.baseline_finish, self.0.forecast_finish)
    }
}

/// One milestone of a baseline: its captured dates against today's.
pub struct BaselineMilestoneVariance(MilestoneVariance);

/// One milestone of a baseline: its captured due and forecast day against today's.
#[Object]
impl BaselineMilestoneVariance {
    /// The milestone; null once deleted.
    async fn milestone(&self) -> Option<Milestone> {
        self.0.milestone.clone().map(Milestone)
    }
    /// The milestone's id, kept after it is deleted.
    async fn milestone_id(&self) -> ID {
        ID(self.0.milestone_id.to_string())
    }
    /// Its due day when the baseline was captured.
    async fn baseline_due_date(&self) -> Option<Date> {
        self.0.baseline_due_date.map(Date)
    }
    /// Its due day today.
    async fn due_date(&self) -> Option<Date> {
        self.0.due_date.map(Date)
    }
    /// Its forecast day when the baseline was captured: the due day moved by
    /// the days its workstream was forecast to finish late.
    async fn baseline_forecast_date(&self) -> Option<Date> {
        self.0.baseline_forecast_date.map(Date)
    }
    /// Its forecast day today (null when deleted).
    async fn forecast_date(&self) -> Option<Date> {
        self.0.forecast_date.map(Date)
    }
    /// Days its forecast day moved since (positive when later); null when either is missing.
    async fn delta_days(&self) -> Option<i64> {
        days_between(self.0.baseline_forecast_date, self.0.forecast_date)
    }
}
