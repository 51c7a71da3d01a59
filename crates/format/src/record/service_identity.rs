//! Where the `service` part of every record comes from: the code, then the configuration, then
//! the environment.

use super::ServiceInfo;

impl ServiceInfo {
    /// The parts of `self` (the code's), with those it left unset taken from `fallback` (a
    /// configuration's).
    #[doc(hidden)]
    pub fn or(&self, fallback: &ServiceInfo) -> ServiceInfo {
        ServiceInfo {
            name: self.name.clone().or_else(|| fallback.name.clone()),
            version: self.version.clone().or_else(|| fallback.version.clone()),
            instance: self.instance.clone().or_else(|| fallback.instance.clone()),
        }
    }

    /// Fills the name and instance still unset from the environment: `OTEL_SERVICE_NAME` or
    /// the executable's name, and the host name.
    #[doc(hidden)]
    pub fn with_environment_defaults(mut self) -> ServiceInfo {
        if self.name.is_none() {
            self.name = std::env::var("OTEL_SERVICE_NAME")
                .ok()
                .filter(|name| !name.is_empty())
                .or_else(|| {
                    let exe = std::env::current_exe().ok()?;
                    Some(exe.file_stem()?.to_string_lossy().into_owned())
                });
        }
        if self.instance.is_none() {
            self.instance = host_name();
        }
        self
    }
}

/// The machine's name, as the operating system gives it (gethostname on Unix).
fn host_name() -> Option<String> {
    hostname::get()
        .ok()
        .map(|name| name.to_string_lossy().trim().to_owned())
        .filter(|name| !name.is_empty())
}
