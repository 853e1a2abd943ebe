//! Loading ahead: when a page of a list is resolved, what its nodes' fields
//! will ask for (their team, their dependencies, the far end of those) is
//! loaded for the whole page at once, from the document's selection. The
//! nested resolvers then find it in the request's loader cache, so a nested
//! query takes one statement per level whatever the page's size and however
//! busy the server is (a DataLoader batch alone closes on a timer, and splits
//! when requests interleave).

use std::collections::HashSet;

use async_graphql::{Context, Lookahead};
use entity::{dependency, workstream};
use futures::future::BoxFuture;
use uuid::Uuid;

use super::context::loaders;
use crate::domain::access::Visible;
use crate::error::ApiResult;

/// Where the nodes of a page are selected: under `nodes` and under
/// `edges { node }`, possibly several times.
pub struct Ahead<'a>(Vec<Lookahead<'a>>);

impl<'a> Ahead<'a> {
    /// The node selections of the connection field `ctx` resolves.
    pub fn nodes(ctx: &'a Context<'a>) -> Self {
        let connection = ctx.look_ahead();
        Self(vec![
            connection.field("nodes"),
            connection.field("edges").field("node"),
        ])
    }

    /// The selection of field `name` of the nodes.
    fn field(&self, name: &str) -> Self {
        Self(self.0.iter().map(|ahead| ahead.field(name)).collect())
    }

    /// The node selections of connection field `name` of the nodes.
    fn connection(&self, name: &str) -> Self {
        let mut nodes = Vec::new();
        for ahead in &self.0 {
            let connection = ahead.field(name);
            nodes.push(connection.field("nodes"));
            nodes.push(connection.field("edges").field("node"));
        }
        Self(nodes)
    }

    fn exists(&self) -> bool {
        self.0.iter().any(Lookahead::exists)
    }
}

fn distinct(ids: impl IntoIterator<Item = Uuid>) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

/// Load ahead what `ahead` selects of the workstreams `rows`.
pub fn workstreams<'a>(
    ctx: &'a Context<'_>,
    ahead: &'a Ahead<'_>,
    rows: &'a [&'a Visible<workstream::Model>],
) -> BoxFuture<'a, ApiResult<()>> {
    Box::pin(async move {
        let loaders = loaders(ctx)?;
        if rows.is_empty() || !loaders.caching() {
            return Ok(());
        }
        let ids = || rows.iter().map(|row| row.id);
        let (upstream_nodes, downstream_nodes) =
            (ahead.connection("upstream"), ahead.connection("downstream"));
        if upstream_nodes.exists() || downstream_nodes.exists() {
            // The far ends of their dependencies are often on this page.
            let known = rows.iter().map(|row| (row.id, (*row).clone()));
            loaders.workstreams.feed_many(known).await;
        }
        let team = async {
            if ahead.field("team").exists() {
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
            if ahead.field("lead").exists() {
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
            if ahead.field("milestones").exists() {
                loaders
                    .load_now(&loaders.milestones_by_workstream, ids())
                    .await?;
            }
            ApiResult::Ok(())
        };
        let comments = async {
            if ahead.field("comments").exists() {
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

/// Load ahead what `ahead` selects of the dependencies `rows`: both ends,
/// and what is selected of them.
pub fn dependencies<'a>(
    ctx: &'a Context<'_>,
    ahead: &'a Ahead<'_>,
    rows: &'a [&'a Visible<dependency::Model>],
) -> BoxFuture<'a, ApiResult<()>> {
    Box::pin(async move {
        let loaders = loaders(ctx)?;
        if rows.is_empty() || !loaders.caching() {
            return Ok(());
        }
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
            if ahead.field("comments").exists() {
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
