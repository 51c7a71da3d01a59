//! The settings a configuration can change while the service runs: whether the log is on,
//! which events pass, how secrets are redacted, the service's identity and the configured sinks.
//! The builder consumes them at start-up (the defaults when there is no configuration); a
//! reload swaps them.

use crate::gate::EventFilter;
use crate::record::ServiceInfo;
use crate::redact::RedactionSettings;
use crate::sink::{ConfiguredSink, FsyncPolicy, SinkSpec};

/// A configuration's run-time part, checked and with its key files read.
#[derive(Debug)]
pub(crate) struct RuntimeSettings {
    pub(crate) enabled: bool,
    pub(crate) filter: EventFilter,
    pub(crate) redaction: RedactionSettings,
    /// The identity the code's completes.
    pub(crate) service: ServiceInfo,
    /// After the code's sinks, in the configuration's order.
    pub(crate) sinks: Vec<ConfiguredSink>,
    /// The configuration's notifications, not started yet.
    #[cfg(feature = "notify")]
    pub(crate) notify: Option<crate::notify::NotifyConfig>,
}

impl Default for RuntimeSettings {
    /// Without a configuration: on, every event, the default redaction, no sinks of its own.
    fn default() -> Self {
        RuntimeSettings {
            enabled: true,
            filter: EventFilter::default(),
            redaction: RedactionSettings::default(),
            service: ServiceInfo::default(),
            sinks: Vec::new(),
            #[cfg(feature = "notify")]
            notify: None,
        }
    }
}

impl RuntimeSettings {
    /// Whether a configured file syncs after every batch (so callers wait for their record).
    pub(crate) fn fsync_always(&self) -> bool {
        self.sinks.iter().any(|configured| {
            matches!(&configured.spec, SinkSpec::File(file) if file.fsync == FsyncPolicy::Always)
        })
    }
}
