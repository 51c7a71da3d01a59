//! Notification rules, side by side in one run:
//!
//! 1. the caller's cost of one security event without notifications and with 20 rules and two
//!    detections loaded (the rules run on a thread of their own: the caller should not notice);
//! 2. the rule thread's work per record: 20 rules over the records of a synthetic log, as
//!    written (parsing the line once, then every condition and throttle);
//! 3. end to end: 200,000 synthetic records through a log with the rules, and whether the rule
//!    thread kept up (nothing overflowed its queue).
//!
//! `cargo bench -p tracing-security-events-e2e --bench notify --features notify`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs, clippy::print_stdout)]

mod support;
#[path = "../../examples/support/synthetic_log.rs"]
mod synthetic_log;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use support::{chunked, context_span, CHUNK};
use tracing_security_events::notify::{
    Callback, ImpossibleTravel, NotifyConfig, NotifySeverity, Rule, Rules, Threshold, Throttle,
};
use tracing_security_events::query::{Field, Query};
use tracing_subscriber::prelude::*;

/// Twenty rules of the kinds a team writes: single events, globs, roles, places, outcomes,
/// half of them throttled per key.
const CONDITIONS: [&str; 20] = [
    "event = authentication.failed_max",
    "event = authentication.impossible_travel",
    "event = user.role_changed and changes.roles.new ~ admin",
    "event like 'api_key.*'",
    "event = data.exported and severity >= warn",
    "event = authorization.denied",
    "event like 'authentication.*' and country in (RU, KP, IR)",
    "event = user.deleted or event = user.disabled",
    "event = user.mfa_disabled",
    "event = authentication.token_reused",
    "event like 'malicious.*'",
    "event = config.updated and outcome = failure",
    "event = audit.disabled",
    "event = audit.events_dropped",
    "event = session.used_after_expiry",
    "outcome = failure and user = alice",
    "event = role.deleted",
    "event like 'webhook_endpoint.*'",
    "event = rate_limit.exceeded and ip = 203.0.113.7",
    "severity >= critical",
];

fn rules() -> Vec<Rule> {
    CONDITIONS
        .iter()
        .enumerate()
        .map(|(i, condition)| {
            let rule = Rule::new(
                format!("rule {i}"),
                Query::parse(condition).unwrap(),
                NotifySeverity::Warning,
            );
            if i % 2 == 0 {
                rule.with_throttle(
                    Throttle::new(1, Duration::from_secs(600)),
                    Some(Field::parse("ip").unwrap()),
                )
            } else {
                rule
            }
        })
        .collect()
}

fn notifications() -> NotifyConfig {
    let mut config = NotifyConfig::new()
        .transport("count", Callback::new(|_: &_| Ok(())))
        .detection(Threshold::new(
            "brute force",
            Query::parse("event = authentication.failed").unwrap(),
            Field::parse("client.ip").unwrap(),
            10,
            Duration::from_secs(60),
        ))
        .detection(ImpossibleTravel::new("travel"));
    for rule in rules() {
        config = config.rule(rule);
    }
    config
}

fn caller_cost(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("security_event_caller_cost");
    for (name, with_rules) in [("no rules", false), ("20 rules, 2 detections", true)] {
        let mut builder = tracing_security_events::builder()
            .with_file(dir.path().join(format!("{with_rules}.jsonl")))
            .with_queue_capacity(2 * CHUNK as usize);
        if with_rules {
            builder = builder.with_notifications(notifications());
        }
        let (layer, guard) = builder.build().unwrap();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let span = context_span();
            let _entered = span.enter();
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    chunked(iters, &|| {
                        guard.flush().unwrap();
                    })
                })
            });
        });
        guard.shutdown().unwrap();
    }
    group.finish();
}

/// The lines of a synthetic log of `records` records.
fn synthetic_lines(records: u64) -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    synthetic_log::SyntheticLog {
        records,
        rotate_mb: 1024,
        seed: 5,
        days: 1,
        checkpoint_key: None,
        actors: None,
        index: false,
    }
    .write(dir.path())
    .unwrap();
    let text = std::fs::read_to_string(dir.path().join("security.jsonl")).unwrap();
    let lines = text.lines().map(str::to_owned).collect();
    (dir, lines)
}

fn rule_evaluation(c: &mut Criterion) {
    let (_dir, lines) = synthetic_lines(20_000);
    let mut group = c.benchmark_group("rule_thread_per_record");
    group.throughput(Throughput::Elements(lines.len() as u64));
    let now = chrono::Utc::now();
    group.bench_function("20 rules over 20,000 records", |b| {
        b.iter_batched(
            || Rules::new(rules(), now),
            |mut rules| {
                let mut notified = 0;
                for line in &lines {
                    notified += rules.evaluate(line, now).len();
                }
                notified
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn end_to_end(_: &mut Criterion) {
    let records = 200_000;
    let dir = tempfile::tempdir().unwrap();
    let config = notifications();
    let stats = config.stats();
    let start = Instant::now();
    synthetic_log::SyntheticLog {
        records,
        rotate_mb: 1024,
        seed: 9,
        days: 1,
        checkpoint_key: None,
        actors: None,
        index: false,
    }
    .write_with(dir.path(), |builder| builder.with_notifications(config))
    .unwrap();
    let elapsed = start.elapsed();
    let stats = stats.get();
    println!(
        "end to end: {records} records written and evaluated in {:.2} s ({:.0} records/s); \
         rule thread saw {}, overflowed {}, notifications {}, detections {}",
        elapsed.as_secs_f64(),
        records as f64 / elapsed.as_secs_f64(),
        stats.records,
        stats.overflowed,
        stats.notifications,
        stats.detections,
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4));
    targets = caller_cost, rule_evaluation, end_to_end
}
criterion_main!(benches);
