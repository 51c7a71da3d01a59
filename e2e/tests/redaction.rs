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

/// Secret-bearing field and header names as real frameworks and middleware write them: form
/// fields (Django, Rails, Devise), OAuth 2.0 and OIDC parameters, HTTP headers as tower-http,
/// reqwest and the OpenTelemetry conventions name them, cloud SDK settings and session cookies.
macro_rules! secret_names {
    ($apply:ident) => {
        $apply!(
            "password",
            "password_confirmation",
            "new_password",
            "current_password",
            "passwd",
            "passphrase",
            "pwd",
            "client_secret",
            "secret_key",
            "aws_secret_access_key",
            "x-api-key",
            "api_key",
            "apikey",
            "api-key",
            "x-goog-api-key",
            "access_token",
            "refresh_token",
            "id_token",
            "x-auth-token",
            "x-csrf-token",
            "x-xsrf-token",
            "csrfmiddlewaretoken",
            "authenticity_token",
            "authorization",
            "proxy-authorization",
            "http.request.header.authorization",
            "http.request.header.proxy-authorization",
            "http.request.header.x-api-key",
            "cookie",
            "set-cookie",
            "http.response.header.set-cookie",
            "http.request.header.cookie",
            "x-amz-security-token",
            "aws_session_token",
            "x-vault-token",
            "x-gitlab-token",
            "private_key",
            "privateKey",
            "credentials",
            "x-hasura-admin-secret",
            "jsessionid",
            "phpsessid",
            "session_id",
            "sessionid",
            "bearer_token",
            "oauth_token_secret",
            "totp_secret",
            "recovery_code",
            "database_url",
            "connection_string",
            "x-shopify-access-token",
            "HTTP_AUTHORIZATION"
        )
    };
}

macro_rules! name_list {
    ($($name:literal),+) => {
        [$($name),+]
    };
}

/// A distinct value per name, long enough that a mask keeps only its tail `wxyz`.
fn secret_for(name: &str) -> String {
    format!("s3cr3t-{name}-value-wxyz")
}

/// One event, one closed span per name, and one `changes` holding every name, nested too.
fn emit_every_secret_name() {
    macro_rules! events {
        ($($name:literal),+) => {
            $(security_event!(SecurityEvent::LoginFailed, $name = %secret_for($name), username = "alice");)+
        };
    }
    macro_rules! spans {
        ($($name:literal),+) => {
            $(drop(security_span!(SecurityEvent::DataExported, $name = %secret_for($name)));)+
        };
    }
    secret_names!(events);
    secret_names!(spans);
    let mut changes = Changes::new();
    for name in secret_names!(name_list) {
        changes = changes.field(
            name,
            secret_for(name),
            json!({ "nested": { name: secret_for(name) } }),
        );
    }
    security_event!(SecurityEvent::ConfigUpdated, changes = %changes);
}

#[test]
fn default_rules_cover_real_secret_field_and_header_names_everywhere() {
    let names = secret_names!(name_list);
    assert!(names.len() >= 40, "{} names", names.len());
    let log = TempLog::new();
    let builder = log.builder();
    let (records, _) = run(&log, builder, emit_every_secret_name);
    assert_eq!(records.len(), 2 * names.len() + 1);
    for (index, name) in names.iter().enumerate() {
        let event = &records[index]["fields"];
        let span = &records[names.len() + index]["fields"];
        for (place, fields) in [("event", event), ("span", span)] {
            match fields.get(*name) {
                None => {}
                Some(Value::String(kept)) => assert!(
                    kept == "***wxyz" || kept.starts_with("hmac-sha256:"),
                    "{name} in {place} fields kept as {kept:?}"
                ),
                Some(other) => panic!("{name} in {place} fields kept as {other}"),
            }
        }
        assert_eq!(event["username"], "alice", "other fields are untouched");
    }
    let changes = &records[2 * names.len()]["changes"];
    assert!(changes.is_object(), "{changes}");
    let text = std::fs::read_to_string(&log.path).unwrap();
    let leaked: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| text.contains(&format!("s3cr3t-{name}-")))
        .collect();
    assert!(leaked.is_empty(), "in clear: {leaked:?}");
}

#[test]
fn changes_recorded_with_debug_or_display_give_the_same_redacted_record() {
    let diff = Changes::new()
        .field("email", "a@example.com", "b@example.com")
        .field("password", "hunter2-old", "hunter2-new")
        .field(
            "integration",
            json!({"api_key": "ak_live_00001111", "settings": {"client_secret": "cs_0123456789"}}),
            json!({"api_key": "ak_live_22223333", "settings": {"client_secret": "cs_9876543210"}}),
        );
    let log = TempLog::new();
    let builder = log.builder();
    let (records, _) = run(&log, builder, || {
        security_event!(SecurityEvent::ConfigUpdated, actor.id = "admin-1", changes = %diff);
        security_event!(SecurityEvent::ConfigUpdated, actor.id = "admin-1", changes = ?diff);
    });
    assert_eq!(records.len(), 2);
    let without_identity = |record: &Value| {
        let mut record = record.clone();
        let object = record.as_object_mut().unwrap();
        for varying in ["id", "seq", "timestamp", "integrity"] {
            object.remove(varying);
        }
        serde_json::to_string(&record).unwrap()
    };
    assert_eq!(without_identity(&records[0]), without_identity(&records[1]));
    let changes = &records[1]["changes"];
    assert_eq!(changes["email"]["new"], "b@example.com");
    assert!(changes.get("password").is_none(), "{changes}");
    assert_eq!(changes["integration"]["new"]["api_key"], "***3333");
    assert!(changes["integration"]["new"]["settings"]
        .get("client_secret")
        .is_none());
    let text = std::fs::read_to_string(&log.path).unwrap();
    for secret in ["hunter2", "ak_live", "cs_0123", "cs_9876"] {
        assert!(!text.contains(secret), "{secret} in clear: {text}");
    }
}

#[test]
fn changes_that_are_not_json_are_withheld_not_written_in_clear() {
    #[derive(Debug)]
    #[allow(dead_code)] // read through Debug only
    struct Account {
        email: &'static str,
        password: &'static str,
    }
    let account = Account {
        email: "a@example.com",
        password: "hunter2-in-debug",
    };
    let log = TempLog::new();
    let builder = log.builder();
    let (records, _) = run(&log, builder, || {
        security_event!(SecurityEvent::UserUpdated, changes = ?account);
        security_event!(
            SecurityEvent::UserUpdated,
            changes = "password: hunter2-as-text"
        );
        security_event!(SecurityEvent::UserUpdated, changes = ?r#"{"password":{"old":"hunter2-quoted","new":"x"},"n":1}"#);
        security_event!(SecurityEvent::UserUpdated, changes = %json!([{"token": "tok_live_abcdefgh"}]));
    });
    let withheld = tracing_security_events::redact::WITHHELD_CHANGES;
    assert_eq!(records[0]["changes"], withheld);
    assert_eq!(records[1]["changes"], withheld);
    assert_eq!(
        records[2]["changes"],
        json!({"n": 1}),
        "a Debug string holding JSON is read as JSON"
    );
    assert_eq!(records[3]["changes"], json!([{"token": "***efgh"}]));
    let text = std::fs::read_to_string(&log.path).unwrap();
    assert!(
        !text.contains("hunter2") && !text.contains("tok_live"),
        "{text}"
    );

    let log = TempLog::new();
    let builder = log.builder().without_default_redaction();
    let (records, _) = run(&log, builder, || {
        security_event!(SecurityEvent::UserUpdated, changes = "free text");
    });
    assert_eq!(
        records[0]["changes"], "free text",
        "without rules nothing is redacted"
    );
}

#[test]
fn values_recorded_with_debug_are_masked_and_hashed_without_their_quotes() {
    let log = TempLog::new();
    let builder = log
        .builder()
        .with_redaction_key(KEY)
        .with_redaction(RedactionRule::new("card", RedactionAction::Hmac));
    let (records, _) = run(&log, builder, || {
        security_event!(
            SecurityEvent::LoginFailed,
            token = ?"tok_live_abcd@mail",
            authorization = ?"Bearer \"quoted\" tail",
            card = ?"4242 4242",
        );
        security_event!(SecurityEvent::LoginFailed, card = "4242 4242");
    });
    let fields = &records[0]["fields"];
    assert_eq!(fields["token"], "***mail");
    assert_eq!(fields["authorization"], "***tail");
    assert_eq!(fields["card"], hmac_of("4242 4242"));
    assert_eq!(
        records[1]["fields"]["card"], fields["card"],
        "? and plain hash alike"
    );
}
