//! Helpers shared by the integration tests: a security log in a temporary directory, driven
//! through the public API, read back from the real file.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use sha2::{Digest, Sha256};
use tracing_security_events::{Builder, Stats};
use tracing_subscriber::prelude::*;

/// A temporary directory holding `security.jsonl`.
pub struct TempLog {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl TempLog {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("security.jsonl");
        TempLog { dir, path }
    }

    /// A builder writing to this log, with a fixed service identity.
    pub fn builder(&self) -> Builder {
        tracing_security_events::builder()
            .with_file(&self.path)
            .with_service_name("tests")
            .with_service_instance("test-host")
    }

    pub fn records(&self) -> Vec<Value> {
        read_records(&self.path)
    }
}

/// Runs `body` with a subscriber holding only the security layer built from `builder`, shuts the
/// log down, and returns the records of `log` and the final counters.
pub fn run(log: &TempLog, builder: Builder, body: impl FnOnce()) -> (Vec<Value>, Stats) {
    let (layer, guard) = builder.build().expect("build the security layer");
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, body);
    let stats = guard.shutdown().expect("shutdown flushes everything");
    (log.records(), stats)
}

/// Records of `body` with default settings.
pub fn capture(body: impl FnOnce()) -> Vec<Value> {
    let log = TempLog::new();
    let builder = log.builder();
    run(&log, builder, body).0
}

/// Every line of the file, each parsed as one JSON record; panics on a line that does not parse.
pub fn read_records(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("read the log file");
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "the file ends mid-line"
    );
    text.lines()
        .enumerate()
        .map(|(n, line)| {
            serde_json::from_str(line).unwrap_or_else(|err| {
                panic!("line {} is not a JSON record ({err}): {line:?}", n + 1)
            })
        })
        .collect()
}

/// The records of event `name`.
pub fn by_name<'a>(records: &'a [Value], name: &str) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| r["event"]["name"] == name)
        .collect()
}

/// The keys of a JSON object, in the order written.
pub fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// Collects what a fmt layer writes (`.with_writer(move || buffer.clone())`).
#[derive(Clone, Default)]
pub struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).expect("UTF-8 output")
    }
}

impl std::io::Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The attacker's (and the documentation's) view of a seal: SHA-256 of prev, LF, the record.
pub fn split(line: &str) -> (String, String) {
    let at = line.rfind(",\"integrity\":").expect("a sealed line");
    let record = format!("{}}}", &line[..at]);
    let prev = line[at..].split("\"prev\":\"").nth(1).unwrap()[..64].to_owned();
    (record, prev)
}

pub fn hash_of(line: &str) -> String {
    line.rsplit("\"hash\":\"").next().unwrap()[..64].to_owned()
}

pub fn forge(record: &str, prev: &str) -> String {
    let digest = Sha256::digest(format!("{prev}\n{record}").as_bytes());
    let hash: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{},\"integrity\":{{\"prev\":\"{prev}\",\"hash\":\"{hash}\"}}}}",
        &record[..record.len() - 1]
    )
}

/// The lines of a file, without their line feeds.
pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Writes `lines` as the file, each with its line feed (none at all: an empty file).
pub fn write_lines(path: &Path, lines: &[String]) {
    let text = if lines.is_empty() {
        String::new()
    } else {
        lines.join("\n") + "\n"
    };
    std::fs::write(path, text).unwrap();
}
