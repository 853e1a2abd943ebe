//! Loading ahead under workstreams, their dependencies and teams.

use async_graphql::Context;
use entity::{dependency, team, workstream};
use futures::future::BoxFuture;

use super::{Ahead, distinct, shown};
use crate::domain::access::Visible;
use crate::domain::capacity::programs_at_work;
use crate::domain::loaders::Loaders;
use crate::error::ApiResult;
use crate::graphql::context::scope;
use crate::graphql::types::workstream::workstream_page;

/// The workstreams the `workstreams` fields of the nodes will show,
/// filtered and ordered as each asks (see [`shown`]).
pub(super) fn shown_workstreams(
    ctx: &Context<'_>,
    ahead: &Ahead<'_>,
    held: impl Iterator<Item = Vec<Visible<workstream::Model>>>,
) -> ApiResult<Vec<Visible<workstream::Model>>> {
    let (domain, _) = scope(ctx)?;
    Ok(shown(
        ahead,
        "workstreams",
        held,
        |row| row.id,
        |rows, arguments| {
            let (filter, order) = (arguments.get("filter")?, arguments.get("orderBy")?);
            workstream_page(domain, rows, &arguments.page()?, filter, order).ok()
        },
    ))
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
            loaders.feed_now(&loaders.workstreams, known).await;
        }
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
        let teams = distinct(rows.iter().filter_map(|row| row.team_id));
        let leads = distinct(rows.iter().filter_map(|row| row.lead_id));
        let programs = distinct(rows.iter().map(|row| row.program_id));
        futures::try_join!(
            ahead.group(loaders, &["team"], &loaders.teams, teams),
            ahead.group(loaders, &["lead"], &loaders.users, leads),
            ahead.group(loaders, &["program"], &loaders.programs, programs),
            ahead.group(
                loaders,
                &["milestones"],
                &loaders.milestones_by_workstream,
                ids()
            ),
            ahead.group(
                loaders,
                &["comments"],
                &loaders.comments_by_workstream,
                ids()
            ),
            upstream,
            downstream,
        )?;
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
        let comments = ahead.group(
            loaders,
            &["comments"],
            &loaders.comments_by_dependency,
            rows.iter().map(|row| row.id),
        );
        let ends = async {
            if wanted.is_empty() {
                return ApiResult::Ok(());
            }
            let found = loaders
                .load_now(&loaders.workstreams, distinct(wanted))
                .await?;
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

/// The fields of a team that read its unfinished work with its programs' plans.
const TEAM_WORK: [&str; 3] = ["commitments", "priorityConflicts", "load"];

/// Load ahead what `ahead` selects of the teams `rows`: their workstreams
/// (and what is selected of them), and for their commitments and load the
/// plans of the programs those are in.
pub async fn teams(
    ctx: &Context<'_>,
    ahead: &Ahead<'_>,
    rows: &[&Visible<team::Model>],
) -> ApiResult<()> {
    ahead.load(ctx, rows, |row| row.id, teams_now).await
}

fn teams_now<'a>(
    ctx: &'a Context<'_>,
    ahead: &'a Ahead<'_>,
    loaders: &'a Loaders,
    rows: &'a [&'a Visible<team::Model>],
) -> BoxFuture<'a, ApiResult<()>> {
    Box::pin(async move {
        let workstream_nodes = ahead.connection("workstreams");
        let planned = TEAM_WORK.iter().any(|field| ahead.selects(field));
        if !ahead.selects("workstreams") && !planned {
            return Ok(());
        }
        let groups = loaders
            .load_now(&loaders.workstreams_by_team, rows.iter().map(|row| row.id))
            .await?;
        let plans = async {
            if planned {
                let ids = programs_at_work(groups.values().flatten().map(|row| &**row));
                let programs = loaders.load_now(&loaders.programs, ids).await?;
                loaders
                    .plan_now(&programs.values().collect::<Vec<_>>())
                    .await?;
            }
            ApiResult::Ok(())
        };
        let pages = async {
            let shown = shown_workstreams(ctx, ahead, groups.values().cloned())?;
            workstreams(ctx, &workstream_nodes, &shown.iter().collect::<Vec<_>>()).await
        };
        futures::try_join!(plans, pages)?;
        Ok(())
    })
}
