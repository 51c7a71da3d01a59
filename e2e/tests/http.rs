//! The HTTP middleware against a real axum server on 127.0.0.1, driven by real HTTP/1.1 requests
//! written on a TCP socket (so that malformed, huge and spoofed headers can be sent as they are).
#![cfg(feature = "axum")]

mod common;
mod server;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use common::{by_name, run, TempLog};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Barrier;
use tracing_security_events::http::{
    DeviceClass, ForwardedHeader, RequestSecurity, SecurityContextLayer, UserAgentParser,
};
use tracing_security_events::http::{MemoryDeviceStore, NewDeviceDetector};
use tracing_security_events::{security_event, Actor, ActorKind, SecurityEvent};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const CHROME_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// What the test server needs in its handlers.
#[derive(Clone)]
struct AppState {
    barrier: Arc<Barrier>,
    devices: Arc<NewDeviceDetector>,
}

async fn export() -> &'static str {
    security_event!(SecurityEvent::DataExported, target.kind = "report");
    "exported"
}

/// A failed attempt before authentication, then the actor, then the success.
async fn sign_in(security: RequestSecurity, State(state): State<AppState>) -> String {
    security_event!(SecurityEvent::LoginFailed, reason = "wrong password");
    security.record_actor(&Actor::user("42").with_name("alice").with_roles(["admin"]));
    security.record_session("s-1234567890");
    security_event!(SecurityEvent::LoginSucceeded);
    let check = state.devices.check_request(&security, "42").unwrap();
    format!("{check:?}")
}

/// Records an actor, then waits for a concurrent `/wait-anonymous` request before emitting.
async fn wait_signed_in(security: RequestSecurity, State(state): State<AppState>) -> &'static str {
    security.record_actor(&Actor::new(ActorKind::ApiKey, "key-7"));
    state.barrier.wait().await;
    security_event!(SecurityEvent::ApiKeyRotated, target.id = "key-7");
    state.barrier.wait().await;
    "signed in"
}

async fn wait_anonymous(State(state): State<AppState>) -> &'static str {
    state.barrier.wait().await;
    security_event!(SecurityEvent::AuthorizationDenied, target.id = "admin-page");
    state.barrier.wait().await;
    "anonymous"
}

fn app(layer: SecurityContextLayer) -> Router {
    let state = AppState {
        barrier: Arc::new(Barrier::new(2)),
        devices: Arc::new(NewDeviceDetector::new(MemoryDeviceStore::new(1000))),
    };
    Router::new()
        .route("/export", get(export))
        .route("/sign-in", post(sign_in))
        .route("/wait-signed-in", get(wait_signed_in))
        .route("/wait-anonymous", get(wait_anonymous))
        .with_state(state)
        .layer(layer)
}

/// A response as read off the socket, and the client's own port.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    local_port: u16,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

async fn send(addr: SocketAddr, method: &str, target: &str, headers: &[(&str, &[u8])]) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let local_port = stream.local_addr().unwrap().port();
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: 0\r\n"
    )
    .into_bytes();
    for (name, value) in headers {
        request.extend_from_slice(name.as_bytes());
        request.extend_from_slice(b": ");
        request.extend_from_slice(value);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    stream.write_all(&request).await.expect("send the request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read the reply");
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete reply");
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(": "))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
        local_port,
    }
}

/// `GET /export`, the route that emits one `data.exported`.
async fn get_export(addr: SocketAddr, headers: &[(&str, &[u8])]) -> Reply {
    send(addr, "GET", "/export", headers).await
}

/// Serves the test app behind `layer` (see `common::serve`).
fn with_server<T>(
    layer: SecurityContextLayer,
    client: impl AsyncFnOnce(SocketAddr) -> T,
) -> (Vec<Value>, T) {
    server::serve(&TempLog::new(), app(layer), client)
}

#[test]
fn the_peer_address_user_agent_and_request_are_recorded() {
    let (records, reply) = with_server(SecurityContextLayer::new(), async |addr| {
        send(
            addr,
            "GET",
            "/export?token=s3cr3t-in-query",
            &[("user-agent", FIREFOX.as_bytes())],
        )
        .await
    });
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body, "exported");
    let [record] = records.as_slice() else {
        panic!("one record expected: {records:#?}")
    };
    assert_eq!(record["client"]["ip"], "127.0.0.1");
    assert_eq!(
        record["client"]["port"], reply.local_port,
        "the peer's own port"
    );
    assert_eq!(
        record["user_agent"],
        serde_json::json!({"original": FIREFOX, "name": "Firefox", "version": "133.0",
                           "os": "Linux", "device": "desktop"})
    );
    assert_eq!(record["request"]["method"], "GET");
    assert_eq!(record["request"]["path"], "/export", "no query string");
    assert!(!record.to_string().contains("s3cr3t"), "{record}");
    let id = record["request"]["id"].as_str().unwrap();
    assert_eq!(
        uuid::Uuid::parse_str(id).unwrap().get_version_num(),
        7,
        "a generated id"
    );
    assert_eq!(
        reply.header("x-request-id"),
        Some(id),
        "echoed on the response"
    );
    assert!(
        record.get("fields").is_none(),
        "no forwarding chain, no fields: {record}"
    );
}

#[test]
fn a_valid_request_id_is_propagated_and_a_bad_one_replaced() {
    let (records, (good, bad)) = with_server(SecurityContextLayer::new(), async |addr| {
        let good = get_export(addr, &[("x-request-id", b"abc-123")]).await;
        let bad = get_export(addr, &[("x-request-id", "x".repeat(300).as_bytes())]).await;
        (good, bad)
    });
    assert_eq!(records[0]["request"]["id"], "abc-123");
    assert_eq!(good.header("x-request-id"), Some("abc-123"));
    let replaced = records[1]["request"]["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(replaced).is_ok(), "{replaced}");
    assert_eq!(bad.header("x-request-id"), Some(replaced));
}

#[test]
fn forwarded_headers_from_an_untrusted_peer_are_ignored_but_kept() {
    let layer = SecurityContextLayer::new().with_trusted_proxies("10.0.0.0/8".parse().unwrap());
    let (records, reply) = with_server(layer, async |addr| {
        get_export(addr, &[("x-forwarded-for", b"198.51.100.7")]).await
    });
    let record = &records[0];
    assert_eq!(
        record["client"]["ip"], "127.0.0.1",
        "the loopback peer is not trusted"
    );
    assert_eq!(record["client"]["port"], reply.local_port);
    assert_eq!(
        record["fields"]["http.request.header.x-forwarded-for"], "198.51.100.7",
        "the raw chain is kept for forensics"
    );
}

#[test]
fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
    let proxies = "127.0.0.1, 10.0.0.0/8, 2001:db8:ff::/48".parse().unwrap();
    let layer = SecurityContextLayer::new().with_trusted_proxies(proxies);
    let (records, _) = with_server(layer, async |addr| {
        // "6.6.6.6" was forged by the client; the edge proxy appended the address it saw.
        get_export(
            addr,
            &[("x-forwarded-for", b"6.6.6.6, 198.51.100.7, 10.0.0.2")],
        )
        .await;
        get_export(addr, &[("x-forwarded-for", b"2001:db8::7, 2001:db8:ff::1")]).await;
        // Two header lines are one list.
        get_export(
            addr,
            &[
                ("x-forwarded-for", b"203.0.113.50"),
                ("x-forwarded-for", b"10.9.9.9"),
            ],
        )
        .await;
    });
    let ips: Vec<&Value> = records.iter().map(|r| &r["client"]["ip"]).collect();
    assert_eq!(ips, ["198.51.100.7", "2001:db8::7", "203.0.113.50"]);
    assert!(
        records.iter().all(|r| r["client"].get("port").is_none()),
        "the proxy's port is not the client's"
    );
    assert_eq!(
        records[2]["fields"]["http.request.header.x-forwarded-for"],
        "203.0.113.50, 10.9.9.9"
    );
}

#[test]
fn the_forwarded_header_when_configured_and_only_it() {
    let layer = SecurityContextLayer::new()
        .with_trusted_proxies("127.0.0.0/8, 10.0.0.0/8".parse().unwrap())
        .with_forwarded_header(ForwardedHeader::Forwarded);
    let (records, _) = with_server(layer, async |addr| {
        let forwarded: &[u8] = br#"for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.1"#;
        get_export(addr, &[("forwarded", forwarded)]).await;
        // The proxies write `Forwarded`: an X-Forwarded-For is the client's own invention.
        get_export(addr, &[("x-forwarded-for", b"198.51.100.7")]).await;
    });
    assert_eq!(
        records[0]["client"],
        serde_json::json!({"ip": "2001:db8:cafe::17", "port": 4711})
    );
    assert_eq!(
        records[0]["fields"]["http.request.header.forwarded"],
        r#"for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.1"#
    );
    assert_eq!(records[1]["client"]["ip"], "127.0.0.1");
}

#[test]
fn malformed_huge_and_spoofed_headers_fall_back_to_what_is_known() {
    let layer = SecurityContextLayer::new()
        .with_trusted_proxies("127.0.0.1".parse().unwrap())
        .with_max_user_agent_len(256);
    let huge_chain = "1.2.3.4, ".repeat(2000);
    let endless_chain = vec!["198.51.100.1"; 100].join(",");
    let huge_agent = format!("{FIREFOX} {}", "A".repeat(32 * 1024));
    let (records, replies) = with_server(layer, async |addr| {
        let mut replies = Vec::new();
        for headers in [
            vec![("x-forwarded-for", huge_chain.as_bytes())],
            vec![("x-forwarded-for", endless_chain.as_bytes())],
            vec![("x-forwarded-for", b"198.51.100.7\xff\xfe".as_slice())],
            vec![(
                "x-forwarded-for",
                b"198.51.100.7, <script>, 127.0.0.1".as_slice(),
            )],
            vec![("x-forwarded-for", b"not-an-ip".as_slice())],
            vec![("user-agent", huge_agent.as_bytes())],
            vec![(
                "user-agent",
                b"Evil\xc3\x28\xa0\xa1 \xe2\x80\xa8bot\xff".as_slice(),
            )],
        ] {
            replies.push(get_export(addr, &headers).await);
        }
        replies
    });
    assert!(replies.iter().all(|r| r.status == 200), "{replies:#?}");
    assert_eq!(records.len(), 7, "{records:#?}");
    for (record, reply) in records[..3].iter().zip(&replies) {
        assert_eq!(
            record["client"],
            serde_json::json!({"ip": "127.0.0.1", "port": reply.local_port}),
            "a refused chain leaves the peer: {record}"
        );
    }
    assert_eq!(
        records[3]["client"],
        serde_json::json!({"ip": "127.0.0.1"}),
        "the walk stops at <script>: the nearest trusted hop"
    );
    assert_eq!(records[4]["client"]["port"], replies[4].local_port);
    let agent = records[5]["user_agent"]["original"].as_str().unwrap();
    assert!(
        agent.len() < 400 && tracing_security_events::is_truncated(agent),
        "{agent}"
    );
    assert_eq!(
        records[5]["user_agent"]["name"], "Firefox",
        "parsed from the kept part"
    );
    let agent = records[6]["user_agent"]["original"].as_str().unwrap();
    assert!(
        agent.starts_with("Evil\u{fffd}(") && agent.ends_with("bot\u{fffd}"),
        "{agent}"
    );
}

#[test]
fn the_actor_recorded_after_authentication_marks_later_events_only() {
    let layer = SecurityContextLayer::new().with_anonymous_id(|headers: &axum::http::HeaderMap| {
        let cookies = headers.get("cookie")?.to_str().ok()?;
        cookies
            .split(';')
            .find_map(|c| c.trim().strip_prefix("anon="))
            .map(str::to_owned)
    });
    let (records, reply) = with_server(layer, async |addr| {
        send(
            addr,
            "POST",
            "/sign-in",
            &[
                ("cookie", b"theme=dark; anon=v-981"),
                ("user-agent", FIREFOX.as_bytes()),
            ],
        )
        .await
    });
    assert_eq!(reply.body, "New");
    let failed = by_name(&records, "authentication.failed")[0];
    assert_eq!(
        failed["actor"],
        serde_json::json!({"anonymous_id": "v-981"})
    );
    let succeeded = by_name(&records, "authentication.succeeded")[0];
    assert_eq!(
        succeeded["actor"],
        serde_json::json!({"id": "42", "name": "alice", "kind": "user",
                           "anonymous_id": "v-981", "roles": ["admin"]})
    );
    assert!(
        succeeded["session"]["id"]
            .as_str()
            .unwrap()
            .starts_with("***"),
        "redacted"
    );
    let new_device = by_name(&records, "authentication.new_device")[0];
    assert_eq!(new_device["actor"]["id"], "42");
    assert_eq!(
        new_device["fields"]["device.user_agent_family"],
        "Firefox/Linux"
    );
    assert_eq!(new_device["fields"]["device.network"], "127.0.0.0/24");
    assert_eq!(new_device["request"]["id"], succeeded["request"]["id"]);
}

#[test]
fn a_known_device_is_not_new_and_another_browser_is() {
    let (records, bodies) = with_server(SecurityContextLayer::new(), async |addr| {
        let mut bodies = Vec::new();
        for agent in [FIREFOX, FIREFOX, CHROME_WINDOWS] {
            bodies.push(
                send(
                    addr,
                    "POST",
                    "/sign-in",
                    &[("user-agent", agent.as_bytes())],
                )
                .await
                .body,
            );
        }
        bodies
    });
    assert_eq!(bodies, ["New", "Known", "New"]);
    let new_devices = by_name(&records, "authentication.new_device");
    assert_eq!(new_devices.len(), 2);
    assert_eq!(
        new_devices[1]["fields"]["device.user_agent_family"],
        "Chrome/Windows 10"
    );
}

#[test]
fn a_concurrent_request_never_sees_another_requests_actor() {
    let (records, _) = with_server(SecurityContextLayer::new(), async |addr| {
        tokio::join!(
            send(addr, "GET", "/wait-signed-in", &[]),
            send(addr, "GET", "/wait-anonymous", &[]),
        )
    });
    let signed_in = by_name(&records, "api_key.rotated")[0];
    let anonymous = by_name(&records, "authorization.denied")[0];
    assert_eq!(
        signed_in["actor"],
        serde_json::json!({"id": "key-7", "kind": "api_key"})
    );
    assert!(anonymous.get("actor").is_none(), "{anonymous}");
    assert_ne!(signed_in["request"]["id"], anonymous["request"]["id"]);
    assert_ne!(signed_in["client"]["port"], anonymous["client"]["port"]);
}

#[test]
fn real_browser_strings_are_parsed() {
    let parser = UserAgentParser::new();
    let cases: &[(&str, &str, Option<&str>, DeviceClass)] = &[
        (FIREFOX, "Firefox", Some("Linux"), DeviceClass::Desktop),
        (CHROME_WINDOWS, "Chrome", Some("Windows 10"), DeviceClass::Desktop),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
            "Safari",
            Some("Mac OSX"),
            DeviceClass::Desktop,
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70",
            "Edge",
            Some("Windows 10"),
            DeviceClass::Desktop,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            "Safari",
            Some("iPhone"),
            DeviceClass::Mobile,
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
            "Chrome",
            Some("Android"),
            DeviceClass::Mobile,
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Chrome",
            Some("Android"),
            DeviceClass::Tablet,
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
            "Safari",
            Some("iPad"),
            DeviceClass::Tablet,
        ),
        (
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Googlebot",
            None,
            DeviceClass::Bot,
        ),
    ];
    for (agent, name, os, device) in cases {
        let parsed = parser
            .parse(agent)
            .unwrap_or_else(|| panic!("not parsed: {agent}"));
        assert_eq!(
            (parsed.name.as_str(), parsed.os.as_deref(), parsed.device),
            (*name, *os, *device),
            "{agent}"
        );
    }
    let curl = parser.parse("curl/8.5.0");
    assert!(curl.is_none() || curl.unwrap().device == DeviceClass::Other);
}

#[test]
fn without_parsing_only_the_original_is_kept() {
    let layer = SecurityContextLayer::new().without_user_agent_parsing();
    let (records, _) = with_server(layer, async |addr| {
        get_export(addr, &[("user-agent", FIREFOX.as_bytes())]).await
    });
    assert_eq!(
        records[0]["user_agent"],
        serde_json::json!({"original": FIREFOX})
    );
}

#[test]
fn the_query_string_only_on_request() {
    let layer = SecurityContextLayer::new().with_query(true);
    let (records, _) = with_server(layer, async |addr| {
        send(addr, "GET", "/export?format=csv&token=abc", &[]).await
    });
    assert_eq!(records[0]["request"]["path"], "/export");
    assert_eq!(records[0]["fields"]["url.query"], "format=csv&token=abc");
}

#[test]
fn a_route_without_the_layer_fails_the_extractor_clearly() {
    async fn needs_context(_: RequestSecurity) -> &'static str {
        "unreachable"
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let reply = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/", get(needs_context));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        send(addr, "GET", "/", &[]).await
    });
    assert_eq!(reply.status, 500);
    assert!(
        reply.body.contains("add SecurityContextLayer"),
        "{}",
        reply.body
    );
}

#[cfg(feature = "geoip")]
mod geoip {
    use super::*;
    use std::collections::BTreeMap;
    use tracing_security_events::http::GeoIp;

    #[derive(serde::Serialize)]
    struct CityRecord {
        country: BTreeMap<&'static str, &'static str>,
        city: BTreeMap<&'static str, BTreeMap<&'static str, &'static str>>,
        location: BTreeMap<&'static str, f64>,
    }

    #[derive(serde::Serialize)]
    struct AsnRecord {
        autonomous_system_number: u32,
        autonomous_system_organization: &'static str,
    }

    /// City and ASN databases in MaxMind format, written by an independent writer.
    fn databases(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
        let mut city = mmdb_writer::Writer::new("Test-City");
        let record = CityRecord {
            country: BTreeMap::from([("iso_code", "DE")]),
            city: BTreeMap::from([(
                "names",
                BTreeMap::from([("en", "Berlin"), ("de", "Berlin")]),
            )]),
            location: BTreeMap::from([
                ("latitude", 52.5244),
                ("longitude", 13.4105),
                ("accuracy_radius", 20.0),
            ]),
        };
        city.insert("198.51.100.0/24".parse::<ipnet::IpNet>().unwrap(), &record)
            .unwrap();
        let mut asn = mmdb_writer::Writer::new("Test-ASN");
        let record = AsnRecord {
            autonomous_system_number: 64500,
            autonomous_system_organization: "Example Net",
        };
        asn.insert("198.51.100.0/22".parse::<ipnet::IpNet>().unwrap(), &record)
            .unwrap();
        let city_path = dir.join("city.mmdb");
        let asn_path = dir.join("asn.mmdb");
        std::fs::write(&city_path, city.to_bytes().unwrap()).unwrap();
        std::fs::write(&asn_path, asn.to_bytes().unwrap()).unwrap();
        (city_path, asn_path)
    }

    #[test]
    fn the_client_is_located_from_the_databases() {
        let dir = tempfile::tempdir().unwrap();
        let (city, asn) = databases(dir.path());
        let geoip = GeoIp::open(&city).unwrap().and_open(&asn).unwrap();
        let layer = SecurityContextLayer::new()
            .with_trusted_proxies("127.0.0.1".parse().unwrap())
            .with_geoip(geoip);
        let (records, _) = with_server(layer, async |addr| {
            get_export(addr, &[("x-forwarded-for", b"198.51.100.7")]).await;
            get_export(addr, &[("x-forwarded-for", b"198.51.103.1")]).await;
            get_export(addr, &[]).await;
        });
        assert_eq!(
            records[0]["client"]["geo"],
            serde_json::json!({"country": "DE", "city": "Berlin", "asn": 64500, "lat": 52.5244, "lon": 13.4105})
        );
        assert_eq!(
            records[1]["client"]["geo"],
            serde_json::json!({"asn": 64500})
        );
        assert!(
            records[2]["client"].get("geo").is_none(),
            "loopback is nowhere"
        );
    }

    #[test]
    fn a_missing_or_broken_database_fails_at_start_up_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("GeoLite2-City.mmdb");
        let err = GeoIp::open(&missing).unwrap_err().to_string();
        assert!(
            err.contains("GeoLite2-City.mmdb") && err.contains("No such file"),
            "{err}"
        );
        let broken = dir.path().join("broken.mmdb");
        std::fs::write(&broken, b"not a database").unwrap();
        let err = GeoIp::open(&broken).unwrap_err().to_string();
        assert!(err.contains("broken.mmdb"), "{err}");
    }
}

/// Any tower service, not only axum: the peer from a `SocketAddr` extension or a custom lookup.
#[test]
fn a_plain_tower_service_with_its_own_peer_lookup() {
    use tower::{Layer, ServiceExt};

    /// What a server other than axum might put into the extensions.
    #[derive(Clone)]
    struct RemoteAddr(SocketAddr);

    let service = tower::service_fn(|_request: axum::http::Request<String>| async {
        security_event!(SecurityEvent::SensitiveDataRead, target.id = "payroll");
        Ok::<_, std::convert::Infallible>(axum::http::Response::new(String::new()))
    });
    let plain = SecurityContextLayer::new().layer(service);
    let custom = SecurityContextLayer::new()
        .with_peer_address(|ext: &axum::http::Extensions| ext.get::<RemoteAddr>().map(|a| a.0))
        .layer(service);
    let log = TempLog::new();
    let (records, _) = run(&log, log.builder(), || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut request = axum::http::Request::new(String::new());
        request
            .extensions_mut()
            .insert("192.0.2.1:4000".parse::<SocketAddr>().unwrap());
        runtime.block_on(plain.oneshot(request)).unwrap();
        let mut request = axum::http::Request::new(String::new());
        request
            .extensions_mut()
            .insert(RemoteAddr("[2001:db8::5]:4001".parse().unwrap()));
        runtime.block_on(custom.oneshot(request)).unwrap();
    });
    assert_eq!(
        records[0]["client"],
        serde_json::json!({"ip": "192.0.2.1", "port": 4000})
    );
    assert_eq!(
        records[1]["client"],
        serde_json::json!({"ip": "2001:db8::5", "port": 4001})
    );
}

#[test]
fn in_tests_the_peer_comes_from_axums_mock_connect_info() {
    use axum::extract::connect_info::MockConnectInfo;
    use tower::ServiceExt;

    let log = TempLog::new();
    let builder = log.builder();
    let (records, _) = run(&log, builder, || {
        let peer: SocketAddr = "198.51.100.23:40123".parse().unwrap();
        let app = Router::new()
            .route("/export", get(export))
            .layer(SecurityContextLayer::new())
            .layer(MockConnectInfo(peer));
        let request = axum::http::Request::get("/export")
            .body(axum::body::Body::empty())
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let response = runtime.block_on(app.oneshot(request)).unwrap();
        assert_eq!(response.status(), 200);
    });
    let [record] = records.as_slice() else {
        panic!("one record expected: {records:#?}")
    };
    assert_eq!(
        record["client"],
        serde_json::json!({"ip": "198.51.100.23", "port": 40123})
    );
}
