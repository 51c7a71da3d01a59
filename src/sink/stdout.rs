//! Writing JSON lines to standard output, for containers whose platform collects stdout.

use std::io::{self, Write};

use super::{Batch, Sink};

/// Writes each batch to standard output, whole lines at once.
#[derive(Debug, Default)]
pub(crate) struct StdoutSink {
    _private: (),
}

impl StdoutSink {
    /// A sink writing to this process's standard output.
    pub(crate) fn new() -> Self {
        StdoutSink::default()
    }
}

impl Sink for StdoutSink {
    fn name(&self) -> &str {
        "stdout"
    }

    fn write(&mut self, batch: &Batch<'_>) -> io::Result<()> {
        let mut out = io::stdout().lock();
        out.write_all(batch.json_lines())?;
        out.flush()
    }
}
