//! Everything near a program, loaded for its forecast: its workstreams,
//! every workstream up- or downstream of them through any number of
//! dependencies in any program, the dependencies among them and their
//! programs, in three statements whatever the size; and that as the pure
//! planner's [`PlanGraph`].

use std::collections::{BTreeSet, HashMap, HashSet};

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
/// the dependencies among them, and their programs (the program's own
/// included).
pub struct Near {
    /// The workstreams, the program's and the others'.
    pub workstreams: Vec<workstream::Model>,
    /// The dependencies among them.
    pub dependencies: Vec<dependency::Model>,
    /// Their programs and the program itself.
    pub programs: Vec<program::Model>,
}

/// The workstreams of other programs near each program of a set (`seed`):
/// a recursive walk, in the database, up from the dependencies that cross
/// into the program and down from those that cross out of it, through
/// other programs' work only (the program's own work is loaded whole; a
/// path that comes back through it crosses out again, and is walked from
/// there). The same SQL on SQLite and PostgreSQL; cheap when little
/// crosses (a 10,000-workstream program with 50,000 dependencies and none
/// crossing takes ~10 ms). `{seeds}` is the list of program ids.
const OUTSIDE: &str = "WITH RECURSIVE \
     up(seed, id) AS (SELECT d.program_id, d.upstream_id FROM dependencies d \
         WHERE d.program_id IN ({seeds}) AND d.upstream_program_id <> d.program_id \
       UNION SELECT up.seed, d.upstream_id FROM dependencies d JOIN up ON d.downstream_id = up.id \
         WHERE d.upstream_program_id <> up.seed), \
     down(seed, id) AS (SELECT d.upstream_program_id, d.downstream_id FROM dependencies d \
         WHERE d.upstream_program_id IN ({seeds}) AND d.program_id <> d.upstream_program_id \
       UNION SELECT down.seed, d.downstream_id FROM dependencies d JOIN down ON d.upstream_id = down.id \
         WHERE d.program_id <> down.seed), \
     outside(seed, id) AS (SELECT seed, id FROM up UNION SELECT seed, id FROM down)";

/// Load what is near a program: three statements, whatever its size.
pub async fn load_near(db: &impl ConnectionTrait, program_id: Uuid) -> ApiResult<Near> {
    let mut near = load_near_many(db, &[program_id]).await?;
    Ok(near.remove(&program_id).unwrap_or_else(|| Near {
        workstreams: Vec::new(),
        dependencies: Vec::new(),
        programs: Vec::new(),
    }))
}

/// Load what is near each of `program_ids`, by program: three statements
/// for one program, four for any number, whatever their size.
pub async fn load_near_many(
    db: &impl ConnectionTrait,
    program_ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, Near>> {
    let seeds: Vec<Uuid> = program_ids
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if seeds.is_empty() {
        return Ok(HashMap::new());
    }
    let backend = db.get_database_backend();
    let placeholders = (1..=seeds.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let outside_cte = OUTSIDE.replace("{seeds}", &placeholders);
    let statement = |select: String| {
        Statement::from_sql_and_values(
            backend,
            format!("{outside_cte} {select}"),
            seeds.iter().map(|id| (*id).into()),
        )
    };
    let workstreams = workstream::Entity::find()
        .from_raw_sql(statement(format!(
            "SELECT w.* FROM workstreams w \
             WHERE w.program_id IN ({placeholders}) OR w.id IN (SELECT id FROM outside) \
             ORDER BY w.created_at, w.id"
        )))
        .all(db)
        .await?;
    let dependencies = dependency::Entity::find()
        .from_raw_sql(statement(format!(
            "SELECT d.* FROM dependencies d \
             WHERE d.program_id IN ({placeholders}) OR d.upstream_program_id IN ({placeholders}) \
             OR (d.upstream_id IN (SELECT id FROM outside) \
                 AND d.downstream_id IN (SELECT id FROM outside))"
        )))
        .all(db)
        .await?;
    // Which other programs' workstreams are near which program: with one
    // program, every one loaded that is not its own.
    let mut outside: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
    if let [seed] = seeds[..] {
        outside.insert(
            seed,
            workstreams
                .iter()
                .filter(|ws| ws.program_id != seed)
                .map(|ws| ws.id)
                .collect(),
        );
    } else {
        let pairs: Vec<(Uuid, Uuid)> = db
            .query_all_raw(statement("SELECT seed, id FROM outside".to_owned()))
            .await?
            .iter()
            .map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)))
            .collect::<Result<_, sea_orm::DbErr>>()?;
        for (seed, id) in pairs {
            outside.entry(seed).or_default().insert(id);
        }
    }
    let program_ids: HashSet<Uuid> = workstreams
        .iter()
        .map(|ws| ws.program_id)
        .chain(seeds.iter().copied())
        .collect();
    let programs = program::Entity::find()
        .filter(program::Column::Id.is_in(program_ids))
        .all(db)
        .await?;
    let no_outside = HashSet::new();
    Ok(seeds
        .iter()
        .map(|&seed| {
            let outside = outside.get(&seed).unwrap_or(&no_outside);
            let near = |id: &Uuid| outside.contains(id);
            let workstreams: Vec<workstream::Model> = workstreams
                .iter()
                .filter(|ws| ws.program_id == seed || near(&ws.id))
                .cloned()
                .collect();
            let dependencies = dependencies
                .iter()
                .filter(|d| {
                    d.program_id == seed
                        || d.upstream_program_id == seed
                        || (near(&d.upstream_id) && near(&d.downstream_id))
                })
                .cloned()
                .collect();
            let their_programs: HashSet<Uuid> = workstreams
                .iter()
                .map(|ws| ws.program_id)
                .chain([seed])
                .collect();
            let programs = programs
                .iter()
                .filter(|p| their_programs.contains(&p.id))
                .cloned()
                .collect();
            (
                seed,
                Near {
                    workstreams,
                    dependencies,
                    programs,
                },
            )
        })
        .collect())
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
