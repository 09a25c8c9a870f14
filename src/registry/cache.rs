//! On-disk cache of raw registry responses.
//!
//! - Keyed by (URL without userinfo, Accept variant, auth *scope*): the key is a SHA-256, so
//!   file names reveal nothing, and the auth scope (a nerf-dart, never the token) is hashed in.
//! - One file per entry: a magic line, one line of JSON metadata (redacted URL, status, ETag,
//!   Last-Modified, immutability, body length and CRC-32), then the body. An entry whose magic,
//!   metadata, length or checksum is wrong is corrupt: dropped (when writable) and refetched.
//! - Written through a temporary file in the same directory and a rename; a symlink in place of
//!   an entry or of a cache subdirectory is never followed (the entry is treated as missing).
//! - Beside an entry, a *derived* entry (`<key>.d`: what a reader made of a large body, e.g.
//!   the few versions a run needs of a packument of tens of MB) carries the stamp (length,
//!   CRC-32, validators) of the body it was made from, and is served only beside that body,
//!   so a fresh large entry need not be read at all ([`Cache::peek`], [`Cache::get_derived`]).
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

/// What [`Cache::peek`] found.
#[derive(Debug)]
pub enum Peeked {
    Missing,
    /// A small entry, read and checked whole.
    Entry(CachedEntry),
    /// A large entry: its metadata only (the body not yet read, nor its CRC-32 checked).
    Large(EntryMeta),
}

/// The identity of a cached body: a derived entry is served only beside the very body it was
/// made from (same length, CRC-32 and validators).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub body_len: u64,
    pub body_crc32: u32,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl EntryMeta {
    /// The identity of the body this metadata describes.
    pub fn stamp(&self) -> Stamp {
        Stamp {
            body_len: self.body_len,
            body_crc32: self.body_crc32,
            etag: self.etag.clone(),
            last_modified: self.last_modified.clone(),
        }
    }
}

/// A derived entry's file: this magic line, one line of [`DerivedMeta`], then its bytes.
const DERIVED_MAGIC: &[u8] = b"NPMPROV-DERIVED/1\n";
/// Appended to the entry's file name for the entry derived from it.
const DERIVED_SUFFIX: &str = ".d";

#[derive(Debug, Serialize, Deserialize)]
struct DerivedMeta {
    /// The body it was made from.
    source: Stamp,
    len: u64,
    crc32: u32,
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
        let path = self.readable_path(key, "")?;
        let raw = std::fs::read(&path).ok()?;
        match decode(raw) {
            Some(e) => Some(e),
            None => {
                self.drop_entry(&path);
                None
            }
        }
    }

    /// The path of `key`'s file (with `suffix`) when it is a regular file; a symlink or
    /// anything else in its place is removed (when writable) and reported as missing.
    fn readable_path(&self, key: &CacheKey, suffix: &str) -> Option<PathBuf> {
        let path = self.entry_path(key, suffix)?;
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() || !m.is_file() => {
                self.drop_entry(&path);
                None
            }
            Ok(_) => Some(path),
            Err(_) => None,
        }
    }

    /// Stores `body` under `key`, and returns the stamp of the entry written. Does nothing in
    /// read-only mode (an error: nothing holds the body).
    pub fn put(&self, key: &CacheKey, mut meta: EntryMeta, body: &[u8]) -> std::io::Result<Stamp> {
        if self.read_only {
            return Err(std::io::Error::other("the cache is read-only"));
        }
        meta.body_len = body.len() as u64;
        meta.body_crc32 = crc32fast::hash(body);
        let meta_line = serde_json::to_vec(&meta).map_err(std::io::Error::other)?;
        self.write(key, "", &[MAGIC, &meta_line, b"\n", body])?;
        Ok(meta.stamp())
    }

    /// What is cached under `key`, reading no more than the metadata of an entry whose body is
    /// `large` bytes or more: such a body is often not needed (a [derived entry](Self::get_derived)
    /// made from it may serve instead). A smaller entry is read and checked whole, as by
    /// [`Cache::get`]. An entry found corrupt is dropped (when writable).
    pub fn peek(&self, key: &CacheKey, large: u64) -> Peeked {
        use std::io::Read;
        let Some(path) = self.readable_path(key, "") else {
            return Peeked::Missing;
        };
        let Ok(mut f) = std::fs::File::open(&path) else {
            return Peeked::Missing;
        };
        let Ok(file_len) = f.metadata().map(|m| m.len()) else {
            return Peeked::Missing;
        };
        let mut head = Vec::new();
        let cap = (MAGIC.len() + META_CAP + 1) as u64;
        if (&mut f).take(cap).read_to_end(&mut head).is_err() {
            return Peeked::Missing;
        }
        let Some((meta, start)) = decode_meta::<EntryMeta>(&head, MAGIC) else {
            self.drop_entry(&path);
            return Peeked::Missing;
        };
        if meta.body_len < large {
            // Small: read the rest and check it all.
            if f.read_to_end(&mut head).is_err() {
                return Peeked::Missing;
            }
            return match decode(head) {
                Some(e) => Peeked::Entry(e),
                None => {
                    self.drop_entry(&path);
                    Peeked::Missing
                }
            };
        }
        // Large: the length is checked here (a truncated file is corrupt); the CRC-32 only when
        // the body is read ([`Cache::get`]).
        if file_len.checked_sub(start as u64) != Some(meta.body_len) {
            self.drop_entry(&path);
            return Peeked::Missing;
        }
        Peeked::Large(meta)
    }

    /// The entry derived from the body stamped `source` (see [`Cache::put_derived`]), if there
    /// is one made from that very body and it is intact. One made from another body is left
    /// for the next [`Cache::put_derived`] to replace; a corrupt one is dropped.
    pub fn get_derived(&self, key: &CacheKey, source: &Stamp) -> Option<Bytes> {
        let path = self.readable_path(key, DERIVED_SUFFIX)?;
        let raw = std::fs::read(&path).ok()?;
        let Some((meta, start)) = decode_meta::<DerivedMeta>(&raw, DERIVED_MAGIC) else {
            self.drop_entry(&path);
            return None;
        };
        let body = &raw[start..];
        if body.len() as u64 != meta.len || crc32fast::hash(body) != meta.crc32 {
            self.drop_entry(&path);
            return None;
        }
        (meta.source == *source).then(|| Bytes::from(raw).slice(start..))
    }

    /// Stores `derived`, what a reader made of the body stamped `source` under `key` (e.g. the
    /// few versions a run needs of a packument of tens of MB), beside that entry. It is served
    /// only while the entry holds that body, and is as untrusted as the body: whatever it
    /// holds is checked again on use. Does nothing in read-only mode.
    pub fn put_derived(
        &self,
        key: &CacheKey,
        source: &Stamp,
        derived: &[u8],
    ) -> std::io::Result<()> {
        let meta = DerivedMeta {
            source: source.clone(),
            len: derived.len() as u64,
            crc32: crc32fast::hash(derived),
        };
        let meta_line = serde_json::to_vec(&meta).map_err(std::io::Error::other)?;
        self.write(
            key,
            DERIVED_SUFFIX,
            &[DERIVED_MAGIC, &meta_line, b"\n", derived],
        )
    }

    /// Writes `parts` as the file of `key` (with `suffix`): through a temporary file in the
    /// same directory and a rename. Does nothing in read-only mode.
    fn write(&self, key: &CacheKey, suffix: &str, parts: &[&[u8]]) -> std::io::Result<()> {
        if self.read_only {
            return Ok(());
        }
        let Some(path) = self.entry_path(key, suffix) else {
            return Err(std::io::Error::other("cache directory is a symlink"));
        };
        let dir = path
            .parent()
            .ok_or_else(|| std::io::Error::other("cache entry has no directory"))?;
        private_dir_all(dir)?;
        if self.entry_path(key, suffix).is_none() {
            return Err(std::io::Error::other("cache directory is a symlink"));
        }
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
            for part in parts {
                f.write_all(part)?;
            }
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

    /// Removes the entry for `key` (e.g. when the bytes failed verification), and what was
    /// derived from it. No-op when read-only.
    pub fn remove(&self, key: &CacheKey) {
        for suffix in ["", DERIVED_SUFFIX] {
            if let Some(path) = self.entry_path(key, suffix) {
                self.drop_entry(&path);
            }
        }
    }

    /// `root/v1/<2 hex>/<64 hex><suffix>`, or `None` when a cache subdirectory is a symlink.
    fn entry_path(&self, key: &CacheKey, suffix: &str) -> Option<PathBuf> {
        let v1 = self.root.join("v1");
        let shard = v1.join(&key.0[..2]);
        for dir in [&v1, &shard] {
            if let Ok(m) = std::fs::symlink_metadata(dir) {
                if m.file_type().is_symlink() {
                    return None;
                }
            }
        }
        Some(shard.join(format!("{}{suffix}", key.0)))
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
    let (meta, start) = decode_meta::<EntryMeta>(&raw, MAGIC)?;
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

/// The metadata line after `magic` at the start of `raw`, and where the body starts.
fn decode_meta<M: serde::de::DeserializeOwned>(raw: &[u8], magic: &[u8]) -> Option<(M, usize)> {
    let rest = raw.strip_prefix(magic)?;
    let nl = rest.iter().take(META_CAP).position(|&b| b == b'\n')?;
    let meta: M = serde_json::from_slice(&rest[..nl]).ok()?;
    Some((meta, magic.len() + nl + 1))
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
            let path = c.entry_path(&key(), "").unwrap();
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
        let path = c.entry_path(&key(), "").unwrap();
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
        let path = c.entry_path(&key(), "").unwrap();
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
        assert!(ro.put(&key(), meta("u"), b"x").is_err());
        assert!(!d.exists(), "read-only cache created nothing");
        let rw = Cache::open(&d, false).unwrap();
        rw.put(&key(), meta("u"), b"x").unwrap();
        let path = rw.entry_path(&key(), "").unwrap();
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
    fn peek_reads_only_the_metadata_of_a_large_entry() {
        let d = tmpdir("peek");
        let c = Cache::open(&d, false).unwrap();
        assert!(matches!(c.peek(&key(), 4), Peeked::Missing));
        c.put(&key(), meta("u"), b"hello world").unwrap();
        // Below the threshold: read and checked whole, as `get`.
        match c.peek(&key(), 12) {
            Peeked::Entry(e) => assert_eq!(&e.body[..], b"hello world"),
            other => panic!("{other:?}"),
        }
        let Peeked::Large(m) = c.peek(&key(), 11) else {
            panic!("large entry not peeked");
        };
        assert_eq!(m.stamp(), c.get(&key()).unwrap().meta.stamp());
        assert_eq!(m.body_len, 11);
        // A damaged body of the right length passes a peek (its CRC-32 is checked when it is
        // read); a truncated one does not, and is dropped.
        let path = c.entry_path(&key(), "").unwrap();
        let mut raw = std::fs::read(&path).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        std::fs::write(&path, &raw).unwrap();
        assert!(matches!(c.peek(&key(), 11), Peeked::Large(_)));
        assert!(matches!(c.peek(&key(), 12), Peeked::Missing));
        assert!(!path.exists());
        c.put(&key(), meta("u"), b"hello world").unwrap();
        let raw = std::fs::read(&path).unwrap();
        std::fs::write(&path, &raw[..raw.len() - 1]).unwrap();
        assert!(matches!(c.peek(&key(), 11), Peeked::Missing));
        assert!(!path.exists());
        std::fs::write(&path, b"garbage").unwrap();
        assert!(matches!(c.peek(&key(), 0), Peeked::Missing));
        // A recorded length that no file can have: corrupt, never an overflow.
        for len in [u64::MAX, u64::MAX - 100, 1 << 63] {
            let mut m = meta("u");
            m.body_len = len;
            let mut raw = MAGIC.to_vec();
            raw.extend(serde_json::to_vec(&m).unwrap());
            raw.extend(b"\nbody");
            for large in [0, 1 << 18, u64::MAX] {
                std::fs::write(&path, &raw).unwrap();
                assert!(
                    matches!(c.peek(&key(), large), Peeked::Missing),
                    "{len} {large}"
                );
            }
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn derived_entries_serve_only_beside_their_body() {
        let d = tmpdir("derived");
        let c = Cache::open(&d, false).unwrap();
        c.put(&key(), meta("u"), b"body one").unwrap();
        let one = c.get(&key()).unwrap().meta.stamp();
        assert!(c.get_derived(&key(), &one).is_none());
        c.put_derived(&key(), &one, b"made of one").unwrap();
        assert_eq!(&c.get_derived(&key(), &one).unwrap()[..], b"made of one");
        // Another body under the key (or the same body under other validators): not served,
        // and not dropped (the next put_derived replaces it).
        c.put(&key(), meta("u"), b"body two").unwrap();
        let two = c.get(&key()).unwrap().meta.stamp();
        assert_ne!(one, two);
        assert!(c.get_derived(&key(), &two).is_none());
        let other_etag = Stamp {
            etag: Some("\"e2\"".into()),
            ..one.clone()
        };
        assert!(c.get_derived(&key(), &other_etag).is_none());
        assert!(c.get_derived(&key(), &one).is_some());
        // Corrupt (a flipped byte, truncated, garbage): dropped.
        let path = c.entry_path(&key(), DERIVED_SUFFIX).unwrap();
        let mut raw = std::fs::read(&path).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        std::fs::write(&path, &raw).unwrap();
        assert!(c.get_derived(&key(), &one).is_none());
        assert!(!path.exists());
        for bad in [&b"garbage"[..], DERIVED_MAGIC] {
            std::fs::write(&path, bad).unwrap();
            assert!(c.get_derived(&key(), &one).is_none());
            assert!(!path.exists());
        }
        // Removing the entry removes what was derived from it.
        c.put_derived(&key(), &two, b"made of two").unwrap();
        c.remove(&key());
        assert!(!path.exists() && c.get(&key()).is_none());
        // Read-only: never written; a symlink in its place is never followed.
        c.put(&key(), meta("u"), b"body one").unwrap();
        Cache::open(&d, true)
            .unwrap()
            .put_derived(&key(), &one, b"x")
            .unwrap();
        assert!(!path.exists());
        #[cfg(unix)]
        {
            let target = d.join("elsewhere");
            c.put_derived(&key(), &one, b"made of one").unwrap();
            std::fs::rename(&path, &target).unwrap();
            std::os::unix::fs::symlink(&target, &path).unwrap();
            assert!(c.get_derived(&key(), &one).is_none());
            assert!(target.exists());
        }
        std::fs::remove_dir_all(&d).unwrap();
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
