//! Everything near a program, loaded for its forecast: its workstreams,
//! every workstream up- or downstream of them through any number of
//! dependencies in any program, the dependencies among them and their
//! programs, in three statements whatever the size; and that as the pure
//! planner's [`PlanGraph`].

use std::collections::HashSet;

use chrono::NaiveDate;
use entity::{
    dependency,
    enums::{DependencyStatus, WorkstreamStatus},
    program, workstream,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use uuid::Uuid;

use crate::error::ApiResult;
use crate::planning::{Edge, PlanGraph, Progress, Task, schedule};

fn progress_of(ws: &workstream::Model) -> Progress {
    match (ws.status, ws.started_on) {
        (WorkstreamStatus::Cancelled, _) => Progress::Cancelled,
        (WorkstreamStatus::Done, _) => Progress::Done {
            started: ws.started_on,
            finished: ws.finished_on,
        },
        (_, Some(day)) => Progress::Started(day),
        (_, None) => Progress::NotStarted,
    }
}

/// The planner's graph of what was loaded, with `program_id`'s work as the
/// program's own and `today` in its time zone.
pub fn plan_graph(
    program_id: Uuid,
    workstreams: &[workstream::Model],
    dependencies: &[dependency::Model],
    today: NaiveDate,
) -> PlanGraph {
    PlanGraph {
        tasks: workstreams
            .iter()
            .map(|ws| Task {
                id: ws.id,
                start: ws.start_date,
                target: ws.target_date,
                progress: progress_of(ws),
                external: ws.program_id != program_id,
            })
            .collect(),
        edges: dependencies
            .iter()
            .map(|dep| Edge {
                upstream: dep.upstream_id,
                downstream: dep.downstream_id,
                resolved: dep.status == DependencyStatus::Resolved,
                committed: dep.committed_date,
            })
            .collect(),
        today,
    }
}

/// Everything near a program: its workstreams, every workstream up- or
/// downstream of them through any number of dependencies in any program,
/// the dependencies among them, and their programs.
pub struct Near {
    /// The workstreams, the program's and the others'.
    pub workstreams: Vec<workstream::Model>,
    /// The dependencies among them.
    pub dependencies: Vec<dependency::Model>,
    /// Their programs.
    pub programs: Vec<program::Model>,
}

/// The workstreams of other programs near a program: a recursive walk,
/// in the database, up from the dependencies that cross into the program
/// and down from those that cross out of it, through other programs' work
/// only (the program's own work is loaded whole; a path that comes back
/// through it crosses out again, and is walked from there). The same SQL on
/// SQLite and PostgreSQL; cheap when little crosses (a 10,000-workstream
/// program with 50,000 dependencies and none crossing takes ~10 ms).
const OUTSIDE: &str = "WITH RECURSIVE \
     up(id) AS (SELECT d.upstream_id FROM dependencies d \
         WHERE d.program_id = $1 AND d.upstream_program_id <> $1 \
       UNION SELECT d.upstream_id FROM dependencies d JOIN up ON d.downstream_id = up.id \
         WHERE d.upstream_program_id <> $1), \
     down(id) AS (SELECT d.downstream_id FROM dependencies d \
         WHERE d.upstream_program_id = $1 AND d.program_id <> $1 \
       UNION SELECT d.downstream_id FROM dependencies d JOIN down ON d.upstream_id = down.id \
         WHERE d.program_id <> $1), \
     outside(id) AS (SELECT id FROM up UNION SELECT id FROM down)";

/// Load what is near a program: three statements, whatever its size.
pub async fn load_near(db: &impl ConnectionTrait, program_id: Uuid) -> ApiResult<Near> {
    let backend = db.get_database_backend();
    let statement = |sql: String| Statement::from_sql_and_values(backend, sql, [program_id.into()]);
    let workstreams = workstream::Entity::find()
        .from_raw_sql(statement(format!(
            "{OUTSIDE} SELECT w.* FROM workstreams w \
             WHERE w.program_id = $1 OR w.id IN (SELECT id FROM outside) \
             ORDER BY w.created_at, w.id"
        )))
        .all(db)
        .await?;
    let dependencies = dependency::Entity::find()
        .from_raw_sql(statement(format!(
            "{OUTSIDE} SELECT d.* FROM dependencies d \
             WHERE d.program_id = $1 OR d.upstream_program_id = $1 \
             OR (d.upstream_id IN (SELECT id FROM outside) \
                 AND d.downstream_id IN (SELECT id FROM outside))"
        )))
        .all(db)
        .await?;
    let program_ids: HashSet<Uuid> = workstreams.iter().map(|ws| ws.program_id).collect();
    let programs = program::Entity::find()
        .filter(program::Column::Id.is_in(program_ids))
        .all(db)
        .await?;
    Ok(Near {
        workstreams,
        dependencies,
        programs,
    })
}

/// The forecast finish of a program (for status-update snapshots and
/// baselines, inside a write's transaction).
pub async fn forecast_finish(
    db: &impl ConnectionTrait,
    program: &program::Model,
    today: NaiveDate,
) -> ApiResult<Option<NaiveDate>> {
    let (_, schedule) = forecast_schedule(db, program, today).await?;
    Ok(schedule.finish_date)
}

/// The program's own workstreams and its forecast, read through `db` (a
/// transaction when a snapshot is stored, as `captureBaseline` does).
pub async fn forecast_schedule(
    db: &impl ConnectionTrait,
    program: &program::Model,
    today: NaiveDate,
) -> ApiResult<(Vec<workstream::Model>, schedule::Schedule)> {
    let near = load_near(db, program.id).await?;
    let graph = plan_graph(program.id, &near.workstreams, &near.dependencies, today);
    let own = near
        .workstreams
        .into_iter()
        .filter(|ws| ws.program_id == program.id)
        .collect();
    Ok((own, schedule::schedule(&graph)))
}
