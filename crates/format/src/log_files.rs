//! The names of a log's files: the active file keeps the configured name, and each rotated file
//! gets the moment it was rotated, so that names sort in write order:
//! `security.jsonl` -> `security.2026-11-22T10-15-30.123456Z.jsonl`.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};

/// `2026-11-22T10-15-30.123456Z`: fixed width, sortable, no characters that file systems refuse.
const STAMP_FORMAT: &str = "%Y-%m-%dT%H-%M-%S%.6fZ";
const STAMP_LEN: usize = 27;

/// A log: its directory, and its active file's stem and extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogName {
    dir: PathBuf,
    stem: String,
    ext: Option<String>,
}

impl LogName {
    pub fn of(active: &Path) -> Self {
        let dir = active
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let stem = active
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let ext = active.extension().map(|e| e.to_string_lossy().into_owned());
        LogName { dir, stem, ext }
    }

    /// Where the active file goes when rotated at `at`.
    pub fn rotated_path(&self, at: DateTime<Utc>) -> PathBuf {
        let stamp = at.format(STAMP_FORMAT);
        let name = match &self.ext {
            Some(ext) => format!("{}.{stamp}.{ext}", self.stem),
            None => format!("{}.{stamp}", self.stem),
        };
        self.dir.join(name)
    }

    /// When `file_name` is a rotated file of this log, the moment it was rotated.
    fn rotated_at(&self, file_name: &str) -> Option<DateTime<Utc>> {
        let rest = file_name.strip_prefix(&self.stem)?.strip_prefix('.')?;
        let stamp = match &self.ext {
            Some(ext) => rest.strip_suffix(ext.as_str())?.strip_suffix('.')?,
            None => rest,
        };
        parse_stamp(stamp)
    }

    /// This log's rotated files, oldest first.
    pub fn rotated_files(&self) -> io::Result<Vec<(PathBuf, DateTime<Utc>)>> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            if let Some(at) = name.to_str().and_then(|n| self.rotated_at(n)) {
                if entry.file_type()?.is_file() {
                    files.push((entry.path(), at));
                }
            }
        }
        files.sort();
        Ok(files)
    }

    /// The name of the active file of the log `file` belongs to (`security.jsonl` for
    /// `security.2026-11-22T10-15-30.123456Z.jsonl` and for itself).
    pub fn active_name_of(file: &Path) -> String {
        let name = file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let Some(base) = name.strip_suffix(".jsonl") else {
            return name;
        };
        match base.len().checked_sub(STAMP_LEN + 1) {
            Some(at) if base.as_bytes()[at] == b'.' && parse_stamp(&base[at + 1..]).is_some() => {
                format!("{}.jsonl", &base[..at])
            }
            _ => name,
        }
    }

    /// Every `*.jsonl` log in `dir`, each as its rotated files oldest first, then its active file.
    pub fn logs_in(dir: &Path) -> io::Result<Vec<Vec<PathBuf>>> {
        Ok(Self::grouped(dir)?
            .into_values()
            .map(|(mut rotated, active)| {
                rotated.sort();
                rotated.extend(active);
                rotated
            })
            .collect())
    }

    /// The active file's path of every `*.jsonl` log in `dir` (which may not exist when all
    /// of a log is rotated).
    #[cfg(feature = "query")]
    pub fn active_paths_in(dir: &Path) -> io::Result<Vec<PathBuf>> {
        Ok(Self::grouped(dir)?
            .into_keys()
            .map(|base| dir.join(format!("{base}.jsonl")))
            .collect())
    }

    /// The `*.jsonl` files of `dir` by log: rotated files, and the active file if there is one.
    fn grouped(dir: &Path) -> io::Result<BTreeMap<String, (Vec<PathBuf>, Option<PathBuf>)>> {
        let mut logs: BTreeMap<String, (Vec<PathBuf>, Option<PathBuf>)> = BTreeMap::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let Some(base) = name.strip_suffix(".jsonl") else {
                continue;
            };
            if !entry.file_type()?.is_file() {
                continue;
            }
            let rotated = base
                .len()
                .checked_sub(STAMP_LEN + 1)
                .filter(|&at| base.as_bytes()[at] == b'.')
                .filter(|&at| parse_stamp(&base[at + 1..]).is_some());
            match rotated {
                Some(at) => logs
                    .entry(base[..at].to_owned())
                    .or_default()
                    .0
                    .push(entry.path()),
                None => logs.entry(base.to_owned()).or_default().1 = Some(entry.path()),
            }
        }
        Ok(logs)
    }
}

fn parse_stamp(stamp: &str) -> Option<DateTime<Utc>> {
    if stamp.len() != STAMP_LEN {
        return None;
    }
    NaiveDateTime::parse_from_str(stamp, STAMP_FORMAT)
        .ok()
        .map(|naive| naive.and_utc())
}

/// Writes `bytes` to `target` whole or not at all (a new file beside it, renamed into place),
/// readable by its owner only, as the log it belongs to: a file a reader trusts beside a log
/// (a rotated file's index, the retention rules).
pub fn replace_private(target: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut temporary = target.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut out = options.open(&temporary)?;
    out.write_all(bytes)?;
    drop(out);
    std::fs::rename(&temporary, target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_names_carry_a_sortable_stamp_and_parse_back() {
        let log = LogName::of(Path::new("/var/log/app/security.jsonl"));
        let at = DateTime::parse_from_rfc3339("2026-11-22T10:15:30.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        let rotated = log.rotated_path(at);
        assert_eq!(
            rotated,
            Path::new("/var/log/app/security.2026-11-22T10-15-30.123456Z.jsonl")
        );
        let name = rotated.file_name().unwrap().to_str().unwrap();
        assert_eq!(log.rotated_at(name), Some(at));
        assert_eq!(log.rotated_at("security.jsonl"), None);
        assert_eq!(
            log.rotated_at("other.2026-11-22T10-15-30.123456Z.jsonl"),
            None
        );
    }

    #[test]
    fn a_path_without_extension_works_too() {
        let log = LogName::of(Path::new("audit"));
        let at = DateTime::<Utc>::from_timestamp(0, 0).unwrap();
        assert_eq!(
            log.rotated_path(at),
            Path::new("./audit.1970-01-01T00-00-00.000000Z")
        );
    }
}
