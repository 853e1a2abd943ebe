//! Queries about users.

use async_graphql::{Context, Object, Result};

use crate::graphql::{
    context::scope,
    types::{
        User,
        connection::{ListConnection, connection, page_args},
    },
};

/// Queries about users.
#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The signed-in user.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<User> {
        let (domain, viewer) = scope(ctx)?;
        Ok(User::of_viewer(domain, viewer).await?)
    }

    /// Users, oldest first: anyone signed in may look people up by name or
    /// email with `search` (to add them to a program); the whole list without
    /// a search is ADMIN only.
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Case-insensitive text in the name or email.")] search: Option<String>,
        #[graphql(
            desc = "Return the first n items (at most the server's page size, 100 unless configured)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (an edge's cursor, or pageInfo.endCursor)."
        )]
        after: Option<String>,
        #[graphql(desc = "Return the last n items (at most the server's page size).")] last: Option<
            i32,
        >,
        #[graphql(desc = "Return the items before this cursor (pageInfo.startCursor).")]
        before: Option<String>,
    ) -> Result<ListConnection<User>> {
        let (domain, viewer) = scope(ctx)?;
        let page = domain
            .list_users(
                viewer,
                search.as_deref(),
                &page_args(first, after, last, before),
            )
            .await?;
        Ok(connection(page, User))
    }
}
