//! Lines skipped before they are parsed: the literal texts a matching record must contain,
//! derived from the query. Conservative: a line is skipped only when it certainly cannot match,
//! so a line holding any escape (`\`) is always parsed, in case the literal is written escaped.

use memchr::memmem::Finder;

use crate::query::{Expr, Operand, Operator, Query, Test};

/// Literal texts a line must contain: every clause holds at least one of its alternatives.
#[derive(Debug, Default)]
pub(crate) struct Prefilter {
    clauses: Vec<Vec<Finder<'static>>>,
}

impl Prefilter {
    pub(crate) fn of(query: &Query) -> Prefilter {
        let clauses = required(&query.expr)
            .into_iter()
            .map(|clause| {
                clause
                    .into_iter()
                    .map(|text| Finder::new(text.as_bytes()).into_owned())
                    .collect()
            })
            .collect();
        Prefilter { clauses }
    }

    /// Whether the line may match (and must be parsed to know).
    pub(crate) fn may_match(&self, line: &[u8]) -> bool {
        self.clauses.is_empty()
            || memchr::memchr(b'\\', line).is_some()
            || self
                .clauses
                .iter()
                .all(|clause| clause.iter().any(|finder| finder.find(line).is_some()))
    }
}

/// The clauses `expr` requires (an empty list: none known).
fn required(expr: &Expr) -> Vec<Vec<String>> {
    match expr {
        Expr::And(items) => items.iter().flat_map(required).collect(),
        Expr::Or(items) => {
            // One alternative from each side: any of them must be there.
            let mut any = Vec::new();
            for item in items {
                match required(item).into_iter().next() {
                    Some(clause) => any.extend(clause),
                    None => return Vec::new(),
                }
            }
            vec![any]
        }
        Expr::Compare(comparison) => {
            let texts: Option<Vec<String>> = match &comparison.test {
                Test::Compare(Operator::Eq, operand) => literal(operand).map(|t| vec![t]),
                Test::In {
                    negated: false,
                    values,
                } => values.iter().map(literal).collect(),
                _ => None,
            };
            texts.into_iter().collect()
        }
        Expr::All | Expr::Not(_) => Vec::new(),
    }
}

/// The text an equal value shows in the line, when it is written as is: text of characters JSON
/// and the log's escaping leave alone.
fn literal(operand: &Operand) -> Option<String> {
    let Operand::Text(text) = operand else {
        return None;
    };
    let plain = !text.is_empty()
        && text.chars().all(|c| {
            !c.is_control()
                && !matches!(
                    c,
                    '"' | '\\' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}'
                )
        });
    plain.then(|| text.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skips(query: &str, line: &str) -> bool {
        !Prefilter::of(&Query::parse(query).unwrap()).may_match(line.as_bytes())
    }

    #[test]
    fn skips_only_lines_that_cannot_match() {
        let line = r#"{"event":{"name":"user.invited"},"actor":{"id":"42"}}"#;
        assert!(skips("event = authentication.failed", line));
        assert!(!skips("event = user.invited", line));
        assert!(skips("event = user.invited and user = 43", line));
        assert!(!skips("event = user.invited and user = 42", line));
        assert!(!skips("event = x or user = 42", line));
        assert!(skips("event = x or user = 43", line));
        assert!(
            !skips("event = x or seq > 3", line),
            "an `or` side without literal"
        );
        assert!(!skips("not event = user.invited", line));
        assert!(!skips("event in (other, user.invited)", line));
        assert!(skips("event in (other, another)", line));
        assert!(
            !skips("event ~ INVITED", line),
            "no literal for case-insensitive tests"
        );
        assert!(
            !skips(r#"event = "a\"b""#, line),
            "no literal for escaped text"
        );
        let escaped = r#"{"event":{"name":"user\u002einvited"}}"#;
        assert!(
            !skips("event = user.invited", escaped),
            "escapes are parsed"
        );
    }
}
