//! Reverse DNS for source addresses (`[enrich.dns]`, off by default): the
//! PTR name of an address and whether it is forward-confirmed (the name
//! resolves back to the address; anyone who controls an address's reverse
//! zone can make its PTR say anything, so an unconfirmed name is only a
//! claim).
//!
//! Lookups go to the configured servers (or the system's resolv.conf), each
//! bounded by `timeout`, at most `concurrency` at once (a caller waits for a
//! permit no longer than half the timeout, then gets "busy"), with answers and
//! failures cached by hickory's own cache (`cache_entries`, within the
//! records' TTLs but at least five minutes, negative answers at least
//! `negative_ttl`). A lookup is only
//! made when asked for (the attacker page and its API), never on the ingest
//! path. Note for users: the DNS server authoritative for an attacker's
//! reverse zone is often the attacker's own, and sees the lookup.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use serde::Serialize;
use tokio::sync::Semaphore;

/// Shortest time a name is cached, whatever its record's TTL.
pub const POSITIVE_MIN_TTL: Duration = Duration::from_secs(300);

/// Longest name kept (DNS names are at most 253 characters).
pub const MAX_NAME: usize = 253;

/// `[enrich.dns]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsSettings {
    /// Servers to ask; empty: the system's (resolv.conf).
    pub servers: Vec<SocketAddr>,
    /// Longest wait for one lookup (and for a permit).
    pub timeout: Duration,
    /// Lookups in flight at once.
    pub concurrency: usize,
    /// Answers cached.
    pub cache_entries: u64,
    /// Shortest time a "no name" answer is cached.
    pub negative_ttl: Duration,
    /// Whether names are checked forward (the name's A/AAAA include the address).
    pub verify: bool,
}

/// What reverse DNS says about an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReverseName {
    /// The PTR name without its final dot, if there is one.
    pub name: Option<String>,
    /// The name resolves back to the address (always false when
    /// `verify` is off or there is no name).
    pub verified: bool,
    /// Why there is no answer: `timeout`, `busy`, or the resolver's error.
    pub error: Option<String>,
}

/// Counters for the status page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NameStats {
    /// Lookups asked for.
    pub lookups: u64,
    /// That found a name.
    pub named: u64,
    /// That timed out or failed.
    pub failed: u64,
    /// Refused because `concurrency` lookups were already running.
    pub busy: u64,
}

/// Why the resolver could not be built.
#[derive(Debug, thiserror::Error)]
#[error("enrich.dns: {0}")]
pub struct NamesError(String);

/// The reverse-DNS resolver (or nothing, when off).
pub struct Names {
    resolver: Option<TokioResolver>,
    settings: Option<DnsSettings>,
    permits: Semaphore,
    lookups: AtomicU64,
    named: AtomicU64,
    failed: AtomicU64,
    busy: AtomicU64,
}

impl std::fmt::Debug for Names {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Names")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Default for Names {
    fn default() -> Self {
        Names::off()
    }
}

impl Names {
    /// Reverse DNS off: every lookup answers `None`.
    pub fn off() -> Names {
        Names {
            resolver: None,
            settings: None,
            permits: Semaphore::new(0),
            lookups: AtomicU64::new(0),
            named: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            busy: AtomicU64::new(0),
        }
    }

    /// A resolver with `settings`.
    pub fn new(settings: DnsSettings) -> Result<Names, NamesError> {
        let provider = TokioRuntimeProvider::default();
        let mut builder = if settings.servers.is_empty() {
            TokioResolver::builder(provider).map_err(|e| {
                NamesError(format!(
                    "no `servers` given and the system's resolver configuration could not be read: {e}"
                ))
            })?
        } else {
            let servers = settings
                .servers
                .iter()
                .map(|s| {
                    let mut udp = ConnectionConfig::udp();
                    udp.port = s.port();
                    let mut tcp = ConnectionConfig::tcp();
                    tcp.port = s.port();
                    NameServerConfig::new(s.ip(), true, vec![udp, tcp])
                })
                .collect();
            TokioResolver::builder_with_config(ResolverConfig::from_name_servers(servers), provider)
        };
        let options = builder.options_mut();
        options.timeout = settings.timeout;
        options.attempts = 1;
        options.cache_size = settings.cache_entries;
        options.negative_min_ttl = Some(settings.negative_ttl);
        // An attacker's zone can answer with TTL 0 to be asked again at
        // every page view (and see each one): names are kept at least
        // `POSITIVE_MIN_TTL`.
        options.positive_min_ttl = Some(POSITIVE_MIN_TTL);
        // The hosts file says nothing about attackers' addresses.
        options.use_hosts_file = hickory_resolver::config::ResolveHosts::Never;
        let resolver = builder
            .build()
            .map_err(|e| NamesError(format!("the resolver could not be built: {e}")))?;
        Ok(Names {
            resolver: Some(resolver),
            permits: Semaphore::new(settings.concurrency),
            settings: Some(settings),
            lookups: AtomicU64::new(0),
            named: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            busy: AtomicU64::new(0),
        })
    }

    /// Whether reverse DNS is on.
    pub fn is_on(&self) -> bool {
        self.resolver.is_some()
    }

    /// The counters.
    pub fn stats(&self) -> NameStats {
        NameStats {
            lookups: self.lookups.load(Ordering::Relaxed),
            named: self.named.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            busy: self.busy.load(Ordering::Relaxed),
        }
    }

    /// The name of `ip`; `None` when reverse DNS is off. Waits at most half
    /// the timeout for a permit, then the timeout for the PTR and again for
    /// the forward check.
    pub async fn reverse(&self, ip: IpAddr) -> Option<ReverseName> {
        let (resolver, settings) = (self.resolver.as_ref()?, self.settings.as_ref()?);
        self.lookups.fetch_add(1, Ordering::Relaxed);
        let failed = |error: String| ReverseName {
            name: None,
            verified: false,
            error: Some(error),
        };
        let Ok(Ok(_permit)) =
            tokio::time::timeout(settings.timeout / 2, self.permits.acquire()).await
        else {
            self.busy.fetch_add(1, Ordering::Relaxed);
            return Some(failed("busy".into()));
        };
        let answer = match tokio::time::timeout(
            settings.timeout,
            resolver.reverse_lookup(hickory_resolver::proto::rr::Name::from(ip)),
        )
        .await
        {
            Err(_) => Err("timeout".to_owned()),
            Ok(Err(e)) if e.is_no_records_found() || e.is_nx_domain() => Ok(None),
            Ok(Err(e)) => Err(e.to_string()),
            Ok(Ok(lookup)) => Ok(lookup.answers().iter().find_map(|r| match &r.data {
                RData::PTR(ptr) => Some(ptr.0.to_utf8().trim_end_matches('.').to_owned()),
                _ => None,
            })),
        };
        let name = match answer {
            Err(e) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                return Some(failed(e));
            }
            Ok(None) => {
                return Some(ReverseName {
                    name: None,
                    verified: false,
                    error: None,
                });
            }
            // Whatever an attacker's zone says: bounded, no control characters.
            Ok(Some(name)) => name
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_NAME)
                .collect::<String>(),
        };
        self.named.fetch_add(1, Ordering::Relaxed);
        let verified = settings.verify
            && matches!(
                tokio::time::timeout(settings.timeout, resolver.lookup_ip(format!("{name}."))).await,
                Ok(Ok(found)) if found.iter().any(|a| a == ip)
            );
        Some(ReverseName {
            name: Some(name),
            verified,
            error: None,
        })
    }
}
