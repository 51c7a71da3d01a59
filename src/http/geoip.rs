//! Geolocation of client addresses from MaxMind-format databases (GeoIP2, GeoLite2, DB-IP).

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::Reader;
use serde::Deserialize;

use crate::record::ClientGeo;

/// One or more MaxMind-format databases, read into memory at start-up: a City or Country database
/// gives `client.geo.country` and `client.geo.city` (a City database also `client.geo.lat` and
/// `client.geo.lon`), an ASN database `client.geo.asn`.
///
/// Opening fails with the path and the reason when a file is missing or not a database, so that a
/// misconfigured deployment stops at start-up instead of silently logging without locations.
///
/// ```no_run
/// use tracing_security_events::http::{GeoIp, SecurityContextLayer};
///
/// let geoip = GeoIp::open("/var/lib/GeoIP/GeoLite2-City.mmdb")?
///     .and_open("/var/lib/GeoIP/GeoLite2-ASN.mmdb")?;
/// let layer = SecurityContextLayer::new().with_geoip(geoip);
/// # Ok::<(), tracing_security_events::http::GeoIpError>(())
/// ```
pub struct GeoIp {
    databases: Vec<(PathBuf, Reader<Vec<u8>>)>,
}

impl fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.databases
                    .iter()
                    .map(|(path, reader)| (path, &reader.metadata().database_type)),
            )
            .finish()
    }
}

/// A geolocation database that could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the geolocation database {}: {source}", path.display())]
pub struct GeoIpError {
    path: PathBuf,
    #[source]
    source: maxminddb::MaxMindDbError,
}

impl GeoIpError {
    /// The database's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The parts of a City, Country or ASN record that we use; the rest is skipped.
#[derive(Deserialize)]
struct GeoRecord<'a> {
    #[serde(borrow, default)]
    country: Option<Country<'a>>,
    #[serde(borrow, default)]
    city: Option<City<'a>>,
    #[serde(default)]
    location: Option<Location>,
    #[serde(default)]
    autonomous_system_number: Option<u32>,
}

#[derive(Deserialize)]
struct Location {
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
}

#[derive(Deserialize)]
struct Country<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct City<'a> {
    #[serde(borrow, default)]
    names: BTreeMap<&'a str, &'a str>,
}

impl GeoIp {
    /// Opens the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, GeoIpError> {
        GeoIp {
            databases: Vec::new(),
        }
        .and_open(path)
    }

    /// Opens one more database; a later one fills only what earlier ones left out.
    pub fn and_open(mut self, path: impl AsRef<Path>) -> Result<Self, GeoIpError> {
        let path = path.as_ref().to_owned();
        match Reader::open_readfile(&path) {
            Ok(reader) => {
                self.databases.push((path, reader));
                Ok(self)
            }
            Err(source) => Err(GeoIpError { path, source }),
        }
    }

    /// Where `ip` is, or `None` when no database knows it (private and reserved ranges). A
    /// record that does not decode is treated as unknown: the request goes on without it.
    pub fn lookup(&self, ip: IpAddr) -> Option<ClientGeo> {
        let mut geo = ClientGeo::default();
        for (_, reader) in &self.databases {
            let Ok(Some(record)) = reader
                .lookup(ip)
                .and_then(|found| found.decode::<GeoRecord<'_>>())
            else {
                continue;
            };
            if geo.country.is_none() {
                geo.country = record.country.and_then(|c| c.iso_code).map(str::to_owned);
            }
            if geo.city.is_none() {
                geo.city = record
                    .city
                    .and_then(|c| c.names.get("en").copied())
                    .map(str::to_owned);
            }
            if let (None, Some(location)) = (geo.lat, record.location) {
                if let (Some(lat), Some(lon)) = (location.latitude, location.longitude) {
                    (geo.lat, geo.lon) = (Some(lat), Some(lon));
                }
            }
            if geo.asn.is_none() {
                geo.asn = record.autonomous_system_number;
            }
        }
        (geo != ClientGeo::default()).then_some(geo)
    }
}
