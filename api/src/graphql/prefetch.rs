//! Loading ahead: when a page of a list is resolved, what its nodes' fields
//! will ask for (their team, their dependencies, the far end of those) is
//! loaded for the whole page at once, from the document's selection. The
//! nested resolvers then find it in the request's loader cache, so a nested
//! query takes one statement per level whatever the page's size and however
//! busy the server is (a DataLoader batch alone closes on a timer, and splits
//! when requests interleave).

use std::collections::HashSet;

use async_graphql::{Context, Lookahead, SelectionField};
use entity::{dependency, program, workstream};
use futures::future::BoxFuture;
use uuid::Uuid;

use super::context::loaders;
use crate::domain::access::Visible;
use crate::domain::loaders::Loaders;
use crate::error::ApiResult;

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
        now(ctx, self, &loaders, &rows).await
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

/// Load ahead what `ahead` selects of the workstreams `rows`.
pub async fn workstreams(
    ctx: &Context<'_>,
    ahead: &Ahead<'_>,
    rows: &[&Visible<workstream::Model>],
) -> ApiResult<()> {
    ahead.load(ctx, rows, |row| row.id, workstreams_now).await
}

fn workstreams_now<'a>(
    ctx: &'a Context<'_>,
    ahead: &'a Ahead<'_>,
    loaders: &'a Loaders,
    rows: &'a [&'a Visible<workstream::Model>],
) -> BoxFuture<'a, ApiResult<()>> {
    Box::pin(async move {
        let ids = || rows.iter().map(|row| row.id);
        let (upstream_nodes, downstream_nodes) =
            (ahead.connection("upstream"), ahead.connection("downstream"));
        if upstream_nodes.exists() || downstream_nodes.exists() {
            // The far ends of their dependencies are often on this page.
            let known = rows.iter().map(|row| (row.id, (*row).clone()));
            loaders.workstreams.feed_many(known).await;
        }
        let team = async {
            if ahead.selects("team") {
                loaders
                    .load_now(
                        &loaders.teams,
                        distinct(rows.iter().filter_map(|row| row.team_id)),
                    )
                    .await?;
            }
            ApiResult::Ok(())
        };
        let lead = async {
            if ahead.selects("lead") {
                loaders
                    .load_now(
                        &loaders.users,
                        distinct(rows.iter().filter_map(|row| row.lead_id)),
                    )
                    .await?;
            }
            ApiResult::Ok(())
        };
        let milestones = async {
            if ahead.selects("milestones") {
                loaders
                    .load_now(&loaders.milestones_by_workstream, ids())
                    .await?;
            }
            ApiResult::Ok(())
        };
        let comments = async {
            if ahead.selects("comments") {
                loaders
                    .load_now(&loaders.comments_by_workstream, ids())
                    .await?;
            }
            ApiResult::Ok(())
        };
        let upstream = async {
            if upstream_nodes.exists() {
                let groups = loaders
                    .load_now(&loaders.dependencies_by_downstream, ids())
                    .await?;
                let found: Vec<_> = groups.values().flatten().collect();
                dependencies(ctx, &upstream_nodes, &found).await?;
            }
            ApiResult::Ok(())
        };
        let downstream = async {
            if downstream_nodes.exists() {
                let groups = loaders
                    .load_now(&loaders.dependencies_by_upstream, ids())
                    .await?;
                let found: Vec<_> = groups.values().flatten().collect();
                dependencies(ctx, &downstream_nodes, &found).await?;
            }
            ApiResult::Ok(())
        };
        futures::try_join!(team, lead, milestones, comments, upstream, downstream)?;
        Ok(())
    })
}

/// The fields of a program that read its plan.
const PLANNED: [&str; 12] = [
    "schedule",
    "unscheduledWorkstreams",
    "forecastFinishDate",
    "criticalPath",
    "slipImpact",
    "overdueDependencies",
    "atRiskDependencies",
    "bottlenecks",
    "dependencyGraph",
    "brief",
    "briefSummary",
    "computedHealth",
];

/// Plan the programs `rows` together when `ahead` selects a field that
/// reads their plans: a plan is the costliest thing a program's fields
/// load, and a batch split by timing would plan again.
pub async fn programs(
    ctx: &Context<'_>,
    ahead: &Ahead<'_>,
    rows: &[&Visible<program::Model>],
) -> ApiResult<()> {
    ahead.load(ctx, rows, |row| row.id, programs_now).await
}

fn programs_now<'a>(
    _: &'a Context<'_>,
    ahead: &'a Ahead<'_>,
    loaders: &'a Loaders,
    rows: &'a [&'a Visible<program::Model>],
) -> BoxFuture<'a, ApiResult<()>> {
    Box::pin(async move {
        if PLANNED.iter().any(|field| ahead.selects(field)) {
            loaders.plans(rows).await?;
        }
        Ok(())
    })
}

/// Load ahead what `ahead` selects of the dependencies `rows`: both ends,
/// and what is selected of them.
pub async fn dependencies(
    ctx: &Context<'_>,
    ahead: &Ahead<'_>,
    rows: &[&Visible<dependency::Model>],
) -> ApiResult<()> {
    ahead.load(ctx, rows, |row| row.id, dependencies_now).await
}

fn dependencies_now<'a>(
    ctx: &'a Context<'_>,
    ahead: &'a Ahead<'_>,
    loaders: &'a Loaders,
    rows: &'a [&'a Visible<dependency::Model>],
) -> BoxFuture<'a, ApiResult<()>> {
    Box::pin(async move {
        let upstream = ahead.field("upstream");
        let downstream = ahead.field("downstream");
        let mut wanted = Vec::new();
        if upstream.exists() {
            wanted.extend(rows.iter().map(|row| row.upstream_id));
        }
        if downstream.exists() {
            wanted.extend(rows.iter().map(|row| row.downstream_id));
        }
        let comments = async {
            if ahead.selects("comments") {
                loaders
                    .load_now(
                        &loaders.comments_by_dependency,
                        rows.iter().map(|row| row.id),
                    )
                    .await?;
            }
            ApiResult::Ok(())
        };
        let ends = async {
            if wanted.is_empty() {
                return ApiResult::Ok(());
            }
            let found = loaders.workstreams.load_many(distinct(wanted)).await?;
            let upstream_ends: Vec<_> = rows
                .iter()
                .filter_map(|row| found.get(&row.upstream_id))
                .collect();
            let downstream_ends: Vec<_> = rows
                .iter()
                .filter_map(|row| found.get(&row.downstream_id))
                .collect();
            futures::try_join!(
                workstreams(ctx, &upstream, &upstream_ends),
                workstreams(ctx, &downstream, &downstream_ends),
            )?;
            ApiResult::Ok(())
        };
        futures::try_join!(comments, ends)?;
        Ok(())
    })
}
