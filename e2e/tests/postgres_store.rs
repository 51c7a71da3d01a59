//! The PostgreSQL store against the file store over the same records: one table of queries run
//! against both (counts, pages both ways, paging to the end, grouped counts, exports), hostile
//! query strings, and the tenant scope. A private PostgreSQL cluster is started by the test.
#![cfg(feature = "postgres")]

mod common;
mod pg;
#[path = "../../examples/support/synthetic_log.rs"]
mod synthetic_log;

use std::sync::OnceLock;
use std::time::Duration;

use chrono::Utc;
use pg::Cluster;
use serde_json::Value;
use tracing_security_events::query::{Field, Query};
use tracing_security_events::sink::postgres::PostgresConfig;
use tracing_security_events::store::{
    Aggregate, Deadline, FileStore, LogStore, Order, PostgresStore, Scope, Search,
};

/// The queries both stores must answer alike: every operator, shortcuts, columns and paths
/// inside `fields` and `changes`, arrays, dotted keys, negations of each kind.
const QUERIES: &[&str] = &[
    "",
    "event = authentication.failed",
    "event != authentication.succeeded",
    "event like \"authentication.*\"",
    "event not like \"*.created\"",
    "event in (user.role_changed, api_key.rotated, data.exported)",
    "event not in (authentication.succeeded, authentication.failed)",
    "category = user or category = api_key",
    "outcome = failure and severity >= warn",
    "severity > info",
    "severity <= info",
    "user = user-7",
    "user in (user-7, \"user-8@globex.example\")",
    "user ~ \"USER-1\"",
    "actor.email endswith \"@acme.example\"",
    "actor.email startswith user-3",
    "tenant = acme",
    "tenant != acme",
    "not tenant exists",
    "ip in (10.0.0.0/8, 2001:db8::/32)",
    "ip = 2001:db8::1",
    "country in (DE, FR) and severity >= warn",
    "country = US",
    "client.geo.city ~ \"san\"",
    "client.geo.asn = 3320",
    "client.port > 60000",
    "message ~ \"failed to sign in\"",
    "message !~ \"signed in\"",
    "fields.\"authentication.method\" = password",
    "fields.authentication.method = passkey",
    "fields.rows > 100000",
    "fields.rows <= 20000",
    "fields.format = csv and fields.rows exists",
    "fields.permission exists",
    "not fields.permission exists",
    "changes.roles.new ~ admin",
    "changes.roles.old = owner",
    "not changes.roles.new ~ admin",
    "changes.session_timeout_minutes.new = 15",
    "changes exists",
    "target.id startswith ak_live_",
    "target.kind = api_key and not target.id endswith f",
    "request.path = /login and request.method = POST",
    "user_agent.original ~ \"onerror\"",
    "seq > 1500 and seq <= 1700",
    "seq = 42",
    "time > -2d",
    "event.reason ~ permission or fields.tool = sqlmap",
    "(event = authentication.failed or event = authentication.succeeded) and not (tenant = acme or tenant = globex)",
    "service.name = generated-saas",
];

struct Stores {
    file: FileStore,
    postgres: PostgresStore,
    table: String,
    _dir: tempfile::TempDir,
}

/// 3,000 records of the synthetic log, written through one pipeline into files and the table.
fn stores() -> Option<&'static Stores> {
    static STORES: OnceLock<Option<Stores>> = OnceLock::new();
    STORES
        .get_or_init(|| {
            let cluster = Cluster::shared()?;
            let table = Cluster::table("store");
            let dir = tempfile::tempdir().unwrap();
            let config = PostgresConfig::new()
                .with_url(cluster.url())
                .with_table(&table);
            synthetic_log::SyntheticLog {
                records: 3000,
                rotate_mb: 1,
                seed: 21,
                days: 4,
                checkpoint_key: None,
                actors: None,
                index: false,
            }
            .write_with(dir.path(), |builder| builder.with_postgres(config))
            .unwrap();
            Some(Stores {
                file: FileStore::open(dir.path().join("security.jsonl")).unwrap(),
                postgres: PostgresStore::connect_to_table(&cluster.url(), &table).unwrap(),
                table,
                _dir: dir,
            })
        })
        .as_ref()
}

fn all_ids(store: &dyn LogStore, search: &Search) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.search(&search.clone().with_cursor(cursor)).unwrap();
        out.extend(page.records.iter().map(|r| r.id().to_owned()));
        if page.records.is_empty() || page.next_cursor.is_none() {
            return out;
        }
        cursor = page.next_cursor;
    }
}

/// The record without its seal: each store's lines are sealed in a chain of their own.
fn unsealed(line: &str) -> Value {
    let mut value: Value = serde_json::from_str(line).unwrap();
    value.as_object_mut().unwrap().remove("integrity");
    value
}

#[test]
fn every_query_is_answered_alike_by_both_stores() {
    let Some(stores) = stores() else { return };
    let now = Utc::now();
    let total = stores
        .file
        .count(&Search::new(Query::new()))
        .unwrap()
        .records;
    assert_eq!(total, 3000);
    for text in QUERIES {
        let query = Query::parse(text).unwrap();
        let file = stores
            .file
            .count(&Search::new(query.clone()))
            .unwrap()
            .records;
        let postgres = stores
            .postgres
            .count(&Search::new(query.clone()))
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .records;
        assert_eq!(postgres, file, "count of `{text}`");
        assert!(
            file > 0 || text.starts_with("not") || *text == "ip = 2001:db8::1",
            "`{text}` selects nothing: a weak case"
        );
        for order in [Order::NewestFirst, Order::OldestFirst] {
            let search = Search::new(query.clone())
                .with_order(order)
                .with_limit(40)
                .at(now);
            assert_eq!(
                pg::ids(&stores.postgres, &search),
                pg::ids(&stores.file, &search),
                "page of `{text}`, {order:?}"
            );
        }
        let search = Search::new(query.clone()).with_limit(700).at(now);
        let every = all_ids(&stores.postgres, &search);
        assert_eq!(every.len() as u64, file, "paging `{text}` to the end");
        assert_eq!(every, all_ids(&stores.file, &search), "paging `{text}`");
        let mut exported = Vec::new();
        stores
            .postgres
            .export(
                &Search::new(query.clone())
                    .with_order(Order::OldestFirst)
                    .at(now),
                &mut |r| {
                    exported.push(unsealed(r.line()));
                    Ok(())
                },
            )
            .unwrap();
        let mut expected = Vec::new();
        stores
            .file
            .export(
                &Search::new(query.clone())
                    .with_order(Order::OldestFirst)
                    .at(now),
                &mut |r| {
                    expected.push(unsealed(r.line()));
                    Ok(())
                },
            )
            .unwrap();
        assert_eq!(exported, expected, "export of `{text}`");
    }
}

#[test]
fn grouped_counts_are_alike_by_column_by_path_and_per_bucket() {
    let Some(stores) = stores() else { return };
    let now = Utc::now();
    for (text, by, every) in [
        ("", vec!["event"], None),
        (
            "",
            vec!["category", "tenant"],
            Some(Duration::from_secs(3600)),
        ),
        (
            "outcome = failure",
            vec!["user"],
            Some(Duration::from_secs(86_400)),
        ),
        ("", vec!["country"], None),
        ("", vec!["ip"], None),
        ("", vec!["severity"], Some(Duration::from_secs(6 * 3600))),
        ("changes exists", vec!["fields.reason", "event"], None),
        ("", vec![], Some(Duration::from_secs(3600))),
    ] {
        let mut aggregate = Aggregate::new(Query::parse(text).unwrap()).at(now);
        for field in &by {
            aggregate = aggregate.by(Field::parse(field).unwrap());
        }
        if let Some(every) = every {
            aggregate = aggregate.every(every);
        }
        let file = stores.file.aggregate(&aggregate).unwrap();
        let postgres = stores.postgres.aggregate(&aggregate).unwrap();
        assert!(!file.buckets.is_empty());
        assert_eq!(
            postgres.buckets, file.buckets,
            "`{text}` by {by:?} every {every:?}"
        );
    }
}

#[test]
fn the_tenant_scope_holds_in_sql_too() {
    let Some(stores) = stores() else { return };
    let acme = Scope::Tenant("acme".into());
    for text in [
        "",
        "tenant = globex",
        "tenant = globex or tenant = acme",
        "fields.rows > 10",
    ] {
        let query = Query::parse(text).unwrap();
        let file = stores
            .file
            .count(&Search::new(query.clone()).with_scope(acme.clone()))
            .unwrap();
        assert_eq!(
            stores
                .postgres
                .count(&Search::new(query.clone()).with_scope(acme.clone()))
                .unwrap(),
            file,
            "`{text}`"
        );
        let page = stores
            .postgres
            .search(&Search::new(query).with_scope(acme.clone()).with_limit(1000))
            .unwrap();
        assert!(
            page.records
                .iter()
                .all(|r| r.value()["tenant"]["id"] == "acme"),
            "`{text}`"
        );
    }
    let globex_id = {
        let page = stores
            .file
            .search(&Search::new(Query::parse("tenant = globex").unwrap()).with_limit(1))
            .unwrap();
        page.records[0].id().to_owned()
    };
    assert!(
        stores
            .postgres
            .get(&globex_id, &acme, &Deadline::none())
            .unwrap()
            .is_none(),
        "another tenant's record is not found"
    );
    assert!(stores
        .postgres
        .get(&globex_id, &Scope::All, &Deadline::none())
        .unwrap()
        .is_some());
    // A file cursor means nothing to the table, nor a keyset cursor to the files.
    let file_page = stores
        .file
        .search(&Search::new(Query::new()).with_limit(5))
        .unwrap();
    let pg_page = stores
        .postgres
        .search(&Search::new(Query::new()).with_limit(5))
        .unwrap();
    assert!(stores
        .postgres
        .search(&Search::new(Query::new()).with_cursor(file_page.next_cursor))
        .is_err());
    assert!(stores
        .file
        .search(&Search::new(Query::new()).with_cursor(pg_page.next_cursor))
        .is_err());
}

#[test]
fn hostile_query_values_are_only_values() {
    let Some(stores) = stores() else { return };
    let big = "x".repeat(1 << 20);
    for text in [
        "user = \"'; DROP TABLE security_events; --\"".to_owned(),
        "message ~ \"%' OR 1=1 --\"".to_owned(),
        "event like \"%_\\\\\"".to_owned(),
        "fields.\"a\\\"b\" = \"$1\"".to_owned(),
        "fields.\"') OR TRUE --\" exists".to_owned(),
        format!("message ~ \"{big}\""),
        "user = \"nul\\u0000byte\"".to_owned(),
    ] {
        let Ok(query) = Query::parse(&text) else {
            continue;
        };
        let file = stores.file.count(&Search::new(query.clone())).unwrap();
        assert_eq!(
            stores.postgres.count(&Search::new(query.clone())).unwrap(),
            file,
            "`{}`",
            &text[..text.len().min(60)]
        );
    }
    assert_eq!(
        stores
            .postgres
            .count(&Search::new(Query::new()))
            .unwrap()
            .records,
        3000,
        "the table is whole"
    );
}

/// The read API serves the PostgreSQL store as it serves files: pages, a record, scope.
#[cfg(feature = "api")]
#[test]
fn the_read_api_serves_the_postgres_store_unchanged() {
    use tracing_security_events::api::{ReadApi, ReadRequest, ReadScope};

    let Some(stores) = stores() else { return };
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let store = PostgresStore::connect_to_table(&cluster.url(), &stores.table).unwrap();
    let acme_only = |_: &ReadRequest<'_>| ReadScope::Tenant("acme".into());
    let app: axum::Router = ReadApi::new(store).with_authorizer(acme_only).router();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (first, second, total) = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let get = |target: String| async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let request = format!("GET {target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut reply = Vec::new();
            stream.read_to_end(&mut reply).await.unwrap();
            let reply = String::from_utf8(reply).unwrap();
            let body = reply.split_once("\r\n\r\n").unwrap().1.to_owned();
            serde_json::from_str::<Value>(&body).unwrap()
        };
        let first =
            get("/security_logs?per_page=200&count=true&log_events[]=authentication.*".into())
                .await;
        let cursor = first["meta"]["next_cursor"].as_str().unwrap().to_owned();
        let second = get(format!(
            "/security_logs?per_page=200&log_events[]=authentication.*&cursor={cursor}"
        ))
        .await;
        let total = first["meta"]["total_count"].as_u64().unwrap();
        (first, second, total)
    });
    let expected = stores
        .file
        .count(
            &Search::new(Query::parse("event like \"authentication.*\"").unwrap())
                .with_scope(Scope::Tenant("acme".into())),
        )
        .unwrap()
        .records;
    assert_eq!(total, expected);
    let page = |v: &Value| -> Vec<Value> { v["security_logs"].as_array().unwrap().clone() };
    let search = Search::new(Query::parse("event like \"authentication.*\"").unwrap())
        .with_scope(Scope::Tenant("acme".into()))
        .with_limit(400);
    let ids: Vec<String> = page(&first)
        .iter()
        .chain(page(&second).iter())
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, pg::ids(&stores.file, &search));
    assert!(page(&first).iter().all(|r| r["tenant"]["id"] == "acme"));
}
