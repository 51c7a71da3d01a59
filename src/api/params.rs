//! The request parameters, named as Lago names them, read from the query string.

use std::collections::HashSet;
use std::time::Duration;

use super::error::ApiError;
use crate::query::{Field, Filter, Filters, Query};
use crate::store::{ExportFormat, Order, DEFAULT_PAGE_SIZE};

/// The largest page a list request may ask for (`per_page`).
pub const MAX_PER_PAGE: usize = 1000;

/// How far a page number may reach (`page * per_page`): a page number is read by counting
/// past the pages before it, so it is a convenience for the first pages of an answer; the
/// cursor walks a log of any length.
pub const MAX_PAGE_WINDOW: usize = 10_000;

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
    /// Lago's page number, from 1.
    pub(crate) page: Option<usize>,
    pub(crate) order: Order,
    pub(crate) count: bool,
    pub(crate) format: ExportFormat,
    pub(crate) by: Vec<(String, Field)>,
    pub(crate) every: Option<Duration>,
    /// The console's id of one user action: its list and its charts carry the same one, and
    /// the charts of a view whose list was recorded add no record of their own.
    pub(crate) view: Option<String>,
    /// Leave out the log's own reads (`audit.log_viewed`, `audit.log_exported`).
    pub(crate) hide_log_reads: bool,
}

/// The longest view id.
const MAX_VIEW_LEN: usize = 64;

impl Params {
    pub(crate) fn parse(query: Option<&str>, endpoint: Endpoint) -> Result<Params, ApiError> {
        let mut params = Params {
            filters: Filters::default(),
            per_page: DEFAULT_PAGE_SIZE,
            cursor: None,
            page: None,
            order: Order::NewestFirst,
            count: false,
            format: ExportFormat::Csv,
            by: Vec::new(),
            every: None,
            view: None,
            hide_log_reads: false,
        };
        let mut seen = HashSet::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = decode_pair(pair)?;
            // Only a list may be repeated (a name ending in `[]`, or the forms without the
            // brackets that clients send for lists): a second value of any other parameter
            // would silently win or lose.
            let is_list = name.ends_with("[]")
                || matches!(
                    name.as_str(),
                    "user_ids" | "log_types" | "log_events" | "by"
                );
            if !is_list && !seen.insert(name.clone()) {
                return Err(ApiError::parameter(
                    &name,
                    format!("`{name}` is given twice"),
                ));
            }
            params.take(&name, value, endpoint)?;
        }
        params.check_page()?;
        Ok(params)
    }

    /// Reads one parameter into the request.
    fn take(&mut self, name: &str, value: String, endpoint: Endpoint) -> Result<(), ApiError> {
        let filters = &mut self.filters;
        match (name, endpoint) {
            ("q", _) => filters.query = Some(value),
            ("from_date", _) => filters.from = Some(value),
            ("to_date", _) => filters.to = Some(value),
            ("user_ids[]" | "user_ids", _) => filters.users.push(value),
            ("log_types[]" | "log_types", _) => filters.categories.push(value),
            ("log_events[]" | "log_events", _) => filters.events.push(value),
            ("outcome", _) => filters.outcome = Some(value),
            ("ip", _) => filters.ip = Some(value),
            ("per_page", Endpoint::List) => {
                self.per_page = value
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
            ("cursor", Endpoint::List) => self.cursor = Some(value),
            ("page", Endpoint::List) => {
                let page = value.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    ApiError::parameter("page", format!("`{value}` is not a page number (1, 2...)"))
                })?;
                self.page = Some(page);
            }
            ("order", Endpoint::List | Endpoint::Export) => {
                self.order = match value.as_str() {
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
                self.count = match value.as_str() {
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
                self.format = value
                    .parse()
                    .map_err(|message: String| ApiError::parameter("format", message))?;
            }
            ("by" | "by[]", Endpoint::Stats) => {
                let field =
                    Field::parse(&value).map_err(|e| ApiError::parameter("by", e.message()))?;
                self.by.push((value, field));
            }
            ("view", Endpoint::List | Endpoint::Stats) => {
                let plain = |c: char| c.is_ascii_alphanumeric() || c == '-';
                if value.is_empty() || value.len() > MAX_VIEW_LEN || !value.chars().all(plain) {
                    return Err(ApiError::parameter(
                        "view",
                        format!("a view id is 1 to {MAX_VIEW_LEN} letters, digits or `-`"),
                    ));
                }
                self.view = Some(value);
            }
            ("hide_log_reads", _) => {
                self.hide_log_reads = match value.as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => {
                        return Err(ApiError::parameter(
                            "hide_log_reads",
                            format!("`{value}` is not true or false"),
                        ))
                    }
                }
            }
            ("every", Endpoint::Stats) => {
                let every = crate::store::bucket_length(&value)
                    .map_err(|message| ApiError::parameter("every", message))?;
                self.every = Some(every);
            }
            (other, _) => {
                return Err(ApiError::parameter(
                    other,
                    format!("`{other}` is not a parameter of this endpoint"),
                ))
            }
        }
        Ok(())
    }

    /// A page number goes with no cursor, and within the window it may reach.
    fn check_page(&self) -> Result<(), ApiError> {
        if let Some(page) = self.page {
            if self.cursor.is_some() {
                return Err(ApiError::parameter(
                    "page",
                    "give a page number or a cursor, not both",
                ));
            }
            if page.saturating_mul(self.per_page) > MAX_PAGE_WINDOW {
                return Err(ApiError::parameter(
                    "page",
                    format!(
                        "page {page} of {} records reaches past record {MAX_PAGE_WINDOW}: \
                         walk further with the cursor (meta.next_cursor)",
                        self.per_page
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The query the filters say; an error names the parameter.
    pub(crate) fn query(&self) -> Result<Query, ApiError> {
        let query = self.filters_query()?;
        Ok(if self.hide_log_reads {
            query.and(
                Query::parse(r#"not event in ("audit.log_viewed", "audit.log_exported")"#)
                    .expect("a query that parses"),
            )
        } else {
            query
        })
    }

    fn filters_query(&self) -> Result<Query, ApiError> {
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

/// A `name=value` pair of the query string, decoded (`+` is a space, `%XX` a byte); a name or
/// value that is not UTF-8 is an error, never a value with U+FFFD in it.
fn decode_pair(pair: &str) -> Result<(String, String), ApiError> {
    let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
    let decode = |text: &str| {
        let spaced = text.replace('+', " ");
        String::from_utf8(percent_encoding::percent_decode_str(&spaced).collect::<Vec<u8>>())
    };
    let name = decode(name).map_err(|e| {
        let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
        ApiError::parameter(&lossy, "the parameter's name is not UTF-8")
    })?;
    let value = decode(value)
        .map_err(|_| ApiError::parameter(&name, format!("`{name}`'s value is not UTF-8")))?;
    Ok((name, value))
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
            ("per_page=5&per_page=6", Endpoint::List, "per_page"),
            ("order=asc&order=asc", Endpoint::List, "order"),
            ("count=true&count=false", Endpoint::List, "count"),
            ("format=csv&format=jsonl", Endpoint::Export, "format"),
            ("every=1h&every=1d", Endpoint::Stats, "every"),
            ("view=a%20b", Endpoint::List, "view"),
            ("view=", Endpoint::Stats, "view"),
            ("view=x", Endpoint::Export, "view"),
            ("hide_log_reads=maybe", Endpoint::List, "hide_log_reads"),
            (
                "from_date=2026-01-01&from_date=2026-01-02",
                Endpoint::List,
                "from_date",
            ),
            ("user_ids[]=%FF", Endpoint::List, "user_ids[]"),
            ("log_events[]=user.%C0%80", Endpoint::List, "log_events[]"),
            ("q=%E2%82", Endpoint::List, "q"),
            ("from_date=0000-01-01x", Endpoint::List, "from_date"),
        ] {
            assert_eq!(error(query, endpoint).0, parameter, "{query}");
        }
    }
}
