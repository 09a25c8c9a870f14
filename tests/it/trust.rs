//! Pinned trust material and `trust-roots show` through the binary.

use npm_provenance::trust;
use npm_provenance_testkit::corpus::{corpus_file, repo_root};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::process::Output;

const JL3B: &str = "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA";
const DHQ8: &str = "SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U";
const REKOR_V1_LOG_ID: &str = "wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=";
const REKOR_V2_LOG_ID: &str = "zxGZFVvd0FEmjR8WrFwMdcAJ9vtaY/QXf44Y1wUeP6A=";

fn show(args: &[&str]) -> Output {
    crate::common::npm_provenance()
        .args(["trust-roots", "show"])
        .args(args)
        .output()
        .unwrap()
}

fn show_json(args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let out = show(&all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("npmprov-trust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn embedded_files_match_readme_sha256() {
    let readme = std::fs::read_to_string(repo_root().join("trust-roots/README.md")).unwrap();
    let listed = |file: &str| -> String {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{file}` |")))
            .unwrap_or_else(|| panic!("{file} not in trust-roots/README.md"));
        let cell = row.trim_end_matches('|').rsplit('|').next().unwrap();
        cell.trim().trim_matches('`').to_string()
    };
    for (file, text) in [
        ("trusted_root.json", trust::PRODUCTION_TRUSTED_ROOT),
        ("npm-keys.json", trust::NPM_KEYS),
        ("tuf-root.json", trust::TUF_ROOT),
        ("staging/trusted_root.json", trust::STAGING_TRUSTED_ROOT),
    ] {
        let want = listed(file);
        assert_eq!(want.len(), 64, "{file}: {want}");
        assert_eq!(hex::encode(Sha256::digest(text.as_bytes())), want, "{file}");
    }
}

#[test]
fn show_text_lists_everything_pinned() {
    let out = show(&[]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Sigstore trusted root (embedded)"), "{text}");
    assert!(text.contains("https://fulcio.sigstore.dev"));
    assert!(text.contains("CN=sigstore-intermediate,O=sigstore.dev"));
    assert!(text.contains(&format!("log id {REKOR_V1_LOG_ID}")));
    assert!(text.contains(&format!("log id {REKOR_V2_LOG_ID}  ed25519")));
    assert!(text.contains("https://ctfe.sigstore.dev/2022"));
    assert!(text.contains("https://timestamp.sigstore.dev/api/v1/timestamp"));
    assert!(text.contains("npm registry keys (embedded, pinned)"));
    assert!(text.contains("TUF root (embedded): version 16, expires 2027-04-22T19:27:31Z"));
    let key_line = |id: &str, usage: &str| {
        text.lines()
            .find(|l| l.contains(id) && l.contains(usage))
            .unwrap_or_else(|| panic!("{id} {usage} missing:\n{text}"))
            .to_string()
    };
    assert!(
        key_line(JL3B, "npm:signatures").contains("1999-01-01T00:00:00Z .. 2025-01-29T00:00:00Z")
    );
    assert!(
        key_line(JL3B, "npm:attestations").contains("2022-12-01T00:00:00Z .. 2025-01-29T00:00:00Z")
    );
    assert!(key_line(DHQ8, "npm:signatures").contains("2025-01-13T00:00:00Z .. open"));
    assert!(key_line(DHQ8, "npm:attestations").contains("2025-01-13T00:00:00Z .. open"));

    // --output writes the same report to a file, nothing to stdout.
    let file = temp_file("show.txt", b"");
    let out = show(&["--output", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

#[test]
fn show_json_schema_and_content() {
    let doc = show_json(&[]);
    assert_eq!(doc["schema"], "npm-provenance/trust-roots/v1");
    let sig = &doc["sigstore"];
    assert_eq!(sig["source"], "embedded");

    let cas = sig["certificate_authorities"].as_array().unwrap();
    assert_eq!(cas.len(), 2);
    assert_eq!(cas[0]["valid_for"]["start"], "2021-03-07T03:20:29Z");
    assert_eq!(cas[0]["valid_for"]["end"], "2022-12-31T23:59:59.999Z");
    assert_eq!(cas[1]["valid_for"]["end"], Value::Null);
    let chain = cas[1]["certificates"].as_array().unwrap();
    assert_eq!(chain.len(), 2);
    assert_eq!(
        chain[0]["subject"],
        "CN=sigstore-intermediate,O=sigstore.dev"
    );
    assert_eq!(chain[0]["not_after"], "2031-10-05T13:56:58Z");

    let tlogs = sig["tlogs"].as_array().unwrap();
    let urls: Vec<&str> = tlogs
        .iter()
        .map(|l| l["base_url"].as_str().unwrap())
        .collect();
    let mut sorted = urls.clone();
    sorted.sort();
    assert_eq!(urls, sorted, "tlogs sorted");
    let rekor = tlogs
        .iter()
        .find(|l| l["log_id"] == REKOR_V1_LOG_ID)
        .unwrap();
    assert_eq!(rekor["base_url"], "https://rekor.sigstore.dev");
    assert_eq!(rekor["key_type"], "ecdsa-p256");
    assert_eq!(rekor["valid_for"]["start"], "2021-01-12T11:53:27Z");
    let v2 = tlogs
        .iter()
        .find(|l| l["log_id"] == REKOR_V2_LOG_ID)
        .unwrap();
    assert_eq!(v2["base_url"], "https://log2025-1.rekor.sigstore.dev");
    assert_eq!(v2["key_type"], "ed25519");
    assert_eq!(v2["key_details"], "PKIX_ED25519");
    assert_eq!(sig["ctlogs"].as_array().unwrap().len(), 2);
    assert_eq!(sig["timestamp_authorities"].as_array().unwrap().len(), 1);

    assert_eq!(doc["tuf_root"]["version"], 16);
    assert_eq!(doc["tuf_root"]["expires"], "2027-04-22T19:27:31Z");

    let keys = &doc["npm_keys"];
    assert_eq!(keys["source"], "embedded");
    assert_eq!(keys["key_source"], "pinned");
    let got: Vec<(String, String, Value, Value)> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["keyid"].as_str().unwrap().to_string(),
                k["usage"].as_str().unwrap().to_string(),
                k["valid_from"].clone(),
                k["valid_until"].clone(),
            )
        })
        .collect();
    let s = |x: &str| Value::String(x.into());
    assert_eq!(
        got,
        vec![
            (
                DHQ8.into(),
                "npm:signatures".into(),
                s("2025-01-13T00:00:00Z"),
                Value::Null
            ),
            (
                DHQ8.into(),
                "npm:attestations".into(),
                s("2025-01-13T00:00:00Z"),
                Value::Null
            ),
            (
                JL3B.into(),
                "npm:signatures".into(),
                s("1999-01-01T00:00:00Z"),
                s("2025-01-29T00:00:00Z")
            ),
            (
                JL3B.into(),
                "npm:attestations".into(),
                s("2022-12-01T00:00:00Z"),
                s("2025-01-29T00:00:00Z")
            ),
        ]
    );
}

#[test]
fn show_user_files_names_their_source() {
    let Some(root) = corpus_file(
        "trust_roots_show",
        "trust-roots/sigstore-root-signing/history/trusted_root.2023-04-04.json",
    ) else {
        return;
    };
    let keys = corpus_file(
        "trust_roots_show",
        "derived/npm-v1-keys.before-2025-01-27.from-corepack.json",
    )
    .unwrap();
    let root_s = root.to_str().unwrap();
    let keys_s = keys.to_str().unwrap();
    let doc = show_json(&["--trusted-root", root_s, "--npm-keys", keys_s]);
    assert_eq!(doc["sigstore"]["source"], root_s);
    assert_eq!(doc["npm_keys"]["source"], keys_s);
    assert_eq!(doc["npm_keys"]["key_source"], "user-file");
    // The 2023 root predates Rekor v2.
    let tlogs = doc["sigstore"]["tlogs"].as_array().unwrap();
    assert!(tlogs.iter().all(|l| l["key_type"] != "ed25519"));
    assert!(tlogs.iter().any(|l| l["log_id"] == REKOR_V1_LOG_ID));
    // The old /-/npm/v1/keys: only jl3b…, both usages, no window.
    let keys = doc["npm_keys"]["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    for k in keys {
        assert_eq!(k["keyid"], JL3B);
        assert_eq!(k["valid_from"], Value::Null);
        assert_eq!(k["valid_until"], Value::Null);
    }
    // The --keys alias and text output.
    let out = show(&["--keys", keys_s]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("npm registry keys ({keys_s}, user-file)")),
        "{text}"
    );
}

#[test]
fn malformed_trusted_root_is_exit_2_naming_the_file() {
    let bad = temp_file("bad_root.json", b"{\"mediaType\": \"application/x-nope\"}");
    let out = show(&["--json", "--trusted-root", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["schema"], "npm-provenance/error/v1");
    assert_eq!(err["error"]["kind"], "parse");
    assert_eq!(err["error"]["path"], bad.to_str().unwrap());
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("unsupported mediaType"));

    let not_json = temp_file("not_json.json", b"garbage");
    let out = show(&["--trusted-root", not_json.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not_json.json"), "{stderr}");

    let out = show(&["--trusted-root", "/no/such/trusted_root.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/trusted_root.json"));
}

#[test]
fn malformed_npm_keys_is_exit_2_naming_the_file() {
    // A keyid that does not match its key.
    let swapped = trust::NPM_KEYS.replacen(JL3B, DHQ8, 1);
    let bad = temp_file("swapped_keys.json", swapped.as_bytes());
    let out = show(&["--json", "--npm-keys", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["error"]["path"], bad.to_str().unwrap());
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("does not match its key"));
}

#[test]
fn show_rejects_report_only_formats() {
    let out = show(&["--format", "sarif"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_real_trusted_root_and_key_file_in_the_corpus_parses() {
    use npm_provenance::trust::npm_keys::{KeySource, NpmKeys};
    use npm_provenance::trust::trusted_root::TrustedRoot;
    let Some(dir) = npm_provenance_testkit::corpus::corpus_dir("trust_corpus_files") else {
        return;
    };
    for rel in [
        "trust-roots/sigstore-root-signing/targets/trusted_root.json",
        "trust-roots/sigstore-root-signing/history/trusted_root.2023-04-04.json",
        "trust-roots/sigstore-root-signing/history/trusted_root.2025-01-21.json",
        "trust-roots/sigstore-root-signing/history/trusted_root.2025-07-07.json",
        "pkg-registry/trusted-root.json",
        "gh-cli/attestation-test-data/trusted_root.json",
        "sigstore-go/examples/trusted-root-public-good.json",
        "sigstore-go/testing-data/trusted-roots/scaffolding.json",
        "sigstore-go/testing-data/trusted-roots/public-key-validity.json",
        "sigstore-go/testing-data/trusted-roots/public-good.json",
        "sigstore-python/assets/trusted_root/trustedroot.v1.json",
        "sigstore-python/assets/trusted_root/trustedroot.v1.local_tlog_ed25519_rekor-tiles.json",
        "sigstore-dotnet/samples-data/trusted_root.json",
    ] {
        let bytes = std::fs::read(dir.join(rel)).unwrap();
        let root = TrustedRoot::from_json(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
        // Every root can time something: a transparency log or a timestamp authority.
        assert!(
            !root.tlogs.is_empty() || !root.timestamp_authorities.is_empty(),
            "{rel}: neither tlogs nor TSAs"
        );
    }
    // The current root-signing target is the embedded one, byte for byte.
    let current =
        std::fs::read(dir.join("trust-roots/sigstore-root-signing/targets/trusted_root.json"))
            .unwrap();
    assert_eq!(current, trust::PRODUCTION_TRUSTED_ROOT.as_bytes());

    for (rel, n) in [
        (
            "trust-roots/sigstore-root-signing/targets/registry.npmjs.org/keys.json",
            4,
        ),
        (
            "trust-roots/sigstore-root-signing/history/registry.npmjs.org-keys.2024-06-19.json",
            2,
        ),
        ("pkg-registry/npm-attestation-keys.json", 4),
        ("derived/npm-v1-keys.from-corepack.json", 4),
        (
            "derived/npm-v1-keys.before-2025-01-27.from-corepack.json",
            2,
        ),
    ] {
        let bytes = std::fs::read(dir.join(rel)).unwrap();
        let keys = NpmKeys::from_json(&bytes, KeySource::UserFile(rel.into()))
            .unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(keys.keys.len(), n, "{rel}");
    }
}
