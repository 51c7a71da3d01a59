//! The time source of record timestamps, file rotation and retention, replaceable in tests.

use std::fmt;
use std::time::SystemTime;

use chrono::{DateTime, Utc};

/// The log's time: record timestamps (read on the caller's thread), and the file sink's rotation
/// periods, rotated file names and retention, so that one clock decides both and tests can move
/// it forward instead of waiting an hour.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;

    /// The current time, not yet broken into a date: what the caller's thread takes for every
    /// event (the date is worked out on the worker).
    fn now_system_time(&self) -> SystemTime {
        self.now().into()
    }
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn now_system_time(&self) -> SystemTime {
        SystemTime::now()
    }
}
