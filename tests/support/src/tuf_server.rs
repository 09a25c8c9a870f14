//! Serves the corpus copy of the Sigstore TUF repository (`trust-roots/sigstore-root-signing/`)
//! on the fixture registry, in the layout a TUF client with consistent snapshots asks for.
//!
//! The corpus stores the files under their plain names; the client asks for
//! `N.root.json`, `N.snapshot.json`, `N.targets.json`, `N.registry.npmjs.org.json` and the
//! hash-prefixed targets `targets/<sha256>.trusted_root.json` and
//! `targets/registry.npmjs.org/<sha256>.keys.json`. This module maps one onto the other,
//! reading the versions from the metadata and the hashes from the bytes; the bytes are served
//! unchanged (read from the corpus at test time, never copied into the repository).

use crate::fixture_registry::FixtureRegistry;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The repository inside the corpus.
pub const CORPUS_TUF_REPO: &str = "trust-roots/sigstore-root-signing";

/// Where each corpus file is served (URL path → file), for tests that want to replace one.
#[derive(Debug, Clone)]
pub struct TufLayout {
    /// `/N.root.json` → `metadata/root_history/N.root.json`, for every N present.
    pub roots: Vec<(u64, String, PathBuf)>,
    pub timestamp: (String, PathBuf),
    pub snapshot: (String, PathBuf),
    pub targets: (String, PathBuf),
    pub npm_role: (String, PathBuf),
    pub trusted_root_target: (String, PathBuf),
    pub npm_keys_target: (String, PathBuf),
}

impl TufLayout {
    /// Computes the layout of the repository at `repo` (the corpus directory joined with
    /// [`CORPUS_TUF_REPO`]).
    pub fn of(repo: &Path) -> std::io::Result<TufLayout> {
        let meta = repo.join("metadata");
        let mut roots = Vec::new();
        for entry in std::fs::read_dir(meta.join("root_history"))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(v) = name
                .strip_suffix(".root.json")
                .and_then(|v| v.parse::<u64>().ok())
            {
                roots.push((v, format!("/{v}.root.json"), entry.path()));
            }
        }
        roots.sort();
        let versioned = |file: &str| -> std::io::Result<(String, PathBuf)> {
            let path = meta.join(file);
            let v = signed_version(&path)?;
            Ok((format!("/{v}.{file}"), path))
        };
        let hashed = |dir: &str, file: &str| -> std::io::Result<(String, PathBuf)> {
            let path = repo.join("targets").join(dir).join(file);
            let hash = hex(&Sha256::digest(std::fs::read(&path)?));
            let prefix = if dir.is_empty() {
                "/targets".to_string()
            } else {
                format!("/targets/{dir}")
            };
            Ok((format!("{prefix}/{hash}.{file}"), path))
        };
        Ok(TufLayout {
            roots,
            timestamp: ("/timestamp.json".into(), meta.join("timestamp.json")),
            snapshot: versioned("snapshot.json")?,
            targets: versioned("targets.json")?,
            npm_role: versioned("registry.npmjs.org.json")?,
            trusted_root_target: hashed("", "trusted_root.json")?,
            npm_keys_target: hashed("registry.npmjs.org", "keys.json")?,
        })
    }

    /// Every (URL path, file) pair.
    pub fn files(&self) -> Vec<(String, PathBuf)> {
        let mut all: Vec<(String, PathBuf)> = self
            .roots
            .iter()
            .map(|(_, url, p)| (url.clone(), p.clone()))
            .collect();
        all.extend([
            self.timestamp.clone(),
            self.snapshot.clone(),
            self.targets.clone(),
            self.npm_role.clone(),
            self.trusted_root_target.clone(),
            self.npm_keys_target.clone(),
        ]);
        all
    }

    /// Serves every file on `reg` (unchanged bytes).
    pub fn serve(&self, reg: &FixtureRegistry) -> std::io::Result<()> {
        for (url, path) in self.files() {
            reg.add_raw(&url, "application/json", std::fs::read(&path)?);
        }
        Ok(())
    }
}

fn signed_version(path: &Path) -> std::io::Result<u64> {
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(path)?)
        .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?;
    doc["signed"]["version"]
        .as_u64()
        .ok_or_else(|| std::io::Error::other(format!("{}: no signed.version", path.display())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
