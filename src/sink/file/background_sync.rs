//! The interval policy's syncs, each on a short-lived thread of its own, so that the writer goes
//! on writing while the disk takes the last interval's records. Synced in line, an `fdatasync`
//! of one second's records (about 400 MB at full rate) held the writer 110-180 ms, and the
//! whole pipeline stood still behind it.

use std::fs::File;
use std::io;
use std::thread::{self, JoinHandle};

/// At most one sync of the active file running beside the writer.
#[derive(Debug, Default)]
pub(super) struct BackgroundSync {
    running: Option<JoinHandle<io::Result<()>>>,
}

impl BackgroundSync {
    /// Starts making durable what was written to `file` so far. Fails if the descriptor cannot
    /// be duplicated or no thread can be started; the caller then syncs in line.
    pub(super) fn start(&mut self, file: &File) -> io::Result<()> {
        debug_assert!(self.running.is_none(), "one sync at a time");
        // A duplicate descriptor syncs the same file, and stays valid if the sink closes its own.
        let file = file.try_clone()?;
        let handle = thread::Builder::new()
            .name("security-fsync".into())
            .spawn(move || file.sync_data())?;
        self.running = Some(handle);
        Ok(())
    }

    /// Whether a sync is still running; the error of one that ended in failure.
    pub(super) fn poll(&mut self) -> io::Result<bool> {
        match &self.running {
            Some(handle) if !handle.is_finished() => Ok(true),
            Some(_) => self.wait().map(|()| false),
            None => Ok(false),
        }
    }

    /// Waits for the running sync, if any, and returns how it ended.
    pub(super) fn wait(&mut self) -> io::Result<()> {
        match self.running.take() {
            Some(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the fsync thread panicked"))),
            None => Ok(()),
        }
    }
}

impl Drop for BackgroundSync {
    /// No thread outlives the sink, nor keeps its file open (a filesystem could not be
    /// unmounted while it does).
    fn drop(&mut self) {
        let _ = self.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_sync_runs_beside_the_caller_and_reports_how_it_ended() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = File::create(dir.path().join("log")).unwrap();
        file.write_all(b"{}\n").unwrap();
        let mut sync = BackgroundSync::default();
        assert!(!sync.poll().unwrap(), "nothing running yet");
        sync.start(&file).unwrap();
        sync.wait().unwrap();
        assert!(!sync.poll().unwrap(), "the ended sync is collected once");
    }

    #[cfg(unix)]
    #[test]
    fn a_failed_sync_is_reported_once() {
        // A pipe cannot be synced: fsync on it fails with EINVAL.
        let (reader, _writer) = std::io::pipe().unwrap();
        let file = File::from(std::os::fd::OwnedFd::from(reader));
        let mut sync = BackgroundSync::default();
        sync.start(&file).unwrap();
        while sync.running.as_ref().is_some_and(|h| !h.is_finished()) {
            thread::yield_now();
        }
        assert!(sync.poll().is_err());
        assert!(!sync.poll().unwrap());
    }
}
