//! The connection to the syslog receiver: TCP with octet-counting framing (RFC 6587), the same
//! over TLS (RFC 5425), or UDP datagrams (RFC 5426).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::Duration;

use super::config::{SyslogTransport, TlsFiles};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a new TLS session waits for a refusal of the client's certificate.
const VERDICT_WAIT: Duration = Duration::from_millis(300);

/// An open connection.
pub(crate) enum Connection {
    Tcp(TcpStream),
    Tls(Box<native_tls::TlsStream<TcpStream>>),
    Udp(UdpSocket, SocketAddr),
}

/// What makes a TLS connection: the connector (the private CA, the client certificate) and the
/// name the server's certificate must carry.
pub(crate) struct TlsSetup {
    connector: native_tls::TlsConnector,
    server_name: String,
}

impl TlsSetup {
    /// Reads the files; an error names the file.
    pub(crate) fn new(files: &TlsFiles, host: &str) -> io::Result<Self> {
        let read = |path: &std::path::Path| {
            std::fs::read(path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
        };
        let tls_error =
            |what: String| move |e: native_tls::Error| io::Error::other(format!("{what}: {e}"));
        let mut builder = native_tls::TlsConnector::builder();
        builder.min_protocol_version(Some(native_tls::Protocol::Tlsv12));
        if let Some(ca) = &files.ca_file {
            let certificate = native_tls::Certificate::from_pem(&read(ca)?)
                .map_err(tls_error(ca.display().to_string()))?;
            builder.add_root_certificate(certificate);
            builder.disable_built_in_roots(true);
        }
        if let (Some(cert), Some(key)) = (&files.cert_file, &files.key_file) {
            let identity = native_tls::Identity::from_pkcs8(&read(cert)?, &read(key)?).map_err(
                tls_error(format!("{} and {}", cert.display(), key.display())),
            )?;
            builder.identity(identity);
        }
        let connector = builder
            .build()
            .map_err(tls_error("the TLS settings".to_owned()))?;
        Ok(TlsSetup {
            connector,
            server_name: files.server_name.clone().unwrap_or_else(|| host.to_owned()),
        })
    }
}

impl Connection {
    /// Connects to `address` (`host:port`).
    pub(crate) fn open(
        address: &str,
        transport: &SyslogTransport,
        tls: Option<&TlsSetup>,
    ) -> io::Result<Self> {
        let target = address
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::other(format!("{address} resolves to no address")))?;
        if matches!(transport, SyslogTransport::Udp { .. }) {
            let local: SocketAddr = if target.is_ipv4() {
                "0.0.0.0:0".parse().expect("an address")
            } else {
                "[::]:0".parse().expect("an address")
            };
            return Ok(Connection::Udp(UdpSocket::bind(local)?, target));
        }
        let stream = TcpStream::connect_timeout(&target, CONNECT_TIMEOUT)?;
        stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
        stream.set_read_timeout(Some(WRITE_TIMEOUT))?;
        stream.set_nodelay(true)?;
        match tls {
            None => Ok(Connection::Tcp(stream)),
            Some(setup) => {
                let mut stream = setup
                    .connector
                    .connect(&setup.server_name, stream)
                    .map_err(|e| io::Error::other(format!("TLS handshake: {e}")))?;
                accepted(&mut stream)?;
                Ok(Connection::Tls(Box::new(stream)))
            }
        }
    }

    /// Whether the receiver closed the connection (or sent what it never should): looked at
    /// before each batch, so that a receiver that stopped gets no batch the kernel would
    /// accept and then lose. (A close between this look and the write still loses that batch:
    /// plain syslog has no acknowledgement.)
    pub(crate) fn closed_by_peer(&mut self) -> bool {
        let mut byte = [0_u8; 1];
        let stream = match self {
            Connection::Udp(..) => return false,
            Connection::Tcp(stream) => stream as &TcpStream,
            Connection::Tls(stream) => stream.get_ref(),
        };
        if stream.set_nonblocking(true).is_err() {
            return true;
        }
        let read = match self {
            Connection::Tcp(stream) => stream.read(&mut byte),
            Connection::Tls(stream) => stream.read(&mut byte),
            Connection::Udp(..) => unreachable!("returned above"),
        };
        let stream = match self {
            Connection::Tcp(stream) => stream as &TcpStream,
            Connection::Tls(stream) => stream.get_ref(),
            Connection::Udp(..) => unreachable!("returned above"),
        };
        let restored = stream.set_nonblocking(false).is_ok();
        !restored || !matches!(read, Err(ref e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    /// Sends `messages` (each without its line feed): one octet-counted frame each over a
    /// stream, written at once; one datagram each over UDP, cut to `max_datagram` bytes.
    /// Returns how many datagrams were cut.
    pub(crate) fn send(&mut self, messages: &[&[u8]], max_datagram: usize) -> io::Result<u64> {
        match self {
            Connection::Udp(socket, target) => {
                let mut cut = 0;
                for message in messages {
                    let end = cut_point(message, max_datagram);
                    cut += u64::from(end < message.len());
                    socket.send_to(&message[..end], *target)?;
                }
                Ok(cut)
            }
            stream => {
                let mut frames = Vec::with_capacity(messages.iter().map(|m| m.len() + 8).sum());
                for message in messages {
                    // Writing to a Vec cannot fail.
                    let _ = write!(frames, "{} ", message.len());
                    frames.extend_from_slice(message);
                }
                let writer: &mut dyn Write = match stream {
                    Connection::Tcp(stream) => stream,
                    Connection::Tls(stream) => stream.as_mut(),
                    Connection::Udp(..) => unreachable!("matched above"),
                };
                writer.write_all(&frames)?;
                writer.flush()?;
                Ok(0)
            }
        }
    }
}

/// Waits a moment for the receiver's verdict on the session. Under TLS 1.3 the client's side
/// of the handshake ends before the server has checked the client's certificate: a receiver
/// that refuses it says so in an alert the client reads only later, after the first batch
/// went into a session that was already refused. Nothing (or a session ticket) within the wait
/// is taken as accepted.
fn accepted(stream: &mut native_tls::TlsStream<TcpStream>) -> io::Result<()> {
    stream.get_ref().set_read_timeout(Some(VERDICT_WAIT))?;
    let mut byte = [0_u8; 1];
    let verdict = match stream.read(&mut byte) {
        Ok(0) => Err(io::Error::other(
            "the receiver closed the TLS session after the handshake (a client certificate it \
             does not accept?)",
        )),
        Ok(_) => Ok(()),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(io::Error::other(format!(
            "the receiver refused the TLS session: {e}"
        ))),
    };
    stream.get_ref().set_read_timeout(Some(WRITE_TIMEOUT))?;
    verdict
}

/// Where to cut `message` to at most `max` bytes: at a character boundary (the message is
/// ASCII, so any byte).
fn cut_point(message: &[u8], max: usize) -> usize {
    message.len().min(max)
}
