//! The index of the active file, built from its lines as the sink writes them and left beside
//! the file when it rotates ([`log_index`](crate::log_index)): the store then reads only the
//! blocks a question's records can be in.
//!
//! It is built on a thread of its own, which the sink hands a copy of each batch it wrote:
//! reading the values back from the lines costs about a microsecond a record, which on the
//! sink's thread took up to a fifth of the writer's throughput.

use std::path::PathBuf;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use crate::log_index::IndexBuilder;

/// Batches waiting for the index thread before the sink waits for it: memory stays bounded
/// when the index falls behind.
const WAITING_BATCHES: usize = 16;

/// What the sink tells the index thread.
enum Message {
    /// Whole lines written at `start` in the file; `ends`: where each ends in `bytes`, line
    /// feed included.
    Lines {
        start: u64,
        bytes: Vec<u8>,
        ends: Vec<usize>,
    },
    /// The file is now `path`, `size` bytes long: save its index beside it.
    Rotated { path: PathBuf, size: u64 },
}

/// The index of a file the sink wrote from its first byte, every line of it in order. Dropped
/// without [`rotated`](Self::rotated) (the active file at shutdown, a write that failed
/// halfway), its thread ends and saves nothing.
#[derive(Debug)]
pub(super) struct IndexTracker {
    lines: Sender<Message>,
    thread: JoinHandle<()>,
}

impl IndexTracker {
    /// A tracker of a new file; `None` when no thread can be started (the file then has no
    /// index, and is read whole).
    pub(super) fn start() -> Option<IndexTracker> {
        let (lines, inbox) = crossbeam_channel::bounded(WAITING_BATCHES);
        let thread = std::thread::Builder::new()
            .name("security-log-index".into())
            .spawn(move || build(&inbox))
            .ok()?;
        Some(IndexTracker { lines, thread })
    }

    /// Notes the lines of `bytes` (whole lines, each ending in a line feed) written at `start`
    /// in the file; `ends` are where each line ends in `bytes`, line feed included.
    pub(super) fn note(&mut self, start: u64, bytes: &[u8], ends: impl Iterator<Item = usize>) {
        // A thread that is gone builds nothing: the file is then saved without an index.
        let _ = self.lines.send(Message::Lines {
            start,
            bytes: bytes.to_vec(),
            ends: ends.collect(),
        });
    }

    /// The file is now `path`, `size` bytes long: its index is saved beside it once the thread
    /// has read every line. The thread, to wait for before the process ends.
    pub(super) fn rotated(self, path: PathBuf, size: u64) -> JoinHandle<()> {
        let _ = self.lines.send(Message::Rotated { path, size });
        self.thread
    }
}

/// The index thread: builds the index from the lines it is given, saves it when told the file
/// rotated.
fn build(inbox: &Receiver<Message>) {
    let mut builder = IndexBuilder::new();
    for message in inbox {
        match message {
            Message::Lines { start, bytes, ends } => {
                let mut from = 0;
                for end in ends {
                    let line = &bytes[from..end];
                    let text = line.strip_suffix(b"\n").unwrap_or(line);
                    builder.add_line(start + from as u64, text, text.len() < line.len());
                    from = end;
                }
            }
            Message::Rotated { path, size } => {
                // The index only spares readers some reading: without it the file is read
                // whole, so a failure to save it is no failure of the log.
                if let Some(index) = builder.finish(&path, size) {
                    if index.save(&path).is_ok() && !path.exists() {
                        // Retention removed the file meanwhile: no index of nothing.
                        let _ = std::fs::remove_file(crate::log_index::index_path(&path));
                    }
                }
                return;
            }
        }
    }
}

/// Index threads still saving the index of a file just rotated: waited for when the sink goes,
/// so that a process that rotates and ends leaves the index too.
#[derive(Debug, Default)]
pub(super) struct IndexJobs(Vec<JoinHandle<()>>);

impl IndexJobs {
    pub(super) fn add(&mut self, job: JoinHandle<()>) {
        self.0.retain(|job| !job.is_finished());
        self.0.push(job);
    }
}

impl Drop for IndexJobs {
    fn drop(&mut self) {
        for job in self.0.drain(..) {
            let _ = job.join();
        }
    }
}
