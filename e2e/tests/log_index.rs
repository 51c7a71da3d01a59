//! The index beside rotated files (the file sink's `index`, `security-log index`,
//! `store::write_index`): a question with a time range or a needle reads only the blocks its
//! records can be in, and answers exactly as a reading of every record does, over random
//! questions: with the sink's index, with none, and with damaged, borrowed and truncated
//! ones; also when a clock stepped back put later times in an earlier file and block.
#![cfg(feature = "query")]

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use tracing_security_events::json_view::Json;
use tracing_security_events::log_index::IndexedField;
use tracing_security_events::query::Query;
use tracing_security_events::sink::FileConfig;
use tracing_security_events::store::{
    index_path, write_index, FileStore, LogIndex, LogStore, Order, Search,
};
use tracing_security_events::Clock;
use tracing_subscriber::prelude::*;

#[derive(Debug)]
struct ManualClock(Mutex<DateTime<Utc>>);

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

const RECORDS: u64 = 20_000;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
}

/// The client address of record `i`: IPv4, or IPv6 written short or long.
fn address(i: u64) -> String {
    match i % 3 {
        0 => format!("10.{}.{}.{}", i % 5, i % 251, i % 13),
        1 => format!("2001:db8::{:x}", i % 400),
        _ => format!("2001:0db8:0:0:0:0:0:{:x}", i % 400),
    }
}

fn actor(i: u64) -> String {
    if i % 2_000 == 7 {
        format!("rare-{}", i / 2_000)
    } else {
        format!("user-{}", i % 97)
    }
}

const EVENTS: [&str; 4] = [
    "authentication.failed",
    "user.updated",
    "api_key.rotated",
    "authentication.succeeded",
];

/// `RECORDS` records 10 seconds apart over several rotated files of about 3 MiB; halfway the
/// clock steps back five hours, then goes on.
fn write_log(dir: &Path) -> PathBuf {
    let path = dir.join("security.jsonl");
    let clock = Arc::new(ManualClock(Mutex::new(start())));
    let (layer, guard) = tracing_security_events::builder()
        .with_clock(clock.clone())
        .with_file_config(
            FileConfig::new(&path)
                .rotate_at_size(3 << 20)
                .keep_files(100)
                .with_index(true),
        )
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..RECORDS {
            let step = if i == RECORDS / 2 {
                Duration::hours(-5)
            } else {
                Duration::seconds(10)
            };
            *clock.0.lock().unwrap() += step;
            let name = if i % 777 == 0 {
                "Zoë \"q\"\\"
            } else {
                "plain"
            };
            tracing::info!(
                security_event = EVENTS[(i % 4) as usize],
                actor.id = %actor(i),
                actor.name = name,
                tenant.id = %format!("t{}", i % 7),
                client.ip = %address(i),
                request.id = %format!("req-{i}"),
                target.id = i,
            );
            if i % 500 == 0 {
                guard.flush().unwrap();
            }
        }
    });
    guard.shutdown().unwrap();
    path
}

/// Questions: needles on every indexed field, alone, in lists, in disjunctions, with time
/// ranges across rotations and the step back, and questions the index cannot help.
fn questions() -> Vec<String> {
    let at = |seconds: i64| (start() + Duration::seconds(seconds)).to_rfc3339();
    let mut state = 11_u64;
    let mut next = |below: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % below
    };
    let mut questions = vec![
        "user = rare-3".to_owned(),
        "user = nobody".to_owned(),
        "user = \"Zoë \\\"q\\\"\\\\\"".to_owned(),
        "ip = 2001:db8:0::2a".to_owned(),
        "ip = 10.1.0.0/16".to_owned(),
        "not user = user-5 and request.id = req-12345".to_owned(),
        format!("time >= {} and time < {}", at(90_000), at(110_000)),
        format!("time >= {}", at(200_000)),
        format!("time <= {} and user = rare-1", at(30_000)),
    ];
    for _ in 0..70 {
        let i = next(RECORDS);
        let needle = match next(8) {
            0 => format!("user = {}", actor(i)),
            1 => format!("tenant = t{}", next(9)),
            2 => format!("ip = {}", address(i)),
            3 => format!("request.id = req-{i}"),
            4 => format!("request.id in (req-{i}, req-{}, nothing)", next(RECORDS)),
            5 => format!("event = {}", EVENTS[next(4) as usize]),
            6 => format!("user = {} or request.id = req-{i}", actor(next(RECORDS))),
            _ => format!("user = rare-{}", next(12)),
        };
        let from = next(RECORDS * 10) as i64;
        questions.push(match next(3) {
            0 => needle,
            1 => format!(
                "{needle} and time >= {} and time < {}",
                at(from),
                at(from + next(40_000) as i64)
            ),
            _ => format!("time >= {} and time <= {}", at(from), at(from + 600)),
        });
    }
    questions
}

/// A question's answer: the ids found newest first page by page (7 a page, with the cursor),
/// oldest first at once, and the count.
#[derive(Debug, PartialEq)]
struct Answer {
    newest_first: Vec<String>,
    oldest_first: Vec<String>,
    count: u64,
}

fn answer(store: &FileStore, question: &str) -> Answer {
    let query = Query::parse(question).unwrap();
    let mut newest_first = Vec::new();
    let mut cursor = None;
    loop {
        let search = Search::new(query.clone()).with_limit(7).with_cursor(cursor);
        let page = store.search(&search).unwrap();
        newest_first.extend(page.records.iter().map(|r| r.id().to_owned()));
        match page.next_cursor {
            Some(next) if newest_first.len() < 400 => cursor = Some(next),
            _ => break,
        }
    }
    let all = Search::new(query.clone())
        .with_order(Order::OldestFirst)
        .with_limit(100_000);
    Answer {
        newest_first,
        oldest_first: store
            .search(&all)
            .unwrap()
            .records
            .iter()
            .map(|r| r.id().to_owned())
            .collect(),
        count: store.count(&Search::new(query)).unwrap().records,
    }
}

#[test]
fn random_questions_answer_alike_with_without_and_with_damaged_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path());
    let store = FileStore::open(&path).unwrap();
    let rotated = store.rotated_paths().unwrap();
    assert!(rotated.len() >= 4, "{rotated:?}");

    // What every record says, read from every file: the answer each question must have.
    let lines: Vec<String> = store
        .paths()
        .unwrap()
        .iter()
        .flat_map(|file| common::lines(file))
        .collect();
    let records: Vec<Json<'_>> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let questions = questions();
    let with_the_sinks: Vec<Answer> = questions.iter().map(|q| answer(&store, q)).collect();
    for (question, answer) in questions.iter().zip(&with_the_sinks) {
        let matcher = Query::parse(question).unwrap().matcher(Utc::now());
        let expected: Vec<&str> = records
            .iter()
            .filter(|record| matcher.matches(record))
            .map(|record| match record {
                Json::Object(o) => o.get_str("id").unwrap(),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(answer.oldest_first, expected, "{question}");
        assert_eq!(answer.count, expected.len() as u64, "{question}");
        let newest: Vec<&str> = expected
            .iter()
            .rev()
            .take(answer.newest_first.len())
            .copied()
            .collect();
        assert_eq!(answer.newest_first, newest, "{question}");
        assert!(
            answer.newest_first.len() >= expected.len().min(400),
            "{question}"
        );
    }
    let found: usize = with_the_sinks.iter().map(|a| a.oldest_first.len()).sum();
    assert!(found > 1_000, "the questions find records: {found}");

    // The sink's index is what reading the file gives, byte for byte; it spares reading.
    let mut by_the_sink = Vec::new();
    for file in &rotated {
        let kept = std::fs::read(index_path(file)).expect("an index beside a rotated file");
        let index = LogIndex::decode(&kept).unwrap();
        assert!(index.blocks.len() >= 2, "{}", file.display());
        let rare = IndexedField::ActorId.key_of_text("rare-1").unwrap();
        let read: u64 = index
            .ranges((None, None), &[vec![rare]])
            .iter()
            .map(|(from, to)| to - from)
            .sum();
        assert!(
            read <= 2 << 20,
            "a needle reads {read} bytes of {}",
            index.header.size
        );
        by_the_sink.push(kept);
        std::fs::remove_file(index_path(file)).unwrap();
    }
    let without: Vec<Answer> = questions.iter().map(|q| answer(&store, q)).collect();
    assert_eq!(without, with_the_sinks, "the same answers without an index");
    for (file, kept) in rotated.iter().zip(&by_the_sink) {
        assert!(write_index(file).unwrap().is_some(), "{}", file.display());
        assert_eq!(&std::fs::read(index_path(file)).unwrap(), kept);
    }

    // Damaged, truncated, another file's, or stale: each is ignored and its file read whole.
    let mut damaged = by_the_sink[0].clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x10;
    std::fs::write(index_path(&rotated[0]), damaged).unwrap();
    std::fs::write(
        index_path(&rotated[1]),
        &by_the_sink[1][..by_the_sink[1].len() - 5],
    )
    .unwrap();
    std::fs::copy(index_path(&rotated[3]), index_path(&rotated[2])).unwrap();
    let mut stale = LogIndex::decode(&by_the_sink[3]).unwrap();
    stale.header.size += 1;
    stale.save(&rotated[3]).unwrap();
    let with_damaged: Vec<Answer> = questions.iter().map(|q| answer(&store, q)).collect();
    assert_eq!(
        with_damaged, with_the_sinks,
        "the same answers with damaged indexes"
    );

    // Retention removes a file's index with it.
    let leftovers: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "index" || e == "tmp"))
        .filter(|p| !rotated.iter().any(|file| index_path(file) == *p))
        .collect();
    assert!(leftovers.is_empty(), "indexes of no file: {leftovers:?}");
}

/// A file's first and last lines name it: an index of a file rewritten with other records is
/// not used, and a log without records readable by time is read whole.
#[test]
fn an_index_is_used_only_for_its_own_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path());
    let store = FileStore::open(&path).unwrap();
    let rotated = store.rotated_paths().unwrap();
    let question = "user = rare-2";
    let before = answer(&store, question);
    assert!(!before.oldest_first.is_empty());
    // The rare actor's file, its lines reversed (same size, other first and last records):
    // its index, made for the old order, no longer describes it.
    let holding = rotated
        .iter()
        .find(|file| {
            std::fs::read_to_string(file)
                .unwrap()
                .contains("\"rare-2\"")
        })
        .unwrap();
    let mut lines = common::lines(holding);
    lines.reverse();
    common::write_lines(holding, &lines);
    let after = answer(&store, question);
    assert_eq!(after.count, before.count);
}

/// Only the native form is indexed (the store reads no other): an ECS file sink with `index`
/// leaves none.
#[test]
fn a_file_in_another_form_has_no_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("security.jsonl");
    let (layer, guard) = tracing_security_events::builder()
        .with_file_config(
            FileConfig::new(&path)
                .rotate_at_size(16 << 10)
                .in_form(tracing_security_events::forms::OutputForm::Ecs)
                .with_index(true),
        )
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..200_u64 {
            tracing::info!(
                security_event = "user.updated",
                target.id = i,
                actor.id = "42"
            );
        }
    });
    guard.shutdown().unwrap();
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.len() >= 3, "rotated: {names:?}");
    assert!(!names.iter().any(|n| n.ends_with(".index")), "{names:?}");
}
