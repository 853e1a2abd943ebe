//! Webhook deliveries: signing, where a delivery may go, and the worker
//! that sends the outbox.
//!
//! `domain::webhooks` writes one `webhook_deliveries` row per matching
//! webhook in the transaction of the change it reports (so a rolled-back
//! or refused change is never delivered) and [`wake`]s this server's worker
//! once it commits. The [`worker`] claims due rows (`FOR UPDATE SKIP
//! LOCKED` on PostgreSQL, so replicas sharing the outbox never send a row
//! twice), posts them signed ([`signature`]) to targets that pass
//! [`target`], and records each attempt; a failed one is tried again with
//! exponential backoff ([`worker::backoff`]), and a claim that outlives its
//! server lapses, so deliveries survive restarts.

use std::sync::LazyLock;

use tokio::sync::watch;

pub mod signature;
pub mod target;
pub mod worker;

pub use worker::{DeliveryPolicy, MAX_ATTEMPTS, backoff};

/// Wakes the workers of this process when a transaction that wrote
/// deliveries commits (process-wide, since the domain only sees a
/// connection; a spurious wake costs one query); other replicas find them
/// on their next poll.
static WRITTEN: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// Tell the workers that deliveries were committed.
pub fn wake() {
    WRITTEN.send_modify(|writes| *writes = writes.wrapping_add(1));
}
