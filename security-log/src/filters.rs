//! The filter flags every subcommand shares, as Lago names its filters, turned into one query.

use clap::Args;
use tracing_security_events::query::{self, Filter, Query, Vocabulary};

/// Which records: the flags combine with `and`; a list (or a flag given twice) means any of
/// its values.
#[derive(Args, Debug)]
pub(crate) struct Filters {
    /// A query in the language (`event = authentication.failed and ip in (10.0.0.0/8)`).
    #[arg(short = 'q', long = "query", value_name = "EXPR")]
    query: Option<String>,
    /// From this time on (2026-11-22, "2026-11-22 10:15", RFC 3339, -24h, -7d, today).
    #[arg(
        long,
        visible_alias = "since",
        value_name = "T",
        allow_hyphen_values = true
    )]
    from: Option<String>,
    /// Before this time (same forms as --from).
    #[arg(
        long,
        visible_alias = "until",
        value_name = "T",
        allow_hyphen_values = true
    )]
    to: Option<String>,
    /// Event names or globs, comma-separated or repeated (`authentication.*,user.invited`).
    #[arg(long, value_name = "NAME|GLOB", value_delimiter = ',')]
    event: Vec<String>,
    /// Categories, comma-separated or repeated (`authentication,api_key`).
    #[arg(long, value_name = "C", value_delimiter = ',')]
    category: Vec<String>,
    /// Actors' ids, names or emails, comma-separated or repeated.
    #[arg(long, value_name = "U", value_delimiter = ',')]
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
    /// The query the flags say; an error names the flag. Names no catalog holds are warned
    /// about on stderr, with the name probably meant.
    pub(crate) fn query(&self) -> Result<Query, String> {
        let query = self.parse()?;
        for warning in Vocabulary::builtin().check(&query) {
            eprintln!("security-log: warning: {warning}");
        }
        Ok(query)
    }

    fn parse(&self) -> Result<Query, String> {
        let filters = query::Filters {
            query: self.query.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            events: self.event.clone(),
            categories: self.category.clone(),
            users: self.user.clone(),
            outcome: self.outcome.clone(),
            ip: self.ip.clone(),
            tenant: self.tenant.clone(),
        };
        filters.to_query().map_err(|e| {
            let flag = match e.filter {
                Filter::Query => "-q",
                Filter::From => "--from",
                Filter::To => "--to",
                Filter::Events => "--event",
                Filter::Categories => "--category",
                Filter::Users => "--user",
                Filter::Outcome => "--outcome",
                Filter::Ip => "--ip",
                _ => "--tenant",
            };
            format!("{flag}: {e}")
        })
    }
}
