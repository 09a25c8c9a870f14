//! The fuzz targets' seed corpora as ordinary tests (CI has no nightly): every committed seed in
//! `fuzz/seeds/<target>/`, every corpus file of the matching kind, and a bounded, seeded,
//! deterministic set of mutations of both, through `npm_provenance::fuzzing`. The assertion is
//! that nothing panics (a panic fails the test and names the input).
//!
//! `FUZZ_SEED_MUTATIONS` (default 500) sets the mutations per target and `FUZZ_SEED_RNG` the
//! generator's seed; raise/change them for a longer local run. A failing mutant is written to `target/fuzz-seed-failures/` for replay.

use npm_provenance::fuzzing::TARGETS;
use npm_provenance_testkit::corpus::{corpus_dir, repo_root};
use serde_json::Value;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

type Inputs = BTreeMap<&'static str, Vec<(String, Vec<u8>)>>;

#[test]
fn every_target_has_seeds_and_a_fuzz_target() {
    let root = repo_root();
    for (name, _) in TARGETS {
        let seeds = committed_seeds(name);
        assert!(!seeds.is_empty(), "fuzz/seeds/{name}/ has no seed");
        let target = root.join(format!("fuzz/fuzz_targets/{name}.rs"));
        let src = std::fs::read_to_string(&target)
            .unwrap_or_else(|e| panic!("{}: {e}", target.display()));
        assert!(
            src.contains(&format!("npm_provenance::fuzzing::{name}(")),
            "{} does not call fuzzing::{name}",
            target.display()
        );
    }
    // And no seed folder or target without an entry point.
    for dir in ["fuzz/seeds", "fuzz/fuzz_targets"] {
        for e in std::fs::read_dir(root.join(dir)).expect("fuzz folder") {
            let e = e.expect("entry");
            let stem = e
                .path()
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned());
            let stem = stem.unwrap_or_default();
            assert!(
                TARGETS.iter().any(|(n, _)| *n == stem),
                "{dir}/{stem} has no fuzzing entry"
            );
        }
    }
}

#[test]
fn committed_seeds_never_panic() {
    for (name, f) in TARGETS {
        for (label, bytes) in committed_seeds(name) {
            run(name, f, &label, &bytes);
        }
    }
}

#[test]
fn corpus_files_never_panic() {
    let Some(dir) = corpus_dir("corpus_files_never_panic") else {
        return;
    };
    let inputs = corpus_inputs(&dir);
    for (name, f) in TARGETS {
        for (label, bytes) in inputs.get(name).into_iter().flatten() {
            run(name, f, label, bytes);
        }
    }
    // The classification found real data for the targets the corpus has data for.
    for name in [
        "attestations",
        "bundle",
        "certificate",
        "checkpoint",
        "npm_keys",
        "package_lock",
        "packument",
        "pnpm_lock",
        "statement",
        "trusted_root",
        "yarn_lock",
    ] {
        assert!(
            inputs.get(name).is_some_and(|v| !v.is_empty()),
            "no corpus input found for {name}"
        );
    }
}

#[test]
fn mutated_seeds_never_panic() {
    let per_target: usize = std::env::var("FUZZ_SEED_MUTATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let seed: u64 = std::env::var("FUZZ_SEED_RNG")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    let corpus = corpus_dir("mutated_seeds_never_panic").map(|d| corpus_inputs(&d));
    let mut rng = XorShift(seed | 1);
    for (name, f) in TARGETS {
        let mut pool = committed_seeds(name);
        if let Some(extra) = corpus.as_ref().and_then(|c| c.get(name)) {
            // Small real inputs only: mutating multi-MB lockfiles costs time, finds little.
            pool.extend(extra.iter().filter(|(_, b)| b.len() <= 64 * 1024).cloned());
        }
        for i in 0..per_target {
            let (label, seed) = &pool[rng.below(pool.len())];
            let mutant = mutate(&mut rng, seed, &pool);
            run(name, f, &format!("{label} mutant {i}"), &mutant);
        }
    }
}

fn run(target: &str, f: &fn(&[u8]), label: &str, bytes: &[u8]) {
    if catch_unwind(AssertUnwindSafe(|| f(bytes))).is_err() {
        let dir = repo_root().join("target/fuzz-seed-failures").join(target);
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join(label.replace(['/', ' '], "_"));
        let _ = std::fs::write(&file, bytes);
        panic!(
            "fuzzing::{target} panicked on {label} (saved as {})",
            file.display()
        );
    }
}

fn committed_seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = repo_root().join("fuzz/seeds").join(target);
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let p = e.path();
        let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        out.push((format!("seed {target}/{}", name_of(&p)), bytes));
    }
    out.sort();
    out
}

/// Every corpus file of each target's kind, and the parts of real bundles that have their own
/// target (leaf certificates, checkpoint notes, DSSE payloads).
fn corpus_inputs(dir: &Path) -> Inputs {
    let mut inputs = Inputs::new();
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    for path in files {
        let name = name_of(&path);
        let label = format!(
            "corpus {}",
            path.strip_prefix(dir).unwrap_or(&path).display()
        );
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let mut add = |t: &'static str, b: Vec<u8>| {
            inputs.entry(t).or_default().push((label.clone(), b));
        };
        match name.as_str() {
            "package-lock.json" | "npm-shrinkwrap.json" => add("package_lock", bytes.clone()),
            n if n.ends_with("yarn.lock") => add("yarn_lock", bytes.clone()),
            n if n.ends_with("pnpm-lock.yaml") => add("pnpm_lock", bytes.clone()),
            n if n.ends_with("bun.lock") => add("bun_lock", bytes.clone()),
            n if n.ends_with(".npmrc") => add("npmrc", bytes.clone()),
            n if n.ends_with(".toml") => add("policy", bytes.clone()),
            n if n.ends_with(".crt") || n.ends_with(".pem") => {
                for der in pem_blocks(&bytes) {
                    add("certificate", der);
                }
            }
            _ => {}
        }
        if !name.ends_with(".json") || bytes.len() > 4 * 1024 * 1024 {
            continue;
        }
        // Every JSON parser reads every JSON file: a file of another kind is hostile input too.
        for t in [
            "attestations",
            "bundle",
            "npm_keys",
            "packument",
            "trusted_root",
            "tuf_root",
        ] {
            add(t, bytes.clone());
        }
        if let Ok(doc) = serde_json::from_slice::<Value>(&bytes) {
            let mut parts = Vec::new();
            bundle_parts(&doc, &mut parts);
            for (t, b) in parts {
                add(t, b);
            }
        }
    }
    inputs
}

/// Certificates, checkpoint notes and DSSE payloads anywhere inside a JSON document.
fn bundle_parts(v: &Value, out: &mut Vec<(&'static str, Vec<u8>)>) {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).ok();
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                match (k.as_str(), child) {
                    ("rawBytes", Value::String(s)) => {
                        if let Some(der) = b64(s) {
                            out.push(("certificate", der));
                        }
                    }
                    ("envelope", Value::String(s)) => out.push(("checkpoint", s.clone().into())),
                    ("payload", Value::String(s)) => {
                        if let Some(p) = b64(s) {
                            out.push(("statement", p));
                        }
                    }
                    _ => bundle_parts(child, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| bundle_parts(c, out)),
        _ => {}
    }
}

fn pem_blocks(bytes: &[u8]) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("-----BEGIN") {
            body = Some(String::new());
        } else if line.starts_with("-----END") {
            if let Some(b) = body.take() {
                if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(b) {
                    out.push(der);
                }
            }
        } else if let Some(b) = body.as_mut() {
            b.push_str(line.trim());
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&p, out),
            Ok(t) if t.is_file() => out.push(p),
            _ => {}
        }
    }
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The mutations libFuzzer starts with: bit flips, interesting bytes, inserts, deletes,
/// truncation, duplicated chunks and splices with another input.
fn mutate(rng: &mut XorShift, seed: &[u8], pool: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = seed.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let at = rng.below(b.len() + 1);
        match rng.below(8) {
            0 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] ^= 1 << rng.below(8);
            }
            1 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                const INTERESTING: &[u8] = b"\0\xff\x7f\x80{}[]\":,\\\n-0123456789eE.";
                b[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => b.insert(at, rng.next() as u8),
            3 if at < b.len() => {
                let end = (at + 1 + rng.below(16)).min(b.len());
                b.drain(at..end);
            }
            4 => b.truncate(at),
            5 if !b.is_empty() => {
                let start = rng.below(b.len());
                let end = (start + 1 + rng.below(64)).min(b.len());
                let chunk = b[start..end].to_vec();
                b.splice(at..at, chunk);
            }
            6 => {
                let other = &pool[rng.below(pool.len())].1;
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    b.truncate(at);
                    b.extend_from_slice(&other[from..]);
                }
            }
            _ => {
                // Repeat a structural byte: deep nesting and long runs.
                let c = [b'[', b'{', b'-', b' ', b'"'][rng.below(5)];
                let n = 1 + rng.below(200);
                b.splice(at..at, std::iter::repeat_n(c, n));
            }
        }
    }
    b
}

/// A small deterministic PRNG (xorshift64*): the same mutants on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}
