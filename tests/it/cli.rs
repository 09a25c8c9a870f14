//! Command-line contract tests that need no corpus.

use std::process::Command;

fn bin() -> Command {
    crate::common::npm_provenance()
}

#[test]
fn unknown_flag_is_exit_2() {
    let out = bin().args(["verify", "--no-such-flag"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_lists_every_command() {
    let out = bin().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in [
        "verify",
        "inspect",
        "history",
        "verify-bundle",
        "trust-roots",
    ] {
        assert!(text.contains(cmd), "{cmd} missing from --help");
    }
}
