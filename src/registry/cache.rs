//! On-disk cache of raw registry responses.
//!
//! - Keyed by (URL without userinfo, Accept variant, auth *scope*): the key is a SHA-256, so
//!   file names reveal nothing, and the auth scope (a nerf-dart, never the token) is hashed in.
//! - One file per entry: a magic line, one line of JSON metadata (redacted URL, status, ETag,
//!   Last-Modified, immutability, body length and CRC-32), then the body. An entry whose magic,
//!   metadata, length or checksum is wrong is corrupt: dropped (when writable) and refetched.
//! - Written through a temporary file in the same directory and a rename; a symlink in place of
//!   an entry or of a cache subdirectory is never followed (the entry is treated as missing).
//! - Read-only mode (`--offline`) never creates, writes or removes anything.
//!
//! Cached bytes are only transport: every verification runs again on them.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

/// Version 2: the body checksum is a CRC-32 (version 1 entries, with a SHA-256, read as
/// corrupt: dropped and refetched once).
const MAGIC: &[u8] = b"NPMPROV-CACHE/2\n";
/// Cap on the metadata line (bytes), so a corrupt file cannot make us scan for a newline forever.
const META_CAP: usize = 16 * 1024;

/// The cache: a directory, writable or not.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    read_only: bool,
}

/// The hashed identity of one cached response.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey(String);

impl CacheKey {
    /// Key for `url` fetched with `accept`, under the credentials scope `auth_scope` (a
    /// nerf-dart, or `None` for anonymous requests). Userinfo in the URL is not part of it.
    pub fn new(url: &Url, accept: &str, auth_scope: Option<&str>) -> CacheKey {
        let mut u = url.clone();
        let _ = u.set_username("");
        let _ = u.set_password(None);
        u.set_fragment(None);
        let mut h = Sha256::new();
        for part in [u.as_str(), accept, auth_scope.unwrap_or("")] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        CacheKey(hex::encode(h.finalize()))
    }

    /// The hex digest (the file name).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What is stored beside each body. Contains no secret: the URL is redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryMeta {
    /// The request URL, redacted (for people looking at the cache; not used for lookups).
    pub url: String,
    pub accept: String,
    pub status: u16,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Served without revalidation (attestations and tarballs answered 200).
    pub immutable: bool,
    /// Served without revalidation until then (Unix seconds): the answer's `Cache-Control:
    /// max-age`, capped by [`crate::registry::client::MAX_FRESHNESS`]. Absent: revalidate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fresh_until: Option<i64>,
    pub body_len: u64,
    /// CRC-32 of the body: catches a torn or damaged file (a power loss without fsync). Not a
    /// security check: whoever can write the cache can write a matching checksum, and every
    /// cached byte is verified again on use anyway.
    pub body_crc32: u32,
}

/// One entry read back and checked.
#[derive(Debug, Clone)]
pub struct CachedEntry {
    pub meta: EntryMeta,
    pub body: Bytes,
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Cache {
    /// Opens (and unless `read_only`, creates) the cache at `root`.
    pub fn open(root: impl Into<PathBuf>, read_only: bool) -> std::io::Result<Cache> {
        let root = root.into();
        if !read_only {
            private_dir_all(&root.join("v1"))?;
        }
        Ok(Cache { root, read_only })
    }

    /// The default cache directory: `$XDG_CACHE_HOME/npm-provenance`, else
    /// `~/Library/Caches/npm-provenance` on macOS, `%LOCALAPPDATA%\npm-provenance` on
    /// Windows, `~/.cache/npm-provenance` elsewhere.
    pub fn default_dir(env: &BTreeMap<String, String>, home: Option<&Path>) -> Option<PathBuf> {
        let nonempty = |k: &str| env.get(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        if let Some(x) = nonempty("XDG_CACHE_HOME") {
            return Some(x.join("npm-provenance"));
        }
        if cfg!(windows) {
            if let Some(x) = nonempty("LOCALAPPDATA") {
                return Some(x.join("npm-provenance"));
            }
        }
        let home = home?;
        if cfg!(target_os = "macos") {
            return Some(home.join("Library/Caches/npm-provenance"));
        }
        Some(home.join(".cache").join("npm-provenance"))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The entry for `key` if present and intact. A corrupt entry or a symlink in its place is
    /// removed (when writable) and reported as missing.
    pub fn get(&self, key: &CacheKey) -> Option<CachedEntry> {
        let path = self.entry_path(key)?;
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() || !m.is_file() => {
                self.drop_entry(&path);
                return None;
            }
            Ok(_) => {}
            Err(_) => return None,
        }
        let raw = std::fs::read(&path).ok()?;
        match decode(raw) {
            Some(e) => Some(e),
            None => {
                self.drop_entry(&path);
                None
            }
        }
    }

    /// Stores `body` under `key`. Does nothing in read-only mode.
    pub fn put(&self, key: &CacheKey, mut meta: EntryMeta, body: &[u8]) -> std::io::Result<()> {
        if self.read_only {
            return Ok(());
        }
        let Some(path) = self.entry_path(key) else {
            return Err(std::io::Error::other("cache directory is a symlink"));
        };
        let dir = path
            .parent()
            .ok_or_else(|| std::io::Error::other("cache entry has no directory"))?;
        private_dir_all(dir)?;
        if self.entry_path(key).is_none() {
            return Err(std::io::Error::other("cache directory is a symlink"));
        }
        meta.body_len = body.len() as u64;
        meta.body_crc32 = crc32fast::hash(body);
        let meta_line = serde_json::to_vec(&meta).map_err(std::io::Error::other)?;
        let tmp = dir.join(format!(
            ".tmp-{}-{}",
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| {
            // create_new: never opens an existing file or follows a planted symlink.
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(&tmp)?;
            f.write_all(MAGIC)?;
            f.write_all(&meta_line)?;
            f.write_all(b"\n")?;
            f.write_all(body)?;
            // No fsync: the rename makes the entry appear whole or not at all to any reader
            // (and survives a kill of this process); a power loss can at worst leave a torn
            // entry, which `decode` rejects by its length and CRC-32 and `get` drops: a
            // refetch, never bad data. An fsync per entry cost ~2 s of a 2,000-package cold
            // run, blocking the async workers.
            // rename replaces a symlink at `path` itself, never its target.
            std::fs::rename(&tmp, &path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// Removes the entry for `key` (e.g. when the bytes failed verification). No-op when
    /// read-only.
    pub fn remove(&self, key: &CacheKey) {
        if let Some(path) = self.entry_path(key) {
            self.drop_entry(&path);
        }
    }

    /// `root/v1/<2 hex>/<64 hex>`, or `None` when a cache subdirectory is a symlink.
    fn entry_path(&self, key: &CacheKey) -> Option<PathBuf> {
        let v1 = self.root.join("v1");
        let shard = v1.join(&key.0[..2]);
        for dir in [&v1, &shard] {
            if let Ok(m) = std::fs::symlink_metadata(dir) {
                if m.file_type().is_symlink() {
                    return None;
                }
            }
        }
        Some(shard.join(&key.0))
    }

    fn drop_entry(&self, path: &Path) {
        if !self.read_only {
            // remove_file on a symlink removes the link, not its target.
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Creates `dir` and its missing parents, owner-only on unix: entries of private registries
/// are nobody else's business.
fn private_dir_all(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// The entry in the bytes of its file; the body is served from the same buffer, never copied
/// (a cached packument can be tens of MB).
fn decode(raw: Vec<u8>) -> Option<CachedEntry> {
    let rest = raw.strip_prefix(MAGIC)?;
    let nl = rest.iter().take(META_CAP).position(|&b| b == b'\n')?;
    let meta: EntryMeta = serde_json::from_slice(&rest[..nl]).ok()?;
    let start = MAGIC.len() + nl + 1;
    let body = &raw[start..];
    if body.len() as u64 != meta.body_len {
        return None;
    }
    if crc32fast::hash(body) != meta.body_crc32 {
        return None;
    }
    Some(CachedEntry {
        meta,
        body: Bytes::from(raw).slice(start..),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "npmprov-cache-{tag}-{}-{}",
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn meta(url: &str) -> EntryMeta {
        EntryMeta {
            url: url.into(),
            accept: "application/json".into(),
            status: 200,
            etag: Some("\"e1\"".into()),
            last_modified: None,
            immutable: false,
            fresh_until: None,
            body_len: 0,
            body_crc32: 0,
        }
    }

    fn key() -> CacheKey {
        CacheKey::new(
            &Url::parse("https://r.example/pkg").unwrap(),
            "application/json",
            None,
        )
    }

    #[test]
    fn round_trip_and_checksum() {
        let d = tmpdir("rt");
        let c = Cache::open(&d, false).unwrap();
        c.put(&key(), meta("https://r.example/pkg"), b"{\"a\":1}")
            .unwrap();
        let e = c.get(&key()).unwrap();
        assert_eq!(&e.body[..], b"{\"a\":1}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = c.entry_path(&key()).unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "cache entry readable by others: {mode:o}");
        }
        assert_eq!(e.meta.body_len, 7);
        assert_eq!(e.meta.etag.as_deref(), Some("\"e1\""));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn key_depends_on_accept_and_scope_not_userinfo() {
        let u = Url::parse("https://r.example/pkg").unwrap();
        let with_user = Url::parse("https://bob:tok@r.example/pkg").unwrap();
        let a = CacheKey::new(&u, "application/json", None);
        assert_eq!(a, CacheKey::new(&with_user, "application/json", None));
        assert_ne!(
            a,
            CacheKey::new(&u, "application/vnd.npm.install-v1+json", None)
        );
        assert_ne!(
            a,
            CacheKey::new(&u, "application/json", Some("//r.example/"))
        );
        assert_eq!(a.as_str().len(), 64);
    }

    #[test]
    fn corrupt_entries_are_dropped() {
        let d = tmpdir("corrupt");
        let c = Cache::open(&d, false).unwrap();
        c.put(&key(), meta("u"), b"hello world").unwrap();
        let path = c.entry_path(&key()).unwrap();
        let mut raw = std::fs::read(&path).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        std::fs::write(&path, &raw).unwrap();
        assert!(c.get(&key()).is_none());
        assert!(!path.exists(), "corrupt entry removed");
        // Truncated and bad magic as well.
        c.put(&key(), meta("u"), b"hello world").unwrap();
        let raw = std::fs::read(&path).unwrap();
        std::fs::write(&path, &raw[..raw.len() - 3]).unwrap();
        assert!(c.get(&key()).is_none());
        std::fs::write(&path, b"garbage").unwrap();
        assert!(c.get(&key()).is_none());
        // A damaged byte in the middle of a large body (same length), and an entry of the
        // previous format (SHA-256 checksum): both dropped.
        let body = vec![b'x'; 1 << 20];
        c.put(&key(), meta("u"), &body).unwrap();
        let mut raw = std::fs::read(&path).unwrap();
        let mid = raw.len() / 2;
        raw[mid] = 0;
        std::fs::write(&path, &raw).unwrap();
        assert!(c.get(&key()).is_none());
        assert!(!path.exists());
        let v1 = format!(
            "NPMPROV-CACHE/1\n{{\"url\":\"u\",\"accept\":\"a\",\"status\":200,\"etag\":null,\
             \"last_modified\":null,\"immutable\":true,\"body_len\":2,\"body_sha256\":\"{}\"}}\nhi",
            hex::encode(Sha256::digest(b"hi"))
        );
        std::fs::write(&path, v1).unwrap();
        assert!(c.get(&key()).is_none());
        assert!(!path.exists());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn the_fuzz_seeds_are_of_this_format() {
        // `fuzz/seeds/cache_entry/good.bin` must reach the served path (else the fuzzer's seed
        // only ever exercises rejection); the previous format's is never served.
        let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/cache_entry");
        let good = decode(std::fs::read(seeds.join("good.bin")).unwrap()).unwrap();
        assert_eq!(&good.body[..], br#"{"name":"pkg","versions":{}}"#);
        for bad in ["format-1.bin", "truncated.bin", "huge-length.bin"] {
            assert!(
                decode(std::fs::read(seeds.join(bad)).unwrap()).is_none(),
                "{bad}"
            );
        }
    }

    #[test]
    fn symlinks_are_never_followed() {
        let d = tmpdir("symlink");
        let c = Cache::open(&d, false).unwrap();
        let target = d.join("target-file");
        // A valid-looking entry elsewhere, linked into the entry's place.
        c.put(&key(), meta("u"), b"real").unwrap();
        let path = c.entry_path(&key()).unwrap();
        std::fs::rename(&path, &target).unwrap();
        std::os::unix::fs::symlink(&target, &path).unwrap();
        assert!(c.get(&key()).is_none(), "symlinked entry is not read");
        assert!(target.exists(), "the link's target is untouched");
        // Writing replaces the link, not the target.
        std::os::unix::fs::symlink(&target, &path).ok();
        c.put(&key(), meta("u"), b"new").unwrap();
        assert!(!std::fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(std::fs::read(&target).unwrap().ends_with(b"real"));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn read_only_never_writes() {
        let d = tmpdir("ro");
        let ro = Cache::open(&d, true).unwrap();
        ro.put(&key(), meta("u"), b"x").unwrap();
        assert!(!d.exists(), "read-only cache created nothing");
        let rw = Cache::open(&d, false).unwrap();
        rw.put(&key(), meta("u"), b"x").unwrap();
        let path = rw.entry_path(&key()).unwrap();
        std::fs::write(&path, b"corrupt").unwrap();
        let ro = Cache::open(&d, true).unwrap();
        assert!(ro.get(&key()).is_none());
        assert!(
            path.exists(),
            "read-only cache does not remove corrupt entries"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn arbitrary_bytes_never_decode_or_panic() {
        let mut state = 7u64;
        for n in 0..2000usize {
            let mut raw = MAGIC.to_vec();
            for _ in 0..(n % 97) {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                raw.push(if state >> 60 == 0 {
                    b'\n'
                } else {
                    (state >> 33) as u8
                });
            }
            assert!(decode(raw[MAGIC.len()..].to_vec()).is_none());
            assert!(decode(raw).is_none());
        }
    }

    #[test]
    fn default_dir_prefers_xdg() {
        let mut env = BTreeMap::new();
        env.insert("XDG_CACHE_HOME".to_string(), "/x".to_string());
        assert_eq!(
            Cache::default_dir(&env, Some(Path::new("/h"))),
            Some(PathBuf::from("/x/npm-provenance"))
        );
    }
}
