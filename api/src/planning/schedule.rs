//! The forecast: forward and backward passes over what has happened and
//! what is planned, the critical path and slip impact.
//!
//! Per task, with `duration = target - start`:
//! - cancelled: left out, with its edges;
//! - done: fixed at `started ?? start` … `finished ?? target`;
//! - started: from the day it started to `max(start + duration, today)`;
//! - not started: from `max(start, today, every unresolved upstream's
//!   delivery + 1)` for `duration` days, where a delivery is
//!   `max(upstream's forecast finish, promised day)`.
//!
//! The backward pass runs on the forecast dates; finished work is never critical.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use uuid::Uuid;

use super::{PlanGraph, Progress};

/// Where one workstream sits on the calendar: planned and forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    /// The workstream.
    pub id: Uuid,
    /// Planned start (the start date, or the actual start of finished work
    /// that had none).
    pub planned_start: Option<NaiveDate>,
    /// Planned finish (the target date).
    pub planned_finish: Option<NaiveDate>,
    /// Forecast start.
    pub forecast_start: NaiveDate,
    /// Forecast finish.
    pub forecast_finish: NaiveDate,
    /// Latest day it can start without moving the program's forecast finish.
    pub latest_start: NaiveDate,
    /// Latest day it can finish without moving the program's forecast finish.
    pub latest_finish: NaiveDate,
    /// Days it can slip without moving the forecast finish.
    pub slack_days: i64,
    /// Days the forecast finish is past the target (zero when on time).
    pub late_days: i64,
    /// Unfinished with zero slack: a slip moves the program's finish.
    pub critical: bool,
    /// Finished.
    pub done: bool,
}

/// The program's computed schedule.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schedule {
    /// Scheduled in-program workstreams, in dependency order.
    pub slots: Vec<Slot>,
    /// In-program workstreams missing a date, left out of the passes.
    pub unscheduled: Vec<Uuid>,
    /// The forecast finish: the latest forecast finish of the program's work.
    pub finish_date: Option<NaiveDate>,
    /// A zero-slack chain of unfinished work that sets the finish date.
    pub critical_path: Vec<Uuid>,
    /// Calendar days from the path's first forecast start to the finish, both included.
    pub critical_path_days: Option<i64>,
    /// Forecast `(start, finish)` of every scheduled task, other programs' included.
    pub forecasts: HashMap<Uuid, (NaiveDate, NaiveDate)>,
}

impl Schedule {
    /// The slot of one of the program's workstreams.
    pub fn slot(&self, id: Uuid) -> Option<&Slot> {
        self.slots.iter().find(|slot| slot.id == id)
    }

    /// Forecast finish of any scheduled task, in this program or another.
    pub fn forecast_finish(&self, id: Uuid) -> Option<NaiveDate> {
        self.forecasts.get(&id).map(|(_, finish)| *finish)
    }

    /// When a dependency is predicted to be delivered: the later of the
    /// upstream's forecast finish and the promise; `None` when resolved or
    /// when neither is known.
    pub fn delivery(
        &self,
        upstream: Uuid,
        resolved: bool,
        committed: Option<NaiveDate>,
    ) -> Option<NaiveDate> {
        if resolved {
            return None;
        }
        self.forecast_finish(upstream).max(committed)
    }
}

/// What moves if some workstreams finish later.
#[derive(Debug, Clone, PartialEq)]
pub struct SlipImpact {
    /// The forecast finish after the slip.
    pub finish_date: Option<NaiveDate>,
    /// How many days the forecast finish moves.
    pub finish_delay_days: i64,
    /// Every task, in this program or another, whose forecast finish moves:
    /// `(id, slip days, new finish)`, in dependency order.
    pub affected: Vec<(Uuid, i64, NaiveDate)>,
}

/// How a task's dates are found.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Finished: fixed.
    Done { start: NaiveDate, finish: NaiveDate },
    /// Started: fixed start, runs its duration but not into the past.
    Started { start: NaiveDate, duration: i64 },
    /// Not started: floats after its plan, today and its upstream.
    Floating { start: NaiveDate, duration: i64 },
}

/// The graph in index form, restricted to scheduled tasks, topologically sorted.
struct Indexed {
    ids: Vec<Uuid>,
    rule: Vec<Rule>,
    external: Vec<bool>,
    planned: Vec<(Option<NaiveDate>, Option<NaiveDate>)>,
    /// Unresolved upstream edges of each task, with their promise.
    upstream: Vec<Vec<(usize, Option<NaiveDate>)>>,
    downstream: Vec<Vec<usize>>,
    order: Vec<usize>,
    unscheduled: Vec<Uuid>,
    today: NaiveDate,
}

impl Indexed {
    fn done(&self, i: usize) -> bool {
        matches!(self.rule[i], Rule::Done { .. })
    }

    /// The program's own tasks, in dependency order.
    fn own(&self) -> impl Iterator<Item = usize> + '_ {
        self.order.iter().copied().filter(|&i| !self.external[i])
    }
}

fn rule_of(task: &super::Task) -> Option<Rule> {
    let duration = task.duration().map(|days| days.max(0));
    match task.progress {
        Progress::Cancelled => None,
        Progress::Done { started, finished } => {
            let finish = finished.or(task.target)?;
            let start = started.or(task.start).unwrap_or(finish).min(finish);
            Some(Rule::Done { start, finish })
        }
        Progress::Started(start) => Some(Rule::Started {
            start,
            duration: duration?,
        }),
        Progress::NotStarted => Some(Rule::Floating {
            start: task.start?,
            duration: duration?,
        }),
    }
}

fn index(graph: &PlanGraph) -> Indexed {
    let mut position = HashMap::with_capacity(graph.tasks.len());
    let mut g = Indexed {
        ids: Vec::new(),
        rule: Vec::new(),
        external: Vec::new(),
        planned: Vec::new(),
        upstream: Vec::new(),
        downstream: Vec::new(),
        order: Vec::new(),
        unscheduled: Vec::new(),
        today: graph.today,
    };
    for task in &graph.tasks {
        if position.contains_key(&task.id) {
            continue;
        }
        let Some(rule) = rule_of(task) else {
            if !task.external && task.progress != Progress::Cancelled {
                g.unscheduled.push(task.id);
            }
            continue;
        };
        position.insert(task.id, g.ids.len());
        g.ids.push(task.id);
        g.rule.push(rule);
        g.external.push(task.external);
        let planned_start = match rule {
            Rule::Done { start, .. } => task.start.or(Some(start)),
            _ => task.start,
        };
        g.planned.push((planned_start, task.target));
    }
    let n = g.ids.len();
    g.upstream = vec![Vec::new(); n];
    g.downstream = vec![Vec::new(); n];
    let mut indegree = vec![0usize; n];
    for edge in graph.edges.iter().filter(|edge| !edge.resolved) {
        if let (Some(&u), Some(&d)) = (position.get(&edge.upstream), position.get(&edge.downstream))
            && u != d
        {
            g.upstream[d].push((u, edge.committed));
            g.downstream[u].push(d);
            indegree[d] += 1;
        }
    }
    // Kahn's algorithm; a cycle (refused on write) would leave nodes out.
    let mut ready: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    while let Some(i) = ready.pop() {
        g.order.push(i);
        for &d in &g.downstream[i] {
            indegree[d] -= 1;
            if indegree[d] == 0 {
                ready.push(d);
            }
        }
    }
    g
}

/// The first day a schedule can name.
pub const FIRST_DAY: NaiveDate = NaiveDate::from_ymd_opt(1, 1, 1).expect("a valid day");
/// The last day a schedule can name: a chain of long workstreams that ends
/// later ends here, instead of overflowing the calendar.
pub const LAST_DAY: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid day");

/// `date` moved by `days`, held within [`FIRST_DAY`] and [`LAST_DAY`].
pub fn shift(date: NaiveDate, days: i64) -> NaiveDate {
    Duration::try_days(days)
        .and_then(|delta| date.checked_add_signed(delta))
        .map_or(if days < 0 { FIRST_DAY } else { LAST_DAY }, |day| {
            day.clamp(FIRST_DAY, LAST_DAY)
        })
}

/// Forecast starts and finishes; `extra[i]` days are added to unfinished task `i`'s finish.
fn forward(g: &Indexed, extra: &[i64]) -> (Vec<NaiveDate>, Vec<NaiveDate>) {
    let n = g.ids.len();
    let mut fs = vec![NaiveDate::MIN; n];
    let mut ff = vec![NaiveDate::MIN; n];
    for &i in &g.order {
        let more = extra.get(i).copied().unwrap_or(0);
        let (start, finish) = match g.rule[i] {
            Rule::Done { start, finish } => (start, finish),
            Rule::Started { start, duration } => {
                (start, shift(shift(start, duration).max(g.today), more))
            }
            Rule::Floating { start, duration } => {
                let mut earliest = start.max(g.today);
                for &(u, committed) in &g.upstream[i] {
                    let after = shift(ff[u].max(committed.unwrap_or(NaiveDate::MIN)), 1);
                    earliest = earliest.max(after);
                }
                (earliest, shift(earliest, duration.saturating_add(more)))
            }
        };
        fs[i] = start;
        ff[i] = finish;
    }
    (fs, ff)
}

fn finish_of(g: &Indexed, ff: &[NaiveDate]) -> Option<NaiveDate> {
    g.own().map(|i| ff[i]).max()
}

/// Compute the forecast schedule of `graph`.
pub fn schedule(graph: &PlanGraph) -> Schedule {
    let g = index(graph);
    let (fs, ff) = forward(&g, &[]);
    let forecasts = g
        .order
        .iter()
        .map(|&i| (g.ids[i], (fs[i], ff[i])))
        .collect();
    let Some(finish) = finish_of(&g, &ff) else {
        return Schedule {
            unscheduled: g.unscheduled,
            forecasts,
            ..Schedule::default()
        };
    };
    // Backward pass on the forecast: a task nothing unstarted waits on may
    // finish by the program's finish (or its own forecast, for another
    // program's work).
    let n = g.ids.len();
    let mut lf = vec![finish; n];
    let mut ls = vec![finish; n];
    for &i in g.order.iter().rev() {
        let mut latest = finish.max(ff[i]);
        // Only work that has not started waits on its upstream.
        for &d in &g.downstream[i] {
            if matches!(g.rule[d], Rule::Floating { .. }) {
                latest = latest.min(shift(ls[d], -1));
            }
        }
        lf[i] = latest;
        ls[i] = shift(latest, -(ff[i] - fs[i]).num_days());
    }
    let slack = |i: usize| (ls[i] - fs[i]).num_days();
    let critical = |i: usize| !g.external[i] && !g.done(i) && slack(i) == 0;
    let slots: Vec<Slot> = g
        .own()
        .map(|i| Slot {
            id: g.ids[i],
            planned_start: g.planned[i].0,
            planned_finish: g.planned[i].1,
            forecast_start: fs[i],
            forecast_finish: ff[i],
            latest_start: ls[i],
            latest_finish: lf[i],
            slack_days: slack(i),
            late_days: g.planned[i]
                .1
                .map_or(0, |target| (ff[i] - target).num_days().max(0)),
            critical: critical(i),
            done: g.done(i),
        })
        .collect();

    // Walk back from critical work finishing last, through the upstream
    // whose own finish (not a promise) binds each start.
    let mut path = Vec::new();
    let mut current = g
        .own()
        .filter(|&i| ff[i] == finish && critical(i))
        .min_by_key(|&i| g.ids[i]);
    while let Some(i) = current {
        path.push(g.ids[i]);
        if !matches!(g.rule[i], Rule::Floating { .. }) {
            break;
        }
        current = g.upstream[i]
            .iter()
            .filter(|&&(u, committed)| {
                critical(u)
                    && shift(ff[u], 1) == fs[i]
                    && committed.is_none_or(|promise| promise <= ff[u])
            })
            .map(|&(u, _)| u)
            .min_by_key(|&u| g.ids[u]);
    }
    path.reverse();
    let critical_path_days = path
        .first()
        .and_then(|first| slots.iter().find(|slot| slot.id == *first))
        .map(|slot| (finish - slot.forecast_start).num_days() + 1);
    Schedule {
        slots,
        unscheduled: g.unscheduled,
        finish_date: Some(finish),
        critical_path: path,
        critical_path_days,
        forecasts,
    }
}

/// What moves if every unfinished, scheduled task of `slipped` finishes
/// `days` later. `None` when none of them is unfinished and scheduled.
pub fn slip_impact(graph: &PlanGraph, slipped: &[Uuid], days: i64) -> Option<SlipImpact> {
    let g = index(graph);
    let mut extra = vec![0i64; g.ids.len()];
    let mut any = false;
    for (i, id) in g.ids.iter().enumerate() {
        if slipped.contains(id) && !g.done(i) {
            extra[i] = days;
            any = true;
        }
    }
    if !any {
        return None;
    }
    let (_, before) = forward(&g, &[]);
    let (_, after) = forward(&g, &extra);
    let old_finish = finish_of(&g, &before);
    let new_finish = finish_of(&g, &after);
    let affected = g
        .order
        .iter()
        .filter(|&&i| after[i] != before[i])
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

/// A milestone's forecast day: its due day moved by the days its workstream
/// is forecast to finish after its target (never moved earlier); its due day
/// when the workstream has no forecast or no target.
pub fn milestone_forecast(
    due: Option<NaiveDate>,
    workstream_target: Option<NaiveDate>,
    workstream_forecast: Option<NaiveDate>,
) -> Option<NaiveDate> {
    let late_days = match (workstream_target, workstream_forecast) {
        (Some(target), Some(forecast)) => (forecast - target).num_days().max(0),
        _ => 0,
    };
    due.map(|due| shift(due, late_days))
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
