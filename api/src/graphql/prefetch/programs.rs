//! Loading ahead under programs, portfolios and goals.

use std::collections::HashMap;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::{goal, portfolio, program};
use futures::future::BoxFuture;
use uuid::Uuid;

use super::work::{shown_workstreams, workstreams};
use super::{Ahead, distinct, shown};
use crate::domain::access::Visible;
use crate::domain::loaders::Loaders;
use crate::domain::portfolios::page_programs;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::scope;
use crate::graphql::types::goal::goal_page;

/// The programs the `programs` fields of the nodes will show (see [`shown`]).
fn shown_programs(
    ctx: &Context<'_>,
    ahead: &Ahead<'_>,
    held: impl Iterator<Item = Vec<Visible<program::Model>>>,
) -> ApiResult<Vec<Visible<program::Model>>> {
    let (domain, _) = scope(ctx)?;
    Ok(shown(
        ahead,
        "programs",
        held,
        |row| row.id,
        |rows, arguments| page_programs(domain, rows, &arguments.page()?).ok(),
    ))
}

/// The goals the `goals` fields of the nodes will show (see [`shown`]).
fn shown_goals(
    ctx: &Context<'_>,
    ahead: &Ahead<'_>,
    held: impl Iterator<Item = Vec<Visible<goal::Model>>>,
) -> ApiResult<Vec<Visible<goal::Model>>> {
    let (domain, _) = scope(ctx)?;
    Ok(shown(
        ahead,
        "goals",
        held,
        |row| row.id,
        |rows, arguments| goal_page(domain, rows, &arguments.page()?).ok(),
    ))
}

/// Load the programs the nodes `keys` hold through `links` (the caller can
/// see), and ahead what their `programs` fields select of the pages they
/// show; the programs found, by id.
async fn program_pages<L, R>(
    ctx: &Context<'_>,
    ahead: &Ahead<'_>,
    loaders: &Loaders,
    links: &DataLoader<L, HashMapCache>,
    program_id: fn(&R) -> Uuid,
    keys: impl IntoIterator<Item = Uuid>,
) -> ApiResult<HashMap<Uuid, Visible<program::Model>>>
where
    L: Loader<Uuid, Value = Vec<Visible<R>>, Error = ApiError>,
{
    let held = loaders.load_now(links, keys).await?;
    let held: Vec<Vec<Uuid>> = held
        .values()
        .map(|links| links.iter().map(|link| program_id(link)).collect())
        .collect();
    let found = loaders
        .load_now(&loaders.programs, distinct(held.iter().flatten().copied()))
        .await?;
    let nodes = ahead.connection("programs");
    if nodes.exists() {
        let of_each = held.iter().map(|ids| {
            let found = ids.iter().filter_map(|id| found.get(id));
            found.cloned().collect()
        });
        let shown = shown_programs(ctx, ahead, of_each)?;
        programs(ctx, &nodes, &shown.iter().collect::<Vec<_>>()).await?;
    }
    Ok(found)
}

/// The lists of a program loaded ahead.
const LISTS: [&str; 10] = [
    "workstreams",
    "dependencies",
    "goals",
    "risks",
    "decisions",
    "milestones",
    "members",
    "costs",
    "baselines",
    "statusUpdates",
];

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

/// Load ahead what `ahead` selects of the programs `rows`: their plans
/// together (the costliest thing a program's fields load, which a batch
/// split by timing would do again), their lists, and what is selected of
/// their workstreams and dependencies.
pub async fn programs(
    ctx: &Context<'_>,
    ahead: &Ahead<'_>,
    rows: &[&Visible<program::Model>],
) -> ApiResult<()> {
    // Nothing to do for a program's own columns (the program by key).
    if !PLANNED
        .iter()
        .chain(&LISTS)
        .any(|field| ahead.selects(field))
    {
        return Ok(());
    }
    ahead.load(ctx, rows, |row| row.id, programs_now).await
}

fn programs_now<'a>(
    ctx: &'a Context<'_>,
    ahead: &'a Ahead<'_>,
    loaders: &'a Loaders,
    rows: &'a [&'a Visible<program::Model>],
) -> BoxFuture<'a, ApiResult<()>> {
    Box::pin(async move {
        // A field asking for one of them by id (today in its time zone)
        // finds it.
        let known = rows.iter().map(|row| (row.id, (*row).clone()));
        loaders.feed_now(&loaders.programs, known).await;
        let ids = || rows.iter().map(|row| row.id);
        let plans = async {
            if PLANNED.iter().any(|field| ahead.selects(field)) {
                loaders.plan_now(rows).await?;
            }
            ApiResult::Ok(())
        };
        let workstream_nodes = ahead.connection("workstreams");
        let workstream_pages = async {
            if ahead.selects("workstreams") {
                let groups = loaders
                    .load_now(&loaders.workstreams_by_program, ids())
                    .await?;
                let shown = shown_workstreams(ctx, ahead, groups.into_values())?;
                workstreams(ctx, &workstream_nodes, &shown.iter().collect::<Vec<_>>()).await?;
            }
            ApiResult::Ok(())
        };
        // Recorded in the programs, and recorded elsewhere waiting on them
        // (the page of them each field shows loads what it selects).
        let dependency_lists = async {
            if ahead.selects("dependencies") {
                futures::try_join!(
                    loaders.load_now(&loaders.dependencies_by_program, ids()),
                    loaders.load_now(&loaders.dependencies_by_upstream_program, ids()),
                )?;
            }
            ApiResult::Ok(())
        };
        let goal_nodes = ahead.connection("goals");
        let goal_pages = async {
            if ahead.selects("goals") {
                let held = loaders.load_now(&loaders.goals_by_program, ids()).await?;
                let ids = distinct(held.values().flatten().map(|row| row.goal_id));
                let found = loaders.load_now(&loaders.goals, ids).await?;
                let of_each = held.values().map(|held| {
                    let found = held.iter().filter_map(|row| found.get(&row.goal_id));
                    found.flatten().cloned().collect()
                });
                let shown = shown_goals(ctx, ahead, of_each)?;
                goals(ctx, &goal_nodes, &shown.iter().collect::<Vec<_>>()).await?;
            }
            ApiResult::Ok(())
        };
        futures::try_join!(
            plans,
            workstream_pages,
            dependency_lists,
            goal_pages,
            // Computed health and the brief weigh the risks.
            ahead.group(
                loaders,
                &["risks", "computedHealth", "brief", "briefSummary"],
                &loaders.risks_by_program,
                ids()
            ),
            ahead.group(
                loaders,
                &["decisions"],
                &loaders.decisions_by_program,
                ids()
            ),
            ahead.group(
                loaders,
                &["milestones"],
                &loaders.milestones_by_program,
                ids()
            ),
            ahead.group(loaders, &["members"], &loaders.members_by_program, ids()),
            ahead.group(loaders, &["costs"], &loaders.costs_by_program, ids()),
            ahead.group(
                loaders,
                &["baselines"],
                &loaders.baselines_by_program,
                ids()
            ),
            ahead.group(
                loaders,
                &["statusUpdates"],
                &loaders.status_updates_by_program,
                ids()
            ),
        )?;
        Ok(())
    })
}

/// Load ahead what `ahead` selects of the portfolios `rows`: their
/// programs (and what their rollup reads of them), their goals, their owners.
pub async fn portfolios(
    ctx: &Context<'_>,
    ahead: &Ahead<'_>,
    rows: &[&Visible<portfolio::Model>],
) -> ApiResult<()> {
    ahead.load(ctx, rows, |row| row.id, portfolios_now).await
}

fn portfolios_now<'a>(
    ctx: &'a Context<'_>,
    ahead: &'a Ahead<'_>,
    loaders: &'a Loaders,
    rows: &'a [&'a Visible<portfolio::Model>],
) -> BoxFuture<'a, ApiResult<()>> {
    Box::pin(async move {
        let ids = || rows.iter().map(|row| row.id);
        let rolled_up = ahead.selects("rollup") || ahead.selects("brief");
        let held_programs = async {
            if !ahead.selects("programs") && !rolled_up {
                return ApiResult::Ok(());
            }
            let links = &loaders.programs_by_portfolio;
            let found =
                program_pages(ctx, ahead, loaders, links, |link| link.program_id, ids()).await?;
            // A rollup reads every program's plan, risks and costs.
            if rolled_up {
                let all: Vec<_> = found.values().collect();
                let ids = || all.iter().map(|row| row.id);
                futures::try_join!(
                    loaders.plan_now(&all),
                    loaders.load_now(&loaders.risks_by_program, ids()),
                    loaders.load_now(&loaders.costs_by_program, ids()),
                )?;
            }
            Ok(())
        };
        let goal_nodes = ahead.connection("goals");
        let goal_pages = async {
            if ahead.selects("goals") {
                let held = loaders.load_now(&loaders.goals_by_portfolio, ids()).await?;
                let shown = shown_goals(ctx, ahead, held.into_values())?;
                goals(ctx, &goal_nodes, &shown.iter().collect::<Vec<_>>()).await?;
            }
            ApiResult::Ok(())
        };
        // One after the other, deepest first: the programs' goals and the
        // portfolios' may be the same, and so may their people, and
        // whichever loads them first, the other loads only the rest; in a
        // fixed order the statements do not depend on timing.
        held_programs.await?;
        goal_pages.await?;
        let owners = distinct(rows.iter().map(|row| row.owner_id));
        ahead
            .group(loaders, &["owner"], &loaders.users, owners)
            .await
    })
}

/// Load ahead what `ahead` selects of the goals `rows`: their programs (and
/// what is selected of them), their values, the people named, their
/// portfolios.
pub async fn goals(
    ctx: &Context<'_>,
    ahead: &Ahead<'_>,
    rows: &[&Visible<goal::Model>],
) -> ApiResult<()> {
    ahead.load(ctx, rows, |row| row.id, goals_now).await
}

fn goals_now<'a>(
    ctx: &'a Context<'_>,
    ahead: &'a Ahead<'_>,
    loaders: &'a Loaders,
    rows: &'a [&'a Visible<goal::Model>],
) -> BoxFuture<'a, ApiResult<()>> {
    Box::pin(async move {
        let ids = || rows.iter().map(|row| row.id);
        let held_programs = async {
            if ahead.selects("programs") {
                let links = &loaders.programs_by_goal;
                program_pages(ctx, ahead, loaders, links, |link| link.program_id, ids()).await?;
            }
            ApiResult::Ok(())
        };
        let people = async {
            let history = ahead.connection("history");
            let mut people = Vec::new();
            if ahead.selects("owner") {
                people.extend(rows.iter().map(|row| row.owner_id));
            }
            if ahead.selects("history") {
                let values = loaders.load_now(&loaders.values_by_goal, ids()).await?;
                if history.selects("recordedBy") {
                    let recorders = values.values().flatten();
                    people.extend(recorders.filter_map(|value| value.recorded_by_id));
                }
            }
            if !people.is_empty() {
                loaders.load_now(&loaders.users, distinct(people)).await?;
            }
            ApiResult::Ok(())
        };
        let portfolios = distinct(rows.iter().filter_map(|row| row.portfolio_id));
        // The programs' own goals, people and portfolios first (see
        // `portfolios_now`).
        held_programs.await?;
        futures::try_join!(
            people,
            ahead.group(loaders, &["portfolio"], &loaders.portfolios, portfolios),
        )?;
        Ok(())
    })
}
