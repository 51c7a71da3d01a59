//! The syslog sink against a real rsyslog on 127.0.0.1: over TCP and over TLS (a test CA, a
//! client certificate the server requires) every record arrives once, in order, parsed by
//! rsyslog into the right facility, severity, APP-NAME and MSGID; rsyslog stopped mid-run and
//! restarted loses nothing; over UDP an oversize record is cut, counted and recorded.
#![cfg(feature = "syslog")]

mod common;

#[path = "common/rsyslog.rs"]
mod rsyslog;

use common::{read_records, TempLog};
use rsyslog::{rsyslogd, Input, Rsyslog, TestPki};
use serde_json::Value;
use tracing_security_events::forms::OutputForm;
use tracing_security_events::sink::syslog::SyslogConfig;
use tracing_security_events::{FlushGuard, SecurityEvent};
use tracing_subscriber::prelude::*;

/// Names of every severity, cycled through.
const EVENTS: [SecurityEvent; 5] = [
    SecurityEvent::LoginSucceeded,   // info
    SecurityEvent::LoginFailed,      // warn
    SecurityEvent::AccountLockedOut, // error
    SecurityEvent::SystemCrash,      // critical
    SecurityEvent::UserInvited,      // info
];

fn syslog_severity(event: SecurityEvent) -> &'static str {
    match event.severity().as_str() {
        "critical" => "crit",
        "error" => "err",
        "warn" => "warning",
        "info" => "info",
        _ => "debug",
    }
}

/// A log writing to a file and to `syslog`; `emit` runs with it installed.
fn with_log(log: &TempLog, syslog: SyslogConfig, emit: impl FnOnce(&FlushGuard)) {
    let (layer, guard) = log.builder().with_syslog(syslog).build().expect("build");
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || emit(&guard));
    let _ = guard.shutdown();
}

fn emit(from: usize, count: usize) {
    for i in from..from + count {
        let event = EVENTS[i % EVENTS.len()];
        tracing::info!(
            security_event = event.as_str(),
            actor.id = "42",
            attempt = i as u64,
            note = "é🦀"
        );
    }
}

/// Checks what rsyslog parsed out of each message against the record it carries; returns the
/// records' `seq`s in the order they arrived.
fn check_received(received: &[Vec<String>], form: OutputForm) -> Vec<u64> {
    let mut seqs = Vec::new();
    for fields in received {
        let [facility, severity, app, msgid, data, msg] = &fields[..] else {
            panic!("a line rsyslog wrote is not six fields: {fields:?}");
        };
        let Ok(event) = msgid.parse::<SecurityEvent>() else {
            continue; // The log's own records (audit.*) are checked by name elsewhere.
        };
        let record: Value = serde_json::from_str(msg).unwrap_or_else(|e| panic!("{e}: {msg}"));
        let (id, seq) = match form {
            OutputForm::Ocsf => (&record["metadata"]["uid"], &record["metadata"]["sequence"]),
            OutputForm::Ecs => (&record["event"]["id"], &record["event"]["sequence"]),
            _ => (&record["id"], &record["seq"]),
        };
        assert_eq!(facility, "authpriv");
        assert_eq!(severity, syslog_severity(event), "{msgid}");
        assert_eq!(app, "tests");
        assert_eq!(
            data,
            &format!(
                "[security@32473 id=\"{}\" seq=\"{}\"]",
                id.as_str().unwrap(),
                seq
            ),
        );
        seqs.push(seq.as_u64().unwrap());
    }
    seqs
}

fn assert_once_in_order(seqs: &[u64], expected: usize) {
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "out of order or repeated: {seqs:?}"
    );
    assert_eq!(seqs.len(), expected, "{seqs:?}");
}

#[test]
fn over_tcp_every_record_arrives_once_in_order() {
    let Some(binary) = rsyslogd() else { return };
    let log = TempLog::new();
    let server = Rsyslog::start(&binary, log.dir.path(), Input::Tcp, None);
    let address = format!("127.0.0.1:{}", server.port);
    with_log(
        &log,
        SyslogConfig::tcp(&address).in_form(OutputForm::Ocsf),
        |guard| {
            emit(0, 300);
            guard.flush().expect("delivered");
        },
    );
    let received = server.wait_for(300);
    let seqs = check_received(&received, OutputForm::Ocsf);
    assert_once_in_order(&seqs, 300);
    // The same records the file holds, in the same order.
    let written: Vec<u64> = read_records(&log.path)
        .iter()
        .filter(|r| {
            r["event"]["name"]
                .as_str()
                .is_some_and(|n| !n.starts_with("audit."))
        })
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, written);
}

#[test]
fn over_tls_with_a_client_certificate_every_record_arrives() {
    let Some(binary) = rsyslogd() else { return };
    let log = TempLog::new();
    let pki = TestPki::new(log.dir.path());
    let server = Rsyslog::start(&binary, log.dir.path(), Input::Tls, Some(&pki));
    let syslog = SyslogConfig::tls(format!("127.0.0.1:{}", server.port))
        .with_ca_file(&pki.ca)
        .with_client_certificate(&pki.client_cert, &pki.client_key)
        .with_server_name("localhost")
        .in_form(OutputForm::Ecs);
    with_log(&log, syslog, |guard| {
        emit(0, 200);
        guard.flush().expect("delivered");
    });
    let received = server.wait_for(200);
    let seqs = check_received(&received, OutputForm::Ecs);
    assert_once_in_order(&seqs, 200);
}

#[test]
fn a_receiver_stopped_and_restarted_loses_nothing() {
    let Some(binary) = rsyslogd() else { return };
    let log = TempLog::new();
    let mut server = Rsyslog::start(&binary, log.dir.path(), Input::Tcp, None);
    let address = format!("127.0.0.1:{}", server.port);
    with_log(&log, SyslogConfig::tcp(&address), |guard| {
        emit(0, 100);
        guard.flush().expect("delivered");
        assert_eq!(
            check_received(&server.wait_for(100), OutputForm::Native).len(),
            100
        );
        server.stop();
        // Written while the receiver is away: they wait in the sink's memory.
        emit(100, 100);
        std::thread::sleep(std::time::Duration::from_millis(500));
        server.restart();
        emit(200, 100);
        let _ = guard.flush();
        server.wait_for(300);
    });
    let seqs = check_received(&server.received(), OutputForm::Native);
    assert_once_in_order(&seqs, 300);
    let dropped = read_records(&log.path)
        .iter()
        .filter(|r| r["event"]["name"] == "audit.events_dropped")
        .count();
    assert_eq!(dropped, 0, "nothing was given up");
}

#[test]
fn over_udp_an_oversize_record_is_cut_counted_and_recorded() {
    let Some(binary) = rsyslogd() else { return };
    let log = TempLog::new();
    let server = Rsyslog::start(&binary, log.dir.path(), Input::Udp, None);
    let syslog = SyslogConfig::udp(format!("127.0.0.1:{}", server.port)).with_max_datagram(1024);
    let long = "x".repeat(3000);
    with_log(&log, syslog, |guard| {
        emit(0, 10);
        for _ in 0..3 {
            tracing::info!(security_event = "data.exported", query = long.as_str());
        }
        guard.flush().expect("delivered");
        // The notice of the cut records is written at the next batch.
        std::thread::sleep(std::time::Duration::from_millis(300));
        tracing::info!(security_event = "system.shutdown");
    });
    // The 14 records after the readiness probe.
    let received = server.wait_for(15);
    let names: Vec<&str> = received.iter().map(|f| f[3].as_str()).collect();
    assert_eq!(
        names.iter().filter(|&&n| n == "data.exported").count(),
        3,
        "{names:?}"
    );
    for fields in received.iter().filter(|f| f[3] == "data.exported") {
        // Cut: what arrived is the start of the record, not JSON any more.
        assert!(
            fields[5].len() < 1024 && fields[5].starts_with("{\"schema\":1"),
            "{}",
            fields[5].len()
        );
    }
    let notices: Vec<Value> = read_records(&log.path)
        .into_iter()
        .filter(|r| r["event"]["name"] == "audit.events_dropped")
        .collect();
    let cut: u64 = notices
        .iter()
        .filter(|r| {
            r["fields"]["reason"]
                .as_str()
                .is_some_and(|why| why.contains("UDP datagram"))
        })
        .map(|r| r["fields"]["dropped"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(cut, 3, "{notices:#?}");
}

/// A receiver that requires a client certificate refuses a sink without one: nothing is
/// delivered, and the flush says so instead of reporting success.
#[test]
fn over_tls_without_the_client_certificate_the_flush_fails() {
    let Some(binary) = rsyslogd() else { return };
    let log = TempLog::new();
    let pki = TestPki::new(log.dir.path());
    let server = Rsyslog::start(&binary, log.dir.path(), Input::Tls, Some(&pki));
    let syslog = SyslogConfig::tls(format!("127.0.0.1:{}", server.port))
        .with_ca_file(&pki.ca)
        .with_server_name("localhost");
    with_log(&log, syslog, |guard| {
        emit(0, 5);
        let err = guard.flush().expect_err("nothing can be delivered");
        assert!(format!("{err:?}").contains("not yet delivered"), "{err:?}");
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(check_received(&server.received(), OutputForm::Native).is_empty());
}

/// The sink from the configuration file, with its facility and form.
#[cfg(feature = "config")]
#[test]
fn the_configuration_file_sets_up_the_sink() {
    use tracing_security_events::config::Config;
    let Some(binary) = rsyslogd() else { return };
    let log = TempLog::new();
    let server = Rsyslog::start(&binary, log.dir.path(), Input::Tcp, None);
    let text = format!(
        "[service]\nname = \"billing\"\n[[sinks]]\ntype = \"syslog\"\naddress = \"127.0.0.1:{}\"\n\
         transport = \"tcp\"\nfacility = \"local4\"\nformat = \"ecs\"\n",
        server.port
    );
    let config = Config::parse(&text, "syslog.toml", Vec::new()).unwrap();
    let (layer, guard, _reload) = tracing_security_events::Builder::from_config(&config)
        .build_with_reload::<tracing_subscriber::Registry>()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!(security_event = "user.invited", target.id = "7");
    });
    let _ = guard.shutdown();
    let received = server.wait_for(1);
    let invited = received
        .iter()
        .find(|f| f[3] == "user.invited")
        .unwrap_or_else(|| panic!("{received:?}"));
    assert_eq!(invited[0], "local4");
    assert_eq!(invited[2], "billing");
    let record: Value = serde_json::from_str(&invited[5]).unwrap();
    assert_eq!(record["event"]["action"], "user.invited");
}

/// A reload adds the sink: records after it reach the receiver.
#[cfg(feature = "config")]
#[test]
fn a_reload_adds_the_sink() {
    use tracing_security_events::config::Config;
    let Some(binary) = rsyslogd() else { return };
    let log = TempLog::new();
    let server = Rsyslog::start(&binary, log.dir.path(), Input::Tcp, None);
    let file = format!(
        "[service]\nname = \"tests\"\n[[sinks]]\ntype = \"file\"\npath = {:?}\n",
        log.path.display().to_string()
    );
    let both = format!(
        "{file}[[sinks]]\ntype = \"syslog\"\naddress = \"127.0.0.1:{}\"\n",
        server.port
    );
    let config = Config::parse(&file, "syslog.toml", Vec::new()).unwrap();
    let (layer, guard, reload) = tracing_security_events::Builder::from_config(&config)
        .build_with_reload::<tracing_subscriber::Registry>()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        emit(0, 5);
        reload
            .reload(Config::parse(&both, "syslog.toml", Vec::new()).unwrap())
            .unwrap();
        emit(5, 5);
        let _ = guard.flush();
    });
    let _ = guard.shutdown();
    let received = server.wait_for(6);
    check_received(&received, OutputForm::Native);
    // The reload's own record, then the five records after it.
    let names: Vec<&str> = received.iter().map(|fields| fields[3].as_str()).collect();
    assert_eq!(names[0], "audit.config_changed", "{names:?}");
    assert_eq!(names.len(), 6, "{names:?}");
}
