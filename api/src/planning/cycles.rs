//! Cycle refusal: would a new edge `upstream → downstream` close a loop?
//!
//! It would exactly when `upstream` is already reachable downstream of
//! `downstream`. The search is breadth-first from both ends at once —
//! downstream from `downstream`, upstream from `upstream` — one level at a
//! time on whichever side has the smaller frontier, so the caller fetches
//! one level of edges per step from the database, the work follows the
//! smaller side of the graph, and it stops as soon as the answer is known.
//! A search that would take more steps or visit more workstreams than its
//! [`Budget`] gives up instead.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

/// How far one search may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Most levels fetched (one database statement each).
    pub steps: usize,
    /// Most workstreams visited, both sides together.
    pub workstreams: usize,
}

/// Which way a level of the search walks the edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Downstream from the new edge's downstream: the edges leaving the frontier.
    Downstream,
    /// Upstream from the new edge's upstream: the edges entering the frontier.
    Upstream,
}

/// A bidirectional breadth-first search for a path `downstream → … → upstream`.
pub struct CycleSearch {
    upstream: Uuid,
    downstream: Uuid,
    /// Reached walking downstream, each with the workstream it was reached from.
    forward: HashMap<Uuid, Option<Uuid>>,
    /// Reached walking upstream, each with the workstream it leads to.
    backward: HashMap<Uuid, Option<Uuid>>,
    forward_frontier: Vec<Uuid>,
    backward_frontier: Vec<Uuid>,
    /// The side whose edges the caller is fetching.
    expanding: Side,
    steps: usize,
    budget: Budget,
}

/// The state of a search after one level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Keep going: fetch the edges of these workstreams on that side.
    Expand(Side, Vec<Uuid>),
    /// The edge would close this cycle: ids around it, each upstream of the
    /// next, starting with the new edge's upstream.
    Cycle(Vec<Uuid>),
    /// No cycle.
    Clear,
    /// The search would exceed its budget.
    TooLarge,
}

impl CycleSearch {
    /// Start a search for the edge `upstream → downstream` within `budget`.
    pub fn new(upstream: Uuid, downstream: Uuid, budget: Budget) -> (Self, Step) {
        let mut search = Self {
            upstream,
            downstream,
            forward: HashMap::from([(downstream, None)]),
            backward: HashMap::from([(upstream, None)]),
            forward_frontier: vec![downstream],
            backward_frontier: vec![upstream],
            expanding: Side::Downstream,
            steps: 0,
            budget,
        };
        let step = if upstream == downstream {
            Step::Cycle(vec![upstream])
        } else {
            search.next_level()
        };
        (search, step)
    }

    /// Feed the `(upstream, downstream)` edges of the level asked for: the
    /// edges leaving the frontier (`Side::Downstream`) or entering it
    /// (`Side::Upstream`). Other edges are ignored.
    pub fn advance(&mut self, edges: &[(Uuid, Uuid)]) -> Step {
        let mut next = Vec::new();
        match self.expanding {
            Side::Downstream => {
                let frontier: HashSet<Uuid> = self.forward_frontier.drain(..).collect();
                for &(from, to) in edges {
                    if !frontier.contains(&from) || self.forward.contains_key(&to) {
                        continue;
                    }
                    self.forward.insert(to, Some(from));
                    if self.backward.contains_key(&to) {
                        return Step::Cycle(self.cycle_through(to));
                    }
                    next.push(to);
                }
                next.sort();
                self.forward_frontier = next;
            }
            Side::Upstream => {
                let frontier: HashSet<Uuid> = self.backward_frontier.drain(..).collect();
                for &(from, to) in edges {
                    if !frontier.contains(&to) || self.backward.contains_key(&from) {
                        continue;
                    }
                    self.backward.insert(from, Some(to));
                    if self.forward.contains_key(&from) {
                        return Step::Cycle(self.cycle_through(from));
                    }
                    next.push(from);
                }
                next.sort();
                self.backward_frontier = next;
            }
        }
        self.next_level()
    }

    /// The next level to fetch, on the side with the smaller frontier; an
    /// exhausted side proves there is no path.
    fn next_level(&mut self) -> Step {
        if self.forward_frontier.is_empty() || self.backward_frontier.is_empty() {
            return Step::Clear;
        }
        if self.steps >= self.budget.steps
            || self.forward.len() + self.backward.len() > self.budget.workstreams
        {
            return Step::TooLarge;
        }
        // The smaller frontier first; on a tie, the side not expanded last,
        // so a side that is about to run dry gets its turn.
        let ordering = self
            .backward_frontier
            .len()
            .cmp(&self.forward_frontier.len());
        self.expanding = match ordering {
            std::cmp::Ordering::Less => Side::Upstream,
            std::cmp::Ordering::Greater => Side::Downstream,
            std::cmp::Ordering::Equal if self.steps == 0 => Side::Downstream,
            std::cmp::Ordering::Equal => match self.expanding {
                Side::Downstream => Side::Upstream,
                Side::Upstream => Side::Downstream,
            },
        };
        self.steps += 1;
        let frontier = match self.expanding {
            Side::Downstream => &self.forward_frontier,
            Side::Upstream => &self.backward_frontier,
        };
        Step::Expand(self.expanding, frontier.clone())
    }

    /// The cycle through `meeting`, reached from both sides:
    /// `upstream → downstream → … → meeting → … → (upstream)`.
    fn cycle_through(&self, meeting: Uuid) -> Vec<Uuid> {
        // downstream … meeting, following forward parents back.
        let mut to_meeting = vec![meeting];
        let mut at = meeting;
        while let Some(Some(previous)) = self.forward.get(&at) {
            to_meeting.push(*previous);
            at = *previous;
        }
        to_meeting.reverse();
        // meeting … upstream, following backward links on.
        let mut after_meeting = Vec::new();
        let mut at = meeting;
        while let Some(Some(following)) = self.backward.get(&at) {
            after_meeting.push(*following);
            at = *following;
        }
        let mut cycle = vec![self.upstream];
        cycle.extend(to_meeting);
        cycle.extend(after_meeting);
        // The walk back ends at `upstream` itself, already first.
        if cycle.len() > 1 && cycle.last() == Some(&self.upstream) {
            cycle.pop();
        }
        debug_assert_eq!(cycle.get(1), Some(&self.downstream));
        cycle
    }
}

/// Run a whole search over an in-memory edge list (for tests and tools).
pub fn would_close_cycle(
    edges: &[(Uuid, Uuid)],
    upstream: Uuid,
    downstream: Uuid,
    budget: Budget,
) -> Step {
    let (mut search, mut step) = CycleSearch::new(upstream, downstream, budget);
    loop {
        match step {
            Step::Expand(side, frontier) => {
                let frontier: HashSet<Uuid> = frontier.into_iter().collect();
                let level: Vec<(Uuid, Uuid)> = edges
                    .iter()
                    .copied()
                    .filter(|(from, to)| match side {
                        Side::Downstream => frontier.contains(from),
                        Side::Upstream => frontier.contains(to),
                    })
                    .collect();
                step = search.advance(&level);
            }
            done => return done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOMY: Budget = Budget {
        steps: 1_000,
        workstreams: 100_000,
    };

    fn cycle(edges: &[(Uuid, Uuid)], upstream: Uuid, downstream: Uuid) -> Option<Vec<Uuid>> {
        match would_close_cycle(edges, upstream, downstream, ROOMY) {
            Step::Cycle(cycle) => Some(cycle),
            Step::Clear => None,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn closing_a_triangle_reports_the_cycle_from_the_new_upstream() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let edges = [(a, b), (b, c)];
        // c → a would close a → b → c → a.
        assert_eq!(cycle(&edges, c, a), Some(vec![c, a, b]));
        assert_eq!(cycle(&edges, a, c), None);
    }

    #[test]
    fn a_two_cycle_is_found() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(cycle(&[(a, b)], b, a), Some(vec![b, a]));
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
        assert_eq!(cycle(&edges, ids[2], ids[3]), None);
        assert_eq!(cycle(&edges, ids[5], ids[0]), None);
        assert_eq!(
            cycle(&edges, ids[2], ids[0]),
            Some(vec![ids[2], ids[0], ids[1]])
        );
    }

    #[test]
    fn a_long_chain_is_cleared_from_its_short_side() {
        // A new workstream in front of a 10,000-long chain: the upstream side
        // is exhausted at once, the chain is never walked.
        let chain: Vec<Uuid> = (0..10_000).map(|_| Uuid::now_v7()).collect();
        let edges: Vec<(Uuid, Uuid)> = chain.windows(2).map(|w| (w[0], w[1])).collect();
        let new = Uuid::now_v7();
        let tight = Budget {
            steps: 3,
            workstreams: 10,
        };
        assert_eq!(would_close_cycle(&edges, new, chain[0], tight), Step::Clear);
    }

    #[test]
    fn closing_a_long_chain_runs_out_of_budget() {
        let chain: Vec<Uuid> = (0..1_000).map(|_| Uuid::now_v7()).collect();
        let edges: Vec<(Uuid, Uuid)> = chain.windows(2).map(|w| (w[0], w[1])).collect();
        let budget = Budget {
            steps: 100,
            workstreams: 100_000,
        };
        assert_eq!(
            would_close_cycle(&edges, chain[999], chain[0], budget),
            Step::TooLarge
        );
        assert_eq!(
            cycle(&edges, chain[999], chain[0]).map(|c| c.len()),
            Some(1_000)
        );
    }
}
