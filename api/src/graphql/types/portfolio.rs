//! `Portfolio`: a named group of programs followed together, its rollup and its brief.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use entity::{portfolio, program};

use super::{
    Program, User,
    connection::{ListConnection, connection, page_args},
    enums::{Health, Locale},
    money::Money,
};
use crate::domain::access::Visible;
use crate::domain::loaders::group;
use crate::domain::portfolios::{self, Rollup};
use crate::graphql::context::{loaders, scope};
use crate::graphql::prefetch;
use crate::graphql::scalars::{Date, Instant};
use crate::graphql::work::Text;

/// A named group of programs followed together (a market entry, a
/// compliance push); readable by its owner, ADMINs and whoever can see one
/// of its programs, and changed by its owner and ADMINs.
pub struct Portfolio(pub Visible<portfolio::Model>);

/// How many programs have one health.
#[derive(SimpleObject)]
pub struct HealthCount {
    /// The health.
    pub health: Health,
    /// Programs with it.
    pub count: i32,
}

/// What a portfolio's programs add up to, over the programs the reader can see.
pub struct PortfolioRollup(Rollup);

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn money(totals: &[(String, i64)]) -> Vec<Money> {
    totals
        .iter()
        .map(|(currency, amount)| Money::of(*amount, currency))
        .collect()
}

fn health_counts(by: &[(entity::enums::Health, usize)]) -> Vec<HealthCount> {
    by.iter()
        .map(|(health, n)| HealthCount {
            health: (*health).into(),
            count: count(*n),
        })
        .collect()
}

/// What a portfolio's programs add up to, over the programs the reader can see.
#[Object]
impl PortfolioRollup {
    /// Programs counted.
    async fn program_count(&self) -> i32 {
        count(self.0.program_count)
    }
    /// Programs per reported health (every health listed, zero included).
    async fn by_health(&self) -> Vec<HealthCount> {
        health_counts(&self.0.by_health)
    }
    /// Programs per health computed from their plans (every health listed).
    async fn by_computed_health(&self) -> Vec<HealthCount> {
        health_counts(&self.0.by_computed_health)
    }
    /// The latest forecast finish among the programs.
    async fn latest_forecast_finish(&self) -> Option<Date> {
        self.0.latest_forecast_finish.map(Date)
    }
    /// Dependencies of the programs past their need date, each counted once.
    async fn overdue_dependencies(&self) -> i32 {
        count(self.0.overdue_dependencies)
    }
    /// Dependencies of the programs at risk or blocked, each counted once.
    async fn at_risk_dependencies(&self) -> i32 {
        count(self.0.at_risk_dependencies)
    }
    /// Risks open or being mitigated.
    async fn open_risks(&self) -> i32 {
        count(self.0.open_risks)
    }
    /// Spent, one amount per currency the programs keep.
    async fn spend(&self) -> Vec<Money> {
        money(&self.0.spend)
    }
    /// Budgeted, one amount per currency the programs keep.
    async fn budget(&self) -> Vec<Money> {
        money(&self.0.budget)
    }
}

/// `programs` (those the reader can see, by key) as a connection.
pub async fn program_connection(
    ctx: &Context<'_>,
    programs: Vec<Visible<program::Model>>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<ListConnection<Program>> {
    let (domain, _) = scope(ctx)?;
    let page = portfolios::page_programs(domain, programs, &page_args(first, after, last, before))?;
    let rows: Vec<_> = page.items.iter().map(|(_, row)| row).collect();
    prefetch::programs(ctx, &prefetch::Ahead::nodes(ctx), &rows).await?;
    Ok(connection(page, Program))
}

impl Portfolio {
    async fn rollup_of(&self, ctx: &Context<'_>) -> Result<Rollup> {
        let loaders = loaders(ctx)?;
        let programs = portfolios::programs_of(&loaders, self.0.id).await?;
        Ok(portfolios::rollup(&loaders, &programs).await?)
    }
}

/// A named group of programs followed together.
#[Object]
impl Portfolio {
    /// Unique id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Display name.
    async fn name(&self) -> Text<&str> {
        Text(&self.0.name)
    }
    /// What it groups and why.
    async fn description(&self) -> Option<Text<&str>> {
        self.0.description.as_deref().map(Text)
    }
    /// Who owns it and may change it (with ADMINs).
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(loaders(ctx)?
            .users
            .load_one(self.0.owner_id)
            .await?
            .map(User))
    }
    /// The programs it holds that the reader can see, by key.
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
        let programs = portfolios::programs_of(&*loaders(ctx)?, self.0.id).await?;
        program_connection(ctx, programs, first, after, last, before).await
    }
    /// Its goals, by target date.
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
        let rows = group(&loaders(ctx)?.goals_by_portfolio, self.0.id).await?;
        super::goal::goal_connection(ctx, rows, first, after, last, before).await
    }
    /// What its programs add up to: health, forecast, dependencies, risks and
    /// money, over the programs the reader can see.
    async fn rollup(&self, ctx: &Context<'_>) -> Result<PortfolioRollup> {
        Ok(PortfolioRollup(self.rollup_of(ctx).await?))
    }
    /// The portfolio condensed for executives as Markdown, in the viewer's language by default.
    async fn brief(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The language to write it in (default: the viewer's language).")]
        locale: Option<Locale>,
    ) -> Result<Text<String>> {
        let (_, viewer) = scope(ctx)?;
        let locale = locale.map_or(viewer.locale, Into::into);
        let rollup = self.rollup_of(ctx).await?;
        Ok(Text(crate::planning::portfolio::render(
            &self.0.name,
            &rollup,
            locale,
        )))
    }
    /// Optimistic-concurrency version; pass it as `expectedVersion` when changing the portfolio.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When the portfolio was created.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When the portfolio was last changed.
    async fn updated_at(&self) -> Instant {
        Instant(self.0.updated_at)
    }
}
