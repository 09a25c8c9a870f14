//! Registry signatures against real data: the corpus's transcribed signatures, the real
//! packuments from npm/cli's registry mocks, and every version of nuxt (both npm keys).

use npm_provenance::trust::npm_keys::{KeyId, KeySource, NpmKeys};
use npm_provenance::verify::registry_signature::{
    verify_registry_signature, PublishTime, RegistrySignature, RegistrySignatureFailure, TimeSource,
};
use npm_provenance_testkit::corpus::{corpus_dir, corpus_file};
use serde_json::Value;

const JL3B: &str = "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA";
const DHQ8: &str = "SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U";

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn keys() -> NpmKeys {
    NpmKeys::embedded().unwrap()
}

fn time(s: &str) -> PublishTime {
    PublishTime::new(s.parse().unwrap(), TimeSource::RegistryUnsigned)
}

fn signatures(dist: &Value) -> Vec<RegistrySignature> {
    serde_json::from_value(dist["signatures"].clone()).unwrap()
}

/// Every version of a packument verifies at its `time[version]`; returns (count, keyids seen).
fn verify_packument(doc: &Value, keys: &NpmKeys) -> (usize, Vec<String>) {
    let name = doc["name"].as_str().unwrap();
    let mut n = 0;
    let mut seen = Vec::new();
    for (version, meta) in doc["versions"].as_object().unwrap() {
        let dist = &meta["dist"];
        let integrity = dist["integrity"].as_str().unwrap();
        let sigs = signatures(dist);
        assert!(!sigs.is_empty(), "{name}@{version} has no signature");
        let t = time(doc["time"][version].as_str().unwrap());
        let v = verify_registry_signature(name, version, integrity, &sigs, keys, &t)
            .unwrap_or_else(|e| panic!("{name}@{version}: {e}"));
        assert_eq!(v.time(), t.time);
        assert_eq!(v.time_source(), TimeSource::RegistryUnsigned);
        seen.push(v.keyid().as_str().to_string());
        n += 1;
    }
    seen.sort();
    seen.dedup();
    (n, seen)
}

#[test]
fn transcribed_signatures_verify_and_negatives_fail() {
    let Some(path) = corpus_file("registry_signatures", "derived/registry-signatures.json") else {
        return;
    };
    let doc = read_json(&path);
    let keys = keys();
    // None of these packages records a signed publish time here; every entry is signed by
    // jl3b…, whose npm:signatures window is 1999-01-01 → 2025-01-29, and every version was
    // published before 2023 (the sources are npm/cli and pacote tests of 2022-2023).
    let t = time("2022-06-01T00:00:00Z");
    let (mut valid, mut invalid) = (0, 0);
    for e in doc["entries"].as_array().unwrap() {
        let (name, version, integrity) = (
            e["name"].as_str().unwrap(),
            e["version"].as_str().unwrap(),
            e["integrity"].as_str().unwrap(),
        );
        assert_eq!(
            e["message"].as_str().unwrap(),
            format!("{name}@{version}:{integrity}")
        );
        let sigs = vec![RegistrySignature {
            keyid: e["keyid"].as_str().unwrap().into(),
            sig: e["sig"].as_str().unwrap().into(),
        }];
        let got = verify_registry_signature(name, version, integrity, &sigs, &keys, &t);
        match e["verifies"].as_str().unwrap() {
            "VALID" => {
                let v = got.unwrap_or_else(|f| panic!("{name}@{version}: {f}"));
                assert_eq!(v.keyid().as_str(), JL3B);
                assert_eq!(v.key_source(), &KeySource::Pinned);
                valid += 1;
            }
            "INVALID" => {
                assert!(
                    matches!(got, Err(RegistrySignatureFailure::Invalid { .. })),
                    "{name}@{version}: {got:?}"
                );
                invalid += 1;
            }
            other => panic!("unexpected verdict {other}"),
        }
    }
    assert_eq!((valid, invalid), (22, 3));
}

#[test]
fn real_packuments_verify_every_version() {
    let Some(dir) = corpus_file("registry_signatures", "npm-cli/registry-mocks-packuments") else {
        return;
    };
    let keys = keys();
    let mut total = 0;
    for file in [
        "has-package-exports.json",
        "has-package-exports-patterns.json",
    ] {
        let (n, seen) = verify_packument(&read_json(&dir.join(file)), &keys);
        assert_eq!(seen, vec![JL3B.to_string()]);
        total += n;
    }
    assert_eq!(total, 14);
}

#[test]
fn all_377_nuxt_versions_verify_with_both_keys() {
    let Some(path) = corpus_file(
        "registry_signatures",
        "provenance-action/npm-registry__metadata__nuxt.json",
    ) else {
        return;
    };
    let (n, seen) = verify_packument(&read_json(&path), &keys());
    assert_eq!(n, 377);
    assert_eq!(seen, vec![DHQ8.to_string(), JL3B.to_string()]);
}

/// One real nuxt version signed by the new key (DhQ8…), for tamper tests.
struct Case {
    name: String,
    version: String,
    integrity: String,
    sigs: Vec<RegistrySignature>,
    time: PublishTime,
}

fn nuxt_case(version: &str) -> Option<Case> {
    let path = corpus_file(
        "registry_signatures",
        "provenance-action/npm-registry__metadata__nuxt.json",
    )?;
    let doc = read_json(&path);
    let dist = &doc["versions"][version]["dist"];
    Some(Case {
        name: "nuxt".into(),
        version: version.into(),
        integrity: dist["integrity"].as_str().unwrap().into(),
        sigs: signatures(dist),
        time: time(doc["time"][version].as_str().unwrap()),
    })
}

impl Case {
    fn run(&self, keys: &NpmKeys) -> Result<(), RegistrySignatureFailure> {
        verify_registry_signature(
            &self.name,
            &self.version,
            &self.integrity,
            &self.sigs,
            keys,
            &self.time,
        )
        .map(|_| ())
    }
}

fn flip_char(s: &str, at: usize) -> String {
    let mut b = s.as_bytes().to_vec();
    b[at] = if b[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(b).unwrap()
}

#[test]
fn tampering_any_field_is_invalid() {
    let Some(base) = nuxt_case("4.1.2") else {
        return;
    };
    let keys = keys();
    assert_eq!(base.sigs[0].keyid, DHQ8);
    assert!(base.run(&keys).is_ok());

    let is_invalid =
        |c: &Case| matches!(c.run(&keys), Err(RegistrySignatureFailure::Invalid { .. }));

    // A flipped byte inside the DER signature (decode, flip, re-encode).
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut der = b64.decode(&base.sigs[0].sig).unwrap();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let mut c = nuxt_case("4.1.2").unwrap();
    c.sigs[0].sig = b64.encode(&der);
    assert!(is_invalid(&c));

    let mut c = nuxt_case("4.1.2").unwrap();
    c.integrity = flip_char(&c.integrity, 10);
    assert!(is_invalid(&c));

    let mut c = nuxt_case("4.1.2").unwrap();
    c.name = "nuxu".into();
    assert!(is_invalid(&c));

    let mut c = nuxt_case("4.1.2").unwrap();
    c.version = "4.1.3".into();
    assert!(is_invalid(&c));

    // The right signature under the other (pinned, in-window) key's id.
    let mut c = nuxt_case("4.1.2").unwrap();
    c.sigs[0].keyid = JL3B.into();
    c.time = time("2024-06-01T00:00:00Z");
    assert!(is_invalid(&c));
}

#[test]
fn key_windows_and_unknown_keys() {
    let Some(new) = nuxt_case("4.1.2") else {
        return;
    };
    let old = nuxt_case("3.15.0").unwrap();
    let keys = keys();
    assert_eq!(old.sigs[0].keyid, JL3B);
    assert!(old.run(&keys).is_ok());

    // A keyid that is not pinned.
    let mut c = nuxt_case("4.1.2").unwrap();
    c.sigs[0].keyid = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into();
    match c.run(&keys) {
        Err(RegistrySignatureFailure::KeyUnknown { keyid }) => {
            assert_eq!(keyid, KeyId::new(c.sigs[0].keyid.clone()))
        }
        other => panic!("{other:?}"),
    }

    // Times outside the windows: the new key before its start, the old key after its end.
    let mut c = nuxt_case("4.1.2").unwrap();
    c.time = time("2025-01-12T23:59:59Z");
    assert!(matches!(
        c.run(&keys),
        Err(RegistrySignatureFailure::KeyExpired { .. })
    ));
    let mut c = nuxt_case("3.15.0").unwrap();
    c.time = time("2025-01-29T00:00:01Z");
    match c.run(&keys) {
        Err(RegistrySignatureFailure::KeyExpired {
            keyid,
            valid_until,
            time: t,
            ..
        }) => {
            assert_eq!(keyid.as_str(), JL3B);
            assert_eq!(valid_until, Some("2025-01-29T00:00:00Z".parse().unwrap()));
            assert_eq!(t, "2025-01-29T00:00:01Z".parse().unwrap());
        }
        other => panic!("{other:?}"),
    }
    // A key that expired after the publish time still validates it.
    let mut c = nuxt_case("3.15.0").unwrap();
    c.time = time("2025-01-28T23:00:00Z");
    assert!(c.run(&keys).is_ok());

    // No time: the closed jl3b window can never be shown; the open DhQ8 one can.
    let mut c = nuxt_case("3.15.0").unwrap();
    c.time = PublishTime::NONE;
    assert!(matches!(
        c.run(&keys),
        Err(RegistrySignatureFailure::NoPublishTime { .. })
    ));
    let mut c = nuxt_case("4.1.2").unwrap();
    c.time = PublishTime::NONE;
    assert!(c.run(&keys).is_ok());
    assert!(new.run(&keys).is_ok());
}

#[test]
fn registry_v1_keys_verify_as_unpinned_source() {
    let Some(dir) = corpus_dir("registry_signatures") else {
        return;
    };
    let bytes = std::fs::read(dir.join("derived/npm-v1-keys.from-corepack.json")).unwrap();
    let keys = NpmKeys::from_json(&bytes, KeySource::RegistryUnpinned).unwrap();
    let c = nuxt_case("4.1.2").unwrap();
    let v = verify_registry_signature(&c.name, &c.version, &c.integrity, &c.sigs, &keys, &c.time)
        .unwrap();
    assert_eq!(v.key_source(), &KeySource::RegistryUnpinned);
    // The old /-/npm/v1/keys response knew only jl3b… (no expiry): DhQ8… is unknown there.
    let bytes = std::fs::read(dir.join("derived/npm-v1-keys.before-2025-01-27.from-corepack.json"))
        .unwrap();
    let old = NpmKeys::from_json(&bytes, KeySource::RegistryUnpinned).unwrap();
    assert!(matches!(
        verify_registry_signature(&c.name, &c.version, &c.integrity, &c.sigs, &old, &c.time),
        Err(RegistrySignatureFailure::KeyUnknown { .. })
    ));
}
