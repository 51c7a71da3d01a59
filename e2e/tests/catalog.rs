//! The catalog as users see it: every built-in row lands in the file with its classification,
//! a service's own catalog is recognised once registered, unknown names are flagged and counted.

mod common;

use common::{capture, run, TempLog};
use tracing_security_events::{
    security_catalog, security_event, BuildError, Category, SecurityEvent, Severity,
};

#[test]
fn every_builtin_event_round_trips_and_lands_with_its_classification() {
    let records = capture(|| {
        for &event in SecurityEvent::ALL {
            // Emitted by name at INFO: the record's severity must still be the catalog's.
            tracing::info!(security_event = event.as_str());
        }
    });
    assert_eq!(records.len(), SecurityEvent::ALL.len());
    for (record, &event) in records.iter().zip(SecurityEvent::ALL) {
        let name = record["event"]["name"].as_str().unwrap();
        assert_eq!(name.parse::<SecurityEvent>(), Ok(event));
        assert_eq!(event.to_string(), name);
        assert_eq!(
            record["event"]["category"],
            event.category().as_str(),
            "{name}"
        );
        assert_eq!(
            record["event"]["severity"],
            event.severity().as_str(),
            "{name}"
        );
        assert_eq!(
            record["event"]["outcome"],
            event.outcome().as_str(),
            "{name}"
        );
        match event.info().owasp() {
            Some(owasp) => assert_eq!(record["event"]["owasp"], owasp, "{name}"),
            None => assert!(record["event"].get("owasp").is_none(), "{name}"),
        }
        assert!(record["event"].get("unrecognised").is_none());
        let message = record["message"].as_str().unwrap();
        assert!(
            !message.is_empty() && !message.contains('{'),
            "{name}: {message}"
        );
    }
}

#[test]
fn the_macro_emits_at_the_catalog_level_with_the_fixed_target() {
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::prelude::*;

    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<(String, tracing::Level)>>>);
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Seen {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            let meta = event.metadata();
            self.0
                .lock()
                .unwrap()
                .push((meta.target().to_owned(), *meta.level()));
        }
    }

    let seen = Seen::default();
    let subscriber = tracing_subscriber::registry().with(seen.clone());
    tracing::subscriber::with_default(subscriber, || {
        security_event!(SecurityEvent::LoginSucceeded, actor.id = 1);
        security_event!(SecurityEvent::LoginFailed, actor.id = 1);
        security_event!(SecurityEvent::TokenReused);
    });
    let seen = seen.0.lock().unwrap();
    assert_eq!(
        *seen,
        [
            ("security".to_owned(), tracing::Level::INFO),
            ("security".to_owned(), tracing::Level::WARN),
            ("security".to_owned(), tracing::Level::ERROR),
        ]
    );
}

security_catalog! {
    /// The billing service's own events.
    pub enum BillingEvent {
        /// A billing entity was created.
        EntityCreated => "billing_entity.created", Custom("billing_entity"), Info, Success, None,
            "{actor} created billing entity {target}";
        /// A billing entity was changed.
        EntityUpdated => "billing_entity.updated", Custom("billing_entity"), Warn, Success, None,
            "{actor} updated billing entity {target}";
    }
}

#[test]
fn a_registered_service_catalog_is_recognised() {
    assert_eq!(
        BillingEvent::EntityUpdated.category(),
        Category::Custom("billing_entity")
    );
    assert_eq!(BillingEvent::EntityUpdated.severity(), Severity::Warn);
    assert_eq!(
        "billing_entity.created".parse(),
        Ok(BillingEvent::EntityCreated)
    );

    let log = TempLog::new();
    let builder = log.builder().with_catalog::<BillingEvent>();
    let (records, stats) = run(&log, builder, || {
        security_event!(
            BillingEvent::EntityCreated,
            actor.name = "alice",
            target.id = "be_1"
        );
        security_event!(
            BillingEvent::EntityUpdated,
            actor.name = "alice",
            target.id = "be_1"
        );
    });
    assert_eq!(stats.unrecognised, 0);
    assert_eq!(records[0]["event"]["name"], "billing_entity.created");
    assert_eq!(records[0]["event"]["category"], "billing_entity");
    assert_eq!(records[0]["message"], "alice created billing entity be_1");
    assert_eq!(records[1]["event"]["severity"], "warn");
}

#[test]
fn an_unregistered_name_is_written_flagged_and_counted() {
    let log = TempLog::new();
    let builder = log.builder();
    let (records, stats) = run(&log, builder, || {
        // The billing catalog is not registered with this layer.
        security_event!(BillingEvent::EntityCreated, target.id = "be_1");
        tracing::error!(security_event = "payment.chargeback", amount = 30);
    });
    assert_eq!(stats.unrecognised, 2);
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["event"]["unrecognised"], true);
    assert_eq!(records[0]["event"]["category"], "billing_entity");
    assert_eq!(
        records[0]["event"]["severity"], "info",
        "from the tracing level"
    );
    assert_eq!(records[1]["event"]["name"], "payment.chargeback");
    assert_eq!(records[1]["event"]["severity"], "error");
    assert_eq!(records[1]["event"]["outcome"], "unknown");
    assert_eq!(records[1]["fields"]["amount"], 30);
    assert_eq!(
        records[1]["message"],
        "unrecognised security event payment.chargeback"
    );
}

security_catalog! {
    enum Clashing {
        Again => "authentication.failed", Authentication, Warn, Failure, None, "again";
    }
}

security_catalog! {
    enum Malformed {
        Bad => "Billing.Created", Custom("billing"), Info, Success, None, "bad";
    }
}

#[test]
fn clashing_or_malformed_catalogs_fail_the_build() {
    let log = TempLog::new();
    let err = log
        .builder()
        .with_catalog::<Clashing>()
        .build::<tracing_subscriber::Registry>();
    let err = err.expect_err("a clash is refused");
    assert!(
        matches!(err, BuildError::DuplicateEventName { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("authentication.failed"), "{err}");

    let err = log
        .builder()
        .with_catalog::<Malformed>()
        .build::<tracing_subscriber::Registry>();
    let err = err.expect_err("a malformed name is refused");
    assert!(err.to_string().contains("Billing.Created"), "{err}");
    assert!(err.to_string().contains("lowercase"), "{err}");
}
