//! The PostgreSQL sink and store, measured by hand on a private cluster:
//!
//! ```text
//! cargo bench -p tracing-security-events-e2e --features postgres --bench postgres [-- RECORDS PAGE_ROWS]
//! ```
//!
//! 1. Records per second into PostgreSQL: ours (the pipeline's batches, one `INSERT ... SELECT
//!    FROM unnest` each) against one prepared `INSERT` per record in autocommit, with the same
//!    driver (tokio-postgres, through its blocking `postgres` client), the same rows and table.
//! 2. The newest 50 records of a filtered query over a table of PAGE_ROWS rows (1,000,000 by
//!    default): the file store over the same records against the PostgreSQL store; medians of
//!    21 runs.

#![allow(clippy::print_stdout, reason = "a bench prints its figures")]

#[path = "../tests/pg/mod.rs"]
mod pg;
#[path = "../../examples/support/synthetic_log.rs"]
mod synthetic_log;

use std::time::{Duration, Instant};

use tracing_security_events::query::Query;
use tracing_security_events::sink::postgres::PostgresConfig;
use tracing_security_events::sink::SpoolConfig;
use tracing_security_events::store::{FileStore, LogStore, PostgresStore, Search};

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with('-'));
    let records: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let page_rows: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    // A server as production runs it: every commit durable.
    let Some(cluster) = pg::Cluster::start_with(true) else {
        return;
    };
    let url = cluster.url();

    // 1. Inserts.
    let dir = tempfile::tempdir().unwrap();
    let table = "bench_ours";
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut ours = Duration::ZERO;
    let started = Instant::now();
    let log = synthetic_log::SyntheticLog {
        records,
        rotate_mb: 1024,
        seed: 1,
        days: 7,
        checkpoint_key: None,
        actors: None,
        index: false,
    };
    log.write_then(
        dir.path(),
        // Memory enough to hold the whole run: what is measured is the insert rate.
        |builder| {
            builder.with_postgres(big_backlog(
                PostgresConfig::new().with_url(&url).with_table(table),
            ))
        },
        || {
            wait_for_rows(&url, table, records);
            ours = started.elapsed();
        },
    )
    .unwrap();
    let lines: Vec<String> = std::fs::read_to_string(dir.path().join("security.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    db.batch_execute(&format!(
        "CREATE TABLE row_by_row (LIKE {table} INCLUDING ALL)"
    ))
    .unwrap();
    let insert = db
        .prepare(
            "INSERT INTO row_by_row (id, instance, seq, timestamp, event_name, category, outcome, \
             severity, actor_id, tenant_id, client_ip, service_name, line, record) VALUES \
             ($1::text::uuid, $2, $3, $4::text::timestamptz, $5, $6, $7, $8, $9, $10, \
             $11::text::inet, $12, $13, $14::text::jsonb)",
        )
        .unwrap();
    let started = Instant::now();
    for line in &lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = |p: &str| v.pointer(p).and_then(|x| x.as_str()).map(str::to_owned);
        db.execute(
            &insert,
            &[
                &text("/id"),
                &text("/service/instance").unwrap_or_default(),
                &v["seq"].as_i64(),
                &text("/timestamp"),
                &text("/event/name"),
                &text("/event/category"),
                &text("/event/outcome"),
                &1i16,
                &text("/actor/id"),
                &text("/tenant/id"),
                &text("/client/ip"),
                &text("/service/name"),
                line,
                line,
            ],
        )
        .unwrap();
    }
    let row_by_row = started.elapsed();
    let rate = |d: Duration| records as f64 / d.as_secs_f64();
    println!(
        "inserts, {records} records: ours {:.0}/s (whole pipeline, file sink beside it), one INSERT per record {:.0}/s: {:.1}x",
        rate(ours),
        rate(row_by_row),
        rate(ours) / rate(row_by_row)
    );

    // 2. The newest 50 of a filter over a large table.
    let big = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let log = synthetic_log::SyntheticLog {
        records: page_rows,
        rotate_mb: 64,
        seed: 2,
        days: 30,
        checkpoint_key: None,
        actors: None,
        index: false,
    };
    log.write_then(
        big.path(),
        |builder| {
            builder.with_postgres(big_backlog(
                PostgresConfig::new()
                    .with_url(&url)
                    .with_table("bench_page"),
            ))
        },
        || wait_for_rows(&url, "bench_page", page_rows),
    )
    .unwrap();
    println!(
        "wrote {page_rows} records to files and the table in {:.1?}",
        started.elapsed()
    );
    let written: i64 = db
        .query_one("SELECT count(*) FROM bench_page", &[])
        .unwrap()
        .get(0);
    assert_eq!(written as u64, page_rows, "every record in the table");
    db.batch_execute("VACUUM ANALYZE bench_page").unwrap();
    let file = FileStore::open(big.path().join("security.jsonl")).unwrap();
    let postgres = PostgresStore::connect_to_table(&url, "bench_page").unwrap();
    for text in [
        "event = authentication.failed and tenant = acme",
        "user = user-42",
        "event = user.role_changed and time > -7d",
        "category = api_key or event = data.exported",
    ] {
        let search = Search::new(Query::parse(text).unwrap()).with_limit(50);
        let median = |store: &dyn LogStore| {
            let mut times: Vec<Duration> = (0..21)
                .map(|_| {
                    let started = Instant::now();
                    let page = store.search(&search).unwrap();
                    assert!(!page.records.is_empty());
                    started.elapsed()
                })
                .collect();
            times.sort();
            times[10]
        };
        let (f, p) = (median(&file), median(&postgres));
        println!(
            "newest 50 of `{text}` over {page_rows} records: file store {:.2} ms, PostgreSQL store {:.2} ms",
            f.as_secs_f64() * 1e3,
            p.as_secs_f64() * 1e3
        );
    }
}

/// Room for a whole run in memory.
fn big_backlog(config: PostgresConfig) -> PostgresConfig {
    config.with_spool(SpoolConfig::new().with_memory_limit(4 << 30))
}

/// Waits until `table` holds `rows` rows.
fn wait_for_rows(url: &str, table: &str, rows: u64) {
    let mut db = postgres::Client::connect(url, postgres::NoTls).unwrap();
    loop {
        let count: i64 = db
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .unwrap()
            .get(0);
        if count as u64 >= rows {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
