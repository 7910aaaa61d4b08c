//! Enrichment of source addresses: where an address is (GeoIP), which network
//! it belongs to (ASN), and which reputation lists name it.
//!
//! Everything is read from files the user installs (or lists the user gives a
//! URL for); nothing is fetched otherwise. The tables a lookup reads are one
//! immutable [`Tables`] behind an [`ArcSwap`]: a refresher thread checks the
//! files every `check_every`, reloads what changed, and swaps in a new
//! `Tables`; readers take a snapshot without a lock and look up without
//! allocating. A reload that fails (a corrupt file, a broken download) keeps
//! the previous version and says so in [`Enricher::status`].
//!
//! Enrichment is computed when events are read (API, pages), not stored: a
//! better database improves old events too, and the GeoLite2 licence's "keep
//! current" duty is met without rewriting history.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod geo;
pub mod lists;
pub mod names;
#[doc(hidden)]
pub mod testing;

use std::collections::HashSet;
use std::io::Read as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use nectar_event::Timestamp;
use serde::Serialize;
use serde::ser::{SerializeSeq, SerializeStruct};

pub use config::{EnrichConfig, EnrichSection};
pub use geo::{Asn, DbInfo, Geo};
pub use lists::{Format, ListTable, Prefixes};
pub use names::{DnsSettings, NameStats, Names, ReverseName};

/// Largest list download read, in bytes.
pub const MAX_DOWNLOAD_BYTES: u64 = 128 << 20;

/// Why enrichment could not start.
#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    /// A database named by the key could not be loaded.
    #[error("{key}: {source}")]
    Geo {
        /// The config key (`geoip.city`).
        key: String,
        /// Why.
        source: geo::GeoError,
    },
    /// A list file named by the key could not be read.
    #[error("{key}: {reason}")]
    List {
        /// The config key (`lists[2].path`).
        key: String,
        /// Why.
        reason: String,
    },
    /// The reverse-DNS resolver could not be built.
    #[error(transparent)]
    Names(#[from] names::NamesError),
}

/// A reputation list as hits name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListMeta {
    /// Its name.
    pub name: String,
    /// Its category.
    pub category: String,
}

/// Everything one lookup reads; replaced whole on reload.
#[derive(Debug, Default)]
pub struct Tables {
    city: Option<Arc<geo::MmdbFile>>,
    asn: Option<Arc<geo::MmdbFile>>,
    asn_tsv: Option<Arc<geo::AsnTable>>,
    lists: Arc<ListTable>,
    meta: Arc<[ListMeta]>,
}

/// What is known of one address. Borrowed from a [`Tables`] snapshot.
#[derive(Debug, Clone, Copy)]
pub struct Enrichment<'a> {
    /// Country and city, if a GeoIP database knows the address.
    pub geo: Option<Geo<'a>>,
    /// AS number and organisation, if known.
    pub asn: Option<Asn<'a>>,
    /// The lists it is on.
    pub lists: ListHits<'a>,
}

/// The lists an address is on: a bit set over the table's lists.
#[derive(Debug, Clone, Copy)]
pub struct ListHits<'a> {
    mask: u64,
    meta: &'a [ListMeta],
}

impl<'a> ListHits<'a> {
    /// Whether it is on no list.
    pub fn is_empty(&self) -> bool {
        self.mask == 0
    }

    /// How many lists.
    pub fn len(&self) -> usize {
        self.mask.count_ones() as usize
    }

    /// The lists, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = &'a ListMeta> + 'a {
        let mask = self.mask;
        let meta = self.meta;
        (0..meta.len().min(64))
            .filter(move |i| mask & (1u64 << i) != 0)
            .filter_map(move |i| meta.get(i))
    }

    /// The raw bits (bit `i`: the `i`-th configured list).
    pub fn bits(&self) -> u64 {
        self.mask
    }
}

impl Serialize for ListHits<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for m in self.iter() {
            seq.serialize_element(m)?;
        }
        seq.end()
    }
}

impl Serialize for Enrichment<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Enrichment", 3)?;
        st.serialize_field("geo", &self.geo)?;
        st.serialize_field("asn", &self.asn)?;
        st.serialize_field("lists", &self.lists)?;
        st.end()
    }
}

impl Tables {
    /// What the tables know of `ip`; allocates nothing.
    #[inline]
    pub fn lookup(&self, ip: IpAddr) -> Enrichment<'_> {
        let ip = lists::canonical(ip);
        let geo = self
            .city
            .as_ref()
            .map(|c| c.geo(ip))
            .filter(|g| !g.is_empty());
        let asn = match (&self.asn, &self.asn_tsv) {
            (Some(a), _) => Some(a.asn(ip)),
            (None, Some(t)) => Some(t.asn(ip)),
            // IPinfo Lite keeps ASN in the same file as the country.
            (None, None) => self.city.as_ref().map(|c| c.asn(ip)),
        }
        .filter(|a| !a.is_empty());
        Enrichment {
            geo,
            asn,
            lists: ListHits {
                mask: self.lists.lookup(ip),
                meta: &self.meta,
            },
        }
    }

    /// Whether any source is loaded (else enrichment is not shown at all).
    pub fn is_empty(&self) -> bool {
        self.city.is_none() && self.asn.is_none() && self.asn_tsv.is_none() && self.meta.is_empty()
    }

    /// The attributions of the loaded databases, each once.
    pub fn attributions(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let infos = [
            self.city.as_ref().map(|c| &c.info),
            self.asn.as_ref().map(|c| &c.info),
            self.asn_tsv.as_ref().and_then(|t| t.info.as_ref()),
        ];
        for info in infos.into_iter().flatten() {
            let a = info.attribution.as_str();
            if !a.is_empty() && !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }

    /// The loaded databases (build dates for the pages).
    pub fn databases(&self) -> Vec<&DbInfo> {
        [
            self.city.as_ref().map(|c| &c.info),
            self.asn.as_ref().map(|c| &c.info),
            self.asn_tsv.as_ref().and_then(|t| t.info.as_ref()),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The table of lists (for benchmarks and tests).
    pub fn list_table(&self) -> &ListTable {
        &self.lists
    }
}

/// The state of one database (`[enrich.geoip]` key).
#[derive(Debug, Clone, Serialize)]
pub struct DbStatus {
    /// `city`, `asn` or `asn_tsv`.
    pub key: &'static str,
    /// The file.
    pub path: PathBuf,
    /// The loaded version, if any.
    pub loaded: Option<DbInfo>,
    /// When it was loaded.
    pub loaded_at: Option<Timestamp>,
    /// The last failure to load it (the previous version is kept).
    pub error: Option<String>,
    /// When that was.
    pub error_at: Option<Timestamp>,
}

/// The state of one list.
#[derive(Debug, Clone, Serialize)]
pub struct ListStatus {
    /// Its name.
    pub name: String,
    /// Its category.
    pub category: String,
    /// Its path or URL.
    pub source: String,
    /// Entries of the version in use (0 before the first good load).
    pub entries: usize,
    /// Unreadable lines skipped in it.
    pub skipped: usize,
    /// When the version in use was loaded.
    pub last_good: Option<Timestamp>,
    /// The last attempt, good or not.
    pub last_attempt: Option<Timestamp>,
    /// Why the last attempt failed (the previous version is kept), if it did.
    pub error: Option<String>,
}

/// What [`Enricher::status`] answers.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The databases.
    pub databases: Vec<DbStatus>,
    /// The lists.
    pub lists: Vec<ListStatus>,
    /// Address segments in the lists' table.
    pub segments: usize,
}

/// A prefix of our own networks found on a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnHit {
    /// The list.
    pub list: ListMeta,
    /// Our network that overlaps it.
    pub network: String,
    /// The first listed range inside it (`first-last`).
    pub range: String,
    /// How many listed ranges lie inside our networks.
    pub ranges: usize,
}

type OwnCallback = Box<dyn Fn(Vec<OwnHit>) + Send + Sync>;

struct FileStamp(Option<(SystemTime, u64)>);

fn stamp(path: &Path) -> FileStamp {
    FileStamp(
        std::fs::metadata(path)
            .ok()
            .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len())),
    )
}

struct DbState {
    key: &'static str,
    path: PathBuf,
    stamp: Option<(SystemTime, u64)>,
    status: DbStatus,
}

struct ListState {
    config: config::List,
    stamp: Option<(SystemTime, u64)>,
    next_fetch: Option<Instant>,
    prefixes: Option<Arc<Prefixes>>,
    status: ListStatus,
}

struct Inner {
    dbs: Vec<DbState>,
    lists: Vec<ListState>,
    client: Option<reqwest::blocking::Client>,
    /// Our networks (private and special ranges removed) and who is told.
    own: Option<(Prefixes, Vec<String>, OwnCallback)>,
    reported: HashSet<(String, String)>,
}

/// The enrichment sources and the tables built from them.
pub struct Enricher {
    tables: ArcSwap<Tables>,
    inner: Mutex<Inner>,
    config: EnrichConfig,
    names: Names,
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enricher").finish_non_exhaustive()
    }
}

impl Default for Enricher {
    fn default() -> Self {
        Enricher::disabled()
    }
}

impl Enricher {
    /// No sources: every lookup is empty.
    pub fn disabled() -> Enricher {
        Enricher {
            tables: ArcSwap::from_pointee(Tables::default()),
            inner: Mutex::new(Inner {
                dbs: Vec::new(),
                lists: Vec::new(),
                client: None,
                own: None,
                reported: HashSet::new(),
            }),
            config: EnrichConfig::default(),
            names: Names::off(),
        }
    }

    /// Reverse DNS (off unless `[enrich.dns] reverse = true`).
    pub fn names(&self) -> &Names {
        &self.names
    }

    /// Loads every configured file (an unreadable or corrupt one is an error
    /// naming its key), then keeps them current from a thread of its own.
    /// Lists given by URL are fetched by that thread (a kept copy from an
    /// earlier run is used meanwhile).
    pub fn start(config: EnrichConfig) -> Result<Arc<Enricher>, EnrichError> {
        let enricher = Arc::new(Enricher::load(config)?);
        if !enricher.config.lists.is_empty()
            || enricher.config.city.is_some()
            || enricher.config.asn.is_some()
            || enricher.config.asn_tsv.is_some()
        {
            let weak = Arc::downgrade(&enricher);
            let every = enricher.config.check_every;
            let spawned = std::thread::Builder::new()
                .name("nectar-enrich".into())
                .spawn(move || refresher(weak, every));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "Could not start the enrichment refresher; files will not be reloaded.");
            }
        }
        Ok(enricher)
    }

    /// Loads every configured file once, without a refresher thread.
    pub fn load(config: EnrichConfig) -> Result<Enricher, EnrichError> {
        let now = Timestamp::now();
        let mut dbs = Vec::new();
        let mut tables = Tables::default();
        for (key, path) in [
            ("city", &config.city),
            ("asn", &config.asn),
            ("asn_tsv", &config.asn_tsv),
        ] {
            let Some(path) = path else { continue };
            let err = |source| EnrichError::Geo {
                key: format!("geoip.{key}"),
                source,
            };
            let stamp = stamp(path).0;
            let info = match key {
                "asn_tsv" => {
                    let t = Arc::new(geo::AsnTable::open(path).map_err(err)?);
                    let info = t.info.clone();
                    tables.asn_tsv = Some(t);
                    info
                }
                _ => {
                    let f = Arc::new(geo::MmdbFile::open(path).map_err(err)?);
                    let info = f.info.clone();
                    if key == "city" {
                        tables.city = Some(f);
                    } else {
                        tables.asn = Some(f);
                    }
                    Some(info)
                }
            };
            dbs.push(DbState {
                key,
                path: path.clone(),
                stamp,
                status: DbStatus {
                    key,
                    path: path.clone(),
                    loaded: info,
                    loaded_at: Some(now),
                    error: None,
                    error_at: None,
                },
            });
        }
        let mut lists = Vec::new();
        for (i, l) in config.lists.iter().enumerate() {
            let mut state = ListState {
                config: l.clone(),
                stamp: None,
                next_fetch: None,
                prefixes: None,
                status: ListStatus {
                    name: l.name.clone(),
                    category: l.category.clone(),
                    source: l.source.describe(),
                    entries: 0,
                    skipped: 0,
                    last_good: None,
                    last_attempt: None,
                    error: None,
                },
            };
            match &l.source {
                config::Source::Path(path) => {
                    state.stamp = stamp(path).0;
                    let text = read_list_file(path).map_err(|reason| EnrichError::List {
                        key: format!("lists[{i}].path"),
                        reason,
                    })?;
                    apply(&mut state, &text).map_err(|reason| EnrichError::List {
                        key: format!("lists[{i}].path"),
                        reason,
                    })?;
                }
                config::Source::Url { .. } => {
                    // The kept copy of an earlier run, if any; fetched at once.
                    state.next_fetch = Some(Instant::now());
                    if let Some(kept) = kept_path(&config, &l.name)
                        && let Ok(text) = read_list_file(&kept)
                        && apply(&mut state, &text).is_ok()
                    {
                        state.status.error = Some(
                            "not fetched yet: the copy kept from an earlier run is in use".into(),
                        );
                    }
                }
            }
            lists.push(state);
        }
        tables.meta = lists
            .iter()
            .map(|l| ListMeta {
                name: l.config.name.clone(),
                category: l.config.category.clone(),
            })
            .collect();
        tables.lists = Arc::new(build_table(&lists));
        let names = match &config.dns {
            Some(settings) => Names::new(settings.clone())?,
            None => Names::off(),
        };
        Ok(Enricher {
            tables: ArcSwap::from_pointee(tables),
            inner: Mutex::new(Inner {
                dbs,
                lists,
                client: None,
                own: None,
                reported: HashSet::new(),
            }),
            config,
            names,
        })
    }

    /// The tables now: hold the guard for a page or a batch, not for long.
    #[inline]
    pub fn snapshot(&self) -> arc_swap::Guard<Arc<Tables>> {
        self.tables.load()
    }

    /// The tables now, as an `Arc` that may be kept.
    pub fn tables(&self) -> Arc<Tables> {
        self.tables.load_full()
    }

    /// Whether no source is configured.
    pub fn is_off(&self) -> bool {
        self.snapshot().is_empty()
    }

    /// Each source's state: versions in use, last good update, last error.
    pub fn status(&self) -> Status {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        Status {
            databases: inner.dbs.iter().map(|d| d.status.clone()).collect(),
            lists: inner.lists.iter().map(|l| l.status.clone()).collect(),
            segments: self.snapshot().lists.segments(),
        }
    }

    /// Raises `on_hit` for prefixes of `networks` (our own) found on a list —
    /// each (list, network) once per run; private and special-purpose ranges
    /// never count, whatever a broad list says. Checked now and after every
    /// list change.
    pub fn watch_own_networks(
        &self,
        networks: &[String],
        on_hit: impl Fn(Vec<OwnHit>) + Send + Sync + 'static,
    ) {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        let mut names = Vec::new();
        for n in networks {
            if let Ok(p) = lists::parse(n, Format::Plain, 1) {
                v4.extend(p.prefixes.v4.iter().copied());
                v6.extend(p.prefixes.v6.iter().copied());
                names.push(n.clone());
            }
        }
        let special = lists::special_purpose();
        let ours = Prefixes::from_ranges(v4, v6);
        let ours = Prefixes {
            v4: lists::subtract(&ours.v4, &special.v4),
            v6: lists::subtract(&ours.v6, &special.v6),
        };
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.own = Some((ours, names, Box::new(on_hit)));
        check_own(&mut inner);
    }

    /// One pass of the refresher: reloads changed files, fetches due URLs,
    /// swaps the tables when anything changed. Returns whether it did.
    pub fn check(&self) -> bool {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let now = Timestamp::now();
        let current = self.tables.load_full();
        let mut next = Tables {
            city: current.city.clone(),
            asn: current.asn.clone(),
            asn_tsv: current.asn_tsv.clone(),
            lists: current.lists.clone(),
            meta: current.meta.clone(),
        };
        let mut changed = false;
        for db in &mut inner.dbs {
            let st = stamp(&db.path).0;
            if st == db.stamp {
                continue;
            }
            db.stamp = st;
            let loaded = match db.key {
                "asn_tsv" => geo::AsnTable::open(&db.path).map(|t| {
                    let info = t.info.clone();
                    next.asn_tsv = Some(Arc::new(t));
                    info
                }),
                key => geo::MmdbFile::open(&db.path).map(|f| {
                    let info = f.info.clone();
                    let f = Some(Arc::new(f));
                    if key == "city" {
                        next.city = f;
                    } else {
                        next.asn = f;
                    }
                    Some(info)
                }),
            };
            match loaded {
                Ok(info) => {
                    tracing::info!(key = db.key, path = %db.path.display(), "Reloaded an enrichment database.");
                    db.status.loaded = info;
                    db.status.loaded_at = Some(now);
                    db.status.error = None;
                    changed = true;
                }
                Err(e) => {
                    tracing::warn!(key = db.key, error = %e, "Could not reload an enrichment database; the previous version stays in use.");
                    db.status.error = Some(e.to_string());
                    db.status.error_at = Some(now);
                }
            }
        }
        let mut lists_changed = false;
        let cache = self.config.cache_dir.clone();
        let Inner { lists, client, .. } = &mut *inner;
        for state in lists.iter_mut() {
            let text = match &state.config.source {
                config::Source::Path(path) => {
                    let st = stamp(path).0;
                    if st == state.stamp {
                        continue;
                    }
                    state.stamp = st;
                    read_list_file(path)
                }
                config::Source::Url {
                    url,
                    refresh,
                    auth_key,
                } => {
                    if state.next_fetch.is_some_and(|t| Instant::now() < t) {
                        continue;
                    }
                    state.next_fetch = Some(Instant::now() + *refresh);
                    let client = client.get_or_insert_with(|| {
                        reqwest::blocking::Client::builder()
                            .timeout(Duration::from_secs(120))
                            .connect_timeout(Duration::from_secs(15))
                            .user_agent(concat!("nectar/", env!("CARGO_PKG_VERSION")))
                            .build()
                            .unwrap_or_else(|_| reqwest::blocking::Client::new())
                    });
                    download(client, url, auth_key.as_ref().map(|k| k.expose()))
                }
            };
            state.status.last_attempt = Some(now);
            let result = text.and_then(|t| apply(state, &t).map(|()| t));
            match result {
                Ok(text) => {
                    state.status.last_good = Some(now);
                    state.status.error = None;
                    lists_changed = true;
                    if let (config::Source::Url { .. }, Some(dir)) = (&state.config.source, &cache)
                    {
                        let _ = std::fs::create_dir_all(dir);
                        let _ =
                            std::fs::write(dir.join(format!("{}.list", state.config.name)), text);
                    }
                    tracing::info!(list = %state.config.name, entries = state.status.entries, "Loaded a reputation list.");
                }
                Err(e) => {
                    tracing::warn!(list = %state.config.name, error = %e, "Could not update a reputation list; the previous version stays in use.");
                    state.status.error = Some(e);
                }
            }
        }
        if lists_changed {
            next.lists = Arc::new(build_table(&inner.lists));
            changed = true;
        }
        if changed {
            self.tables.store(Arc::new(next));
        }
        if lists_changed {
            check_own(&mut inner);
        }
        changed
    }
}

fn kept_path(config: &EnrichConfig, name: &str) -> Option<PathBuf> {
    config
        .cache_dir
        .as_ref()
        .map(|d| d.join(format!("{name}.list")))
}

fn refresher(weak: Weak<Enricher>, every: Duration) {
    // The first pass fetches URL lists at once.
    loop {
        let Some(enricher) = weak.upgrade() else {
            return;
        };
        enricher.check();
        drop(enricher);
        std::thread::sleep(every);
    }
}

fn read_list_file(path: &Path) -> Result<String, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_DOWNLOAD_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_DOWNLOAD_BYTES {
        return Err(format!(
            "{} is larger than {MAX_DOWNLOAD_BYTES} bytes",
            path.display()
        ));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn download(
    client: &reqwest::blocking::Client,
    url: &str,
    auth_key: Option<&str>,
) -> Result<String, String> {
    let mut request = client.get(url);
    if let Some(key) = auth_key {
        request = request.header("Auth-Key", key);
    }
    let response = request
        .send()
        .map_err(|e| format!("download failed: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("download failed: HTTP {status}"));
    }
    let mut bytes = Vec::new();
    response
        .take(MAX_DOWNLOAD_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("download failed: {e}"))?;
    if bytes.len() as u64 > MAX_DOWNLOAD_BYTES {
        return Err(format!("download larger than {MAX_DOWNLOAD_BYTES} bytes"));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("download was empty".into());
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Parses `text` into `state` (kept unchanged on error).
fn apply(state: &mut ListState, text: &str) -> Result<(), String> {
    let parsed = lists::parse(text, state.config.format, state.config.max_entries)
        .map_err(|e| e.to_string())?;
    state.status.entries = parsed.entries;
    state.status.skipped = parsed.skipped;
    state.status.last_good = Some(Timestamp::now());
    state.prefixes = Some(Arc::new(parsed.prefixes));
    Ok(())
}

fn build_table(lists: &[ListState]) -> ListTable {
    let empty = Prefixes::default();
    let refs: Vec<&Prefixes> = lists
        .iter()
        .map(|l| l.prefixes.as_deref().unwrap_or(&empty))
        .collect();
    ListTable::build(&refs)
}

fn check_own(inner: &mut Inner) {
    let Some((ours, names, on_hit)) = &inner.own else {
        return;
    };
    let special = lists::special_purpose();
    let mut hits = Vec::new();
    for l in &inner.lists {
        let Some(p) = &l.prefixes else { continue };
        let v4 = lists::subtract(&intersect(&p.v4, &ours.v4), &special.v4);
        let v6 = lists::subtract(&intersect(&p.v6, &ours.v6), &special.v6);
        let first = v4
            .first()
            .map(|&(s, e)| format!("{}-{}", lists::v4_addr(s), lists::v4_addr(e)))
            .or_else(|| {
                v6.first()
                    .map(|&(s, e)| format!("{}-{}", lists::v6_addr(s), lists::v6_addr(e)))
            });
        let Some(range) = first else { continue };
        let network = names.join(", ");
        let key = (l.config.name.clone(), range.clone());
        if !inner.reported.insert(key) {
            continue;
        }
        hits.push(OwnHit {
            list: ListMeta {
                name: l.config.name.clone(),
                category: l.config.category.clone(),
            },
            network,
            range,
            ranges: v4.len() + v6.len(),
        });
    }
    if !hits.is_empty() {
        on_hit(hits);
    }
}

/// The overlap of two merged, sorted range lists.
fn intersect<T: lists::Step>(a: &[(T, T)], b: &[(T, T)]) -> Vec<(T, T)> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        let s = a[i].0.max(b[j].0);
        let e = a[i].1.min(b[j].1);
        if s <= e {
            out.push((s, e));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With no list given by URL, no HTTP client is even made: nothing can
    /// connect out (the default configuration has no lists at all).
    #[test]
    fn file_sources_never_make_a_client() {
        let dir = std::env::temp_dir().join(format!("nectar-enrich-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let list = dir.join("l.txt");
        std::fs::write(&list, "192.0.2.0/24\n").unwrap();
        let section: EnrichSection = toml::from_str(&format!(
            "[[lists]]\nname = \"l\"\ncategory = \"scanner\"\npath = {:?}\n",
            list.display().to_string()
        ))
        .unwrap();
        let e = Enricher::load(section.build(None).unwrap()).unwrap();
        std::fs::write(&list, "198.51.100.0/24\n").unwrap();
        e.check();
        assert!(e.inner.lock().unwrap().client.is_none());
        let off = Enricher::load(EnrichSection::default().build(None).unwrap()).unwrap();
        assert!(off.is_off());
        assert!(off.inner.lock().unwrap().client.is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
