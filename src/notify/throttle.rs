//! At most N notifications per window per group key, in bounded memory, with a count of what
//! was held back handed to the next one that goes out.

use std::convert::Infallible;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// How many notifications a rule may send: at most `max` per `window` for each value of its
/// group key (`actor.id`, `client.ip`; one group when the rule has no key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Notifications per window and group.
    pub max: u32,
    /// The window.
    pub window: Duration,
}

impl Throttle {
    /// At most `max` per `window`.
    pub fn new(max: u32, window: Duration) -> Self {
        Throttle {
            max: max.max(1),
            window,
        }
    }

    /// Once per group, ever (authentik's "send once"): one in a window of a hundred years.
    pub fn once() -> Self {
        Throttle::new(1, Duration::from_secs(100 * 365 * 86_400))
    }
}

/// One group's window.
#[derive(Debug, Clone, Copy)]
struct Group {
    started: DateTime<Utc>,
    sent: u32,
    suppressed: u64,
}

/// The throttle's state for one rule: a window per group key, at most `capacity` groups in a
/// bounded cache that forgets the least useful first (quick_cache's S3-FIFO), so an attacker
/// cycling through addresses costs bounded memory and constant time per record. A forgotten
/// group starts again as new.
pub(crate) struct Throttled {
    throttle: Throttle,
    groups: quick_cache::unsync::Cache<String, Group>,
}

impl std::fmt::Debug for Throttled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttled")
            .field("throttle", &self.throttle)
            .field("groups", &self.groups.len())
            .finish()
    }
}

/// What the throttle says of one matching record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Send, saying how many were held back in this group since the last one sent.
    Send { suppressed: u64 },
    /// Hold back (counted).
    Suppress,
}

impl Throttled {
    pub(crate) fn new(throttle: Throttle, capacity: usize) -> Self {
        Throttled {
            throttle,
            groups: quick_cache::unsync::Cache::new(capacity.max(1)),
        }
    }

    /// The verdict for a record of group `key` at `now`.
    pub(crate) fn check(&mut self, key: &str, now: DateTime<Utc>) -> Verdict {
        let window =
            chrono::Duration::from_std(self.throttle.window).unwrap_or(chrono::Duration::MAX);
        let max = self.throttle.max;
        let fresh = || {
            Ok::<_, Infallible>(Group {
                started: now,
                sent: 0,
                suppressed: 0,
            })
        };
        let mut untracked = Group {
            started: now,
            sent: 0,
            suppressed: 0,
        };
        let mut entry = self
            .groups
            .get_mut_or_insert_with(key, fresh)
            .ok()
            .flatten();
        let group: &mut Group = match entry.as_deref_mut() {
            Some(group) => group,
            // Not admitted to the cache: judged as a new group.
            None => &mut untracked,
        };
        if now.signed_duration_since(group.started) >= window {
            group.started = now;
            group.sent = 0;
        }
        if group.sent < max {
            group.sent += 1;
            Verdict::Send {
                suppressed: std::mem::take(&mut group.suppressed),
            }
        } else {
            group.suppressed += 1;
            Verdict::Suppress
        }
    }

    /// Groups held now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.groups.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn at_most_n_per_window_and_the_next_one_says_how_many_were_held() {
        let mut throttled = Throttled::new(Throttle::new(2, Duration::from_secs(60)), 100);
        let verdicts: Vec<Verdict> = (0..5).map(|s| throttled.check("10.0.0.1", at(s))).collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Send { suppressed: 0 },
                Verdict::Send { suppressed: 0 },
                Verdict::Suppress,
                Verdict::Suppress,
                Verdict::Suppress
            ]
        );
        // Another group has its own window.
        assert_eq!(
            throttled.check("10.0.0.2", at(5)),
            Verdict::Send { suppressed: 0 }
        );
        // A new window: the three held back are counted in the first one sent.
        assert_eq!(
            throttled.check("10.0.0.1", at(61)),
            Verdict::Send { suppressed: 3 }
        );
        assert_eq!(
            throttled.check("10.0.0.1", at(62)),
            Verdict::Send { suppressed: 0 }
        );
    }

    #[test]
    fn once_means_once_per_group() {
        let mut throttled = Throttled::new(Throttle::once(), 10);
        assert_eq!(throttled.check("a", at(0)), Verdict::Send { suppressed: 0 });
        assert_eq!(throttled.check("a", at(86_400 * 365)), Verdict::Suppress);
        assert_eq!(throttled.check("b", at(1)), Verdict::Send { suppressed: 0 });
    }

    #[test]
    fn memory_is_bounded_whatever_the_number_of_keys() {
        let mut throttled = Throttled::new(Throttle::new(1, Duration::from_secs(60)), 1000);
        for n in 0..100_000 {
            throttled.check(
                &format!("198.51.{}.{}", n / 256 % 256, n % 256),
                at(n / 1000),
            );
        }
        assert!(throttled.len() <= 1000, "{}", throttled.len());
        // The group seen last is still held; the oldest were forgotten.
        assert_eq!(
            throttled.check("198.51.134.159", at(100)),
            Verdict::Suppress
        );
    }
}
