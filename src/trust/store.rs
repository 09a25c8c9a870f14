//! Where TUF-verified updates of the trust material live, and which material is in use.
//!
//! Layout under the data directory (`--data-dir`, else `$XDG_DATA_HOME/npm-provenance`, else
//! `$HOME/.local/share/npm-provenance`):
//!
//! ```text
//! trust-roots/state.json                      what the update is (written last: the commit)
//! trust-roots/trusted_root.<sha256>.json      the verified target, byte-exact
//! trust-roots/npm-keys.<sha256>.json          the verified target, byte-exact
//! tuf/<host>-<hash of url>/                   verified TUF metadata per repository (floors)
//! ```
//!
//! Every file is written through a temporary file and a rename; the targets are named by
//! their hash and `state.json` names them, so a reader sees either the old update or the new
//! one, never half of each. On load the hashes are checked again.
//!
//! Precedence for every command ([`select`]): `--trusted-root`/`--npm-keys` > a stored
//! update verified under a TUF root not older than the embedded one > the embedded copy.

use crate::findings::Finding;
use crate::trust::tuf::{TufTargets, TufVersions};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Schema id of `state.json`.
pub const STATE_SCHEMA: &str = "npm-provenance/trust-store/v1";
/// Trust material older than this is reported as `trust-root-stale` (npm rotates its keys and
/// Sigstore its logs; a copy this old may no longer know the keys in use).
pub const STALE_AFTER_DAYS: i64 = 180;
/// When the embedded copy was extracted (`trust-roots/README.md`): its age is counted from it.
pub const EMBEDDED_AS_OF: &str = "2026-11-23T00:00:00Z";
/// Cap on a stored file read back (the real targets are a few kB).
pub const MAX_STORED_BYTES: u64 = 4_000_000;

/// Target files of earlier updates are removed once this old.
pub const CLEANUP_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

const TRUST_DIR: &str = "trust-roots";
const STATE_FILE: &str = "state.json";

/// The user's data directory for npm-provenance.
pub fn default_data_dir(env: &BTreeMap<String, String>, home: Option<&Path>) -> Option<PathBuf> {
    let nonempty = |k: &str| env.get(k).filter(|v| !v.is_empty());
    if let Some(x) = nonempty("XDG_DATA_HOME") {
        return Some(PathBuf::from(x).join("npm-provenance"));
    }
    home.map(|h| h.join(".local/share/npm-provenance"))
}

/// The data directory from `--data-dir` or the process environment.
pub fn data_dir(flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(d) = flag {
        return Some(d.to_path_buf());
    }
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let home = env.get("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
    default_data_dir(&env, home.as_deref())
}

/// What `state.json` records about the stored update.
/// Within v1 fields are only added: unknown fields (from a newer binary) are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateState {
    pub schema: String,
    /// The repository it came from.
    pub tuf_url: String,
    /// The time every expiry was checked at (the run's now): the material was current then.
    pub verified_at: Timestamp,
    pub versions: TufVersions,
    /// Version of the TUF root the chain was walked from (the embedded one unless a test
    /// gave another).
    pub bootstrap_root_version: u64,
    pub trusted_root_sha256: String,
    pub npm_keys_sha256: String,
}

/// A stored update read back and checked against `state.json`.
#[derive(Debug, Clone)]
pub struct StoredUpdate {
    pub dir: PathBuf,
    pub state: UpdateState,
    pub trusted_root: Vec<u8>,
    pub npm_keys: Vec<u8>,
}

impl StoredUpdate {
    /// The stored trusted root's path (for messages).
    pub fn trusted_root_path(&self) -> PathBuf {
        self.dir.join(format!(
            "trusted_root.{}.json",
            self.state.trusted_root_sha256
        ))
    }

    /// The stored keys' path (for messages).
    pub fn npm_keys_path(&self) -> PathBuf {
        self.dir
            .join(format!("npm-keys.{}.json", self.state.npm_keys_sha256))
    }
}

/// A store that cannot be read or written; the message names the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct StoreError {
    pub path: PathBuf,
    pub problem: String,
}

impl StoreError {
    fn new(path: &Path, problem: impl Into<String>) -> StoreError {
        StoreError {
            path: path.to_path_buf(),
            problem: problem.into(),
        }
    }
}

/// The trust store in one data directory.
#[derive(Debug, Clone)]
pub struct TrustStore {
    root: PathBuf,
}

impl TrustStore {
    pub fn new(data_dir: impl Into<PathBuf>) -> TrustStore {
        TrustStore {
            root: data_dir.into(),
        }
    }

    /// The directory holding `state.json` and the targets.
    pub fn trust_dir(&self) -> PathBuf {
        self.root.join(TRUST_DIR)
    }

    /// The directory of verified TUF metadata for one repository.
    pub fn metadata_dir(&self, tuf_url: &url::Url) -> PathBuf {
        self.root
            .join("tuf")
            .join(crate::trust::tuf::metadata_namespace(tuf_url))
    }

    /// The stored update, `None` if there is none. A store that exists but is damaged
    /// (unreadable, unparsable, a hash that does not match) is an error: the user asked for
    /// that material by running `update`, so it is not silently replaced.
    pub fn load(&self) -> Result<Option<StoredUpdate>, StoreError> {
        let dir = self.trust_dir();
        let state_path = dir.join(STATE_FILE);
        let bytes = match read_capped(&state_path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::new(&state_path, format!("cannot read: {e}"))),
        };
        let state: UpdateState = serde_json::from_slice(&bytes)
            .map_err(|e| StoreError::new(&state_path, format!("not a trust store state: {e}")))?;
        if state.schema != STATE_SCHEMA {
            return Err(StoreError::new(
                &state_path,
                format!(
                    "unknown schema {:?}",
                    crate::util::escape_text(&state.schema)
                ),
            ));
        }
        for h in [&state.trusted_root_sha256, &state.npm_keys_sha256] {
            if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(StoreError::new(
                    &state_path,
                    "a target hash is not sha256 hex",
                ));
            }
        }
        let read_checked = |path: PathBuf, want: &str| -> Result<Vec<u8>, StoreError> {
            let bytes = read_capped(&path)
                .map_err(|e| StoreError::new(&path, format!("cannot read: {e}")))?;
            let got = hex::encode(Sha256::digest(&bytes));
            if got != want {
                return Err(StoreError::new(
                    &path,
                    format!("sha256 {got} is not the {want} recorded in state.json"),
                ));
            }
            Ok(bytes)
        };
        let mut stored = StoredUpdate {
            dir: dir.clone(),
            state,
            trusted_root: Vec::new(),
            npm_keys: Vec::new(),
        };
        stored.trusted_root = read_checked(
            stored.trusted_root_path(),
            &stored.state.trusted_root_sha256,
        )?;
        stored.npm_keys = read_checked(stored.npm_keys_path(), &stored.state.npm_keys_sha256)?;
        Ok(Some(stored))
    }

    /// Stores verified targets: both files first, `state.json` last, then removes the files
    /// of earlier updates.
    pub fn save(
        &self,
        targets: &TufTargets,
        tuf_url: &url::Url,
        bootstrap_root_version: u64,
        verified_at: Timestamp,
    ) -> Result<StoredUpdate, StoreError> {
        let dir = self.trust_dir();
        std::fs::create_dir_all(&dir)
            .map_err(|e| StoreError::new(&dir, format!("cannot create: {e}")))?;
        let state = UpdateState {
            schema: STATE_SCHEMA.to_string(),
            tuf_url: tuf_url.to_string(),
            verified_at,
            versions: targets.versions.clone(),
            bootstrap_root_version,
            trusted_root_sha256: hex::encode(Sha256::digest(&targets.trusted_root)),
            npm_keys_sha256: hex::encode(Sha256::digest(&targets.npm_keys)),
        };
        let stored = StoredUpdate {
            dir: dir.clone(),
            state,
            trusted_root: targets.trusted_root.clone(),
            npm_keys: targets.npm_keys.clone(),
        };
        let write = |path: PathBuf, bytes: &[u8]| {
            crate::util::write_atomic(&path, bytes)
                .map_err(|e| StoreError::new(&path, format!("cannot write: {e}")))
        };
        write(stored.trusted_root_path(), &stored.trusted_root)?;
        write(stored.npm_keys_path(), &stored.npm_keys)?;
        let mut state_json = serde_json::to_vec_pretty(&stored.state)
            .map_err(|e| StoreError::new(&dir, format!("cannot render state: {e}")))?;
        state_json.push(b'\n');
        write(dir.join(STATE_FILE), &state_json)?;
        self.remove_unreferenced(&stored);
        Ok(stored)
    }

    /// Best effort: earlier updates' target files (only names this module writes, and only
    /// once they are [`CLEANUP_AFTER`] old, so a concurrent `update` that has written its
    /// files but not yet its `state.json` does not lose them).
    fn remove_unreferenced(&self, keep: &StoredUpdate) {
        let keep_names = [
            keep.trusted_root_path().file_name().map(|n| n.to_owned()),
            keep.npm_keys_path().file_name().map(|n| n.to_owned()),
        ];
        let Ok(entries) = std::fs::read_dir(&keep.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let s = name.to_string_lossy();
            let ours = (s.starts_with("trusted_root.") || s.starts_with("npm-keys."))
                && s.ends_with(".json");
            let old_enough = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age >= CLEANUP_AFTER);
            if ours
                && old_enough
                && !keep_names
                    .iter()
                    .any(|k| k.as_deref() == Some(name.as_os_str()))
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_STORED_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_STORED_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than the cap of {MAX_STORED_BYTES} bytes"
        )));
    }
    Ok(bytes)
}

/// Which trust material is in use, and why a stored update is not (if it is not).
#[derive(Debug, Clone)]
pub enum Selected {
    /// The stored TUF update.
    Update(Box<StoredUpdate>),
    /// The embedded copy; `ignored` says why a stored update was passed over, if there is one.
    Embedded { ignored: Option<String> },
}

/// Chooses between a stored update and the embedded copy: the update wins when the TUF root
/// it was verified under is not older than `baseline_root_version` (the embedded TUF root's
/// version, or a test's `--danger-tuf-root`). An update from an older root predates the
/// binary's own copy: a newer binary's embedded material is not overridden by it.
pub fn select(stored: Option<StoredUpdate>, baseline_root_version: u64) -> Selected {
    match stored {
        None => Selected::Embedded { ignored: None },
        Some(u) if u.state.versions.root >= baseline_root_version => Selected::Update(Box::new(u)),
        Some(u) => Selected::Embedded {
            ignored: Some(format!(
                "the stored update in {} was verified under TUF root version {}, older than \
                 the embedded root version {baseline_root_version}",
                u.dir.display(),
                u.state.versions.root
            )),
        },
    }
}

/// The date the material in use is counted from: the update's verification time, or the
/// embedded copy's extraction date.
pub fn as_of(selected: &Selected) -> Timestamp {
    match selected {
        Selected::Update(u) => u.state.verified_at,
        Selected::Embedded { .. } => embedded_as_of(),
    }
}

/// [`EMBEDDED_AS_OF`] parsed.
pub fn embedded_as_of() -> Timestamp {
    // A constant checked by a unit test; the fallback is never reached.
    EMBEDDED_AS_OF.parse().unwrap_or(Timestamp::UNIX_EPOCH)
}

/// `trust-root-stale` when material counted from `as_of` is older than [`STALE_AFTER_DAYS`]
/// at `now`.
pub fn staleness(as_of: Timestamp, now: Timestamp, what: &str) -> Option<Finding> {
    let age = now.duration_since(as_of);
    let days = age.as_secs() / 86_400;
    (days > STALE_AFTER_DAYS).then(|| {
        Finding::new(
            "trust-root-stale",
            format!(
                "the {what} trust material is {days} days old (as of {as_of}), more than \
                 {STALE_AFTER_DAYS}: run `npm-provenance trust-roots update`, or keys npm \
                 rotated since will be reported as registry-key-unknown"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets() -> TufTargets {
        TufTargets {
            trusted_root: crate::trust::PRODUCTION_TRUSTED_ROOT.as_bytes().to_vec(),
            npm_keys: crate::trust::NPM_KEYS.as_bytes().to_vec(),
            versions: TufVersions {
                root: 16,
                timestamp: 800,
                snapshot: 170,
                targets: 15,
                npm_role: 9,
                timestamp_expires: "2026-12-01T00:00:00Z".parse().unwrap(),
            },
        }
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "npm-provenance-store-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn embedded_as_of_parses() {
        assert_eq!(
            EMBEDDED_AS_OF.parse::<Timestamp>().unwrap(),
            embedded_as_of()
        );
    }

    #[test]
    fn data_dir_prefers_xdg() {
        let mut env = BTreeMap::new();
        assert_eq!(
            default_data_dir(&env, Some(Path::new("/h"))),
            Some(PathBuf::from("/h/.local/share/npm-provenance"))
        );
        env.insert("XDG_DATA_HOME".into(), "/x".into());
        assert_eq!(
            default_data_dir(&env, Some(Path::new("/h"))),
            Some(PathBuf::from("/x/npm-provenance"))
        );
        env.insert("XDG_DATA_HOME".into(), "".into());
        assert_eq!(default_data_dir(&env, None), None);
    }

    #[test]
    fn save_then_load_round_trips_and_replaces() {
        let d = tmp("roundtrip");
        let store = TrustStore::new(&d);
        assert!(store.load().unwrap().is_none());
        let url = url::Url::parse("https://tuf.example/").unwrap();
        let at: Timestamp = "2026-11-01T00:00:00Z".parse().unwrap();
        store.save(&targets(), &url, 16, at).unwrap();
        let first = store.load().unwrap().unwrap();
        let mut t2 = targets();
        t2.npm_keys.push(b'\n');
        t2.versions.timestamp = 801;
        store.save(&t2, &url, 16, at).unwrap();
        // A recent file of another update is kept (a concurrent update may still need it)...
        assert!(first.npm_keys_path().exists());
        // ...an old one is removed by the next save.
        let old = std::time::SystemTime::now() - 2 * CLEANUP_AFTER;
        std::fs::File::options()
            .write(true)
            .open(first.npm_keys_path())
            .unwrap()
            .set_modified(old)
            .unwrap();
        store.save(&t2, &url, 16, at).unwrap();
        assert!(!first.npm_keys_path().exists());
        let back = store.load().unwrap().unwrap();
        assert_eq!(back.state.versions.timestamp, 801);
        assert_eq!(back.npm_keys, t2.npm_keys);
        assert_eq!(back.state.verified_at, at);
        // the first update's keys file is gone, only the current pair is left
        let n = std::fs::read_dir(store.trust_dir()).unwrap().count();
        assert_eq!(n, 3);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn damaged_store_is_an_error_naming_the_file() {
        let d = tmp("damaged");
        let store = TrustStore::new(&d);
        let url = url::Url::parse("https://tuf.example/").unwrap();
        let saved = store
            .save(&targets(), &url, 16, Timestamp::UNIX_EPOCH)
            .unwrap();
        std::fs::write(saved.trusted_root_path(), b"{}").unwrap();
        let err = store.load().unwrap_err();
        assert_eq!(err.path, saved.trusted_root_path());
        assert!(err.problem.contains("sha256"), "{err}");
        std::fs::write(store.trust_dir().join(STATE_FILE), b"{").unwrap();
        let err = store.load().unwrap_err();
        assert!(err.path.ends_with("state.json"), "{err}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn precedence_by_root_version() {
        let d = tmp("select");
        let store = TrustStore::new(&d);
        let url = url::Url::parse("https://tuf.example/").unwrap();
        let saved = store
            .save(&targets(), &url, 16, Timestamp::UNIX_EPOCH)
            .unwrap();
        assert!(matches!(
            select(Some(saved.clone()), 16),
            Selected::Update(_)
        ));
        match select(Some(saved), 17) {
            Selected::Embedded { ignored: Some(why) } => assert!(why.contains("older"), "{why}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            select(None, 1),
            Selected::Embedded { ignored: None }
        ));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn stale_after_the_set_age() {
        let as_of: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let fresh: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let old: Timestamp = "2026-07-01T00:00:00Z".parse().unwrap();
        assert!(staleness(as_of, fresh, "embedded").is_none());
        let f = staleness(as_of, old, "embedded").unwrap();
        assert_eq!(f.code, "trust-root-stale");
        assert!(f.message.contains("181 days"), "{}", f.message);
        // a clock before the date is not stale
        assert!(staleness(old, as_of, "embedded").is_none());
    }
}
