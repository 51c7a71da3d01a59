//! User agent parsing: browser, version, operating system and device class, cached.

use std::fmt;
use std::sync::Arc;

use quick_cache::sync::Cache;

/// User agents longer than this are parsed every time instead of filling the cache.
const MAX_CACHED_LEN: usize = 512;
/// Recent answers by user agent string; `None` answers are cached too.
type AnswerCache = Cache<Box<str>, Option<Arc<ParsedUserAgent>>>;

/// What woothee answers for a part it cannot tell.
const UNKNOWN: &str = "UNKNOWN";

/// The kind of device a user agent runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeviceClass {
    /// A desktop or laptop computer.
    Desktop,
    /// A phone.
    Mobile,
    /// A tablet.
    Tablet,
    /// A crawler, bot or monitoring agent.
    Bot,
    /// A game console, TV or other appliance.
    Appliance,
    /// A library, command-line tool or something not recognised.
    Other,
}

impl DeviceClass {
    /// The name written in records (`desktop`, `mobile`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            DeviceClass::Desktop => "desktop",
            DeviceClass::Mobile => "mobile",
            DeviceClass::Tablet => "tablet",
            DeviceClass::Bot => "bot",
            DeviceClass::Appliance => "appliance",
            DeviceClass::Other => "other",
        }
    }
}

impl fmt::Display for DeviceClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a user agent string says about the client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ParsedUserAgent {
    /// Browser or client name (`Firefox`, `Chrome`, `Safari`, `Googlebot`).
    pub name: String,
    /// Its version, when given.
    pub version: Option<String>,
    /// Operating system (`Linux`, `Windows 10`, `iPhone`, `Android`), when recognised.
    pub os: Option<String>,
    /// The kind of device.
    pub device: DeviceClass,
}

impl ParsedUserAgent {
    /// `name/os`, the family used to tell devices apart (`Firefox/Linux`).
    pub fn family(&self) -> String {
        match &self.os {
            Some(os) => format!("{}/{}", self.name, os),
            None => self.name.clone(),
        }
    }
}

/// Parses user agent strings with the woothee rules, keeping recent answers in a bounded cache,
/// so a repeated user agent costs a lookup.
///
/// ```
/// use tracing_security_events::http::{DeviceClass, UserAgentParser};
///
/// let parser = UserAgentParser::new();
/// let ua = parser
///     .parse("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
///     .unwrap();
/// assert_eq!(ua.name, "Firefox");
/// assert_eq!(ua.version.as_deref(), Some("133.0"));
/// assert_eq!(ua.os.as_deref(), Some("Linux"));
/// assert_eq!(ua.device, DeviceClass::Desktop);
/// ```
#[derive(Clone)]
pub struct UserAgentParser {
    rules: Arc<woothee::parser::Parser>,
    cache: Option<Arc<AnswerCache>>,
}

impl fmt::Debug for UserAgentParser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserAgentParser")
            .field("cached", &self.cache.as_ref().map(|cache| cache.len()))
            .finish_non_exhaustive()
    }
}

impl Default for UserAgentParser {
    fn default() -> Self {
        UserAgentParser::new()
    }
}

impl UserAgentParser {
    /// The default cache holds this many user agents.
    pub const DEFAULT_CACHE_CAPACITY: usize = 4096;

    /// A parser with a cache of [`DEFAULT_CACHE_CAPACITY`](Self::DEFAULT_CACHE_CAPACITY) entries.
    pub fn new() -> Self {
        UserAgentParser::with_cache_capacity(Self::DEFAULT_CACHE_CAPACITY)
    }

    /// A parser caching up to `capacity` user agents; 0 parses every time.
    pub fn with_cache_capacity(capacity: usize) -> Self {
        UserAgentParser {
            rules: Arc::new(woothee::parser::Parser::new()),
            cache: (capacity > 0).then(|| Arc::new(Cache::new(capacity))),
        }
    }

    /// What `user_agent` says, or `None` when the rules recognise nothing in it.
    pub fn parse(&self, user_agent: &str) -> Option<Arc<ParsedUserAgent>> {
        match &self.cache {
            Some(cache) if user_agent.len() <= MAX_CACHED_LEN => {
                if let Some(known) = cache.get(user_agent) {
                    return known;
                }
                let parsed = self.parse_uncached(user_agent);
                cache.insert(user_agent.into(), parsed.clone());
                parsed
            }
            _ => self.parse_uncached(user_agent),
        }
    }

    fn parse_uncached(&self, user_agent: &str) -> Option<Arc<ParsedUserAgent>> {
        let result = self.rules.parse(user_agent)?;
        let known = |part: &str| (!part.is_empty() && part != UNKNOWN).then(|| part.to_owned());
        let name = known(result.name)?;
        let os = known(result.os);
        let device = match result.category {
            "pc" => DeviceClass::Desktop,
            "smartphone" if is_tablet(user_agent, os.as_deref()) => DeviceClass::Tablet,
            "smartphone" | "mobilephone" => DeviceClass::Mobile,
            "crawler" => DeviceClass::Bot,
            "appliance" => DeviceClass::Appliance,
            _ => DeviceClass::Other,
        };
        Some(Arc::new(ParsedUserAgent {
            name,
            version: known(result.version),
            os,
            device,
        }))
    }
}

/// woothee files tablets under smartphones: an iPad says so, an Android tablet omits "Mobile".
fn is_tablet(user_agent: &str, os: Option<&str>) -> bool {
    match os {
        Some("iPad") => true,
        Some("Android") => !user_agent.contains("Mobile"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_user_agent_is_answered_from_the_cache() {
        let parser = UserAgentParser::with_cache_capacity(16);
        let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        let first = parser.parse(ua).unwrap();
        let second = parser.parse(ua).unwrap();
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(first.name, "Chrome");
        assert_eq!(first.family(), "Chrome/Windows 10");
    }

    #[test]
    fn nothing_recognised_is_none_and_cached_too() {
        let parser = UserAgentParser::new();
        assert_eq!(parser.parse("\u{1b}[31m definitely not a browser"), None);
        assert_eq!(parser.parse(""), None);
        assert_eq!(parser.parse("\u{1b}[31m definitely not a browser"), None);
    }

    #[test]
    fn huge_user_agents_are_parsed_without_the_cache() {
        let parser = UserAgentParser::new();
        let huge = format!("Mozilla/5.0 {} Firefox/133.0", "x".repeat(1 << 20));
        let _ = parser.parse(&huge);
        assert_eq!(parser.cache.as_ref().unwrap().len(), 0);
    }
}
