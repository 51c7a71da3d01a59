//! The filter flags every subcommand shares, as Lago names its filters, turned into one query.

use std::net::IpAddr;

use clap::Args;
use ipnet::IpNet;
use tracing_security_events::query::{Query, TimeSpec};

/// Which records: the flags combine with `and`; a flag given twice means either value.
#[derive(Args, Debug)]
pub(crate) struct Filters {
    /// A query in the language (`event = authentication.failed and ip in (10.0.0.0/8)`).
    #[arg(short = 'q', long = "query", value_name = "EXPR")]
    query: Option<String>,
    /// From this time on (2026-11-22, "2026-11-22 10:15", RFC 3339, -24h, today).
    #[arg(long, value_name = "T")]
    from: Option<String>,
    /// Before this time.
    #[arg(long, value_name = "T")]
    to: Option<String>,
    /// An event name or glob (`authentication.*`).
    #[arg(long, value_name = "NAME|GLOB")]
    event: Vec<String>,
    /// A category (`authentication`, `api_key`).
    #[arg(long, value_name = "C")]
    category: Vec<String>,
    /// An actor's id, name or email.
    #[arg(long, value_name = "U")]
    user: Vec<String>,
    /// success, failure or unknown.
    #[arg(long, value_name = "O")]
    outcome: Option<String>,
    /// A client address or network.
    #[arg(long, value_name = "ADDR|CIDR")]
    ip: Option<String>,
    /// A tenant id.
    #[arg(long, value_name = "T")]
    tenant: Option<String>,
}

impl Filters {
    /// The query the flags say; an error names the flag.
    pub(crate) fn query(&self) -> Result<Query, String> {
        let mut query = match &self.query {
            Some(text) => Query::parse(text).map_err(|e| format!("-q: {e}"))?,
            None => Query::new(),
        };
        if let Some(from) = &self.from {
            query = query.and(Query::new().since(time("--from", from)?));
        }
        if let Some(to) = &self.to {
            query = query.and(Query::new().until(time("--to", to)?));
        }
        query = query.any_event(self.event.iter().map(String::as_str));
        query = query.and(any(&self.category, |q, c| q.category(c)));
        query = query.and(any(&self.user, |q, u| q.user(u)));
        if let Some(outcome) = &self.outcome {
            query = query.outcome(outcome);
        }
        if let Some(ip) = &self.ip {
            query = if let Ok(addr) = ip.parse::<IpAddr>() {
                query.ip(addr)
            } else if let Ok(net) = ip.parse::<IpNet>() {
                query.network(net)
            } else {
                return Err(format!("--ip: `{ip}` is not an IP address or network"));
            };
        }
        if let Some(tenant) = &self.tenant {
            query = query.tenant(tenant);
        }
        Ok(query)
    }
}

fn time(flag: &str, text: &str) -> Result<TimeSpec, String> {
    TimeSpec::parse(text).ok_or_else(|| {
        format!("{flag}: `{text}` is not a time (2026-11-22, \"2026-11-22 10:15\", RFC 3339, -24h, today)")
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
