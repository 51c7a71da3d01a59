//! `security-log help query`: the query language on one page, its fields and shortcuts read
//! from the library's own tables, so the page and the parser cannot disagree.

use std::io::{self, Write};

use tracing_security_events::query::{known_paths, SHORTCUTS};

const OPERATORS: &[(&str, &str)] = &[
    (
        "path = v, path != v",
        "equal (text exactly; an address within a network)",
    ),
    (
        "path > v, >=, <, <=",
        "numbers, times and severities in their order, text by its bytes",
    ),
    ("path ~ v, path !~ v", "the text contains v, ignoring case"),
    (
        "path startswith v",
        "the text begins with v (case matters); also endswith",
    ),
    (
        "path like v",
        "the glob v: * any run, ? one character, ignoring case",
    ),
    ("path in (a, b)", "equal to one of the values; also not in"),
    ("path exists", "the record has the path"),
    (
        "a and b, a or b, not a",
        "not binds tightest, then and, then or; ( ) to group",
    ),
];

const EXAMPLES: &[&str] = &[
    "event = authentication.failed and user = alice",
    "event like \"authentication.*\" and time > -24h",
    "category in (user, role) and outcome = failure",
    "severity >= warn and not ip in (10.0.0.0/8, 2001:db8::/32)",
    "fields.\"authentication.method\" = password or fields.rows > 10000",
    "changes.roles.new ~ admin",
    "country = DE and time >= 2026-11-10 and time < \"2026-11-11 12:00\"",
    "actor.email endswith \"@example.com\" and tenant = acme",
];

/// Prints the page.
pub(crate) fn print(out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "THE QUERY LANGUAGE (-q EXPR)\n")?;
    writeln!(
        out,
        "Comparisons joined by and, or, not; the empty query matches every record.\n\
         Values are quoted (\"...\" or '...') or bare when they hold no space, comma,\n\
         parenthesis or operator. Times: RFC 3339, 2026-11-22, \"2026-11-22 10:15\" (UTC),\n\
         -15m, -24h, -7d, -2w, now, today, yesterday.\n"
    )?;
    writeln!(out, "OPERATORS")?;
    for (form, meaning) in OPERATORS {
        writeln!(out, "  {form:<26} {meaning}")?;
    }
    writeln!(out, "\nSHORTCUTS")?;
    for (name, path, meaning) in SHORTCUTS {
        writeln!(out, "  {name:<10} {path:<36} {meaning}")?;
    }
    writeln!(
        out,
        "\nFIELDS (paths of the record; any path under fields. and changes.)"
    )?;
    for (path, kind) in known_paths() {
        writeln!(out, "  {path:<22} {kind}")?;
    }
    writeln!(out, "\nEXAMPLES")?;
    for example in EXAMPLES {
        writeln!(out, "  security-log query LOG -q '{example}'")?;
    }
    writeln!(
        out,
        "\nAn unknown field is an error naming its column; an event name or category that no\n\
         catalog holds is a warning, with the name probably meant. The command's options:\n\
         security-log query --help."
    )
}
