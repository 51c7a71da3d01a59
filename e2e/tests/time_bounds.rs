//! The time bounds beside rotated files (`security-log index`, `store::write_bounds`): a
//! question with a time range reads only the files whose records can be in it, and answers
//! exactly as without the bounds, also when a clock stepped back put later times in an
//! earlier file, and when a bounds file is damaged or no longer the file's.
#![cfg(feature = "query")]

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use tracing_security_events::query::Query;
use tracing_security_events::sink::FileConfig;
use tracing_security_events::store::{bounds_path, write_bounds, FileStore, LogStore, Search};
use tracing_security_events::Clock;
use tracing_subscriber::prelude::*;

#[derive(Debug)]
struct ManualClock(Mutex<DateTime<Utc>>);

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
}

/// 600 records a minute apart over several rotated files; after the 300th the clock steps
/// back three hours, then goes on.
fn write_log(dir: &Path) -> PathBuf {
    let path = dir.join("security.jsonl");
    let clock = Arc::new(ManualClock(Mutex::new(start())));
    let (layer, guard) = tracing_security_events::builder()
        .with_clock(clock.clone())
        .with_file_config(
            FileConfig::new(&path)
                .rotate_at_size(24 * 1024)
                .keep_files(8)
                .with_time_bounds(true)
                .without_chain(),
        )
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..600_u64 {
            let step = if i == 300 {
                Duration::hours(-3)
            } else {
                Duration::minutes(1)
            };
            *clock.0.lock().unwrap() += step;
            tracing::info!(
                security_event = "user.updated",
                target.id = i,
                actor.id = "42"
            );
            if i % 50 == 0 {
                guard.flush().unwrap();
            }
        }
    });
    guard.shutdown().unwrap();
    path
}

/// The ids of the records that match `query`, oldest first.
fn answer(store: &FileStore, query: &str) -> Vec<String> {
    let search = Search::new(Query::parse(query).unwrap()).with_limit(10_000);
    let page = store.search(&search).unwrap();
    page.records
        .iter()
        .map(|record| record.id().to_owned())
        .collect()
}

#[test]
fn time_ranges_answer_alike_with_without_and_with_damaged_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path());
    let store = FileStore::open(&path).unwrap();
    let rotated = store.rotated_paths().unwrap();
    assert!(rotated.len() >= 4, "{rotated:?}");
    // The file sink left the bounds of every file it rotated, the same as reading the file
    // gives; retention removed those of the files it removed.
    let mut written_by_the_sink = Vec::new();
    for file in &rotated {
        let kept = std::fs::read(bounds_path(file)).expect("bounds beside a rotated file");
        written_by_the_sink.push(kept);
        std::fs::remove_file(bounds_path(file)).unwrap();
    }
    let leftovers: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bounds"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "bounds of removed files: {leftovers:?}"
    );
    let at = |minutes: i64| (start() + Duration::minutes(minutes)).to_rfc3339();
    // Ranges across rotations and across the step back (minutes 120..300 were written twice:
    // before the step and after it).
    let mut queries = vec![
        format!("time >= {} and time < {}", at(100), at(140)),
        format!("time >= {} and time < {}", at(250), at(320)),
        format!("time >= {}", at(450)),
        format!("time < {}", at(30)),
        format!("time <= {} and user = 42", at(200)),
        format!("time >= {} and time < {}", at(1000), at(1100)),
    ];
    let mut state = 7_u64;
    for _ in 0..30 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let from = (state >> 33) as i64 % 500;
        let length = (state >> 13) as i64 % 200 + 1;
        queries.push(format!(
            "time >= {} and time < {}",
            at(from),
            at(from + length)
        ));
    }
    let without: Vec<Vec<String>> = queries.iter().map(|q| answer(&store, q)).collect();
    // What every record says, read from every file: the answer each must be.
    let lines: Vec<String> = store
        .paths()
        .unwrap()
        .iter()
        .flat_map(|file| common::lines(file))
        .collect();
    for (query, answer) in queries.iter().zip(&without) {
        let matcher = Query::parse(query).unwrap().matcher(Utc::now());
        let expected: std::collections::BTreeSet<String> = lines
            .iter()
            .filter(|line| matcher.matches_line(line).unwrap())
            .map(|line| {
                serde_json::from_str::<serde_json::Value>(line).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        let expected: std::collections::BTreeSet<&str> =
            expected.iter().map(String::as_str).collect();
        let found: std::collections::BTreeSet<&str> = answer.iter().map(String::as_str).collect();
        assert_eq!(found, expected, "{query}");
    }
    // Every record of a range is found: the step back's later-stamped records included.
    let in_range = answer(&store, &queries[1]);
    assert!(in_range.len() > 70, "{}", in_range.len());

    for (file, by_the_sink) in rotated.iter().zip(&written_by_the_sink) {
        assert!(write_bounds(file).unwrap().is_some(), "{}", file.display());
        assert_eq!(&std::fs::read(bounds_path(file)).unwrap(), by_the_sink);
    }
    let with: Vec<Vec<String>> = queries.iter().map(|q| answer(&store, q)).collect();
    assert_eq!(with, without, "the same answers with the bounds");

    // Damaged, or another file's, or stale: each is ignored and the file read.
    std::fs::write(bounds_path(&rotated[0]), b"{not json").unwrap();
    std::fs::copy(bounds_path(&rotated[2]), bounds_path(&rotated[1])).unwrap();
    let text = std::fs::read_to_string(bounds_path(&rotated[2])).unwrap();
    let stale = text.replace("\"size\":", "\"size\":1");
    std::fs::write(bounds_path(&rotated[2]), stale).unwrap();
    let damaged: Vec<Vec<String>> = queries.iter().map(|q| answer(&store, q)).collect();
    assert_eq!(damaged, without, "the same answers with damaged bounds");
}
