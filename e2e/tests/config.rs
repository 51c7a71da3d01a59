//! Runtime configuration: every key from TOML and the environment, precedence, clear errors,
//! atomic reloads under load, audit records, pinned events, file-watch and SIGHUP reloads.
#![cfg(feature = "config")]

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::read_records;
use serde_json::Value;
use tracing_security_events::config::{Config, ConfigError, SinkConfig, StdoutSinkConfig};
use tracing_security_events::redact::RedactionAction;
use tracing_security_events::sink::{FsyncPolicy, RotationPeriod};
use tracing_security_events::{
    security_event, Builder, Outcome, OverflowPolicy, SecurityEvent, Severity, SinkFailurePolicy,
};
use tracing_subscriber::prelude::*;

const FULL: &str = r#"
enabled = false

[service]
name = "billing-api"
version = "1.4.2"
instance = "host-1"

[queue]
capacity = 1024
overflow = "drop"
sink_failure = "fail_closed"
flush_timeout = "2s"
max_value_len = 4096

[[sinks]]
type = "file"
path = "/var/log/billing/security.jsonl"
rotate_bytes = 1048576
rotate_every = "daily"
keep_files = 14
keep_for = "90days"
fsync = "always"
fsync_interval = "500ms"
chain = true
chain_key_file = "/etc/billing/chain.key"

[[sinks]]
type = "stdout"

[filter]
min_severity = "warn"
include = ["authentication.*", "user.role_changed"]
exclude = ["authentication.otp_verified"]
categories = ["authentication", "user"]
outcomes = ["failure", "success"]

[redaction]
defaults = false
key_file = "/etc/billing/redaction.key"

[[redaction.rules]]
field = "card.number"
action = "mask"

[[redaction.rules]]
field = "*ssn*"
action = "hmac"
"#;

fn no_env() -> Vec<(String, String)> {
    Vec::new()
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn assert_full(config: &Config) {
    assert!(!config.enabled);
    assert_eq!(config.service.name.as_deref(), Some("billing-api"));
    assert_eq!(config.service.version.as_deref(), Some("1.4.2"));
    assert_eq!(config.service.instance.as_deref(), Some("host-1"));
    assert_eq!(config.queue.capacity, 1024);
    assert_eq!(config.queue.overflow, OverflowPolicy::Drop);
    assert_eq!(config.queue.sink_failure, SinkFailurePolicy::FailClosed);
    assert_eq!(config.queue.flush_timeout, Duration::from_secs(2));
    assert_eq!(config.queue.max_value_len, 4096);
    let SinkConfig::File(file) = &config.sinks[0] else {
        panic!("a file sink first")
    };
    assert_eq!(file.path, Path::new("/var/log/billing/security.jsonl"));
    assert_eq!(file.rotate_bytes, Some(1_048_576));
    assert_eq!(file.rotate_every, Some(RotationPeriod::Daily));
    assert_eq!(file.keep_files, Some(14));
    assert_eq!(file.keep_for, Some(Duration::from_secs(90 * 24 * 3600)));
    assert_eq!(file.fsync, FsyncPolicy::Always);
    assert_eq!(file.fsync_interval, Duration::from_millis(500));
    assert!(file.chain);
    assert_eq!(
        file.chain_key_file.as_deref(),
        Some(Path::new("/etc/billing/chain.key"))
    );
    assert_eq!(
        config.sinks[1],
        SinkConfig::Stdout(StdoutSinkConfig::default())
    );
    assert_eq!(config.filter.min_severity, Severity::Warn);
    assert_eq!(
        config.filter.include,
        ["authentication.*", "user.role_changed"]
    );
    assert_eq!(config.filter.exclude, ["authentication.otp_verified"]);
    assert_eq!(config.filter.categories, ["authentication", "user"]);
    assert_eq!(config.filter.outcomes, [Outcome::Failure, Outcome::Success]);
    assert!(!config.redaction.defaults);
    assert_eq!(
        config.redaction.key_file.as_deref(),
        Some(Path::new("/etc/billing/redaction.key"))
    );
    assert_eq!(config.redaction.rules[0].pattern(), "card.number");
    assert_eq!(config.redaction.rules[0].action(), RedactionAction::Mask);
    assert_eq!(config.redaction.rules[1].action(), RedactionAction::Hmac);
}

#[test]
fn every_key_parses_from_toml() {
    assert_full(&Config::parse(FULL, "full.toml", no_env()).unwrap());
}

#[test]
fn every_key_parses_from_the_environment() {
    let vars = env(&[
        ("SECURITY_LOG_ENABLED", "false"),
        ("SECURITY_LOG_SERVICE__NAME", "billing-api"),
        ("SECURITY_LOG_SERVICE__VERSION", "1.4.2"),
        ("SECURITY_LOG_SERVICE__INSTANCE", "host-1"),
        ("SECURITY_LOG_QUEUE__CAPACITY", "1024"),
        ("SECURITY_LOG_QUEUE__OVERFLOW", "drop"),
        ("SECURITY_LOG_QUEUE__SINK_FAILURE", "fail_closed"),
        ("SECURITY_LOG_QUEUE__FLUSH_TIMEOUT", "2s"),
        ("SECURITY_LOG_QUEUE__MAX_VALUE_LEN", "4096"),
        ("SECURITY_LOG_SINKS__0__TYPE", "file"),
        (
            "SECURITY_LOG_SINKS__0__PATH",
            "/var/log/billing/security.jsonl",
        ),
        ("SECURITY_LOG_SINKS__0__ROTATE_BYTES", "1048576"),
        ("SECURITY_LOG_SINKS__0__ROTATE_EVERY", "daily"),
        ("SECURITY_LOG_SINKS__0__KEEP_FILES", "14"),
        ("SECURITY_LOG_SINKS__0__KEEP_FOR", "90days"),
        ("SECURITY_LOG_SINKS__0__FSYNC", "always"),
        ("SECURITY_LOG_SINKS__0__FSYNC_INTERVAL", "500ms"),
        ("SECURITY_LOG_SINKS__0__CHAIN", "true"),
        (
            "SECURITY_LOG_SINKS__0__CHAIN_KEY_FILE",
            "/etc/billing/chain.key",
        ),
        ("SECURITY_LOG_SINKS__1__TYPE", "stdout"),
        ("SECURITY_LOG_FILTER__MIN_SEVERITY", "warn"),
        (
            "SECURITY_LOG_FILTER__INCLUDE",
            r#"["authentication.*", "user.role_changed"]"#,
        ),
        (
            "SECURITY_LOG_FILTER__EXCLUDE",
            r#"["authentication.otp_verified"]"#,
        ),
        (
            "SECURITY_LOG_FILTER__CATEGORIES",
            r#"["authentication", "user"]"#,
        ),
        ("SECURITY_LOG_FILTER__OUTCOMES", r#"["failure", "success"]"#),
        ("SECURITY_LOG_REDACTION__DEFAULTS", "false"),
        (
            "SECURITY_LOG_REDACTION__KEY_FILE",
            "/etc/billing/redaction.key",
        ),
        ("SECURITY_LOG_REDACTION__RULES__0__FIELD", "card.number"),
        ("SECURITY_LOG_REDACTION__RULES__0__ACTION", "mask"),
        ("SECURITY_LOG_REDACTION__RULES__1__FIELD", "*ssn*"),
        ("SECURITY_LOG_REDACTION__RULES__1__ACTION", "hmac"),
        ("UNRELATED_VARIABLE", "ignored"),
    ]);
    let config = Config::parse("", "the environment", vars).unwrap();
    assert_full(&config);
    assert_eq!(config, Config::parse(FULL, "full.toml", no_env()).unwrap());
}

#[test]
fn the_environment_wins_over_the_file_and_defaults_fill_the_rest() {
    let vars = env(&[
        ("SECURITY_LOG_FILTER__MIN_SEVERITY", "error"),
        ("SECURITY_LOG_SINKS__0__PATH", "/elsewhere/security.jsonl"),
    ]);
    let config = Config::parse(FULL, "full.toml", vars).unwrap();
    assert_eq!(config.filter.min_severity, Severity::Error);
    let SinkConfig::File(file) = &config.sinks[0] else {
        panic!()
    };
    assert_eq!(file.path, Path::new("/elsewhere/security.jsonl"));
    assert_eq!(
        file.keep_files,
        Some(14),
        "the rest of the entry stays the file's"
    );

    let defaults = Config::parse("", "empty.toml", no_env()).unwrap();
    assert_eq!(defaults, Config::default());
    assert!(defaults.enabled);
    assert!(
        matches!(&defaults.sinks[..], [SinkConfig::File(f)] if f.path == Path::new("security-events.jsonl"))
    );
}

fn error_of(text: &str, vars: Vec<(String, String)>) -> ConfigError {
    Config::parse(text, "bad.toml", vars).expect_err("the configuration is refused")
}

#[test]
fn every_kind_of_bad_value_is_named_with_what_is_allowed() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("colour = \"red\"", "colour", &["unknown field", "enabled"]),
        (
            "[filter]\nminimum = \"warn\"",
            "filter.minimum",
            &["unknown field", "min_severity"],
        ),
        (
            "[filter]\nmin_severity = \"loud\"",
            "filter.min_severity",
            &["loud", "debug", "critical"],
        ),
        (
            "[queue]\noverflow = \"spill\"",
            "queue.overflow",
            &["spill", "block", "drop"],
        ),
        (
            "[queue]\ncapacity = \"lots\"",
            "queue.capacity",
            &["lots", "expected"],
        ),
        ("[queue]\ncapacity = 0", "queue.capacity", &["at least 1"]),
        (
            "[queue]\nflush_timeout = \"soon\"",
            "queue.flush_timeout",
            &["soon", "5s"],
        ),
        (
            "[queue]\nmax_value_len = 10",
            "queue.max_value_len",
            &["at least 64", "10"],
        ),
        (
            "[[sinks]]\ntype = \"kafka\"",
            "sinks[0].type",
            &["kafka", "file", "stdout"],
        ),
        ("[[sinks]]\ntype = \"file\"", "sinks[0]", &["path"]),
        (
            "[[sinks]]\ntype = \"file\"\npath = \"a\"\nfsync = \"sometimes\"",
            "sinks[0].fsync",
            &["sometimes", "always"],
        ),
        (
            "[[sinks]]\ntype = \"file\"\npath = \"a\"\n[[sinks]]\ntype = \"file\"\npath = \"a\"",
            "sinks[1].path",
            &["already written by sinks[0]"],
        ),
        (
            "[[redaction.rules]]\nfield = \"ssn\"\naction = \"hmac\"",
            "redaction.rules[0].action",
            &["redaction.key_file"],
        ),
        (
            "[[redaction.rules]]\nfield = \"ssn\"\naction = \"shred\"",
            "redaction.rules[0].action",
            &["shred", "mask"],
        ),
        (
            "[filter]\noutcomes = [\"maybe\"]",
            "filter.outcomes[0]",
            &["maybe", "failure"],
        ),
    ];
    for (text, key, words) in cases {
        let err = error_of(text, no_env());
        assert_eq!(err.key(), Some(*key), "{text}: {err}");
        let message = err.to_string();
        assert!(message.starts_with("bad.toml:"), "{message}");
        for word in *words {
            assert!(message.contains(word), "{text}: {message} lacks {word}");
        }
    }
}

#[test]
fn a_bad_environment_value_names_the_variable() {
    let err = error_of("", env(&[("SECURITY_LOG_QUEUE__OVERFLOW", "spill")]));
    let message = err.to_string();
    assert!(
        message.contains("environment variable SECURITY_LOG_QUEUE__OVERFLOW"),
        "{message}"
    );
    assert!(message.contains("spill"), "{message}");
    let err = error_of("", env(&[("SECURITY_LOG_SINKS__2__PATH", "x")]));
    assert!(err.to_string().contains("skips index 0"), "{err}");
}

#[test]
fn broken_toml_is_refused_with_its_place() {
    let err = error_of("[filter\nmin_severity = 1", no_env());
    assert!(matches!(err, ConfigError::Syntax { .. }));
    assert!(
        err.to_string().contains("bad.toml") && err.to_string().contains("line 1"),
        "{err}"
    );
}

#[test]
fn an_unreadable_key_file_fails_the_build_naming_the_key() {
    let config = Config::parse(
        "[[sinks]]\ntype = \"file\"\npath = \"/tmp/never-opened.jsonl\"\nchain_key_file = \"/no/such/key\"",
        "keys.toml",
        no_env(),
    )
    .unwrap();
    let err = Builder::from_config(&config)
        .build::<tracing_subscriber::Registry>()
        .expect_err("the key cannot be read");
    assert!(
        err.to_string().contains("sinks[0].chain_key_file")
            && err.to_string().contains("/no/such/key"),
        "{err}"
    );
}

#[test]
fn checkpoints_from_the_configuration_are_signed_and_need_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("checkpoint.key");
    let key = tracing_security_events::integrity::EpochKey::generate().unwrap();
    key.save(&key_file).unwrap();
    let log = dir.path().join("security.jsonl");
    let text = format!(
        "[[sinks]]\ntype = \"file\"\npath = {:?}\ncheckpoints = {{ key_file = {:?}, every_records = 5, every = \"2s\", key_epoch = \"0s\" }}",
        log.display().to_string(),
        key_file.display().to_string()
    );
    let config = Config::parse(&text, "checkpoints.toml", no_env()).unwrap();
    let (layer, guard) = Builder::from_config(&config)
        .build::<tracing_subscriber::Registry>()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        security_event!(SecurityEvent::LoginFailed, actor.id = 1);
    });
    guard.shutdown().unwrap();
    let records = read_records(&log);
    assert_eq!(records.last().unwrap()["event"]["name"], "audit.checkpoint");
    let public = tracing_security_events::integrity::parse_public_key(&key.public_key()).unwrap();
    let report = tracing_security_events::integrity::verify_with(
        &log,
        &tracing_security_events::integrity::VerifyOptions::new().with_public_key(public),
    )
    .unwrap();
    assert!(report.is_ok() && report.checkpoints == 1, "{report:?}");

    let unchained = text.replace("checkpoints =", "chain = false\ncheckpoints =");
    let config = Config::parse(&unchained, "checkpoints.toml", no_env()).unwrap();
    let err = Builder::from_config(&config)
        .build::<tracing_subscriber::Registry>()
        .expect_err("checkpoints without a chain");
    assert!(err.to_string().contains("sinks[0].checkpoints"), "{err}");
}

/// A running log built from a configuration written into `dir`.
struct Running {
    guard: tracing_security_events::FlushGuard,
    reload: tracing_security_events::config::ReloadHandle,
    dispatch: tracing::Dispatch,
}

fn file_sink(path: &Path) -> String {
    format!(
        "[[sinks]]\ntype = \"file\"\npath = {:?}\n",
        path.display().to_string()
    )
}

fn start(builder: Builder) -> Running {
    let (layer, guard, reload) = builder.build_with_reload().unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    Running {
        guard,
        reload,
        dispatch,
    }
}

fn parse(text: &str) -> Config {
    Config::parse(text, "test.toml", no_env()).unwrap()
}

#[test]
fn code_wins_over_the_configuration_for_what_it_sets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    let config = parse(&format!(
        "[service]\nname = \"from-config\"\nversion = \"1\"\n{}",
        file_sink(&path)
    ));
    let running = start(Builder::from_config(&config).with_service_name("from-code"));
    tracing::dispatcher::with_default(&running.dispatch, || {
        security_event!(SecurityEvent::SystemStartup)
    });
    running.guard.shutdown().unwrap();
    let records = read_records(&path);
    assert_eq!(records[0]["service"]["name"], "from-code");
    assert_eq!(records[0]["service"]["version"], "1");
}

fn names(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["event"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn turning_the_log_off_and_on_is_audited_and_pinned_events_always_pass() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    let on = parse(&format!(
        "{}[filter]\nexclude = [\"data.*\"]",
        file_sink(&path)
    ));
    let mut off = on.clone();
    off.enabled = false;
    let running = start(Builder::from_config(&on).with_pinned_event(SecurityEvent::DataExported));
    tracing::dispatcher::with_default(&running.dispatch, || {
        security_event!(SecurityEvent::LoginFailed);
        security_event!(SecurityEvent::DataExported); // pinned: passes the exclude filter
        security_event!(SecurityEvent::SensitiveDataRead); // excluded
        running.reload.reload(off.clone()).unwrap();
        security_event!(SecurityEvent::LoginFailed); // off: not written
        security_event!(SecurityEvent::DataExported); // pinned: written even when off
        security_event!(SecurityEvent::AuditLogViewed); // reading the log: pinned by default
        running.reload.reload(on.clone()).unwrap();
        security_event!(SecurityEvent::LoginSucceeded);
    });
    running.guard.shutdown().unwrap();
    let records = read_records(&path);
    assert_eq!(
        names(&records),
        [
            "authentication.failed",
            "data.exported",
            "audit.disabled",
            "data.exported",
            "audit.log_viewed",
            "audit.enabled",
            "authentication.succeeded"
        ]
    );
    let seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=7).collect::<Vec<_>>(),
        "filtered events take no seq"
    );
}

#[test]
fn a_refused_reload_keeps_the_old_configuration_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    let good = parse(&file_sink(&path));
    let blocked = dir.path().join("not-a-dir");
    std::fs::write(&blocked, "").unwrap();
    let bad = parse(&file_sink(&blocked.join("b.jsonl")));
    let running = start(Builder::from_config(&good));
    tracing::dispatcher::with_default(&running.dispatch, || {
        let err = running.reload.reload(bad).unwrap_err();
        assert!(err.to_string().contains("sinks[0].path"), "{err}");
        assert_eq!(
            running.reload.current(),
            good,
            "the old configuration stays in force"
        );
        security_event!(SecurityEvent::LoginFailed);
    });
    running.guard.shutdown().unwrap();
    let records = read_records(&path);
    assert_eq!(
        names(&records),
        ["audit.config_changed", "authentication.failed"]
    );
    assert_eq!(records[0]["event"]["outcome"], "failure");
    assert!(records[0]["event"]["reason"]
        .as_str()
        .unwrap()
        .contains("reload refused"));
}

#[test]
fn no_sinks_is_refused_at_start_up_and_at_reload_naming_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("no-sinks.toml");
    std::fs::write(&empty, "sinks = []\n").unwrap();
    let config = Config::from_file(&empty).unwrap();
    let err = Builder::from_config(&config)
        .build_with_reload::<tracing_subscriber::Registry>()
        .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("`sinks`"), "{message}");
    assert!(message.contains("no-sinks.toml"), "{message}");

    let path = dir.path().join("a.jsonl");
    let good_file = dir.path().join("good.toml");
    std::fs::write(&good_file, file_sink(&path)).unwrap();
    let good = Config::from_file(&good_file).unwrap();
    let running = start(Builder::from_config(&good));
    tracing::dispatcher::with_default(&running.dispatch, || {
        security_event!(SecurityEvent::LoginFailed);
        let err = running.reload.reload_from_file(&empty).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("`sinks`"), "{message}");
        assert!(message.contains("no-sinks.toml"), "{message}");
        assert_eq!(err_key(&err), Some("sinks"));
        assert_eq!(
            running.reload.current(),
            good,
            "the old configuration stays"
        );
        // The same through `reload`, with a configuration made in code.
        let mut none = good.clone();
        none.sinks.clear();
        assert!(running.reload.reload(none).is_err());
        security_event!(SecurityEvent::LoginSucceeded);
    });
    let stats = running.guard.shutdown().unwrap();
    let records = read_records(&path);
    assert_eq!(
        names(&records),
        [
            "authentication.failed",
            "audit.config_changed",
            "audit.config_changed",
            "authentication.succeeded"
        ],
        "the refusals are written to the sinks in force, and so is what follows"
    );
    assert!(records[1]["event"]["reason"]
        .as_str()
        .unwrap()
        .contains("`sinks`"));
    let seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4], "no record went elsewhere");
    assert_eq!((stats.written, stats.dropped), (4, 0));
}

fn err_key(err: &tracing_security_events::config::ReloadError) -> Option<&str> {
    match err {
        tracing_security_events::config::ReloadError::Config(config) => config.key(),
        _ => None,
    }
}

#[test]
fn a_change_is_audited_with_what_changed_and_unchanged_sinks_keep_their_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    let before = parse(&file_sink(&path));
    let after = parse(&format!(
        "{}[filter]\nmin_severity = \"warn\"",
        file_sink(&path)
    ));
    let running = start(Builder::from_config(&before));
    tracing::dispatcher::with_default(&running.dispatch, || {
        security_event!(SecurityEvent::LoginSucceeded);
        running.reload.reload(after).unwrap();
        security_event!(SecurityEvent::LoginSucceeded); // info: now filtered
        security_event!(SecurityEvent::LoginFailed);
    });
    running.guard.shutdown().unwrap();
    let records = read_records(&path);
    assert_eq!(
        names(&records),
        [
            "authentication.succeeded",
            "audit.config_changed",
            "authentication.failed"
        ]
    );
    assert_eq!(
        records[1]["changes"]["filter"]["old"]["min_severity"],
        "debug"
    );
    assert_eq!(
        records[1]["changes"]["filter"]["new"]["min_severity"],
        "warn"
    );
    let report = tracing_security_events::integrity::verify(&path).unwrap();
    assert!(
        report.is_ok() && report.records == 3,
        "one file, one unbroken chain: {report:?}"
    );
}

#[test]
fn reloads_under_load_lose_and_duplicate_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    let configs = [
        parse(&file_sink(&a)),
        parse(&file_sink(&b)),
        parse(&format!("{}{}", file_sink(&a), file_sink(&b))),
        parse(&format!(
            "{}[filter]\nmin_severity = \"warn\"",
            file_sink(&b)
        )),
        parse(&format!(
            "{}[filter]\nexclude = [\"authentication.*\"]",
            file_sink(&a)
        )),
    ];
    let running = start(Builder::from_config(&configs[0]).with_queue_capacity(256));
    let stop = Arc::new(AtomicBool::new(false));
    let producers: Vec<_> = (0..4_u64)
        .map(|thread| {
            let dispatch = running.dispatch.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut i = 0_u64;
                tracing::dispatcher::with_default(&dispatch, || {
                    while !stop.load(Ordering::Relaxed) {
                        security_event!(SecurityEvent::LoginFailed, thread, i);
                        security_event!(SecurityEvent::SensitiveDataRead, thread, i);
                        i += 1;
                    }
                });
                i
            })
        })
        .collect();
    for n in 0..100 {
        running
            .reload
            .reload(configs[n % configs.len()].clone())
            .unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    stop.store(true, Ordering::Relaxed);
    let emitted: u64 = producers.into_iter().map(|p| p.join().unwrap()).sum();
    running.guard.shutdown().unwrap();

    // The same record (same seq) may be in both files while both were configured, with the
    // same id; within a file every record is there once; across files no seq is missing.
    let mut by_seq: HashMap<u64, String> = HashMap::new();
    for path in [&a, &b] {
        let mut in_file = HashSet::new();
        for record in read_records(path) {
            let seq = record["seq"].as_u64().unwrap();
            let id = record["id"].as_str().unwrap().to_owned();
            assert!(in_file.insert(seq), "seq {seq} twice in {}", path.display());
            if let Some(other) = by_seq.insert(seq, id.clone()) {
                assert_eq!(other, id, "seq {seq} names two different records");
            }
        }
    }
    let max = *by_seq.keys().max().unwrap();
    assert_eq!(
        by_seq.len() as u64,
        max,
        "no seq is missing: nothing was lost"
    );
    let changes = by_seq.len();
    assert!(
        emitted > 1000 && changes > 100,
        "load really ran: {emitted} emitted, {changes} written"
    );
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn editing_the_watched_file_reloads_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    let file = dir.path().join("security-log.toml");
    std::fs::write(&file, file_sink(&path)).unwrap();
    let running = start(Builder::from_config(&Config::from_file(&file).unwrap()));
    let _watcher = running.reload.watch_file(&file, Duration::from_millis(25));
    std::fs::write(
        &file,
        format!("{}[filter]\nmin_severity = \"error\"", file_sink(&path)),
    )
    .unwrap();
    wait_until("the watched file to be reloaded", || {
        running.reload.current().filter.min_severity == Severity::Error
    });
    std::fs::write(&file, "enabled = \"perhaps\"").unwrap();
    wait_until("the bad edit to be refused", || {
        running.guard.flush().unwrap();
        read_records(&path).len() == 2
    });
    assert_eq!(
        running.reload.current().filter.min_severity,
        Severity::Error
    );
    running.guard.shutdown().unwrap();
    let records = read_records(&path);
    assert_eq!(
        names(&records),
        ["audit.config_changed", "audit.config_changed"]
    );
    assert_eq!(records[1]["event"]["outcome"], "failure");
    assert!(records[1]["event"]["reason"]
        .as_str()
        .unwrap()
        .contains("perhaps"));
}

#[cfg(unix)]
#[test]
fn sighup_reloads_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    let file = dir.path().join("security-log.toml");
    std::fs::write(&file, file_sink(&path)).unwrap();
    let running = start(Builder::from_config(&Config::from_file(&file).unwrap()));
    let _listener = running
        .reload
        .reload_on_sighup(&file, &running.guard)
        .unwrap();
    std::fs::write(
        &file,
        format!("{}[filter]\ninclude = [\"user.*\"]", file_sink(&path)),
    )
    .unwrap();
    signal_hook::low_level::raise(signal_hook::consts::SIGHUP).unwrap();
    wait_until("SIGHUP to reload the file", || {
        running.reload.current().filter.include == ["user.*"]
    });
    tracing::dispatcher::with_default(&running.dispatch, || {
        security_event!(SecurityEvent::LoginFailed);
        security_event!(SecurityEvent::UserInvited);
    });
    running.guard.shutdown().unwrap();
    assert_eq!(
        names(&read_records(&path)),
        ["audit.config_changed", "user.invited"]
    );
}

#[test]
fn the_commented_example_parses_and_the_schema_file_is_current() {
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/security-log.toml"
    ))
    .unwrap();
    let config = Config::parse(&example, "examples/security-log.toml", no_env()).unwrap();
    assert!(!config.sinks.is_empty());

    let schema = tracing_security_events::config::json_schema();
    for key in [
        "enabled",
        "service",
        "queue",
        "sinks",
        "filter",
        "redaction",
    ] {
        assert!(
            schema["properties"].get(key).is_some(),
            "the schema lacks {key}"
        );
    }
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../security-log.schema.json"
    ))
    .unwrap_or_default();
    let generated = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    if committed != generated {
        let out = std::env::temp_dir().join("security-log.schema.json");
        std::fs::write(&out, &generated).unwrap();
        panic!(
            "security-log.schema.json is stale: the current one is at {}",
            out.display()
        );
    }
}

/// The file sink's `index`, and `time_bounds`, the name it had before it held more than the
/// times; off when not given.
#[test]
fn the_index_option_reads_under_both_its_names() {
    for (text, on) in [
        ("index = true", true),
        ("time_bounds = true", true),
        ("index = false", false),
        ("", false),
    ] {
        let toml = format!("[[sinks]]\ntype = \"file\"\npath = \"/tmp/x.jsonl\"\n{text}\n");
        let config = Config::parse(&toml, "index.toml", no_env()).unwrap();
        let SinkConfig::File(file) = &config.sinks[0] else {
            panic!("a file sink")
        };
        assert_eq!(file.index, on, "{text}");
    }
}

/// Retention rules and fleet detections: a rule's query that does not parse and a fleet without
/// detections are refused at start-up, naming the key.
#[cfg(all(feature = "postgres", feature = "notify"))]
#[test]
fn retention_rules_and_fleet_detections_are_checked_naming_the_key() {
    let sink = "[[sinks]]\ntype = \"postgres\"\nurl = \"postgres://nobody@127.0.0.1:1/x\"\n";
    let config = parse(&format!(
        "{sink}retention = \"365d\"\nretention_rules = [{{ when = \"category = authentication\", keep = \"90d\" }}, {{ when = \"evnt = x\", keep = \"2y\" }}]\n"
    ));
    let SinkConfig::Postgres(postgres) = &config.sinks[0] else {
        panic!("a postgres sink")
    };
    assert_eq!(
        postgres.retention_rules[0].keep,
        Duration::from_secs(90 * 86_400)
    );
    let err = Builder::from_config(&config)
        .build::<tracing_subscriber::Registry>()
        .expect_err("the second rule does not parse");
    assert!(
        err.to_string().contains("sinks[0].retention_rules[1].when"),
        "{err}"
    );
    let config = parse(&format!(
        "{sink}[fleet_detections]\ntable = \"security_events\"\n"
    ));
    let err = Builder::from_config(&config)
        .build::<tracing_subscriber::Registry>()
        .expect_err("no detections to run");
    assert!(
        err.to_string().contains("fleet_detections")
            && err.to_string().contains("no [[detections]]"),
        "{err}"
    );
    let err = Config::parse(
        "[fleet_detections]\npoll = \"often\"\n",
        "fleet.toml",
        no_env(),
    )
    .expect_err("not a duration");
    assert!(err.to_string().contains("often"), "{err}");
}
