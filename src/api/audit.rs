//! Reading the log is itself recorded: each read as `audit.log_viewed` or
//! `audit.log_exported` (pinned: no filter leaves them out), each refusal as
//! `authorization.denied`. The records carry the reader from the request's context.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

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

/// Records a read, once per user action: the charts of a console view (`view`) whose list
/// read of the same query and scope was recorded add no record of their own. A list read is
/// always recorded: each page shows records.
pub(crate) fn viewed(read: Read, query: &Query, scope: &Scope, records: u64, view: Option<&str>) {
    // Remembered by digest: a query may be long, and the memory stays 4096 x 32 bytes.
    let key = view.map(|view| {
        let digest = Sha256::digest(format!("{view}\n{}\n{query}", scope_text(scope)));
        <[u8; 32]>::from(digest)
    });
    match (read, &key) {
        (Read::Stats, Some(key)) if VIEWS.recorded(key) => return,
        (Read::List, Some(key)) => VIEWS.remember(key),
        _ => {}
    }
    match view {
        Some(view) => security_event!(
            SecurityEvent::AuditLogViewed,
            target.kind = "security_log",
            read = read.as_str(),
            query = %query,
            scope = %scope_text(scope),
            records = records,
            view = view,
        ),
        None => security_event!(
            SecurityEvent::AuditLogViewed,
            target.kind = "security_log",
            read = read.as_str(),
            query = %query,
            scope = %scope_text(scope),
            records = records,
        ),
    }
}

/// How long a recorded list read covers the charts of its view.
const VIEW_MEMORY: Duration = Duration::from_secs(600);
/// Views remembered at most (the oldest go first).
const MAX_VIEWS: usize = 4096;

static VIEWS: Views = Views {
    recent: Mutex::new(VecDeque::new()),
};

/// The views whose list read was recorded lately: view id, scope and query.
struct Views {
    recent: Mutex<VecDeque<([u8; 32], Instant)>>,
}

impl Views {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<([u8; 32], Instant)>> {
        self.recent.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn remember(&self, key: &[u8; 32]) {
        let mut recent = self.lock();
        let now = Instant::now();
        while recent.len() >= MAX_VIEWS
            || recent
                .front()
                .is_some_and(|(_, at)| now.duration_since(*at) > VIEW_MEMORY)
        {
            recent.pop_front();
        }
        recent.push_back((*key, now));
    }

    fn recorded(&self, key: &[u8; 32]) -> bool {
        let now = Instant::now();
        self.lock()
            .iter()
            .any(|(known, at)| known == key && now.duration_since(*at) <= VIEW_MEMORY)
    }
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
