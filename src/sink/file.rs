//! Appending JSON lines to a file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{Batch, Sink};

/// Appends each batch to a file in one `write` of whole lines.
///
/// The file and any missing parent directories are created, private to the owner (mode 0600 for
/// the file, 0700 for new directories, on Unix). An existing file is appended to.
#[derive(Debug)]
pub struct FileSink {
    name: String,
    path: PathBuf,
    file: File,
}

impl FileSink {
    /// Opens (or creates) `path` for appending.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_private_dirs(parent)?;
        }
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&path)?;
        Ok(FileSink {
            name: format!("file:{}", path.display()),
            path,
            file,
        })
    }

    /// The path written to.
    pub fn path(&self) -> &Path {
        &self.path
    }
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

impl Sink for FileSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn write(&mut self, batch: &Batch<'_>) -> io::Result<()> {
        self.file.write_all(batch.json_lines())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }
}
