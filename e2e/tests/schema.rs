//! Pins schema v1: key order, omitted parts, formats. A change here is a change of contract.

mod common;

use common::{capture, keys};
use tracing_security_events::{security_event, Changes, SecurityEvent};

#[test]
fn a_full_record_has_the_v1_keys_in_order() {
    let records = capture(|| {
        let span = tracing::info_span!(
            "request",
            actor.id = "42",
            actor.name = "alice",
            actor.email = "alice@example.com",
            actor.kind = "user",
            actor.anonymous_id = "anon-9",
            actor.roles = "admin",
            organization.id = "acme",
            tenant.name = "Acme",
            session.id = "s-1",
            client.ip = "203.0.113.7",
            client.port = 51234,
            user_agent = "Mozilla/5.0",
            request.id = "req-1",
            http.method = "POST",
            url.path = "/login",
            source = "auth-service",
        );
        let _entered = span.enter();
        security_event!(
            SecurityEvent::UserUpdated,
            target.kind = "user",
            target.id = "77",
            target.name = "bob",
            reason = "support ticket 12",
            outcome = "success",
            ticket = 12,
            changes = %Changes::new().field("email", "a@x", "b@x"),
        );
    });
    let record = &records[0];
    assert_eq!(
        keys(record),
        [
            "schema",
            "id",
            "seq",
            "timestamp",
            "event",
            "message",
            "actor",
            "tenant",
            "session",
            "client",
            "user_agent",
            "request",
            "target",
            "fields",
            "changes",
            "service",
            "integrity"
        ]
    );
    assert_eq!(
        keys(&record["event"]),
        ["name", "category", "outcome", "severity", "owasp", "reason", "source"]
    );
    assert_eq!(
        keys(&record["actor"]),
        ["id", "name", "email", "kind", "anonymous_id", "roles"]
    );
    assert_eq!(keys(&record["tenant"]), ["id", "name"]);
    assert_eq!(
        record["tenant"]["id"], "acme",
        "organization.id is an alias"
    );
    assert_eq!(keys(&record["client"]), ["ip", "port"]);
    assert_eq!(keys(&record["request"]), ["id", "method", "path"]);
    assert_eq!(keys(&record["target"]), ["kind", "id", "name"]);
    assert_eq!(keys(&record["service"]), ["name", "instance"]);
    assert_eq!(record["schema"], 1);
    assert_eq!(
        record["changes"],
        serde_json::json!({"email": {"old": "a@x", "new": "b@x"}})
    );
    assert_eq!(keys(&record["changes"]["email"]), ["old", "new"]);
    assert_eq!(record["message"], "alice updated user bob");
}

#[test]
fn absent_parts_are_omitted_not_null() {
    let records = capture(|| security_event!(SecurityEvent::SystemStartup));
    let record = &records[0];
    assert_eq!(
        keys(record),
        [
            "schema",
            "id",
            "seq",
            "timestamp",
            "event",
            "message",
            "service",
            "integrity"
        ]
    );
    assert_eq!(keys(&record["integrity"]), ["prev", "hash"]);
    assert_eq!(
        keys(&record["event"]),
        ["name", "category", "outcome", "severity", "owasp"]
    );
    assert!(!serde_json::to_string(record).unwrap().contains("null"));
}

#[test]
fn formats_timestamp_id_and_seq() {
    let before = chrono::Utc::now();
    let records = capture(|| {
        for _ in 0..50 {
            security_event!(SecurityEvent::TokenCreated);
        }
    });
    let after = chrono::Utc::now();
    let mut last_id = uuid::Uuid::nil();
    for (n, record) in records.iter().enumerate() {
        let timestamp = record["timestamp"].as_str().unwrap();
        // RFC 3339, UTC, exactly microseconds: 2026-11-22T10:15:30.123456Z
        assert_eq!(timestamp.len(), 27, "{timestamp}");
        assert!(
            timestamp.ends_with('Z') && timestamp.as_bytes()[19] == b'.',
            "{timestamp}"
        );
        let parsed = chrono::DateTime::parse_from_rfc3339(timestamp).unwrap();
        assert!(parsed >= before - chrono::Duration::microseconds(1) && parsed <= after);

        let id: uuid::Uuid = record["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(id.get_version_num(), 7);
        assert!(id > last_id, "UUIDv7 ids sort in record order");
        last_id = id;

        assert_eq!(record["seq"], n as u64 + 1);
    }
}
