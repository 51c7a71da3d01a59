//! The read API and web console a service mounts (cargo feature `api`, on axum): the security
//! log for its admins, scoped to what each may see, every read recorded.
//!
//! ```no_run
//! use std::net::SocketAddr;
//! use axum::Router;
//! use tracing_security_events::api::{require_role, ReadApi};
//! use tracing_security_events::http::SecurityContextLayer;
//! use tracing_security_events::store::FileStore;
//!
//! # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
//! let store = FileStore::open("/var/log/billing/security.jsonl")?;
//! // Admins read their own tenant's records (the tenant their sign-in recorded).
//! let security_log = ReadApi::new(store).with_authorizer(require_role("admin")).router();
//! let app: Router = Router::new()
//!     .nest("/admin", security_log)
//!     // .layer(your_auth_middleware) that calls RequestSecurity::record_actor / record_tenant
//!     .layer(SecurityContextLayer::new());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
//! # Ok(()) }
//! ```
//!
//! # Endpoints
//!
//! | request | answer |
//! |---|---|
//! | `GET /security_logs` | `{"security_logs":[record...],"meta":{"per_page":100,"next_cursor":"..."\|null,"total_count":N}}`, newest first; with `page`, `meta` adds `current_page`, `next_page`, `prev_page`, `total_pages` as Lago's does |
//! | `GET /security_logs/{id}` | `{"security_log":record}`, or 404 (also for another tenant's id) |
//! | `GET /security_logs/export?format=csv\|jsonl\|json` | every match, streamed, `Content-Disposition: attachment` |
//! | `GET /security_logs/stats?by=event&every=1h` | `{"buckets":[{"start":"...","key":{"event":"..."},"count":N}]}` |
//! | `GET /console` | the web console ([below](#the-console)) |
//!
//! Records are the schema-v1 objects exactly as written. The filters, named as Lago names them,
//! are taken by the list, the export and the stats, and combine with `and`:
//!
//! | parameter | meaning |
//! |---|---|
//! | `from_date`, `to_date` | from this time on, before this one (`2026-11-22`, RFC 3339, `-24h`, `today`) |
//! | `user_ids[]` | an actor's id, name or email (repeat for several) |
//! | `log_types[]` | a category (`authentication`, `user`, ...) |
//! | `log_events[]` | an event name or glob (`authentication.*`) |
//! | `outcome` | `success`, `failure` or `unknown` |
//! | `ip` | a client address or network (`10.0.0.0/8`) |
//! | `q` | a [query](crate::query) (`event = user.role_changed and changes.roles.new ~ admin`) |
//! | `per_page` | 1 to 1000, default 100 (list) |
//! | `cursor` | the `next_cursor` of the page before (list): the way to walk a growing log |
//! | `page` | Lago's page number from 1 (list), within the first [`MAX_PAGE_WINDOW`] records; not with `cursor` |
//! | `order` | `desc` (default) or `asc` (list, export) |
//! | `count` | `true` adds `total_count` (list) |
//! | `format` | `csv` (default), `jsonl` or `json` (export) |
//! | `hide_log_reads` | `true` leaves out the log's own reads (`audit.log_viewed`, `audit.log_exported`) (list, export, stats) |
//! | `view` | the console's id of one user action, 1 to 64 letters, digits or `-` (list, stats): see below |
//! | `by`, `every` | group by `event`, `category`, `user`, `ip`, `country`, `outcome`, `tenant` or a path (repeat for several); per `15m`, `1h`, `1d`, `1w` bucket, weeks from Monday (stats) |
//!
//! A parameter that cannot be read, or that the endpoint does not take, is a 400:
//! `{"error":{"code":"invalid_parameter","parameter":"q","message":"unknown field `evnt`","column":1}}`.
//! An event name or category that no known catalog holds (the built-in one and those given to
//! [`ReadApi::with_catalog`]) is no error, but the list and the stats answer it with a
//! `warnings` member: `[{"field":"event.name","value":"user.rolechanged",
//! "suggestion":"user.role_changed","message":"no event in the catalog is named ..."}]`.
//! 401 means nobody authenticated, 403 that the reader may not read the log, 404 no such record
//! for this reader. Answers are `Cache-Control: no-store`.
//!
//! # Who may read
//!
//! Every request passes the [`Authorize`] hook first; it returns a [`ReadScope`]: denied, one
//! tenant, or all tenants. The default, [`DenyAll`], refuses everyone: nothing is readable until
//! the service says who may read. [`require_role`] and [`require_permission`] are the common
//! rules; a closure over the [`ReadRequest`] is any other.
//!
//! The scope is enforced inside the store for every list, record, export and count: a record of
//! another tenant is a 404, a query naming another tenant finds nothing, and cursors are signed
//! and bound to the reader's scope and order, so an edited or borrowed one is a 400. Put
//! [`SecurityContextLayer`](crate::http::SecurityContextLayer) in front, and record the reader
//! after authentication ([`RequestSecurity::record_actor`](crate::http::RequestSecurity::record_actor),
//! [`record_tenant`](crate::http::RequestSecurity::record_tenant)): the rules read them there.
//!
//! # Reads are recorded
//!
//! Every list, record and stats read writes `audit.log_viewed`, every export
//! `audit.log_exported` (when it ends, with `fields.complete`), with the reader's context, the
//! query (`fields.query`), the scope and the number of records (`fields.records`); both are
//! pinned, so no filter leaves them out. A refusal writes `authorization.denied`. OWASP: log and
//! monitor access to the logs.
//!
//! One action is one record: a list read with a `view` id is recorded (with `fields.view`), and
//! the stats reads that carry the same id, query and scope within ten minutes (the console's
//! charts of that list) add no record of their own. A stats read with another query, or none,
//! is recorded; so is every further page of a list.
//!
//! # The console
//!
//! `GET /console` serves a page (HTML, CSS, a script and a world map embedded in the crate; no
//! CDN, no network at run time) over the same endpoints: a filter bar (time presets or dates,
//! users, categories, events, outcome, a query box that shows a parse error at its column, a
//! switch to hide the log's own reads), the records newest first with "load more" and a page
//! count, a detail pane (a link to the record, its `changes` as old and new side by side, its
//! keys and values, the raw JSON), a chart of events over a continuous time axis stacked by
//! category (fixed colours per category), a world map shaded by the clients' countries, and CSV
//! export of the current filter. A click on a bar or a country narrows to it. The URL holds the
//! whole view, so a reload or a shared link shows the same rows and Back the view before; rows
//! take the keyboard's focus (Enter opens, Escape closes); under 1000 px the record opens
//! below the list; dark mode follows the system's. The page is served without authorization (it holds no data); its
//! requests pass the hook like any other, with the browser's cookies. It runs under a strict
//! Content-Security-Policy (no inline script, requests to its own origin only) and puts every
//! value into the page as text, never as HTML.

mod audit;
mod authorize;
mod console;
mod error;
mod export;
mod json;
mod params;
mod records;
mod router;
mod signed_cursor;
mod stats;

pub use authorize::{
    require_permission, require_role, AccessRule, Authorize, DenyAll, Permissions, ReadRequest,
    ReadScope,
};
pub use params::{MAX_PAGE_WINDOW, MAX_PER_PAGE};
pub use router::{ReadApi, DEFAULT_EXPORT_DEADLINE, DEFAULT_READ_DEADLINE};

/// The read API and console over `store`, readable as `authorizer` says: shorthand for
/// `ReadApi::new(store).with_authorizer(authorizer).router()`.
///
/// ```
/// use tracing_security_events::api::{security_log_api, DenyAll};
/// use tracing_security_events::store::FileStore;
///
/// # let dir = tempfile::tempdir()?;
/// # std::fs::write(dir.path().join("security.jsonl"), "")?;
/// let store = FileStore::open(dir.path().join("security.jsonl"))?;
/// let router: axum::Router = security_log_api(store, DenyAll); // nobody may read yet
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn security_log_api<S>(
    store: impl crate::store::LogStore + 'static,
    authorizer: impl Authorize,
) -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    ReadApi::new(store).with_authorizer(authorizer).router()
}
