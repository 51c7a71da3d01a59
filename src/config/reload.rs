//! Changing the configuration while the service runs: checked first, applied between two
//! records, audited either way.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Serialize;

use super::model::{Config, SinkConfig};
use super::ConfigError;
use crate::capture::{torn_line_notice, CapturedEvent};
use crate::clock::Clock;
use crate::event::{Outcome, SecurityEvent};
use crate::gate::CallerGate;
use crate::pipeline::{Pipeline, Reconfiguration, SinkSlot};
use crate::record::ServiceInfo;
use crate::redact::RedactionSettings;
use crate::sink::ConfiguredSink;
use crate::value::FieldValue;
use crate::{BuildError, Changes, FlushError, FlushGuard};

/// Why a reload was refused; the configuration in force stays as it was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// The new configuration is not valid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// It is valid but could not be applied (a sink cannot be opened, a key is missing).
    #[error("the new configuration cannot be applied: {0}")]
    Build(#[from] BuildError),
    /// The writer did not take it in time (or is stopped).
    #[error("the new configuration was not taken in: {0}")]
    Apply(#[from] FlushError),
}

/// What a reload needs of the running log, from the builder.
pub(crate) struct ReloadParts {
    /// The configuration in force.
    pub(crate) config: Config,
    pub(crate) pipeline: Pipeline,
    pub(crate) caller_gate: Arc<CallerGate>,
    /// Sinks set in code come first and never change; the configuration's follow.
    pub(crate) code_sinks: usize,
    pub(crate) code_redaction: RedactionSettings,
    pub(crate) code_service: ServiceInfo,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) timeout: Duration,
    pub(crate) report_errors: bool,
}

/// Changes the configuration of a running security log; cloneable, for a signal handler, a
/// file watcher or an admin endpoint.
#[derive(Clone)]
pub struct ReloadHandle {
    inner: Arc<Inner>,
}

struct Inner {
    /// The configuration in force; the lock also makes reloads one at a time.
    state: Mutex<Config>,
    parts: ReloadParts,
}

impl std::fmt::Debug for ReloadHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReloadHandle").finish_non_exhaustive()
    }
}

impl ReloadHandle {
    pub(crate) fn new(parts: ReloadParts) -> Self {
        ReloadHandle {
            inner: Arc::new(Inner {
                state: Mutex::new(parts.config.clone()),
                parts,
            }),
        }
    }

    /// The configuration in force.
    pub fn current(&self) -> Config {
        lock(&self.inner.state).clone()
    }

    /// Applies `config`, or refuses it whole. Records emitted before the call are written under
    /// the old configuration, records after it under the new; sinks that did not change keep
    /// their files. Either way an `audit.*` record says what happened.
    pub fn reload(&self, config: Config) -> Result<(), ReloadError> {
        let mut current = lock(&self.inner.state);
        let result = self.apply(&current, &config);
        match &result {
            Ok(()) => *current = config,
            Err(err) => self.report_rejection(err),
        }
        result
    }

    /// Reads the file at `path` (with `SECURITY_LOG_*` variables over it) and applies it.
    pub fn reload_from_file(&self, path: impl AsRef<Path>) -> Result<(), ReloadError> {
        match Config::from_file(path) {
            Ok(config) => self.reload(config),
            Err(err) => {
                let err = ReloadError::Config(err);
                self.report_rejection(&err);
                Err(err)
            }
        }
    }

    fn apply(&self, old: &Config, new: &Config) -> Result<(), ReloadError> {
        let parts = &self.inner.parts;
        let runtime = new.runtime_settings()?;
        let redactor = parts
            .code_redaction
            .redactor(&runtime.redaction)
            .map_err(BuildError::from)?;
        let service = parts
            .code_service
            .or(&runtime.service)
            .with_environment_defaults();
        let mut change = Change::default();
        if old.queue != new.queue {
            change.restart_required.push("queue".to_owned());
        }
        let sinks = self.sinks(old, new, runtime.sinks, &service, &mut change)?;
        #[cfg(feature = "notify")]
        let sinks = {
            let mut sinks = sinks;
            sinks.extend(self.notifications(old, new, runtime.notify)?);
            sinks
        };
        if sinks.is_empty() {
            return Err(ReloadError::Config(new.no_sink_error()));
        }
        let (before, after) = self.notices(old, new, change);
        parts.pipeline.reconfigure(
            Reconfiguration {
                enabled: runtime.enabled,
                filter: runtime.filter,
                redactor,
                service,
                sinks,
                before,
                after,
            },
            parts.timeout,
        )?;
        parts.caller_gate.set_enabled(new.enabled);
        Ok(())
    }

    /// The sinks after the reload: those set in code, then the configuration's, each kept open
    /// when its destination stays (a changed option waits for a restart) or opened anew.
    fn sinks(
        &self,
        old: &Config,
        new: &Config,
        configured: Vec<ConfiguredSink>,
        service: &ServiceInfo,
        change: &mut Change,
    ) -> Result<Vec<SinkSlot>, ReloadError> {
        let parts = &self.inner.parts;
        let mut sinks: Vec<SinkSlot> = (0..parts.code_sinks).map(SinkSlot::Keep).collect();
        for ((index, sink), configured) in new.sinks.iter().enumerate().zip(configured) {
            match old.sinks.iter().position(|o| same_destination(o, sink)) {
                Some(at) => {
                    if &old.sinks[at] != sink {
                        change
                            .restart_required
                            .push(format!("sinks[{index}] options"));
                    }
                    sinks.push(SinkSlot::Keep(parts.code_sinks + at));
                }
                None => {
                    let opened = configured.open(&parts.clock, service, parts.report_errors)?;
                    if let Some(path) = opened.torn_file {
                        change.after.push(torn_line_notice(
                            &path,
                            parts.report_errors,
                            parts.clock.now(),
                        ));
                    }
                    sinks.push(SinkSlot::Open(opened.sink));
                }
            }
        }
        Ok(sinks)
    }

    /// The notification set-up, after the configuration's sinks: kept while its sections stay
    /// the same, otherwise replaced (throttles and detections start anew).
    #[cfg(feature = "notify")]
    fn notifications(
        &self,
        old: &Config,
        new: &Config,
        configured: Option<crate::notify::NotifyConfig>,
    ) -> Result<Option<SinkSlot>, ReloadError> {
        let parts = &self.inner.parts;
        let same = old.transports == new.transports
            && old.notifications == new.notifications
            && old.detections == new.detections
            && old.fleet_detections == new.fleet_detections;
        if same && old.has_notifications() {
            return Ok(Some(SinkSlot::Keep(parts.code_sinks + old.sinks.len())));
        }
        let Some(notifications) = configured else {
            return Ok(None);
        };
        let link = crate::notify::LogLink::default();
        link.connect(crate::LogHandle::new(
            parts.pipeline.clone(),
            parts.clock.clone(),
        ));
        let sink = notifications.start(link).map_err(BuildError::from)?;
        Ok(Some(SinkSlot::Open(Box::new(sink))))
    }

    /// The records that tell of the reload: `audit.disabled` written before it, then
    /// `audit.enabled` and `audit.config_changed` (with what waits for a restart) after it.
    fn notices(
        &self,
        old: &Config,
        new: &Config,
        mut change: Change,
    ) -> (Vec<CapturedEvent>, Vec<CapturedEvent>) {
        let mut before = Vec::new();
        if old.enabled && !new.enabled {
            before.push(self.notice(SecurityEvent::AuditDisabled, Vec::new()));
        }
        if !old.enabled && new.enabled {
            change
                .after
                .push(self.notice(SecurityEvent::AuditEnabled, Vec::new()));
        }
        let changes = diff(old, new);
        if !changes.is_empty() {
            let mut fields = vec![("changes", FieldValue::Str(changes.to_string()))];
            if !change.restart_required.is_empty() {
                let text = change.restart_required.join(", ");
                fields.push(("restart_required", FieldValue::Str(text)));
            }
            change
                .after
                .push(self.notice(SecurityEvent::AuditConfigChanged, fields));
        }
        (before, change.after)
    }

    fn notice(
        &self,
        event: SecurityEvent,
        fields: Vec<(&'static str, FieldValue)>,
    ) -> CapturedEvent {
        let mut notice =
            CapturedEvent::notice(event.info(), Vec::new(), self.inner.parts.clock.now());
        for (name, value) in fields {
            if name == "changes" {
                notice.own.changes = Some(value.to_text());
            } else {
                notice.own.extra.push((name, value));
            }
        }
        notice
    }

    /// A refused reload is written down too, and said on stderr.
    fn report_rejection(&self, err: &ReloadError) {
        crate::report::report_line(
            self.inner.parts.report_errors,
            format_args!("configuration reload refused: {err}"),
        );
        let notice = CapturedEvent::notice(
            SecurityEvent::AuditConfigChanged.info(),
            Vec::new(),
            self.inner.parts.clock.now(),
        )
        .with_outcome(Outcome::Failure, format!("reload refused: {err}"));
        self.inner.parts.pipeline.submit(notice);
    }

    /// Reloads `path` whenever its content changes, checking every `every`, until the returned
    /// watcher is dropped.
    pub fn watch_file(&self, path: impl Into<PathBuf>, every: Duration) -> FileWatcher {
        let path = path.into();
        let stop = Arc::new(AtomicBool::new(false));
        let handle = self.clone();
        // Read before the thread starts, so that an edit made right after this call is a change.
        let mut seen = std::fs::read(&path).ok();
        let thread = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("security-config-watch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(every);
                        let now = std::fs::read(&path).ok();
                        if now.is_some() && now != seen {
                            seen = now;
                            // A refusal is already reported and audited.
                            let _ = handle.reload_from_file(&path);
                        }
                    }
                })
                .ok()
        };
        FileWatcher { stop, thread }
    }

    /// On every SIGHUP, reopens the log files (for `logrotate`) and reloads `path`, until the
    /// returned listener is dropped.
    #[cfg(unix)]
    pub fn reload_on_sighup(
        &self,
        path: impl Into<PathBuf>,
        guard: &FlushGuard,
    ) -> std::io::Result<SighupListener> {
        use signal_hook::consts::SIGHUP;
        use signal_hook::iterator::Signals;

        let path = path.into();
        let mut signals = Signals::new([SIGHUP])?;
        let close = signals.handle();
        let handle = self.clone();
        let reopen = guard.reopen_handle();
        let thread = std::thread::Builder::new()
            .name("security-sighup".into())
            .spawn(move || {
                for _ in signals.forever() {
                    let _ = reopen.reopen();
                    let _ = handle.reload_from_file(&path);
                }
            })?;
        Ok(SighupListener {
            close,
            thread: Some(thread),
        })
    }
}

fn lock(state: &Mutex<Config>) -> std::sync::MutexGuard<'_, Config> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Two sink entries write to the same place: the same file, or both stdout.
fn same_destination(a: &SinkConfig, b: &SinkConfig) -> bool {
    match (a, b) {
        (SinkConfig::File(a), SinkConfig::File(b)) => a.path == b.path,
        (SinkConfig::Stdout(_), SinkConfig::Stdout(_)) => true,
        (SinkConfig::Otlp(a), SinkConfig::Otlp(b)) => a == b,
        (SinkConfig::Http(a), SinkConfig::Http(b)) => (&a.url, a.protocol) == (&b.url, b.protocol),
        (SinkConfig::Syslog(a), SinkConfig::Syslog(b)) => {
            (&a.address, a.transport) == (&b.address, b.transport)
        }
        _ => false,
    }
}

/// What changed, section by section (`enabled` has records of its own).
fn diff(old: &Config, new: &Config) -> Changes {
    fn section(
        changes: Changes,
        name: &str,
        old: &impl Serialize,
        new: &impl Serialize,
    ) -> Changes {
        let (old, new) = (
            serde_json::to_value(old).ok(),
            serde_json::to_value(new).ok(),
        );
        if old == new {
            changes
        } else {
            changes.field(name, old, new)
        }
    }
    let changes = section(Changes::new(), "service", &old.service, &new.service);
    let changes = section(changes, "queue", &old.queue, &new.queue);
    let changes = section(changes, "sinks", &old.sinks, &new.sinks);
    let changes = section(changes, "filter", &old.filter, &new.filter);
    let changes = section(changes, "redaction", &old.redaction, &new.redaction);
    let changes = section(
        changes,
        "transports",
        &transports_shown(&old.transports),
        &transports_shown(&new.transports),
    );
    let changes = section(
        changes,
        "notifications",
        &old.notifications,
        &new.notifications,
    );
    let changes = section(changes, "detections", &old.detections, &new.detections);
    section(
        changes,
        "fleet_detections",
        &old.fleet_detections,
        &new.fleet_detections,
    )
}

/// The transports as the diff shows them: a webhook's URL as its scheme and host (Slack's and
/// others' carry a token in the path) and header values masked, whatever the file holds.
fn transports_shown(transports: &[super::TransportConfig]) -> serde_json::Value {
    let mut shown = serde_json::to_value(transports).unwrap_or_default();
    for transport in shown.as_array_mut().into_iter().flatten() {
        if let Some(url) = transport.get_mut("url") {
            if let Some(text) = url.as_str() {
                let end = text
                    .find("://")
                    .and_then(|at| text[at + 3..].find('/').map(|slash| at + 3 + slash))
                    .unwrap_or(text.len());
                *url = serde_json::Value::String(format!("{}/…", &text[..end]));
            }
        }
        if let Some(headers) = transport.get_mut("headers").and_then(|h| h.as_object_mut()) {
            for value in headers.values_mut() {
                *value = serde_json::Value::String("***".to_owned());
            }
        }
    }
    shown
}

/// Watches a configuration file; stops when dropped.
#[derive(Debug)]
pub struct FileWatcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for FileWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Listens for SIGHUP; stops when dropped.
#[cfg(unix)]
pub struct SighupListener {
    close: signal_hook::iterator::Handle,
    thread: Option<JoinHandle<()>>,
}

#[cfg(unix)]
impl std::fmt::Debug for SighupListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SighupListener").finish_non_exhaustive()
    }
}

#[cfg(unix)]
impl Drop for SighupListener {
    fn drop(&mut self) {
        self.close.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
/// What a reload gathers while it applies: settings that wait for a restart, and the records
/// to write under the new settings.
#[derive(Default)]
struct Change {
    restart_required: Vec<String>,
    after: Vec<CapturedEvent>,
}
