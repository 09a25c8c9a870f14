//! `verify` command contract: usage errors (exit 2), and the offline demo in `testdata/demo/`
//! with its text and JSON snapshots.
//!
//! The demo is two projects (`clean`, `tampered`) sharing a recorded cache whose packuments,
//! registry signatures and attestations are minted by the test Sigstore, plus that PKI's
//! `trusted_root.json` and `npm-keys.json`. `demo_testdata_is_current` re-mints everything and
//! compares it with the committed files; `UPDATE_DEMO=1` rewrites them (never under `CI`; run
//! that test alone: `UPDATE_DEMO=1 cargo test --test it verify_cmd::demo_testdata`).
//! Snapshots compare the output byte for byte; `UPDATE_SNAPSHOTS=1` rewrites them (never
//! under `CI`).

use super::verify_e2e::{lockfile, rfc3339, sha512_hex_of, Pkg};
use npm_provenance::registry::cache::{Cache, CacheKey, EntryMeta};
use npm_provenance::registry::Accept;
use npm_provenance_testkit::fixture_registry::sri_sha512;
use npm_provenance_testkit::{Identity, KeyWindow, TestSigstore};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DEMO: &str = "testdata/demo";
/// 2025-06-01T12:00:00Z, the demo's publish time.
const DEMO_T: i64 = 1_748_779_200;
const PUBLIC: &str = "https://registry.npmjs.org/";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

use npm_provenance_testkit::corpus::in_ci as ci;

fn bin_in_root(args: &[&str]) -> Output {
    let home = std::env::temp_dir().join(format!("npmprov-cmd-home-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&home);
    Command::new(env!("CARGO_BIN_EXE_npm-provenance"))
        .args(args)
        .current_dir(root())
        .env_clear()
        .env("HOME", &home)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Usage errors

#[test]
fn bad_flags_are_exit_2_with_an_error_document() {
    for args in [
        &[
            "verify",
            "testdata/demo/clean",
            "--fail-level",
            "error",
            "--json",
        ][..],
        &["verify", "testdata/demo/clean", "--omit", "prod", "--json"],
        &[
            "verify",
            "testdata/demo/clean",
            "--danger-now",
            "yesterday",
            "--json",
        ],
        &["verify", "testdata/demo/no-such-project", "--json"],
        &[
            "verify",
            "testdata/demo/clean",
            "--policy",
            "p.toml",
            "--json",
        ],
    ] {
        let out = bin_in_root(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("error"), "{args:?}: {stderr}");
        if args.contains(&"--json") {
            let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(doc["schema"], "npm-provenance/error/v1", "{args:?}");
        }
    }
}

#[test]
fn unreadable_trust_material_names_the_file() {
    let out = bin_in_root(&[
        "verify",
        "testdata/demo/clean",
        "--offline",
        "--npm-keys",
        "testdata/demo/package-lock.json-not-here",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("package-lock.json-not-here"));
}

// ---------------------------------------------------------------------------------------------
// The demo

fn demo_packages() -> Vec<Pkg> {
    ["@demo/core@1.2.0", "demo-utils@0.4.1", "tiny-logger@2.0.0"]
        .iter()
        .map(|spec| {
            let (name, version) = spec.rsplit_once('@').unwrap();
            let integrity = sri_sha512(format!("demo tarball {name}@{version}").as_bytes());
            Pkg::with_integrity(name, version, &integrity)
        })
        .collect()
}

/// Every file of `testdata/demo` (relative path → bytes), minted afresh.
fn demo_files() -> BTreeMap<PathBuf, Vec<u8>> {
    let sigstore = TestSigstore::new(b"npm-provenance demo");
    let identity = Identity::github_actions(
        "demo-org/demo",
        ".github/workflows/release.yml",
        "refs/tags/v1.0.0",
    );
    let mut files = BTreeMap::new();
    files.insert(
        PathBuf::from("trusted_root.json"),
        sigstore.trusted_root_json().into_bytes(),
    );
    files.insert(
        PathBuf::from("npm-keys.json"),
        sigstore
            .npm_keys_json(KeyWindow {
                start: DEMO_T - 86_400 * 365,
                end: None,
            })
            .into_bytes(),
    );
    let pkgs = demo_packages();
    files.insert(
        PathBuf::from("clean/package-lock.json"),
        lockfile(&pkgs).into_bytes(),
    );
    // The tampered project locks another tarball for demo-utils than the one the registry
    // signed and the provenance names.
    let mut tampered = pkgs.clone();
    tampered[1].integrity = sri_sha512(b"a tarball swapped in by an attacker");
    files.insert(
        PathBuf::from("tampered/package-lock.json"),
        lockfile(&tampered).into_bytes(),
    );

    let tmp = std::env::temp_dir().join(format!("npmprov-demo-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let cache = Cache::open(&tmp, false).unwrap();
    let base = url::Url::parse(PUBLIC).unwrap();
    let put = |path: &str, accept: Accept, immutable: bool, body: &[u8]| {
        let u = base.join(path).unwrap();
        let meta = EntryMeta {
            url: u.to_string(),
            accept: accept.header().to_string(),
            status: 200,
            etag: None,
            last_modified: None,
            immutable,
            fresh_until: None,
            body_len: 0,
            body_crc32: 0,
        };
        cache
            .put(&CacheKey::new(&u, accept.header(), None), meta, body)
            .unwrap();
    };
    for p in &pkgs {
        let hex = sha512_hex_of(&p.integrity);
        let publish = sigstore.mint_publish(&p.name, &p.version, &hex, DEMO_T);
        let provenance = sigstore.mint_provenance(&identity, &p.name, &p.version, &hex, DEMO_T - 2);
        let attestations = json!({"attestations": [
            {"predicateType": "https://github.com/npm/attestation/tree/main/specs/publish/v0.1", "bundle": publish.bundle},
            {"predicateType": "https://slsa.dev/provenance/v1", "bundle": provenance.bundle},
        ]});
        let escaped = p.name.replacen('/', "%2f", 1);
        put(
            // The path the packument announces (pacote keeps it on the configured registry).
            &format!("-/npm/v1/attestations/{}@{}", p.name, p.version),
            Accept::Json,
            true,
            &serde_json::to_vec(&attestations).unwrap(),
        );
        let packument = json!({
            "name": p.name,
            "versions": {p.version.clone(): {
                "name": p.name, "version": p.version,
                "dist": {
                    "integrity": p.integrity,
                    "signatures": [sigstore.registry_signature(&p.name, &p.version, &p.integrity)],
                    "attestations": {
                        "url": format!("{PUBLIC}-/npm/v1/attestations/{}@{}", p.name, p.version),
                        "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}
                    }
                },
                "_npmUser": {"name": "GitHub Actions", "email": "npm-oidc-no-reply@github.com",
                             "trustedPublisher": {"id": "github", "oidcConfigId": "oidc:demo"}}
            }},
            "time": {p.version.clone(): rfc3339(DEMO_T)}
        });
        put(
            &escaped,
            Accept::Json,
            false,
            &serde_json::to_vec(&packument).unwrap(),
        );
    }
    for (rel, bytes) in walk(&tmp) {
        files.insert(Path::new("cache").join(rel), bytes);
    }
    let _ = std::fs::remove_dir_all(&tmp);
    files
}

/// Every regular file under `dir` (relative path → bytes).
fn walk(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), bytes);
            }
        }
    }
    out
}

#[test]
fn demo_testdata_is_current() {
    let want = demo_files();
    let dir = root().join(DEMO);
    if std::env::var_os("UPDATE_DEMO").is_some() && !ci() {
        let _ = std::fs::remove_dir_all(dir.join("cache"));
        for (rel, bytes) in &want {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
    }
    let have: BTreeMap<PathBuf, Vec<u8>> = walk(&dir)
        .into_iter()
        .filter(|(p, _)| want.contains_key(p) || p.starts_with("cache"))
        .collect();
    assert_eq!(
        have.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "testdata/demo is out of date: run with UPDATE_DEMO=1"
    );
    for (p, bytes) in &want {
        assert!(
            have[p] == *bytes,
            "{} differs: run with UPDATE_DEMO=1",
            p.display()
        );
    }
}

/// The demo command of the README, for `project` (`clean` or `tampered`).
fn demo(project: &str, extra: &[&str]) -> Output {
    let path = format!("{DEMO}/{project}");
    let mut args = vec![
        "verify",
        &path,
        "--offline",
        "--cache-dir",
        "testdata/demo/cache",
        "--trusted-root",
        "testdata/demo/trusted_root.json",
        "--npm-keys",
        "testdata/demo/npm-keys.json",
    ];
    args.extend_from_slice(extra);
    bin_in_root(&args)
}

fn snapshot(name: &str, actual: &[u8]) {
    let p = root().join(DEMO).join("expected").join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() && !ci() {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, actual).unwrap();
    }
    let want = std::fs::read(&p)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_SNAPSHOTS=1)", p.display()));
    assert!(
        want == actual,
        "{name} differs from the snapshot (run with UPDATE_SNAPSHOTS=1 after checking):\n{}",
        String::from_utf8_lossy(actual)
    );
}

fn deny_codes(doc: &Value) -> Vec<String> {
    let mut v: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .chain(
            doc["packages"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|p| p["findings"].as_array().unwrap().iter()),
        )
        .filter(|f| f["level"] == "deny")
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn demo_clean_snapshot() {
    let out = demo("clean", &["--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(deny_codes(&doc).is_empty());
    assert_eq!(doc["summary"]["verified"], 3);
    assert_eq!(doc["summary"]["with_provenance"], 3);
    snapshot("clean.json", &out.stdout);
    let text = demo("clean", &[]);
    assert_eq!(text.status.code(), Some(0));
    snapshot("clean.txt", &text.stdout);
}

#[test]
fn demo_tampered_snapshot() {
    let out = demo("tampered", &["--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let denies = deny_codes(&doc);
    assert!(
        denies.contains(&"integrity-mismatch".to_string()),
        "{denies:?}"
    );
    let utils = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "demo-utils")
        .unwrap();
    assert_eq!(utils["integrity"]["status"], "invalid");
    assert_eq!(doc["summary"]["verified"], 2);
    snapshot("tampered.json", &out.stdout);
    let text = demo("tampered", &[]);
    assert_eq!(text.status.code(), Some(1));
    let t = String::from_utf8_lossy(&text.stdout);
    assert!(t.contains("integrity-mismatch"), "{t}");
    snapshot("tampered.txt", &text.stdout);
}

#[test]
fn offline_demo_never_writes_into_testdata() {
    let before = walk(&root().join(DEMO));
    for project in ["clean", "tampered"] {
        let _ = demo(project, &["--json"]);
    }
    let after = walk(&root().join(DEMO));
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    assert!(before == after, "an offline run changed testdata/demo");
}

#[test]
fn offline_without_cache_is_unverifiable_not_verified() {
    let empty = std::env::temp_dir().join(format!("npmprov-empty-cache-{}", std::process::id()));
    let out = bin_in_root(&[
        "verify",
        "testdata/demo/clean",
        "--offline",
        "--cache-dir",
        &empty.display().to_string(),
        "--trusted-root",
        "testdata/demo/trusted_root.json",
        "--npm-keys",
        "testdata/demo/npm-keys.json",
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["verified"], 0);
    assert_eq!(doc["summary"]["unverifiable"], 3);
    assert_eq!(deny_codes(&doc), ["unverifiable"]);
    assert!(!empty.exists(), "--offline created the cache directory");
}

#[test]
fn readme_shows_the_demo_outputs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for name in ["clean.txt", "tampered.txt"] {
        let out = std::fs::read_to_string(root().join(DEMO).join("expected").join(name)).unwrap();
        assert!(
            readme.contains(&out),
            "README.md does not show the current {name}"
        );
    }
    // The first README command runs the gate on the tampered demo; the clean one is named too.
    assert!(readme.contains("verify testdata/demo/tampered --offline"));
    assert!(readme.contains("testdata/demo/clean"));
}

#[test]
fn only_non_registry_packages_is_exit_2_not_all_verified() {
    let dir = std::env::temp_dir().join(format!("npmprov-only-ws-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("package-lock.json"),
        r#"{"name":"root","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{
            "":{"name":"root","version":"1.0.0","workspaces":["packages/a"]},
            "packages/a":{"name":"a","version":"1.0.0"},
            "node_modules/a":{"resolved":"packages/a","link":true}}}"#,
    )
    .unwrap();
    let out = bin_in_root(&["verify", &dir.display().to_string(), "--offline", "--json"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["error"]["kind"], "inventory");
    assert!(doc["error"]["message"]
        .as_str()
        .unwrap()
        .contains("none from a registry"));
}

#[test]
fn output_file_gets_the_report_and_the_exit_code_stays() {
    let out_file = std::env::temp_dir().join(format!("npmprov-out-{}.json", std::process::id()));
    let out = demo(
        "tampered",
        &["--json", "--output", &out_file.display().to_string()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let doc: Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    let _ = std::fs::remove_file(&out_file);
    assert_eq!(doc["schema"], "npm-provenance/report/v1");
    assert!(deny_codes(&doc).contains(&"integrity-mismatch".to_string()));
}
