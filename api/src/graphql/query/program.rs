//! Queries about programs.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};

use crate::domain::programs::{ProgramFilter as DomainFilter, ProgramOrderField as DomainField};
use crate::error::ApiError;
use crate::graphql::{
    context::{parse_id, scope},
    prefetch,
    types::{
        Program,
        connection::{ListConnection, connection, page_args},
        enums::{Health, ProgramStatus, order_input, order_of},
    },
};
use crate::i18n::Message;

/// Which programs to list.
#[derive(InputObject, Default)]
pub struct ProgramFilter {
    /// Only programs in one of these statuses.
    pub status: Option<Vec<ProgramStatus>>,
    /// Only programs with one of these healths.
    pub health: Option<Vec<Health>>,
    /// Case-insensitive text contained in the name or key.
    pub search: Option<String>,
}

/// Sortable fields of programs.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::programs::ProgramOrderField")]
pub enum ProgramOrderField {
    /// Creation time.
    CreatedAt,
    /// Display name.
    Name,
    /// Key.
    Key,
    /// Target date (programs without one come last).
    TargetDate,
}

order_input! {
    /// Order of the program list; ties are broken by id.
    ProgramOrder { field: ProgramOrderField => DomainField }
}

/// Queries about programs.
#[derive(Default)]
pub struct ProgramQuery;

#[Object]
impl ProgramQuery {
    /// A program by `id` or by `key` (exactly one); null when it does not exist or is not visible.
    async fn program(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The program's id (give id or key).")] id: Option<ID>,
        #[graphql(desc = "The program's key, e.g. PAY (give id or key).")] key: Option<String>,
    ) -> Result<Option<Program>> {
        let (domain, viewer) = scope(ctx)?;
        let found = match (id, key) {
            (Some(id), None) => domain.program(viewer, parse_id("id", &id)?).await?,
            (None, Some(key)) => domain.program_by_key(viewer, &key).await?,
            _ => {
                return Err(ApiError::bad_input(
                    "id",
                    Message::InvalidFormat {
                        expected: crate::i18n::Format::IdOrKey,
                    },
                )
                .into());
            }
        };
        if let Some(row) = &found {
            prefetch::programs(ctx, &prefetch::Ahead::object(ctx), &[row]).await?;
        }
        Ok(found.map(Program))
    }

    /// Programs the signed-in user is a member of (all programs for an ADMIN).
    #[allow(clippy::too_many_arguments)]
    async fn programs(
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
            ProgramFilter,
        >,
        #[graphql(desc = "The order of the items (ties broken by id).")] order_by: Option<
            ProgramOrder,
        >,
        #[graphql(default = false, desc = "Include archived programs.")] include_archived: bool,
    ) -> Result<ListConnection<Program>> {
        let (domain, viewer) = scope(ctx)?;
        let filter = filter.unwrap_or_default();
        let order = order_of(order_by, DomainField::CreatedAt);
        let page = domain
            .programs(
                viewer,
                DomainFilter {
                    status: filter
                        .status
                        .map(|s| s.into_iter().map(Into::into).collect()),
                    health: filter
                        .health
                        .map(|h| h.into_iter().map(Into::into).collect()),
                    search: filter.search,
                    include_archived,
                },
                order,
                &page_args(first, after, last, before),
            )
            .await?;
        let rows: Vec<_> = page.items.iter().map(|(_, row)| row).collect();
        prefetch::programs(ctx, &prefetch::Ahead::nodes(ctx), &rows).await?;
        Ok(connection(page, Program))
    }
}
