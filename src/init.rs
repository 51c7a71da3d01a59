//! The one-call start from the configuration: the file named by `SECURITY_LOG_CONFIG` and the
//! environment, installed as the global subscriber.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::{BuildError, Builder, FlushGuard};

/// Why [`init`] could not start the log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// The configuration was refused.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// It could not be applied.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A global `tracing` subscriber was already set.
    #[error("a global tracing subscriber is already set: {0}")]
    Subscriber(#[from] tracing_subscriber::util::TryInitError),
}

/// Starts the security log from [`Config::load`](crate::config::Config::load) (the file named by `SECURITY_LOG_CONFIG`, or
/// the defaults: a file sink `security-events.jsonl` in the working directory), with the
/// security layer as the global subscriber. Keep the guard for the life of the service.
pub fn init() -> Result<(FlushGuard, crate::config::ReloadHandle), InitError> {
    let config = crate::config::Config::load()?;
    let (layer, guard, reload) = Builder::from_config(&config).build_with_reload()?;
    tracing_subscriber::registry().with(layer).try_init()?;
    Ok((guard, reload))
}
