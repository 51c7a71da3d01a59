//! The filters every reader offers beside the query language, as Lago names them (from, to,
//! events, categories, users, outcome, address, tenant), turned into one query.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use super::{Query, QueryError, TimeSpec, MAX_FILTER_VALUES};

/// Which records, in the form a command line or a request gives them: the filters combine with
/// `and`, and the values of one filter with `or`. An empty filter set matches every record.
///
/// ```
/// use tracing_security_events::query::Filters;
///
/// let filters = Filters {
///     query: Some("severity >= warn".into()),
///     events: vec!["authentication.*".into()],
///     users: vec!["alice".into(), "bob".into()],
///     ..Filters::default()
/// };
/// assert_eq!(
///     filters.to_query()?.to_string(),
///     r#"event.severity >= warn and event.name like "authentication.*" and (user = "alice" or user = "bob")"#
/// );
/// # Ok::<(), tracing_security_events::query::FilterError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// A query in the language.
    pub query: Option<String>,
    /// From this time on (2026-11-22, "2026-11-22 10:15", RFC 3339, -24h, today).
    pub from: Option<String>,
    /// Before this time.
    pub to: Option<String>,
    /// Event names or globs (`authentication.*`).
    pub events: Vec<String>,
    /// Categories (`authentication`, `api_key`).
    pub categories: Vec<String>,
    /// Actors, by id, name or email.
    pub users: Vec<String>,
    /// success, failure or unknown.
    pub outcome: Option<String>,
    /// A client address or network.
    pub ip: Option<String>,
    /// A tenant id.
    pub tenant: Option<String>,
}

/// Which filter was wrong, so that each front end can name it its own way (`--from`,
/// `from_date`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Filter {
    /// [`Filters::query`].
    Query,
    /// [`Filters::from`].
    From,
    /// [`Filters::to`].
    To,
    /// [`Filters::events`].
    Events,
    /// [`Filters::categories`].
    Categories,
    /// [`Filters::users`].
    Users,
    /// [`Filters::outcome`].
    Outcome,
    /// [`Filters::ip`].
    Ip,
    /// [`Filters::tenant`].
    Tenant,
}

/// A filter that could not be read: which one, why, and for the query the column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// The filter.
    pub filter: Filter,
    /// Why.
    pub message: String,
    /// For the query: the error's column (1-based).
    pub column: Option<usize>,
    /// For the query: the error with its caret line.
    pub query_error: Option<QueryError>,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.query_error {
            Some(error) => error.fmt(f),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for FilterError {}

impl FilterError {
    fn new(filter: Filter, message: String) -> Self {
        FilterError {
            filter,
            message,
            column: None,
            query_error: None,
        }
    }

    fn query(filter: Filter, error: QueryError) -> Self {
        FilterError {
            filter,
            message: error.message().to_owned(),
            column: Some(error.column()),
            query_error: Some(error),
        }
    }
}

impl Filters {
    /// The query the filters say.
    pub fn to_query(&self) -> Result<Query, FilterError> {
        let mut query = match &self.query {
            Some(text) if !text.trim().is_empty() => {
                Query::parse(text).map_err(|e| FilterError::query(Filter::Query, e))?
            }
            _ => Query::new(),
        };
        for (filter, values) in [
            (Filter::Events, &self.events),
            (Filter::Categories, &self.categories),
            (Filter::Users, &self.users),
        ] {
            if values.len() > MAX_FILTER_VALUES {
                return Err(FilterError::new(
                    filter,
                    format!(
                        "{} values: a filter lists at most {MAX_FILTER_VALUES} (use the query                          language's `in (...)` for more)",
                        values.len()
                    ),
                ));
            }
        }
        if let Some(from) = &self.from {
            query = query.and(Query::new().since(time(Filter::From, from)?));
        }
        if let Some(to) = &self.to {
            query = query.and(Query::new().until(time(Filter::To, to)?));
        }
        query = query.any_event(self.events.iter().map(String::as_str));
        query = query.and(any(&self.categories, |q, c| q.category(c)));
        query = query.and(any(&self.users, |q, u| q.user(u)));
        if let Some(outcome) = &self.outcome {
            if !["success", "failure", "unknown"].contains(&outcome.as_str()) {
                return Err(FilterError::new(
                    Filter::Outcome,
                    format!("`{outcome}` is not an outcome (success, failure, unknown)"),
                ));
            }
            query = query.outcome(outcome);
        }
        if let Some(ip) = &self.ip {
            query = if let Ok(addr) = ip.parse::<IpAddr>() {
                query.ip(addr)
            } else if let Ok(net) = ip.parse::<IpNet>() {
                query.network(net)
            } else {
                return Err(FilterError::new(
                    Filter::Ip,
                    format!("`{ip}` is not an IP address or network"),
                ));
            };
        }
        if let Some(tenant) = &self.tenant {
            query = query.tenant(tenant);
        }
        Ok(query)
    }
}

fn time(filter: Filter, text: &str) -> Result<TimeSpec, FilterError> {
    TimeSpec::parse(text).ok_or_else(|| {
        FilterError::new(
            filter,
            format!(
                "`{text}` is not a time (2026-11-22, \"2026-11-22 10:15\", RFC 3339, -24h, today)"
            ),
        )
    })
}

/// Records that pass `one` for any of the values; every record when there is none.
fn any(values: &[String], one: impl Fn(Query, &str) -> Query) -> Query {
    values
        .iter()
        .map(|value| one(Query::new(), value))
        .reduce(Query::or)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bad_filter_is_named() {
        let cases = [
            (
                Filters {
                    query: Some("evnt = x".into()),
                    ..Filters::default()
                },
                Filter::Query,
            ),
            (
                Filters {
                    from: Some("yesterday-ish".into()),
                    ..Filters::default()
                },
                Filter::From,
            ),
            (
                Filters {
                    to: Some("2026-13-40".into()),
                    ..Filters::default()
                },
                Filter::To,
            ),
            (
                Filters {
                    outcome: Some("maybe".into()),
                    ..Filters::default()
                },
                Filter::Outcome,
            ),
            (
                Filters {
                    ip: Some("10.0.0.300".into()),
                    ..Filters::default()
                },
                Filter::Ip,
            ),
        ];
        for (filters, filter) in cases {
            let error = filters.to_query().unwrap_err();
            assert_eq!(error.filter, filter, "{filters:?}");
        }
        let error = Filters {
            query: Some("event = x and evnt = y".into()),
            ..Filters::default()
        }
        .to_query()
        .unwrap_err();
        assert_eq!(error.column, Some(15));
    }

    #[test]
    fn no_filter_matches_everything() {
        assert_eq!(Filters::default().to_query().unwrap(), Query::new());
        let blank = Filters {
            query: Some("  ".into()),
            ..Filters::default()
        };
        assert_eq!(blank.to_query().unwrap(), Query::new());
    }
}
