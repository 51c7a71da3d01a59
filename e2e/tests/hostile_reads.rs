//! A reader's hostile queries cost a bounded time: the query language's limits refuse what
//! would cost too much, at parse time with the limit named, and every read stops at its
//! deadline or when its reader goes away, over the file store and through the read API.
#![cfg(feature = "api")]

#[path = "../../examples/support/synthetic_log.rs"]
mod synthetic_log;

use std::sync::OnceLock;
use std::time::Duration;

use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use tracing_security_events::api::{ReadApi, ReadScope};
use tracing_security_events::query::{Filter, Filters, Query};
use tracing_security_events::store::{
    Aggregate, Deadline, FileStore, LogStore, Search, StoreError,
};

/// A log of 40,000 records, written once for the tests of this file.
fn log() -> &'static std::path::Path {
    static LOG: OnceLock<tempfile::TempDir> = OnceLock::new();
    LOG.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        synthetic_log::SyntheticLog {
            records: 40_000,
            rotate_mb: 8,
            seed: 23,
            days: 3,
            checkpoint_key: None,
            actors: None,
            index: false,
        }
        .write(dir.path())
        .unwrap();
        dir
    })
    .path()
}

/// A query within every limit that costs as much as a query may: the most comparisons, each
/// over the three paths of `user`, none ruled out before parsing.
fn costly_query() -> Query {
    let text = (0..tracing_security_events::query::MAX_COMPARISONS)
        .map(|n| format!("user ~ \"\u{e9}{n}\""))
        .collect::<Vec<_>>()
        .join(" or ");
    Query::parse(&text).unwrap()
}

#[test]
fn the_queries_that_held_a_core_are_refused_at_parse_time_naming_the_limit() {
    let segments = vec!["a"; 28].join(".");
    let error = Query::parse(&format!("fields.{segments} exists")).unwrap_err();
    assert!(error.message().contains("segments"), "{error}");
    let ors = vec!["user = x"; 1000].join(" or ");
    let error = Query::parse(&vec!["user = x"; 2500].join(" or ")).unwrap_err();
    assert!(error.message().contains("bytes"), "{error}");
    assert!(Query::parse(&ors)
        .unwrap_err()
        .message()
        .contains("comparisons"));
    let values = vec!["u"; 1001].join(", ");
    let error = Query::parse(&format!("user in ({values})")).unwrap_err();
    assert!(error.message().contains("at most 1000 values"), "{error}");
    let values = vec!["u"; 16_000].join(", ");
    assert!(Query::parse(&format!("user in ({values})")).is_err());
    let path = vec!["a"; 29_000].join(".");
    let error = Query::parse(&format!("fields.{path} exists")).unwrap_err();
    assert!(error.message().contains("bytes"), "{error}");
    let filters = Filters {
        users: vec!["x".to_owned(); 4000],
        ..Filters::default()
    };
    assert_eq!(filters.to_query().unwrap_err().filter, Filter::Users);
}

#[test]
fn a_read_past_its_deadline_stops_with_an_error() {
    let store = FileStore::open(log().join("security.jsonl")).unwrap();
    let late = || Deadline::after(Duration::from_millis(1));
    let search = Search::new(costly_query()).with_deadline(late());
    std::thread::sleep(Duration::from_millis(2));
    assert!(matches!(
        store.count(&search),
        Err(StoreError::DeadlineExceeded(_))
    ));
    assert!(matches!(
        store.search(&search),
        Err(StoreError::DeadlineExceeded(_))
    ));
    let aggregate = Aggregate::new(costly_query()).with_deadline(late());
    std::thread::sleep(Duration::from_millis(2));
    assert!(matches!(
        store.aggregate(&aggregate),
        Err(StoreError::DeadlineExceeded(_))
    ));
    let mut exported = 0;
    let result = store.export(&search, &mut |_| {
        exported += 1;
        Ok(())
    });
    assert!(matches!(result, Err(StoreError::DeadlineExceeded(_))));
    // Within its deadline the same store answers.
    let everything =
        Search::new(Query::new()).with_deadline(Deadline::after(Duration::from_secs(60)));
    assert_eq!(store.count(&everything).unwrap().records, 40_000);
}

#[test]
fn a_cancelled_read_stops_while_it_runs() {
    let store = FileStore::open(log().join("security.jsonl")).unwrap();
    let deadline = Deadline::none();
    let canceller = deadline.canceller();
    let search = Search::new(costly_query()).with_deadline(deadline);
    let reader = std::thread::spawn(move || store.count(&search));
    std::thread::sleep(Duration::from_millis(50));
    canceller.cancel();
    assert!(matches!(reader.join().unwrap(), Err(StoreError::Cancelled)));
}

async fn get(router: &axum::Router, uri: &str) -> (StatusCode, serde_json::Value) {
    let response = router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or_default())
}

#[tokio::test]
async fn the_api_answers_400_naming_the_limit_and_503_past_the_deadline() {
    let store = FileStore::open(log().join("security.jsonl")).unwrap();
    let router = ReadApi::new(store.clone())
        .with_authorizer(|_: &tracing_security_events::api::ReadRequest<'_>| ReadScope::AllTenants)
        .with_read_deadline(Duration::ZERO)
        .router();
    let path = vec!["a"; 28].join(".");
    for (uri, parameter) in [
        (format!("/security_logs?q=fields.{path}%20exists"), "q"),
        (
            format!("/security_logs?{}", vec!["user_ids[]=x"; 4000].join("&")),
            "user_ids[]",
        ),
        ("/security_logs?user_ids[]=%FF%FE".to_owned(), "user_ids[]"),
        (
            "/security_logs?per_page=5&per_page=6".to_owned(),
            "per_page",
        ),
        ("/security_logs/stats?every=1h&every=1d".to_owned(), "every"),
    ] {
        let (status, body) = get(&router, &uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"]["parameter"], parameter, "{uri}: {body}");
    }
    let (status, body) = get(&router, "/security_logs?count=true").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "deadline_exceeded");

    let router = ReadApi::new(store)
        .with_authorizer(|_: &tracing_security_events::api::ReadRequest<'_>| ReadScope::AllTenants)
        .router();
    for uri in [
        "/security_logs?from_date=0000-01-01&count=true",
        "/security_logs?to_date=%2B99999-01-01&per_page=1",
        "/security_logs?q=fields.%22a%5Cu0000b%22%20exists",
    ] {
        let (status, body) = get(&router, uri).await;
        assert!(
            status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
            "{uri}: {status} {body}"
        );
    }
}

/// A store whose reads never end on their own: each reads the whole log again and again until
/// its deadline stops it, then reports how it stopped.
struct EndlessReads {
    inner: FileStore,
    started: std::sync::mpsc::SyncSender<()>,
    stopped: std::sync::mpsc::SyncSender<StoreError>,
}

impl EndlessReads {
    fn forever<T>(&self, read: impl Fn() -> Result<T, StoreError>) -> Result<T, StoreError> {
        let _ = self.started.try_send(());
        loop {
            if let Err(error) = read() {
                let reported = match &error {
                    StoreError::Cancelled => StoreError::Cancelled,
                    StoreError::DeadlineExceeded(limit) => StoreError::DeadlineExceeded(*limit),
                    other => panic!("{other}"),
                };
                let _ = self.stopped.try_send(reported);
                return Err(error);
            }
        }
    }
}

impl LogStore for EndlessReads {
    fn search(&self, search: &Search) -> Result<tracing_security_events::store::Page, StoreError> {
        self.forever(|| self.inner.search(search))
    }
    fn get(
        &self,
        id: &str,
        scope: &tracing_security_events::store::Scope,
        deadline: &Deadline,
    ) -> Result<Option<tracing_security_events::store::StoredRecord>, StoreError> {
        self.inner.get(id, scope, deadline)
    }
    fn count(&self, search: &Search) -> Result<tracing_security_events::store::Count, StoreError> {
        self.forever(|| self.inner.count(search))
    }
    fn aggregate(
        &self,
        aggregate: &Aggregate,
    ) -> Result<tracing_security_events::store::Aggregation, StoreError> {
        self.forever(|| self.inner.aggregate(aggregate))
    }
    fn export(
        &self,
        search: &Search,
        each: &mut dyn FnMut(&tracing_security_events::store::StoredRecord) -> std::io::Result<()>,
    ) -> Result<tracing_security_events::store::ExportSummary, StoreError> {
        self.inner.export(search, each)
    }
}

/// A real client over a real socket asks for a read that would run until its deadline (a
/// minute), then hangs up: the read stops, cancelled, instead of holding a core for the minute.
#[test]
fn a_reader_who_hangs_up_stops_the_read() {
    use std::io::Write;

    let (started, on_start) = std::sync::mpsc::sync_channel(8);
    let (stopped, on_stop) = std::sync::mpsc::sync_channel(8);
    let store = EndlessReads {
        inner: FileStore::open(log().join("security.jsonl")).unwrap(),
        started,
        stopped,
    };
    let router = ReadApi::new(store)
        .with_authorizer(|_: &tracing_security_events::api::ReadRequest<'_>| ReadScope::AllTenants)
        .with_read_deadline(Duration::from_secs(60))
        .router();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move { axum::serve(listener, router).await });

    for path in [
        "/security_logs?count=true&q=user%20~%20%22nobody%22",
        "/security_logs/stats?by=event&every=1h",
    ] {
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        write!(
            client,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"
        )
        .unwrap();
        on_start
            .recv_timeout(Duration::from_secs(30))
            .expect("the read starts");
        drop(client);
        let how = on_stop
            .recv_timeout(Duration::from_secs(90))
            .expect("the read ends");
        assert!(matches!(how, StoreError::Cancelled), "{path}: {how}");
    }
}
