//! Durability: a crash leaves only whole lines (but a torn last one, which the next start
//! closes and reports); fsync=always means a record reported written is on disk; a full disk
//! fails open and writing resumes once space is freed; external rotation and removal are followed.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{read_records, run, TempLog};
use tracing_security_events::integrity::{
    parse_public_key, verify, verify_with, Checkpoint, EpochKey, VerifyOptions,
};
use tracing_security_events::sink::{CheckpointConfig, FileConfig, FsyncPolicy};
use tracing_security_events::{security_event, SecurityEvent, SinkFailurePolicy};
use tracing_subscriber::prelude::*;

#[test]
fn a_torn_last_line_is_closed_reported_and_never_glued_to() {
    let log = TempLog::new();
    run(&log, log.builder(), || {
        security_event!(SecurityEvent::LoginFailed, i = 1);
        security_event!(SecurityEvent::LoginFailed, i = 2);
    });
    // A crash in the middle of writing the third record.
    let mut text = std::fs::read(&log.path).unwrap();
    text.extend_from_slice(br#"{"schema":1,"id":"0193","seq":3,"timest"#);
    std::fs::write(&log.path, &text).unwrap();

    // The next start; the file now holds a line that is not a record, so read it raw.
    let (layer, guard) = log.builder().with_error_reporting(false).build().unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        security_event!(SecurityEvent::LoginFailed, i = 4);
    });
    guard.shutdown().unwrap();
    let content = std::fs::read_to_string(&log.path).unwrap();
    let lines: Vec<&str> = content.lines().collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(
        lines[2], r#"{"schema":1,"id":"0193","seq":3,"timest"#,
        "left as evidence"
    );
    let crash: serde_json::Value = serde_json::from_str(lines[3]).unwrap();
    assert_eq!(
        crash["event"]["name"], "system.crash",
        "the next start reports it"
    );
    assert_eq!(
        crash["fields"]["evidence"],
        "unfinished last line in the security log"
    );
    let next: serde_json::Value = serde_json::from_str(lines[4]).unwrap();
    assert_eq!(next["fields"]["i"], 4);

    let report = verify(&log.path).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.torn_lines.len(), 1);
    assert_eq!(report.torn_lines[0].line, 3);
    assert_eq!(report.records, 4);
}

const CHILD_LOG: &str = "TSE_CRASH_CHILD_LOG";

/// The key of the crash test's checkpoints, and the copy of the records a second sink keeps
/// (the anchors), beside the log.
fn crash_files(log: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = log.parent().unwrap();
    (
        dir.join("checkpoint.key"),
        dir.join("anchors").join("copy.jsonl"),
    )
}

/// The child of the crash test: writes records under fsync=always forever, checkpointed every
/// 25 records under a key that evolves at each, printing each record once `security_event!` has
/// returned. Does nothing unless the crash test started it.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var(CHILD_LOG) else {
        return;
    };
    let (key_file, copy) = crash_files(Path::new(&path));
    let checkpoints = CheckpointConfig::new(key_file)
        .every_records(25)
        .key_epoch(Duration::ZERO);
    let config = FileConfig::new(path)
        .fsync(FsyncPolicy::Always)
        .with_checkpoints(checkpoints);
    let (layer, _guard) = tracing_security_events::builder()
        .with_file_config(config)
        .with_file_config(FileConfig::new(copy).without_chain())
        .with_error_reporting(false)
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    let run = std::process::id();
    tracing::subscriber::with_default(subscriber, || {
        for i in 0_u64.. {
            security_event!(
                SecurityEvent::SensitiveDataRead,
                run,
                i,
                padding = "p".repeat(300)
            );
            println!("written {run} {i}");
        }
    });
}

/// A pseudo-random number from the clock: enough to scatter the kill moments.
fn scatter(range: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    nanos.wrapping_mul(0x9E37_79B9_7F4A_7C15) % range
}

#[test]
fn sigkill_at_random_moments_loses_nothing_reported_written() {
    let log = TempLog::new();
    let (key_file, copy) = crash_files(&log.path);
    let key = EpochKey::generate().unwrap();
    key.save(&key_file).unwrap();
    let public = parse_public_key(&key.public_key()).unwrap();
    let mut reported: HashSet<(u64, u64)> = HashSet::new();
    for round in 0..12 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_LOG, &log.path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|line| {
                    let mut parts = line.strip_prefix("written ")?.split(' ');
                    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
                })
                .collect::<Vec<(u64, u64)>>()
        });
        std::thread::sleep(Duration::from_millis(30 + scatter(150)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reported.extend(reader.join().unwrap());

        let text = std::fs::read_to_string(&log.path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut in_file = HashSet::new();
        for (n, line) in lines.iter().enumerate() {
            match serde_json::from_str::<serde_json::Value>(line) {
                Ok(record) => {
                    if let (Some(run), Some(i)) = (
                        record["fields"]["run"].as_u64(),
                        record["fields"]["i"].as_u64(),
                    ) {
                        in_file.insert((run, i));
                    }
                }
                // Only a line cut by a kill may fail to parse: the last, or one a restart closed.
                Err(_) => assert!(
                    n + 1 == lines.len() || text.ends_with('\n'),
                    "round {round}: line {} is broken mid-file",
                    n + 1
                ),
            }
        }
        let missing: Vec<_> = reported.difference(&in_file).collect();
        assert!(
            missing.is_empty(),
            "round {round}: reported written but not in the file: {missing:?}"
        );
        // A crash between a record and its checkpoint, or in the middle of one, is no tampering:
        // every checkpoint verifies, and every copy another sink received is in the file.
        let anchors: Vec<Checkpoint> = std::fs::read_to_string(&copy)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .filter_map(|record: serde_json::Value| Checkpoint::from_record(&record).ok()?)
            .collect();
        // A log killed before its first checkpoint has nothing signed yet.
        let mut options = VerifyOptions::new().with_anchors("copy.jsonl", anchors);
        if text.contains("\"name\":\"audit.checkpoint\"") {
            options = options.with_public_key(public);
        }
        let report = verify_with(&log.path, &options).unwrap();
        assert!(report.is_ok(), "round {round}: {:?}", report.problem);
        if !text.ends_with('\n') {
            assert_eq!(
                report.torn_lines.last().map(|l| l.line),
                Some(lines.len() as u64)
            );
        }
    }
    assert!(
        reported.len() > 12,
        "the children wrote something: {}",
        reported.len()
    );
    let report = verify_with(&log.path, &VerifyOptions::new().with_public_key(public)).unwrap();
    assert!(
        report.checkpoints > 0,
        "checkpoints were written: {report:?}"
    );
}

#[test]
fn logrotate_style_reopen_starts_a_new_file_at_the_path() {
    let log = TempLog::new();
    let (layer, guard) = log.builder().build().unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    let moved = log.dir.path().join("security.jsonl.1");
    tracing::subscriber::with_default(subscriber, || {
        security_event!(SecurityEvent::LoginFailed, i = 1);
        guard.flush().unwrap();
        std::fs::rename(&log.path, &moved).unwrap();
        guard.reopen().unwrap();
        assert!(log.path.exists(), "reopen creates the new file at once");
        security_event!(SecurityEvent::LoginFailed, i = 2);
    });
    guard.shutdown().unwrap();
    assert_eq!(read_records(&moved).len(), 1);
    let after = read_records(&log.path);
    assert_eq!(after.len(), 1);
    assert_eq!(after[0]["fields"]["i"], 2);
}

#[test]
fn a_deleted_directory_is_recreated_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs/security.jsonl");
    let (layer, guard) = tracing_security_events::layer(&path).unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        security_event!(SecurityEvent::LoginFailed, i = 1);
        guard.flush().unwrap();
        std::fs::remove_dir_all(dir.path().join("logs")).unwrap();
        security_event!(SecurityEvent::LoginFailed, i = 2);
    });
    guard.shutdown().unwrap();
    let records = read_records(&path);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["fields"]["i"], 2);
}

/// A tmpfs of `size` mounted for the test, unmounted on drop.
struct SmallFilesystem(std::path::PathBuf);

impl SmallFilesystem {
    fn mount(at: &Path, size: &str) -> Result<Self, String> {
        std::fs::create_dir_all(at).map_err(|e| e.to_string())?;
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
        }
        Ok(SmallFilesystem(at.to_path_buf()))
    }
}

impl SmallFilesystem {
    /// A 256 KiB filesystem under `scratch`, or `None` (with the reason printed) where it
    /// cannot be mounted.
    fn for_test(scratch: &Path) -> Option<(Self, std::path::PathBuf)> {
        let mount_point = scratch.join("small");
        match SmallFilesystem::mount(&mount_point, "256k") {
            Ok(fs) => Some((fs, mount_point)),
            Err(reason) => {
                eprintln!(
                    "skipped: a small filesystem could not be mounted ({reason}); run as root"
                );
                None
            }
        }
    }
}

/// Fills every block left on the filesystem of `filler`, then gives `leave` bytes back.
fn fill_disk(filler: &Path, leave: u64) {
    use std::io::Write;
    let mut file = std::fs::File::create(filler).unwrap();
    let block = vec![0_u8; 4096];
    while file.write_all(&block).is_ok() {}
    file.set_len(file.metadata().unwrap().len() - leave)
        .unwrap();
}

impl Drop for SmallFilesystem {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_fails_open_and_writing_resumes_when_space_is_freed() {
    let scratch = tempfile::tempdir().unwrap();
    let Some((_fs, mount_point)) = SmallFilesystem::for_test(scratch.path()) else {
        return;
    };
    let path = mount_point.join("security.jsonl");
    let filler = mount_point.join("filler");
    let (layer, guard) = tracing_security_events::builder()
        .with_file(&path)
        .with_sink_failure(SinkFailurePolicy::FailOpen)
        .with_queue_capacity(10_000)
        .with_error_reporting(false)
        .with_flush_timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    // Fill every block that is left.
    fill_disk(&filler, 0);
    let stats = guard.stats_handle();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let started = Instant::now();
        for i in 0..300 {
            security_event!(
                SecurityEvent::SensitiveDataRead,
                i,
                padding = "d".repeat(200)
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "fail-open: callers are not held up by the full disk"
        );
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while stats.get().sink_errors == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(stats.get().sink_errors > 0, "the failures are counted");
    assert!(stats.get().written < 300);

    std::fs::remove_file(&filler).unwrap();
    let final_stats = guard.shutdown().unwrap();
    assert_eq!(final_stats.written, 300, "writing resumed by itself");
    assert_eq!(
        final_stats.dropped, 0,
        "nothing accepted under block was lost"
    );
    let records = read_records(&path);
    let seen: HashSet<u64> = records
        .iter()
        .filter_map(|r| r["fields"]["i"].as_u64())
        .collect();
    assert_eq!(seen.len(), 300);
    assert!(
        verify(&path).unwrap().is_ok(),
        "no half-written batch was left behind"
    );
}

/// A disk that fills up between two files of one batch: the batch's first part reached the
/// file before the rotation, the rest failed. The retry writes only the rest, so no record is
/// in the log twice, and the chain across the rotated files still verifies.
#[test]
fn a_batch_cut_by_a_full_disk_after_a_rotation_is_not_written_twice() {
    let scratch = tempfile::tempdir().unwrap();
    let Some((_fs, mount_point)) = SmallFilesystem::for_test(scratch.path()) else {
        return;
    };
    let dir = mount_point.join("logs");
    let path = dir.join("security.jsonl");
    let filler = mount_point.join("filler");
    let (layer, guard) = tracing_security_events::builder()
        .with_file_config(
            FileConfig::new(&path)
                .rotate_at_size(8 * 1024)
                .keep_files(1000),
        )
        .with_sink_failure(SinkFailurePolicy::FailOpen)
        .with_queue_capacity(10_000)
        .with_error_reporting(false)
        .with_flush_timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    // Leave three pages: room for the first file's 8 KiB of a batch, not for the next file's.
    fill_disk(&filler, 3 * 4096);
    let stats = guard.stats_handle();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..200 {
            security_event!(
                SecurityEvent::SensitiveDataRead,
                i,
                padding = "d".repeat(200)
            );
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while stats.get().sink_errors == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(stats.get().sink_errors > 0, "the disk filled up mid-batch");
    std::fs::remove_file(&filler).unwrap();
    let final_stats = guard.shutdown().unwrap();
    assert_eq!(final_stats.written, 200);

    let mut seqs = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        for record in read_records(&entry.unwrap().path()) {
            seqs.push(record["seq"].as_u64().unwrap());
        }
    }
    seqs.sort_unstable();
    let expected: Vec<u64> = (1..=seqs.last().copied().unwrap_or(0)).collect();
    assert_eq!(seqs, expected, "every record once, none twice");
    let report = verify(&dir).unwrap();
    assert!(report.is_ok(), "{report:?}");
}
