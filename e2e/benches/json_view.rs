//! The crate's own borrowed JSON view (`src/json_view.rs`: strings borrowed where they hold no
//! escape, objects as vectors of members in document order) against `serde_json_borrow`, the
//! crate made for the same job, and `serde_json::Value`: each reads a whole record and looks up
//! `event.name` and `actor.id`, over the records of a generated log.
//!
//! `cargo bench -p tracing-security-events-e2e --bench json_view --features query`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

#[path = "../../examples/support/synthetic_log.rs"]
mod synthetic_log;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tracing_security_events::_private::json_view_members;

fn lines() -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    synthetic_log::SyntheticLog {
        records: 5_000,
        rotate_mb: 64,
        seed: 29,
        days: 3,
        checkpoint_key: None,
        actors: None,
        index: false,
    }
    .write(dir.path())
    .unwrap();
    std::fs::read_to_string(dir.path().join("security.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn borrow_members(line: &str) -> usize {
    let Ok(record) = serde_json::from_str::<serde_json_borrow::Value<'_>>(line) else {
        return 0;
    };
    let member = |part: &str, key: &str| record.get(part).get(key).as_str().map_or(0, str::len);
    member("event", "name") + member("actor", "id")
}

fn value_members(line: &str) -> usize {
    let Ok(record) = serde_json::from_str::<serde_json::Value>(line) else {
        return 0;
    };
    let member = |part: &str, key: &str| record[part][key].as_str().map_or(0, str::len);
    member("event", "name") + member("actor", "id")
}

fn read_records(c: &mut Criterion) {
    let lines = lines();
    let bytes: usize = lines.iter().map(String::len).sum();
    // The three agree on what they read.
    for line in &lines {
        let ours = json_view_members(line);
        assert_eq!(ours, borrow_members(line));
        assert_eq!(ours, value_members(line));
    }
    let mut group = c.benchmark_group("read a record and two members");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("json_view (ours)", |b| {
        b.iter(|| {
            lines
                .iter()
                .map(|l| json_view_members(black_box(l)))
                .sum::<usize>()
        })
    });
    group.bench_function("serde_json_borrow", |b| {
        b.iter(|| {
            lines
                .iter()
                .map(|l| borrow_members(black_box(l)))
                .sum::<usize>()
        })
    });
    group.bench_function("serde_json::Value", |b| {
        b.iter(|| {
            lines
                .iter()
                .map(|l| value_members(black_box(l)))
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, read_records);
criterion_main!(benches);
