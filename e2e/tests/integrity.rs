//! Tamper evidence: the chain holds across files and restarts, and `verify` names the first
//! changed, deleted, inserted, moved or missing record.

mod common;

use std::path::PathBuf;

use common::{forge, hash_of, lines, run, split, write_lines, TempLog};
use tracing_security_events::integrity::{
    verify, verify_with, ProblemKind, VerifyOptions, VerifyReport, GENESIS,
};
use tracing_security_events::sink::FileConfig;
use tracing_security_events::{security_event, SecurityEvent};

fn write_log(log: &TempLog, config: FileConfig, count: u64) {
    let builder = tracing_security_events::builder().with_file_config(config);
    run(log, builder, || {
        for i in 0..count {
            security_event!(SecurityEvent::SensitiveDataRead, i, target.id = "report-7");
        }
    });
}

fn problem(report: &VerifyReport) -> (ProblemKind, u64) {
    let problem = report.problem.as_ref().expect("a problem is found");
    (problem.kind, problem.location.line)
}

fn twenty_records() -> TempLog {
    let log = TempLog::new();
    write_log(&log, FileConfig::new(&log.path), 20);
    log
}

#[test]
fn an_untouched_log_verifies() {
    let log = twenty_records();
    let report = verify(&log.path).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.records, 20);
    assert!(report.starts_at_genesis && report.ends_cleanly);
    assert!(report.torn_lines.is_empty());
    let last = lines(&log.path).pop().unwrap();
    assert_eq!(report.tip.as_deref(), Some(hash_of(&last).as_str()));
    // The format is the documented one: an independent SHA-256 gives the same hash.
    let (record, prev) = split(&lines(&log.path)[0]);
    assert_eq!(prev, GENESIS);
    assert_eq!(forge(&record, &prev), lines(&log.path)[0]);
}

#[test]
fn one_changed_byte_is_named() {
    let log = twenty_records();
    let mut content = lines(&log.path);
    content[7] = content[7].replace("\"i\":7", "\"i\":8");
    write_lines(&log.path, &content);
    assert_eq!(
        problem(&verify(&log.path).unwrap()),
        (ProblemKind::Modified, 8)
    );
}

#[test]
fn a_deleted_line_is_named() {
    let log = twenty_records();
    let mut content = lines(&log.path);
    content.remove(9);
    write_lines(&log.path, &content);
    let report = verify(&log.path).unwrap();
    assert_eq!(problem(&report), (ProblemKind::Missing, 10));
    assert!(report.problem.unwrap().detail.contains("seq 10"));
}

#[test]
fn an_inserted_forged_line_is_named_even_with_a_valid_hash() {
    let log = twenty_records();
    let mut content = lines(&log.path);
    let (record, _) = split(&content[5]);
    let forged = forge(
        &record.replace("report-7", "report-8"),
        &hash_of(&content[4]),
    );
    content.insert(5, forged);
    write_lines(&log.path, &content);
    assert_eq!(
        problem(&verify(&log.path).unwrap()),
        (ProblemKind::Inserted, 6)
    );
}

#[test]
fn a_changed_and_resealed_line_is_named() {
    let log = twenty_records();
    let mut content = lines(&log.path);
    let (record, prev) = split(&content[3]);
    content[3] = forge(&record.replace("report-7", "report-9"), &prev);
    write_lines(&log.path, &content);
    assert_eq!(
        problem(&verify(&log.path).unwrap()),
        (ProblemKind::Modified, 4)
    );
}

#[test]
fn two_swapped_lines_are_named() {
    let log = twenty_records();
    let mut content = lines(&log.path);
    content.swap(11, 12);
    write_lines(&log.path, &content);
    assert_eq!(
        problem(&verify(&log.path).unwrap()),
        (ProblemKind::Reordered, 12)
    );
}

#[test]
fn truncation_mid_line_is_a_file_that_does_not_end_cleanly() {
    let log = twenty_records();
    let text = std::fs::read(&log.path).unwrap();
    std::fs::write(&log.path, &text[..text.len() - 40]).unwrap();
    let report = verify(&log.path).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert!(!report.ends_cleanly);
    assert_eq!(report.torn_lines.len(), 1);
    assert_eq!(report.torn_lines[0].line, 20);
    assert_eq!(report.records, 19);
}

#[test]
fn truncation_at_a_record_boundary_is_caught_with_the_expected_tip() {
    let log = twenty_records();
    let content = lines(&log.path);
    let tip = hash_of(content.last().unwrap());
    write_lines(&log.path, &content[..17]);
    let plain = verify(&log.path).unwrap();
    assert!(
        plain.is_ok(),
        "without an anchor the shorter chain is still a valid chain"
    );
    let anchored = verify_with(&log.path, &VerifyOptions::new().with_expected_tip(tip)).unwrap();
    assert_eq!(problem(&anchored), (ProblemKind::Truncated, 17));
}

fn rotated_log() -> (TempLog, Vec<PathBuf>) {
    let log = TempLog::new();
    write_log(
        &log,
        FileConfig::new(&log.path).rotate_at_size(4 * 1024),
        40,
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(log.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    (log, files)
}

#[test]
fn the_chain_runs_across_rotated_files() {
    let (log, files) = rotated_log();
    assert!(files.len() >= 4, "{files:?}");
    let report = verify(log.dir.path()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.records, 40);
    assert_eq!(
        report.files.last(),
        Some(&log.path),
        "the active file comes last"
    );
}

#[test]
fn a_deleted_rotated_file_is_named() {
    let (log, files) = rotated_log();
    // The names sort in write order; the active file `security.jsonl` sorts after them.
    std::fs::remove_file(&files[1]).unwrap();
    let report = verify(log.dir.path()).unwrap();
    let found = report.problem.expect("the gap is found");
    assert_eq!(found.kind, ProblemKind::MissingFile);
    assert_eq!(found.location.file, files[2]);
    assert_eq!(found.location.line, 1);
}

#[test]
fn under_a_key_a_line_resealed_without_it_is_caught() {
    let log = TempLog::new();
    let key = b"chain key".to_vec();
    write_log(
        &log,
        FileConfig::new(&log.path).with_chain_key(key.clone()),
        10,
    );
    let keyed = VerifyOptions::new().with_key(key);
    assert!(verify_with(&log.path, &keyed).unwrap().is_ok());

    let mut content = lines(&log.path);
    let (record, prev) = split(&content[4]);
    content[4] = forge(&record.replace("report-7", "report-0"), &prev);
    write_lines(&log.path, &content);
    let report = verify_with(&log.path, &keyed).unwrap();
    assert_eq!(problem(&report), (ProblemKind::Modified, 5));
    assert!(report.problem.unwrap().detail.contains("key"));
}

#[test]
fn the_chain_continues_across_restarts() {
    let log = TempLog::new();
    write_log(&log, FileConfig::new(&log.path), 5);
    write_log(&log, FileConfig::new(&log.path), 5);
    let content = lines(&log.path);
    assert_eq!(content.len(), 10);
    let (_, prev) = split(&content[5]);
    assert_eq!(
        prev,
        hash_of(&content[4]),
        "the second run continues the first one's chain"
    );
    let report = verify(&log.path).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.records, 10);
}
