//! Records waiting for the collector, oldest first: in memory up to a limit, then in spool files
//! on disk up to another. Order is kept across both: once records go to disk, newer ones follow
//! them there until the disk is drained back into memory.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A spool file is closed for appending at this size and read back whole.
const SEGMENT_BYTES: u64 = 4 << 20;

/// The id of the first spool file of an empty spool directory.
const FIRST_SEGMENT_ID: u64 = 1 << 32;

/// One record (its JSON line) and the spool file it was read from.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) line: Box<[u8]>,
    segment: Option<u64>,
}

/// The shared queue between the sink (on the pipeline's writer thread) and the shipper thread.
#[derive(Debug)]
pub(crate) struct Backlog {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug)]
struct State {
    memory: VecDeque<Entry>,
    /// Bytes of `memory` plus those of the batch the shipper holds.
    memory_bytes: usize,
    memory_limit: usize,
    in_flight: usize,
    spool: Option<Spool>,
    /// Records given up since the sink last asked.
    given_up: u64,
    closing: bool,
}

#[derive(Debug)]
struct Spool {
    dir: PathBuf,
    /// Closed segments, oldest first: id and size.
    closed: VecDeque<(u64, u64)>,
    /// The segment being appended to.
    open: Option<(u64, File, u64)>,
    /// Records of each segment loaded into memory and not yet delivered.
    loaded: Vec<(u64, usize)>,
    bytes: u64,
    limit: u64,
    next_id: u64,
}

impl Backlog {
    pub(crate) fn new(memory_limit: usize, spool: Option<(PathBuf, u64)>) -> io::Result<Self> {
        let spool = spool
            .map(|(dir, limit)| Spool::open(dir, limit))
            .transpose()?;
        Ok(Backlog {
            state: Mutex::new(State {
                memory: VecDeque::new(),
                memory_bytes: 0,
                memory_limit,
                in_flight: 0,
                spool,
                given_up: 0,
                closing: false,
            }),
            changed: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues `lines` (one record each, with whether losing it counts as a loss). A spool write
    /// error is returned after the records that could not be held were counted as given up.
    pub(crate) fn push<'a>(&self, lines: impl Iterator<Item = (&'a [u8], bool)>) -> io::Result<()> {
        let mut state = self.lock();
        let mut result = Ok(());
        for (line, counts) in lines {
            let spooling = state.spool.as_ref().is_some_and(Spool::holds_records);
            if !spooling && state.memory_bytes + line.len() <= state.memory_limit {
                state.memory_bytes += line.len();
                state.memory.push_back(Entry {
                    line: line.into(),
                    segment: None,
                });
                continue;
            }
            match state.spool.as_mut().map(|spool| spool.append(line)) {
                Some(Ok(true)) => {}
                Some(Ok(false)) | None => state.given_up += u64::from(counts),
                Some(Err(err)) => {
                    state.given_up += u64::from(counts);
                    result = Err(err);
                }
            }
        }
        drop(state);
        self.changed.notify_all();
        result
    }

    /// Up to `max` of the oldest records, for export; they stay counted until [`acknowledge`]
    /// or are put back with [`put_back`]. Waits up to `wait` for records to arrive; `None` once
    /// the backlog is closing and nothing is left to send.
    ///
    /// [`acknowledge`]: Self::acknowledge
    /// [`put_back`]: Self::put_back
    pub(crate) fn take(&self, max: usize, max_bytes: usize, wait: Duration) -> Option<Vec<Entry>> {
        let mut state = self.lock();
        if state.memory.is_empty() {
            state.refill_from_spool();
        }
        if state.memory.is_empty() && !state.closing {
            state = self
                .changed
                .wait_timeout(state, wait)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
            if state.memory.is_empty() {
                state.refill_from_spool();
            }
        }
        if state.memory.is_empty() {
            return (!state.closing).then(Vec::new);
        }
        // Whole records up to `max_bytes` (at least one).
        let mut bytes = 0;
        let n = state
            .memory
            .iter()
            .take(max)
            .take_while(|entry| {
                bytes += entry.line.len();
                bytes <= max_bytes
            })
            .count()
            .max(1);
        let batch: Vec<Entry> = state.memory.drain(..n).collect();
        state.in_flight = batch.len();
        Some(batch)
    }

    /// The batch was delivered.
    pub(crate) fn acknowledge(&self, batch: Vec<Entry>) {
        let mut state = self.lock();
        state.in_flight = 0;
        for entry in batch {
            state.memory_bytes -= entry.line.len();
            if let (Some(segment), Some(spool)) = (entry.segment, state.spool.as_mut()) {
                spool.delivered(segment);
            }
        }
        drop(state);
        self.changed.notify_all();
    }

    /// The batch was not delivered: it goes back to the front, in order.
    pub(crate) fn put_back(&self, batch: Vec<Entry>) {
        let mut state = self.lock();
        state.in_flight = 0;
        for entry in batch.into_iter().rev() {
            state.memory.push_front(entry);
        }
        drop(state);
        self.changed.notify_all();
    }

    /// Records waiting in memory (including the batch in flight), their bytes, and the bytes
    /// waiting on disk.
    pub(crate) fn pending(&self) -> (usize, usize, u64) {
        let state = self.lock();
        let on_disk = state.spool.as_ref().map_or(0, |spool| spool.bytes);
        (
            state.memory.len() + state.in_flight,
            state.memory_bytes,
            on_disk,
        )
    }

    /// Waits until nothing is waiting, up to `timeout`; whether that happened.
    pub(crate) fn wait_until_empty(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        loop {
            let spooled = state.spool.as_ref().is_some_and(Spool::holds_records);
            if state.memory.is_empty() && state.in_flight == 0 && !spooled {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }

    /// Waits until `max` records or `max_bytes` wait in memory (or records in the spool), the
    /// backlog closes, or `timeout` passes: a shipper that lingers sends fuller batches.
    pub(crate) fn wait_for_batch(&self, max: usize, max_bytes: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        loop {
            let spooled = state.spool.as_ref().is_some_and(Spool::holds_records);
            let full = state.memory.len() >= max || state.memory_bytes >= max_bytes;
            let now = Instant::now();
            if full || spooled || state.closing || now >= deadline {
                return;
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }

    /// Records given up since the last call.
    pub(crate) fn take_given_up(&self) -> u64 {
        std::mem::take(&mut self.lock().given_up)
    }

    /// Stops handing out records; wakes the shipper.
    pub(crate) fn close(&self) {
        self.lock().closing = true;
        self.changed.notify_all();
    }

    /// At the end: what is still in memory goes to the spool, ahead of what is there already
    /// (it is older), to be sent by the next run; without a spool it is given up. Returns how
    /// many records were given up.
    pub(crate) fn spill_remaining(&self) -> u64 {
        let mut state = self.lock();
        let entries: Vec<Entry> = state.memory.drain(..).collect();
        state.memory_bytes = 0;
        // Records read from a spool file are still in it.
        let lines: Vec<Box<[u8]>> = entries
            .into_iter()
            .filter(|entry| entry.segment.is_none())
            .map(|entry| entry.line)
            .collect();
        let count = lines.len() as u64;
        match state.spool.as_mut() {
            Some(spool) if !lines.is_empty() => match spool.prepend(&lines) {
                Ok(()) => 0,
                Err(_) => count,
            },
            Some(spool) => {
                let _ = spool.close_open_segment();
                0
            }
            None => count,
        }
    }
}

impl State {
    /// Moves the oldest spool segment into memory (a segment fits: it is at most 4 MiB, and
    /// memory is empty when this runs).
    fn refill_from_spool(&mut self) {
        let Some(spool) = self.spool.as_mut() else {
            return;
        };
        let Some((id, lines)) = spool.load_oldest() else {
            return;
        };
        for line in lines {
            self.memory_bytes += line.len();
            self.memory.push_back(Entry {
                line,
                segment: Some(id),
            });
        }
    }
}

impl Spool {
    fn open(dir: PathBuf, limit: u64) -> io::Result<Self> {
        create_private_dir(&dir)?;
        let mut closed = Vec::new();
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(id) = name
                .to_str()
                .and_then(|n| n.strip_prefix("spool-"))
                .and_then(|n| n.strip_suffix(".jsonl"))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            closed.push((id, entry.metadata()?.len()));
        }
        closed.sort_unstable();
        // Ids start high so that records spilled at shutdown can take a lower, earlier one.
        let next_id = closed.last().map_or(FIRST_SEGMENT_ID, |(id, _)| id + 1);
        let bytes = closed.iter().map(|(_, len)| len).sum();
        Ok(Spool {
            dir,
            closed: closed.into(),
            open: None,
            loaded: Vec::new(),
            bytes,
            limit,
            next_id,
        })
    }

    fn path(&self, id: u64) -> PathBuf {
        self.dir.join(format!("spool-{id:020}.jsonl"))
    }

    fn holds_records(&self) -> bool {
        !self.closed.is_empty() || self.open.is_some()
    }

    /// Appends one line; `false` when the spool is full.
    fn append(&mut self, line: &[u8]) -> io::Result<bool> {
        if self.bytes + line.len() as u64 > self.limit {
            return Ok(false);
        }
        if self
            .open
            .as_ref()
            .is_some_and(|(_, _, len)| *len >= SEGMENT_BYTES)
        {
            self.close_open_segment()?;
        }
        if self.open.is_none() {
            let id = self.next_id;
            self.next_id += 1;
            let file = private_file(&self.path(id))?;
            self.open = Some((id, file, 0));
        }
        let (_, file, len) = self.open.as_mut().expect("opened above");
        file.write_all(line)?;
        *len += line.len() as u64;
        self.bytes += line.len() as u64;
        Ok(true)
    }

    fn close_open_segment(&mut self) -> io::Result<()> {
        if let Some((id, file, len)) = self.open.take() {
            file.sync_data()?;
            self.closed.push_back((id, len));
        }
        Ok(())
    }

    /// Writes `lines`, older than anything spooled, to a segment read before all others.
    fn prepend(&mut self, lines: &[Box<[u8]>]) -> io::Result<()> {
        self.close_open_segment()?;
        let oldest = self
            .closed
            .iter()
            .map(|(id, _)| *id)
            .chain(self.loaded.iter().map(|(id, _)| *id))
            .min()
            .unwrap_or(self.next_id);
        let id = oldest - 1;
        let mut file = private_file(&self.path(id))?;
        let mut len = 0;
        for line in lines {
            file.write_all(line)?;
            len += line.len() as u64;
        }
        file.sync_data()?;
        self.bytes += len;
        self.closed.push_front((id, len));
        Ok(())
    }

    /// The lines of the oldest segment; the file stays until they are all delivered.
    fn load_oldest(&mut self) -> Option<(u64, Vec<Box<[u8]>>)> {
        if self.closed.is_empty() {
            self.close_open_segment().ok()?;
        }
        let (id, len) = self.closed.pop_front()?;
        let path = self.path(id);
        let lines: Vec<Box<[u8]>> = match fs::read(&path) {
            Ok(bytes) => bytes
                .split_inclusive(|b| *b == b'\n')
                .filter(|line| line.ends_with(b"\n"))
                .map(Box::from)
                .collect(),
            Err(_) => Vec::new(),
        };
        if lines.is_empty() {
            self.bytes = self.bytes.saturating_sub(len);
            let _ = fs::remove_file(&path);
            return None;
        }
        self.loaded.push((id, lines.len()));
        self.bytes = self.bytes.saturating_sub(len);
        Some((id, lines))
    }

    fn delivered(&mut self, segment: u64) {
        if let Some(slot) = self.loaded.iter_mut().find(|(id, _)| *id == segment) {
            slot.1 -= 1;
            if slot.1 == 0 {
                let _ = fs::remove_file(self.path(segment));
                self.loaded.retain(|(id, _)| *id != segment);
            }
        }
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(range: std::ops::Range<u32>) -> Vec<Vec<u8>> {
        range
            .map(|i| format!("{{\"seq\":{i}}}\n").into_bytes())
            .collect()
    }

    fn drain(backlog: &Backlog) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(batch) = backlog.take(7, usize::MAX, Duration::ZERO) {
            if batch.is_empty() {
                break;
            }
            out.extend(
                batch
                    .iter()
                    .map(|e| String::from_utf8(e.line.to_vec()).unwrap()),
            );
            backlog.acknowledge(batch);
        }
        out
    }

    #[test]
    fn memory_then_spool_then_memory_keeps_the_order() {
        let dir = tempfile::tempdir().unwrap();
        let backlog = Backlog::new(100, Some((dir.path().join("spool"), 1 << 20))).unwrap();
        let all = lines(0..50);
        backlog
            .push(all.iter().map(|l| (l.as_slice(), true)))
            .unwrap();
        let (in_memory, _, on_disk) = backlog.pending();
        assert!(in_memory < 50 && on_disk > 0, "{in_memory} {on_disk}");
        let expected: Vec<String> = all
            .iter()
            .map(|l| String::from_utf8(l.clone()).unwrap())
            .collect();
        assert_eq!(drain(&backlog), expected);
        assert_eq!(backlog.pending(), (0, 0, 0));
        assert_eq!(
            fs::read_dir(dir.path().join("spool")).unwrap().count(),
            0,
            "spool files removed once delivered"
        );
    }

    #[test]
    fn beyond_both_limits_records_are_counted_as_given_up() {
        let dir = tempfile::tempdir().unwrap();
        let backlog = Backlog::new(50, Some((dir.path().to_owned(), 100))).unwrap();
        backlog
            .push(lines(0..20).iter().map(|l| (l.as_slice(), true)))
            .unwrap();
        let given_up = backlog.take_given_up();
        assert!(given_up > 0 && given_up < 20, "{given_up}");
        assert_eq!(backlog.take_given_up(), 0, "counted once");
        assert_eq!(drain(&backlog).len() as u64, 20 - given_up);
    }

    #[test]
    fn a_failed_batch_goes_back_to_the_front() {
        let backlog = Backlog::new(1 << 20, None).unwrap();
        backlog
            .push(lines(0..10).iter().map(|l| (l.as_slice(), true)))
            .unwrap();
        let batch = backlog.take(4, usize::MAX, Duration::ZERO).unwrap();
        backlog.put_back(batch);
        assert_eq!(
            drain(&backlog),
            lines(0..10)
                .into_iter()
                .map(|l| String::from_utf8(l).unwrap())
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_spool_left_by_an_earlier_run_is_sent_first() {
        let dir = tempfile::tempdir().unwrap();
        {
            let backlog = Backlog::new(10, Some((dir.path().to_owned(), 1 << 20))).unwrap();
            backlog
                .push(lines(0..5).iter().map(|l| (l.as_slice(), true)))
                .unwrap();
            assert_eq!(backlog.spill_remaining(), 0);
        }
        let backlog = Backlog::new(1 << 20, Some((dir.path().to_owned(), 1 << 20))).unwrap();
        backlog
            .push(lines(5..8).iter().map(|l| (l.as_slice(), true)))
            .unwrap();
        let expected: Vec<String> = lines(0..8)
            .into_iter()
            .map(|l| String::from_utf8(l).unwrap())
            .collect();
        assert_eq!(drain(&backlog), expected);
    }
}
