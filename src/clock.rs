//! The time source of file rotation and retention, replaceable in tests.

use std::fmt;

use chrono::{DateTime, Utc};

/// Where the file sink reads the time for rotation periods, rotated file names and retention.
///
/// Record timestamps are always the caller's system time; only the file sink's decisions use
/// this clock, so tests can move it forward instead of waiting an hour.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
