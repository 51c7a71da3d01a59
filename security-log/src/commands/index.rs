//! `security-log index`: the index of each rotated file, kept beside it (`<file>.index`), so
//! that a question with a time range or a needle (an actor, a tenant, an address, an event, a
//! request id) reads only the blocks of the files that can hold its records.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use clap::Args;
use tracing_security_events::store::{index_path, write_index, FileStore, LogIndex};

use crate::failure::Failure;

/// Write the index of each rotated file of a log, for questions with a time range or a needle.
#[derive(Args)]
#[command(after_help = "Example:\n  \
    security-log index /var/log/app/security.jsonl\n\n\
    A rotated file does not change, so its index stays true; a file whose index no longer\n\
    matches it (another size, other first or last record, a damaged index) is read whole, as\n\
    if it had none. The active file is left out: it is still written. The file sink writes\n\
    the same index at each rotation when its `index` option is on.")]
pub(crate) struct IndexArgs {
    /// The log: its active file, or the directory holding it.
    #[arg(value_name = "LOG")]
    log: PathBuf,
}

impl IndexArgs {
    pub(crate) fn run(self) -> Result<bool, Failure> {
        let store = FileStore::open(&self.log)?;
        let files = store.rotated_paths()?;
        if files.is_empty() {
            return Err(Failure::Error(format!(
                "{}: no rotated file to index (the active file is still written)",
                self.log.display()
            )));
        }
        // Files are indexed on every core, and reported in their order (what each index says,
        // not the index: a large log's would all be in memory at once).
        let results: Vec<Mutex<Option<std::io::Result<Option<Summary>>>>> =
            files.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        std::thread::scope(|scope| {
            for _ in 0..threads.min(files.len()) {
                scope.spawn(|| loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(n) else { break };
                    let summary = write_index(file).map(|index| index.as_ref().map(Summary::of));
                    *results[n].lock().unwrap_or_else(|p| p.into_inner()) = Some(summary);
                });
            }
        });
        let mut out = std::io::stdout().lock();
        let mut indexed = 0;
        for (file, result) in files.iter().zip(results) {
            let result = result
                .into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .expect("every file is indexed");
            let index = result
                .map_err(|e| Failure::context(format!("cannot index {}", file.display()), e))?;
            match index {
                Some(summary) => {
                    indexed += 1;
                    writeln!(
                        out,
                        "indexed  {} ({} records in {} blocks, {} .. {}) -> {}",
                        file.display(),
                        summary.records,
                        summary.blocks,
                        summary.min_time.as_deref().unwrap_or("no time"),
                        summary.max_time.as_deref().unwrap_or("no time"),
                        index_path(file).display()
                    )?;
                }
                None => writeln!(
                    out,
                    "skipped  {} (its first or last line has no record id: it is always read whole)",
                    file.display()
                )?,
            }
        }
        Ok(indexed > 0)
    }
}

/// What is said of a file's index.
struct Summary {
    records: u64,
    blocks: usize,
    min_time: Option<String>,
    max_time: Option<String>,
}

impl Summary {
    fn of(index: &LogIndex) -> Summary {
        Summary {
            records: index.header.records,
            blocks: index.blocks.len(),
            min_time: index.header.min_time.clone(),
            max_time: index.header.max_time.clone(),
        }
    }
}
