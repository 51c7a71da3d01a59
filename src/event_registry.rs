//! The set of catalogs a layer recognises, looked up by event name.

use std::collections::HashMap;

use crate::event::check_event_name;
use crate::event::{Catalog, EventInfo, SecurityEvent};
use crate::BuildError;

/// A fast hash for the lookup every event makes on the caller's thread. The map is filled once at
/// build time from fixed catalog names, so hash flooding has nothing to grow.
type NameHasher = foldhash::fast::FixedState;

/// Every registered catalog row by name: the built-in catalog plus the service's own.
#[derive(Debug, Clone)]
pub(crate) struct EventRegistry {
    by_name: HashMap<&'static str, &'static EventInfo, NameHasher>,
    /// The same rows by the address of their name: `security_event!` records the catalog's own
    /// text, found this way without hashing it.
    by_address: HashMap<usize, &'static EventInfo, NameHasher>,
}

impl Default for EventRegistry {
    fn default() -> Self {
        let mut registry = EventRegistry {
            by_name: HashMap::with_capacity_and_hasher(
                SecurityEvent::ALL.len() * 2,
                NameHasher::default(),
            ),
            by_address: HashMap::with_capacity_and_hasher(
                SecurityEvent::ALL.len() * 2,
                NameHasher::default(),
            ),
        };
        registry
            .register::<SecurityEvent>()
            .expect("the built-in catalog is well formed (checked by its tests)");
        registry
    }
}

impl EventRegistry {
    /// Adds every row of `C`; a malformed name or one already registered is an error.
    pub(crate) fn register<C: Catalog>(&mut self) -> Result<(), BuildError> {
        for &event in C::ALL {
            let info = event.info();
            check_event_name(info.name()).map_err(|reason| BuildError::InvalidEventName {
                name: info.name().to_owned(),
                reason,
            })?;
            if self.by_name.insert(info.name(), info).is_some() {
                return Err(BuildError::DuplicateEventName {
                    name: info.name().to_owned(),
                });
            }
            self.by_address.insert(info.name().as_ptr() as usize, info);
        }
        Ok(())
    }

    pub(crate) fn get(&self, name: &str) -> Option<&'static EventInfo> {
        // The same address and length is the same text.
        match self.by_address.get(&(name.as_ptr() as usize)) {
            Some(info) if info.name().len() == name.len() => Some(info),
            _ => self.by_name.get(name).copied(),
        }
    }
}
