//! Where a command writes: stdout, or a file given with `-o`, created readable by its owner
//! alone (an export holds what the log holds, and the log is 0600) and never written over
//! unless `--force` says so.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;

use crate::failure::Failure;

/// `-o FILE` and `--force`.
#[derive(Args, Debug)]
pub(crate) struct Output {
    /// Write to this file (created with mode 0600) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
    /// With -o: replace the file if it exists.
    #[arg(long, requires = "file")]
    force: bool,
}

impl Output {
    /// Whether the output is a person's terminal (not a file, not a pipe).
    pub(crate) fn is_terminal(&self) -> bool {
        self.file.is_none() && io::stdout().is_terminal()
    }

    /// The writer: the file, created as described, or stdout.
    pub(crate) fn open(&self) -> Result<Box<dyn Write>, Failure> {
        let Some(path) = &self.file else {
            return Ok(Box::new(BufWriter::new(io::stdout().lock())));
        };
        let mut options = OpenOptions::new();
        options.write(true);
        if self.force {
            options.create(true).truncate(true);
        } else {
            options.create_new(true);
        }
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file: File = options.open(path).map_err(|error| {
            if error.kind() == io::ErrorKind::AlreadyExists {
                Failure::Error(format!(
                    "{} exists: give --force to replace it",
                    path.display()
                ))
            } else {
                Failure::context(format!("cannot create {}", path.display()), error)
            }
        })?;
        // A file replaced with --force keeps the mode it had: narrow it too.
        #[cfg(unix)]
        if self.force {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|e| Failure::context(format!("cannot restrict {}", path.display()), e))?;
        }
        Ok(Box::new(BufWriter::new(file)))
    }
}
