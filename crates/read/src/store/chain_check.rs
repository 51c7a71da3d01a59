//! The hash chain checked over what a full scan reads, oldest first: each record's seal
//! recomputed, each record's `prev` the hash of the one read before it (across rotated files).
//! The first record read may continue a chain whose start was removed by retention.

use crate::integrity::chain::{unseal, ChainHasher};

/// The chain as checked so far.
#[derive(Debug)]
pub(crate) struct ChainCheck {
    hasher: ChainHasher,
    last: Option<String>,
    summary: ChainSummary,
}

/// What a chain check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainSummary {
    /// Records whose seal and link were checked.
    pub records: u64,
    /// The first problem: where (file and byte offset of the line) and what.
    pub problem: Option<String>,
}

impl ChainCheck {
    pub(crate) fn new(key: Option<&[u8]>) -> Self {
        ChainCheck {
            hasher: ChainHasher::new(key),
            last: None,
            summary: ChainSummary::default(),
        }
    }

    /// Checks the next whole line of the log (`file` and `start` name it in a problem).
    pub(crate) fn line(&mut self, file: &str, start: u64, bytes: &[u8]) {
        if self.summary.problem.is_some() {
            return;
        }
        let problem = |what: &str| Some(format!("{file} at byte {start}: {what}"));
        let Some(sealed) = unseal(bytes) else {
            self.summary.problem = problem("the line carries no seal (integrity)");
            return;
        };
        let hash = self.hasher.hash(sealed.prev, &sealed.record);
        if hash.as_str() != sealed.hash {
            self.summary.problem =
                problem("the record was changed after it was written (or sealed with another key)");
            return;
        }
        if let Some(last) = &self.last {
            if last != sealed.prev {
                self.summary.problem = problem(
                    "the record does not follow the one before it (records missing, inserted or \
                     moved)",
                );
                return;
            }
        }
        self.last = Some(sealed.hash.to_owned());
        self.summary.records += 1;
    }

    pub(crate) fn finish(self) -> ChainSummary {
        self.summary
    }
}
