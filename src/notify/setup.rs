//! A notification set-up: rules, transports and detections, given to the log's builder.

use std::collections::HashSet;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
#[cfg(feature = "postgres")]
use crossbeam_channel::bounded;

use super::delivery::{Delivery, Retry};
use super::detection::Detection;
use super::log_link::LogLink;
use super::rule::{Rule, Rules};
use super::runner::RuleThread;
use super::sink::NotifySink;
use super::stats::{NotifyCounters, NotifyStatsHandle};
use super::transport::Transport;
use super::NotifyError;

/// Records waiting for the rule thread by default, at most; what overflows is counted and
/// recorded as `audit.events_dropped`, never waited for.
pub const DEFAULT_RULE_QUEUE: usize = 65_536;
/// How long a flush (and shutdown) waits for notifications by default.
pub const DEFAULT_NOTIFY_FLUSH_TIMEOUT: Duration = Duration::from_secs(3);

/// Rules, the transports they send through and detections, for
/// [`Builder::with_notifications`](crate::Builder::with_notifications).
///
/// ```
/// use std::time::Duration;
/// use tracing_security_events::notify::{
///     NotifyConfig, NotifySeverity, Retry, Rule, Threshold, Webhook,
/// };
/// use tracing_security_events::query::{Field, Query};
///
/// let notifications = NotifyConfig::new()
///     .transport("ops", Webhook::new("https://hooks.example.com/security")?
///         .with_signing_key(b"a shared key of 32 bytes or more".to_vec()))
///     .rule(Rule::new(
///         "brute force",
///         Query::parse("event = authentication.failed_max")?,
///         NotifySeverity::Alert,
///     ))
///     .detection(Threshold::new(
///         "failed sign-ins",
///         Query::parse("event = authentication.failed")?,
///         Field::parse("client.ip")?,
///         10,
///         Duration::from_secs(60),
///     ));
/// let (layer, guard) = tracing_security_events::builder()
///     .with_file(std::env::temp_dir().join("notify-doc.jsonl"))
///     .with_notifications(notifications)
///     .build::<tracing_subscriber::Registry>()?;
/// # drop((layer, guard));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct NotifyConfig {
    rules: Vec<Rule>,
    transports: Vec<(String, Box<dyn Transport>, Retry)>,
    detections: Vec<Detection>,
    queue_capacity: usize,
    flush_timeout: Duration,
    counters: Arc<NotifyCounters>,
    #[cfg(feature = "postgres")]
    fleet: Option<super::FleetDetections>,
}

impl std::fmt::Debug for NotifyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("NotifyConfig");
        debug
            .field(
                "rules",
                &self.rules.iter().map(Rule::name).collect::<Vec<_>>(),
            )
            .field(
                "transports",
                &self
                    .transports
                    .iter()
                    .map(|(name, ..)| name)
                    .collect::<Vec<_>>(),
            )
            .field(
                "detections",
                &self
                    .detections
                    .iter()
                    .map(Detection::name)
                    .collect::<Vec<_>>(),
            )
            .field("queue_capacity", &self.queue_capacity);
        #[cfg(feature = "postgres")]
        debug.field("fleet", &self.fleet);
        debug.finish_non_exhaustive()
    }
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig::new()
    }
}

impl NotifyConfig {
    /// Nothing yet.
    pub fn new() -> Self {
        NotifyConfig {
            rules: Vec::new(),
            transports: Vec::new(),
            detections: Vec::new(),
            queue_capacity: DEFAULT_RULE_QUEUE,
            flush_timeout: DEFAULT_NOTIFY_FLUSH_TIMEOUT,
            counters: Arc::default(),
            #[cfg(feature = "postgres")]
            fleet: None,
        }
    }

    /// Runs the detections over every instance's rows of a PostgreSQL table instead of over
    /// this process's records, one instance of the fleet at a time (see
    /// [`FleetDetections`](super::FleetDetections)). Rules still run in each process over the
    /// records it writes.
    #[cfg(feature = "postgres")]
    #[must_use]
    pub fn over_fleet(mut self, fleet: super::FleetDetections) -> Self {
        self.fleet = Some(fleet);
        self
    }

    /// One more rule.
    #[must_use]
    pub fn rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// One more transport, named `name` for the rules' [`Rule::send_to`], retried as
    /// [`Retry::default`] says.
    #[must_use]
    pub fn transport(self, name: impl Into<String>, transport: impl Transport) -> Self {
        self.transport_with_retry(name, transport, Retry::default())
    }

    /// One more transport, retried as `retry` says.
    #[must_use]
    pub fn transport_with_retry(
        mut self,
        name: impl Into<String>,
        transport: impl Transport,
        retry: Retry,
    ) -> Self {
        self.transports
            .push((name.into(), Box::new(transport), retry));
        self
    }

    /// One more detection.
    #[must_use]
    pub fn detection(mut self, detection: impl Into<Detection>) -> Self {
        self.detections.push(detection.into());
        self
    }

    /// Records that may wait for the rule thread (65,536 by default).
    #[must_use]
    pub fn with_queue_capacity(mut self, records: usize) -> Self {
        self.queue_capacity = records.max(1);
        self
    }

    /// How long a flush, and shutdown, wait for notifications to be delivered (3 s by default).
    #[must_use]
    pub fn with_flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// A handle to the counters of this set-up, to read while it runs.
    pub fn stats(&self) -> NotifyStatsHandle {
        NotifyStatsHandle(self.counters.clone())
    }

    /// Checks the set-up and starts its threads; records go through `log` once it is connected.
    /// For each rule, the transports it sends to (every one when it names none); a transport
    /// named twice, or a rule naming one that does not exist, is an error.
    fn routes(&self) -> Result<Vec<Vec<usize>>, NotifyError> {
        let mut names = HashSet::new();
        for (name, ..) in &self.transports {
            if !names.insert(name.as_str()) {
                return Err(NotifyError::DuplicateTransport(name.clone()));
            }
        }
        self.rules
            .iter()
            .map(|rule| {
                if rule.send_to.is_empty() {
                    return Ok((0..self.transports.len()).collect());
                }
                rule.send_to
                    .iter()
                    .map(|wanted| {
                        self.transports
                            .iter()
                            .position(|(name, ..)| name == wanted)
                            .ok_or_else(|| NotifyError::UnknownTransport {
                                rule: rule.name.clone(),
                                transport: wanted.clone(),
                            })
                    })
                    .collect()
            })
            .collect()
    }

    pub(crate) fn start(self, log: LogLink) -> Result<NotifySink, NotifyError> {
        let routes = self.routes()?;
        let now = Utc::now();
        let detectors = self
            .detections
            .iter()
            .map(|detection| detection.clone().start(now))
            .collect::<Result<Vec<_>, _>>()?;
        #[cfg(feature = "postgres")]
        let (detectors, fleet) = match self.fleet {
            Some(settings) => {
                let (url, _) = settings
                    .resolved()
                    .map_err(|e| NotifyError::Fleet(e.to_string()))?;
                let evaluator = super::fleet::FleetEvaluator {
                    settings,
                    url,
                    detections: self.detections,
                    log: log.clone(),
                    counters: self.counters.clone(),
                    stop: Arc::default(),
                    leading: Arc::default(),
                };
                (Vec::new(), Some(evaluator))
            }
            None => (detectors, None),
        };
        let spawn_error = |e: std::io::Error| NotifyError::Spawn(e.to_string());
        let deliveries = self
            .transports
            .into_iter()
            .map(|(name, transport, retry)| {
                Delivery::start(name, transport, retry, log.clone(), self.counters.clone())
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(spawn_error)?;
        let queued = Arc::new(AtomicUsize::new(0));
        let (sender, inbox) = crossbeam_channel::unbounded();
        let rules = Rules::new(self.rules, now);
        let mut members = rules.members().clone();
        for detector in &detectors {
            detector.add_members(&mut members);
        }
        let rules = RuleThread {
            members,
            rules,
            routes,
            deliveries,
            detectors,
            log,
            counters: self.counters.clone(),
            queued: queued.clone(),
            flush_timeout: self.flush_timeout,
            failure_name: memchr::memmem::Finder::new(b"\"audit.notification_failed\"")
                .into_owned(),
        };
        let thread = std::thread::Builder::new()
            .name("security-rules".into())
            .spawn(move || rules.run(&inbox))
            .map_err(spawn_error)?;
        let sink = NotifySink::new(
            sender,
            queued,
            self.queue_capacity,
            self.counters,
            thread,
            self.flush_timeout,
        );
        #[cfg(feature = "postgres")]
        let sink = match fleet {
            Some(evaluator) => {
                let stop = evaluator.stop.clone();
                let (ended, end) = bounded::<()>(1);
                let thread = std::thread::Builder::new()
                    .name("security-fleet-detections".into())
                    .spawn(move || {
                        evaluator.run();
                        let _ = ended.send(());
                    })
                    .map_err(spawn_error)?;
                sink.with_fleet(stop, thread, end)
            }
            None => sink,
        };
        Ok(sink)
    }
}
