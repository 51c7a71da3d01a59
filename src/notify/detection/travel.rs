//! Impossible travel: two successful sign-ins of one actor from places farther apart than a
//! speed allows for the time between them.

use chrono::{DateTime, Utc};

use super::{record_time, tenant_key, Detector, Finding};
use crate::condition::Condition;
use crate::event::{Catalog, EventInfo};
use crate::json_view::Json;
use crate::query::Query;
use crate::value::FieldValue;
use crate::SecurityEvent;

/// Actors an impossible-travel detection remembers, at most.
pub(crate) const TRAVEL_ACTORS: usize = 100_000;
/// The Earth's mean radius, for great-circle distances.
const EARTH_RADIUS_KM: f64 = 6371.0;

/// Two records matching `condition` (by default successful sign-ins) of one actor
/// (`actor.id`, else `actor.email`, else `actor.name`), located (`client.geo.lat` and
/// `client.geo.lon`, which a City database of the [`http`](crate::http) layer's `geoip` gives),
/// whose places are at least `min_distance_km` apart (300 km by default: geolocation of an
/// address is rough) and farther apart than `max_speed_kmh` (1,000 km/h by default, an airliner)
/// allows for the time between them. Writes `authentication.impossible_travel` with the actor,
/// tenant and client of the later sign-in and `fields.from_id`, `fields.from_ip`,
/// `fields.from_country`, `fields.from_city`, `fields.distance_km`, `fields.hours`,
/// `fields.speed_kmh`.
///
/// ```
/// use tracing_security_events::notify::ImpossibleTravel;
///
/// let travel = ImpossibleTravel::new("impossible travel").max_speed_kmh(900.0);
/// # let _ = travel;
/// ```
#[derive(Debug, Clone)]
pub struct ImpossibleTravel {
    pub(crate) name: String,
    condition: Option<Query>,
    max_speed_kmh: f64,
    min_distance_km: f64,
    writes: &'static EventInfo,
}

impl ImpossibleTravel {
    /// A detection named `name` over successful sign-ins (`event = authentication.succeeded`).
    pub fn new(name: impl Into<String>) -> Self {
        ImpossibleTravel {
            name: name.into(),
            condition: None,
            max_speed_kmh: 1000.0,
            min_distance_km: 300.0,
            writes: SecurityEvent::ImpossibleTravel.info(),
        }
    }

    /// The records compared, instead of successful sign-ins.
    #[must_use]
    pub fn condition(mut self, condition: Query) -> Self {
        self.condition = Some(condition);
        self
    }

    /// The fastest travel believed.
    #[must_use]
    pub fn max_speed_kmh(mut self, speed: f64) -> Self {
        self.max_speed_kmh = speed;
        self
    }

    /// Places closer than this are never reported, however short the time.
    #[must_use]
    pub fn min_distance_km(mut self, distance: f64) -> Self {
        self.min_distance_km = distance;
        self
    }

    /// The event of the record it writes (`authentication.impossible_travel` by default).
    #[must_use]
    pub fn writes(mut self, event: impl Catalog) -> Self {
        self.writes = event.info();
        self
    }

    /// The setting that cannot work and why, if one cannot.
    pub(crate) fn problem(&self) -> Option<(&'static str, &'static str)> {
        if !(self.max_speed_kmh.is_finite() && self.max_speed_kmh > 0.0) {
            Some(("max_speed_kmh", "must be above zero"))
        } else if !(self.min_distance_km.is_finite() && self.min_distance_km >= 0.0) {
            Some(("min_distance_km", "must be zero or more"))
        } else {
            None
        }
    }

    /// The running state; the settings are checked ([`problem`](Self::problem)).
    pub(crate) fn start(self, now: DateTime<Utc>) -> Running {
        let condition = self.condition.clone().unwrap_or_else(|| {
            Query::parse("event = authentication.succeeded").expect("a valid query")
        });
        Running {
            condition: Condition::new(condition, now),
            last: quick_cache::unsync::Cache::new(TRAVEL_ACTORS),
            spec: self,
        }
    }
}

/// Where and when an actor last signed in.
#[derive(Debug, Clone)]
struct SignIn {
    at: DateTime<Utc>,
    lat: f64,
    lon: f64,
    id: String,
    ip: Option<String>,
    country: Option<String>,
    city: Option<String>,
}

/// An impossible-travel detection at work.
pub(crate) struct Running {
    spec: ImpossibleTravel,
    condition: Condition,
    last: quick_cache::unsync::Cache<String, SignIn>,
}

impl Detector for Running {
    fn condition(&self) -> &Condition {
        &self.condition
    }

    fn writes(&self) -> &'static EventInfo {
        self.spec.writes
    }

    fn memory(&self) -> std::time::Duration {
        // Two sign-ins farther apart in time than the longest journey at the fastest speed
        // cannot be impossible travel: half the Earth's circumference.
        let hours = std::f64::consts::PI * EARTH_RADIUS_KM / self.spec.max_speed_kmh;
        std::time::Duration::from_secs_f64((hours * 3600.0).min(365.0 * 86_400.0))
    }

    fn detect(&mut self, record: &Json<'_>, time: DateTime<Utc>) -> Option<Finding> {
        let actor = ["id", "email", "name"]
            .iter()
            .find_map(|part| record.str_at(&["actor", part]))?;
        let lat = record.f64_at(&["client", "geo", "lat"])?;
        let lon = record.f64_at(&["client", "geo", "lon"])?;
        let text = |path: &[&str]| record.str_at(path).map(str::to_owned);
        let now = SignIn {
            at: record_time(record).unwrap_or(time),
            lat,
            lon,
            id: text(&["id"]).unwrap_or_default(),
            ip: text(&["client", "ip"]),
            country: text(&["client", "geo", "country"]),
            city: text(&["client", "geo", "city"]),
        };
        let key = tenant_key(record, actor);
        let before = self.last.get(&key).cloned();
        if before.as_ref().is_none_or(|b| b.at <= now.at) {
            self.last.insert(key.clone(), now.clone());
        }
        let before = before?;
        let distance = great_circle_km(before.lat, before.lon, now.lat, now.lon);
        let hours = (now.at - before.at).num_milliseconds().unsigned_abs() as f64 / 3_600_000.0;
        let speed = distance / hours.max(1.0 / 3600.0);
        if distance < self.spec.min_distance_km || speed <= self.spec.max_speed_kmh {
            return None;
        }
        let (first_at, last_at) = (before.at.min(now.at), before.at.max(now.at));
        let mut fields = vec![
            ("detection", FieldValue::Str(self.spec.name.clone())),
            ("from_id", FieldValue::Str(before.id)),
            ("distance_km", FieldValue::F64(distance.round())),
            ("hours", FieldValue::F64((hours * 100.0).round() / 100.0)),
            ("speed_kmh", FieldValue::F64(speed.round())),
        ];
        for (name, value) in [
            ("from_ip", before.ip),
            ("from_country", before.country),
            ("from_city", before.city),
        ] {
            if let Some(value) = value {
                fields.push((name, FieldValue::Str(value)));
            }
        }
        Some(Finding {
            detection: self.spec.name.clone(),
            writes: self.spec.writes,
            fields,
            key,
            first_at,
            last_at,
            // One journey, one record: the pair is its window.
            quiet_until: last_at + chrono::Duration::microseconds(1),
        })
    }
}

/// The great-circle distance between two points, by the haversine formula.
fn great_circle_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let d_phi = (lat2 - lat1).to_radians();
    let d_lambda = (lon2 - lon1).to_radians();
    let across = phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
    let half = (d_phi / 2.0).sin();
    let a = half.mul_add(half, across);
    2.0 * EARTH_RADIUS_KM * a.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn great_circle_distances_match_known_ones() {
        // Berlin - New York: about 6,385 km.
        let d = great_circle_km(52.52, 13.405, 40.7128, -74.006);
        assert!((d - 6385.0).abs() < 15.0, "{d}");
        assert!(great_circle_km(48.0, 2.0, 48.0, 2.0) < 1e-9);
    }
}
