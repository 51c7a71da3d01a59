//! A brute-force attack, detected and notified: the log counts failed sign-ins per address,
//! writes `authentication.failed_max` when ten come within a minute, and a rule sends it to a
//! signed webhook, which this example serves itself on 127.0.0.1 and prints.
//!
//! ```text
//! cargo run --example notify --features notify [PATH]    # default: a temporary file
//! ```
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example shows what it does"
)]

use std::error::Error;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use tracing_security_events::notify::{
    verify_signature, NotifyConfig, NotifySeverity, Rule, Threshold, Throttle, Webhook,
    SIGNATURE_HEADER,
};
use tracing_security_events::query::{Field, Query};
use tracing_security_events::{security_event, SecurityEvent};
use tracing_subscriber::prelude::*;

const KEY: &[u8] = b"the key the receiver shares with the service";
const ATTACKER: &str = "203.0.113.7";

fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let path = std::env::args()
        .nth(1)
        .map_or_else(|| dir.path().join("security.jsonl"), Into::into);

    // The receiver: what a team's alerting endpoint does with the webhook.
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/security-hook", listener.local_addr()?);
    let (received, deliveries) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if let Ok(delivery) = receive(stream) {
                let _ = received.send(delivery);
            }
        }
    });
    println!("webhook receiver listening at {url}");

    let notifications = NotifyConfig::new()
        .transport("ops", Webhook::new(&url)?.with_signing_key(KEY.to_vec()))
        .detection(Threshold::new(
            "failed sign-ins per address",
            Query::parse("event = authentication.failed")?,
            Field::parse("client.ip")?,
            10,
            Duration::from_secs(60),
        ))
        .rule(
            Rule::new(
                "brute force",
                Query::parse("event = authentication.failed_max")?,
                NotifySeverity::Alert,
            )
            .with_throttle(
                Throttle::new(1, Duration::from_secs(600)),
                Some(Field::parse("ip")?),
            ),
        )
        .rule(Rule::new(
            "admin role granted",
            Query::parse("event = user.role_changed and changes.roles.new ~ admin")?,
            NotifySeverity::Alert,
        ));
    let (security, guard) = tracing_security_events::builder()
        .with_file(&path)
        .with_service_name("notify-example")
        .with_notifications(notifications)
        .build()?;
    tracing_subscriber::registry().with(security).init();

    // Ordinary traffic, and 25 failed sign-ins from one address against one account.
    // Each request has its own span, side by side: a request never runs inside another's, so
    // a record carries the identity of its own request only.
    for i in 0..40 {
        let user = format!("user-{}", i % 8);
        let ip = format!("198.51.100.{}", i % 8);
        tracing::info_span!("request", actor.id = %user, client.ip = %ip)
            .in_scope(|| security_event!(SecurityEvent::LoginSucceeded));
        if i < 25 {
            tracing::info_span!("request", actor.name = "alice", client.ip = ATTACKER).in_scope(
                || {
                    security_event!(
                        SecurityEvent::LoginFailed,
                        authentication.method = "password"
                    )
                },
            );
        }
    }
    {
        let span = tracing::info_span!("request", actor.id = "1", actor.name = "root");
        let _entered = span.enter();
        security_event!(
            SecurityEvent::UserRoleChanged,
            target.id = "42",
            changes = r#"{"roles":{"old":["member"],"new":["member","admin"]}}"#,
        );
    }

    // A flush waits for the rules and the deliveries; the second one for what the detection
    // wrote during the first.
    guard.flush()?;
    guard.flush()?;
    for delivery in deliveries.try_iter() {
        println!("{delivery}");
    }
    guard.shutdown()?;
    let text = std::fs::read_to_string(&path)?;
    let detected = text
        .lines()
        .filter(|line| line.contains(r#""name":"authentication.failed_max""#))
        .count();
    println!(
        "{} records in {}, {detected} authentication.failed_max",
        text.lines().count(),
        path.display()
    );
    Ok(())
}

/// Reads one webhook request, checks its signature with the crate's receiver-side helper,
/// answers 200 (or 401), and says what came.
fn receive(stream: TcpStream) -> Result<String, Box<dyn Error>> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0;
    let mut signature = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse()?;
            } else if name.eq_ignore_ascii_case(SIGNATURE_HEADER) {
                signature = value.trim().to_owned();
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let now = chrono::Utc::now().timestamp();
    let verified = verify_signature(KEY, &signature, &body, now, Duration::from_secs(300));
    let status = if verified.is_ok() {
        "200 OK"
    } else {
        "401 Unauthorized"
    };
    write!(
        &stream,
        "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )?;
    let body: serde_json::Value = serde_json::from_slice(&body)?;
    Ok(format!(
        "received [{}] {}: {} ({}), signature {}",
        body["severity"].as_str().unwrap_or("?"),
        body["rule"].as_str().unwrap_or("?"),
        body["record"]["message"].as_str().unwrap_or("?"),
        body["record"]["event"]["name"].as_str().unwrap_or("?"),
        if verified.is_ok() {
            "verified"
        } else {
            "REFUSED"
        },
    ))
}
