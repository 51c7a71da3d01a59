//! The PostgreSQL sink against a real server (a private cluster started by the test): rows as
//! the records, a newer schema refused (migrations: `partitions.rs`), an outage mid-stream, two writers, restarts continuing `seq` and the
//! chain, retention while writing, hostile values.
#![cfg(feature = "postgres")]

mod common;
mod pg;

use std::time::Duration;

use common::TempLog;
use pg::Cluster;
use serde_json::Value;
use tracing_security_events::sink::postgres::{PostgresConfig, PostgresError};
use tracing_security_events::sink::SpoolConfig;
use tracing_security_events::{security_event, BuildError, SecurityEvent};
use tracing_subscriber::prelude::*;

fn client(cluster: &Cluster) -> postgres::Client {
    postgres::Client::connect(&cluster.url(), postgres::NoTls).unwrap()
}

/// Writes `n` records through a pipeline with a file sink and the PostgreSQL sink.
fn write(log: &TempLog, config: PostgresConfig, instance: &str, n: u32) {
    write_paced(log, config, instance, n, || {}, false);
}

/// As `write`, calling `ready` once the log is built (connected, table migrated) and, when
/// `paced`, pausing a millisecond every 100 records so that the writing takes a while.
fn write_paced(
    log: &TempLog,
    config: PostgresConfig,
    instance: &str,
    n: u32,
    ready: impl FnOnce(),
    paced: bool,
) {
    let (layer, guard) = log
        .builder()
        .with_service_instance(instance)
        .with_postgres(config)
        .build()
        .unwrap();
    ready();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..n {
            if paced && i % 100 == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
            let span = tracing::info_span!("request", actor.id = %format!("user-{}", i % 7), tenant.id = if i % 2 == 0 { "acme" } else { "globex" }, client.ip = "203.0.113.9");
            let _entered = span.enter();
            security_event!(
                SecurityEvent::LoginFailed,
                authentication.method = "password",
                attempt = i
            );
        }
    });
    guard.shutdown().unwrap();
}

/// The sink's settings for `table` of `cluster`.
fn sink(cluster: &Cluster, table: &str) -> PostgresConfig {
    PostgresConfig::new()
        .with_url(cluster.url())
        .with_table(table)
}

/// A log written to a file and to the new table `name` of the shared cluster.
fn file_and_table(
    cluster: &Cluster,
    name: &str,
) -> (
    TempLog,
    String,
    tracing_security_events::SecurityLayer<tracing_subscriber::Registry>,
    tracing_security_events::FlushGuard,
) {
    let table = Cluster::table(name);
    let log = TempLog::new();
    let (layer, guard) = log
        .builder()
        .with_postgres(sink(cluster, &table))
        .build()
        .unwrap();
    (log, table, layer, guard)
}

/// The rows' lines, by instance and seq.
fn lines(cluster: &Cluster, table: &str) -> Vec<(String, i64, String)> {
    client(cluster)
        .query(
            &format!("SELECT instance, seq, line FROM {table} ORDER BY instance, seq"),
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect()
}

/// A record without its seal, to compare a row with the file's line.
fn unsealed(line: &str) -> Value {
    let mut value: Value = serde_json::from_str(line).unwrap();
    value.as_object_mut().unwrap().remove("integrity");
    value
}

#[test]
fn records_become_rows_and_a_restart_continues_the_instances_seq_and_chain() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let table = Cluster::table("sink");
    let config = || sink(cluster, &table);
    let log = TempLog::new();
    write(&log, config(), "app-1", 300);
    write(&log, config(), "app-1", 200);
    let rows = lines(cluster, &table);
    assert_eq!(rows.len(), 500);
    let seqs: Vec<i64> = rows.iter().map(|r| r.1).collect();
    assert_eq!(
        seqs,
        (1..=500).collect::<Vec<_>>(),
        "the second run continues after the first"
    );
    let file = log.records();
    assert_eq!(file.len(), 500);
    for (row, record) in rows.iter().zip(&file) {
        assert_eq!(unsealed(&row.2), unsealed(&record.to_string()));
    }
    // Each row is sealed in the instance's chain: prev is the hash of the row before.
    let mut prev = tracing_security_events::integrity::GENESIS.to_owned();
    for (_, _, line) in &rows {
        let value: Value = serde_json::from_str(line).unwrap();
        assert_eq!(value["integrity"]["prev"], prev.as_str());
        prev = value["integrity"]["hash"].as_str().unwrap().to_owned();
    }
    let mut db = client(cluster);
    let version: i32 = db
        .query_one(&format!("SELECT max(version) FROM {table}_migrations"), &[])
        .unwrap()
        .get(0);
    assert_eq!(version, 4);
    let columns: (String, String, Option<String>, i16) = {
        let row = db
            .query_one(&format!("SELECT event_name, tenant_id, host(client_ip), severity FROM {table} WHERE seq = 2"), &[])
            .unwrap();
        (row.get(0), row.get(1), row.get(2), row.get(3))
    };
    assert_eq!(
        columns,
        (
            "authentication.failed".into(),
            "globex".into(),
            Some("203.0.113.9".into()),
            2
        )
    );
}

#[test]
fn a_table_newer_than_the_crate_is_refused_with_a_clear_error() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let table = Cluster::table("newer");
    let log = TempLog::new();
    write(&log, sink(cluster, &table), "a", 1);
    client(cluster)
        .execute(
            &format!("INSERT INTO {table}_migrations (version) VALUES (99)"),
            &[],
        )
        .unwrap();
    let error = log
        .builder()
        .with_postgres(sink(cluster, &table))
        .build::<tracing_subscriber::Registry>()
        .unwrap_err();
    assert!(
        matches!(
            error,
            BuildError::Postgres(PostgresError::NewerSchema {
                found: 99,
                known: 4,
                ..
            })
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains("schema version 99, newer than"),
        "{error}"
    );
    let bad = log
        .builder()
        .with_postgres(
            PostgresConfig::new()
                .with_url(cluster.url())
                .with_table("x; DROP TABLE y"),
        )
        .build::<tracing_subscriber::Registry>()
        .unwrap_err();
    assert!(bad.to_string().contains("table `x; DROP TABLE y`"), "{bad}");
}

#[test]
fn an_outage_mid_stream_loses_nothing_and_repeats_nothing() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let table = Cluster::table("outage");
    let spool = tempfile::tempdir().unwrap();
    let log = TempLog::new();
    let (layer, guard) = log
        .builder()
        .with_service_instance("app-1")
        .with_postgres(
            sink(&cluster, &table).with_spool(
                SpoolConfig::new()
                    .with_memory_limit(64 << 10)
                    .with_dir(spool.path()),
            ),
        )
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..6000u32 {
            if i == 1500 {
                cluster.stop();
            }
            if i == 4500 {
                cluster.start_again();
            }
            security_event!(SecurityEvent::UserUpdated, target.id = %format!("u{i}"), note = "x".repeat(100));
        }
    });
    let stats = guard.shutdown().unwrap();
    assert_eq!(stats.dropped, 0);
    let rows = lines(&cluster, &table);
    let seqs: Vec<i64> = rows.iter().map(|r| r.1).collect();
    assert_eq!(
        seqs,
        (1..=6000).collect::<Vec<_>>(),
        "every record once, in order"
    );
    let ids: std::collections::HashSet<_> =
        rows.iter().map(|r| unsealed(&r.2)["id"].clone()).collect();
    assert_eq!(ids.len(), 6000);
}

#[test]
fn hostile_values_are_stored_as_written() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let (log, table, layer, guard) = file_and_table(cluster, "hostile");
    let big = "é".repeat(1 << 19);
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        security_event!(
            SecurityEvent::InputValidationFailed,
            value = "'; DROP TABLE security_events; --",
            actor.id = "o'brien\""
        );
        security_event!(
            SecurityEvent::InputValidationFailed,
            value = "nul\0byte \x1b[31m\r\nnext"
        );
        security_event!(SecurityEvent::InputValidationFailed, value = big.as_str());
    });
    guard.shutdown().unwrap();
    let file = log.records();
    let rows = lines(cluster, &table);
    assert_eq!(rows.len(), 3);
    for (row, record) in rows.iter().zip(&file) {
        assert_eq!(unsealed(&row.2), unsealed(&record.to_string()));
        assert!(!row.2.contains('\n'));
    }
    let actor: String = client(cluster)
        .query_one(&format!("SELECT actor_id FROM {table} WHERE seq = 1"), &[])
        .unwrap()
        .get(0);
    assert_eq!(actor, "o'brien\"");
}

/// A value the database refuses, however chosen, stops nothing: NUL in the indexed text
/// columns is stored as the jsonb copy stores it, and a record the database refuses (an actor
/// id too long for its index) is found by splitting its batch, counted and recorded with the
/// server's reason, while every other record goes in, in order.
#[test]
fn a_poison_record_never_stops_the_sink() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let (log, table, layer, guard) = file_and_table(cluster, "poison");
    // Random letters do not compress: 12,000 of them exceed a B-tree entry's 2,704 bytes.
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let long: String = (0..12_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'a' + (state % 26) as u8)
        })
        .collect();
    let subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    for n in 0..300 {
        match n {
            100 => security_event!(
                SecurityEvent::UserUpdated,
                actor.id = "nul\0id",
                tenant.id = "t\0"
            ),
            150 => security_event!(SecurityEvent::UserUpdated, actor.id = long.as_str()),
            _ => security_event!(SecurityEvent::UserUpdated, actor.id = n),
        }
    }
    // The refusal is found on the sink's own thread; the next batch the log writes after it
    // carries the notice.
    let _ = guard.flush();
    for _ in 0..200 {
        security_event!(SecurityEvent::UserUpdated, actor.id = "after");
        std::thread::sleep(Duration::from_millis(20));
        let _ = guard.flush();
        if std::fs::read_to_string(&log.path).is_ok_and(|t| t.contains("audit.events_dropped")) {
            break;
        }
    }
    drop(subscriber);
    guard.shutdown().unwrap();
    let file = log.records();
    let rows = lines(cluster, &table);
    let stored: Vec<&str> = rows.iter().map(|row| row.2.as_str()).collect();
    let expected: Vec<String> = file
        .iter()
        .map(ToString::to_string)
        .filter(|line| !line.contains(&long))
        .filter(|line| stored.contains(&line.as_str()) || !line.contains("audit.events_dropped"))
        .collect();
    assert_eq!(
        stored.len(),
        expected.len(),
        "every other record in the table"
    );
    for (row, record) in stored.iter().zip(&expected) {
        assert_eq!(unsealed(row), unsealed(record), "in order");
    }
    let actor: String = client(cluster)
        .query_one(
            &format!("SELECT actor_id FROM {table} WHERE actor_id LIKE 'nul%'"),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(actor, "nul\u{FFFD}id");
    let notice = file
        .iter()
        .find(|r| r["event"]["name"] == "audit.events_dropped")
        .expect("the refused record is recorded");
    assert_eq!(notice["fields"]["dropped"], 1);
    assert!(notice["fields"]["sink"]
        .as_str()
        .unwrap()
        .starts_with("postgres:"));
    let reason = notice["event"]["reason"]
        .as_str()
        .or(notice["fields"]["reason"].as_str())
        .unwrap_or_default();
    assert!(
        reason.contains("index row") && reason.contains("54000"),
        "{notice}"
    );
}

#[test]
fn retention_deletes_only_what_is_old_while_writers_go_on() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let table = Cluster::table("retention");
    let log = TempLog::new();
    write(&log, sink(cluster, &table), "old", 12_000);
    // Those 12,000 rows are made a year old.
    let mut db = client(cluster);
    db.execute(
        &format!("UPDATE {table} SET timestamp = timestamp - interval '365 days'"),
        &[],
    )
    .unwrap();
    let config = sink(cluster, &table)
        .with_retention(Duration::from_secs(30 * 86_400))
        .with_retention_interval(Duration::from_millis(50));
    let (layer, guard) = log
        .builder()
        .with_service_instance("new")
        .with_postgres(config)
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..3000u32 {
            security_event!(SecurityEvent::LoginSucceeded, attempt = i);
            if i % 500 == 0 {
                std::thread::sleep(Duration::from_millis(30));
            }
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let old: i64 = db
                .query_one(
                    &format!("SELECT count(*) FROM {table} WHERE instance = 'old'"),
                    &[],
                )
                .unwrap()
                .get(0);
            if old == 0 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{old} old rows left");
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    guard.shutdown().unwrap();
    let new: i64 = db
        .query_one(
            &format!("SELECT count(*) FROM {table} WHERE instance = 'new'"),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(new, 3000);
}

/// Run as a child process by `two_processes_write_at_once_and_both_chains_verify`: writes the
/// records its environment asks for, then exits.
#[test]
fn child_writer() {
    let Ok(spec) = std::env::var("PG_CHILD_WRITER") else {
        return;
    };
    let parts: Vec<&str> = spec.split('|').collect();
    let [url, table, instance, n, start] = parts.as_slice() else {
        panic!("{spec}")
    };
    // Both children connect, then begin when the parent says, and write for a while (over
    // 100 ms), so that they write at the same time however fast the machine.
    write_paced(
        &TempLog::new(),
        PostgresConfig::new().with_url(*url).with_table(*table),
        instance,
        n.parse().unwrap(),
        || {
            std::fs::write(format!("{start}.{instance}.ready"), "").unwrap();
            while !std::path::Path::new(start).exists() {
                std::thread::sleep(Duration::from_millis(5));
            }
        },
        true,
    );
}

#[test]
fn two_processes_write_at_once_and_both_chains_verify() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let table = Cluster::table("two");
    let signal = tempfile::tempdir().unwrap();
    let start = signal.path().join("start");
    let children: Vec<_> = ["app-1", "app-2"]
        .iter()
        .map(|instance| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "child_writer", "--test-threads", "1"])
                .env(
                    "PG_CHILD_WRITER",
                    format!(
                        "{}|{table}|{instance}|10000|{}",
                        cluster.url(),
                        start.display()
                    ),
                )
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    for instance in ["app-1", "app-2"] {
        let ready = format!("{}.{instance}.ready", start.display());
        while !std::path::Path::new(&ready).exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "{instance} never connected"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    std::fs::write(&start, "go").unwrap();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let store =
        tracing_security_events::store::PostgresStore::connect_to_table(&cluster.url(), &table)
            .unwrap();
    assert_eq!(store.instances().unwrap(), ["app-1", "app-2"]);
    for instance in ["app-1", "app-2"] {
        let report = store
            .verify_instance(
                instance,
                &tracing_security_events::integrity::VerifyOptions::new(),
            )
            .unwrap();
        assert!(report.is_ok(), "{instance}: {:?}", report.problem);
        assert_eq!(report.records, 10_000);
        assert!(report.starts_at_genesis);
    }
    // Written at the same time: their rows interleave in time.
    let rows = lines(cluster, &table);
    assert_eq!(rows.len(), 20_000);
    let mut db = client(cluster);
    let switches: i64 = db
        .query_one(
            &format!(
                "SELECT count(*) FROM (SELECT instance, lag(instance) OVER (ORDER BY timestamp, id) AS before FROM {table}) t WHERE instance <> before"
            ),
            &[],
        )
        .unwrap()
        .get(0);
    assert!(
        switches > 1,
        "the two writers did not overlap ({switches} switches)"
    );
}

#[test]
fn a_postgres_sink_from_the_configuration_file() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let table = Cluster::table("configured");
    let text = format!(
        "[[sinks]]\ntype = \"postgres\"\nurl = {:?}\ntable = {table:?}\nretention = \"400d\"\n",
        cluster.url()
    );
    // The sink's URL variable is not a configuration key.
    let env = vec![(
        "SECURITY_LOG_DATABASE_URL".to_owned(),
        "postgres://elsewhere/db".to_owned(),
    )];
    let config = tracing_security_events::config::Config::parse(&text, "test.toml", env).unwrap();
    let (layer, guard) = tracing_security_events::Builder::from_config(&config)
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        security_event!(SecurityEvent::ApiKeyRotated, target.id = "k-1");
    });
    guard.shutdown().unwrap();
    assert_eq!(lines(cluster, &table).len(), 1);

    let bad = format!(
        "[[sinks]]\ntype = \"postgres\"\nurl = {:?}\ntable = \"Bad-Name\"\n",
        cluster.url()
    );
    let config =
        tracing_security_events::config::Config::parse(&bad, "test.toml", Vec::new()).unwrap();
    let error = tracing_security_events::Builder::from_config(&config)
        .build::<tracing_subscriber::Registry>()
        .unwrap_err();
    assert!(error.to_string().contains("sinks[0].table"), "{error}");
}
