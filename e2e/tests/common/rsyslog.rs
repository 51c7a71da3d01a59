//! A real rsyslog (Debian's `rsyslog`, `rsyslog-gnutls`) started by a test on 127.0.0.1 with a
//! private configuration: its inputs (TCP, TLS with a test CA asking for client
//! certificates, UDP) and one output file holding, per message, what rsyslog parsed out of
//! it. Stopped when dropped.

use std::fmt::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What rsyslog writes per message: facility, severity, APP-NAME, MSGID, the structured data
/// and MSG, tab-separated.
const TEMPLATE: &str = "%syslogfacility-text%\\t%syslogseverity-text%\\t%app-name%\\t%msgid%\\t%structured-data%\\t%msg%\\n";

pub enum Input {
    Tcp,
    /// TLS; the server asks for a client certificate signed by the test CA.
    Tls,
    Udp,
}

/// The test CA and certificates (PEM, keys PKCS#8), made with the `openssl` command.
pub struct TestPki {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

impl TestPki {
    pub fn new(dir: &Path) -> TestPki {
        let path = |name: &str| dir.join(name);
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .output()
                .expect("openssl runs");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let s = |p: &PathBuf| p.to_str().unwrap().to_owned();
        let pki = TestPki {
            ca: path("ca.pem"),
            server_cert: path("server.pem"),
            server_key: path("server.key"),
            client_cert: path("client.pem"),
            client_key: path("client.key"),
        };
        let ca_key = path("ca.key");
        openssl(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            &s(&ca_key),
        ]);
        openssl(&[
            "req",
            "-x509",
            "-new",
            "-key",
            &s(&ca_key),
            "-subj",
            "/CN=test syslog CA",
            "-days",
            "2",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-out",
            &s(&pki.ca),
        ]);
        for (cert, key, name, usage) in [
            (&pki.server_cert, &pki.server_key, "localhost", "serverAuth"),
            (
                &pki.client_cert,
                &pki.client_key,
                "security-log client",
                "clientAuth",
            ),
        ] {
            openssl(&[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                &s(key),
            ]);
            let csr = dir.join(format!("{name}.csr").replace(' ', "-"));
            openssl(&[
                "req",
                "-new",
                "-key",
                &s(key),
                "-subj",
                &format!("/CN={name}"),
                "-out",
                &s(&csr),
            ]);
            let ext = dir.join(format!("{name}.ext").replace(' ', "-"));
            std::fs::write(
                &ext,
                format!("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage={usage}\nkeyUsage=digitalSignature\n"),
            )
            .unwrap();
            openssl(&[
                "x509",
                "-req",
                "-in",
                &s(&csr),
                "-CA",
                &s(&pki.ca),
                "-CAkey",
                &s(&ca_key),
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &s(&ext),
                "-out",
                &s(cert),
            ]);
        }
        pki
    }
}

/// The rsyslogd to run: `RSYSLOGD`, else `rsyslogd` on the PATH or in /usr/sbin; `None` (the
/// test skips, unless `SYSLOG_TEST_REQUIRE_RSYSLOG=1`) when there is none.
pub fn rsyslogd() -> Option<PathBuf> {
    let candidates = std::env::var_os("RSYSLOGD")
        .map(PathBuf::from)
        .into_iter()
        .chain(["/usr/sbin/rsyslogd".into(), "rsyslogd".into()]);
    for candidate in candidates {
        if Command::new(&candidate)
            .arg("-v")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Some(candidate);
        }
    }
    let why = "no rsyslogd (apt install rsyslog rsyslog-gnutls)";
    if std::env::var("SYSLOG_TEST_REQUIRE_RSYSLOG").as_deref() == Ok("1") {
        panic!("{why}");
    }
    eprintln!("skipped: {why}");
    None
}

pub struct Rsyslog {
    binary: PathBuf,
    pub dir: PathBuf,
    pub port: u16,
    conf: PathBuf,
    child: Option<Child>,
    pub output: PathBuf,
    udp: bool,
}

impl Rsyslog {
    /// Starts rsyslogd with `input` on a free port of 127.0.0.1.
    pub fn start(binary: &Path, dir: &Path, input: Input, pki: Option<&TestPki>) -> Rsyslog {
        let port = free_port();
        let output = dir.join("received.log");
        let work = dir.join("work");
        std::fs::create_dir_all(&work).unwrap();
        let mut conf = format!(
            "global(workDirectory=\"{}\" maxMessageSize=\"64k\"",
            work.display()
        );
        let input_conf = match input {
            Input::Tcp => format!("module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"{port}\" address=\"127.0.0.1\")\n"),
            Input::Tls => {
                let pki = pki.expect("a PKI for TLS");
                conf += &format!(
                    " defaultNetstreamDriverCAFile=\"{}\" defaultNetstreamDriverCertFile=\"{}\" \
                     defaultNetstreamDriverKeyFile=\"{}\"",
                    pki.ca.display(),
                    pki.server_cert.display(),
                    pki.server_key.display()
                );
                format!(
                    "module(load=\"imtcp\" streamDriver.name=\"gtls\" streamDriver.mode=\"1\" \
                     streamDriver.authMode=\"x509/certvalid\")\n\
                     input(type=\"imtcp\" port=\"{port}\" address=\"127.0.0.1\")\n"
                )
            }
            Input::Udp => format!("module(load=\"imudp\")\ninput(type=\"imudp\" port=\"{port}\" address=\"127.0.0.1\")\n"),
        };
        conf += ")\n";
        conf += &input_conf;
        conf += &format!(
            "template(name=\"fields\" type=\"string\" string=\"{TEMPLATE}\")\n\
             action(type=\"omfile\" file=\"{}\" template=\"fields\")\n",
            output.display()
        );
        let conf_path = dir.join("rsyslog.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let mut rsyslog = Rsyslog {
            binary: binary.to_path_buf(),
            dir: dir.to_path_buf(),
            port,
            conf: conf_path,
            child: None,
            output,
            udp: matches!(input, Input::Udp),
        };
        rsyslog.restart();
        rsyslog
    }

    /// Starts it (again) on the same port, and waits until it listens.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("rsyslogd.out"))
            .unwrap();
        let child = Command::new(&self.binary)
            .arg("-n")
            .arg("-f")
            .arg(&self.conf)
            .arg("-i")
            .arg(self.dir.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("rsyslogd starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ready = if self.udp {
                // A UDP input says nothing: a probe message must come out the other side.
                let probe = b"<14>1 - - - - readiness-probe - probe";
                let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                let _ = socket.send_to(probe, ("127.0.0.1", self.port));
                std::thread::sleep(Duration::from_millis(100));
                std::fs::read_to_string(&self.output)
                    .is_ok_and(|text| text.contains("readiness-probe"))
            } else {
                TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            };
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "rsyslogd did not listen: {}",
                self.diagnostics()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops it (SIGTERM, as a service manager would) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().ok().flatten().is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// The lines rsyslog wrote, each split into its six fields.
    pub fn received(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(&self.output)
            .unwrap_or_default()
            .lines()
            .map(|line| line.splitn(6, '\t').map(str::to_owned).collect())
            .collect()
    }

    /// Waits until rsyslog wrote `count` messages (or 20 s), and returns what it wrote.
    pub fn wait_for(&self, count: usize) -> Vec<Vec<String>> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let received = self.received();
            if received.len() >= count || Instant::now() > deadline {
                return received;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn diagnostics(&self) -> String {
        let mut out = std::fs::read_to_string(self.dir.join("rsyslogd.out")).unwrap_or_default();
        let _ = writeln!(out, "(port {})", self.port);
        out
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
