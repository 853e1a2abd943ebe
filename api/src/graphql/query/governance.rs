//! Queries about a program's governance: decisions and risks.

use async_graphql::{Context, ID, Object, Result};

use crate::graphql::{
    context::{parse_id, scope},
    types::{Decision, Risk},
};

/// Queries about decisions and risks.
#[derive(Default)]
pub struct GovernanceQuery;

#[Object]
impl GovernanceQuery {
    /// A decision by id; null when it does not exist or its program is not visible.
    async fn decision(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The decision's id.")] id: ID,
    ) -> Result<Option<Decision>> {
        let (domain, viewer) = scope(ctx)?;
        Ok(domain
            .decision(viewer, parse_id("id", &id)?)
            .await?
            .map(Decision))
    }

    /// A risk by id; null when it does not exist or its program is not visible.
    async fn risk(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The risk's id.")] id: ID,
    ) -> Result<Option<Risk>> {
        let (domain, viewer) = scope(ctx)?;
        Ok(domain.risk(viewer, parse_id("id", &id)?).await?.map(Risk))
    }
}
