//! A realistic security log written through the layer itself, shared by the examples that need
//! one (`generate_log`, `security_console`) and the read API's tests: hundreds of actors across
//! several tenants, thousands of client addresses with a country, city and ASN, the catalog's
//! event mix (sign-ins above all), brute-force bursts against one account from one address,
//! role changes with their diff, API keys, exports, and one client whose user agent is markup.
//! Records are spread over the last `days` days (a clock of its own moves forward with each
//! record) and rotated every `rotate_mb` MiB. Deterministic for a seed.

#![allow(dead_code, unreachable_pub, reason = "each user takes what it needs")]

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tracing_security_events::integrity::EpochKey;
use tracing_security_events::sink::{CheckpointConfig, FileConfig};
use tracing_security_events::{security_event, Builder, Changes, Clock, SecurityEvent, Stats};
use tracing_subscriber::prelude::*;

const TENANTS: [&str; 6] = ["acme", "globex", "initech", "umbrella", "hooli", "stark"];
const PLACES: [(&str, &str, u32); 12] = [
    ("DE", "Berlin", 3320),
    ("FR", "Paris", 3215),
    ("US", "Ashburn", 14618),
    ("US", "San Francisco", 13335),
    ("GB", "London", 2856),
    ("NL", "Amsterdam", 1136),
    ("JP", "Tokyo", 2516),
    ("BR", "Sao Paulo", 28573),
    ("IN", "Mumbai", 9829),
    ("AU", "Sydney", 1221),
    ("CA", "Toronto", 577),
    ("RU", "Moscow", 12389),
];
const AGENTS: [&str; 5] = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "curl/8.11.0",
    "python-requests/2.32.3",
];
const ROLES: [&str; 5] = ["viewer", "member", "billing_admin", "admin", "owner"];

/// The user agent of one client in every log: markup that a page must show as text.
pub const HOSTILE_USER_AGENT: &str = "<img src=x onerror=alert(1)>";

/// The log's time: starts `days` ago and is moved forward by the generator.
#[derive(Debug)]
struct GeneratorClock(AtomicI64);

impl Clock for GeneratorClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.0.load(Ordering::Relaxed)).unwrap_or_default()
    }
}

/// A client: its address and where it is.
struct Client {
    ip: String,
    place: (&'static str, &'static str, u32),
    agent: &'static str,
}

/// What to write.
#[derive(Debug, Clone)]
pub struct SyntheticLog {
    /// Records in all.
    pub records: u64,
    /// Rotate the file at this size.
    pub rotate_mb: u64,
    /// The random choices' seed.
    pub seed: u64,
    /// Spread over the last this many days.
    pub days: u64,
    /// Sign checkpoints with this key file (made when missing).
    pub checkpoint_key: Option<std::path::PathBuf>,
    /// `None`: 400 actors, each as active as the others. `Some(n)`: `n` actors (and as many
    /// client addresses), a few very active and most seldom seen, as in a large service's
    /// year: the long tail a needle question looks for.
    pub actors: Option<usize>,
    /// Leave the file sink's index beside each rotated file.
    pub index: bool,
}

impl Default for SyntheticLog {
    fn default() -> Self {
        SyntheticLog {
            records: 100_000,
            rotate_mb: 64,
            seed: 7,
            days: 30,
            checkpoint_key: None,
            actors: None,
            index: false,
        }
    }
}

impl SyntheticLog {
    /// Writes the log as `security.jsonl` (and its rotated files) in `dir`.
    pub fn write(&self, dir: &Path) -> Result<Stats, Box<dyn std::error::Error>> {
        self.write_with(dir, |builder| builder)
    }

    /// Writes the log as `write` does, through the builder as `configure` changes it (another
    /// sink beside the file, say).
    pub fn write_with(
        &self,
        dir: &Path,
        configure: impl FnOnce(Builder) -> Builder,
    ) -> Result<Stats, Box<dyn std::error::Error>> {
        self.write_then(dir, configure, || {})
    }

    /// [`write_with`](Self::write_with), calling `before_shutdown` once every record is emitted
    /// (a bench waits there for a slow sink).
    pub fn write_then(
        &self,
        dir: &Path,
        configure: impl FnOnce(Builder) -> Builder,
        before_shutdown: impl FnOnce(),
    ) -> Result<Stats, Box<dyn std::error::Error>> {
        std::fs::create_dir_all(dir)?;
        let mut rng = fastrand::Rng::with_seed(self.seed);
        let start = Utc::now().timestamp_micros() - (self.days * 86_400_000_000) as i64;
        let step = (self.days * 86_400_000_000 / self.records.max(1)).max(1) as i64;
        let clock = Arc::new(GeneratorClock(AtomicI64::new(start)));
        let path = dir.join("security.jsonl");
        let mut file = FileConfig::new(&path)
            .rotate_at_size(self.rotate_mb << 20)
            .with_index(self.index);
        if let Some(key_file) = &self.checkpoint_key {
            if !key_file.exists() {
                EpochKey::generate()?.save(key_file)?;
            }
            file = file.with_checkpoints(CheckpointConfig::new(key_file));
        }
        let (layer, guard) = configure(
            tracing_security_events::builder()
                .with_file_config(file)
                .with_clock(clock.clone())
                .with_service_name("generated-saas")
                .with_service_version("3.1.4")
                .with_service_instance("app-1"),
        )
        .build()?;

        let mut clients: Vec<Client> = (0..self.actors.unwrap_or(0).max(3000))
            .map(|n| Client {
                ip: if n % 10 == 0 {
                    format!("2001:db8:{:x}::{:x}", rng.u16(..), rng.u16(1..))
                } else {
                    format!(
                        "{}.{}.{}.{}",
                        rng.u8(1..224),
                        rng.u8(..),
                        rng.u8(..),
                        rng.u8(1..255)
                    )
                },
                place: PLACES[rng.usize(..PLACES.len())],
                agent: AGENTS[rng.usize(..AGENTS.len())],
            })
            .collect();
        // Actors, each in one tenant, with a few addresses of their own.
        let actors: Vec<(String, &str, Vec<usize>)> = (0..self.actors.unwrap_or(400))
            .map(|n| {
                let tenant = TENANTS[n % TENANTS.len()];
                let own = (0..rng.usize(1..4))
                    .map(|_| rng.usize(..clients.len()))
                    .collect();
                (format!("user-{n}"), tenant, own)
            })
            .collect();
        // One client of a few actors sends markup as its user agent.
        for actor in actors.iter().step_by(40) {
            clients[actor.2[0]].agent = HOSTILE_USER_AGENT;
        }

        let subscriber = tracing_subscriber::registry().with(layer);
        let mut written = 0u64;
        tracing::subscriber::with_default(subscriber, || {
            while written < self.records {
                // Now and then, a brute-force burst against one account from one address.
                let burst = rng.u32(..1000) < 1;
                let actor = &actors[match self.actors {
                    None => rng.usize(..actors.len()),
                    // The cube of a uniform draw: the first hundredth of the actors act in a
                    // fifth of the records, the last half in a fifth.
                    #[allow(
                        clippy::cast_possible_truncation,
                        clippy::cast_sign_loss,
                        clippy::cast_precision_loss,
                        reason = "below the count"
                    )]
                    Some(n) => ((n as f64) * rng.f64().powi(3)) as usize,
                }];
                let client = if burst {
                    &clients[rng.usize(..clients.len())]
                } else {
                    &clients[actor.2[rng.usize(..actor.2.len())]]
                };
                let email = format!("{}@{}.example", actor.0, actor.1);
                let request_id = format!("req-{written:x}");
                let (country, city, asn) = client.place;
                let span = tracing::info_span!(
                    "request",
                    actor.id = %actor.0,
                    actor.email = %email,
                    tenant.id = actor.1,
                    client.ip = %client.ip,
                    client.port = rng.u16(1024..),
                    client.geo.country = country,
                    client.geo.city = city,
                    client.geo.asn = asn,
                    user_agent = client.agent,
                    request.id = %request_id,
                );
                let _entered = span.enter();
                let count = if burst { rng.u64(30..120) } else { 1 };
                for _ in 0..count.min(self.records - written) {
                    clock
                        .0
                        .fetch_add(if burst { step / 20 + 1 } else { step }, Ordering::Relaxed);
                    emit(&mut rng, burst, written);
                    written += 1;
                }
            }
        });
        before_shutdown();
        Ok(guard.shutdown()?)
    }
}

/// One event of the catalog's mix (a failed sign-in when in a burst).
fn emit(rng: &mut fastrand::Rng, burst: bool, n: u64) {
    if burst {
        security_event!(
            SecurityEvent::LoginFailed,
            authentication.method = "password",
            reason = "wrong password",
            http.method = "POST",
            url.path = "/login"
        );
        return;
    }
    match rng.u32(..1000) {
        0..=399 => security_event!(
            SecurityEvent::LoginSucceeded,
            authentication.method = ["password", "totp", "passkey", "oauth"][rng.usize(..4)],
            http.method = "POST",
            url.path = "/login"
        ),
        400..=479 => security_event!(
            SecurityEvent::LoginFailed,
            authentication.method = "password",
            reason = "wrong password",
            http.method = "POST",
            url.path = "/login"
        ),
        480..=599 => {
            security_event!(SecurityEvent::SessionCreated, session.id = %format!("s-{n:x}"))
        }
        600..=679 => {
            security_event!(SecurityEvent::SensitiveDataRead, target.kind = "invoice", target.id = %format!("inv-{}", rng.u32(..50_000)), http.method = "GET", url.path = "/api/invoices")
        }
        680..=729 => security_event!(
            SecurityEvent::AuthorizationDenied,
            reason = "missing permission",
            permission = "billing:write",
            http.method = "DELETE",
            url.path = "/api/invoices"
        ),
        730..=769 => {
            security_event!(SecurityEvent::UserUpdated, target.kind = "user", target.id = %format!("user-{}", rng.u32(..400)))
        }
        770..=789 => {
            let old = ROLES[rng.usize(..ROLES.len())];
            let new = ROLES[rng.usize(..ROLES.len())];
            let diff = Changes::new().field("roles", [old], [old, new]);
            security_event!(SecurityEvent::UserRoleChanged, target.kind = "user", target.id = %format!("user-{}", rng.u32(..400)), changes = %diff);
        }
        790..=809 => {
            security_event!(SecurityEvent::ApiKeyRotated, target.kind = "api_key", target.id = %format!("ak_live_{:x}", rng.u32(..)))
        }
        810..=819 => {
            security_event!(SecurityEvent::ApiKeyCreated, target.kind = "api_key", target.id = %format!("ak_live_{:x}", rng.u32(..)), scopes = "read,write")
        }
        820..=839 => security_event!(
            SecurityEvent::DataExported,
            rows = rng.u32(1..200_000),
            format = "csv",
            target.kind = "report",
            target.name = "customers.csv"
        ),
        840..=869 => security_event!(
            SecurityEvent::RateLimitExceeded,
            limit = 100,
            window_seconds = 60
        ),
        870..=889 => security_event!(SecurityEvent::PasswordResetRequested),
        890..=909 => security_event!(SecurityEvent::MfaEnabled, authentication.method = "totp"),
        910..=929 => security_event!(SecurityEvent::SignedOut),
        930..=944 => {
            security_event!(SecurityEvent::UserInvited, target.kind = "user", target.id = %format!("invitee-{n:x}"))
        }
        945..=959 => security_event!(
            SecurityEvent::InputValidationFailed,
            field = "email",
            reason = "not an email address"
        ),
        960..=969 => {
            security_event!(SecurityEvent::WebhookEndpointUpdated, target.kind = "webhook_endpoint", target.id = %format!("we-{}", rng.u32(..100)))
        }
        970..=979 => {
            security_event!(SecurityEvent::ConfigUpdated, changes = %Changes::new().field("session_timeout_minutes", 30, 15))
        }
        980..=989 => security_event!(SecurityEvent::AttackToolDetected, tool = "sqlmap"),
        _ => security_event!(SecurityEvent::TokenRevoked, reason = "user request"),
    }
}
