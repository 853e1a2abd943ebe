//! Relay connections over domain pages, with a lazily counted `totalCount`.

use std::borrow::Cow;

use async_graphql::{Object, OutputType, Result, TypeName, connection::PageInfo};

use crate::domain::pagination::{Cursor, Page, PageArgs, TotalCount};
use crate::graphql::work::Text;

/// One page of a list of `N`.
pub struct ListConnection<N> {
    edges: Vec<ListEdge<N>>,
    has_previous_page: bool,
    has_next_page: bool,
    total_count: TotalCount,
}

/// One item of a page with its cursor.
pub struct ListEdge<N> {
    cursor: Cursor,
    node: N,
}

/// A page of a list: its items, cursors to continue from, and the size of the whole list.
#[Object(name_type)]
impl<N: OutputType> ListConnection<N> {
    /// Where this page sits in the list, and cursors to continue from.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            start_cursor: self.edges.first().map(|edge| edge.cursor.encode()),
            end_cursor: self.edges.last().map(|edge| edge.cursor.encode()),
        }
    }

    /// The items of this page with their cursors.
    async fn edges(&self) -> &[ListEdge<N>] {
        &self.edges
    }

    /// The items of this page.
    async fn nodes(&self) -> Vec<&N> {
        self.edges.iter().map(|edge| &edge.node).collect()
    }

    /// How many items the whole list holds, across all pages.
    async fn total_count(&self) -> Result<i64> {
        let count = (self.total_count)().await?;
        Ok(i64::try_from(count).unwrap_or(i64::MAX))
    }
}

impl<N: OutputType> TypeName for ListConnection<N> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Connection", N::type_name()).into()
    }
}

/// An item of a list with the cursor that points at it.
#[Object(name_type)]
impl<N: OutputType> ListEdge<N> {
    /// Pass as `after` or `before` to continue from this item.
    async fn cursor(&self) -> Text<String> {
        Text(self.cursor.encode())
    }

    /// The item.
    async fn node(&self) -> &N {
        &self.node
    }
}

impl<N: OutputType> TypeName for ListEdge<N> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Edge", N::type_name()).into()
    }
}

/// Turn a domain page into a connection, mapping each row to its node.
pub fn connection<M, N: OutputType>(page: Page<M>, node: impl Fn(M) -> N) -> ListConnection<N> {
    ListConnection {
        edges: page
            .items
            .into_iter()
            .map(|(cursor, row)| ListEdge {
                cursor,
                node: node(row),
            })
            .collect(),
        has_previous_page: page.has_previous_page,
        has_next_page: page.has_next_page,
        total_count: page.total_count,
    }
}

/// The pagination arguments of a connection field.
pub fn page_args(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> PageArgs {
    PageArgs {
        first,
        after,
        last,
        before,
    }
}
