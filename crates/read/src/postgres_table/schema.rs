//! Connecting, and the table: created and migrated at start-up, one versioned step at a time.

use postgres::{Client, Config};
use postgres_native_tls::MakeTlsConnector;

use super::{redacted_url, PostgresError};

/// The migrations, in order: version `n` is `MIGRATIONS[n - 1]`, `{t}` the table's name.
/// Never edit a released one; add the next.
const MIGRATIONS: &[&str] = &[
    // 1: the table of ARCHITECTURE.md and its indexes.
    "CREATE TABLE {t} (
        id uuid PRIMARY KEY,
        instance text NOT NULL,
        seq bigint NOT NULL,
        timestamp timestamptz NOT NULL,
        event_name text NOT NULL,
        category text NOT NULL,
        outcome text NOT NULL,
        severity smallint NOT NULL,
        actor_id text,
        tenant_id text,
        client_ip inet,
        service_name text,
        line text NOT NULL,
        record jsonb NOT NULL,
        UNIQUE (instance, seq)
    );
    CREATE INDEX {t}_timestamp_id ON {t} (timestamp DESC, id DESC);
    CREATE INDEX {t}_tenant_timestamp ON {t} (tenant_id, timestamp DESC);
    CREATE INDEX {t}_event_timestamp ON {t} (event_name, timestamp DESC);
    CREATE INDEX {t}_actor_timestamp ON {t} (actor_id, timestamp DESC);",
    // 2: the `user` shortcut also reads the actor's name and email.
    "CREATE INDEX {t}_actor_name_timestamp ON {t} ((record #>> '{actor,name}'), timestamp DESC);
    CREATE INDEX {t}_actor_email_timestamp ON {t} ((record #>> '{actor,email}'), timestamp DESC);",
    // 3: fleet detections: how far the evaluating instance has read each instance's rows, and
    // the windows raised, so that a window is raised once whichever instance evaluates it.
    "CREATE TABLE {t}_cursors (
        scope text NOT NULL,
        instance text NOT NULL,
        seq bigint NOT NULL,
        at timestamptz NOT NULL,
        PRIMARY KEY (scope, instance)
    );
    CREATE TABLE {t}_raised (
        scope text NOT NULL,
        detection text NOT NULL,
        key_hash text NOT NULL,
        first_at timestamptz NOT NULL,
        quiet_until timestamptz NOT NULL,
        raised_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, detection, key_hash, first_at)
    );",
];

/// The newest schema version this crate writes and reads.
pub(crate) const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// The connection settings of `url`, and the TLS connector for its `sslmode`.
pub(crate) fn config(url: &str) -> Result<(Config, MakeTlsConnector), PostgresError> {
    let config: Config = url
        .parse()
        .map_err(|e: postgres::Error| PostgresError::BadUrl(e.to_string()))?;
    let tls =
        native_tls::TlsConnector::new().map_err(|e| PostgresError::BadUrl(format!("TLS: {e}")))?;
    Ok((config, MakeTlsConnector::new(tls)))
}

/// Connects, with TLS when the URL's `sslmode` asks for it or the server offers it.
pub fn connect(url: &str) -> Result<Client, PostgresError> {
    let (config, tls) = config(url)?;
    config
        .connect(tls)
        .map_err(|source| PostgresError::Connect {
            url: redacted_url(url),
            source,
        })
}

/// Checks that the database stores text as UTF-8: the store's text comparisons count
/// characters (`right`, `LIKE`'s `_`) as the query language does only there.
pub(crate) fn check_encoding(client: &mut Client) -> Result<(), PostgresError> {
    let encoding: String = client
        .query_one("SELECT current_setting('server_encoding')", &[])?
        .get(0);
    if encoding != "UTF8" {
        return Err(PostgresError::Encoding(encoding));
    }
    Ok(())
}

/// Brings `table` to the schema version this code writes, under a lock so that instances starting together
/// migrate once; a table newer than that is an error.
pub fn migrate(client: &mut Client, table: &str) -> Result<(), PostgresError> {
    let failed = |source| PostgresError::Migrate {
        table: table.to_owned(),
        source,
    };
    let mut transaction = client.transaction().map_err(failed)?;
    // One lock per table name: hashtext gives it a number.
    transaction
        .execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&table])
        .map_err(failed)?;
    transaction
        .batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {table}_migrations (
                version integer PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            )"
        ))
        .map_err(failed)?;
    let found = version(&mut transaction, table).map_err(failed)?;
    refuse_newer(table, found)?;
    for (index, step) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index as i32 + 1;
        transaction
            .batch_execute(&step.replace("{t}", table))
            .map_err(failed)?;
        transaction
            .execute(
                &format!("INSERT INTO {table}_migrations (version) VALUES ($1)"),
                &[&version],
            )
            .map_err(failed)?;
    }
    transaction.commit().map_err(failed)
}

/// Checks that `table` was made by the sink and is not newer than this crate knows (for
/// readers, who never migrate).
pub(crate) fn check_version(client: &mut Client, table: &str) -> Result<(), PostgresError> {
    let found = version(client, table).map_err(|_| PostgresError::NoTable(table.to_owned()))?;
    refuse_newer(table, found)?;
    if found == 0 {
        return Err(PostgresError::NoTable(table.to_owned()));
    }
    Ok(())
}

/// The table's schema version (0 before the first migration).
fn version(client: &mut impl postgres::GenericClient, table: &str) -> Result<i32, postgres::Error> {
    let row = client.query_one(
        &format!("SELECT coalesce(max(version), 0) FROM {table}_migrations"),
        &[],
    )?;
    Ok(row.get(0))
}

/// A table newer than this crate knows is not touched.
fn refuse_newer(table: &str, found: i32) -> Result<(), PostgresError> {
    if found > SCHEMA_VERSION {
        return Err(PostgresError::NewerSchema {
            table: table.to_owned(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    Ok(())
}
