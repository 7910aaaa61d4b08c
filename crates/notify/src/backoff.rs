//! When a failed delivery is tried again, and when it is given up: waits grow
//! threefold from `initial` up to `max`, each with ±20 % jitter so retries of
//! many messages after one outage do not arrive together; a receiver's
//! `Retry-After` is honoured (capped at `max`); after `max_attempts` attempts
//! or `max_age` since queueing, the delivery is dead.
//!
//! With the defaults (10 s, at most 4 h, 10 attempts, 24 h) the attempts span
//! about 11 hours, close to the Standard Webhooks example schedule.

use std::time::Duration;

use rand::Rng as _;

/// The retry schedule and its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Wait before the first retry.
    pub initial: Duration,
    /// Longest wait.
    pub max: Duration,
    /// Attempts before giving up.
    pub max_attempts: u32,
    /// Age (since queueing) after which a delivery is given up.
    pub max_age: Duration,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Try again after this wait.
    RetryIn(Duration),
    /// Give up.
    GiveUp,
}

impl Backoff {
    /// After the `attempts`-th failed attempt (1 for the first) of a delivery
    /// queued `age` ago, with the receiver asking for `asked` if it did.
    pub fn next(&self, attempts: u32, age: Duration, asked: Option<Duration>) -> Next {
        if attempts >= self.max_attempts {
            return Next::GiveUp;
        }
        let wait = match asked {
            Some(asked) => asked.min(self.max),
            None => jitter(self.base(attempts)),
        };
        if age + wait > self.max_age {
            return Next::GiveUp;
        }
        Next::RetryIn(wait)
    }

    /// The wait after failed attempt `attempts`, before jitter.
    pub fn base(&self, attempts: u32) -> Duration {
        let factor = 3u32.saturating_pow(attempts.saturating_sub(1).min(30));
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// `wait` ± 20 %.
fn jitter(wait: Duration) -> Duration {
    wait.mul_f64(rand::rng().random_range(0.8..=1.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff() -> Backoff {
        Backoff {
            initial: Duration::from_secs(10),
            max: Duration::from_secs(4 * 3600),
            max_attempts: 10,
            max_age: Duration::from_secs(24 * 3600),
        }
    }

    #[test]
    fn waits_grow_threefold_with_jitter_up_to_the_cap() {
        let b = backoff();
        let bases: Vec<u64> = (1..=9).map(|n| b.base(n).as_secs()).collect();
        assert_eq!(bases, [10, 30, 90, 270, 810, 2430, 7290, 14400, 14400]);
        for _ in 0..100 {
            let Next::RetryIn(wait) = b.next(1, Duration::ZERO, None) else {
                panic!("gave up too soon");
            };
            assert!((8_000..=12_000).contains(&wait.as_millis()), "{wait:?}");
        }
    }

    #[test]
    fn gives_up_after_the_attempts_or_the_age() {
        let b = backoff();
        assert_eq!(b.next(10, Duration::ZERO, None), Next::GiveUp);
        assert_eq!(
            b.next(3, Duration::from_secs(24 * 3600 - 5), None),
            Next::GiveUp
        );
        assert_eq!(
            b.next(1, Duration::ZERO, Some(Duration::from_secs(120))),
            Next::RetryIn(Duration::from_secs(120))
        );
        assert_eq!(
            b.next(1, Duration::ZERO, Some(Duration::from_secs(86_400))),
            Next::RetryIn(Duration::from_secs(4 * 3600))
        );
    }
}
