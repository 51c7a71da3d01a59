//! The batched HTTP sink against receivers that check each protocol's contract (no Splunk or
//! Elasticsearch can run here; `common/http_receivers.rs` checks what the real servers
//! check): every record arrives once, in order, compressed when asked; a receiver that is
//! down for a while loses nothing; HEC's indexer acknowledgement is polled; `_bulk`'s
//! per-item errors are retried or recorded, and a batch sent again writes nothing twice.
#![cfg(feature = "http-batch")]

mod common;

#[path = "common/http_receivers.rs"]
mod receivers;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{read_records, TempLog};
use receivers::{Seen, Shared, TOKEN};
use serde_json::Value;
use tracing_security_events::forms::OutputForm;
use tracing_security_events::sink::http_batch::HttpBatchConfig;
use tracing_security_events::FlushGuard;
use tracing_subscriber::prelude::*;

fn receiver(configure: impl FnOnce(&mut Seen)) -> (SocketAddr, Shared) {
    let seen = Shared::default();
    configure(&mut seen.lock().unwrap());
    (
        receivers::start("127.0.0.1:0".parse().unwrap(), seen.clone()),
        seen,
    )
}

fn with_log(log: &TempLog, http: HttpBatchConfig, body: impl FnOnce(&FlushGuard)) {
    let (layer, guard) = log.builder().with_http_batch(http).build().expect("build");
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || body(&guard));
    let _ = guard.shutdown();
}

fn emit(from: u64, count: u64) {
    for i in from..from + count {
        tracing::info!(
            security_event = "data.sensitive_read",
            target.id = i,
            actor.id = "42"
        );
    }
}

/// Waits until `done` holds of what the receiver saw (or 20 s).
fn wait_until(seen: &Shared, done: impl Fn(&Seen) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(&seen.lock().unwrap()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The ids of the records the file holds that are not the log's own, in order.
fn written_ids(log: &TempLog) -> Vec<String> {
    read_records(&log.path)
        .iter()
        .filter(|r| r["event"]["name"] == "data.sensitive_read")
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn assert_no_violations(seen: &Shared) {
    let seen = seen.lock().unwrap();
    assert!(seen.violations.is_empty(), "{:#?}", seen.violations);
}

#[test]
fn ndjson_batches_arrive_whole_once_in_order_compressed() {
    let (addr, seen) = receiver(|_| {});
    let log = TempLog::new();
    let http = HttpBatchConfig::ndjson(format!("http://{addr}/ndjson"))
        .with_gzip(true)
        .with_max_records(100);
    with_log(&log, http, |_| {
        emit(0, 1000);
        wait_until(&seen, |s| s.lines.len() >= 1000);
    });
    assert_no_violations(&seen);
    let seen = seen.lock().unwrap();
    let ids: Vec<String> = seen
        .lines
        .iter()
        .filter(|r| r["event"]["name"] == "data.sensitive_read")
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, written_ids(&log));
    assert!(seen.batches.iter().all(|&n| n <= 100), "{:?}", seen.batches);
    assert!(seen.batches.len() >= 10);
    assert_eq!(seen.gzip_requests, seen.batches.len());
}

#[test]
fn a_receiver_down_for_a_while_loses_nothing_and_gets_nothing_twice() {
    let (addr, seen) = receiver(|seen| seen.refuse_first = 4);
    let log = TempLog::new();
    let http = HttpBatchConfig::ndjson(format!("http://{addr}/ndjson")).with_max_records(50);
    with_log(&log, http, |_| {
        emit(0, 300);
        wait_until(&seen, |s| s.lines.len() >= 300);
    });
    assert_no_violations(&seen);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.refused, 4);
    let ids: Vec<String> = seen
        .lines
        .iter()
        .filter(|r| r["event"]["name"] == "data.sensitive_read")
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, written_ids(&log));
}

#[test]
fn a_receiver_that_starts_late_gets_everything() {
    // A port nobody listens on yet: connections are refused until the receiver starts.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let seen = Shared::default();
    let log = TempLog::new();
    let http = HttpBatchConfig::elasticsearch(format!("http://{addr}"), "security");
    with_log(&log, http, |_| {
        emit(0, 200);
        std::thread::sleep(Duration::from_millis(700));
        receivers::start(addr, seen.clone());
        wait_until(&seen, |s| s.documents.len() >= 200);
    });
    assert_no_violations(&seen);
    let seen = seen.lock().unwrap();
    let written = written_ids(&log);
    let stored: Vec<&str> = seen
        .documents
        .iter()
        .map(|(id, _)| id.as_str())
        .filter(|id| written.iter().any(|w| w == id))
        .collect();
    assert_eq!(stored, written);
}

#[test]
fn splunk_hec_with_indexer_acknowledgement() {
    let (addr, seen) = receiver(|_| {});
    let log = TempLog::new();
    let http = HttpBatchConfig::splunk_hec(format!("http://{addr}"), TOKEN)
        .with_indexer_acknowledgement(true)
        .with_hec_index("security")
        .in_form(OutputForm::Ecs);
    with_log(&log, http, |guard| {
        emit(0, 120);
        // A flush returns once HEC has acknowledged every batch.
        guard.flush().expect("acknowledged");
    });
    assert_no_violations(&seen);
    let seen = seen.lock().unwrap();
    let ids: Vec<String> = seen
        .events
        .iter()
        .filter(|e| e["event"]["event"]["action"] == "data.sensitive_read")
        .map(|e| e["event"]["event"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, written_ids(&log));
    let first = &seen.events[0];
    assert_eq!(first["index"], "security");
    assert_eq!(first["sourcetype"], "_json");
    assert_eq!(first["host"], "test-host");
    assert!(!seen.acks.is_empty());
    assert!(
        seen.acks.values().all(|&polls| polls >= 2),
        "{:?}",
        seen.acks
    );
}

#[test]
fn splunk_hec_refusing_one_record_delivers_the_others_and_records_the_refusal() {
    let (addr, seen) = receiver(|_| {});
    let log = TempLog::new();
    let http = HttpBatchConfig::splunk_hec(format!("http://{addr}"), TOKEN);
    with_log(&log, http, |guard| {
        emit(0, 20);
        tracing::info!(security_event = "data.exported", query = "poison");
        emit(20, 20);
        guard.flush().expect("delivered");
        std::thread::sleep(Duration::from_millis(300));
        // The notice of the refusal goes out with the next batch.
        tracing::info!(security_event = "system.shutdown");
    });
    assert_no_violations(&seen);
    let delivered = seen
        .lock()
        .unwrap()
        .events
        .iter()
        .filter(|e| e["event"]["event"]["name"] == "data.sensitive_read")
        .count();
    assert_eq!(delivered, 40);
    let refused = read_records(&log.path)
        .into_iter()
        .filter(|r| r["event"]["name"] == "audit.events_dropped")
        .map(|r| r["fields"]["reason"].as_str().unwrap_or("").to_owned())
        .collect::<Vec<_>>();
    assert!(
        refused
            .iter()
            .any(|why| why.contains("refused record") && why.contains("Invalid data format")),
        "{refused:?}"
    );
}

#[test]
fn bulk_retries_rejected_items_writes_nothing_twice_and_records_mapping_errors() {
    let log = TempLog::new();
    // Every third new record is rejected (429) the first time it is seen: its batch is sent
    // again whole, and the records created the first time answer 409.
    let (addr, seen) = receiver(|seen| seen.flaky_every = 3);
    let http = HttpBatchConfig::elasticsearch(format!("http://{addr}"), "security")
        .in_form(OutputForm::Ocsf)
        .with_max_records(25)
        .with_gzip(true);
    with_log(&log, http, |_| {
        emit(0, 200);
        tracing::info!(security_event = "data.exported", query = "poison");
        wait_until(&seen, |s| s.documents.len() >= 200);
        std::thread::sleep(Duration::from_millis(300));
        // The notice of the refused record goes out with the next batch.
        tracing::info!(security_event = "system.shutdown");
    });
    assert_no_violations(&seen);
    let seen = seen.lock().unwrap();
    let written = written_ids(&log);
    let stored: Vec<&str> = seen
        .documents
        .iter()
        .map(|(id, _)| id.as_str())
        .filter(|id| written.iter().any(|w| w == id))
        .collect();
    let unique: std::collections::HashSet<&&str> = stored.iter().collect();
    assert_eq!(unique.len(), stored.len(), "a record written twice");
    assert_eq!(stored.len(), written.len(), "a record lost");
    assert!(!seen.flaked.is_empty());
    assert!(
        seen.actions > seen.documents.len(),
        "batches were sent again"
    );
    let document: &Value = &seen.documents[0].1;
    assert!(
        document["class_uid"].is_number(),
        "the OCSF form: {document}"
    );
    let notices: Vec<String> = read_records(&log.path)
        .into_iter()
        .filter(|r| r["event"]["name"] == "audit.events_dropped")
        .map(|r| r["fields"]["reason"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(
        notices
            .iter()
            .any(|why| why.contains("mapper_parsing_exception")),
        "{notices:?}"
    );
}

/// The sink from the configuration file; a protocol's missing key is named.
#[cfg(feature = "config")]
#[test]
fn the_configuration_file_sets_up_the_sink() {
    use tracing_security_events::config::Config;
    let (addr, seen) = receiver(|_| {});
    let text = format!(
        "[[sinks]]\ntype = \"http\"\nurl = \"http://{addr}\"\nprotocol = \"elasticsearch\"\n\
         index = \"security\"\nformat = \"ecs\"\nlinger = \"10ms\"\ngzip = true\n"
    );
    let config = Config::parse(&text, "http.toml", Vec::new()).unwrap();
    let (layer, guard, _reload) = tracing_security_events::Builder::from_config(&config)
        .build_with_reload::<tracing_subscriber::Registry>()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!(security_event = "user.invited", target.id = "7");
        wait_until(&seen, |s| !s.documents.is_empty());
    });
    let _ = guard.shutdown();
    assert_no_violations(&seen);
    let seen = seen.lock().unwrap();
    assert!(seen
        .documents
        .iter()
        .any(|(_, d)| d["event"]["action"] == "user.invited"));
    assert!(seen.gzip_requests > 0);

    let no_index = text.replace("index = \"security\"\n", "");
    let config = Config::parse(&no_index, "http.toml", Vec::new()).unwrap();
    let Err(err) = tracing_security_events::Builder::from_config(&config)
        .build_with_reload::<tracing_subscriber::Registry>()
    else {
        panic!("a sink without its index was accepted");
    };
    let err = err.to_string();
    assert!(err.contains("sinks[0].index"), "{err}");
}
