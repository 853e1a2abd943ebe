//! Cycle refusal: would a new edge `upstream → downstream` close a loop?
//!
//! It would exactly when `upstream` is already reachable downstream of
//! `downstream`. The search is breadth-first and level by level, so the
//! caller can fetch one level of edges at a time from the database and stop
//! as soon as the answer is known, without loading the whole graph.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

/// A breadth-first search from the new edge's downstream towards its upstream.
pub struct CycleSearch {
    upstream: Uuid,
    downstream: Uuid,
    parent: HashMap<Uuid, Uuid>,
    seen: HashSet<Uuid>,
    frontier: Vec<Uuid>,
}

/// The state of a search after one level.
pub enum Step {
    /// Keep going: fetch the downstream edges of these workstreams.
    Expand(Vec<Uuid>),
    /// The edge would close this cycle: ids around it, each upstream of the
    /// next, starting with the new edge's upstream.
    Cycle(Vec<Uuid>),
    /// No cycle.
    Clear,
}

impl CycleSearch {
    /// Start a search for the edge `upstream → downstream`.
    pub fn new(upstream: Uuid, downstream: Uuid) -> (Self, Step) {
        let mut search = Self {
            upstream,
            downstream,
            parent: HashMap::new(),
            seen: HashSet::from([downstream]),
            frontier: vec![downstream],
        };
        let step = if upstream == downstream {
            Step::Cycle(vec![upstream])
        } else {
            Step::Expand(search.frontier.clone())
        };
        if matches!(step, Step::Cycle(_)) {
            search.frontier.clear();
        }
        (search, step)
    }

    /// Feed the `(upstream, downstream)` edges leaving the current frontier.
    pub fn advance(&mut self, edges: &[(Uuid, Uuid)]) -> Step {
        let frontier: HashSet<Uuid> = self.frontier.drain(..).collect();
        let mut next = Vec::new();
        for &(from, to) in edges {
            if !frontier.contains(&from) || !self.seen.insert(to) {
                continue;
            }
            self.parent.insert(to, from);
            if to == self.upstream {
                return Step::Cycle(self.cycle());
            }
            next.push(to);
        }
        if next.is_empty() {
            return Step::Clear;
        }
        next.sort();
        self.frontier = next.clone();
        Step::Expand(next)
    }

    /// `[upstream, downstream, …]` following parents back from `upstream`.
    fn cycle(&self) -> Vec<Uuid> {
        let mut path = vec![self.upstream];
        let mut at = self.upstream;
        while let Some(&previous) = self.parent.get(&at) {
            path.push(previous);
            if previous == self.downstream {
                break;
            }
            at = previous;
        }
        // `path` runs upstream ← … ← downstream; the cycle reads forward
        // from the new edge: upstream → downstream → … → (back to upstream).
        let mut cycle = vec![self.upstream];
        cycle.extend(path.into_iter().skip(1).rev());
        cycle
    }
}

/// Run a whole search over an in-memory edge list (for tests and tools).
pub fn would_close_cycle(
    edges: &[(Uuid, Uuid)],
    upstream: Uuid,
    downstream: Uuid,
) -> Option<Vec<Uuid>> {
    let (mut search, mut step) = CycleSearch::new(upstream, downstream);
    loop {
        match step {
            Step::Cycle(cycle) => return Some(cycle),
            Step::Clear => return None,
            Step::Expand(frontier) => {
                let frontier: HashSet<Uuid> = frontier.into_iter().collect();
                let level: Vec<(Uuid, Uuid)> = edges
                    .iter()
                    .copied()
                    .filter(|(from, _)| frontier.contains(from))
                    .collect();
                step = search.advance(&level);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_a_triangle_reports_the_cycle_from_the_new_upstream() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let edges = [(a, b), (b, c)];
        // c → a would close a → b → c → a.
        assert_eq!(would_close_cycle(&edges, c, a), Some(vec![c, a, b]));
        assert_eq!(would_close_cycle(&edges, a, c), None);
    }

    #[test]
    fn a_two_cycle_is_found() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(would_close_cycle(&[(a, b)], b, a), Some(vec![b, a]));
    }

    #[test]
    fn unrelated_branches_are_clear() {
        let ids: Vec<Uuid> = (0..6).map(|_| Uuid::now_v7()).collect();
        let edges = [
            (ids[0], ids[1]),
            (ids[1], ids[2]),
            (ids[3], ids[4]),
            (ids[4], ids[5]),
        ];
        assert_eq!(would_close_cycle(&edges, ids[2], ids[3]), None);
        assert_eq!(would_close_cycle(&edges, ids[5], ids[0]), None);
        let cycle = would_close_cycle(&edges, ids[2], ids[0]).unwrap();
        assert_eq!(cycle, vec![ids[2], ids[0], ids[1]]);
    }
}
