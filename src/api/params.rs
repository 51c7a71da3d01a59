//! The request parameters, named as Lago names them, read from the query string.

use std::time::Duration;

use super::error::ApiError;
use crate::query::{Field, Filter, Filters, Query};
use crate::store::{ExportFormat, Order, DEFAULT_PAGE_SIZE};

/// The largest page a list request may ask for (`per_page`).
pub const MAX_PER_PAGE: usize = 1000;

/// Which endpoint the parameters are for: each takes the filters, and its own few.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    List,
    Export,
    Stats,
}

/// What a request asked for. Parameters the endpoint does not take are refused, so that a
/// misspelled filter is an error instead of a page of everything.
#[derive(Debug)]
pub(crate) struct Params {
    pub(crate) filters: Filters,
    pub(crate) per_page: usize,
    pub(crate) cursor: Option<String>,
    pub(crate) order: Order,
    pub(crate) count: bool,
    pub(crate) format: ExportFormat,
    pub(crate) by: Vec<(String, Field)>,
    pub(crate) every: Option<Duration>,
}

impl Params {
    pub(crate) fn parse(query: Option<&str>, endpoint: Endpoint) -> Result<Params, ApiError> {
        let mut params = Params {
            filters: Filters::default(),
            per_page: DEFAULT_PAGE_SIZE,
            cursor: None,
            order: Order::NewestFirst,
            count: false,
            format: ExportFormat::Csv,
            by: Vec::new(),
            every: None,
        };
        let pairs = form_urlencoded::parse(query.unwrap_or("").as_bytes());
        for (name, value) in pairs {
            let value = value.into_owned();
            let filters = &mut params.filters;
            match (name.as_ref(), endpoint) {
                ("q", _) => once(&mut filters.query, "q", value)?,
                ("from_date", _) => once(&mut filters.from, "from_date", value)?,
                ("to_date", _) => once(&mut filters.to, "to_date", value)?,
                ("user_ids[]" | "user_ids", _) => filters.users.push(value),
                ("log_types[]" | "log_types", _) => filters.categories.push(value),
                ("log_events[]" | "log_events", _) => filters.events.push(value),
                ("outcome", _) => once(&mut filters.outcome, "outcome", value)?,
                ("ip", _) => once(&mut filters.ip, "ip", value)?,
                ("per_page", Endpoint::List) => {
                    params.per_page = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_PER_PAGE).contains(n))
                        .ok_or_else(|| {
                            ApiError::parameter(
                                "per_page",
                                format!("`{value}` is not a number from 1 to {MAX_PER_PAGE}"),
                            )
                        })?;
                }
                ("cursor", Endpoint::List) => once(&mut params.cursor, "cursor", value)?,
                ("order", Endpoint::List | Endpoint::Export) => {
                    params.order = match value.as_str() {
                        "desc" => Order::NewestFirst,
                        "asc" => Order::OldestFirst,
                        _ => {
                            return Err(ApiError::parameter(
                                "order",
                                format!("`{value}` is not an order (desc, asc)"),
                            ))
                        }
                    }
                }
                ("count", Endpoint::List) => {
                    params.count = match value.as_str() {
                        "true" | "1" => true,
                        "false" | "0" => false,
                        _ => {
                            return Err(ApiError::parameter(
                                "count",
                                format!("`{value}` is not true or false"),
                            ))
                        }
                    }
                }
                ("format", Endpoint::Export) => {
                    params.format = value
                        .parse()
                        .map_err(|message: String| ApiError::parameter("format", message))?;
                }
                ("by" | "by[]", Endpoint::Stats) => {
                    let field =
                        Field::parse(&value).map_err(|e| ApiError::parameter("by", e.message()))?;
                    params.by.push((value, field));
                }
                ("every", Endpoint::Stats) => {
                    let every = crate::store::bucket_length(&value)
                        .map_err(|message| ApiError::parameter("every", message))?;
                    params.every = Some(every);
                }
                (other, _) => {
                    return Err(ApiError::parameter(
                        other,
                        format!("`{other}` is not a parameter of this endpoint"),
                    ))
                }
            }
        }
        Ok(params)
    }

    /// The query the filters say; an error names the parameter.
    pub(crate) fn query(&self) -> Result<Query, ApiError> {
        self.filters.to_query().map_err(|e| {
            let parameter = match e.filter {
                Filter::Query => "q",
                Filter::From => "from_date",
                Filter::To => "to_date",
                Filter::Events => "log_events[]",
                Filter::Categories => "log_types[]",
                Filter::Users => "user_ids[]",
                Filter::Outcome => "outcome",
                Filter::Ip => "ip",
                _ => "tenant",
            };
            ApiError::InvalidParameter {
                parameter: parameter.to_owned(),
                message: e.message,
                column: e.column,
            }
        })
    }
}

/// A parameter that may be given once.
fn once(slot: &mut Option<String>, name: &str, value: String) -> Result<(), ApiError> {
    if slot.replace(value).is_some() {
        return Err(ApiError::parameter(
            name,
            format!("`{name}` is given twice"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(query: &str, endpoint: Endpoint) -> (String, String) {
        let result = Params::parse(Some(query), endpoint).and_then(|p| p.query().map(|_| p));
        match result {
            Err(ApiError::InvalidParameter {
                parameter, message, ..
            }) => (parameter, message),
            other => panic!("{query}: {other:?}"),
        }
    }

    #[test]
    fn lago_parameters_make_one_query() {
        let params = Params::parse(
            Some("from_date=2026-11-01&to_date=2026-11-30&user_ids[]=42&user_ids%5B%5D=alice&log_types[]=user&log_events[]=user.*&outcome=success&q=severity%20%3E%3D%20warn&per_page=20&order=asc&count=true"),
            Endpoint::List,
        )
        .unwrap();
        assert_eq!(params.per_page, 20);
        assert_eq!(params.order, Order::OldestFirst);
        assert!(params.count);
        assert_eq!(params.filters.users, ["42", "alice"]);
        let text = params.query().unwrap().to_string();
        for part in [
            "event.severity >= warn",
            "timestamp >= 2026-11-01",
            "user = \"alice\"",
            "event.category = \"user\"",
            "event.outcome = \"success\"",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
    }

    #[test]
    fn each_bad_parameter_is_named() {
        for (query, endpoint, parameter) in [
            ("per_page=0", Endpoint::List, "per_page"),
            ("per_page=1001", Endpoint::List, "per_page"),
            ("per_page=x", Endpoint::List, "per_page"),
            ("order=up", Endpoint::List, "order"),
            ("count=yes", Endpoint::List, "count"),
            ("from_date=someday", Endpoint::List, "from_date"),
            ("to_date=2026-02-30", Endpoint::List, "to_date"),
            ("q=evnt%3Dx", Endpoint::List, "q"),
            ("q=a&q=b", Endpoint::List, "q"),
            ("outcome=maybe", Endpoint::List, "outcome"),
            ("ip=300.1.1.1", Endpoint::List, "ip"),
            ("user_id=3", Endpoint::List, "user_id"),
            ("format=xml", Endpoint::Export, "format"),
            ("per_page=5", Endpoint::Export, "per_page"),
            ("by=nope.", Endpoint::Stats, "by"),
            ("every=1y", Endpoint::Stats, "every"),
            ("cursor=x", Endpoint::Stats, "cursor"),
        ] {
            assert_eq!(error(query, endpoint).0, parameter, "{query}");
        }
    }
}
