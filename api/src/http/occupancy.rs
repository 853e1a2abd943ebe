//! Counting what is open — connections, WebSockets — in total and per key
//! (client address, user), so that each is admitted only under its caps.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

use std::pin::Pin;

use tokio::sync::{Notify, futures::Notified};

/// Which cap refused an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The total cap.
    Total,
    /// The cap of the entry's key (its address or its user).
    Key,
}

struct Counts<K> {
    total: usize,
    per_key: HashMap<K, usize>,
}

/// Open entries, at most `max_total` in all and `max_per_key` per key
/// (0: no per-key cap).
pub struct Occupancy<K> {
    counts: Mutex<Counts<K>>,
    max_total: usize,
    max_per_key: usize,
    emptied: Notify,
    left: Notify,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update is one increment or decrement: a panicking holder leaves it consistent.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl<K: Hash + Eq + Clone> Occupancy<K> {
    /// An empty table with these caps.
    pub fn new(max_total: usize, max_per_key: usize) -> Arc<Self> {
        Arc::new(Self {
            counts: Mutex::new(Counts {
                total: 0,
                per_key: HashMap::new(),
            }),
            max_total,
            max_per_key,
            emptied: Notify::new(),
            left: Notify::new(),
        })
    }

    /// Take a place for `key`, held until the returned seat is dropped. A
    /// key at its cap is refused as [`Full::Key`] even when the total is full.
    pub fn enter(self: &Arc<Self>, key: K) -> Result<Seat<K>, Full> {
        let mut counts = lock(&self.counts);
        let own = counts.per_key.get(&key).copied().unwrap_or(0);
        if self.max_per_key > 0 && own >= self.max_per_key {
            return Err(Full::Key);
        }
        if counts.total >= self.max_total {
            return Err(Full::Total);
        }
        counts.total += 1;
        counts.per_key.insert(key.clone(), own + 1);
        Ok(Seat {
            table: self.clone(),
            key: Some(key),
        })
    }

    /// Entries open now.
    pub fn open(&self) -> usize {
        lock(&self.counts).total
    }

    /// Entries open now for `key`.
    pub fn open_for(&self, key: &K) -> usize {
        lock(&self.counts).per_key.get(key).copied().unwrap_or(0)
    }

    /// The total cap.
    pub fn max_total(&self) -> usize {
        self.max_total
    }

    /// A future that resolves when an entry next leaves; it counts from the
    /// moment it is created, before it is first polled.
    pub fn freed(&self) -> Pin<Box<Notified<'_>>> {
        let mut notified = Box::pin(self.left.notified());
        notified.as_mut().enable();
        notified
    }

    /// Resolves once nothing is open.
    pub async fn emptied(&self) {
        loop {
            let notified = self.emptied.notified();
            if self.open() == 0 {
                return;
            }
            notified.await;
        }
    }

    fn leave(&self, key: &K) {
        let mut counts = lock(&self.counts);
        counts.total = counts.total.saturating_sub(1);
        if let Some(own) = counts.per_key.get_mut(key) {
            *own -= 1;
            if *own == 0 {
                counts.per_key.remove(key);
            }
        }
        if counts.total == 0 {
            self.emptied.notify_waiters();
        }
        self.left.notify_waiters();
    }
}

/// One open entry; dropping it frees its place.
pub struct Seat<K: Hash + Eq + Clone> {
    table: Arc<Occupancy<K>>,
    key: Option<K>,
}

impl<K: Hash + Eq + Clone> Drop for Seat<K> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.table.leave(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_capped_in_total_and_per_key_and_freed_on_drop() {
        let table = Occupancy::new(3, 2);
        let a1 = table.enter("a").unwrap();
        let _a2 = table.enter("a").unwrap();
        assert_eq!(table.enter("a").err(), Some(Full::Key));
        let _b1 = table.enter("b").unwrap();
        assert_eq!(table.enter("c").err(), Some(Full::Total));
        drop(a1);
        assert_eq!(table.open_for(&"a"), 1);
        let _c1 = table.enter("c").unwrap();
        assert_eq!(table.open(), 3);
    }

    #[test]
    fn a_zero_key_cap_means_no_key_cap() {
        let table = Occupancy::new(3, 0);
        let _seats: Vec<_> = (0..3).map(|_| table.enter(1).unwrap()).collect();
        assert_eq!(table.enter(1).err(), Some(Full::Total));
    }

    #[tokio::test]
    async fn freed_hears_a_leave_that_happens_before_it_is_awaited() {
        let table = Occupancy::new(1, 0);
        let seat = table.enter(1).unwrap();
        let freed = table.freed();
        drop(seat);
        tokio::time::timeout(std::time::Duration::from_secs(1), freed)
            .await
            .expect("the leave was missed");
        assert!(table.enter(1).is_ok());
    }

    #[tokio::test]
    async fn emptied_resolves_when_the_last_seat_leaves() {
        let table = Occupancy::new(3, 0);
        table.emptied().await;
        let seat = table.enter(1).unwrap();
        let waiting = tokio::spawn({
            let table = table.clone();
            async move { table.emptied().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(seat);
        waiting.await.unwrap();
    }
}
