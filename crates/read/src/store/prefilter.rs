//! Lines skipped before they are parsed: the literal texts a matching record must contain,
//! derived from the query. Conservative: a line is skipped only when it certainly cannot match,
//! so a line holding any escape (`\`) is always parsed, in case the literal is written escaped.

use memchr::memmem::Finder;

use crate::escape::needs_escape;
use crate::query::{contains_ascii_caseless, Expr, Operand, Operator, Query, Test};

/// Literal texts a line must contain: every clause holds at least one of its alternatives.
#[derive(Debug, Default)]
#[doc(hidden)]
pub struct Prefilter {
    clauses: Vec<Vec<Literal>>,
}

/// A text a matching line contains.
#[derive(Debug)]
enum Literal {
    /// As it is.
    Exact(Box<Finder<'static>>),
    /// Ignoring ASCII case (`~`), in lower case.
    Caseless(Vec<u8>),
}

impl Literal {
    fn of(text: Text) -> Literal {
        match text {
            Text::Exact(text) => {
                Literal::Exact(Box::new(Finder::new(text.as_bytes()).into_owned()))
            }
            Text::Caseless(text) => Literal::Caseless(text.to_ascii_lowercase().into_bytes()),
        }
    }

    fn found_in(&self, line: &[u8]) -> bool {
        match self {
            Literal::Exact(finder) => finder.find(line).is_some(),
            // A line with other than ASCII is parsed: the query lowers its case by Unicode.
            Literal::Caseless(needle) => !line.is_ascii() || contains_ascii_caseless(line, needle),
        }
    }
}

/// A text derived from the query.
enum Text {
    Exact(String),
    Caseless(String),
}

impl Prefilter {
    /// The texts a line must hold for `query` to match it.
    pub fn of(query: &Query) -> Prefilter {
        let clauses = required(&query.expr)
            .into_iter()
            .map(|clause| clause.into_iter().map(Literal::of).collect())
            .collect();
        Prefilter { clauses }
    }

    /// Exact texts one of which every matching line holds (the first clause of exact ones), to
    /// look for in whole blocks; `None` when the query has no such clause.
    pub(crate) fn needles(&self) -> Option<Vec<&Finder<'static>>> {
        self.clauses.iter().find_map(|clause| {
            clause
                .iter()
                .map(|literal| match literal {
                    Literal::Exact(finder) => Some(&**finder),
                    Literal::Caseless(..) => None,
                })
                .collect()
        })
    }

    /// Whether the line may match (and must be parsed to know).
    pub fn may_match(&self, line: &[u8]) -> bool {
        self.clauses.is_empty()
            || memchr::memchr(b'\\', line).is_some()
            || self
                .clauses
                .iter()
                .all(|clause| clause.iter().any(|literal| literal.found_in(line)))
    }
}

/// The clauses `expr` requires (an empty list: none known).
fn required(expr: &Expr) -> Vec<Vec<Text>> {
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
            let texts: Option<Vec<Text>> = match &comparison.test {
                Test::Compare(Operator::Eq, operand) => {
                    literal(operand).map(|t| vec![Text::Exact(t)])
                }
                Test::Compare(Operator::Contains, operand) => literal(operand)
                    .filter(|t| t.is_ascii())
                    .map(|t| vec![Text::Caseless(t)]),
                Test::In {
                    negated: false,
                    values,
                } => values.iter().map(|v| literal(v).map(Text::Exact)).collect(),
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
    // What JSON escapes (quotes, backslashes, controls), and what the log escapes beyond it.
    // Text that reads as a number also equals such a value, whose written form may differ
    // (`1e300` is equal to a text of 301 digits); short integers are written as they read.
    let short_integer = text.strip_prefix('-').unwrap_or(text).len() <= 15
        && text
            .strip_prefix('-')
            .unwrap_or(text)
            .bytes()
            .all(|b| b.is_ascii_digit());
    let plain = !text.is_empty()
        && (short_integer || crate::query::number_text(text).is_none())
        && text
            .chars()
            .all(|c| !c.is_control() && !matches!(c, '"' | '\\') && !needs_escape(c));
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
