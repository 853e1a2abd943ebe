//! Queries about teams.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};

use crate::domain::teams::{TeamFilter as DomainFilter, TeamOrderField as DomainField};
use crate::graphql::{
    context::{parse_id, scope},
    types::{
        Team,
        connection::{ListConnection, connection, page_args},
        enums::OrderDirection,
    },
};

/// Which teams to list.
#[derive(InputObject, Default)]
pub struct TeamFilter {
    /// Case-insensitive text contained in the name.
    pub search: Option<String>,
}

/// Sortable fields of teams.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum TeamOrderField {
    /// Display name.
    #[default]
    Name,
    /// Creation time.
    CreatedAt,
}

/// Order of the team list; ties are broken by id.
#[derive(InputObject)]
pub struct TeamOrder {
    /// Field to sort by.
    pub field: TeamOrderField,
    /// Direction.
    #[graphql(default)]
    pub direction: OrderDirection,
}

/// Queries about teams.
#[derive(Default)]
pub struct TeamQuery;

#[Object]
impl TeamQuery {
    /// A team by id; null when it does not exist.
    async fn team(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Team>> {
        let (domain, viewer) = scope(ctx)?;
        Ok(domain.team(viewer, parse_id("id", &id)?).await?.map(Team))
    }

    /// Every team, by name unless ordered otherwise (any signed-in user).
    #[allow(clippy::too_many_arguments)]
    async fn teams(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<TeamFilter>,
        order_by: Option<TeamOrder>,
    ) -> Result<ListConnection<Team>> {
        let (domain, viewer) = scope(ctx)?;
        let filter = filter.unwrap_or_default();
        let (field, direction) = order_by
            .map_or((TeamOrderField::Name, OrderDirection::Asc), |o| {
                (o.field, o.direction)
            });
        let field = match field {
            TeamOrderField::Name => DomainField::Name,
            TeamOrderField::CreatedAt => DomainField::CreatedAt,
        };
        let page = domain
            .teams(
                viewer,
                DomainFilter {
                    search: filter.search,
                },
                (field, direction.into()),
                &page_args(first, after, last, before),
            )
            .await?;
        Ok(connection(page, Team))
    }
}
