//! The store over real logs written by the layer: answers checked against serde_json over the
//! same files, paging while a thread writes and the log rotates, torn and garbage lines.
#![cfg(feature = "query")]

mod common;

use std::collections::HashSet;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::TempLog;
use serde_json::Value;
use tracing_security_events::query::{Field, Query};
use tracing_security_events::sink::FileConfig;
use tracing_security_events::store::{
    Aggregate, Deadline, FileStore, LogStore, Order, Scope, Search, StoreError,
};
use tracing_security_events::{security_event, SecurityEvent};
use tracing_subscriber::prelude::*;

/// Every record of the log's files, oldest first, read with serde_json.
fn all_records(store: &FileStore) -> Vec<Value> {
    store
        .paths()
        .unwrap()
        .iter()
        .flat_map(|path| {
            std::fs::read_to_string(path)
                .unwrap()
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|v| v.get("schema").is_some())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A value as text ("" when it is not text).
fn s(v: &Value) -> String {
    v.as_str().unwrap_or("").to_owned()
}

/// A log of varied records, written through the layer.
fn varied_log(log: &TempLog) {
    let (layer, guard) = log.builder().build().unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for n in 0..600u32 {
            let user = format!("user-{}", n % 7);
            let ip = format!("203.0.113.{}", n % 50);
            let span = tracing::info_span!(
                "request",
                actor.id = %user,
                actor.email = %format!("{user}@Example.com"),
                client.ip = %ip,
                http.method = if n % 3 == 0 { "POST" } else { "GET" },
                url.path = %format!("/api/{}", n % 4),
            );
            let _entered = span.enter();
            match n % 5 {
                0 => security_event!(
                    SecurityEvent::LoginFailed,
                    authentication.method = "password",
                    attempt = n
                ),
                1 => security_event!(
                    SecurityEvent::LoginSucceeded,
                    authentication.method = "totp"
                ),
                2 => security_event!(SecurityEvent::DataExported, rows = n * 10, format = "csv"),
                3 => {
                    security_event!(SecurityEvent::UserInvited, target.id = %format!("t{n}"), note = "hello <script>")
                }
                _ => security_event!(SecurityEvent::ApiKeyRotated, reason = "scheduled"),
            }
        }
    });
    guard.shutdown().unwrap();
}

#[test]
fn answers_match_serde_json_over_the_same_file() {
    let log = TempLog::new();
    varied_log(&log);
    let store = FileStore::open(&log.path).unwrap();
    let records = all_records(&store);
    assert_eq!(records.len(), 600);
    type Check = Box<dyn Fn(&Value) -> bool>;
    let cases: Vec<(&str, Check)> = vec![
        (
            "event = authentication.failed",
            Box::new(|r| r["event"]["name"] == "authentication.failed"),
        ),
        (
            "event like \"authentication.*\"",
            Box::new(|r| s(&r["event"]["name"]).starts_with("authentication.")),
        ),
        (
            "category = data",
            Box::new(|r| r["event"]["category"] == "data"),
        ),
        (
            "outcome != success",
            Box::new(|r| r["event"]["outcome"] != "success"),
        ),
        (
            "severity >= warn",
            Box::new(|r| {
                ["warn", "error", "critical"].contains(&s(&r["event"]["severity"]).as_str())
            }),
        ),
        ("user = user-3", Box::new(|r| r["actor"]["id"] == "user-3")),
        (
            "user ~ \"USER-3@example\"",
            Box::new(|r| {
                s(&r["actor"]["email"])
                    .to_lowercase()
                    .contains("user-3@example")
            }),
        ),
        (
            "ip in (203.0.113.0/28)",
            Box::new(|r| {
                s(&r["client"]["ip"])
                    .rsplit('.')
                    .next()
                    .unwrap()
                    .parse::<u8>()
                    .unwrap()
                    < 16
            }),
        ),
        (
            "ip = 203.0.113.7",
            Box::new(|r| r["client"]["ip"] == "203.0.113.7"),
        ),
        (
            "request.method = POST and request.path endswith 2",
            Box::new(|r| {
                r["request"]["method"] == "POST" && s(&r["request"]["path"]).ends_with('2')
            }),
        ),
        (
            "fields.rows > 3000",
            Box::new(|r| r["fields"]["rows"].as_u64().is_some_and(|n| n > 3000)),
        ),
        (
            "fields.authentication.method in (password, totp)",
            Box::new(|r| {
                ["password", "totp"].contains(&s(&r["fields"]["authentication.method"]).as_str())
            }),
        ),
        (
            "fields.note ~ \"<SCRIPT>\"",
            Box::new(|r| s(&r["fields"]["note"]).contains("<script>")),
        ),
        (
            "target.id exists",
            Box::new(|r| r["target"]["id"].is_string()),
        ),
        (
            "not target.id exists or seq < 10",
            Box::new(|r| !r["target"]["id"].is_string() || r["seq"].as_u64().unwrap() < 10),
        ),
        (
            "seq >= 100 and seq < 200 and not (event = user.invited or event = api_key.rotated)",
            Box::new(|r| {
                let seq = r["seq"].as_u64().unwrap();
                (100..200).contains(&seq)
                    && r["event"]["name"] != "user.invited"
                    && r["event"]["name"] != "api_key.rotated"
            }),
        ),
        ("time > -1h and time <= now", Box::new(|_| true)),
        ("time < 2000-01-01", Box::new(|_| false)),
        (
            "message ~ exported",
            Box::new(|r| s(&r["message"]).to_lowercase().contains("exported")),
        ),
        (
            "fields.reason = scheduled",
            Box::new(|r| r["fields"]["reason"] == "scheduled"),
        ),
    ];
    for (text, check) in cases {
        let query = Query::parse(text).unwrap_or_else(|e| panic!("{text}: {e:#}"));
        let expected: Vec<String> = records
            .iter()
            .rev()
            .filter(|r| check(r))
            .map(|r| s(&r["id"]))
            .collect();
        let count = store.count(&Search::new(query.clone())).unwrap();
        assert_eq!(count.records, expected.len() as u64, "count of {text}");
        let page = store
            .search(&Search::new(query.clone()).with_limit(10_000))
            .unwrap();
        let got: Vec<String> = page.records.iter().map(|r| r.id().to_owned()).collect();
        assert_eq!(got, expected, "search of {text}");
        let mut exported = Vec::new();
        store
            .export(
                &Search::new(query).with_order(Order::OldestFirst),
                &mut |r| {
                    exported.push(r.id().to_owned());
                    Ok(())
                },
            )
            .unwrap();
        exported.reverse();
        assert_eq!(exported, expected, "export of {text}");
    }
    // One record by id; the lines come back exactly as written.
    let text = std::fs::read_to_string(&log.path).unwrap();
    let line = text.lines().nth(123).unwrap();
    let id = serde_json::from_str::<Value>(line).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        store
            .get(&id, &Scope::All, &Deadline::none())
            .unwrap()
            .unwrap()
            .line(),
        line
    );
    assert!(store
        .get("no-such-id", &Scope::All, &Deadline::none())
        .unwrap()
        .is_none());
    assert!(
        store
            .get(&id, &Scope::Tenant("acme".into()), &Deadline::none())
            .unwrap()
            .is_none(),
        "a record of no tenant is not another tenant's"
    );
}

#[test]
fn grouped_counts_match_serde_json() {
    let log = TempLog::new();
    varied_log(&log);
    let store = FileStore::open(log.dir.path()).unwrap();
    let records = all_records(&store);
    let by_event = Aggregate::new(Query::parse("seq > 50").unwrap())
        .by(Field::parse("event").unwrap())
        .by(Field::parse("user").unwrap());
    let aggregation = store.aggregate(&by_event).unwrap();
    let mut expected = std::collections::HashMap::new();
    for r in records.iter().filter(|r| r["seq"].as_u64().unwrap() > 50) {
        let key = (
            r["event"]["name"].as_str().unwrap().to_owned(),
            r["actor"]["id"].as_str().unwrap().to_owned(),
        );
        *expected.entry(key).or_insert(0u64) += 1;
    }
    assert_eq!(aggregation.buckets.len(), expected.len());
    for bucket in &aggregation.buckets {
        assert_eq!(bucket.key[0].0, "event.name");
        assert_eq!(bucket.key[1].0, "user");
        let key = (
            bucket.key[0].1.clone().unwrap(),
            bucket.key[1].1.clone().unwrap(),
        );
        assert_eq!(bucket.count, expected[&key], "{key:?}");
    }
    assert!(aggregation
        .buckets
        .windows(2)
        .all(|w| w[0].count >= w[1].count));
    // Every record grouped without parsing (the fast path) and the same through the parser.
    let grouped = |query: &str| {
        let request = Aggregate::new(Query::parse(query).unwrap())
            .by(Field::parse("event").unwrap())
            .by(Field::parse("user").unwrap())
            .by(Field::parse("client.port").unwrap())
            .by(Field::parse("tenant").unwrap())
            .every(Duration::from_secs(60));
        store.aggregate(&request).unwrap()
    };
    assert_eq!(grouped(""), grouped("seq > 0"));
    let per_hour = store
        .aggregate(&Aggregate::new(Query::new()).every(Duration::from_secs(3600)))
        .unwrap();
    assert_eq!(per_hour.buckets.iter().map(|b| b.count).sum::<u64>(), 600);
    assert!(per_hour.buckets.iter().all(|b| b.start.is_some()));
}

#[test]
fn torn_and_garbage_lines_are_skipped_and_counted() {
    let log = TempLog::new();
    varied_log(&log);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&log.path)
        .unwrap();
    // Garbage in the middle would be an attack on the file; at the end, a crash mid-write.
    file.write_all(b"not json at all\n{\"no\":\"schema\"}\n\xff\xfe\n{\"schema\":1,\"id\":\"torn")
        .unwrap();
    drop(file);
    let store = FileStore::open(&log.path).unwrap();
    let count = store.count(&Search::new(Query::new())).unwrap();
    assert_eq!((count.records, count.skipped_lines), (600, 4));
    let page = store
        .search(&Search::new(Query::new()).with_limit(5))
        .unwrap();
    assert_eq!(page.records.len(), 5);
    assert_eq!(page.skipped_lines, 4);
    assert_eq!(page.records[0].value()["seq"], 600);
}

#[test]
fn a_cursor_from_elsewhere_is_refused() {
    let log = TempLog::new();
    varied_log(&log);
    let store = FileStore::open(&log.path).unwrap();
    let page = store
        .search(&Search::new(Query::new()).with_limit(3))
        .unwrap();
    let cursor = page.next_cursor.unwrap();
    let other = TempLog::new();
    varied_log(&other);
    let other = FileStore::open(&other.path).unwrap();
    // Another log: its files have other first records, so the cursor's file is not found
    // and paging newest first ends there.
    let elsewhere = other
        .search(&Search::new(Query::new()).with_cursor(Some(cursor.clone())))
        .unwrap();
    assert!(elsewhere.records.is_empty());
    // The log itself, edited under the cursor: refused.
    let text = std::fs::read_to_string(&log.path).unwrap();
    std::fs::write(&log.path, text.replacen("\"seq\":1,", "\"seq\":1, ", 1)).unwrap();
    let edited = store.search(&Search::new(Query::new()).with_cursor(Some(cursor)));
    assert!(matches!(edited, Err(StoreError::BadCursor)), "{edited:?}");
    assert!("garbage"
        .parse::<tracing_security_events::store::Cursor>()
        .is_err());
}

#[test]
fn one_file_for_two_file_sinks_is_refused() {
    let log = TempLog::new();
    let twice = log
        .builder()
        .with_file(log.dir.path().join("./security.jsonl"))
        .build::<tracing_subscriber::Registry>();
    let Err(error) = twice else {
        panic!("two file sinks on one file were accepted");
    };
    let error = error.to_string();
    assert!(error.contains("given to two file sinks"), "{error}");
}

#[test]
fn paging_while_the_log_is_written_and_rotates_sees_every_record_once() {
    const RECORDS: u64 = 20_000;
    let log = TempLog::new();
    let (layer, guard) = tracing_security_events::builder()
        .with_file_config(FileConfig::new(&log.path).rotate_at_size(3 << 20))
        .with_queue_capacity(256)
        .build()
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let done = done.clone();
        std::thread::spawn(move || {
            let subscriber = tracing_subscriber::registry().with(layer);
            tracing::subscriber::with_default(subscriber, || {
                for i in 0..RECORDS {
                    security_event!(SecurityEvent::SensitiveDataRead, i, padding = "x");
                    if i % 500 == 0 {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
            });
            guard.shutdown().unwrap();
            done.store(true, Ordering::SeqCst);
        })
    };
    while !log.path.exists() {
        std::thread::sleep(Duration::from_millis(1));
    }
    let store = FileStore::open(&log.path).unwrap();
    let i_of = |r: &tracing_security_events::store::StoredRecord| {
        r.value()["fields"]["i"].as_u64().unwrap()
    };

    // Oldest first: page until the writer is done and a page comes back short.
    let mut oldest_first = Vec::new();
    let mut cursor = None;
    let mut newest_first = Vec::new();
    let mut newest_cursor = None;
    let mut newest_started = false;
    let mut newest_done = false;
    loop {
        let finished = done.load(Ordering::SeqCst);
        let page = store
            .search(
                &Search::new(Query::new())
                    .with_order(Order::OldestFirst)
                    .with_limit(700)
                    .with_cursor(cursor.clone()),
            )
            .unwrap();
        let short = page.records.len() < 700;
        oldest_first.extend(page.records.iter().map(i_of));
        // Oldest first, a page that has records always says where to resume: the log grows.
        assert_eq!(page.next_cursor.is_some(), !page.records.is_empty());
        if page.next_cursor.is_some() {
            cursor = page.next_cursor;
        }
        // Newest first, interleaved: from the newest record at its start, back to the first.
        if !newest_done && (newest_started || oldest_first.len() > 3000) {
            newest_started = true;
            let page = store
                .search(
                    &Search::new(Query::new())
                        .with_limit(900)
                        .with_cursor(newest_cursor.clone()),
                )
                .unwrap();
            newest_first.extend(page.records.iter().map(i_of));
            newest_cursor = page.next_cursor;
            newest_done = newest_cursor.is_none();
        }
        if finished && short && newest_done {
            break;
        }
        std::thread::sleep(Duration::from_millis(3));
    }
    writer.join().unwrap();

    assert!(
        store.paths().unwrap().len() >= 4,
        "the log rotated at least three times"
    );
    let first_wrong = oldest_first
        .iter()
        .enumerate()
        .find(|(n, i)| *n as u64 != **i);
    assert!(
        first_wrong.is_none() && oldest_first.len() as u64 == RECORDS,
        "oldest first: each once, in order; {} records, first wrong at {first_wrong:?}",
        oldest_first.len()
    );
    let newest = newest_first[0];
    assert!(newest >= 3000);
    let expected: Vec<u64> = (0..=newest).rev().collect();
    let first_wrong = newest_first.iter().zip(&expected).position(|(a, b)| a != b);
    assert!(
        first_wrong.is_none() && newest_first.len() == expected.len(),
        "newest first: each once; {} records from {newest}, first wrong at {first_wrong:?}",
        newest_first.len()
    );
    let distinct: HashSet<u64> = newest_first.iter().copied().collect();
    assert_eq!(distinct.len(), newest_first.len());
}

#[test]
fn an_export_checks_the_chain_of_what_it_reads_across_rotated_files() {
    let log = TempLog::new();
    let (layer, guard) = tracing_security_events::builder()
        .with_file_config(FileConfig::new(&log.path).rotate_at_size(64 << 10))
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..1000 {
            security_event!(SecurityEvent::ApiKeyRotated, i);
        }
    });
    guard.shutdown().unwrap();
    let store = FileStore::open(&log.path).unwrap();
    let paths = store.paths().unwrap();
    assert!(paths.len() >= 5, "{paths:?}");
    let export = |search: Search| {
        let mut n = 0;
        let summary = store
            .export(&search, &mut |_| {
                n += 1;
                Ok(())
            })
            .unwrap();
        (n, summary.chain)
    };
    let oldest_first =
        Search::new(Query::parse("fields.i < 10").unwrap()).with_order(Order::OldestFirst);
    let (n, chain) = export(oldest_first.clone().with_chain_check(None));
    assert_eq!(n, 10);
    let chain = chain.expect("checked");
    assert_eq!(
        (chain.records, chain.problem),
        (1000, None),
        "every line read is checked"
    );
    assert_eq!(export(oldest_first.clone()).1, None, "not asked");
    // A record changed in the second file.
    let second = &paths[1];
    let text = std::fs::read_to_string(second).unwrap();
    let line = text.lines().nth(3).unwrap();
    let i = serde_json::from_str::<Value>(line).unwrap()["fields"]["i"]
        .as_u64()
        .unwrap();
    std::fs::write(
        second,
        text.replacen(&format!("\"i\":{i}"), &format!("\"i\":{}", i + 1), 1),
    )
    .unwrap();
    let (_, chain) = export(oldest_first.with_chain_check(None));
    let problem = chain.unwrap().problem.expect("found");
    assert!(
        problem.starts_with(&second.display().to_string()),
        "{problem}"
    );
    assert!(
        problem.contains("changed after it was written"),
        "{problem}"
    );
}

#[test]
fn a_tenant_scope_sees_only_its_tenant() {
    let log = TempLog::new();
    let (layer, guard) = log.builder().build().unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..30 {
            let tenant = ["acme", "globex", "initech"][i % 3];
            let span = tracing::info_span!("request", tenant.id = tenant, actor.id = i);
            let _entered = span.enter();
            security_event!(SecurityEvent::LoginFailed, i);
        }
    });
    guard.shutdown().unwrap();
    let store = FileStore::open(&log.path).unwrap();
    let acme = Scope::Tenant("acme".into());
    let page = store
        .search(&Search::new(Query::new()).with_scope(acme.clone()))
        .unwrap();
    assert_eq!(page.records.len(), 10);
    assert!(page
        .records
        .iter()
        .all(|r| r.value()["tenant"]["id"] == "acme"));
    let other = store
        .search(&Search::new(Query::parse("tenant = globex").unwrap()).with_scope(acme.clone()))
        .unwrap();
    assert!(
        other.records.is_empty(),
        "a query naming another tenant still sees its own only"
    );
    let globex_id = store
        .search(&Search::new(Query::new().tenant("globex")).with_limit(1))
        .unwrap()
        .records[0]
        .id()
        .to_owned();
    assert!(store
        .get(&globex_id, &acme, &Deadline::none())
        .unwrap()
        .is_none());
    assert!(store
        .get(&globex_id, &Scope::All, &Deadline::none())
        .unwrap()
        .is_some());
    assert_eq!(
        store
            .count(&Search::new(
                Query::parse("tenant in (acme, initech)").unwrap()
            ))
            .unwrap()
            .records,
        20
    );
    let by_tenant = store
        .aggregate(
            &Aggregate::new(Query::new())
                .by(Field::parse("tenant").unwrap())
                .with_scope(acme),
        )
        .unwrap();
    assert_eq!(by_tenant.buckets.len(), 1);
    assert_eq!(by_tenant.buckets[0].count, 10);
}
