//! The table's upkeep, on a thread of its own: partitions created ahead of time, and retention.
//! Retention drops a class's monthly partition once all of it is past its age, and deletes, a
//! batch at a time, expired rows kept where no class partition could take them (a month's
//! default partition: rows of classes another instance's rules give, rows written before
//! partitioning). Each removal is recorded in the same transaction by an
//! `audit.records_removed` record per chain it cut (instance and class: how many, and the last
//! one's `seq` and hash), so that verification tells retention from deletion.
//!
//! Those records form a chain of their own, `<instance>/retention`, sealed like the others
//! and numbered from the table: the removal and its record commit together or not at all.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use postgres::{Client, Transaction};

use super::classes::Classes;
use super::rows::{self, Row};
use crate::integrity::chain::{unseal, ChainHash, ChainHasher};
use crate::postgres_table::partitions::{self, class_value, Leaf};
use crate::postgres_table::schema;
use crate::SecurityEvent;

/// Rows per retention `DELETE`.
const RETENTION_BATCH: i64 = 5000;
/// The longest a writer may wait for retention's locks: retention gives up first and tries
/// again at its next round.
pub(crate) const LOCK_TIMEOUT: &str = "2s";

/// What the upkeep thread needs.
pub(crate) struct Upkeep {
    pub(crate) url: String,
    pub(crate) table: String,
    pub(crate) classes: Arc<Classes>,
    /// Whether anything is ever removed (an age or a rule is set).
    pub(crate) removes: bool,
    pub(crate) interval: Duration,
    /// Who writes the removal records: the service, and the chain `<instance>/retention`.
    pub(crate) service: Option<String>,
    pub(crate) instance: String,
    pub(crate) hasher: ChainHasher,
}

/// Rows removed from one chain.
struct Removed {
    instance: String,
    class: String,
    count: i64,
    last_seq: i64,
    last_line: String,
}

impl Upkeep {
    /// Runs until `stop`: every `interval`, partitions ahead, then retention.
    pub(crate) fn run(&self, stop: &AtomicBool) {
        let mut client: Option<Client> = None;
        let mut next = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            if Instant::now() < next {
                std::thread::sleep(Duration::from_millis(10).min(self.interval));
                continue;
            }
            next = Instant::now() + self.interval;
            if client.as_ref().is_none_or(Client::is_closed) {
                client = schema::connect(&self.url).ok();
            }
            let Some(connection) = client.as_mut() else {
                continue;
            };
            // A round that fails (the database away, a lock not had in time) is tried again
            // at the next one; what it did is committed or not, never half.
            if self.round(connection, stop).is_err() && connection.is_closed() {
                client = None;
            }
        }
    }

    /// One round of upkeep.
    pub(crate) fn round(
        &self,
        client: &mut Client,
        stop: &AtomicBool,
    ) -> Result<(), postgres::Error> {
        let now = Utc::now();
        partitions::ensure_ahead(client, &self.table, &self.classes.known(), now)?;
        if !self.removes {
            return Ok(());
        }
        let leaves = partitions::leaves(client, &self.table)?;
        for leaf in &leaves {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            match leaf.days {
                Some(days) if expired(leaf, days, now) => self.drop_leaf(client, leaf)?,
                Some(_) => {}
                None => self.delete_expired(client, &leaf.name, stop)?,
            }
        }
        self.delete_expired(client, &format!("{}_default", self.table), stop)?;
        // A month's default partition goes once empty and past every class's age.
        if let Some(longest) = self.classes.longest() {
            for leaf in leaves.iter().filter(|l| l.days.is_none()) {
                if expired(leaf, longest, now) {
                    self.drop_if_empty(client, &leaf.name)?;
                }
            }
        }
        for month in partitions::empty_months(client, &self.table)? {
            self.drop_if_empty(client, &month)?;
        }
        Ok(())
    }

    /// A transaction that gives up waiting for a lock after [`LOCK_TIMEOUT`], holding the
    /// partition lock.
    fn transaction<'a>(&self, client: &'a mut Client) -> Result<Transaction<'a>, postgres::Error> {
        let mut transaction = client.transaction()?;
        transaction.batch_execute(&format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))?;
        partitions::lock(&mut transaction, &self.table)?;
        Ok(transaction)
    }

    /// Drops a class's partition whose every row is past its age, recording what it held.
    fn drop_leaf(&self, client: &mut Client, leaf: &Leaf) -> Result<(), postgres::Error> {
        let mut transaction = self.transaction(client)?;
        // Rows arriving late (from a spool) wait; nothing is dropped unrecorded.
        transaction.batch_execute(&format!("LOCK TABLE {} IN SHARE MODE", leaf.name))?;
        // One pass to count, then each chain's last row by the index: no sort of the rows.
        let removed = transaction
            .query(
                &format!(
                    "SELECT c.instance, c.retention, c.count, c.seq, \
                         (SELECT line FROM {leaf} l WHERE l.instance = c.instance \
                          AND l.retention = c.retention AND l.seq = c.seq LIMIT 1) \
                     FROM (SELECT instance, retention, count(*) AS count, max(seq) AS seq \
                           FROM {leaf} GROUP BY instance, retention) AS c",
                    leaf = leaf.name
                ),
                &[],
            )?
            .iter()
            .map(removed_of)
            .collect::<Vec<_>>();
        self.record(&mut transaction, &removed, Some(&leaf.name))?;
        transaction.batch_execute(&format!("DROP TABLE {}", leaf.name))?;
        transaction.commit()
    }

    /// Deletes `table`'s expired rows a batch at a time, each batch recorded as it commits.
    fn delete_expired(
        &self,
        client: &mut Client,
        table: &str,
        stop: &AtomicBool,
    ) -> Result<(), postgres::Error> {
        let rest = self.classes.rest().map(i32::try_from).and_then(Result::ok);
        let expired = "(retention ~ '^[0-9]{1,6}$' \
             AND timestamp < now() - retention::int4 * interval '1 day') \
             OR (retention = '' AND $1::int4 IS NOT NULL \
             AND timestamp < now() - $1::int4 * interval '1 day')";
        let statement = format!(
            "WITH gone AS (DELETE FROM {table} WHERE (id, timestamp, retention) IN \
                 (SELECT id, timestamp, retention FROM {table} WHERE {expired} \
                  ORDER BY timestamp LIMIT $2 FOR UPDATE SKIP LOCKED) \
                 RETURNING instance, retention, seq, line) \
             SELECT DISTINCT ON (instance, retention) instance, retention, \
                 count(*) OVER (PARTITION BY instance, retention), seq, line \
             FROM gone ORDER BY instance, retention, seq DESC"
        );
        loop {
            let exists: bool = client
                .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])?
                .get(0);
            if !exists || stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let mut transaction = self.transaction(client)?;
            let removed: Vec<Removed> = transaction
                .query(&statement, &[&rest, &RETENTION_BATCH])?
                .iter()
                .map(removed_of)
                .collect();
            let count: i64 = removed.iter().map(|r| r.count).sum();
            self.record(&mut transaction, &removed, None)?;
            transaction.commit()?;
            if count < RETENTION_BATCH {
                return Ok(());
            }
        }
    }

    /// Drops `table` if it holds no row.
    fn drop_if_empty(&self, client: &mut Client, table: &str) -> Result<(), postgres::Error> {
        let mut transaction = self.transaction(client)?;
        let empty: bool = transaction
            .query_one(&format!("SELECT NOT EXISTS (SELECT 1 FROM {table})"), &[])?
            .get(0);
        if empty {
            transaction.batch_execute(&format!("DROP TABLE {table}"))?;
        }
        transaction.commit()
    }

    /// Writes one `audit.records_removed` record per chain in `removed`, continuing the chain
    /// `<instance>/retention`.
    fn record(
        &self,
        transaction: &mut Transaction<'_>,
        removed: &[Removed],
        partition: Option<&str>,
    ) -> Result<(), postgres::Error> {
        if removed.is_empty() {
            return Ok(());
        }
        let chain = format!("{}/retention", self.instance);
        let days = self.classes.longest();
        let class = class_value(days);
        let last = transaction.query_opt(
            &format!(
                "SELECT seq, line FROM {} WHERE instance = $1 AND retention = $2 \
                 ORDER BY seq DESC LIMIT 1",
                self.table
            ),
            &[&chain, &class],
        )?;
        let (mut seq, mut tip) = match last {
            Some(row) => (row.get::<_, i64>(0), tip_of(row.get(1))),
            None => (0, ChainHash::GENESIS),
        };
        let mut rows = Vec::with_capacity(removed.len());
        for removal in removed {
            seq += 1;
            let line = self.removal_line(&chain, seq, removal, partition, Utc::now());
            let mut sealed = Vec::with_capacity(line.len() + 160);
            tip = self.hasher.seal(&tip, line.as_bytes(), &mut sealed);
            if let Some(row) = Row::of(sealed.strip_suffix(b"\n").unwrap_or(&sealed), days) {
                rows.push(row);
            }
        }
        rows::insert(transaction, &self.table, &rows)?;
        Ok(())
    }

    /// The record of one removal, as the pipeline would write it.
    fn removal_line(
        &self,
        chain: &str,
        seq: i64,
        removal: &Removed,
        partition: Option<&str>,
        now: DateTime<Utc>,
    ) -> String {
        let text = |value: &str| serde_json::Value::from(value).to_string();
        let info = SecurityEvent::AuditRecordsRemoved.info();
        let last_hash = unseal(removal.last_line.as_bytes()).map_or("", |s| s.hash);
        let message = format!(
            "retention removed {} records of {}",
            removal.count, removal.instance
        );
        let partition =
            partition.map_or_else(String::new, |p| format!(",\"partition\":{}", text(p)));
        let id = uuid::Uuid::now_v7();
        let service = self
            .service
            .as_deref()
            .map_or_else(String::new, |name| format!("\"name\":{},", text(name)));
        format!(
            "{{\"schema\":1,\"id\":\"{id}\",\"seq\":{seq},\"timestamp\":\"{}\",\
             \"event\":{{\"name\":{},\"category\":{},\"outcome\":\"success\",\"severity\":\"info\"}},\
             \"message\":{},\
             \"fields\":{{\"instance\":{},\"retention\":{},\"count\":{},\"last_seq\":{},\"last_hash\":{}{partition}}},\
             \"service\":{{{service}\"instance\":{}}}}}",
            now.to_rfc3339_opts(SecondsFormat::Micros, true),
            text(info.name()),
            text(info.category().as_str()),
            text(&message),
            text(&removal.instance),
            text(&removal.class),
            removal.count,
            removal.last_seq,
            text(last_hash),
            text(chain),
        )
    }
}

/// Whether every row of `leaf`'s month is older than `days`.
fn expired(leaf: &Leaf, days: u32, now: DateTime<Utc>) -> bool {
    let Some(end) = partitions::first_day(partitions::next_month(leaf.month)) else {
        return false;
    };
    let end = end.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    end.is_some_and(|end| end + chrono::Duration::days(i64::from(days)) <= now)
}

/// The hash a chain ends with after the sealed `line` (the genesis when it is not one).
fn tip_of(line: &str) -> ChainHash {
    unseal(line.as_bytes())
        .and_then(|sealed| ChainHash::parse(sealed.hash))
        .unwrap_or(ChainHash::GENESIS)
}

/// A row of `instance, retention, count, seq, line`.
fn removed_of(row: &postgres::Row) -> Removed {
    Removed {
        instance: row.get(0),
        class: row.get(1),
        count: row.get(2),
        last_seq: row.get(3),
        last_line: row.get(4),
    }
}

/// The tips of this instance's chains, one per class, and its last `seq`.
pub(crate) fn chain_ends(
    client: &mut Client,
    table: &str,
    instance: &str,
    classes: &[Option<u32>],
) -> Result<(Option<u64>, BTreeMap<Option<u32>, ChainHash>), postgres::Error> {
    let last_seq: Option<i64> = client
        .query_one(
            &format!("SELECT max(seq) FROM {table} WHERE instance = $1"),
            &[&instance],
        )?
        .get(0);
    let mut tips = BTreeMap::new();
    for &days in classes {
        let tip = client
            .query_opt(
                &format!(
                    "SELECT line FROM {table} WHERE instance = $1 AND retention = $2 \
                     ORDER BY seq DESC LIMIT 1"
                ),
                &[&instance, &class_value(days)],
            )?
            .map_or(ChainHash::GENESIS, |row| tip_of(row.get(0)));
        tips.insert(days, tip);
    }
    Ok((last_seq.map(|seq| seq.max(0) as u64), tips))
}
