//! `security-log index`: the time bounds of each rotated file, kept beside it
//! (`<file>.bounds`), so that a question with a time range reads only the files that can hold
//! its records.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use tracing_security_events::store::{bounds_path, write_bounds, FileStore};

use crate::failure::Failure;

/// Write the time bounds of each rotated file of a log, for questions with a time range.
#[derive(Args)]
#[command(after_help = "Example:\n  \
    security-log index /var/log/app/security.jsonl\n\n\
    A rotated file does not change, so its bounds stay true; a file whose bounds no longer\n\
    match it (another size, other first or last record) is read as if it had none. The\n\
    active file is left out: it is still written.")]
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
        let mut out = std::io::stdout().lock();
        let mut indexed = 0;
        for file in &files {
            let bounds = write_bounds(file)
                .map_err(|e| Failure::context(format!("cannot index {}", file.display()), e))?;
            match bounds {
                Some(bounds) => {
                    indexed += 1;
                    writeln!(
                        out,
                        "indexed  {} ({} records, {} .. {}) -> {}",
                        file.display(),
                        bounds.records,
                        bounds.min_time,
                        bounds.max_time,
                        bounds_path(file).display()
                    )?;
                }
                None => writeln!(
                    out,
                    "skipped  {} (a line without a readable time: it is always read)",
                    file.display()
                )?,
            }
        }
        Ok(indexed > 0)
    }
}
