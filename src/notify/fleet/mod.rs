//! Detections over a fleet's PostgreSQL table: see [`FleetDetections`].

mod evaluator;
mod raised;
mod streams;

use std::fmt;
use std::time::Duration;

pub(crate) use evaluator::FleetEvaluator;

use crate::postgres_table::{check_table_name, redacted_url, PostgresError, DEFAULT_TABLE};
use crate::sink::postgres::url_or_environment;

/// Detections over a fleet (cargo features `notify` and `postgres`): every instance of a service
/// writes into one PostgreSQL table, and the detections run over all of their rows, so an attack
/// a load balancer spreads over five instances is one attack.
///
/// - **One evaluator at a time.** Every instance configured with [`FleetDetections`] tries to take
///   a lease: a session-level advisory lock of the table and scope. The one holding it evaluates;
///   the others try again every [poll](FleetDetections::with_poll). When the evaluating process
///   dies its connection closes and the lock goes with it: another takes over within a poll
///   (within the server's TCP keep-alive, about 20 s, when its machine vanishes instead).
/// - **In order, from where it was.** Each instance's rows are read in `seq` order from a cursor
///   kept in the table `<table>_cursors` (an instance's rows are committed in `seq` order: its
///   sink writes them one batch after the other), and the instances' rows are merged by time.
///   Rows are read once they are [settled](FleetDetections::with_settle) (2 s old by default), so
///   that instances' batches arrive before the merge passes their time.
/// - **Each window once.** A detection's window is raised only when `<table>_raised` holds no
///   window of the same detection and group covering its time; the window is inserted first and
///   the record written after. A new evaluator reads again what the detections' memory reaches
///   (a threshold's window; for impossible travel, the longest journey at the fastest speed)
///   before its predecessor's cursors, so a window open at the hand-over is completed, and what
///   the old one already raised is not raised again.
///
/// The detection record is written by the evaluating instance, through its log (every sink, its
/// own notification rules): a rule on `authentication.failed_max` configured on every instance
/// notifies once. That record rides the evaluating process's delivery like every record it writes
/// (memory, then its spool when configured): a process killed after raising a window and before
/// its record reached the table loses it unless it has a spool.
///
/// ```no_run
/// use std::time::Duration;
/// use tracing_security_events::notify::{FleetDetections, NotifyConfig, Threshold};
/// use tracing_security_events::query::{Field, Query};
///
/// let notifications = NotifyConfig::new()
///     .detection(Threshold::new(
///         "failed sign-ins",
///         Query::parse("event = authentication.failed")?,
///         Field::parse("client.ip")?,
///         10,
///         Duration::from_secs(300),
///     ))
///     .over_fleet(FleetDetections::new().with_url("postgres://app@db/app?sslmode=require"));
/// # let _ = notifications;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```

#[derive(Clone)]
#[must_use]
pub struct FleetDetections {
    pub(crate) url: Option<String>,
    pub(crate) table: String,
    pub(crate) scope: String,
    pub(crate) poll: Duration,
    pub(crate) settle: Duration,
    pub(crate) lookback: Duration,
}

impl fmt::Debug for FleetDetections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FleetDetections")
            .field("url", &self.url.as_deref().map(redacted_url))
            .field("table", &self.table)
            .field("scope", &self.scope)
            .field("poll", &self.poll)
            .field("settle", &self.settle)
            .field("lookback", &self.lookback)
            .finish()
    }
}

impl Default for FleetDetections {
    fn default() -> Self {
        FleetDetections::new()
    }
}

impl FleetDetections {
    /// The default table (`security_events`) of the database in `SECURITY_LOG_DATABASE_URL`,
    /// scope `default`, polled every second, rows read once 2 s old.
    pub fn new() -> Self {
        FleetDetections {
            url: None,
            table: DEFAULT_TABLE.to_owned(),
            scope: "default".to_owned(),
            poll: Duration::from_secs(1),
            settle: Duration::from_secs(2),
            lookback: Duration::ZERO,
        }
    }

    /// The database, as [`PostgresConfig::with_url`](crate::sink::postgres::PostgresConfig::with_url).
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The table the fleet writes (`security_events` by default).
    pub fn with_table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// The lease's and cursors' name (`default`): instances with the same scope share one
    /// evaluator; give each set of detections over one table its own.
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// How often the evaluator looks for new rows and the others for the lease (1 s).
    pub fn with_poll(mut self, poll: Duration) -> Self {
        self.poll = poll.max(Duration::from_millis(10));
        self
    }

    /// How old a row must be before it is read (2 s): longer than the instances' writers take
    /// to deliver a batch, so that the merge by time sees every instance's rows of a moment.
    pub fn with_settle(mut self, settle: Duration) -> Self {
        self.settle = settle;
        self
    }

    /// How far before its predecessor's cursor a new evaluator reads again, at least (the
    /// detections' own memory otherwise).
    pub fn with_lookback(mut self, lookback: Duration) -> Self {
        self.lookback = lookback;
        self
    }

    /// The URL set, else the environment's; the table's name checked.
    pub(crate) fn resolved(&self) -> Result<(String, String), PostgresError> {
        check_table_name(&self.table)?;
        let url = url_or_environment(self.url.as_deref())?;
        Ok((url, self.table.clone()))
    }
}
