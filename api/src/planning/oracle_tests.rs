//! Property tests: the planner against a brute-force oracle on random DAGs.

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use uuid::Uuid;

use super::schedule::{schedule, slip_impact};
use super::{PlanGraph, Task};

/// Earliest finishes by fixed-point iteration straight from the definition.
fn oracle_finishes(graph: &PlanGraph, slipped: Option<(Uuid, i64)>) -> Vec<Option<NaiveDate>> {
    let n = graph.tasks.len();
    let index = |id: Uuid| graph.tasks.iter().position(|t| t.id == id);
    let usable = |t: &Task| {
        if t.external {
            t.target.is_some()
        } else {
            t.duration().is_some()
        }
    };
    let mut finish: Vec<Option<NaiveDate>> = vec![None; n];
    loop {
        let mut changed = false;
        for (i, task) in graph.tasks.iter().enumerate() {
            if !usable(task) {
                continue;
            }
            let value = if task.external {
                task.target
            } else {
                let mut start = task.start.unwrap();
                for (up, down) in &graph.edges {
                    if *down != task.id {
                        continue;
                    }
                    let Some(u) = index(*up) else { continue };
                    if !usable(&graph.tasks[u]) {
                        continue;
                    }
                    match finish[u] {
                        Some(f) if f + Duration::days(1) > start => start = f + Duration::days(1),
                        Some(_) => {}
                        None => continue,
                    }
                }
                let extra = slipped
                    .filter(|(id, _)| *id == task.id)
                    .map_or(0, |(_, d)| d);
                Some(start + Duration::days(task.duration().unwrap() + extra))
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
    (2usize..14).prop_flat_map(|n| {
        let tasks = proptest::collection::vec((0i64..40, 0i64..15, 0u8..10), n);
        let edges = proptest::collection::vec((0usize..n, 0usize..n), 0..(n * 2));
        (tasks, edges).prop_map(move |(specs, pairs)| {
            let base = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
            let mut ids: Vec<Uuid> = (0..specs.len()).map(|_| Uuid::now_v7()).collect();
            ids.sort();
            let tasks = specs
                .iter()
                .enumerate()
                .map(|(i, (offset, duration, kind))| {
                    let start = base + Duration::days(*offset);
                    Task {
                        id: ids[i],
                        // Some workstreams miss a date; some belong to another program.
                        start: (*kind != 0).then_some(start),
                        target: Some(start + Duration::days(*duration)),
                        external: *kind == 9,
                    }
                })
                .collect();
            // Edges only from lower to higher index: always acyclic.
            let edges = pairs
                .into_iter()
                .filter(|(a, b)| a < b)
                .map(|(a, b)| (ids[a], ids[b]))
                .collect();
            PlanGraph { tasks, edges }
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn earliest_finishes_and_the_forecast_match_the_oracle(graph in graphs()) {
        let computed = schedule(&graph);
        let oracle = oracle_finishes(&graph, None);
        for (i, task) in graph.tasks.iter().enumerate() {
            if task.external {
                prop_assert!(computed.slot(task.id).is_none());
                continue;
            }
            match computed.slot(task.id) {
                Some(slot) => prop_assert_eq!(Some(slot.earliest_finish), oracle[i]),
                None => {
                    prop_assert!(computed.unscheduled.contains(&task.id));
                    prop_assert!(oracle[i].is_none());
                }
            }
        }
        let forecast = graph.tasks.iter().enumerate().filter(|(_, t)| !t.external).filter_map(|(i, _)| oracle[i]).max();
        prop_assert_eq!(computed.finish_date, forecast);
    }

    #[test]
    fn slack_is_never_negative_and_the_critical_path_is_a_binding_zero_slack_chain(graph in graphs()) {
        let computed = schedule(&graph);
        for slot in &computed.slots {
            prop_assert!(slot.slack_days >= 0);
            prop_assert!(slot.latest_finish <= computed.finish_date.unwrap());
        }
        if let Some(finish) = computed.finish_date {
            prop_assert!(!computed.critical_path.is_empty());
            let last = computed.slot(*computed.critical_path.last().unwrap()).unwrap();
            prop_assert_eq!(last.earliest_finish, finish);
            for pair in computed.critical_path.windows(2) {
                let (a, b) = (computed.slot(pair[0]).unwrap(), computed.slot(pair[1]).unwrap());
                prop_assert!(graph.edges.contains(&(pair[0], pair[1])));
                prop_assert_eq!(a.earliest_finish + Duration::days(1), b.earliest_start);
            }
            for id in &computed.critical_path {
                prop_assert_eq!(computed.slot(*id).unwrap().slack_days, 0);
            }
            let first = computed.slot(computed.critical_path[0]).unwrap();
            prop_assert_eq!(computed.critical_path_days, Some((finish - first.earliest_start).num_days() + 1));
        }
    }

    #[test]
    fn slip_impact_lists_exactly_what_moves(graph in graphs(), pick in 0usize..14, days in 1i64..30) {
        let candidates: Vec<&Task> = graph.tasks.iter().filter(|t| !t.external && t.duration().is_some()).collect();
        prop_assume!(!candidates.is_empty());
        let slipped = candidates[pick % candidates.len()].id;
        let impact = slip_impact(&graph, slipped, days).unwrap();
        let before = oracle_finishes(&graph, None);
        let after = oracle_finishes(&graph, Some((slipped, days)));
        let mut expected: Vec<(Uuid, i64, NaiveDate)> = graph
            .tasks
            .iter()
            .enumerate()
            .filter(|(i, t)| !t.external && before[*i] != after[*i])
            .map(|(i, t)| (t.id, (after[i].unwrap() - before[i].unwrap()).num_days(), after[i].unwrap()))
            .collect();
        let mut actual = impact.affected.clone();
        expected.sort();
        actual.sort();
        prop_assert_eq!(actual, expected);
        prop_assert!(impact.affected.iter().any(|(id, _, _)| *id == slipped));
        let old = schedule(&graph).finish_date.unwrap();
        prop_assert_eq!(impact.finish_delay_days, (impact.finish_date.unwrap() - old).num_days());
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
        let found = match super::cycles::would_close_cycle(&graph.edges, up, down, roomy) {
            super::cycles::Step::Cycle(cycle) => Some(cycle),
            super::cycles::Step::Clear => None,
            other => panic!("unexpected {other:?}"),
        };
        prop_assert_eq!(found.is_some(), reachable(&graph.edges, down, up));
        if let Some(cycle) = found {
            prop_assert_eq!(cycle[0], up);
            prop_assert_eq!(cycle[1], down);
            for pair in cycle[1..].windows(2) {
                prop_assert!(graph.edges.contains(&(pair[0], pair[1])));
            }
            prop_assert!(graph.edges.contains(&(*cycle.last().unwrap(), up)));
        }
    }
}
