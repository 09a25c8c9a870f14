//! The registry HTTP client: one reqwest client over rustls (HTTP/2 where offered), bounded
//! concurrency, retries with backoff on 429/5xx/cut connections honouring `Retry-After` (capped)
//! under a global retry budget, a per-attempt timeout, size caps on the decoded body, manual
//! redirects that drop credentials across origins, and the on-disk [`Cache`].
//!
//! Every failure is a [`FetchError`] carrying a redacted URL; [`FetchError::finding`] turns it
//! into the package's `unverifiable` (or `metadata-too-large`) finding. A 404 is data
//! ([`FetchFailure::NotFound`]), never retried.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, IF_MODIFIED_SINCE, IF_NONE_MATCH};
use tokio::sync::Semaphore;
use url::Url;

use super::cache::{Cache, CacheKey, CachedEntry, EntryMeta, Peeked, Stamp};
use super::config::{AuthEntry, RegistryConfig};
pub use super::outcome::{ClientError, FetchError, FetchFailure, Fetched};
use super::redact::redact_url;
use super::shape::check_shape;
use super::snapshot::SnapshotHook;

/// Which representation to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Accept {
    /// `application/json`: the full packument (with `time` and `_npmUser`).
    Json,
    /// `application/vnd.npm.install-v1+json`: the abbreviated packument.
    Abbreviated,
    /// `*/*` (tarballs).
    Any,
}

impl Accept {
    /// The `Accept` header sent (also part of the cache key).
    pub fn header(self) -> &'static str {
        match self {
            Accept::Json => "application/json",
            Accept::Abbreviated => {
                "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
            }
            Accept::Any => "*/*",
        }
    }
}

/// What is being fetched: decides the size cap, the shape check and cache immutability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    Packument,
    Attestations,
    Keys,
    Tarball,
}

impl ResourceKind {
    /// Immutable resources (a version's attestations, a tarball bound by its integrity) are
    /// served from the cache without revalidation once fetched with 200.
    fn immutable(self) -> bool {
        matches!(self, ResourceKind::Attestations | ResourceKind::Tarball)
    }
}

/// Caps on decoded response bodies, per resource kind (bytes). Hitting one is
/// `metadata-too-large`, not a generic failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeCaps {
    /// Full packuments of old packages run to tens of MB; a few exceed 100 MB.
    pub packument: u64,
    /// A version's attestation set is a few tens of kB.
    pub attestations: u64,
    /// `/-/npm/v1/keys` is a few hundred bytes.
    pub keys: u64,
    /// npm rejects tarballs above a few hundred MB.
    pub tarball: u64,
}

impl Default for SizeCaps {
    fn default() -> Self {
        SizeCaps {
            packument: 256 * 1024 * 1024,
            attestations: 8 * 1024 * 1024,
            keys: 1024 * 1024,
            tarball: 512 * 1024 * 1024,
        }
    }
}

impl SizeCaps {
    pub fn for_kind(&self, kind: ResourceKind) -> u64 {
        match kind {
            ResourceKind::Packument => self.packument,
            ResourceKind::Attestations => self.attestations,
            ResourceKind::Keys => self.keys,
            ResourceKind::Tarball => self.tarball,
        }
    }
}

/// How the client behaves. [`ClientOptions::default`] is what the CLI uses unless flags say
/// otherwise.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Requests in flight at once (`--concurrency`).
    pub concurrency: usize,
    /// Per attempt, from sending the request to the last body byte.
    pub timeout: Duration,
    /// Retries per request after the first attempt.
    pub retries: u32,
    /// Retries allowed across the whole run (a failing registry cannot make a run take forever).
    pub retry_budget: u32,
    /// First backoff; doubles per retry, capped at `max_wait`.
    pub backoff: Duration,
    /// Cap on any wait, including one asked for by `Retry-After`.
    pub max_wait: Duration,
    pub size_caps: SizeCaps,
    /// Plain http to non-loopback hosts (`--danger-allow-http`).
    pub allow_http: bool,
    pub cache: Option<Cache>,
    /// Serve from the cache only; never send a request, never write (`--offline`).
    pub offline: bool,
    /// Redirects followed per request.
    pub max_redirects: u8,
    /// `snapshot`: record every answer; `verify --snapshot`: answer only from a snapshot
    /// (no request is ever sent, the cache is not used).
    pub snapshot: Option<SnapshotHook>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            // Measured (benches/compare.sh, 2,097 packages, 3,865 requests, 50 ms per request):
            // 16 in flight took 15.9 s, 64 took 6.4 s; over HTTP/2 to the public registry these
            // are streams of one connection.
            concurrency: 64,
            timeout: Duration::from_secs(60),
            retries: 3,
            retry_budget: 200,
            backoff: Duration::from_millis(250),
            max_wait: Duration::from_secs(30),
            size_caps: SizeCaps::default(),
            allow_http: false,
            cache: None,
            offline: false,
            max_redirects: 5,
            snapshot: None,
        }
    }
}

/// Counters for progress and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Requests sent (each attempt and each redirect hop counts).
    pub requests: u64,
    /// Retries taken from the budget.
    pub retries: u64,
    /// Answers served from the cache without a request.
    pub cache_hits: u64,
}

/// The registry client. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct RegistryClient {
    http: reqwest::Client,
    opts: ClientOptions,
    auth: Arc<RegistryConfig>,
    permits: Semaphore,
    /// Cache reads and writes at once: one per core. Reading a cached body is memory copies
    /// and page faults, creating an entry is file-system work; more threads than cores only
    /// switch between each other and contend on the process's and directory's locks.
    disk: Semaphore,
    budget: AtomicU32,
    requests: AtomicU64,
    retries: AtomicU64,
    cache_hits: AtomicU64,
}

/// Longest a revalidatable answer (a packument) is served from the cache without asking the
/// registry again, whatever its `Cache-Control: max-age` says: five minutes, what the public
/// registry itself sends for packuments (and what npm honours). A version published or removed
/// within that window is seen on the next run after it.
pub const MAX_FRESHNESS: Duration = Duration::from_secs(300);

/// One HTTP exchange after redirects, body read and capped.
struct Raw {
    status: u16,
    body: Bytes,
    etag: Option<String>,
    last_modified: Option<String>,
    retry_after: Option<Duration>,
    /// `Cache-Control: max-age` (absent with `no-cache` or `no-store`).
    max_age: Option<Duration>,
}

/// A response as served to a reader that can use what it derived from the same body before
/// ([`RegistryClient::get_served`]).
#[derive(Debug)]
pub enum Served {
    /// The body, and where to store what is derived from it (when a writable cache holds it).
    Body(Fetched, Option<DerivedSlot>),
    /// What was derived from the body of a cached entry that is served without a request
    /// (fresh, immutable, or `--offline`): that body itself is not read.
    Derived(Bytes),
}

/// Where to store what a reader derives from a fetched body: beside the cache entry holding
/// that body, stamped with it ([`Cache::put_derived`]).
#[derive(Debug, Clone)]
pub struct DerivedSlot {
    cache: Cache,
    key: CacheKey,
    stamp: Stamp,
}

impl DerivedSlot {
    /// Stores `derived`. Blocking file I/O: call it off the async workers. A cache that cannot
    /// be written only costs the reader its work again next time.
    pub fn store(&self, derived: &[u8]) {
        let _ = self.cache.put_derived(&self.key, &self.stamp, derived);
    }
}

impl RegistryClient {
    /// Builds the one HTTP client: rustls, HTTP/2 by ALPN, no automatic redirects, proxies and
    /// CA certificates from `config` only (never read from the process behind its back).
    pub fn new(
        opts: ClientOptions,
        config: &RegistryConfig,
    ) -> Result<RegistryClient, ClientError> {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(opts.timeout)
            .connect_timeout(opts.timeout)
            .user_agent(concat!("npm-provenance/", env!("CARGO_PKG_VERSION")))
            .no_proxy();
        if !config.ca.is_empty() {
            b = b.tls_built_in_root_certs(false);
        }
        for pem in config.ca.iter().chain(&config.extra_ca) {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| ClientError::Ca(e.to_string()))?;
            if certs.is_empty() {
                return Err(ClientError::Ca("no PEM certificate found".into()));
            }
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        let no_proxy = config
            .no_proxy
            .as_deref()
            .and_then(reqwest::NoProxy::from_string);
        if let Some(p) = &config.https_proxy {
            let px = reqwest::Proxy::https(p.as_str())
                .map_err(|_| ClientError::Proxy(redact_url(p)))?
                .no_proxy(no_proxy.clone());
            b = b.proxy(px);
        }
        if let Some(p) = &config.http_proxy {
            let px = reqwest::Proxy::http(p.as_str())
                .map_err(|_| ClientError::Proxy(redact_url(p)))?
                .no_proxy(no_proxy);
            b = b.proxy(px);
        }
        let http = b.build().map_err(|e| ClientError::Build(e.to_string()))?;
        Ok(RegistryClient {
            http,
            permits: Semaphore::new(opts.concurrency.max(1)),
            disk: Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get())),
            budget: AtomicU32::new(opts.retry_budget),
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            auth: Arc::new(config.clone()),
            opts,
        })
    }

    /// Requests sent at once at most (`--concurrency`).
    pub fn concurrency(&self) -> usize {
        self.opts.concurrency.max(1)
    }

    pub fn stats(&self) -> ClientStats {
        ClientStats {
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
        }
    }

    /// Fetches `url`. Served from the cache when the entry is immutable (or `--offline`),
    /// revalidated with `If-None-Match`/`If-Modified-Since` otherwise. A 200 body is stored
    /// only after it passed the kind's shape check, so a bad answer never poisons the cache.
    /// With a snapshot hook: replayed from the snapshot only (never a request), or recorded.
    pub async fn get(
        &self,
        url: &Url,
        accept: Accept,
        kind: ResourceKind,
    ) -> Result<Fetched, FetchError> {
        match &self.opts.snapshot {
            Some(SnapshotHook::Replay(replay)) => replay
                .answer(url, accept, kind, &self.opts.size_caps)
                .map_err(|reason| FetchError {
                    url_redacted: redact_url(url),
                    reason,
                }),
            Some(SnapshotHook::Record(recorder)) => {
                let result = self.get_live(url, accept, kind, None).await.map(|(f, _)| f);
                recorder.record(url, accept, kind, &result);
                result
            }
            None => self.get_live(url, accept, kind, None).await.map(|(f, _)| f),
        }
    }

    /// [`RegistryClient::get`] for a reader that derives something from bodies of `large`
    /// bytes or more and stores it ([`DerivedSlot::store`]): when the cached entry of such a
    /// body would be served without a request and what the reader derived from that very body
    /// is stored, that is served instead and the body is not read. Replayed or recorded
    /// snapshots always serve the body, with nowhere to store.
    pub async fn get_served(
        &self,
        url: &Url,
        accept: Accept,
        kind: ResourceKind,
        large: u64,
    ) -> Result<Served, FetchError> {
        let cache = match (&self.opts.snapshot, &self.opts.cache) {
            (None, Some(c)) if self.check_scheme(url).is_ok() => c.clone(),
            _ => {
                return self
                    .get(url, accept, kind)
                    .await
                    .map(|f| Served::Body(f, None))
            }
        };
        let key = self.cache_key(url, accept);
        let offline = self.opts.offline;
        let now = unix_now();
        let (c, k) = (cache.clone(), key.clone());
        /// What the cache holds for the request, as far as it was read.
        enum Looked {
            /// What was derived from a body served without a request.
            Derived(Bytes),
            /// The entry read whole (`None`: there is none).
            Read(Option<Box<CachedEntry>>),
            /// A large entry whose body is needed and not yet read.
            Unread,
        }
        let looked = self
            .on_disk(move || match c.peek(&k, large) {
                Peeked::Large(meta) if meta.status == 200 && servable(&meta, offline, now) => {
                    match c.get_derived(&k, &meta.stamp()) {
                        Some(d) => Looked::Derived(d),
                        None => Looked::Unread,
                    }
                }
                Peeked::Large(_) => Looked::Unread,
                Peeked::Entry(e) => Looked::Read(Some(Box::new(e))),
                Peeked::Missing => Looked::Read(None),
            })
            .await;
        let preread = match looked {
            Some(Looked::Derived(derived)) => {
                self.cache_hits.fetch_add(1, Ordering::Relaxed);
                return Ok(Served::Derived(derived));
            }
            Some(Looked::Read(entry)) => Some(entry.map(|e| *e)),
            Some(Looked::Unread) | None => None,
        };
        let (fetched, stamp) = self.get_live(url, accept, kind, preread).await?;
        let slot = stamp
            .filter(|_| !cache.is_read_only())
            .map(|stamp| DerivedSlot { cache, key, stamp });
        Ok(Served::Body(fetched, slot))
    }

    /// One fetch through the cache: the body, and the stamp of the cache entry now holding it
    /// (none without a cache, or when it could not be written). `preread`: the cache entry
    /// already read (`Some(None)`: none), else it is read here.
    async fn get_live(
        &self,
        url: &Url,
        accept: Accept,
        kind: ResourceKind,
        preread: Option<Option<CachedEntry>>,
    ) -> Result<(Fetched, Option<Stamp>), FetchError> {
        let fail = |reason| FetchError {
            url_redacted: redact_url(url),
            reason,
        };
        self.check_scheme(url).map_err(fail)?;
        let auth = self.auth.auth_for(url);
        let key = CacheKey::new(url, accept.header(), auth.map(|a| a.nerf_dart.as_str()));
        let cache = self.opts.cache.as_ref();
        let cached = match (cache, preread) {
            (_, Some(preread)) => preread.filter(|e| e.meta.status == 200),
            (Some(c), None) => {
                let (c, k) = (c.clone(), key.clone());
                self.on_disk(move || c.get(&k))
                    .await
                    .flatten()
                    .filter(|e| e.meta.status == 200)
            }
            (None, None) => None,
        };
        let now = unix_now();
        if let Some(e) = cached
            .as_ref()
            .filter(|e| servable(&e.meta, self.opts.offline, now))
        {
            self.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok((
                Fetched {
                    bytes: e.body.clone(),
                    from_cache: true,
                    status: 200,
                },
                Some(e.meta.stamp()),
            ));
        }
        if self.opts.offline {
            return Err(fail(FetchFailure::Offline));
        }
        let validators = cached
            .as_ref()
            .map(|e| (e.meta.etag.clone(), e.meta.last_modified.clone()));
        let raw = self
            .fetch_with_retries(url, accept, kind, auth, validators)
            .await
            .map_err(fail)?;
        let fresh_until = raw
            .max_age
            .filter(|_| !kind.immutable())
            .map(|a| now.saturating_add(a.min(MAX_FRESHNESS).as_secs() as i64));
        match (raw.status, cached) {
            (304, Some(e)) => {
                self.cache_hits.fetch_add(1, Ordering::Relaxed);
                let mut stamp = Some(e.meta.stamp());
                if let (Some(c), Some(_)) = (cache, fresh_until) {
                    // Fresh again for max-age: stored so the next run need not ask.
                    let meta = EntryMeta {
                        fresh_until,
                        etag: raw.etag.or(e.meta.etag.clone()),
                        last_modified: raw.last_modified.or(e.meta.last_modified.clone()),
                        ..e.meta.clone()
                    };
                    stamp = self.store(c, &key, meta, &e.body).await;
                }
                Ok((
                    Fetched {
                        bytes: e.body,
                        from_cache: true,
                        status: 200,
                    },
                    stamp,
                ))
            }
            (200, _) => {
                check_shape(kind, &raw.body).map_err(|_| fail(FetchFailure::Decode))?;
                let mut stamp = None;
                if let Some(c) = cache {
                    let meta = EntryMeta {
                        url: redact_url(url),
                        accept: accept.header().to_string(),
                        status: 200,
                        etag: raw.etag,
                        last_modified: raw.last_modified,
                        immutable: kind.immutable(),
                        fresh_until,
                        body_len: 0,
                        body_crc32: 0,
                    };
                    stamp = self.store(c, &key, meta, &raw.body).await;
                }
                Ok((
                    Fetched {
                        bytes: raw.body,
                        from_cache: false,
                        status: 200,
                    },
                    stamp,
                ))
            }
            (404, _) => {
                // Never cached: a later publish must be seen. Drop a stale revalidatable entry.
                if let Some(c) = cache {
                    c.remove(&key);
                }
                Err(fail(FetchFailure::NotFound))
            }
            (s, _) => Err(fail(FetchFailure::Status(s))),
        }
    }

    /// Drops the cached entry for `url` (call when its bytes failed verification, so the next
    /// run fetches them again). No-op offline.
    pub fn evict(&self, url: &Url, accept: Accept) {
        if let Some(c) = &self.opts.cache {
            c.remove(&self.cache_key(url, accept));
        }
    }

    /// The cache key of `url` fetched with `accept` under the credentials this client sends
    /// it with.
    fn cache_key(&self, url: &Url, accept: Accept) -> CacheKey {
        let auth = self.auth.auth_for(url);
        CacheKey::new(url, accept.header(), auth.map(|a| a.nerf_dart.as_str()))
    }

    /// Stores `body` under `key` (on the blocking pool, one per core), and returns the stamp of
    /// the entry written: `None` when it could not be written, which only costs a refetch (and
    /// what would have been derived from it) next time.
    async fn store(
        &self,
        cache: &Cache,
        key: &CacheKey,
        meta: EntryMeta,
        body: &Bytes,
    ) -> Option<Stamp> {
        let (c, k, body) = (cache.clone(), key.clone(), body.clone());
        self.on_disk(move || c.put(&k, meta, &body))
            .await
            .and_then(Result::ok)
    }

    /// Plain http only to loopback unless `allow_http`; nothing but http(s).
    fn check_scheme(&self, url: &Url) -> Result<(), FetchFailure> {
        match url.scheme() {
            "https" => Ok(()),
            "http" if self.opts.allow_http || is_loopback(url) => Ok(()),
            "http" => Err(FetchFailure::Insecure),
            _ => Err(FetchFailure::Insecure),
        }
    }

    async fn fetch_with_retries(
        &self,
        url: &Url,
        accept: Accept,
        kind: ResourceKind,
        auth: Option<&AuthEntry>,
        validators: Option<(Option<String>, Option<String>)>,
    ) -> Result<Raw, FetchFailure> {
        let mut attempt: u32 = 0;
        loop {
            let result = {
                let _permit = self
                    .permits
                    .acquire()
                    .await
                    .map_err(|_| FetchFailure::Connection)?;
                match tokio::time::timeout(
                    self.opts.timeout,
                    self.fetch_once(url, accept, kind, auth, validators.as_ref()),
                )
                .await
                {
                    Ok(r) => r,
                    Err(_) => Err(FetchFailure::Timeout),
                }
            };
            let wait = match &result {
                Ok(r) if r.status == 429 || r.status >= 500 => r.retry_after,
                Ok(_) => return result,
                Err(FetchFailure::Timeout | FetchFailure::Connection) => None,
                Err(_) => return result,
            };
            if attempt >= self.opts.retries {
                return match result {
                    Ok(r) => Err(FetchFailure::Status(r.status)),
                    Err(e) => Err(e),
                };
            }
            if !self.take_retry() {
                return Err(FetchFailure::RetriesExhausted);
            }
            attempt += 1;
            let backoff = self
                .opts
                .backoff
                .saturating_mul(1u32 << (attempt - 1).min(16));
            tokio::time::sleep(wait.unwrap_or(backoff).min(self.opts.max_wait)).await;
        }
    }

    fn take_retry(&self) -> bool {
        let ok = self
            .budget
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| b.checked_sub(1))
            .is_ok();
        if ok {
            self.retries.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }

    /// One attempt: follows redirects by hand (credentials only while the origin is the
    /// original one), then reads the body under the kind's cap.
    async fn fetch_once(
        &self,
        url: &Url,
        accept: Accept,
        kind: ResourceKind,
        auth: Option<&AuthEntry>,
        validators: Option<&(Option<String>, Option<String>)>,
    ) -> Result<Raw, FetchFailure> {
        let origin = url.origin();
        let mut current = url.clone();
        for _hop in 0..=self.opts.max_redirects {
            self.check_scheme(&current)?;
            let same_origin = current.origin() == origin;
            let mut req = self
                .http
                .get(current.clone())
                .header(ACCEPT, accept.header());
            // Credentials only while the hop stays on the original origin and within the
            // scope of the same nerf-dart (a redirect elsewhere on the host loses them too).
            let in_scope = |a: &AuthEntry| {
                self.auth
                    .auth_for(&current)
                    .is_some_and(|e| e.nerf_dart == a.nerf_dart)
            };
            if let Some(a) = auth.filter(|a| same_origin && in_scope(a)) {
                let mut v = HeaderValue::from_str(&a.credential.header_value())
                    .map_err(|_| FetchFailure::Connection)?;
                v.set_sensitive(true);
                req = req.header(AUTHORIZATION, v);
            }
            if let (true, Some((etag, modified))) = (same_origin, validators) {
                if let Some(e) = etag.as_deref().and_then(|e| HeaderValue::from_str(e).ok()) {
                    req = req.header(IF_NONE_MATCH, e);
                }
                if let Some(m) = modified
                    .as_deref()
                    .and_then(|m| HeaderValue::from_str(m).ok())
                {
                    req = req.header(IF_MODIFIED_SINCE, m);
                }
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let mut resp = req.send().await.map_err(classify)?;
            let status = resp.status().as_u16();
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                let next = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| current.join(l).ok())
                    .ok_or(FetchFailure::Redirect)?;
                current = next;
                continue;
            }
            let header = |name: reqwest::header::HeaderName| {
                resp.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let etag = header(reqwest::header::ETAG);
            let last_modified = header(reqwest::header::LAST_MODIFIED);
            let retry_after = header(reqwest::header::RETRY_AFTER)
                .as_deref()
                .and_then(parse_retry_after);
            let max_age = header(reqwest::header::CACHE_CONTROL)
                .as_deref()
                .and_then(parse_max_age);
            if status != 200 {
                // Error bodies are not needed; don't read them.
                return Ok(Raw {
                    status,
                    body: Bytes::new(),
                    etag,
                    last_modified,
                    retry_after,
                    max_age,
                });
            }
            let cap = self.opts.size_caps.for_kind(kind);
            if resp.content_length().is_some_and(|n| n > cap) {
                return Err(FetchFailure::TooLarge { cap });
            }
            let mut body = Vec::with_capacity(
                resp.content_length()
                    .unwrap_or(0)
                    .min(cap)
                    .min(16 * 1024 * 1024) as usize,
            );
            // Chunks are already gzip-decoded: the cap bounds the decompressed size.
            while let Some(chunk) = resp.chunk().await.map_err(classify)? {
                if body.len() as u64 + chunk.len() as u64 > cap {
                    return Err(FetchFailure::TooLarge { cap });
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(Raw {
                status,
                body: Bytes::from(body),
                etag,
                last_modified,
                retry_after,
                max_age,
            });
        }
        Err(FetchFailure::Redirect)
    }
}

/// Maps a reqwest error to a reason without its text (which may contain the URL).
fn classify(e: reqwest::Error) -> FetchFailure {
    if e.is_timeout() {
        return FetchFailure::Timeout;
    }
    if e.is_redirect() {
        return FetchFailure::Redirect;
    }
    if e.is_decode() {
        // A body cut mid-stream surfaces through the gzip decoder as a decode error wrapping
        // the transport failure: that is a connection problem (retried), not bad data.
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                return match io.kind() {
                    std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput => {
                        FetchFailure::Decode
                    }
                    _ => FetchFailure::Connection,
                };
            }
            if s.downcast_ref::<reqwest::Error>()
                .is_some_and(|r| r.is_body())
            {
                return FetchFailure::Connection;
            }
            src = s.source();
        }
        return FetchFailure::Decode;
    }
    FetchFailure::Connection
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// `Retry-After`: delta-seconds or an HTTP date.
/// `max-age=N` of a `Cache-Control` value; `None` when absent, malformed, or when `no-cache`
/// or `no-store` is present.
fn parse_max_age(v: &str) -> Option<Duration> {
    let mut max_age = None;
    for d in v.split(',').map(str::trim) {
        let (name, value) = d.split_once('=').unwrap_or((d, ""));
        match name.trim().to_ascii_lowercase().as_str() {
            "no-cache" | "no-store" => return None,
            "max-age" => max_age = value.trim().trim_matches('"').parse::<u64>().ok(),
            _ => {}
        }
    }
    max_age.map(Duration::from_secs)
}

/// The clock for cache freshness (the real one: freshness is about the registry, not about
/// `--danger-now`).
/// Whether a cached 200 is served without asking the registry: immutable, fresh (its max-age
/// not yet over at `now`), or anything cached when `offline`.
fn servable(meta: &EntryMeta, offline: bool, now: i64) -> bool {
    offline || meta.immutable || meta.fresh_until.is_some_and(|t| now < t)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(v)
        .ok()?;
    let now = jiff::Timestamp::now();
    let delta = when.as_millisecond().saturating_sub(now.as_millisecond());
    Some(Duration::from_millis(delta.max(0) as u64))
}

impl RegistryClient {
    /// [`off_worker`] for cache I/O, at most one per core at a time (`disk`).
    async fn on_disk<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        // Closed never: the semaphore lives as long as the client.
        let _slot = self.disk.acquire().await.ok()?;
        off_worker(f).await
    }
}

/// Runs blocking cache I/O (reading a body of up to tens of MB and checking it, creating an
/// entry file) on the blocking pool and waits for it, so the async workers serve the other
/// requests meanwhile. `None` when the runtime shut down before it ran (a cache miss, or an
/// entry not written: never wrong data).
async fn off_worker<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => Some(v),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_and_no_cache_wins() {
        assert_eq!(
            parse_max_age("public, max-age=300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            parse_max_age("Max-Age = \"60\""),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_max_age("max-age=300, no-cache"), None);
        assert_eq!(parse_max_age("no-store"), None);
        assert_eq!(parse_max_age("public"), None);
        assert_eq!(parse_max_age("max-age=-1"), None);
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn loopback_detection() {
        for (u, want) in [
            ("http://127.0.0.1:1/", true),
            ("http://[::1]:1/", true),
            ("http://localhost/", true),
            ("http://registry.example/", false),
            ("http://10.0.0.1/", false),
        ] {
            assert_eq!(is_loopback(&Url::parse(u).unwrap()), want, "{u}");
        }
    }
}
