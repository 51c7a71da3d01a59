//! The settings of a batched HTTP sink.

use std::path::PathBuf;
use std::time::Duration;

use crate::forms::OutputForm;
use crate::sink::SpoolConfig;

/// What the receiver speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpProtocol {
    /// A POST of newline-delimited JSON, one record per line, to the URL as given.
    Ndjson,
    /// Splunk's HTTP Event Collector: `POST <url>/services/collector/event` with
    /// `Authorization: Splunk <token>`, one event envelope per record.
    SplunkHec {
        /// The HEC token.
        token: String,
        /// The index (the token's default without one).
        index: Option<String>,
        /// The sourcetype (default `_json`).
        sourcetype: String,
        /// Wait for indexer acknowledgement (`/services/collector/ack`) before a batch counts
        /// as delivered; needs a channel, which the sink makes.
        acknowledgement: bool,
    },
    /// Elasticsearch or OpenSearch `_bulk`: a `create` action per record with `_id` = the
    /// record's id, so a batch sent again writes nothing twice.
    ElasticBulk {
        /// The index (or data stream).
        index: String,
    },
}

/// A batched HTTP sink.
///
/// ```
/// use std::time::Duration;
/// use tracing_security_events::forms::OutputForm;
/// use tracing_security_events::sink::http_batch::HttpBatchConfig;
///
/// let elastic = HttpBatchConfig::elasticsearch("https://es.example.net:9200", "security-events")
///     .with_header("Authorization", "ApiKey ...")
///     .in_form(OutputForm::Ecs);
/// let splunk = HttpBatchConfig::splunk_hec("https://splunk.example.net:8088", "0000-token")
///     .with_indexer_acknowledgement(true)
///     .with_linger(Duration::from_millis(500));
/// let builder = tracing_security_events::builder()
///     .with_http_batch(elastic)
///     .with_http_batch(splunk);
/// # let _ = builder;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpBatchConfig {
    pub(crate) url: String,
    pub(crate) protocol: HttpProtocol,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) form: OutputForm,
    pub(crate) max_records: usize,
    pub(crate) max_bytes: usize,
    pub(crate) linger: Duration,
    pub(crate) gzip: bool,
    pub(crate) timeout: Duration,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) spool: SpoolConfig,
    pub(crate) report_errors: bool,
}

impl HttpBatchConfig {
    /// Records per request, at most, by default.
    pub const DEFAULT_MAX_RECORDS: usize = 500;
    /// Bytes per request (before compression), at most, by default: 1 MiB.
    pub const DEFAULT_MAX_BYTES: usize = 1 << 20;
    /// How long a batch may wait to fill, by default.
    pub const DEFAULT_LINGER: Duration = Duration::from_millis(200);

    fn new(url: impl Into<String>, protocol: HttpProtocol) -> Self {
        HttpBatchConfig {
            url: url.into().trim_end_matches('/').to_owned(),
            protocol,
            headers: Vec::new(),
            form: OutputForm::Native,
            max_records: Self::DEFAULT_MAX_RECORDS,
            max_bytes: Self::DEFAULT_MAX_BYTES,
            linger: Self::DEFAULT_LINGER,
            gzip: false,
            timeout: Duration::from_secs(10),
            ca_file: None,
            spool: SpoolConfig::new(),
            report_errors: true,
        }
    }

    /// NDJSON POSTed to `url`.
    pub fn ndjson(url: impl Into<String>) -> Self {
        HttpBatchConfig::new(url, HttpProtocol::Ndjson)
    }

    /// Splunk HEC at `url` (`https://splunk:8088`) with `token`.
    pub fn splunk_hec(url: impl Into<String>, token: impl Into<String>) -> Self {
        HttpBatchConfig::new(
            url,
            HttpProtocol::SplunkHec {
                token: token.into(),
                index: None,
                sourcetype: "_json".to_owned(),
                acknowledgement: false,
            },
        )
    }

    /// Elasticsearch or OpenSearch `_bulk` at `url` (`https://es:9200`) into `index`.
    pub fn elasticsearch(url: impl Into<String>, index: impl Into<String>) -> Self {
        HttpBatchConfig::new(
            url,
            HttpProtocol::ElasticBulk {
                index: index.into(),
            },
        )
    }

    /// Sends `name: value` with every request (an API key, a basic authorization).
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The records in `form` (default native).
    #[must_use]
    pub fn in_form(mut self, form: OutputForm) -> Self {
        self.form = form;
        self
    }

    /// Records per request, at most.
    #[must_use]
    pub fn with_max_records(mut self, records: usize) -> Self {
        self.max_records = records.max(1);
        self
    }

    /// Bytes per request before compression, at most (a larger record goes alone).
    #[must_use]
    pub fn with_max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes.max(1);
        self
    }

    /// How long a batch waits to fill before a smaller one is sent.
    #[must_use]
    pub fn with_linger(mut self, linger: Duration) -> Self {
        self.linger = linger;
        self
    }

    /// Compresses request bodies with gzip (`Content-Encoding: gzip`).
    #[must_use]
    pub fn with_gzip(mut self, gzip: bool) -> Self {
        self.gzip = gzip;
        self
    }

    /// How long one request may take.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Trusts the CA in `path` (PEM) as well as the system's roots.
    #[must_use]
    pub fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// What the sink holds while the receiver is away (memory, then spool files).
    #[must_use]
    pub fn with_spool(mut self, spool: SpoolConfig) -> Self {
        self.spool = spool;
        self
    }

    /// Splunk HEC: wait for indexer acknowledgement.
    #[must_use]
    pub fn with_indexer_acknowledgement(mut self, on: bool) -> Self {
        if let HttpProtocol::SplunkHec {
            acknowledgement, ..
        } = &mut self.protocol
        {
            *acknowledgement = on;
        }
        self
    }

    /// Splunk HEC: the index.
    #[must_use]
    pub fn with_hec_index(mut self, name: impl Into<String>) -> Self {
        if let HttpProtocol::SplunkHec { index, .. } = &mut self.protocol {
            *index = Some(name.into());
        }
        self
    }

    /// Splunk HEC: the sourcetype.
    #[must_use]
    pub fn with_sourcetype(mut self, name: impl Into<String>) -> Self {
        if let HttpProtocol::SplunkHec { sourcetype, .. } = &mut self.protocol {
            *sourcetype = name.into();
        }
        self
    }

    pub(crate) fn report_errors(mut self, report: bool) -> Self {
        self.report_errors = report;
        self
    }

    /// The receiver's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The protocol.
    pub fn protocol(&self) -> &HttpProtocol {
        &self.protocol
    }
}
