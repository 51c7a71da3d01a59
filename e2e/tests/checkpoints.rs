//! Signed checkpoints: written by the file sink at its count, at rotation and at shutdown,
//! shipped to the other sinks, verified with the public key alone or against the anchors; the
//! key evolves per epoch; retention records what it removes.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{read_records, TempLog};
use serde_json::Value;
use tracing_security_events::integrity::{
    parse_public_key, verify_with, Checkpoint, EpochKey, PublicKey, VerifyOptions,
};
use tracing_security_events::sink::{CheckpointConfig, FileConfig};
use tracing_security_events::{security_event, SecurityEvent};
use tracing_subscriber::prelude::*;

/// A key pair in the log's directory: the key file, and the public key to verify with.
fn keygen(log: &TempLog) -> (std::path::PathBuf, PublicKey) {
    let path = log.dir.path().join("checkpoint.key");
    let key = EpochKey::generate().unwrap();
    key.save(&path).unwrap();
    (path, parse_public_key(&key.public_key()).unwrap())
}

fn emit(count: u64) {
    for i in 0..count {
        security_event!(SecurityEvent::SensitiveDataRead, i, target.id = "report-7");
    }
}

/// Writes `count` records through a file sink with checkpoints (and a second file, standing for
/// a sink off the host, that receives the same records).
fn write(log: &TempLog, checkpoints: CheckpointConfig, anchors: Option<&Path>, count: u64) {
    write_with(FileConfig::new(&log.path), checkpoints, anchors, count);
}

/// As `write`, in batches of 7 records, each written before the next is emitted (a checkpoint
/// comes at the end of the batch that reaches its count).
fn write_with(file: FileConfig, checkpoints: CheckpointConfig, anchors: Option<&Path>, count: u64) {
    let mut builder = tracing_security_events::builder()
        .with_service_instance("test-host")
        .with_file_config(file.with_checkpoints(checkpoints));
    if let Some(anchors) = anchors {
        builder = builder.with_file_config(FileConfig::new(anchors).without_chain());
    }
    let (layer, guard) = builder.build().expect("build");
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let mut left = count;
        while left > 0 {
            emit(left.min(7));
            left = left.saturating_sub(7);
            guard.flush().expect("flush");
        }
    });
    guard.shutdown().expect("shutdown");
}

fn checkpoints_in(records: &[Value]) -> Vec<Checkpoint> {
    records
        .iter()
        .filter_map(|record| Checkpoint::from_record(record).unwrap())
        .collect()
}

#[test]
fn checkpoints_come_at_their_count_and_at_shutdown_and_verify_with_the_public_key() {
    let log = TempLog::new();
    let (key_file, public) = keygen(&log);
    let anchors = log.dir.path().join("anchors").join("copy.jsonl");
    write(
        &log,
        CheckpointConfig::new(&key_file).every_records(10),
        Some(&anchors),
        35,
    );
    let records = read_records(&log.path);
    let checkpoints = checkpoints_in(&records);
    // 35 records in batches of 7: a checkpoint once 10 are unsigned (in the batch after the
    // one that reached the count, at the latest), and the last at shutdown.
    assert!(checkpoints.len() >= 2, "{checkpoints:#?}");
    assert!(
        checkpoints.iter().all(|c| c.records <= 10 + 2 * 7),
        "{checkpoints:#?}"
    );
    for (i, checkpoint) in checkpoints.iter().enumerate() {
        assert_eq!(checkpoint.number, i as u64 + 1);
        assert_eq!(checkpoint.log, "security.jsonl");
        assert_eq!(checkpoint.instance, "test-host");
        assert!(checkpoint.is_signed_by(&public) || checkpoint.epoch > 0);
    }
    let last = records.last().unwrap();
    assert_eq!(
        last["event"]["name"], "audit.checkpoint",
        "the last record is the shutdown's"
    );
    // The copy off the host received the same checkpoints.
    let shipped = checkpoints_in(&read_records(&anchors));
    assert_eq!(shipped, checkpoints);

    let options = VerifyOptions::new()
        .with_public_key(public)
        .with_anchors("copy", shipped);
    let report = verify_with(&log.path, &options).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.checkpoints, checkpoints.len() as u64);
    assert_eq!(report.anchors, checkpoints.len() as u64);
    assert_eq!(report.unsigned_tail, 0);
    assert!(report.unchecked.is_empty(), "{:?}", report.unchecked);
}

#[test]
fn the_key_evolves_and_a_restart_continues_the_checkpoints() {
    let log = TempLog::new();
    let (key_file, public) = keygen(&log);
    let config = CheckpointConfig::new(&key_file)
        .every_records(5)
        .key_epoch(Duration::ZERO);
    write(&log, config.clone(), None, 12);
    let before = std::fs::read_to_string(&key_file).unwrap();
    write(&log, config, None, 12);
    let after = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(before, after, "the key file holds a later epoch");

    let checkpoints = checkpoints_in(&read_records(&log.path));
    let epochs: Vec<u64> = checkpoints.iter().map(|c| c.epoch).collect();
    assert_eq!(epochs, (0..checkpoints.len() as u64).collect::<Vec<_>>());
    let report = verify_with(&log.path, &VerifyOptions::new().with_public_key(public)).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.checkpoints, checkpoints.len() as u64);
    // The key file no longer holds the secret of any epoch that signed.
    let current = EpochKey::load(&key_file).unwrap();
    assert_eq!(current.epoch(), checkpoints.last().unwrap().epoch + 1);
}

#[test]
fn retention_records_what_it_removes_and_verify_accepts_exactly_that() {
    let log = TempLog::new();
    let (key_file, public) = keygen(&log);
    let file = FileConfig::new(&log.path)
        .rotate_at_size(4 * 1024)
        .keep_files(2);
    write_with(
        file,
        CheckpointConfig::new(&key_file).every_records(20),
        None,
        120,
    );
    let mut all = Vec::new();
    for entry in std::fs::read_dir(log.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            all.extend(read_records(&path));
        }
    }
    let removed: Vec<&Value> = all
        .iter()
        .filter(|r| r["event"]["name"] == "audit.files_removed")
        .collect();
    assert!(!removed.is_empty(), "retention removed files and said so");
    for record in &removed {
        assert!(record["fields"]["last_hash"].as_str().unwrap().len() == 64);
        let name = record["fields"]["file"].as_str().unwrap();
        assert!(!log.dir.path().join(name).exists(), "{name} is gone");
    }
    let report = verify_with(
        log.dir.path(),
        &VerifyOptions::new().with_public_key(public),
    )
    .unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert!(!report.starts_at_genesis);
    assert_eq!(report.removed_by_retention.len(), removed.len());
}

/// The checkpoints an OTLP collector received (OTLP/JSON, one request a line, as the
/// Collector's file exporter keeps them) anchor the log: the same checkpoints, and a cut end
/// is found.
#[cfg(all(feature = "otlp", feature = "axum"))]
#[test]
fn checkpoints_shipped_over_otlp_anchor_the_log() {
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use tracing_security_events::integrity::{checkpoints_in_otlp_json, ProblemKind};
    use tracing_security_events::sink::otlp::OtlpConfig;
    use tracing_security_events::sink::OtlpProtocol;

    let log = TempLog::new();
    let (key_file, public) = keygen(&log);
    let received = log.dir.path().join("collector").join("logs.json");
    std::fs::create_dir_all(received.parent().unwrap()).unwrap();
    let file = Arc::new(Mutex::new(std::fs::File::create(&received).unwrap()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = axum::Router::new().route(
        "/v1/logs",
        axum::routing::post(move |body: axum::body::Bytes| {
            let file = file.clone();
            async move {
                // One request a line, as a collector's file exporter writes them.
                let request: Value = serde_json::from_slice(&body).unwrap();
                let mut file = file.lock().unwrap();
                serde_json::to_writer(&mut *file, &request).unwrap();
                file.write_all(b"\n").unwrap();
                "{}"
            }
        }),
    );
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let endpoint = format!("http://{}/v1/logs", listener.local_addr().unwrap());
    runtime.spawn(async move { axum::serve(listener, app).await });

    let otlp = OtlpConfig::new()
        .with_protocol(OtlpProtocol::HttpJson)
        .with_endpoint(endpoint);
    let (layer, guard) = tracing_security_events::builder()
        .with_service_instance("test-host")
        .with_file_config(
            FileConfig::new(&log.path)
                .with_checkpoints(CheckpointConfig::new(&key_file).every_records(10)),
        )
        .with_otlp(otlp)
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..5 {
            emit(7);
            guard.flush().unwrap();
        }
    });
    guard.shutdown().unwrap();

    let mut anchors = Vec::new();
    for line in std::fs::read_to_string(&received).unwrap().lines() {
        anchors.extend(checkpoints_in_otlp_json(line).unwrap());
    }
    let written = checkpoints_in(&read_records(&log.path));
    assert!(written.len() >= 2, "{}", written.len());
    assert_eq!(
        anchors, written,
        "the collector holds every checkpoint, the same"
    );

    let options = VerifyOptions::new()
        .with_public_key(public)
        .with_anchors("collector", anchors);
    let report = verify_with(&log.path, &options).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.anchors, written.len() as u64);

    let text = std::fs::read_to_string(&log.path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&log.path, lines[..lines.len() - 3].join("\n") + "\n").unwrap();
    let report = verify_with(&log.path, &options).unwrap();
    assert_eq!(
        report.problem.map(|p| p.kind),
        Some(ProblemKind::Truncated),
        "the cut end is found"
    );
}

#[test]
fn two_file_sinks_signing_checkpoints_are_refused() {
    let log = TempLog::new();
    let (key_file, _) = keygen(&log);
    let other = log.dir.path().join("other.jsonl");
    let err = tracing_security_events::builder()
        .with_file_config(
            FileConfig::new(&log.path).with_checkpoints(CheckpointConfig::new(&key_file)),
        )
        .with_file_config(
            FileConfig::new(&other).with_checkpoints(CheckpointConfig::new(&key_file)),
        )
        .build::<tracing_subscriber::Registry>()
        .expect_err("one log's checkpoints sign one chain");
    assert!(err.to_string().contains("other.jsonl"), "{err}");
    assert!(err.to_string().contains("checkpoints"), "{err}");
}

/// A fleet ships to one place: each instance's `security.jsonl` is checked against its own
/// checkpoints among everyone's.
#[test]
fn anchors_of_several_instances_are_narrowed_to_the_log_verified() {
    let mut logs = Vec::new();
    let mut anchors = Vec::new();
    for instance in ["app-1", "app-2"] {
        let log = TempLog::new();
        let (key_file, public) = keygen(&log);
        let copy = log.dir.path().join("shipped").join("copy.jsonl");
        let (layer, guard) = tracing_security_events::builder()
            .with_service_instance(instance)
            .with_file_config(
                FileConfig::new(&log.path)
                    .with_checkpoints(CheckpointConfig::new(&key_file).every_records(10)),
            )
            .with_file_config(FileConfig::new(&copy).without_chain())
            .build()
            .unwrap();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            for _ in 0..4 {
                emit(7);
                guard.flush().unwrap();
            }
        });
        guard.shutdown().unwrap();
        anchors.extend(checkpoints_in(&read_records(&copy)));
        logs.push((log, public));
    }
    for (log, public) in &logs {
        let options = VerifyOptions::new()
            .with_public_key(*public)
            .with_anchors("fleet", anchors.clone());
        let report = verify_with(&log.path, &options).unwrap();
        assert!(report.is_ok(), "{:?}", report.problem);
        assert!(report.anchors >= 2, "{}", report.anchors);
    }
}

/// `logrotate` moves the active file away and the service reopens: with checkpoints, the log
/// records where the chain went, so the new file verifies and the move is named.
#[test]
fn an_external_rotation_is_recorded_and_verify_names_it() {
    let log = TempLog::new();
    let (key_file, public) = keygen(&log);
    let (layer, guard) = tracing_security_events::builder()
        .with_file_config(
            FileConfig::new(&log.path)
                .with_checkpoints(CheckpointConfig::new(&key_file).every_records(5)),
        )
        .build()
        .unwrap();
    let moved = log.dir.path().join("security.jsonl.1");
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        emit(12);
        guard.flush().unwrap();
        std::fs::rename(&log.path, &moved).unwrap();
        guard.reopen().unwrap();
        emit(12);
    });
    guard.shutdown().unwrap();
    let records = read_records(&log.path);
    let note = records
        .iter()
        .find(|r| r["event"]["name"] == "audit.files_removed")
        .expect("the move is recorded");
    assert_eq!(note["fields"]["reason"], "moved away by another program");
    let last_moved = read_records(&moved).last().unwrap()["seq"].clone();
    assert_eq!(note["fields"]["last_seq"], last_moved);

    let options = VerifyOptions::new().with_public_key(public);
    let report = verify_with(log.dir.path(), &options).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.moved_away, ["security.jsonl"]);
}

/// Anchors that hold no checkpoint of the log verified check nothing, and the report says so.
#[test]
fn anchors_of_another_log_are_said_to_check_nothing() {
    let (first, second) = (TempLog::new(), TempLog::new());
    let (first_key, _) = keygen(&first);
    let (second_key, second_public) = keygen(&second);
    let copy = first.dir.path().join("shipped").join("copy.jsonl");
    write(
        &first,
        CheckpointConfig::new(&first_key).every_records(5),
        Some(&copy),
        12,
    );
    write(
        &second,
        CheckpointConfig::new(&second_key).every_records(5),
        None,
        12,
    );
    let mut foreign = checkpoints_in(&read_records(&copy));
    for checkpoint in &mut foreign {
        checkpoint.log = "other.jsonl".to_owned();
    }
    let options = VerifyOptions::new()
        .with_public_key(second_public)
        .with_anchors("copy", foreign);
    let report = verify_with(&second.path, &options).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.anchors, 0);
    assert!(
        report
            .unchecked
            .iter()
            .any(|u| u.contains("no checkpoint in the anchors")),
        "{:?}",
        report.unchecked
    );
}

/// The key file cannot be replaced (its directory is gone) after a checkpoint was written: the
/// failure is reported and retried, and no record is written twice.
#[test]
fn a_key_that_cannot_be_saved_never_writes_a_record_twice() {
    let log = TempLog::new();
    let key_dir = tempfile::tempdir().unwrap();
    let key_file = key_dir.path().join("checkpoint.key");
    EpochKey::generate().unwrap().save(&key_file).unwrap();
    let (layer, guard) = tracing_security_events::builder()
        .with_error_reporting(false)
        .with_flush_timeout(Duration::from_millis(500))
        .with_file_config(
            FileConfig::new(&log.path).with_checkpoints(
                CheckpointConfig::new(&key_file)
                    .every_records(5)
                    .key_epoch(Duration::ZERO),
            ),
        )
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        emit(6);
        guard.flush().unwrap();
        std::fs::remove_dir_all(key_dir.path()).unwrap();
        for _ in 0..3 {
            emit(6);
            let _ = guard.flush();
        }
    });
    let _ = guard.shutdown();
    let records = read_records(&log.path);
    let mut seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    let count = seqs.len();
    seqs.dedup();
    assert_eq!(seqs.len(), count, "a record written twice");
    assert_eq!(
        records.iter().filter(|r| r["fields"]["i"].is_u64()).count(),
        24
    );
}
