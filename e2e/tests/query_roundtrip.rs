//! Property: the canonical text of any query parses back to an equal query, and printing is
//! stable. Queries are generated as text from the grammar (fields of every kind, every
//! operator, quoted values with any characters, nesting), so what is tested is what users type.
#![cfg(feature = "query")]

use proptest::prelude::*;
use tracing_security_events::query::Query;

/// A field and the values that fit it.
fn comparison() -> impl Strategy<Value = String> {
    let text_value = prop_oneof![
        "[a-z0-9._@/-]{1,12}",
        any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
        "[ -~]{0,10}".prop_map(|s| serde_json::to_string(&s).unwrap()),
    ];
    let text_field = prop_oneof![
        Just("event"),
        Just("type"),
        Just("category"),
        Just("outcome"),
        Just("user"),
        Just("tenant"),
        Just("message"),
        Just("country"),
        Just("actor.roles"),
        Just("request.path"),
        Just("event.name"),
        Just("user_agent.name"),
    ];
    let text_op = prop_oneof![
        Just("="),
        Just("!="),
        Just("~"),
        Just("!~"),
        Just("startswith"),
        Just("not startswith"),
        Just("endswith"),
        Just("not endswith"),
        Just("like"),
        Just("not like"),
        Just(">"),
        Just("<="),
    ];
    let order_op = prop_oneof![
        Just("="),
        Just("!="),
        Just(">"),
        Just(">="),
        Just("<"),
        Just("<="),
    ];
    let time = prop_oneof![
        (
            1u32..1000,
            prop_oneof![Just('s'), Just('m'), Just('h'), Just('d'), Just('w')]
        )
            .prop_map(|(n, u)| format!("-{n}{u}")),
        Just("now".to_owned()),
        Just("today".to_owned()),
        Just("yesterday".to_owned()),
        (2000i32..2100, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}")),
        (0i64..4_000_000_000, 0u32..1_000_000).prop_map(|(s, us)| {
            chrono::DateTime::from_timestamp(s, us * 1000)
                .unwrap()
                .to_rfc3339()
        }),
        (0u32..24, 0u32..60).prop_map(|(h, m)| format!("\"2026-11-22 {h:02}:{m:02}\"")),
    ];
    let number = prop_oneof![
        any::<i32>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |n| n.is_finite())
            .prop_map(|n| n.to_string()),
        (1u32..99, -20i32..20).prop_map(|(m, e)| format!("{m}e{e}")),
    ];
    let address = prop_oneof![
        any::<[u8; 4]>().prop_map(|b| std::net::Ipv4Addr::from(b).to_string()),
        any::<[u16; 8]>().prop_map(|b| std::net::Ipv6Addr::from(b).to_string()),
        (any::<[u8; 4]>(), 0u8..=32)
            .prop_map(|(b, p)| format!("{}/{p}", std::net::Ipv4Addr::from(b))),
    ];
    let any_value = prop_oneof![
        number.clone(),
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just("null".to_owned()),
        text_value.clone(),
        address
            .clone()
            .prop_filter("networks and words", |a| !a.contains(':')),
    ];
    let free_path = prop_oneof![
        "[a-z_][a-z0-9_-]{0,8}".prop_map(|s| format!("fields.{s}")),
        any::<String>().prop_map(|s| format!("fields.{}", serde_json::to_string(&s).unwrap())),
        "[a-z]{1,6}".prop_map(|s| format!("changes.{s}.new")),
    ];
    prop_oneof![
        (text_field, text_op, text_value.clone()).prop_map(|(f, o, v)| format!("{f} {o} {v}")),
        (order_op.clone(), time.clone()).prop_map(|(o, v)| format!("time {o} {v}")),
        (order_op.clone(), number.clone()).prop_map(|(o, v)| format!("seq {o} {v}")),
        (
            order_op,
            prop_oneof![Just("debug"), Just("info"), Just("warn"), Just("error")]
        )
            .prop_map(|(o, v)| format!("severity {o} {v}")),
        (prop_oneof![Just("="), Just("!=")], address.clone())
            .prop_map(|(o, v)| format!("ip {o} {v}")),
        (any::<bool>(), prop::collection::vec(address, 1..4)).prop_map(|(not, v)| format!(
            "ip {}in ({})",
            if not { "not " } else { "" },
            v.join(", ")
        )),
        (
            free_path.clone(),
            prop_oneof![Just("="), Just("!=")],
            any_value.clone()
        )
            .prop_map(|(f, o, v)| format!("{f} {o} {v}")),
        (free_path.clone(), prop::collection::vec(any_value, 1..4))
            .prop_map(|(f, v)| format!("{f} in ({})", v.join(", "))),
        free_path.prop_map(|f| format!("{f} exists")),
        Just("actor exists".to_owned()),
    ]
}

fn query() -> impl Strategy<Value = String> {
    comparison().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| v.join(" and ")),
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| v.join(" or ")),
            inner.clone().prop_map(|q| format!("not {q}")),
            inner.prop_map(|q| format!("({q})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn canonical_text_parses_back_equal(text in query()) {
        let parsed = Query::parse(&text);
        prop_assert!(parsed.is_ok(), "{text}: {:#}", parsed.unwrap_err());
        let query = parsed.unwrap();
        let printed = query.to_string();
        let again = Query::parse(&printed);
        prop_assert!(again.is_ok(), "{text} printed as {printed}: {:#}", again.unwrap_err());
        let again = again.unwrap();
        prop_assert_eq!(&again, &query, "{} printed as {}", text, printed);
        prop_assert_eq!(again.to_string(), printed);
    }

    #[test]
    fn any_text_is_parsed_or_refused_without_panic(text in any::<String>()) {
        if let Err(error) = Query::parse(&text) {
            prop_assert!(error.column() >= 1 && error.column() <= text.chars().count() + 1);
        }
    }
}
