//! Rate limiting, decided once the credential is verified: a token bucket
//! (GCRA, from the `governor` crate) per identity — an API key by its
//! prefix, a JWT by issuer and subject (`Principal::identity`) — and per
//! client address for anonymous requests and failed credentials. A failed
//! credential never touches an identity's bucket, so a flood of wrong
//! tokens throttles no valid user; failures are also counted per address
//! and per key prefix, and past [`MAX_FAILURES`] a minute the next failures
//! answer `429` instead of `401`.
//!
//! Every table is bounded (an LRU of at most [`MAX_BUCKETS`] entries): a
//! flood of distinct addresses or identities cannot grow memory, at worst
//! it gives the oldest entries a fresh bucket.
//!
//! Each server instance keeps its own buckets: behind a load balancer with
//! N instances a client gets up to N times the rate. That is the usual
//! trade-off (no shared store on the request path); set the rate per
//! instance accordingly.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use lru::LruCache;

/// Entries each table keeps at most.
pub const MAX_BUCKETS: usize = 100_000;

/// Failed authentications a minute, per address and per key prefix, before
/// the next ones are refused with `429`.
pub const MAX_FAILURES: u32 = 10;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);

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
    /// A verified credential, by its identity (`Principal::identity`).
    Identity(String),
    /// An anonymous client, or a failed credential, by address.
    Ip(IpAddr),
}

/// One bucket per key, in a bounded LRU.
struct Buckets<K: Hash + Eq> {
    quota: Quota,
    map: Mutex<LruCache<K, Arc<DefaultDirectRateLimiter>>>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    fn new(rate: Rate, capacity: usize) -> Self {
        Buckets {
            quota: rate.quota(),
            map: Mutex::new(LruCache::new(NonZeroUsize::new(capacity.max(1)).expect("at least 1"))),
        }
    }

    fn bucket(&self, key: &K) -> Arc<DefaultDirectRateLimiter> {
        let mut map = self.map.lock().expect("buckets lock");
        if let Some(b) = map.get(key) {
            return b.clone();
        }
        let b = Arc::new(RateLimiter::direct(self.quota));
        map.put(key.clone(), b.clone());
        b
    }

    fn len(&self) -> usize {
        self.map.lock().expect("buckets lock").len()
    }
}

/// Failures in the current window, per key, in a bounded LRU.
struct Failures<K: Hash + Eq> {
    map: Mutex<LruCache<K, (u32, Instant)>>,
}

impl<K: Hash + Eq + Clone> Failures<K> {
    fn new(capacity: usize) -> Self {
        Failures {
            map: Mutex::new(LruCache::new(NonZeroUsize::new(capacity.max(1)).expect("at least 1"))),
        }
    }

    /// Counts one failure; `Err(wait)` past [`MAX_FAILURES`] in the window.
    fn fail(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut map = self.map.lock().expect("failures lock");
        let entry = map.get_or_insert_mut(key.clone(), || (0, now));
        if now.duration_since(entry.1) >= FAILURE_WINDOW {
            *entry = (0, now);
        }
        entry.0 = entry.0.saturating_add(1);
        if entry.0 > MAX_FAILURES {
            Err(FAILURE_WINDOW
                .saturating_sub(now.duration_since(entry.1))
                .max(Duration::from_secs(1)))
        } else {
            Ok(())
        }
    }
}

/// The limiters of one server instance.
pub struct RateLimits {
    identity: Option<Buckets<String>>,
    anonymous: Option<Buckets<IpAddr>>,
    failed_addresses: Failures<IpAddr>,
    failed_prefixes: Failures<String>,
    /// Made once: creating a clock calibrates it (`cpuid` and all), which
    /// per request was a twentieth of a small query's time.
    clock: DefaultClock,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("identity", &self.identity.is_some())
            .field("anonymous", &self.anonymous.is_some())
            .finish()
    }
}

impl RateLimits {
    pub fn new(per_identity: Option<Rate>, per_anonymous_ip: Option<Rate>) -> Self {
        Self::with_capacity(per_identity, per_anonymous_ip, MAX_BUCKETS)
    }

    pub fn with_capacity(per_identity: Option<Rate>, per_anonymous_ip: Option<Rate>, capacity: usize) -> Self {
        RateLimits {
            identity: per_identity.map(|r| Buckets::new(r, capacity)),
            anonymous: per_anonymous_ip.map(|r| Buckets::new(r, capacity)),
            failed_addresses: Failures::new(capacity),
            failed_prefixes: Failures::new(capacity),
            clock: DefaultClock::default(),
        }
    }

    /// `Err(wait)` when the caller must wait before its next request.
    pub fn check(&self, caller: &Caller) -> Result<(), Duration> {
        let bucket = match caller {
            Caller::Identity(k) => self.identity.as_ref().map(|b| b.bucket(k)),
            Caller::Ip(ip) => self.anonymous.as_ref().map(|b| b.bucket(ip)),
        };
        match bucket.map(|b| b.check()) {
            Some(Err(not_until)) => Err(not_until.wait_time_from(self.clock.now())),
            _ => Ok(()),
        }
    }

    /// Counts a failed authentication from `ip` (with the key prefix it
    /// named, if any); `Err(wait)` once either is over [`MAX_FAILURES`] in
    /// the last minute, or the address' own bucket is empty.
    pub fn failed(&self, ip: IpAddr, prefix: Option<&str>) -> Result<(), Duration> {
        let now = Instant::now();
        let by_address = self.failed_addresses.fail(&ip, now);
        let by_prefix = match prefix {
            Some(p) => self.failed_prefixes.fail(&p.to_owned(), now),
            None => Ok(()),
        };
        let bucket = self.check(&Caller::Ip(ip));
        [by_address, by_prefix, bucket]
            .into_iter()
            .filter_map(Result::err)
            .max()
            .map_or(Ok(()), Err)
    }

    /// Buckets held (identities, addresses).
    pub fn sizes(&self) -> (usize, usize) {
        (
            self.identity.as_ref().map_or(0, Buckets::len),
            self.anonymous.as_ref().map_or(0, Buckets::len),
        )
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
        let me = Caller::Identity("abc".into());
        assert!(r.check(&me).is_ok());
        assert!(r.check(&me).is_ok());
        let wait = r.check(&me).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1), "{wait:?}");
        // Another caller has its own bucket; anonymous is unlimited here.
        assert!(r.check(&Caller::Identity("other".into())).is_ok());
        for _ in 0..100 {
            assert!(r.check(&Caller::Ip("127.0.0.1".parse().unwrap())).is_ok());
        }
    }

    #[test]
    fn tables_stay_bounded_whatever_the_flood() {
        let r = RateLimits::with_capacity(Rate::parse("1/1").unwrap(), Rate::parse("1/1").unwrap(), 100);
        for i in 0..10_000u32 {
            let _ = r.check(&Caller::Identity(format!("jwt:iss:{i}")));
            let _ = r.check(&Caller::Ip(IpAddr::from(i.to_be_bytes())));
            let _ = r.failed(IpAddr::from(i.to_be_bytes()), Some(&format!("mlg_{i}")));
        }
        assert_eq!(r.sizes(), (100, 100));
    }

    #[test]
    fn failures_past_the_threshold_wait_and_others_do_not() {
        let r = RateLimits::new(None, None);
        let ip: IpAddr = "198.51.100.1".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert!(r.failed(ip, None).is_ok());
        }
        let wait = r.failed(ip, None).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= FAILURE_WINDOW);
        assert!(r.failed("198.51.100.2".parse().unwrap(), None).is_ok());
        // A key prefix is counted across addresses.
        for i in 0..MAX_FAILURES {
            assert!(
                r.failed(IpAddr::from([192, 0, 2, i as u8]), Some("mlg_abcdefgh"))
                    .is_ok()
            );
        }
        assert!(r.failed("192.0.2.200".parse().unwrap(), Some("mlg_abcdefgh")).is_err());
    }
}
