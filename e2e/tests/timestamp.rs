//! RFC 3161 time-stamps of checkpoints, against a real authority: `openssl ts -reply` behind a
//! small HTTP server on 127.0.0.1 that this test runs. Each checkpoint carries the token, which
//! verify checks against the authority's certificate, and which `openssl ts -verify` accepts
//! too; a token moved to another checkpoint is caught; an authority that does not answer leaves
//! checkpoints without tokens, said so, and the log goes on.
#![cfg(feature = "timestamp")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{forge, hash_of, read_records, split};
use tracing_security_events::integrity::{
    parse_public_key, verify_with, Checkpoint, EpochKey, ProblemKind, PublicKey, VerifyOptions,
};
use tracing_security_events::sink::{CheckpointConfig, FileConfig};
use tracing_security_events::timestamp::TsaCertificate;
use tracing_security_events::{security_event, SecurityEvent};
use tracing_subscriber::prelude::*;

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .status()
        .expect("the openssl command (Debian's openssl package)");
    assert!(status.success(), "openssl {args:?}: {status}");
}

/// A time-stamping authority's key, certificate and `openssl ts` configuration in `dir`.
fn authority(dir: &Path) -> PathBuf {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "tsa.key",
            "-out",
            "tsa.crt",
            "-days",
            "2",
            "-subj",
            "/CN=Test TSA",
            "-addext",
            "extendedKeyUsage=critical,timeStamping",
        ],
    );
    std::fs::write(dir.join("serial"), "01\n").unwrap();
    let config = format!(
        "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\ndir = {}\nserial = $dir/serial\n\
         crypto_device = builtin\nsigner_cert = $dir/tsa.crt\nsigner_key = $dir/tsa.key\n\
         signer_digest = sha256\ndefault_policy = 1.2.3.4.1\nother_policies = 1.2.3.4.5\ndigests = sha256\n\
         accuracy = secs:1\nordering = yes\ntsa_name = no\ness_cert_id_chain = no\n\
         ess_cert_id_alg = sha256\n",
        dir.display()
    );
    std::fs::write(dir.join("tsa.cnf"), config).unwrap();
    dir.join("tsa.crt")
}

/// Serves `openssl ts -reply` over HTTP on 127.0.0.1; the URL.
fn serve(runtime: &tokio::runtime::Runtime, dir: PathBuf) -> String {
    use axum::body::Bytes;
    use axum::http::header::CONTENT_TYPE;
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/",
        post(move |query: Bytes| {
            let dir = dir.clone();
            async move {
                let reply = tokio::task::spawn_blocking(move || {
                    let name = format!("{}.tsq", uuid::Uuid::new_v4());
                    std::fs::write(dir.join(&name), &query).unwrap();
                    let out = format!("{name}.tsr");
                    openssl(
                        &dir,
                        &[
                            "ts",
                            "-reply",
                            "-config",
                            "tsa.cnf",
                            "-queryfile",
                            &name,
                            "-out",
                            &out,
                        ],
                    );
                    std::fs::read(dir.join(out)).unwrap()
                })
                .await
                .unwrap();
                ([(CONTENT_TYPE, "application/timestamp-reply")], reply)
            }
        }),
    );
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// Writes 24 records through a file sink whose checkpoints (every 5 records) are time-stamped
/// at `url`.
fn write_log(dir: &Path, url: &str) -> (PathBuf, PublicKey) {
    let key_file = dir.join("checkpoint.key");
    let key = EpochKey::generate().unwrap();
    key.save(&key_file).unwrap();
    let path = dir.join("security.jsonl");
    let file = FileConfig::new(&path).with_checkpoints(
        CheckpointConfig::new(&key_file)
            .every_records(5)
            .timestamp_authority(url),
    );
    let (layer, guard) = tracing_security_events::builder()
        .with_file_config(file)
        .with_error_reporting(false)
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for chunk in 0..4 {
            for i in 0..6 {
                security_event!(SecurityEvent::LoginFailed, attempt = chunk * 6 + i);
            }
            guard.flush().unwrap();
        }
    });
    guard.shutdown().unwrap();
    (path, parse_public_key(&key.public_key()).unwrap())
}

/// Verification with the public key, checking time-stamps with the authority's certificate.
fn options(certificate: &Path, public: PublicKey) -> VerifyOptions {
    let check = TsaCertificate::from_pem(&std::fs::read(certificate).unwrap()).unwrap();
    VerifyOptions::new()
        .with_public_key(public)
        .with_timestamps(std::sync::Arc::new(check))
}

fn checkpoints(path: &Path) -> Vec<Checkpoint> {
    read_records(path)
        .iter()
        .filter_map(|record| Checkpoint::from_record(record).unwrap())
        .collect()
}

#[test]
fn checkpoints_carry_tokens_of_a_real_authority_that_verify_here_and_in_openssl() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tsa = tempfile::tempdir().unwrap();
    let certificate = authority(tsa.path());
    let url = serve(&runtime, tsa.path().to_path_buf());
    let log = tempfile::tempdir().unwrap();
    let (path, public) = write_log(log.path(), &url);

    let written = checkpoints(&path);
    assert!(written.len() >= 2, "{}", written.len());
    let fields: Vec<serde_json::Value> = read_records(&path)
        .iter()
        .filter(|r| r["event"]["name"] == "audit.checkpoint")
        .map(|r| r["fields"].clone())
        .collect();
    assert!(
        written.iter().all(|c| c.timestamp_token.is_some()),
        "{fields:#?}"
    );

    let options = options(&certificate, public);
    let report = verify_with(&path, &options).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.timestamps, written.len() as u64);

    // The authority's own tool agrees: the token stamps the checkpoint's signed message.
    use base64::Engine as _;
    let first = &written[0];
    let token = base64::engine::general_purpose::STANDARD
        .decode(first.timestamp_token.as_ref().unwrap())
        .unwrap();
    std::fs::write(log.path().join("message"), first.message()).unwrap();
    std::fs::write(log.path().join("token.der"), token).unwrap();
    let crt = certificate.to_str().unwrap();
    openssl(
        log.path(),
        &[
            "ts",
            "-verify",
            "-data",
            "message",
            "-in",
            "token.der",
            "-token_in",
            "-CAfile",
            crt,
        ],
    );

    // A token moved from one checkpoint to another (the chain resealed) no longer verifies.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let at: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains("\"name\":\"audit.checkpoint\""))
        .collect();
    let token_of = |line: &str| {
        let record: serde_json::Value = serde_json::from_str(&split(line).0).unwrap();
        record["fields"]["checkpoint.timestamp_token"].clone()
    };
    let moved = token_of(&lines[at[0]]);
    let mut record: serde_json::Value = serde_json::from_str(&split(&lines[at[1]]).0).unwrap();
    record["fields"]["checkpoint.timestamp_token"] = moved;
    lines[at[1]] = serde_json::to_string(&record).unwrap();
    let mut prev = split(&lines[0]).1;
    for line in &mut lines {
        let record = if line.contains("\"integrity\":") {
            split(line).0
        } else {
            line.clone()
        };
        *line = forge(&record, &prev);
        prev = hash_of(line);
    }
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let report = verify_with(&path, &options).unwrap();
    let problem = report.problem.expect("the moved token is found");
    assert_eq!(problem.kind, ProblemKind::Forged, "{problem}");
    assert_eq!(problem.location.line, at[1] as u64 + 1, "{problem}");
    assert!(problem.detail.contains("time-stamp"), "{problem}");
}

#[test]
fn an_authority_that_does_not_answer_leaves_checkpoints_unstamped_and_says_why() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let tsa = tempfile::tempdir().unwrap();
    let certificate = authority(tsa.path());
    let log = tempfile::tempdir().unwrap();
    let (path, public) = write_log(log.path(), &url);
    let records = read_records(&path);
    let stamped_errors = records
        .iter()
        .filter(|r| r["fields"]["checkpoint.timestamp_error"].is_string())
        .count();
    assert!(stamped_errors >= 2, "{records:#?}");
    assert_eq!(
        records
            .iter()
            .filter(|r| r["fields"]["attempt"].is_u64())
            .count(),
        24
    );
    let options = options(&certificate, public);
    let report = verify_with(&path, &options).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(
        (report.timestamps, report.unstamped),
        (0, stamped_errors as u64)
    );
}
