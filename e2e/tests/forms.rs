//! The ECS and OCSF forms: every built-in name written in each, sealed into the hash chain
//! and verified (checkpoints included) in each, validated by independent checkers (PyPI's
//! `ocsf-emitter` for OCSF 1.5.0, ECS's own field definitions for ECS), and the documented
//! mapping table equal to the code's.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{read_records, TempLog};
use tracing_security_events::forms::{mapping_of, OutputForm};
use tracing_security_events::integrity::{
    parse_public_key, verify, verify_with, EpochKey, ProblemKind, VerifyOptions,
};
use tracing_security_events::sink::{CheckpointConfig, FileConfig};
use tracing_security_events::SecurityEvent;
use tracing_subscriber::prelude::*;

/// The names only the log writes (`audit.checkpoint`, `audit.files_removed`,
/// `audit.key_rotated`): here they come from the file sink's checkpoints, key epochs and
/// retention.
fn written_by_the_log(event: SecurityEvent) -> bool {
    matches!(
        event,
        SecurityEvent::AuditCheckpoint
            | SecurityEvent::AuditFilesRemoved
            | SecurityEvent::AuditKeyRotated
    )
}

/// Every built-in name the application may write, twice: about a user (the target a user) and
/// about another object, with every context part set, some of it hostile.
fn emit_every_name() {
    for &event in SecurityEvent::ALL
        .iter()
        .filter(|&&e| !written_by_the_log(e))
    {
        for target_kind in ["user", "api_key"] {
            tracing::info!(
                security_event = event.as_str(),
                actor.id = "42",
                actor.name = "alice \"the admin\"\n\u{1b}[31m",
                actor.email = "alice@example.com",
                actor.kind = "user",
                actor.roles = "admin, billing",
                session.id = "s-1",
                client.ip = "203.0.113.7",
                client.port = 51234_u64,
                client.geo.country = "FR",
                client.geo.city = "Paris",
                client.geo.lat = 48.85,
                client.geo.lon = 2.35,
                user_agent =
                    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                request.id = "req-9",
                http.method = "POST",
                url.path = "/admin/users",
                target.kind = target_kind,
                target.id = "7",
                target.name = "bob",
                tenant.id = "acme",
                tenant.name = "Acme",
                reason = "policy",
                role = "auditor",
                attempt = 3_u64,
            );
        }
    }
}

struct Logs {
    log: TempLog,
    native: PathBuf,
    ecs: PathBuf,
    ocsf: PathBuf,
    /// Every record in OCSF, in one file (no rotation, no checkpoints of its own).
    ocsf_whole: PathBuf,
    public_key: tracing_security_events::integrity::PublicKey,
}

/// The same records written natively, in ECS, and in OCSF with signed checkpoints.
fn write_every_form() -> Logs {
    let log = TempLog::new();
    let dir = log.dir.path().to_path_buf();
    let (ecs, ocsf) = (
        dir.join("ecs/security.jsonl"),
        dir.join("ocsf/security.jsonl"),
    );
    let key_file = dir.join("checkpoint.key");
    let key = EpochKey::generate().unwrap();
    key.save(&key_file).unwrap();
    let public_key = parse_public_key(&key.public_key()).unwrap();
    let builder = log
        .builder()
        .with_service_version("1.4.2")
        .with_file_config(FileConfig::new(&ecs).in_form(OutputForm::Ecs))
        .with_file_config(
            FileConfig::new(dir.join("ocsf-whole/security.jsonl")).in_form(OutputForm::Ocsf),
        )
        .with_file_config(
            FileConfig::new(&ocsf)
                .in_form(OutputForm::Ocsf)
                .rotate_at_size(64 * 1024)
                .keep_files(2)
                .with_checkpoints(
                    CheckpointConfig::new(&key_file)
                        .every_records(50)
                        .key_epoch(std::time::Duration::ZERO),
                ),
        );
    let (layer, guard) = builder.build().expect("build");
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        emit_every_name();
        guard.flush().unwrap();
        emit_every_name();
    });
    guard.shutdown().expect("shutdown");
    Logs {
        native: log.path.clone(),
        log,
        ecs,
        ocsf,
        ocsf_whole: dir.join("ocsf-whole/security.jsonl"),
        public_key,
    }
}

/// The files of the log in `dir`, oldest first (rotated files' names sort before the active one's).
fn files_of(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_form_holds_the_same_records_and_verifies() {
    let logs = write_every_form();
    let native = read_records(&logs.native);
    let ecs = read_records(&logs.ecs);
    // The OCSF log rotated, and retention removed its oldest files: it holds the newest records.
    let ocsf_files = files_of(logs.ocsf.parent().unwrap());
    assert!(ocsf_files.len() == 3, "{ocsf_files:?}");
    let ocsf: Vec<_> = ocsf_files
        .iter()
        .flat_map(|file| read_records(file))
        .collect();
    assert!(
        native.len() > 3 * SecurityEvent::ALL.len(),
        "{}",
        native.len()
    );
    assert_eq!(ecs.len(), native.len());
    assert!(ocsf.len() < native.len() / 2, "{}", ocsf.len());
    let ocsf_start = native.len() - ocsf.len();
    let names: std::collections::BTreeSet<&str> = native
        .iter()
        .map(|record| record["event"]["name"].as_str().unwrap())
        .collect();
    for &event in SecurityEvent::ALL {
        assert!(names.contains(event.as_str()), "{event} was not written");
    }
    let mut checkpoints = 0;
    for (at, (native, ecs)) in native.iter().zip(&ecs).enumerate() {
        let name = native["event"]["name"].as_str().unwrap();
        assert_eq!(ecs["event"]["action"], name);
        assert_eq!(ecs["event"]["id"], native["id"]);
        assert_eq!(ecs["event"]["sequence"], native["seq"]);
        assert_eq!(ecs["message"], native["message"]);
        assert_eq!(ecs["@timestamp"], native["timestamp"]);
        assert!(ecs["integrity"]["hash"].is_string());
        let Some(ocsf) = at.checked_sub(ocsf_start).map(|at| &ocsf[at]) else {
            continue;
        };
        assert_eq!(ocsf["metadata"]["event_code"], name);
        assert_eq!(ocsf["metadata"]["uid"], native["id"]);
        assert_eq!(ocsf["metadata"]["sequence"], native["seq"]);
        let mapping = mapping_of(name, native["event"]["category"].as_str().unwrap());
        assert_eq!(ocsf["class_uid"], mapping.ocsf_class.uid(), "{name}");
        assert_eq!(ocsf["type_uid"], mapping.type_uid(), "{name}");
        // Each form is sealed where it keeps what is its own.
        assert!(ocsf["unmapped"]["integrity"]["hash"].is_string());
        assert!(ocsf.get("integrity").is_none());
        if name == "audit.checkpoint" {
            checkpoints += 1;
            // The checkpoint's fields, where verify reads them in each form.
            assert_eq!(
                ocsf["unmapped"]["fields"]["checkpoint.number"],
                ecs["security_event"]["fields"]["checkpoint.number"]
            );
        }
    }
    assert!(checkpoints >= 2, "{checkpoints} checkpoints");

    assert_eq!(read_records(&logs.ocsf_whole).len(), native.len());
    for path in [&logs.native, &logs.ecs, &logs.ocsf_whole] {
        let report = verify(path).unwrap();
        assert!(report.is_ok(), "{}: {:?}", path.display(), report.problem);
        assert_eq!(report.records, native.len() as u64);
    }
    // The key evolved at every checkpoint, retention removed files: verify follows both.
    let options = VerifyOptions::new().with_public_key(logs.public_key);
    let report = verify_with(logs.ocsf.parent().unwrap(), &options).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.records, ocsf.len() as u64);
    assert!(report.checkpoints >= 2, "{}", report.checkpoints);
    assert!(!report.removed_by_retention.is_empty());
    assert_eq!(report.unsigned_tail, 0);
    assert!(
        checkpoints >= report.checkpoints,
        "the native copy holds every checkpoint"
    );
    drop(logs.log);
}

#[test]
fn a_changed_value_in_either_form_is_found_on_its_line() {
    let logs = write_every_form();
    for (path, from, to) in [
        (
            &logs.ecs,
            "\"outcome\":\"failure\"",
            "\"outcome\":\"success\"",
        ),
        (&logs.ocsf, "\"status_id\":2,", "\"status_id\":1,"),
    ] {
        let text = std::fs::read_to_string(path).unwrap();
        let line = text.lines().position(|line| line.contains(from)).unwrap();
        let changed: Vec<String> = text
            .lines()
            .enumerate()
            .map(|(at, l)| {
                if at == line {
                    l.replacen(from, to, 1)
                } else {
                    l.to_owned()
                }
            })
            .collect();
        std::fs::write(path, changed.join("\n") + "\n").unwrap();
        let report = verify(path).unwrap();
        let problem = report.problem.expect("the change is found");
        assert_eq!(problem.kind, ProblemKind::Modified, "{problem}");
        assert_eq!(problem.location.line, line as u64 + 1, "{problem}");
    }
}

/// The Python that runs the validators: `FORMS_TEST_PYTHON`, else `python3`; `None` (the test
/// skips, unless `FORMS_TEST_REQUIRE_VALIDATOR=1`) when it lacks `ocsf_emitter`.
fn validator_python() -> Option<String> {
    let python = std::env::var("FORMS_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let ready = Command::new(&python)
        .args(["-c", "import ocsf_emitter"])
        .status()
        .is_ok_and(|status| status.success());
    if ready {
        return Some(python);
    }
    let why = format!("{python} cannot import ocsf_emitter (pip install ocsf-emitter)");
    if std::env::var("FORMS_TEST_REQUIRE_VALIDATOR").as_deref() == Ok("1") {
        panic!("{why}");
    }
    eprintln!("skipped: {why}");
    None
}

fn run_validator(python: &str, script: &str, files: &[PathBuf]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/forms")
        .join(script);
    let output = Command::new(python)
        .arg(&script)
        .args(files)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{} refused {files:?}:\n{text}{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    text
}

#[test]
fn every_name_passes_the_ocsf_validator_and_the_ecs_definitions() {
    let Some(python) = validator_python() else {
        return;
    };
    let logs = write_every_form();
    // Both files hold every name (checked by the test above on the native copy).
    let ocsf = run_validator(
        &python,
        "validate_ocsf.py",
        std::slice::from_ref(&logs.ocsf_whole),
    );
    assert!(ocsf.contains(", 0 invalid"), "{ocsf}");
    let ecs = run_validator(&python, "validate_ecs.py", std::slice::from_ref(&logs.ecs));
    assert!(ecs.contains(", 0 problems"), "{ecs}");
    eprintln!("{}{}", ocsf, ecs);
}

/// The validators themselves refuse what they should: an event of the wrong shape, a field
/// ECS does not define, a type ECS does not expect with a category.
#[test]
fn the_validators_refuse_invalid_records() {
    let Some(python) = validator_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bad_ocsf = dir.path().join("bad.ocsf.jsonl");
    std::fs::write(
        &bad_ocsf,
        concat!(
            r#"{"class_uid":3002,"category_uid":3,"activity_id":1,"type_uid":300202,"time":1,"severity_id":1,"user":{},"metadata":{"version":"1.5.0","product":{}}}"#,
            "\n",
            r#"{"class_uid":3002,"class_name":"Authentication","category_uid":3,"category_name":"Identity & Access Management","activity_id":1,"type_uid":300201,"time":1,"severity_id":1,"user":{"made_up":1},"metadata":{"version":"1.5.0","product":{}}}"#,
            "\n"
        ),
    )
    .unwrap();
    let bad_ecs = dir.path().join("bad.ecs.jsonl");
    std::fs::write(
        &bad_ecs,
        concat!(
            r#"{"@timestamp":"2026-12-05T10:00:00Z","event":{"kind":"event","category":["authentication"],"type":["creation"]}}"#,
            "\n",
            r#"{"@timestamp":"2026-12-05T10:00:00Z","user":{"nickname":"x"},"source":{"ip":"not an address"}}"#,
            "\n"
        ),
    )
    .unwrap();
    let script = |name: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/forms")
            .join(name)
    };
    let ocsf = Command::new(&python)
        .arg(script("validate_ocsf.py"))
        .arg(&bad_ocsf)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&ocsf.stdout);
    assert!(!ocsf.status.success(), "{text}");
    assert!(text.contains("type_uid"), "{text}");
    assert!(text.contains("made_up"), "{text}");
    let ecs = Command::new(&python)
        .arg(script("validate_ecs.py"))
        .arg(&bad_ecs)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&ecs.stdout);
    assert!(!ecs.status.success(), "{text}");
    assert!(text.contains("'creation' is not one ECS expects"), "{text}");
    assert!(text.contains("user.nickname: not an ECS field"), "{text}");
    assert!(text.contains("source.ip"), "{text}");
}

/// The documented row of a built-in name.
fn mapping_row(event: SecurityEvent) -> String {
    let mapping = mapping_of(event.as_str(), event.category().as_str());
    format!(
        "| `{}` | {} ({}) | {} {} | {} | {} | {} |",
        event.as_str(),
        mapping.ocsf_class.name(),
        mapping.ocsf_class.uid(),
        mapping.ocsf_activity,
        mapping.activity_name(),
        mapping.type_uid(),
        mapping.ecs_category.join(", "),
        mapping.ecs_type.join(", "),
    )
}

#[test]
fn the_documented_mapping_table_matches_the_code() {
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/format/src/forms/mod.rs"
    ))
    .unwrap();
    let rows: Vec<&str> = docs
        .lines()
        .filter_map(|line| line.strip_prefix("//! "))
        .filter(|line| line.starts_with("| `") && line.matches(" | ").count() == 5)
        .collect();
    let expected: Vec<String> = SecurityEvent::ALL.iter().map(|&e| mapping_row(e)).collect();
    assert!(
        rows == expected,
        "the forms module docs differ from the mapping; the table is:\n{}",
        expected.join("\n")
    );
}

/// `format` in the configuration file: the sink writes that form, and a misspelt form is
/// refused with the key and the accepted values.
#[cfg(feature = "config")]
#[test]
fn the_configuration_chooses_the_form() {
    use tracing_security_events::config::Config;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("security.jsonl");
    let text = format!(
        "[[sinks]]\ntype = \"file\"\npath = {:?}\nformat = \"ocsf\"\n",
        path.display().to_string()
    );
    let config = Config::parse(&text, "forms.toml", Vec::new()).unwrap();
    let (layer, guard, _reload) = tracing_security_events::Builder::from_config(&config)
        .build_with_reload::<tracing_subscriber::Registry>()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!(
            security_event = "user.invited",
            target.kind = "user",
            target.id = "7"
        );
    });
    guard.shutdown().unwrap();
    let records = read_records(&path);
    let invited = records
        .iter()
        .find(|r| r["metadata"]["event_code"] == "user.invited")
        .expect("the record, in OCSF");
    assert_eq!(invited["class_uid"], 3001);
    assert_eq!(invited["user"]["uid"], "7");
    assert!(verify(&path).unwrap().is_ok());

    let misspelt = text.replace("\"ocsf\"", "\"osfc\"");
    let err = Config::parse(&misspelt, "forms.toml", Vec::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("sinks") && err.contains("osfc"), "{err}");
    assert!(err.contains("ocsf") && err.contains("ecs"), "{err}");
}

/// A reload that adds a sink in another form: records from then on reach it in its form.
#[cfg(feature = "config")]
#[test]
fn a_reload_adds_a_sink_in_another_form() {
    use tracing_security_events::config::Config;
    let dir = tempfile::tempdir().unwrap();
    let (native, ecs) = (
        dir.path().join("security.jsonl"),
        dir.path().join("ecs/security.jsonl"),
    );
    let sink = |path: &Path, form: &str| {
        format!(
            "[[sinks]]\ntype = \"file\"\npath = {:?}\nformat = \"{form}\"\n",
            path.display().to_string()
        )
    };
    let first = Config::parse(&sink(&native, "native"), "forms.toml", Vec::new()).unwrap();
    let (layer, guard, reload) = tracing_security_events::Builder::from_config(&first)
        .build_with_reload::<tracing_subscriber::Registry>()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!(security_event = "user.created", target.id = "1");
        let both = sink(&native, "native") + &sink(&ecs, "ecs");
        reload
            .reload(Config::parse(&both, "forms.toml", Vec::new()).unwrap())
            .unwrap();
        for id in 2..5 {
            tracing::info!(security_event = "user.created", target.id = id);
        }
    });
    guard.shutdown().unwrap();
    let copies = read_records(&ecs);
    let created: Vec<&str> = copies
        .iter()
        .filter(|r| r["event"]["action"] == "user.created")
        .map(|r| r["security_event"]["target"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(created, ["2", "3", "4"]);
    assert!(verify(&ecs).unwrap().is_ok());
    assert!(verify(&native).unwrap().is_ok());
}

/// The store reads the native form: a log in another form is named as such, never answered
/// with "no records".
#[cfg(feature = "query")]
#[test]
fn the_store_says_a_log_is_in_another_form() {
    use tracing_security_events::store::FileStore;
    let logs = write_every_form();
    for (path, form) in [(&logs.ecs, "ecs"), (&logs.ocsf_whole, "ocsf")] {
        let Err(err) = FileStore::open(path) else {
            panic!("{form}: opened as a native log");
        };
        let err = err.to_string();
        assert!(err.contains(&format!("in the {form} form")), "{err}");
    }
    assert!(FileStore::open(&logs.native).is_ok());
}
