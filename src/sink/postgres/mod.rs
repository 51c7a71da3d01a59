//! The PostgreSQL sink (cargo feature `postgres`): every instance of a service writes its
//! records into one table of the database it already runs, where the read API, the console and
//! `security-log` find all of them ([`PostgresStore`](crate::store::PostgresStore)).
//!
//! ```no_run
//! use tracing_security_events::sink::postgres::PostgresConfig;
//! use tracing_subscriber::prelude::*;
//!
//! let (layer, guard) = tracing_security_events::builder()
//!     .with_file("/var/log/app/security.jsonl") // a file beside it, or not
//!     .with_postgres(PostgresConfig::new().with_url("postgres://app@db/app?sslmode=require"))
//!     .with_service_instance("app-7")
//!     .build()?;
//! tracing_subscriber::registry().with(layer).init();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # When to choose it
//!
//! Files are the simplest and fastest place, and enough for one instance. A service running
//! several instances (a deployment of replicas, serverless functions) needs one place where all
//! of them write and where readers find everything: the database it already runs. Records can
//! go to both, and to OTLP too.
//!
//! # The table
//!
//! `security_events` (see [`PostgresConfig::with_table`]), created and migrated at start-up
//! (versions in `security_events_migrations`; a table newer than the crate knows is an error):
//!
//! | column | type | |
//! |---|---|---|
//! | `id` | `uuid` | the record's id: a batch written twice is written once |
//! | `instance`, `seq` | `text`, `bigint` | `service.instance` and its own `seq` |
//! | `timestamp` | `timestamptz` | |
//! | `event_name`, `category`, `outcome` | `text` | |
//! | `severity` | `smallint` | debug 0, info 1, warn 2, error 3, critical 4 |
//! | `actor_id`, `tenant_id` | `text`, nullable | |
//! | `client_ip` | `inet`, nullable | |
//! | `service_name` | `text` | |
//! | `line` | `text` | the record exactly as written, sealed in its chain |
//! | `record` | `jsonb` | the same, for queries on any path |
//! | `retention` | `text` | its retention class: the days it is kept, `''` when no rule names it |
//!
//! Primary key `(id, timestamp, retention)`, unique `(instance, seq, timestamp, retention)`
//! (a partitioned table's keys hold its partition keys); indexes `(timestamp desc, id desc)`,
//! `(tenant_id, timestamp desc)`, `(event_name, timestamp desc)`, `(actor_id, timestamp desc)`,
//! the actor's name and email, and `(instance, retention, seq)` for the chains.
//!
//! **Partitioned** by month of `timestamp`, each month by retention class:
//! `security_events_202612` holds December 2026, `security_events_202612_90` its rows kept 90
//! days, `security_events_202612_d` the rest of the month (classes no rule of this instance
//! gives, and `''`), `security_events_default` rows of a month without a partition (a clock far
//! off; moved into their month when it is made). Every writing instance makes the current month
//! and the next three, with a partition per class of its rules, under a lock. Queries prune by
//! time as before: the store's answers do not change. A table of an earlier version is migrated
//! in place, its rows copied into their months with their lines untouched (class `''`), so
//! every chain verifies as before.
//!
//! **Chains.** Each instance seals its records in one chain per retention class, by `seq`: the
//! classes' rows interleave in `seq`, each chain links its own. Dropping a class's old month
//! removes the beginning of its chains and nothing of the others', and the record of that
//! removal names where each chain now starts (see *Retention*).
//!
//! # Delivery
//!
//! Records are written on a thread of the sink's own, in batches of up to 2,000 (one `INSERT ...
//! SELECT FROM unnest(...)` statement with every value a bind parameter), in order. While the
//! database is away they are held in memory (8 MiB), then in spool files
//! ([`PostgresConfig::with_spool`]), and written in order when it is back; what the limits
//! make the sink give up is counted and recorded as `audit.events_dropped`. A slow database never
//! slows the file sink beside it. At start-up, the sink continues its instance's `seq` and
//! chains from the rows the table holds for it, so `security-log verify postgres://...
//! --instance I` checks each instance's chains from the rows. Give each process its own
//! `service.instance` (the host name by default).
//!
//! # Retention
//!
//! [`PostgresConfig::with_retention`] (the age of records no rule names) and
//! [`PostgresConfig::with_retention_rule`] (a query and an age: sign-ins 90 days, role changes
//! two years; the first rule a record matches decides) give each record its class. Once a month
//! is older than a class's age, that class's partition of the month is dropped whole (so a
//! row goes between its age and its age plus a month; from its age on, `PostgresStore` leaves
//! it out of every answer, as the file store does); rows no class partition could take
//! are deleted 5,000 at a time. Each removal is recorded, in the transaction that removes, by
//! an `audit.records_removed` record per chain it cut (the instance and class, how many, the
//! last one's `seq` and hash), sealed in the chain `<instance>/retention`: verification tells
//! it from a deletion. The retention thread waits at most 2 s for a lock (and gives up until its
//! next round), so no writer waits longer for it. The log's evidence (`audit.records_removed`,
//! `audit.checkpoint`, ...) is kept as long as the longest class.
//!
//! Several instances may run retention: they take turns under the table's partition lock.

mod classes;
mod config;
mod retention;
mod rows;

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

pub use crate::postgres_table::PostgresError;
use crate::postgres_table::{check_table_name, describe, redacted_url, schema};
#[cfg(feature = "notify")]
pub(crate) use config::url_or_environment;
pub use config::{PostgresConfig, DATABASE_URL_VARIABLE};

use self::classes::Classes;
use self::retention::{chain_ends, Upkeep};
use self::rows::Row;
use super::delivery::{
    ship, Backlog, BatchLimits, DeliveryCounters, Outbox, Refusals, ShipperThread,
};
use super::{Batch, Sink};
use crate::integrity::chain::{ChainHash, ChainHasher};
use crate::postgres_table::partitions;
use crate::record::ServiceInfo;

/// Bytes per batch, besides the record count.
const MAX_BATCH_BYTES: usize = 4 << 20;

/// Writes records into a PostgreSQL table; see [the module](self).
pub(crate) struct PostgresSink {
    outbox: Outbox,
    hasher: ChainHasher,
    /// The tip of this instance's chain of each retention class.
    tips: BTreeMap<Option<u32>, ChainHash>,
    classes: Arc<Classes>,
    last_seq: Option<u64>,
    sealed: Vec<u8>,
    upkeep: ShipperThread,
}

impl fmt::Debug for PostgresSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresSink")
            .field("name", &self.outbox.name)
            .field("tips", &self.tips)
            .finish_non_exhaustive()
    }
}

impl PostgresSink {
    /// Connects, creates or migrates the table, reads where this instance's chain ends, and
    /// starts the writing thread.
    pub(crate) fn open(
        config: PostgresConfig,
        service: &ServiceInfo,
    ) -> Result<Self, PostgresError> {
        check_table_name(&config.table)?;
        let url = config.resolved_url()?;
        let mut client = schema::connect(&url)?;
        schema::migrate(&mut client, &config.table)?;
        let instance = service.instance.clone().unwrap_or_default();
        let classes = Arc::new(Classes::new(&config.retention_rules, config.retention));
        let mut chains: Vec<Option<u32>> = classes.known().into_iter().map(Some).collect();
        chains.push(None);
        let (last_seq, tips) = chain_ends(&mut client, &config.table, &instance, &chains)?;
        partitions::ensure_ahead(
            &mut client,
            &config.table,
            &classes.known(),
            chrono::Utc::now(),
        )?;

        let backlog = config
            .spool
            .open()
            .map_err(|(dir, source)| PostgresError::Spool { dir, source })?;
        let counters = Arc::new(DeliveryCounters::default());
        let name = format!("postgres:{}:{}", redacted_url(&url), config.table);
        let shipper = {
            let (backlog, counters, table, url) = (
                backlog.clone(),
                counters.clone(),
                config.table.clone(),
                url.clone(),
            );
            let max_batch = config.max_batch;
            let mut client = Some(client);
            let classes = classes.clone();
            ShipperThread::spawn("security-log-postgres", move |stop| {
                let writer = RowWriter {
                    backlog: &backlog,
                    counters: &counters,
                    max_batch,
                    table: &table,
                    url: &url,
                    classes: &classes,
                };
                writer.run(stop, &mut client);
            })
            .map_err(PostgresError::Thread)?
        };
        let hasher = ChainHasher::new(config.chain_key.as_deref());
        let upkeep = Upkeep {
            url,
            table: config.table.clone(),
            classes: classes.clone(),
            removes: config.retention.is_some() || !config.retention_rules.is_empty(),
            interval: config.retention_interval,
            service: service.name.clone(),
            instance,
            hasher: hasher.clone(),
        };
        let upkeep = ShipperThread::spawn("security-log-upkeep", move |stop| upkeep.run(stop))
            .map_err(PostgresError::Thread)?;
        Ok(PostgresSink {
            outbox: Outbox {
                name,
                backlog,
                counters,
                shipper,
                report_errors: config.report_errors,
                destination: "database",
            },
            hasher,
            tips,
            classes,
            last_seq,
            sealed: Vec::new(),
            upkeep,
        })
    }
}

/// The writing thread's settings.
struct RowWriter<'a> {
    backlog: &'a Backlog,
    counters: &'a DeliveryCounters,
    max_batch: usize,
    table: &'a str,
    url: &'a str,
    classes: &'a Classes,
}

impl RowWriter<'_> {
    /// Batches from the backlog, one statement each, reconnecting as needed. A batch the
    /// database refuses for its data is split until the refused records are found: every other
    /// record goes in, in order, and each refused one is counted and recorded with the
    /// database's reason, so no value can stop the sink.
    fn run(&self, stop: &AtomicBool, client: &mut Option<postgres::Client>) {
        let limits = BatchLimits {
            max: self.max_batch,
            max_bytes: MAX_BATCH_BYTES,
            linger: std::time::Duration::ZERO,
        };
        ship(self.backlog, limits, self.counters, stop, &mut |batch| {
            let mut rows = Vec::with_capacity(batch.len());
            for entry in batch {
                let line = entry.line.strip_suffix(b"\n").unwrap_or(&entry.line);
                match Row::of(line, self.classes.of(line)) {
                    Some(row) => rows.push(row),
                    None => self
                        .counters
                        .refuse("not a record the table can hold".to_owned()),
                }
            }
            if client.as_ref().is_none_or(postgres::Client::is_closed) {
                *client = Some(schema::connect(self.url).map_err(|e| e.to_string())?);
            }
            let connection = client.as_mut().expect("connected just above");
            match insert_finding_refusals(connection, self.table, &rows, self.counters) {
                Ok(written) => Ok(written),
                Err(error) => {
                    if error.is_closed() || error.as_db_error().is_none() {
                        *client = None;
                    }
                    Err(describe(&error))
                }
            }
        });
    }
}

/// Inserts `rows` in one transaction; rows the database refuses for their data are found and
/// recorded (see [`Refusals`]). Other errors (the connection, the server) are returned, and the
/// whole batch is sent again (rows already written are not written twice).
fn insert_finding_refusals(
    client: &mut postgres::Client,
    table: &str,
    rows: &[Row],
    counters: &DeliveryCounters,
) -> Result<u64, postgres::Error> {
    let refusals = Refusals {
        destination: "the database",
        of_data: &|error: &postgres::Error| refused_for_data(error).then(|| describe(error)),
        id: &|row: &Row| row.id.clone(),
    };
    refusals.send(rows, counters, &mut |rows| {
        let mut transaction = client.transaction()?;
        let written = rows::insert(&mut transaction, table, rows)?;
        transaction.commit()?;
        Ok(written)
    })
}

/// Whether the database refused the statement for the values it carried (a data exception,
/// a constraint, a size limit such as an index entry too long), not for its own state.
fn refused_for_data(error: &postgres::Error) -> bool {
    error
        .as_db_error()
        .is_some_and(|db| matches!(&db.code().code()[..2], "22" | "23" | "54"))
}

impl Sink for PostgresSink {
    fn name(&self) -> &str {
        &self.outbox.name
    }

    fn write(&mut self, batch: &Batch<'_>) -> io::Result<()> {
        // Sealed here, in the pipeline's order, so the instance's chain follows `seq`.
        self.sealed.clear();
        for line in batch.lines() {
            let record = line.strip_suffix(b"\n").unwrap_or(line);
            let tip = self
                .tips
                .entry(self.classes.of(record))
                .or_insert(ChainHash::GENESIS);
            *tip = self.hasher.seal(tip, record, &mut self.sealed);
        }
        self.outbox
            .write(&Batch::new(batch.records(), &self.sealed))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.outbox.flush()
    }

    fn take_losses(&mut self) -> Vec<super::SinkLoss> {
        self.outbox.take_losses()
    }

    fn last_seq(&self) -> Option<u64> {
        self.last_seq
    }
}

impl Drop for PostgresSink {
    fn drop(&mut self) {
        self.upkeep.stop();
    }
}
