//! The parsed query: a tree of `and`, `or`, `not` over comparisons, with typed values, and its
//! canonical text.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use super::field::Field;
use super::time::TimeSpec;
use crate::event::Severity;

/// A query of the log: which records to keep.
///
/// Made by [`Query::parse`] (or `str::parse`) from the text users type, or by the typed builder
/// (`Query::new().event("authentication.*").user("42")`). [`Display`](fmt::Display) prints the
/// canonical text, which parses back to an equal query. Run it with [`Query::matcher`].
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub(crate) expr: Expr,
}

/// A node of the query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    /// Every record: the empty query.
    All,
    /// Every one holds; at least two, none an `And` (flattened).
    And(Vec<Expr>),
    /// Any one holds; at least two, none an `Or` (flattened).
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Compare(Comparison),
}

impl Expr {
    /// `a and b`, flattened, the empty query left out.
    pub(crate) fn and(a: Expr, b: Expr) -> Expr {
        match (a, b) {
            (Expr::All, other) | (other, Expr::All) => other,
            (Expr::And(mut left), Expr::And(right)) => {
                left.extend(right);
                Expr::And(left)
            }
            (Expr::And(mut left), right) => {
                left.push(right);
                Expr::And(left)
            }
            (left, Expr::And(mut right)) => {
                right.insert(0, left);
                Expr::And(right)
            }
            (left, right) => Expr::And(vec![left, right]),
        }
    }

    /// `a or b`, flattened; with the empty query, every record.
    pub(crate) fn or(a: Expr, b: Expr) -> Expr {
        match (a, b) {
            (Expr::All, _) | (_, Expr::All) => Expr::All,
            (Expr::Or(mut left), Expr::Or(right)) => {
                left.extend(right);
                Expr::Or(left)
            }
            (Expr::Or(mut left), right) => {
                left.push(right);
                Expr::Or(left)
            }
            (left, Expr::Or(mut right)) => {
                right.insert(0, left);
                Expr::Or(right)
            }
            (left, right) => Expr::Or(vec![left, right]),
        }
    }
}

/// One test of one field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Comparison {
    pub(crate) field: Field,
    pub(crate) test: Test,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Test {
    /// `path exists`
    Exists,
    /// `path op value`
    Compare(Operator, Operand),
    /// `path in (a, b)`, `path not in (a, b)`
    In { negated: bool, values: Vec<Operand> },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operator {
    /// `=`: equal (text exactly; an address within a network).
    Eq,
    /// `!=`: not equal, as `not (a = v)`.
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `~`: contains, ignoring case.
    Contains,
    /// `!~`: does not contain, ignoring case.
    NotContains,
    /// `startswith` (case matters).
    StartsWith,
    /// `not startswith`
    NotStartsWith,
    /// `endswith` (case matters).
    EndsWith,
    /// `not endswith`
    NotEndsWith,
    /// `like`: a glob (`*` any run of characters, `?` one), ignoring case.
    Like,
    /// `not like`
    NotLike,
}

impl Operator {
    /// As written in queries.
    pub const fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "=",
            Operator::Ne => "!=",
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::Contains => "~",
            Operator::NotContains => "!~",
            Operator::StartsWith => "startswith",
            Operator::NotStartsWith => "not startswith",
            Operator::EndsWith => "endswith",
            Operator::NotEndsWith => "not endswith",
            Operator::Like => "like",
            Operator::NotLike => "not like",
        }
    }

    /// The operator it negates, if it is a negative form (`!=` of `=`).
    pub(crate) fn positive(self) -> Option<Operator> {
        Some(match self {
            Operator::Ne => Operator::Eq,
            Operator::NotContains => Operator::Contains,
            Operator::NotStartsWith => Operator::StartsWith,
            Operator::NotEndsWith => Operator::EndsWith,
            Operator::NotLike => Operator::Like,
            _ => return None,
        })
    }

    /// Whether it compares text (`~`, `startswith`, `endswith`, `like` and their negations).
    pub(crate) fn is_textual(self) -> bool {
        matches!(
            self.positive().unwrap_or(self),
            Operator::Contains | Operator::StartsWith | Operator::EndsWith | Operator::Like
        )
    }

    /// Whether it orders (`>`, `>=`, `<`, `<=`).
    pub(crate) fn is_ordering(self) -> bool {
        matches!(
            self,
            Operator::Gt | Operator::Ge | Operator::Lt | Operator::Le
        )
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value in a comparison, read as the field's kind says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    Text(String),
    Number(f64),
    Bool(bool),
    Null,
    Time(TimeSpec),
    Address(IpAddr),
    Network(IpNet),
    Severity(Severity),
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Text(text) => super::lexicon::write_quoted(f, text),
            Operand::Number(n) => write!(f, "{n}"),
            Operand::Bool(b) => write!(f, "{b}"),
            Operand::Null => f.write_str("null"),
            Operand::Time(time) => write!(f, "{time}"),
            Operand::Address(ip) => write!(f, "{ip}"),
            Operand::Network(net) => write!(f, "{net}"),
            Operand::Severity(severity) => f.write_str(severity.as_str()),
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.field)?;
        match &self.test {
            Test::Exists => f.write_str(" exists"),
            Test::Compare(op, value) => write!(f, " {op} {value}"),
            Test::In { negated, values } => {
                f.write_str(if *negated { " not in (" } else { " in (" })?;
                for (n, value) in values.iter().enumerate() {
                    if n > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{value}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::All => Ok(()),
            Expr::Or(items) => {
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        f.write_str(" or ")?;
                    }
                    write!(f, "{item}")?;
                }
                Ok(())
            }
            Expr::And(items) => {
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        f.write_str(" and ")?;
                    }
                    match item {
                        Expr::Or(_) => write!(f, "({item})")?,
                        _ => write!(f, "{item}")?,
                    }
                }
                Ok(())
            }
            Expr::Not(inner) => match **inner {
                Expr::And(_) | Expr::Or(_) => write!(f, "not ({inner})"),
                // `not` of the empty query: no record. The language has no literal for it;
                // this matches no record either (every record has an id).
                Expr::All => f.write_str("not id exists"),
                _ => write!(f, "not {inner}"),
            },
            Expr::Compare(comparison) => write!(f, "{comparison}"),
        }
    }
}

/// The canonical text, which [`Query::parse`] reads back equal.
impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)
    }
}
