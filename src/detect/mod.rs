//! Detections: the log raising records of its own from what it sees. For now the new-device
//! check of a sign-in, which reads the request context of the [`http`](crate::http) layer.
//!
//! ```
//! use tracing_security_events::detect::{DeviceKey, MemoryDeviceStore, NewDeviceDetector};
//!
//! let detector = NewDeviceDetector::new(MemoryDeviceStore::new(10_000));
//! let key = DeviceKey::new("42", "Firefox/Linux", "203.0.113.7".parse().ok());
//! assert_eq!(key.network.map(|n| n.to_string()).as_deref(), Some("203.0.113.0/24"));
//! # let _ = detector;
//! ```

mod new_device;

pub use new_device::{DeviceCheck, DeviceKey, DeviceStore, MemoryDeviceStore, NewDeviceDetector};
