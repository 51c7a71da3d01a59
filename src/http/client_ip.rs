//! Which address the request came from: the socket peer, unless the peer is a proxy we trust.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use http::HeaderMap;
use ipnet::IpNet;

use super::forwarded::{self, Hop};

/// The proxies whose forwarding headers are believed: single addresses and CIDR ranges.
///
/// Empty by default, which is the safe choice: a forwarding header can be written by anyone, so
/// it only counts when the socket peer is a proxy listed here. IPv4-mapped IPv6 addresses
/// (`::ffff:10.0.0.1`) match their IPv4 form.
///
/// ```
/// use tracing_security_events::http::TrustedProxies;
///
/// let proxies: TrustedProxies = "10.0.0.0/8, 192.0.2.10, fd00::/8".parse()?;
/// assert!(proxies.contains("10.1.2.3".parse()?));
/// assert!(proxies.contains("::ffff:192.0.2.10".parse()?));
/// assert!(!proxies.contains("203.0.113.7".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
}

impl TrustedProxies {
    /// No proxy is trusted: the socket peer is the client.
    pub const fn none() -> Self {
        TrustedProxies {
            networks: Vec::new(),
        }
    }

    /// These networks (a single address is a /32 or /128).
    pub fn new(networks: impl IntoIterator<Item = IpNet>) -> Self {
        TrustedProxies {
            networks: networks.into_iter().map(|net| net.trunc()).collect(),
        }
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.networks.iter().any(|net| net.contains(&ip))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }
}

/// A trusted proxy entry that is neither an address nor a CIDR range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("trusted proxy {entry:?} is neither an IP address nor a CIDR range (10.0.0.0/8, fd00::/8)")]
pub struct InvalidTrustedProxy {
    entry: String,
}

impl FromStr for TrustedProxies {
    type Err = InvalidTrustedProxy;

    /// A comma- or whitespace-separated list of addresses and CIDR ranges.
    fn from_str(list: &str) -> Result<Self, InvalidTrustedProxy> {
        let networks = list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| InvalidTrustedProxy {
                        entry: entry.to_owned(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedProxies::new(networks))
    }
}

/// Which forwarding header the trusted proxies write.
///
/// Only one is believed: a proxy that sets `X-Forwarded-For` passes a client's own `Forwarded`
/// header through untouched, so reading both would let the client choose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, HAProxy, most load balancers).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

impl ForwardedHeader {
    fn name(self) -> &'static http::HeaderName {
        match self {
            ForwardedHeader::XForwardedFor => &forwarded::X_FORWARDED_FOR,
            ForwardedHeader::Forwarded => &http::header::FORWARDED,
        }
    }

    fn hops(self, headers: &HeaderMap) -> Result<Vec<Hop>, forwarded::Refused> {
        match self {
            ForwardedHeader::XForwardedFor => forwarded::x_forwarded_for(headers),
            ForwardedHeader::Forwarded => forwarded::forwarded(headers),
        }
    }
}

/// The client's address as resolved for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress {
    /// The client's IP address.
    pub ip: IpAddr,
    /// Its source port, when known: the peer's, or one a trusted proxy forwarded.
    pub port: Option<u16>,
    /// Whether the address came from a forwarding header (through trusted proxies).
    pub forwarded: bool,
}

impl fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => SocketAddr::new(self.ip, port).fmt(f),
            None => self.ip.fmt(f),
        }
    }
}

/// How the client address is resolved: the trusted proxies and the header they write.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientIpResolver {
    pub(crate) trusted: TrustedProxies,
    pub(crate) header: ForwardedHeader,
}

impl ClientIpResolver {
    /// The client behind `peer`. Rules, in order:
    /// - an untrusted (or unknown) peer is the client, whatever the headers say;
    /// - behind a trusted peer, the forwarding chain is walked from the right: trusted proxies
    ///   are skipped, and the first untrusted address is the client;
    /// - a chain that is refused (too long, not text) or reaches an entry that is not an address
    ///   stops the walk: the last trusted hop is then the best we know;
    /// - a chain of trusted proxies only gives its left-most hop.
    pub(crate) fn resolve(
        &self,
        peer: Option<SocketAddr>,
        headers: &HeaderMap,
    ) -> Option<ClientAddress> {
        let peer = peer?;
        let peer_ip = peer.ip().to_canonical();
        let from_peer = ClientAddress {
            ip: peer_ip,
            port: Some(peer.port()),
            forwarded: false,
        };
        if !self.trusted.contains(peer_ip) {
            return Some(from_peer);
        }
        let Ok(hops) = self.header.hops(headers) else {
            return Some(from_peer);
        };
        let mut nearest_trusted = from_peer;
        for hop in hops.iter().rev() {
            match *hop {
                Hop::Address(ip, port) => {
                    let hop = ClientAddress {
                        ip,
                        port,
                        forwarded: true,
                    };
                    if !self.trusted.contains(ip) {
                        return Some(hop);
                    }
                    nearest_trusted = hop;
                }
                Hop::Opaque => break,
            }
        }
        Some(nearest_trusted)
    }

    /// The raw chain of the configured header, for the record's `fields`.
    pub(crate) fn raw_chain(&self, headers: &HeaderMap) -> Option<String> {
        forwarded::raw_chain(headers, self.header.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn resolver(trusted: &str, header: ForwardedHeader) -> ClientIpResolver {
        ClientIpResolver {
            trusted: trusted.parse().unwrap(),
            header,
        }
    }

    fn resolve(r: &ClientIpResolver, peer: &str, name: &'static str, value: &str) -> String {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).unwrap());
        r.resolve(Some(peer.parse().unwrap()), &headers)
            .unwrap()
            .to_string()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let r = resolver("10.0.0.0/8", ForwardedHeader::XForwardedFor);
        let got = resolve(&r, "203.0.113.9:5000", "x-forwarded-for", "1.1.1.1");
        assert_eq!(got, "203.0.113.9:5000");
        let none = resolver("", ForwardedHeader::XForwardedFor);
        let got = resolve(&none, "10.0.0.1:5000", "x-forwarded-for", "1.1.1.1");
        assert_eq!(got, "10.0.0.1:5000");
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let r = resolver(
            "10.0.0.0/8, 2001:db8:ff::/48",
            ForwardedHeader::XForwardedFor,
        );
        // The client forged "6.6.6.6"; the outer proxy appended the address it saw.
        let chain = "6.6.6.6, 198.51.100.7, 10.0.0.2";
        assert_eq!(
            resolve(&r, "10.0.0.1:80", "x-forwarded-for", chain),
            "198.51.100.7"
        );
        let chain = "2001:db8::7, 2001:db8:ff::1";
        assert_eq!(
            resolve(&r, "[2001:db8:ff::2]:80", "x-forwarded-for", chain),
            "2001:db8::7"
        );
    }

    #[test]
    fn an_opaque_hop_stops_the_walk_at_the_nearest_trusted_proxy() {
        let r = resolver("10.0.0.0/8", ForwardedHeader::XForwardedFor);
        assert_eq!(
            resolve(
                &r,
                "10.0.0.1:80",
                "x-forwarded-for",
                "1.1.1.1, junk, 10.0.0.3"
            ),
            "10.0.0.3"
        );
        assert_eq!(
            resolve(&r, "10.0.0.1:80", "x-forwarded-for", "junk"),
            "10.0.0.1:80"
        );
        assert_eq!(
            resolve(&r, "10.0.0.1:80", "x-forwarded-for", "10.0.0.9, 10.0.0.8"),
            "10.0.0.9"
        );
    }

    #[test]
    fn only_the_configured_header_counts() {
        let xff = resolver("127.0.0.1", ForwardedHeader::XForwardedFor);
        let got = resolve(&xff, "127.0.0.1:80", "forwarded", "for=198.51.100.7");
        assert_eq!(got, "127.0.0.1:80");
        let fwd = resolver("127.0.0.1", ForwardedHeader::Forwarded);
        let got = resolve(
            &fwd,
            "127.0.0.1:80",
            "forwarded",
            r#"for="[2001:db8::9]:4711""#,
        );
        assert_eq!(got, "[2001:db8::9]:4711");
    }

    #[test]
    fn no_peer_no_address() {
        let r = resolver("0.0.0.0/0", ForwardedHeader::XForwardedFor);
        assert_eq!(r.resolve(None, &HeaderMap::new()), None);
    }

    #[test]
    fn bad_proxy_entries_are_named() {
        let err = "10.0.0.0/8, example.com"
            .parse::<TrustedProxies>()
            .unwrap_err();
        assert!(err.to_string().contains("\"example.com\""), "{err}");
    }
}
