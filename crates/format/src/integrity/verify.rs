//! Verifying a log: every seal recomputed, every link checked, the first problem named by file
//! and line.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;

use super::chain::{seq_of, unseal, ChainHasher, GENESIS};
use super::checkpoint::Checkpoint;
use super::trail::{LogEnds, Trail, TrailSummary};
use crate::log_files::LogName;

/// What to verify against.
#[derive(Clone, Default)]
pub struct VerifyOptions {
    key: Option<Vec<u8>>,
    expected_tip: Option<String>,
    pub(super) public_key: Option<VerifyingKey>,
    pub(super) anchors: Vec<Checkpoint>,
    /// Where the anchors came from, to name them in a problem.
    anchors_source: Option<String>,
    pub(super) timestamps: Option<std::sync::Arc<dyn super::TimestampCheck>>,
}

impl fmt::Debug for VerifyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyOptions")
            .field("key", &self.key.as_ref().map(|_| "(set)"))
            .field("expected_tip", &self.expected_tip)
            .field("public_key", &self.public_key)
            .field("anchors", &self.anchors.len())
            .field("anchors_source", &self.anchors_source)
            .field("timestamps", &self.timestamps.is_some())
            .finish()
    }
}

impl VerifyOptions {
    /// Verify an unkeyed chain, with no expectation about where it ends.
    pub fn new() -> Self {
        VerifyOptions::default()
    }

    /// The chain was written with this key (HMAC-SHA256).
    pub fn with_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// The hash the log must end with, kept somewhere else (a later `integrity.hash` read from
    /// another system): records removed from the end of the log are then detected too, which the
    /// chain alone cannot show.
    pub fn with_expected_tip(mut self, hash: impl Into<String>) -> Self {
        self.expected_tip = Some(hash.into());
        self
    }

    /// Checks every checkpoint's signature against this key (epoch 0's, as `security-log
    /// keygen` printed it; [`parse_public_key`](super::parse_public_key) reads that form), and
    /// every later epoch's key through the line of certificates back to it.
    pub fn with_public_key(mut self, key: VerifyingKey) -> Self {
        self.public_key = Some(key);
        self
    }

    /// Copies of the log's checkpoints kept away from its host (the records an OTLP collector,
    /// a PostgreSQL table or another file received), named `source` in problems: records cut
    /// from the log's end, files deleted outside retention, and checkpoints replaced are then
    /// found too.
    pub fn with_anchors(mut self, source: impl Into<String>, anchors: Vec<Checkpoint>) -> Self {
        self.anchors_source = Some(source.into());
        self.anchors = anchors;
        self
    }

    /// Checks the RFC 3161 time-stamp token each checkpoint carries with `check` (an
    /// authority's certificate); a token that does not verify is a problem.
    pub fn with_timestamps(mut self, check: std::sync::Arc<dyn super::TimestampCheck>) -> Self {
        self.timestamps = Some(check);
        self
    }
}

/// A line of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub file: PathBuf,
    /// The line, from 1.
    pub line: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// The kind of problem found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The record was changed after it was written (or forged, under a key).
    Modified,
    /// Records are missing before this line.
    Missing,
    /// This line was added: the next record continues from the one before it.
    Inserted,
    /// Records are out of order.
    Reordered,
    /// A whole file, or the end of the previous file, is missing before this one.
    MissingFile,
    /// The log ends before the expected tip, or before a checkpoint shipped to the anchors:
    /// records at its end are missing.
    Truncated,
    /// The line is not a sealed record (not JSON, or JSON without a seal).
    Malformed,
    /// A checkpoint whose signature does not verify, or whose key does not descend from the
    /// public key given (forged, or signed by a later, stolen key for the past).
    Forged,
    /// A signed checkpoint no longer matches the chain before it: records were changed and the
    /// chain recomputed by someone without the signing key.
    Recomputed,
    /// A checkpoint out of its place: one seen before, or one that does not follow the last.
    Replayed,
    /// The file holds another log's records (its checkpoints name that log): moved or renamed.
    Moved,
}

/// One problem, where it is, and what was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What kind.
    pub kind: ProblemKind,
    /// Where.
    pub location: Location,
    /// What exactly was seen.
    pub detail: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:?}: {}", self.location, self.kind, self.detail)
    }
}

/// What verification found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyReport {
    /// The files read, in chain order.
    pub files: Vec<PathBuf>,
    /// Whole records whose seal and link verified.
    pub records: u64,
    /// The first problem, if any; verification stops there.
    pub problem: Option<Problem>,
    /// Lines cut short by a crash: the unfinished last line of a file, or such a line the next
    /// start closed and wrote past (the chain then continues from the record before it).
    pub torn_lines: Vec<Location>,
    /// Whether the last file ends with a whole, sealed record and a line feed.
    pub ends_cleanly: bool,
    /// Whether the first record starts the chain; when not, older files were removed (by
    /// retention, or by someone).
    pub starts_at_genesis: bool,
    /// The hash of the last record.
    pub tip: Option<String>,
    /// Checkpoints read in the files (their signatures checked when a public key was given).
    pub checkpoints: u64,
    /// Checkpoints shipped to the anchors that were found, the same, in the files.
    pub anchors: u64,
    /// Records after the last checkpoint, which no signature covers yet.
    pub unsigned_tail: u64,
    /// Files the log's retention records say were removed.
    pub removed_by_retention: Vec<String>,
    /// Active files the log says another program moved away (`logrotate`): what they held is
    /// not verified here.
    pub moved_away: Vec<String>,
    /// Checkpoints whose time-stamp token verified (with a time-stamp check given).
    pub timestamps: u64,
    /// Checkpoints without a token (the authority could not be reached then).
    pub unstamped: u64,
    /// Checkpoints of a log written in another form, which this file holds as a copy (a
    /// native copy of an OCSF log's checkpoints): they sign that log's chain, not this one.
    pub other_chains: u64,
    /// The guarantees this verification could not check, and what it would need.
    pub unchecked: Vec<String>,
}

impl VerifyReport {
    /// No problem found (torn lines from crashes are not problems).
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Verifies `path`: one log file, or a directory of them (`*.jsonl`; each log's rotated files in
/// order, then its active file). Unkeyed chain; see [`verify_with`] for a key or an expected tip.
pub fn verify(path: impl AsRef<Path>) -> io::Result<VerifyReport> {
    verify_with(path, &VerifyOptions::default())
}

/// [`verify`] with options.
pub fn verify_with(path: impl AsRef<Path>, options: &VerifyOptions) -> io::Result<VerifyReport> {
    let path = path.as_ref();
    let groups = if path.is_dir() {
        let groups = LogName::logs_in(path)?;
        if groups.is_empty() {
            // Nothing verified because nothing was there is not a chain that verifies.
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "no .jsonl log in this directory",
            ));
        }
        groups
    } else {
        vec![vec![path.to_path_buf()]]
    };
    let mut verifier = Verifier::new(options);
    for files in groups {
        if verifier.verify_log(&files, options)?.is_break() {
            return Ok(verifier.report);
        }
    }
    verifier.note_unchecked(options);
    if let (Some(expected), Some(last)) = (&options.expected_tip, verifier.report.files.last()) {
        if verifier.report.tip.as_deref() != Some(expected) {
            let lines = std::fs::read(last)?.split(|&b| b == b'\n').count() as u64;
            verifier.report.problem = Some(Problem {
                kind: ProblemKind::Truncated,
                location: Location {
                    file: last.clone(),
                    line: lines.saturating_sub(1).max(1),
                },
                detail: format!(
                    "the log ends at hash {} but should end at {expected}: records at its end are missing",
                    verifier.report.tip.as_deref().unwrap_or("(none)")
                ),
            });
        }
    }
    Ok(verifier.report)
}

/// Verifies one chain given as its records in order (the rows of one instance in a database,
/// by `seq`): `source` names them in the report (`postgres:security_events/app-1`), the line
/// numbers counting records from 1.
pub fn verify_records<L: AsRef<[u8]>>(
    source: &str,
    records: &[L],
    options: &VerifyOptions,
) -> VerifyReport {
    verify_rows(source, records, options, None)
}

/// What retention says it removed from the start of a chain of rows (an
/// `audit.records_removed` record): the last removed record's `seq` and hash, and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedRows {
    /// The `seq` of the last record removed.
    pub last_seq: u64,
    /// Its chain hash: the `prev` of the first record kept.
    pub last_hash: String,
    /// How many were removed.
    pub count: u64,
}

/// As [`verify_records`], for a chain whose beginning retention may have removed: the first
/// record must start the chain, or continue from the last record one of `removals` names;
/// otherwise records before it are missing (removed by someone, not by retention).
pub fn verify_records_after_removals<L: AsRef<[u8]>>(
    source: &str,
    records: &[L],
    options: &VerifyOptions,
    removals: &[RemovedRows],
) -> VerifyReport {
    verify_rows(source, records, options, Some(removals))
}

fn verify_rows<L: AsRef<[u8]>>(
    source: &str,
    records: &[L],
    options: &VerifyOptions,
    removals: Option<&[RemovedRows]>,
) -> VerifyReport {
    let mut verifier = Verifier::new(options);
    let source = PathBuf::from(source);
    verifier.report.files.push(source.clone());
    let lines: Vec<&[u8]> = records.iter().map(AsRef::as_ref).collect();
    let (mut tail, mut first_record) = (Tail::default(), true);
    if verifier
        .verify_lines(&source, false, &lines, false, &mut tail, &mut first_record)
        .is_continue()
    {
        verifier.finish(&mut tail);
        if let (Some(removals), Some((first_seq, Some(after)))) = (removals, &tail.first) {
            match removals.iter().find(|r| &r.last_hash == after) {
                Some(removal) => verifier.report.removed_by_retention.push(format!(
                    "{} record(s) up to seq {} of this chain",
                    removal.count, removal.last_seq
                )),
                None => {
                    verifier.report.problem = Some(Problem {
                        kind: ProblemKind::Missing,
                        location: Location {
                            file: source.clone(),
                            line: 1,
                        },
                        detail: format!(
                            "the records before seq {first_seq} are missing, and no retention \
                             record says it removed them"
                        ),
                    });
                    return verifier.report;
                }
            }
        }
        if let Some(expected) = &options.expected_tip {
            if verifier.report.tip.as_deref() != Some(expected) {
                verifier.report.problem = Some(Problem {
                    kind: ProblemKind::Truncated,
                    location: Location {
                        file: source,
                        line: lines.len().max(1) as u64,
                    },
                    detail: format!(
                        "the chain ends at hash {} but should end at {expected}: records at its end are missing",
                        verifier.report.tip.as_deref().unwrap_or("(none)")
                    ),
                });
            }
        }
    }
    verifier.report
}

struct Verifier {
    hasher: ChainHasher,
    keyed: bool,
    report: VerifyReport,
    /// The checkpoints of the log being read (none for a table's rows).
    trail: Option<Trail>,
    anchors_source: PathBuf,
}

/// The chain as read so far.
#[derive(Default)]
struct Tail {
    last_hash: Option<String>,
    before_last_hash: Option<String>,
    last_seq: u64,
    /// A line that did not parse, waiting to see whether the chain continues past it.
    unfinished: Option<Location>,
    /// The `seq` of the first record, and its `prev` when that is not the genesis.
    first: Option<(u64, Option<String>)>,
    /// Lines in the file read last.
    lines_in_last_file: u64,
}

type Flow = std::ops::ControlFlow<()>;

impl Verifier {
    fn new(options: &VerifyOptions) -> Self {
        Verifier {
            hasher: ChainHasher::new(options.key.as_deref()),
            keyed: options.key.is_some(),
            report: VerifyReport {
                ends_cleanly: true,
                ..VerifyReport::default()
            },
            trail: None,
            anchors_source: PathBuf::from(format!(
                "anchors {}",
                options.anchors_source.as_deref().unwrap_or("")
            )),
        }
    }

    /// Says which guarantees this verification left unchecked, and what would check them.
    fn note_unchecked(&mut self, options: &VerifyOptions) {
        let unchecked = &mut self.report.unchecked;
        if options.public_key.is_none() && self.report.checkpoints > 0 {
            unchecked.push(
                "checkpoint signatures: a chain recomputed by someone without the signing key \
                 (give the public key)"
                    .to_owned(),
            );
        }
        if options.anchors_source.is_some() && self.report.anchors == 0 {
            // Anchors of another log (or instance) check nothing here: never a silent "ok".
            unchecked.push(
                "records cut from the end: no checkpoint in the anchors given matched one in \
                 this log (the anchors of another log or instance?)"
                    .to_owned(),
            );
        }
        if options.anchors_source.is_none() && options.expected_tip.is_none() {
            unchecked.push(
                "records cut from the end, an emptied or deleted active file (give the anchors: \
                 the checkpoints another sink received)"
                    .to_owned(),
            );
        }
        if options.public_key.is_none() && self.report.checkpoints == 0 && !self.keyed {
            unchecked.push(
                "a chain recomputed from a changed record: without checkpoints or a chain key \
                 anyone can reseal the log"
                    .to_owned(),
            );
        }
    }

    fn fail(&mut self, kind: ProblemKind, location: Location, detail: String) -> Flow {
        self.report.problem = Some(Problem {
            kind,
            location,
            detail,
        });
        Flow::Break(())
    }

    fn verify_log(&mut self, files: &[PathBuf], options: &VerifyOptions) -> io::Result<Flow> {
        let log = files
            .first()
            .map(|f| LogName::active_name_of(f))
            .unwrap_or_default();
        let instance = files.first().and_then(|file| instance_of(file));
        match Trail::new(&log, instance.as_deref(), options) {
            Ok(trail) => self.trail = Some(trail),
            Err((kind, detail)) => {
                let location = Location {
                    file: self.anchors_source.clone(),
                    line: 1,
                };
                return Ok(self.fail(kind, location, detail));
            }
        }
        let mut tail = Tail::default();
        let mut first_record = true;
        for (index, file) in files.iter().enumerate() {
            self.report.files.push(file.clone());
            let data = std::fs::read(file)?;
            let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
            // `split` leaves an empty piece after a final line feed; anything else there is a line
            // without its line feed.
            let (lines, unterminated) = match lines.split_last() {
                Some(([], rest)) => (rest, false),
                _ => (&lines[..], !data.is_empty()),
            };
            let flow = self.verify_lines(
                file,
                index > 0,
                lines,
                unterminated,
                &mut tail,
                &mut first_record,
            );
            if flow.is_break() {
                return Ok(flow);
            }
        }
        self.finish(&mut tail);
        Ok(self.finish_trail(&tail, files))
    }

    /// The checkpoints' verdict on the log's two ends, once all of it was read.
    fn finish_trail(&mut self, tail: &Tail, files: &[PathBuf]) -> Flow {
        let Some(mut trail) = self.trail.take() else {
            return Flow::Continue(());
        };
        let (first_seq, starts_after) = match &tail.first {
            Some((seq, prev)) => (*seq, prev.as_deref()),
            None => (0, None),
        };
        let ends = LogEnds {
            starts_after,
            first_seq,
            last_seq: tail.last_seq,
        };
        match trail.finish(&ends) {
            Ok(TrailSummary {
                checkpoints,
                anchors,
                unsigned_tail,
                removed_by_retention,
                moved_away,
                timestamps,
                unstamped,
                other_chains,
            }) => {
                self.report.other_chains += other_chains;
                self.report.timestamps += timestamps;
                self.report.unstamped += unstamped;
                self.report.checkpoints += checkpoints;
                self.report.anchors += anchors;
                self.report.unsigned_tail += unsigned_tail;
                self.report
                    .removed_by_retention
                    .extend(removed_by_retention);
                self.report.moved_away.extend(moved_away);
                Flow::Continue(())
            }
            Err((kind, detail)) => {
                let file = match kind {
                    ProblemKind::MissingFile => files.first(),
                    _ => files.last(),
                };
                let location = Location {
                    file: file.cloned().unwrap_or_default(),
                    line: match kind {
                        ProblemKind::MissingFile => 1,
                        _ => tail.lines_in_last_file.max(1),
                    },
                };
                self.fail(kind, location, detail)
            }
        }
    }

    /// Checks the lines of one file (or of one instance's rows) against the chain so far.
    fn verify_lines(
        &mut self,
        file: &Path,
        later_file: bool,
        lines: &[&[u8]],
        unterminated: bool,
        tail: &mut Tail,
        first_record: &mut bool,
    ) -> Flow {
        self.report.ends_cleanly = !unterminated;
        tail.lines_in_last_file = lines.len() as u64;
        for (i, &line) in lines.iter().enumerate() {
            let location = Location {
                file: file.to_path_buf(),
                line: i as u64 + 1,
            };
            let next_seq = lines.get(i + 1).and_then(|next| seq_of(next));
            let is_last = i + 1 == lines.len();
            let flow = self.check_line(
                line,
                location,
                tail,
                (later_file && i == 0, is_last && unterminated, next_seq),
                first_record,
            );
            if flow.is_break() {
                return flow;
            }
        }
        Flow::Continue(())
    }

    /// A line that did not parse at the very end is a torn line, not a problem.
    fn finish(&mut self, tail: &mut Tail) {
        if let Some(location) = tail.unfinished.take() {
            self.report.ends_cleanly = false;
            self.report.torn_lines.push(location);
        }
    }

    fn check_line(
        &mut self,
        line: &[u8],
        location: Location,
        tail: &mut Tail,
        (first_of_later_file, unterminated_last, next_seq): (bool, bool, Option<u64>),
        first_record: &mut bool,
    ) -> Flow {
        let Some(sealed) = unseal(line) else {
            if serde_json::from_slice::<serde_json::Value>(line).is_ok() {
                let detail = "a JSON record without an integrity seal".to_owned();
                return self.fail(ProblemKind::Malformed, location, detail);
            }
            if unterminated_last {
                self.report.torn_lines.push(location);
                return Flow::Continue(());
            }
            if let Some(earlier) = tail.unfinished.replace(location) {
                let detail = "an unfinished line, and the next is not a record either".to_owned();
                return self.fail(ProblemKind::Malformed, earlier, detail);
            }
            return Flow::Continue(());
        };
        let computed = self.hasher.hash(sealed.prev, &sealed.record);
        if computed.as_str() != sealed.hash {
            let detail = if self.keyed {
                "its seal does not verify under the key: changed or forged (or sealed under \
                 another key)"
                    .to_owned()
            } else if self.report.records == 0 {
                "its seal does not match its content: changed after it was written, or the log \
                 was sealed with a key (verify with the key: --key-file)"
                    .to_owned()
            } else {
                "its seal does not match its content: changed after it was written".to_owned()
            };
            return self.fail(ProblemKind::Modified, location, detail);
        }
        let Some(seq) = seq_of(&sealed.record) else {
            let detail = "a sealed record without a seq".to_owned();
            return self.fail(ProblemKind::Malformed, location, detail);
        };

        match tail.last_hash.as_deref() {
            None => {
                if *first_record {
                    self.report.starts_at_genesis = sealed.prev == GENESIS;
                }
            }
            Some(expected) if expected == sealed.prev => {}
            Some(_) => {
                let flow = self.broken_link(
                    &location,
                    tail,
                    sealed.prev,
                    seq,
                    first_of_later_file,
                    next_seq,
                );
                if flow.is_break() {
                    return flow;
                }
            }
        }
        if let Some(trail) = &mut self.trail {
            let before = tail.last_hash.as_deref().map(|hash| (tail.last_seq, hash));
            if let Err((kind, detail)) = trail.record(&sealed.record, before) {
                return self.fail(kind, location, detail);
            }
        }
        if tail.first.is_none() {
            let after = (sealed.prev != GENESIS).then(|| sealed.prev.to_owned());
            tail.first = Some((seq, after));
        }
        if let Some(unfinished) = tail.unfinished.take() {
            // The chain went on past it: a line cut by a crash, closed at the next start.
            self.report.torn_lines.push(unfinished);
        }
        *first_record = false;
        tail.before_last_hash = tail.last_hash.replace(sealed.hash.to_owned());
        tail.last_seq = seq;
        self.report.tip = tail.last_hash.clone();
        self.report.records += 1;
        Flow::Continue(())
    }

    /// Names what breaks the link between the previous record and this one.
    fn broken_link(
        &mut self,
        location: &Location,
        tail: &Tail,
        prev: &str,
        seq: u64,
        first_of_later_file: bool,
        next_seq: Option<u64>,
    ) -> Flow {
        let expected_seq = tail.last_seq + 1;
        let previous_line = Location {
            file: location.file.clone(),
            line: location.line.saturating_sub(1).max(1),
        };
        if first_of_later_file {
            let detail = "the first record does not continue from the last record of the previous \
                          file: a file between them, or the end of the previous file, is missing"
                .to_owned();
            return self.fail(ProblemKind::MissingFile, location.clone(), detail);
        }
        if tail.before_last_hash.as_deref() == Some(prev) {
            let detail = format!(
                "this line was inserted: line {} continues from the line before it",
                location.line
            );
            return self.fail(ProblemKind::Inserted, previous_line, detail);
        }
        if seq > expected_seq && next_seq == Some(expected_seq) {
            let detail = format!("seq {seq} comes before seq {expected_seq}");
            return self.fail(ProblemKind::Reordered, location.clone(), detail);
        }
        if seq > expected_seq || seq == 1 {
            let detail = if seq > expected_seq {
                format!(
                    "{} record(s) missing before this line (seq {expected_seq} to {})",
                    seq - expected_seq,
                    seq - 1
                )
            } else {
                "the chain breaks where the writer restarted: records before this line are missing"
                    .to_owned()
            };
            return self.fail(ProblemKind::Missing, location.clone(), detail);
        }
        if seq < expected_seq {
            let detail = format!("seq {seq} comes after seq {}", tail.last_seq);
            return self.fail(ProblemKind::Reordered, location.clone(), detail);
        }
        let detail = format!(
            "line {} no longer has the hash that line {} was chained to: changed and re-sealed",
            previous_line.line, location.line
        );
        self.fail(ProblemKind::Modified, previous_line, detail)
    }
}

/// The `service.instance` of the first record of `file` (read within its first megabyte).
fn instance_of(file: &Path) -> Option<String> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(file)
        .ok()?
        .take(1 << 20)
        .read_to_end(&mut head)
        .ok()?;
    let line = head.split(|&b| b == b'\n').next()?;
    let record = crate::forms::read_view(serde_json::from_slice(line).ok()?);
    record
        .pointer("/service/instance")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrity::chain::{ChainHash, ChainHasher};

    /// Ten sealed records, seq 1 to 10, and each one's hash.
    fn chain() -> (Vec<String>, Vec<String>) {
        let hasher = ChainHasher::new(None);
        let (mut tip, mut lines, mut hashes) = (ChainHash::GENESIS, Vec::new(), Vec::new());
        for seq in 1..=10 {
            let mut out = Vec::new();
            let record = format!(r#"{{"schema":1,"id":"r{seq}","seq":{seq}}}"#);
            tip = hasher.seal(&tip, record.as_bytes(), &mut out);
            lines.push(String::from_utf8(out).unwrap().trim_end().to_owned());
            hashes.push(tip.as_str().to_owned());
        }
        (lines, hashes)
    }

    #[test]
    fn a_start_removed_by_retention_is_told_from_one_removed_by_someone() {
        let (lines, hashes) = chain();
        let removal = |last_seq: u64| RemovedRows {
            last_seq,
            last_hash: hashes[last_seq as usize - 1].clone(),
            count: last_seq,
        };
        // The first four removed, and recorded.
        let report =
            verify_records_after_removals("t/a", &lines[4..], &VerifyOptions::new(), &[removal(4)]);
        assert!(report.is_ok(), "{:?}", report.problem);
        assert!(!report.starts_at_genesis);
        assert_eq!(report.removed_by_retention.len(), 1);
        assert_eq!(report.records, 6);
        // One more removed than recorded: found.
        let report =
            verify_records_after_removals("t/a", &lines[5..], &VerifyOptions::new(), &[removal(4)]);
        assert_eq!(report.problem.map(|p| p.kind), Some(ProblemKind::Missing));
        // Nothing recorded: found; a whole chain needs nothing.
        let report = verify_records_after_removals("t/a", &lines[4..], &VerifyOptions::new(), &[]);
        assert_eq!(report.problem.map(|p| p.kind), Some(ProblemKind::Missing));
        let report = verify_records_after_removals("t/a", &lines, &VerifyOptions::new(), &[]);
        assert!(report.is_ok() && report.starts_at_genesis);
        // Without removals to check against, a missing start is only reported, as before.
        assert!(verify_records("t/a", &lines[5..], &VerifyOptions::new()).is_ok());
    }
}
