//! `npm-provenance inspect` from files: text and JSON output, exit codes, escaping.

use npm_provenance_testkit::corpus::corpus_dir;
use npm_provenance_testkit::fixture_registry::FixtureRegistry;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

const NUXT_PACKUMENT: &str = "provenance-action/npm-registry__metadata__nuxt.json";

fn nuxt_attestations(version: &str) -> String {
    format!("provenance-action/npm-registry__attestations__npm-v1__nuxt@{version}.json")
}

fn inspect(args: &[&str]) -> Output {
    crate::common::npm_provenance()
        .arg("inspect")
        .args(args)
        .output()
        .unwrap()
}

fn path(dir: &Path, rel: &str) -> String {
    dir.join(rel).display().to_string()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn codes(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("npmprov-inspect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn nuxt_412_json_is_fully_verified() {
    let Some(dir) = corpus_dir("nuxt_412_json_is_fully_verified") else {
        return;
    };
    let out = inspect(&[
        "nuxt@4.1.2",
        "--packument",
        &path(&dir, NUXT_PACKUMENT),
        "--attestations",
        &path(&dir, &nuxt_attestations("4.1.2")),
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(&out);
    assert_eq!(doc["schema"], "npm-provenance/inspect/v1");
    assert_eq!(doc["package"]["name"], "nuxt");
    assert_eq!(doc["package"]["version"], "4.1.2");
    let ev = &doc["evidence"];
    for part in [
        "registry_signature",
        "publish_attestation",
        "provenance",
        "integrity",
    ] {
        assert_eq!(ev[part]["status"], "verified", "{part}");
    }
    assert_eq!(ev["registry_signature"]["key_source"], "pinned");
    assert_eq!(ev["published"]["source"], "rekor");
    assert!(ev["published"]["time"]
        .as_str()
        .unwrap()
        .starts_with("2025-09-12T21:4"));
    let id = &ev["identity"];
    assert_eq!(id["source_repository_uri"], "https://github.com/nuxt/nuxt");
    assert_eq!(id["workflow_path"], ".github/workflows/release.yml");
    assert_eq!(id["ref"], "refs/heads/main");
    assert_eq!(id["trigger"], "pull_request_target");
    assert_eq!(id["npm_user"]["trusted_publisher"], "github");
    assert_eq!(doc["findings"], serde_json::json!([]));
}

#[test]
fn nuxt_3130_text_summary() {
    let Some(dir) = corpus_dir("nuxt_3130_text_summary") else {
        return;
    };
    let out = inspect(&[
        "nuxt@3.13.0",
        "--packument",
        &path(&dir, NUXT_PACKUMENT),
        "--attestations",
        &path(&dir, &nuxt_attestations("3.13.0")),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("nuxt@3.13.0\n"), "{text}");
    for needle in [
        "provenance           verified",
        "built from           https://github.com/nuxt/nuxt",
        "74ef96d096d0045fd00fccd880c1dbbfea51e22a",
        ".github/workflows/release.yml",
        "refs/tags/v3.13.0",
        "danielroe <daniel@roe.dev>",
        "(rekor)",
        "findings: none",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from\n{text}");
    }
}

#[test]
fn attestations_only_is_not_checked_but_passes_at_deny() {
    let Some(dir) = corpus_dir("attestations_only") else {
        return;
    };
    let att = path(&dir, "pkgxray/attestation-actions-core-1.11.1.json");
    let tgz = path(&dir, "npm-registry-tarballs/actions_core-1.11.1.tgz");
    let out = inspect(&[
        "@actions/core@1.11.1",
        "--attestations",
        &att,
        "--tarball",
        &tgz,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    assert_eq!(doc["evidence"]["provenance"]["status"], "verified");
    assert_eq!(
        doc["evidence"]["registry_signature"]["status"],
        "not-checked"
    );
    assert_eq!(codes(&doc), vec!["not-checked"]);
    assert_eq!(doc["findings"][0]["level"], "warn");
    // The same at --fail-level warn fails.
    let out = inspect(&[
        "@actions/core@1.11.1",
        "--attestations",
        &att,
        "--tarball",
        &tgz,
        "--fail-level",
        "warn",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn negatives_exit_1_with_their_finding() {
    let Some(dir) = corpus_dir("negatives_exit_1") else {
        return;
    };
    let cases = [
        (
            "gundam-visor@1.0.1",
            "slsa-verifier/cli-testdata-npm-gha/gundam-visor-cli-v1-tag-invalidsigprov.tgz.json",
            "provenance-invalid",
        ),
        (
            "gundam-visor@1.0.1",
            "slsa-verifier/cli-testdata-npm-gha/gundam-visor-cli-v1-tag-invalidsigpub.tgz.json",
            "publish-attestation-invalid",
        ),
        (
            "sigstore@0.4.0",
            "pacote/sigstore-fixtures/mismatched-subject-name-attestations.json",
            "subject-mismatch",
        ),
    ];
    for (spec, file, code) in cases {
        let out = inspect(&[spec, "--attestations", &path(&dir, file), "--json"]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        let doc = json(&out);
        assert!(
            codes(&doc).contains(&code.to_owned()),
            "{file}: {:?}",
            codes(&doc)
        );
        let f = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == code)
            .unwrap();
        assert_eq!(f["level"], "deny");
        assert!(f["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // A wrong expected integrity.
    let out = inspect(&[
        "nuxt@4.1.2",
        "--packument",
        &path(&dir, NUXT_PACKUMENT),
        "--integrity",
        "sha512-NZlPGlMav18KXWiOmTguQtH5lcrwooPniWXM3Ca4c9spsMRu3wyWLlN8wiI/cK+lEu3rQyKCGSA75nFVK4Ew3w==",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(codes(&json(&out)).contains(&"integrity-mismatch".to_owned()));
    // A version the packument does not list.
    let out = inspect(&[
        "nuxt@99.0.0",
        "--packument",
        &path(&dir, NUXT_PACKUMENT),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(codes(&json(&out)).contains(&"version-not-in-registry".to_owned()));
}

#[test]
fn registry_strings_are_escaped_in_text() {
    let Some(dir) = corpus_dir("registry_strings_are_escaped") else {
        return;
    };
    let mut p: Value =
        serde_json::from_slice(&std::fs::read(dir.join(NUXT_PACKUMENT)).unwrap()).unwrap();
    p["versions"]["4.1.2"]["_npmUser"]["email"] =
        Value::String("x\n::error::pwned\u{1b}[31m".into());
    let file = temp_file("nuxt-evil.json", &serde_json::to_vec(&p).unwrap());
    let out = inspect(&["nuxt@4.1.2", "--packument", file.to_str().unwrap()]);
    // _npmUser is not signed: the registry signature still verifies.
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.lines().any(|l| l.starts_with("::error::")), "{text}");
    assert!(!text.contains('\u{1b}'));
    assert!(text.contains("x\\u{a}::error::pwned"));
}

#[test]
fn unusable_inputs_are_exit_2_naming_the_file() {
    let Some(dir) = corpus_dir("unusable_inputs") else {
        return;
    };
    let bad = temp_file("bad-attestations.json", b"{\"attestations\": 3}");
    let out = inspect(&[
        "sigstore@0.4.0",
        "--attestations",
        bad.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let doc = json(&out);
    assert_eq!(doc["schema"], "npm-provenance/error/v1");
    assert_eq!(doc["error"]["path"], bad.display().to_string());
    let out = inspect(&[
        "sigstore@0.4.0",
        "--packument",
        "/nonexistent/packument.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/packument.json"));
    // A packument of another package.
    let out = inspect(&["sigstore@0.4.0", "--packument", &path(&dir, NUXT_PACKUMENT)]);
    assert_eq!(out.status.code(), Some(2));
    for args in [
        vec!["not-a-spec", "--tarball", "x"],
        vec![
            "nuxt@4.1.2",
            "--packument",
            &path(&dir, NUXT_PACKUMENT),
            "--integrity",
            "md5-abc",
        ],
        vec![
            "nuxt@4.1.2",
            "--packument",
            &path(&dir, NUXT_PACKUMENT),
            "--fail-level",
            "error",
        ],
        vec![
            "nuxt@4.1.2",
            "--packument",
            &path(&dir, NUXT_PACKUMENT),
            "--format",
            "sarif",
        ],
    ] {
        assert_eq!(inspect(&args).status.code(), Some(2), "{args:?}");
    }
}

/// `inspect` against a registry on 127.0.0.1, with its own HOME and cache.
fn inspect_online(registry: &str, args: &[&str]) -> Output {
    let home = std::env::temp_dir().join(format!("npmprov-inspect-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let cache = tempfile_dir("cache");
    let out = crate::common::npm_provenance()
        .arg("inspect")
        .args(args)
        .args([
            "--registry",
            registry,
            "--cache-dir",
            cache.to_str().unwrap(),
        ])
        .env("HOME", &home)
        .env_remove("npm_config_registry")
        .env_remove("NPM_CONFIG_REGISTRY")
        .current_dir(&home)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&cache);
    out
}

fn tempfile_dir(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "npmprov-inspect-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn online_inspect_through_the_registry_client() {
    let Some(dir) = corpus_dir("online_inspect") else {
        return;
    };
    let reg = FixtureRegistry::start();
    reg.add_packument(
        "nuxt",
        std::fs::read(dir.join(NUXT_PACKUMENT)).unwrap(),
        None,
    );
    reg.add_attestations(
        "nuxt",
        "4.1.2",
        std::fs::read(dir.join(nuxt_attestations("4.1.2"))).unwrap(),
    );
    reg.add_keys(std::fs::read(dir.join("derived/npm-v1-keys.from-corepack.json")).unwrap());
    let out = inspect_online(&reg.url(), &["nuxt@4.1.2", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(&out);
    for part in [
        "registry_signature",
        "publish_attestation",
        "provenance",
        "integrity",
    ] {
        assert_eq!(
            doc["evidence"][part]["status"], "verified",
            "{part}: {doc:#}"
        );
    }
    // Not the public registry, no --npm-keys: the registry's own keys, reported unpinned.
    assert_eq!(
        doc["evidence"]["registry_signature"]["key_source"],
        "registry-unpinned"
    );
    assert_eq!(codes(&doc), vec!["registry-keys-unpinned"]);
    assert_eq!(
        doc["evidence"]["identity"]["npm_user"]["trusted_publisher"],
        "github"
    );
    // The attestations came from the configured registry, not the host in dist.attestations.url.
    assert_eq!(reg.count("/-/npm/v1/attestations/nuxt@4.1.2"), 1);

    // Announced attestations the registry does not serve (404).
    let out = inspect_online(&reg.url(), &["nuxt@3.13.0", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    assert!(
        codes(&doc).contains(&"attestations-missing".to_owned()),
        "{:?}",
        codes(&doc)
    );
    assert_eq!(doc["evidence"]["registry_signature"]["status"], "verified");

    // A version the registry does not list.
    let out = inspect_online(&reg.url(), &["nuxt@99.0.0", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(codes(&json(&out)).contains(&"version-not-in-registry".to_owned()));
}

#[test]
fn online_inspect_with_an_unreachable_registry_is_unverifiable_not_an_error() {
    // A port nothing listens on: every fetch fails; the report is still complete (exit 1).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let out = inspect_online(&url, &["nuxt@4.1.2", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(&out);
    assert!(
        codes(&doc).contains(&"unverifiable".to_owned()),
        "{:?}",
        codes(&doc)
    );
    for part in ["registry_signature", "publish_attestation", "provenance"] {
        assert_ne!(doc["evidence"][part]["status"], "verified", "{part}");
    }
}

#[test]
fn output_file_is_written() {
    let Some(dir) = corpus_dir("output_file_is_written") else {
        return;
    };
    let target =
        std::env::temp_dir().join(format!("npmprov-inspect-out-{}.json", std::process::id()));
    let out = inspect(&[
        "nuxt@3.13.0",
        "--packument",
        &path(&dir, NUXT_PACKUMENT),
        "--json",
        "--output",
        target.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let doc: Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert_eq!(doc["evidence"]["registry_signature"]["status"], "verified");
    assert_eq!(doc["evidence"]["provenance"]["status"], "not-checked");
    std::fs::remove_file(&target).unwrap();
}

#[test]
fn user_key_files_are_reported_as_such() {
    let Some(dir) = corpus_dir("user_key_files") else {
        return;
    };
    let base = [
        "nuxt@4.1.2".to_owned(),
        "--packument".to_owned(),
        path(&dir, NUXT_PACKUMENT),
        "--attestations".to_owned(),
        path(&dir, &nuxt_attestations("4.1.2")),
        "--json".to_owned(),
    ];
    let with = |extra: &[String]| {
        let mut a: Vec<&str> = base.iter().map(String::as_str).collect();
        a.extend(extra.iter().map(String::as_str));
        inspect(&a)
    };
    // The current /-/npm/v1/keys shape, via the --keys alias.
    let out = with(&[
        "--keys".into(),
        path(&dir, "derived/npm-v1-keys.from-corepack.json"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let doc = json(&out);
    assert_eq!(
        doc["evidence"]["registry_signature"]["key_source"],
        "user-file"
    );
    assert_eq!(
        doc["evidence"]["publish_attestation"]["key_source"],
        "user-file"
    );
    // The keys before the 2025 rotation do not know DhQ8…: unknown key, with the remedy.
    let out = with(&[
        "--npm-keys".into(),
        path(
            &dir,
            "derived/npm-v1-keys.before-2025-01-27.from-corepack.json",
        ),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    let unknown = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "registry-key-unknown")
        .expect("registry-key-unknown");
    assert!(unknown["message"]
        .as_str()
        .unwrap()
        .contains("trust-roots update"));
    assert_eq!(doc["evidence"]["publish_attestation"]["status"], "invalid");
    assert_eq!(doc["evidence"]["provenance"]["status"], "verified");
}

/// `inspect` shows the history engine's timeline around the version: the releases on each
/// side, with the findings each would get if installed (issue 8).
#[test]
fn timeline_around_the_version_from_a_full_packument() {
    let Some(dir) = corpus_dir("timeline_around_the_version_from_a_full_packument") else {
        return;
    };
    let packument = path(&dir, NUXT_PACKUMENT);
    let out = inspect(&["nuxt@4.0.0-alpha.1", "--json", "--packument", &packument]);
    let doc = json(&out);
    let timeline = doc["timeline"].as_array().expect("a timeline");
    let versions: Vec<&str> = timeline
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    // Three releases on each side, in time order (3.x and 4.0 prereleases interleave).
    assert_eq!(
        versions,
        [
            "3.17.3",
            "4.0.0-0",
            "3.17.4",
            "4.0.0-alpha.1",
            "3.17.5",
            "4.0.0-alpha.2",
            "4.0.0-alpha.3"
        ]
    );
    let me = &timeline[3];
    assert_eq!(me["class"], "token");
    // A token prerelease by the same maintainer after a provenance prerelease: info only.
    let mine: Vec<(&str, &str)> = me["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["level"].as_str().unwrap()))
        .collect();
    assert!(mine.contains(&("provenance-downgrade", "info")), "{mine:?}");
    assert!(mine.iter().all(|(_, level)| *level == "info"), "{mine:?}");

    let text = inspect(&["nuxt@4.0.0-alpha.1", "--packument", &packument]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("timeline around 4.0.0-alpha.1"), "{text}");
    assert!(text.contains("4.0.0-alpha.2"), "{text}");
}

/// Without a full packument there is no timeline, and the JSON has no `timeline` key.
#[test]
fn no_timeline_without_a_packument() {
    let Some(dir) = corpus_dir("no_timeline_without_a_packument") else {
        return;
    };
    let out = inspect(&[
        "nuxt@4.1.2",
        "--json",
        "--attestations",
        &path(&dir, &nuxt_attestations("4.1.2")),
    ]);
    assert!(json(&out).get("timeline").is_none());
}
