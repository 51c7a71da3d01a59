//! Notifications and detections against real receivers: an axum webhook server on 127.0.0.1
//! that checks signatures with its own HMAC code, an SMTP server (aiosmtpd), a callback.
#![cfg(feature = "notify")]

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use common::{by_name, TempLog};
use hmac::{KeyInit, Mac};
use serde_json::Value;
use tracing_security_events::notify::{
    Callback, Email, ImpossibleTravel, NotifyConfig, NotifySeverity, Retry, Rule, SmtpSecurity,
    Threshold, Throttle, Webhook, WebhookFormat,
};
use tracing_security_events::query::{Field, Query};
use tracing_security_events::{security_event, SecurityEvent};
use tracing_subscriber::prelude::*;

const KEY: &[u8] = b"the webhook key shared with the receiver";

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

/// A webhook receiver on 127.0.0.1: answers the statuses of `answers` in turn (the last one
/// from then on), keeps every request.
struct Receiver {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Receiver {
    fn start(answers: Vec<u16>) -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, addr) = std::sync::mpsc::channel();
        let kept = received.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let app = axum::Router::new().route(
                    "/hook",
                    axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                        let kept = kept.clone();
                        let answers = answers.clone();
                        async move {
                            let mut kept = kept.lock().unwrap();
                            kept.push(Received { headers, body });
                            let status = answers[(kept.len() - 1).min(answers.len() - 1)];
                            StatusCode::from_u16(status).unwrap()
                        }
                    }),
                );
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                ready.send(listener.local_addr().unwrap()).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Receiver {
            addr: addr.recv().unwrap(),
            received,
            _stop: stop,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// The receiver's own check of a signature header: HMAC-SHA256 over `t.body`, compared in
/// constant time by the hmac crate, and a time within five minutes.
fn verify(header: &str, body: &[u8]) -> bool {
    let mut time = None;
    let mut tag = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", t)) => time = t.parse::<i64>().ok(),
            Some(("v1", hex)) => tag = Some(hex.to_owned()),
            _ => {}
        }
    }
    let (Some(time), Some(tag)) = (time, tag) else {
        return false;
    };
    if (chrono::Utc::now().timestamp() - time).abs() > 300 {
        return false;
    }
    let tag: Option<Vec<u8>> = (0..tag.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(tag.get(i..i + 2)?, 16).ok())
        .collect();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(KEY).unwrap();
    mac.update(format!("{time}.").as_bytes());
    mac.update(body);
    tag.is_some_and(|tag| mac.verify_slice(&tag).is_ok())
}

/// Runs `body` under a log of `log` with `notifications`; flushes (which waits for the rules
/// and deliveries) twice, so that records the notification threads wrote are evaluated too.
fn run_with(log: &TempLog, notifications: NotifyConfig, body: impl FnOnce()) -> Vec<Value> {
    let (layer, guard) = log
        .builder()
        .with_notifications(notifications)
        .build()
        .expect("build");
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, body);
    guard.flush().expect("flush");
    guard.flush().expect("flush again");
    guard.shutdown().expect("shutdown");
    log.records()
}

/// A rule without a throttle.
fn rule(name: &str, condition: &str, severity: NotifySeverity) -> Rule {
    Rule::new(name, Query::parse(condition).unwrap(), severity)
}

fn fast_retry(retries: u32) -> Retry {
    Retry {
        retries,
        backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
    }
}

fn role_change(actor: &str) {
    let span = tracing::info_span!("request", actor.id = actor, client.ip = "203.0.113.7");
    let _entered = span.enter();
    security_event!(
        SecurityEvent::UserRoleChanged,
        target.id = "7",
        "{actor} made user 7 admin"
    );
}

#[test]
fn a_webhook_gets_the_signed_record_after_two_retries() {
    let receiver = Receiver::start(vec![500, 500, 200]);
    let log = TempLog::new();
    let webhook = Webhook::new(&receiver.url())
        .unwrap()
        .with_header("Authorization", "Bearer receiver-token")
        .unwrap()
        .with_signing_key(KEY.to_vec());
    let notifications = NotifyConfig::new()
        .transport_with_retry("ops", webhook, fast_retry(3))
        .rule(rule(
            "role changed",
            "event = user.role_changed",
            NotifySeverity::Alert,
        ));
    let stats = notifications.stats();
    let records = run_with(&log, notifications, || {
        security_event!(SecurityEvent::LoginSucceeded);
        role_change("42");
        security_event!(SecurityEvent::LoginFailed);
    });

    let received = receiver.received();
    assert_eq!(received.len(), 3, "two refusals, then delivered");
    let line = std::fs::read_to_string(&log.path)
        .unwrap()
        .lines()
        .find(|l| l.contains("user.role_changed"))
        .unwrap()
        .to_owned();
    // As every sink receives it: the file's hash chain is the file's own.
    let line = format!("{}}}", line.rsplit_once(r#","integrity":"#).unwrap().0);
    for request in &received {
        assert_eq!(request.headers["content-type"], "application/json");
        assert_eq!(request.headers["authorization"], "Bearer receiver-token");
        let signature = request.headers["security-log-signature"].to_str().unwrap();
        assert!(verify(signature, &request.body), "{signature}");
        assert!(!verify(signature, b"{\"forged\":true}"));
        // The record goes out byte for byte as written.
        let body = std::str::from_utf8(&request.body).unwrap();
        assert_eq!(
            body,
            format!(
                r#"{{"rule":"role changed","severity":"alert","suppressed":0,"record":{line}}}"#
            )
        );
    }
    let stats = stats.get();
    assert_eq!((stats.delivered, stats.retries, stats.failed), (1, 2, 0));
    assert!(by_name(&records, "audit.notification_failed").is_empty());
}

#[test]
fn a_webhook_that_stays_down_is_counted_and_recorded_without_a_loop() {
    let receiver = Receiver::start(vec![503]);
    let log = TempLog::new();
    let notifications = NotifyConfig::new()
        .transport_with_retry("ops", Webhook::new(&receiver.url()).unwrap(), fast_retry(2))
        // Every record: the failure record too, if the loop guard did not hold.
        .rule(Rule::new(
            "everything",
            Query::new(),
            NotifySeverity::Notice,
        ));
    let stats = notifications.stats();
    let records = run_with(&log, notifications, || role_change("42"));

    assert_eq!(receiver.received().len(), 3, "one try and two retries");
    let failed = by_name(&records, "audit.notification_failed");
    assert_eq!(failed.len(), 1, "{records:#?}");
    let changed = by_name(&records, "user.role_changed")[0];
    let fields = &failed[0]["fields"];
    assert_eq!(fields["rule"], "everything");
    assert_eq!(fields["transport"], "ops");
    assert_eq!(fields["attempts"], 3);
    assert_eq!(fields["record_id"], changed["id"]);
    assert!(
        fields["error"].as_str().unwrap().contains("503"),
        "{fields}"
    );
    assert_eq!(
        failed[0]["message"],
        "a notification of everything could not be sent through ops"
    );
    let stats = stats.get();
    assert_eq!((stats.delivered, stats.failed), (0, 1));
}

#[test]
fn throttles_send_once_and_say_how_many_they_held_back() {
    let log = TempLog::new();
    let (sent, got) = crossbeam_channel::unbounded();
    let callback = Callback::new(move |n: &tracing_security_events::notify::Notification| {
        sent.send((n.rule.clone(), n.suppressed, n.record.clone()))
            .unwrap();
        Ok(())
    });
    let failed = || Query::parse("event = authentication.failed").unwrap();
    let ip = || Some(Field::parse("ip").unwrap());
    let notifications = NotifyConfig::new()
        .transport("callback", callback)
        .rule(
            Rule::new("once per address", failed(), NotifySeverity::Warning)
                .with_throttle(Throttle::once(), ip()),
        )
        .rule(
            Rule::new("one a second", failed(), NotifySeverity::Notice)
                .with_throttle(Throttle::new(1, Duration::from_secs(1)), ip()),
        );
    let (layer, guard) = log
        .builder()
        .with_notifications(notifications)
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    let fail_from = |ip: &str| {
        let span = tracing::info_span!("request", client.ip = ip);
        let _entered = span.enter();
        security_event!(SecurityEvent::LoginFailed);
    };
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..3 {
            fail_from("203.0.113.7");
        }
        fail_from("198.51.100.1");
        guard.flush().unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        fail_from("203.0.113.7");
    });
    guard.shutdown().unwrap();
    let got: Vec<_> = got.try_iter().collect();
    let of = |rule: &str| {
        got.iter()
            .filter(|(r, ..)| r == rule)
            .map(|(_, suppressed, _)| *suppressed)
            .collect::<Vec<_>>()
    };
    assert_eq!(of("once per address"), [0, 0], "one per address, ever");
    assert_eq!(
        of("one a second"),
        [0, 0, 2],
        "the third for 203.0.113.7 says two were held back"
    );
}

/// The STARTTLS server: TLS before AUTH, one user.
const STARTTLS_SERVER: &str = r#"
import ssl, sys, time
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult

port, maildir, ca_path, user, password = sys.argv[1:6]
ca = trustme.CA()
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ca.issue_cert("127.0.0.1").configure_cert(context)

def authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == user.encode() and auth_data.password == password.encode()
    return AuthResult(success=ok, handled=False)

controller = Controller(Mailbox(maildir), hostname="127.0.0.1", port=int(port),
                        tls_context=context, require_starttls=True,
                        authenticator=authenticate, auth_require_tls=True)
controller.start()
ca.cert_pem.write_to_path(ca_path)
while True:
    time.sleep(3600)
"#;

/// aiosmtpd on 127.0.0.1, storing messages in a Maildir; `None` when Python or aiosmtpd is
/// missing (a failure instead when NOTIFY_TEST_REQUIRE_SMTP is set, as in CI).
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl SmtpServer {
    /// A plain server, as the `aiosmtpd` command starts it.
    fn start() -> Option<SmtpServer> {
        Self::spawn(|command, port, maildir| {
            command
                .args(["-m", "aiosmtpd", "-n", "-l"])
                .arg(format!("127.0.0.1:{port}"))
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                .arg(maildir.join("mail"));
        })
    }

    /// A server that requires STARTTLS, then AUTH as `user` with `password`; its certificate
    /// comes from a CA made for the test (trustme), written to `ca.pem` in the maildir's folder.
    fn start_tls(user: &str, password: &str) -> Option<SmtpServer> {
        Self::spawn(|command, port, maildir| {
            let script = maildir.join("server.py");
            std::fs::write(&script, STARTTLS_SERVER).unwrap();
            command
                .arg(script)
                .arg(port.to_string())
                .arg(maildir.join("mail"))
                .arg(maildir.join("ca.pem"))
                .args([user, password]);
        })
        .filter(|server| {
            let deadline = Instant::now() + Duration::from_secs(20);
            while !server.ca_path().exists() {
                assert!(Instant::now() < deadline, "the server wrote no CA");
                std::thread::sleep(Duration::from_millis(50));
            }
            true
        })
    }

    fn ca_path(&self) -> PathBuf {
        self.maildir.path().join("ca.pem")
    }

    fn spawn(configure: impl FnOnce(&mut Command, u16, &std::path::Path)) -> Option<SmtpServer> {
        let python = std::env::var("NOTIFY_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let required = std::env::var_os("NOTIFY_TEST_REQUIRE_SMTP").is_some();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir = tempfile::tempdir().unwrap();
        let mut command = Command::new(&python);
        configure(&mut command, port, maildir.path());
        let child = command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(e) if !required => {
                eprintln!("skipped: cannot run {python}: {e}");
                return None;
            }
            Err(e) => panic!("cannot run {python}: {e}"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).ok();
                assert!(!required, "aiosmtpd exited ({status}): {err}");
                eprintln!("skipped: aiosmtpd is not installed ({err})");
                return None;
            }
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(SmtpServer {
            child,
            port,
            maildir,
        })
    }

    /// The messages received, as text.
    fn messages(&self) -> Vec<String> {
        let new: PathBuf = self.maildir.path().join("mail").join("new");
        let Ok(entries) = std::fs::read_dir(new) else {
            return Vec::new();
        };
        entries
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_brute_force_run_gives_one_failed_max_and_one_notification_per_transport() {
    let smtp = SmtpServer::start();
    let receiver = Receiver::start(vec![200]);
    let log = TempLog::new();
    let (sent, got) = crossbeam_channel::unbounded();
    let mut notifications = NotifyConfig::new()
        .transport(
            "webhook",
            Webhook::new(&receiver.url())
                .unwrap()
                .with_signing_key(KEY.to_vec()),
        )
        .transport(
            "chat",
            Webhook::new(&receiver.url())
                .unwrap()
                .with_format(WebhookFormat::Slack),
        )
        .transport(
            "callback",
            Callback::new(move |n: &tracing_security_events::notify::Notification| {
                sent.send(n.clone()).unwrap();
                Ok(())
            }),
        )
        .rule(rule(
            "brute force",
            "event = authentication.failed_max",
            NotifySeverity::Alert,
        ))
        .detection(Threshold::new(
            "sign-in failures",
            Query::parse("event = authentication.failed").unwrap(),
            Field::parse("client.ip").unwrap(),
            10,
            Duration::from_secs(60),
        ));
    if let Some(smtp) = &smtp {
        notifications = notifications.transport(
            "email",
            Email::builder("127.0.0.1", "Security log <security-log@example.com>")
                .port(smtp.port)
                .security(SmtpSecurity::None)
                .to("secops@example.com")
                .build()
                .unwrap(),
        );
    }
    let stats = notifications.stats();
    let records = run_with(&log, notifications, || {
        for i in 0..60 {
            // Normal traffic: sign-ins, and a few failures from many addresses.
            let ip = format!("198.51.100.{}", i % 20);
            let span = tracing::info_span!("request", actor.id = %i, client.ip = %ip);
            let _entered = span.enter();
            if i % 3 == 0 {
                security_event!(SecurityEvent::LoginFailed);
            } else {
                security_event!(SecurityEvent::LoginSucceeded);
            }
            if i % 3 == 1 {
                // The attack: 20 failures of one address against one account.
                let span = tracing::info_span!(
                    "attack",
                    actor.name = "alice",
                    client.ip = "203.0.113.7",
                    tenant.id = "acme"
                );
                let _entered = span.enter();
                security_event!(SecurityEvent::LoginFailed);
            }
        }
    });

    let failures: Vec<&Value> = by_name(&records, "authentication.failed")
        .into_iter()
        .filter(|r| r["client"]["ip"] == "203.0.113.7")
        .collect();
    assert_eq!(failures.len(), 20);
    let max = by_name(&records, "authentication.failed_max");
    assert_eq!(
        max.len(),
        1,
        "one record for the attack, none for normal traffic"
    );
    let max = max[0];
    assert_eq!(max["event"]["owasp"], "authn_login_fail_max");
    assert_eq!(max["client"]["ip"], "203.0.113.7");
    assert_eq!(max["actor"]["name"], "alice");
    assert_eq!(max["tenant"]["id"], "acme");
    let fields = &max["fields"];
    assert_eq!(fields["count"], 10);
    assert_eq!(fields["window"], "1m");
    assert_eq!(fields["key"], "203.0.113.7");
    assert_eq!(fields["first_id"], failures[0]["id"]);
    assert_eq!(fields["last_id"], failures[9]["id"]);
    assert_eq!(max["message"], "10 failed sign-ins within 1m");

    // One notification per transport.
    let callback: Vec<_> = got.try_iter().collect();
    assert_eq!(callback.len(), 1);
    assert_eq!(callback[0].rule, "brute force");
    let received = receiver.received();
    assert_eq!(received.len(), 2, "the signed webhook and the chat webhook");
    let (signed, chat): (Vec<_>, Vec<_>) = received
        .iter()
        .partition(|r| r.headers.contains_key("security-log-signature"));
    let body: Value = serde_json::from_slice(&signed[0].body).unwrap();
    let mut written = max.clone();
    written.as_object_mut().unwrap().remove("integrity");
    assert_eq!(body["record"], written);
    let chat: Value = serde_json::from_slice(&chat[0].body).unwrap();
    let text = chat["text"].as_str().unwrap();
    assert!(
        text.starts_with("[alert] brute force: authentication.failed_max by alice"),
        "{text}"
    );
    assert!(text.contains("client: 203.0.113.7"), "{text}");
    if let Some(smtp) = &smtp {
        let messages = smtp.messages();
        assert_eq!(messages.len(), 1, "one email");
        let message = &messages[0];
        assert!(message.contains("To: secops@example.com"), "{message}");
        assert!(
            message.contains("Subject: [alert] brute force: authentication.failed_max by alice"),
            "{message}"
        );
        assert!(
            message.contains("10 failed sign-ins within 1m"),
            "{message}"
        );
        assert!(message.contains("The record as written:"), "{message}");
    }
    let stats = stats.get();
    let transports = if smtp.is_some() { 4 } else { 3 };
    assert_eq!(stats.delivered, transports);
    assert_eq!(stats.detections, 1);
}

#[test]
fn two_geolocated_sign_ins_too_far_apart_are_impossible_travel() {
    let log = TempLog::new();
    let notifications = NotifyConfig::new().detection(ImpossibleTravel::new("travel"));
    let sign_in = |actor: &str, ip: &str, city: &str, lat: f64, lon: f64| {
        let span = tracing::info_span!(
            "request",
            actor.id = actor,
            client.ip = ip,
            client.geo.city = city,
            client.geo.lat = lat,
            client.geo.lon = lon,
        );
        let _entered = span.enter();
        security_event!(SecurityEvent::LoginSucceeded);
    };
    let records = run_with(&log, notifications, || {
        sign_in("42", "192.0.2.1", "Berlin", 52.52, 13.405);
        // 27 km away: not reported, however soon.
        sign_in("42", "192.0.2.2", "Potsdam", 52.39, 13.065);
        sign_in("43", "192.0.2.9", "New York", 40.7128, -74.006);
        // Another actor in New York: not actor 42's journey.
        sign_in("42", "198.51.100.4", "New York", 40.7128, -74.006);
    });
    let travel = by_name(&records, "authentication.impossible_travel");
    assert_eq!(travel.len(), 1, "{records:#?}");
    let travel = travel[0];
    let sign_ins = by_name(&records, "authentication.succeeded");
    assert_eq!(travel["actor"]["id"], "42");
    assert_eq!(travel["client"]["geo"]["city"], "New York");
    assert_eq!(travel["client"]["geo"]["lat"], 40.7128);
    let fields = &travel["fields"];
    assert_eq!(fields["from_city"], "Potsdam");
    assert_eq!(fields["from_ip"], "192.0.2.2");
    assert_eq!(fields["from_id"], sign_ins[1]["id"]);
    let distance = fields["distance_km"].as_f64().unwrap();
    assert!((6350.0..6450.0).contains(&distance), "{distance}");
    assert!(fields["speed_kmh"].as_f64().unwrap() > 1000.0);
    assert_eq!(travel["event"]["owasp"], "authn_impossible_travel");
}

#[test]
fn a_full_rule_queue_never_holds_back_the_log_and_its_losses_are_recorded() {
    let log = TempLog::new();
    let (sent, got) = crossbeam_channel::unbounded();
    let notifications = NotifyConfig::new()
        .with_queue_capacity(4)
        .transport(
            "callback",
            Callback::new(move |_: &tracing_security_events::notify::Notification| {
                sent.send(()).unwrap();
                Ok(())
            }),
        )
        .rule(rule(
            "failures",
            "event = authentication.failed",
            NotifySeverity::Notice,
        ));
    let stats = notifications.stats();
    let records = run_with(&log, notifications, || {
        for i in 0..5000 {
            security_event!(SecurityEvent::LoginFailed, i = i);
        }
    });
    assert_eq!(
        by_name(&records, "authentication.failed").len(),
        5000,
        "the file has every record"
    );
    let stats = stats.get();
    assert!(stats.overflowed > 0, "{stats:?}");
    let recorded: u64 = by_name(&records, "audit.events_dropped")
        .iter()
        .filter(|r| r["fields"]["sink"] == "notify")
        .map(|r| r["fields"]["dropped"].as_u64().unwrap())
        .sum();
    assert_eq!(recorded, stats.overflowed, "every loss recorded");
    let notified = got.try_iter().count() as u64;
    // Each failure was either evaluated (and notified: the rule has no throttle) or lost
    // with the overflow, which counts the log's own records too.
    assert!(
        notified < 5000 && notified + stats.overflowed >= 5000,
        "{notified} {stats:?}"
    );
    assert_eq!(notified, stats.delivered);
}

#[cfg(feature = "config")]
mod configured {
    use super::*;
    use tracing_security_events::config::{Config, ConfigError};
    use tracing_security_events::Builder;

    fn config(log: &TempLog, notify: &str) -> Config {
        let text = format!(
            "[[sinks]]\ntype = \"file\"\npath = {:?}\n{notify}",
            log.path.display().to_string()
        );
        Config::parse(&text, "notify.toml", Vec::new()).expect("the configuration parses")
    }

    fn refused(notify: &str) -> String {
        let log = TempLog::new();
        let config = config(&log, notify);
        match Builder::from_config(&config).build::<tracing_subscriber::Registry>() {
            Ok(_) => panic!("accepted: {notify}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn notifications_and_detections_from_the_file_and_a_reload_that_replaces_them() {
        let receiver = Receiver::start(vec![200]);
        let log = TempLog::new();
        let key_file = log.dir.path().join("hook.key");
        std::fs::write(&key_file, KEY).unwrap();
        let transports = format!(
            r#"
[[transports]]
type = "webhook"
name = "ops"
url = "{}"
signing_key_file = {:?}
headers = {{ "X-Team" = "secops" }}
retry = {{ retries = 1, backoff = "10ms" }}
"#,
            receiver.url(),
            key_file.display().to_string()
        );
        let first = format!(
            r#"{transports}
[[notifications]]
name = "brute force"
when = "event = authentication.failed_max"
severity = "alert"
send_to = ["ops"]
throttle = {{ once = true, group_by = "client.ip" }}

[[detections]]
type = "threshold"
name = "sign-in failures"
when = "event = authentication.failed"
group_by = "ip"
count = 5
window = "1m"
"#
        );
        let transports = transports.replace("retries = 1", "retries = 2");
        let second = format!(
            r#"{transports}
[[notifications]]
name = "api keys"
when = "event like 'api_key.*'"
"#
        );
        let (layer, guard, reload) = Builder::from_config(&config(&log, &first))
            .build_with_reload()
            .unwrap();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", client.ip = "203.0.113.7");
            let _entered = span.enter();
            for _ in 0..5 {
                security_event!(SecurityEvent::LoginFailed);
            }
            guard.flush().unwrap();
            guard.flush().unwrap();
            reload.reload(config(&log, &second)).unwrap();
            for _ in 0..5 {
                security_event!(SecurityEvent::LoginFailed);
            }
            security_event!(SecurityEvent::ApiKeyRotated);
            guard.flush().unwrap();
        });
        guard.shutdown().unwrap();
        let records = log.records();
        assert_eq!(
            by_name(&records, "authentication.failed_max").len(),
            1,
            "the detection is gone after the reload"
        );
        let changed = by_name(&records, "audit.config_changed");
        let changes = changed.last().unwrap()["changes"].to_string();
        assert!(
            changes.contains("notifications") && changes.contains("detections"),
            "{changes}"
        );
        assert!(
            !changes.contains(std::str::from_utf8(KEY).unwrap()),
            "no secret in the diff"
        );
        // The transports changed (their retries): shown without the URL's path or header values.
        assert!(
            changes.contains("transports") && changes.contains("127.0.0.1"),
            "{changes}"
        );
        assert!(
            !changes.contains("/hook\"") && !changes.contains("secops"),
            "{changes}"
        );
        let received = receiver.received();
        let rules: Vec<String> = received
            .iter()
            .map(|r| {
                assert_eq!(r.headers["x-team"], "secops");
                let signature = r.headers["security-log-signature"].to_str().unwrap();
                assert!(verify(signature, &r.body));
                let body: Value = serde_json::from_slice(&r.body).unwrap();
                body["rule"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(rules, ["brute force", "api keys"]);
    }

    #[test]
    fn a_bad_notification_setting_names_its_key() {
        let webhook = "[[transports]]\ntype = \"webhook\"\nname = \"ops\"\nurl = \"https://hooks.example.com/x\"\n";
        let cases = [
            (
                format!("{webhook}[[notifications]]\nname = \"a\"\nwhen = \"evnt = x\"\n"),
                "`notifications[0].when`",
            ),
            (
                format!("{webhook}[[notifications]]\nname = \"a\"\nwhen = \"event = x.y\"\nsend_to = [\"pager\"]\n"),
                "`notifications[0].send_to[0]`",
            ),
            (
                "[[transports]]\ntype = \"webhook\"\nname = \"ops\"\nurl = \"ftp://x\"\n".to_owned(),
                "`transports[0].url`",
            ),
            (
                "[[transports]]\ntype = \"webhook\"\nname = \"ops\"\nurl_env = \"NOTIFY_TEST_UNSET_URL\"\n".to_owned(),
                "`transports[0].url_env`",
            ),
            (
                "[[detections]]\ntype = \"threshold\"\nname = \"d\"\nwhen = \"event = authentication.failed\"\ngroup_by = \"ip\"\ncount = 0\nwindow = \"1m\"\n".to_owned(),
                "`detections[0].count`",
            ),
            (
                "[[detections]]\ntype = \"impossible_travel\"\nname = \"t\"\nwrites = \"authentication.teleported\"\n".to_owned(),
                "`detections[0].writes`",
            ),
        ];
        for (notify, key) in cases {
            let message = refused(&notify);
            assert!(message.contains(key), "{key} not in: {message}");
        }
        let log = TempLog::new();
        let text = format!(
            "[[sinks]]\ntype = \"file\"\npath = {:?}\n[[notifications]]\nname = \"a\"\nwhen = \"event = x.y\"\nseverity = \"loud\"\n",
            log.path.display().to_string()
        );
        let err: ConfigError = Config::parse(&text, "notify.toml", Vec::new()).unwrap_err();
        assert!(err.to_string().contains("loud"), "{err}");
    }
}

#[test]
fn email_goes_over_starttls_with_authentication_and_a_refused_password_is_not_retried() {
    let Some(smtp) = SmtpServer::start_tls("alerts", "the right password") else {
        return;
    };
    let ca = std::fs::read(smtp.ca_path()).unwrap();
    let email = |password: &str| {
        Email::builder("127.0.0.1", "security-log@example.com")
            .port(smtp.port)
            .security(SmtpSecurity::StartTls)
            .add_root_certificate(ca.clone())
            .credentials("alerts", password)
            .to("secops@example.com")
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap()
    };
    let log = TempLog::new();
    let notifications = NotifyConfig::new()
        .transport_with_retry("mail", email("the right password"), fast_retry(2))
        .transport_with_retry("wrong", email("a wrong password"), fast_retry(2))
        .rule(rule(
            "role changed",
            "event = user.role_changed",
            NotifySeverity::Alert,
        ));
    let stats = notifications.stats();
    let records = run_with(&log, notifications, || role_change("42"));

    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "{records:#?}");
    assert!(
        messages[0].contains("Subject: [alert] role changed: user.role_changed by 42"),
        "{}",
        messages[0]
    );
    assert!(messages[0].contains("42 made user 7 admin"));
    let failed = by_name(&records, "audit.notification_failed");
    assert_eq!(failed.len(), 1, "{:?} {failed:?}", stats.get());
    assert_eq!(failed[0]["fields"]["transport"], "wrong");
    assert_eq!(
        failed[0]["fields"]["attempts"], 1,
        "a refused password is not retried"
    );
    let error = failed[0]["fields"]["error"].as_str().unwrap();
    assert!(error.contains("535"), "{error}");
    assert!(!error.contains("a wrong password"), "{error}");
    let stats = stats.get();
    assert_eq!((stats.delivered, stats.failed, stats.retries), (1, 1, 0));
}

#[test]
fn a_callback_that_panics_fails_its_notification_and_the_next_one_is_delivered() {
    let log = TempLog::new();
    let (sent, got) = crossbeam_channel::unbounded();
    let mut calls = 0;
    let notifications = NotifyConfig::new()
        .transport(
            "flaky",
            Callback::new(move |n: &tracing_security_events::notify::Notification| {
                calls += 1;
                assert!(calls > 1, "a bug in the service's callback");
                sent.send(n.record_id()).unwrap();
                Ok(())
            }),
        )
        .rule(rule(
            "role changed",
            "event = user.role_changed",
            NotifySeverity::Alert,
        ));
    let stats = notifications.stats();
    let records = run_with(&log, notifications, || {
        role_change("1");
        role_change("2");
    });
    let changes = by_name(&records, "user.role_changed");
    let failed = by_name(&records, "audit.notification_failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["fields"]["error"], "the transport panicked");
    assert_eq!(failed[0]["fields"]["record_id"], changes[0]["id"]);
    let delivered: Vec<_> = got.try_iter().collect();
    assert_eq!(delivered, [changes[1]["id"].as_str().map(str::to_owned)]);
    let stats = stats.get();
    assert_eq!((stats.delivered, stats.failed, stats.panics), (1, 1, 0));
}
