//! Rotation by size and time, retention by count and age, at start-up too, with an injected
//! clock; no record is ever split across files.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use common::{read_records, run, TempLog};
use tracing_security_events::integrity::verify;
use tracing_security_events::sink::{FileConfig, RotationPeriod};
use tracing_security_events::{security_event, Clock, SecurityEvent};

#[derive(Debug)]
struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    fn at(time: DateTime<Utc>) -> Arc<Self> {
        Arc::new(ManualClock(Mutex::new(time)))
    }
    fn advance(&self, by: chrono::Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

fn rotated(log: &TempLog) -> Vec<PathBuf> {
    files_in(log.dir.path())
        .into_iter()
        .filter(|p| *p != log.path)
        .collect()
}

fn emit(count: u64) {
    for i in 0..count {
        security_event!(SecurityEvent::SensitiveDataRead, i, note = "x".repeat(100));
    }
}

#[test]
fn size_rotation_keeps_files_under_the_limit_and_records_whole() {
    let log = TempLog::new();
    let limit = 3000;
    let config = FileConfig::new(&log.path).rotate_at_size(limit);
    let builder = tracing_security_events::builder()
        .with_file_config(config)
        .with_queue_capacity(4);
    run(&log, builder, || emit(60));
    let files = files_in(log.dir.path());
    assert!(files.len() >= 5, "{files:?}");
    let mut total = 0;
    for file in &files {
        let size = std::fs::metadata(file).unwrap().len();
        assert!(size <= limit, "{} is {size} bytes", file.display());
        total += read_records(file).len(); // every line of every file is a whole record
    }
    assert_eq!(total, 60);
    // Rotated names sort in write order, and the chain runs through them all.
    let report = verify(log.dir.path()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.records, 60);
    let name = rotated(&log)[0]
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        name.starts_with("security.20") && name.ends_with("Z.jsonl"),
        "{name}"
    );
}

#[test]
fn a_record_bigger_than_the_limit_gets_a_file_of_its_own() {
    let log = TempLog::new();
    let config = FileConfig::new(&log.path).rotate_at_size(500);
    let builder = tracing_security_events::builder().with_file_config(config);
    run(&log, builder, || {
        security_event!(SecurityEvent::SensitiveDataRead, blob = "y".repeat(2000));
        security_event!(SecurityEvent::SensitiveDataRead, small = 1);
    });
    let files = files_in(log.dir.path());
    assert_eq!(files.len(), 2);
    assert!(files.iter().all(|f| read_records(f).len() == 1));
}

#[test]
fn time_rotation_follows_the_clock_and_survives_restarts() {
    let log = TempLog::new();
    let clock = ManualClock::at(Utc.with_ymd_and_hms(2026, 11, 22, 10, 15, 0).unwrap());
    let config = || FileConfig::new(&log.path).rotate_every(RotationPeriod::Hourly);
    // One clock for record timestamps and rotation alike.
    let start = |config: FileConfig| {
        tracing_security_events::builder()
            .with_file_config(config)
            .with_clock(clock.clone())
    };

    run(&log, start(config()), || emit(3));
    clock.advance(chrono::Duration::minutes(30)); // 10:45, same hour
    run(&log, start(config()), || emit(2));
    assert!(
        rotated(&log).is_empty(),
        "a restart within the period keeps the file"
    );
    assert_eq!(read_records(&log.path).len(), 5);

    // Running into the next hour: the next write goes to a new file.
    let builder = start(config());
    run(&log, builder, || {
        emit(1);
        clock.advance(chrono::Duration::minutes(20)); // 11:05
        std::thread::sleep(Duration::from_millis(50));
        tracing::info!(security_event = "authentication.failed");
    });
    let after = rotated(&log);
    assert_eq!(after.len(), 1);
    assert!(
        after[0].to_str().unwrap().contains("2026-11-22T11-05-00"),
        "{after:?}"
    );
    assert_eq!(read_records(&after[0]).len(), 6);
    assert_eq!(read_records(&log.path).len(), 1);

    // Restarting two hours later, with a file from an earlier hour: rotated at start-up.
    clock.advance(chrono::Duration::hours(2)); // 13:05
    let builder = start(config());
    let (layer, guard) = builder.build::<tracing_subscriber::Registry>().unwrap();
    drop(layer);
    guard.shutdown().unwrap();
    assert_eq!(
        rotated(&log).len(),
        2,
        "the old hour's file was rotated at start-up"
    );
    assert_eq!(std::fs::metadata(&log.path).unwrap().len(), 0);
    assert!(verify(log.dir.path()).unwrap().is_ok());
}

#[test]
fn retention_keeps_the_newest_files_at_each_rotation_and_at_start_up() {
    let log = TempLog::new();
    let config = || {
        FileConfig::new(&log.path)
            .rotate_at_size(1500)
            .keep_files(2)
    };
    let builder = tracing_security_events::builder()
        .with_file_config(config())
        .with_queue_capacity(2);
    run(&log, builder, || emit(40));
    let kept = rotated(&log);
    assert_eq!(kept.len(), 2, "{kept:?}");

    // Files an earlier run left beyond the limit (the trap: pruning only at rotation) are
    // pruned when the log starts, before any rotation.
    for stamp in ["2020-01-01T00-00-00.000000Z", "2020-01-02T00-00-00.000000Z"] {
        std::fs::write(log.dir.path().join(format!("security.{stamp}.jsonl")), "").unwrap();
    }
    assert_eq!(rotated(&log).len(), 4);
    let (layer, guard) = tracing_security_events::builder()
        .with_file_config(config())
        .build::<tracing_subscriber::Registry>()
        .unwrap();
    drop(layer);
    guard.shutdown().unwrap();
    // The removals are recorded in the log first (`audit.files_removed`), and writing those
    // records may rotate again: what is left is the newest two, none of the earlier run's.
    let left = rotated(&log);
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(
        left.iter().all(|f| !f.to_str().unwrap().contains("2020-")),
        "the two oldest were removed at start-up: {left:?}"
    );
    let removed = std::fs::read_dir(log.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .flat_map(|p| read_records(&p))
        .filter(|r| r["event"]["name"] == "audit.files_removed")
        .map(|r| r["fields"]["file"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert!(
        removed.contains(&"security.2020-01-01T00-00-00.000000Z.jsonl".to_owned()),
        "{removed:?}"
    );
}

#[test]
fn retention_by_age_uses_the_rotation_time() {
    let log = TempLog::new();
    let clock = ManualClock::at(Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap());
    for stamp in [
        "2026-11-01T00-00-00.000000Z", // 21 days old
        "2026-11-20T12-00-00.000000Z", // 2 days old
        "2026-11-22T11-00-00.000000Z", // 1 hour old
    ] {
        std::fs::write(log.dir.path().join(format!("security.{stamp}.jsonl")), "").unwrap();
    }
    std::fs::write(
        log.dir
            .path()
            .join("unrelated.2020-01-01T00-00-00.000000Z.jsonl"),
        "",
    )
    .unwrap();
    let config = FileConfig::new(&log.path)
        .keep_for(Duration::from_secs(7 * 24 * 3600))
        .with_clock(clock);
    let (layer, guard) = tracing_security_events::builder()
        .with_file_config(config)
        .build::<tracing_subscriber::Registry>()
        .unwrap();
    drop(layer);
    guard.shutdown().unwrap();
    let names: Vec<String> = files_in(log.dir.path())
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "security.2026-11-20T12-00-00.000000Z.jsonl",
            "security.2026-11-22T11-00-00.000000Z.jsonl",
            "security.jsonl",
            "unrelated.2020-01-01T00-00-00.000000Z.jsonl",
        ]
    );
}

/// Retention by kind in files: whole files are kept for the longest rule, the rules are left
/// beside the log, and the store leaves each kind out once past its own age; the chain of
/// everything kept on disk still verifies.
#[cfg(feature = "query")]
#[test]
fn each_kind_leaves_the_answers_at_its_own_age_and_the_files_stay_whole() {
    use tracing_security_events::query::Query;
    use tracing_security_events::store::{FileStore, LogStore, Search};

    let day = Duration::from_secs(86_400);
    let log = TempLog::new();
    let now = Utc::now();
    let clock = ManualClock::at(now - chrono::Duration::days(400));
    let config = FileConfig::new(&log.path)
        .rotate_at_size(4096)
        .with_retention_rule(Query::parse("category = authentication").unwrap(), 90 * day)
        .with_retention_rule(
            Query::parse("event like \"user.role*\"").unwrap(),
            730 * day,
        )
        .keep_for(365 * day);
    let builder = tracing_security_events::builder()
        .with_clock(clock.clone())
        .with_file_config(config);
    run(&log, builder, || {
        for _ in 0..400 {
            clock.advance(chrono::Duration::days(1));
            security_event!(SecurityEvent::LoginFailed);
            security_event!(SecurityEvent::UserRoleChanged);
            security_event!(SecurityEvent::UserInvited);
        }
    });
    assert!(tracing_security_events::store::RetentionRules::path_beside(&log.path).exists());
    let store = FileStore::open(&log.path).unwrap();
    let count = |question: &str| {
        store
            .count(&Search::new(Query::parse(question).unwrap()))
            .unwrap()
            .records
    };
    // The last 90 days of sign-ins, 365 of the rest, every role change (less than 730 days).
    // Record n was written n days after the start, 400 - n days before `now`; one exactly at
    // its age is past it by the time the store answers.
    let recent = |days: i64| (1..=400i64).filter(|n| 400 - n < days).count() as u64;
    assert_eq!(count("event = authentication.failed"), recent(90));
    assert_eq!(count("event = user.invited"), recent(365));
    assert_eq!(count("event = user.role_changed"), 400);
    // Every record is still on disk, in a chain that verifies.
    let on_disk = std::fs::read_dir(log.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
        .map(|e| {
            std::fs::read_to_string(e.path())
                .unwrap()
                .matches("authentication.failed")
                .count()
        })
        .sum::<usize>();
    assert_eq!(on_disk, 400);
    let report = verify(log.dir.path()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
}
