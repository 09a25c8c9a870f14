//! `npm-provenance pin` end to end: a fixture tree (test Sigstore, some packages with provenance
//! from various build identities, some without) served by the fixture registry; the pinned file
//! then gates a new release from another repository, workflow or publisher (`pin-mismatch`).
//! Crash safety of the write is `util::write_atomic`'s, tested on `npm-provenance.toml` itself by
//! `crash_safety::policy_file_writes_survive_kill_mid_write`.

use crate::verify_e2e::World;
use crate::verify_e2e::{codes, lockfile, package, report, rfc3339, run, sha512_hex_of, Pkg, Sig};
use npm_provenance_testkit::Identity;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

const NOW: &str = "2025-06-01T00:00:00Z";

/// A version and who built it: `Some((repo, workflow))` for verified provenance.
struct Release {
    pkg: Pkg,
    build: Option<(&'static str, &'static str)>,
}

fn with_provenance(
    name: &str,
    version: &str,
    repo: &'static str,
    workflow: &'static str,
) -> Release {
    Release {
        pkg: Pkg::new(name, version),
        build: Some((repo, workflow)),
    }
}

fn without_provenance(name: &str, version: &str, publisher: &str) -> Release {
    let mut pkg = Pkg::new(name, version);
    pkg.npm_user = json!({"name": publisher, "email": format!("{publisher}@example.com")});
    Release { pkg, build: None }
}

/// Serves one packument per name with every release in `releases` (registry signatures by the
/// test npm key, over another integrity for `Sig::Tampered`), and the attestations of the
/// releases with a build identity.
fn publish(w: &World, releases: &[Release]) {
    let mut by_name: BTreeMap<&str, Vec<&Release>> = BTreeMap::new();
    for r in releases {
        by_name.entry(&r.pkg.name).or_default().push(r);
    }
    for (name, rs) in by_name {
        let mut versions = serde_json::Map::new();
        let mut time = serde_json::Map::new();
        for r in rs {
            let p = &r.pkg;
            let signed = match p.sig {
                Sig::Tampered => npm_provenance_testkit::fixture_registry::sri_sha512(b"other"),
                _ => p.registry_integrity.clone(),
            };
            let mut dist = json!({"integrity": p.registry_integrity});
            if p.sig != Sig::None {
                dist["signatures"] =
                    json!([w.sigstore.registry_signature(name, &p.version, &signed)]);
            }
            if let Some((repo, workflow)) = r.build {
                dist["attestations"] = json!({
                    "url": format!("https://registry.npmjs.org/-/npm/v1/attestations/{name}@{}", p.version),
                    "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}
                });
                let id = Identity::github_actions(repo, workflow, "refs/heads/main");
                let hex = sha512_hex_of(&p.integrity);
                let publish = w.sigstore.mint_publish(name, &p.version, &hex, p.time);
                let provenance =
                    w.sigstore
                        .mint_provenance(&id, name, &p.version, &hex, p.time - 2);
                let body = json!({"attestations": [
                    {"predicateType": "https://github.com/npm/attestation/tree/main/specs/publish/v0.1", "bundle": publish.bundle},
                    {"predicateType": "https://slsa.dev/provenance/v1", "bundle": provenance.bundle},
                ]});
                w.registry
                    .add_attestations(name, &p.version, serde_json::to_vec(&body).unwrap());
            }
            versions.insert(
                p.version.clone(),
                json!({"name": name, "version": p.version, "dist": dist, "_npmUser": p.npm_user}),
            );
            time.insert(p.version.clone(), json!(rfc3339(p.time)));
        }
        let doc = json!({"name": name, "versions": versions, "time": time});
        w.registry
            .add_packument(name, serde_json::to_vec(&doc).unwrap(), None);
    }
}

/// A project installing `releases`.
fn project(w: &World, dir: &str, releases: &[&Release]) -> PathBuf {
    let pkgs: Vec<Pkg> = releases.iter().map(|r| r.pkg.clone()).collect();
    let d = w.dir.join(dir);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("package-lock.json"), lockfile(&pkgs)).unwrap();
    d
}

/// The flags every run shares: the fixture registry (as a metadata relay), the test trust
/// material, a fresh cache per run, a pinned clock.
fn common(w: &World, cache: &str) -> Vec<String> {
    vec![
        "--metadata-registry".into(),
        w.registry.url(),
        "--trusted-root".into(),
        w.dir.join("trusted_root.json").display().to_string(),
        "--npm-keys".into(),
        w.dir.join("npm-keys.json").display().to_string(),
        "--cache-dir".into(),
        w.dir.join(cache).display().to_string(),
        "--danger-now".into(),
        NOW.into(),
    ]
}

fn pin(w: &World, dir: &Path, cache: &str, extra: &[&str]) -> Output {
    let mut args = vec!["pin".to_string(), dir.display().to_string()];
    args.extend(common(w, cache));
    args.extend(extra.iter().map(|s| s.to_string()));
    run(&args)
}

fn verify(w: &World, dir: &Path, cache: &str) -> Output {
    let mut args = vec![
        "verify".to_string(),
        dir.display().to_string(),
        "--json".into(),
    ];
    args.extend(common(w, cache));
    run(&args)
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn pin_mismatches(p: &Value) -> Vec<String> {
    p["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "pin-mismatch")
        .inspect(|f| assert_eq!(f["level"], "deny"))
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn pinned_tree_then_releases_from_other_identities_are_pin_mismatches() {
    let w = World::new("pin-accept");
    let v1 = [
        with_provenance(
            "alpha",
            "1.0.0",
            "example/alpha",
            ".github/workflows/release.yml",
        ),
        with_provenance(
            "@scope/gamma",
            "2.0.0",
            "example/gamma",
            ".github/workflows/release.yml",
        ),
        without_provenance("beta", "1.0.0", "maintainer"),
        without_provenance("delta", "0.1.0", "someone"),
    ];
    publish(&w, &v1);
    let dir = project(&w, "v1", &v1.iter().collect::<Vec<_>>());
    let out = pin(&w, &dir, "cache-pin", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let file = dir.join("npm-provenance.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let pinned: toml_doc::Doc = toml_doc::parse(&text);
    let alpha = pinned.rule("alpha");
    assert_eq!(alpha["repository"], "https://github.com/example/alpha");
    assert_eq!(alpha["workflow"], ".github/workflows/release.yml");
    assert_eq!(
        alpha["issuer"],
        "https://token.actions.githubusercontent.com"
    );
    assert_eq!(alpha["require-provenance"], true);
    assert!(alpha["repository-id"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .is_ok());
    assert!(alpha.get("publishers").is_none());
    let beta = pinned.rule("beta");
    assert_eq!(beta["require-provenance"], false);
    assert_eq!(
        beta["publishers"],
        json!(["maintainer <maintainer@example.com>"])
    );
    assert_eq!(
        pinned.rule("@scope/gamma")["repository"],
        "https://github.com/example/gamma"
    );
    assert_eq!(pinned.names(), ["@scope/gamma", "alpha", "beta", "delta"]);
    assert!(text.contains("# pinned by npm-provenance pin on 2025-06-01 from alpha@1.0.0"));
    // The same tree verifies clean under its own pins.
    let out = verify(&w, &dir, "cache-v1");
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    // Pinning again adds nothing and leaves the file alone.
    let out = pin(&w, &dir, "cache-pin2", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);

    // New releases: alpha from another repository, gamma from another workflow, beta by
    // another publisher; delta unchanged.
    let mut v2: Vec<Release> = v1.into_iter().collect();
    v2.push(with_provenance(
        "alpha",
        "1.1.0",
        "evil/alpha",
        ".github/workflows/release.yml",
    ));
    v2.push(with_provenance(
        "@scope/gamma",
        "2.1.0",
        "example/gamma",
        ".github/workflows/other.yml",
    ));
    v2.push(without_provenance("beta", "1.1.0", "mallory"));
    for r in v2.iter_mut().skip(4) {
        // Published a month after the pinned releases.
        r.pkg.time += 86_400 * 30;
    }
    publish(&w, &v2);
    let installed: Vec<&Release> = v2
        .iter()
        .filter(|r| {
            matches!(
                (r.pkg.name.as_str(), r.pkg.version.as_str()),
                ("alpha", "1.1.0") | ("@scope/gamma", "2.1.0") | ("beta", "1.1.0") | ("delta", _)
            )
        })
        .collect();
    std::fs::write(
        dir.join("package-lock.json"),
        lockfile(&installed.iter().map(|r| r.pkg.clone()).collect::<Vec<_>>()),
    )
    .unwrap();
    let out = verify(&w, &dir, "cache-v2");
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let doc = report(&out);
    let m = pin_mismatches(package(&doc, "alpha", "1.1.0"));
    assert!(
        m.iter().any(
            |s| s.contains("repository pinned to https://github.com/example/alpha")
                && s.contains("seen https://github.com/evil/alpha")
        ),
        "{m:?}"
    );
    let m = pin_mismatches(package(&doc, "@scope/gamma", "2.1.0"));
    assert!(
        m.iter().any(
            |s| s.contains("workflow pinned to .github/workflows/release.yml")
                && s.contains("other.yml")
        ),
        "{m:?}"
    );
    let m = pin_mismatches(package(&doc, "beta", "1.1.0"));
    assert!(
        m.iter()
            .any(|s| s.contains("maintainer <maintainer@example.com>")
                && s.contains("seen mallory <mallory@example.com>")),
        "{m:?}"
    );
    assert!(pin_mismatches(package(&doc, "delta", "0.1.0")).is_empty());

    // Trust on first use never trusts what the publishing history flags: a fresh pin of the
    // new tree skips the release by a publisher not established in the package and the
    // release from another repository than its verified baseline (exit 0: both verified), and
    // pins the rest.
    let fresh = w.dir.join("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    std::fs::copy(
        dir.join("package-lock.json"),
        fresh.join("package-lock.json"),
    )
    .unwrap();
    let out = pin(&w, &fresh, "cache-fresh", &["--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("beta not pinned") && stderr.contains("publisher-changed"),
        "{}",
        show(&out)
    );
    assert!(!fresh.join("npm-provenance.toml").exists());
    let names = toml_doc::parse(&String::from_utf8_lossy(&out.stdout)).names_owned();
    assert!(!names.contains(&"beta".to_string()), "{names:?}");
    assert!(
        stderr.contains("alpha not pinned") && stderr.contains("identity-changed"),
        "{}",
        show(&out)
    );
    assert!(!names.contains(&"alpha".to_string()), "{names:?}");
    assert!(names.contains(&"delta".to_string()), "{names:?}");
}

#[test]
fn tampered_package_is_not_pinned_and_exits_1() {
    let w = World::new("pin-tampered");
    let mut bad = without_provenance("tampered", "1.0.0", "maintainer");
    bad.pkg.sig = Sig::Tampered;
    let releases = [
        bad,
        without_provenance("fine", "1.0.0", "maintainer"),
        with_provenance(
            "built",
            "3.0.0",
            "example/built",
            ".github/workflows/ci.yml",
        ),
    ];
    publish(&w, &releases);
    let dir = project(&w, "t", &releases.iter().collect::<Vec<_>>());
    let out = pin(&w, &dir, "cache", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("tampered@1.0.0"), "{}", show(&out));
    let text = std::fs::read_to_string(dir.join("npm-provenance.toml")).unwrap();
    let doc = toml_doc::parse(&text);
    assert_eq!(doc.names(), ["built", "fine"]);
}

#[test]
fn hand_written_file_keeps_comments_order_and_existing_rules() {
    let w = World::new("pin-golden");
    let releases = [
        without_provenance("beta", "1.0.0", "maintainer"),
        without_provenance("kept", "2.0.0", "maintainer"),
        with_provenance(
            "alpha",
            "1.0.0",
            "example/alpha",
            ".github/workflows/release.yml",
        ),
    ];
    publish(&w, &releases);
    let dir = project(&w, "g", &releases.iter().collect::<Vec<_>>());
    let original = "\
# Our supply-chain policy. Reviewed by security, 2025-05.

[defaults]
fail-level = \"deny\"   # CI gate

[levels]
\"registry-mismatch\" = \"info\"

# kept is published by hand; do not touch
[[package]]
name = \"kept\"
publishers = [\"maintainer <maintainer@example.com>\", \"<backup@example.com>\"]

[[exclusion]]
package = \"nothing@1.0.0\"
reason = \"an exclusion that matches nothing\"";
    let file = dir.join("npm-provenance.toml");
    std::fs::write(&file, original).unwrap();
    // --dry-run prints the would-be file and writes nothing.
    let dry = pin(&w, &dir, "cache-dry", &["--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", show(&dry));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
    let out = pin(&w, &dir, "cache", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(String::from_utf8_lossy(&dry.stdout), text);
    // The hand-written part byte for byte, then the new rules sorted by name.
    let rest = text
        .strip_prefix(original)
        .unwrap_or_else(|| panic!("the original text was changed:\n{text}"));
    let id = verified_repository_id(&w, &dir);
    let expected = format!(
        "

# pinned by npm-provenance pin on 2025-06-01 from alpha@1.0.0 (verified provenance)
[[package]]
name = \"alpha\"
repository = \"https://github.com/example/alpha\"
repository-id = \"{id}\"
workflow = \".github/workflows/release.yml\"
issuer = \"https://token.actions.githubusercontent.com\"
require-provenance = true

# pinned by npm-provenance pin on 2025-06-01 from beta@1.0.0 (no provenance; publishers from the registry's _npmUser)
[[package]]
name = \"beta\"
require-provenance = false
publishers = [\"maintainer <maintainer@example.com>\"]
"
    );
    assert_eq!(rest, expected);
}

/// The repository id `verify` reports for alpha@1.0.0 (the test identity derives it from the
/// repository name).
fn verified_repository_id(w: &World, dir: &Path) -> String {
    let doc = report(&verify(w, dir, "cache-id"));
    let p = package(&doc, "alpha", "1.0.0");
    assert_eq!(p["provenance"]["status"], "verified", "{}", codes(p).len());
    p["identity"]["source_repository_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn invalid_policy_file_is_exit_2_and_left_alone() {
    let w = World::new("pin-invalid");
    let releases = [without_provenance("beta", "1.0.0", "maintainer")];
    publish(&w, &releases);
    let dir = project(&w, "i", &releases.iter().collect::<Vec<_>>());
    let file = dir.join("npm-provenance.toml");
    let original = "[[package]]\nname = \"beta\"\ncolour = \"red\"\n";
    std::fs::write(&file, original).unwrap();
    let out = pin(&w, &dir, "cache", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 3, column 1"),
        "{}",
        show(&out)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
    assert!(w.registry.requests().is_empty());
}

/// Reads a pinned policy file back as plain data (through the TOML parser the project uses).
mod toml_doc {
    use serde_json::{json, Value};

    pub struct Doc(Vec<Value>);

    pub fn parse(text: &str) -> Doc {
        let doc: toml_edit::DocumentMut = text.parse().expect("valid TOML");
        let rules = doc
            .get("package")
            .and_then(|i| i.as_array_of_tables())
            .map(|aot| aot.iter().map(table).collect())
            .unwrap_or_default();
        Doc(rules)
    }

    fn table(t: &toml_edit::Table) -> Value {
        let mut m = serde_json::Map::new();
        for (k, v) in t.iter() {
            m.insert(k.to_string(), value(v.as_value().expect("a value")));
        }
        Value::Object(m)
    }

    fn value(v: &toml_edit::Value) -> Value {
        match v {
            toml_edit::Value::String(s) => json!(s.value()),
            toml_edit::Value::Boolean(b) => json!(b.value()),
            toml_edit::Value::Integer(i) => json!(i.value()),
            toml_edit::Value::Array(a) => Value::Array(a.iter().map(value).collect()),
            other => panic!("unexpected value {other}"),
        }
    }

    impl Doc {
        pub fn rule(&self, name: &str) -> &Value {
            self.0
                .iter()
                .find(|r| r["name"] == name)
                .unwrap_or_else(|| panic!("no rule for {name}"))
        }

        pub fn names_owned(&self) -> Vec<String> {
            self.names().into_iter().map(String::from).collect()
        }

        pub fn names(&self) -> Vec<&str> {
            self.0.iter().map(|r| r["name"].as_str().unwrap()).collect()
        }
    }
}
