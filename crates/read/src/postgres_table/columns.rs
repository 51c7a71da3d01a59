//! How values are put in the table's columns, the same for the sink that writes them and the
//! store whose SQL compares with them.

use std::borrow::Cow;

use crate::event::Severity;

/// A severity as stored: its rank, least serious first (debug 0 ... critical 4).
pub fn severity_rank(severity: Severity) -> i16 {
    Severity::ALL
        .iter()
        .position(|s| *s == severity)
        .map_or(0, |rank| rank as i16)
}

/// Text as a text column holds it: PostgreSQL's text cannot hold NUL, which becomes U+FFFD, as
/// in the `jsonb` copy.
pub fn clean(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    }
}
