//! Relay's object refetching: `node(id:)` and `nodes(ids:)`.

use async_graphql::{Context, ID, Object, Result};

use crate::error::ApiError;
use crate::graphql::{
    context::{parse_id, parse_ids, scope},
    types::node::{self, Node},
};
use crate::i18n::Message;

/// Refetch any object by its id.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its id; null when it does not exist or is not visible to you.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of any object (its `id` field).")] id: ID,
    ) -> Result<Option<Node>> {
        let id = parse_id("id", &id)?;
        Ok(node::resolve(ctx, &[id]).await?.pop().flatten())
    }

    /// Objects by their ids, in the order asked; null for each that does not exist or is not visible to you (at most the largest page size).
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ids of any objects, of any types.")] ids: Vec<ID>,
    ) -> Result<Vec<Option<Node>>> {
        let (domain, _) = scope(ctx)?;
        let most = domain.limits.max_page_size;
        if ids.len() > most {
            return Err(ApiError::bad_input("ids", Message::TooManyItems { max: most }).into());
        }
        let ids = parse_ids("ids", &ids)?;
        Ok(node::resolve(ctx, &ids).await?)
    }
}
