//! The catalog table of the `event` module docs is a copy of the built-in catalog: keep them equal.

use tracing_security_events::SecurityEvent;

fn expected_row(event: SecurityEvent) -> String {
    let info = event.info();
    let owasp = info
        .owasp()
        .map(|name| format!("`{name}`"))
        .unwrap_or_else(|| "-".to_owned());
    format!(
        "| `{}` | `{:?}` | {} | {} | {} | {} | {} |",
        info.name(),
        event,
        info.category(),
        info.severity(),
        info.outcome(),
        owasp,
        info.message_template()
    )
}

#[test]
fn the_documented_catalog_table_matches_the_code() {
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/format/src/event/mod.rs"
    ))
    .unwrap();
    let table_rows: Vec<&str> = docs
        .lines()
        .filter_map(|line| line.strip_prefix("//! "))
        .filter(|line| line.starts_with("| `") && line.matches(" | ").count() == 6)
        .collect();
    for &event in SecurityEvent::ALL {
        let row = expected_row(event);
        assert!(
            table_rows.contains(&row.as_str()),
            "the event module docs lack or differ on:\n{row}"
        );
    }
    assert_eq!(
        table_rows.len(),
        SecurityEvent::ALL.len(),
        "the event module docs have rows the code has not"
    );
}
