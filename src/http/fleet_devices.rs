//! Known devices kept in the fleet's PostgreSQL table, so that a device is new once for the
//! whole fleet, not once per instance.

use std::sync::Mutex;

use postgres::Client;
use sha2::{Digest, Sha256};

use super::{DeviceKey, DeviceStore};
use crate::postgres_table::{check_table_name, schema, PostgresError, DEFAULT_TABLE};

/// A [`DeviceStore`] in the table `<table>_devices` beside the fleet's records (features
/// `http` and `postgres`; made by the table's migrations): every instance asks the same
/// table, and one statement both asks and remembers, so of instances seeing one device at the
/// same moment exactly one finds it new. A device is kept as a SHA-256 of its key (the actor,
/// the user agent's family, the network), never in clear and of one size whatever the values.
///
/// ```no_run
/// use tracing_security_events::http::{NewDeviceDetector, PostgresDeviceStore};
///
/// let devices = PostgresDeviceStore::connect("postgres://app@db/app?sslmode=require")?;
/// let detector = NewDeviceDetector::new(devices);
/// # let _ = detector;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PostgresDeviceStore {
    url: String,
    table: String,
    client: Mutex<Option<Client>>,
}

impl std::fmt::Debug for PostgresDeviceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresDeviceStore")
            .field("url", &crate::postgres_table::redacted_url(&self.url))
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl PostgresDeviceStore {
    /// The devices of the default table (`security_events`) of the database at `url`,
    /// connected and migrated now.
    pub fn connect(url: &str) -> Result<Self, PostgresError> {
        Self::connect_to_table(url, DEFAULT_TABLE)
    }

    /// The devices beside `table`.
    pub fn connect_to_table(url: &str, table: &str) -> Result<Self, PostgresError> {
        check_table_name(table)?;
        let mut client = schema::connect(url)?;
        schema::migrate(&mut client, table)?;
        Ok(PostgresDeviceStore {
            url: url.to_owned(),
            table: table.to_owned(),
            client: Mutex::new(Some(client)),
        })
    }
}

/// The stored form of a device: a hash of its parts, each length-prefixed so that no two keys
/// share one.
fn key_hash(key: &DeviceKey) -> String {
    let network = key.network.map(|n| n.to_string()).unwrap_or_default();
    let mut hasher = Sha256::new();
    for part in [&key.actor_id, &key.user_agent_family, &network] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    crate::hex::encode(&hasher.finalize())
}

impl DeviceStore for PostgresDeviceStore {
    type Error = PostgresError;

    fn seen_before(&self, key: &DeviceKey) -> Result<bool, PostgresError> {
        let mut client = self
            .client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if client.as_ref().is_none_or(Client::is_closed) {
            *client = Some(schema::connect(&self.url)?);
        }
        let connection = client.as_mut().expect("connected just above");
        let inserted = connection
            .execute(
                &format!(
                    "INSERT INTO {}_devices (key_hash) VALUES ($1) ON CONFLICT DO NOTHING",
                    self.table
                ),
                &[&key_hash(key)],
            )
            .inspect_err(|_| *client = None)?;
        Ok(inserted == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cannot_run_into_each_other() {
        let a = DeviceKey::new("4", "2Firefox", None);
        let b = DeviceKey::new("42", "Firefox", None);
        assert_ne!(key_hash(&a), key_hash(&b));
        assert_eq!(key_hash(&a).len(), 64);
    }
}
