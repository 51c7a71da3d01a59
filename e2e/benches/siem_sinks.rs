// A bench binary's main, no criterion: an undocumented item is fine here.
#![allow(missing_docs)]

//! Throughput of the syslog sink to a real rsyslog on 127.0.0.1, over TCP and over TLS,
//! against the file sink, in one run: records per second from `security_event!` until the
//! last record is in rsyslog's output file (or, for the file sink, flushed to the file).
//!
//! `cargo bench -p tracing-security-events-e2e --features syslog --bench siem_sinks [-- RECORDS]`
//!
//! rsyslog runs on the same two cores, parsing every message and writing it to its own file:
//! the numbers are what one machine does end to end, not the sink alone.

#[path = "../tests/common/rsyslog.rs"]
#[allow(dead_code)]
mod rsyslog;

use std::time::{Duration, Instant};

use rsyslog::{Input, Rsyslog, TestPki};
use tracing_security_events::sink::syslog::SyslogConfig;
use tracing_security_events::sink::{FileConfig, SpoolConfig};
use tracing_security_events::{security_event, Builder, SecurityEvent};
use tracing_subscriber::prelude::*;

fn emit(records: u64) {
    for i in 0..records {
        security_event!(
            SecurityEvent::LoginFailed,
            actor.id = "42",
            actor.name = "alice",
            client.ip = "203.0.113.7",
            authentication.method = "password",
            attempt = i,
        );
    }
}

/// Runs `records` through `builder`; `done` says when the destination holds them all.
fn run(builder: Builder, records: u64, done: impl Fn() -> bool) -> Duration {
    let (layer, guard) = builder.with_service_name("bench").build().expect("build");
    let start = Instant::now();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        emit(records);
        let _ = guard.flush();
        let deadline = Instant::now() + Duration::from_secs(120);
        while !done() {
            assert!(
                Instant::now() < deadline,
                "the destination did not get every record"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    let elapsed = start.elapsed();
    let _ = guard.shutdown();
    elapsed
}

fn lines_in(path: &std::path::Path) -> u64 {
    std::fs::read(path)
        .map(|bytes| bytes.iter().filter(|&&b| b == b'\n').count() as u64)
        .unwrap_or(0)
}

fn main() {
    let records: u64 = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(100_000);
    let Some(binary) = rsyslog::rsyslogd() else {
        eprintln!("no rsyslogd: nothing measured");
        return;
    };
    let mut results = Vec::new();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("security.jsonl");
    let elapsed = run(
        tracing_security_events::builder().with_file_config(FileConfig::new(&file)),
        records,
        || true,
    );
    results.push(("file sink (fsync interval 1 s)", elapsed));

    for (name, input) in [
        ("syslog over TCP to rsyslog", Input::Tcp),
        ("syslog over TLS to rsyslog", Input::Tls),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let pki = TestPki::new(dir.path());
        let tls = matches!(input, Input::Tls);
        let server = Rsyslog::start(&binary, dir.path(), input, Some(&pki));
        let address = format!("127.0.0.1:{}", server.port);
        // Room for the whole run in memory: the emitting thread outruns the receiver, and
        // the default 8 MiB would give records up (counted and recorded) instead of timing
        // the delivery of all of them.
        let room = SpoolConfig::new().with_memory_limit(1 << 30);
        let syslog = if tls {
            SyslogConfig::tls(address)
                .with_ca_file(&pki.ca)
                .with_client_certificate(&pki.client_cert, &pki.client_key)
                .with_server_name("localhost")
        } else {
            SyslogConfig::tcp(address)
        }
        .with_spool(room);
        let output = server.output.clone();
        let elapsed = run(
            tracing_security_events::builder().with_syslog(syslog),
            records,
            || lines_in(&output) >= records,
        );
        results.push((name, elapsed));
    }

    let base = results[0].1.as_secs_f64();
    println!(
        "{records} records, {}",
        chrono::Utc::now().format("%Y-%m-%d")
    );
    println!("| sink | time | records/s | against the file sink |");
    println!("|---|---|---|---|");
    for (name, elapsed) in &results {
        let seconds = elapsed.as_secs_f64();
        println!(
            "| {name} | {seconds:.2} s | {:.0} | {:.2}x the time |",
            records as f64 / seconds,
            seconds / base
        );
    }
}
