//! A history of sealed rows written straight into a table with COPY: millions of records
//! over the past months, in chains per instance and kind as the sink seals them, for the
//! retention test and bench.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, TimeZone, Utc};
use tracing_security_events::integrity::chain::{ChainHash, ChainHasher};

/// The kinds of the retention test: role changes kept two years, sign-ins 90 days, the rest a
/// year.
pub const KINDS: [(&str, &str, u32); 3] = [
    ("user.role_changed", "user", 730),
    ("authentication.failed", "authentication", 90),
    ("user.invited", "user", 365),
];

/// The kind of generated row `i`: 5% role changes, 70% sign-ins, 25% the rest.
pub fn kind_of(i: u64) -> usize {
    match i % 20 {
        0 => 0,
        1..=14 => 1,
        _ => 2,
    }
}

/// The first instant of the month after `at`'s.
pub fn month_end(at: DateTime<Utc>) -> DateTime<Utc> {
    let (year, month) = if at.month() == 12 {
        (at.year() + 1, 1)
    } else {
        (at.year(), at.month() + 1)
    };
    Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0).unwrap()
}

/// Creates the months' partitions of the last `months` months as the sink names them.
pub fn create_past_months(db: &mut postgres::Client, table: &str, now: DateTime<Utc>, months: u32) {
    let mut at = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .unwrap();
    for _ in 0..months {
        at = (at - chrono::Duration::days(1)).with_day(1).unwrap();
        let name = format!("{table}_{:04}{:02}", at.year(), at.month());
        let to = month_end(at);
        let mut sql = format!(
            "CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ('{}') TO ('{}') PARTITION BY LIST (retention);
             CREATE TABLE {name}_d PARTITION OF {name} DEFAULT;",
            at.format("%Y-%m-%d"),
            to.format("%Y-%m-%d")
        );
        for (_, _, days) in KINDS {
            sql.push_str(&format!(
                "CREATE TABLE {name}_{days} PARTITION OF {name} FOR VALUES IN ('{days}');"
            ));
        }
        db.batch_execute(&sql).unwrap();
    }
}

/// One chain per instance and kind, as the sink seals them.
struct Chains {
    hasher: ChainHasher,
    tips: Vec<ChainHash>,
}

/// Writes `rows` history rows for instances h0..h2 over the last 15 months, sealed in their
/// chains, with COPY; `classes`: with the `retention` column of schema version 4 (without it,
/// into a table of version 2). Each row: (instance, kind, timestamp).
pub fn copy_history(
    db: &mut postgres::Client,
    table: &str,
    rows: u64,
    now: DateTime<Utc>,
    classes: bool,
) -> Vec<(usize, usize, DateTime<Utc>)> {
    let span = chrono::Duration::days(450).num_microseconds().unwrap();
    let first = now - chrono::Duration::days(450);
    let mut chains = Chains {
        hasher: ChainHasher::new(None),
        tips: vec![ChainHash::GENESIS; 9],
    };
    let mut seqs = [0u64; 3];
    let mut kept = Vec::with_capacity(rows as usize);
    let mut writer = db
        .copy_in(&format!(
            "COPY {table} (id, instance, seq, timestamp, event_name, category, outcome, severity, \
             tenant_id, service_name, line, record{}) FROM STDIN",
            if classes { ", retention" } else { "" }
        ))
        .unwrap();
    let mut buffer = Vec::with_capacity(1 << 20);
    let mut sealed = Vec::with_capacity(512);
    for i in 0..rows {
        let instance = (i % 3) as usize;
        let kind = kind_of(i / 3);
        let at = first + chrono::Duration::microseconds(span / rows as i64 * i as i64);
        seqs[instance] += 1;
        let seq = seqs[instance];
        let (event, category, days) = KINDS[kind];
        let id = uuid::Uuid::new_v4();
        let time = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let line = format!(
            r#"{{"schema":1,"id":"{id}","seq":{seq},"timestamp":"{time}","event":{{"name":"{event}","category":"{category}","outcome":"failure","severity":"warn"}},"message":"history","tenant":{{"id":"t{}"}},"fields":{{"n":{i}}},"service":{{"name":"bench","instance":"h{instance}"}}}}"#,
            i % 7
        );
        sealed.clear();
        let chain = instance * 3 + kind;
        chains.tips[chain] = chains
            .hasher
            .seal(&chains.tips[chain], line.as_bytes(), &mut sealed);
        let sealed_line = std::str::from_utf8(sealed.strip_suffix(b"\n").unwrap()).unwrap();
        // COPY's text format: backslashes doubled (the lines hold no tab or line feed).
        let escaped = sealed_line.replace('\\', "\\\\");
        writeln!(
            buffer,
            "{id}\th{instance}\t{seq}\t{time}\t{event}\t{category}\tfailure\t2\tt{}\tbench\t{escaped}\t{escaped}{}",
            i % 7,
            if classes { format!("\t{days}") } else { String::new() }
        )
        .unwrap();
        if buffer.len() > (1 << 20) - 4096 {
            writer.write_all(&buffer).unwrap();
            buffer.clear();
        }
        kept.push((instance, kind, at));
    }
    writer.write_all(&buffer).unwrap();
    writer.finish().unwrap();
    kept
}

/// Schema versions 1 and 2 as they were released (a copy: the crate only keeps its steps).
pub fn create_version_2(db: &mut postgres::Client, t: &str) {
    db.batch_execute(&format!(
        "CREATE TABLE {t}_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
         INSERT INTO {t}_migrations (version) VALUES (1), (2);
         CREATE TABLE {t} (
            id uuid PRIMARY KEY, instance text NOT NULL, seq bigint NOT NULL,
            timestamp timestamptz NOT NULL, event_name text NOT NULL, category text NOT NULL,
            outcome text NOT NULL, severity smallint NOT NULL, actor_id text, tenant_id text,
            client_ip inet, service_name text, line text NOT NULL, record jsonb NOT NULL,
            UNIQUE (instance, seq));
         CREATE INDEX {t}_timestamp_id ON {t} (timestamp DESC, id DESC);
         CREATE INDEX {t}_tenant_timestamp ON {t} (tenant_id, timestamp DESC);
         CREATE INDEX {t}_event_timestamp ON {t} (event_name, timestamp DESC);
         CREATE INDEX {t}_actor_timestamp ON {t} (actor_id, timestamp DESC);
         CREATE INDEX {t}_actor_name_timestamp ON {t} ((record #>> '{{actor,name}}'), timestamp DESC);
         CREATE INDEX {t}_actor_email_timestamp ON {t} ((record #>> '{{actor,email}}'), timestamp DESC);"
    ))
    .unwrap();
}

/// Makes `table` as a writer of this version does (migrated, this month and the next made),
/// without writing to it.
pub fn new_table(url: &str, table: &str) {
    let (_layer, guard) = tracing_security_events::builder()
        .with_service_instance("setup")
        .with_postgres(
            tracing_security_events::sink::postgres::PostgresConfig::new()
                .with_url(url)
                .with_table(table),
        )
        .build::<tracing_subscriber::Registry>()
        .unwrap();
    guard.shutdown().unwrap();
}

/// Inserts one row into `table` every 10 ms until `stop`, as a writer beside the work being
/// measured; each insert's latency. `classes`: the table has the `retention` column.
pub fn insert_probe(
    url: String,
    table: String,
    stop: Arc<AtomicBool>,
    classes: bool,
) -> std::thread::JoinHandle<Vec<Duration>> {
    std::thread::spawn(move || {
        let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let (column, value) = if classes {
            (", retention", ", '90'")
        } else {
            ("", "")
        };
        let statement = format!(
            "INSERT INTO {table} (id, instance, seq, timestamp, event_name, category, outcome, \
             severity, line, record{column}) VALUES (gen_random_uuid(), 'probe', $1, now(), \
             'probe', 'probe', 'success', 1, '{{}}', '{{}}'{value})"
        );
        // Numbered from the clock: probes one after the other never reuse a `seq`.
        let mut seq = chrono::Utc::now().timestamp_micros();
        let mut latencies = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            seq += 1;
            let began = Instant::now();
            db.execute(&statement, &[&seq]).unwrap();
            latencies.push(began.elapsed());
            std::thread::sleep(Duration::from_millis(10));
        }
        latencies
    })
}
