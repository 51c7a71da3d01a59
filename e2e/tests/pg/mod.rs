//! A private PostgreSQL cluster for the tests: created with `initdb` in a temporary directory,
//! listening on 127.0.0.1 on a free port, stopped when the test is done (or, for the shared
//! one, by a watchdog when the test process ends).
//!
//! Without PostgreSQL's programs the tests say so and pass, unless `TEST_REQUIRE_POSTGRES=1`
//! (set by `.ci/run`, which installs them): then they fail.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::print_stdout,
    reason = "a skipped test says why"
)]

pub mod history;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    durable: bool,
}

/// The newest installed PostgreSQL's programs.
fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// A PostgreSQL program, run as the `postgres` user when we are root (the server refuses to
/// run as root).
fn command(program: &Path) -> Command {
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    command.stdin(Stdio::null());
    command
}

fn run(program: &Path, args: &[&str]) {
    let output = command(program)
        .args(args)
        .output()
        .expect("run a PostgreSQL program");
    assert!(
        output.status.success(),
        "{} {args:?}: {}{}",
        program.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Cluster {
    /// A new cluster, started; `None` (the test should return) when PostgreSQL is not
    /// installed and not required.
    pub fn start() -> Option<Cluster> {
        Self::start_with(false)
    }

    /// A new cluster; `durable`: with fsync and full-page writes on, as a production server
    /// runs (the tests turn them off for speed).
    pub fn start_with(durable: bool) -> Option<Cluster> {
        let Some(bin) = bin_dir() else {
            let required = std::env::var("TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "PostgreSQL is not installed and TEST_REQUIRE_POSTGRES=1"
            );
            println!("skipped: PostgreSQL is not installed (apt-get install postgresql)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success());
        }
        let data = dir.path().join("data");
        run(
            &bin.join("initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Cluster {
            dir,
            bin,
            port,
            durable,
        };
        cluster.start_again();
        Some(cluster)
    }

    /// One cluster for the whole test process, stopped by a watchdog when the process ends.
    pub fn shared() -> Option<&'static Cluster> {
        static SHARED: OnceLock<Option<Cluster>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                let cluster = Cluster::start()?;
                let pg_ctl = cluster.bin.join("pg_ctl");
                let data = cluster.dir.path().join("data");
                // The watchdog runs as we do (to see our process), pg_ctl as the server's user.
                let as_postgres = if is_root() { "runuser -u postgres -- " } else { "" };
                let stop = format!(
                    "while kill -0 {} 2>/dev/null; do sleep 0.5; done; {as_postgres}{} -D {} stop -m immediate",
                    std::process::id(),
                    pg_ctl.display(),
                    data.display()
                );
                // It outlives us by design: it is what stops the server after we are gone.
                #[allow(clippy::zombie_processes)]
                Command::new("sh")
                    .args(["-c", &stop])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                Some(cluster)
            })
            .as_ref()
    }

    pub fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server at once (as a crash or a network cut looks to a client).
    pub fn stop(&self) {
        let data = self.dir.path().join("data");
        run(
            &self.bin.join("pg_ctl"),
            &["-D", data.to_str().unwrap(), "stop", "-m", "immediate"],
        );
    }

    /// Starts the server (again), and waits until it takes connections.
    pub fn start_again(&self) {
        let data = self.dir.path().join("data");
        let socket_dir = self.dir.path();
        let speed = if self.durable {
            ""
        } else {
            " -c fsync=off -c full_page_writes=off"
        };
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {}{speed}",
            self.port,
            socket_dir.display()
        );
        let log = self.dir.path().join("server.log");
        run(
            &self.bin.join("pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "PostgreSQL did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A new database of this cluster, UTF-8 with `locale` (`C`, `C.UTF-8`): its URL.
    #[allow(
        dead_code,
        reason = "used by some of the test files that include this module"
    )]
    pub fn database(&self, locale: &str) -> String {
        let name = Cluster::table("db");
        let port = self.port.to_string();
        run(
            &self.bin.join("createdb"),
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-T",
                "template0",
                "-E",
                "UTF8",
                "--locale",
                locale,
                &name,
            ],
        );
        format!("postgres://postgres@127.0.0.1:{port}/{name}?sslmode=disable")
    }

    /// A table name no other test uses.
    pub fn table(prefix: &str) -> String {
        format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = command(&self.bin.join("pg_ctl"))
            .args(["-D", data.to_str().unwrap(), "stop", "-m", "immediate"])
            .output();
    }
}

/// The ids of the page `store` answers `search` with, in its order.
pub fn ids(
    store: &dyn tracing_security_events::store::LogStore,
    search: &tracing_security_events::store::Search,
) -> Vec<String> {
    store
        .search(search)
        .unwrap()
        .records
        .iter()
        .map(|r| r.id().to_owned())
        .collect()
}
