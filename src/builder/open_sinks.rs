//! Opening a build's sinks, in the order a reload relies on: the sinks set in code, the
//! notification rules set in code, the configuration's sinks, then the configuration's rules.

use super::Builder;
use crate::capture::{torn_line_notice, CapturedEvent};
use crate::record::ServiceInfo;
use crate::sink::{ConfiguredSink, OpenedSink, Sink, SinkSpec};
use crate::BuildError;

/// The sinks a build opened, and what it must do once the log runs.
pub(super) struct OpenedSinks {
    pub(super) sinks: Vec<Box<dyn Sink>>,
    /// Notices of the lines a crash left torn, written first.
    pub(super) crash_notices: Vec<CapturedEvent>,
    /// The notification rules' links to the log, connected once it runs.
    #[cfg(feature = "notify")]
    pub(super) notify_links: Vec<crate::notify::LogLink>,
    /// How many sinks come from code: a reload keeps them and replaces the rest.
    #[cfg(feature = "config")]
    pub(super) code_sinks: usize,
}

impl Builder {
    /// Opens the sinks set in code (taking them from the builder) and the configuration's.
    pub(super) fn open_sinks(
        &mut self,
        configured: Vec<ConfiguredSink>,
        #[cfg(feature = "notify")] configured_notify: Option<crate::notify::NotifyConfig>,
        service: &ServiceInfo,
    ) -> Result<OpenedSinks, BuildError> {
        let mut code_specs: Vec<SinkSpec> = std::mem::take(&mut self.files)
            .into_iter()
            .map(SinkSpec::File)
            .collect();
        if let Some(form) = self.stdout {
            code_specs.push(SinkSpec::Stdout(form));
        }
        #[cfg(feature = "otlp")]
        code_specs.extend(
            std::mem::take(&mut self.otlp)
                .into_iter()
                .map(SinkSpec::Otlp),
        );
        #[cfg(feature = "http-batch")]
        code_specs.extend(
            std::mem::take(&mut self.http_batch)
                .into_iter()
                .map(SinkSpec::HttpBatch),
        );
        #[cfg(feature = "syslog")]
        code_specs.extend(
            std::mem::take(&mut self.syslog)
                .into_iter()
                .map(SinkSpec::Syslog),
        );
        #[cfg(feature = "postgres")]
        code_specs.extend(
            std::mem::take(&mut self.postgres)
                .into_iter()
                .map(SinkSpec::Postgres),
        );
        let mut opened = OpenedSinks {
            sinks: Vec::with_capacity(code_specs.len() + self.sinks.len() + configured.len()),
            crash_notices: Vec::new(),
            #[cfg(feature = "notify")]
            notify_links: Vec::new(),
            #[cfg(feature = "config")]
            code_sinks: 0,
        };
        for spec in code_specs {
            self.take(
                &mut opened,
                spec.open(&self.clock, service, self.report_errors)?,
            );
        }
        opened.sinks.append(&mut self.sinks);
        // The rules read what every other sink writes; their records reach the log through
        // the link once it runs.
        #[cfg(feature = "notify")]
        for notifications in std::mem::take(&mut self.notify) {
            opened.start_notifications(notifications)?;
        }
        #[cfg(feature = "config")]
        {
            opened.code_sinks = opened.sinks.len();
        }
        for sink in configured {
            self.take(
                &mut opened,
                sink.open(&self.clock, service, self.report_errors)?,
            );
        }
        // After the configuration's sinks, where a reload finds it.
        #[cfg(feature = "notify")]
        if let Some(notifications) = configured_notify {
            opened.start_notifications(notifications)?;
        }
        if opened.sinks.is_empty() {
            #[cfg(feature = "config")]
            if let Some(config) = &self.config {
                return Err(BuildError::Config(config.no_sink_error()));
            }
            return Err(BuildError::NoSink);
        }
        Ok(opened)
    }

    /// Keeps an opened sink, and the notice of a torn line it found.
    fn take(&self, opened: &mut OpenedSinks, sink: OpenedSink) {
        if let Some(path) = sink.torn_file {
            opened.crash_notices.push(torn_line_notice(
                &path,
                self.report_errors,
                self.clock.now(),
            ));
        }
        opened.sinks.push(sink.sink);
    }
}

impl OpenedSinks {
    /// Starts a set of notification rules as a sink, linked to the log once it runs.
    #[cfg(feature = "notify")]
    fn start_notifications(
        &mut self,
        notifications: crate::notify::NotifyConfig,
    ) -> Result<(), BuildError> {
        let link = crate::notify::LogLink::default();
        self.sinks
            .push(Box::new(notifications.start(link.clone())?));
        self.notify_links.push(link);
        Ok(())
    }
}
