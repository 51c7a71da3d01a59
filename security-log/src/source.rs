//! Where the records come from: a log's files (its active file or the directory holding it),
//! a PostgreSQL table (`postgres://...`, with the `postgres` feature), or `-`, records on stdin.

use std::path::{Path, PathBuf};

use tracing_security_events::store::{FileStore, LogStore};

use crate::failure::Failure;

/// A log named on the command line, opened.
pub(crate) struct Source {
    /// The log's files; for `-`, a copy of stdin in a temporary directory.
    pub(crate) path: PathBuf,
    url: Option<String>,
    /// Removed when the command ends.
    stdin_copy: Option<tempfile::TempDir>,
}

impl Source {
    /// Reads `name`: `-` copies stdin to a temporary file first (a store reads its files more
    /// than once, and backwards), so that any pipe can be queried.
    pub(crate) fn new(name: &Path) -> Result<Source, Failure> {
        if let Some(url) = database_url(name) {
            return Ok(Source {
                path: name.to_owned(),
                url: Some(url.to_owned()),
                stdin_copy: None,
            });
        }
        if name != Path::new("-") {
            return Ok(Source {
                path: name.to_owned(),
                url: None,
                stdin_copy: None,
            });
        }
        let dir = tempfile::tempdir().map_err(|e| Failure::context("cannot copy stdin", e))?;
        let path = dir.path().join("stdin.jsonl");
        let mut file =
            std::fs::File::create(&path).map_err(|e| Failure::context("cannot copy stdin", e))?;
        std::io::copy(&mut std::io::stdin().lock(), &mut file)
            .map_err(|e| Failure::context("cannot read stdin", e))?;
        Ok(Source {
            path,
            url: None,
            stdin_copy: Some(dir),
        })
    }

    /// The log as the reader named it: `stdin` for `-`, else its path or URL.
    pub(crate) fn shown(&self) -> String {
        if self.is_stdin() {
            "stdin".to_owned()
        } else {
            self.path.display().to_string()
        }
    }

    /// Whether the records came from stdin.
    pub(crate) fn is_stdin(&self) -> bool {
        self.stdin_copy.is_some()
    }

    /// The database URL, when the source is a table.
    pub(crate) fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// The store over the source.
    pub(crate) fn store(&self, table: Option<&str>) -> Result<Box<dyn LogStore>, Failure> {
        match &self.url {
            Some(url) => Ok(Box::new(open_database(url, table)?)),
            None => Ok(Box::new(self.files()?)),
        }
    }

    /// The store over the files (`tail` follows files only).
    pub(crate) fn files(&self) -> Result<FileStore, Failure> {
        if self.url.is_some() {
            return Err(Failure::Error(
                "this command reads log files, not a database".to_owned(),
            ));
        }
        Ok(FileStore::open(&self.path)?)
    }
}

fn database_url(path: &Path) -> Option<&str> {
    path.to_str()
        .filter(|p| p.starts_with("postgres://") || p.starts_with("postgresql://"))
}

#[cfg(feature = "postgres")]
pub(crate) fn open_database(
    url: &str,
    table: Option<&str>,
) -> Result<tracing_security_events::store::PostgresStore, Failure> {
    let table =
        table.unwrap_or(tracing_security_events::sink::postgres::PostgresConfig::DEFAULT_TABLE);
    tracing_security_events::store::PostgresStore::connect_to_table(url, table)
        .map_err(|e| Failure::Error(e.to_string()))
}

#[cfg(not(feature = "postgres"))]
pub(crate) fn open_database(_url: &str, _table: Option<&str>) -> Result<FileStore, Failure> {
    Err(Failure::Error(
        "this security-log was built without the postgres feature: it reads files only \
         (cargo install security-log --features postgres)"
            .to_owned(),
    ))
}
