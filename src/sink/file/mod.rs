//! Appending JSON lines to a file: rotation, retention, durability, the hash chain, and recovery
//! from what an earlier run left.

mod background_sync;
mod checkpointer;
mod config;
mod index;
mod recovery;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use background_sync::BackgroundSync;
use checkpointer::{removal_fields, Checkpointer};
pub use config::{
    CheckpointConfig, FileConfig, FsyncPolicy, RotationPeriod, DEFAULT_CHECKPOINT_INTERVAL,
    DEFAULT_CHECKPOINT_RECORDS, DEFAULT_FSYNC_INTERVAL, DEFAULT_KEY_EPOCH,
};
use index::{IndexJobs, IndexTracker};

use super::{Batch, RecordRequest, Sink};
use crate::clock::Clock;
use crate::forms::OutputForm;
use crate::integrity::chain::{seq_of, unseal, ChainHash, ChainHasher};
use crate::integrity::MOVED_AWAY;
use crate::log_files::LogName;
use crate::record::SecurityRecord;

/// Appends records to a file as JSON lines, one write per batch of whole records.
///
/// The file and any missing directories are created private to the owner (0600 and 0700 on
/// Unix); an existing file is appended to. At open, a last line left unfinished by a crash is
/// closed with a line feed (so no record is ever glued to it) and reported, and the hash chain
/// continues from the last whole record, in this file or the newest rotated one.
///
/// If the file is deleted or replaced while open (`logrotate`, a removed directory), the next
/// write notices and writes to a new file at the same path. When a write fails (a full disk),
/// whatever part of a record reached the file is cut off again; the records of the batch that
/// were written whole (before a rotation, or before a sync that failed) stay, and the retry
/// writes only the rest, so no record is in the log twice.
#[derive(Debug)]
pub(crate) struct FileSink {
    config: FileConfig,
    clock: Arc<dyn Clock>,
    log: LogName,
    name: String,
    file: Option<File>,
    /// Bytes in the active file.
    size: u64,
    /// Which file the path named when opened, to notice it being replaced.
    identity: Option<(u64, u64)>,
    /// The rotation period of the active file's first record.
    period: Option<DateTime<Utc>>,
    /// The times of the active file's records, when the sink wrote it from its first byte:
    /// left beside it when it rotates.
    index: Option<IndexTracker>,
    /// Indexes of rotated files still being saved.
    index_jobs: IndexJobs,
    chain: Option<(ChainHasher, ChainHash)>,
    /// The `seq` of the record the chain's tip is the hash of (0: none yet).
    tip_seq: u64,
    checkpointer: Option<Checkpointer>,
    /// Rotated files retention removes once the log has recorded it.
    removals: Vec<Removal>,
    /// A write failed midway and could not be cut off: close that line before the next record.
    needs_line_feed: bool,
    unsynced: bool,
    last_sync: Instant,
    /// The interval policy's sync, running beside the writes.
    background: BackgroundSync,
    /// The last background sync failed: the next check syncs again, whatever the interval.
    resync: bool,
    torn_at_open: bool,
    out: Vec<u8>,
    /// A batch that failed partway: the `seq` of its first record and how many of its records
    /// are in the file (or all of them, when only the sync after them failed). Its retry
    /// writes the rest, so no record is written twice.
    partial: Option<(u64, usize)>,
}

impl FileSink {
    /// Opens (or creates) the file `config` names.
    #[cfg_attr(not(feature = "query"), allow(unused_mut))]
    pub(crate) fn with_config(mut config: FileConfig) -> io::Result<Self> {
        // Retention by kind keeps whole files for the longest age, for readers to hide each
        // kind at its own.
        #[cfg(feature = "query")]
        let retention = config.retention();
        #[cfg(feature = "query")]
        if let Some(rules) = &retention {
            config.max_age = rules.longest();
        }
        let log = LogName::of(&config.path);
        let mut sink = FileSink {
            clock: config.clock(),
            name: format!("file:{}", config.path.display()),
            log,
            file: None,
            size: 0,
            identity: None,
            period: None,
            index: None,
            index_jobs: IndexJobs::default(),
            chain: None,
            tip_seq: 0,
            checkpointer: None,
            removals: Vec::new(),
            needs_line_feed: false,
            unsynced: false,
            last_sync: Instant::now(),
            background: BackgroundSync::default(),
            resync: false,
            torn_at_open: false,
            out: Vec::new(),
            partial: None,
            config,
        };
        sink.open_active()?;
        #[cfg(feature = "query")]
        if let Some(rules) = retention {
            rules.save_beside(&sink.config.path)?;
        }
        sink.recover()?;
        if let Some(checkpoints) = sink.config.checkpoints.as_deref().cloned() {
            let file = sink.file.as_mut().expect("opened just before");
            let name = sink
                .config
                .path
                .file_name()
                .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
            sink.checkpointer = Some(Checkpointer::open(checkpoints, &sink.log, file, name)?);
        }
        sink.prune()?;
        if let (Some(period), Some(first)) = (sink.config.period, sink.period) {
            let now = sink.clock.now();
            if period.start_of(now) > first {
                sink.rotate(now)?;
            }
        }
        Ok(sink)
    }

    /// Whether the open found the file ending in a line left unfinished by a crash (and closed it).
    pub(crate) fn found_torn_line(&self) -> bool {
        self.torn_at_open
    }

    fn open_active(&mut self) -> io::Result<()> {
        let path = &self.config.path;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_private_dirs(parent)?;
        }
        let mut options = OpenOptions::new();
        options.create(true).append(true).read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(path)?;
        let metadata = file.metadata()?;
        if !metadata.is_file() {
            return Err(io::Error::other(format!(
                "{} is not a regular file",
                path.display()
            )));
        }
        self.size = metadata.len();
        self.identity = identity(&metadata);
        self.period = None;
        // Lines an earlier run wrote are not known here: no index for such a file (the store
        // reads it whole; `security-log index` can index it once it is rotated).
        // The store reads the native form only: an index of another would never be read.
        let native = self.config.form == OutputForm::Native;
        self.index = (self.config.index && native && self.size == 0)
            .then(IndexTracker::start)
            .flatten();
        self.file = Some(file);
        Ok(())
    }

    /// Picks up where an earlier run stopped.
    fn recover(&mut self) -> io::Result<()> {
        let file = self.file.as_mut().expect("opened just before");
        let end = recovery::read_end(file)?;
        if end.torn {
            // Close the unfinished line now, so the next record starts on a line of its own.
            file.write_all(b"\n")?;
            file.sync_data()?;
            self.size += 1;
            self.torn_at_open = true;
        }
        if let Some(period) = self.config.period {
            let first = recovery::read_first_line(file)?;
            self.period = first
                .as_deref()
                .and_then(timestamp_of)
                .map(|t| period.start_of(t));
        }
        // Numbering continues after the file's last record (see `Sink::last_seq`).
        self.tip_seq = end.last_whole_line.as_deref().and_then(seq_of).unwrap_or(0);
        if self.config.chain {
            let mut last = end.last_whole_line;
            if last.is_none() {
                if let Some((newest, _)) = self.log.rotated_files()?.pop() {
                    last = recovery::read_end(&mut File::open(newest)?)?.last_whole_line;
                }
            }
            let sealed = last.as_deref().and_then(unseal);
            if let Some(seq) = sealed.as_ref().and_then(|s| seq_of(&s.record)) {
                self.tip_seq = seq;
            }
            let tip = sealed
                .and_then(|sealed| ChainHash::parse(sealed.hash))
                .unwrap_or(ChainHash::GENESIS);
            self.chain = Some((ChainHasher::new(self.config.chain_key.as_deref()), tip));
        }
        Ok(())
    }

    /// Deletes the rotated files retention no longer keeps; with a chain, only once the log
    /// has recorded their removal (`audit.files_removed`), so that verification tells
    /// retention from deletion.
    fn prune(&mut self) -> io::Result<()> {
        if self.config.max_files.is_none() && self.config.max_age.is_none() {
            return Ok(());
        }
        let rotated = self.log.rotated_files()?;
        let keep_from = self
            .config
            .max_files
            .map_or(0, |max| rotated.len().saturating_sub(max));
        let oldest_kept = self.config.max_age.and_then(|age| {
            let age = chrono::Duration::from_std(age).ok()?;
            self.clock.now().checked_sub_signed(age)
        });
        for (index, (path, rotated_at)) in rotated.iter().enumerate() {
            let too_many = index < keep_from;
            let too_old = oldest_kept.is_some_and(|oldest| *rotated_at < oldest);
            if !(too_many || too_old) {
                continue;
            }
            if self.chain.is_none() {
                fs::remove_file(path)?;
                remove_index(path);
            } else if !self.removals.iter().any(|removal| removal.path == *path) {
                self.removals.push(Removal {
                    path: path.clone(),
                    requested: false,
                    recorded: false,
                    moved: None,
                });
            }
        }
        Ok(())
    }

    /// What records just written made safe: the key's next epoch, retention's removals.
    fn after_written(&mut self) -> io::Result<()> {
        if let Some(checkpointer) = &mut self.checkpointer {
            checkpointer.written()?;
        }
        self.remove_recorded()
    }

    /// Removes the files whose removal the log has recorded.
    fn remove_recorded(&mut self) -> io::Result<()> {
        let mut result = Ok(());
        self.removals.retain(|removal| {
            if !removal.recorded {
                return true;
            }
            if removal.moved.is_some() {
                return false;
            }
            match fs::remove_file(&removal.path) {
                Err(err) if err.kind() != io::ErrorKind::NotFound => result = Err(err),
                _ => remove_index(&removal.path),
            }
            false
        });
        result
    }

    /// Closes the active file under a rotated name and starts a new one.
    fn rotate(&mut self, now: DateTime<Utc>) -> io::Result<()> {
        self.sync()?;
        let mut target = self.log.rotated_path(now);
        let mut at = now;
        while target.exists() {
            at += chrono::Duration::microseconds(1);
            target = self.log.rotated_path(at);
        }
        fs::rename(&self.config.path, &target)?;
        if let Some(index) = self.index.take() {
            self.index_jobs
                .add(index.rotated(target.clone(), self.size));
        }
        self.open_active()?;
        if let Some(checkpointer) = &mut self.checkpointer {
            checkpointer.want();
        }
        self.prune()
    }

    /// Reopens the path if the file there is no longer the one we hold.
    fn follow_path(&mut self) -> io::Result<()> {
        let current = self.path_identity();
        if self.file.is_none() || current.is_none() || current != self.identity {
            self.note_moved_away();
            self.open_active()?;
        }
        Ok(())
    }

    /// Which file the path names now, if any.
    fn path_identity(&self) -> Option<(u64, u64)> {
        fs::metadata(&self.config.path)
            .ok()
            .and_then(|m| identity(&m))
    }

    /// With checkpoints, the active file leaving its path (`logrotate`, a removal) is recorded
    /// with the last record it held, so that verification can tell where the chain went.
    fn note_moved_away(&mut self) {
        let (Some(_), Some((_, tip)), true) = (&self.checkpointer, &self.chain, self.size > 0)
        else {
            return;
        };
        self.removals.push(Removal {
            path: self.config.path.clone(),
            requested: false,
            recorded: false,
            moved: Some((self.tip_seq, *tip)),
        });
    }

    /// Appends `bytes` whole, or leaves the file as it was.
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("the log file is not open"))?;
        if let Err(err) = file.write_all(bytes) {
            match file.set_len(self.size) {
                Ok(()) => {}
                Err(_) => {
                    self.needs_line_feed = true;
                    self.size = file.metadata().map(|m| m.len()).unwrap_or(self.size);
                }
            }
            return Err(err);
        }
        self.size += bytes.len() as u64;
        self.unsynced = true;
        self.needs_line_feed = false;
        Ok(())
    }

    /// Makes everything written so far durable before returning.
    fn sync(&mut self) -> io::Result<()> {
        self.wait_for_background_sync()?;
        if let (true, Some(file)) = (self.unsynced, self.file.as_ref()) {
            file.sync_data()?;
            self.unsynced = false;
        }
        self.last_sync = Instant::now();
        Ok(())
    }

    fn sync_if_due(&mut self) -> io::Result<()> {
        match self.config.fsync {
            FsyncPolicy::Always => self.sync(),
            FsyncPolicy::Interval(every) => {
                // One sync at a time: a slow disk makes the next one wait, not pile up.
                if self.poll_background_sync()? {
                    return Ok(());
                }
                if self.resync || self.last_sync.elapsed() >= every {
                    self.start_background_sync()
                } else {
                    Ok(())
                }
            }
            FsyncPolicy::Never => Ok(()),
        }
    }

    /// Hands what was written so far to a sync beside the writes (in line if none can start).
    fn start_background_sync(&mut self) -> io::Result<()> {
        self.resync = false;
        let Some(file) = self.file.as_ref().filter(|_| self.unsynced) else {
            self.last_sync = Instant::now();
            return Ok(());
        };
        if self.background.start(file).is_err() {
            return self.sync();
        }
        self.unsynced = false;
        self.last_sync = Instant::now();
        Ok(())
    }

    /// Whether a background sync is still running; the error of one that failed, after which
    /// the next check syncs again.
    fn poll_background_sync(&mut self) -> io::Result<bool> {
        self.background.poll().inspect_err(|_| self.sync_failed())
    }

    fn wait_for_background_sync(&mut self) -> io::Result<()> {
        self.background.wait().inspect_err(|_| self.sync_failed())
    }

    fn sync_failed(&mut self) {
        self.unsynced = true;
        self.resync = true;
    }

    /// Seals (or copies) each record of the batch into `out`; returns where each record ends
    /// and the chain tip after it.
    fn seal_batch(
        &mut self,
        batch: &Batch<'_>,
        out: &mut Vec<u8>,
    ) -> Vec<(usize, Option<ChainHash>)> {
        let mut ends = Vec::with_capacity(batch.len());
        let mut tip = self.chain.as_ref().map(|(_, tip)| *tip);
        let form = self.config.form;
        for line in batch.lines_of(form) {
            match (&self.chain, &mut tip) {
                (Some((hasher, _)), Some(tip)) => {
                    let record = line.strip_suffix(b"\n").unwrap_or(line);
                    *tip = hasher.seal_at(tip, record, form.seal_depth(), out);
                }
                _ => out.extend_from_slice(line),
            }
            ends.push((out.len(), tip));
        }
        ends
    }
}

/// A rotated file retention no longer keeps.
#[derive(Debug)]
struct Removal {
    path: std::path::PathBuf,
    /// An `audit.files_removed` record was asked for.
    requested: bool,
    /// That record was filled in; the file goes once it is written.
    recorded: bool,
    /// Another program moved the active file away (`logrotate`): the last record it held, as
    /// the chain knew it. Nothing is deleted then.
    moved: Option<(u64, ChainHash)>,
}

fn create_private_dirs(dir: &Path) -> io::Result<()> {
    // `create_dir_all` would say only "File exists" when part of the path is a regular file.
    if let Some(blocker) = dir.ancestors().find(|p| p.exists()).filter(|p| !p.is_dir()) {
        return Err(io::Error::other(format!(
            "{} exists and is not a directory",
            blocker.display()
        )));
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[cfg(unix)]
fn identity(metadata: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((metadata.dev(), metadata.ino()))
}

#[cfg(not(unix))]
fn identity(_: &fs::Metadata) -> Option<(u64, u64)> {
    Some((0, 0))
}

fn timestamp_of(line: &[u8]) -> Option<DateTime<Utc>> {
    #[derive(serde::Deserialize)]
    struct Timestamp<'a> {
        timestamp: &'a str,
    }
    let record = serde_json::from_slice::<Timestamp<'_>>(line).ok()?;
    DateTime::parse_from_rfc3339(record.timestamp)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl Sink for FileSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn form(&self) -> OutputForm {
        self.config.form
    }

    fn write(&mut self, batch: &Batch<'_>) -> io::Result<()> {
        let Some(first_seq) = batch.records().first().map(|record| record.seq) else {
            return Ok(());
        };
        batch.require(self.config.form)?;
        // The retry of a batch that failed partway starts where the failure stopped it.
        let done = match self.partial.take() {
            Some((seq, done)) if seq == first_seq => done,
            _ => 0,
        };
        let rest = batch.skip(done);
        if !rest.is_empty() {
            if let Err((written, err)) = self.write_records(&rest) {
                self.partial = Some((first_seq, done + written));
                return Err(err);
            }
        }
        // Past this point every record of the batch is in the file: a failure leaves the retry
        // nothing to write again.
        self.sync_if_due()
            .and_then(|()| self.after_written())
            .inspect_err(|_| {
                self.partial = Some((first_seq, batch.len()));
            })
    }

    fn take_requests(&mut self) -> Vec<RecordRequest> {
        let mut requests = Vec::new();
        for removal in self.removals.iter_mut().filter(|r| !r.requested) {
            removal.requested = true;
            requests.push(RecordRequest::FilesRemoved);
        }
        // After the others, so that the checkpoint signs them; a new key is announced just
        // before the first checkpoint it signs.
        if let Some(checkpointer) = &mut self.checkpointer {
            if checkpointer.due() {
                if checkpointer.take_rotated() {
                    requests.push(RecordRequest::KeyRotated);
                }
                requests.push(RecordRequest::Checkpoint);
            }
        }
        requests
    }

    fn complete(
        &mut self,
        request: RecordRequest,
        record: &mut SecurityRecord,
    ) -> io::Result<bool> {
        match request {
            RecordRequest::Checkpoint => {
                let Some(tip) = self.chain.as_ref().map(|(_, tip)| *tip) else {
                    return Ok(false);
                };
                if self.checkpointer.is_none() {
                    return Ok(false);
                }
                // No sync of its own: the file's policy applies (measured: a sync at every
                // checkpoint cost 5-8% of the throughput). What a process crash leaves is in
                // the file; a machine crash under `interval` can lose the last records an
                // anchor already names, which verify then reports as missing.
                let tip_seq = self.tip_seq;
                if let Some(checkpointer) = &mut self.checkpointer {
                    checkpointer.sign(record, (tip_seq, tip.as_str()), self.config.form);
                }
                Ok(true)
            }
            RecordRequest::FilesRemoved => {
                let Some(removal) = self
                    .removals
                    .iter_mut()
                    .find(|r| r.requested && !r.recorded)
                else {
                    return Ok(false);
                };
                let name = removal
                    .path
                    .file_name()
                    .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
                let last = match &removal.moved {
                    Some((seq, hash)) => {
                        record.message = format!("{name} was moved away by another program");
                        let reason = crate::value::FieldValue::Str(MOVED_AWAY.to_owned());
                        record.fields.push("reason", reason);
                        Some((*seq, hash.as_str().to_owned()))
                    }
                    None => {
                        record.message = format!("retention removed {name}");
                        recovery::read_end(&mut File::open(&removal.path)?)?
                            .last_whole_line
                            .as_deref()
                            .and_then(unseal)
                            .and_then(|sealed| {
                                Some((seq_of(&sealed.record)?, sealed.hash.to_owned()))
                            })
                    }
                };
                for (field, value) in removal_fields(&name, last) {
                    record.fields.push(field, value);
                }
                removal.recorded = true;
                Ok(true)
            }
            RecordRequest::KeyRotated => match &self.checkpointer {
                Some(checkpointer) => {
                    checkpointer.announce(record);
                    Ok(true)
                }
                None => Ok(false),
            },
        }
    }

    fn closing(&mut self) {
        if let Some(checkpointer) = &mut self.checkpointer {
            checkpointer.want();
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.config.fsync {
            FsyncPolicy::Never => Ok(()),
            _ => self.sync(),
        }
    }

    fn tick(&mut self) -> io::Result<()> {
        self.sync_if_due()
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.sync()?;
        if self.path_identity() != self.identity {
            self.note_moved_away();
        }
        self.open_active()
    }

    fn last_seq(&self) -> Option<u64> {
        (self.tip_seq > 0).then_some(self.tip_seq)
    }
}

impl FileSink {
    /// Seals and writes `batch`; on failure, how many of its records are in the file.
    fn write_records(&mut self, batch: &Batch<'_>) -> Result<(), (usize, io::Error)> {
        self.follow_path().map_err(|err| (0, err))?;
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        let ends = self.seal_batch(batch, &mut out);
        let periods: Vec<Option<DateTime<Utc>>> = batch
            .records()
            .iter()
            .map(|record| self.config.period.map(|p| p.start_of(record.timestamp)))
            .collect();
        let result = self.write_sealed(&out, &ends, &periods, batch.records());
        self.out = out;
        result
    }

    /// Writes sealed records, rotating between records when the size limit or the records'
    /// timestamps say so: a file holds the records of one period, whenever they are written.
    /// On failure, how many records are in the file: a write is whole or cut off again.
    fn write_sealed(
        &mut self,
        out: &[u8],
        ends: &[(usize, Option<ChainHash>)],
        periods: &[Option<DateTime<Utc>>],
        records: &[SecurityRecord],
    ) -> Result<(), (usize, io::Error)> {
        let mut from = 0;
        let mut first = 0;
        while first < ends.len() {
            let period = periods[first];
            if self.size > 0 && period.zip(self.period).is_some_and(|(new, old)| new > old) {
                self.rotate(self.clock.now()).map_err(|err| (first, err))?;
            }
            let lead = usize::from(self.needs_line_feed);
            let room = self
                .config
                .max_bytes
                .map(|max| max.saturating_sub(self.size + lead as u64) as usize);
            // The records of this period that fit in this file; at least one in an empty file.
            let mut last = first;
            while last < ends.len()
                && room.is_none_or(|room| ends[last].0 - from <= room)
                && periods[last] <= period
            {
                last += 1;
            }
            if last == first {
                if self.size > 0 {
                    self.rotate(self.clock.now()).map_err(|err| (first, err))?;
                    continue;
                }
                last = first + 1;
            }
            let to = ends[last - 1].0;
            let start = self.size + lead as u64;
            if lead == 1 {
                // A line a failed write left open is closed first: the index, which follows
                // whole lines from the file's start, no longer knows the file.
                self.index = None;
            }
            // Copied only in the rare case a line left open by a failed write must be closed
            // first; one `append` keeps the write whole-or-nothing either way.
            let written = if lead == 1 {
                let mut bytes = Vec::with_capacity(1 + to - from);
                bytes.push(b'\n');
                bytes.extend_from_slice(&out[from..to]);
                self.append(&bytes).map_err(|err| (first, err))?;
                bytes.len()
            } else {
                self.append(&out[from..to]).map_err(|err| (first, err))?;
                to - from
            };
            if self.period.is_none() || self.size == written as u64 {
                self.period = period;
            }
            if let (Some((_, tip)), Some(new_tip)) = (&mut self.chain, ends[last - 1].1) {
                *tip = new_tip;
                self.tip_seq = records[last - 1].seq;
            }
            if let Some(checkpointer) = &mut self.checkpointer {
                checkpointer.wrote((last - first) as u64);
            }
            if let Some(index) = &mut self.index {
                index.note(
                    start,
                    &out[from..to],
                    ends[first..last].iter().map(|e| e.0 - from),
                );
            }
            from = to;
            first = last;
        }
        Ok(())
    }
}

/// Removes the index kept beside a removed file, if any.
fn remove_index(path: &std::path::Path) {
    // An orphan index names a file that is gone: no reader uses it.
    let _ = fs::remove_file(crate::log_index::index_path(path));
}
