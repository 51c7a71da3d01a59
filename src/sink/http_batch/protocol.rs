//! Each protocol's request and the reading of its answer: NDJSON, Splunk HEC (with indexer
//! acknowledgement), Elasticsearch `_bulk` (per-item results).

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::config::{HttpBatchConfig, HttpProtocol};
use crate::sink::delivery::DeliveryCounters;

/// How long a HEC batch waits for its indexer acknowledgement before it is sent again.
const ACK_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a request failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The receiver refuses what the records hold (sending them again would not change it).
    Data(String),
    /// Anything else (the connection, the server, the token): sent again after a back-off.
    Other(String),
}

/// One record as queued: its id and its payload (the line, or HEC's envelope), without the
/// line feed.
pub(crate) struct Item<'a> {
    pub(crate) id: &'a str,
    pub(crate) payload: &'a [u8],
}

/// Sends requests for one sink.
pub(crate) struct Sender {
    client: reqwest::blocking::Client,
    config: HttpBatchConfig,
    /// HEC's channel, for indexer acknowledgement.
    channel: String,
}

impl Sender {
    pub(crate) fn new(config: HttpBatchConfig) -> std::io::Result<Self> {
        let mut builder = reqwest::blocking::Client::builder().timeout(config.timeout);
        if let Some(ca) = &config.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", ca.display())))?;
            let certificate = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| std::io::Error::other(format!("{}: {e}", ca.display())))?;
            builder = builder.add_root_certificate(certificate);
        }
        let client = builder
            .build()
            .map_err(|e| std::io::Error::other(format!("the HTTP client: {e}")))?;
        Ok(Sender {
            client,
            config,
            channel: uuid::Uuid::new_v4().to_string(),
        })
    }

    /// Sends `items` in one request; how many the receiver took.
    pub(crate) fn send(
        &self,
        items: &[Item<'_>],
        counters: &DeliveryCounters,
    ) -> Result<u64, Failure> {
        match &self.config.protocol {
            HttpProtocol::Ndjson => {
                let body = lines(items.iter().map(|item| item.payload));
                let response = self.post(&self.config.url, body, &[])?;
                status_only(response).map(|()| items.len() as u64)
            }
            HttpProtocol::SplunkHec {
                token,
                acknowledgement,
                ..
            } => self.hec(items, token, *acknowledgement),
            HttpProtocol::ElasticBulk { index } => self.bulk(items, index, counters),
        }
    }

    fn post(
        &self,
        url: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Result<reqwest::blocking::Response, Failure> {
        let mut request = self.client.post(url);
        for (name, value) in &self.config.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = if self.config.gzip {
            request = request.header("Content-Encoding", "gzip");
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder
                .write_all(&body)
                .and_then(|()| encoder.finish())
                .map_err(|e| Failure::Other(format!("gzip: {e}")))?
        } else {
            body
        };
        request
            .header("Content-Type", "application/x-ndjson")
            .body(body)
            .send()
            .map_err(|e| Failure::Other(format!("{url}: {e}")))
    }

    fn hec(&self, items: &[Item<'_>], token: &str, acknowledgement: bool) -> Result<u64, Failure> {
        let authorization = format!("Splunk {token}");
        let mut headers = vec![("Authorization", authorization.as_str())];
        if acknowledgement {
            headers.push(("X-Splunk-Request-Channel", self.channel.as_str()));
        }
        let url = format!("{}/services/collector/event", self.config.url);
        let body = lines(items.iter().map(|item| item.payload));
        let response = self.post(&url, body, &headers)?;
        let status = response.status();
        let answer = json_of(response).unwrap_or(Value::Null);
        // HEC's codes: 5 no data, 6 invalid data format, 12 event field required, 13 event
        // field blank: the data; 2-4 the token, 9 busy, 10 ... : not the data.
        let code = answer.get("code").and_then(Value::as_u64);
        if !status.is_success() || code != Some(0) {
            let text = answer.get("text").and_then(Value::as_str).unwrap_or("");
            let why = format!("HEC answered {status} (code {code:?}: {text})");
            return Err(match code {
                Some(5 | 6 | 12 | 13) => Failure::Data(why),
                _ if status == reqwest::StatusCode::PAYLOAD_TOO_LARGE => Failure::Data(why),
                _ => Failure::Other(why),
            });
        }
        if acknowledgement {
            let ack = answer.get("ackId").and_then(Value::as_u64).ok_or_else(|| {
                Failure::Other(
                    "HEC gave no ackId: is indexer acknowledgement on for this token?".to_owned(),
                )
            })?;
            self.wait_for_ack(ack, &headers)?;
        }
        Ok(items.len() as u64)
    }

    /// Polls `/services/collector/ack` until `ack` is acknowledged.
    fn wait_for_ack(&self, ack: u64, headers: &[(&str, &str)]) -> Result<(), Failure> {
        let url = format!("{}/services/collector/ack", self.config.url);
        let deadline = Instant::now() + ACK_TIMEOUT;
        let mut pause = Duration::from_millis(50);
        loop {
            let body = format!("{{\"acks\":[{ack}]}}").into_bytes();
            let response = self.post(&url, body, headers)?;
            if response.status().is_success() {
                let answer = json_of(response).unwrap_or(Value::Null);
                if answer.pointer(&format!("/acks/{ack}")) == Some(&Value::Bool(true)) {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(Failure::Other(format!(
                    "HEC did not acknowledge ackId {ack} within {ACK_TIMEOUT:?}: sent again"
                )));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }

    fn bulk(
        &self,
        items: &[Item<'_>],
        index: &str,
        counters: &DeliveryCounters,
    ) -> Result<u64, Failure> {
        let mut body = Vec::with_capacity(items.iter().map(|i| i.payload.len() + 100).sum());
        for item in items {
            let action = serde_json::json!({"create": {"_index": index, "_id": item.id}});
            // Writing to a Vec cannot fail.
            let _ = serde_json::to_writer(&mut body, &action);
            body.push(b'\n');
            body.extend_from_slice(item.payload);
            body.push(b'\n');
        }
        let url = format!("{}/_bulk", self.config.url);
        let response = self.post(&url, body, &[])?;
        let status = response.status();
        if status == reqwest::StatusCode::PAYLOAD_TOO_LARGE {
            return Err(Failure::Data(format!("_bulk answered {status}")));
        }
        if !status.is_success() {
            let text = response.text().unwrap_or_default();
            return Err(Failure::Other(format!(
                "_bulk answered {status}: {}",
                cut(&text)
            )));
        }
        let answer = json_of(response)
            .map_err(|e| Failure::Other(format!("_bulk's answer is not JSON: {e}")))?;
        let results = answer
            .get("items")
            .and_then(Value::as_array)
            .filter(|results| results.len() == items.len())
            .ok_or_else(|| {
                Failure::Other(format!(
                    "_bulk answered {} items for {} actions",
                    answer
                        .get("items")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len),
                    items.len()
                ))
            })?;
        let (mut delivered, mut retry) = (0, 0);
        for (item, result) in items.iter().zip(results) {
            let result = result.get("create").unwrap_or(result);
            match result.get("status").and_then(Value::as_u64).unwrap_or(0) {
                // Created, or there already: a batch sent again writes nothing twice.
                200 | 201 | 409 => delivered += 1,
                429 | 500..=599 => retry += 1,
                status => {
                    let error = result.get("error");
                    let kind = error
                        .and_then(|e| e.get("type"))
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let reason = error
                        .and_then(|e| e.get("reason"))
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    counters.refuse(format!(
                        "the index refused record {} ({status} {kind}: {})",
                        item.id,
                        cut(reason)
                    ));
                }
            }
        }
        if retry > 0 {
            // Sent again whole: what was created answers 409 then.
            return Err(Failure::Other(format!(
                "_bulk could not take {retry} of {} records now (429 or 5xx)",
                items.len()
            )));
        }
        Ok(delivered)
    }
}

/// Whether the answer is a success; a 400, 413 or 422 refuses the data.
fn status_only(response: reqwest::blocking::Response) -> Result<(), Failure> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let text = response.text().unwrap_or_default();
    let why = format!("answered {status}: {}", cut(&text));
    Err(match status.as_u16() {
        400 | 413 | 422 => Failure::Data(why),
        _ => Failure::Other(why),
    })
}

/// The body of `response` as JSON.
fn json_of(response: reqwest::blocking::Response) -> Result<Value, String> {
    let body = response.bytes().map_err(|e| e.to_string())?;
    serde_json::from_slice(&body).map_err(|e| e.to_string())
}

/// `payloads`, each followed by a line feed.
fn lines<'a>(payloads: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut body = Vec::new();
    for payload in payloads {
        body.extend_from_slice(payload);
        body.push(b'\n');
    }
    body
}

/// At most 300 characters of a receiver's text, for messages.
fn cut(text: &str) -> &str {
    match text.char_indices().nth(300) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}
