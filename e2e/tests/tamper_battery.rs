//! What an intruder with the host does to a log with signed checkpoints, kind by kind, and
//! that `verify` finds each one, names it, and says where: given the public key and the
//! checkpoints a second sink received (the anchors). The table in the `integrity` docs lists
//! the same kinds.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use common::{forge, hash_of, lines, read_records, split, write_lines};
use serde_json::Value;
use tracing_security_events::integrity::{
    parse_public_key, verify_with, Checkpoint, EpochKey, ProblemKind, PublicKey, VerifyOptions,
    VerifyReport, GENESIS,
};
use tracing_security_events::sink::{CheckpointConfig, FileConfig};
use tracing_security_events::{security_event, SecurityEvent};
use tracing_subscriber::prelude::*;

/// A log of several rotated files, checkpointed every 10 records under a key that evolves at
/// every checkpoint, and the copy of its records a second sink received.
struct Fixture {
    _dirs: [tempfile::TempDir; 3],
    log_dir: PathBuf,
    key_file: PathBuf,
    public: PublicKey,
    anchors: Vec<Checkpoint>,
    /// Another log, under another key, for splices.
    other_dir: PathBuf,
}

fn write_log(dir: &Path, key_file: &Path, copy: Option<&Path>, records: u64) {
    let file = FileConfig::new(dir.join("security.jsonl"))
        .rotate_at_size(8 * 1024)
        .with_checkpoints(
            CheckpointConfig::new(key_file)
                .every_records(10)
                .key_epoch(Duration::ZERO),
        );
    let mut builder = tracing_security_events::builder()
        .with_service_instance("host-1")
        .with_file_config(file);
    if let Some(copy) = copy {
        builder = builder.with_file_config(FileConfig::new(copy).without_chain());
    }
    let (layer, guard) = builder.build().expect("build");
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for chunk in 0..records / 8 {
            for i in 0..8 {
                security_event!(
                    SecurityEvent::SensitiveDataRead,
                    n = chunk * 8 + i,
                    target.id = "report-7"
                );
            }
            guard.flush().expect("flush");
        }
    });
    guard.shutdown().expect("shutdown");
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dirs = [
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        ];
        let key_file = dirs[1].path().join("checkpoint.key");
        let key = EpochKey::generate().unwrap();
        key.save(&key_file).unwrap();
        let copy = dirs[1].path().join("copy.jsonl");
        write_log(dirs[0].path(), &key_file, Some(&copy), 240);
        let anchors = read_records(&copy)
            .iter()
            .filter_map(|record| Checkpoint::from_record(record).unwrap())
            .collect();
        let other_key = dirs[2].path().join("other.key");
        EpochKey::generate().unwrap().save(&other_key).unwrap();
        write_log(dirs[2].path(), &other_key, None, 64);
        Fixture {
            log_dir: dirs[0].path().to_path_buf(),
            other_dir: dirs[2].path().to_path_buf(),
            key_file,
            public: parse_public_key(&key.public_key()).unwrap(),
            anchors,
            _dirs: dirs,
        }
    })
}

/// The log's files in chain order: rotated oldest first, then the active file.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut rotated: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .filter(|p| p.file_name().unwrap() != "security.jsonl")
        .collect();
    rotated.sort();
    let active = dir.join("security.jsonl");
    if active.exists() {
        rotated.push(active);
    }
    rotated
}

fn is_checkpoint(line: &str) -> bool {
    line.contains("\"name\":\"audit.checkpoint\"")
}

/// Recomputes every seal in chain order, as someone without a chain key can.
fn reseal(dir: &Path) {
    let mut prev: Option<String> = None;
    for file in files(dir) {
        let resealed: Vec<String> = lines(&file)
            .iter()
            .map(|line| {
                let (record, own_prev) = split(line);
                let line = forge(&record, prev.as_deref().unwrap_or(&own_prev));
                prev = Some(hash_of(&line));
                line
            })
            .collect();
        write_lines(&file, &resealed);
    }
}

/// The first checkpoint line after line `line` (from 1) of `file`, in chain order.
fn next_checkpoint(dir: &Path, file: &Path, line: usize) -> (PathBuf, u64) {
    checkpoint_from(dir, file, line + 1)
}

/// The first checkpoint line at or after line `line` (from 1) of `file`, in chain order.
fn checkpoint_from(dir: &Path, file: &Path, line: usize) -> (PathBuf, u64) {
    let mut reached = false;
    for f in files(dir) {
        for (i, text) in lines(&f).iter().enumerate() {
            reached |= f == file && i + 1 == line;
            if reached && is_checkpoint(text) {
                return (f, i as u64 + 1);
            }
        }
    }
    panic!("no checkpoint from {}:{line}", file.display())
}

/// The position of the `nth` checkpoint (from 0) in chain order.
fn checkpoint_at(dir: &Path, nth: usize) -> (PathBuf, usize) {
    files(dir)
        .into_iter()
        .flat_map(|f| {
            lines(&f)
                .into_iter()
                .enumerate()
                .filter(|(_, l)| is_checkpoint(l))
                .map(move |(i, _)| (f.clone(), i))
                .collect::<Vec<_>>()
        })
        .nth(nth)
        .expect("enough checkpoints")
}

fn edit_line(path: &Path, index: usize, edit: impl FnOnce(&str) -> String) {
    let mut all = lines(path);
    all[index] = edit(&all[index]);
    write_lines(path, &all);
}

/// The record of a sealed line as JSON, and the line rebuilt from a changed record.
fn record_of(line: &str) -> Value {
    serde_json::from_str(&split(line).0).unwrap()
}

/// What verify must say: one of these kinds, in this file, at this line when known.
struct Expect {
    kinds: &'static [ProblemKind],
    file: PathBuf,
    line: Option<u64>,
}

fn expect(kinds: &'static [ProblemKind], file: &Path, line: Option<u64>) -> Expect {
    Expect {
        kinds,
        file: file.to_path_buf(),
        line,
    }
}

use ProblemKind::*;

type Tamper = fn(&Path) -> Expect;

/// Each kind: its name, and what it does to a copy of the log (returning what verify must say).
const KINDS: &[(&str, Tamper)] = &[
    ("a record edited", |dir| {
        let f = &files(dir)[1];
        edit_line(f, 2, |l| l.replacen("report-7", "report-8", 1));
        expect(&[Modified], f, Some(3))
    }),
    ("a record edited and the chain recomputed", |dir| {
        let f = files(dir)[1].clone();
        edit_line(&f, 2, |l| l.replacen("report-7", "report-8", 1));
        reseal(dir);
        let (file, line) = next_checkpoint(dir, &f, 3);
        expect(&[Recomputed], &file, Some(line))
    }),
    ("a record deleted", |dir| {
        let f = &files(dir)[1];
        let mut all = lines(f);
        all.remove(2);
        write_lines(f, &all);
        expect(&[Missing], f, Some(3))
    }),
    ("a record deleted and the chain recomputed", |dir| {
        let f = files(dir)[1].clone();
        let (file, line) = next_checkpoint(dir, &f, 3);
        let mut all = lines(&f);
        all.remove(2);
        write_lines(&f, &all);
        reseal(dir);
        let line = if file == f { line - 1 } else { line };
        expect(&[Recomputed, Missing], &file, Some(line))
    }),
    ("a forged record inserted", |dir| {
        let f = &files(dir)[1];
        let mut all = lines(f);
        let (record, _) = split(&all[2].replacen("report-7", "report-9", 1));
        all.insert(3, forge(&record, &hash_of(&all[2])));
        write_lines(f, &all);
        expect(&[Inserted], f, Some(4))
    }),
    ("a forged record inserted and the chain recomputed", |dir| {
        let f = files(dir)[1].clone();
        let (file, line) = next_checkpoint(dir, &f, 3);
        let mut all = lines(&f);
        let forged = all[2].replacen("report-7", "report-9", 1);
        all.insert(3, forged);
        write_lines(&f, &all);
        reseal(dir);
        let line = if file == f { line + 1 } else { line };
        expect(&[Recomputed, Inserted], &file, Some(line))
    }),
    ("a record copied after itself", |dir| {
        let f = &files(dir)[1];
        let mut all = lines(f);
        all.insert(3, all[2].clone());
        write_lines(f, &all);
        expect(&[Inserted, Reordered], f, None)
    }),
    ("two records swapped", |dir| {
        let f = &files(dir)[1];
        let mut all = lines(f);
        all.swap(2, 3);
        write_lines(f, &all);
        expect(&[Reordered], f, Some(3))
    }),
    ("two records swapped and the chain recomputed", |dir| {
        let f = files(dir)[1].clone();
        let mut all = lines(&f);
        // Two records that are not checkpoints.
        let at = (1..all.len() - 1)
            .find(|&i| !is_checkpoint(&all[i]) && !is_checkpoint(&all[i + 1]))
            .unwrap();
        all.swap(at, at + 1);
        write_lines(&f, &all);
        reseal(dir);
        let (file, line) = next_checkpoint(dir, &f, at + 2);
        expect(&[Recomputed], &file, Some(line))
    }),
    ("records cut from the end of the active file", |dir| {
        let f = files(dir).pop().unwrap();
        let mut all = lines(&f);
        all.truncate(all.len() - 3);
        write_lines(&f, &all);
        expect(&[Truncated], &f, None)
    }),
    ("the active file emptied", |dir| {
        let f = files(dir).pop().unwrap();
        write_lines(&f, &[]);
        expect(&[Truncated], &f, None)
    }),
    ("the active file deleted", |dir| {
        let mut all = files(dir);
        std::fs::remove_file(all.pop().unwrap()).unwrap();
        expect(&[Truncated], all.last().unwrap(), None)
    }),
    ("the active file renamed away", |dir| {
        let mut all = files(dir);
        let active = all.pop().unwrap();
        std::fs::rename(&active, dir.join("elsewhere.jsonl")).unwrap();
        // Verified first (its name sorts first): its checkpoints name the other log.
        expect(&[Moved], &dir.join("elsewhere.jsonl"), None)
    }),
    ("the oldest file deleted (as if by retention)", |dir| {
        let all = files(dir);
        std::fs::remove_file(&all[0]).unwrap();
        expect(&[MissingFile], &all[1], Some(1))
    }),
    (
        "the oldest file deleted, and a retention record forged for it",
        |dir| {
            let all = files(dir);
            let last = lines(&all[0]).pop().unwrap();
            let seq = record_of(&last)["seq"].as_u64().unwrap();
            std::fs::remove_file(&all[0]).unwrap();
            let active = all.last().unwrap();
            let mut records = lines(active);
            let mut forged = record_of(records.last().unwrap());
            forged["event"]["name"] = "audit.files_removed".into();
            forged["seq"] = (forged["seq"].as_u64().unwrap() + 1).into();
            forged["fields"] = serde_json::json!({
                "file": all[0].file_name().unwrap().to_str().unwrap(),
                "last_seq": seq, "last_hash": hash_of(&last),
            });
            let forged = serde_json::to_string(&forged).unwrap();
            records.push(forge(&forged, &hash_of(records.last().unwrap())));
            write_lines(active, &records);
            expect(&[MissingFile], &all[1], Some(1))
        },
    ),
    ("a file in the middle deleted", |dir| {
        let all = files(dir);
        std::fs::remove_file(&all[2]).unwrap();
        expect(&[MissingFile], &all[3], Some(1))
    }),
    ("two rotated files swapped by renaming", |dir| {
        let all = files(dir);
        let temporary = dir.join("swap");
        std::fs::rename(&all[1], &temporary).unwrap();
        std::fs::rename(&all[2], &all[1]).unwrap();
        std::fs::rename(&temporary, &all[2]).unwrap();
        expect(&[MissingFile], &all[1], Some(1))
    }),
    ("a record spliced in from another log", |dir| {
        let f = &files(dir)[1];
        let other = lines(&files(&fixture().other_dir)[0]);
        let mut all = lines(f);
        all[2] = other[4].clone();
        write_lines(f, &all);
        expect(&[Modified, Missing, Reordered, Inserted], f, None)
    }),
    (
        "another log's file spliced in and the chain recomputed",
        |dir| {
            let all = files(dir);
            std::fs::copy(&files(&fixture().other_dir)[0], &all[1]).unwrap();
            reseal(dir);
            let (file, line) = checkpoint_from(dir, &all[1], 1);
            expect(&[Forged, Replayed, Recomputed], &file, Some(line))
        },
    ),
    ("an old checkpoint replayed at the end", |dir| {
        let (file, index) = checkpoint_at(dir, 0);
        let old = lines(&file)[index].clone();
        let active = files(dir).pop().unwrap();
        let mut all = lines(&active);
        all.push(forge(&split(&old).0, &hash_of(all.last().unwrap())));
        write_lines(&active, &all);
        expect(&[Replayed], &active, Some(all.len() as u64))
    }),
    ("a checkpoint deleted and the chain recomputed", |dir| {
        let (file, index) = checkpoint_at(dir, 2);
        let (next_file, next_line) = next_checkpoint(dir, &file, index + 1);
        let mut all = lines(&file);
        all.remove(index);
        write_lines(&file, &all);
        reseal(dir);
        let line = if next_file == file {
            next_line - 1
        } else {
            next_line
        };
        expect(&[Recomputed, Missing], &next_file, Some(line))
    }),
    ("a checkpoint's signature changed", |dir| {
        let (file, index) = checkpoint_at(dir, 2);
        edit_line(&file, index, |line| {
            let mut record = record_of(line);
            let signature = record["fields"]["checkpoint.signature"].as_str().unwrap();
            let flipped = if signature.starts_with('0') { "1" } else { "0" };
            let changed = format!("{flipped}{}", &signature[1..]);
            record["fields"]["checkpoint.signature"] = changed.into();
            forge(&serde_json::to_string(&record).unwrap(), &split(line).1)
        });
        reseal(dir);
        expect(&[Forged], &file, Some(index as u64 + 1))
    }),
    (
        "a checkpoint's tip moved to a recomputed chain, not re-signed",
        |dir| {
            let f = files(dir)[1].clone();
            edit_line(&f, 2, |l| l.replacen("report-7", "report-8", 1));
            reseal(dir);
            let (file, line) = next_checkpoint(dir, &f, 3);
            let index = line as usize - 1;
            let before = lines(&file)[index - 1].clone();
            edit_line(&file, index, |l| {
                let mut record = record_of(l);
                record["fields"]["checkpoint.tip_hash"] = hash_of(&before).into();
                forge(&serde_json::to_string(&record).unwrap(), &split(l).1)
            });
            reseal(dir);
            expect(&[Forged], &file, Some(line))
        },
    ),
    ("a checkpoint signed with the intruder's own key", |dir| {
        let (file, index) = checkpoint_at(dir, 2);
        let intruder = EpochKey::generate().unwrap();
        resign(&file, index, &intruder);
        reseal(dir);
        expect(&[Forged], &file, Some(index as u64 + 1))
    }),
    ("a stolen current key signing a rewritten past", |dir| {
        let stolen = EpochKey::load(&fixture().key_file).unwrap();
        let f = files(dir)[1].clone();
        edit_line(&f, 2, |l| l.replacen("report-7", "report-8", 1));
        reseal(dir);
        // Every checkpoint from there on signed again with the stolen key, each naming the
        // tip of the recomputed chain and the one before it.
        let (first_file, first_line) = next_checkpoint(dir, &f, 3);
        let mut past = false;
        for file in files(dir) {
            for index in 0..lines(&file).len() {
                past |= file == first_file && index + 1 == first_line as usize;
                if past && is_checkpoint(&lines(&file)[index]) {
                    resign(&file, index, &stolen);
                    reseal(dir);
                }
            }
        }
        expect(&[Forged], &first_file, Some(first_line))
    }),
    (
        "the first line of a rotated file given another prev",
        |dir| {
            let f = files(dir)[2].clone();
            edit_line(&f, 0, |l| forge(&split(l).0, GENESIS));
            expect(&[MissingFile], &f, Some(1))
        },
    ),
];

/// Signs the checkpoint at `index` of `file` again with `key`, naming as its tip the record
/// before it and as its previous the checkpoint before it (as resealed so far).
fn resign(file: &Path, index: usize, key: &EpochKey) {
    let all = lines(file);
    let before = if index > 0 {
        all[index - 1].clone()
    } else {
        let dir = file.parent().unwrap();
        let chain = files(dir);
        let at = chain.iter().position(|f| f == file).unwrap();
        lines(&chain[at - 1]).pop().unwrap()
    };
    let previous = previous_checkpoint(file, index);
    let mut record = record_of(&all[index]);
    let mut checkpoint = Checkpoint::from_record(&record).unwrap().unwrap();
    checkpoint.tip_seq = record_of(&before)["seq"].as_u64().unwrap();
    checkpoint.tip_hash = hash_of(&before);
    checkpoint.previous = previous.map_or_else(|| GENESIS.to_owned(), |p| p.digest());
    checkpoint.epoch = key.epoch();
    checkpoint.public_key = key.public_key();
    checkpoint.key_certificate = key.certificate().map(str::to_owned);
    checkpoint.signature = key.sign(&checkpoint.message());
    let fields = record["fields"].as_object_mut().unwrap();
    fields.retain(|name, _| !name.starts_with("checkpoint."));
    for (name, value) in checkpoint.fields() {
        fields.insert(name.to_owned(), serde_json::to_value(&value).unwrap());
    }
    let line = forge(
        &serde_json::to_string(&record).unwrap(),
        &split(&all[index]).1,
    );
    let mut all = all;
    all[index] = line;
    write_lines(file, &all);
}

/// The checkpoint before the one at `index` of `file`, in chain order.
fn previous_checkpoint(file: &Path, index: usize) -> Option<Checkpoint> {
    let dir = file.parent().unwrap();
    let mut last = None;
    for f in files(dir) {
        for (i, line) in lines(&f).iter().enumerate() {
            if f == file && i == index {
                return last;
            }
            if is_checkpoint(line) {
                last = Checkpoint::from_record(&record_of(line)).unwrap();
            }
        }
    }
    last
}

fn verify(dir: &Path) -> VerifyReport {
    let fixture = fixture();
    let options = VerifyOptions::new()
        .with_public_key(fixture.public)
        .with_anchors("copy.jsonl", fixture.anchors.clone());
    verify_with(dir, &options).unwrap()
}

fn copy_of_log() -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    for file in files(&fixture().log_dir) {
        std::fs::copy(&file, copy.path().join(file.file_name().unwrap())).unwrap();
    }
    copy
}

#[test]
fn the_untouched_log_verifies_with_every_check() {
    let fixture = fixture();
    assert!(files(&fixture.log_dir).len() >= 5, "several rotated files");
    assert!(fixture.anchors.len() >= 10, "{}", fixture.anchors.len());
    let report = verify(&fixture.log_dir);
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.anchors, fixture.anchors.len() as u64);
    assert!(report.unchecked.is_empty(), "{:?}", report.unchecked);
}

#[test]
fn every_kind_of_tampering_is_found_named_and_placed() {
    assert!(KINDS.len() >= 21, "{} kinds", KINDS.len());
    let mut failures = Vec::new();
    for (name, tamper) in KINDS {
        let copy = copy_of_log();
        let expected = tamper(copy.path());
        let report = verify(copy.path());
        let Some(problem) = &report.problem else {
            failures.push(format!("{name}: not found"));
            continue;
        };
        let placed = problem.location.file.file_name() == expected.file.file_name()
            && expected
                .line
                .is_none_or(|line| line == problem.location.line);
        if !expected.kinds.contains(&problem.kind) || !placed {
            failures.push(format!(
                "{name}: found {problem}, expected {:?} at {}:{:?}",
                expected.kinds,
                expected.file.display(),
                expected.line
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_checkpoint_removed_and_the_chain_recomputed_is_found_with_the_public_key_alone() {
    let copy = copy_of_log();
    for file in files(copy.path()) {
        let kept: Vec<String> = lines(&file)
            .into_iter()
            .filter(|line| !is_checkpoint(line) && !line.contains("audit.key_rotated"))
            .collect();
        write_lines(&file, &kept);
    }
    reseal(copy.path());
    let options = VerifyOptions::new().with_public_key(fixture().public);
    let report = verify_with(copy.path(), &options).unwrap();
    let problem = report.problem.expect("found");
    assert_eq!(problem.kind, Missing, "{problem}");
    assert!(problem.detail.contains("no checkpoint"), "{problem}");
}
