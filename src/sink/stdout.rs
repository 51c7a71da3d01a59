//! Writing JSON lines to standard output, for containers whose platform collects stdout.

use std::io::{self, Write};

use super::{Batch, Sink};
use crate::forms::OutputForm;

/// Writes each batch to standard output, whole lines at once, in its form.
#[derive(Debug, Default)]
pub(crate) struct StdoutSink {
    form: OutputForm,
}

impl StdoutSink {
    /// A sink writing to this process's standard output in `form`.
    pub(crate) fn new(form: OutputForm) -> Self {
        StdoutSink { form }
    }
}

impl Sink for StdoutSink {
    fn name(&self) -> &str {
        "stdout"
    }

    fn form(&self) -> OutputForm {
        self.form
    }

    fn write(&mut self, batch: &Batch<'_>) -> io::Result<()> {
        let lines = batch.require(self.form)?;
        let mut out = io::stdout().lock();
        out.write_all(lines)?;
        out.flush()
    }
}
