//! Every cap on outside input, at its edge: the input at the cap passes the cap (it may fail
//! later for other reasons, never because of the cap), one beyond fails with a message naming
//! the cap. The list of caps, with values and what happens when hit, is `docs/limits.md`; the
//! bundle caps (size, depth, tlog entries, chain, timestamps, subjects) are edge-tested in
//! `verify_bundle.rs`, lockfile depth/entries and name/version lengths beside their code.

use npm_provenance::fuzzing::{
    template_bundle, verify_bundle_any, GOOD_CHECKPOINT, GOOD_PAYLOAD_B64,
};
use npm_provenance::policy::config::{Policy, MAX_POLICY_BYTES};
use npm_provenance::registry::attestations::{
    AttestationsResponse, MAX_ATTESTATIONS, MAX_ATTESTATIONS_BYTES, MAX_ATTESTATIONS_DEPTH,
};
use npm_provenance::registry::config::{ConfigInputs, RegistryConfig, MAX_NPMRC_BYTES};
use npm_provenance::registry::packument::{Packument, MAX_PACKUMENT_DEPTH};
use npm_provenance::trust::npm_keys::{KeySource, NpmKeys, MAX_KEYS};
use npm_provenance::trust::trusted_root::{TrustedRoot, MAX_ENTRIES as MAX_ROOT_ENTRIES};
use npm_provenance::verify::shape::MAX_PROOF_HASHES;
use serde_json::{json, Value};
use std::path::PathBuf;

/// `{"a":{"a":...}}` with `n` objects.
fn nested(n: usize) -> String {
    format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n))
}

/// Pads JSON `doc` with trailing spaces to exactly `len` bytes.
fn padded(mut doc: Vec<u8>, len: usize) -> Vec<u8> {
    assert!(doc.len() <= len, "document already {} bytes", doc.len());
    doc.resize(len, b' ');
    doc
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("npmprov-limits-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

#[test]
fn attestations_count_at_and_beyond_the_cap() {
    let entry = json!({"predicateType": "https://slsa.dev/provenance/v1", "bundle": {}});
    let body = |n: usize| {
        serde_json::to_vec(&json!({ "attestations": vec![entry.clone(); n] })).expect("json")
    };
    let ok = AttestationsResponse::from_slice(&body(MAX_ATTESTATIONS)).expect("at the cap");
    assert_eq!(ok.attestations.len(), MAX_ATTESTATIONS);
    let err = AttestationsResponse::from_slice(&body(MAX_ATTESTATIONS + 1)).expect_err("beyond");
    assert!(
        err.0.contains(&format!("cap of {MAX_ATTESTATIONS}")),
        "{err}"
    );
    // A hit cap is told apart (reported as `metadata-too-large`), a malformed body is not.
    assert!(err.is_cap());
    let bad = AttestationsResponse::from_slice(b"{").expect_err("not JSON");
    assert!(!bad.is_cap(), "{bad}");
}

#[test]
fn attestations_size_at_and_beyond_the_cap() {
    let doc = br#"{"attestations":[]}"#.to_vec();
    AttestationsResponse::from_slice(&padded(doc.clone(), MAX_ATTESTATIONS_BYTES))
        .expect("at the cap");
    let err = AttestationsResponse::from_slice(&padded(doc, MAX_ATTESTATIONS_BYTES + 1))
        .expect_err("beyond");
    assert!(
        err.0
            .contains(&format!("attestations cap of {MAX_ATTESTATIONS_BYTES}")),
        "{err}"
    );
    assert!(err.is_cap());
}

#[test]
fn attestations_depth_at_and_beyond_the_cap() {
    // The response object and the array are two levels; the entry's bundle holds the rest.
    let body = |depth: usize| {
        format!(
            r#"{{"attestations":[{{"predicateType":"x","bundle":{}}}]}}"#,
            nested(depth - 3)
        )
    };
    AttestationsResponse::from_slice(body(MAX_ATTESTATIONS_DEPTH).as_bytes()).expect("at the cap");
    let err = AttestationsResponse::from_slice(body(MAX_ATTESTATIONS_DEPTH + 1).as_bytes())
        .expect_err("beyond");
    assert!(
        err.0
            .contains(&format!("cap of {MAX_ATTESTATIONS_DEPTH} levels")),
        "{err}"
    );
    assert!(err.is_cap());
}

#[test]
fn packument_depth_at_and_beyond_the_cap() {
    // The document, `versions`, the version object: the rest nests in an unknown field.
    let body = |depth: usize| {
        format!(
            r#"{{"name":"x","versions":{{"1.0.0":{{"extra":{}}}}}}}"#,
            nested(depth - 3)
        )
    };
    let ok = Packument::from_slice(body(MAX_PACKUMENT_DEPTH).as_bytes()).expect("at the cap");
    assert_eq!(ok.version_names().count(), 1);
    let err = Packument::from_slice(body(MAX_PACKUMENT_DEPTH + 1).as_bytes()).expect_err("beyond");
    assert!(
        err.0
            .contains(&format!("cap of {MAX_PACKUMENT_DEPTH} levels")),
        "{err}"
    );
}

#[test]
fn npm_keys_count_at_and_beyond_the_cap() {
    let keys = |n: usize| {
        let key = |i: usize| {
            json!({
                "keyId": format!("SHA256:key{i}"),
                "keyUsage": "npm:signatures",
                "publicKey": {
                    "rawBytes": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1Olb3zMAFFxXKHiIkQO5cJ3Yhl5i6UPp+IhuteBJbuHcA5UogKo0EWtlWwW6KSaKoTNEYL7JlCQiVnkhBktUgg==",
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": "1999-01-01T00:00:00.000Z"}
                }
            })
        };
        serde_json::to_vec(&json!({"keys": (0..n).map(key).collect::<Vec<Value>>()})).expect("json")
    };
    let err_at = NpmKeys::from_json(&keys(MAX_KEYS), KeySource::Pinned).err();
    if let Some(e) = &err_at {
        assert!(!e.to_string().contains("cap"), "at the cap: {e}");
    }
    let err = NpmKeys::from_json(&keys(MAX_KEYS + 1), KeySource::Pinned).expect_err("beyond");
    assert!(
        err.to_string().contains(&format!("cap of {MAX_KEYS}")),
        "{err}"
    );
}

#[test]
fn trusted_root_entries_at_and_beyond_the_cap() {
    let embedded: Value =
        serde_json::from_str(npm_provenance::trust::PRODUCTION_TRUSTED_ROOT).expect("embedded");
    let with_tlogs = |n: usize| {
        let mut root = embedded.clone();
        let first = root["tlogs"][0].clone();
        root["tlogs"] = Value::Array(vec![first; n]);
        serde_json::to_vec(&root).expect("json")
    };
    let err_at = TrustedRoot::from_json(&with_tlogs(MAX_ROOT_ENTRIES)).err();
    if let Some(e) = &err_at {
        assert!(!e.to_string().contains("cap"), "at the cap: {e}");
    }
    let err = TrustedRoot::from_json(&with_tlogs(MAX_ROOT_ENTRIES + 1)).expect_err("beyond");
    assert!(
        err.to_string()
            .contains(&format!("more than the cap of {MAX_ROOT_ENTRIES}")),
        "{err}"
    );
}

#[test]
fn inclusion_proof_hashes_at_and_beyond_the_cap() {
    let with_hashes = |n: usize| {
        let mut b: Value =
            serde_json::from_slice(&template_bundle(GOOD_PAYLOAD_B64, GOOD_CHECKPOINT))
                .expect("template JSON");
        let hash = json!("fM8KxP/V5eJtk7Dsf1sQAGWiC/L3QYumuzrRdhTc6Qc=");
        b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"] =
            Value::Array(vec![hash; n]);
        serde_json::to_vec(&b).expect("json")
    };
    let at = verify_bundle_any(&with_hashes(MAX_PROOF_HASHES)).expect_err("synthetic");
    assert!(!at.is_cap(), "at the cap: {at}");
    let beyond = verify_bundle_any(&with_hashes(MAX_PROOF_HASHES + 1)).expect_err("beyond");
    assert!(beyond.is_cap(), "beyond the cap: {beyond}");
    assert!(
        beyond.to_string().contains(&MAX_PROOF_HASHES.to_string()),
        "{beyond}"
    );
}

#[test]
fn policy_file_size_at_and_beyond_the_cap() {
    let dir = scratch("policy");
    let path = dir.join("npm-provenance.toml");
    let text = "[defaults]\nfail-level = \"warn\"\n";
    let at = padded_text(text, MAX_POLICY_BYTES as usize);
    std::fs::write(&path, &at).expect("write");
    Policy::load(&path).expect("a policy at the cap loads");
    std::fs::write(&path, padded_text(text, MAX_POLICY_BYTES as usize + 1)).expect("write");
    let err = Policy::load(&path).expect_err("beyond the cap");
    assert!(
        err.to_string()
            .contains(&format!("policy file cap of {MAX_POLICY_BYTES} bytes")),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn npmrc_size_at_and_beyond_the_cap() {
    let dir = scratch("npmrc");
    let inputs = ConfigInputs {
        env: Default::default(),
        home: None,
        project_dir: Some(dir.clone()),
        cli_registry: None,
    };
    let text = "registry=https://registry.example/\n";
    std::fs::write(
        dir.join(".npmrc"),
        padded_text(text, MAX_NPMRC_BYTES as usize),
    )
    .expect("write");
    let cfg = RegistryConfig::load(&inputs).expect("an .npmrc at the cap loads");
    assert_eq!(cfg.default_registry.as_str(), "https://registry.example/");
    std::fs::write(
        dir.join(".npmrc"),
        padded_text(text, MAX_NPMRC_BYTES as usize + 1),
    )
    .expect("write");
    let err = RegistryConfig::load(&inputs).expect_err("beyond the cap");
    assert!(
        err.problem
            .contains(&format!(".npmrc cap of {MAX_NPMRC_BYTES} bytes")),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `text` followed by a comment line padding it to exactly `len` bytes (both TOML and ini).
fn padded_text(text: &str, len: usize) -> Vec<u8> {
    let mut out = text.as_bytes().to_vec();
    out.push(b'#');
    assert!(out.len() < len);
    out.resize(len - 1, b'x');
    out.push(b'\n');
    out
}

#[test]
fn yarnrc_and_bunfig_size_at_and_beyond_the_cap() {
    use npm_provenance::inventory::{bunfig, yarnrc, RegistryMap};
    let dir = scratch("rc");
    let base = RegistryMap::default();
    type Read<'a> = &'a dyn Fn() -> Result<RegistryMap, npm_provenance::inventory::InventoryError>;
    let cases: [(&str, &str, u64, Read); 2] = [
        (
            ".yarnrc.yml",
            "npmRegistryServer: \"https://registry.example/\"\n",
            yarnrc::MAX_YARNRC_BYTES,
            &|| yarnrc::registries(&dir, &base),
        ),
        (
            "bunfig.toml",
            "[install]\nregistry = \"https://registry.example/\"\n",
            bunfig::MAX_BUNFIG_BYTES,
            &|| bunfig::registries(&dir, &base),
        ),
    ];
    for (file, text, cap, read) in cases {
        let path = dir.join(file);
        std::fs::write(&path, padded_text(text, cap as usize)).expect("write");
        let map = read().unwrap_or_else(|e| panic!("{file} at the cap: {e}"));
        assert_ne!(map, base, "{file}: the registry setting was read");
        std::fs::write(&path, padded_text(text, cap as usize + 1)).expect("write");
        let err = read().expect_err("beyond the cap");
        assert!(
            err.problem.contains(&format!("{cap}-byte cap")),
            "{file}: {err}"
        );
        std::fs::remove_file(&path).expect("remove");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A cap hit in registry data is its own finding (`metadata-too-large`), not "invalid".
#[test]
fn capped_registry_data_is_reported_as_metadata_too_large() {
    use npm_provenance::verify::npm::{
        verify_version, AttestationsInput, VerifyContext, VersionInput,
    };
    use npm_provenance::verify::shape::MAX_TLOG_ENTRIES;
    use npm_provenance::verify::SigstoreTrust;
    use sha2::{Digest, Sha512};

    let Some(dir) = npm_provenance_testkit::corpus::corpus_dir(
        "capped_registry_data_is_reported_as_metadata_too_large",
    ) else {
        return;
    };
    let set = std::fs::read(dir.join("pacote/sigstore-fixtures/valid-attestations.json"))
        .expect("corpus set");
    let tarball =
        std::fs::read(dir.join("npm-registry-tarballs/sigstore-0.4.0.tgz")).expect("tarball");
    let trust = SigstoreTrust::from_json(npm_provenance::trust::PRODUCTION_TRUSTED_ROOT)
        .expect("production root");
    let keys = NpmKeys::embedded().expect("embedded keys");
    let ctx = VerifyContext {
        sigstore: &trust,
        npm_keys: &keys,
    };
    let codes = |body: &[u8]| {
        let input = VersionInput {
            name: "sigstore",
            version: "0.4.0",
            expected_integrity: None,
            tarball_sha512: Some(Sha512::digest(&tarball).into()),
            packument_version: None,
            packument_time: None,
            attestations: AttestationsInput::Body(body),
        };
        let e = verify_version(&input, &ctx);
        e.findings.iter().map(|f| f.code).collect::<Vec<_>>()
    };
    // As served: no cap is hit.
    assert!(
        !codes(&set).contains(&"metadata-too-large"),
        "{:?}",
        codes(&set)
    );

    // Every bundle with one tlog entry too many.
    let mut doc: Value = serde_json::from_slice(&set).expect("json");
    for a in doc["attestations"].as_array_mut().expect("array") {
        let entries = &mut a["bundle"]["verificationMaterial"]["tlogEntries"];
        let first = entries[0].clone();
        *entries = Value::Array(
            (0..=MAX_TLOG_ENTRIES)
                .map(|i| {
                    let mut e = first.clone();
                    e["logIndex"] = json!(format!("{}", 1000 + i));
                    e
                })
                .collect(),
        );
    }
    let got = codes(&serde_json::to_vec(&doc).expect("json"));
    assert!(got.contains(&"metadata-too-large"), "{got:?}");
    assert!(
        !got.iter().any(|c| c.ends_with("-invalid")),
        "a cap hit is not a bad signature: {got:?}"
    );

    // A response with one attestation too many.
    let mut doc: Value = serde_json::from_slice(&set).expect("json");
    let first = doc["attestations"][0].clone();
    doc["attestations"] = Value::Array(vec![first; MAX_ATTESTATIONS + 1]);
    let got = codes(&serde_json::to_vec(&doc).expect("json"));
    assert!(got.contains(&"metadata-too-large"), "{got:?}");
}

#[test]
fn registry_signatures_at_and_beyond_the_cap() {
    use npm_provenance::verify::registry_signature::{
        verify_registry_signature, PublishTime, RegistrySignature, RegistrySignatureFailure,
        TimeSource, MAX_SIGNATURES,
    };
    let Some(dir) =
        npm_provenance_testkit::corpus::corpus_dir("registry_signatures_at_and_beyond_the_cap")
    else {
        return;
    };
    let doc: Value = serde_json::from_slice(
        &std::fs::read(dir.join("derived/registry-signatures.json")).expect("corpus file"),
    )
    .expect("json");
    let e = doc["entries"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["verifies"] == "VALID"))
        .expect("a valid entry");
    let s = |k: &str| e[k].as_str().expect("field").to_owned();
    let good = RegistrySignature {
        keyid: s("keyid"),
        sig: s("sig"),
    };
    let bad = RegistrySignature {
        keyid: s("keyid"),
        sig: "MEUCIQ==".into(),
    };
    let keys = NpmKeys::embedded().expect("embedded keys");
    // Within the key's npm:signatures window (1999-01-01 → 2025-01-29).
    let t = PublishTime::new(
        "2022-06-01T00:00:00Z".parse().expect("time"),
        TimeSource::RegistryUnsigned,
    );
    let run = |n: usize| {
        // The good signature last: at the cap it is still looked at.
        let mut sigs = vec![bad.clone(); n - 1];
        sigs.push(good.clone());
        verify_registry_signature(&s("name"), &s("version"), &s("integrity"), &sigs, &keys, &t)
    };
    run(MAX_SIGNATURES).expect("the good signature at the cap verifies");
    let err = run(MAX_SIGNATURES + 1).expect_err("beyond the cap");
    assert_eq!(
        err,
        RegistrySignatureFailure::TooMany {
            count: MAX_SIGNATURES + 1
        }
    );
    assert_eq!(err.finding().code, "metadata-too-large");
    assert!(
        err.to_string()
            .contains(&format!("cap of {MAX_SIGNATURES}")),
        "{err}"
    );
}
