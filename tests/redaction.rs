//! Secrets never leave in clear: the default keys, the three actions, in event fields, span
//! fields, nested values and `changes`, for every sink.

mod common;

use std::sync::{Arc, Mutex};

use common::{run, TempLog};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tracing_security_events::redact::{RedactionAction, RedactionRule};
use tracing_security_events::sink::{Batch, Sink};
use tracing_security_events::{security_event, security_span, Changes, SecurityEvent};

const KEY: &[u8] = b"redaction key for tests";

fn hmac_of(value: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY).unwrap();
    mac.update(value.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("hmac-sha256:{hex}")
}

/// Every default key, as a plain event field, with a value long enough to show masking.
fn emit_every_default_key() {
    security_event!(
        SecurityEvent::LoginFailed,
        password = "hunter2-hunter2",
        passwd = "correct horse battery",
        client_secret = "cs_live_0123456789",
        access_token = "tok_live_abcdefgh",
        authorization = "Bearer eyJhbGciOiJIUzI1NiJ9",
        cookie = "sid=abcdef0123456789",
        "set-cookie" = "sid=abcdef0123456789; HttpOnly",
        api_key = "ak_live_00001111",
        private_key = "-----BEGIN PRIVATE KEY-----",
        session_id = "sess_9876543210",
        session.id = "sess_0123456789",
        username = "alice",
    );
}

#[test]
fn default_rules_drop_credentials_and_mask_bearer_secrets() {
    let log = TempLog::new();
    let builder = log.builder();
    let (records, _) = run(&log, builder, emit_every_default_key);
    let fields = &records[0]["fields"];
    for dropped in ["password", "passwd", "client_secret", "private_key"] {
        assert!(
            fields.get(dropped).is_none(),
            "{dropped} must be dropped: {fields}"
        );
    }
    assert_eq!(fields["access_token"], "***efgh");
    assert_eq!(fields["authorization"], "***NiJ9");
    assert_eq!(fields["cookie"], "***6789");
    assert_eq!(fields["set-cookie"], "***Only");
    assert_eq!(fields["api_key"], "***1111");
    assert_eq!(fields["session_id"], "***3210");
    assert_eq!(records[0]["session"]["id"], "***6789");
    assert_eq!(fields["username"], "alice", "other fields are untouched");

    let text = std::fs::read_to_string(&log.path).unwrap();
    for secret in [
        "hunter2",
        "correct horse",
        "cs_live",
        "tok_live",
        "eyJhbG",
        "abcdef012",
        "ak_live",
        "PRIVATE KEY",
        "sess_",
    ] {
        assert!(!text.contains(secret), "{secret} leaked into the file");
    }
}

#[test]
fn with_a_key_session_identifiers_are_hashed_so_they_stay_correlatable() {
    let log = TempLog::new();
    let builder = log.builder().with_redaction_key(KEY);
    let (records, _) = run(&log, builder, || {
        let span = tracing::info_span!("request", session.id = "sess_0123456789");
        let _entered = span.enter();
        security_event!(SecurityEvent::SessionRenewed);
        security_event!(SecurityEvent::SessionExpired);
    });
    assert_eq!(records[0]["session"]["id"], hmac_of("sess_0123456789"));
    assert_eq!(records[0]["session"]["id"], records[1]["session"]["id"]);
}

/// The same secret in every place a value can hide.
fn emit_secret_everywhere() {
    let span = tracing::info_span!("request", actor.email = "alice@example.com");
    let _entered = span.enter();
    let export = security_span!(
        SecurityEvent::DataExported,
        pin = "pin-123456789",
        target.id = "report-1"
    );
    let _exporting = export.enter();
    security_event!(
        SecurityEvent::UserUpdated,
        pin = "pin-123456789",
        changes = %Changes::new()
            .field("pin", "pin-000000000", "pin-123456789")
            .field("profile", json!({"nested": {"pin": "pin-123456789", "age": 40}}), json!(null)),
    );
}

#[test]
fn every_action_reaches_event_fields_span_fields_nested_values_and_changes() {
    for action in [
        RedactionAction::Drop,
        RedactionAction::Mask,
        RedactionAction::Hmac,
    ] {
        let log = TempLog::new();
        let builder = log
            .builder()
            .with_redaction_key(KEY)
            .with_redaction(RedactionRule::new("pin", action))
            .with_redaction(RedactionRule::new("ACTOR.EMAIL", action));
        let (records, _) = run(&log, builder, emit_secret_everywhere);
        let (event, span) = (&records[0], &records[1]);
        let expected = |value: &str| match action {
            RedactionAction::Drop => None,
            RedactionAction::Mask => Some(Value::from(format!("***{}", &value[value.len() - 4..]))),
            _ => Some(Value::from(hmac_of(value))),
        };
        assert_eq!(
            event["fields"].get("pin").cloned(),
            expected("pin-123456789"),
            "{action:?}"
        );
        assert_eq!(
            span["fields"].get("pin").cloned(),
            expected("pin-123456789"),
            "{action:?}"
        );
        assert_eq!(
            event["actor"].get("email").cloned(),
            expected("alice@example.com")
        );
        let changes = &event["changes"];
        match action {
            RedactionAction::Drop => {
                assert!(changes.get("pin").is_none());
                assert_eq!(changes["profile"]["old"]["nested"], json!({"age": 40}));
            }
            _ => {
                assert_eq!(changes["pin"]["old"], expected("pin-000000000").unwrap());
                assert_eq!(changes["pin"]["new"], expected("pin-123456789").unwrap());
                assert_eq!(
                    changes["profile"]["old"]["nested"]["pin"],
                    expected("pin-123456789").unwrap()
                );
            }
        }
        let text = std::fs::read_to_string(&log.path).unwrap();
        assert!(
            !text.contains("123456789") && !text.contains("alice@"),
            "{action:?}: {text}"
        );
    }
}

#[test]
fn templates_never_reveal_a_redacted_value() {
    let log = TempLog::new();
    let builder = log
        .builder()
        .with_redaction(RedactionRule::new("actor.name", RedactionAction::Mask));
    let (records, _) = run(&log, builder, || {
        security_event!(SecurityEvent::LoginFailed, actor.name = "alice.wonderland");
    });
    assert_eq!(records[0]["actor"]["name"], "***land");
    assert_eq!(records[0]["message"], "***land failed to sign in");
}

/// A sink keeping everything it is handed, to check every sink sees only redacted data.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>, Arc<Mutex<Vec<String>>>);

impl Sink for Capture {
    fn name(&self) -> &str {
        "capture"
    }
    fn write(&mut self, batch: &Batch<'_>) -> std::io::Result<()> {
        self.0.lock().unwrap().extend_from_slice(batch.json_lines());
        for record in batch.records() {
            self.1.lock().unwrap().push(format!("{record:?}"));
        }
        Ok(())
    }
}

#[test]
fn rules_apply_to_every_sink() {
    let capture = Capture::default();
    let log = TempLog::new();
    let builder = log.builder().with_sink(capture.clone());
    run(&log, builder, emit_every_default_key);
    let lines = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let debug = capture.1.lock().unwrap().join("\n");
    for seen in [&lines, &debug] {
        assert!(
            !seen.contains("hunter2") && !seen.contains("ak_live"),
            "{seen}"
        );
    }
}

#[test]
fn an_hmac_rule_without_a_key_fails_the_build() {
    let log = TempLog::new();
    let err = log
        .builder()
        .with_redaction(RedactionRule::new("ssn", RedactionAction::Hmac))
        .build::<tracing_subscriber::Registry>()
        .expect_err("no key");
    assert!(
        err.to_string().contains("ssn") && err.to_string().contains("with_redaction_key"),
        "{err}"
    );
}

#[test]
fn default_rules_can_be_turned_off() {
    let log = TempLog::new();
    let builder = log.builder().without_default_redaction();
    let (records, _) = run(&log, builder, || {
        security_event!(
            SecurityEvent::LoginFailed,
            access_token = "tok_live_abcdefgh"
        );
    });
    assert_eq!(records[0]["fields"]["access_token"], "tok_live_abcdefgh");
}
