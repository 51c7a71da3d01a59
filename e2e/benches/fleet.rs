//! A fleet's table, measured by hand on a private cluster (durable: fsync on):
//!
//! ```text
//! cargo bench -p tracing-security-events-e2e --features "postgres notify" --bench fleet [-- HISTORY_ROWS DETECTION_ROWS]
//! ```
//!
//! 1. Retention by kind over HISTORY_ROWS rows (2,000,000 by default) of 15 months, side by
//!    side: ours (the partitioned table, whole partitions dropped, each removal recorded) against
//!    today's way (the same rows in a table of schema version 2, `DELETE` of 5,000 rows at a
//!    time until none is old). For each: how long, the latency of one-row inserts made every
//!    10 ms meanwhile (median, 99th percentile, longest) against the same before, and the
//!    table's size after.
//! 2. Fleet detections: DETECTION_ROWS (1,000,000 by default) recent rows of three instances;
//!    one process with a threshold and impossible travel over the fleet reads them all: records
//!    per second and the evaluating process's CPU per record.

#![allow(clippy::print_stdout, reason = "a bench prints its figures")]

#[path = "../tests/pg/mod.rs"]
mod pg;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use pg::history::{
    copy_history, create_past_months, create_version_2, insert_probe, month_end, new_table, KINDS,
};
use tracing_security_events::notify::{FleetDetections, ImpossibleTravel, NotifyConfig, Threshold};
use tracing_security_events::query::{Field, Query};
use tracing_security_events::sink::postgres::PostgresConfig;
use tracing_subscriber::prelude::*;

const DAY: Duration = Duration::from_secs(86_400);

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with('-'));
    let history: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000_000);
    let detection_rows: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let Some(cluster) = pg::Cluster::start_with(true) else {
        return;
    };
    println!("# retention by kind over {history} rows of 15 months");
    retention_by_partitions(&cluster, history);
    retention_by_deletes(&cluster, history);
    println!("\n# fleet detections over {detection_rows} rows of three instances");
    fleet_detections(&cluster, detection_rows);
}

fn client(cluster: &pg::Cluster) -> postgres::Client {
    postgres::Client::connect(&cluster.url(), postgres::NoTls).unwrap()
}

/// Median, 99th percentile and longest of `latencies`.
fn summary(mut latencies: Vec<Duration>) -> String {
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    format!(
        "{} inserts: median {:.2} ms, p99 {:.2} ms, longest {:.1} ms",
        latencies.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3)
    )
}

/// The latencies of inserts into `table` for two seconds, nothing else running.
fn idle_latencies(cluster: &pg::Cluster, table: &str, classes: bool) -> Vec<Duration> {
    let stop = Arc::new(AtomicBool::new(false));
    let probe = insert_probe(cluster.url(), table.to_owned(), stop.clone(), classes);
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    probe.join().unwrap()
}

fn size(db: &mut postgres::Client, table: &str) -> String {
    let bytes: i64 = db
        .query_one(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::int8 FROM pg_class c \
             WHERE c.relname = $1 OR c.relname LIKE $2",
            &[&table, &format!("{table}\\_%")],
        )
        .unwrap()
        .get(0);
    format!("{:.0} MiB", bytes as f64 / 1048576.0)
}

/// The rows left of the history's kinds.
fn left(db: &mut postgres::Client, table: &str) -> i64 {
    db.query_one(
        &format!("SELECT count(*) FROM {table} WHERE instance LIKE 'h%'"),
        &[],
    )
    .unwrap()
    .get(0)
}

fn retention_by_partitions(cluster: &pg::Cluster, rows: u64) {
    let table = pg::Cluster::table("bench_parts");
    let config = || {
        PostgresConfig::new()
            .with_url(cluster.url())
            .with_table(&table)
    };
    new_table(&cluster.url(), &table);
    let mut db = client(cluster);
    let now = Utc::now();
    create_past_months(&mut db, &table, now, 16);
    let history = copy_history(&mut db, &table, rows, now, true);
    db.batch_execute(&format!("VACUUM ANALYZE {table}"))
        .unwrap();
    let expected = history
        .iter()
        .filter(|(_, kind, at)| {
            month_end(*at) + chrono::Duration::days(i64::from(KINDS[*kind].2)) > now
        })
        .count() as i64;
    let before = size(&mut db, &table);
    let idle = idle_latencies(cluster, &table, true);

    let stop = Arc::new(AtomicBool::new(false));
    let probe = insert_probe(cluster.url(), table.clone(), stop.clone(), true);
    let began = Instant::now();
    let (_layer, guard) = tracing_security_events::builder()
        .with_service_instance("retention")
        .with_postgres(
            config()
                .with_retention_rule(Query::parse("category = authentication").unwrap(), 90 * DAY)
                .with_retention_rule(
                    Query::parse("event like \"user.role*\"").unwrap(),
                    730 * DAY,
                )
                .with_retention(365 * DAY)
                .with_retention_interval(Duration::from_millis(50)),
        )
        .build::<tracing_subscriber::Registry>()
        .unwrap();
    while left(&mut db, &table) != expected {
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = began.elapsed();
    stop.store(true, Ordering::Relaxed);
    guard.shutdown().unwrap();
    let during = probe.join().unwrap();
    println!(
        "partitions dropped: {:.2} s for {} rows removed; size {before} -> {}",
        took.as_secs_f64(),
        history.len() as i64 - expected,
        size(&mut db, &table)
    );
    println!("  inserts before: {}", summary(idle));
    println!("  inserts during: {}", summary(during));
}

fn retention_by_deletes(cluster: &pg::Cluster, rows: u64) {
    let table = pg::Cluster::table("bench_rows");
    let mut db = client(cluster);
    create_version_2(&mut db, &table);
    let now = Utc::now();
    let history = copy_history(&mut db, &table, rows, now, false);
    db.batch_execute(&format!("VACUUM ANALYZE {table}"))
        .unwrap();
    let before = size(&mut db, &table);
    let idle = idle_latencies(cluster, &table, false);
    // Today's retention, by kind: each kind's old rows, 5,000 at a time.
    let expired = KINDS
        .iter()
        .map(|(event, _, days)| {
            format!("(event_name = '{event}' AND timestamp < now() - interval '{days} days')")
        })
        .collect::<Vec<_>>()
        .join(" OR ");
    let statement = format!(
        "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {expired} LIMIT 5000)"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let probe = insert_probe(cluster.url(), table.clone(), stop.clone(), false);
    let began = Instant::now();
    let mut removed = 0;
    loop {
        let deleted = db.execute(&statement, &[]).unwrap();
        removed += deleted;
        if deleted < 5000 {
            break;
        }
    }
    let took = began.elapsed();
    stop.store(true, Ordering::Relaxed);
    let during = probe.join().unwrap();
    let _ = history;
    println!(
        "batched DELETE: {:.2} s for {removed} rows removed; size {before} -> {} (the space stays until VACUUM FULL)",
        took.as_secs_f64(),
        size(&mut db, &table)
    );
    println!("  inserts before: {}", summary(idle));
    println!("  inserts during: {}", summary(during));
}

/// The CPU time this process used so far.
fn cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given a pointer to.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let time = |t: libc::timeval| {
        Duration::new(
            t.tv_sec.unsigned_abs(),
            (t.tv_usec.unsigned_abs() * 1000) as u32,
        )
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

fn fleet_detections(cluster: &pg::Cluster, rows: u64) {
    let table = pg::Cluster::table("bench_fleet");
    new_table(&cluster.url(), &table);
    let mut db = client(cluster);
    // Sign-ins of the last hour over three instances.
    let began = Utc::now() - chrono::Duration::minutes(60);
    let step = 3_600_000_000 / rows as i64;
    let mut writer = db
        .copy_in(&format!(
            "COPY {table} (id, instance, seq, timestamp, event_name, category, outcome, severity, \
             line, record) FROM STDIN"
        ))
        .unwrap();
    let mut buffer = Vec::with_capacity(1 << 20);
    for i in 0..rows {
        use std::io::Write;
        let instance = i % 3;
        let seq = i / 3 + 1;
        let at = began + chrono::Duration::microseconds(step * i as i64);
        let time = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let id = uuid::Uuid::new_v4();
        // One sign-in in three failed: mostly from 5,000 addresses a few times an hour each,
        // and from ten attackers' addresses often. Successes: 20,000 actors each at home (one
        // sign-in in 500 from the other side of the world).
        let (event, category, outcome, extra) = if i % 3 == 0 {
            let n = i / 3;
            let address = if n % 50 == 0 {
                format!("198.51.100.{}", n % 10)
            } else {
                format!("10.0.{}.{}", (n / 7) % 20, (n / 7) % 250)
            };
            (
                "authentication.failed",
                "authentication",
                "failure",
                format!(r#""client":{{"ip":"{address}"}}"#),
            )
        } else {
            let actor = i % 20_000;
            let (mut lat, mut lon) = (
                (actor % 120) as f64 - 60.0,
                ((actor * 7) % 340) as f64 - 170.0,
            );
            if i % 500 == 1 {
                (lat, lon) = (-lat, if lon > 0.0 { lon - 180.0 } else { lon + 180.0 });
            }
            (
                "authentication.succeeded",
                "authentication",
                "success",
                format!(
                    r#""actor":{{"id":"u{actor}"}},"client":{{"ip":"192.0.2.1","geo":{{"lat":{lat},"lon":{lon}}}}}"#
                ),
            )
        };
        let line = format!(
            r#"{{"schema":1,"id":"{id}","seq":{seq},"timestamp":"{time}","event":{{"name":"{event}","category":"{category}","outcome":"{outcome}","severity":"info"}},"tenant":{{"id":"acme"}},{extra},"service":{{"instance":"i{instance}"}}}}"#
        );
        writeln!(
            buffer,
            "{id}\ti{instance}\t{seq}\t{time}\t{event}\t{category}\t{outcome}\t1\t{line}\t{line}"
        )
        .unwrap();
        if buffer.len() > (1 << 20) - 4096 {
            writer.write_all(&buffer).unwrap();
            buffer.clear();
        }
    }
    {
        use std::io::Write;
        writer.write_all(&buffer).unwrap();
    }
    writer.finish().unwrap();
    db.batch_execute(&format!("VACUUM ANALYZE {table}"))
        .unwrap();

    let notify = NotifyConfig::new()
        .detection(Threshold::new(
            "spread attack",
            Query::parse("event = authentication.failed").unwrap(),
            Field::parse("client.ip").unwrap(),
            10,
            Duration::from_secs(300),
        ))
        .detection(ImpossibleTravel::new("travel"))
        .over_fleet(
            FleetDetections::new()
                .with_url(cluster.url())
                .with_table(&table)
                .with_poll(Duration::from_millis(20))
                .with_settle(Duration::ZERO),
        );
    let cpu_before = cpu_time();
    let started = Instant::now();
    let log = tempfile::tempdir().unwrap();
    let (layer, guard) = tracing_security_events::builder()
        .with_file(log.path().join("security.jsonl"))
        .with_service_instance("evaluator")
        .with_notifications(notify)
        .build()
        .unwrap();
    let _subscriber = tracing_subscriber::registry().with(layer);
    let per_instance = (rows / 3) as i64;
    loop {
        let done: Option<i64> = db
            .query_one(
                &format!("SELECT min(seq)::int8 FROM {table}_cursors WHERE instance LIKE 'i%'"),
                &[],
            )
            .unwrap()
            .get(0);
        let instances: i64 = db
            .query_one(
                &format!("SELECT count(*) FROM {table}_cursors WHERE instance LIKE 'i%'"),
                &[],
            )
            .unwrap()
            .get(0);
        if instances == 3 && done.is_some_and(|seq| seq >= per_instance) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = started.elapsed();
    let cpu = cpu_time() - cpu_before;
    guard.shutdown().unwrap();
    let detections = std::fs::read_to_string(log.path().join("security.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("failed_max") || l.contains("impossible_travel"))
        .count();
    println!(
        "fleet detections: {rows} rows in {:.2} s ({:.0} k records/s), evaluating process CPU {:.2} us a record, {detections} detections",
        took.as_secs_f64(),
        rows as f64 / took.as_secs_f64() / 1e3,
        cpu.as_secs_f64() * 1e6 / rows as f64
    );
}
