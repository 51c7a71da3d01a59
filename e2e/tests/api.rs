//! The read API against a real axum server on 127.0.0.1, driven by real HTTP requests, over a
//! real rotated log of several tenants: every parameter, paging, tenant isolation, the default
//! refusal, the records each read and refusal writes, and an export that streams.
#![cfg(feature = "api")]

mod common;
mod server;
#[path = "../../examples/support/synthetic_log.rs"]
mod synthetic_log;

use std::collections::HashSet;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Request;
use axum::middleware::{from_fn, Next};
use axum::response::Response;
use axum::Router;
use common::{by_name, read_records, TempLog};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tracing_security_events::api::{
    require_permission, require_role, Permissions, ReadApi, ReadRequest, ReadScope,
};
use tracing_security_events::http::{RequestSecurity, SecurityContextLayer, TenantFrom};
use tracing_security_events::store::{
    Aggregate, Aggregation, Count, Deadline, ExportSummary, FileStore, LogStore, Page, Scope,
    Search, StoreError, StoredRecord,
};
use tracing_security_events::{security_event, Actor, SecurityEvent, Tenant};

/// The shared log: 12,000 records of six tenants over three days, rotated into several files.
struct Data {
    _dir: tempfile::TempDir,
    path: PathBuf,
    /// Its records in file order (oldest first).
    records: Vec<Value>,
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        synthetic_log::SyntheticLog {
            records: 12_000,
            rotate_mb: 2,
            seed: 11,
            days: 3,
            checkpoint_key: None,
            actors: None,
            index: false,
        }
        .write(dir.path())
        .unwrap();
        let records = all_records(dir.path());
        assert_eq!(records.len(), 12_000);
        Data {
            path: dir.path().join("security.jsonl"),
            _dir: dir,
            records,
        }
    })
}

/// Every record of the log's files: rotated ones in name order, then the active one.
fn all_records(dir: &Path) -> Vec<Value> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "security.jsonl")
        .collect();
    files.sort();
    assert!(files.len() >= 2, "the log should have rotated: {files:?}");
    files.push(dir.join("security.jsonl"));
    files.iter().flat_map(|f| read_records(f)).collect()
}

/// The reader, as an auth middleware would establish it: `x-reader: id;role,role;tenant`, and
/// `x-permissions: a,b`.
async fn authenticate(security: RequestSecurity, mut request: Request, next: Next) -> Response {
    let header = |request: &Request, name| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if let Some(reader) = header(&request, "x-reader") {
        let mut parts = reader.split(';');
        let id = parts.next().unwrap_or_default();
        let roles: Vec<&str> = parts.next().unwrap_or_default().split(',').collect();
        security.record_actor(&Actor::user(id).with_roles(roles));
        if let Some(tenant) = parts.next().filter(|t| !t.is_empty()) {
            security.record_tenant(&Tenant::new(tenant));
        }
    }
    if let Some(permissions) = header(&request, "x-permissions") {
        let permissions = Permissions::new(permissions.split(','));
        request.extensions_mut().insert(permissions);
    }
    next.run(request).await
}

/// A client of the test server.
struct Api {
    addr: SocketAddr,
    http: Client<hyper_util::client::legacy::connect::HttpConnector, Empty<Bytes>>,
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }
}

impl Api {
    fn request(&self, target: &str, reader: Option<&str>) -> http::Request<Empty<Bytes>> {
        let mut request = http::Request::get(format!("http://{}{target}", self.addr));
        if let Some(reader) = reader {
            request = request.header("x-reader", reader);
        }
        request.body(Empty::new()).unwrap()
    }

    async fn get(&self, target: &str, reader: Option<&str>) -> Reply {
        self.send(self.request(target, reader)).await
    }

    async fn send(&self, request: http::Request<Empty<Bytes>>) -> Reply {
        let response = self.http.request(request).await.expect("the request");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("the body").to_bytes().to_vec();
        Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }
}

/// Serves the read API over `store` behind the security context and the test's
/// authentication, runs `client`, and returns what the service's own security log recorded.
fn with_api<T>(
    store: impl LogStore + 'static,
    api: impl FnOnce(ReadApi) -> ReadApi,
    client: impl AsyncFnOnce(&Api) -> T,
) -> (Vec<Value>, T) {
    let app: Router = api(ReadApi::new(store))
        .with_cursor_key(b"test key")
        .router()
        .layer(from_fn(authenticate))
        .layer(SecurityContextLayer::new());
    server::serve(&TempLog::new(), app, async |addr| {
        let http = Client::builder(TokioExecutor::new()).build_http();
        client(&Api { addr, http }).await
    })
}

fn store() -> FileStore {
    FileStore::open(&data().path).unwrap()
}

const OPERATOR: &str = "ops-1;operator;";
const ACME_ADMIN: &str = "acme-admin;admin;acme";
const GLOBEX_ADMIN: &str = "globex-admin;admin;globex";

fn operators(api: ReadApi) -> ReadApi {
    api.with_authorizer(require_role("operator").across_tenants())
}

fn tenant_admins(api: ReadApi) -> ReadApi {
    api.with_authorizer(require_role("admin"))
}

fn ids<'a>(records: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    records
        .into_iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn nothing_is_readable_until_the_service_says_who_may_read() {
    let some_id = data().records[0]["id"].as_str().unwrap().to_owned();
    let (audit, replies) = with_api(
        store(),
        |api| api,
        async |api| {
            let mut replies = Vec::new();
            for target in [
                "/security_logs".to_owned(),
                format!("/security_logs/{some_id}"),
                "/security_logs/export".to_owned(),
                "/security_logs/stats?by=event".to_owned(),
            ] {
                replies.push((target.clone(), api.get(&target, None).await));
                replies.push((target.clone(), api.get(&target, Some(OPERATOR)).await));
            }
            let console = api.get("/console", None).await;
            let script = api.get("/console/console.js", None).await;
            let missing = api.get("/console/other.js", None).await;
            (replies, console, script, missing)
        },
    );
    let (replies, console, script, missing) = replies;
    for (n, (target, reply)) in replies.iter().enumerate() {
        let expected = if n % 2 == 0 { 401 } else { 403 };
        assert_eq!(
            reply.status,
            expected,
            "{target}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        let code = if expected == 401 {
            "unauthorized"
        } else {
            "forbidden"
        };
        assert_eq!(reply.json()["error"]["code"], code);
        assert!(!String::from_utf8_lossy(&reply.body).contains("security_logs\":["));
    }
    // The page holds no data, so it is served; what it asks for is refused.
    assert_eq!(console.status, 200);
    assert!(console
        .header("content-security-policy")
        .contains("script-src 'self'"));
    assert_eq!(script.status, 200);
    assert_eq!(missing.status, 404);

    let denied = by_name(&audit, "authorization.denied");
    assert_eq!(denied.len(), 8, "{audit:#?}");
    let readers: Vec<_> = denied.iter().map(|r| r["actor"]["id"].clone()).collect();
    assert_eq!(readers.iter().filter(|id| **id == "ops-1").count(), 4);
    assert!(denied.iter().all(|r| r["target"]["kind"] == "security_log"));
    assert!(by_name(&audit, "audit.log_viewed").is_empty());
}

/// The parameters, and what they should select, checked against the records themselves.
#[test]
fn every_parameter_selects_what_the_query_language_says() {
    let records = &data().records;
    fn s(v: &Value) -> String {
        v.as_str().unwrap_or("").to_owned()
    }
    let from = s(&records[3000]["timestamp"]);
    let to = s(&records[6000]["timestamp"]);
    let ip = s(&records[77]["client"]["ip"]);
    type Check = Box<dyn Fn(&Value) -> bool>;
    let cases: Vec<(String, Check)> = vec![
        (
            "log_events[]=authentication.*".into(),
            Box::new(|r| s(&r["event"]["name"]).starts_with("authentication.")),
        ),
        (
            "log_events[]=user.role_changed&log_events[]=api_key.rotated".into(),
            Box::new(|r| {
                r["event"]["name"] == "user.role_changed" || r["event"]["name"] == "api_key.rotated"
            }),
        ),
        (
            "log_types[]=authentication&outcome=failure".into(),
            Box::new(|r| {
                r["event"]["category"] == "authentication" && r["event"]["outcome"] == "failure"
            }),
        ),
        (
            "user_ids[]=user-7&user_ids[]=user-8%40globex.example".into(),
            Box::new(|r| {
                r["actor"]["id"] == "user-7" || r["actor"]["email"] == "user-8@globex.example"
            }),
        ),
        (
            format!("from_date={from}&to_date={to}"),
            Box::new(move |r| s(&r["timestamp"]) >= from && s(&r["timestamp"]) < to),
        ),
        (
            format!("ip={ip}"),
            Box::new(move |r| s(&r["client"]["ip"]) == ip),
        ),
        (
            "ip=2001:db8::/32".into(),
            Box::new(|r| s(&r["client"]["ip"]).starts_with("2001:db8:")),
        ),
        (
            "q=country%20in%20(DE%2C%20FR)%20and%20severity%20%3E%3D%20warn".into(),
            Box::new(|r| {
                ["DE", "FR"].contains(&s(&r["client"]["geo"]["country"]).as_str())
                    && ["warn", "error", "critical"].contains(&s(&r["event"]["severity"]).as_str())
            }),
        ),
        (
            "q=changes.roles.new%20~%20admin&log_types[]=user".into(),
            Box::new(|r| {
                r["changes"]["roles"]["new"]
                    .as_array()
                    .is_some_and(|roles| roles.iter().any(|role| s(role).contains("admin")))
            }),
        ),
    ];
    let (audit, replies) = with_api(store(), operators, async |api| {
        let mut replies = Vec::new();
        for (params, _) in &cases {
            let newest = api
                .get(
                    &format!("/security_logs?{params}&per_page=1000&count=true"),
                    Some(OPERATOR),
                )
                .await;
            let oldest = api
                .get(
                    &format!("/security_logs?{params}&per_page=5&order=asc"),
                    Some(OPERATOR),
                )
                .await;
            let stats = api
                .get(
                    &format!("/security_logs/stats?{params}&by=outcome"),
                    Some(OPERATOR),
                )
                .await;
            replies.push((newest, oldest, stats));
        }
        replies
    });
    for ((params, check), (newest, oldest, stats)) in cases.iter().zip(&replies) {
        let expected: Vec<&Value> = records.iter().filter(|r| check(r)).collect();
        assert!(!expected.is_empty(), "{params}: the case selects nothing");
        assert_eq!(
            newest.status,
            200,
            "{params}: {}",
            String::from_utf8_lossy(&newest.body)
        );
        let newest = newest.json();
        assert_eq!(newest["meta"]["total_count"], expected.len(), "{params}");
        assert_eq!(newest["meta"]["per_page"], 1000);
        let page: Vec<Value> = newest["security_logs"].as_array().unwrap().clone();
        assert_eq!(
            ids(&page),
            ids(expected.iter().rev().take(1000).copied()),
            "{params}"
        );
        let oldest = oldest.json();
        assert_eq!(
            ids(oldest["security_logs"].as_array().unwrap()),
            ids(expected.iter().take(5).copied()),
            "{params}"
        );
        let counted: u64 = stats.json()["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["count"].as_u64().unwrap())
            .sum();
        assert_eq!(counted, expected.len() as u64, "{params}");
    }
    // Each read was recorded with its query and what it returned.
    let viewed = by_name(&audit, "audit.log_viewed");
    assert_eq!(viewed.len(), cases.len() * 3);
    assert!(viewed.iter().all(|r| r["actor"]["id"] == "ops-1"));
    assert!(viewed.iter().all(|r| r["fields"]["scope"] == "all tenants"));
}

#[test]
fn bad_parameters_get_a_400_naming_them() {
    let (_, replies) = with_api(store(), operators, async |api| {
        let mut replies = Vec::new();
        for (target, parameter) in [
            (
                "/security_logs?q=event%20%3D%20x%20and%20evnt%20%3D%20y",
                "q",
            ),
            ("/security_logs?per_page=0", "per_page"),
            ("/security_logs?per_page=1001", "per_page"),
            ("/security_logs?order=sideways", "order"),
            ("/security_logs?from_date=last%20tuesday", "from_date"),
            ("/security_logs?outcome=maybe", "outcome"),
            ("/security_logs?cursor=0badc0de", "cursor"),
            ("/security_logs?userids[]=7", "userids[]"),
            ("/security_logs/export?format=xlsx", "format"),
            ("/security_logs/stats?by=event&every=1y", "every"),
            ("/security_logs/stats?by=", "by"),
        ] {
            replies.push((target, parameter, api.get(target, Some(OPERATOR)).await));
        }
        replies
    });
    for (target, parameter, reply) in replies {
        assert_eq!(reply.status, 400, "{target}");
        let error = &reply.json()["error"];
        assert_eq!(error["code"], "invalid_parameter", "{target}");
        assert_eq!(error["parameter"], parameter, "{target}");
        assert!(!error["message"].as_str().unwrap().is_empty());
        if parameter == "q" {
            assert_eq!(error["column"], 15, "{error}");
            assert!(error["message"].as_str().unwrap().contains("evnt"));
        }
    }
}

/// Follows `next_cursor` from the first page to the end, in `order`.
async fn every_page(api: &Api, reader: &str, params: &str) -> (Vec<String>, usize) {
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let target = match &cursor {
            Some(c) => format!("/security_logs?{params}&cursor={c}"),
            None => format!("/security_logs?{params}"),
        };
        let reply = api.get(&target, Some(reader)).await;
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let page = reply.json();
        let records = page["security_logs"].as_array().unwrap();
        pages += 1;
        seen.extend(ids(records));
        match page["meta"]["next_cursor"].as_str() {
            Some(next) if !records.is_empty() => cursor = Some(next.to_owned()),
            _ => return (seen, pages),
        }
    }
}

#[test]
fn paging_returns_every_record_once_in_order() {
    let records = &data().records;
    let (_, (newest, oldest)) = with_api(store(), operators, async |api| {
        let newest = every_page(api, OPERATOR, "per_page=997").await;
        let oldest = every_page(api, OPERATOR, "per_page=997&order=asc").await;
        (newest, oldest)
    });
    let all = ids(records);
    let reversed: Vec<String> = all.iter().rev().cloned().collect();
    assert_eq!(newest.0.len(), 12_000);
    assert_eq!(
        newest.0, reversed,
        "newest first: every record once, in order"
    );
    assert_eq!(newest.1, 13);
    assert_eq!(oldest.0, all, "oldest first: every record once, in order");
    assert_eq!(oldest.0.iter().collect::<HashSet<_>>().len(), 12_000);
}

/// Lago's page numbers beside the cursor: `page` and `per_page`, and `meta` with
/// `current_page`, `next_page`, `prev_page`, `total_pages` and `total_count`.
#[test]
fn lago_page_numbers_walk_the_first_pages() {
    let records = &data().records;
    let (_, replies) = with_api(store(), operators, async |api| {
        let mut replies = Vec::new();
        for page in [1, 2, 3, 10] {
            let target = format!("/security_logs?page={page}&per_page=997");
            replies.push(api.get(&target, Some(OPERATOR)).await.json());
        }
        // The last pages of a smaller answer: one tenant's.
        for page in [1, 2, 3, 4] {
            let target = format!("/security_logs?page={page}&per_page=997&q=tenant%20%3D%20acme");
            replies.push(api.get(&target, Some(OPERATOR)).await.json());
        }
        let refused = [
            api.get("/security_logs?page=0", Some(OPERATOR)).await,
            api.get("/security_logs?page=11&per_page=1000", Some(OPERATOR))
                .await,
            api.get("/security_logs?page=2&cursor=abc", Some(OPERATOR))
                .await,
        ];
        (replies, refused)
    });
    let (pages, refused) = replies;
    let newest: Vec<String> = ids(records).into_iter().rev().collect();
    for (n, page) in [1, 2, 3, 10].into_iter().enumerate() {
        let answer = &pages[n];
        let start = (page - 1) * 997;
        assert_eq!(
            ids(answer["security_logs"].as_array().unwrap()),
            newest[start..start + 997],
            "page {page}"
        );
        let meta = &answer["meta"];
        assert_eq!(meta["current_page"], page, "{meta}");
        assert_eq!(meta["total_pages"], 13);
        assert_eq!(meta["total_count"], 12_000);
        assert_eq!(meta["next_page"], page + 1);
        if page == 1 {
            assert!(meta["prev_page"].is_null());
        } else {
            assert_eq!(meta["prev_page"], page - 1);
        }
    }
    // The last page is short, and the one after it is empty.
    let acme: Vec<String> = ids(records.iter().filter(|r| r["tenant"]["id"] == "acme"))
        .into_iter()
        .rev()
        .collect();
    let total_pages = acme.len().div_ceil(997);
    assert!((2..=3).contains(&total_pages), "{}", acme.len());
    let walked: Vec<String> = pages[4..4 + total_pages]
        .iter()
        .flat_map(|page| ids(page["security_logs"].as_array().unwrap()))
        .collect();
    assert_eq!(walked, acme);
    let last = &pages[3 + total_pages]["meta"];
    assert_eq!(last["total_pages"], total_pages);
    assert!(last["next_page"].is_null(), "{last}");
    let past = &pages[4 + total_pages];
    assert_eq!(past["security_logs"].as_array().unwrap().len(), 0);
    assert!(past["meta"]["next_cursor"].is_null());
    assert!(past["meta"]["next_page"].is_null());
    for reply in refused {
        assert_eq!(reply.status, 400);
        assert_eq!(reply.json()["error"]["parameter"], "page");
    }
}

/// A name no catalog holds is no error, but the answer says so, with the name meant.
#[test]
fn misspelt_event_names_are_answered_with_warnings() {
    let (_, replies) = with_api(store(), operators, async |api| {
        [
            api.get(
                "/security_logs?log_events[]=user.rolechanged&count=true",
                Some(OPERATOR),
            )
            .await
            .json(),
            api.get(
                "/security_logs/stats?by=event&q=event%20like%20%22athentication.*%22",
                Some(OPERATOR),
            )
            .await
            .json(),
            api.get(
                "/security_logs?log_events[]=user.role_changed",
                Some(OPERATOR),
            )
            .await
            .json(),
        ]
    });
    let [list, stats, fine] = replies;
    assert_eq!(list["meta"]["total_count"], 0);
    assert_eq!(
        list["warnings"],
        serde_json::json!([{
            "field": "event.name",
            "value": "user.rolechanged",
            "suggestion": "user.role_changed",
            "message": "no event in the catalog is named `user.rolechanged` (did you mean `user.role_changed`?)"
        }])
    );
    assert_eq!(stats["warnings"][0]["value"], "athentication.*", "{stats}");
    assert!(fine.get("warnings").is_none(), "{fine}");
}

#[test]
fn a_tenant_admin_sees_only_the_tenants_records_through_every_endpoint() {
    let records = &data().records;
    let acme: Vec<&Value> = records
        .iter()
        .filter(|r| r["tenant"]["id"] == "acme")
        .collect();
    let globex_id = records
        .iter()
        .find(|r| r["tenant"]["id"] == "globex")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let acme_id = acme[17]["id"].as_str().unwrap().to_owned();
    let (audit, replies) = with_api(store(), tenant_admins, async |api| {
        let list = api
            .get("/security_logs?per_page=1000&count=true", Some(ACME_ADMIN))
            .await;
        let own = api
            .get(&format!("/security_logs/{acme_id}"), Some(ACME_ADMIN))
            .await;
        let other = api
            .get(&format!("/security_logs/{globex_id}"), Some(ACME_ADMIN))
            .await;
        let named = api
            .get(
                "/security_logs?q=tenant%20%3D%20globex&count=true",
                Some(ACME_ADMIN),
            )
            .await;
        let or_named = api.get("/security_logs?q=tenant%20%3D%20globex%20or%20tenant%20%3D%20acme&count=true&per_page=1", Some(ACME_ADMIN)).await;
        let csv = api
            .get("/security_logs/export?format=csv", Some(ACME_ADMIN))
            .await;
        let jsonl = api
            .get(
                "/security_logs/export?format=jsonl&order=asc",
                Some(ACME_ADMIN),
            )
            .await;
        let stats = api
            .get("/security_logs/stats?by=tenant", Some(ACME_ADMIN))
            .await;
        // A cursor handed to acme's admin, used by globex's, edited, or with another order.
        let cursor = list.json()["meta"]["next_cursor"]
            .as_str()
            .unwrap()
            .to_owned();
        let borrowed = api
            .get(
                &format!("/security_logs?per_page=1000&cursor={cursor}"),
                Some(GLOBEX_ADMIN),
            )
            .await;
        let mut edited = cursor.clone().into_bytes();
        edited[3] = if edited[3] == b'0' { b'1' } else { b'0' };
        let edited = api
            .get(
                &format!(
                    "/security_logs?cursor={}",
                    String::from_utf8(edited).unwrap()
                ),
                Some(ACME_ADMIN),
            )
            .await;
        let reordered = api
            .get(
                &format!("/security_logs?order=asc&cursor={cursor}"),
                Some(ACME_ADMIN),
            )
            .await;
        let resumed = api
            .get(
                &format!("/security_logs?per_page=1000&cursor={cursor}"),
                Some(ACME_ADMIN),
            )
            .await;
        // The role without a tenant the service vouched for is not enough.
        let no_tenant = api.get("/security_logs", Some("drifter;admin;")).await;
        (
            list, own, other, named, or_named, csv, jsonl, stats, borrowed, edited, reordered,
            resumed, no_tenant,
        )
    });
    let (
        list,
        own,
        other,
        named,
        or_named,
        csv,
        jsonl,
        stats,
        borrowed,
        edited,
        reordered,
        resumed,
        no_tenant,
    ) = replies;
    let list = list.json();
    assert_eq!(list["meta"]["total_count"], acme.len());
    let page = list["security_logs"].as_array().unwrap();
    assert_eq!(ids(page), ids(acme.iter().rev().take(1000).copied()));
    assert_eq!(own.status, 200);
    assert_eq!(
        own.json()["security_log"],
        **acme.iter().find(|r| r["id"] == acme_id.as_str()).unwrap()
    );
    assert_eq!(other.status, 404, "another tenant's record is not found");
    assert_eq!(named.json()["meta"]["total_count"], 0);
    assert_eq!(or_named.json()["meta"]["total_count"], acme.len());

    let csv = String::from_utf8(csv.body).unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let tenant_column = rows
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "tenant_id")
        .unwrap();
    let rows: Vec<_> = rows.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), acme.len());
    assert!(rows.iter().all(|r| &r[tenant_column] == "acme"));
    assert_eq!(jsonl.header("content-type"), "application/x-ndjson");
    assert!(jsonl
        .header("content-disposition")
        .starts_with("attachment; filename=\"security-log-"));
    let exported: Vec<Value> = String::from_utf8(jsonl.body)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(ids(&exported), ids(acme.iter().copied()));
    let buckets = stats.json()["buckets"].as_array().unwrap().clone();
    assert_eq!(buckets.len(), 1);
    assert_eq!(buckets[0]["key"]["tenant"], "acme");
    assert_eq!(buckets[0]["count"], acme.len());

    for (name, reply) in [
        ("borrowed", &borrowed),
        ("edited", &edited),
        ("reordered", &reordered),
    ] {
        assert_eq!(reply.status, 400, "{name}");
        assert_eq!(reply.json()["error"]["parameter"], "cursor", "{name}");
    }
    assert_eq!(
        ids(resumed.json()["security_logs"].as_array().unwrap()),
        ids(acme.iter().rev().skip(1000).take(1000).copied())
    );
    assert_eq!(no_tenant.status, 403);

    // The reads carry the reader and the tenant they were scoped to.
    let viewed = by_name(&audit, "audit.log_viewed");
    assert!(viewed
        .iter()
        .all(|r| r["tenant"]["id"] == "acme" || r["actor"]["id"] == "globex-admin"));
    let exports = by_name(&audit, "audit.log_exported");
    assert_eq!(exports.len(), 2);
    for export in exports {
        assert_eq!(export["actor"]["id"], "acme-admin");
        assert_eq!(export["fields"]["records"], acme.len());
        assert_eq!(export["fields"]["complete"], true);
        assert_eq!(export["fields"]["scope"], "tenant acme");
    }
}

#[test]
fn permissions_and_closures_authorize_too() {
    let by_permission =
        |api: ReadApi| api.with_authorizer(require_permission("security_logs:view"));
    let (_, (granted, refused)) = with_api(store(), by_permission, async |api| {
        let mut request = api.request("/security_logs?count=true&per_page=1", Some("p-1;;globex"));
        request.headers_mut().insert(
            "x-permissions",
            "members:invite,security_logs:view".parse().unwrap(),
        );
        let granted = api.send(request).await;
        let refused = api.get("/security_logs", Some("p-2;;globex")).await;
        (granted, refused)
    });
    let globex = data()
        .records
        .iter()
        .filter(|r| r["tenant"]["id"] == "globex")
        .count();
    assert_eq!(granted.json()["meta"]["total_count"], globex);
    assert_eq!(refused.status, 403);

    // Any rule as a closure: here, readers named `auditor-*` read one fixed tenant.
    let closure = |api: ReadApi| {
        api.with_authorizer(
            |request: &ReadRequest<'_>| match request.actor().and_then(|a| a.id) {
                Some(id) if id.starts_with("auditor-") => ReadScope::Tenant("initech".into()),
                _ => ReadScope::Denied,
            },
        )
    };
    let (_, reply) = with_api(store(), closure, async |api| {
        api.get("/security_logs?count=true&per_page=1", Some("auditor-1;;"))
            .await
    });
    let initech = data()
        .records
        .iter()
        .filter(|r| r["tenant"]["id"] == "initech")
        .count();
    assert_eq!(reply.json()["meta"]["total_count"], initech);
}

#[test]
fn the_tenant_hook_and_the_vouched_tenant_reach_the_records() {
    async fn handler(security: RequestSecurity) -> &'static str {
        security_event!(SecurityEvent::UserInvited, target.id = "bob");
        security.record_tenant(&Tenant::new("acme").with_name("Acme"));
        security_event!(SecurityEvent::ApiKeyRotated, target.id = "k-1");
        "ok"
    }
    let app: Router = Router::new()
        .route("/orgs/{org}/invite", axum::routing::post(handler))
        .layer(SecurityContextLayer::new().with_tenant(TenantFrom::path_segment(1)));
    let (records, status) = server::serve(&TempLog::new(), app, async |addr| {
        let http: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let request = http::Request::post(format!("http://{addr}/orgs/globex/invite"))
            .body(Empty::new())
            .unwrap();
        http.request(request).await.unwrap().status()
    });
    assert_eq!(status, 200);
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[0]["tenant"],
        serde_json::json!({"id": "globex"}),
        "from the path"
    );
    assert_eq!(
        records[1]["tenant"],
        serde_json::json!({"id": "acme", "name": "Acme"}),
        "as vouched for"
    );
    let keys = common::keys(&records[1]);
    let position = |k| keys.iter().position(|x| *x == k).unwrap();
    assert!(
        position("message") < position("tenant") && position("tenant") < position("client"),
        "{keys:?}"
    );
}

/// A store that counts the records the export has read so far.
struct Counting {
    inner: FileStore,
    exported: Arc<AtomicU64>,
}

impl LogStore for Counting {
    fn search(&self, search: &Search) -> Result<Page, StoreError> {
        self.inner.search(search)
    }
    fn get(
        &self,
        id: &str,
        scope: &Scope,
        deadline: &Deadline,
    ) -> Result<Option<StoredRecord>, StoreError> {
        self.inner.get(id, scope, deadline)
    }
    fn count(&self, search: &Search) -> Result<Count, StoreError> {
        self.inner.count(search)
    }
    fn aggregate(&self, aggregate: &Aggregate) -> Result<Aggregation, StoreError> {
        self.inner.aggregate(aggregate)
    }
    fn export(
        &self,
        search: &Search,
        each: &mut dyn FnMut(&StoredRecord) -> io::Result<()>,
    ) -> Result<ExportSummary, StoreError> {
        self.inner.export(search, &mut |record| {
            self.exported.fetch_add(1, Ordering::Relaxed);
            each(record)
        })
    }
}

#[test]
fn an_export_of_200000_records_streams_and_waits_for_a_slow_client() {
    let dir = tempfile::tempdir().unwrap();
    synthetic_log::SyntheticLog {
        records: 200_000,
        rotate_mb: 64,
        seed: 3,
        days: 10,
        checkpoint_key: None,
        actors: None,
        index: false,
    }
    .write(dir.path())
    .unwrap();
    let exported = Arc::new(AtomicU64::new(0));
    let store = Counting {
        inner: FileStore::open(dir.path().join("security.jsonl")).unwrap(),
        exported: exported.clone(),
    };
    let (audit, (while_paused, lines, bytes)) = with_api(store, operators, async |api| {
        let response = api
            .http
            .request(api.request(
                "/security_logs/export?format=jsonl&order=asc",
                Some(OPERATOR),
            ))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers().get("transfer-encoding").unwrap(),
            "chunked"
        );
        let mut body = response.into_body();
        let mut received = body
            .frame()
            .await
            .unwrap()
            .unwrap()
            .into_data()
            .unwrap()
            .to_vec();
        // The client stops reading: the export must stop too, well short of the end.
        tokio::time::sleep(Duration::from_millis(700)).await;
        let while_paused = exported.load(Ordering::Relaxed);
        while let Some(frame) = body.frame().await {
            received.extend_from_slice(&frame.unwrap().into_data().unwrap());
        }
        let text = String::from_utf8(received).unwrap();
        let lines = text
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["seq"]
                    .as_u64()
                    .unwrap()
            })
            .collect::<Vec<_>>();
        (while_paused, lines, text.len())
    });
    assert_eq!(lines.len(), 200_000);
    assert!(
        lines.windows(2).all(|w| w[0] + 1 == w[1]),
        "in order, none missing"
    );
    // What the export ran ahead of the client: its queue (five 64 KiB chunks) and the
    // loopback socket's buffers, a few MiB; the whole export is about 150 MiB.
    let per_record = bytes as u64 / 200_000;
    assert!(
        while_paused * per_record < 24 << 20,
        "{while_paused} of 200,000 records ({} MiB) read while the client was not reading",
        (while_paused * per_record) >> 20
    );
    println!(
        "read ahead while the client paused: {while_paused} records ({} KiB) of 200,000 ({} MiB)",
        (while_paused * per_record) >> 10,
        bytes >> 20
    );
    let export = by_name(&audit, "audit.log_exported");
    assert_eq!(export[0]["fields"]["records"], 200_000);
}

/// One console action is one audit record: the charts sent with a list read (the same
/// `view`, query and scope) add none; anything else is recorded. And a reader can leave the
/// log's own reads out.
#[test]
fn one_view_is_one_audit_record_and_the_log_can_hide_its_own_reads() {
    let (audit, ()) = with_api(store(), operators, async |api| {
        for target in [
            "/security_logs?log_events[]=user.*&view=v-1&per_page=5",
            "/security_logs/stats?log_events[]=user.*&view=v-1&by=category&every=1h",
            "/security_logs/stats?log_events[]=user.*&view=v-1&by=country",
            // The same view id with another query, and a chart with no view: recorded.
            "/security_logs/stats?log_events[]=authentication.*&view=v-1&by=country",
            "/security_logs/stats?log_events[]=user.*&by=country",
        ] {
            assert_eq!(
                api.get(target, Some(OPERATOR)).await.status,
                200,
                "{target}"
            );
        }
    });
    let viewed = by_name(&audit, "audit.log_viewed");
    let reads: Vec<(&str, &str)> = viewed
        .iter()
        .map(|r| {
            (
                r["fields"]["read"].as_str().unwrap(),
                r["fields"]["view"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(reads, [("list", "v-1"), ("stats", "v-1"), ("stats", "-")]);

    // A log holding reads of itself.
    let log = TempLog::new();
    let (layer, guard) = log.builder().build().unwrap();
    tracing::subscriber::with_default(
        tracing_subscriber::layer::SubscriberExt::with(tracing_subscriber::registry(), layer),
        || {
            for _ in 0..3 {
                security_event!(SecurityEvent::AuditLogViewed, read = "list");
                security_event!(SecurityEvent::LoginFailed, actor.id = "42");
            }
            security_event!(SecurityEvent::AuditLogExported, format = "csv");
        },
    );
    guard.shutdown().unwrap();
    let (_, (all, hidden)) = with_api(
        FileStore::open(&log.path).unwrap(),
        operators,
        async |api| {
            let names = async |target: &str| -> Vec<String> {
                let reply = api.get(target, Some(OPERATOR)).await;
                assert_eq!(reply.status, 200, "{target}");
                reply.json()["security_logs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["event"]["name"].as_str().unwrap().to_owned())
                    .collect()
            };
            (
                names("/security_logs").await,
                names("/security_logs?hide_log_reads=true").await,
            )
        },
    );
    assert_eq!(
        all.iter().filter(|n| n.starts_with("audit.log_")).count(),
        4,
        "{all:?}"
    );
    assert!(
        hidden.iter().all(|n| !n.starts_with("audit.log_")),
        "{hidden:?}"
    );
    assert_eq!(
        hidden
            .iter()
            .filter(|n| *n == "authentication.failed")
            .count(),
        3
    );
}
