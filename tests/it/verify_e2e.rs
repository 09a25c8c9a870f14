//! `verify` end to end: the binary against the fixture registry on 127.0.0.1, serving packuments,
//! registry signatures and attestations minted by the test Sigstore (and, in one test, the
//! corpus's real nuxt data verified with the production trust roots). Network-free; the
//! publish times are fixed.

use npm_provenance::inventory::{self, InventoryOptions};
use npm_provenance_testkit::corpus::corpus_dir;
use npm_provenance_testkit::fixture_registry::{sri_sha512, Fault, FixtureRegistry};
use npm_provenance_testkit::{Identity, KeyWindow, TestSigstore};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// 2025-03-01T00:00:00Z: every synthetic version is published then.
const T0: i64 = 1_740_787_200;

/// How a synthetic version is served.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sig {
    Good,
    /// Signed over another integrity.
    Tampered,
    None,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Att {
    None,
    /// Publish attestation and SLSA provenance.
    Full,
    /// Announced in the packument, not served (404).
    AnnouncedMissing,
}

/// One synthetic package version.
#[derive(Clone, Debug)]
pub struct Pkg {
    pub name: String,
    pub version: String,
    /// The integrity the lockfile pins.
    pub integrity: String,
    /// The integrity the packument announces (differs for the swapped-integrity case).
    pub registry_integrity: String,
    pub sig: Sig,
    pub att: Att,
    pub npm_user: Value,
    /// Publish time (Unix seconds), T0 unless a test sets it.
    pub time: i64,
}

impl Pkg {
    pub fn new(name: &str, version: &str) -> Pkg {
        let integrity = sri_sha512(format!("tarball of {name}@{version}").as_bytes());
        Pkg {
            name: name.into(),
            version: version.into(),
            registry_integrity: integrity.clone(),
            integrity,
            sig: Sig::Good,
            att: Att::None,
            npm_user: json!({"name": "maintainer", "email": "maintainer@example.com"}),
            time: T0,
        }
    }

    pub fn with_integrity(name: &str, version: &str, integrity: &str) -> Pkg {
        Pkg {
            integrity: integrity.into(),
            registry_integrity: integrity.into(),
            ..Pkg::new(name, version)
        }
    }
}

/// A test Sigstore, a fixture registry, and a scratch directory with the test trust material.
pub struct World {
    pub sigstore: TestSigstore,
    pub registry: FixtureRegistry,
    pub dir: PathBuf,
}

impl World {
    pub fn new(tag: &str) -> World {
        let dir = std::env::temp_dir().join(format!("npmprov-verify-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let sigstore = TestSigstore::new(b"npm-provenance verify e2e");
        std::fs::write(dir.join("trusted_root.json"), sigstore.trusted_root_json()).unwrap();
        std::fs::write(
            dir.join("npm-keys.json"),
            sigstore.npm_keys_json(KeyWindow {
                start: T0 - 86_400 * 365,
                end: None,
            }),
        )
        .unwrap();
        World {
            sigstore,
            registry: FixtureRegistry::start(),
            dir,
        }
    }

    /// Serves packuments (one per name) and attestations for `pkgs`.
    pub fn publish(&self, pkgs: &[Pkg]) {
        let mut by_name: BTreeMap<&str, Vec<&Pkg>> = BTreeMap::new();
        for p in pkgs {
            by_name.entry(&p.name).or_default().push(p);
        }
        let identity = Identity::github_actions(
            "example/project",
            ".github/workflows/release.yml",
            "refs/heads/main",
        );
        for (name, versions) in by_name {
            let mut vs = serde_json::Map::new();
            let mut time = serde_json::Map::new();
            for p in versions {
                let mut dist = json!({"integrity": p.registry_integrity});
                let signed_integrity = match p.sig {
                    Sig::Tampered => sri_sha512(b"some other tarball"),
                    _ => p.registry_integrity.clone(),
                };
                if p.sig != Sig::None {
                    dist["signatures"] = json!([self.sigstore.registry_signature(
                        name,
                        &p.version,
                        &signed_integrity
                    )]);
                }
                if p.att != Att::None {
                    dist["attestations"] = json!({
                        "url": format!("https://registry.npmjs.org/-/npm/v1/attestations/{name}@{}", p.version),
                        "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}
                    });
                }
                if p.att == Att::Full {
                    let hex = sha512_hex_of(&p.integrity);
                    let publish = self.sigstore.mint_publish(name, &p.version, &hex, p.time);
                    let provenance = self.sigstore.mint_provenance(
                        &identity,
                        name,
                        &p.version,
                        &hex,
                        p.time - 2,
                    );
                    let body = json!({"attestations": [
                        {"predicateType": "https://github.com/npm/attestation/tree/main/specs/publish/v0.1", "bundle": publish.bundle},
                        {"predicateType": "https://slsa.dev/provenance/v1", "bundle": provenance.bundle},
                    ]});
                    self.registry.add_attestations(
                        name,
                        &p.version,
                        serde_json::to_vec(&body).unwrap(),
                    );
                }
                vs.insert(
                    p.version.clone(),
                    json!({"name": name, "version": p.version, "dist": dist, "_npmUser": p.npm_user}),
                );
                time.insert(p.version.clone(), json!(rfc3339(p.time)));
            }
            let doc = json!({"name": name, "versions": vs, "time": time});
            self.registry
                .add_packument(name, serde_json::to_vec(&doc).unwrap(), None);
        }
    }

    /// Writes a v3 package-lock installing `pkgs` under `node_modules/NAME` (or a nested path
    /// when a name repeats) into `dir/<project>`, and returns that directory.
    pub fn project(&self, project: &str, pkgs: &[Pkg]) -> PathBuf {
        let dir = self.dir.join(project);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("package-lock.json"), lockfile(pkgs)).unwrap();
        dir
    }

    /// Runs `verify PATH` against this registry with the test trust material.
    pub fn verify(&self, path: &Path, extra: &[&str]) -> Output {
        let mut args: Vec<String> = vec![
            "verify".into(),
            path.display().to_string(),
            "--metadata-registry".into(),
            self.registry.url(),
            "--trusted-root".into(),
            self.dir.join("trusted_root.json").display().to_string(),
            "--npm-keys".into(),
            self.dir.join("npm-keys.json").display().to_string(),
            "--cache-dir".into(),
            self.dir.join("cache").display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        run(&args)
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs the binary with a clean, deterministic environment (no user `.npmrc`, no colour).
pub fn run(args: &[String]) -> Output {
    let home = std::env::temp_dir().join(format!("npmprov-verify-home-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&home);
    Command::new(env!("CARGO_BIN_EXE_npm-provenance"))
        .args(args)
        .env_clear()
        .env("HOME", &home)
        .env("NO_COLOR", "1")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap()
}

pub fn rfc3339(t: i64) -> String {
    jiff::Timestamp::from_second(t).unwrap().to_string()
}

/// Hex of the sha512 in an SRI string.
pub fn sha512_hex_of(sri: &str) -> String {
    use base64::Engine as _;
    let b64 = sri.strip_prefix("sha512-").expect("sha512 integrity");
    hex::encode(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
}

/// A v3 package-lock for `pkgs`.
pub fn lockfile(pkgs: &[Pkg]) -> String {
    let mut packages = serde_json::Map::new();
    packages.insert("".into(), json!({"name": "demo", "version": "1.0.0"}));
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for p in pkgs {
        let n = seen.entry(&p.name).or_default();
        let location = if *n == 0 {
            format!("node_modules/{}", p.name)
        } else {
            format!("node_modules/holder-{n}/node_modules/{}", p.name)
        };
        *n += 1;
        let base = p.name.rsplit('/').next().unwrap_or(&p.name);
        packages.insert(
            location,
            json!({
                "version": p.version,
                "resolved": format!("https://registry.npmjs.org/{}/-/{base}-{}.tgz", p.name, p.version),
                "integrity": p.integrity,
            }),
        );
    }
    serde_json::to_string_pretty(&json!({
        "name": "demo", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
        "packages": packages,
    }))
    .unwrap()
}

pub fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The package entry `name@version` of a report.
pub fn package<'a>(doc: &'a Value, name: &str, version: &str) -> &'a Value {
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name && p["version"] == version)
        .unwrap_or_else(|| panic!("{name}@{version} not in the report"))
}

pub fn codes(p: &Value) -> Vec<(String, String)> {
    p["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["level"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn has(p: &Value, code: &str, level: &str) -> bool {
    codes(p).iter().any(|(c, l)| c == code && l == level)
}

// ---------------------------------------------------------------------------------------------

#[test]
fn clean_project_verifies_with_and_without_provenance() {
    let w = World::new("clean");
    let mut a = Pkg::new("alpha", "1.0.0");
    a.att = Att::Full;
    let mut b = Pkg::new("@scope/beta", "2.1.0");
    b.att = Att::Full;
    let c = Pkg::new("gamma", "0.3.0");
    let mut c2 = Pkg::new("gamma", "0.4.0");
    c2.att = Att::Full;
    let pkgs = [a, b, c, c2];
    w.publish(&pkgs);
    let dir = w.project("clean", &pkgs);
    let out = w.verify(&dir, &["--json"]);
    let doc = report(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(doc["schema"], "npm-provenance/report/v1");
    let s = &doc["summary"];
    assert_eq!(s["packages"], 4);
    assert_eq!(s["verified"], 4);
    assert_eq!(s["with_provenance"], 3);
    assert_eq!(s["without_provenance"], 1);
    assert_eq!(s["findings"]["deny"], 0);
    let alpha = package(&doc, "alpha", "1.0.0");
    assert_eq!(alpha["registry_signature"]["status"], "verified");
    assert_eq!(alpha["registry_signature"]["key_source"], "user-file");
    assert_eq!(alpha["provenance"]["status"], "verified");
    assert_eq!(alpha["publish_attestation"]["status"], "verified");
    assert_eq!(
        alpha["identity"]["source_repository_uri"],
        "https://github.com/example/project"
    );
    let beta = package(&doc, "@scope/beta", "2.1.0");
    assert_eq!(beta["provenance"]["status"], "verified");
    let gamma = package(&doc, "gamma", "0.3.0");
    assert_eq!(gamma["provenance"]["status"], "missing");
    assert!(has(gamma, "provenance-missing", "info"));
    // Text: summary first, PASS at the end.
    let text = w.verify(&dir, &[]);
    assert_eq!(text.status.code(), Some(0));
    let t = String::from_utf8_lossy(&text.stdout);
    assert!(t.starts_with("npm-provenance verify: "), "{t}");
    assert!(
        t.contains("4 verified, 3 with provenance, 1 without provenance"),
        "{t}"
    );
    assert!(
        t.trim_end().ends_with("PASS: no finding at or above deny"),
        "{t}"
    );
}

#[test]
fn each_tampering_gives_its_finding_and_exit_1() {
    let w = World::new("tamper");
    let good = Pkg::new("good", "1.0.0");
    let mut tampered_sig = Pkg::new("tampered-sig", "1.0.0");
    tampered_sig.sig = Sig::Tampered;
    let mut swapped = Pkg::new("swapped", "1.0.0");
    swapped.registry_integrity = sri_sha512(b"the attacker's tarball");
    let mut missing_att = Pkg::new("missing-att", "1.0.0");
    missing_att.att = Att::AnnouncedMissing;
    let mut unsigned = Pkg::new("unsigned", "1.0.0");
    unsigned.sig = Sig::None;
    let pkgs = [good, tampered_sig, swapped, missing_att, unsigned];
    w.publish(&pkgs);
    let dir = w.project("tamper", &pkgs);
    let out = w.verify(&dir, &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = report(&out);
    let p = |n: &str| package(&doc, n, "1.0.0");
    assert!(codes(p("good")).iter().all(|(_, l)| l != "deny"));
    assert_eq!(p("good")["registry_signature"]["status"], "verified");
    assert!(has(p("tampered-sig"), "registry-signature-invalid", "deny"));
    assert_eq!(p("tampered-sig")["registry_signature"]["status"], "invalid");
    assert!(has(p("swapped"), "integrity-mismatch", "deny"));
    assert_eq!(p("swapped")["integrity"]["status"], "invalid");
    assert!(has(p("missing-att"), "attestations-missing", "deny"));
    assert!(has(p("unsigned"), "registry-signature-missing", "deny"));
    assert_eq!(doc["summary"]["verified"], 1);
    assert_eq!(doc["summary"]["missing_signature"], 1);
    assert!(doc["summary"]["invalid"].as_u64().unwrap() >= 2);
}

/// Each tampering alone, beside a good package, fails the gate with its own code; the faults
/// (never-recovering 500, garbage body) alike.
#[test]
fn each_case_alone_fails_the_gate_with_its_code() {
    let w = World::new("alone");
    let good = Pkg::new("good", "1.0.0");
    let mut cases: Vec<(Pkg, Option<Fault>, &str)> = Vec::new();
    let mut p = Pkg::new("c-sig", "1.0.0");
    p.sig = Sig::Tampered;
    cases.push((p, None, "registry-signature-invalid"));
    let mut p = Pkg::new("c-swap", "1.0.0");
    p.registry_integrity = sri_sha512(b"the attacker's tarball");
    cases.push((p, None, "integrity-mismatch"));
    let mut p = Pkg::new("c-att", "1.0.0");
    p.att = Att::AnnouncedMissing;
    cases.push((p, None, "attestations-missing"));
    cases.push((
        Pkg::new("c-500", "1.0.0"),
        Some(Fault::Status(500)),
        "unverifiable",
    ));
    cases.push((
        Pkg::new("c-garbage", "1.0.0"),
        Some(Fault::Garbage),
        "unverifiable",
    ));
    let all: Vec<Pkg> = std::iter::once(good.clone())
        .chain(cases.iter().map(|c| c.0.clone()))
        .collect();
    w.publish(&all);
    for (pkg, fault, code) in &cases {
        if let Some(f) = fault {
            w.registry.fault(&format!("/{}", pkg.name), f.clone());
        }
        let dir = w.project(&pkg.name, &[good.clone(), pkg.clone()]);
        let out = w.verify(&dir, &["--json"]);
        assert_eq!(out.status.code(), Some(1), "{}", pkg.name);
        let doc = report(&out);
        assert!(
            has(package(&doc, &pkg.name, "1.0.0"), code, "deny"),
            "{}: {:?}",
            pkg.name,
            codes(package(&doc, &pkg.name, "1.0.0"))
        );
        assert_eq!(doc["summary"]["verified"], 1, "{}", pkg.name);
        assert_eq!(
            doc["summary"]["findings"]["deny"].as_u64(),
            Some(deny_count(&doc))
        );
    }
    let dir = w.project("only-good", &[good]);
    assert_eq!(w.verify(&dir, &["--json"]).status.code(), Some(0));
}

fn deny_count(doc: &Value) -> u64 {
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["findings"].as_array().unwrap().iter())
        .chain(doc["findings"].as_array().unwrap().iter())
        .filter(|f| f["level"] == "deny")
        .count() as u64
}

#[test]
fn never_recovering_500_and_garbage_are_unverifiable_not_exit_2() {
    let w = World::new("faults");
    let pkgs = [
        Pkg::new("fine", "1.0.0"),
        Pkg::new("down", "1.0.0"),
        Pkg::new("garbled", "1.0.0"),
    ];
    w.publish(&pkgs);
    w.registry.fault("/down", Fault::Status(500));
    w.registry.fault("/garbled", Fault::Garbage);
    let dir = w.project("faults", &pkgs);
    let out = w.verify(&dir, &["--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = report(&out);
    for n in ["down", "garbled"] {
        let p = package(&doc, n, "1.0.0");
        assert!(has(p, "unverifiable", "deny"), "{n}: {:?}", codes(p));
        assert_eq!(p["registry_signature"]["status"], "unverifiable");
    }
    assert_eq!(
        package(&doc, "fine", "1.0.0")["registry_signature"]["status"],
        "verified"
    );
    assert_eq!(doc["summary"]["unverifiable"], 2);
    // --allow-unverifiable turns them into warnings: exit 0, still not verified.
    let out = w.verify(&dir, &["--json", "--allow-unverifiable"]);
    assert_eq!(out.status.code(), Some(0));
    let doc = report(&out);
    assert!(has(package(&doc, "down", "1.0.0"), "unverifiable", "warn"));
    assert_eq!(doc["summary"]["verified"], 1);
    // --fail-level warn makes the warnings fail again.
    let out = w.verify(
        &dir,
        &["--json", "--allow-unverifiable", "--fail-level", "warn"],
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn stripping_mirror_is_one_run_level_finding() {
    let w = World::new("stripped");
    let mut pkgs = vec![Pkg::new("one", "1.0.0"), Pkg::new("two", "2.0.0")];
    for p in pkgs.iter_mut() {
        p.sig = Sig::None;
        p.npm_user = Value::Null;
    }
    w.publish(&pkgs);
    let dir = w.project("stripped", &pkgs);
    let out = w.verify(&dir, &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = report(&out);
    let run: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(run, ["registry-metadata-stripped"]);
    assert!(doc["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("--metadata-registry"));
}

#[test]
fn malicious_registry_strings_are_inert_in_text() {
    let w = World::new("escape");
    let mut evil = Pkg::new("evil", "1.0.0");
    evil.sig = Sig::Tampered; // a deny, so the evidence (with the publisher) is printed
    evil.npm_user = json!({"name": "\u{1b}[32mtrusted\u{1b}[0m", "email": "x\n::error::pwned"});
    let pkgs = [evil];
    w.publish(&pkgs);
    let dir = w.project("escape", &pkgs);
    let out = w.verify(&dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(t.contains("published by"), "{t}");
    assert!(!t.contains('\u{1b}'), "ESC reached the terminal: {t}");
    assert!(
        !t.lines().any(|l| l.starts_with("::")),
        "a registry string started a line: {t}"
    );
    assert!(t.contains("x\\u{a}::error::pwned"), "{t}");
    // JSON keeps the value, escaped by JSON itself.
    let doc = report(&w.verify(&dir, &["--json"]));
    assert_eq!(
        package(&doc, "evil", "1.0.0")["identity"]["npm_user"]["email"],
        "x\n::error::pwned"
    );
}

#[test]
fn empty_inventory_is_exit_2() {
    let w = World::new("empty");
    let dir = w.project("empty", &[]);
    let out = w.verify(&dir, &["--json"]);
    assert_eq!(out.status.code(), Some(2));
    let doc = report(&out);
    assert_eq!(doc["schema"], "npm-provenance/error/v1");
}

#[test]
fn corpus_lockfile_of_1000_plus_packages_verifies() {
    let Some(corpus) = corpus_dir(module_path!()) else {
        return;
    };
    let lock = corpus.join("lockfiles/npm-v3-insomnia-1830pkgs/package-lock.json");
    let inv = inventory::load(&lock, &InventoryOptions::default()).unwrap();
    let mut pkgs: Vec<Pkg> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for p in inv.registry_packages() {
        let integrity = p
            .integrity
            .as_ref()
            .expect("insomnia pins every package")
            .to_string();
        if !seen.insert((p.name.clone(), p.version.clone())) {
            continue;
        }
        let mut pkg = Pkg::with_integrity(&p.name, &p.version, &integrity);
        if pkgs.len() % 100 == 0 {
            pkg.att = Att::Full;
        }
        pkgs.push(pkg);
    }
    assert!(pkgs.len() >= 1000, "{}", pkgs.len());
    w_publish_and_check(&lock, &pkgs, inv.registry_packages().count());
}

fn w_publish_and_check(lock: &Path, pkgs: &[Pkg], registry_packages: usize) {
    let w = World::new("big");
    w.publish(pkgs);
    let out = w.verify(lock, &["--json", "--quiet"]);
    let doc = report(&out);
    let s = &doc["summary"];
    assert_eq!(
        out.status.code(),
        Some(0),
        "summary {s}; run findings {}",
        doc["findings"]
    );
    assert_eq!(s["verified"].as_u64().unwrap() as usize, registry_packages);
    assert_eq!(
        s["with_provenance"].as_u64().unwrap() as usize,
        pkgs.iter().filter(|p| p.att == Att::Full).count()
    );
    assert!(s["not_from_registry"].as_u64().unwrap() > 0);
    assert_eq!(s["findings"]["deny"], 0);
    // Deterministic: a second run (now from the cache) renders the same bytes.
    let again = w.verify(lock, &["--json", "--quiet"]);
    assert_eq!(out.stdout, again.stdout);
}

#[test]
fn real_nuxt_data_verifies_with_production_trust() {
    let Some(corpus) = corpus_dir(module_path!()) else {
        return;
    };
    let reg = FixtureRegistry::start();
    npm_provenance_testkit::fixture_registry::load_corpus(&reg, &corpus).unwrap();
    let nuxt: Value = serde_json::from_slice(
        &std::fs::read(corpus.join("provenance-action/npm-registry__metadata__nuxt.json")).unwrap(),
    )
    .unwrap();
    let integrity = |v: &str| {
        nuxt["versions"][v]["dist"]["integrity"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // nuxt@4.1.2 and @3.13.0 (real attestations), @3.0.0 (real signature, no provenance).
    let pkgs = [
        Pkg::with_integrity("nuxt", "4.1.2", &integrity("4.1.2")),
        Pkg::with_integrity("nuxt", "3.13.0", &integrity("3.13.0")),
        Pkg::with_integrity("nuxt", "3.0.0", &integrity("3.0.0")),
    ];
    let dir = std::env::temp_dir().join(format!("npmprov-verify-real-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("package-lock.json"), lockfile(&pkgs)).unwrap();
    // No trust flags: the embedded production trusted root and the pinned npm keys. The
    // fixture registry relays the public registry's metadata (`--metadata-registry`), so the
    // signatures are checked against the pinned keys, not keys the fixture would serve.
    let out = run(&[
        "verify".into(),
        dir.display().to_string(),
        "--metadata-registry".into(),
        reg.url(),
        "--cache-dir".into(),
        dir.join("cache").display().to_string(),
        "--json".into(),
        // Pinned "now": the embedded trust material is then years old (trust-root-stale).
        "--danger-now".into(),
        "2030-01-01T00:00:00Z".into(),
    ]);
    let doc = report(&out);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    let run_codes: Vec<(&str, &str)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["level"].as_str().unwrap()))
        .collect();
    assert_eq!(run_codes, [("trust-root-stale", "warn")]);
    for v in ["4.1.2", "3.13.0"] {
        let p = package(&doc, "nuxt", v);
        assert_eq!(p["registry_signature"]["status"], "verified", "{v}: {p:#}");
        assert_eq!(p["registry_signature"]["key_source"], "pinned", "{v}");
        assert_eq!(p["provenance"]["status"], "verified", "{v}");
        assert_eq!(p["publish_attestation"]["status"], "verified", "{v}");
        assert_eq!(
            p["identity"]["source_repository_uri"],
            "https://github.com/nuxt/nuxt"
        );
        assert_eq!(p["published"]["source"], "rekor");
    }
    let old = package(&doc, "nuxt", "3.0.0");
    assert_eq!(old["registry_signature"]["status"], "verified");
    assert_eq!(old["provenance"]["status"], "missing");
    assert_eq!(doc["summary"]["verified"], 3);
    assert_eq!(doc["summary"]["with_provenance"], 2);
}

/// The files under `dir` whose name ends with `suffix`.
fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    crate::common::files_under(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect()
}

#[test]
fn a_large_packument_is_digested_once_while_the_cache_serves_it() {
    let w = World::new("stored-digest");
    let mut pkgs: Vec<Pkg> = (0..12)
        .map(|i| {
            let mut p = Pkg::new("big", &format!("1.0.{i}"));
            p.time = T0 + i * 86_400;
            if i < 11 {
                p.att = Att::Full;
            }
            p
        })
        .collect();
    pkgs.push(Pkg::new("small", "1.0.0"));
    w.publish(&pkgs);
    // `big`'s packument made large (as real ones are, with readmes); `small`'s stays small.
    let mut doc: Value = serde_json::from_slice(&w.registry.packument("big").unwrap()).unwrap();
    doc["readme"] = json!("x".repeat(300 * 1024));
    w.registry
        .add_packument("big", serde_json::to_vec(&doc).unwrap(), None);
    w.registry.set_cache_control(Some("public, max-age=300"));
    let installed = [pkgs[11].clone(), pkgs[12].clone()];
    let dir = w.project("stored", &installed);
    let first = w.verify(&dir, &["--json"]);
    let doc = report(&first);
    let big = package(&doc, "big", "1.0.11");
    // The history engine read the whole packument: the provenance stopped at 1.0.11.
    assert!(
        big["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "provenance-downgrade"),
        "{big:#}"
    );
    // What was made of the large packument is stored beside it; nothing of the small one.
    let cache = w.dir.join("cache");
    let stored = files_ending(&cache, ".d");
    assert_eq!(stored.len(), 1, "{stored:?}");

    // While the cache serves the packument, the next runs read the stored digest, not the
    // body: damaged in the middle (the same length; its CRC-32 would refuse it if read), no
    // request is made for it, and the report is the same, with and without the history.
    let packument_entry = PathBuf::from(stored[0].to_string_lossy().trim_end_matches(".d"));
    let mut raw = std::fs::read(&packument_entry).unwrap();
    let mid = raw.len() / 2;
    raw[mid] ^= 1;
    std::fs::write(&packument_entry, &raw).unwrap();
    w.registry.clear_log();
    let second = w.verify(&dir, &["--json"]);
    let paths: Vec<String> = w.registry.requests().into_iter().map(|r| r.path).collect();
    assert!(!paths.contains(&"/big".to_string()), "{paths:?}");
    assert_eq!(
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&second.stdout)
    );
    assert_eq!(first.status.code(), second.status.code());
    let lean = w.verify(&dir, &["--json", "--no-history"]);
    let lean_doc = report(&lean);
    let codes: Vec<&Value> = package(&lean_doc, "big", "1.0.11")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["code"])
        .collect();
    assert_eq!(codes, ["provenance-missing"]);
    let paths: Vec<String> = w.registry.requests().into_iter().map(|r| r.path).collect();
    assert!(!paths.contains(&"/big".to_string()), "{paths:?}");

    // Other installed versions: the stored digest does not serve; the body is read (found
    // damaged here, so fetched again) and digested for them.
    let other = [pkgs[5].clone(), pkgs[12].clone()];
    let other_dir = w.project("other", &other);
    w.registry.clear_log();
    let out = w.verify(&other_dir, &["--json"]);
    let big_requests = w
        .registry
        .requests()
        .iter()
        .filter(|r| r.path == "/big")
        .count();
    assert_eq!(big_requests, 1);
    let doc = report(&out);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    let big = package(&doc, "big", "1.0.5");
    assert_eq!(big["provenance"]["status"], "verified");
    assert_eq!(big["registry_signature"]["status"], "verified");

    // A damaged stored digest is never used: dropped, the body read and digested again.
    let stored = files_ending(&cache, ".d");
    assert_eq!(stored.len(), 1);
    let mut raw = std::fs::read(&stored[0]).unwrap();
    let last = raw.len() - 2;
    raw[last] ^= 1;
    std::fs::write(&stored[0], &raw).unwrap();
    let again = w.verify(&other_dir, &["--json"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&again.stdout)
    );
    assert_ne!(std::fs::read(&stored[0]).unwrap(), raw, "stored again");

    // --offline reads the stored digest too (`small`'s attestations, a 404, are not cached).
    w.registry.clear_log();
    let offline = w.verify(&other_dir, &["--json", "--offline"]);
    assert_eq!(w.registry.requests().len(), 0);
    assert_eq!(
        package(&report(&offline), "big", "1.0.5"),
        package(&doc, "big", "1.0.5")
    );
}

#[test]
fn a_stale_large_packument_is_read_again_not_its_stored_digest() {
    let w = World::new("stale-digest");
    let pad = |w: &World| {
        let mut doc: Value = serde_json::from_slice(&w.registry.packument("big").unwrap()).unwrap();
        doc["readme"] = json!("x".repeat(300 * 1024));
        w.registry
            .add_packument("big", serde_json::to_vec(&doc).unwrap(), None);
    };
    let pkgs: Vec<Pkg> = (0..3)
        .map(|i| Pkg::new("big", &format!("1.0.{i}")))
        .collect();
    w.publish(&pkgs);
    pad(&w);
    // No Cache-Control: every run revalidates the packument.
    let dir = w.project("stale", &pkgs[2..]);
    let first = w.verify(&dir, &["--json"]);
    assert_eq!(first.status.code(), Some(0));
    assert_eq!(files_ending(&w.dir.join("cache"), ".d").len(), 1);
    // The registry now serves 1.0.2 signed over another integrity: what was stored of the old
    // body must not answer for the new one.
    let mut tampered = pkgs.clone();
    tampered[2].sig = Sig::Tampered;
    w.publish(&tampered);
    pad(&w);
    w.registry.clear_log();
    let out = w.verify(&dir, &["--json"]);
    let asked = w
        .registry
        .requests()
        .iter()
        .filter(|r| r.path == "/big")
        .count();
    assert_eq!(asked, 1);
    let doc = report(&out);
    assert_eq!(
        package(&doc, "big", "1.0.2")["registry_signature"]["status"],
        "invalid",
        "{doc:#}"
    );
    assert_ne!(out.status.code(), Some(0));
}

/// Runs `verify` against the fixture with the test trusted root but without `--npm-keys`.
/// `verify` against the fixture registry as the project's own registry (`--registry`), not the
/// public one: its keys are the registry's own, unpinned.
fn verify_unpinned(w: &World, dir: &Path) -> Output {
    run(&[
        "verify".into(),
        dir.display().to_string(),
        "--registry".into(),
        w.registry.url(),
        "--trusted-root".into(),
        w.dir.join("trusted_root.json").display().to_string(),
        "--cache-dir".into(),
        w.dir.join("cache").display().to_string(),
        "--json".into(),
    ])
}

#[test]
fn other_registry_keys_are_used_unpinned_with_a_warning() {
    let w = World::new("unpinned");
    let pkgs = [Pkg::new("solo", "1.0.0")];
    w.publish(&pkgs);
    w.registry.add_keys(
        w.sigstore
            .npm_registry_keys_json(KeyWindow {
                start: T0 - 86_400,
                end: None,
            })
            .into_bytes(),
    );
    let dir = w.project("unpinned", &pkgs);
    // The lockfile resolves from that registry too (no registry-mismatch).
    let lock = dir.join("package-lock.json");
    let text = std::fs::read_to_string(&lock).unwrap().replace(
        "https://registry.npmjs.org/",
        &format!("{}/", w.registry.url().trim_end_matches('/')),
    );
    std::fs::write(&lock, text).unwrap();
    let out = verify_unpinned(&w, &dir);
    assert_eq!(out.status.code(), Some(0));
    let doc = report(&out);
    let p = package(&doc, "solo", "1.0.0");
    assert_eq!(p["registry_signature"]["status"], "verified");
    assert_eq!(p["registry_signature"]["key_source"], "registry-unpinned");
    assert!(
        !has(p, "registry-keys-unpinned", "warn"),
        "hoisted to the run"
    );
    let run_codes: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(run_codes, ["registry-keys-unpinned"]);
    assert_eq!(doc["summary"]["findings"]["warn"], 1);
    assert_eq!(w.registry.count("/-/npm/v1/keys"), 1, "keys fetched once");
    // Keys that cannot be fetched: every package of that registry is unverifiable.
    w.registry.fault("/-/npm/v1/keys", Fault::Status(503));
    let _ = std::fs::remove_dir_all(w.dir.join("cache"));
    let out = verify_unpinned(&w, &dir);
    assert_eq!(out.status.code(), Some(1));
    let doc = report(&out);
    let p = package(&doc, "solo", "1.0.0");
    assert!(has(p, "unverifiable", "deny"), "{:?}", codes(p));
    assert_ne!(p["registry_signature"]["status"], "verified");
}

#[test]
fn version_gone_from_the_registry_and_aliases() {
    let w = World::new("gone");
    let kept = Pkg::new("kept", "1.0.0");
    let real = Pkg::new("string-width", "4.2.3");
    w.publish(&[kept.clone(), real.clone()]);
    let gone = Pkg::new("kept", "0.9.0"); // locked, but the packument lists only 1.0.0
    let mut packages = serde_json::Map::new();
    packages.insert("".into(), json!({"name": "demo", "version": "1.0.0"}));
    for (loc, p) in [
        ("node_modules/kept", &kept),
        ("node_modules/old/node_modules/kept", &gone),
    ] {
        packages.insert(
            loc.into(),
            json!({"version": p.version, "integrity": p.integrity,
                   "resolved": format!("https://registry.npmjs.org/kept/-/kept-{}.tgz", p.version)}),
        );
    }
    packages.insert(
        "node_modules/string-width-cjs".into(),
        json!({"name": "string-width", "version": "4.2.3", "integrity": real.integrity,
               "resolved": "https://registry.npmjs.org/string-width/-/string-width-4.2.3.tgz"}),
    );
    let dir = w.dir.join("gone");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("package-lock.json"),
        serde_json::to_string(&json!({"name": "demo", "version": "1.0.0",
            "lockfileVersion": 3, "requires": true, "packages": packages}))
        .unwrap(),
    )
    .unwrap();
    let out = w.verify(&dir, &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = report(&out);
    assert!(has(
        package(&doc, "kept", "0.9.0"),
        "version-not-in-registry",
        "deny"
    ));
    assert_eq!(
        package(&doc, "kept", "1.0.0")["registry_signature"]["status"],
        "verified"
    );
    let alias = package(&doc, "string-width-cjs", "4.2.3");
    assert_eq!(alias["origin"], "alias");
    assert_eq!(alias["real_name"], "string-width");
    assert_eq!(alias["registry_signature"]["status"], "verified");
}

#[test]
fn node_modules_walk_binds_no_bytes_and_is_never_verified() {
    let w = World::new("walk");
    let pkgs = [Pkg::new("walked", "1.0.0")];
    w.publish(&pkgs);
    let nm = w.dir.join("walk/node_modules/walked");
    std::fs::create_dir_all(&nm).unwrap();
    std::fs::write(
        nm.join("package.json"),
        r#"{"name":"walked","version":"1.0.0"}"#,
    )
    .unwrap();
    std::fs::write(
        w.dir.join("walk/package.json"),
        r#"{"name":"demo","version":"1.0.0","dependencies":{"walked":"1.0.0"}}"#,
    )
    .unwrap();
    let out = w.verify(&w.dir.join("walk/node_modules"), &["--json"]);
    let doc = report(&out);
    assert_eq!(doc["inventory"]["kind"], "node-modules");
    assert_eq!(doc["inventory"]["binds_bytes"], false);
    let run: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(run.contains(&"node-modules-binds-no-bytes"), "{run:?}");
    let p = package(&doc, "walked", "1.0.0");
    assert_eq!(p["registry_signature"]["status"], "verified");
    assert_ne!(p["integrity"]["status"], "verified");
    assert_eq!(
        doc["summary"]["verified"], 0,
        "nothing binds the installed bytes"
    );
}

/// The history engine joins by default: a token publish by a new account and e-mail, without
/// provenance, after releases by trusted publishing with provenance, is denied; `--no-history`
/// leaves only the verification findings.
#[test]
fn history_engine_joins_by_default() {
    let w = World::new("history");
    let day = 86_400;
    let ci_user = json!({"name": "GitHub Actions", "email": "npm-oidc-no-reply@github.com",
                         "trustedPublisher": {"id": "github", "oidcConfigId": "oidc:x"}});
    let mut releases = Vec::new();
    for (i, v) in ["1.0.0", "1.1.0", "1.2.0", "1.3.0"].iter().enumerate() {
        let mut p = Pkg::new("victim", v);
        p.att = Att::AnnouncedMissing; // announced in the packument; only 1.3.0 is installed
        p.npm_user = ci_user.clone();
        p.time = T0 - (40 - 10 * i as i64) * day;
        releases.push(p);
    }
    releases[3].att = Att::Full;
    let mut hijacked = Pkg::new("victim", "1.4.0");
    hijacked.npm_user = json!({"name": "someone", "email": "x@evil.example"});
    hijacked.time = T0;
    releases.push(hijacked.clone());
    w.publish(&releases);

    let good = w.project("history-good", &releases[3..4]);
    let out = w.verify(&good, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out)["packages"]);

    let dir = w.project("history", &[hijacked]);
    let out = w.verify(&dir, &["--json", "--danger-now", "2025-03-02T00:00:00Z"]);
    let doc = report(&out);
    let p = package(&doc, "victim", "1.4.0");
    assert_eq!(out.status.code(), Some(1), "{:?}", codes(p));
    assert_eq!(p["registry_signature"]["status"], "verified");
    let history_codes: Vec<String> = codes(p)
        .into_iter()
        .filter(|(c, _)| c == "provenance-downgrade" || c == "publisher-changed")
        .map(|(c, _)| c)
        .collect();
    assert!(!history_codes.is_empty(), "{:?}", codes(p));
    assert!(codes(p).iter().any(|(_, l)| l == "deny"), "{:?}", codes(p));

    let out = w.verify(&dir, &["--json", "--no-history"]);
    assert_eq!(out.status.code(), Some(0));
    let doc = report(&out);
    let p = package(&doc, "victim", "1.4.0");
    assert!(codes(p)
        .iter()
        .all(|(c, _)| c != "provenance-downgrade" && c != "publisher-changed"));
}

/// The policy file (`npm-provenance.toml` in the project, or `--policy`): levels, `allow`
/// (counted in `summary.suppressed`), exclusions, and its end-of-run findings.
#[test]
fn policy_file_levels_and_exclusions() {
    let w = World::new("policy");
    let plain = Pkg::new("plain", "1.0.0");
    let mut broken = Pkg::new("broken", "1.0.0");
    broken.sig = Sig::Tampered;
    let pkgs = [plain, broken];
    w.publish(&pkgs);
    let dir = w.project("policy", &pkgs);
    let out = w.verify(&dir, &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    std::fs::write(
        dir.join("npm-provenance.toml"),
        r#"
[levels]
"provenance-missing" = "allow"

[[exclusion]]
package = "broken@1.0.0"
code = "registry-signature-invalid"
reason = "test: known bad signature"

[[exclusion]]
package = "never-installed"
reason = "test: matches nothing"
"#,
    )
    .unwrap();
    let out = w.verify(&dir, &["--json"]);
    let doc = report(&out);
    assert_eq!(out.status.code(), Some(0), "{}", doc["findings"]);
    assert_eq!(doc["summary"]["suppressed"], 3, "2 allowed + 1 excluded");
    assert!(codes(package(&doc, "plain", "1.0.0")).is_empty());
    // Still not verified: a policy drops findings, it never makes evidence verified.
    assert_eq!(
        package(&doc, "broken", "1.0.0")["registry_signature"]["status"],
        "invalid"
    );
    assert_eq!(doc["summary"]["verified"], 1);
    let run: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(run, ["policy-rule-unused"]);
    // A broken policy file is exit 2 naming it.
    std::fs::write(
        dir.join("npm-provenance.toml"),
        "[levels]\nno-such-code = \"deny\"\n",
    )
    .unwrap();
    let out = w.verify(&dir, &["--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("npm-provenance.toml"));
}

/// `[[package]]` pins: the verified provenance identity must match; a package pinned to another
/// repository, or without verified provenance, is `pin-mismatch` (deny).
#[test]
fn policy_pins_check_the_verified_identity() {
    let w = World::new("pins");
    let mut built = Pkg::new("built", "1.0.0");
    built.att = Att::Full; // minted by example/project, .github/workflows/release.yml
    let plain = Pkg::new("plain", "1.0.0");
    let pkgs = [built, plain];
    w.publish(&pkgs);
    let dir = w.project("pins", &pkgs);
    let policy = |repo: &str| {
        format!(
            "[[package]]\nname = \"built\"\nrepository = \"{repo}\"\n\n\
             [[package]]\nname = \"plain\"\nrequire-provenance = true\n"
        )
    };
    std::fs::write(
        dir.join("npm-provenance.toml"),
        policy("https://github.com/example/project"),
    )
    .unwrap();
    let doc = report(&w.verify(&dir, &["--json"]));
    assert!(!has(
        package(&doc, "built", "1.0.0"),
        "pin-mismatch",
        "deny"
    ));
    assert!(has(package(&doc, "plain", "1.0.0"), "pin-mismatch", "deny"));
    std::fs::write(
        dir.join("npm-provenance.toml"),
        policy("https://github.com/example/project-evil"),
    )
    .unwrap();
    let out = w.verify(&dir, &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = report(&out);
    assert!(has(package(&doc, "built", "1.0.0"), "pin-mismatch", "deny"));
}

/// `[defaults] fail-level` of the policy file applies unless `--fail-level` is given.
#[test]
fn policy_fail_level_yields_to_the_flag() {
    let w = World::new("faillevel");
    let mut p = Pkg::new("mismatched", "1.0.0");
    p.sig = Sig::Good;
    let pkgs = [p];
    w.publish(&pkgs);
    let dir = w.project("faillevel", &pkgs);
    // provenance-missing is info: fails only at fail level info.
    std::fs::write(
        dir.join("npm-provenance.toml"),
        "[defaults]\nfail-level = \"info\"\n",
    )
    .unwrap();
    assert_eq!(w.verify(&dir, &["--json"]).status.code(), Some(1));
    assert_eq!(
        w.verify(&dir, &["--json", "--fail-level", "deny"])
            .status
            .code(),
        Some(0)
    );
}

/// Metadata relayed by `--metadata-registry` is the public registry's: its signatures are
/// checked against the pinned npm keys, never against keys the relaying source serves. A mirror
/// that signs with a key of its own is refused (fail closed), and its keys are not even fetched.
#[test]
fn metadata_registry_keys_are_never_trusted() {
    let w = World::new("mirror-keys");
    let pkgs = [Pkg::new("solo", "1.0.0")];
    w.publish(&pkgs);
    // The mirror serves keys that would verify its signatures.
    w.registry.add_keys(
        w.sigstore
            .npm_registry_keys_json(KeyWindow {
                start: T0 - 86_400,
                end: None,
            })
            .into_bytes(),
    );
    let dir = w.project("mirror-keys", &pkgs);
    let out = run(&[
        "verify".into(),
        dir.display().to_string(),
        "--metadata-registry".into(),
        w.registry.url(),
        "--trusted-root".into(),
        w.dir.join("trusted_root.json").display().to_string(),
        "--cache-dir".into(),
        w.dir.join("cache").display().to_string(),
        "--json".into(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc = report(&out);
    let p = package(&doc, "solo", "1.0.0");
    assert_ne!(p["registry_signature"]["status"], "verified");
    assert!(has(p, "registry-key-unknown", "deny"), "{:?}", codes(p));
    assert_eq!(
        w.registry.count("/-/npm/v1/keys"),
        0,
        "mirror keys not fetched"
    );
}

/// `--attestations`: `announced` asks only for the versions the packument announces (an
/// unannounced one is "no provenance", as a 404 would say); `auto` on a registry other than
/// the public one, and `all`, ask for every version.
#[test]
fn attestations_are_requested_as_the_flag_says() {
    let w = World::new("att-fetch");
    let mut a = Pkg::new("alpha", "1.0.0");
    a.att = Att::Full;
    let plain = Pkg::new("plain", "0.3.0");
    let pkgs = [a, plain];
    w.publish(&pkgs);
    let dir = w.project("att-fetch", &pkgs);
    let mut reports = Vec::new();
    for (flag, plain_requests) in [("announced", 0), ("auto", 1), ("all", 1)] {
        w.registry.clear_log();
        let _ = std::fs::remove_dir_all(w.dir.join("cache"));
        let out = w.verify(&dir, &["--json", "--attestations", flag]);
        assert_eq!(out.status.code(), Some(0), "{flag}");
        assert_eq!(
            w.registry.count("/-/npm/v1/attestations/plain@0.3.0"),
            plain_requests,
            "{flag}"
        );
        assert_eq!(
            w.registry.count("/-/npm/v1/attestations/alpha@1.0.0"),
            1,
            "{flag}"
        );
        let doc = report(&out);
        let p = package(&doc, "plain", "0.3.0");
        assert_eq!(p["provenance"]["status"], "missing", "{flag}");
        assert!(has(p, "provenance-missing", "info"), "{flag}");
        assert_eq!(
            package(&doc, "alpha", "1.0.0")["provenance"]["status"],
            "verified"
        );
        reports.push(doc);
    }
    // The verdicts do not depend on the flag here (nothing is hidden from the announcement).
    assert_eq!(reports[0], reports[2]);
}
