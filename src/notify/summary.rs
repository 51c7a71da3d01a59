//! A notification put in words for people: the subject and text of an email, the text of a chat
//! message. Record values are the attacker's words as much as the service's: control characters
//! become spaces and long values are cut, so a subject stays one header line and a message stays
//! readable.

use super::rule::Notification;
use crate::json_view::Json;

/// Longest value quoted from a record, in characters.
const MAX_VALUE_CHARS: usize = 200;

/// What a person reads of a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    /// One line: `[alert] admin role granted: user.role_changed by alice`.
    pub(crate) subject: String,
    /// The lines under it: what happened, who, from where, when.
    pub(crate) lines: Vec<String>,
}

impl Summary {
    pub(crate) fn of(notification: &Notification) -> Summary {
        let record = serde_json::from_str::<Json<'_>>(&notification.record).unwrap_or(Json::Null);
        let text = |path: &[&str]| record.str_at(path).map(clean);
        let event = text(&["event", "name"]).unwrap_or_else(|| "?".to_owned());
        let actor = text(&["actor", "name"])
            .or_else(|| text(&["actor", "id"]))
            .or_else(|| text(&["actor", "email"]));
        let mut subject = format!(
            "[{}] {}: {event}",
            notification.severity.as_str(),
            clean(&notification.rule)
        );
        if let Some(actor) = &actor {
            subject.push_str(" by ");
            subject.push_str(actor);
        }

        let mut lines = Vec::new();
        if let Some(message) = text(&["message"]) {
            lines.push(message);
        }
        let mut add = |label: &str, value: Option<String>| {
            if let Some(value) = value {
                lines.push(format!("{label}: {value}"));
            }
        };
        add("event", Some(event.clone()));
        add("outcome", text(&["event", "outcome"]));
        add("time", text(&["timestamp"]));
        add("actor", actor);
        add("tenant", text(&["tenant", "id"]));
        let place = [
            text(&["client", "geo", "city"]),
            text(&["client", "geo", "country"]),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        add(
            "client",
            text(&["client", "ip"]).map(|ip| match place.is_empty() {
                true => ip,
                false => format!("{ip} ({place})"),
            }),
        );
        add("user agent", text(&["user_agent", "original"]));
        add(
            "request",
            text(&["request", "method"])
                .zip(text(&["request", "path"]))
                .map(|(method, path)| format!("{method} {path}")),
        );
        add("record", text(&["id"]));
        if notification.suppressed > 0 {
            lines.push(format!(
                "{} more held back by the rule's throttle since the last notification",
                notification.suppressed
            ));
        }
        Summary { subject, lines }
    }

    /// The subject and the lines, as one text.
    pub(crate) fn text(&self) -> String {
        let mut text = self.subject.clone();
        for line in &self.lines {
            text.push('\n');
            text.push_str(line);
        }
        text
    }
}

/// `value` on one line: control characters (CR, LF, ANSI escapes, NUL) as spaces, at most
/// [`MAX_VALUE_CHARS`] characters.
fn clean(value: &str) -> String {
    let mut out: String = value
        .chars()
        .take(MAX_VALUE_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if value.chars().nth(MAX_VALUE_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::NotifySeverity;

    #[test]
    fn a_summary_names_what_who_and_where_on_clean_lines() {
        let record = r#"{"schema":1,"id":"r-1","timestamp":"2026-12-03T03:00:00Z","event":{"name":"user.role_changed","outcome":"success"},"message":"alice made bob admin","actor":{"id":"42","name":"alice\r\nBcc: x@evil.example"},"client":{"ip":"203.0.113.7","geo":{"country":"NL","city":"Amsterdam"}},"request":{"method":"POST","path":"/users/7"}}"#;
        let summary = Summary::of(&Notification {
            rule: "admin granted".into(),
            severity: NotifySeverity::Alert,
            suppressed: 2,
            record: record.into(),
        });
        assert_eq!(
            summary.subject,
            "[alert] admin granted: user.role_changed by alice  Bcc: x@evil.example"
        );
        assert!(!summary.subject.contains(['\r', '\n']));
        assert_eq!(summary.lines[0], "alice made bob admin");
        assert!(summary
            .lines
            .contains(&"client: 203.0.113.7 (Amsterdam, NL)".to_owned()));
        assert!(summary.lines.contains(&"request: POST /users/7".to_owned()));
        assert!(summary
            .text()
            .ends_with("2 more held back by the rule's throttle since the last notification"));
        let long = clean(&"x".repeat(1000));
        assert_eq!(long.chars().count(), MAX_VALUE_CHARS + 1);
    }
}
