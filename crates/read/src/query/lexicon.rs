//! The language's words: its keywords, what may be written without quotes, and how the rest is
//! quoted. The parser reads by these rules and the canonical text is written by them.

use std::fmt;

/// Words with a meaning in the grammar: a path segment spelled so must be quoted.
pub(crate) const KEYWORDS: [&str; 11] = [
    "and",
    "or",
    "not",
    "in",
    "exists",
    "like",
    "startswith",
    "endswith",
    "true",
    "false",
    "null",
];

/// Whether a segment can be written without quotes: `[A-Za-z_][A-Za-z0-9_-]*`, and not a
/// keyword of the language.
pub(crate) fn is_bare_segment(segment: &str) -> bool {
    let mut chars = segment.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(is_segment_char)
        && !KEYWORDS.contains(&segment)
}

/// A character that may follow the first of a bare segment.
pub(crate) fn is_segment_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Writes `text` in double quotes, escaped as JSON escapes it (which the parser reads back).
pub(crate) fn write_quoted(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    match serde_json::to_string(text) {
        Ok(quoted) => f.write_str(&quoted),
        Err(_) => Err(fmt::Error),
    }
}
