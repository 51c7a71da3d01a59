//! Running a query over records: the query bound to the moment it runs (relative times
//! resolved), its text operands prepared once, then tested against each record's borrowed view.

use std::cmp::Ordering;
use std::net::IpAddr;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use ipnet::IpNet;

use super::expr::{Comparison, Expr, Operand, Operator, Query, Test};
use super::field::{Field, FieldPath};
use super::fold::{fold, glob_matches};
use crate::event::Severity;
use crate::json_view::Json;
pub(crate) use crate::json_view::{text_of, visit};

/// A query bound to the moment it runs, ready to test records.
///
/// ```
/// # use tracing_security_events::query::Query;
/// let query = Query::parse(r#"event = "authentication.failed" and ip in (203.0.113.0/24)"#)?;
/// let matcher = query.matcher(chrono::Utc::now());
/// let line = r#"{"schema":1,"seq":1,"event":{"name":"authentication.failed"},"client":{"ip":"203.0.113.7"}}"#;
/// assert!(matcher.matches_line(line)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Matcher {
    node: Node,
}

#[derive(Debug, Clone)]
enum Node {
    All,
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Exists(Vec<FieldPath>),
    /// Holds when some value at one of the paths passes one of the predicates.
    Test(Vec<FieldPath>, Vec<Predicate>),
}

#[derive(Debug, Clone)]
enum Predicate {
    /// Text equal, exactly; numbers and booleans by their JSON text.
    TextEq(String),
    /// Text ordered by its bytes.
    TextOrder(Operator, String),
    /// Contains, ignoring case: the needle folded.
    Contains(String),
    StartsWith(String),
    EndsWith(String),
    /// A glob, ignoring case: folded.
    Like(String),
    Number(Operator, f64),
    /// A time, and its form as records write it (compared as text when the record's is too).
    Time(Operator, DateTime<Utc>, Option<String>),
    Address(IpAddr),
    Network(IpNet),
    Severity(Operator, Severity),
    Bool(bool),
    Null,
}

impl Query {
    /// The earliest time a matching record can have, when the query says (a `time >= t`, `>`
    /// or `=` that every match must pass): the stores skip files older than that.
    pub(crate) fn earliest(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        fn bound(expr: &Expr, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
            match expr {
                Expr::And(items) => items.iter().filter_map(|e| bound(e, now)).max(),
                Expr::Compare(Comparison {
                    field: Field::Path(path),
                    test:
                        Test::Compare(Operator::Ge | Operator::Gt | Operator::Eq, Operand::Time(t)),
                }) if path.segments() == ["timestamp"] => Some(t.resolve(now)),
                _ => None,
            }
        }
        bound(&self.expr, now)
    }

    /// The latest time a matching record can have, when the query bounds it from above
    /// (`timestamp < t` or `<= t` in a conjunction).
    pub(crate) fn latest(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        fn bound(expr: &Expr, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
            match expr {
                Expr::And(items) => items.iter().filter_map(|e| bound(e, now)).min(),
                Expr::Compare(Comparison {
                    field: Field::Path(path),
                    test: Test::Compare(Operator::Lt | Operator::Le, Operand::Time(t)),
                }) if path.segments() == ["timestamp"] => Some(t.resolve(now)),
                _ => None,
            }
        }
        bound(&self.expr, now)
    }

    /// This query, bound to run at `now` (which `-24h`, `today` and `now` are counted from).
    pub fn matcher(&self, now: DateTime<Utc>) -> Matcher {
        Matcher {
            node: bind(&self.expr, now),
        }
    }
}

fn bind(expr: &Expr, now: DateTime<Utc>) -> Node {
    match expr {
        Expr::All => Node::All,
        Expr::And(items) => Node::And(items.iter().map(|e| bind(e, now)).collect()),
        Expr::Or(items) => Node::Or(items.iter().map(|e| bind(e, now)).collect()),
        Expr::Not(inner) => Node::Not(Box::new(bind(inner, now))),
        Expr::Compare(comparison) => bind_comparison(comparison, now),
    }
}

fn bind_comparison(Comparison { field, test }: &Comparison, now: DateTime<Utc>) -> Node {
    let paths = field.paths();
    match test {
        Test::Exists => Node::Exists(paths),
        Test::Compare(op, operand) => match op.positive() {
            Some(positive) => Node::Not(Box::new(Node::Test(
                paths,
                vec![predicate(positive, operand, now)],
            ))),
            None => Node::Test(paths, vec![predicate(*op, operand, now)]),
        },
        Test::In { negated, values } => {
            let test = Node::Test(
                paths,
                values
                    .iter()
                    .map(|v| predicate(Operator::Eq, v, now))
                    .collect(),
            );
            if *negated {
                Node::Not(Box::new(test))
            } else {
                test
            }
        }
    }
}

fn predicate(op: Operator, operand: &Operand, now: DateTime<Utc>) -> Predicate {
    match (op, operand) {
        (Operator::Contains, _) => Predicate::Contains(fold(&operand_text(operand)).into_owned()),
        (Operator::StartsWith, _) => Predicate::StartsWith(operand_text(operand)),
        (Operator::EndsWith, _) => Predicate::EndsWith(operand_text(operand)),
        (Operator::Like, _) => Predicate::Like(fold(&operand_text(operand)).into_owned()),
        (Operator::Eq, Operand::Text(text)) => Predicate::TextEq(text.clone()),
        (_, Operand::Text(text)) => Predicate::TextOrder(op, text.clone()),
        (_, Operand::Number(n)) => Predicate::Number(op, *n),
        (_, Operand::Time(spec)) => {
            let at = spec.resolve(now);
            Predicate::Time(op, at, record_form(at))
        }
        (_, Operand::Address(ip)) => Predicate::Address(*ip),
        (_, Operand::Network(net)) => Predicate::Network(*net),
        (_, Operand::Severity(severity)) => Predicate::Severity(op, *severity),
        (_, Operand::Bool(b)) => Predicate::Bool(*b),
        (_, Operand::Null) => Predicate::Null,
    }
}

fn operand_text(operand: &Operand) -> String {
    match operand {
        Operand::Text(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `at` as the record's `timestamp` is written (`2026-11-22T10:15:30.123456Z`), when it has
/// that fixed width: such strings order as the times do.
fn record_form(at: DateTime<Utc>) -> Option<String> {
    let text = at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    is_record_time_form(&text).then_some(text)
}

fn is_record_time_form(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 27 && b[4] == b'-' && b[10] == b'T' && b[19] == b'.' && b[26] == b'Z'
}

impl Matcher {
    /// Whether the record (one line of the log, as written) matches. An error when the line is
    /// not JSON.
    pub fn matches_line(&self, line: &str) -> Result<bool, serde_json::Error> {
        let record: Json<'_> = serde_json::from_str(line)?;
        Ok(self.matches(&record))
    }

    /// Whether the record matches.
    pub fn matches(&self, record: &Json<'_>) -> bool {
        self.node.eval(record)
    }

    /// Whether this matches every record.
    pub fn matches_everything(&self) -> bool {
        matches!(self.node, Node::All)
    }
}

impl Node {
    fn eval(&self, record: &Json<'_>) -> bool {
        match self {
            Node::All => true,
            Node::And(items) => items.iter().all(|n| n.eval(record)),
            Node::Or(items) => items.iter().any(|n| n.eval(record)),
            Node::Not(inner) => !inner.eval(record),
            Node::Exists(paths) => paths
                .iter()
                .any(|path| visit(record, path.segments(), &mut |_| true)),
            Node::Test(paths, predicates) => paths.iter().any(|path| {
                visit(record, path.segments(), &mut |value| {
                    predicates.iter().any(|p| p.test(value))
                })
            }),
        }
    }
}

fn number_of(value: &Json<'_>) -> Option<f64> {
    #[allow(
        clippy::cast_precision_loss,
        reason = "compared as JSON numbers are: f64"
    )]
    match value {
        Json::I64(n) => Some(*n as f64),
        Json::U64(n) => Some(*n as f64),
        Json::F64(n) => Some(*n),
        _ => None,
    }
}

fn holds(op: Operator, ordering: Ordering) -> bool {
    match op {
        Operator::Eq => ordering == Ordering::Equal,
        Operator::Gt => ordering == Ordering::Greater,
        Operator::Ge => ordering != Ordering::Less,
        Operator::Lt => ordering == Ordering::Less,
        Operator::Le => ordering != Ordering::Greater,
        _ => false,
    }
}

impl Predicate {
    fn test(&self, value: &Json<'_>) -> bool {
        match self {
            Predicate::TextEq(expected) => text_of(value).is_some_and(|t| t == *expected),
            Predicate::TextOrder(op, bound) => match value {
                Json::Str(text) => holds(*op, text.as_ref().cmp(bound.as_str())),
                _ => false,
            },
            Predicate::Contains(needle) => {
                text_of(value).is_some_and(|t| contains_ignoring_case(&t, needle))
            }
            Predicate::StartsWith(prefix) => {
                text_of(value).is_some_and(|t| t.starts_with(prefix.as_str()))
            }
            Predicate::EndsWith(suffix) => {
                text_of(value).is_some_and(|t| t.ends_with(suffix.as_str()))
            }
            Predicate::Like(pattern) => text_of(value).is_some_and(|t| {
                if t.is_ascii() && pattern.is_ascii() {
                    crate::glob::matches(pattern, &t)
                } else {
                    glob_matches(pattern, &t)
                }
            }),
            Predicate::Number(op, bound) => number_of(value)
                .and_then(|n| n.partial_cmp(bound))
                .is_some_and(|ordering| holds(*op, ordering)),
            Predicate::Time(op, at, form) => {
                let Json::Str(text) = value else {
                    return false;
                };
                match form {
                    Some(form) if is_record_time_form(text) => {
                        holds(*op, text.as_ref().cmp(form.as_str()))
                    }
                    _ => DateTime::parse_from_rfc3339(text)
                        .is_ok_and(|t| holds(*op, t.with_timezone(&Utc).cmp(at))),
                }
            }
            Predicate::Address(ip) => address_of(value).is_some_and(|a| a == *ip),
            Predicate::Network(net) => address_of(value).is_some_and(|a| net.contains(&a)),
            Predicate::Severity(op, bound) => match value {
                Json::Str(text) => Severity::from_str(text).is_ok_and(|s| holds(*op, s.cmp(bound))),
                _ => false,
            },
            Predicate::Bool(b) => matches!(value, Json::Bool(v) if v == b),
            Predicate::Null => matches!(value, Json::Null),
        }
    }
}

fn address_of(value: &Json<'_>) -> Option<IpAddr> {
    match value {
        Json::Str(text) => IpAddr::from_str(text).ok(),
        _ => None,
    }
}

/// Whether `haystack` contains `needle` (already folded), ignoring case as [`fold`] does.
fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if haystack.is_ascii() && needle.is_ascii() {
        contains_ascii_caseless(haystack.as_bytes(), needle.as_bytes())
    } else {
        fold(haystack).contains(needle)
    }
}

/// Whether `haystack` holds `needle` (in lower case) ignoring ASCII case: its first byte found in
/// either case, then the rest compared. The query's `~` and the store's pre-check both use it.
pub(crate) fn contains_ascii_caseless(haystack: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), haystack).any(|at| {
        haystack[at..]
            .get(..needle.len())
            .is_some_and(|window| window.eq_ignore_ascii_case(needle))
    })
}
