//! Bottlenecks: workstreams that the most downstream work waits on.

use std::collections::HashMap;

use uuid::Uuid;

/// How many workstreams wait on each one, directly or transitively,
/// most-waited-on first; workstreams nothing waits on are left out.
pub fn downstream_counts(ids: &[Uuid], edges: &[(Uuid, Uuid)]) -> Vec<(Uuid, usize, usize)> {
    let graph = Reach::new(ids, edges);
    let mut counts: Vec<(Uuid, usize, usize)> = (0..ids.len())
        .map(|i| {
            let total = graph.row(i).iter().map(|w| w.count_ones() as usize).sum();
            (ids[i], total, graph.downstream[i].len())
        })
        .filter(|(_, total, _)| *total > 0)
        .collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    counts
}

/// How many workstreams outside each group wait on the group's work,
/// directly or transitively, and directly: `(group, transitive, direct)`,
/// most-waited-on first; each waiting workstream counts once per group.
pub fn group_counts(
    ids: &[Uuid],
    edges: &[(Uuid, Uuid)],
    group_of: impl Fn(Uuid) -> Option<Uuid>,
) -> Vec<(Uuid, usize, usize)> {
    let graph = Reach::new(ids, edges);
    let groups: Vec<Option<Uuid>> = ids.iter().map(|&id| group_of(id)).collect();
    let mut members: HashMap<Uuid, Vec<usize>> = HashMap::new();
    for (i, group) in groups.iter().enumerate() {
        if let Some(group) = group {
            members.entry(*group).or_default().push(i);
        }
    }
    let mut counts: Vec<(Uuid, usize, usize)> = members
        .into_iter()
        .map(|(group, own)| {
            let mut all = vec![0u64; graph.words];
            let mut direct = vec![0u64; graph.words];
            for &i in &own {
                for (word, bits) in all.iter_mut().zip(graph.row(i)) {
                    *word |= bits;
                }
                for &d in &graph.downstream[i] {
                    direct[d / 64] |= 1 << (d % 64);
                }
            }
            let outside = |bits: &[u64]| {
                (0..ids.len())
                    .filter(|&d| bits[d / 64] & (1 << (d % 64)) != 0)
                    .filter(|&d| groups[d] != Some(group))
                    .count()
            };
            (group, outside(&all), outside(&direct))
        })
        .filter(|(_, total, _)| *total > 0)
        .collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    counts
}

/// Downstream reachability of every task, as bitsets.
struct Reach {
    words: usize,
    downstream: Vec<Vec<usize>>,
    reach: Vec<u64>,
}

impl Reach {
    fn row(&self, i: usize) -> &[u64] {
        &self.reach[i * self.words..(i + 1) * self.words]
    }

    fn new(ids: &[Uuid], edges: &[(Uuid, Uuid)]) -> Self {
        let position: HashMap<Uuid, usize> =
            ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let n = ids.len();
        let words = n.div_ceil(64);
        let mut downstream = vec![Vec::new(); n];
        let mut indegree = vec![0usize; n];
        for (up, down) in edges {
            if let (Some(&u), Some(&d)) = (position.get(up), position.get(down))
                && u != d
            {
                downstream[u].push(d);
                indegree[d] += 1;
            }
        }
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
        // Reachability bitsets, filled in reverse topological order.
        let mut reach = vec![0u64; n * words];
        for &i in order.iter().rev() {
            for &d in &downstream[i] {
                reach[i * words + d / 64] |= 1 << (d % 64);
                for w in 0..words {
                    let bits = reach[d * words + w];
                    reach[i * words + w] |= bits;
                }
            }
        }
        Self {
            words,
            downstream,
            reach,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diamonds_are_not_double_counted() {
        let ids: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
        let edges = [
            (ids[0], ids[1]),
            (ids[0], ids[2]),
            (ids[1], ids[3]),
            (ids[2], ids[3]),
        ];
        let counts = downstream_counts(&ids, &edges);
        assert_eq!(counts[0], (ids[0], 3, 2));
        assert_eq!(counts.len(), 3);
    }

    #[test]
    fn a_group_counts_the_work_of_others_waiting_on_any_of_its_members() {
        let ids: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        // Team a owns 0 and 1; 0 -> 1 -> 2 -> 3 and 1 -> 4; team b owns 2.
        let edges = [
            (ids[0], ids[1]),
            (ids[1], ids[2]),
            (ids[2], ids[3]),
            (ids[1], ids[4]),
        ];
        let group = |id: Uuid| match ids.iter().position(|x| *x == id) {
            Some(0 | 1) => Some(a),
            Some(2) => Some(b),
            _ => None,
        };
        let counts = group_counts(&ids, &edges, group);
        assert_eq!(counts, vec![(a, 3, 2), (b, 1, 1)]);
    }
}
