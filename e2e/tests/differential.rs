//! Both stores give the same answer to every query: random queries over random hostile
//! records (NUL, escapes written as text, case pairs beyond ASCII, dotted keys, long paths),
//! answered by the file store and by the PostgreSQL store, in a database of the C locale and
//! in one of a UTF-8 locale. Counts, first pages both ways and exports must be identical.
#![cfg(feature = "postgres")]

mod pg;

use pg::Cluster;
use tracing_security_events::query::Query;
use tracing_security_events::sink::postgres::PostgresConfig;
use tracing_security_events::store::{FileStore, LogStore, Order, PostgresStore, Search};
use tracing_security_events::{security_event, SecurityEvent};
use tracing_subscriber::prelude::*;

/// Texts that stores have disagreed on, or could: NUL, a backslash written before `u0000`,
/// U+FFFD, letters whose case folds beyond ASCII, glob and LIKE characters, quotes.
const TEXTS: &[&str] = &[
    "",
    "plain",
    "a\0b",
    "\0",
    "\\u0000 literal",
    "\u{FFFD}",
    "a\u{FFFD}b",
    "İstanbul",
    "istanbul",
    "ISTANBUL",
    "\u{212A} sign",
    "k sign",
    "K SIGN",
    "\u{17F}top",
    "stop",
    "ΣΊΣΥΦΟΣ",
    "σίσυφος",
    "ς",
    "straße",
    "STRASSE",
    "ẞ",
    "café",
    "CAFÉ",
    "50% _off_",
    "back\\slash",
    "quote\"d",
    "it's",
    "a.b",
    "\u{1F600} smile",
    "line\nbreak",
    "10",
];

const FIELDS: &[&str] = &[
    "message",
    "actor.id",
    "actor.name",
    "user",
    "tenant",
    "target.name",
    "request.path",
    "fields.note",
    "fields.\"a.b\"",
    "fields.a.b",
    "fields.a.b.c",
    "changes.\"k.v\".new",
    "changes.k.v.new",
    "changes.x.old",
    "fields.n",
    "service.instance",
];

/// A small deterministic generator (xorshift), so that a failure can be replayed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn text(&mut self) -> &'static str {
        TEXTS[self.below(TEXTS.len())]
    }
}

/// A text as a quoted value of the query language.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

fn random_comparison(random: &mut Random) -> String {
    let field = FIELDS[random.below(FIELDS.len())];
    let value = quoted(random.text());
    match random.below(12) {
        0 => format!("{field} = {value}"),
        1 => format!("{field} != {value}"),
        2 => format!("{field} ~ {value}"),
        3 => format!("{field} !~ {value}"),
        4 => format!("{field} startswith {value}"),
        5 => format!("{field} endswith {value}"),
        6 => {
            let glob: String = random
                .text()
                .chars()
                .map(|c| match random.below(5) {
                    0 => '*',
                    1 => '?',
                    _ => c,
                })
                .collect();
            format!("{field} like {}", quoted(&glob))
        }
        7 => format!("{field} > {value}"),
        8 => format!("{field} <= {value}"),
        9 => format!(
            "{field} in ({value}, {}, {})",
            quoted(random.text()),
            quoted(random.text())
        ),
        10 => format!("{field} not in ({value}, {})", quoted(random.text())),
        _ => format!("{field} exists"),
    }
}

fn random_query(random: &mut Random) -> String {
    let first = random_comparison(random);
    match random.below(4) {
        0 => first,
        1 => format!("{first} and {}", random_comparison(random)),
        2 => format!("{first} or not {}", random_comparison(random)),
        _ => format!("not ({first} or {})", random_comparison(random)),
    }
}

/// Records with hostile values in every text a user can choose, written to a file and to a
/// table in each database.
fn write_records(dir: &std::path::Path, urls: &[String], table: &str, random: &mut Random) {
    let mut builder = tracing_security_events::builder().with_file(dir.join("security.jsonl"));
    for url in urls {
        builder = builder.with_postgres(PostgresConfig::new().with_url(url).with_table(table));
    }
    let (layer, guard) = builder.with_service_instance("diff-1").build().unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for n in 0..240 {
            let changes = serde_json::json!({
                "k.v": {"old": random.text(), "new": random.text()},
                "x": {"old": random.text(), "new": random.text()},
                "k": {"v": {"new": random.text()}},
            })
            .to_string();
            let (id, name, tenant) = (random.text(), random.text(), random.text());
            let (note, dotted, nested) = (random.text(), random.text(), random.text());
            let (target, path, message) = (random.text(), random.text(), random.text());
            security_event!(
                SecurityEvent::UserUpdated,
                actor.id = %id,
                actor.name = %name,
                tenant.id = %tenant,
                target.name = %target,
                url.path = %path,
                note = %note,
                "a.b" = %dotted,
                a.b.c = %nested,
                n = n,
                changes = %changes,
                "{message}"
            );
        }
    });
    guard.shutdown().unwrap();
}

fn exported(store: &dyn LogStore, search: &Search) -> Vec<String> {
    let mut ids = Vec::new();
    store
        .export(search, &mut |record| {
            ids.push(record.id().to_owned());
            Ok(())
        })
        .unwrap();
    ids
}

#[test]
fn both_stores_answer_random_queries_over_hostile_records_alike_in_both_locales() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let locales = ["C", "C.UTF-8"];
    let urls: Vec<String> = locales.iter().map(|l| cluster.database(l)).collect();
    let table = Cluster::table("diff");
    let dir = tempfile::tempdir().unwrap();
    let mut random = Random(0x5EC_u64 << 20 | 23);
    write_records(dir.path(), &urls, &table, &mut random);

    let file = FileStore::open(dir.path().join("security.jsonl")).unwrap();
    let stores: Vec<(&str, PostgresStore)> = locales
        .iter()
        .zip(&urls)
        .map(|(locale, url)| {
            (
                *locale,
                PostgresStore::connect_to_table(url, &table).unwrap(),
            )
        })
        .collect();
    let everything = Search::new(Query::new());
    let all = file.count(&everything).unwrap().records;
    assert_eq!(all, 240, "every record, NULs and all, in the file");
    for (locale, store) in &stores {
        assert_eq!(
            store.count(&everything).unwrap().records,
            all,
            "every record in the table ({locale}): no value stopped the sink"
        );
    }

    let mut queries: Vec<String> = (0..1500).map(|_| random_query(&mut random)).collect();
    queries.extend(
        [
            "message = \"\\\\u0000 literal\"",
            "message ~ \"istanbul\"",
            "message ~ \"k sign\"",
            "message ~ \"\u{FFFD}\"",
            "user = \"a\\u0000b\"",
            "fields.\"a\\u0000b\" exists",
            "time > \"0000-01-01\"",
            "time < \"+99999-01-01\"",
            "fields.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a exists",
        ]
        .map(str::to_owned),
    );
    let (mut compared, mut matched) = (0, 0);
    for text in &queries {
        let query = Query::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let search = Search::new(query.clone()).with_limit(20);
        let expected = file.count(&search).unwrap().records;
        let newest = pg::ids(&file, &search);
        let oldest = pg::ids(&file, &search.clone().with_order(Order::OldestFirst));
        let export = (compared % 10 == 0).then(|| exported(&file, &search));
        for (locale, store) in &stores {
            assert_eq!(
                store.count(&search).unwrap().records,
                expected,
                "count of `{text}` ({locale})"
            );
            assert_eq!(
                pg::ids(store, &search),
                newest,
                "page of `{text}` ({locale})"
            );
            assert_eq!(
                pg::ids(store, &search.clone().with_order(Order::OldestFirst)),
                oldest,
                "oldest page of `{text}` ({locale})"
            );
            if let Some(export) = &export {
                assert_eq!(
                    &exported(store, &search),
                    export,
                    "export of `{text}` ({locale})"
                );
            }
        }
        compared += 1;
        matched += usize::from(expected > 0 && expected < all);
    }
    // The generator is worth its name only if queries select some records and not others.
    assert!(
        matched > compared / 5,
        "{matched} of {compared} queries split the records"
    );
    println!(
        "{compared} queries compared in {} locales, {matched} selective",
        locales.len()
    );
}
