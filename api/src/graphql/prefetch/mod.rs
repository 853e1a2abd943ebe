//! Loading ahead: when a page of a list (or one object) is resolved, what
//! its nodes' fields will ask for (a program's lists and plans, a
//! workstream's team and dependencies and the far ends of those, a
//! portfolio's programs and goals, a goal's programs and values, a team's
//! work) is loaded for the whole page at once, from the document's
//! selection, level by level. The nested resolvers then find it in the
//! request's loader cache, so a nested query takes one statement per level
//! whatever the page's size and however busy the server is (a DataLoader
//! batch alone closes on a timer, and splits when requests interleave). A
//! nested list of workstreams, programs or goals is loaded ahead only for
//! the page each of its fields will show, worked out from the field's
//! arguments. A page inside a list whose parent did not load it ahead is
//! left to the loaders' batches, which gather the whole list's keys. A
//! failure is left to the fields, each reporting its own.

use std::collections::HashSet;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::{Context, InputType, Lookahead, Name, QueryPathSegment, SelectionField, Value};
use futures::future::BoxFuture;
use uuid::Uuid;

use super::context::loaders;
use crate::domain::access::Visible;
use crate::domain::loaders::Loaders;
use crate::domain::pagination::{Page, PageArgs};
use crate::error::{ApiError, ApiResult};

mod programs;
mod work;

pub use programs::{goals, portfolios, programs};
pub use work::{dependencies, teams, workstreams};

/// Where the nodes of a page are selected: under `nodes` and under
/// `edges { node }`, possibly several times.
pub struct Ahead<'a> {
    nodes: Vec<Lookahead<'a>>,
    /// The fields of the document these selections belong to (see [`field_node`]).
    fields: Vec<usize>,
}

/// A field of the parsed document, by the address of its name: each field
/// the parser reads gets its own name, so the address tells one field of a
/// document from another (and a fragment's fields are the same wherever
/// the fragment is spread, with the same selection beneath them).
fn field_node(field: &SelectionField<'_>) -> usize {
    field.name().as_ptr() as usize
}

impl<'a> Ahead<'a> {
    /// The node selections of the connection field `ctx` resolves.
    pub fn nodes(ctx: &'a Context<'a>) -> Self {
        let connection = ctx.look_ahead();
        Self {
            nodes: vec![
                connection.field("nodes"),
                connection.field("edges").field("node"),
            ],
            fields: vec![field_node(&ctx.field())],
        }
    }

    /// The selection of the object field `ctx` resolves (a single node).
    pub fn object(ctx: &'a Context<'a>) -> Self {
        Self {
            nodes: vec![ctx.look_ahead()],
            fields: vec![field_node(&ctx.field())],
        }
    }

    /// The fields named `name` of the nodes.
    fn fields_named(&self, name: &str) -> Vec<usize> {
        self.nodes
            .iter()
            .flat_map(|ahead| ahead.field(name).selection_fields())
            .map(|field| field_node(&field))
            .collect()
    }

    /// The selection of field `name` of the nodes.
    fn field(&self, name: &str) -> Self {
        Self {
            nodes: self.nodes.iter().map(|ahead| ahead.field(name)).collect(),
            fields: self.fields_named(name),
        }
    }

    /// The node selections of connection field `name` of the nodes.
    fn connection(&self, name: &str) -> Self {
        let mut nodes = Vec::new();
        for ahead in &self.nodes {
            let connection = ahead.field(name);
            nodes.push(connection.field("nodes"));
            nodes.push(connection.field("edges").field("node"));
        }
        Self {
            nodes,
            fields: self.fields_named(name),
        }
    }

    /// Load the groups of `loader` for `keys` now when one of the fields
    /// `names` of the nodes is selected.
    async fn group<L>(
        &self,
        loaders: &Loaders,
        names: &[&str],
        loader: &DataLoader<L, HashMapCache>,
        keys: impl IntoIterator<Item = Uuid>,
    ) -> ApiResult<()>
    where
        L: Loader<Uuid, Error = ApiError>,
    {
        if names.iter().any(|name| self.selects(name)) {
            loaders.load_now(loader, keys).await?;
        }
        Ok(())
    }

    /// The arguments of each field `name` of the nodes, with variables
    /// put in.
    fn arguments_of(&self, name: &str) -> Vec<Arguments> {
        self.nodes
            .iter()
            .flat_map(|ahead| ahead.field(name).selection_fields())
            .filter_map(|field| field.arguments().ok())
            .map(Arguments)
            .collect()
    }

    fn exists(&self) -> bool {
        self.nodes.iter().any(Lookahead::exists)
    }

    /// Whether field `name` of the nodes is selected.
    fn selects(&self, name: &str) -> bool {
        self.nodes.iter().any(|ahead| ahead.field(name).exists())
    }

    /// Load ahead with `now` those of `rows` (with their `id`) not yet
    /// loaded ahead for these selections, which count as loaded ahead from
    /// then on; nothing when none is left (or the request remembers
    /// nothing). A page nested in a page loaded ahead (a workstream's
    /// `upstream` on the program's list) finds its rows done by the outer
    /// page.
    async fn load<T: Sync>(
        &self,
        ctx: &Context<'_>,
        rows: &[&Visible<T>],
        id: fn(&T) -> Uuid,
        now: LoadNow<T>,
    ) -> ApiResult<()> {
        let loaders = loaders(ctx)?;
        if rows.is_empty() || !loaders.caching() {
            return Ok(());
        }
        let rows = loaders.first_time_ahead(&self.fields, rows, |row| id(row));
        if rows.is_empty() {
            return Ok(());
        }
        // A field resolved for each item of a list its parent did not load
        // ahead: loading now would take a statement per item, where the
        // loaders' batches gather the whole list's.
        if in_a_list(ctx) {
            return Ok(());
        }
        // A failure is left to the fields: each loads what it needs on its
        // own and reports its own error, so the rest of the request (the
        // page, its other fields) still answers.
        if let Err(error) = now(ctx, self, &loaders, &rows).await {
            tracing::debug!(%error, "loading ahead failed; the fields load on their own");
        }
        Ok(())
    }
}

/// Whether the field `ctx` resolves is resolved once for each item of a list.
fn in_a_list(ctx: &Context<'_>) -> bool {
    let mut node = ctx.path_node.as_ref();
    while let Some(current) = node {
        if matches!(current.segment, QueryPathSegment::Index(_)) {
            return true;
        }
        node = current.parent;
    }
    false
}

/// The arguments of one field of the document.
struct Arguments(Vec<(Name, Value)>);

impl Arguments {
    /// Argument `name` as the field's resolver receives it; `None` when it
    /// does not parse (the field reports that itself).
    fn get<T: InputType>(&self, name: &str) -> Option<T> {
        let value = self.0.iter().find(|(key, _)| key.as_str() == name);
        T::parse(value.map(|(_, value)| value.clone())).ok()
    }

    /// The page a connection field asks for.
    fn page(&self) -> Option<PageArgs> {
        Some(PageArgs {
            first: self.get("first")?,
            after: self.get("after")?,
            last: self.get("last")?,
            before: self.get("before")?,
        })
    }
}

/// What loads ahead the selections of one kind of row, given the rows.
type LoadNow<T> = for<'a> fn(
    &'a Context<'_>,
    &'a Ahead<'_>,
    &'a Loaders,
    &'a [&'a Visible<T>],
) -> BoxFuture<'a, ApiResult<()>>;

fn distinct(ids: impl IntoIterator<Item = Uuid>) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

/// Of each node's rows (`held`, by node), those the connection fields
/// `name` of the nodes will show: the page each field asks for, as `page`
/// makes it from the rows and the field's arguments (`None` when they do
/// not parse, which the field reports itself). Only those are loaded
/// ahead: a short page of a long list reads no more than it shows, and no
/// program off every page is planned.
fn shown<T>(
    ahead: &Ahead<'_>,
    name: &str,
    held: impl Iterator<Item = Vec<Visible<T>>>,
    id: fn(&T) -> Uuid,
    page: impl Fn(Vec<Visible<T>>, &Arguments) -> Option<Page<Visible<T>>>,
) -> Vec<Visible<T>> {
    let fields = ahead.arguments_of(name);
    let mut seen = HashSet::new();
    let mut shown = Vec::new();
    for rows in held {
        for arguments in &fields {
            let Some(page) = page(rows.clone(), arguments) else {
                continue;
            };
            let rows = page.items.into_iter().map(|(_, row)| row);
            shown.extend(rows.filter(|row| seen.insert(id(row))));
        }
    }
    shown
}
