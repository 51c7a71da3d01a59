//! A query that cannot be read: what is wrong and where.

use std::fmt;

/// A query that cannot be read: a syntax error, an unknown field, a value that is not of the
/// field's kind (`time > yesterdayish`), or an operator that does not fit it (`seq ~ "x"`).
///
/// `Display` gives one line, `column 12: unknown field ...`; the alternate form (`{:#}`) adds the
/// query and a caret under the column:
///
/// ```
/// # use tracing_security_events::query::Query;
/// let error = Query::parse("event = x and usr = 42").unwrap_err();
/// assert_eq!(error.column(), 15);
/// assert_eq!(
///     format!("{error:#}"),
///     "column 15: unknown field `usr` (did you mean `user`?)\n  event = x and usr = 42\n                ^"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    message: String,
    column: usize,
    query: String,
}

impl QueryError {
    /// An error at byte `offset` of `query`.
    pub(crate) fn new(query: &str, offset: usize, message: impl Into<String>) -> Self {
        let offset = offset.min(query.len());
        let column = query
            .char_indices()
            .take_while(|(at, _)| *at < offset)
            .count()
            + 1;
        QueryError {
            message: message.into(),
            column,
            query: query.to_owned(),
        }
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Where, in characters from 1.
    pub fn column(&self) -> usize {
        self.column
    }

    /// The query, on one line (control characters shown as spaces), with a caret under the
    /// column.
    pub fn caret_lines(&self) -> String {
        let line: String = self
            .query
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        format!("  {line}\n  {}^", " ".repeat(self.column - 1))
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)?;
        if f.alternate() {
            write!(f, "\n{}", self.caret_lines())?;
        }
        Ok(())
    }
}

impl std::error::Error for QueryError {}
