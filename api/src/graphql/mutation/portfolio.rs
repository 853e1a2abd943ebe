//! Portfolio mutations.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};

use crate::domain::portfolios::{NewPortfolio, PortfolioChanges};
use crate::graphql::{
    context::{parse_id, parse_ids, patch, scope},
    types::portfolio::Portfolio,
};

/// A new portfolio, owned by its creator.
#[derive(InputObject)]
pub struct CreatePortfolioInput {
    /// Display name (up to 200 characters).
    pub name: String,
    /// What it groups and why (up to 20,000 characters).
    pub description: Option<String>,
    /// The programs it holds (at most 100), each one the caller can see.
    pub program_ids: Option<Vec<ID>>,
}

/// Changes to a portfolio (its owner or an ADMIN). Absent fields stay as they are; `null` clears.
#[derive(InputObject)]
pub struct UpdatePortfolioInput {
    /// The portfolio.
    pub id: ID,
    /// The `version` the change is based on; `CONFLICT` if the portfolio changed since.
    pub expected_version: Option<i32>,
    /// New name (cannot be null).
    pub name: MaybeUndefined<String>,
    /// New description.
    pub description: MaybeUndefined<String>,
}

/// The programs a portfolio holds, replacing those it held (its owner or an ADMIN).
#[derive(InputObject)]
pub struct SetPortfolioProgramsInput {
    /// The portfolio.
    pub id: ID,
    /// The `version` the change is based on; `CONFLICT` if the portfolio changed since.
    pub expected_version: Option<i32>,
    /// The programs (at most 100), each one the caller can see.
    pub program_ids: Vec<ID>,
}

/// The portfolio after the change.
#[derive(SimpleObject)]
pub struct PortfolioPayload {
    /// The portfolio.
    pub portfolio: Portfolio,
}

/// Delete a portfolio.
#[derive(InputObject)]
pub struct DeletePortfolioInput {
    /// The portfolio.
    pub id: ID,
    /// The `version` the deletion is based on; `CONFLICT` if the portfolio changed since.
    pub expected_version: Option<i32>,
}

/// What was deleted.
#[derive(SimpleObject)]
pub struct DeletePortfolioPayload {
    /// The id of the deleted portfolio; the goals set on it went with it,
    /// its programs stay.
    pub deleted_portfolio_id: ID,
}

/// Portfolio mutations.
#[derive(Default)]
pub struct PortfolioMutation;

#[Object]
impl PortfolioMutation {
    /// Create a portfolio owned by the caller.
    async fn create_portfolio(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: CreatePortfolioInput,
    ) -> Result<PortfolioPayload> {
        let (domain, viewer) = scope(ctx)?;
        let portfolio = domain
            .create_portfolio(
                viewer,
                NewPortfolio {
                    name: input.name,
                    description: input.description,
                    program_ids: parse_ids(
                        "input.programIds",
                        &input.program_ids.unwrap_or_default(),
                    )?,
                },
            )
            .await?;
        Ok(PortfolioPayload {
            portfolio: Portfolio(portfolio),
        })
    }

    /// Change a portfolio's name or description (its owner or an ADMIN).
    async fn update_portfolio(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: UpdatePortfolioInput,
    ) -> Result<PortfolioPayload> {
        let (domain, viewer) = scope(ctx)?;
        let portfolio = domain
            .update_portfolio(
                viewer,
                parse_id("input.id", &input.id)?,
                input.expected_version,
                PortfolioChanges {
                    name: patch(input.name),
                    description: patch(input.description),
                },
            )
            .await?;
        Ok(PortfolioPayload {
            portfolio: Portfolio(portfolio),
        })
    }

    /// Replace the programs a portfolio holds (its owner or an ADMIN).
    async fn set_portfolio_programs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: SetPortfolioProgramsInput,
    ) -> Result<PortfolioPayload> {
        let (domain, viewer) = scope(ctx)?;
        let portfolio = domain
            .set_portfolio_programs(
                viewer,
                parse_id("input.id", &input.id)?,
                input.expected_version,
                parse_ids("input.programIds", &input.program_ids)?,
            )
            .await?;
        Ok(PortfolioPayload {
            portfolio: Portfolio(portfolio),
        })
    }

    /// Delete a portfolio and the goals set on it (its owner or an ADMIN); its
    /// programs stay as they are.
    async fn delete_portfolio(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: DeletePortfolioInput,
    ) -> Result<DeletePortfolioPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = domain
            .delete_portfolio(
                viewer,
                parse_id("input.id", &input.id)?,
                input.expected_version,
            )
            .await?;
        Ok(DeletePortfolioPayload {
            deleted_portfolio_id: ID(id.to_string()),
        })
    }
}
