//! Detections over a fleet against a real PostgreSQL (a private cluster): three writer
//! processes, each with the PostgreSQL sink and the same fleet detections and notification rule,
//! driven line by line from the test; an attack spread over all three is detected and notified
//! once; the evaluating process killed mid-window, another takes over and completes the window
//! once; impossible travel between two instances.
#![cfg(all(feature = "postgres", feature = "notify"))]

mod common;
mod pg;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use common::TempLog;
use pg::Cluster;
use tracing_security_events::notify::{
    Callback, FleetDetections, ImpossibleTravel, NotifyConfig, NotifySeverity, Rule, Threshold,
    TransportError,
};
use tracing_security_events::query::{Field, Query};
use tracing_security_events::sink::postgres::PostgresConfig;
use tracing_security_events::{security_event, SecurityEvent};
use tracing_subscriber::prelude::*;

/// The threshold of the tests: 8 failures of one address within 30 s.
const COUNT: u32 = 8;
const WINDOW: Duration = Duration::from_secs(30);
/// What a writer answers when a command's records are flushed.
const DONE: &str = "fleet-child: done";

/// A writer process of the fleet, run by the tests below: reads commands on its stdin, answers
/// [`DONE`] on its stdout once what they wrote is flushed.
///
/// - `fail IP N`: N failed sign-ins from IP
/// - `sign-in ACTOR LAT LON`: a successful sign-in located there
/// - `quit`
#[test]
fn fleet_child() {
    let Ok(spec) = std::env::var("FLEET_CHILD") else {
        return;
    };
    let parts: Vec<&str> = spec.split('|').collect();
    let [url, table, instance, notified] = parts.as_slice() else {
        panic!("{spec}")
    };
    let notified = PathBuf::from(notified);
    let instance_name = (*instance).to_owned();
    let notify = NotifyConfig::new()
        .detection(Threshold::new(
            "spread attack",
            Query::parse("event = authentication.failed").unwrap(),
            Field::parse("client.ip").unwrap(),
            COUNT,
            WINDOW,
        ))
        .detection(ImpossibleTravel::new("travel"))
        .transport(
            "file",
            Callback::new(move |n: &tracing_security_events::notify::Notification| {
                let mut file = std::fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(&notified)
                    .map_err(|e| TransportError::transient(e.to_string()))?;
                let line = format!("{instance_name} {}\n", n.record);
                file.write_all(line.as_bytes())
                    .map_err(|e| TransportError::transient(e.to_string()))
            }),
        )
        .rule(Rule::new(
            "detections",
            Query::parse("event in (authentication.failed_max, authentication.impossible_travel)")
                .unwrap(),
            NotifySeverity::Alert,
        ))
        .over_fleet(
            FleetDetections::new()
                .with_url(*url)
                .with_table(*table)
                .with_poll(Duration::from_millis(50))
                .with_settle(Duration::from_millis(300)),
        );
    let log = TempLog::new();
    let (layer, guard) = log
        .builder()
        .with_service_instance(*instance)
        .with_postgres(PostgresConfig::new().with_url(*url).with_table(*table))
        .with_notifications(notify)
        .build()
        .unwrap();
    let stdout = std::io::stdout();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for command in std::io::stdin().lock().lines() {
            let command = command.unwrap();
            let words: Vec<&str> = command.split_whitespace().collect();
            match words.as_slice() {
                ["fail", ip, n] => {
                    for _ in 0..n.parse::<u32>().unwrap() {
                        let span =
                            tracing::info_span!("request", client.ip = *ip, tenant.id = "acme");
                        let _entered = span.enter();
                        security_event!(
                            SecurityEvent::LoginFailed,
                            authentication.method = "password"
                        );
                    }
                }
                ["sign-in", actor, lat, lon] => {
                    let (lat, lon): (f64, f64) = (lat.parse().unwrap(), lon.parse().unwrap());
                    let span = tracing::info_span!(
                        "request",
                        actor.id = *actor,
                        client.ip = "192.0.2.10",
                        client.geo.lat = lat,
                        client.geo.lon = lon,
                    );
                    let _entered = span.enter();
                    security_event!(SecurityEvent::LoginSucceeded);
                }
                ["quit"] => break,
                other => panic!("unknown command {other:?}"),
            }
            guard.flush().unwrap();
            // On a line of its own: the harness has written the test's name without one.
            writeln!(stdout.lock(), "\n{DONE}").unwrap();
        }
    });
    guard.shutdown().unwrap();
}

/// A running writer process.
struct Writer {
    name: String,
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Writer {
    fn start(cluster: &Cluster, table: &str, name: &str, notified: &Path) -> Writer {
        // The application name tells the test which process holds the lease.
        let url = format!("{}&application_name={name}", cluster.url());
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "fleet_child",
                "--test-threads",
                "1",
                "--nocapture",
            ])
            .env(
                "FLEET_CHILD",
                format!("{url}|{table}|{name}|{}", notified.display()),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        Writer {
            name: name.to_owned(),
            child,
            input,
            output,
        }
    }

    /// Sends one command and waits until it is done.
    fn send(&mut self, command: &str) {
        writeln!(self.input, "{command}").unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            assert_ne!(
                self.output.read_line(&mut line).unwrap(),
                0,
                "{} ended",
                self.name
            );
            if line.trim() == DONE {
                return;
            }
        }
    }

    fn quit(mut self) {
        writeln!(self.input, "quit").unwrap();
        assert!(self.child.wait().unwrap().success(), "{}", self.name);
    }
}

fn client(cluster: &Cluster) -> postgres::Client {
    postgres::Client::connect(&cluster.url(), postgres::NoTls).unwrap()
}

/// The detection rows of `event` about `key`.
fn detections(db: &mut postgres::Client, table: &str, event: &str, key: &str) -> Vec<String> {
    db.query(
        &format!(
            "SELECT instance FROM {table} WHERE event_name = $1 \
             AND coalesce(record #>> '{{fields,key}}', record #>> '{{actor,id}}') = $2"
        ),
        &[&event, &key],
    )
    .unwrap()
    .iter()
    .map(|row| row.get(0))
    .collect()
}

/// Waits until `event` about `key` has `n` rows, then a while longer to see that no other comes.
fn expect_detections(db: &mut postgres::Client, table: &str, event: &str, key: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while detections(db, table, event, key).len() < n {
        assert!(Instant::now() < deadline, "no {event} about {key}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Longer than several polls and the settling time: a second one would be there by then.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        detections(db, table, event, key).len(),
        n,
        "{event} about {key}"
    );
}

/// The writer whose connection holds the fleet's lease.
fn leader(db: &mut postgres::Client) -> Option<String> {
    let holders: Vec<String> = db
        .query(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'app-%'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    // A writer migrating at its start holds a lock of the table for a moment too.
    match holders.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// The notifications the writers sent, as lines `instance record`.
fn notifications(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn fleet(cluster: &Cluster, name: &str) -> (String, tempfile::TempDir, PathBuf, Vec<Writer>) {
    let table = Cluster::table(name);
    let dir = tempfile::tempdir().unwrap();
    let notified = dir.path().join("notified");
    let writers = ["app-1", "app-2", "app-3"]
        .iter()
        .map(|name| Writer::start(cluster, &table, name, &notified))
        .collect();
    (table, dir, notified, writers)
}

#[test]
fn an_attack_spread_over_three_instances_is_detected_and_notified_once() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let (table, _dir, notified, mut writers) = fleet(cluster, "fleet_spread");
    let mut db = client(cluster);
    // 3 + 3 + 3 = 9 failures from one address: no instance alone reaches 8.
    for writer in &mut writers {
        writer.send("fail 203.0.113.7 3");
    }
    expect_detections(
        &mut db,
        &table,
        "authentication.failed_max",
        "203.0.113.7",
        1,
    );
    let sent = notifications(&notified);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    // Below the threshold: another address with 2 failures on each instance.
    for writer in &mut writers {
        writer.send("fail 198.51.100.1 2");
    }
    std::thread::sleep(Duration::from_secs(2));
    assert!(detections(&mut db, &table, "authentication.failed_max", "198.51.100.1").is_empty());
    let record: serde_json::Value =
        serde_json::from_str(sent[0].split_once(' ').unwrap().1).unwrap();
    assert_eq!(record["event"]["name"], "authentication.failed_max");
    assert_eq!(record["fields"]["count"], COUNT);
    assert_eq!(record["tenant"]["id"], "acme");
    for writer in writers {
        writer.quit();
    }
}

#[test]
fn the_evaluator_killed_mid_window_another_completes_it_once() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let (table, _dir, notified, mut writers) = fleet(cluster, "fleet_failover");
    let mut db = client(cluster);
    // 6 failures of the window, 2 per instance, evaluated by the leader.
    for writer in &mut writers {
        writer.send("fail 203.0.113.50 2");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let evaluated = |db: &mut postgres::Client| -> i64 {
        db.query_one(&format!("SELECT count(*) FROM {table}_cursors"), &[])
            .unwrap()
            .get(0)
    };
    while evaluated(&mut db) < 3 || leader(&mut db).is_none() {
        assert!(Instant::now() < deadline, "nothing evaluated");
        std::thread::sleep(Duration::from_millis(50));
    }
    let first = leader(&mut db).unwrap();
    let position = writers.iter().position(|w| w.name == first).unwrap();
    let mut killed = writers.remove(position);
    killed.child.kill().unwrap();
    killed.child.wait().unwrap();
    let died = Instant::now();
    // Another takes the lease.
    let deadline = Instant::now() + Duration::from_secs(30);
    let second = loop {
        match leader(&mut db) {
            Some(name) if name != first => break name,
            _ => assert!(Instant::now() < deadline, "nobody took over from {first}"),
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    println!(
        "{second} took the lease {:?} after {first} was killed",
        died.elapsed()
    );
    // The window completes on the survivors: 6 + 2 = 8, detected once, by the new evaluator.
    for writer in &mut writers {
        writer.send("fail 203.0.113.50 1");
    }
    expect_detections(
        &mut db,
        &table,
        "authentication.failed_max",
        "203.0.113.50",
        1,
    );
    assert_eq!(
        detections(&mut db, &table, "authentication.failed_max", "203.0.113.50"),
        std::slice::from_ref(&second)
    );
    // More of the same window: quiet. The next window of another address: once.
    for writer in &mut writers {
        writer.send("fail 203.0.113.50 3");
        writer.send("fail 203.0.113.51 4");
    }
    expect_detections(
        &mut db,
        &table,
        "authentication.failed_max",
        "203.0.113.51",
        1,
    );
    assert_eq!(
        detections(&mut db, &table, "authentication.failed_max", "203.0.113.50").len(),
        1
    );
    assert_eq!(
        notifications(&notified).len(),
        2,
        "{:#?}",
        notifications(&notified)
    );
    // The lease moves again when the second leader quits cleanly; nothing is raised twice.
    let position = writers.iter().position(|w| w.name == second).unwrap();
    writers.remove(position).quit();
    let deadline = Instant::now() + Duration::from_secs(30);
    while leader(&mut db).is_none_or(|name| name == second) {
        assert!(Instant::now() < deadline, "nobody took over from {second}");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_secs(2));
    for key in ["203.0.113.50", "203.0.113.51"] {
        assert_eq!(
            detections(&mut db, &table, "authentication.failed_max", key).len(),
            1,
            "{key}"
        );
    }
    for writer in writers {
        writer.quit();
    }
}

#[test]
fn impossible_travel_between_two_instances() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let (table, _dir, notified, mut writers) = fleet(cluster, "fleet_travel");
    let mut db = client(cluster);
    // Berlin on one instance, New York on another a moment later.
    writers[0].send("sign-in 42 52.52 13.405");
    writers[2].send("sign-in 42 40.7128 -74.006");
    // Another actor, both in Berlin: no journey.
    writers[1].send("sign-in 43 52.52 13.405");
    writers[0].send("sign-in 43 52.52 13.405");
    expect_detections(&mut db, &table, "authentication.impossible_travel", "42", 1);
    assert!(detections(&mut db, &table, "authentication.impossible_travel", "43").is_empty());
    assert_eq!(notifications(&notified).len(), 1);
    for writer in writers {
        writer.quit();
    }
}

/// New devices over a fleet: instances asking about the same devices at the same moment find
/// each new exactly once between them.
#[cfg(feature = "http")]
#[test]
fn a_device_is_new_once_for_the_whole_fleet() {
    use tracing_security_events::http::{
        DeviceCheck, DeviceKey, NewDeviceDetector, PostgresDeviceStore,
    };

    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let table = Cluster::table("fleet_devices");
    let detectors: Vec<_> = (0..3)
        .map(|_| {
            NewDeviceDetector::new(
                PostgresDeviceStore::connect_to_table(&cluster.url(), &table).unwrap(),
            )
        })
        .collect();
    let keys: Vec<DeviceKey> = (0..200)
        .map(|n| {
            DeviceKey::new(
                format!("user-{}", n % 40),
                if n % 2 == 0 {
                    "Firefox/Linux"
                } else {
                    "Safari/Mac OS X\u{0}"
                },
                Some(format!("203.0.{}.9", n % 5).parse().unwrap()),
            )
        })
        .collect();
    let new: Vec<usize> = std::thread::scope(|scope| {
        let workers: Vec<_> = detectors
            .iter()
            .map(|detector| {
                let keys = &keys;
                scope.spawn(move || {
                    keys.iter()
                        .filter(|key| detector.check(key).unwrap() == DeviceCheck::New)
                        .count()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let distinct: std::collections::HashSet<_> = keys.iter().collect();
    assert_eq!(new.iter().sum::<usize>(), distinct.len(), "{new:?}");
    for detector in &detectors {
        assert_eq!(detector.check(&keys[0]).unwrap(), DeviceCheck::Known);
    }
}

/// The same from the configuration file: a postgres sink with retention rules, a threshold and
/// `[fleet_detections]` over the sink's table.
#[cfg(feature = "config")]
#[test]
fn fleet_detections_and_retention_rules_from_the_configuration_file() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let table = Cluster::table("fleet_configured");
    let url = cluster.url();
    let text = format!(
        r#"[[sinks]]
type = "postgres"
url = {url:?}
table = {table:?}
retention = "365d"
retention_rules = [{{ when = "category = authentication", keep = "90d" }}]

[[detections]]
type = "threshold"
name = "brute force"
when = "event = authentication.failed"
group_by = "client.ip"
count = 5
window = "1m"

[fleet_detections]
url = {url:?}
table = {table:?}
poll = "50ms"
settle = "200ms"
"#
    );
    let config =
        tracing_security_events::config::Config::parse(&text, "fleet.toml", Vec::new()).unwrap();
    let (layer, guard) = tracing_security_events::Builder::from_config(&config)
        .with_service_instance("configured-1")
        .build()
        .unwrap();
    let mut db = client(cluster);
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..5 {
            let span = tracing::info_span!("request", client.ip = "203.0.113.99");
            let _entered = span.enter();
            security_event!(SecurityEvent::LoginFailed);
        }
        guard.flush().unwrap();
        expect_detections(
            &mut db,
            &table,
            "authentication.failed_max",
            "203.0.113.99",
            1,
        );
    });
    guard.shutdown().unwrap();
    // Sign-ins are in their class's partition, kept 90 days.
    let classes: Vec<String> = db
        .query(
            &format!(
                "SELECT DISTINCT retention FROM {table} WHERE event_name = 'authentication.failed'"
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(classes, ["90"]);
}
