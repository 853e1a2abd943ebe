//! Queries about workstreams and dependencies.

use async_graphql::{Context, ID, Object, Result};

use crate::graphql::{
    context::{parse_id, scope},
    types::{Dependency, Workstream},
};

/// Queries about workstreams and dependencies.
#[derive(Default)]
pub struct WorkQuery;

#[Object]
impl WorkQuery {
    /// A workstream by id; null when it does not exist or its program is not visible.
    async fn workstream(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The workstream's id.")] id: ID,
    ) -> Result<Option<Workstream>> {
        let (domain, viewer) = scope(ctx)?;
        Ok(domain
            .workstream(viewer, parse_id("id", &id)?)
            .await?
            .map(Workstream))
    }

    /// A dependency by id; null when it does not exist or either end's program is not visible.
    async fn dependency(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The dependency's id.")] id: ID,
    ) -> Result<Option<Dependency>> {
        let (domain, viewer) = scope(ctx)?;
        Ok(domain
            .dependency(viewer, parse_id("id", &id)?)
            .await?
            .map(Dependency))
    }
}
