//! [`PostgresStore`]: the reading side over the PostgreSQL sink's table.

mod sql;

use std::fmt;
use std::io;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, SecondsFormat, Utc};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::Client;

use self::sql::Compiler;
use super::aggregate::{sort_buckets, Aggregate, Aggregation, Bucket, Tally};
use super::cursor::{Cursor, Position};
use super::request::{Count, ExportSummary, Order, Page, Scope, Search, StoredRecord};
use super::{LogStore, StoreError};
use crate::json_view::Json;
use crate::query::{Field, Query};
use crate::sink::postgres::{
    check_table_name, redacted_url, schema, PostgresConfig, PostgresError,
};

/// Rows read at a time when the database's condition is not the whole answer and rows are
/// checked again.
const SCAN_CHUNK: i64 = 1000;
/// Connections kept for reuse.
const POOL: usize = 8;

/// The records of a PostgreSQL table written by the [PostgreSQL sink](crate::sink::postgres):
/// the same [`LogStore`] as the files, so the read API, the console and `security-log query
/// postgres://...` work on it unchanged.
///
/// The query language is compiled to SQL with every value a bind parameter; pages are keyset
/// paginated on `(timestamp, id)`; a reader's tenant scope is a condition of every statement;
/// counts grouped by columns are `GROUP BY`s with time buckets. Conditions SQL cannot express
/// exactly (paths under `fields` and `changes`) select a superset of rows that is checked again
/// with the file store's matcher, so both stores answer alike.
///
/// ```no_run
/// use tracing_security_events::query::Query;
/// use tracing_security_events::store::{LogStore, PostgresStore, Search};
///
/// let store = PostgresStore::connect("postgres://reader@db/app?sslmode=require")?;
/// let page = store.search(&Search::new(Query::parse("event like \"authentication.*\" and time > -24h")?))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PostgresStore {
    url: String,
    table: String,
    idle: Mutex<Vec<Client>>,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &redacted_url(&self.url))
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// The store over the default table (`security_events`) of the database at `url`.
    pub fn connect(url: &str) -> Result<Self, PostgresError> {
        Self::connect_to_table(url, PostgresConfig::DEFAULT_TABLE)
    }

    /// The store over `table`. Connects once to check that the table is there and not newer
    /// than this crate knows.
    pub fn connect_to_table(url: &str, table: &str) -> Result<Self, PostgresError> {
        check_table_name(table)?;
        let mut client = schema::connect(url)?;
        schema::check_version(&mut client, table)?;
        Ok(PostgresStore {
            url: url.to_owned(),
            table: table.to_owned(),
            idle: Mutex::new(vec![client]),
        })
    }

    /// Runs `work` with a connection from the pool (a new one when none is idle).
    fn with_client<T>(
        &self,
        work: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut client = match idle.filter(|c| !c.is_closed()) {
            Some(client) => client,
            None => schema::connect(&self.url).map_err(|e| StoreError::Database(e.to_string()))?,
        };
        let result = work(&mut client).map_err(|e| {
            StoreError::Database(match e.as_db_error() {
                Some(db) => db.message().to_owned(),
                None => e.to_string(),
            })
        });
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if !client.is_closed() && idle.len() < POOL {
            idle.push(client);
        }
        result
    }

    /// The condition of a query within a scope, its parameters, and whether it is exact.
    fn condition(query: &Query, scope: &Scope, now: DateTime<Utc>) -> (Compiler, String, bool) {
        let (compiler, alternatives, exact) = Self::alternatives(query, scope, now);
        let sql = alternatives
            .iter()
            .map(|a| format!("({a})"))
            .collect::<Vec<_>>()
            .join(" OR ");
        (compiler, sql, exact)
    }

    /// The condition as alternatives, each within the scope (see `Compiler::alternatives`).
    fn alternatives(
        query: &Query,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> (Compiler, Vec<String>, bool) {
        let mut compiler = Compiler::new(now);
        let (mut alternatives, exact) = compiler.alternatives(query);
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
        after: Option<(&str, &str)>,
        limit: Option<i64>,
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
        self.with_client(|client| {
            let mut rows = client.query_raw(&sql, params.iter().copied())?;
            while let Some(row) = rows.next()? {
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
        now: DateTime<Utc>,
        order: Order,
        each: &mut dyn FnMut(Row) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let (compiler, alternatives, exact) = Self::alternatives(query, scope, now);
        let matcher = (!exact).then(|| query.matcher(now));
        self.scan(&compiler, &alternatives, order, None, None, &mut |row| {
            if matcher
                .as_ref()
                .is_some_and(|m| !m.matches_line(&row.line).unwrap_or(false))
            {
                return Ok(true);
            }
            each(row)
        })
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
            Self::alternatives(&search.query, &search.scope, search.now);
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
                after.as_ref().map(|(t, id)| (t.as_str(), id.as_str())),
                Some(chunk),
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

    fn get(&self, id: &str, scope: &Scope) -> Result<Option<StoredRecord>, StoreError> {
        let query = Query::new().id(id);
        let mut found = None;
        self.each_match(&query, scope, Utc::now(), Order::NewestFirst, &mut |row| {
            found = Some(row.record());
            Ok(false)
        })?;
        Ok(found)
    }

    fn count(&self, query: &Query, scope: &Scope) -> Result<Count, StoreError> {
        let now = Utc::now();
        let (compiler, condition, exact) = Self::condition(query, scope, now);
        if exact {
            let sql = format!("SELECT count(*) FROM {} WHERE {condition}", self.table);
            let params: Vec<&(dyn ToSql + Sync)> = compiler
                .params
                .iter()
                .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                .collect();
            let records: i64 =
                self.with_client(|client| Ok(client.query_one(&sql, &params)?.get(0)))?;
            return Ok(Count {
                records: records.max(0) as u64,
                skipped_lines: 0,
            });
        }
        let mut records = 0;
        self.each_match(query, scope, now, Order::NewestFirst, &mut |_| {
            records += 1;
            Ok(true)
        })?;
        Ok(Count {
            records,
            skipped_lines: 0,
        })
    }

    fn aggregate(&self, aggregate: &Aggregate) -> Result<Aggregation, StoreError> {
        let (mut compiler, condition, exact) =
            Self::condition(&aggregate.query, &aggregate.scope, aggregate.now);
        let columns: Option<Vec<String>> = aggregate.by.iter().map(group_column).collect();
        if let (true, Some(columns)) = (exact, columns) {
            return self.group_by(aggregate, &mut compiler, &condition, &columns);
        }
        // Grouped here, as the file store groups.
        let mut tally = Tally::default();
        self.each_match(
            &aggregate.query,
            &aggregate.scope,
            aggregate.now,
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
            search.now,
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
        self.with_client(|client| {
            Ok(client
                .query(&sql, &[])?
                .iter()
                .map(|row| row.get(0))
                .collect())
        })
    }

    /// Verifies the hash chain of `instance`'s rows in `seq` order (see
    /// [`verify_records`](crate::integrity::verify_records)): a row changed, removed, added or
    /// renumbered is found as in a file.
    pub fn verify_instance(
        &self,
        instance: &str,
        options: &crate::integrity::VerifyOptions,
    ) -> Result<crate::integrity::VerifyReport, StoreError> {
        let sql = format!(
            "SELECT line FROM {} WHERE instance = $1 ORDER BY seq",
            self.table
        );
        let lines: Vec<String> = self.with_client(|client| {
            Ok(client
                .query(&sql, &[&instance])?
                .iter()
                .map(|row| row.get(0))
                .collect())
        })?;
        let source = format!("postgres:{}/{instance}", self.table);
        Ok(crate::integrity::verify_records(&source, &lines, options))
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
            select.push(format!(
                "(floor(extract(epoch from timestamp) / {seconds}::int8) * {seconds}::int8)::int8"
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
        let rows = self.with_client(|client| client.query(&sql, &params))?;
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
