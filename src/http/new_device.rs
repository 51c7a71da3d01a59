//! "Sign-in from a new device": has this actor used this browser family from this network before?
//!
//! ```
//! use tracing_security_events::http::{DeviceKey, MemoryDeviceStore, NewDeviceDetector};
//!
//! let detector = NewDeviceDetector::new(MemoryDeviceStore::new(10_000));
//! let key = DeviceKey::new("42", "Firefox/Linux", "203.0.113.7".parse().ok());
//! assert_eq!(key.network.map(|n| n.to_string()).as_deref(), Some("203.0.113.0/24"));
//! # let _ = detector;
//! ```

use std::convert::Infallible;
use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use quick_cache::sync::Cache;

use super::RequestSecurity;
use crate::{security_event, SecurityEvent};

/// What identifies a device for an actor: the user agent family (`Firefox/Linux`) and the
/// network (/24 for IPv4, /64 for IPv6), so that a browser update or a new address from the same
/// provider's block is not a new device.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceKey {
    /// The actor's id.
    pub actor_id: String,
    /// `name/os` of the parsed user agent, or the raw string when it was not recognised.
    pub user_agent_family: String,
    /// The client's network; `None` when the address is unknown.
    pub network: Option<IpNet>,
}

impl DeviceKey {
    /// The key for `actor_id` using `user_agent_family` from `ip`.
    pub fn new(
        actor_id: impl Into<String>,
        user_agent_family: impl Into<String>,
        ip: Option<IpAddr>,
    ) -> Self {
        DeviceKey {
            actor_id: actor_id.into(),
            user_agent_family: user_agent_family.into(),
            network: ip.map(network_of),
        }
    }
}

/// The /24 or /64 holding `ip`.
fn network_of(ip: IpAddr) -> IpNet {
    let ip = ip.to_canonical();
    let prefix = if ip.is_ipv4() { 24 } else { 64 };
    IpNet::new(ip, prefix)
        .map(|net| net.trunc())
        .unwrap_or_else(|_| IpNet::from(ip))
}

/// Where known devices are kept. The built-in [`MemoryDeviceStore`] forgets on restart and
/// beyond its capacity; a service keeps them in its own database by implementing this.
pub trait DeviceStore: Send + Sync {
    /// Why the store could not answer.
    type Error;

    /// Whether `key` was seen before; remembers it either way.
    fn seen_before(&self, key: &DeviceKey) -> Result<bool, Self::Error>;
}

/// A bounded in-memory [`DeviceStore`]: the least useful keys are evicted past its capacity.
pub struct MemoryDeviceStore {
    known: Cache<DeviceKey, ()>,
}

impl fmt::Debug for MemoryDeviceStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryDeviceStore")
            .field("len", &self.known.len())
            .field("capacity", &self.known.capacity())
            .finish()
    }
}

impl MemoryDeviceStore {
    /// A store keeping up to `capacity` devices (at least one).
    pub fn new(capacity: usize) -> Self {
        MemoryDeviceStore {
            known: Cache::new(capacity.max(1)),
        }
    }
}

impl DeviceStore for MemoryDeviceStore {
    type Error = Infallible;

    fn seen_before(&self, key: &DeviceKey) -> Result<bool, Infallible> {
        if self.known.get(key).is_some() {
            return Ok(true);
        }
        self.known.insert(key.clone(), ());
        Ok(false)
    }
}

/// The answer of [`NewDeviceDetector`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceCheck {
    /// Seen before for this actor.
    Known,
    /// First time: an `authentication.new_device` event was emitted (by
    /// [`NewDeviceDetector::check_request`]).
    New,
}

/// Tells whether an actor signs in from a device not seen before, and emits
/// `authentication.new_device` when so.
///
/// ```
/// use tracing_security_events::http::{DeviceCheck, DeviceKey, MemoryDeviceStore, NewDeviceDetector};
///
/// let detector = NewDeviceDetector::new(MemoryDeviceStore::new(10_000));
/// let key = |ip: &str| DeviceKey::new("42", "Firefox/Linux", Some(ip.parse().unwrap()));
/// assert_eq!(detector.check(&key("203.0.113.7")).unwrap(), DeviceCheck::New);
/// // Same /24: the same device.
/// assert_eq!(detector.check(&key("203.0.113.99")).unwrap(), DeviceCheck::Known);
/// assert_eq!(detector.check(&key("198.51.100.1")).unwrap(), DeviceCheck::New);
/// ```
#[derive(Debug)]
pub struct NewDeviceDetector<S = MemoryDeviceStore> {
    store: S,
}

impl<S: DeviceStore> NewDeviceDetector<S> {
    /// A detector remembering devices in `store`.
    pub fn new(store: S) -> Self {
        NewDeviceDetector { store }
    }

    /// Whether `key` is new; remembers it. Emits nothing.
    pub fn check(&self, key: &DeviceKey) -> Result<DeviceCheck, S::Error> {
        Ok(match self.store.seen_before(key)? {
            true => DeviceCheck::Known,
            false => DeviceCheck::New,
        })
    }

    /// Checks the device of the request for `actor_id`, from its client address and user agent,
    /// and emits `authentication.new_device` in the request's context when it is new.
    pub fn check_request(
        &self,
        security: &RequestSecurity,
        actor_id: &str,
    ) -> Result<DeviceCheck, S::Error> {
        let family = match (security.parsed_user_agent(), security.user_agent()) {
            (Some(parsed), _) => parsed.family(),
            (None, Some(raw)) => raw.to_owned(),
            (None, None) => String::new(),
        };
        let key = DeviceKey::new(actor_id, family, security.client().map(|c| c.ip));
        let check = self.check(&key)?;
        if check == DeviceCheck::New {
            security.span().in_scope(|| {
                security_event!(
                    SecurityEvent::NewDeviceLogin,
                    actor.id = actor_id,
                    device.user_agent_family = key.user_agent_family.as_str(),
                    device.network = key.network.map(tracing::field::display),
                );
            });
        }
        Ok(check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_slash_24_and_slash_64() {
        assert_eq!(
            network_of("203.0.113.77".parse().unwrap()).to_string(),
            "203.0.113.0/24"
        );
        assert_eq!(
            network_of("2001:db8:1:2:3:4:5:6".parse().unwrap()).to_string(),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            network_of("::ffff:10.1.2.3".parse().unwrap()).to_string(),
            "10.1.2.0/24"
        );
    }

    #[test]
    fn the_memory_store_is_bounded() {
        let store = MemoryDeviceStore::new(100);
        for i in 0..10_000 {
            let key = DeviceKey::new(i.to_string(), "Firefox/Linux", None);
            assert!(!store.seen_before(&key).unwrap());
        }
        assert!(store.known.len() <= 100, "{}", store.known.len());
    }

    #[test]
    fn actors_do_not_share_devices() {
        let detector = NewDeviceDetector::new(MemoryDeviceStore::new(10));
        let ip = Some("203.0.113.7".parse().unwrap());
        let alice = DeviceKey::new("alice", "Firefox/Linux", ip);
        let bob = DeviceKey::new("bob", "Firefox/Linux", ip);
        assert_eq!(detector.check(&alice).unwrap(), DeviceCheck::New);
        assert_eq!(detector.check(&bob).unwrap(), DeviceCheck::New);
        assert_eq!(detector.check(&alice).unwrap(), DeviceCheck::Known);
    }
}
