//! The log's own errors, on stderr, rate-limited.

use std::fmt;
use std::time::{Duration, Instant};

/// Writes internal errors to stderr, at most one line a second so a broken sink cannot flood it.
pub(super) struct ErrorReporter {
    enabled: bool,
    last: Option<Instant>,
    suppressed: u64,
}

impl ErrorReporter {
    const INTERVAL: Duration = Duration::from_secs(1);

    pub(super) fn new(enabled: bool) -> Self {
        ErrorReporter {
            enabled,
            last: None,
            suppressed: 0,
        }
    }

    pub(super) fn report(&mut self, what: fmt::Arguments<'_>) {
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
    pub(super) fn force(&mut self, what: fmt::Arguments<'_>) {
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
