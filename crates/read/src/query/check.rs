//! From the query as written to the query as run: shortcuts resolved, fields checked against
//! the record's schema, each value read as its field's kind says, operators checked against it.

use std::net::IpAddr;
use std::ops::Range;
use std::str::FromStr;

use ipnet::IpNet;

use super::error::QueryError;
use super::expr::{Comparison, Expr, Operand, Test};
use super::field::{kind_of, shortcut, Field, FieldPath, Kind};
use super::raw::{Raw, RawComparison, RawTest, RawValue};
use super::time::TimeSpec;
use crate::event::Severity;

/// Checks a parsed query; `text` is the query, for the columns of errors.
pub(super) fn check(text: &str, raw: Raw) -> Result<Expr, QueryError> {
    Ok(match raw {
        Raw::And(items) => items.into_iter().try_fold(Expr::All, |all, item| {
            Ok::<_, QueryError>(Expr::and(all, check(text, item)?))
        })?,
        Raw::Or(items) => {
            let mut items = items.into_iter();
            let first = check(text, items.next().expect("an `or` has two sides"))?;
            items.try_fold(first, |any, item| {
                Ok::<_, QueryError>(Expr::or(any, check(text, item)?))
            })?
        }
        Raw::Not(inner) => Expr::Not(Box::new(check(text, *inner)?)),
        Raw::Compare(comparison) => Expr::Compare(check_comparison(text, comparison)?),
    })
}

fn check_comparison(text: &str, raw: RawComparison) -> Result<Comparison, QueryError> {
    let field = resolve_field(text, raw.path, &raw.path_span)?;
    let kind = field.kind();
    let test = match raw.test {
        RawTest::Exists => Test::Exists,
        RawTest::Compare { op, op_span, value } => {
            let error = |message: String| QueryError::new(text, op_span.start, message);
            if kind == Kind::Object {
                return Err(error(format!(
                    "`{field}` is {}: only `exists` applies to it",
                    kind.describe()
                )));
            }
            let operand = if op.is_textual() {
                if matches!(kind, Kind::Number | Kind::Time | Kind::Bool) {
                    return Err(error(format!(
                        "`{op}` compares text, and `{field}` is {}",
                        kind.describe()
                    )));
                }
                Operand::Text(value.text.clone())
            } else {
                if op.is_ordering() && matches!(kind, Kind::Address | Kind::Bool) {
                    return Err(error(format!(
                        "`{op}` orders values, and `{field}` is {}",
                        kind.describe()
                    )));
                }
                read_value(text, kind, &value)?
            };
            if op.is_ordering() && matches!(operand, Operand::Bool(_) | Operand::Null) {
                return Err(error(format!("`{op}` does not order `{}`", value.text)));
            }
            Test::Compare(op, operand)
        }
        RawTest::In { negated, values } => {
            if kind == Kind::Object {
                return Err(QueryError::new(
                    text,
                    raw.path_span.start,
                    format!(
                        "`{field}` is {}: only `exists` applies to it",
                        kind.describe()
                    ),
                ));
            }
            let values = values
                .iter()
                .map(|value| read_value(text, kind, value))
                .collect::<Result<_, _>>()?;
            Test::In { negated, values }
        }
    };
    Ok(Comparison { field, test })
}

impl Field {
    /// A field as the language writes one: a shortcut (`event`, `user`) or a path of the
    /// record (`client.geo.country`, `fields."authentication.method"`).
    ///
    /// ```
    /// # use tracing_security_events::query::Field;
    /// assert_eq!(Field::parse("event")?.to_string(), "event.name");
    /// assert!(Field::parse("actor.nmae").is_err());
    /// # Ok::<(), tracing_security_events::query::QueryError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Field, QueryError> {
        field(text)
    }
}

/// A field written alone (`--by event`).
pub(super) fn field(text: &str) -> Result<Field, QueryError> {
    let segments = super::syntax::parse_path(text)?;
    let start = text.len() - text.trim_start().len();
    resolve_field(text, segments, &(start..text.len()))
}

/// The field a path names: a shortcut, or a path of the record.
fn resolve_field(
    text: &str,
    segments: Vec<String>,
    span: &Range<usize>,
) -> Result<Field, QueryError> {
    if let [only] = segments.as_slice() {
        let is_leaf = matches!(only.as_str(), "schema" | "id" | "seq" | "timestamp");
        if !is_leaf {
            if let Some(field) = shortcut(only) {
                return Ok(field);
            }
        }
    }
    if kind_of(&segments).is_none() {
        let written = FieldPath::new(segments).to_string();
        let message = match super::field::closest_field(&written) {
            Some(known) => format!("unknown field `{written}` (did you mean `{known}`?)"),
            None => format!("unknown field `{written}`"),
        };
        return Err(QueryError::new(text, span.start, message));
    }
    Ok(Field::Path(FieldPath::new(segments)))
}

/// Reads a value as `kind` says.
fn read_value(text: &str, kind: Kind, value: &RawValue) -> Result<Operand, QueryError> {
    let raw = value.text.as_str();
    let error = |message: String| QueryError::new(text, value.span.start, message);
    Ok(match kind {
        Kind::Text => Operand::Text(value.text.clone()),
        Kind::Number => {
            Operand::Number(number(raw).ok_or_else(|| error(format!("`{raw}` is not a number")))?)
        }
        Kind::Time => Operand::Time(TimeSpec::parse(raw).ok_or_else(|| {
            error(format!(
                "`{raw}` is not a time (2026-11-22, 2026-11-22 10:15, RFC 3339, -15m, -24h, -7d, \
                 now, today)"
            ))
        })?),
        Kind::Address => {
            if let Ok(ip) = IpAddr::from_str(raw) {
                Operand::Address(ip)
            } else if let Ok(net) = IpNet::from_str(raw) {
                Operand::Network(net)
            } else {
                return Err(error(format!("`{raw}` is not an IP address or network")));
            }
        }
        Kind::Severity => Operand::Severity(Severity::from_str(raw).map_err(|_| {
            error(format!(
                "`{raw}` is not a severity (debug, info, warn, error, critical)"
            ))
        })?),
        Kind::Bool => match raw {
            "true" => Operand::Bool(true),
            "false" => Operand::Bool(false),
            _ => return Err(error(format!("`{raw}` is not true or false"))),
        },
        Kind::Object => {
            return Err(error(format!(
                "`{raw}`: a part of the record is not compared with values, only `exists` \
                 applies to it"
            )))
        }
        Kind::Any if value.quoted => Operand::Text(value.text.clone()),
        Kind::Any => match raw {
            "true" => Operand::Bool(true),
            "false" => Operand::Bool(false),
            "null" => Operand::Null,
            _ => {
                if let Some(n) = number(raw) {
                    Operand::Number(n)
                } else if let Some(net) = raw.contains('/').then(|| IpNet::from_str(raw).ok()) {
                    net.map_or_else(|| Operand::Text(value.text.clone()), Operand::Network)
                } else {
                    Operand::Text(value.text.clone())
                }
            }
        },
    })
}

/// A number as JSON writes one (`-12`, `3.5`, `1e9`), finite.
pub(crate) fn number(text: &str) -> Option<f64> {
    let bytes = text.strip_prefix('-').unwrap_or(text).as_bytes();
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let mut rest = &bytes[digits..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let n = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        rest = &fraction[n..];
    }
    if let Some(exponent) = rest.strip_prefix(b"e").or_else(|| rest.strip_prefix(b"E")) {
        let exponent = exponent
            .strip_prefix(b"+")
            .or_else(|| exponent.strip_prefix(b"-"))
            .unwrap_or(exponent);
        let n = exponent.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        rest = &exponent[n..];
    }
    if !rest.is_empty() {
        return None;
    }
    text.parse::<f64>().ok().filter(|n| n.is_finite())
}
