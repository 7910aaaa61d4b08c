//! Throttling wrong passwords (the login form, `POST /api/v1/password`, the
//! Settings page's password change) without letting a stranger lock anyone out.
//!
//! Failures are counted per (user name, client address): after
//! `max_failures` the pair waits, and each further failure doubles the wait (30 s,
//! 1 min, 2 min, ... up to the window). A name is never locked from every address
//! at once, so a stranger's wrong passwords naming `admin` do not keep the real
//! admin out. An address that fails for many names (a spray) is stopped as a
//! whole after `max_failures_per_address`, except for the names it logged in as
//! successfully within the last `trust` period.
//!
//! Memory is bounded: at most `max_keys` pairs, addresses and trusted pairs are
//! kept; when full, entries past their window are dropped, and if none are, new
//! keys count as limited (an attacker filling the table locks out logins, not
//! memory).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// First wait after `max_failures`; doubled by each further failure.
const FIRST_WAIT: Duration = Duration::from_secs(30);

/// What the limiter says about an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It may be tried.
    Allowed,
    /// Not before this much time has passed.
    Wait(Duration),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

#[derive(Debug, Default)]
struct Table {
    pairs: HashMap<(String, IpAddr), Failures>,
    addresses: HashMap<IpAddr, Failures>,
    trusted: HashMap<(String, IpAddr), Instant>,
}

/// The throttle, shared by every login path.
#[derive(Debug)]
pub struct LoginLimiter {
    table: Mutex<Table>,
    max_failures: u32,
    max_failures_per_address: u32,
    window: Duration,
    trust: Duration,
    max_keys: usize,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::new(5, Duration::from_secs(15 * 60), 10_000)
    }
}

fn name_key(user: &str) -> String {
    user.chars().take(64).collect()
}

impl LoginLimiter {
    /// `max_failures` per (name, address) before back-off, six times as many per
    /// address for all names, counts forgotten `window` after the last failure,
    /// successful logins trusted for 30 days, at most `max_keys` entries a table.
    pub fn new(max_failures: u32, window: Duration, max_keys: usize) -> LoginLimiter {
        LoginLimiter {
            table: Mutex::new(Table::default()),
            max_failures: max_failures.max(1),
            max_failures_per_address: max_failures.max(1).saturating_mul(6),
            window,
            trust: Duration::from_secs(30 * 24 * 3600),
            max_keys,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long a key with `f` must still wait (zero: it may try).
    fn wait(&self, f: &Failures, limit: u32, now: Instant) -> Duration {
        if f.count < limit || now.duration_since(f.last) > self.window {
            return Duration::ZERO;
        }
        let doublings = (f.count - limit).min(16);
        let backoff = FIRST_WAIT.saturating_mul(1 << doublings).min(self.window);
        backoff.saturating_sub(now.duration_since(f.last))
    }

    /// Whether `ip` may try a password for `user` now.
    pub fn check(&self, ip: IpAddr, user: &str) -> Verdict {
        let table = self.lock();
        let now = Instant::now();
        let pair = (name_key(user), ip);
        let trusted = table
            .trusted
            .get(&pair)
            .is_some_and(|t| now.duration_since(*t) <= self.trust);
        let mut wait = match table.pairs.get(&pair) {
            Some(f) => self.wait(f, self.max_failures, now),
            None if table.pairs.len() >= self.max_keys => self.window,
            None => Duration::ZERO,
        };
        if !trusted && let Some(f) = table.addresses.get(&ip) {
            wait = wait.max(self.wait(f, self.max_failures_per_address, now));
        }
        if wait.is_zero() {
            Verdict::Allowed
        } else {
            Verdict::Wait(wait)
        }
    }

    /// Whether `ip` may try a password for `user` now.
    pub fn allowed(&self, ip: IpAddr, user: &str) -> bool {
        self.check(ip, user) == Verdict::Allowed
    }

    /// Records a wrong password; says what this failure made wait, if anything:
    /// a lock-out worth reporting (`name`: this name from this address;
    /// `address`: the address for every name it is not trusted for).
    pub fn failed(&self, ip: IpAddr, user: &str) -> Option<&'static str> {
        let mut table = self.lock();
        let now = Instant::now();
        let window = self.window;
        let fresh = |f: &Failures| now.duration_since(f.last) <= window;
        if table.pairs.len() >= self.max_keys {
            table.pairs.retain(|_, f| fresh(f));
        }
        if table.addresses.len() >= self.max_keys {
            table.addresses.retain(|_, f| fresh(f));
        }
        let bump = |f: &mut Failures| {
            if now.duration_since(f.last) > window {
                *f = Failures {
                    count: 0,
                    last: now,
                };
            }
            f.count += 1;
            f.last = now;
            f.count
        };
        let new = Failures {
            count: 0,
            last: now,
        };
        let mut locked = None;
        let pair = (name_key(user), ip);
        if table.pairs.len() < self.max_keys || table.pairs.contains_key(&pair) {
            let count = bump(table.pairs.entry(pair).or_insert(new));
            if count == self.max_failures {
                locked = Some("name");
            }
        }
        if table.addresses.len() < self.max_keys || table.addresses.contains_key(&ip) {
            let count = bump(table.addresses.entry(ip).or_insert(new));
            if count == self.max_failures_per_address {
                locked = Some("address");
            }
        }
        locked
    }

    /// A right password: the pair's failures are forgotten and the address is
    /// trusted for that name (the address keeps its count for other names, so
    /// one good account cannot reset a spray).
    pub fn succeeded(&self, ip: IpAddr, user: &str) {
        let mut table = self.lock();
        let pair = (name_key(user), ip);
        table.pairs.remove(&pair);
        let now = Instant::now();
        if table.trusted.len() >= self.max_keys {
            let trust = self.trust;
            table.trusted.retain(|_, t| now.duration_since(*t) <= trust);
        }
        if table.trusted.len() < self.max_keys || table.trusted.contains_key(&pair) {
            table.trusted.insert(pair, now);
        }
    }

    /// Failures of `ip` in its current count, for reports.
    pub fn failures_of(&self, ip: IpAddr) -> u32 {
        self.lock().addresses.get(&ip).map_or(0, |f| f.count)
    }
}

impl crate::AppState {
    /// Records a wrong password for `user` from `ip` (`via`: where it was typed),
    /// and reports a resulting lock-out as an `auth.lockout` event on the bus
    /// (never waiting: a full bus counts it as dropped).
    pub(crate) fn wrong_password(&self, ip: IpAddr, user: &str, via: &str) {
        let Some(scope) = self.limiter.failed(ip, user) else {
            return;
        };
        let shown = nectar_event::text::visible(user, 64);
        let summary = match scope {
            "address" => format!("{ip} made to wait after wrong passwords for many names ({via})"),
            _ => format!("{ip} made to wait after wrong passwords for {shown} ({via})"),
        };
        let event = nectar_event::Event::new(
            self.sensor.as_ref(),
            nectar_event::Kind::AuthLockout,
            nectar_event::Severity::Medium,
            summary,
        )
        .from_addr(ip, None)
        .with(nectar_event::field::USERNAME, name_key(user))
        .with("failures", self.limiter.failures_of(ip))
        .with("scope", scope)
        .with("via", via);
        tracing::warn!(%ip, user = %shown, scope, via, "Wrong passwords: the client must wait.");
        self.bus.try_send(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 2));

    #[test]
    fn a_stranger_cannot_lock_a_name_out_of_other_addresses() {
        let limiter = LoginLimiter::new(5, Duration::from_secs(900), 100);
        for i in 0..10 {
            let expected = (i == 4).then_some("name");
            assert_eq!(limiter.failed(A, "admin"), expected, "failure {i}");
        }
        assert!(!limiter.allowed(A, "admin"), "the pair waits");
        assert!(limiter.allowed(B, "admin"), "the admin elsewhere does not");
    }

    #[test]
    fn the_wait_doubles_with_each_failure_up_to_the_window() {
        let limiter = LoginLimiter::new(3, Duration::from_secs(600), 100);
        let mut waits = Vec::new();
        for _ in 0..8 {
            limiter.failed(A, "root");
            if let Verdict::Wait(w) = limiter.check(A, "root") {
                waits.push(w.as_secs().div_ceil(30) * 30);
            }
        }
        assert_eq!(waits, [30, 60, 120, 240, 480, 600]);
    }

    #[test]
    fn a_spray_stops_the_address_but_not_its_trusted_names() {
        let limiter = LoginLimiter::new(2, Duration::from_secs(900), 100);
        limiter.succeeded(A, "alice");
        for i in 0..12 {
            limiter.failed(A, &format!("user{i}"));
        }
        assert!(
            !limiter.allowed(A, "someone-else"),
            "the address is stopped"
        );
        assert!(limiter.allowed(A, "alice"), "alice logged in from here");
        assert!(limiter.allowed(B, "someone-else"));
    }

    #[test]
    fn memory_is_bounded() {
        let limiter = LoginLimiter::new(3, Duration::from_secs(60), 3);
        for i in 0..3u8 {
            limiter.failed(IpAddr::from([192, 0, 2, i]), "x");
        }
        // Every table full of fresh entries: an unknown pair is refused, not stored.
        assert!(!limiter.allowed(IpAddr::from([192, 0, 2, 9]), "y"));
        limiter.failed(IpAddr::from([192, 0, 2, 9]), "y");
        assert_eq!(limiter.lock().pairs.len(), 3);
    }
}
