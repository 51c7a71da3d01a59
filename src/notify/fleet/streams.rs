//! Reading a fleet's rows in order: each instance's rows by `seq` from its cursor, merged by
//! time, only once they are settled.

use std::collections::{BTreeMap, HashMap, VecDeque};

use postgres::Client;

/// Rows read from one instance at a time.
const FETCH: i64 = 1000;

/// A `timestamptz` column as microseconds since 1970 (the driver is built without chrono).
pub(super) fn micros_of(column: &str) -> String {
    format!("(extract(epoch from {column}) * 1000000)::int8")
}

/// A bound number of microseconds since 1970 as a `timestamptz`.
pub(super) fn time_of(placeholder: &str) -> String {
    format!("(timestamptz 'epoch' + {placeholder}::int8 * interval '1 microsecond')")
}

/// One row, as the detections need it.
pub(super) struct FleetRow {
    pub(super) seq: i64,
    pub(super) at: i64,
    pub(super) id: String,
    pub(super) line: String,
}

/// Where an instance's rows were evaluated up to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Position {
    pub(super) seq: i64,
    pub(super) at: i64,
}

/// One instance's rows: read ahead into `buffer`, evaluated up to `evaluated`.
struct Stream {
    /// The last `seq` read from the table.
    read: i64,
    buffer: VecDeque<FleetRow>,
    /// Nothing more settled to read until the next round.
    dry: bool,
    evaluated: Option<Position>,
    /// Whether `evaluated` moved since the cursors were saved.
    moved: bool,
}

/// Every instance's stream.
pub(super) struct Streams {
    table: String,
    scope: String,
    streams: BTreeMap<String, Stream>,
    /// Where the previous evaluator stopped, per instance.
    saved: HashMap<String, Position>,
    /// New instances start at their rows of this time (microseconds).
    horizon: i64,
}

impl Streams {
    /// Streams starting `lookback` before where the previous evaluator stopped (now, when none
    /// did), so that the detections' memory is filled again.
    pub(super) fn resume(
        client: &mut Client,
        table: &str,
        scope: &str,
        now: i64,
        lookback: i64,
    ) -> Result<Streams, postgres::Error> {
        let saved: HashMap<String, Position> = client
            .query(
                &format!(
                    "SELECT instance, seq, {} FROM {table}_cursors WHERE scope = $1",
                    micros_of("at")
                ),
                &[&scope],
            )?
            .iter()
            .map(|row| {
                let position = Position {
                    seq: row.get(1),
                    at: row.get(2),
                };
                (row.get::<_, String>(0), position)
            })
            .collect();
        let resumed = saved.values().map(|p| p.at).max().unwrap_or(now);
        Ok(Streams {
            table: table.to_owned(),
            scope: scope.to_owned(),
            streams: BTreeMap::new(),
            saved,
            horizon: resumed.saturating_sub(lookback),
        })
    }

    /// Finds instances not yet read: each starts at its last row older than the horizon, or
    /// where the previous evaluator stopped if that is earlier.
    pub(super) fn discover(&mut self, client: &mut Client) -> Result<(), postgres::Error> {
        // A skip scan over the (instance, seq) index: one probe per instance, not a full scan.
        let instances = client.query(
            &format!(
                "WITH RECURSIVE i(instance) AS (
                    (SELECT instance FROM {t} ORDER BY instance LIMIT 1)
                    UNION ALL
                    SELECT (SELECT instance FROM {t} WHERE instance > i.instance
                            ORDER BY instance LIMIT 1)
                    FROM i WHERE i.instance IS NOT NULL)
                 SELECT instance FROM i WHERE instance IS NOT NULL",
                t = self.table
            ),
            &[],
        )?;
        for row in instances {
            let instance: String = row.get(0);
            if self.streams.contains_key(&instance) {
                continue;
            }
            let before_horizon: Option<i64> = client
                .query_opt(
                    &format!(
                        "SELECT seq FROM {} WHERE instance = $1 AND timestamp < {} \
                         ORDER BY seq DESC LIMIT 1",
                        self.table,
                        time_of("$2")
                    ),
                    &[&instance, &self.horizon],
                )?
                .map(|row| row.get(0));
            let start = before_horizon.unwrap_or(i64::MIN);
            let start = self
                .saved
                .get(&instance)
                .map_or(start, |saved| saved.seq.min(start));
            self.streams.insert(
                instance,
                Stream {
                    read: start,
                    buffer: VecDeque::new(),
                    dry: false,
                    evaluated: None,
                    moved: false,
                },
            );
        }
        Ok(())
    }

    /// A new round: every instance may have new rows.
    pub(super) fn wake(&mut self) {
        for stream in self.streams.values_mut() {
            stream.dry = false;
        }
    }

    /// The next row in time of all instances' settled rows (older than `settled`), reading
    /// ahead as needed; `None` when no instance has one.
    pub(super) fn next(
        &mut self,
        client: &mut Client,
        settled: i64,
    ) -> Result<Option<(String, FleetRow)>, postgres::Error> {
        for (instance, stream) in &mut self.streams {
            if stream.buffer.is_empty() && !stream.dry {
                fill(client, &self.table, instance, stream, settled)?;
            }
        }
        let earliest = self
            .streams
            .iter()
            .filter_map(|(instance, stream)| {
                let head = stream.buffer.front()?;
                Some(((head.at, head.id.clone()), instance.clone()))
            })
            .min();
        let Some((_, instance)) = earliest else {
            return Ok(None);
        };
        let stream = self
            .streams
            .get_mut(&instance)
            .expect("the instance just found");
        let row = stream.buffer.pop_front().expect("a head just seen");
        stream.evaluated = Some(Position {
            seq: row.seq,
            at: row.at,
        });
        stream.moved = true;
        Ok(Some((instance, row)))
    }

    /// Saves where each instance was evaluated up to, for the next evaluator.
    pub(super) fn save(&mut self, client: &mut Client) -> Result<(), postgres::Error> {
        let mut transaction = client.transaction()?;
        let statement = format!(
            "INSERT INTO {}_cursors (scope, instance, seq, at) VALUES ($1, $2, $3, {}) \
             ON CONFLICT (scope, instance) DO UPDATE SET seq = excluded.seq, at = excluded.at",
            self.table,
            time_of("$4")
        );
        for (instance, stream) in &mut self.streams {
            let Some(position) = stream.evaluated.filter(|_| stream.moved) else {
                continue;
            };
            transaction.execute(
                &statement,
                &[&self.scope, instance, &position.seq, &position.at],
            )?;
            stream.moved = false;
        }
        transaction.commit()
    }
}

/// Reads `instance`'s next settled rows into its buffer.
fn fill(
    client: &mut Client,
    table: &str,
    instance: &str,
    stream: &mut Stream,
    settled: i64,
) -> Result<(), postgres::Error> {
    let rows = client.query(
        &format!(
            "SELECT seq, {}, id::text, line FROM {table} \
             WHERE instance = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            micros_of("timestamp")
        ),
        &[&instance, &stream.read, &FETCH],
    )?;
    let complete = rows.len() as i64 == FETCH;
    for row in rows {
        let at: i64 = row.get(1);
        // An instance's rows come in `seq` order: the first one not settled ends the read.
        if at > settled {
            stream.dry = true;
            return Ok(());
        }
        stream.read = row.get(0);
        stream.buffer.push_back(FleetRow {
            seq: stream.read,
            at,
            id: row.get(2),
            line: row.get(3),
        });
    }
    stream.dry = !complete;
    Ok(())
}
