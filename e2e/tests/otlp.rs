//! The OTLP sink against `mock-collector`: real gRPC and HTTP servers on 127.0.0.1, in-process.
//! Assertions read the raw LogRecords the collector received.
#![cfg(feature = "otlp")]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{read_records, TempLog};
use mock_collector::{MockServer, Protocol, ServerHandle};
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use serde_json::Value;
use tracing_security_events::sink::otlp::{OtlpConfig, OtlpProtocol};
use tracing_security_events::sink::SpoolConfig;
use tracing_security_events::{security_event, Builder, SecurityEvent};
use tracing_subscriber::prelude::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn start_server(rt: &tokio::runtime::Runtime, protocol: Protocol, port: u16) -> ServerHandle {
    rt.block_on(
        MockServer::builder()
            .protocol(protocol)
            .host("127.0.0.1".parse().unwrap())
            .port(port)
            .start(),
    )
    .expect("start the mock collector")
}

fn endpoint(server: &ServerHandle, protocol: OtlpProtocol) -> String {
    match protocol {
        OtlpProtocol::Grpc => format!("http://{}", server.addr()),
        _ => format!("http://{}/v1/logs", server.addr()),
    }
}

fn received(rt: &tokio::runtime::Runtime, server: &ServerHandle, count: usize) -> Vec<LogRecord> {
    rt.block_on(server.wait_for_logs(count, Duration::from_secs(30)))
        .unwrap_or_else(|err| panic!("{count} logs expected: {err}"));
    rt.block_on(
        server.with_collector(|c| c.logs().iter().map(|l| l.log_record().clone()).collect()),
    )
}

fn resource(rt: &tokio::runtime::Runtime, server: &ServerHandle) -> HashMap<String, Any> {
    rt.block_on(server.with_collector(|c| attributes(c.logs()[0].resource_attrs())))
}

fn attributes(list: &[KeyValue]) -> HashMap<String, Any> {
    list.iter()
        .filter_map(|kv| Some((kv.key.clone(), kv.value.clone()?.value?)))
        .collect()
}

fn text(value: &str) -> Any {
    Any::StringValue(value.to_owned())
}

/// Emits a sign-in failure inside a request span, through a file and an OTLP sink.
fn emit_sign_in_failure(builder: Builder) {
    let (layer, guard) = builder.build().expect("build");
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let request = tracing::info_span!(
            "request",
            client.ip = "203.0.113.7:51234",
            user_agent = "Mozilla/5.0 Firefox/133.0",
            request.id = "req-1",
            http.method = "POST",
            url.path = "/login",
            session.id = "sess-0123456789",
        );
        let _entered = request.enter();
        security_event!(
            SecurityEvent::LoginFailed,
            actor.id = "42",
            actor.name = "alice",
            actor.roles = "admin, billing",
            authentication.method = "password",
            attempt = 3_u64,
        );
    });
    guard.shutdown().expect("flushed to every sink");
}

fn check_mapping(protocol: Protocol, otlp: OtlpProtocol) {
    let rt = runtime();
    let server = start_server(&rt, protocol, 0);
    let log = TempLog::new();
    let builder = log.builder().with_service_version("1.4.2").with_otlp(
        OtlpConfig::new()
            .with_protocol(otlp)
            .with_endpoint(endpoint(&server, otlp)),
    );
    emit_sign_in_failure(builder);

    let file = &log.records()[0];
    let logs = received(&rt, &server, 1);
    assert_eq!(logs.len(), 1, "{logs:#?}");
    let record = &logs[0];
    assert_eq!(record.event_name, "authentication.failed");
    assert_eq!(record.severity_number, 13, "WARN");
    assert_eq!(record.severity_text, "warn");
    let timestamp =
        chrono::DateTime::parse_from_rfc3339(file["timestamp"].as_str().unwrap()).unwrap();
    assert_eq!(
        record.time_unix_nano,
        timestamp.timestamp_nanos_opt().unwrap() as u64,
        "the record's own time, never 0"
    );
    assert!(record.observed_time_unix_nano >= record.time_unix_nano);
    assert_eq!(
        record.body.clone().unwrap().value.unwrap(),
        text(file["message"].as_str().unwrap())
    );
    let attrs = attributes(&record.attributes);
    let expect: &[(&str, Any)] = &[
        ("user.id", text("42")),
        ("user.name", text("alice")),
        ("client.address", text("203.0.113.7")),
        ("client.port", Any::IntValue(51234)),
        ("user_agent.original", text("Mozilla/5.0 Firefox/133.0")),
        ("http.request.method", text("POST")),
        ("url.path", text("/login")),
        ("security_event.name", text("authentication.failed")),
        ("security_event.id", text(file["id"].as_str().unwrap())),
        ("security_event.seq", Any::IntValue(1)),
        ("security_event.category", text("authentication")),
        ("security_event.outcome", text("failure")),
        ("security_event.owasp", text("authn_login_fail")),
        ("security_event.request.id", text("req-1")),
        (
            "security_event.fields.authentication.method",
            text("password"),
        ),
        ("security_event.fields.attempt", Any::IntValue(3)),
    ];
    for (key, value) in expect {
        assert_eq!(attrs.get(*key), Some(value), "attribute {key}: {attrs:#?}");
    }
    match attrs.get("user.roles") {
        Some(Any::ArrayValue(list)) => assert_eq!(list.values.len(), 2),
        other => panic!("user.roles: {other:?}"),
    }
    let session = match attrs.get("session.id") {
        Some(Any::StringValue(s)) => s.clone(),
        other => panic!("session.id: {other:?}"),
    };
    assert!(
        session.starts_with("***"),
        "redacted for every sink: {session}"
    );
    assert!(
        !attrs.contains_key("security_event.integrity.hash"),
        "the chain is the file's"
    );
    let resource = resource(&rt, &server);
    assert_eq!(resource.get("service.name"), Some(&text("tests")));
    assert_eq!(resource.get("service.version"), Some(&text("1.4.2")));
    assert_eq!(
        resource.get("service.instance.id"),
        Some(&text("test-host"))
    );
}

#[test]
fn grpc_records_arrive_mapped() {
    check_mapping(Protocol::Grpc, OtlpProtocol::Grpc);
}

#[test]
fn http_protobuf_records_arrive_mapped() {
    check_mapping(Protocol::HttpBinary, OtlpProtocol::HttpProtobuf);
}

#[test]
fn http_json_records_arrive_mapped() {
    check_mapping(Protocol::HttpJson, OtlpProtocol::HttpJson);
}

fn emit_numbered(from: u64, to: u64) {
    for n in from..to {
        security_event!(SecurityEvent::DataExported, target.id = n);
    }
}

fn ids_in_order(logs: &[LogRecord]) -> Vec<(i64, String)> {
    logs.iter()
        .map(|log| {
            let attrs = attributes(&log.attributes);
            let seq = match attrs.get("security_event.seq") {
                Some(Any::IntValue(seq)) => *seq,
                other => panic!("seq: {other:?}"),
            };
            let id = match attrs.get("security_event.id") {
                Some(Any::StringValue(id)) => id.clone(),
                other => panic!("id: {other:?}"),
            };
            (seq, id)
        })
        .collect()
}

#[test]
fn an_outage_loses_nothing_and_keeps_the_order() {
    let rt = runtime();
    let first = start_server(&rt, Protocol::HttpBinary, 0);
    let port = first.addr().port();
    let log = TempLog::new();
    let spool = log.dir.path().join("spool");
    let otlp = OtlpConfig::new()
        .with_protocol(OtlpProtocol::HttpProtobuf)
        .with_endpoint(endpoint(&first, OtlpProtocol::HttpProtobuf))
        .with_timeout(Duration::from_secs(2))
        .with_spool(
            SpoolConfig::new()
                .with_memory_limit(64 * 1024)
                .with_dir(&spool),
        );
    let otlp_stats = otlp.stats_handle();
    let (layer, guard) = log.builder().with_otlp(otlp).build().unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    let _default = tracing::subscriber::set_default(subscriber);

    emit_numbered(0, 200);
    guard.flush().unwrap();
    let before = received(&rt, &first, 200);
    rt.block_on(first.shutdown()).unwrap();

    // The collector is away: the file keeps up, the OTLP sink holds the rest.
    emit_numbered(200, 1200);
    match guard.flush() {
        Err(tracing_security_events::FlushError::Sinks(failures)) => {
            assert_eq!(failures.len(), 1, "{failures:?}");
            assert!(failures[0].sink().starts_with("otlp:"), "{failures:?}");
        }
        other => panic!("the OTLP sink reports what it holds, nothing else fails: {other:?}"),
    }
    assert_eq!(read_records(&log.path).len(), 1200);
    let stats_before = guard.stats();
    assert_eq!(stats_before.dropped, 0);
    let held = otlp_stats.get();
    assert!(
        held.memory_bytes <= 64 * 1024,
        "memory stays bounded: {held:?}"
    );
    assert!(
        held.failed_exports > 0 && held.last_error.is_some(),
        "{held:?}"
    );
    let on_disk: u64 = std::fs::read_dir(&spool)
        .unwrap()
        .map(|f| f.unwrap().metadata().unwrap().len())
        .sum();
    assert!(on_disk > 0, "past 64 KiB the records wait on disk");

    let second = start_server(&rt, Protocol::HttpBinary, port);
    let after = received(&rt, &second, 1000);
    let all: Vec<(i64, String)> = ids_in_order(&before)
        .into_iter()
        .chain(ids_in_order(&after))
        .collect();
    let file_ids: Vec<(i64, String)> = read_records(&log.path)
        .iter()
        .map(|r| {
            (
                r["seq"].as_i64().unwrap(),
                r["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(all, file_ids, "every record exactly once, in seq order");
    assert_eq!(otlp_stats.get().exported, 1200);
    drop(_default);
    guard.shutdown().unwrap();
    assert_eq!(
        std::fs::read_dir(&spool).unwrap().count(),
        0,
        "the spool is empty again"
    );
}

#[test]
fn past_the_spool_limit_the_loss_is_counted_and_recorded() {
    let rt = runtime();
    // A collector that is never there: bind a port, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = TempLog::new();
    let (layer, guard) = log
        .builder()
        .with_otlp(
            OtlpConfig::new()
                .with_protocol(OtlpProtocol::Grpc)
                .with_endpoint(format!("http://127.0.0.1:{port}"))
                .with_timeout(Duration::from_millis(500))
                .with_spool(
                    SpoolConfig::new()
                        .with_memory_limit(16 * 1024)
                        .with_dir(log.dir.path().join("spool"))
                        .with_limit(32 * 1024),
                ),
        )
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || emit_numbered(0, 500));
    // The notice is written with the next batch or tick.
    std::thread::sleep(Duration::from_millis(300));
    let stats = guard.stats();
    let _ = guard.shutdown();
    let records = read_records(&log.path);
    let notices: Vec<&Value> = records
        .iter()
        .filter(|r| r["event"]["name"] == "audit.events_dropped")
        .collect();
    assert!(
        !notices.is_empty(),
        "an audit.events_dropped record in the file"
    );
    let noticed: u64 = notices
        .iter()
        .map(|n| n["fields"]["dropped"].as_u64().unwrap())
        .sum();
    assert!(noticed > 0 && noticed < 500, "{noticed}");
    assert!(notices[0]["fields"]["sink"]
        .as_str()
        .unwrap()
        .starts_with("otlp:grpc:"));
    assert_eq!(stats.dropped, noticed, "counted in the stats too");
    drop(rt);
}

#[test]
fn a_bad_protocol_fails_the_build_naming_it() {
    let log = TempLog::new();
    let err = log
        .builder()
        .with_otlp(
            OtlpConfig::new()
                .with_protocol(OtlpProtocol::HttpProtobuf)
                .with_endpoint("not a url"),
        )
        .build::<tracing_subscriber::Registry>()
        .unwrap_err()
        .to_string();
    assert!(err.contains("OTLP") || err.contains("otlp"), "{err}");
}

#[cfg(feature = "trace-context")] // the OpenTelemetry ids need tracing-opentelemetry
/// Runs `emit`, then an event outside any span, under our layer (file and OTLP) beside
/// tracing-opentelemetry's; returns what `emit` returned, the file's records and the logs the
/// collector received.
fn with_opentelemetry_layer<T>(
    expected_logs: usize,
    emit: impl FnOnce() -> T,
) -> (T, Vec<serde_json::Value>, Vec<LogRecord>) {
    use opentelemetry::trace::TracerProvider as _;

    let rt = runtime();
    let server = start_server(&rt, Protocol::Grpc, 0);
    let log = TempLog::new();
    let (layer, guard) = log
        .builder()
        .with_otlp(
            OtlpConfig::new()
                .with_protocol(OtlpProtocol::Grpc)
                .with_endpoint(endpoint(&server, OtlpProtocol::Grpc)),
        )
        .build()
        .unwrap();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("tests"));
    let subscriber = tracing_subscriber::registry().with(layer).with(otel);
    let returned = tracing::subscriber::with_default(subscriber, || {
        let returned = emit();
        security_event!(SecurityEvent::DataExported, target.id = "outside any span");
        returned
    });
    guard.shutdown().unwrap();
    let logs = received(&rt, &server, expected_logs);
    (returned, log.records(), logs)
}

#[cfg(feature = "trace-context")] // the OpenTelemetry ids need tracing-opentelemetry
/// The trace and span ids OpenTelemetry gave `span`, as hex.
fn otel_ids(span: &tracing::Span) -> serde_json::Value {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    let context = span.context();
    let ids = context.span().span_context().clone();
    serde_json::json!({"trace_id": ids.trace_id().to_string(), "span_id": ids.span_id().to_string()})
}

#[cfg(feature = "trace-context")] // the OpenTelemetry ids need tracing-opentelemetry
#[test]
fn the_trace_context_of_an_opentelemetry_span_is_carried() {
    let (ids, records, logs) = with_opentelemetry_layer(2, || {
        // An ordinary span, without context fields: only OpenTelemetry knows it.
        let span = tracing::info_span!("handle_export");
        let _entered = span.enter();
        security_event!(SecurityEvent::DataExported, target.id = "report-1");
        otel_ids(&span)
    });
    assert_eq!(records[0]["trace"], ids);
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(hex(&logs[0].trace_id), ids["trace_id"]);
    assert_eq!(hex(&logs[0].span_id), ids["span_id"]);
    assert!(records[1].get("trace").is_none());
    assert!(logs[1].trace_id.is_empty());
}

#[cfg(feature = "trace-context")] // the OpenTelemetry ids need tracing-opentelemetry
/// The ids are kept with a context span after its first event: later events, a child span and
/// an ordinary span inside it each get their own span's ids, and the context still comes through.
#[test]
fn each_event_carries_the_ids_of_its_innermost_span() {
    let (ids, records, _) = with_opentelemetry_layer(5, || {
        let request = tracing::info_span!("request", client.ip = "203.0.113.7");
        let _request = request.enter();
        security_event!(SecurityEvent::LoginFailed, attempt = 1);
        security_event!(SecurityEvent::LoginFailed, attempt = 2);
        let (handler_ids, query_ids) = {
            let handler = tracing::info_span!("handler", actor.id = "42");
            let _handler = handler.enter();
            security_event!(SecurityEvent::LoginSucceeded);
            let query = tracing::info_span!("query");
            let _query = query.enter();
            security_event!(SecurityEvent::DataExported, target.id = "report-1");
            (otel_ids(&handler), otel_ids(&query))
        };
        [otel_ids(&request), handler_ids, query_ids]
    });
    let [request, handler, query] = ids;
    assert_eq!(records[0]["trace"], request);
    assert_eq!(records[1]["trace"], request);
    assert_eq!(records[2]["trace"], handler);
    assert_eq!(records[3]["trace"], query);
    assert_eq!(handler["trace_id"], request["trace_id"]);
    assert_ne!(handler["span_id"], request["span_id"]);
    assert_ne!(query["span_id"], handler["span_id"]);
    // Inside the ordinary span, the context of the spans around it.
    assert_eq!(records[3]["client"]["ip"], "203.0.113.7");
    assert_eq!(records[3]["actor"]["id"], "42");
    assert!(records[4].get("trace").is_none());
}

/// `type = "otlp"` in the configuration file, applied with the rest of it.
#[cfg(feature = "config")]
#[test]
fn an_otlp_sink_from_the_configuration_file() {
    use tracing_security_events::config::Config;

    let rt = runtime();
    let server = start_server(&rt, Protocol::HttpJson, 0);
    let log = TempLog::new();
    let toml = format!(
        r#"
        [service]
        name = "from-config"

        [[sinks]]
        type = "file"
        path = "{}"

        [[sinks]]
        type = "otlp"
        protocol = "http/json"
        endpoint = "http://{}/v1/logs"
        headers = {{ "x-api-key" = "k3y" }}
        timeout = "5s"
        compression = "gzip"
        memory_limit = 1048576
        spool_dir = "{}"
        "#,
        log.path.display(),
        server.addr(),
        log.dir.path().join("spool").display()
    );
    let config = Config::parse(&toml, "test.toml", Vec::new()).unwrap();
    let (layer, guard) = tracing_security_events::Builder::from_config(&config)
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        security_event!(SecurityEvent::ApiKeyRotated, target.id = "k-1");
    });
    guard.shutdown().unwrap();
    let logs = received(&rt, &server, 1);
    assert_eq!(logs[0].event_name, "api_key.rotated");
    assert_eq!(
        resource(&rt, &server).get("service.name"),
        Some(&text("from-config"))
    );
    assert_eq!(log.records().len(), 1);

    let err = Config::parse(
        "[[sinks]]\ntype = \"otlp\"\nprotocol = \"carrier-pigeon\"\n",
        "bad.toml",
        Vec::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("sinks[0].protocol") || err.contains("sinks[0]"),
        "{err}"
    );
}

#[test]
fn an_invalid_header_fails_the_build_for_every_transport() {
    for protocol in [
        OtlpProtocol::Grpc,
        OtlpProtocol::HttpProtobuf,
        OtlpProtocol::HttpJson,
    ] {
        let log = TempLog::new();
        let err = log
            .builder()
            .with_otlp(
                OtlpConfig::new()
                    .with_protocol(protocol)
                    .with_endpoint("http://127.0.0.1:4318/v1/logs")
                    .with_header("x-api-key", "line\nbreak"),
            )
            .build::<tracing_subscriber::Registry>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("header x-api-key"), "{protocol:?}: {err}");
    }
}

/// A collector that refuses any request holding `POISON` with 400 Bad Request (as one would for
/// a record past its attribute limits) and keeps the `security_event.id`s of the others.
#[cfg(feature = "axum")]
fn start_refusing_collector(
    rt: &tokio::runtime::Runtime,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    use axum::http::StatusCode;
    use std::sync::{Arc, Mutex};

    let accepted = Arc::new(Mutex::new(Vec::new()));
    let kept = accepted.clone();
    let app = axum::Router::new().route(
        "/v1/logs",
        axum::routing::post(move |body: axum::body::Bytes| {
            let kept = kept.clone();
            async move {
                let text = String::from_utf8_lossy(&body);
                if text.contains("POISON") {
                    return (
                        StatusCode::BAD_REQUEST,
                        "attribute value too long".to_owned(),
                    );
                }
                let request: Value = serde_json::from_slice(&body).unwrap();
                let mut kept = kept.lock().unwrap();
                for resource in request["resourceLogs"].as_array().unwrap() {
                    for scope in resource["scopeLogs"].as_array().unwrap() {
                        for log in scope["logRecords"].as_array().unwrap() {
                            let id = log["attributes"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .find(|kv| kv["key"] == "security_event.id")
                                .unwrap();
                            kept.push(id["value"]["stringValue"].as_str().unwrap().to_owned());
                        }
                    }
                }
                (StatusCode::OK, "{}".to_owned())
            }
        }),
    );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move { axum::serve(listener, app).await });
    (addr, accepted)
}

/// A record the collector refuses for its data is set aside and recorded with the collector's
/// answer; the records around it (in the same batch too) are delivered, and the sink goes on.
#[cfg(feature = "axum")]
#[test]
fn a_record_the_collector_refuses_never_stops_the_sink() {
    let rt = runtime();
    let (addr, accepted) = start_refusing_collector(&rt);
    let log = TempLog::new();
    let otlp = OtlpConfig::new()
        .with_protocol(OtlpProtocol::HttpJson)
        .with_endpoint(format!("http://{addr}/v1/logs"))
        .with_timeout(Duration::from_secs(5));
    let otlp_stats = otlp.stats_handle();
    let (layer, guard) = log.builder().with_otlp(otlp).build().unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        emit_numbered(0, 40);
        security_event!(SecurityEvent::DataExported, target.id = "POISON");
        emit_numbered(40, 80);
        // The refusal is found on the shipper's thread; the next batch the log writes after
        // it carries the notice.
        for n in 80..180 {
            emit_numbered(n, n + 1);
            let _ = guard.flush();
            if std::fs::read_to_string(&log.path).is_ok_and(|t| t.contains("audit.events_dropped"))
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    guard.shutdown().unwrap();

    let file = read_records(&log.path);
    let poison = file
        .iter()
        .find(|r| r["target"]["id"] == "POISON")
        .expect("the file sink keeps the record");
    let notice = file
        .iter()
        .find(|r| r["event"]["name"] == "audit.events_dropped")
        .expect("the refusal is recorded");
    assert_eq!(notice["fields"]["dropped"], 1, "{notice}");
    let reason = notice["fields"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(poison["id"].as_str().unwrap()) && reason.contains("400"),
        "{notice}"
    );
    let mut expected: Vec<&str> = file
        .iter()
        .filter(|r| r["target"]["id"] != "POISON")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let mut got = accepted.lock().unwrap().clone();
    // Halves delivered before another half was refused are not sent again (only an outage
    // resends), so each record arrives once.
    assert_eq!(got.len(), expected.len(), "every other record once");
    expected.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, expected);
    assert_eq!(otlp_stats.get().exported, expected.len() as u64);
}
