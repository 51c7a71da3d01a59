//! Connecting, and the table: created and migrated at start-up, one versioned step at a time.

use postgres::{Client, Config, Transaction};
use postgres_native_tls::MakeTlsConnector;

use super::partitions::{self, MONTHS_AHEAD};
use super::{redacted_url, PostgresError};

/// One migration: SQL (`{t}` the table's name), or code for what SQL alone cannot say.
enum Step {
    Sql(&'static str),
    Code(fn(&mut Transaction<'_>, &str) -> Result<(), postgres::Error>),
}

/// The migrations, in order: version `n` is `MIGRATIONS[n - 1]`. Never edit a released one;
/// add the next.
const MIGRATIONS: &[Step] = &[
    // 1: the table of ARCHITECTURE.md and its indexes.
    Step::Sql("CREATE TABLE {t} (
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
    CREATE INDEX {t}_actor_timestamp ON {t} (actor_id, timestamp DESC);"),
    // 2: the `user` shortcut also reads the actor's name and email.
    Step::Sql("CREATE INDEX {t}_actor_name_timestamp ON {t} ((record #>> '{actor,name}'), timestamp DESC);
    CREATE INDEX {t}_actor_email_timestamp ON {t} ((record #>> '{actor,email}'), timestamp DESC);"),
    // 3: fleet detections: how far the evaluating instance has read each instance's rows, the
    // windows raised (so that a window is raised once whichever instance evaluates it), and the
    // devices seen (so that a device is new once for the fleet).
    Step::Sql("CREATE TABLE {t}_cursors (
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
    );
    CREATE TABLE {t}_devices (
        key_hash text PRIMARY KEY,
        first_seen timestamptz NOT NULL DEFAULT now()
    );"),
    // 4: partitioned by month and retention class, every row kept as it was.
    Step::Code(partition),
];

/// The table's columns after migration 4, in order.
const COLUMNS: &str = "id, instance, seq, timestamp, event_name, category, outcome, severity, \
    actor_id, tenant_id, client_ip, service_name, line, record";

/// Migration 4: the table becomes partitioned (see [`partitions`]), with a `retention` column
/// (the class: days kept, `''` for rows before it, which keep their chain). Its rows are
/// copied into the months they belong to; their lines are untouched, so every chain verifies
/// as before.
fn partition(transaction: &mut Transaction<'_>, table: &str) -> Result<(), postgres::Error> {
    let old = format!("{table}_v3");
    transaction.batch_execute(&format!("ALTER TABLE {table} RENAME TO {old}"))?;
    // The old table's constraints and indexes carry the names the new ones take.
    for row in transaction.query(
        "SELECT conname::text FROM pg_constraint WHERE conrelid = to_regclass($1)",
        &[&old],
    )? {
        let name: String = row.get(0);
        transaction.batch_execute(&format!("ALTER TABLE {old} DROP CONSTRAINT \"{name}\""))?;
    }
    for row in transaction.query(
        "SELECT indexname::text FROM pg_indexes WHERE tablename = $1",
        &[&old],
    )? {
        let name: String = row.get(0);
        transaction.batch_execute(&format!("DROP INDEX \"{name}\""))?;
    }
    transaction.batch_execute(&format!(
        "CREATE TABLE {table} (
            id uuid NOT NULL,
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
            retention text NOT NULL DEFAULT '',
            PRIMARY KEY (id, timestamp, retention),
            UNIQUE (instance, seq, timestamp, retention)
        ) PARTITION BY RANGE (timestamp);
        CREATE TABLE {table}_default PARTITION OF {table} DEFAULT;
        CREATE INDEX {table}_timestamp_id ON {table} (timestamp DESC, id DESC);
        CREATE INDEX {table}_tenant_timestamp ON {table} (tenant_id, timestamp DESC);
        CREATE INDEX {table}_event_timestamp ON {table} (event_name, timestamp DESC);
        CREATE INDEX {table}_actor_timestamp ON {table} (actor_id, timestamp DESC);
        CREATE INDEX {table}_actor_name_timestamp ON {table} ((record #>> '{{actor,name}}'), timestamp DESC);
        CREATE INDEX {table}_actor_email_timestamp ON {table} ((record #>> '{{actor,email}}'), timestamp DESC);
        CREATE INDEX {table}_chain ON {table} (instance, retention, seq);"
    ))?;
    // Every month the rows cover, and the months ahead.
    let bounds = transaction.query_one(
        &format!(
            "SELECT extract(year from min(timestamp) AT TIME ZONE 'UTC')::int4, \
                    extract(month from min(timestamp) AT TIME ZONE 'UTC')::int4, \
                    extract(year from greatest(max(timestamp), now()) AT TIME ZONE 'UTC')::int4, \
                    extract(month from greatest(max(timestamp), now()) AT TIME ZONE 'UTC')::int4 \
             FROM {old}"
        ),
        &[],
    )?;
    let now = chrono::Utc::now();
    let to_month = |year: Option<i32>, month: Option<i32>| {
        year.zip(month)
            .map(|(y, m)| (y, u32::try_from(m).unwrap_or(1)))
    };
    let first = to_month(bounds.get(0), bounds.get(1)).unwrap_or_else(|| partitions::month_of(now));
    let last = to_month(bounds.get(2), bounds.get(3)).unwrap_or_else(|| partitions::month_of(now));
    // Ten years at most: rows older still (a clock once at zero) stay in the default partition.
    let earliest = (last.0 - 10, last.1);
    let mut month = first.max(earliest);
    let mut ahead = 0;
    while month <= last || ahead < MONTHS_AHEAD {
        if month > last {
            ahead += 1;
        }
        partitions::create_month(transaction, table, month, &[])?;
        month = partitions::next_month(month);
    }
    transaction.batch_execute(&format!(
        "INSERT INTO {table} ({COLUMNS}) SELECT {COLUMNS} FROM {old};
         DROP TABLE {old};"
    ))
}

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
        match step {
            Step::Sql(sql) => transaction.batch_execute(&sql.replace("{t}", table)),
            Step::Code(code) => code(&mut transaction, table),
        }
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
/// readers, who never migrate); its version.
pub(crate) fn check_version(client: &mut Client, table: &str) -> Result<i32, PostgresError> {
    let found = version(client, table).map_err(|_| PostgresError::NoTable(table.to_owned()))?;
    refuse_newer(table, found)?;
    if found == 0 {
        return Err(PostgresError::NoTable(table.to_owned()));
    }
    Ok(found)
}

/// The first version whose rows have a retention class (migration 4).
pub(crate) const CLASSES_VERSION: i32 = 4;

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
