//! The table's partitions: one per month of `timestamp`, each divided by retention class (the
//! days a row is kept, or `''` for rows no rule names), so that retention drops whole
//! partitions instead of deleting rows.
//!
//! ```text
//! security_events                      partitioned by range of timestamp
//! ├── security_events_202612           December 2026, partitioned by list of retention
//! │   ├── security_events_202612_90    rows kept 90 days
//! │   ├── security_events_202612_730   rows kept two years
//! │   └── security_events_202612_d     any other class, and ''
//! └── security_events_default          rows of a month without a partition (a clock far off)
//! ```
//!
//! Months are created ahead of time (the current one and three more) by every writing instance,
//! under a lock; rows that land in the top default partition are moved into their month when it
//! is created.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use postgres::GenericClient;

/// Months created ahead of the current one.
pub const MONTHS_AHEAD: u32 = 3;

/// A month, as `(year, month)`.
pub type Month = (i32, u32);

/// The month of `at`.
pub fn month_of(at: DateTime<Utc>) -> Month {
    (at.year(), at.month())
}

/// The month after `month`.
pub fn next_month((year, month): Month) -> Month {
    if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    }
}

/// The first instant of `month`, as SQL text (`'2026-12-01 00:00:00+00'`).
fn start_text((year, month): Month) -> String {
    format!("{year:04}-{month:02}-01 00:00:00+00")
}

/// The first day of `month`.
pub fn first_day((year, month): Month) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, 1)
}

/// The partition of `month`.
pub fn month_table(table: &str, (year, month): Month) -> String {
    format!("{table}_{year:04}{month:02}")
}

/// The `retention` value of rows kept `days` days; `''` for rows no rule names.
pub fn class_value(days: Option<u32>) -> String {
    days.map_or_else(String::new, |days| days.to_string())
}

/// One partition holding rows: a month's class, or a month's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// Its name.
    pub name: String,
    /// Its month.
    pub month: Month,
    /// The days its rows are kept; `None` for the month's default partition.
    pub days: Option<u32>,
}

/// Creates `month`'s partitions (its default and one per class in `classes`) if missing, first
/// moving rows of that month out of the top default partition (a partition cannot be added
/// while the default holds rows of its range). Run under [`lock`].
pub fn create_month(
    client: &mut impl GenericClient,
    table: &str,
    month: Month,
    classes: &[u32],
) -> Result<(), postgres::Error> {
    let name = month_table(table, month);
    let exists: bool = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])?
        .get(0);
    if !exists {
        let (from, to) = (start_text(month), start_text(next_month(month)));
        let stray = format!("timestamp >= '{from}' AND timestamp < '{to}'");
        client.batch_execute(&format!(
            "CREATE TEMP TABLE moving ON COMMIT DROP AS SELECT * FROM {table}_default WHERE {stray};
             DELETE FROM {table}_default WHERE {stray};
             CREATE TABLE {name} PARTITION OF {table}
                 FOR VALUES FROM ('{from}') TO ('{to}') PARTITION BY LIST (retention);
             CREATE TABLE {name}_d PARTITION OF {name} DEFAULT;
             INSERT INTO {table} SELECT * FROM moving;
             DROP TABLE moving;"
        ))?;
    }
    for days in classes {
        let leaf = format!("{name}_{days}");
        let exists: bool = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&leaf])?
            .get(0);
        if exists {
            continue;
        }
        // A class's partition cannot be added while the month's default holds rows of it
        // (written by an instance with other rules): those stay there, deleted row by row.
        let class = class_value(Some(*days));
        let held: bool = client
            .query_one(
                &format!("SELECT EXISTS (SELECT 1 FROM {name}_d WHERE retention = $1)"),
                &[&class],
            )?
            .get(0);
        if !held {
            client.batch_execute(&format!(
                "CREATE TABLE {leaf} PARTITION OF {name} FOR VALUES IN ('{class}')"
            ))?;
        }
    }
    Ok(())
}

/// Takes the table's partition lock until the end of the transaction: instances creating or
/// dropping partitions at once do it one after the other.
pub fn lock(client: &mut impl GenericClient, table: &str) -> Result<(), postgres::Error> {
    client.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1))",
        &[&format!("{table}/partitions")],
    )?;
    Ok(())
}

/// Creates the partitions of the months from `now`'s to [`MONTHS_AHEAD`] later, with a
/// partition for each of `classes`.
pub fn ensure_ahead(
    client: &mut postgres::Client,
    table: &str,
    classes: &[u32],
    now: DateTime<Utc>,
) -> Result<(), postgres::Error> {
    let mut transaction = client.transaction()?;
    lock(&mut transaction, table)?;
    let mut month = month_of(now);
    for _ in 0..=MONTHS_AHEAD {
        create_month(&mut transaction, table, month, classes)?;
        month = next_month(month);
    }
    transaction.commit()
}

/// The partitions that hold rows, oldest month first.
pub fn leaves(client: &mut impl GenericClient, table: &str) -> Result<Vec<Leaf>, postgres::Error> {
    let rows = client.query(
        "SELECT leaf.relname::text FROM pg_inherits top
         JOIN pg_inherits sub ON sub.inhparent = top.inhrelid
         JOIN pg_class leaf ON leaf.oid = sub.inhrelid
         WHERE top.inhparent = to_regclass($1)",
        &[&table],
    )?;
    let mut leaves: Vec<Leaf> = rows
        .iter()
        .filter_map(|row| parse_leaf(table, &row.get::<_, String>(0)))
        .collect();
    leaves.sort_by_key(|leaf| (leaf.month, leaf.days));
    Ok(leaves)
}

/// `table_YYYYMM_days` or `table_YYYYMM_d`, read back.
fn parse_leaf(table: &str, name: &str) -> Option<Leaf> {
    let rest = name.strip_prefix(table)?.strip_prefix('_')?;
    let (month, class) = rest.split_once('_')?;
    if month.len() != 6 || !month.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let month = (month[..4].parse().ok()?, month[4..].parse().ok()?);
    let days = match class {
        "d" => None,
        days => Some(days.parse().ok()?),
    };
    Some(Leaf {
        name: name.to_owned(),
        month,
        days,
    })
}

/// The months' partitions (which hold the leaves), to drop once empty of leaves.
pub fn empty_months(
    client: &mut impl GenericClient,
    table: &str,
) -> Result<Vec<String>, postgres::Error> {
    Ok(client
        .query(
            "SELECT month.relname::text FROM pg_inherits top
             JOIN pg_class month ON month.oid = top.inhrelid
             WHERE top.inhparent = to_regclass($1) AND month.relkind = 'p'
               AND NOT EXISTS (SELECT 1 FROM pg_inherits sub WHERE sub.inhparent = month.oid)",
            &[&table],
        )?
        .iter()
        .map(|row| row.get(0))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_are_read_back_from_their_names() {
        let leaf = |name: &str| parse_leaf("security_events", name);
        assert_eq!(
            leaf("security_events_202612_90"),
            Some(Leaf {
                name: "security_events_202612_90".to_owned(),
                month: (2026, 12),
                days: Some(90),
            })
        );
        assert_eq!(leaf("security_events_202601_d").unwrap().days, None);
        assert_eq!(leaf("security_events_default"), None);
        assert_eq!(leaf("security_events_cursors"), None);
        assert_eq!(next_month((2026, 12)), (2027, 1));
        assert_eq!(month_table("t", (2027, 1)), "t_202701");
    }
}
