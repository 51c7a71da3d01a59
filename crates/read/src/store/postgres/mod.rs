//! [`PostgresStore`]: the reading side over the PostgreSQL sink's table.

mod sql;

use std::fmt;
use std::io;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::Client;
use postgres_native_tls::MakeTlsConnector;
use r2d2_postgres::PostgresConnectionManager;

use self::sql::Compiler;
use super::aggregate::{sort_buckets, Aggregate, Aggregation, Bucket, Tally};
use super::cursor::{Cursor, Position};
use super::deadline::Deadline;
use super::request::{Count, ExportSummary, Order, Page, Scope, Search, StoredRecord};
use super::{LogStore, StoreError};
use crate::json_view::Json;
use crate::postgres_table::{
    check_table_name, describe, redacted_url, schema, PostgresError, DEFAULT_TABLE,
};
use crate::query::{Field, Query};

/// Rows read at a time when the database's condition is not the whole answer and rows are
/// checked again.
const SCAN_CHUNK: i64 = 1000;
/// Rows read between two looks at the deadline.
const ROWS_PER_CHECK: u32 = 256;

/// The records of a PostgreSQL table written by the [PostgreSQL sink](https://docs.rs/tracing-security-events/latest/tracing_security_events/sink/postgres/):
/// the same [`LogStore`] as the files, so the read API, the console and `security-log query
/// postgres://...` work on it unchanged.
///
/// The query language is compiled to SQL with every value a bind parameter; pages are keyset
/// paginated on `(timestamp, id)`; a reader's tenant scope is a condition of every statement;
/// counts grouped by columns are `GROUP BY`s with time buckets. Conditions SQL cannot express
/// exactly (paths under `fields` and `changes`) select a superset of rows that is checked again
/// with the file store's matcher, so both stores answer alike.
///
/// Readers never flood the service's own database: the store holds a bounded pool of
/// connections ([`with_pool_size`](PostgresStore::with_pool_size), 4 by default; a read waits
/// for a free one within its deadline), and every statement runs under a `statement_timeout`
/// (the read's deadline, at most [`with_statement_timeout`](PostgresStore::with_statement_timeout),
/// 30 s by default). A read whose reader goes away is cancelled on the server.
///
/// ```no_run
/// use std::time::Duration;
/// use tracing_security_events::query::Query;
/// use tracing_security_events::store::{LogStore, PostgresStore, Search};
///
/// let store = PostgresStore::connect("postgres://reader@db/app?sslmode=require")?
///     .with_pool_size(2)
///     .with_statement_timeout(Duration::from_secs(10));
/// let page = store.search(&Search::new(Query::parse("event like \"authentication.*\" and time > -24h")?))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PostgresStore {
    url: String,
    table: String,
    config: postgres::Config,
    pool: r2d2::Pool<PostgresConnectionManager<MakeTlsConnector>>,
    tls: MakeTlsConnector,
    statement_timeout: Duration,
    /// Whether the rows have a retention class (a table of version 4 or later).
    classes: bool,
}

/// Connections a store holds at most, unless told otherwise.
pub(crate) const DEFAULT_POOL_SIZE: u32 = 4;
/// The longest a statement of a store may run, unless told otherwise.
pub(crate) const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &redacted_url(&self.url))
            .field("table", &self.table)
            .field("pool_size", &self.pool.max_size())
            .field("statement_timeout", &self.statement_timeout)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// The store over the default table (`security_events`) of the database at `url`.
    pub fn connect(url: &str) -> Result<Self, PostgresError> {
        Self::connect_to_table(url, DEFAULT_TABLE)
    }

    /// The store over `table`. Connects once to check that the table is there and not newer
    /// than this crate knows.
    pub fn connect_to_table(url: &str, table: &str) -> Result<Self, PostgresError> {
        check_table_name(table)?;
        let mut client = schema::connect(url)?;
        let version = schema::check_version(&mut client, table)?;
        schema::check_encoding(&mut client)?;
        let (config, tls) = schema::config(url)?;
        Ok(PostgresStore {
            url: url.to_owned(),
            table: table.to_owned(),
            pool: pool(&config, &tls, DEFAULT_POOL_SIZE),
            config,
            tls,
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
            classes: version >= schema::CLASSES_VERSION,
        })
    }

    /// Holds at most `connections` connections (at least one): reads beyond them wait for one
    /// to be free, within their deadline.
    #[must_use]
    pub fn with_pool_size(mut self, connections: u32) -> Self {
        self.pool = pool(&self.config, &self.tls, connections.max(1));
        self
    }

    /// Runs every statement for at most `timeout` (less when the read's deadline is nearer).
    #[must_use]
    pub fn with_statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Runs `work` with a connection from the pool, under a statement timeout that ends with
    /// the deadline, cancelled on the server if the read is.
    fn with_client<T>(
        &self,
        deadline: &Deadline,
        work: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        deadline.check()?;
        let wait = deadline
            .remaining()
            .unwrap_or(self.statement_timeout)
            .max(Duration::from_millis(1));
        let mut client = self.pool.get_timeout(wait).map_err(|error| {
            deadline
                .check()
                .err()
                .unwrap_or_else(|| StoreError::Database {
                    message: format!(
                        "no free connection within {wait:?} ({} in the pool)",
                        self.pool.max_size()
                    ),
                    source: Box::new(error),
                })
        })?;
        let timeout = deadline
            .remaining()
            .map_or(self.statement_timeout, |left| {
                left.min(self.statement_timeout)
            })
            .as_millis()
            .max(1);
        client
            .batch_execute(&format!("SET statement_timeout = {timeout}"))
            .map_err(|e| self.error(e, deadline))?;
        let (token, tls) = (client.cancel_token(), self.tls.clone());
        let cancel = move || {
            // Off the caller's thread: the cancel request is a connection of its own.
            std::thread::spawn(move || {
                let _ = token.cancel_query(tls);
            });
        };
        deadline
            .while_cancellable(cancel, || work(&mut client))
            .map_err(|e| self.error(e, deadline))
    }

    /// The error of a statement: the deadline's or the cancellation's when the server stopped
    /// it for them, otherwise the server's own message.
    fn error(&self, error: postgres::Error, deadline: &Deadline) -> StoreError {
        if error.code() == Some(&postgres::error::SqlState::QUERY_CANCELED) {
            if let Err(stopped) = deadline.check() {
                return stopped;
            }
            return StoreError::DeadlineExceeded(
                deadline.limit().unwrap_or(self.statement_timeout),
            );
        }
        database_error(error)
    }

    /// The condition of a query within a scope, its parameters, and whether it is exact.
    fn condition(
        &self,
        query: &Query,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> (Compiler, String, bool) {
        let (compiler, alternatives, exact) = self.alternatives(query, scope, now);
        let sql = alternatives
            .iter()
            .map(|a| format!("({a})"))
            .collect::<Vec<_>>()
            .join(" OR ");
        (compiler, sql, exact)
    }

    /// The condition as alternatives, each within the scope (see `Compiler::alternatives`).
    fn alternatives(
        &self,
        query: &Query,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> (Compiler, Vec<String>, bool) {
        let mut compiler = Compiler::new(now);
        let (mut alternatives, exact) = compiler.alternatives(query);
        // A row past its class's age is in no answer, as the file store answers: retention
        // drops its partition whole, up to a month later.
        if self.classes {
            let at = compiler.bind(now.to_rfc3339());
            for alternative in &mut alternatives {
                *alternative = format!(
                    "({alternative}) AND NOT (retention ~ '^[0-9]{{1,6}}$' \
                     AND timestamp < {at}::text::timestamptz - retention::int4 * interval '1 day')"
                );
            }
        }
        if let Scope::Tenant(tenant) = scope {
            let tenant = compiler.bind(tenant.clone());
            for alternative in &mut alternatives {
                *alternative = format!("({alternative}) AND tenant_id = {tenant}");
            }
        }
        (compiler, alternatives, exact)
    }

    /// Streams the rows of `condition` in `order` after `after`, up to `limit`, to `each`
    /// (which may stop the stream by returning `false`).
    fn scan(
        &self,
        compiler: &Compiler,
        alternatives: &[String],
        order: Order,
        (after, limit): (Option<(&str, &str)>, Option<i64>),
        deadline: &Deadline,
        each: &mut dyn FnMut(Row) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let mut params: Vec<&(dyn ToSql + Sync)> = compiler
            .params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let (direction, compare) = match order {
            Order::NewestFirst => ("DESC", "<"),
            Order::OldestFirst => ("ASC", ">"),
        };
        let (time, id);
        let mut keyset = String::new();
        if let Some((at, last)) = after {
            (time, id) = (at.to_owned(), last.to_owned());
            params.push(&time);
            params.push(&id);
            keyset = format!(
                " AND (timestamp, id) {compare} (${}::text::timestamptz, ${}::text::uuid)",
                params.len() - 1,
                params.len()
            );
        }
        let limit_value;
        let mut limit_sql = String::new();
        if let Some(limit) = limit {
            limit_value = limit;
            params.push(&limit_value);
            limit_sql = format!(" LIMIT ${}", params.len());
        }
        let columns = "line, id::text, record->>'timestamp', \
             (extract(epoch from timestamp) * 1000000)::int8";
        let order_by = format!(" ORDER BY timestamp {direction}, id {direction}");
        let sql = if alternatives.len() > 1 && limit.is_some() {
            // A page of an `or`: the first rows of each alternative, each scan on its own
            // index, merged (a row several alternatives select is one row).
            let scans: Vec<String> = alternatives
                .iter()
                .map(|a| {
                    format!(
                        "(SELECT {columns}, timestamp AS t, id AS i FROM {} WHERE ({a}){keyset} \
                         {order_by}{limit_sql})",
                        self.table
                    )
                })
                .collect();
            format!(
                "SELECT line, id, timestamp_text, micros FROM ({}) AS u(line, id, \
                 timestamp_text, micros, timestamp, i) \
                 ORDER BY timestamp {direction}, i {direction}{limit_sql}",
                scans.join(" UNION ")
            )
        } else {
            let condition = alternatives
                .iter()
                .map(|a| format!("({a})"))
                .collect::<Vec<_>>()
                .join(" OR ");
            format!(
                "SELECT {columns} FROM {} WHERE ({condition}){keyset}{order_by}{limit_sql}",
                self.table
            )
        };
        let mut failure = None;
        let mut ticker = deadline.every(ROWS_PER_CHECK);
        self.with_client(deadline, |client| {
            let mut rows = client.query_raw(&sql, params.iter().copied())?;
            while let Some(row) = rows.next()? {
                if let Err(error) = ticker.tick() {
                    failure = Some(error);
                    break;
                }
                let row = Row {
                    line: row.get(0),
                    id: row.get(1),
                    timestamp: row.get::<_, Option<String>>(2).unwrap_or_default(),
                    micros: row.get(3),
                };
                match each(row) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(error) => {
                        failure = Some(error);
                        break;
                    }
                }
            }
            Ok(())
        })?;
        failure.map_or(Ok(()), Err)
    }

    /// Every row of the query in `order`, checked again when the condition is not exact.
    fn each_match(
        &self,
        query: &Query,
        scope: &Scope,
        (now, deadline): (DateTime<Utc>, &Deadline),
        order: Order,
        each: &mut dyn FnMut(Row) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let (compiler, alternatives, exact) = self.alternatives(query, scope, now);
        let matcher = (!exact).then(|| query.matcher(now));
        self.scan(
            &compiler,
            &alternatives,
            order,
            (None, None),
            deadline,
            &mut |row| {
                if matcher
                    .as_ref()
                    .is_some_and(|m| !m.matches_line(&row.line).unwrap_or(false))
                {
                    return Ok(true);
                }
                each(row)
            },
        )
    }
}

/// A row as read.
struct Row {
    line: String,
    id: String,
    timestamp: String,
    micros: i64,
}

impl Row {
    fn record(self) -> StoredRecord {
        StoredRecord {
            line: self.line,
            id: self.id,
            timestamp: self.timestamp,
        }
    }
}

/// A keyset position as the SQL compares it.
fn keyset_text(micros: i64) -> String {
    DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl LogStore for PostgresStore {
    fn search(&self, search: &Search) -> Result<Page, StoreError> {
        let (compiler, alternatives, exact) =
            self.alternatives(&search.query, &search.scope, search.now);
        let matcher = (!exact).then(|| search.query.matcher(search.now));
        let mut after = match &search.cursor {
            Some(Cursor {
                at: Position::Keyset { micros },
                id,
            }) => Some((keyset_text(*micros), id.clone())),
            Some(_) => return Err(StoreError::BadCursor),
            None => None,
        };
        let mut page = Page::default();
        let mut last: Option<(i64, String)> = None;
        // Exact: one statement. Otherwise chunks, checked again, until the page is full.
        loop {
            let chunk = if exact {
                search.limit as i64
            } else {
                SCAN_CHUNK
            };
            let mut scanned = 0;
            let mut scanned_to = None;
            self.scan(
                &compiler,
                &alternatives,
                search.order,
                (
                    after.as_ref().map(|(t, id)| (t.as_str(), id.as_str())),
                    Some(chunk),
                ),
                &search.deadline,
                &mut |row| {
                    scanned += 1;
                    scanned_to = Some((row.micros, row.id.clone()));
                    if matcher
                        .as_ref()
                        .is_some_and(|m| !m.matches_line(&row.line).unwrap_or(false))
                    {
                        return Ok(true);
                    }
                    last = Some((row.micros, row.id.clone()));
                    page.records.push(row.record());
                    Ok(page.records.len() < search.limit)
                },
            )?;
            if exact || page.records.len() >= search.limit || scanned < chunk {
                break;
            }
            after = scanned_to.map(|(micros, id)| (keyset_text(micros), id));
        }
        if page.records.len() >= search.limit || search.order == Order::OldestFirst {
            page.next_cursor = last.map(|(micros, id)| Cursor {
                at: Position::Keyset { micros },
                id,
            });
        }
        Ok(page)
    }

    fn get(
        &self,
        id: &str,
        scope: &Scope,
        deadline: &Deadline,
    ) -> Result<Option<StoredRecord>, StoreError> {
        let query = Query::new().id(id);
        let mut found = None;
        self.each_match(
            &query,
            scope,
            (Utc::now(), deadline),
            Order::NewestFirst,
            &mut |row| {
                found = Some(row.record());
                Ok(false)
            },
        )?;
        Ok(found)
    }

    fn count(&self, search: &Search) -> Result<Count, StoreError> {
        let (query, scope, now, deadline) =
            (&search.query, &search.scope, search.now, &search.deadline);
        let (compiler, condition, exact) = self.condition(query, scope, now);
        if exact {
            let sql = format!("SELECT count(*) FROM {} WHERE {condition}", self.table);
            let params: Vec<&(dyn ToSql + Sync)> = compiler
                .params
                .iter()
                .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                .collect();
            let records: i64 = self.with_client(deadline, |client| {
                Ok(client.query_one(&sql, &params)?.get(0))
            })?;
            return Ok(Count {
                records: records.max(0) as u64,
                skipped_lines: 0,
            });
        }
        let mut records = 0;
        self.each_match(
            query,
            scope,
            (now, deadline),
            Order::NewestFirst,
            &mut |_| {
                records += 1;
                Ok(true)
            },
        )?;
        Ok(Count {
            records,
            skipped_lines: 0,
        })
    }

    fn aggregate(&self, aggregate: &Aggregate) -> Result<Aggregation, StoreError> {
        let (mut compiler, condition, exact) =
            self.condition(&aggregate.query, &aggregate.scope, aggregate.now);
        let columns: Option<Vec<String>> = aggregate.by.iter().map(group_column).collect();
        if let (true, Some(columns)) = (exact, columns) {
            let grouped = self.group_by(aggregate, &mut compiler, &condition, &columns)?;
            // A U+FFFD in a column may have been a NUL: such groups are counted on the rows.
            let replaced = grouped.buckets.iter().any(|bucket| {
                bucket
                    .key
                    .iter()
                    .any(|(_, value)| value.as_deref().is_some_and(|v| v.contains('\u{FFFD}')))
            });
            if !replaced {
                return Ok(grouped);
            }
        }
        // Grouped here, as the file store groups.
        let mut tally = Tally::default();
        self.each_match(
            &aggregate.query,
            &aggregate.scope,
            (aggregate.now, &aggregate.deadline),
            Order::OldestFirst,
            &mut |row| {
                if let Ok(record) = serde_json::from_str::<Json<'_>>(&row.line) {
                    tally.add(aggregate, &record);
                }
                Ok(true)
            },
        )?;
        Ok(Aggregation {
            buckets: tally.into_buckets(aggregate),
            skipped_lines: 0,
        })
    }

    fn export(
        &self,
        search: &Search,
        each: &mut dyn FnMut(&StoredRecord) -> io::Result<()>,
    ) -> Result<ExportSummary, StoreError> {
        self.each_match(
            &search.query,
            &search.scope,
            (search.now, &search.deadline),
            search.order,
            &mut |row| {
                each(&row.record()).map_err(|e| StoreError::Io {
                    path: "export".to_owned(),
                    source: e,
                })?;
                Ok(true)
            },
        )?;
        Ok(ExportSummary::default())
    }
}

impl PostgresStore {
    /// The instances that wrote records (`service.instance`), each with its own `seq` and chain.
    pub fn instances(&self) -> Result<Vec<String>, StoreError> {
        let sql = format!(
            "SELECT DISTINCT instance FROM {} ORDER BY instance",
            self.table
        );
        self.with_client(&Deadline::none(), |client| {
            Ok(client
                .query(&sql, &[])?
                .iter()
                .map(|row| row.get(0))
                .collect())
        })
    }

    /// Verifies the hash chains of `instance`'s rows, one per retention class (see
    /// [`verify_records_after_removals`](crate::integrity::verify_records_after_removals)),
    /// each in `seq` order: a row changed, removed, added or renumbered is found as in a file,
    /// and a chain whose beginning is gone must continue from what an `audit.records_removed`
    /// record says retention removed. The report adds up the chains'; the first problem found
    /// is the report's.
    pub fn verify_instance(
        &self,
        instance: &str,
        options: &crate::integrity::VerifyOptions,
    ) -> Result<crate::integrity::VerifyReport, StoreError> {
        let table = &self.table;
        let classes: Vec<String> = self.with_client(&Deadline::none(), |client| {
            Ok(client
                .query(
                    &format!(
                        "SELECT DISTINCT retention FROM {table} WHERE instance = $1 \
                         ORDER BY retention"
                    ),
                    &[&instance],
                )?
                .iter()
                .map(|row| row.get(0))
                .collect())
        })?;
        let mut total: Option<crate::integrity::VerifyReport> = None;
        for class in classes {
            let (lines, removals) = self.with_client(&Deadline::none(), |client| {
                let lines: Vec<String> = client
                    .query(
                        &format!(
                            "SELECT line FROM {table} WHERE instance = $1 AND retention = $2 \
                             ORDER BY seq"
                        ),
                        &[&instance, &class],
                    )?
                    .iter()
                    .map(|row| row.get(0))
                    .collect();
                let removals = client
                    .query(
                        &format!(
                            "SELECT record #>> '{{fields}}' FROM {table} WHERE event_name = $1 \
                             AND record #>> '{{fields,instance}}' = $2 \
                             AND record #>> '{{fields,retention}}' = $3"
                        ),
                        &[
                            &crate::event::SecurityEvent::AuditRecordsRemoved.as_str(),
                            &instance,
                            &class,
                        ],
                    )?
                    .iter()
                    .filter_map(|row| removal_of(&row.get::<_, String>(0)))
                    .collect::<Vec<_>>();
                Ok((lines, removals))
            })?;
            let source = match class.as_str() {
                "" => format!("postgres:{table}/{instance}"),
                days => format!("postgres:{table}/{instance}/kept {days} days"),
            };
            let report = crate::integrity::verify_records_after_removals(
                &source, &lines, options, &removals,
            );
            total = Some(match total {
                None => report,
                Some(mut sum) => {
                    sum.records += report.records;
                    sum.files.extend(report.files);
                    sum.removed_by_retention.extend(report.removed_by_retention);
                    sum.torn_lines.extend(report.torn_lines);
                    sum.starts_at_genesis &= report.starts_at_genesis;
                    if sum.problem.is_none() {
                        sum.problem = report.problem;
                    }
                    sum
                }
            });
        }
        Ok(total.unwrap_or_else(|| {
            crate::integrity::verify_records(
                &format!("postgres:{table}/{instance}"),
                &[] as &[&str],
                options,
            )
        }))
    }

    /// Counts grouped by columns, in SQL.
    fn group_by(
        &self,
        aggregate: &Aggregate,
        compiler: &mut Compiler,
        condition: &str,
        columns: &[String],
    ) -> Result<Aggregation, StoreError> {
        let mut select: Vec<String> = Vec::new();
        if let Some(every) = aggregate.every {
            let seconds = compiler.bind(i64::try_from(every.as_secs()).unwrap_or(i64::MAX));
            let origin = compiler.bind(super::aggregate::BUCKET_ORIGIN);
            select.push(format!(
                "(floor((extract(epoch from timestamp) - {origin}::int8) / {seconds}::int8) \
                 * {seconds}::int8 + {origin}::int8)::int8"
            ));
        } else {
            select.push("NULL::int8".to_owned());
        }
        select.extend(columns.iter().cloned());
        let groups: Vec<String> = (1..=select.len()).map(|n| n.to_string()).collect();
        let sql = format!(
            "SELECT {}, count(*) FROM {} WHERE {condition} GROUP BY {}",
            select.join(", "),
            self.table,
            groups.join(", ")
        );
        let params: Vec<&(dyn ToSql + Sync)> = compiler
            .params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let names: Vec<String> = aggregate.by.iter().map(ToString::to_string).collect();
        let rows = self.with_client(&aggregate.deadline, |client| client.query(&sql, &params))?;
        let mut buckets: Vec<Bucket> = rows
            .iter()
            .map(|row| Bucket {
                start: row
                    .get::<_, Option<i64>>(0)
                    .and_then(|s| DateTime::from_timestamp(s, 0)),
                key: names
                    .iter()
                    .enumerate()
                    .map(|(n, name)| (name.clone(), row.get::<_, Option<String>>(n + 1)))
                    .collect(),
                count: row.get::<_, i64>(columns.len() + 1).max(0) as u64,
            })
            .collect();
        sort_buckets(&mut buckets);
        Ok(Aggregation {
            buckets,
            skipped_lines: 0,
        })
    }
}

/// The SQL of a grouping field, when it is a column or a scalar text path.
fn group_column(field: &Field) -> Option<String> {
    let column = |path: &str| -> Option<String> {
        Some(match path {
            "event.name" => "event_name".to_owned(),
            "event.category" => "category".to_owned(),
            "event.outcome" => "outcome".to_owned(),
            "tenant.id" => "tenant_id".to_owned(),
            "actor.id" => "actor_id".to_owned(),
            "service.instance" => "instance".to_owned(),
            "client.geo.country" => "(record #>> '{client,geo,country}')".to_owned(),
            "actor.name" => "(record #>> '{actor,name}')".to_owned(),
            "actor.email" => "(record #>> '{actor,email}')".to_owned(),
            _ => return None,
        })
    };
    let columns: Option<Vec<String>> = field
        .paths()
        .iter()
        .map(|p| column(&p.segments().join(".")))
        .collect();
    let columns = columns?;
    Some(if columns.len() == 1 {
        columns[0].clone()
    } else {
        format!("coalesce({})", columns.join(", "))
    })
}

/// The `fields` of an `audit.records_removed` record, as verification reads them.
fn removal_of(fields: &str) -> Option<crate::integrity::RemovedRows> {
    let fields: serde_json::Value = serde_json::from_str(fields).ok()?;
    Some(crate::integrity::RemovedRows {
        last_seq: fields.get("last_seq")?.as_u64()?,
        last_hash: fields.get("last_hash")?.as_str()?.to_owned(),
        count: fields
            .get("count")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0),
    })
}

/// A pool of at most `size` connections, opened as reads need them.
fn pool(
    config: &postgres::Config,
    tls: &MakeTlsConnector,
    size: u32,
) -> r2d2::Pool<PostgresConnectionManager<MakeTlsConnector>> {
    let manager = PostgresConnectionManager::new(config.clone(), tls.clone());
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        // The pool's own errors go to the store's error, not to a log of the pool's.
        .error_handler(Box::new(r2d2::NopErrorHandler))
        .build_unchecked(manager)
}

/// A database error, with the server's own message when it sent one.
pub(crate) fn database_error(error: postgres::Error) -> StoreError {
    StoreError::Database {
        message: describe(&error),
        source: Box::new(error),
    }
}
