//! Queries about teams.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};

use crate::domain::teams::{TeamFilter as DomainFilter, TeamOrderField as DomainField};
use crate::graphql::{
    context::{parse_id, scope},
    prefetch,
    types::{
        Team,
        connection::{ListConnection, connection, page_args},
        enums::{order_input, order_of},
    },
};

/// Which teams to list.
#[derive(InputObject, Default)]
pub struct TeamFilter {
    /// Case-insensitive text contained in the name.
    pub search: Option<String>,
}

/// Sortable fields of teams.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::teams::TeamOrderField")]
pub enum TeamOrderField {
    /// Display name.
    Name,
    /// Creation time.
    CreatedAt,
}

order_input! {
    /// Order of the team list; ties are broken by id.
    TeamOrder { field: TeamOrderField => DomainField }
}

/// Queries about teams.
#[derive(Default)]
pub struct TeamQuery;

#[Object]
impl TeamQuery {
    /// A team by id; null when it does not exist.
    async fn team(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The team's id.")] id: ID,
    ) -> Result<Option<Team>> {
        let (domain, viewer) = scope(ctx)?;
        let found = domain.team(viewer, parse_id("id", &id)?).await?;
        if let Some(row) = &found {
            prefetch::teams(ctx, &prefetch::Ahead::object(ctx), &[row]).await?;
        }
        Ok(found.map(Team))
    }

    /// Every team, by name unless ordered otherwise (any signed-in user).
    #[allow(clippy::too_many_arguments)]
    async fn teams(
        &self,
        ctx: &Context<'_>,
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
        #[graphql(desc = "Only the items matching every field set here.")] filter: Option<
            TeamFilter,
        >,
        #[graphql(desc = "The order of the items (ties broken by id).")] order_by: Option<
            TeamOrder,
        >,
    ) -> Result<ListConnection<Team>> {
        let (domain, viewer) = scope(ctx)?;
        let filter = filter.unwrap_or_default();
        let page = domain
            .teams(
                viewer,
                DomainFilter {
                    search: filter.search,
                },
                order_of(order_by, DomainField::Name),
                &page_args(first, after, last, before),
            )
            .await?;
        let rows: Vec<_> = page.items.iter().map(|(_, row)| row).collect();
        prefetch::teams(ctx, &prefetch::Ahead::nodes(ctx), &rows).await?;
        Ok(connection(page, Team))
    }
}
