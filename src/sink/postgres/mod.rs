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
//! | `id` | `uuid` primary key | the record's id: a batch written twice is written once |
//! | `instance`, `seq` | `text`, `bigint`, unique together | `service.instance` and its own `seq` |
//! | `timestamp` | `timestamptz` | |
//! | `event_name`, `category`, `outcome` | `text` | |
//! | `severity` | `smallint` | debug 0, info 1, warn 2, error 3, critical 4 |
//! | `actor_id`, `tenant_id` | `text`, nullable | |
//! | `client_ip` | `inet`, nullable | |
//! | `service_name` | `text` | |
//! | `line` | `text` | the record exactly as written, sealed in its instance's hash chain |
//! | `record` | `jsonb` | the same, for queries on any path |
//!
//! Indexes: `(timestamp desc, id desc)`, `(tenant_id, timestamp desc)`, `(event_name, timestamp
//! desc)`, `(actor_id, timestamp desc)`.
//!
//! # Delivery
//!
//! Records are written on a thread of the sink's own, in batches of up to 2,000 (one `INSERT ...
//! SELECT FROM unnest(...)` statement with every value a bind parameter), in order. While the
//! database is away they are held in memory (8 MiB), then in spool files
//! ([`PostgresConfig::with_spool`]), and written in order when it is back; what the limits
//! make the sink give up is counted and recorded as `audit.events_dropped`. A slow database never
//! slows the file sink beside it. At start-up, the sink continues its instance's `seq` and hash
//! chain from the last row the table holds for it, so `security-log verify postgres://...
//! --instance I` checks each instance's chain from the rows. Give each process its own
//! `service.instance` (the host name by default).
//!
//! # Retention
//!
//! [`PostgresConfig::with_retention`] deletes rows older than an age, 5,000 at a time, so a large
//! delete never holds a lock writers wait on.

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
