//! The typed builder: the filters of the CLI and the read API, as methods that give the same
//! query the text would.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use ipnet::IpNet;

use super::check::check;
use super::error::QueryError;
use super::expr::{Comparison, Expr, Operand, Operator, Query, Test};
use super::field::{Field, FieldPath};
use super::syntax;
use super::time::TimeSpec;
use crate::event::Severity;

impl Default for Query {
    fn default() -> Self {
        Query::new()
    }
}

impl std::str::FromStr for Query {
    type Err = QueryError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Query::parse(text)
    }
}

impl From<DateTime<Utc>> for TimeSpec {
    fn from(at: DateTime<Utc>) -> Self {
        TimeSpec::At(at)
    }
}

/// `not` of a query.
impl std::ops::Not for Query {
    type Output = Query;

    fn not(self) -> Query {
        Query {
            expr: match self.expr {
                Expr::Not(inner) => Expr::Not(Box::new(Expr::Not(inner))),
                other => Expr::Not(Box::new(other)),
            },
        }
    }
}

impl Query {
    /// The query every record matches; add conditions with the methods below.
    pub fn new() -> Self {
        Query { expr: Expr::All }
    }

    /// Reads a query in the language (see the [module docs](super)). An empty text is the
    /// query every record matches.
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        let expr = match syntax::parse(text)? {
            None => Expr::All,
            Some(raw) => check(text, raw)?,
        };
        Ok(Query { expr })
    }

    /// Whether every record matches (no condition).
    pub fn is_everything(&self) -> bool {
        matches!(self.expr, Expr::All)
    }

    /// Both this and `other`.
    #[must_use]
    pub fn and(self, other: Query) -> Query {
        Query {
            expr: Expr::and(self.expr, other.expr),
        }
    }

    /// This or `other`.
    #[must_use]
    pub fn or(self, other: Query) -> Query {
        Query {
            expr: Expr::or(self.expr, other.expr),
        }
    }

    fn with(self, field: Field, test: Test) -> Query {
        self.and(Query {
            expr: Expr::Compare(Comparison { field, test }),
        })
    }

    fn with_path(self, path: &str, op: Operator, operand: Operand) -> Query {
        self.with(
            Field::Path(FieldPath::dotted(path)),
            Test::Compare(op, operand),
        )
    }

    /// Records of this event: a name (`authentication.failed`), or a glob
    /// (`authentication.*`) matched ignoring case, as `like` does.
    #[must_use]
    pub fn event(self, name_or_glob: &str) -> Query {
        self.with_path(
            "event.name",
            glob_or_equal(name_or_glob),
            text(name_or_glob),
        )
    }

    /// Records of any of these events (names or globs); no names, no condition.
    #[must_use]
    pub fn any_event<'n>(self, names: impl IntoIterator<Item = &'n str>) -> Query {
        let any = names
            .into_iter()
            .map(|name| Query::new().event(name))
            .reduce(Query::or);
        match any {
            Some(any) => self.and(any),
            None => self,
        }
    }

    /// The record with this id.
    #[must_use]
    pub fn id(self, id: &str) -> Query {
        self.with_path("id", Operator::Eq, text(id))
    }

    /// Records of this category (`authentication`, `api_key`).
    #[must_use]
    pub fn category(self, category: &str) -> Query {
        self.with_path("event.category", Operator::Eq, text(category))
    }

    /// Records whose actor has this id, name or email.
    #[must_use]
    pub fn user(self, user: &str) -> Query {
        self.with(Field::User, Test::Compare(Operator::Eq, text(user)))
    }

    /// Records with this outcome (`success`, `failure`, `unknown`).
    #[must_use]
    pub fn outcome(self, outcome: &str) -> Query {
        self.with_path("event.outcome", Operator::Eq, text(outcome))
    }

    /// Records of this tenant.
    #[must_use]
    pub fn tenant(self, tenant: &str) -> Query {
        self.with_path("tenant.id", Operator::Eq, text(tenant))
    }

    /// Records whose client has this address.
    #[must_use]
    pub fn ip(self, ip: IpAddr) -> Query {
        self.with_path("client.ip", Operator::Eq, Operand::Address(ip))
    }

    /// Records whose client is in this network.
    #[must_use]
    pub fn network(self, network: IpNet) -> Query {
        self.with_path("client.ip", Operator::Eq, Operand::Network(network))
    }

    /// Records at or after this time.
    #[must_use]
    pub fn since(self, from: impl Into<TimeSpec>) -> Query {
        self.with_path("timestamp", Operator::Ge, Operand::Time(from.into()))
    }

    /// Records before this time.
    #[must_use]
    pub fn until(self, to: impl Into<TimeSpec>) -> Query {
        self.with_path("timestamp", Operator::Lt, Operand::Time(to.into()))
    }

    /// Records of this severity or a more serious one.
    #[must_use]
    pub fn severity_at_least(self, severity: Severity) -> Query {
        self.with_path("event.severity", Operator::Ge, Operand::Severity(severity))
    }

    /// Records whose message contains this text, ignoring case.
    #[must_use]
    pub fn message_contains(self, part: &str) -> Query {
        self.with_path("message", Operator::Contains, text(part))
    }
}

fn text(value: &str) -> Operand {
    Operand::Text(value.to_owned())
}

fn glob_or_equal(value: &str) -> Operator {
    if value.contains(['*', '?']) {
        Operator::Like
    } else {
        Operator::Eq
    }
}
