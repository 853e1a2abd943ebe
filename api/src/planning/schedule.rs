//! Forward and backward passes, the critical path and slip impact.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use uuid::Uuid;

use super::PlanGraph;

/// Where one workstream can sit on the calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    /// The workstream.
    pub id: Uuid,
    /// Earliest day it can start.
    pub earliest_start: NaiveDate,
    /// Earliest day it can finish.
    pub earliest_finish: NaiveDate,
    /// Latest day it can start without moving the program's finish.
    pub latest_start: NaiveDate,
    /// Latest day it can finish without moving the program's finish.
    pub latest_finish: NaiveDate,
    /// Days it can slip without moving the finish (zero: critical).
    pub slack_days: i64,
}

/// The program's computed schedule.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schedule {
    /// Scheduled in-program workstreams, in dependency order.
    pub slots: Vec<Slot>,
    /// In-program workstreams missing a date, left out of the passes.
    pub unscheduled: Vec<Uuid>,
    /// The forecast finish: the latest earliest finish.
    pub finish_date: Option<NaiveDate>,
    /// A zero-slack chain from first to last that sets the finish date.
    pub critical_path: Vec<Uuid>,
    /// Calendar days from the path's first earliest start to the finish, both included.
    pub critical_path_days: Option<i64>,
}

impl Schedule {
    /// The slot of one workstream.
    pub fn slot(&self, id: Uuid) -> Option<&Slot> {
        self.slots.iter().find(|slot| slot.id == id)
    }
}

/// What moves if one workstream finishes later.
#[derive(Debug, Clone, PartialEq)]
pub struct SlipImpact {
    /// The forecast finish after the slip.
    pub finish_date: Option<NaiveDate>,
    /// How many days the forecast finish moves.
    pub finish_delay_days: i64,
    /// Every workstream whose earliest finish moves: `(id, slip days, new finish)`.
    pub affected: Vec<(Uuid, i64, NaiveDate)>,
}

/// The graph in index form, restricted to scheduled tasks, topologically sorted.
struct Indexed {
    ids: Vec<Uuid>,
    start: Vec<NaiveDate>,
    duration: Vec<i64>,
    external: Vec<bool>,
    /// External tasks finish at their target, whatever their start.
    fixed_finish: Vec<Option<NaiveDate>>,
    upstream: Vec<Vec<usize>>,
    downstream: Vec<Vec<usize>>,
    order: Vec<usize>,
    unscheduled: Vec<Uuid>,
}

fn index(graph: &PlanGraph) -> Indexed {
    let mut position = HashMap::with_capacity(graph.tasks.len());
    let mut ids = Vec::new();
    let mut start = Vec::new();
    let mut duration = Vec::new();
    let mut external = Vec::new();
    let mut fixed_finish = Vec::new();
    let mut unscheduled = Vec::new();
    for task in &graph.tasks {
        if position.contains_key(&task.id) {
            continue;
        }
        let usable = if task.external {
            task.target.is_some()
        } else {
            task.duration().is_some()
        };
        if !usable {
            if !task.external {
                unscheduled.push(task.id);
            }
            continue;
        }
        position.insert(task.id, ids.len());
        ids.push(task.id);
        let target = task.target.unwrap_or(NaiveDate::MIN);
        start.push(task.start.unwrap_or(target));
        duration.push(task.duration().unwrap_or(0).max(0));
        external.push(task.external);
        fixed_finish.push(task.external.then_some(target));
    }
    let n = ids.len();
    let mut upstream = vec![Vec::new(); n];
    let mut downstream = vec![Vec::new(); n];
    let mut indegree = vec![0usize; n];
    for (up, down) in &graph.edges {
        if let (Some(&u), Some(&d)) = (position.get(up), position.get(down))
            && u != d
            && !external[d]
        {
            upstream[d].push(u);
            downstream[u].push(d);
            indegree[d] += 1;
        }
    }
    // Kahn's algorithm; a cycle (refused on write) would leave nodes out.
    let mut order = Vec::with_capacity(n);
    let mut ready: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    while let Some(i) = ready.pop() {
        order.push(i);
        for &d in &downstream[i] {
            indegree[d] -= 1;
            if indegree[d] == 0 {
                ready.push(d);
            }
        }
    }
    Indexed {
        ids,
        start,
        duration,
        external,
        fixed_finish,
        upstream,
        downstream,
        order,
        unscheduled,
    }
}

/// The first day a schedule can name.
pub const FIRST_DAY: NaiveDate = NaiveDate::from_ymd_opt(1, 1, 1).expect("a valid day");
/// The last day a schedule can name: a chain of long workstreams that ends
/// later ends here, instead of overflowing the calendar.
pub const LAST_DAY: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid day");

/// `date` moved by `days`, held within [`FIRST_DAY`] and [`LAST_DAY`].
fn shift(date: NaiveDate, days: i64) -> NaiveDate {
    Duration::try_days(days)
        .and_then(|delta| date.checked_add_signed(delta))
        .map_or(if days < 0 { FIRST_DAY } else { LAST_DAY }, |day| {
            day.clamp(FIRST_DAY, LAST_DAY)
        })
}

/// Earliest starts and finishes; `extra` adds days to one task's duration.
fn forward(g: &Indexed, extra: Option<(usize, i64)>) -> (Vec<NaiveDate>, Vec<NaiveDate>) {
    let n = g.ids.len();
    let mut es = vec![NaiveDate::MIN; n];
    let mut ef = vec![NaiveDate::MIN; n];
    for &i in &g.order {
        if let Some(finish) = g.fixed_finish[i] {
            es[i] = g.start[i];
            ef[i] = finish;
            continue;
        }
        let mut earliest = g.start[i];
        for &u in &g.upstream[i] {
            let after = shift(ef[u], 1);
            if after > earliest {
                earliest = after;
            }
        }
        let mut duration = g.duration[i];
        if let Some((slipped, days)) = extra
            && slipped == i
        {
            duration = duration.saturating_add(days);
        }
        es[i] = earliest;
        ef[i] = shift(earliest, duration);
    }
    (es, ef)
}

fn finish_of(g: &Indexed, ef: &[NaiveDate]) -> Option<NaiveDate> {
    g.order
        .iter()
        .filter(|&&i| !g.external[i])
        .map(|&i| ef[i])
        .max()
}

/// Compute the schedule of `graph`.
pub fn schedule(graph: &PlanGraph) -> Schedule {
    let g = index(graph);
    let (es, ef) = forward(&g, None);
    let Some(finish) = finish_of(&g, &ef) else {
        return Schedule {
            unscheduled: g.unscheduled,
            ..Schedule::default()
        };
    };
    let n = g.ids.len();
    let mut lf = vec![finish; n];
    let mut ls = vec![finish; n];
    for &i in g.order.iter().rev() {
        let mut latest = finish;
        for &d in &g.downstream[i] {
            let before = shift(ls[d], -1);
            if before < latest {
                latest = before;
            }
        }
        lf[i] = latest;
        ls[i] = shift(latest, -g.duration[i]);
    }
    let slots: Vec<Slot> = g
        .order
        .iter()
        .filter(|&&i| !g.external[i])
        .map(|&i| Slot {
            id: g.ids[i],
            earliest_start: es[i],
            earliest_finish: ef[i],
            latest_start: ls[i],
            latest_finish: lf[i],
            slack_days: (ls[i] - es[i]).num_days(),
        })
        .collect();

    // Walk back from a zero-slack task finishing last, through the upstream
    // that binds its start, to the first task of the chain.
    let slack = |i: usize| (ls[i] - es[i]).num_days();
    let mut path = Vec::new();
    let mut current = g
        .order
        .iter()
        .copied()
        .filter(|&i| !g.external[i] && ef[i] == finish && slack(i) == 0)
        .min_by_key(|&i| g.ids[i]);
    while let Some(i) = current {
        path.push(g.ids[i]);
        current = g.upstream[i]
            .iter()
            .copied()
            .filter(|&u| !g.external[u] && slack(u) == 0 && shift(ef[u], 1) == es[i])
            .min_by_key(|&u| g.ids[u]);
    }
    path.reverse();
    let critical_path_days = path
        .first()
        .and_then(|first| slots.iter().find(|slot| slot.id == *first))
        .map(|slot| (finish - slot.earliest_start).num_days() + 1);
    Schedule {
        slots,
        unscheduled: g.unscheduled,
        finish_date: Some(finish),
        critical_path: path,
        critical_path_days,
    }
}

/// What moves if `slipped` finishes `days` later (its duration grows by `days`).
/// `None` when the workstream is not scheduled.
pub fn slip_impact(graph: &PlanGraph, slipped: Uuid, days: i64) -> Option<SlipImpact> {
    let g = index(graph);
    let target = g.ids.iter().position(|id| *id == slipped)?;
    if g.external[target] {
        return None;
    }
    let (_, before) = forward(&g, None);
    let (_, after) = forward(&g, Some((target, days)));
    let old_finish = finish_of(&g, &before);
    let new_finish = finish_of(&g, &after);
    let affected = g
        .order
        .iter()
        .filter(|&&i| !g.external[i] && after[i] != before[i])
        .map(|&i| (g.ids[i], (after[i] - before[i]).num_days(), after[i]))
        .collect();
    Some(SlipImpact {
        finish_date: new_finish,
        finish_delay_days: match (old_finish, new_finish) {
            (Some(old), Some(new)) => (new - old).num_days(),
            _ => 0,
        },
        affected,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Task;
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn task(id: Uuid, start: &str, target: &str) -> Task {
        Task {
            id,
            start: Some(day(start)),
            target: Some(day(target)),
            external: false,
        }
    }

    fn ids(n: usize) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
        ids.sort();
        ids
    }

    #[test]
    fn a_chain_pushes_each_workstream_after_the_previous_one() {
        let id = ids(3);
        let graph = PlanGraph {
            tasks: vec![
                task(id[0], "2026-01-01", "2026-01-10"),
                task(id[1], "2026-01-01", "2026-01-05"),
                task(id[2], "2026-01-01", "2026-01-03"),
            ],
            edges: vec![(id[0], id[1]), (id[1], id[2])],
        };
        let s = schedule(&graph);
        assert_eq!(s.slot(id[1]).unwrap().earliest_start, day("2026-01-11"));
        assert_eq!(s.slot(id[1]).unwrap().earliest_finish, day("2026-01-15"));
        assert_eq!(s.slot(id[2]).unwrap().earliest_finish, day("2026-01-18"));
        assert_eq!(s.finish_date, Some(day("2026-01-18")));
        assert_eq!(s.critical_path, id);
        assert_eq!(s.critical_path_days, Some(18));
    }

    #[test]
    fn a_diamond_has_slack_on_its_short_side() {
        let id = ids(4);
        let graph = PlanGraph {
            tasks: vec![
                task(id[0], "2026-03-01", "2026-03-05"),
                task(id[1], "2026-03-01", "2026-03-21"),
                task(id[2], "2026-03-01", "2026-03-04"),
                task(id[3], "2026-03-01", "2026-03-02"),
            ],
            edges: vec![
                (id[0], id[1]),
                (id[0], id[2]),
                (id[1], id[3]),
                (id[2], id[3]),
            ],
        };
        let s = schedule(&graph);
        assert_eq!(s.slot(id[1]).unwrap().slack_days, 0);
        assert_eq!(s.slot(id[2]).unwrap().slack_days, 17);
        assert_eq!(s.critical_path, vec![id[0], id[1], id[3]]);
        let impact = slip_impact(&graph, id[2], 10).unwrap();
        assert_eq!(impact.finish_delay_days, 0);
        assert_eq!(impact.affected, vec![(id[2], 10, day("2026-03-19"))]);
        let impact = slip_impact(&graph, id[1], 3).unwrap();
        assert_eq!(impact.finish_delay_days, 3);
        assert_eq!(impact.affected.len(), 2);
    }

    #[test]
    fn unscheduled_workstreams_and_their_edges_are_left_out() {
        let id = ids(3);
        let graph = PlanGraph {
            tasks: vec![
                task(id[0], "2026-01-01", "2026-01-10"),
                Task {
                    id: id[1],
                    start: None,
                    target: Some(day("2026-02-01")),
                    external: false,
                },
                task(id[2], "2026-01-01", "2026-01-02"),
            ],
            edges: vec![(id[0], id[1]), (id[1], id[2])],
        };
        let s = schedule(&graph);
        assert_eq!(s.unscheduled, vec![id[1]]);
        assert_eq!(s.slot(id[2]).unwrap().earliest_start, day("2026-01-01"));
        assert!(s.slot(id[1]).is_none());
    }

    #[test]
    fn an_external_upstream_is_a_fixed_constraint_at_its_target() {
        let id = ids(2);
        let graph = PlanGraph {
            tasks: vec![
                Task {
                    id: id[0],
                    start: None,
                    target: Some(day("2026-05-31")),
                    external: true,
                },
                task(id[1], "2026-05-01", "2026-05-10"),
            ],
            edges: vec![(id[0], id[1])],
        };
        let s = schedule(&graph);
        assert_eq!(s.slots.len(), 1);
        assert_eq!(s.slot(id[1]).unwrap().earliest_start, day("2026-06-01"));
        assert_eq!(s.finish_date, Some(day("2026-06-10")));
        assert_eq!(s.critical_path, vec![id[1]]);
        assert_eq!(s.critical_path_days, Some(10));
    }

    #[test]
    fn zero_duration_workstreams_take_their_one_day() {
        let id = ids(2);
        let graph = PlanGraph {
            tasks: vec![
                task(id[0], "2026-01-01", "2026-01-01"),
                task(id[1], "2026-01-01", "2026-01-01"),
            ],
            edges: vec![(id[0], id[1])],
        };
        let s = schedule(&graph);
        assert_eq!(s.slot(id[1]).unwrap().earliest_start, day("2026-01-02"));
        assert_eq!(s.finish_date, Some(day("2026-01-02")));
        assert_eq!(s.critical_path_days, Some(2));
    }

    #[test]
    fn parallel_chains_pick_the_longer_one() {
        let id = ids(4);
        let graph = PlanGraph {
            tasks: vec![
                task(id[0], "2026-01-01", "2026-01-05"),
                task(id[1], "2026-01-01", "2026-01-05"),
                task(id[2], "2026-01-01", "2026-01-02"),
                task(id[3], "2026-01-01", "2026-01-02"),
            ],
            edges: vec![(id[0], id[1]), (id[2], id[3])],
        };
        let s = schedule(&graph);
        assert_eq!(s.critical_path, vec![id[0], id[1]]);
        assert_eq!(s.slot(id[3]).unwrap().slack_days, 6);
    }

    #[test]
    fn a_chain_longer_than_the_calendar_ends_on_its_last_day() {
        // 300 chained workstreams of 1,099 years each: 329,700 years, more
        // than chrono's calendar holds.
        let id = ids(300);
        let graph = PlanGraph {
            tasks: id
                .iter()
                .map(|&id| task(id, "1900-01-01", "2999-12-31"))
                .collect(),
            edges: id.windows(2).map(|pair| (pair[0], pair[1])).collect(),
        };
        let s = schedule(&graph);
        assert_eq!(s.finish_date, Some(LAST_DAY));
        assert_eq!(s.slot(id[299]).unwrap().earliest_finish, LAST_DAY);
        assert!(s.slots.iter().all(|slot| slot.latest_start >= FIRST_DAY));
        let impact = slip_impact(&graph, id[0], 3650).unwrap();
        assert_eq!(impact.finish_date, Some(LAST_DAY));
        assert_eq!(impact.finish_delay_days, 0);
    }
}
