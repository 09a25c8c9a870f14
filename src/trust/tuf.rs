//! Fetching the trust material through TUF: the Sigstore trusted root and the npm registry's
//! keys, with the whole chain verified.
//!
//! The TUF workflow itself (root rotation one version at a time, signed by the old and the new
//! root; timestamp → snapshot → targets with thresholds, anti-rollback and expiry; the
//! delegated `registry.npmjs.org` role, whose signatures are checked against the keys the
//! top-level targets delegates to; target length and hash) is `sigstore-tuf`'s
//! [`Updater`]. This module supplies what it leaves to the application: the transport (our
//! reqwest over rustls, with size caps and the loopback-only rule for plain http), the root of
//! trust, the time, and the local metadata store that carries the version floors (rollback
//! protection) from one run to the next.
//!
//! Why `sigstore-tuf` and not `sigstore-trust-root` (its `tuf` feature): that crate's TUF
//! client is private and its public API fetches only `trusted_root.json` and
//! `signing_config.json`, so it cannot give us the delegated `registry.npmjs.org/keys.json`;
//! it also brings reqwest 0.13 and `directories` with it. `sigstore-tuf` is the crate it is
//! built on (same family and pin), and takes a pluggable transport, a `now`, and a store.
//!
//! Known limit: `sigstore-tuf` 0.15.1 does not accept the public-good roots v1–v4 (2021-2022,
//! keys as hex points rather than PEM) as a starting root ("0/3 valid signatures"). That never
//! matters in production (the embedded root is v16); tests start from v5 or later.
//!
//! Nothing here reads the clock: `now` is an argument.

use crate::trust::npm_keys::{KeySource, NpmKeys};
use crate::trust::trusted_root::TrustedRoot;
use sigstore_tuf::transport::FetchFuture;
use sigstore_tuf::{FileStore, MetadataStore, Repository, Updater, UpdaterConfig};
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// The Sigstore public-good TUF repository.
pub const PRODUCTION_TUF_URL: &str = "https://tuf-repo-cdn.sigstore.dev/";
/// The target holding the Sigstore trusted root.
pub const TRUSTED_ROOT_TARGET: &str = "trusted_root.json";
/// The target holding the npm registry's keys, signed by the delegated `registry.npmjs.org`
/// role (the top-level targets role delegates `registry.npmjs.org/*` to it).
pub const NPM_KEYS_TARGET: &str = "registry.npmjs.org/keys.json";
/// Timeout of one request (connect + body): a TUF file is at most a few hundred kB.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Cap on the trusted root and keys targets (the real files are 7 kB and 2 kB; the pinned
/// length in the targets metadata is the first bound, this one the last).
pub const TARGET_MAX_BYTES: u64 = 1_000_000;

/// Where to fetch from and what to start from.
#[derive(Debug, Clone)]
pub struct TufOptions {
    /// Base URL: metadata at `<url>/<name>`, targets at `<url>/targets/<path>`.
    pub url: Url,
    /// The root of trust (TUF `root.json`, plain JSON): the embedded one, or a test's.
    pub bootstrap_root: Vec<u8>,
    /// Directory of verified metadata from earlier runs for this repository (version floors
    /// and the root chain already walked); `None` = no memory between runs.
    pub metadata_dir: Option<PathBuf>,
    /// The time at which every expiry is evaluated.
    pub now: jiff::Timestamp,
}

/// The verified targets and the metadata versions they were verified under.
#[derive(Debug, Clone)]
pub struct TufTargets {
    /// `trusted_root.json`, byte-exact; already parsed once to prove it is usable.
    pub trusted_root: Vec<u8>,
    /// `registry.npmjs.org/keys.json`, byte-exact; already parsed once.
    pub npm_keys: Vec<u8>,
    pub versions: TufVersions,
}

/// Versions and expiry of the metadata a fetch was verified under.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TufVersions {
    pub root: u64,
    pub timestamp: u64,
    pub snapshot: u64,
    pub targets: u64,
    /// Version of the delegated `registry.npmjs.org` targets role.
    pub npm_role: u64,
    /// Expiry of the timestamp metadata (the earliest-expiring role in practice).
    pub timestamp_expires: jiff::Timestamp,
}

/// Why a fetch did not produce trust material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TufError {
    /// The URL or the bootstrap root cannot be used (a usage error).
    #[error("{0}")]
    Config(String),
    /// The repository could not be reached or a file was missing.
    #[error("{0}")]
    Transport(String),
    /// Metadata or a target did not verify: signature, threshold, version, expiry, hash,
    /// length, or an unusable target. Nothing was stored.
    #[error("{0}")]
    Refused(String),
}

/// Checks a `--tuf-url`: https anywhere, plain http only to a loopback address. A trailing
/// slash is added so relative names resolve under it.
pub fn parse_tuf_url(s: &str) -> Result<Url, TufError> {
    let mut url = Url::parse(s).map_err(|e| TufError::Config(format!("--tuf-url {s:?}: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(TufError::Config(format!(
                "--tuf-url {s:?}: plain http is only allowed to a loopback address"
            )))
        }
        other => {
            return Err(TufError::Config(format!(
                "--tuf-url {s:?}: scheme {other:?} is not http(s)"
            )))
        }
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(TufError::Config(format!(
            "--tuf-url {s:?}: no credentials, query or fragment allowed"
        )));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Runs the TUF refresh from `opts.bootstrap_root` and downloads both targets, all verified
/// at `opts.now`. Verified metadata is written through to `opts.metadata_dir` (so the next
/// run cannot be rolled back below it); the targets are only returned, never stored here.
pub async fn fetch_trust_targets(opts: &TufOptions) -> Result<TufTargets, TufError> {
    let mut builder = reqwest::Client::builder();
    if is_loopback(&opts.url) {
        // A local mirror is reached directly, whatever HTTP(S)_PROXY says.
        builder = builder.no_proxy();
    }
    let client = builder
        .use_rustls_tls()
        .timeout(REQUEST_TIMEOUT)
        // A redirect could lead from https to plain http; a TUF mirror has no need of one.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("npm-provenance/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| TufError::Config(format!("cannot build the HTTP client: {e}")))?;
    let network = HttpRepo {
        client,
        base: opts.url.clone(),
    };
    let store = match &opts.metadata_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| TufError::Config(format!("cannot create {}: {e}", dir.display())))?;
            Some(MetadataOnly(FileStore::new(dir)))
        }
        None => None,
    };
    let repo = LayeredRepo {
        store: store.clone(),
        network,
    };
    let mut config = UpdaterConfig::default();
    config.target_max_length = TARGET_MAX_BYTES;
    let mut updater = Updater::new(repo, &opts.bootstrap_root)
        .map_err(|e| TufError::Config(format!("the bootstrap TUF root: {}", chain(&e))))?
        .with_config(config);
    if let Some(store) = store {
        updater = updater.with_store(store);
    }
    updater
        .refresh(opts.now)
        .await
        .map_err(|e| classify("TUF metadata", &e))?;
    let trusted_root = updater
        .get_target(TRUSTED_ROOT_TARGET, opts.now)
        .await
        .map_err(|e| classify(&format!("target {TRUSTED_ROOT_TARGET}"), &e))?;
    let npm_keys = updater
        .get_target(NPM_KEYS_TARGET, opts.now)
        .await
        .map_err(|e| classify(&format!("target {NPM_KEYS_TARGET}"), &e))?;
    TrustedRoot::from_json(&trusted_root).map_err(|e| {
        TufError::Refused(format!(
            "target {TRUSTED_ROOT_TARGET} verified but is not a usable trusted root: {}",
            e.0
        ))
    })?;
    NpmKeys::from_json(&npm_keys, KeySource::Pinned).map_err(|e| {
        TufError::Refused(format!(
            "target {NPM_KEYS_TARGET} verified but is not a usable key set: {}",
            e.0
        ))
    })?;
    let versions = versions(updater.trusted())?;
    Ok(TufTargets {
        trusted_root,
        npm_keys,
        versions,
    })
}

fn versions(t: &sigstore_tuf::TrustedMetadataSet) -> Result<TufVersions, TufError> {
    let missing = |what: &str| TufError::Refused(format!("no trusted {what} after the refresh"));
    let timestamp = t.timestamp().ok_or_else(|| missing("timestamp"))?;
    let snapshot = t.snapshot().ok_or_else(|| missing("snapshot"))?;
    let targets = t
        .targets_role("targets")
        .ok_or_else(|| missing("targets"))?;
    let npm = t
        .targets_role("registry.npmjs.org")
        .ok_or_else(|| missing("registry.npmjs.org role"))?;
    Ok(TufVersions {
        root: t.root().version,
        timestamp: timestamp.version,
        snapshot: snapshot.version,
        targets: targets.version,
        npm_role: npm.version,
        timestamp_expires: timestamp.expires,
    })
}

/// Sorts a `sigstore-tuf` error into "could not fetch" and "did not verify".
fn classify(step: &str, e: &sigstore_tuf::Error) -> TufError {
    let msg = format!("{step}: {}", chain(e));
    match e {
        sigstore_tuf::Error::Transport { .. } | sigstore_tuf::Error::Io { .. } => {
            TufError::Transport(msg)
        }
        _ => TufError::Refused(msg),
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The repository over HTTP: metadata at `<base>/<name>`, targets at `<base>/targets/<path>`
/// (the layout of the Sigstore CDN and of python-tuf / go-tuf clients).
struct HttpRepo {
    client: reqwest::Client,
    base: Url,
}

impl HttpRepo {
    async fn get(&self, relative: &str, max: u64) -> sigstore_tuf::Result<Option<Vec<u8>>> {
        let url = self.base.join(relative).map_err(|e| {
            sigstore_tuf::Error::transport(format!("cannot build a URL for {relative:?}: {e}"))
        })?;
        let shown = url.to_string();
        let mut resp =
            self.client.get(url).send().await.map_err(|e| {
                sigstore_tuf::Error::transport(format!("GET {shown}: {}", chain(&e)))
            })?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::FORBIDDEN {
            // S3-style mirrors answer 403 for a missing key; both end the root chain.
            return Ok(None);
        }
        if !status.is_success() {
            return Err(sigstore_tuf::Error::transport(format!(
                "GET {shown}: HTTP {status}"
            )));
        }
        if resp.content_length().is_some_and(|n| n > max) {
            return Err(sigstore_tuf::Error::transport(format!(
                "GET {shown}: announced length is over the cap of {max} bytes"
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| sigstore_tuf::Error::transport(format!("GET {shown}: {}", chain(&e))))?
        {
            if (body.len() + chunk.len()) as u64 > max {
                return Err(sigstore_tuf::Error::transport(format!(
                    "GET {shown}: body is over the cap of {max} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Some(body))
    }
}

impl Repository for HttpRepo {
    fn fetch_metadata<'a>(&'a self, name: &'a str, max_length: u64) -> FetchFuture<'a> {
        Box::pin(self.get(name, max_length))
    }

    fn fetch_target<'a>(&'a self, path: &'a str, max_length: u64) -> FetchFuture<'a> {
        Box::pin(async move { self.get(&format!("targets/{path}"), max_length).await })
    }
}

/// The network, except that versioned roots already walked in an earlier run come from the
/// store (the `Updater` re-verifies them from the bootstrap root): a mirror that stops
/// serving a newer root cannot take the client back to an older one.
struct LayeredRepo {
    store: Option<MetadataOnly>,
    network: HttpRepo,
}

impl Repository for LayeredRepo {
    fn fetch_metadata<'a>(&'a self, name: &'a str, max_length: u64) -> FetchFuture<'a> {
        Box::pin(async move {
            if let Some(store) = &self.store {
                if is_versioned_root(name) {
                    if let Ok(Some(bytes)) = store.load(&format!("root_history/{name}")) {
                        return Ok(Some(bytes));
                    }
                }
            }
            self.network.get(name, max_length).await
        })
    }

    fn fetch_target<'a>(&'a self, path: &'a str, max_length: u64) -> FetchFuture<'a> {
        self.network.fetch_target(path, max_length)
    }
}

/// The metadata store without the targets: the `Updater` would otherwise serve a target from
/// its cache without downloading it; we store the targets ourselves ([`super::store`]), and
/// always download and verify them.
#[derive(Clone)]
struct MetadataOnly(FileStore);

impl MetadataStore for MetadataOnly {
    fn load(&self, name: &str) -> sigstore_tuf::Result<Option<Vec<u8>>> {
        if name.starts_with("targets/") {
            return Ok(None);
        }
        self.0.load(name)
    }

    fn store(&self, name: &str, bytes: &[u8]) -> sigstore_tuf::Result<()> {
        if name.starts_with("targets/") {
            return Ok(());
        }
        self.0.store(name, bytes)
    }
}

/// `N.root.json` with N decimal.
fn is_versioned_root(name: &str) -> bool {
    name.strip_suffix(".root.json")
        .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
}

/// The sub-directory of a metadata store for one repository URL: verified metadata of one
/// repository never sets floors for another.
pub fn metadata_namespace(url: &Url) -> String {
    use sha2::{Digest, Sha256};
    let host = url.host_str().unwrap_or("local");
    let safe: String = host
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let digest = hex::encode(Sha256::digest(url.as_str().as_bytes()));
    format!("{safe}-{}", &digest[..16])
}

/// Reads a TUF root file given by the user (plain JSON or the base64 string of `seeds.json`).
pub fn read_root_file(path: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    crate::trust::tuf_root::TufRootInfo::from_json(&bytes).map_err(|e| e.0)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuf_url_rules() {
        assert_eq!(
            parse_tuf_url("https://tuf-repo-cdn.sigstore.dev")
                .unwrap()
                .as_str(),
            PRODUCTION_TUF_URL
        );
        assert!(parse_tuf_url("http://127.0.0.1:8080/x").is_ok());
        assert!(parse_tuf_url("http://[::1]:8080/").is_ok());
        assert!(parse_tuf_url("http://localhost/").is_ok());
        for bad in [
            "http://example.com/",
            "http://10.0.0.1/",
            "ftp://127.0.0.1/",
            "https://u:p@example.com/",
            "https://example.com/?q=1",
            "not a url",
        ] {
            assert!(
                matches!(parse_tuf_url(bad), Err(TufError::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn versioned_root_names() {
        assert!(is_versioned_root("16.root.json"));
        assert!(!is_versioned_root("root.json"));
        assert!(!is_versioned_root(".root.json"));
        assert!(!is_versioned_root("a.root.json"));
        assert!(!is_versioned_root("16.snapshot.json"));
    }

    #[test]
    fn namespaces_differ_per_url() {
        let a = metadata_namespace(&parse_tuf_url("http://127.0.0.1:1/").unwrap());
        let b = metadata_namespace(&parse_tuf_url("http://127.0.0.1:2/").unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with("127_0_0_1-"));
    }
}
