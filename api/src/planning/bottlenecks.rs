//! Bottlenecks: workstreams that the most downstream work waits on.

use std::collections::HashMap;

use uuid::Uuid;

/// How many workstreams wait on each one, directly or transitively,
/// most-waited-on first; workstreams nothing waits on are left out.
pub fn downstream_counts(ids: &[Uuid], edges: &[(Uuid, Uuid)]) -> Vec<(Uuid, usize, usize)> {
    let position: HashMap<Uuid, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
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
    let mut counts: Vec<(Uuid, usize, usize)> = (0..n)
        .map(|i| {
            let total = reach[i * words..(i + 1) * words]
                .iter()
                .map(|w| w.count_ones() as usize)
                .sum();
            (ids[i], total, downstream[i].len())
        })
        .filter(|(_, total, _)| *total > 0)
        .collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    counts
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
}
