//! The router: the endpoints, the state they share, and the authorization every one passes.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use http::request::Parts;
use tracing::Span;

use super::authorize::{Authorize, DenyAll, ReadRequest, ReadScope};
use super::error::ApiError;
use super::signed_cursor::CursorSigner;
use super::{audit, console, export, records, stats};
use crate::event::Catalog;
use crate::http::RequestSecurity;
use crate::query::Vocabulary;
use crate::store::{Canceller, Deadline, LogStore, Scope, StoreError};

/// How long a list, record or stats request may read, unless told otherwise.
pub const DEFAULT_READ_DEADLINE: Duration = Duration::from_secs(10);
/// How long an export may run, unless told otherwise.
pub const DEFAULT_EXPORT_DEADLINE: Duration = Duration::from_secs(600);

/// The read API and console over a store, with who may read it: make one, then mount its
/// [`router`](ReadApi::router) where the service wants it.
///
/// Nobody may read until [`with_authorizer`](ReadApi::with_authorizer) says who: the default
/// is [`DenyAll`].
#[must_use]
pub struct ReadApi {
    shared: Shared,
}

impl fmt::Debug for ReadApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadApi").finish_non_exhaustive()
    }
}

/// What every handler reads.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn LogStore>,
    authorizer: Arc<dyn Authorize>,
    pub(crate) cursors: CursorSigner,
    /// The names a query is checked against, for its warnings.
    pub(crate) vocabulary: Arc<Vocabulary>,
    read_deadline: Duration,
    export_deadline: Duration,
}

impl ReadApi {
    /// The API over `store`, readable by nobody yet, its cursors signed with a key made for
    /// this process.
    pub fn new(store: impl LogStore + 'static) -> Self {
        ReadApi {
            shared: Shared {
                store: Arc::new(store),
                authorizer: Arc::new(DenyAll),
                cursors: CursorSigner::random(),
                vocabulary: Arc::new(Vocabulary::builtin()),
                read_deadline: DEFAULT_READ_DEADLINE,
                export_deadline: DEFAULT_EXPORT_DEADLINE,
            },
        }
    }

    /// Who may read what.
    pub fn with_authorizer(mut self, authorizer: impl Authorize) -> Self {
        self.shared.authorizer = Arc::new(authorizer);
        self
    }

    /// Sign cursors with `key` instead of a key made for this process, so that a cursor handed
    /// out by one instance of the service works on the others (and after a restart). Keep it
    /// secret: it is what makes an edited cursor detectable.
    pub fn with_cursor_key(mut self, key: &[u8]) -> Self {
        self.shared.cursors = CursorSigner::new(key);
        self
    }

    /// Know the event names of the service's own catalog too: a query naming an event no
    /// known catalog holds is answered with a `warnings` member (did you mean...?).
    pub fn with_catalog<C: Catalog>(mut self) -> Self {
        self.shared.vocabulary = Arc::new((*self.shared.vocabulary).clone().with_catalog::<C>());
        self
    }

    /// Stop a list, record or stats request that has read for `deadline` (10 s by default):
    /// its answer is a 503 `deadline_exceeded`, and the store stops working on it. Any read
    /// also stops when its client disconnects.
    pub fn with_read_deadline(mut self, deadline: Duration) -> Self {
        self.shared.read_deadline = deadline;
        self
    }

    /// Stop an export that has run for `deadline` (10 minutes by default): its body ends with
    /// an error, never as a short file that looks whole.
    pub fn with_export_deadline(mut self, deadline: Duration) -> Self {
        self.shared.export_deadline = deadline;
        self
    }

    /// The routes: `/security_logs`, `/security_logs/export`, `/security_logs/stats`,
    /// `/security_logs/{id}`, and the console under `/console`.
    pub fn router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        Router::new()
            .route("/security_logs", get(records::list))
            .route("/security_logs/export", get(export::export))
            .route("/security_logs/stats", get(stats::stats))
            .route("/security_logs/{id}", get(records::one))
            .route("/console", get(console::page))
            .route("/console/{asset}", get(console::asset))
            .with_state(self.shared)
    }
}

impl Shared {
    /// What the reader of this request may see, or the refusal (recorded).
    pub(crate) fn authorize(&self, parts: &Parts) -> Result<Scope, ApiError> {
        match self.authorizer.authorize(&ReadRequest::new(parts)) {
            ReadScope::AllTenants => Ok(Scope::All),
            ReadScope::Tenant(tenant) => Ok(Scope::Tenant(tenant)),
            _ => {
                let request = ReadRequest::new(parts);
                audit::denied(parts.uri.path());
                if request.actor().is_some() {
                    Err(ApiError::Forbidden)
                } else {
                    Err(ApiError::Unauthorized)
                }
            }
        }
    }

    /// The deadline of an export, and what cancels it.
    pub(crate) fn export_deadline(&self) -> Deadline {
        Deadline::after(self.export_deadline)
    }

    /// Runs `read` on the blocking pool (stores block on files and databases), inside the
    /// request's span so that what it records carries the reader, within the read deadline;
    /// if the client goes away meanwhile (this future is dropped), the read is cancelled.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        parts: &Parts,
        read: impl FnOnce(&dyn LogStore, &Deadline) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = Arc::clone(&self.store);
        let deadline = Deadline::after(self.read_deadline);
        let _cancel_on_drop = CancelOnDrop(deadline.canceller());
        let answer = on_blocking_pool(parts, move || read(&*store, &deadline)).await;
        match answer {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(StoreError::BadCursor)) => Err(ApiError::parameter(
                "cursor",
                "the cursor does not point into this log any more",
            )),
            Ok(Err(StoreError::DeadlineExceeded(limit))) => Err(ApiError::DeadlineExceeded(limit)),
            Ok(Err(error)) => {
                // To the service's own diagnostics (not a security event), never to the reader.
                tracing::error!(target: "tracing_security_events::api", %error, "the security log could not be read");
                Err(ApiError::Internal)
            }
            Err(_) => Err(ApiError::Internal),
        }
    }
}

/// Cancels a read when dropped: a handler's future is dropped when its client disconnects.
pub(crate) struct CancelOnDrop(pub(crate) Canceller);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Runs `work` on the blocking pool with the request's subscriber and inside its span (from the
/// security context when there is one), so that what it records carries the reader.
pub(crate) fn on_blocking_pool<T: Send + 'static>(
    parts: &Parts,
    work: impl FnOnce() -> T + Send + 'static,
) -> tokio::task::JoinHandle<T> {
    let span = parts
        .extensions
        .get::<RequestSecurity>()
        .map_or_else(Span::current, |security| security.span().clone());
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    tokio::task::spawn_blocking(move || {
        tracing::dispatcher::with_default(&dispatch, || span.in_scope(work))
    })
}
