//! Unit tests of the forecast rules, one rule per test, dates by hand.

use super::super::{Edge, Progress, Task};
use super::*;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A not-started workstream planned from `start` to `target`.
fn task(id: Uuid, start: &str, target: &str) -> Task {
    Task {
        id,
        start: Some(day(start)),
        target: Some(day(target)),
        progress: Progress::NotStarted,
        external: false,
    }
}

fn with(progress: Progress, task: Task) -> Task {
    Task { progress, ..task }
}

fn ids(n: usize) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
    ids.sort();
    ids
}

/// A plan made long ago: today constrains nothing.
fn graph(tasks: Vec<Task>, pairs: &[(Uuid, Uuid)]) -> PlanGraph {
    PlanGraph {
        tasks,
        edges: pairs.iter().map(|&(u, d)| Edge::plain(u, d)).collect(),
        today: day("2000-01-01"),
    }
}

#[test]
fn a_chain_pushes_each_workstream_after_the_previous_one() {
    let id = ids(3);
    let graph = graph(
        vec![
            task(id[0], "2026-01-01", "2026-01-10"),
            task(id[1], "2026-01-01", "2026-01-05"),
            task(id[2], "2026-01-01", "2026-01-03"),
        ],
        &[(id[0], id[1]), (id[1], id[2])],
    );
    let s = schedule(&graph);
    assert_eq!(s.slot(id[1]).unwrap().forecast_start, day("2026-01-11"));
    assert_eq!(s.slot(id[1]).unwrap().forecast_finish, day("2026-01-15"));
    assert_eq!(s.slot(id[1]).unwrap().late_days, 10);
    assert_eq!(s.slot(id[2]).unwrap().forecast_finish, day("2026-01-18"));
    assert_eq!(s.finish_date, Some(day("2026-01-18")));
    assert_eq!(s.critical_path, id);
    assert_eq!(s.critical_path_days, Some(18));
}

#[test]
fn a_diamond_has_slack_on_its_short_side() {
    let id = ids(4);
    let graph = graph(
        vec![
            task(id[0], "2026-03-01", "2026-03-05"),
            task(id[1], "2026-03-01", "2026-03-21"),
            task(id[2], "2026-03-01", "2026-03-04"),
            task(id[3], "2026-03-01", "2026-03-02"),
        ],
        &[
            (id[0], id[1]),
            (id[0], id[2]),
            (id[1], id[3]),
            (id[2], id[3]),
        ],
    );
    let s = schedule(&graph);
    assert_eq!(s.slot(id[1]).unwrap().slack_days, 0);
    assert_eq!(s.slot(id[2]).unwrap().slack_days, 17);
    assert!(!s.slot(id[2]).unwrap().critical);
    assert_eq!(s.critical_path, vec![id[0], id[1], id[3]]);
    let impact = slip_impact(&graph, &[id[2]], 10).unwrap();
    assert_eq!(impact.finish_delay_days, 0);
    assert_eq!(impact.affected, vec![(id[2], 10, day("2026-03-19"))]);
    let impact = slip_impact(&graph, &[id[1]], 3).unwrap();
    assert_eq!(impact.finish_delay_days, 3);
    assert_eq!(impact.affected.len(), 2);
}

#[test]
fn unscheduled_workstreams_and_their_edges_are_left_out() {
    let id = ids(3);
    let graph = graph(
        vec![
            task(id[0], "2026-01-01", "2026-01-10"),
            Task {
                start: None,
                ..task(id[1], "2026-01-01", "2026-02-01")
            },
            task(id[2], "2026-01-01", "2026-01-02"),
        ],
        &[(id[0], id[1]), (id[1], id[2])],
    );
    let s = schedule(&graph);
    assert_eq!(s.unscheduled, vec![id[1]]);
    assert_eq!(s.slot(id[2]).unwrap().forecast_start, day("2026-01-01"));
    assert!(s.slot(id[1]).is_none());
}

#[test]
fn another_programs_upstream_counts_at_its_forecast_not_its_target() {
    let id = ids(3);
    let mut g = graph(
        vec![
            // The other program's upstream waits on its own late work.
            Task {
                external: true,
                ..task(id[0], "2026-05-01", "2026-05-20")
            },
            Task {
                external: true,
                ..task(id[1], "2026-05-21", "2026-05-31")
            },
            task(id[2], "2026-05-01", "2026-05-10"),
        ],
        &[(id[0], id[1]), (id[1], id[2])],
    );
    g.tasks[0].progress = Progress::Started(day("2026-05-01"));
    g.today = day("2026-06-04");
    let s = schedule(&g);
    // id[0] runs to today (06-04), id[1] 06-05..06-15, id[2] 06-16..06-25.
    assert_eq!(s.forecast_finish(id[1]), Some(day("2026-06-15")));
    assert_eq!(s.slots.len(), 1);
    assert_eq!(s.slot(id[2]).unwrap().forecast_start, day("2026-06-16"));
    assert_eq!(s.finish_date, Some(day("2026-06-25")));
    assert_eq!(s.critical_path, vec![id[2]]);
    assert_eq!(s.critical_path_days, Some(10));
    // The other program's slip reaches this program, and is listed.
    let impact = slip_impact(&g, &[id[0]], 5).unwrap();
    assert_eq!(impact.finish_delay_days, 5);
    assert_eq!(impact.affected.len(), 3);
}

#[test]
fn finished_work_is_fixed_where_it_happened_and_never_critical() {
    let id = ids(2);
    let g = graph(
        vec![
            with(
                Progress::Done {
                    started: Some(day("2026-01-03")),
                    finished: Some(day("2026-01-06")),
                },
                task(id[0], "2026-01-01", "2026-01-10"),
            ),
            task(id[1], "2026-01-05", "2026-01-09"),
        ],
        &[(id[0], id[1])],
    );
    let s = schedule(&g);
    let done = s.slot(id[0]).unwrap();
    assert_eq!(
        (done.forecast_start, done.forecast_finish),
        (day("2026-01-03"), day("2026-01-06"))
    );
    assert!(done.done && !done.critical);
    // Downstream starts after the actual finish (01-07), not the planned one (01-11).
    assert_eq!(s.slot(id[1]).unwrap().forecast_start, day("2026-01-07"));
    assert_eq!(s.critical_path, vec![id[1]]);
    // Finished work cannot slip.
    assert_eq!(slip_impact(&g, &[id[0]], 3), None);
}

#[test]
fn finished_work_without_actual_dates_keeps_its_plan() {
    let id = ids(1);
    let g = graph(
        vec![with(
            Progress::Done {
                started: None,
                finished: None,
            },
            task(id[0], "2026-01-01", "2026-01-10"),
        )],
        &[],
    );
    let s = schedule(&g);
    assert_eq!(s.finish_date, Some(day("2026-01-10")));
    assert!(s.critical_path.is_empty());
}

#[test]
fn late_started_work_finishes_today_at_the_earliest() {
    let id = ids(2);
    let mut g = graph(
        vec![
            with(
                Progress::Started(day("2026-02-03")),
                task(id[0], "2026-02-01", "2026-02-10"),
            ),
            task(id[1], "2026-02-11", "2026-02-15"),
        ],
        &[(id[0], id[1])],
    );
    // Started two days late: runs its nine days from its actual start.
    g.today = day("2026-02-05");
    let s = schedule(&g);
    assert_eq!(s.slot(id[0]).unwrap().forecast_finish, day("2026-02-12"));
    assert_eq!(s.slot(id[0]).unwrap().late_days, 2);
    // Past its planned length and still open: it finishes today at the earliest.
    g.today = day("2026-02-20");
    let s = schedule(&g);
    assert_eq!(s.slot(id[0]).unwrap().forecast_start, day("2026-02-03"));
    assert_eq!(s.slot(id[0]).unwrap().forecast_finish, day("2026-02-20"));
    assert_eq!(s.slot(id[1]).unwrap().forecast_start, day("2026-02-21"));
    assert_eq!(s.slot(id[1]).unwrap().forecast_finish, day("2026-02-25"));
    assert_eq!(s.critical_path, vec![id[0], id[1]]);
}

#[test]
fn work_not_started_by_its_start_date_starts_today() {
    let id = ids(1);
    let mut g = graph(vec![task(id[0], "2026-02-01", "2026-02-10")], &[]);
    g.today = day("2026-02-04");
    let s = schedule(&g);
    assert_eq!(s.slot(id[0]).unwrap().forecast_start, day("2026-02-04"));
    assert_eq!(s.slot(id[0]).unwrap().forecast_finish, day("2026-02-13"));
    assert_eq!(s.slot(id[0]).unwrap().late_days, 3);
}

#[test]
fn a_later_promise_governs_and_a_later_forecast_wins_over_a_promise() {
    let id = ids(2);
    let mut g = graph(
        vec![
            task(id[0], "2026-11-20", "2026-11-29"),
            task(id[1], "2026-11-30", "2026-12-09"),
        ],
        &[(id[0], id[1])],
    );
    g.edges[0].committed = Some(day("2026-12-05"));
    let s = schedule(&g);
    assert_eq!(s.slot(id[1]).unwrap().forecast_start, day("2026-12-06"));
    assert_eq!(
        s.delivery(id[0], false, Some(day("2026-12-05"))),
        Some(day("2026-12-05"))
    );
    // The promise binds, not the upstream: the path starts at the downstream.
    assert_eq!(s.critical_path, vec![id[1]]);
    g.edges[0].committed = Some(day("2026-11-25"));
    let s = schedule(&g);
    assert_eq!(s.slot(id[1]).unwrap().forecast_start, day("2026-11-30"));
    assert_eq!(s.critical_path, vec![id[0], id[1]]);
}

#[test]
fn resolved_dependencies_and_cancelled_work_constrain_nothing() {
    let id = ids(3);
    let mut g = graph(
        vec![
            task(id[0], "2026-01-01", "2026-01-31"),
            with(Progress::Cancelled, task(id[1], "2026-01-01", "2026-03-31")),
            task(id[2], "2026-01-01", "2026-01-05"),
        ],
        &[(id[0], id[2]), (id[1], id[2])],
    );
    g.edges[0].resolved = true;
    let s = schedule(&g);
    assert!(s.slot(id[1]).is_none() && !s.unscheduled.contains(&id[1]));
    assert_eq!(s.slot(id[2]).unwrap().forecast_start, day("2026-01-01"));
    assert_eq!(s.delivery(id[0], true, None), None);
}

#[test]
fn a_team_slip_moves_all_of_its_work_at_once() {
    let id = ids(3);
    let g = graph(
        vec![
            task(id[0], "2026-01-01", "2026-01-10"),
            task(id[1], "2026-01-01", "2026-01-05"),
            task(id[2], "2026-01-11", "2026-01-20"),
        ],
        &[(id[0], id[2]), (id[1], id[2])],
    );
    let impact = slip_impact(&g, &[id[0], id[1]], 14).unwrap();
    assert_eq!(impact.finish_delay_days, 14);
    assert_eq!(impact.finish_date, Some(day("2026-02-03")));
    assert_eq!(impact.affected.len(), 3);
}

#[test]
fn zero_duration_workstreams_take_their_one_day() {
    let id = ids(2);
    let g = graph(
        vec![
            task(id[0], "2026-01-01", "2026-01-01"),
            task(id[1], "2026-01-01", "2026-01-01"),
        ],
        &[(id[0], id[1])],
    );
    let s = schedule(&g);
    assert_eq!(s.slot(id[1]).unwrap().forecast_start, day("2026-01-02"));
    assert_eq!(s.finish_date, Some(day("2026-01-02")));
    assert_eq!(s.critical_path_days, Some(2));
}

#[test]
fn parallel_chains_pick_the_longer_one() {
    let id = ids(4);
    let g = graph(
        vec![
            task(id[0], "2026-01-01", "2026-01-05"),
            task(id[1], "2026-01-01", "2026-01-05"),
            task(id[2], "2026-01-01", "2026-01-02"),
            task(id[3], "2026-01-01", "2026-01-02"),
        ],
        &[(id[0], id[1]), (id[2], id[3])],
    );
    let s = schedule(&g);
    assert_eq!(s.critical_path, vec![id[0], id[1]]);
    assert_eq!(s.slot(id[3]).unwrap().slack_days, 6);
}

#[test]
fn a_chain_longer_than_the_calendar_ends_on_its_last_day() {
    // 300 chained workstreams of 1,099 years each: 329,700 years, more
    // than chrono's calendar holds.
    let id = ids(300);
    let pairs: Vec<(Uuid, Uuid)> = id.windows(2).map(|pair| (pair[0], pair[1])).collect();
    let g = graph(
        id.iter()
            .map(|&id| task(id, "1900-01-01", "2999-12-31"))
            .collect(),
        &pairs,
    );
    let s = schedule(&g);
    assert_eq!(s.finish_date, Some(LAST_DAY));
    assert_eq!(s.slot(id[299]).unwrap().forecast_finish, LAST_DAY);
    assert!(s.slots.iter().all(|slot| slot.latest_start >= FIRST_DAY));
    let impact = slip_impact(&g, &[id[0]], 3650).unwrap();
    assert_eq!(impact.finish_date, Some(LAST_DAY));
    assert_eq!(impact.finish_delay_days, 0);
}
