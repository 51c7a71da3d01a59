//! The cost limits of a query: the same for every reader (the command, the read API, the
//! console, the stores), checked when the query is read, so that a query that would cost too
//! much is an error naming the limit and its column, never minutes of work.
//!
//! ```
//! use tracing_security_events::query::{Query, MAX_IN_VALUES};
//!
//! let values = vec!["x"; MAX_IN_VALUES + 1].join(", ");
//! let error = Query::parse(&format!("user in ({values})")).unwrap_err();
//! assert!(error.message().contains("at most 1000 values"), "{error}");
//! ```

use super::error::QueryError;
use super::raw::{Raw, RawTest};

/// Bytes of query text.
pub const MAX_QUERY_BYTES: usize = 16 * 1024;
/// Comparisons in one query (`a = 1 and b = 2` has two; an `in` list counts once).
pub const MAX_COMPARISONS: usize = 256;
/// Values in one `in` list.
pub const MAX_IN_VALUES: usize = 1000;
/// Segments in one path (`fields.a.b` has three).
pub const MAX_PATH_SEGMENTS: usize = 16;
/// How deep parentheses and `not`s nest (`not (a = 1 or not b = 2)` nests three deep).
pub const MAX_NESTING: usize = 64;
/// Values one filter of a command line or request may list (`--user`, `user_ids[]`).
pub const MAX_FILTER_VALUES: usize = 100;

/// The query text is not longer than [`MAX_QUERY_BYTES`].
pub(super) fn check_length(text: &str) -> Result<(), QueryError> {
    if text.len() > MAX_QUERY_BYTES {
        let at = (0..=MAX_QUERY_BYTES)
            .rev()
            .find(|&at| text.is_char_boundary(at))
            .unwrap_or(0);
        return Err(QueryError::new(
            text,
            at,
            format!(
                "the query is {} bytes long: at most {MAX_QUERY_BYTES} are read",
                text.len()
            ),
        ));
    }
    Ok(())
}

/// The parsed query has at most [`MAX_COMPARISONS`] comparisons, lists of at most
/// [`MAX_IN_VALUES`] and paths of at most [`MAX_PATH_SEGMENTS`].
pub(super) fn check_size(text: &str, raw: &Raw) -> Result<(), QueryError> {
    let mut comparisons = 0;
    let mut stack = vec![raw];
    // Left to right, so that the error names the first comparison past the limit.
    while let Some(node) = stack.pop() {
        match node {
            Raw::And(items) | Raw::Or(items) => stack.extend(items.iter().rev()),
            Raw::Not(inner) => stack.push(inner),
            Raw::Compare(comparison) => {
                comparisons += 1;
                let at = comparison.path_span.start;
                if comparisons > MAX_COMPARISONS {
                    return Err(QueryError::new(
                        text,
                        at,
                        format!(
                            "more than {MAX_COMPARISONS} comparisons: narrow the query, or use \
                             `in (...)` for a list of values"
                        ),
                    ));
                }
                check_path(text, comparison.path.len(), at)?;
                if let RawTest::In { values, .. } = &comparison.test {
                    if values.len() > MAX_IN_VALUES {
                        let at = values[MAX_IN_VALUES].span.start;
                        return Err(QueryError::new(
                            text,
                            at,
                            format!("an `in` list holds at most {MAX_IN_VALUES} values"),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// A path has at most [`MAX_PATH_SEGMENTS`] segments.
pub(super) fn check_path(text: &str, segments: usize, at: usize) -> Result<(), QueryError> {
    if segments > MAX_PATH_SEGMENTS {
        return Err(QueryError::new(
            text,
            at,
            format!("a path has at most {MAX_PATH_SEGMENTS} segments, this one {segments}"),
        ));
    }
    Ok(())
}

/// The error of a query nesting deeper than [`MAX_NESTING`], at byte `at`.
pub(super) fn too_deep(text: &str, at: usize) -> QueryError {
    QueryError::new(
        text,
        at,
        format!("the query nests deeper than {MAX_NESTING} parentheses and `not`s"),
    )
}

#[cfg(test)]
mod tests {
    use super::super::Query;
    use super::*;

    fn message(text: &str) -> String {
        Query::parse(text).unwrap_err().message().to_owned()
    }

    #[test]
    fn each_limit_is_an_error_naming_it() {
        let long = format!("message = \"{}\"", "x".repeat(MAX_QUERY_BYTES));
        assert!(message(&long).contains("bytes long"));
        let many = vec!["user = x"; MAX_COMPARISONS + 1].join(" or ");
        let error = Query::parse(&many).unwrap_err();
        assert!(error.message().contains("comparisons"), "{error}");
        assert_eq!(error.column(), MAX_COMPARISONS * 12 + 1);
        Query::parse(&vec!["user = x"; MAX_COMPARISONS].join(" or ")).unwrap();
        let path = format!("fields.{} exists", vec!["a"; MAX_PATH_SEGMENTS].join("."));
        assert!(message(&path).contains("segments"));
        let deep = format!(
            "{}seq = 1{}",
            "(".repeat(MAX_NESTING + 1),
            ")".repeat(MAX_NESTING + 1)
        );
        assert!(message(&deep).contains("nests deeper"));
        let nots = format!("{}seq = 1", "not ".repeat(MAX_NESTING + 1));
        assert!(message(&nots).contains("nests deeper"));
    }

    #[test]
    fn nesting_is_depth_not_the_number_of_nots() {
        let many_nots = vec!["not user = x"; 200].join(" and ");
        Query::parse(&many_nots).unwrap();
        let siblings = vec!["(user = x or not (user = y))"; 100].join(" and ");
        Query::parse(&siblings).unwrap();
        let deep = format!(
            "{}seq = 1{}",
            "(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        );
        Query::parse(&deep).unwrap();
    }
}
