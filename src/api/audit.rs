//! Reading the log is itself recorded: each read as `audit.log_viewed` or
//! `audit.log_exported` (pinned: no filter leaves them out), each refusal as
//! `authorization.denied`. The records carry the reader from the request's context.

use crate::query::Query;
use crate::store::Scope;
use crate::{security_event, SecurityEvent};

/// What was read: a list, one record, counts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Read {
    List,
    Record,
    Stats,
}

impl Read {
    fn as_str(self) -> &'static str {
        match self {
            Read::List => "list",
            Read::Record => "record",
            Read::Stats => "stats",
        }
    }
}

pub(crate) fn viewed(read: Read, query: &Query, scope: &Scope, records: u64) {
    security_event!(
        SecurityEvent::AuditLogViewed,
        target.kind = "security_log",
        read = read.as_str(),
        query = %query,
        scope = %scope_text(scope),
        records = records,
    );
}

pub(crate) fn exported(query: &Query, scope: &Scope, format: &str, records: u64, complete: bool) {
    security_event!(
        SecurityEvent::AuditLogExported,
        target.kind = "security_log",
        query = %query,
        scope = %scope_text(scope),
        format = format,
        records = records,
        complete = complete,
    );
}

pub(crate) fn denied(path: &str) {
    security_event!(
        SecurityEvent::AuthorizationDenied,
        target.kind = "security_log",
        target.name = path,
        reason = "not allowed to read the security log",
    );
}

fn scope_text(scope: &Scope) -> String {
    match scope {
        Scope::Tenant(tenant) => format!("tenant {tenant}"),
        _ => "all tenants".to_owned(),
    }
}
