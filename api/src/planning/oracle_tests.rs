//! Property tests: the planner against a brute-force oracle on random
//! plans with actuals, promises, resolved dependencies, other programs'
//! work and a today that falls anywhere in the plan.

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use uuid::Uuid;

use super::schedule::{schedule, slip_impact};
use super::{Edge, PlanGraph, Progress, Task};

/// Forecast finishes by fixed-point iteration straight from the rules in
/// DESIGN.md ("Forecast from reality"); `None` for unscheduled or cancelled work.
fn oracle_finishes(graph: &PlanGraph, slipped: Option<(Uuid, i64)>) -> Vec<Option<NaiveDate>> {
    let n = graph.tasks.len();
    let index = |id: Uuid| graph.tasks.iter().position(|t| t.id == id);
    let days = |d: i64| Duration::days(d);
    let mut finish: Vec<Option<NaiveDate>> = vec![None; n];
    loop {
        let mut changed = false;
        for (i, task) in graph.tasks.iter().enumerate() {
            let extra = slipped
                .filter(|(id, _)| *id == task.id)
                .map_or(0, |(_, d)| d);
            let value = match task.progress {
                Progress::Cancelled => None,
                Progress::Done { finished, .. } => finished.or(task.target),
                Progress::Started(started) => task
                    .duration()
                    .map(|d| (started + days(d.max(0))).max(graph.today) + days(extra)),
                Progress::NotStarted => match (task.start, task.duration()) {
                    (Some(start), Some(d)) => {
                        let mut earliest = start.max(graph.today);
                        for edge in &graph.edges {
                            if edge.downstream != task.id || edge.resolved {
                                continue;
                            }
                            let Some(u) = index(edge.upstream) else {
                                continue;
                            };
                            if let Some(f) = finish[u] {
                                let delivery = f.max(edge.committed.unwrap_or(f));
                                earliest = earliest.max(delivery + days(1));
                            }
                        }
                        Some(earliest + days(d.max(0) + extra))
                    }
                    _ => None,
                },
            };
            if finish[i] != value {
                finish[i] = value;
                changed = true;
            }
        }
        if !changed {
            return finish;
        }
    }
}

fn graphs() -> impl Strategy<Value = PlanGraph> {
    (2usize..14, 0i64..60).prop_flat_map(|(n, today)| {
        let tasks = proptest::collection::vec((0i64..40, 0i64..15, 0u8..10, 0u8..9, 0i64..8), n);
        let edges = proptest::collection::vec((0usize..n, 0usize..n, 0u8..5, 0i64..50), 0..(n * 2));
        (tasks, edges).prop_map(move |(specs, links)| {
            let base = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
            let mut ids: Vec<Uuid> = (0..specs.len()).map(|_| Uuid::now_v7()).collect();
            ids.sort();
            let tasks = specs
                .iter()
                .enumerate()
                .map(|(i, (offset, duration, kind, progress, actual))| {
                    let start = base + Duration::days(*offset);
                    let target = start + Duration::days(*duration);
                    Task {
                        id: ids[i],
                        // Some workstreams miss a date; some belong to another program.
                        start: (*kind != 0).then_some(start),
                        target: Some(target),
                        progress: match progress {
                            5 => Progress::Started(start + Duration::days(*actual)),
                            6 => Progress::Done {
                                started: Some(start + Duration::days(*actual)),
                                finished: Some(target + Duration::days(*actual - 3)),
                            },
                            7 => Progress::Done {
                                started: None,
                                finished: None,
                            },
                            8 => Progress::Cancelled,
                            _ => Progress::NotStarted,
                        },
                        external: *kind == 9,
                    }
                })
                .collect();
            // Edges only from lower to higher index: always acyclic.
            let edges = links
                .into_iter()
                .filter(|(a, b, _, _)| a < b)
                .map(|(a, b, kind, promise)| Edge {
                    upstream: ids[a],
                    downstream: ids[b],
                    resolved: kind == 0,
                    committed: (kind == 1).then(|| base + Duration::days(promise)),
                })
                .collect();
            PlanGraph {
                tasks,
                edges,
                today: base + Duration::days(today),
            }
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn forecast_finishes_and_the_program_finish_match_the_oracle(graph in graphs()) {
        let computed = schedule(&graph);
        let oracle = oracle_finishes(&graph, None);
        for (i, task) in graph.tasks.iter().enumerate() {
            prop_assert_eq!(computed.forecast_finish(task.id), oracle[i]);
            if task.external {
                prop_assert!(computed.slot(task.id).is_none());
                continue;
            }
            match computed.slot(task.id) {
                Some(slot) => {
                    prop_assert_eq!(Some(slot.forecast_finish), oracle[i]);
                    let late = task.target.map_or(0, |t| (slot.forecast_finish - t).num_days().max(0));
                    prop_assert_eq!(slot.late_days, late);
                }
                None => {
                    prop_assert_eq!(
                        computed.unscheduled.contains(&task.id),
                        task.progress != Progress::Cancelled
                    );
                    prop_assert!(oracle[i].is_none());
                }
            }
        }
        let forecast = graph.tasks.iter().enumerate().filter(|(_, t)| !t.external).filter_map(|(i, _)| oracle[i]).max();
        prop_assert_eq!(computed.finish_date, forecast);
    }

    #[test]
    fn slack_is_never_negative_and_the_critical_path_is_a_binding_chain_of_open_work(graph in graphs()) {
        let computed = schedule(&graph);
        let unresolved: Vec<(Uuid, Uuid)> = graph.edges.iter().filter(|e| !e.resolved).map(|e| (e.upstream, e.downstream)).collect();
        for slot in &computed.slots {
            prop_assert!(slot.slack_days >= 0);
            prop_assert!(slot.latest_finish <= computed.finish_date.unwrap());
            prop_assert!(!(slot.done && slot.critical));
            prop_assert_eq!(slot.critical, !slot.done && slot.slack_days == 0);
        }
        if let (Some(finish), Some(last)) = (computed.finish_date, computed.critical_path.last()) {
            let last = computed.slot(*last).unwrap();
            prop_assert_eq!(last.forecast_finish, finish);
            for pair in computed.critical_path.windows(2) {
                let (a, b) = (computed.slot(pair[0]).unwrap(), computed.slot(pair[1]).unwrap());
                prop_assert!(unresolved.contains(&(pair[0], pair[1])));
                prop_assert_eq!(a.forecast_finish + Duration::days(1), b.forecast_start);
            }
            for id in &computed.critical_path {
                prop_assert!(computed.slot(*id).unwrap().critical);
            }
            let first = computed.slot(computed.critical_path[0]).unwrap();
            prop_assert_eq!(computed.critical_path_days, Some((finish - first.forecast_start).num_days() + 1));
        }
        // Open critical work finishing last always starts a path.
        let ends_critical = computed.slots.iter().any(|s| s.critical && Some(s.forecast_finish) == computed.finish_date);
        prop_assert_eq!(ends_critical, !computed.critical_path.is_empty());
    }

    #[test]
    fn slip_impact_lists_exactly_what_moves(graph in graphs(), pick in 0usize..14, days in 1i64..30) {
        let oracle = oracle_finishes(&graph, None);
        let candidates: Vec<Uuid> = graph.tasks.iter().enumerate()
            .filter(|(i, t)| oracle[*i].is_some() && !matches!(t.progress, Progress::Done { .. }))
            .map(|(_, t)| t.id)
            .collect();
        prop_assume!(!candidates.is_empty());
        let slipped = candidates[pick % candidates.len()];
        let impact = slip_impact(&graph, &[slipped], days).unwrap();
        let after = oracle_finishes(&graph, Some((slipped, days)));
        let mut expected: Vec<(Uuid, i64, NaiveDate)> = graph
            .tasks
            .iter()
            .enumerate()
            .filter(|(i, _)| oracle[*i] != after[*i])
            .map(|(i, t)| (t.id, (after[i].unwrap() - oracle[i].unwrap()).num_days(), after[i].unwrap()))
            .collect();
        let mut actual = impact.affected.clone();
        expected.sort();
        actual.sort();
        prop_assert_eq!(actual, expected);
        prop_assert!(impact.affected.iter().any(|(id, _, _)| *id == slipped));
        if let Some(old) = schedule(&graph).finish_date {
            prop_assert_eq!(impact.finish_delay_days, (impact.finish_date.unwrap() - old).num_days());
        }
    }
}

fn reachable(edges: &[(Uuid, Uuid)], from: Uuid, to: Uuid) -> bool {
    let mut stack = vec![from];
    let mut seen = std::collections::HashSet::new();
    while let Some(at) = stack.pop() {
        if at == to {
            return true;
        }
        if seen.insert(at) {
            stack.extend(edges.iter().filter(|(a, _)| *a == at).map(|(_, b)| *b));
        }
    }
    false
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn cycle_refusal_matches_reachability_and_names_a_real_cycle(graph in graphs(), a in 0usize..14, b in 0usize..14) {
        let n = graph.tasks.len();
        let (up, down) = (graph.tasks[a % n].id, graph.tasks[b % n].id);
        prop_assume!(up != down);
        let roomy = super::cycles::Budget { steps: 1_000, workstreams: 100_000 };
        let found = match super::cycles::would_close_cycle(&graph.pairs(), up, down, roomy) {
            super::cycles::Step::Cycle(cycle) => Some(cycle),
            super::cycles::Step::Clear => None,
            other => panic!("unexpected {other:?}"),
        };
        let pairs = graph.pairs();
        prop_assert_eq!(found.is_some(), reachable(&pairs, down, up));
        if let Some(cycle) = found {
            prop_assert_eq!(cycle[0], up);
            prop_assert_eq!(cycle[1], down);
            for pair in cycle[1..].windows(2) {
                prop_assert!(pairs.contains(&(pair[0], pair[1])));
            }
            prop_assert!(pairs.contains(&(*cycle.last().unwrap(), up)));
        }
    }
}
