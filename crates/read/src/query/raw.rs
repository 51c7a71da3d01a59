//! A query as written, before its fields and values are checked: what the parser makes, the
//! limits measure and the checks turn into a [`Query`](super::Query).

use std::ops::Range;

use super::expr::Operator;

/// A query as written, before its fields and values are checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Raw {
    And(Vec<Raw>),
    Or(Vec<Raw>),
    Not(Box<Raw>),
    Compare(RawComparison),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawComparison {
    pub(crate) path: Vec<String>,
    pub(crate) path_span: Range<usize>,
    pub(crate) test: RawTest,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawTest {
    Exists,
    Compare {
        op: Operator,
        op_span: Range<usize>,
        value: RawValue,
    },
    In {
        negated: bool,
        values: Vec<RawValue>,
    },
}

/// A value as written: quoted or bare, and where.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawValue {
    pub(crate) text: String,
    pub(crate) quoted: bool,
    pub(crate) span: Range<usize>,
}
