//! The language's own tests: what parses to what, what prints back, what each operator holds
//! for on a record. The tests over real logs written by the layer are in `e2e/tests/query.rs`.

use chrono::{DateTime, Utc};

use super::*;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

const RECORD: &str = r#"{"schema":1,"id":"0193a1b2-0000-7000-8000-000000000001","seq":1042,"timestamp":"2026-11-22T10:15:30.123456Z","event":{"name":"authentication.failed","category":"authentication","outcome":"failure","severity":"warn","owasp":"authn_login_fail"},"message":"alice failed to sign in with a password","actor":{"id":"42","name":"alice","email":"Alice@Example.com","kind":"user","roles":["viewer","Billing"]},"client":{"ip":"203.0.113.7","port":51234,"geo":{"country":"DE","city":"Berlin","asn":3320}},"user_agent":{"original":"Mozilla/5.0","name":"Firefox"},"request":{"id":"9f1c","method":"POST","path":"/login"},"fields":{"authentication.method":"password","rows":12000,"ratio":0.5,"ok":false,"gone":null,"nested":{"deep":"x"}},"changes":{"roles":{"old":["viewer"],"new":["viewer","admin"]}},"service":{"name":"billing-api"}}"#;

fn holds(query: &str) -> bool {
    let query = Query::parse(query).unwrap_or_else(|e| panic!("{query}: {e:#}"));
    query.matcher(now()).matches_line(RECORD).unwrap()
}

#[test]
fn every_operator_and_shortcut_on_one_record() {
    let yes = [
        r#"event = "authentication.failed""#,
        "event = authentication.failed",
        "event.name != user.invited",
        "type = authentication",
        "category in (user, authentication)",
        "outcome = failure",
        "severity = warn",
        "severity >= info",
        "severity < error",
        "user = 42",
        "user = alice",
        "user ~ example.com",
        "user endswith \"@Example.com\"",
        "ip = 203.0.113.7",
        "ip = 203.0.113.0/24",
        "ip in (10.0.0.0/8, 203.0.113.0/24)",
        "ip not in (10.0.0.0/8, ::1)",
        "ip startswith 203.",
        "country = DE",
        "client.geo.city like b*N",
        "client.geo.asn = 3320",
        "client.port > 50000",
        "time > -2h",
        "time < now",
        "time >= today",
        "time > yesterday",
        "time >= 2026-11-22 and time < 2026-11-23",
        r#"time > "2026-11-22 10:15""#,
        "timestamp = 2026-11-22T10:15:30.123456Z",
        "time > 2026-11-22T11:15:00+01:00",
        "seq = 1042",
        "seq >= 1000 and seq <= 1042",
        "message ~ \"FAILED TO\"",
        "message !~ succeeded",
        "message like \"alice * password\"",
        "message not like \"bob*\"",
        "message startswith alice",
        "message not startswith Alice",
        "message endswith password",
        "message not endswith \"sword!\"",
        "fields.\"authentication.method\" = password",
        "fields.authentication.method = password",
        "fields.rows > 10000",
        "fields.rows = 12000",
        "fields.rows = \"12000\"",
        "fields.rows ~ 200",
        "fields.ratio < 1",
        "fields.ok = false",
        "fields.gone = null",
        "fields.gone exists",
        "fields.nested.deep = x",
        "changes.roles.new = admin",
        "changes.roles.old != admin",
        "actor.roles = Billing",
        "actor.roles like billing",
        "actor exists",
        "client.geo exists",
        "not session.id exists",
        "session.id != x",
        "tenant != acme",
        "not tenant = acme",
        "request.method in (POST, PUT)",
        "request.path startswith /log",
        "user_agent.name = Firefox and not user_agent.os exists",
        "event.owasp = authn_login_fail",
        "service.name = billing-api",
        "",
    ];
    for query in yes {
        assert!(holds(query), "should hold: {query}");
    }
    let no = [
        "event = authentication.FAILED",
        "event = authentication",
        "severity > warn",
        "severity >= error",
        "user = 43",
        "user = Alice",
        "ip = 203.0.113.8",
        "ip in (10.0.0.0/8)",
        "ip = ::1",
        "country = de",
        "time > now",
        "time < -2h",
        "time < 2026-11-22",
        "seq > 1042",
        "message ~ bob",
        "message startswith Alice",
        "fields.rows > 12000",
        "fields.rows = 12",
        "fields.ok = true",
        "fields.missing = x",
        "fields.missing exists",
        "changes.roles.old = admin",
        "session.id exists",
        "tenant = acme",
        "tenant exists",
        "user_agent.os = Linux",
        "fields.rows = \"12\"",
    ];
    for query in no {
        assert!(!holds(query), "should not hold: {query}");
    }
}

#[test]
fn precedence_is_not_then_and_then_or() {
    // or binds loosest: (false and true) or true
    assert!(holds("user = nobody and seq = 1042 or outcome = failure"));
    // and before or on the right too: true or (false and false)
    assert!(holds("outcome = failure or user = nobody and seq = 1"));
    // parentheses regroup: (true or false) and false
    assert!(!holds("(outcome = failure or user = nobody) and seq = 1"));
    // not binds tighter than and: (not false) and true
    assert!(holds("not user = nobody and seq = 1042"));
    // not of a group
    assert!(!holds("not (user = nobody or seq = 1042)"));
    assert!(holds("not not seq = 1042"));
    assert_eq!(
        Query::parse("a.b = 1").unwrap_err().to_string(),
        "column 1: unknown field `a.b`"
    );
    let q = Query::parse("seq = 1 or seq = 2 and seq = 3").unwrap();
    assert_eq!(q.to_string(), "seq = 1 or seq = 2 and seq = 3");
    let q = Query::parse("(seq = 1 or seq = 2) and seq = 3").unwrap();
    assert_eq!(q.to_string(), "(seq = 1 or seq = 2) and seq = 3");
    let q = Query::parse("((seq = 1) and (seq = 2 and seq = 3))").unwrap();
    assert_eq!(q.to_string(), "seq = 1 and seq = 2 and seq = 3");
}

#[test]
fn canonical_text_parses_back_equal() {
    for text in [
        r#"event = "authentication.failed" and user = 42"#,
        "fields.\"authentication.method\" = password or not ip in (10.0.0.0/8, ::1)",
        "time > -24h and time <= \"2026-11-22 10:15\" and severity >= warn",
        "message ~ \"quote \\\" and \\\\ back\\u2028\" and fields.x = null and fields.y = true",
        "fields.n in (1, -2.5, 1e3, \"4\") and changes.\"a b\".new exists",
        "not (outcome = failure or category not in (user, role)) and message not like 'x*'",
        "fields.\"and\" = 1 and fields.\"not\" exists",
        "ip = 10.0.0.1/8 or ip != 2001:db8::1",
        "changes.or.new exists and fields.not = 1 and changes.\"in\".old = x",
        "",
    ] {
        let query = Query::parse(text).unwrap_or_else(|e| panic!("{text}: {e:#}"));
        let printed = query.to_string();
        let again = Query::parse(&printed).unwrap_or_else(|e| panic!("{printed}: {e:#}"));
        assert_eq!(again, query, "{text} -> {printed}");
        assert_eq!(again.to_string(), printed);
    }
}

#[test]
fn the_builder_gives_what_the_text_gives() {
    let built = Query::new()
        .any_event(["authentication.*", "user.invited"])
        .category("authentication")
        .outcome("failure")
        .tenant("acme")
        .ip("203.0.113.7".parse().unwrap())
        .network("10.0.0.0/8".parse().unwrap())
        .until(TimeSpec::Today)
        .severity_at_least(crate::event::Severity::Warn)
        .message_contains("sign in");
    let text = "(event like \"authentication.*\" or event = user.invited) and category = \
                authentication and outcome = failure and tenant = acme and ip = 203.0.113.7 \
                and ip = 10.0.0.0/8 and time < today and severity >= warn and message ~ \
                \"sign in\"";
    assert_eq!(built, Query::parse(text).unwrap());
    assert_eq!(
        !Query::new().user("42"),
        Query::parse("not user = 42").unwrap()
    );
    assert!(Query::new().is_everything());
    assert!(Query::new().matcher(now()).matches_everything());
}

#[test]
fn malformed_queries_name_their_column() {
    let cases: &[(&str, usize, &str)] = &[
        ("event =", 8, "expected a value, found the end of the query"),
        ("= x", 1, "expected a comparison, found `=`"),
        ("event", 6, "expected an operator"),
        ("event == x", 8, "expected a value, found `=`"),
        ("event = x and", 14, "expected a comparison, found"),
        ("event = x or", 13, "expected a comparison, found"),
        ("not", 4, "expected a comparison, found"),
        ("(event = x", 11, "expected `)`"),
        ("event = x)", 10, "unexpected `)`"),
        ("event = x y", 11, "unexpected `y`"),
        ("event in x", 10, "expected `(`"),
        ("event in ()", 11, "expected a value"),
        ("event in (a b)", 13, "expected `,` or `)`"),
        ("event in (a,", 13, "expected a value"),
        (
            "event not x",
            11,
            "expected `in`, `like`, `startswith` or `endswith` after `not`",
        ),
        ("event = \"open", 14, "expected a closing quote"),
        ("event = \"bad \\q\"", 15, "an escape"),
        ("event = \"\\u12\"", 12, "four hex digits"),
        ("usr = 42", 1, "unknown field `usr`"),
        ("actor.nmae = x", 1, "unknown field `actor.nmae`"),
        (
            "fields = x",
            8,
            "`fields` is a part of the record, not a value",
        ),
        (
            "fields in (x)",
            1,
            "`fields` is a part of the record, not a value",
        ),
        ("seq ~ x", 5, "`~` compares text, and `seq` is a number"),
        (
            "time like 2026*",
            6,
            "`like` compares text, and `timestamp` is a time",
        ),
        ("seq > abc", 7, "`abc` is not a number"),
        ("time > yesterdayish", 8, "`yesterdayish` is not a time"),
        ("time > 2026-13-01", 8, "`2026-13-01` is not a time"),
        (
            "ip = 300.1.1.1",
            6,
            "`300.1.1.1` is not an IP address or network",
        ),
        (
            "ip > 10.0.0.1",
            4,
            "`>` orders values, and `client.ip` is an IP address",
        ),
        (
            "ip in (10.0.0.1, 10.0.0.0/33)",
            18,
            "`10.0.0.0/33` is not an IP address",
        ),
        ("severity >= high", 13, "`high` is not a severity"),
        (
            "event.unrecognised = maybe",
            22,
            "`maybe` is not true or false",
        ),
        ("fields.x > true", 10, "`>` does not order `true`"),
        ("fields.", 8, "expected a field name after `.`"),
        ("event = x AND seq = 1", 11, "unexpected `AND`"),
        (
            "seq = 1 and and seq = 2",
            13,
            "expected a comparison, found",
        ),
    ];
    assert!(cases.len() >= 30);
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(query, column, message)| match Query::parse(query) {
            Ok(parsed) => Some(format!("{query}: parsed as {parsed}")),
            Err(error) if !error.message().contains(message) || error.column() != *column => Some(
                format!("{query}: {error}, expected column {column}: {message}"),
            ),
            Err(_) => None,
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_caret_line_points_at_the_column_of_characters_not_bytes() {
    let error = Query::parse("message ~ \"é\" and usr = 1").unwrap_err();
    assert_eq!(error.column(), 19);
    assert_eq!(
        error.caret_lines(),
        "  message ~ \"é\" and usr = 1\n                    ^"
    );
}

#[test]
fn nesting_past_the_limit_is_an_error_not_a_stack_overflow() {
    // (Within the limit on a query's bytes, which is checked first.)
    let deep = format!("{}seq = 1{}", "(".repeat(1_000), ")".repeat(1_000));
    let error = Query::parse(&deep).unwrap_err();
    assert_eq!(error.column(), 65);
    assert!(error.message().contains("nests deeper than 64"), "{error}");
    let nots = format!("{}seq = 1", "not ".repeat(1_000));
    assert!(Query::parse(&nots).is_err());
    // Up to the limit, and parentheses or `not` inside quoted text, are fine.
    let ok = format!("{}seq = 1{}", "(".repeat(63), ")".repeat(63));
    assert!(Query::parse(&ok).is_ok());
    let quoted = format!("message = \"{}\" and notes_ok = 1", "(not ".repeat(1000));
    assert!(Query::parse(&quoted)
        .unwrap_err()
        .message()
        .contains("unknown field `notes_ok`"));
}
