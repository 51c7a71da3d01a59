//! What the notification threads did, counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Counts of the notification threads since start-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NotifyStats {
    /// Records the rules and detections saw (detections over a fleet: see `fleet_rows`).
    pub records: u64,
    /// Rows of the fleet's table the detections saw, while this instance held the lease
    /// (detections over a fleet).
    pub fleet_rows: u64,
    /// Times this instance took the fleet's lease.
    pub leases_taken: u64,
    /// Records that found the rule queue full and were not evaluated (each also in an
    /// `audit.events_dropped` record naming the `notify` sink).
    pub overflowed: u64,
    /// Notifications the rules called for, per transport (after throttling).
    pub notifications: u64,
    /// Notifications delivered.
    pub delivered: u64,
    /// Notifications given up on, after their retries or because a transport's queue was full
    /// (each also in an `audit.notification_failed` record).
    pub failed: u64,
    /// Retries made.
    pub retries: u64,
    /// Records the detections wrote.
    pub detections: u64,
    /// Records whose evaluation panicked (a bug): skipped, the rule thread goes on.
    pub panics: u64,
}

/// The live counters behind [`NotifyStats`].
#[derive(Debug, Default)]
pub(crate) struct NotifyCounters {
    pub(crate) records: AtomicU64,
    pub(crate) fleet_rows: AtomicU64,
    pub(crate) leases_taken: AtomicU64,
    pub(crate) overflowed: AtomicU64,
    pub(crate) notifications: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) detections: AtomicU64,
    pub(crate) panics: AtomicU64,
}

/// Reads the counters of a notification set-up while it runs.
#[derive(Debug, Clone)]
pub struct NotifyStatsHandle(pub(crate) Arc<NotifyCounters>);

impl NotifyStatsHandle {
    /// The counts now.
    pub fn get(&self) -> NotifyStats {
        let c = &self.0;
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        NotifyStats {
            records: read(&c.records),
            fleet_rows: read(&c.fleet_rows),
            leases_taken: read(&c.leases_taken),
            overflowed: read(&c.overflowed),
            notifications: read(&c.notifications),
            delivered: read(&c.delivered),
            failed: read(&c.failed),
            retries: read(&c.retries),
            detections: read(&c.detections),
            panics: read(&c.panics),
        }
    }
}
