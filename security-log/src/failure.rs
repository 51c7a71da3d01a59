//! How a command fails: one line on stderr and exit status 2, or, when the reader closed the
//! pipe (`| head -1`), quietly with status 0, as rg and jq do.

use std::error::Error;
use std::io;

/// Why a command stopped.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A usage or I/O error, for the one line on stderr.
    Error(String),
    /// Whoever reads the output went away: not an error of the command's.
    ClosedPipe,
}

impl<E: Into<Box<dyn Error + Send + Sync>>> From<E> for Failure {
    fn from(error: E) -> Self {
        let error = error.into();
        if closed_pipe(error.as_ref()) {
            Failure::ClosedPipe
        } else {
            Failure::Error(error.to_string())
        }
    }
}

impl Failure {
    /// `message`, with what caused it.
    pub(crate) fn context(message: impl std::fmt::Display, error: impl std::fmt::Display) -> Self {
        Failure::Error(format!("{message}: {error}"))
    }
}

/// Whether an error, or one it was caused by, is a write to a closed pipe.
fn closed_pipe(error: &(dyn Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        if error
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        next = error.source();
    }
    false
}
