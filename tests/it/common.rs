//! Shared by the integration tests: the binary under test, run isolated from the user's
//! machine state.

use npm_provenance_testkit::corpus::in_ci;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// `npm-provenance`, with the data and cache directories pointed at a path that does not exist,
/// so a trust-root update or cache a developer has on this machine never changes a test's
/// outcome. Tests that need a store or cache pass `--data-dir`/`--cache-dir` explicitly.
pub fn npm_provenance() -> Command {
    let nowhere = std::env::temp_dir().join(format!(
        "npm-provenance-tests-no-user-state-{}",
        std::process::id()
    ));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_npm-provenance"));
    cmd.env("XDG_DATA_HOME", nowhere.join("data"))
        .env("XDG_CACHE_HOME", nowhere.join("cache"));
    cmd
}

/// Runs an independent lockfile counter (`python3 SCRIPT LOCKFILE`, JSON on stdout): its
/// numbers, or `None` (skip) when python3 is missing outside CI.
pub fn independent_count(script: &Path, lockfile: &Path) -> Option<Value> {
    match Command::new("python3").arg(script).arg(lockfile).output() {
        Ok(out) if out.status.success() => Some(serde_json::from_slice(&out.stdout).unwrap()),
        Ok(out) => panic!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) if !in_ci() => {
            eprintln!("SKIPPED: python3 not available ({e})");
            None
        }
        Err(e) => panic!("python3 required in CI: {e}"),
    }
}

/// Every file under `dir`, at any depth (none when it cannot be read).
pub fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}
