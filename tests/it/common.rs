//! Shared by the integration tests: the binary under test, run isolated from the user's
//! machine state.

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
