//! `Goal`: a metric a portfolio or its programs move from a baseline to a
//! target, with every value recorded.

use async_graphql::{Context, ID, Object, Result};
use entity::{goal, goal_value};
use uuid::Uuid;

use super::{
    Program, User,
    connection::{ListConnection, connection, page_args},
    portfolio::{Portfolio, program_connection},
};
use crate::domain::Domain;
use crate::domain::access::Visible;
use crate::domain::goals::{self, GoalOrderField, GoalValueOrderField};
use crate::domain::loaders::{group, one};
use crate::domain::pagination::{Direction, Page, PageArgs};
use crate::error::ApiResult;
use crate::graphql::context::{loaders, scope};
use crate::graphql::prefetch;
use crate::graphql::scalars::{Date, Instant};
use crate::graphql::work::Text;

/// A metric a portfolio or its programs move from a baseline to a target by a date.
pub struct Goal(pub Visible<goal::Model>);

/// One value of a goal's metric.
pub struct GoalValue(pub Visible<goal_value::Model>);

/// The goals `rows` as a connection, by target date.
pub async fn goal_connection(
    ctx: &Context<'_>,
    rows: Vec<Visible<goal::Model>>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<ListConnection<Goal>> {
    let (domain, _) = scope(ctx)?;
    let page = goal_page(domain, rows, &page_args(first, after, last, before))?;
    let rows: Vec<_> = page.items.iter().map(|(_, row)| row).collect();
    prefetch::goals(ctx, &prefetch::Ahead::nodes(ctx), &rows).await?;
    Ok(connection(page, Goal))
}

/// The page of goals `rows` a list field with `args` shows, by target date.
pub fn goal_page(
    domain: &Domain,
    rows: Vec<Visible<goal::Model>>,
    args: &PageArgs,
) -> ApiResult<Page<Visible<goal::Model>>> {
    let order = (GoalOrderField::TargetDate, Direction::Asc);
    domain.page_loaded(rows, |_| true, order, args, |row| row.id)
}

/// The `goals` field of a program.
pub async fn program_goals(
    ctx: &Context<'_>,
    program_id: Uuid,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<ListConnection<Goal>> {
    let loaders = loaders(ctx)?;
    let held = group(&loaders.goals_by_program, program_id).await?;
    let rows = loaders
        .goals
        .load_many(held.iter().map(|row| row.goal_id))
        .await?
        .into_values()
        .flatten()
        .collect();
    goal_connection(ctx, rows, first, after, last, before).await
}

/// A metric a portfolio or its programs move from a baseline to a target by a date.
#[Object]
impl Goal {
    /// Unique id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What the goal is, in a line.
    async fn title(&self) -> Text<&str> {
        Text(&self.0.title)
    }
    /// What is measured.
    async fn metric(&self) -> Text<&str> {
        Text(&self.0.metric)
    }
    /// The unit of the values (`%`, `ms`, `EUR`, `customers`).
    async fn unit(&self) -> Text<&str> {
        Text(&self.0.unit)
    }
    /// The value when the goal was set.
    async fn baseline_value(&self) -> f64 {
        self.0.baseline_value
    }
    /// The value to reach.
    async fn target_value(&self) -> f64 {
        self.0.target_value
    }
    /// The value of the latest day recorded (the baseline until a value is recorded).
    async fn current_value(&self) -> f64 {
        self.0.current_value
    }
    /// When the target should be reached.
    async fn target_date(&self) -> Option<Date> {
        self.0.target_date.map(Date)
    }
    /// Who answers for it.
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(loaders(ctx)?
            .users
            .load_one(self.0.owner_id)
            .await?
            .map(User))
    }
    /// The portfolio it belongs to, if any and if the reader may read it.
    async fn portfolio(&self, ctx: &Context<'_>) -> Result<Option<Portfolio>> {
        let Some(id) = self.0.portfolio_id else {
            return Ok(None);
        };
        Ok(one(&loaders(ctx)?.portfolios, id).await?.map(Portfolio))
    }
    /// The programs pursuing it that the reader can see, by key.
    async fn programs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n (at most the server's page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n (at most the server's page size).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> Result<ListConnection<Program>> {
        let loaders = loaders(ctx)?;
        let held = group(&loaders.programs_by_goal, self.0.id).await?;
        let programs = loaders
            .programs_by_key(held.iter().map(|row| row.program_id))
            .await?;
        program_connection(ctx, programs, first, after, last, before).await
    }
    /// How far the current value has moved from the baseline to the target as a fraction
    /// (0 at the baseline, 1 at the target, above 1 past it, below 0 the wrong way);
    /// null when the target equals the baseline.
    async fn progress(&self) -> Option<f64> {
        goals::progress(&self.0)
    }
    /// Every value recorded, oldest first.
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n (at most the server's page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n (at most the server's page size).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> Result<ListConnection<GoalValue>> {
        let (domain, _) = scope(ctx)?;
        let values = group(&loaders(ctx)?.values_by_goal, self.0.id).await?;
        let page = domain.page_loaded(
            values,
            |_| true,
            (GoalValueOrderField::RecordedOn, Direction::Asc),
            &page_args(first, after, last, before),
            |row| row.id,
        )?;
        Ok(connection(page, GoalValue))
    }
    /// Optimistic-concurrency version; pass it as `expectedVersion` when changing the goal.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When the goal was set.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When the goal was last changed.
    async fn updated_at(&self) -> Instant {
        Instant(self.0.updated_at)
    }
}

/// One value of a goal's metric.
#[Object]
impl GoalValue {
    /// The value measured.
    async fn value(&self) -> f64 {
        self.0.value
    }
    /// The day it was measured.
    async fn recorded_on(&self) -> Date {
        Date(self.0.recorded_on)
    }
    /// Where it comes from or what moved it.
    async fn note(&self) -> Option<Text<&str>> {
        self.0.note.as_deref().map(Text)
    }
    /// Who recorded it.
    async fn recorded_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.recorded_by_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?.users.load_one(id).await?.map(User))
    }
    /// When it was recorded.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
}
