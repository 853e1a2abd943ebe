//! `Cost`, and a program's spend and return on investment.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use entity::{cost, program};
use uuid::Uuid;

use super::{
    Program, User, Workstream,
    connection::{ListConnection, connection, page_args},
    money::Money,
};
use crate::domain::access::Visible;
use crate::domain::costs::{self, Spend};
use crate::domain::loaders::group;
use crate::error::ApiError;
use crate::graphql::context::{loaders, scope};
use crate::graphql::scalars::{Date, Instant};
use crate::graphql::work::Text;
use crate::i18n::Message;

/// Money spent on a program, optionally on one of its workstreams; immutable once recorded.
pub struct Cost(pub Visible<cost::Model>);

/// The costs of a program the caller may see, loaded in one batch with its siblings'.
async fn program_rows(ctx: &Context<'_>, program_id: Uuid) -> Result<Vec<Visible<cost::Model>>> {
    let loaders = loaders(ctx)?;
    Ok(group(&loaders.costs_by_program, program_id).await?)
}

/// The `costs` field of a program, newest first.
pub async fn program_costs(
    ctx: &Context<'_>,
    program_id: Uuid,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<ListConnection<Cost>> {
    let (domain, _) = scope(ctx)?;
    let rows = program_rows(ctx, program_id).await?;
    let args = page_args(first, after, last, before);
    let page = domain.page_newest_first(rows, "costs", &args, |c| c.created_at, |c| c.id)?;
    Ok(connection(page, Cost))
}

/// The spend of `program` as of its today, its forecast finish left to
/// the one field that needs it.
async fn spend_of(
    ctx: &Context<'_>,
    program: &Visible<program::Model>,
    finish: Option<chrono::NaiveDate>,
) -> Result<Option<Spend>> {
    let rows = program_rows(ctx, program.id).await?;
    let costs: Vec<&cost::Model> = rows.iter().map(|row| &**row).collect();
    let today = loaders(ctx)?.today_of(program.id).await?;
    Ok(costs::spend(program, &costs, today, finish))
}

/// The `spend` field of a program.
pub async fn program_spend(
    ctx: &Context<'_>,
    program: &Visible<program::Model>,
) -> Result<Option<ProgramSpend>> {
    Ok(spend_of(ctx, program, None)
        .await?
        .map(|spend| ProgramSpend {
            spend,
            program: program.clone(),
        }))
}

/// The `roi` field of a program.
pub async fn program_roi(
    ctx: &Context<'_>,
    program: &Visible<program::Model>,
) -> Result<Option<f64>> {
    let spend = spend_of(ctx, program, None).await?;
    Ok(costs::roi(program, spend.as_ref()))
}

/// What a program has spent, against its budget and the time elapsed.
pub struct ProgramSpend {
    spend: Spend,
    program: Visible<program::Model>,
}

/// What a program spent on one category.
#[derive(SimpleObject)]
pub struct CategorySpend {
    /// The category, as recorded.
    pub category: Text<String>,
    /// Spent on it.
    pub total: Money,
}

impl ProgramSpend {
    fn money(&self, amount: i64) -> Money {
        Money::of(amount, &self.spend.currency)
    }
}

/// What a program has spent, against its budget and the time elapsed.
#[Object]
impl ProgramSpend {
    /// Everything spent, in the program's currency.
    async fn total(&self) -> Money {
        self.money(self.spend.total)
    }
    /// Spent per category, the largest first.
    async fn by_category(&self) -> Vec<CategorySpend> {
        self.spend
            .by_category
            .iter()
            .map(|(category, amount)| CategorySpend {
                category: Text(category.clone()),
                total: self.money(*amount),
            })
            .collect()
    }
    /// The average spent per week from the program's start (or its first
    /// cost) to today; null before that day.
    async fn burn_rate_per_week(&self) -> Option<Money> {
        self.spend
            .burn_rate_per_week
            .map(|amount| self.money(amount))
    }
    /// total / budget × 100; null without a budget above zero.
    async fn budget_used_percent(&self) -> Option<f64> {
        self.spend.budget_used_percent
    }
    /// Days from startDate to today / days from startDate to targetDate × 100;
    /// null without both dates, the target after the start.
    async fn time_elapsed_percent(&self) -> Option<f64> {
        self.spend.time_elapsed_percent
    }
    /// What the program will have spent if it goes on at its burn rate until
    /// its forecast finish (its target date when there is no forecast).
    async fn forecast_at_completion(&self, ctx: &Context<'_>) -> Result<Option<Money>> {
        let plan = loaders(ctx)?.plan(&self.program).await?;
        let spend = spend_of(ctx, &self.program, plan.schedule.finish_date).await?;
        Ok(spend
            .and_then(|spend| spend.forecast_at_completion)
            .map(|amount| self.money(amount)))
    }
}

/// Money spent on a program, optionally on one of its workstreams; immutable once recorded.
#[Object]
impl Cost {
    /// Unique id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The program it was spent on.
    async fn program(&self, ctx: &Context<'_>) -> Result<Program> {
        loaders(ctx)?
            .programs
            .load_one(self.0.program_id)
            .await?
            .map(Program)
            .ok_or_else(|| ApiError::NotFound(Message::NotFound).into())
    }
    /// The workstream it was spent on, if any.
    async fn workstream(&self, ctx: &Context<'_>) -> Result<Option<Workstream>> {
        let Some(id) = self.0.workstream_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .workstreams
            .load_one(id)
            .await?
            .map(Workstream))
    }
    /// How much, in the program's currency.
    async fn amount(&self) -> Money {
        Money::of(self.0.amount, &self.0.currency)
    }
    /// The day it was incurred.
    async fn incurred_on(&self) -> Date {
        Date(self.0.incurred_on)
    }
    /// What kind of cost (people, licences, cloud, …).
    async fn category(&self) -> Text<&str> {
        Text(&self.0.category)
    }
    /// What it was for.
    async fn description(&self) -> Option<Text<&str>> {
        self.0.description.as_deref().map(Text)
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
