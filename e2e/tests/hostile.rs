//! Attacker-controlled values never break the one-record-one-line rule, never panic, and come
//! back exactly (or cut and marked); the file is private.

mod common;

use common::{capture, run, TempLog};
use tracing_security_events::{is_truncated, security_event, SecurityEvent, DEFAULT_MAX_VALUE_LEN};

const HOSTILE: &[&str] = &[
    "carriage\rreturn",
    "line\nfeed",
    "crlf\r\n{\"schema\":1,\"seq\":1,\"event\":{\"name\":\"authentication.succeeded\"}}",
    "line\u{2028}separator\u{2029}paragraph",
    "nul\0byte",
    "\u{1b}[2J\u{1b}[31mansi\u{1b}[0m",
    "c1\u{9b}31mcsi and del\u{7f}",
    "\"}},\"forged\":true,\"x\":{\"",
    "tab\tand\u{b}vertical\u{c}feed",
];

#[test]
fn hostile_values_stay_on_one_line_and_round_trip() {
    let log = TempLog::new();
    let builder = log.builder();
    let (records, _) = run(&log, builder, || {
        for &value in HOSTILE {
            let span = tracing::info_span!("request", user_agent = value, request.id = value);
            let _entered = span.enter();
            security_event!(
                SecurityEvent::InputValidationFailed,
                actor.name = value,
                target.id = %value,
                input = value,
                debugged = ?value,
                "rejected {}", value
            );
            // A name that is itself hostile, through a plain tracing macro.
            tracing::warn!(security_event = value);
        }
    });
    let text = std::fs::read_to_string(&log.path).unwrap();
    assert_eq!(
        text.lines().count(),
        HOSTILE.len() * 2,
        "one line per record"
    );
    assert!(
        !text
            .chars()
            .any(|c| c != '\n' && (c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))),
        "no raw control or line separator in the file"
    );
    for (pair, &value) in records.chunks(2).zip(HOSTILE) {
        let record = &pair[0];
        assert_eq!(record["actor"]["name"], value);
        assert_eq!(record["target"]["id"], value);
        assert_eq!(record["user_agent"]["original"], value);
        assert_eq!(record["request"]["id"], value);
        assert_eq!(record["fields"]["input"], value);
        assert_eq!(record["fields"]["debugged"], format!("{value:?}"));
        assert_eq!(record["message"], format!("rejected {value}"));
        assert!(record.get("forged").is_none());
        assert_eq!(pair[1]["event"]["name"], value);
        assert_eq!(pair[1]["event"]["unrecognised"], true);
    }
}

#[test]
fn megabyte_values_are_cut_and_marked() {
    let huge = "A".repeat(1 << 20);
    let huge_multibyte = "é".repeat(1 << 19);
    let records = capture(|| {
        let span = tracing::info_span!("request", user_agent = huge.as_str());
        let _entered = span.enter();
        security_event!(
            SecurityEvent::InputValidationFailed,
            payload = huge.as_str(),
            multibyte = %huge_multibyte,
            debugged = ?huge,
        );
    });
    let record = &records[0];
    for value in [
        &record["fields"]["payload"],
        &record["fields"]["multibyte"],
        &record["fields"]["debugged"],
        &record["user_agent"]["original"],
    ] {
        let text = value.as_str().unwrap();
        assert!(is_truncated(text), "{}", &text[text.len() - 40..]);
        assert!(text.len() < DEFAULT_MAX_VALUE_LEN + 64, "{}", text.len());
        assert!(text.ends_with(" bytes in all]"));
    }
    let payload = record["fields"]["payload"].as_str().unwrap();
    assert!(payload.starts_with(&"A".repeat(DEFAULT_MAX_VALUE_LEN)));
    assert!(payload.contains(&format!("{} bytes in all", 1 << 20)));
}

#[test]
fn the_limit_is_configurable_and_short_values_are_untouched() {
    let log = TempLog::new();
    let builder = log.builder().with_max_value_len(100);
    let (records, _) = run(&log, builder, || {
        security_event!(
            SecurityEvent::InputValidationFailed,
            long = "x".repeat(101),
            short = "x".repeat(100)
        );
    });
    assert!(is_truncated(records[0]["fields"]["long"].as_str().unwrap()));
    assert_eq!(records[0]["fields"]["short"], "x".repeat(100));
}

#[test]
fn numbers_booleans_and_errors_keep_their_type() {
    let err = std::io::Error::other("inner cause");
    let log = TempLog::new();
    let builder = log.builder();
    let (records, _) = run(&log, builder, || {
        security_event!(
            SecurityEvent::DecryptFailed,
            count = 3_u64,
            delta = -2_i64,
            ratio = 0.5,
            nan = f64::NAN,
            ok = false,
            big = u128::MAX,
            error = &err as &(dyn std::error::Error + 'static),
        );
    });
    let fields = &records[0]["fields"];
    assert_eq!(fields["count"], 3);
    assert_eq!(fields["delta"], -2);
    assert_eq!(fields["ratio"], 0.5);
    assert_eq!(fields["nan"], "NaN");
    assert_eq!(fields["ok"], false);
    // Exact in the file (a JSON reader may still parse it as a float).
    let text = std::fs::read_to_string(&log.path).unwrap();
    assert!(text.contains(&format!("\"big\":{}", u128::MAX)), "{text}");
    assert_eq!(fields["error"], "inner cause");
}

#[cfg(unix)]
#[test]
fn the_file_and_new_directories_are_private() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/security.jsonl");
    let (layer, guard) =
        tracing_security_events::layer::<tracing_subscriber::Registry>(&path).unwrap();
    drop(layer);
    guard.shutdown().unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&dir.path().join("nested")), 0o700);
    assert_eq!(mode(&dir.path().join("nested/deeper")), 0o700);
}

#[test]
fn an_existing_file_is_appended_to() {
    let log = TempLog::new();
    std::fs::write(&log.path, "{\"earlier\":true}\n").unwrap();
    let builder = log.builder();
    let (records, _) = run(&log, builder, || {
        security_event!(SecurityEvent::SystemStartup)
    });
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["earlier"], true);
    assert_eq!(records[1]["event"]["name"], "system.startup");
}
