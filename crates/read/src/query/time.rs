//! Times in queries: absolute (RFC 3339, `2026-11-22`, `2026-11-22 10:15`, all UTC unless an
//! offset is given) and relative to the moment the query runs (`-15m`, `-24h`, `-7d`, `now`,
//! `today`, `yesterday`).

use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

/// A time as written in a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeSpec {
    /// A moment.
    At(DateTime<Utc>),
    /// So long before the query runs: `-15m` is `Ago(15, TimeUnit::Minutes)`.
    Ago(u32, TimeUnit),
    /// The moment the query runs.
    Now,
    /// Midnight UTC of the day the query runs.
    Today,
    /// Midnight UTC of the day before.
    Yesterday,
}

/// The unit of a relative time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// `s`
    Seconds,
    /// `m`
    Minutes,
    /// `h`
    Hours,
    /// `d`
    Days,
    /// `w`
    Weeks,
}

impl TimeUnit {
    fn suffix(self) -> char {
        match self {
            TimeUnit::Seconds => 's',
            TimeUnit::Minutes => 'm',
            TimeUnit::Hours => 'h',
            TimeUnit::Days => 'd',
            TimeUnit::Weeks => 'w',
        }
    }

    fn seconds(self) -> i64 {
        match self {
            TimeUnit::Seconds => 1,
            TimeUnit::Minutes => 60,
            TimeUnit::Hours => 3600,
            TimeUnit::Days => 86_400,
            TimeUnit::Weeks => 604_800,
        }
    }
}

/// Naive forms, read as UTC.
const NAIVE_FORMATS: [&str; 4] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

impl TimeSpec {
    /// Reads a time; `None` when `text` is no time this language knows.
    pub fn parse(text: &str) -> Option<TimeSpec> {
        match text {
            "now" => return Some(TimeSpec::Now),
            "today" => return Some(TimeSpec::Today),
            "yesterday" => return Some(TimeSpec::Yesterday),
            _ => {}
        }
        if let Some(relative) = text.strip_prefix('-') {
            let unit = match relative.chars().last()? {
                's' => TimeUnit::Seconds,
                'm' => TimeUnit::Minutes,
                'h' => TimeUnit::Hours,
                'd' => TimeUnit::Days,
                'w' => TimeUnit::Weeks,
                _ => return None,
            };
            let count = &relative[..relative.len() - 1];
            if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let count: u32 = count.parse().ok()?;
            // Beyond what chrono can subtract from now.
            if i64::from(count) * unit.seconds() > 100 * 366 * 86_400 {
                return None;
            }
            return Some(TimeSpec::Ago(count, unit));
        }
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return Some(TimeSpec::At(at.with_timezone(&Utc)));
        }
        for format in NAIVE_FORMATS {
            if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
                return Some(TimeSpec::At(naive.and_utc()));
            }
        }
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        Some(TimeSpec::At(date.and_hms_opt(0, 0, 0)?.and_utc()))
    }

    /// The moment this stands for when the query runs at `now`.
    pub fn resolve(self, now: DateTime<Utc>) -> DateTime<Utc> {
        let midnight = || {
            now.date_naive()
                .and_hms_opt(0, 0, 0)
                .map_or(now, |m| m.and_utc())
        };
        match self {
            TimeSpec::At(at) => at,
            TimeSpec::Ago(count, unit) => {
                now - Duration::seconds(i64::from(count) * unit.seconds())
            }
            TimeSpec::Now => now,
            TimeSpec::Today => midnight(),
            TimeSpec::Yesterday => midnight() - Duration::days(1),
        }
    }
}

/// The canonical form, which [`TimeSpec::parse`] reads back equal.
impl fmt::Display for TimeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeSpec::At(at) => f.write_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            TimeSpec::Ago(count, unit) => write!(f, "-{count}{}", unit.suffix()),
            TimeSpec::Now => f.write_str("now"),
            TimeSpec::Today => f.write_str("today"),
            TimeSpec::Yesterday => f.write_str("yesterday"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn absolute_forms() {
        for (text, expected) in [
            ("2026-11-22T10:15:30.123456Z", "2026-11-22T10:15:30.123456Z"),
            ("2026-11-22T11:15:30+01:00", "2026-11-22T10:15:30Z"),
            ("2026-11-22", "2026-11-22T00:00:00Z"),
            ("2026-11-22 10:15", "2026-11-22T10:15:00Z"),
            ("2026-11-22T10:15", "2026-11-22T10:15:00Z"),
            ("2026-11-22 10:15:30", "2026-11-22T10:15:30Z"),
            ("2026-11-22 10:15:30.5", "2026-11-22T10:15:30.500Z"),
        ] {
            assert_eq!(
                TimeSpec::parse(text),
                Some(TimeSpec::At(at(expected))),
                "{text}"
            );
        }
    }

    #[test]
    fn relative_forms_resolve_against_now() {
        let now = at("2026-11-22T10:15:30Z");
        let cases = [
            ("-15m", "2026-11-22T10:00:30Z"),
            ("-24h", "2026-11-21T10:15:30Z"),
            ("-7d", "2026-11-15T10:15:30Z"),
            ("-30s", "2026-11-22T10:15:00Z"),
            ("-1w", "2026-11-15T10:15:30Z"),
            ("now", "2026-11-22T10:15:30Z"),
            ("today", "2026-11-22T00:00:00Z"),
            ("yesterday", "2026-11-21T00:00:00Z"),
        ];
        for (text, expected) in cases {
            let spec = TimeSpec::parse(text).unwrap();
            assert_eq!(spec.resolve(now), at(expected), "{text}");
            assert_eq!(TimeSpec::parse(&spec.to_string()), Some(spec), "{text}");
        }
    }

    #[test]
    fn not_times() {
        for text in [
            "",
            "-",
            "-m",
            "-15",
            "-15x",
            "-1.5h",
            "2026-13-01",
            "2026-11-31",
            "22/11/2026",
            "tomorrow",
            "-99999999999d",
            "10:15",
        ] {
            assert_eq!(TimeSpec::parse(text), None, "{text}");
        }
    }
}
