//! The `security-log` command, run as a process on real logs: its exit codes (0 results, 1
//! none, 2 error with one line on stderr), every format safe for hostile values, verification.

#[path = "../../e2e/tests/common/mod.rs"]
mod common;
#[path = "../../e2e/tests/pg/mod.rs"]
mod pg;

use std::process::Command;

use common::{run, TempLog};
use tracing_security_events::{security_event, SecurityEvent};

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn security_log(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_security-log"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    Output {
        code: output.status.code().unwrap(),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

const HOSTILE: &str =
    "=cmd|' /C calc'!A0\r\nforged\u{2028}line\u{1b}[31mred\u{202e}<script>alert(1)</script>\u{9b}";

fn hostile_log() -> TempLog {
    let log = TempLog::new();
    run(&log, log.builder(), || {
        for i in 0..3 {
            security_event!(
                SecurityEvent::LoginFailed,
                actor.id = i,
                authentication.method = "password"
            );
        }
        security_event!(
            SecurityEvent::UserInvited,
            actor.id = HOSTILE,
            note = HOSTILE
        );
    });
    log
}

#[test]
fn exit_codes_and_one_line_errors() {
    let log = hostile_log();
    let path = log.path.to_str().unwrap();
    let found = security_log(&[
        "query",
        path,
        "--event",
        "authentication.*",
        "--format",
        "jsonl",
    ]);
    assert_eq!(found.code, 0, "{}", found.stderr);
    assert_eq!(found.stdout.lines().count(), 3);
    let count = security_log(&["query", path, "--count", "-q", "user in (0, 2)"]);
    assert_eq!((count.code, count.stdout.as_str()), (0, "2\n"));
    let none = security_log(&["query", path, "--user", "nobody"]);
    assert_eq!((none.code, none.stdout.as_str()), (1, ""));
    let zero = security_log(&["query", path, "--count", "--user", "nobody"]);
    assert_eq!((zero.code, zero.stdout.as_str()), (1, "0\n"));

    for (args, message) in [
        (
            vec!["query", path, "-q", "evnt = x"],
            "security-log: -q: column 1: unknown field `evnt` (did you mean `event`?)\n",
        ),
        (
            vec!["query", path, "--from", "yesterdayish"],
            "security-log: --from: `yesterdayish` is not a time",
        ),
        (
            vec!["query", path, "--ip", "10.0.0.300"],
            "security-log: --ip: `10.0.0.300` is not an IP address or network\n",
        ),
        (
            vec!["query", path, "--cursor", "abc"],
            "security-log: --cursor: not a cursor of this log\n",
        ),
        (
            vec!["query", "/no/such/dir/log.jsonl"],
            "security-log: /no/such/dir/log.jsonl: no such file or directory\n",
        ),
        (
            vec!["stats", path, "--every", "1y"],
            "`1y` is not a bucket length",
        ),
        (vec!["frobnicate"], "unrecognized subcommand"),
    ] {
        let out = security_log(&args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn paging_with_the_printed_cursor() {
    let log = hostile_log();
    let path = log.path.to_str().unwrap();
    let first = security_log(&["query", path, "--limit", "2", "--format", "jsonl"]);
    let cursor = first
        .stderr
        .trim()
        .strip_prefix("next page: --cursor ")
        .unwrap();
    let second = security_log(&[
        "query", path, "--limit", "2", "--format", "jsonl", "--cursor", cursor,
    ]);
    let seqs = |text: &str| -> Vec<u64> {
        text.lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                    .as_u64()
                    .unwrap()
            })
            .collect()
    };
    assert_eq!(seqs(&first.stdout), [4, 3]);
    assert_eq!(seqs(&second.stdout), [2, 1]);
}

#[test]
fn hostile_values_come_out_safe_in_every_format() {
    let log = hostile_log();
    let path = log.path.to_str().unwrap();
    for format in ["table", "jsonl", "json", "csv"] {
        let out = security_log(&["query", path, "--event", "user.invited", "--format", format]);
        assert_eq!(out.code, 0, "{format}: {}", out.stderr);
        let text = &out.stdout;
        // JSON escapes what could break a line or reach a terminal (the records as written);
        // the table shows every control and bidirectional override as an escape; CSV keeps
        // the text in quoted cells, and neutralises formulas.
        let never_raw: &[char] = match format {
            "table" => &['\u{1b}', '\r', '\u{2028}', '\u{202e}', '\u{9b}'],
            "jsonl" | "json" => &['\u{1b}', '\r', '\u{2028}', '\u{9b}'],
            _ => &[],
        };
        for raw in never_raw {
            assert!(!text.contains(*raw), "{format} printed {raw:?} raw: {text}");
        }
        match format {
            "table" => {
                assert_eq!(text.lines().count(), 2, "a header and one row: {text}");
                assert!(text.contains("\\u{1b}[31mred"), "{text}");
            }
            "jsonl" => {
                assert_eq!(text.lines().count(), 1);
                let record: serde_json::Value = serde_json::from_str(text).unwrap();
                assert_eq!(record["actor"]["id"], HOSTILE);
            }
            "json" => {
                let records: Vec<serde_json::Value> = serde_json::from_str(text).unwrap();
                assert_eq!(records[0]["fields"]["note"], HOSTILE);
            }
            _ => {
                // The CSV's own quoting keeps the line feed inside its cell; the cell cannot run.
                let mut reader = csv::Reader::from_reader(text.as_bytes());
                let headers = reader.headers().unwrap().clone();
                let row = reader.records().next().unwrap().unwrap();
                let actor = headers.iter().position(|h| h == "actor_id").unwrap();
                assert!(row[actor].starts_with("'=cmd|"), "{:?}", &row[actor]);
            }
        }
    }
    let csv = security_log(&["export", path, "--format", "csv"]);
    assert_eq!(csv.code, 0);
    let mut reader = csv::Reader::from_reader(csv.stdout.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
        }
    }
}

#[test]
fn stats_export_and_tail() {
    let log = hostile_log();
    let path = log.path.to_str().unwrap();
    let stats = security_log(&["stats", path, "--by", "event", "--format", "json"]);
    assert_eq!(stats.code, 0, "{}", stats.stderr);
    let value: serde_json::Value = serde_json::from_str(&stats.stdout).unwrap();
    assert_eq!(
        value["buckets"][0]["key"]["event.name"],
        "authentication.failed"
    );
    assert_eq!(value["buckets"][0]["count"], 3);
    let table = security_log(&["stats", path, "--by", "outcome", "--every", "1d"]);
    assert!(
        table.stdout.contains("failure") && table.stdout.contains("PERIOD"),
        "{}",
        table.stdout
    );

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export.jsonl");
    let export = security_log(&["export", path, "--user", "1", "-o", out.to_str().unwrap()]);
    assert_eq!(export.code, 0);
    assert_eq!(
        export.stderr,
        format!("1 records written to {}\n", out.display())
    );
    let written = std::fs::read_to_string(&out).unwrap();
    let original = std::fs::read_to_string(&log.path).unwrap();
    assert_eq!(
        written,
        format!("{}\n", original.lines().nth(1).unwrap()),
        "exactly as written"
    );

    let tail = security_log(&["tail", path, "-n", "2", "--format", "jsonl"]);
    let seqs: Vec<u64> = tail
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(seqs, [3, 4], "the newest, oldest of them first");
}

#[test]
fn verify_names_the_changed_line() {
    let log = TempLog::new();
    run(&log, log.builder(), || {
        for i in 0..5 {
            security_event!(SecurityEvent::ApiKeyRotated, i);
        }
    });
    let out = security_log(&["verify", log.path.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout.contains("records  5") && out.stdout.contains("ok"),
        "{}",
        out.stdout
    );

    let export = security_log(&["export", log.path.to_str().unwrap(), "--verify"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert!(
        export.stderr.contains("chain verified over 5 records"),
        "{}",
        export.stderr
    );

    let content = std::fs::read_to_string(&log.path).unwrap();
    std::fs::write(&log.path, content.replacen("\"i\":3", "\"i\":9", 1)).unwrap();
    let export = security_log(&["export", log.path.to_str().unwrap(), "--verify"]);
    assert_eq!(export.code, 1, "{}", export.stderr);
    assert!(
        export.stderr.contains("the chain does not verify"),
        "{}",
        export.stderr
    );
    assert_eq!(
        export.stdout.lines().count(),
        5,
        "the export is still written"
    );
    let out = security_log(&["verify", log.path.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout
            .contains(&format!("PROBLEM  {}:4: Modified", log.path.display())),
        "{}",
        out.stdout
    );
}

/// `verify` says "ok" only about a log that is there: a directory without one, or a log
/// without records, is an error; a torn last line is named even when the rest verifies.
#[test]
fn verify_is_truthful_about_nothing_and_about_a_torn_tail() {
    let empty = tempfile::tempdir().unwrap();
    let out = security_log(&["verify", empty.path().to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(empty.path().to_str().unwrap()),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("ok"), "{}", out.stdout);
    std::fs::write(empty.path().join("notes.txt"), "not a log\n").unwrap();
    assert_eq!(
        security_log(&["verify", empty.path().to_str().unwrap()]).code,
        2
    );
    let blank = empty.path().join("security.jsonl");
    std::fs::write(&blank, "").unwrap();
    assert_eq!(security_log(&["verify", blank.to_str().unwrap()]).code, 2);

    let log = TempLog::new();
    run(&log, log.builder(), || {
        for i in 0..5 {
            security_event!(SecurityEvent::ApiKeyRotated, i);
        }
    });
    let content = std::fs::read_to_string(&log.path).unwrap();
    std::fs::write(&log.path, &content[..content.len() - 40]).unwrap();
    let out = security_log(&["verify", log.path.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let torn = format!("{}:5", log.path.display());
    assert!(
        out.stdout.contains(&format!("torn     {torn}: Torn")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("apart from 1 torn line"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains(&torn), "{}", out.stderr);
}

/// The command over a PostgreSQL table: query, stats, export and each instance's chain, and a
/// changed row found.
#[cfg(feature = "postgres")]
#[test]
fn a_database_is_read_and_verified_as_files_are() {
    use tracing_security_events::sink::postgres::PostgresConfig;

    let Some(cluster) = pg::Cluster::start() else {
        return;
    };
    let table = pg::Cluster::table("cli");
    for instance in ["app-1", "app-2"] {
        let log = TempLog::new();
        let builder = log.builder().with_service_instance(instance).with_postgres(
            PostgresConfig::new()
                .with_url(cluster.url())
                .with_table(&table),
        );
        run(&log, builder, || {
            for i in 0..50 {
                security_event!(
                    SecurityEvent::LoginFailed,
                    actor.id = i,
                    authentication.method = "password"
                );
            }
            security_event!(SecurityEvent::ApiKeyRotated, actor.id = 7);
        });
    }
    let url = cluster.url();
    let count = security_log(&[
        "query",
        &url,
        "--table",
        &table,
        "--count",
        "--event",
        "authentication.*",
    ]);
    assert_eq!(
        (count.code, count.stdout.trim()),
        (0, "100"),
        "{}",
        count.stderr
    );
    let one = security_log(&[
        "query",
        &url,
        "--table",
        &table,
        "--user",
        "7",
        "--event",
        "api_key.rotated",
        "--format",
        "jsonl",
    ]);
    assert_eq!(one.stdout.lines().count(), 2, "{}", one.stderr);
    let stats = security_log(&[
        "stats", &url, "--table", &table, "--by", "event", "--format", "jsonl",
    ]);
    assert_eq!(stats.code, 0, "{}", stats.stderr);
    let verified = security_log(&["verify", &url, "--table", &table]);
    assert_eq!(verified.code, 0, "{}{}", verified.stdout, verified.stderr);
    assert_eq!(
        verified
            .stdout
            .matches("ok       the chain verifies")
            .count(),
        2,
        "{}",
        verified.stdout
    );
    assert!(verified.stdout.contains(&format!("postgres:{table}/app-2")));

    // A row changed in the database is found, in its instance only.
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    db.execute(
        &format!("UPDATE {table} SET line = replace(line, '\"seq\":9,', '\"seq\":9 ,') WHERE instance = 'app-2' AND seq = 9"),
        &[],
    )
    .unwrap();
    let changed = security_log(&["verify", &url, "--table", &table, "--instance", "app-2"]);
    assert_eq!(changed.code, 1, "{}", changed.stdout);
    assert!(
        changed
            .stdout
            .contains(&format!("PROBLEM  postgres:{table}/app-2:9: Modified")),
        "{}",
        changed.stdout
    );
    let other = security_log(&["verify", &url, "--table", &table, "--instance", "app-1"]);
    assert_eq!(other.code, 0, "{}", other.stdout);
    let missing = security_log(&["query", &url, "--table", "no_such_table", "--count"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("no table `no_such_table`"),
        "{}",
        missing.stderr
    );
}

/// Writes 40 records (in batches of 8, each written before the next) through a file sink that
/// signs a checkpoint every 10 under `key_file`, and whatever `configure` adds.
fn write_checkpointed(
    log: &TempLog,
    key_file: &std::path::Path,
    configure: impl FnOnce(tracing_security_events::Builder) -> tracing_security_events::Builder,
) {
    use tracing_security_events::sink::{CheckpointConfig, FileConfig};
    use tracing_subscriber::prelude::*;

    let file = FileConfig::new(&log.path)
        .with_checkpoints(CheckpointConfig::new(key_file).every_records(10));
    let builder = tracing_security_events::builder()
        .with_service_instance("app-1")
        .with_file_config(file);
    let (layer, guard) = configure(builder).build().unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for chunk in 0..5 {
            for i in 0..8 {
                security_event!(SecurityEvent::LoginFailed, actor.id = chunk * 8 + i);
            }
            guard.flush().unwrap();
        }
    });
    guard.shutdown().unwrap();
}

#[test]
fn keygen_then_checkpoints_anchored_in_postgres_catch_a_cut_log() {
    use tracing_security_events::sink::postgres::PostgresConfig;

    let log = TempLog::new();
    let key_file = log.dir.path().join("checkpoint.key");
    let key_path = key_file.to_str().unwrap();
    let made = security_log(&["keygen", "-o", key_path]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let public = made.stdout.trim().to_owned();
    assert_eq!(public.len(), 64, "{public}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = security_log(&["keygen", "-o", key_path]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);

    let Some(cluster) = pg::Cluster::start() else {
        return;
    };
    let table = pg::Cluster::table("anchors");
    let url = cluster.url();
    write_checkpointed(&log, &key_file, |builder| {
        builder.with_postgres(PostgresConfig::new().with_url(&url).with_table(&table))
    });

    let dir = log.dir.path().to_str().unwrap();
    let args = |extra: &[&'static str]| {
        let mut args = vec!["verify", dir, "--public-key", public.as_str()];
        args.extend_from_slice(extra);
        args
    };
    let mut anchored = args(&["--table"]);
    anchored.push(&table);
    anchored.extend(["--anchors", url.as_str()]);
    let verified = security_log(&anchored);
    assert_eq!(verified.code, 0, "{}{}", verified.stdout, verified.stderr);
    assert!(verified.stdout.contains("anchored"), "{}", verified.stdout);
    assert!(
        !verified.stdout.contains("unchecked"),
        "{}",
        verified.stdout
    );

    // Without the public key, or without anchors, it says what it did not check.
    let plain = security_log(&["verify", dir]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert!(
        plain.stdout.contains("unchecked checkpoint signatures"),
        "{}",
        plain.stdout
    );
    // The public key may also be given as a file.
    let public_file = log.dir.path().join("checkpoint.pub");
    std::fs::write(&public_file, format!("{public}\n")).unwrap();
    let from_file = security_log(&["verify", dir, "--public-key", public_file.to_str().unwrap()]);
    assert_eq!(
        from_file.code, 0,
        "{}{}",
        from_file.stdout, from_file.stderr
    );
    let wrong = security_log(&["verify", dir, "--public-key", &"ab".repeat(31)]);
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);

    // Anchors that hold no checkpoint prove nothing: an error, not "ok".
    let empty = log.dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let first = std::fs::read_to_string(&log.path).unwrap();
    let first = first.lines().next().unwrap();
    std::fs::write(empty.join("other.jsonl"), format!("{first}\n")).unwrap();
    let mut nothing = args(&["--anchors"]);
    nothing.push(empty.to_str().unwrap());
    let none = security_log(&nothing);
    assert_eq!(none.code, 2, "{}{}", none.stdout, none.stderr);
    assert!(
        none.stderr.contains("no checkpoint records"),
        "{}",
        none.stderr
    );

    // The intruder cuts the end of the log: the table's copy of the last checkpoint says so.
    let text = std::fs::read_to_string(&log.path).unwrap();
    let kept: Vec<&str> = text.lines().collect();
    let kept = kept[..kept.len() - 3].join("\n") + "\n";
    std::fs::write(&log.path, kept).unwrap();
    let cut = security_log(&anchored);
    assert_eq!(cut.code, 1, "{}{}", cut.stdout, cut.stderr);
    assert!(cut.stdout.contains(": Truncated: "), "{}", cut.stdout);
    // With the public key alone the cut cannot be seen, and the report says so.
    let alone = security_log(&args(&[]));
    assert!(
        alone.stdout.contains("unchecked records cut from the end"),
        "{}",
        alone.stdout
    );
}

/// `--anchors` reads a collector's OTLP/JSON file (one `ExportLogsServiceRequest` a line, the
/// attributes as the OTLP sink names them) as well as records.
#[test]
fn otlp_json_anchors_are_read_by_verify() {
    let log = TempLog::new();
    let key_file = log.dir.path().join("checkpoint.key");
    let made = security_log(&["keygen", "-o", key_file.to_str().unwrap()]);
    let public = made.stdout.trim().to_owned();
    write_checkpointed(&log, &key_file, |builder| builder);

    // What the OTLP sink would have sent for each checkpoint record.
    let attribute = |key: &str, value: &serde_json::Value| match value {
        serde_json::Value::Number(n) => {
            serde_json::json!({"key": key, "value": {"intValue": n.to_string()}})
        }
        other => serde_json::json!({"key": key, "value": {"stringValue": other}}),
    };
    let mut otlp = String::new();
    for record in common::read_records(&log.path) {
        if record["event"]["name"] != "audit.checkpoint" {
            continue;
        }
        let mut attributes = vec![
            attribute("security_event.name", &record["event"]["name"]),
            attribute("security_event.id", &record["id"]),
            attribute("security_event.seq", &record["seq"]),
        ];
        for (name, value) in record["fields"].as_object().unwrap() {
            attributes.push(attribute(&format!("security_event.fields.{name}"), value));
        }
        let request = serde_json::json!({"resourceLogs": [{
            "resource": {"attributes": [attribute("service.instance.id", &record["service"]["instance"])]},
            "scopeLogs": [{"logRecords": [{"attributes": attributes}]}],
        }]});
        otlp.push_str(&format!("{request}\n"));
    }
    let anchors = log.dir.path().join("collector.json");
    std::fs::write(&anchors, otlp).unwrap();
    let dir = log.dir.path().to_str().unwrap();
    let args = [
        "verify",
        dir,
        "--public-key",
        &public,
        "--anchors",
        anchors.to_str().unwrap(),
    ];
    let verified = security_log(&args);
    assert_eq!(verified.code, 0, "{}{}", verified.stdout, verified.stderr);
    assert!(verified.stdout.contains("anchored"), "{}", verified.stdout);

    let text = std::fs::read_to_string(&log.path).unwrap();
    let kept: Vec<&str> = text.lines().collect();
    std::fs::write(&log.path, kept[..kept.len() - 2].join("\n") + "\n").unwrap();
    let cut = security_log(&args);
    assert_eq!(cut.code, 1, "{}{}", cut.stdout, cut.stderr);
    assert!(cut.stdout.contains(": Truncated: "), "{}", cut.stdout);
}
