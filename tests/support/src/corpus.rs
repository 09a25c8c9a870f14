//! Where the shared real-data corpus lives, and what a test does when it is absent.
//!
//! `NPM_PROVENANCE_CORPUS` overrides the default `../shared/corpus` (relative to the
//! repository root). With `CI=true` a missing corpus is a test failure, elsewhere a skip.

use std::path::{Path, PathBuf};

/// The corpus directory if present. Panics under `CI=true` when it is missing (the test that
/// needs it must fail there); otherwise prints a skip line and returns `None`.
pub fn corpus_dir(test: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("NPM_PROVENANCE_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => repo_root().join("../shared/corpus"),
    };
    if dir.join("MANIFEST.md").is_file() {
        return Some(dir);
    }
    if in_ci() {
        panic!(
            "{test}: corpus not found at {} (required when CI=true)",
            dir.display()
        );
    }
    eprintln!("{test}: SKIPPED, corpus not found at {}", dir.display());
    None
}

/// Whether the tests run in CI (`CI` set, and not empty, `false` or `0`): there, what a test
/// needs must be present (corpus, python3), and snapshots are never rewritten.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "false" | "0"))
}

/// A file inside the corpus, or `None` (skip) as [`corpus_dir`].
pub fn corpus_file(test: &str, rel: &str) -> Option<PathBuf> {
    corpus_dir(test).map(|d| d.join(rel))
}

/// The repository root (the workspace's main crate directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
