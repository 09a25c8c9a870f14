//! The policy file's `[[registry]]` entries in `verify`, end to end against the fixture
//! registry configured as the project's registry (`--registry`, not `--metadata-registry`):
//! `signatures = "none"` (not-applicable + one `registry-unsigned` warning), `keys = FILE`
//! (pinned keys, the registry's own keys never fetched), unused entries.

use crate::verify_e2e::{codes, package, report, run, Att, Pkg, Sig, World};
use npm_provenance_testkit::npm::keys_json;
use npm_provenance_testkit::KeyWindow;
use std::path::Path;
use std::process::Output;

/// 2025-03-01T00:00:00Z, the publish time of every synthetic version.
const T0: i64 = 1_740_787_200;

/// `verify DIR --registry FIXTURE --json` with the test trusted root, the given policy file and
/// extra flags; `--danger-now` pins the clock.
fn verify(w: &World, dir: &Path, policy: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<String> = vec![
        "verify".into(),
        dir.display().to_string(),
        "--registry".into(),
        w.registry.url(),
        "--trusted-root".into(),
        w.dir.join("trusted_root.json").display().to_string(),
        "--policy".into(),
        policy.display().to_string(),
        "--cache-dir".into(),
        w.dir.join("cache").display().to_string(),
        "--danger-now".into(),
        "2025-06-01T00:00:00Z".into(),
        "--json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    run(&args)
}

fn run_codes(doc: &serde_json::Value) -> Vec<(String, String)> {
    codes(doc)
}

fn stdout(out: &Output) -> String {
    format!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn unsigned_tree(w: &World) -> std::path::PathBuf {
    let mut a = Pkg::new("internal-a", "1.0.0");
    a.sig = Sig::None;
    let mut b = Pkg::new("internal-b", "2.0.0");
    b.sig = Sig::None;
    b.att = Att::Full;
    let pkgs = [a, b];
    w.publish(&pkgs);
    w.project("unsigned", &pkgs)
}

#[test]
fn unsigned_registry_is_not_applicable_with_one_warning() {
    let w = World::new("reg-unsigned");
    let dir = unsigned_tree(&w);
    let policy = w.dir.join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "# a private registry that does not sign\n[[registry]]\nurl = \"{}\"\nsignatures = \"none\"\n",
            w.registry.url()
        ),
    )
    .unwrap();
    let npm_keys = w.dir.join("npm-keys.json").display().to_string();
    let out = verify(&w, &dir, &policy, &["--npm-keys", &npm_keys]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let doc = report(&out);
    let warns: Vec<_> = run_codes(&doc)
        .into_iter()
        .filter(|(c, _)| c == "registry-unsigned")
        .collect();
    assert_eq!(warns, [("registry-unsigned".into(), "warn".into())]);
    for (name, version) in [("internal-a", "1.0.0"), ("internal-b", "2.0.0")] {
        let p = package(&doc, name, version);
        assert_eq!(p["registry_signature"]["status"], "not-applicable", "{p:#}");
        assert!(
            !codes(p)
                .iter()
                .any(|(c, _)| c == "registry-signature-missing"),
            "{p:#}"
        );
        assert!(!codes(p).iter().any(|(_, l)| l == "deny"), "{p:#}");
    }
    // Attestations that are present are still verified (with the pinned npm keys).
    let b = package(&doc, "internal-b", "2.0.0");
    assert_eq!(b["provenance"]["status"], "verified", "{b:#}");
    assert_eq!(b["publish_attestation"]["status"], "verified", "{b:#}");
    // Nothing signed by the registry binds the bytes: never counted as verified.
    assert_eq!(doc["summary"]["verified"], 0, "{:#}", doc["summary"]);
    assert_eq!(doc["summary"]["missing_signature"], 0);
    // No keys of a registry that does not sign, and no "stripped" deny for it.
    assert_eq!(w.registry.count("/-/npm/v1/keys"), 0);
    assert!(!run_codes(&doc)
        .iter()
        .any(|(c, _)| c == "registry-metadata-stripped"));
}

#[test]
fn unsigned_registry_without_the_rule_is_denied() {
    let w = World::new("reg-unsigned-norule");
    let dir = unsigned_tree(&w);
    let policy = w.dir.join("policy.toml");
    std::fs::write(&policy, "# empty\n").unwrap();
    let npm_keys = w.dir.join("npm-keys.json").display().to_string();
    let out = verify(&w, &dir, &policy, &["--npm-keys", &npm_keys]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let doc = report(&out);
    let a = package(&doc, "internal-a", "1.0.0");
    assert_eq!(a["registry_signature"]["status"], "missing");
    assert!(codes(a).contains(&("registry-signature-missing".into(), "deny".into())));
    assert!(!run_codes(&doc)
        .iter()
        .any(|(c, _)| c == "registry-unsigned"));
}

#[test]
fn pinned_keys_file_verifies_without_fetching_the_registry_keys() {
    let w = World::new("reg-keys");
    let mut a = Pkg::new("mirrored", "1.0.0");
    a.att = Att::Full;
    let b = Pkg::new("plain", "3.1.4");
    let pkgs = [a, b];
    w.publish(&pkgs);
    let dir = w.project("keys", &pkgs);
    let policy = w.dir.join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[[registry]]\nurl = \"{}\"\nkeys = \"npm-keys.json\"   # relative to this file\n\n\
             [[registry]]\nurl = \"https://unused.example/npm/\"\nsignatures = \"none\"\n",
            w.registry.url()
        ),
    )
    .unwrap();
    let out = verify(&w, &dir, &policy, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let doc = report(&out);
    for (name, version) in [("mirrored", "1.0.0"), ("plain", "3.1.4")] {
        let p = package(&doc, name, version);
        assert_eq!(p["registry_signature"]["status"], "verified", "{p:#}");
        assert_eq!(p["registry_signature"]["key_source"], "pinned", "{p:#}");
    }
    assert_eq!(doc["summary"]["verified"], 2);
    assert_eq!(w.registry.count("/-/npm/v1/keys"), 0);
    let run = run_codes(&doc);
    assert!(
        !run.iter().any(|(c, _)| c == "registry-keys-unpinned"),
        "{run:?}"
    );
    // The entry for a registry this run never used is reported, once, and the used one is not.
    let unused: Vec<_> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "policy-rule-unused")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(unused.len(), 1, "{unused:?}");
    assert!(
        unused[0].contains("https://unused.example/npm/"),
        "{unused:?}"
    );
}

#[test]
fn pinned_keys_reject_a_signature_by_another_key() {
    let w = World::new("reg-keys-other");
    let pkgs = [Pkg::new("mirrored", "1.0.0")];
    w.publish(&pkgs);
    let dir = w.project("other", &pkgs);
    let other = w.sigstore.derived_key("some other registry key");
    std::fs::write(
        w.dir.join("other-keys.json"),
        keys_json(
            &other,
            KeyWindow {
                start: T0 - 86_400,
                end: None,
            },
        )
        .to_string(),
    )
    .unwrap();
    let policy = w.dir.join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[[registry]]\nurl = \"{}\"\nkeys = \"other-keys.json\"\n",
            w.registry.url()
        ),
    )
    .unwrap();
    let out = verify(&w, &dir, &policy, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let doc = report(&out);
    let p = package(&doc, "mirrored", "1.0.0");
    assert!(
        codes(p).contains(&("registry-key-unknown".into(), "deny".into())),
        "{p:#}"
    );
    assert_ne!(p["registry_signature"]["status"], "verified");
    assert_eq!(w.registry.count("/-/npm/v1/keys"), 0);
    // `--npm-keys` on the command line wins over the policy file's keys (flags > file).
    let npm_keys = w.dir.join("npm-keys.json").display().to_string();
    let out = verify(&w, &dir, &policy, &["--npm-keys", &npm_keys]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let doc = report(&out);
    let p = package(&doc, "mirrored", "1.0.0");
    assert_eq!(p["registry_signature"]["status"], "verified", "{p:#}");
    assert_eq!(p["registry_signature"]["key_source"], "user-file", "{p:#}");
}

#[test]
fn malformed_keys_file_is_exit_2_naming_it() {
    let w = World::new("reg-keys-bad");
    let pkgs = [Pkg::new("mirrored", "1.0.0")];
    w.publish(&pkgs);
    let dir = w.project("bad", &pkgs);
    std::fs::write(w.dir.join("broken-keys.json"), "{\"keys\": 7}").unwrap();
    let policy = w.dir.join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[[registry]]\nurl = \"{}\"\nkeys = \"broken-keys.json\"\n",
            w.registry.url()
        ),
    )
    .unwrap();
    let out = verify(&w, &dir, &policy, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("broken-keys.json"),
        "{}",
        stdout(&out)
    );
    assert!(
        w.registry.requests().is_empty(),
        "nothing fetched before exit 2"
    );
}

#[test]
fn packages_of_an_unsigned_registry_can_be_pinned() {
    let w = World::new("reg-unsigned-pin");
    let dir = unsigned_tree(&w);
    let policy = dir.join("npm-provenance.toml");
    let original = format!(
        "[[registry]]\nurl = \"{}\"\nsignatures = \"none\"\n",
        w.registry.url()
    );
    std::fs::write(&policy, &original).unwrap();
    let args: Vec<String> = [
        "pin",
        &dir.display().to_string(),
        "--registry",
        &w.registry.url(),
        "--trusted-root",
        &w.dir.join("trusted_root.json").display().to_string(),
        "--npm-keys",
        &w.dir.join("npm-keys.json").display().to_string(),
        "--cache-dir",
        &w.dir.join("cache").display().to_string(),
        "--danger-now",
        "2025-06-01T00:00:00Z",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = std::fs::read_to_string(&policy).unwrap();
    assert!(text.starts_with(&original), "{text}");
    // internal-a: no provenance, its publisher; internal-b: its verified provenance.
    assert!(
        text.contains("name = \"internal-a\"\nrequire-provenance = false\npublishers = [\"maintainer <maintainer@example.com>\"]"),
        "{text}"
    );
    assert!(
        text.contains("name = \"internal-b\"\nrepository = \"https://github.com/example/project\""),
        "{text}"
    );
}
