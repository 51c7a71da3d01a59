//! The command as people bring their habits to it (rg, jq, journalctl): every example line of
//! the README and of `--help` runs as written, a closed pipe ends every subcommand quietly,
//! misspelt names are warned about, completions and the manual page are generated, exports are
//! private and never written over by surprise.

#[path = "../../examples/support/synthetic_log.rs"]
mod synthetic_log;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_security-log");

/// A rotated log of 20,000 records over the last week, written once for this file.
fn log() -> &'static Path {
    static LOG: OnceLock<tempfile::TempDir> = OnceLock::new();
    LOG.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        synthetic_log::SyntheticLog {
            records: 20_000,
            rotate_mb: 4,
            seed: 24,
            days: 7,
            checkpoint_key: None,
            actors: None,
            index: false,
        }
        .write(dir.path())
        .unwrap();
        dir
    })
    .path()
}

fn security_log(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a command line as a shell would, in `dir`, with `security-log` on the PATH.
fn shell(line: &str, dir: &Path) -> Output {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Checks one example line: it runs with exit 0 (found) or 1 (found nothing), never 2, and
/// says nothing on stderr but warnings and the notes a command prints (a cursor, a count).
fn check_example(line: &str, source: &str) {
    let dir = tempfile::tempdir().unwrap();
    let line = line
        .replace("/var/log/app", log().to_str().unwrap())
        .replace(" LOG ", &format!(" {} ", log().display()));
    let follow = line.contains(" -f");
    if follow {
        // `tail -f` never ends by itself: it must be running, quietly, a second later.
        let bin_dir = Path::new(BIN).parent().unwrap();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("exec {line}"))
            .current_dir(dir.path())
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin_dir.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_secs(1));
        assert!(
            child.try_wait().unwrap().is_none(),
            "{source}: `{line}` ended"
        );
        child.kill().unwrap();
        let output = child.wait_with_output().unwrap();
        assert_eq!(text(&output.stderr), "", "{source}: `{line}`");
        return;
    }
    let output = shell(&line, dir.path());
    let code = output.status.code().unwrap();
    let stderr = text(&output.stderr);
    assert!(
        code == 0 || code == 1,
        "{source}: `{line}` exited {code}: {stderr}"
    );
    for note in stderr.lines() {
        assert!(
            note.starts_with("next page: --cursor")
                || note.starts_with("security-log: warning:")
                || note.contains("records written to")
                || note.starts_with("chain verified"),
            "{source}: `{line}` said {note:?}"
        );
    }
}

/// The `security-log ...` lines of the fenced shell blocks of a Markdown file.
fn readme_lines(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines = Vec::new();
    let mut in_shell = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_shell = line == "```sh";
            continue;
        }
        let command = line.split("  #").next().unwrap().trim_end();
        if in_shell && command.starts_with("security-log ") {
            lines.push(command.to_owned());
        }
    }
    lines
}

#[test]
fn every_readme_line_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut checked = 0;
    for readme in [
        root.join("README.md"),
        root.join("security-log").join("README.md"),
    ] {
        for line in readme_lines(&readme) {
            check_example(&line, &readme.display().to_string());
            checked += 1;
        }
    }
    assert!(checked >= 12, "{checked} lines");
}

#[test]
fn every_help_example_runs_as_written() {
    let mut checked = 0;
    for command in [
        "",
        "query",
        "export",
        "stats",
        "tail",
        "verify",
        "keygen",
        "index",
        "completions",
        "man",
    ] {
        let mut args = vec![];
        if !command.is_empty() {
            args.push(command);
        }
        args.push("--help");
        let help = text(&security_log(&args).stdout);
        let examples = help
            .split_once("Example")
            .unwrap_or_else(|| panic!("`{command} --help` shows examples:\n{help}"))
            .1;
        for line in examples.lines().map(str::trim) {
            if line.starts_with("security-log ") {
                check_example(line, &format!("security-log {command} --help"));
                checked += 1;
            }
        }
    }
    // And the examples of the query language's page.
    let page = text(&security_log(&["help", "query"]).stdout);
    for line in page.lines().map(str::trim) {
        if line.starts_with("security-log query LOG") {
            check_example(line, "security-log help query");
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked} lines");
}

/// Reads one line of the command's output, closes the pipe, and waits for the command.
fn first_line_then_close(args: &[&str]) -> (String, Output) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is dropped here: the pipe is closed while the command still writes.
    (first, child.wait_with_output().unwrap())
}

#[test]
fn a_closed_pipe_ends_every_subcommand_quietly() {
    let log = log().to_str().unwrap();
    for args in [
        vec!["query", log, "-n", "20000", "--format", "jsonl"],
        vec!["query", log, "-n", "20000", "--format", "table"],
        vec!["export", log, "--format", "csv"],
        vec!["export", log, "--format", "json"],
        vec!["stats", log, "--by", "user", "--format", "jsonl"],
        vec!["stats", log, "--by", "user", "--format", "csv"],
        vec!["stats", log, "--by", "ip"],
        vec!["tail", log, "-n", "20000"],
        vec!["verify", log],
        vec!["help", "query"],
        vec!["completions", "bash"],
        vec!["man"],
    ] {
        let (first, output) = first_line_then_close(&args);
        assert!(!first.is_empty(), "{args:?} printed something");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&output.stderr)
        );
        assert_eq!(text(&output.stderr), "", "{args:?}");
    }
}

#[test]
fn relative_times_lists_and_limits_read_as_written() {
    let log = log().to_str().unwrap();
    let count = |args: &[&str]| -> u64 {
        let mut all = vec!["query", log, "--count"];
        all.extend_from_slice(args);
        let output = security_log(&all);
        assert_ne!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&output.stderr)
        );
        text(&output.stdout).trim().parse().unwrap()
    };
    let day = count(&["--from", "-24h"]);
    assert!(day > 0 && day < 20_000, "{day}");
    assert_eq!(count(&["--since", "-24h"]), day);
    assert_eq!(count(&["--since=-24h"]), day);
    assert_eq!(
        count(&["--until", "-24h"]) + day,
        20_000,
        "--until is --to, the rest of the log"
    );
    let one = count(&["--event", "authentication.failed"]);
    let other = count(&["--event", "user.invited"]);
    assert_eq!(
        count(&["--event", "authentication.failed,user.invited"]),
        one + other
    );
    assert_eq!(
        count(&[
            "--event",
            "authentication.failed",
            "--event",
            "user.invited"
        ]),
        one + other
    );
    for limit in ["0", "-5"] {
        let output = security_log(&["query", log, "--limit", limit]);
        assert_eq!(output.status.code(), Some(2), "--limit {limit}");
        assert!(text(&output.stderr).contains("--limit"));
    }
    let five = security_log(&["query", log, "-n", "5", "--format", "jsonl"]);
    assert_eq!(text(&five.stdout).lines().count(), 5);
}

#[test]
fn weeks_start_on_monday() {
    let output = security_log(&[
        "stats",
        log().to_str().unwrap(),
        "--every",
        "1w",
        "--format",
        "jsonl",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let mut total = 0;
    for line in text(&output.stdout).lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let start = chrono::DateTime::parse_from_rfc3339(row["start"].as_str().unwrap()).unwrap();
        assert_eq!(start.format("%a %H:%M:%S").to_string(), "Mon 00:00:00");
        total += row["count"].as_u64().unwrap();
    }
    assert_eq!(total, 20_000);
}

#[test]
fn stats_by_a_field_per_period_is_a_table_of_periods_by_values() {
    let output = security_log(&[
        "stats",
        log().to_str().unwrap(),
        "--by",
        "outcome",
        "--every",
        "1d",
    ]);
    let table = text(&output.stdout);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header[0], "PERIOD");
    assert_eq!(*header.last().unwrap(), "TOTAL");
    assert!(
        header.contains(&"success") && header.contains(&"failure"),
        "{table}"
    );
    let rows: Vec<&str> = table.lines().skip(1).collect();
    assert!((7..=9).contains(&rows.len()), "one row a day: {table}");
    let total: u64 = rows
        .iter()
        .map(|row| {
            row.split_whitespace()
                .last()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    assert_eq!(total, 20_000);
}

#[test]
fn records_are_read_from_stdin() {
    let file = std::fs::read_dir(log())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap() == "security.jsonl")
        .unwrap();
    let lines = std::fs::read_to_string(&file).unwrap().lines().count();
    let output = shell(
        &format!("{BIN} query - --count < {}", file.display()),
        log(),
    );
    assert_eq!(text(&output.stdout).trim(), lines.to_string());
    let output = shell(
        &format!("cat {} | {BIN} tail - -n 3", file.display()),
        log(),
    );
    assert_eq!(text(&output.stdout).lines().count(), 3);
    let output = shell(&format!("{BIN} tail - -f < {}", file.display()), log());
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn misspelt_names_are_warned_about_with_the_name_meant() {
    let log = log().to_str().unwrap();
    let output = security_log(&["query", log, "--count", "--event", "authentication.faild"]);
    assert_eq!(output.status.code(), Some(1), "nothing matched");
    assert_eq!(
        text(&output.stderr),
        "security-log: warning: no event in the catalog is named `authentication.faild` \
         (did you mean `authentication.failed`?)\n"
    );
    let output = security_log(&["query", log, "--count", "-q", "category = athentication"]);
    assert!(text(&output.stderr).contains("did you mean `authentication`?"));
    let output = security_log(&["stats", log, "--event", "user.rolechanged*"]);
    assert!(text(&output.stderr).contains("no event in the catalog matches `user.rolechanged*`"));
    let output = security_log(&["query", log, "-q", "evnt = x"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        "security-log: -q: column 1: unknown field `evnt` (did you mean `event`?)\n"
    );
    // Names of the catalog, and globs that match some, say nothing.
    let output = security_log(&[
        "query",
        log,
        "--count",
        "--event",
        "authentication.*,user.invited",
    ]);
    assert_eq!(text(&output.stderr), "");
}

#[test]
fn completions_and_the_manual_page_are_generated() {
    let bash = text(&security_log(&["completions", "bash"]).stdout);
    let function = bash
        .lines()
        .find_map(|line| line.trim().strip_prefix("complete -F "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("a completion function: {bash}"))
        .to_owned();
    assert!(bash.contains("--since") && bash.contains("--every"));
    let zsh = text(&security_log(&["completions", "zsh"]).stdout);
    assert!(zsh.starts_with("#compdef security-log"), "{zsh}");
    let man = text(&security_log(&["man"]).stdout);
    assert!(man.contains(".TH security-log 1"), "{man}");
    // The bash script loads in bash and completes a subcommand.
    if Path::new("/bin/bash").exists() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("security-log.bash");
        std::fs::write(&script, &bash).unwrap();
        let output = Command::new("/bin/bash")
            .arg("-c")
            .arg(format!(
                "source {}; COMP_WORDS=(security-log qu); COMP_CWORD=1; {function} security-log qu security-log; echo ${{COMPREPLY[@]}}",
                script.display()
            ))
            .output()
            .unwrap();
        assert_eq!(
            text(&output.stdout).trim(),
            "query",
            "{}",
            text(&output.stderr)
        );
    }
}

#[test]
fn exports_are_private_and_never_replace_a_file_unasked() {
    use std::os::unix::fs::PermissionsExt;

    let log = log().to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file: PathBuf = dir.path().join("keys.csv");
    let file_arg = file.to_str().unwrap();
    let args = [
        "export",
        log,
        "--format",
        "csv",
        "-q",
        "category = api_key",
        "-o",
        file_arg,
    ];
    let output = security_log(&args);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let written = std::fs::read(&file).unwrap();

    let again = security_log(&args);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("exists: give --force to replace it"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(std::fs::read(&file).unwrap(), written, "left as it was");

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut forced = args.to_vec();
    forced.push("--force");
    assert_eq!(security_log(&forced).status.code(), Some(0));
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "a replaced file is narrowed too");

    // query and stats write files the same way.
    let page = dir.path().join("page.jsonl");
    let page_arg = page.to_str().unwrap();
    assert_eq!(
        security_log(&["query", log, "-n", "5", "-o", page_arg])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(std::fs::read_to_string(&page).unwrap().lines().count(), 5);
    assert_eq!(
        security_log(&["stats", log, "--by", "event", "-o", page_arg])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn colours_follow_the_choice() {
    let log = log().to_str().unwrap();
    let table = |colour: &str| {
        text(
            &Command::new(BIN)
                .args([
                    "query", log, "-n", "50", "--format", "table", "--color", colour,
                ])
                .output()
                .unwrap()
                .stdout,
        )
    };
    assert!(table("always").contains('\u{1b}'));
    assert!(!table("never").contains('\u{1b}'));
    assert!(!table("auto").contains('\u{1b}'), "a pipe is no terminal");
}
