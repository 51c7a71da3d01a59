//! The partitioned table against a real PostgreSQL (a private cluster): a populated table of
//! schema version 2 migrated with every row and chain kept and the store's answers unchanged;
//! retention by kind over millions of rows while writers run: old partitions of short-lived
//! kinds dropped, longer kinds kept, every removal recorded, the kept chains verifying, and a
//! removal retention did not make found.
#![cfg(feature = "postgres")]

mod common;
mod pg;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, TimeZone, Utc};
use common::TempLog;
use pg::history::{
    copy_history, create_past_months, create_version_2, insert_probe, month_end, new_table, KINDS,
};
use pg::Cluster;
use tracing_security_events::integrity::{ProblemKind, VerifyOptions};
use tracing_security_events::query::Query;
use tracing_security_events::sink::postgres::PostgresConfig;
use tracing_security_events::store::{LogStore, PostgresStore, Search};
use tracing_security_events::{security_event, Clock, SecurityEvent};
use tracing_subscriber::prelude::*;

const DAY: Duration = Duration::from_secs(86_400);

#[derive(Debug)]
struct ManualClock(Mutex<DateTime<Utc>>);

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        let mut now = self.0.lock().unwrap();
        // Four hours a record: 800 records span more than four months.
        *now += chrono::Duration::hours(4);
        *now
    }
}

fn client(cluster: &Cluster) -> postgres::Client {
    postgres::Client::connect(&cluster.url(), postgres::NoTls).unwrap()
}

/// Writes `lines` (sealed records) as version 2 rows.
fn insert_version_2_rows(db: &mut postgres::Client, t: &str, lines: &[String]) {
    db.execute(
        &format!(
            "INSERT INTO {t} SELECT (r->>'id')::uuid, r#>>'{{service,instance}}', (r->>'seq')::int8,
                 (r->>'timestamp')::timestamptz, r#>>'{{event,name}}', r#>>'{{event,category}}',
                 r#>>'{{event,outcome}}', 1, r#>>'{{actor,id}}', r#>>'{{tenant,id}}',
                 (r#>>'{{client,ip}}')::inet, r#>>'{{service,name}}', line, r
             FROM (SELECT line, line::jsonb AS r FROM unnest($1::text[]) AS line) AS rows"
        ),
        &[&lines],
    )
    .unwrap();
}

/// Writes `n` records as instance `instance` through a file log with the manual clock; their
/// lines.
fn file_lines(instance: &str, clock: &Arc<ManualClock>, n: u32) -> Vec<String> {
    let log = TempLog::new();
    let (layer, guard) = log
        .builder()
        .with_service_instance(instance)
        .with_clock(clock.clone())
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..n {
            let span = tracing::info_span!("request", actor.id = %format!("user-{}", i % 9), tenant.id = if i % 2 == 0 { "acme" } else { "globex" }, client.ip = "203.0.113.9");
            let _entered = span.enter();
            if i % 3 == 0 {
                security_event!(SecurityEvent::LoginFailed, attempt = i);
            } else {
                security_event!(SecurityEvent::UserInvited, attempt = i);
            }
        }
    });
    guard.shutdown().unwrap();
    std::fs::read_to_string(&log.path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Every answer of `questions`, as ids page by page and a count.
fn answers(store: &PostgresStore, questions: &[&str]) -> Vec<(Vec<String>, u64)> {
    questions
        .iter()
        .map(|question| {
            let search = Search::new(Query::parse(question).unwrap()).with_limit(50);
            let page = store.search(&search).unwrap();
            let ids = page.records.iter().map(|r| r.id().to_owned()).collect();
            (ids, store.count(&search).unwrap().records)
        })
        .collect()
}

#[test]
fn a_populated_version_2_table_is_partitioned_and_its_chains_still_verify() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let table = Cluster::table("v2");
    let mut db = client(cluster);
    create_version_2(&mut db, &table);
    let start = Utc::now() - chrono::Duration::days(150);
    let clock = Arc::new(ManualClock(Mutex::new(start)));
    let a = file_lines("a", &clock, 800);
    *clock.0.lock().unwrap() = start;
    let b = file_lines("b", &clock, 800);
    insert_version_2_rows(&mut db, &table, &a);
    insert_version_2_rows(&mut db, &table, &b);

    let questions = [
        "event = authentication.failed",
        "tenant = acme and user = user-3",
        "time > -60d",
        "service.instance = b",
    ];
    let store = PostgresStore::connect_to_table(&cluster.url(), &table).unwrap();
    let before = answers(&store, &questions);
    assert_eq!(before[3].1, 800);

    // A writer of this version starts on it: the table is migrated, then written.
    let log = TempLog::new();
    let (layer, guard) = log
        .builder()
        .with_service_instance("a")
        .with_postgres(
            PostgresConfig::new()
                .with_url(cluster.url())
                .with_table(&table),
        )
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..5 {
            security_event!(SecurityEvent::UserInvited);
        }
    });
    guard.shutdown().unwrap();

    let versions: Vec<i32> = db
        .query(
            &format!("SELECT version FROM {table}_migrations ORDER BY version"),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, [1, 2, 3, 4]);
    let kind: i8 = db
        .query_one(
            "SELECT relkind::\"char\" FROM pg_class WHERE relname = $1",
            &[&table],
        )
        .unwrap()
        .get(0);
    assert_eq!(kind as u8, b'p', "the table is partitioned");
    // A partition per month the rows span, each holding its month's rows.
    let mut month = (start.year(), start.month());
    let now = Utc::now();
    while month <= (now.year(), now.month()) {
        let name = format!("{table}_{:04}{:02}", month.0, month.1);
        let (from, to) = (
            Utc.with_ymd_and_hms(month.0, month.1, 1, 0, 0, 0).unwrap(),
            if month.1 == 12 {
                Utc.with_ymd_and_hms(month.0 + 1, 1, 1, 0, 0, 0).unwrap()
            } else {
                Utc.with_ymd_and_hms(month.0, month.1 + 1, 1, 0, 0, 0)
                    .unwrap()
            },
        );
        let held: i64 = db
            .query_one(&format!("SELECT count(*) FROM {name}"), &[])
            .unwrap()
            .get(0);
        let expected = a
            .iter()
            .chain(&b)
            .filter(|line| {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                let at: DateTime<Utc> = value["timestamp"].as_str().unwrap().parse().unwrap();
                at >= from && at < to
            })
            .count() as i64;
        assert!(
            held >= expected,
            "{name}: {held} rows, {expected} expected at least"
        );
        month = if month.1 == 12 {
            (month.0 + 1, 1)
        } else {
            (month.0, month.1 + 1)
        };
    }
    let stray: i64 = db
        .query_one(&format!("SELECT count(*) FROM {table}_default"), &[])
        .unwrap()
        .get(0);
    assert_eq!(stray, 0);

    let store = PostgresStore::connect_to_table(&cluster.url(), &table).unwrap();
    let after = answers(&store, &questions);
    // The same answers; the time range also holds the five records written since.
    for n in [0, 1, 3] {
        assert_eq!(after[n], before[n], "{}", questions[n]);
    }
    assert_eq!(after[2].1, before[2].1 + 5);
    for (instance, records) in [("a", 805), ("b", 800)] {
        let report = store
            .verify_instance(instance, &VerifyOptions::new())
            .unwrap();
        assert!(report.is_ok(), "{instance}: {:?}", report.problem);
        assert_eq!(report.records, records, "{instance}");
        assert!(report.starts_at_genesis);
    }
}

/// A writer of the fleet: writes records of every kind until told to stop; how many.
fn run_writer(
    cluster: &Cluster,
    table: &str,
    instance: &str,
    stop: &AtomicBool,
    written: &AtomicU64,
) {
    let day = DAY;
    let config = PostgresConfig::new()
        .with_url(cluster.url())
        .with_table(table)
        .with_retention_rule(Query::parse("category = authentication").unwrap(), 90 * day)
        .with_retention_rule(
            Query::parse("event like \"user.role*\"").unwrap(),
            730 * day,
        )
        .with_retention(365 * day)
        .with_retention_interval(Duration::from_millis(200));
    let log = TempLog::new();
    let (layer, guard) = log
        .builder()
        .with_service_instance(instance)
        .with_postgres(config)
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let mut i = 0u64;
        while !stop.load(Ordering::Relaxed) {
            match i % 3 {
                0 => security_event!(SecurityEvent::LoginFailed, attempt = i),
                1 => security_event!(SecurityEvent::UserRoleChanged, attempt = i),
                _ => security_event!(SecurityEvent::UserInvited, attempt = i),
            }
            i += 1;
            written.fetch_add(1, Ordering::Relaxed);
            // About 1,500 records a second each: a busy fleet's pace, which the database
            // absorbs; faster, the sinks' memory (8 MiB) fills and they give records up, counted.
            if i % 10 == 0 {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    });
    guard.shutdown().unwrap();
}

#[test]
fn retention_by_kind_drops_old_partitions_while_writers_run_and_records_every_removal() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let rows: u64 = std::env::var("PARTITION_TEST_ROWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5_000_000);
    let table = Cluster::table("kinds");
    let mut db = client(cluster);
    // The table, made by a writer of this version (no retention yet).
    new_table(&cluster.url(), &table);
    let now = Utc::now();
    create_past_months(&mut db, &table, now, 16);
    let started = Instant::now();
    let history = copy_history(&mut db, &table, rows, now, true);
    println!(
        "{rows} history rows written in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // What must go: a kind's month once its end is older than the kind's age.
    let gone = |(_, kind, at): &(usize, usize, DateTime<Utc>)| {
        month_end(*at) + chrono::Duration::days(i64::from(KINDS[*kind].2)) <= now
    };
    let expected_left: Vec<u64> = (0..3)
        .map(|kind| {
            history
                .iter()
                .filter(|row| row.1 == kind && !gone(row))
                .count() as u64
        })
        .collect();
    assert!(expected_left[1] < history.iter().filter(|r| r.1 == 1).count() as u64);

    // Three writers with the rules, whose upkeep runs retention; a probe inserting beside them
    // measures how long an insert waits meanwhile.
    let stop = Arc::new(AtomicBool::new(false));
    let written: Arc<Vec<AtomicU64>> = Arc::new((0..3).map(|_| AtomicU64::new(0)).collect());
    let writers: Vec<_> = (0..3)
        .map(|n| {
            let (stop, written, table) = (stop.clone(), written.clone(), table.clone());
            let url_cluster: &'static Cluster = cluster;
            std::thread::spawn(move || {
                run_writer(url_cluster, &table, &format!("w{n}"), &stop, &written[n]);
            })
        })
        .collect();
    let probe = insert_probe(cluster.url(), table.clone(), stop.clone(), true);
    let left = |db: &mut postgres::Client, kind: usize| -> u64 {
        db.query_one(
            &format!("SELECT count(*) FROM {table} WHERE instance LIKE 'h%' AND event_name = $1"),
            &[&KINDS[kind].0],
        )
        .unwrap()
        .get::<_, i64>(0) as u64
    };
    let deadline = Instant::now() + Duration::from_secs(600);
    let began = Instant::now();
    while (0..3).any(|kind| left(&mut db, kind) != expected_left[kind]) {
        assert!(
            Instant::now() < deadline,
            "retention did not finish: {:?} left, {expected_left:?} expected",
            (0..3).map(|kind| left(&mut db, kind)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("retention done in {:.1} s", began.elapsed().as_secs_f64());
    // Let the writers go on a little after it, then stop them.
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap();
    }
    let longest = probe.join().unwrap().into_iter().max().unwrap_or_default();
    println!("the longest insert beside retention took {longest:?}");

    // Every writer's record is there.
    for n in 0..3 {
        let rows: i64 = db
            .query_one(
                &format!("SELECT count(*) FROM {table} WHERE instance = $1"),
                &[&format!("w{n}")],
            )
            .unwrap()
            .get(0);
        assert_eq!(rows as u64, written[n].load(Ordering::Relaxed), "w{n}");
    }
    // Partitions went whole: no old sign-in month holds a row, and the dropped ones are gone.
    let leaves: Vec<String> = db
        .query(
            "SELECT relname::text FROM pg_class WHERE relname LIKE $1 AND relkind = 'r'",
            &[&format!("{table}\\_%\\_90")],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(leaves.len() < 16, "{leaves:?}");
    // Each removal is recorded; every chain, cut or not, verifies.
    let removals: i64 = db
        .query_one(
            &format!("SELECT count(*) FROM {table} WHERE event_name = 'audit.records_removed'"),
            &[],
        )
        .unwrap()
        .get(0);
    assert!(removals > 0);
    let store = PostgresStore::connect_to_table(&cluster.url(), &table).unwrap();
    for instance in store.instances().unwrap() {
        if instance == "probe" {
            continue;
        }
        let report = store
            .verify_instance(&instance, &VerifyOptions::new())
            .unwrap();
        assert!(report.is_ok(), "{instance}: {:?}", report.problem);
        if instance.starts_with('h') {
            assert!(!report.removed_by_retention.is_empty(), "{instance}");
        }
    }
    // Sign-ins past their 90 days whose month is not yet dropped are still rows, and in no
    // answer, as the file store answers.
    let held: i64 = db
        .query_one(
            &format!(
                "SELECT count(*) FROM {table} WHERE event_name = 'authentication.failed' \
                 AND timestamp < now() - interval '90 days'"
            ),
            &[],
        )
        .unwrap()
        .get(0);
    assert!(held > 0, "the month straddling the age is kept whole");
    let past = Search::new(Query::parse("event = authentication.failed and time < -90d").unwrap());
    assert_eq!(store.count(&past).unwrap().records, 0);
    assert!(store.search(&past).unwrap().records.is_empty());
    let recent =
        Search::new(Query::parse("event = authentication.failed and time > -80d").unwrap());
    assert!(store.count(&recent).unwrap().records > 0);
    // A removal retention did not make: the first kept sign-in of h0 deleted by hand.
    db.execute(
        &format!(
            "DELETE FROM {table} WHERE (instance, seq) IN (SELECT instance, seq FROM {table} \
             WHERE instance = 'h0' AND retention = '90' ORDER BY seq LIMIT 1)"
        ),
        &[],
    )
    .unwrap();
    let report = store.verify_instance("h0", &VerifyOptions::new()).unwrap();
    let problem = report.problem.expect("a removal without a record is found");
    assert_eq!(problem.kind, ProblemKind::Missing, "{problem}");
}
