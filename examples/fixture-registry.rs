//! Serves a directory as an npm registry on 127.0.0.1 (for benchmarks and manual runs).
//!
//! ```sh
//! cargo run --example fixture-registry -- DIR [--seconds N] [--latency-ms N] [--corpus]
//! ```
//!
//! DIR is laid out as `packuments/NAME.json`, `abbreviated/NAME.json`,
//! `attestations/NAME@VERSION.json`, `keys.json`, `tarballs/PATH`. With `--corpus` (and no DIR
//! needed) it serves the shared corpus's real attestation sets, tarballs, keys and the nuxt
//! packument. It prints its URL on the first line of stdout and stops after `--seconds`
//! (default 3600): it never runs unbounded.

use std::path::PathBuf;
use std::time::Duration;

use npm_provenance_testkit::fixture_registry::{load_corpus, FixtureRegistry};

fn main() -> std::process::ExitCode {
    let mut dir: Option<PathBuf> = None;
    let mut seconds: u64 = 3600;
    let mut latency_ms: u64 = 0;
    let mut corpus = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> Option<u64> {
            let v = args.next().and_then(|v| v.parse().ok());
            if v.is_none() {
                eprintln!("fixture-registry: {name} needs a number");
            }
            v
        };
        match a.as_str() {
            "--seconds" => match num("--seconds") {
                Some(n) => seconds = n,
                None => return std::process::ExitCode::from(2),
            },
            "--latency-ms" => match num("--latency-ms") {
                Some(n) => latency_ms = n,
                None => return std::process::ExitCode::from(2),
            },
            "--corpus" => corpus = true,
            "-h" | "--help" => {
                println!("usage: fixture-registry [DIR] [--corpus] [--seconds N] [--latency-ms N]");
                return std::process::ExitCode::SUCCESS;
            }
            _ if dir.is_none() && !a.starts_with('-') => dir = Some(PathBuf::from(a)),
            _ => {
                eprintln!("fixture-registry: unexpected argument {a:?}");
                return std::process::ExitCode::from(2);
            }
        }
    }
    if dir.is_none() && !corpus {
        eprintln!("usage: fixture-registry [DIR] [--corpus] [--seconds N] [--latency-ms N]");
        return std::process::ExitCode::from(2);
    }
    let reg = FixtureRegistry::start();
    if let Some(d) = &dir {
        if let Err(e) = reg.load_dir(d) {
            eprintln!("fixture-registry: {}: {e}", d.display());
            return std::process::ExitCode::from(2);
        }
    }
    if corpus {
        let Some(c) = npm_provenance_testkit::corpus::corpus_dir("fixture-registry") else {
            return std::process::ExitCode::from(2);
        };
        if let Err(e) = load_corpus(&reg, &c) {
            eprintln!("fixture-registry: corpus {}: {e}", c.display());
            return std::process::ExitCode::from(2);
        }
    }
    reg.set_latency(Duration::from_millis(latency_ms));
    println!("{}", reg.url());
    std::thread::sleep(Duration::from_secs(seconds));
    eprintln!("fixture-registry: served {} requests", reg.requests().len());
    std::process::ExitCode::SUCCESS
}
