//! Rate limiting: a token bucket (GCRA, from the `governor` crate) per
//! credential, and per client IP for anonymous requests. Checked before the
//! credential is verified, so a flood of bad keys costs no database lookup.
//!
//! Each server instance keeps its own buckets: behind a load balancer with
//! N instances a client gets up to N times the rate. That is the usual
//! trade-off (no shared store on the request path); set the rate per
//! instance accordingly.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// A rate: so many requests a second, with a burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_second: u32,
    pub burst: u32,
}

impl Rate {
    /// Parses `N` or `N/BURST` (requests per second, burst); `0` turns the limit off.
    pub fn parse(s: &str) -> Result<Option<Rate>, String> {
        let (rate, burst) = match s.split_once('/') {
            Some((r, b)) => (r, Some(b)),
            None => (s, None),
        };
        let per_second: u32 = rate
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: expected requests per second, as N or N/BURST"))?;
        if per_second == 0 {
            return Ok(None);
        }
        let burst = match burst {
            Some(b) => b
                .trim()
                .parse()
                .map_err(|_| format!("{s:?}: the burst after '/' must be a whole number"))?,
            None => per_second.saturating_mul(2),
        };
        Ok(Some(Rate {
            per_second,
            burst: burst.max(1),
        }))
    }

    fn quota(self) -> Quota {
        let nz = |n: u32| NonZeroU32::new(n.max(1)).expect("at least 1");
        Quota::per_second(nz(self.per_second)).allow_burst(nz(self.burst))
    }
}

/// Who a bucket belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Caller {
    /// A credential, by its public part (an API key's prefix, a token's hash).
    Credential(String),
    /// An anonymous client, by IP.
    Ip(IpAddr),
}

/// The limiters of one server instance.
pub struct RateLimits {
    credential: Option<DefaultKeyedRateLimiter<String>>,
    anonymous: Option<DefaultKeyedRateLimiter<IpAddr>>,
    checks: AtomicU64,
    /// Made once: creating a clock calibrates it (`cpuid` and all), which
    /// per request was a twentieth of a small query's time.
    clock: DefaultClock,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("credential", &self.credential.is_some())
            .field("anonymous", &self.anonymous.is_some())
            .finish()
    }
}

impl RateLimits {
    pub fn new(per_credential: Option<Rate>, per_anonymous_ip: Option<Rate>) -> Self {
        RateLimits {
            credential: per_credential.map(|r| RateLimiter::keyed(r.quota())),
            anonymous: per_anonymous_ip.map(|r| RateLimiter::keyed(r.quota())),
            checks: AtomicU64::new(0),
            clock: DefaultClock::default(),
        }
    }

    /// `Err(wait)` when the caller must wait before its next request.
    pub fn check(&self, caller: &Caller) -> Result<(), Duration> {
        // Forget idle buckets now and then, so a scan from many addresses
        // does not grow the maps for ever.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            if let Some(l) = &self.credential {
                l.retain_recent();
            }
            if let Some(l) = &self.anonymous {
                l.retain_recent();
            }
        }
        let verdict = match caller {
            Caller::Credential(k) => self.credential.as_ref().map(|l| l.check_key(k)),
            Caller::Ip(ip) => self.anonymous.as_ref().map(|l| l.check_key(ip)),
        };
        match verdict {
            Some(Err(not_until)) => Err(not_until.wait_time_from(self.clock.now())),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rates() {
        assert_eq!(Rate::parse("0").unwrap(), None);
        assert_eq!(
            Rate::parse("5").unwrap(),
            Some(Rate {
                per_second: 5,
                burst: 10
            })
        );
        assert_eq!(
            Rate::parse("5/1").unwrap(),
            Some(Rate {
                per_second: 5,
                burst: 1
            })
        );
        assert!(Rate::parse("fast").is_err());
    }

    #[test]
    fn a_bucket_empties_and_says_how_long_to_wait() {
        let r = RateLimits::new(Rate::parse("1/2").unwrap(), None);
        let me = Caller::Credential("abc".into());
        assert!(r.check(&me).is_ok());
        assert!(r.check(&me).is_ok());
        let wait = r.check(&me).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1), "{wait:?}");
        // Another caller has its own bucket; anonymous is unlimited here.
        assert!(r.check(&Caller::Credential("other".into())).is_ok());
        for _ in 0..100 {
            assert!(r.check(&Caller::Ip("127.0.0.1".parse().unwrap())).is_ok());
        }
    }
}
