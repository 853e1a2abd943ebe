//! Root queries of portfolios.

use async_graphql::{Context, ID, Object, Result};

use crate::graphql::context::{parse_id, scope};
use crate::graphql::prefetch;
use crate::graphql::types::{
    connection::{ListConnection, connection, page_args},
    portfolio::Portfolio,
};

/// Portfolio queries.
#[derive(Default)]
pub struct PortfolioQuery;

#[Object]
impl PortfolioQuery {
    /// The portfolios the caller may read (their own, those holding a program
    /// they can see, every one for an ADMIN), by name.
    async fn portfolios(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n (at most the server's page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n (at most the server's page size).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> Result<ListConnection<Portfolio>> {
        let (domain, viewer) = scope(ctx)?;
        let page = domain
            .portfolios(viewer, &page_args(first, after, last, before))
            .await?;
        let rows: Vec<_> = page.items.iter().map(|(_, row)| row).collect();
        prefetch::portfolios(ctx, &prefetch::Ahead::nodes(ctx), &rows).await?;
        Ok(connection(page, Portfolio))
    }

    /// One portfolio, if the caller may read it (null otherwise, as for a missing one).
    async fn portfolio(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The portfolio's id.")] id: ID,
    ) -> Result<Option<Portfolio>> {
        let (domain, viewer) = scope(ctx)?;
        let found = domain.portfolio(viewer, parse_id("id", &id)?).await?;
        if let Some(row) = &found {
            prefetch::portfolios(ctx, &prefetch::Ahead::object(ctx), &[row]).await?;
        }
        Ok(found.map(Portfolio))
    }
}
