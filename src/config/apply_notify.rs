//! Turning `[[transports]]`, `[[notifications]]` and `[[detections]]` into a notification
//! set-up, secrets read from their files and variables, every error naming its key.

use std::time::Duration;

use super::apply::read_key;
use super::model::Config;
use super::notify_model::{
    DetectionConfig, EmailTransportConfig, RetryConfig, TransportConfig, WebhookTransportConfig,
};
use super::ConfigError;
use crate::notify::{
    Detection, Email, ImpossibleTravel, NotifyConfig, Retry, Rule, Threshold, Throttle, Webhook,
};
use crate::query::{Field, Query};
use crate::SecurityEvent;

impl Config {
    /// The notification set-up this configuration asks for; `None` when it asks for none.
    pub(crate) fn notify_config(&self) -> Result<Option<NotifyConfig>, ConfigError> {
        if !self.has_notifications() {
            return Ok(None);
        }
        let mut notify = NotifyConfig::new();
        for (index, transport) in self.transports.iter().enumerate() {
            let name = transport.name();
            if self.transports[..index].iter().any(|t| t.name() == name) {
                return Err(self.invalid(
                    &format!("transports[{index}].name"),
                    format!("another transport is named {name:?}"),
                ));
            }
            notify = match transport {
                TransportConfig::Webhook(config) => notify.transport_with_retry(
                    name,
                    self.webhook(index, config)?,
                    retry(transport_retry(transport)),
                ),
                TransportConfig::Email(config) => notify.transport_with_retry(
                    name,
                    self.email(index, config)?,
                    retry(transport_retry(transport)),
                ),
            };
        }
        for (index, rule) in self.notifications.iter().enumerate() {
            notify = notify.rule(self.rule(index)?);
            for (at, wanted) in rule.send_to.iter().enumerate() {
                if !self.transports.iter().any(|t| t.name() == wanted) {
                    return Err(self.invalid(
                        &format!("notifications[{index}].send_to[{at}]"),
                        format!("no transport is named {wanted:?}"),
                    ));
                }
            }
        }
        for index in 0..self.detections.len() {
            notify = notify.detection(self.detection(index)?);
        }
        if let Some(fleet) = &self.fleet_detections {
            notify = self.over_fleet(notify, fleet)?;
        }
        Ok(Some(notify))
    }

    /// The detections over a fleet's table, when the features allow it and there are
    /// detections to run.
    fn over_fleet(
        &self,
        notify: NotifyConfig,
        fleet: &super::FleetDetectionsConfig,
    ) -> Result<NotifyConfig, ConfigError> {
        if self.detections.is_empty() {
            return Err(self.invalid(
                "fleet_detections",
                "there are no [[detections]] to run over the fleet".to_owned(),
            ));
        }
        #[cfg(feature = "postgres")]
        {
            let mut settings = crate::notify::FleetDetections::new();
            if let Some(url) = &fleet.url {
                settings = settings.with_url(url.clone());
            }
            if let Some(table) = &fleet.table {
                crate::postgres_table::check_table_name(table)
                    .map_err(|e| self.invalid("fleet_detections.table", e.to_string()))?;
                settings = settings.with_table(table.clone());
            }
            if let Some(scope) = &fleet.scope {
                settings = settings.with_scope(scope.clone());
            }
            if let Some(poll) = fleet.poll {
                settings = settings.with_poll(poll);
            }
            if let Some(settle) = fleet.settle {
                settings = settings.with_settle(settle);
            }
            Ok(notify.over_fleet(settings))
        }
        #[cfg(not(feature = "postgres"))]
        {
            let _ = (notify, fleet);
            Err(self.invalid(
                "fleet_detections",
                "needs the `postgres` cargo feature of tracing-security-events".to_owned(),
            ))
        }
    }

    fn invalid(&self, key: &str, message: String) -> ConfigError {
        ConfigError::Invalid {
            origin: self.origin(),
            key: key.to_owned(),
            message,
        }
    }

    /// The value of the environment variable `name`, for `key`.
    fn env_secret(&self, key: &str, name: &str) -> Result<String, ConfigError> {
        match std::env::var(name) {
            Ok(value) if !value.is_empty() => Ok(value),
            _ => Err(self.invalid(key, format!("the environment variable {name} is not set"))),
        }
    }

    fn webhook(
        &self,
        index: usize,
        config: &WebhookTransportConfig,
    ) -> Result<Webhook, ConfigError> {
        let key = |name: &str| format!("transports[{index}].{name}");
        let url = match (&config.url, &config.url_env) {
            (Some(url), None) => url.clone(),
            (None, Some(var)) => self.env_secret(&key("url_env"), var)?,
            _ => return Err(self.invalid(&key("url"), "give url or url_env, one of them".into())),
        };
        let mut webhook =
            Webhook::new(&url).map_err(|e| self.invalid(&key("url"), e.to_string()))?;
        for (name, value) in &config.headers {
            webhook = webhook
                .with_header(name, value)
                .map_err(|e| self.invalid(&key("headers"), e.to_string()))?;
        }
        for (name, var) in &config.headers_env {
            let value = self.env_secret(&key("headers_env"), var)?;
            webhook = webhook
                .with_header(name, &value)
                .map_err(|e| self.invalid(&key("headers_env"), e.to_string()))?;
        }
        let signing_key = match (&config.signing_key_file, &config.signing_key_env) {
            (Some(path), None) => Some(read_key(self, path, &key("signing_key_file"))?),
            (None, Some(var)) => Some(self.env_secret(&key("signing_key_env"), var)?.into_bytes()),
            (None, None) => None,
            (Some(_), Some(_)) => {
                return Err(self.invalid(
                    &key("signing_key_env"),
                    "give signing_key_file or signing_key_env, not both".into(),
                ))
            }
        };
        if let Some(signing_key) = signing_key {
            webhook = webhook.with_signing_key(signing_key);
        }
        if let Some(timeout) = config.timeout {
            webhook = webhook.with_timeout(timeout);
        }
        Ok(webhook.with_format(config.format))
    }

    fn email(&self, index: usize, config: &EmailTransportConfig) -> Result<Email, ConfigError> {
        let key = |name: &str| format!("transports[{index}].{name}");
        let mut email = Email::builder(&config.host, &config.from).security(config.security);
        if let Some(port) = config.port {
            email = email.port(port);
        }
        if let Some(timeout) = config.timeout {
            email = email.timeout(timeout);
        }
        if let Some(path) = &config.ca_file {
            email = email.add_root_certificate(read_key(self, path, &key("ca_file"))?);
        }
        let password = match (&config.password_file, &config.password_env) {
            (Some(path), None) => {
                let bytes = read_key(self, path, &key("password_file"))?;
                let text = String::from_utf8(bytes).map_err(|_| {
                    self.invalid(&key("password_file"), "the password is not UTF-8".into())
                })?;
                Some(text.trim_end_matches(['\r', '\n']).to_owned())
            }
            (None, Some(var)) => Some(self.env_secret(&key("password_env"), var)?),
            (None, None) => None,
            (Some(_), Some(_)) => {
                return Err(self.invalid(
                    &key("password_env"),
                    "give password_file or password_env, not both".into(),
                ))
            }
        };
        match (&config.username, password) {
            (Some(user), Some(password)) => email = email.credentials(user, password),
            (None, None) => {}
            _ => {
                return Err(self.invalid(
                    &key("username"),
                    "username and a password (password_file or password_env) go together".into(),
                ))
            }
        }
        for to in &config.to {
            email = email.to(to);
        }
        email
            .build()
            .map_err(|e| self.invalid(&format!("transports[{index}]"), e.to_string()))
    }

    fn rule(&self, index: usize) -> Result<Rule, ConfigError> {
        let config = &self.notifications[index];
        let key = |name: &str| format!("notifications[{index}].{name}");
        let condition =
            Query::parse(&config.when).map_err(|e| self.invalid(&key("when"), e.to_string()))?;
        let mut rule = Rule::new(&config.name, condition, config.severity);
        for transport in &config.send_to {
            rule = rule.send_to(transport);
        }
        if let Some(throttle) = &config.throttle {
            let group_by = match &throttle.group_by {
                Some(field) => Some(
                    Field::parse(field)
                        .map_err(|e| self.invalid(&key("throttle.group_by"), e.to_string()))?,
                ),
                None => None,
            };
            let limit = match (throttle.once, throttle.window) {
                (true, None) => Throttle::once(),
                (false, Some(window)) if throttle.max > 0 && !window.is_zero() => {
                    Throttle::new(throttle.max, window)
                }
                (false, Some(_)) => {
                    return Err(
                        self.invalid(&key("throttle"), "max and window must be above zero".into())
                    )
                }
                _ => {
                    return Err(self.invalid(
                        &key("throttle"),
                        "give a window, or once = true (not both)".into(),
                    ))
                }
            };
            rule = rule.with_throttle(limit, group_by);
        }
        Ok(rule)
    }

    fn detection(&self, index: usize) -> Result<Detection, ConfigError> {
        let key = |name: &str| format!("detections[{index}].{name}");
        let writes = |name: &Option<String>| match name {
            None => Ok(None),
            Some(name) => name.parse::<SecurityEvent>().map(Some).map_err(|_| {
                self.invalid(
                    &key("writes"),
                    format!("{name:?} is not an event of the catalog"),
                )
            }),
        };
        let query = |text: &str, name: &str| {
            Query::parse(text).map_err(|e| self.invalid(&key(name), e.to_string()))
        };
        let detection: Detection = match &self.detections[index] {
            DetectionConfig::Threshold(config) => {
                let group_by = Field::parse(&config.group_by)
                    .map_err(|e| self.invalid(&key("group_by"), e.to_string()))?;
                let mut threshold = Threshold::new(
                    &config.name,
                    query(&config.when, "when")?,
                    group_by,
                    config.count,
                    config.window,
                );
                if let Some(event) = writes(&config.writes)? {
                    threshold = threshold.writes(event);
                }
                threshold.into()
            }
            DetectionConfig::ImpossibleTravel(config) => {
                let mut travel = ImpossibleTravel::new(&config.name);
                if let Some(when) = &config.when {
                    travel = travel.condition(query(when, "when")?);
                }
                if let Some(speed) = config.max_speed_kmh {
                    travel = travel.max_speed_kmh(speed);
                }
                if let Some(distance) = config.min_distance_km {
                    travel = travel.min_distance_km(distance);
                }
                if let Some(event) = writes(&config.writes)? {
                    travel = travel.writes(event);
                }
                travel.into()
            }
        };
        // The detection's own check, with the key of the setting at fault.
        match detection.problem() {
            Some((setting, reason)) => Err(self.invalid(&key(setting), reason.to_owned())),
            None => Ok(detection),
        }
    }
}

fn transport_retry(transport: &TransportConfig) -> &RetryConfig {
    match transport {
        TransportConfig::Webhook(webhook) => &webhook.retry,
        TransportConfig::Email(email) => &email.retry,
    }
}

fn retry(config: &RetryConfig) -> Retry {
    Retry {
        retries: config.retries,
        backoff: config.backoff,
        max_backoff: config.max_backoff.max(Duration::from_millis(1)),
    }
}
