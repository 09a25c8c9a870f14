//! Snapshots for air-gapped audits: every answer the registry client gave during a run
//! ([`Recorder`], hooked into [`RegistryClient::get`](super::RegistryClient::get)), written to a
//! directory as a manifest and content-addressed bodies; and the offline replay of one
//! ([`Replay`]), which answers the client's requests from the snapshot alone and never opens a
//! socket.
//!
//! Layout of a snapshot directory:
//!
//! ```text
//! DIR/manifest.json        npm-provenance/snapshot/v1 (see Manifest)
//! DIR/bodies/<sha256 hex>  one file per distinct 200 body
//! ```
//!
//! What is recorded is what the client answered, keyed by (redacted URL, Accept header):
//! `ok` with its body, `not-found` (a 404: "no attestations" for an attestations URL), or
//! `failed` with the failure, so a replay gives the same verdict and the same message. Never a
//! header, a credential or configuration content; URLs lose userinfo and queries
//! ([`redact_url`]). The sha256 in the manifest guards against a damaged copy, not against
//! someone who edits both: trust never comes from a snapshot (signatures are verified against
//! the replaying machine's own trust material).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use super::client::{Accept, FetchError, FetchFailure, Fetched, ResourceKind, SizeCaps};
use super::config::RegistryConfig;
use super::redact::redact_url;
use super::shape::check_shape;
use crate::error::AppError;

/// Schema id of `manifest.json`.
pub const SCHEMA: &str = "npm-provenance/snapshot/v1";
/// The manifest's file name in a snapshot directory.
pub const MANIFEST: &str = "manifest.json";
/// The folder of the bodies in a snapshot directory.
pub const BODIES: &str = "bodies";
/// Largest manifest read. An entry is a few hundred bytes; a 1,600-package project with
/// history has a few thousand.
pub const MAX_MANIFEST_BYTES: u64 = 256 * 1024 * 1024;
/// Most entries in a manifest (well beyond any real project's requests).
pub const MAX_ENTRIES: usize = 1_000_000;
/// The manifest is four levels deep; anything much deeper is not one.
const MAX_MANIFEST_DEPTH: usize = 16;

/// How the client uses a snapshot: record what it answers, or answer only from a snapshot.
#[derive(Clone)]
pub enum SnapshotHook {
    Record(Arc<Recorder>),
    Replay(Arc<Replay>),
}

impl std::fmt::Debug for SnapshotHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnapshotHook::Record(r) => write!(f, "Record({} answers)", r.len()),
            SnapshotHook::Replay(r) => write!(f, "Replay({})", r.dir.display()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The manifest

/// `manifest.json`. Within v1 fields are only added; readers ignore unknown ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: String,
    /// When the snapshot began (the real clock, never `--danger-now`).
    pub taken_at: Timestamp,
    pub tool: Tool,
    pub inventory: InventoryRecord,
    /// The registry map the requests were built from; a replay uses it instead of `.npmrc`.
    pub registries: Registries,
    /// The `verify` flags that shaped what was fetched.
    pub options: Options,
    /// Fingerprints of the trust material the snapshot was taken with (never the material: a
    /// replay uses its own and warns when it differs).
    pub trust: TrustRecord,
    /// No request failed (other than 404s, which are answers).
    pub complete: bool,
    /// Entries with outcome `failed`.
    pub failed: usize,
    /// One per distinct request, sorted by (url, accept).
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    pub fn this() -> Tool {
        Tool {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// The inventory the snapshot was taken for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InventoryRecord {
    /// As given on the command line (resolved to the lockfile or directory read).
    pub path: String,
    /// Of the lockfile's bytes; `null` for a `node_modules` walk.
    pub sha256: Option<String>,
}

/// The registry map, URLs without userinfo or query.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Registries {
    pub default: String,
    /// `@scope` → registry.
    pub scopes: BTreeMap<String, String>,
    /// `--metadata-registry`, when given.
    pub metadata: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Options {
    pub history: bool,
    pub omit: Vec<String>,
    pub workspace: Vec<String>,
    /// `--policy FILE` as given (the default file, when present, is read on replay too).
    pub policy: Option<String>,
    /// `--attestations` (`auto`, `announced`, `all`); absent in older manifests: `auto`.
    #[serde(default = "auto")]
    pub attestations: String,
}

fn auto() -> String {
    "auto".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustRecord {
    /// sha256 of the trusted_root.json in use.
    pub trusted_root_sha256: String,
    /// sha256 over the npm keys in use (their source kind, then each key's id, DER, usage and
    /// validity, sorted).
    pub npm_keys_sha256: String,
}

/// One request and its answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// Redacted (no userinfo, query as `?<redacted>`).
    pub url: String,
    /// The Accept header sent.
    pub accept: String,
    /// `packument`, `attestations`, `keys` or `tarball`.
    pub kind: String,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// `bodies/<sha256>` for `ok`.
    pub body: Option<String>,
    pub size: Option<u64>,
    pub sha256: Option<String>,
    /// When the client answered (from the network, or from the cache when the snapshot was
    /// taken with a warm `--cache-dir`).
    pub fetched_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Ok,
    NotFound,
    Failed,
}

/// Why a request failed: a stable `reason` (with `status` or `cap` where it has one) and the
/// message the run showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<u64>,
    pub message: String,
}

impl Failure {
    fn of(f: &FetchFailure) -> Failure {
        let (reason, status, cap) = match f {
            FetchFailure::NotFound => ("not-found", None, None),
            FetchFailure::Status(s) => ("status", Some(*s), None),
            FetchFailure::Timeout => ("timeout", None, None),
            FetchFailure::Connection => ("connection", None, None),
            FetchFailure::TooLarge { cap } => ("too-large", None, Some(*cap)),
            FetchFailure::RetriesExhausted => ("retries-exhausted", None, None),
            FetchFailure::Offline => ("offline", None, None),
            FetchFailure::Redirect => ("redirect", None, None),
            FetchFailure::Decode => ("decode", None, None),
            FetchFailure::Insecure => ("insecure", None, None),
            FetchFailure::NotInSnapshot => ("not-in-snapshot", None, None),
            FetchFailure::SnapshotDamaged(_) => ("snapshot-damaged", None, None),
        };
        Failure {
            reason: reason.into(),
            status,
            cap,
            message: f.to_string(),
        }
    }

    /// The failure a replay gives (`None`: a reason this version does not know).
    fn to_fetch_failure(&self) -> Option<FetchFailure> {
        Some(match self.reason.as_str() {
            "not-found" => FetchFailure::NotFound,
            "status" => FetchFailure::Status(self.status?),
            "timeout" => FetchFailure::Timeout,
            "connection" => FetchFailure::Connection,
            "too-large" => FetchFailure::TooLarge { cap: self.cap? },
            "retries-exhausted" => FetchFailure::RetriesExhausted,
            "offline" => FetchFailure::Offline,
            "redirect" => FetchFailure::Redirect,
            "decode" => FetchFailure::Decode,
            "insecure" => FetchFailure::Insecure,
            "not-in-snapshot" => FetchFailure::NotInSnapshot,
            _ => return None,
        })
    }
}

fn kind_name(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Packument => "packument",
        ResourceKind::Attestations => "attestations",
        ResourceKind::Keys => "keys",
        ResourceKind::Tarball => "tarball",
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

// ---------------------------------------------------------------------------------------------
// Recording

/// Collects every answer of a run, first answer per (redacted URL, Accept) kept.
#[derive(Default)]
pub struct Recorder {
    answers: Mutex<BTreeMap<(String, String), Recorded>>,
}

struct Recorded {
    kind: ResourceKind,
    /// The body (refcounted, shared with the run), or the failure (`NotFound` for a 404).
    result: Result<Bytes, FetchFailure>,
    fetched_at: Timestamp,
}

/// What [`Recorder::write`] wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub manifest: Manifest,
    /// Distinct body files.
    pub bodies: usize,
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder::default()
    }

    /// Records the client's answer to one request.
    pub fn record(
        &self,
        url: &Url,
        accept: Accept,
        kind: ResourceKind,
        result: &Result<Fetched, FetchError>,
    ) {
        let recorded = Recorded {
            kind,
            result: match result {
                Ok(f) => Ok(f.bytes.clone()),
                Err(e) => Err(e.reason.clone()),
            },
            fetched_at: Timestamp::now(),
        };
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        answers
            .entry((redact_url(url), accept.header().to_string()))
            .or_insert(recorded);
    }

    /// Answers recorded so far.
    pub fn len(&self) -> usize {
        self.answers.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the bodies, then `manifest.json` (atomically, last, so a reader sees the old
    /// snapshot or the new one), then removes bodies no entry names any more. `manifest`'s
    /// `entries`, `complete` and `failed` are filled in here. Call [`prepare_dir`] first.
    pub fn write(&self, dir: &Path, mut manifest: Manifest) -> Result<Written, AppError> {
        let bodies_dir = dir.join(BODIES);
        std::fs::create_dir_all(&bodies_dir).map_err(|source| AppError::Write {
            path: bodies_dir.clone(),
            source,
        })?;
        let answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        let mut entries = Vec::with_capacity(answers.len());
        let mut written = std::collections::BTreeSet::new();
        for ((url, accept), r) in answers.iter() {
            let mut e = Entry {
                url: url.clone(),
                accept: accept.clone(),
                kind: kind_name(r.kind).into(),
                outcome: Outcome::Ok,
                failure: None,
                body: None,
                size: None,
                sha256: None,
                fetched_at: r.fetched_at,
            };
            match &r.result {
                Ok(bytes) => {
                    let sha = sha256_hex(bytes);
                    if written.insert(sha.clone()) {
                        let path = bodies_dir.join(&sha);
                        crate::util::write_atomic(&path, bytes)
                            .map_err(|source| AppError::Write { path, source })?;
                    }
                    e.body = Some(format!("{BODIES}/{sha}"));
                    e.size = Some(bytes.len() as u64);
                    e.sha256 = Some(sha);
                }
                Err(FetchFailure::NotFound) => e.outcome = Outcome::NotFound,
                Err(f) => {
                    e.outcome = Outcome::Failed;
                    e.failure = Some(Failure::of(f));
                }
            }
            entries.push(e);
        }
        drop(answers);
        manifest.failed = entries
            .iter()
            .filter(|e| e.outcome == Outcome::Failed)
            .count();
        manifest.complete = manifest.failed == 0;
        manifest.entries = entries;
        let mut json = serde_json::to_string_pretty(&manifest)
            .map_err(|e| AppError::Usage(format!("cannot render the snapshot manifest: {e}")))?;
        json.push('\n');
        let path = dir.join(MANIFEST);
        crate::util::write_atomic(&path, json.as_bytes())
            .map_err(|source| AppError::Write { path, source })?;
        prune_bodies(&bodies_dir, &written);
        Ok(Written {
            manifest,
            bodies: written.len(),
        })
    }
}

/// Removes body files of an earlier snapshot that no entry names (only names that are a
/// sha256, so nothing else is ever touched). Best effort: a leftover costs only space.
fn prune_bodies(bodies_dir: &Path, keep: &std::collections::BTreeSet<String>) {
    let Ok(rd) = std::fs::read_dir(bodies_dir) else {
        return;
    };
    for entry in rd.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if is_sha256_hex(name) && !keep.contains(name) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Makes `dir` ready for a snapshot: creates it, or accepts an empty directory or an earlier
/// snapshot (whose manifest names this schema). Anything else is refused, so user data is never
/// overwritten. Call before fetching, so a refusal costs nothing.
pub fn prepare_dir(dir: &Path) -> Result<(), AppError> {
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return std::fs::create_dir_all(dir).map_err(|source| AppError::Write {
                path: dir.to_path_buf(),
                source,
            });
        }
        Err(e) => return Err(AppError::read(dir, e)),
        Ok(m) if !m.is_dir() => {
            return Err(AppError::Usage(format!(
                "--out {}: not a directory",
                dir.display()
            )))
        }
        Ok(_) => {}
    }
    let mut rd = std::fs::read_dir(dir).map_err(|e| AppError::read(dir, e))?;
    if rd.next().is_none() {
        return Ok(());
    }
    let refuse = |why: &str| {
        AppError::Usage(format!(
            "--out {}: the directory is not empty and is not a snapshot ({why}); refusing to \
             write into it: name a new or empty directory, or an earlier snapshot",
            dir.display()
        ))
    };
    let manifest = dir.join(MANIFEST);
    let meta = std::fs::metadata(&manifest).map_err(|_| refuse("no manifest.json"))?;
    if !meta.is_file() || meta.len() > MAX_MANIFEST_BYTES {
        return Err(refuse("manifest.json is not a snapshot manifest"));
    }
    let bytes = std::fs::read(&manifest).map_err(|e| AppError::read(&manifest, e))?;
    #[derive(Deserialize)]
    struct Head {
        schema: String,
    }
    match serde_json::from_slice::<Head>(&bytes) {
        Ok(h) if h.schema == SCHEMA => Ok(()),
        _ => Err(refuse("manifest.json is not a snapshot manifest")),
    }
}

// ---------------------------------------------------------------------------------------------
// Replay

/// A snapshot opened for replay: the manifest, checked, and an index of its answers.
pub struct Replay {
    dir: PathBuf,
    manifest: Manifest,
    answers: HashMap<(String, String), Answer>,
}

enum Answer {
    Body {
        file: String,
        size: u64,
        sha256: String,
    },
    NotFound,
    Failed(FetchFailure),
}

impl Replay {
    /// Reads and checks `DIR/manifest.json`. A missing, unreadable or malformed manifest is an
    /// error naming the file (exit 2); bodies are checked when read.
    pub fn open(dir: &Path) -> Result<Replay, AppError> {
        Replay::open_capped(dir, MAX_MANIFEST_BYTES, MAX_ENTRIES)
    }

    /// [`Replay::open`] with the size and entry caps given (the tests' edge cases).
    fn open_capped(dir: &Path, max_bytes: u64, max_entries: usize) -> Result<Replay, AppError> {
        let path = dir.join(MANIFEST);
        let meta = std::fs::metadata(&path).map_err(|e| AppError::read(&path, e))?;
        if meta.len() > max_bytes {
            return Err(AppError::parse(
                &path,
                format!("larger than the {max_bytes}-byte cap of a snapshot manifest"),
            ));
        }
        let bytes = std::fs::read(&path).map_err(|e| AppError::read(&path, e))?;
        crate::util::json::check_depth(&bytes, MAX_MANIFEST_DEPTH)
            .map_err(|e| AppError::parse(&path, e))?;
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| AppError::parse(&path, format!("not a snapshot manifest: {e}")))?;
        if manifest.schema != SCHEMA {
            return Err(AppError::parse(
                &path,
                format!("schema {:?}, expected {SCHEMA:?}", manifest.schema),
            ));
        }
        if manifest.entries.len() > max_entries {
            return Err(AppError::parse(
                &path,
                format!("more than {max_entries} entries"),
            ));
        }
        let mut answers = HashMap::with_capacity(manifest.entries.len());
        for (i, e) in manifest.entries.iter().enumerate() {
            let answer =
                check_entry(e).map_err(|p| AppError::parse(&path, format!("entries[{i}]: {p}")))?;
            if answers
                .insert((e.url.clone(), e.accept.clone()), answer)
                .is_some()
            {
                return Err(AppError::parse(
                    &path,
                    format!("entries[{i}]: {} ({}) is recorded twice", e.url, e.accept),
                ));
            }
        }
        let replay = Replay {
            dir: dir.to_path_buf(),
            manifest,
            answers,
        };
        replay.registry_config()?;
        replay.metadata_registry()?;
        Ok(replay)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The registry configuration of the snapshot: its registry map and nothing else (no
    /// credentials, proxies or CAs: nothing is fetched).
    pub fn registry_config(&self) -> Result<RegistryConfig, AppError> {
        let r = &self.manifest.registries;
        let scopes = r
            .scopes
            .iter()
            .map(|(s, u)| Ok((s.clone(), self.registry_url(u, "registries.scopes")?)))
            .collect::<Result<BTreeMap<_, _>, AppError>>()?;
        Ok(RegistryConfig {
            default_registry: self.registry_url(&r.default, "registries.default")?,
            scopes,
            auth: Vec::new(),
            ca: Vec::new(),
            extra_ca: Vec::new(),
            https_proxy: None,
            http_proxy: None,
            no_proxy: None,
            strict_ssl: true,
            warnings: Vec::new(),
        })
    }

    /// `--metadata-registry` of the snapshot.
    pub fn metadata_registry(&self) -> Result<Option<Url>, AppError> {
        self.manifest
            .registries
            .metadata
            .as_deref()
            .map(|m| self.registry_url(m, "registries.metadata"))
            .transpose()
    }

    fn registry_url(&self, s: &str, field: &str) -> Result<Url, AppError> {
        Url::parse(s)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.path().ends_with('/'))
            .ok_or_else(|| {
                AppError::parse(
                    self.dir.join(MANIFEST),
                    format!("{field}: {s:?} is not a registry URL ending in /"),
                )
            })
    }

    /// The recorded answer to `url` with `accept`: the body (size and sha256 checked against
    /// the manifest, then the kind's size cap and shape, as the client checks a live answer),
    /// the recorded 404 or failure, or [`FetchFailure::NotInSnapshot`].
    pub fn answer(
        &self,
        url: &Url,
        accept: Accept,
        kind: ResourceKind,
        caps: &SizeCaps,
    ) -> Result<Fetched, FetchFailure> {
        let key = (redact_url(url), accept.header().to_string());
        let (file, size, sha256) = match self.answers.get(&key) {
            None => return Err(FetchFailure::NotInSnapshot),
            Some(Answer::NotFound) => return Err(FetchFailure::NotFound),
            Some(Answer::Failed(f)) => return Err(f.clone()),
            Some(Answer::Body { file, size, sha256 }) => (file, *size, sha256),
        };
        let path = self.dir.join(file);
        let damaged = |why: String| FetchFailure::SnapshotDamaged(format!("{file} {why}"));
        let len = std::fs::metadata(&path)
            .map_err(|e| damaged(format!("cannot be read ({e})")))?
            .len();
        if len != size {
            return Err(damaged(format!("is {len} bytes, recorded {size}")));
        }
        let cap = caps.for_kind(kind);
        if len > cap {
            return Err(FetchFailure::TooLarge { cap });
        }
        let bytes = std::fs::read(&path).map_err(|e| damaged(format!("cannot be read ({e})")))?;
        if sha256_hex(&bytes) != *sha256 {
            return Err(damaged("does not match its recorded sha256".into()));
        }
        check_shape(kind, &bytes).map_err(|_| FetchFailure::Decode)?;
        Ok(Fetched {
            bytes: Bytes::from(bytes),
            from_cache: true,
            status: 200,
        })
    }
}

/// One manifest entry, checked: a body name derived from its sha256 only (so no entry can
/// point outside the snapshot), a known failure reason.
fn check_entry(e: &Entry) -> Result<Answer, String> {
    Url::parse(&e.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| format!("url {:?} is not an http(s) URL", e.url))?;
    match e.outcome {
        Outcome::Ok => {
            let sha256 = e
                .sha256
                .as_deref()
                .filter(|s| is_sha256_hex(s))
                .ok_or("outcome ok needs a sha256 of 64 lowercase hex digits")?;
            let file = format!("{BODIES}/{sha256}");
            if e.body.as_deref() != Some(file.as_str()) {
                return Err(format!("outcome ok needs body {file:?}"));
            }
            let size = e.size.ok_or("outcome ok needs a size")?;
            Ok(Answer::Body {
                file,
                size,
                sha256: sha256.to_string(),
            })
        }
        Outcome::NotFound => Ok(Answer::NotFound),
        Outcome::Failed => {
            let f = e.failure.as_ref().ok_or("outcome failed needs a failure")?;
            f.to_fetch_failure()
                .map(Answer::Failed)
                .ok_or_else(|| format!("unknown failure reason {:?}", f.reason))
        }
    }
}

#[cfg(test)]
mod tests;
