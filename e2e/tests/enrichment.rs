//! Context: an event takes its own fields first, then the nearest span's, outwards, then the
//! service's; fields recorded later on a span count; spans tagged `security_event` make one
//! record when they close; the layer lives beside other layers.

mod common;

use common::{capture, read_records, SharedBuffer, TempLog};
use tracing::field::Empty;
use tracing_security_events::{security_event, security_span, SecurityEvent};
use tracing_subscriber::prelude::*;

#[test]
fn own_fields_beat_the_nearest_span_which_beats_outer_spans() {
    let records = capture(|| {
        let outer = tracing::info_span!(
            "request",
            actor.id = "outer-actor",
            actor.name = "outer-name",
            client.ip = "198.51.100.1",
            request.id = "req-1",
        );
        let _outer = outer.enter();
        let inner = tracing::info_span!("handler", actor.id = "inner-actor", target.kind = "user");
        let _inner = inner.enter();
        security_event!(
            SecurityEvent::UserUpdated,
            actor.id = "own-actor",
            target.id = "7"
        );
        security_event!(SecurityEvent::UserUpdated, target.id = "8");
    });
    let own = &records[0];
    assert_eq!(
        own["actor"]["id"], "own-actor",
        "the event's own field wins"
    );
    assert_eq!(
        own["actor"]["name"], "outer-name",
        "missing parts come from further out"
    );
    assert_eq!(own["client"]["ip"], "198.51.100.1");
    assert_eq!(own["request"]["id"], "req-1");
    assert_eq!(
        own["target"],
        serde_json::json!({"kind": "user", "id": "7"})
    );
    assert_eq!(
        own["service"]["name"], "tests",
        "then the service's static fields"
    );
    assert_eq!(own["service"]["instance"], "test-host");
    assert_eq!(
        records[1]["actor"]["id"], "inner-actor",
        "the nearest span beats the outer one"
    );
}

#[test]
fn the_tenant_is_inherited_from_spans_like_the_actor() {
    let records = capture(|| {
        let org = tracing::info_span!("org", tenant.id = "acme", tenant.name = "Acme");
        let _org = org.enter();
        let request = tracing::info_span!("request", actor.id = "42", tenant.id = Empty);
        let _request = request.enter();
        security_event!(SecurityEvent::ApiKeyRotated);
        request.record("tenant.id", "globex");
        security_event!(SecurityEvent::ApiKeyRotated);
        security_event!(SecurityEvent::ApiKeyRotated, organization.id = "initech");
    });
    let tenants: Vec<_> = records.iter().map(|r| r["tenant"].clone()).collect();
    assert_eq!(
        tenants,
        [
            serde_json::json!({"id": "acme", "name": "Acme"}),
            serde_json::json!({"id": "globex", "name": "Acme"}),
            serde_json::json!({"id": "initech", "name": "Acme"}),
        ]
    );
    assert!(records
        .iter()
        .all(|r| r["fields"].get("tenant.id").is_none()));
}

#[test]
fn fields_recorded_later_on_a_span_reach_events_after_that() {
    let records = capture(|| {
        let request = tracing::info_span!(
            "request",
            client.ip = "203.0.113.9",
            user_agent = "curl/8.5.0",
            actor.id = Empty,
            session.id = Empty,
        );
        let _entered = request.enter();
        // A child span opened before the actor is known still sees it afterwards.
        let handler = tracing::info_span!("handler", target.kind = "session");
        let _handler = handler.enter();
        security_event!(SecurityEvent::LoginFailed, actor.name = "mallory");
        request.record("actor.id", 42);
        request.record("session.id", "s-1");
        security_event!(SecurityEvent::LoginSucceeded);
    });
    assert!(records[0].get("actor").unwrap().get("id").is_none());
    assert_eq!(records[1]["actor"]["id"], "42");
    // Recorded late like the actor; masked whole by the default redaction (too short to keep 4).
    assert_eq!(records[1]["session"]["id"], "***");
    assert_eq!(records[1]["user_agent"]["original"], "curl/8.5.0");
    assert_eq!(records[1]["target"]["kind"], "session");
}

#[test]
fn opentelemetry_aliases_fill_the_same_parts() {
    let records = capture(|| {
        let span = tracing::info_span!(
            "request",
            user.id = "u-1",
            client.address = "2001:db8::7",
            client.port = 8443,
            user_agent.original = "Mozilla/5.0",
            http.request.method = "DELETE",
            url.path = "/api/keys/1",
        );
        let _entered = span.enter();
        security_event!(
            SecurityEvent::ApiKeyDeleted,
            enduser.id = "u-2",
            user.roles = "admin, ops"
        );
    });
    let record = &records[0];
    assert_eq!(record["actor"]["id"], "u-2");
    assert_eq!(
        record["actor"]["roles"],
        serde_json::json!(["admin", "ops"])
    );
    assert_eq!(
        record["client"],
        serde_json::json!({"ip": "2001:db8::7", "port": 8443})
    );
    assert_eq!(record["user_agent"]["original"], "Mozilla/5.0");
    assert_eq!(record["request"]["method"], "DELETE");
    assert_eq!(record["request"]["path"], "/api/keys/1");
}

#[test]
fn a_context_value_that_does_not_parse_is_kept_under_fields() {
    let records = capture(|| {
        security_event!(
            SecurityEvent::RateLimitExceeded,
            client.ip = "not-an-address",
            client.port = 99999,
            actor.kind = "robot",
        );
    });
    let fields = &records[0]["fields"];
    assert_eq!(fields["client.ip"], "not-an-address");
    assert_eq!(fields["client.port"], 99999);
    assert_eq!(fields["actor.kind"], "robot");
    assert!(records[0].get("client").is_none());
}

#[test]
fn a_security_span_makes_one_record_when_it_closes() {
    let records = capture(|| {
        let request = tracing::info_span!("request", actor.id = "42", client.ip = "192.0.2.1");
        let _entered = request.enter();
        let export = security_span!(
            SecurityEvent::DataExported,
            target.id = "report-9",
            rows = 10
        );
        {
            let _exporting = export.enter();
            std::thread::sleep(std::time::Duration::from_millis(20));
            // An event inside the security span inherits its context too.
            security_event!(SecurityEvent::SensitiveDataRead);
            export.record("outcome", "failure");
            export.record("reason", "quota exceeded");
        }
        drop(export);
        // Only this span's close makes a record; the plain request span never does.
    });
    assert_eq!(records.len(), 2, "{records:#?}");
    let (inner, closed) = (&records[0], &records[1]);
    assert_eq!(inner["event"]["name"], "data.sensitive_read");
    assert_eq!(inner["target"]["id"], "report-9");
    assert!(
        inner["event"].get("outcome") == Some(&"success".into()),
        "not the span's outcome"
    );

    assert_eq!(closed["event"]["name"], "data.exported");
    assert_eq!(
        closed["event"]["outcome"], "failure",
        "the recorded outcome beats the catalog's"
    );
    assert_eq!(closed["event"]["reason"], "quota exceeded");
    assert!(closed["event"]["duration_us"].as_u64().unwrap() >= 20_000);
    assert_eq!(closed["actor"]["id"], "42");
    assert_eq!(closed["client"]["ip"], "192.0.2.1");
    assert_eq!(closed["fields"]["rows"], 10);
    assert!(closed["seq"].as_u64() > inner["seq"].as_u64());
}

#[test]
fn it_composes_with_a_fmt_layer_under_set_default() {
    let log = TempLog::new();
    let (security, guard) = log.builder().build().unwrap();
    let buffer = SharedBuffer::default();
    let writer = buffer.clone();
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(move || writer.clone());
    let subscriber = tracing_subscriber::registry().with(security).with(fmt);
    {
        let _default = tracing::subscriber::set_default(subscriber);
        let span = tracing::info_span!("request", actor.id = "42");
        let _entered = span.enter();
        tracing::info!(order = 7, "an ordinary event");
        tracing::debug!("another ordinary event");
        security_event!(SecurityEvent::LoginFailed, actor.name = "alice");
    }
    guard.shutdown().unwrap();

    let records = read_records(&log.path);
    assert_eq!(records.len(), 1, "ordinary events are not security records");
    assert_eq!(records[0]["actor"]["id"], "42");

    let text = buffer.text();
    assert!(
        text.contains("an ordinary event"),
        "the fmt layer still sees everything: {text}"
    );
    assert!(
        text.contains("WARN") && text.contains("security_event=\"authentication.failed\""),
        "{text}"
    );
}

#[test]
fn nothing_of_one_event_carries_over_to_the_next() {
    // Events reuse the caller-side buffers of earlier ones once the worker is done with them:
    // each record must hold its own fields only, whatever came before on the same thread.
    let log = TempLog::new();
    let (layer, guard) = log.builder().with_queue_capacity(1).build().unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        {
            let span = tracing::info_span!("request", client.ip = "198.51.100.9");
            let _entered = span.enter();
            security_event!(
                SecurityEvent::LoginFailed,
                actor.id = "first",
                session.id = "s-1",
                changes = r#"{"role":{"old":"a","new":"b"}}"#,
                ticket = "T-1",
                attempt = 1_u64,
                "first attempt"
            );
        }
        guard.flush().unwrap();
        security_event!(SecurityEvent::LoginSucceeded, other = "x");
        guard.flush().unwrap();
    });
    guard.shutdown().unwrap();
    let records = log.records();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["actor"]["id"], "first");
    assert_eq!(records[0]["fields"]["ticket"], "T-1");
    let second = records[1].as_object().unwrap();
    for part in ["actor", "session", "client", "changes"] {
        assert!(
            !second.contains_key(part),
            "{part} carried over: {second:?}"
        );
    }
    assert_eq!(records[1]["fields"], serde_json::json!({"other": "x"}));
    assert_ne!(records[1]["message"], records[0]["message"]);
}
