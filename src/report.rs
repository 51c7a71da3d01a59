//! The one place the crate writes to stderr: the log's own errors, prefixed with the crate's
//! name, rate-limited where they can repeat, and silenced whole by
//! [`Builder::with_error_reporting(false)`](crate::Builder::with_error_reporting).

use std::fmt;
use std::time::{Duration, Instant};

/// Writes internal errors to stderr, at most one line a second so a broken sink cannot flood it.
pub(crate) struct ErrorReporter {
    enabled: bool,
    last: Option<Instant>,
    suppressed: u64,
}

impl ErrorReporter {
    const INTERVAL: Duration = Duration::from_secs(1);

    pub(crate) fn new(enabled: bool) -> Self {
        ErrorReporter {
            enabled,
            last: None,
            suppressed: 0,
        }
    }

    pub(crate) fn report(&mut self, what: fmt::Arguments<'_>) {
        if self.enabled
            && self
                .last
                .is_some_and(|last| last.elapsed() < Self::INTERVAL)
        {
            self.suppressed += 1;
            return;
        }
        self.force(what);
    }

    /// Reports regardless of the rate limit (recoveries and losses are rare and matter).
    #[allow(clippy::print_stderr, reason = "the crate's one stderr path")]
    pub(crate) fn force(&mut self, what: fmt::Arguments<'_>) {
        if !self.enabled {
            return;
        }
        self.last = Some(Instant::now());
        if self.suppressed > 0 {
            eprintln!(
                "tracing-security-events: {what} ({} similar errors not shown)",
                self.suppressed
            );
            self.suppressed = 0;
        } else {
            eprintln!("tracing-security-events: {what}");
        }
    }
}

/// Writes one line about a rare event (a refused reload, a crash found at start-up, losses at
/// shutdown), unless reporting is off.
#[allow(clippy::print_stderr, reason = "the crate's one stderr path")]
pub(crate) fn report_line(enabled: bool, what: fmt::Arguments<'_>) {
    if enabled {
        eprintln!("tracing-security-events: {what}");
    }
}
