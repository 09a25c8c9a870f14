//! The npm layer on real data: every real attestation set of the corpus verifies offline into a
//! `VersionEvidence` with the identity MANIFEST lists; every real registry signature verifies;
//! every corpus negative yields its finding code; tampering never verifies.

use base64::Engine as _;
use npm_provenance::inventory::integrity::Integrity;
use npm_provenance::registry::packument::{Packument, PackumentVersion};
use npm_provenance::trust::npm_keys::{KeySource, NpmKeys};
use npm_provenance::trust::PRODUCTION_TRUSTED_ROOT;
use npm_provenance::verify::evidence::{Status, VersionEvidence};
use npm_provenance::verify::npm::{verify_version, AttestationsInput, VerifyContext, VersionInput};
use npm_provenance::verify::SigstoreTrust;
use npm_provenance_testkit::corpus::corpus_dir;
use serde_json::{json, Value};
use sha2::{Digest, Sha512};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const PUBLISH: &str = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";
const GHA: &str = "https://token.actions.githubusercontent.com";
const NUXT_PACKUMENT: &str = "provenance-action/npm-registry__metadata__nuxt.json";

fn trust() -> &'static SigstoreTrust {
    static T: OnceLock<SigstoreTrust> = OnceLock::new();
    T.get_or_init(|| SigstoreTrust::from_json(PRODUCTION_TRUSTED_ROOT).expect("production root"))
}

fn keys() -> &'static NpmKeys {
    static K: OnceLock<NpmKeys> = OnceLock::new();
    K.get_or_init(|| NpmKeys::embedded().expect("embedded keys"))
}

fn ctx() -> VerifyContext<'static> {
    VerifyContext {
        sigstore: trust(),
        npm_keys: keys(),
    }
}

fn read(dir: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn sha512(bytes: &[u8]) -> [u8; 64] {
    Sha512::digest(bytes).into()
}

fn codes(e: &VersionEvidence) -> Vec<&'static str> {
    e.findings.iter().map(|f| f.code).collect()
}

/// What the test knows about a version's bytes.
#[derive(Clone, Copy)]
enum Bytes {
    Tarball(&'static str),
    Integrity(&'static str),
}

struct Known {
    expected: Option<Integrity>,
    tarball: Option<[u8; 64]>,
}

fn known(dir: &Path, b: Bytes) -> Known {
    match b {
        Bytes::Tarball(rel) => Known {
            expected: None,
            tarball: Some(sha512(&read(dir, rel))),
        },
        Bytes::Integrity(i) => Known {
            expected: Some(Integrity::parse(i).unwrap()),
            tarball: None,
        },
    }
}

fn run(
    name: &str,
    version: &str,
    known: &Known,
    packument: Option<(&PackumentVersion, Option<jiff::Timestamp>)>,
    attestations: AttestationsInput<'_>,
) -> VersionEvidence {
    let input = VersionInput {
        name,
        version,
        expected_integrity: known.expected.clone(),
        tarball_sha512: known.tarball,
        packument_version: packument.map(|p| p.0),
        packument_time: packument.and_then(|p| p.1),
        attestations,
    };
    verify_version(&input, &ctx())
}

/// One real set of MANIFEST §2.1, with the identity MANIFEST lists.
struct Set {
    file: &'static str,
    name: &'static str,
    version: &'static str,
    bytes: Bytes,
    repo: &'static str,
    git_ref: &'static str,
    commit: &'static str,
    trigger: &'static str,
    workflow: &'static str,
}

const SETS: &[Set] = &[
    Set { file: "pacote/sigstore-fixtures/valid-attestations.json", name: "sigstore", version: "0.4.0", bytes: Bytes::Tarball("npm-registry-tarballs/sigstore-0.4.0.tgz"), repo: "https://github.com/sigstore/sigstore-js", git_ref: "refs/tags/v0.4.0", commit: "8a2ee2fd20dda58ffa4a8d808a65cb1e04711c03", trigger: "release", workflow: ".github/workflows/publish.yml" },
    Set { file: "npm-cli/audit-signatures-fixtures/valid-sigstore-attestations.json", name: "sigstore", version: "1.0.0", bytes: Bytes::Tarball("npm-registry-tarballs/sigstore-1.0.0.tgz"), repo: "https://github.com/sigstore/sigstore-js", git_ref: "refs/tags/v1.0.0", commit: "06528997c3c8ab9f864fad9a3658446aca7fd86d", trigger: "release", workflow: ".github/workflows/publish.yml" },
    Set { file: "npm-cli/audit-signatures-fixtures/valid-tuf-js-attestations.json", name: "tuf-js", version: "1.0.0", bytes: Bytes::Tarball("npm-registry-tarballs/tuf-js-1.0.0.tgz"), repo: "https://github.com/theupdateframework/tuf-js", git_ref: "refs/tags/v1.0.0", commit: "99624cc7ce39872e6bd08a0df59229a48562dbca", trigger: "release", workflow: ".github/workflows/publish.yml" },
    Set { file: "slsa-verifier/gha-internal-testdata/npm-attestations.intoto.sigstore", name: "@laurentsimon/provenance-npm-test", version: "1.0.0", bytes: Bytes::Integrity("sha512-KdGfJiM/REEyhBKzT9c+0QTs/vYvFAl4kMzPdFW1IbZcWs/4UYSfqoXIU5WqItQBQ28B86+2GxnHgOkGyIx/IA=="), repo: "https://github.com/laurentsimon/provenance-npm-test", git_ref: "refs/heads/main", commit: "16babffb9153811e193c019939391357372b25ce", trigger: "workflow_dispatch", workflow: ".github/workflows/release.yml" },
    Set { file: "slsa-verifier/cli-testdata-npm-gha/provenance-npm-test-cli-v02-prega.tgz.json", name: "@laurentsimon/provenance-npm-test", version: "1.0.3", bytes: Bytes::Tarball("slsa-verifier/cli-testdata-npm-gha/provenance-npm-test-cli-v02-prega.tgz"), repo: "https://github.com/laurentsimon/provenance-npm-test", git_ref: "refs/heads/main", commit: "b38894f2dda4355ea5606fccb166e61565e12a14", trigger: "workflow_dispatch", workflow: ".github/workflows/release.yml" },
    // The reusable-workflow set: the SAN is slsa-github-generator's; the workflow is the caller's.
    Set { file: "slsa-verifier/cli-testdata-npm-gha/provenance-npm-test-ossf.tgz.json", name: "@laurentsimon/provenance-npm-test", version: "1.0.5", bytes: Bytes::Tarball("slsa-verifier/cli-testdata-npm-gha/provenance-npm-test-ossf.tgz"), repo: "https://github.com/laurentsimon/provenance-npm-test", git_ref: "refs/heads/main", commit: "34490b44db557f009617bcb92b8780f972c189ab", trigger: "workflow_dispatch", workflow: ".github/workflows/release-slsa3.yml" },
    Set { file: "slsa-verifier/cli-testdata-npm-gha/supreme-googles-cli-v02-tag.tgz.json", name: "@trishankatdatadog/supreme-goggles", version: "1.0.5", bytes: Bytes::Tarball("slsa-verifier/cli-testdata-npm-gha/supreme-googles-cli-v02-tag.tgz"), repo: "https://github.com/trishankatdatadog/supreme-goggles", git_ref: "refs/tags/v1.0.5", commit: "38ebf99444e033b2f1550c9aaaeacd62d02a12ba", trigger: "release", workflow: ".github/workflows/npm-publish.yml" },
    Set { file: "pkgxray/attestation-sigstore-protobuf-0.2.1.json", name: "@sigstore/protobuf-specs", version: "0.2.1", bytes: Bytes::Tarball("npm-registry-tarballs/sigstore_protobuf-specs-0.2.1.tgz"), repo: "https://github.com/sigstore/protobuf-specs", git_ref: "refs/tags/release/typescript/v0.2.1", commit: "90ce2af553f37d3a76006f6c1f4a2cfbf9e1974e", trigger: "push", workflow: ".github/workflows/typescript-publish.yml" },
    Set { file: "slsa-verifier/cli-testdata-npm-gha/provenance-npm-test-cli-v1-prega.tgz.json", name: "sigstore", version: "2.3.1", bytes: Bytes::Tarball("slsa-verifier/cli-testdata-npm-gha/provenance-npm-test-cli-v1-prega.tgz"), repo: "https://github.com/sigstore/sigstore-js", git_ref: "refs/heads/main", commit: "46e7056ff9912ebfee5298d94024895a9fea76c0", trigger: "push", workflow: ".github/workflows/release.yml" },
    Set { file: "slsa-verifier/cli-testdata-npm-gha/gundam-visor-cli-v1-tag.tgz.json", name: "gundam-visor", version: "1.0.1", bytes: Bytes::Tarball("slsa-verifier/cli-testdata-npm-gha/gundam-visor-cli-v1-tag.tgz"), repo: "https://github.com/ramonpetgrave64/gundam-visor", git_ref: "refs/tags/v1.0.1", commit: "599500821344b070902a7a5666064bfdaba715df", trigger: "release", workflow: ".github/workflows/npm-publish.yml" },
    Set { file: "pkgxray/attestation-actions-core-1.11.1.json", name: "@actions/core", version: "1.11.1", bytes: Bytes::Tarball("npm-registry-tarballs/actions_core-1.11.1.tgz"), repo: "https://github.com/actions/toolkit", git_ref: "refs/heads/main", commit: "d14afd7973c037fa9f72882decd1eb3befa36135", trigger: "workflow_dispatch", workflow: ".github/workflows/releases.yml" },
    Set { file: "pkg-registry/sigstore-3.0.0.attestations.json", name: "sigstore", version: "3.0.0", bytes: Bytes::Tarball("pkg-registry/sigstore-3.0.0.tgz"), repo: "https://github.com/sigstore/sigstore-js", git_ref: "refs/heads/main", commit: "3a57a741bfb9f7c3bca69b63e170fc28e9432e69", trigger: "push", workflow: ".github/workflows/release.yml" },
];

fn assert_identity(
    e: &VersionEvidence,
    repo: &str,
    git_ref: &str,
    commit: &str,
    trigger: &str,
    workflow: &str,
    what: &str,
) {
    let id = &e.identity;
    assert_eq!(id.issuer.as_deref(), Some(GHA), "{what}");
    assert_eq!(id.source_repository_uri.as_deref(), Some(repo), "{what}");
    assert_eq!(id.git_ref.as_deref(), Some(git_ref), "{what}");
    assert_eq!(id.commit.as_deref(), Some(commit), "{what}");
    assert_eq!(id.trigger.as_deref(), Some(trigger), "{what}");
    assert_eq!(id.workflow_path.as_deref(), Some(workflow), "{what}");
}

#[test]
fn real_attestation_sets_verify_offline_with_their_identity() {
    let Some(dir) = corpus_dir("real_attestation_sets_verify_offline_with_their_identity") else {
        return;
    };
    for set in SETS {
        let body = read(&dir, set.file);
        let e = run(
            set.name,
            set.version,
            &known(&dir, set.bytes),
            None,
            AttestationsInput::Body(&body),
        );
        assert_eq!(
            e.publish_attestation.status,
            Status::Verified,
            "{}: {e:#?}",
            set.file
        );
        assert_eq!(
            e.provenance.status,
            Status::Verified,
            "{}: {e:#?}",
            set.file
        );
        assert_eq!(e.integrity.status, Status::Verified, "{}", set.file);
        assert_eq!(
            e.publish_attestation.keyid.as_deref(),
            Some("SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA")
        );
        assert_eq!(e.publish_attestation.key_source, Some("pinned"));
        // No packument: the registry signature is not checked, and says so.
        assert_eq!(
            e.registry_signature.status,
            Status::NotChecked,
            "{}",
            set.file
        );
        assert!(codes(&e).contains(&"not-checked"));
        assert!(
            !e.findings
                .iter()
                .any(|f| f.level == npm_provenance::findings::Level::Deny),
            "{}: {:?}",
            set.file,
            e.findings
        );
        // The publish time is the publish attestation's signed Rekor time.
        assert_eq!(
            e.published.source,
            npm_provenance::verify::registry_signature::TimeSource::Rekor
        );
        assert!(e.published.time.is_some());
        assert_identity(
            &e,
            set.repo,
            set.git_ref,
            set.commit,
            set.trigger,
            set.workflow,
            set.file,
        );
    }
}

#[test]
fn reusable_workflow_set_keeps_the_callers_workflow_and_is_not_evaluated() {
    let Some(dir) = corpus_dir("reusable_workflow_set") else {
        return;
    };
    let set = &SETS[5];
    let body = read(&dir, set.file);
    let e = run(
        set.name,
        set.version,
        &known(&dir, set.bytes),
        None,
        AttestationsInput::Body(&body),
    );
    assert!(e
        .identity
        .san
        .as_deref()
        .unwrap()
        .contains("slsa-github-generator"));
    assert_eq!(
        e.identity.workflow_path.as_deref(),
        Some(".github/workflows/release-slsa3.yml")
    );
    // slsa-github-generator's buildType is not a dialect this verifier reads: info, not failure.
    assert!(codes(&e).contains(&"not-evaluated"), "{:?}", e.findings);
    assert_eq!(e.provenance.status, Status::Verified);
}

fn nuxt(dir: &Path) -> Packument {
    Packument::from_slice(&read(dir, NUXT_PACKUMENT)).expect("nuxt packument")
}

#[test]
fn nuxt_sets_verify_with_the_real_packument() {
    let Some(dir) = corpus_dir("nuxt_sets_verify_with_the_real_packument") else {
        return;
    };
    let p = nuxt(&dir);
    let cases = [
        (
            "3.13.0",
            "refs/tags/v3.13.0",
            "74ef96d096d0045fd00fccd880c1dbbfea51e22a",
            "push",
            "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA",
            None,
        ),
        (
            "4.1.2",
            "refs/heads/main",
            "412786a1d8283aaa2360a855d44ebd3ac21924f1",
            "pull_request_target",
            "SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U",
            Some("github"),
        ),
    ];
    for (version, git_ref, commit, trigger, keyid, trusted) in cases {
        let v = p.version(version).unwrap().unwrap();
        let body = read(
            &dir,
            &format!("provenance-action/npm-registry__attestations__npm-v1__nuxt@{version}.json"),
        );
        let none = Known {
            expected: None,
            tarball: None,
        };
        let e = run(
            "nuxt",
            version,
            &none,
            Some((&v, p.time_of(version))),
            AttestationsInput::Body(&body),
        );
        assert_eq!(
            e.registry_signature.status,
            Status::Verified,
            "{version}: {e:#?}"
        );
        assert_eq!(e.registry_signature.keyid.as_deref(), Some(keyid));
        assert_eq!(e.publish_attestation.status, Status::Verified, "{version}");
        assert_eq!(e.publish_attestation.keyid.as_deref(), Some(keyid));
        assert_eq!(e.provenance.status, Status::Verified, "{version}");
        // The subjects were bound to the registry-signed dist.integrity.
        assert_eq!(e.integrity.status, Status::Verified, "{version}");
        assert!(e.findings.is_empty(), "{version}: {:?}", e.findings);
        assert_identity(
            &e,
            "https://github.com/nuxt/nuxt",
            git_ref,
            commit,
            trigger,
            ".github/workflows/release.yml",
            version,
        );
        assert_eq!(e.identity.source_repository_id.as_deref(), Some("71995937"));
        assert_eq!(e.identity.owner_id.as_deref(), Some("23360933"));
        assert_eq!(
            e.identity.builder_id.as_deref(),
            Some("https://github.com/actions/runner/github-hosted")
        );
        let user = e.identity.npm_user.as_ref().unwrap();
        assert_eq!(user.trusted_publisher.as_deref(), trusted);
        // The signed time is close to (and not after) the registry's unsigned time.
        let signed = e.published.time.unwrap();
        let registry = p.time_of(version).unwrap();
        assert!(
            registry.duration_since(signed).as_secs().abs() < 600,
            "{version}: {signed} vs {registry}"
        );
        // The same with the expected integrity given, and with a wrong one.
        let good = Known {
            expected: Some(Integrity::parse(v.dist.integrity.as_deref().unwrap()).unwrap()),
            tarball: None,
        };
        let e = run(
            "nuxt",
            version,
            &good,
            Some((&v, p.time_of(version))),
            AttestationsInput::Body(&body),
        );
        assert!(e.findings.is_empty(), "{:?}", e.findings);
        let bad = Known {
            expected: None,
            tarball: Some([7; 64]),
        };
        let e = run(
            "nuxt",
            version,
            &bad,
            Some((&v, p.time_of(version))),
            AttestationsInput::Body(&body),
        );
        assert!(
            codes(&e).contains(&"integrity-mismatch"),
            "{:?}",
            e.findings
        );
        assert!(codes(&e).contains(&"subject-mismatch"), "{:?}", e.findings);
        assert_eq!(e.integrity.status, Status::Invalid);
        assert!(!e.provenance.is_verified() && !e.publish_attestation.is_verified());
    }
}

#[test]
fn every_nuxt_registry_signature_verifies_with_both_keys() {
    let Some(dir) = corpus_dir("every_nuxt_registry_signature_verifies") else {
        return;
    };
    let p = nuxt(&dir);
    let mut by_key = std::collections::BTreeMap::<String, usize>::new();
    let mut n = 0;
    for version in p.version_names().map(str::to_owned).collect::<Vec<_>>() {
        let v = p.version(&version).unwrap().unwrap();
        let none = Known {
            expected: None,
            tarball: None,
        };
        let e = run(
            "nuxt",
            &version,
            &none,
            Some((&v, p.time_of(&version))),
            AttestationsInput::NotChecked,
        );
        assert_eq!(
            e.registry_signature.status,
            Status::Verified,
            "nuxt@{version}: {:?}",
            e.registry_signature
        );
        assert_eq!(
            e.published.source,
            npm_provenance::verify::registry_signature::TimeSource::RegistryUnsigned
        );
        *by_key
            .entry(e.registry_signature.keyid.clone().unwrap())
            .or_default() += 1;
        n += 1;
        // A wrong name@version is not signed.
        if n % 50 == 1 {
            let e = run(
                "nuxt",
                &format!("{version}-x"),
                &none,
                Some((&v, p.time_of(&version))),
                AttestationsInput::NotChecked,
            );
            assert_eq!(e.registry_signature.status, Status::Invalid);
            assert!(codes(&e).contains(&"registry-signature-invalid"));
        }
    }
    assert_eq!(n, 377);
    assert_eq!(by_key.len(), 2, "{by_key:?}");
    assert_eq!(by_key.values().sum::<usize>(), 377);
}

#[test]
fn old_jl3b_signature_without_a_publish_time_is_unverifiable() {
    let Some(dir) = corpus_dir("old_jl3b_signature_without_a_publish_time") else {
        return;
    };
    let p = nuxt(&dir);
    let v = p.version("3.0.0").unwrap().unwrap();
    let none = Known {
        expected: None,
        tarball: None,
    };
    let e = run(
        "nuxt",
        "3.0.0",
        &none,
        Some((&v, None)),
        AttestationsInput::NotChecked,
    );
    assert_eq!(e.registry_signature.status, Status::Unverifiable);
    assert!(e
        .registry_signature
        .reason
        .as_deref()
        .unwrap()
        .starts_with("no-publish-time"));
    assert!(codes(&e).contains(&"unverifiable"));
    assert_eq!(e.published.time, None);
    // A DhQ8 (open-ended) signature verifies without a time.
    let v = p.version("4.1.2").unwrap().unwrap();
    let e = run(
        "nuxt",
        "4.1.2",
        &none,
        Some((&v, None)),
        AttestationsInput::NotChecked,
    );
    assert_eq!(e.registry_signature.status, Status::Verified);
}

fn version_doc(
    name: &str,
    version: &str,
    integrity: &str,
    keyid: &str,
    sig: &str,
) -> PackumentVersion {
    let doc = json!({"name": name, "version": version,
        "dist": {"integrity": integrity, "signatures": [{"keyid": keyid, "sig": sig}]}});
    let p = Packument::from_slice(&serde_json::to_vec(&doc).unwrap()).unwrap();
    p.version(version).unwrap().unwrap()
}

#[test]
fn derived_registry_signatures_verify_and_bogus_ones_fail() {
    let Some(dir) = corpus_dir("derived_registry_signatures") else {
        return;
    };
    let doc: Value =
        serde_json::from_slice(&read(&dir, "derived/registry-signatures.json")).unwrap();
    // Inside jl3b's window: what the real publish times were (before 2025-01-29).
    let in_window: jiff::Timestamp = "2023-06-01T00:00:00Z".parse().unwrap();
    let after: jiff::Timestamp = "2025-06-01T00:00:00Z".parse().unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for entry in doc["entries"].as_array().unwrap() {
        let s = |k: &str| entry[k].as_str().unwrap();
        let v = version_doc(
            s("name"),
            s("version"),
            s("integrity"),
            s("keyid"),
            s("sig"),
        );
        let none = Known {
            expected: None,
            tarball: None,
        };
        let e = run(
            s("name"),
            s("version"),
            &none,
            Some((&v, Some(in_window))),
            AttestationsInput::NotChecked,
        );
        if s("verifies") == "VALID" {
            valid += 1;
            assert_eq!(e.registry_signature.status, Status::Verified, "{entry}");
            let late = run(
                s("name"),
                s("version"),
                &none,
                Some((&v, Some(after))),
                AttestationsInput::NotChecked,
            );
            assert_eq!(late.registry_signature.status, Status::Invalid, "{entry}");
            assert!(codes(&late).contains(&"registry-key-expired"));
            let no_time = run(
                s("name"),
                s("version"),
                &none,
                Some((&v, None)),
                AttestationsInput::NotChecked,
            );
            assert_eq!(no_time.registry_signature.status, Status::Unverifiable);
        } else {
            invalid += 1;
            assert_eq!(e.registry_signature.status, Status::Invalid, "{entry}");
            assert!(codes(&e).contains(&"registry-signature-invalid"));
        }
    }
    assert!(valid >= 8 && invalid == 3, "{valid} {invalid}");
}

#[test]
fn real_packuments_without_attestations_verify_their_signatures() {
    let Some(dir) = corpus_dir("real_packuments_signatures") else {
        return;
    };
    let mut n = 0;
    for (file, name) in [
        (
            "npm-cli/registry-mocks-packuments/has-package-exports.json",
            "has-package-exports",
        ),
        (
            "npm-cli/registry-mocks-packuments/has-package-exports-patterns.json",
            "@ljharb/has-package-exports-patterns",
        ),
    ] {
        let p = Packument::from_slice(&read(&dir, file)).unwrap();
        for version in p.version_names().map(str::to_owned).collect::<Vec<_>>() {
            let v = p.version(&version).unwrap().unwrap();
            let none = Known {
                expected: None,
                tarball: None,
            };
            let e = run(
                name,
                &version,
                &none,
                Some((&v, p.time_of(&version))),
                AttestationsInput::NotFound,
            );
            assert_eq!(
                e.registry_signature.status,
                Status::Verified,
                "{name}@{version}"
            );
            assert_eq!(e.provenance.status, Status::Missing);
            assert_eq!(e.publish_attestation.status, Status::NotApplicable);
            assert!(codes(&e).contains(&"provenance-missing"));
            assert!(e
                .identity
                .npm_user
                .as_ref()
                .and_then(|u| u.name.as_ref())
                .is_some());
            n += 1;
        }
    }
    assert_eq!(n, 14);
}

// ---------------------------------------------------------------------------------------------
// Negatives, one table.

enum Which {
    Publish,
    Provenance,
    Integrity,
}

struct Negative {
    file: &'static str,
    name: &'static str,
    version: &'static str,
    bytes: Bytes,
    code: &'static str,
    /// The part that must not be verified.
    part: Which,
}

const LAURENT: &str = "@laurentsimon/provenance-npm-test";
const LAURENT_100: Bytes = Bytes::Integrity("sha512-KdGfJiM/REEyhBKzT9c+0QTs/vYvFAl4kMzPdFW1IbZcWs/4UYSfqoXIU5WqItQBQ28B86+2GxnHgOkGyIx/IA==");
const SIGSTORE_040: Bytes = Bytes::Tarball("npm-registry-tarballs/sigstore-0.4.0.tgz");
const INTERNAL: &str = "slsa-verifier/gha-internal-testdata/";

fn negatives() -> Vec<Negative> {
    let mut v = Vec::new();
    let cli = [
        ("gundam-visor-cli-v1-tag", "gundam-visor", "1.0.1"),
        ("provenance-npm-test-cli-v02-prega", LAURENT, "1.0.3"),
        ("provenance-npm-test-cli-v1-prega", "sigstore", "2.3.1"),
        ("provenance-npm-test-ossf", LAURENT, "1.0.5"),
        (
            "supreme-googles-cli-v02-tag",
            "@trishankatdatadog/supreme-goggles",
            "1.0.5",
        ),
    ];
    for (stem, name, version) in cli {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let tgz = leak(format!("slsa-verifier/cli-testdata-npm-gha/{stem}.tgz"));
        v.push(Negative {
            file: leak(format!(
                "slsa-verifier/cli-testdata-npm-gha/{stem}-invalidsigprov.tgz.json"
            )),
            name,
            version,
            bytes: Bytes::Tarball(tgz),
            code: "provenance-invalid",
            part: Which::Provenance,
        });
        v.push(Negative {
            file: leak(format!(
                "slsa-verifier/cli-testdata-npm-gha/{stem}-invalidsigpub.tgz.json"
            )),
            name,
            version,
            bytes: Bytes::Tarball(tgz),
            code: "publish-attestation-invalid",
            part: Which::Publish,
        });
    }
    let internal = [
        (
            "npm-att-prov-invalid-signature",
            "provenance-invalid",
            Which::Provenance,
        ),
        (
            "npm-att-publish-invalid-signature",
            "publish-attestation-invalid",
            Which::Publish,
        ),
        (
            "npm-att-publish-nodigest",
            "publish-attestation-invalid",
            Which::Publish,
        ),
        (
            "npm-att-publish-nosubjects",
            "publish-attestation-invalid",
            Which::Publish,
        ),
        (
            "npm-att-mismatch-prov-payloadtype",
            "provenance-invalid",
            Which::Provenance,
        ),
        // Byte-identical to the prov one: it also alters the provenance slot (MANIFEST §2.2).
        (
            "npm-att-mismatch-pub-payloadtype",
            "provenance-invalid",
            Which::Provenance,
        ),
        (
            "npm-att-mismatch-prov-predicatetype",
            "provenance-inconsistent",
            Which::Provenance,
        ),
        (
            "npm-att-mismatch-pub-predicatetype",
            "publish-attestation-invalid",
            Which::Publish,
        ),
        (
            "npm-stmt-mismatch-prov-predicatetype",
            "provenance-invalid",
            Which::Provenance,
        ),
        (
            "npm-stmt-mismatch-prov-type",
            "provenance-invalid",
            Which::Provenance,
        ),
        (
            "npm-stmt-mismatch-pub-predicatetype",
            "publish-attestation-invalid",
            Which::Publish,
        ),
        (
            "npm-stmt-mismatch-pub-type",
            "publish-attestation-invalid",
            Which::Publish,
        ),
    ];
    for (stem, code, part) in internal {
        let file: &'static str =
            Box::leak(format!("{INTERNAL}{stem}.intoto.sigstore").into_boxed_str());
        v.push(Negative {
            file,
            name: LAURENT,
            version: "1.0.0",
            bytes: LAURENT_100,
            code,
            part,
        });
    }
    let pacote = [
        ("invalid", "publish-attestation-invalid", Which::Publish),
        ("unsupported", "publish-attestation-invalid", Which::Publish),
        (
            "malformed-subject",
            "publish-attestation-invalid",
            Which::Publish,
        ),
        (
            "mismatched-subject-digest",
            "subject-mismatch",
            Which::Publish,
        ),
        (
            "mismatched-subject-name",
            "subject-mismatch",
            Which::Publish,
        ),
        ("mismatched-keyid", "provenance-invalid", Which::Provenance),
        ("no-keyid", "provenance-invalid", Which::Provenance),
    ];
    for (stem, code, part) in pacote {
        let file: &'static str = Box::leak(
            format!("pacote/sigstore-fixtures/{stem}-attestations.json").into_boxed_str(),
        );
        v.push(Negative {
            file,
            name: "sigstore",
            version: "0.4.0",
            bytes: SIGSTORE_040,
            code,
            part,
        });
    }
    v
}

fn part(e: &VersionEvidence, w: &Which) -> Status {
    match w {
        Which::Publish => e.publish_attestation.status,
        Which::Provenance => e.provenance.status,
        Which::Integrity => e.integrity.status,
    }
}

#[test]
fn every_corpus_negative_yields_its_code() {
    let Some(dir) = corpus_dir("every_corpus_negative_yields_its_code") else {
        return;
    };
    let list = negatives();
    assert_eq!(list.len(), 29);
    for n in &list {
        let body = read(&dir, n.file);
        let e = run(
            n.name,
            n.version,
            &known(&dir, n.bytes),
            None,
            AttestationsInput::Body(&body),
        );
        eprintln!(
            "{}: {:?}",
            n.file,
            e.findings
                .iter()
                .filter(|f| f.code != "not-checked")
                .map(|f| format!("{} {}", f.code, f.message))
                .collect::<Vec<_>>()
        );
        assert!(
            codes(&e).contains(&n.code),
            "{}: expected {} in {:?}",
            n.file,
            n.code,
            e.findings
        );
        assert_ne!(part(&e, &n.part), Status::Verified, "{}", n.file);
        assert_eq!(part(&e, &n.part), Status::Invalid, "{}", n.file);
    }
}

#[test]
fn pacote_no_keyid_publish_still_verifies() {
    let Some(dir) = corpus_dir("pacote_no_keyid_publish_still_verifies") else {
        return;
    };
    let body = read(&dir, "pacote/sigstore-fixtures/no-keyid-attestations.json");
    let e = run(
        "sigstore",
        "0.4.0",
        &known(&dir, SIGSTORE_040),
        None,
        AttestationsInput::Body(&body),
    );
    assert_eq!(e.publish_attestation.status, Status::Verified, "{e:#?}");
    assert_eq!(e.provenance.status, Status::Invalid);
    // Identity only ever comes from a verified provenance.
    assert_eq!(e.identity.source_repository_uri, None);
}

/// Wraps raw bundle text into an attestations response (text, so a non-JSON bundle stays so).
fn wrap(predicate_type: &str, bundle: &[u8]) -> Vec<u8> {
    let mut out =
        format!("{{\"attestations\":[{{\"predicateType\":\"{predicate_type}\",\"bundle\":")
            .into_bytes();
    out.extend_from_slice(bundle);
    out.extend_from_slice(b"}]}");
    out
}

#[test]
fn libnpmpublish_bundles_without_tlog_are_provenance_invalid() {
    let Some(dir) = corpus_dir("libnpmpublish_bundles") else {
        return;
    };
    let tarball =
        Bytes::Tarball("npm-cli/libnpmpublish-fixtures/npmcli-libnpmpublish-test-1.0.0.tgz");
    for stem in [
        "valid-bundle",
        "bad-dsse-payload-bundle",
        "digest-mismatch-provenance-bundle",
        "invalid-signature-bundle",
        "multi-subject-provenance-bundle",
        "no-provenance-envelope-bundle",
        "no-provenance-subject-bundle",
    ] {
        let body = wrap(
            "https://slsa.dev/provenance/v0.2",
            &read(&dir, &format!("npm-cli/libnpmpublish-fixtures/{stem}.json")),
        );
        let e = run(
            "@npmcli/libnpmpublish-test",
            "1.0.0",
            &known(&dir, tarball),
            None,
            AttestationsInput::Body(&body),
        );
        assert_eq!(e.provenance.status, Status::Invalid, "{stem}: {e:#?}");
        assert!(
            codes(&e).contains(&"provenance-invalid") || codes(&e).contains(&"subject-mismatch"),
            "{stem}: {:?}",
            e.findings
        );
        // And no publish attestation came with it.
        assert!(codes(&e).contains(&"publish-attestation-missing"), "{stem}");
    }
    // Not JSON at all: the response is unusable, so nothing verifies.
    let body = wrap(
        "https://slsa.dev/provenance/v0.2",
        &read(&dir, "npm-cli/libnpmpublish-fixtures/bad-bundle.json"),
    );
    let e = run(
        "@npmcli/libnpmpublish-test",
        "1.0.0",
        &known(&dir, tarball),
        None,
        AttestationsInput::Body(&body),
    );
    assert_eq!(e.provenance.status, Status::Unverifiable);
    assert!(codes(&e).contains(&"unverifiable"));
}

#[test]
fn certificate_signed_bundle_in_the_publish_slot_is_invalid() {
    let Some(dir) = corpus_dir("certificate_signed_publish") else {
        return;
    };
    // sigstore-js test bundles: valid Sigstore bundles over a publish-shaped statement for
    // sigstore@1.0.0, signed by a Fulcio certificate, not by npm's key.
    for stem in [
        "bundleV03-dsse",
        "bundleV02-dsse",
        "bundleV01-dsse-with-proof",
    ] {
        let body = wrap(
            PUBLISH,
            &read(&dir, &format!("sigstore-js/tests-bundles/{stem}.sigstore")),
        );
        let e = run(
            "sigstore",
            "1.0.0",
            &known(
                &dir,
                Bytes::Tarball("npm-registry-tarballs/sigstore-1.0.0.tgz"),
            ),
            None,
            AttestationsInput::Body(&body),
        );
        assert_eq!(e.publish_attestation.status, Status::Invalid, "{stem}");
        assert!(
            codes(&e).contains(&"publish-attestation-invalid"),
            "{stem}: {:?}",
            e.findings
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Presence.

fn nuxt_412(dir: &Path) -> (PackumentVersion, Option<jiff::Timestamp>, Vec<u8>) {
    let p = nuxt(dir);
    (
        p.version("4.1.2").unwrap().unwrap(),
        p.time_of("4.1.2"),
        read(
            dir,
            "provenance-action/npm-registry__attestations__npm-v1__nuxt@4.1.2.json",
        ),
    )
}

fn only(body: &[u8], keep_publish: bool) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(body).unwrap();
    let list = v["attestations"].as_array_mut().unwrap();
    list.retain(|a| (a["predicateType"] == PUBLISH) == keep_publish);
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn presence_rules() {
    let Some(dir) = corpus_dir("presence_rules") else {
        return;
    };
    let (v, t, body) = nuxt_412(&dir);
    let none = Known {
        expected: None,
        tarball: None,
    };
    // Announced, but the endpoint has none.
    let e = run(
        "nuxt",
        "4.1.2",
        &none,
        Some((&v, t)),
        AttestationsInput::NotFound,
    );
    assert!(codes(&e).contains(&"attestations-missing"));
    assert_eq!(e.provenance.status, Status::Missing);
    let e = run(
        "nuxt",
        "4.1.2",
        &none,
        Some((&v, t)),
        AttestationsInput::Body(br#"{"attestations":[]}"#),
    );
    assert!(codes(&e).contains(&"attestations-missing"));
    // Provenance without the publish attestation.
    let prov_only = only(&body, false);
    let e = run(
        "nuxt",
        "4.1.2",
        &none,
        Some((&v, t)),
        AttestationsInput::Body(&prov_only),
    );
    assert!(codes(&e).contains(&"publish-attestation-missing"));
    assert_eq!(e.publish_attestation.status, Status::Missing);
    assert_eq!(e.provenance.status, Status::Verified);
    // Publish only, while provenance is announced.
    let pub_only = only(&body, true);
    let e = run(
        "nuxt",
        "4.1.2",
        &none,
        Some((&v, t)),
        AttestationsInput::Body(&pub_only),
    );
    assert!(codes(&e).contains(&"attestations-missing"));
    assert_eq!(e.publish_attestation.status, Status::Verified);
    // Attestations the packument does not announce.
    let mut unannounced = v.clone();
    unannounced.dist.attestations = None;
    let e = run(
        "nuxt",
        "4.1.2",
        &none,
        Some((&unannounced, t)),
        AttestationsInput::Body(&body),
    );
    assert!(codes(&e).contains(&"attestations-unannounced"));
    assert_eq!(e.provenance.status, Status::Verified);
    // Not announced, none served: no provenance (info), publish not applicable.
    let e = run(
        "nuxt",
        "4.1.2",
        &none,
        Some((&unannounced, t)),
        AttestationsInput::NotFound,
    );
    assert_eq!(codes(&e), vec!["provenance-missing"]);
    assert_eq!(e.publish_attestation.status, Status::NotApplicable);
    // A failed fetch is unverifiable, never verified nor missing.
    let e = run(
        "nuxt",
        "4.1.2",
        &none,
        Some((&v, t)),
        AttestationsInput::FetchFailed("HTTP 503"),
    );
    assert_eq!(e.provenance.status, Status::Unverifiable);
    assert!(codes(&e).contains(&"unverifiable"));
    // A garbage body likewise.
    let e = run(
        "nuxt",
        "4.1.2",
        &none,
        Some((&v, t)),
        AttestationsInput::Body(b"<html>"),
    );
    assert_eq!(e.publish_attestation.status, Status::Unverifiable);
    // Two provenance entries: invalid, never "pick one".
    let mut doubled: Value = serde_json::from_slice(&body).unwrap();
    let extra = doubled["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["predicateType"] != PUBLISH)
        .unwrap()
        .clone();
    doubled["attestations"].as_array_mut().unwrap().push(extra);
    let doubled = serde_json::to_vec(&doubled).unwrap();
    let e = run(
        "nuxt",
        "4.1.2",
        &none,
        Some((&v, t)),
        AttestationsInput::Body(&doubled),
    );
    assert_eq!(e.provenance.status, Status::Invalid);
}

#[test]
fn registry_keys_from_the_registry_are_reported_unpinned() {
    let Some(dir) = corpus_dir("registry_keys_unpinned") else {
        return;
    };
    let (v, t, body) = nuxt_412(&dir);
    let k = NpmKeys::from_json(
        &read(&dir, "derived/npm-v1-keys.from-corepack.json"),
        KeySource::RegistryUnpinned,
    )
    .unwrap();
    let input = VersionInput {
        name: "nuxt",
        version: "4.1.2",
        expected_integrity: None,
        tarball_sha512: None,
        packument_version: Some(&v),
        packument_time: t,
        attestations: AttestationsInput::Body(&body),
    };
    let e = verify_version(
        &input,
        &VerifyContext {
            sigstore: trust(),
            npm_keys: &k,
        },
    );
    assert!(codes(&e).contains(&"registry-keys-unpinned"));
    assert_eq!(e.registry_signature.key_source, Some("registry-unpinned"));
    assert_eq!(e.registry_signature.status, Status::Verified);
    // A key set without the signing key: the key is unknown, and the message says how to refresh.
    let old = NpmKeys::from_json(
        &read(
            &dir,
            "derived/npm-v1-keys.before-2025-01-27.from-corepack.json",
        ),
        KeySource::UserFile(PathBuf::from("k.json")),
    )
    .unwrap();
    let e = verify_version(
        &input,
        &VerifyContext {
            sigstore: trust(),
            npm_keys: &old,
        },
    );
    assert!(codes(&e).contains(&"registry-key-unknown"));
    assert!(e
        .findings
        .iter()
        .any(|f| f.message.contains("trust-roots update")));
    assert_eq!(e.publish_attestation.status, Status::Invalid);
    assert_ne!(e.registry_signature.status, Status::Verified);
}

// ---------------------------------------------------------------------------------------------
// Tampering: flipping a byte of a signed payload, a signature or the expected integrity never
// leaves the part verified.

/// A small deterministic generator (xorshift) so the property test is reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn flip_field(body: &[u8], publish: bool, pointer: &str, rng: &mut Rng) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(body).unwrap();
    let entry = v["attestations"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|a| (a["predicateType"] == PUBLISH) == publish)
        .unwrap();
    let field = entry["bundle"].pointer_mut(pointer).unwrap();
    let mut raw = b64().decode(field.as_str().unwrap()).unwrap();
    let i = rng.next(raw.len());
    raw[i] ^= 1 << rng.next(8);
    *field = Value::String(b64().encode(raw));
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn flipping_a_byte_never_verifies() {
    let Some(dir) = corpus_dir("flipping_a_byte_never_verifies") else {
        return;
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for set in SETS {
        let body = read(&dir, set.file);
        let k = known(&dir, set.bytes);
        for publish in [true, false] {
            for pointer in ["/dsseEnvelope/payload", "/dsseEnvelope/signatures/0/sig"] {
                for _ in 0..3 {
                    let tampered = flip_field(&body, publish, pointer, &mut rng);
                    let e = run(
                        set.name,
                        set.version,
                        &k,
                        None,
                        AttestationsInput::Body(&tampered),
                    );
                    let slot = if publish {
                        &e.publish_attestation
                    } else {
                        &e.provenance
                    };
                    assert_ne!(
                        slot.status,
                        Status::Verified,
                        "{} {pointer} publish={publish}",
                        set.file
                    );
                    assert!(e
                        .findings
                        .iter()
                        .any(|f| f.level == npm_provenance::findings::Level::Deny));
                }
            }
        }
        // The expected integrity.
        let mut digest = k
            .tarball
            .unwrap_or_else(|| k.expected.as_ref().unwrap().sha512_bytes().unwrap());
        digest[rng.next(64)] ^= 1 << rng.next(8);
        let flipped = Known {
            expected: None,
            tarball: Some(digest),
        };
        let e = run(
            set.name,
            set.version,
            &flipped,
            None,
            AttestationsInput::Body(&body),
        );
        assert!(
            !e.publish_attestation.is_verified() && !e.provenance.is_verified(),
            "{}",
            set.file
        );
        assert!(codes(&e).contains(&"subject-mismatch"), "{}", set.file);
        let _ = &Which::Integrity;
    }
}

// ---------------------------------------------------------------------------------------------
// Times and key windows.

#[test]
fn signed_publish_time_beats_a_mirror_rewritten_registry_time() {
    let Some(dir) = corpus_dir("signed_publish_time_beats_mirror_time") else {
        return;
    };
    let p = nuxt(&dir);
    let v = p.version("3.13.0").unwrap().unwrap();
    let body = read(&dir, &nuxt_attestations_file("3.13.0"));
    let none = Known {
        expected: None,
        tarball: None,
    };
    // A mirror's ingestion time, after jl3b's window closed (MANIFEST §3).
    let mirror: jiff::Timestamp = "2026-11-23T03:40:00Z".parse().unwrap();
    let e = run(
        "nuxt",
        "3.13.0",
        &none,
        Some((&v, Some(mirror))),
        AttestationsInput::NotChecked,
    );
    assert_eq!(e.registry_signature.status, Status::Invalid);
    assert!(codes(&e).contains(&"registry-key-expired"));
    // The publish attestation's signed time dates the signature inside the window.
    let e = run(
        "nuxt",
        "3.13.0",
        &none,
        Some((&v, Some(mirror))),
        AttestationsInput::Body(&body),
    );
    assert_eq!(
        e.registry_signature.status,
        Status::Verified,
        "{:?}",
        e.findings
    );
    assert_eq!(
        e.published.source,
        npm_provenance::verify::registry_signature::TimeSource::Rekor
    );
    assert!(e.published.time.unwrap() < "2025-01-29T00:00:00Z".parse().unwrap());
    // And without any registry time at all.
    let e = run(
        "nuxt",
        "3.13.0",
        &none,
        Some((&v, None)),
        AttestationsInput::Body(&body),
    );
    assert_eq!(e.registry_signature.status, Status::Verified);
}

fn nuxt_attestations_file(version: &str) -> String {
    format!("provenance-action/npm-registry__attestations__npm-v1__nuxt@{version}.json")
}

/// The embedded keys.json with the `npm:attestations` window of `keyid` replaced.
fn keys_with_attestations_window(keyid: &str, start: &str, end: Option<&str>) -> NpmKeys {
    let mut v: Value = serde_json::from_str(npm_provenance::trust::NPM_KEYS).unwrap();
    let mut changed = 0;
    for k in v["keys"].as_array_mut().unwrap() {
        if k["keyId"] == keyid && k["keyUsage"] == "npm:attestations" {
            k["publicKey"]["validFor"] = match end {
                Some(end) => json!({"start": start, "end": end}),
                None => json!({"start": start}),
            };
            changed += 1;
        }
    }
    assert_eq!(changed, 1);
    NpmKeys::from_json(
        &serde_json::to_vec(&v).unwrap(),
        KeySource::UserFile(PathBuf::from("keys.json")),
    )
    .unwrap()
}

#[test]
fn publish_attestation_key_must_be_valid_at_the_signed_time() {
    let Some(dir) = corpus_dir("publish_attestation_key_window") else {
        return;
    };
    let set = &SETS[1]; // sigstore@1.0.0, signed 2023 with jl3b
    let body = read(&dir, set.file);
    let k = known(&dir, set.bytes);
    let jl3b = "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA";
    for (start, end, ok) in [
        (
            "2022-12-01T00:00:00.000Z",
            Some("2025-01-29T00:00:00.000Z"),
            true,
        ),
        (
            "2022-12-01T00:00:00.000Z",
            Some("2022-12-31T00:00:00.000Z"),
            false,
        ),
        ("2024-01-01T00:00:00.000Z", None, false),
    ] {
        let keys = keys_with_attestations_window(jl3b, start, end);
        let input = VersionInput {
            name: set.name,
            version: set.version,
            expected_integrity: k.expected.clone(),
            tarball_sha512: k.tarball,
            packument_version: None,
            packument_time: None,
            attestations: AttestationsInput::Body(&body),
        };
        let e = verify_version(
            &input,
            &VerifyContext {
                sigstore: trust(),
                npm_keys: &keys,
            },
        );
        assert_eq!(
            e.publish_attestation.is_verified(),
            ok,
            "{start} {end:?}: {:?}",
            e.findings
        );
        assert_eq!(e.publish_attestation.key_source.is_some(), ok);
        if !ok {
            assert!(codes(&e).contains(&"publish-attestation-invalid"));
            // The provenance does not depend on the npm key.
            assert!(e.provenance.is_verified());
            // Without a verified publish attestation there is no signed publish time.
            assert_eq!(e.published.time, None);
        }
    }
}

#[test]
fn flipping_a_byte_of_the_nuxt_sets_or_their_registry_signature_never_verifies() {
    let Some(dir) = corpus_dir("flipping_nuxt") else {
        return;
    };
    let p = nuxt(&dir);
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for version in ["3.13.0", "4.1.2"] {
        let v = p.version(version).unwrap().unwrap();
        let t = p.time_of(version);
        let body = read(&dir, &nuxt_attestations_file(version));
        let none = Known {
            expected: None,
            tarball: None,
        };
        for publish in [true, false] {
            for pointer in ["/dsseEnvelope/payload", "/dsseEnvelope/signatures/0/sig"] {
                for _ in 0..4 {
                    let tampered = flip_field(&body, publish, pointer, &mut rng);
                    let e = run(
                        "nuxt",
                        version,
                        &none,
                        Some((&v, t)),
                        AttestationsInput::Body(&tampered),
                    );
                    let slot = if publish {
                        &e.publish_attestation
                    } else {
                        &e.provenance
                    };
                    assert_ne!(
                        slot.status,
                        Status::Verified,
                        "{version} {pointer} publish={publish}"
                    );
                }
            }
        }
        // The registry signature and dist.integrity.
        for _ in 0..4 {
            let mut w = v.clone();
            let mut sig = b64().decode(&w.dist.signatures[0].sig).unwrap();
            let i = rng.next(sig.len());
            sig[i] ^= 1 << rng.next(8);
            w.dist.signatures[0].sig = b64().encode(sig);
            let e = run(
                "nuxt",
                version,
                &none,
                Some((&w, t)),
                AttestationsInput::Body(&body),
            );
            assert_ne!(
                e.registry_signature.status,
                Status::Verified,
                "{version} sig"
            );
            let mut w = v.clone();
            let mut digest = b64()
                .decode(&w.dist.integrity.as_ref().unwrap()[7..])
                .unwrap();
            let i = rng.next(digest.len());
            digest[i] ^= 1 << rng.next(8);
            w.dist.integrity = Some(format!("sha512-{}", b64().encode(digest)));
            let e = run(
                "nuxt",
                version,
                &none,
                Some((&w, t)),
                AttestationsInput::Body(&body),
            );
            assert_ne!(
                e.registry_signature.status,
                Status::Verified,
                "{version} integrity"
            );
            assert!(!e.provenance.is_verified() && !e.publish_attestation.is_verified());
        }
    }
}

#[test]
fn another_packages_attestations_make_the_integrity_part_invalid() {
    let Some(dir) = corpus_dir("another_packages_attestations") else {
        return;
    };
    let (v, t, _) = nuxt_412(&dir);
    let other = read(&dir, SETS[9].file); // gundam-visor@1.0.1
    let none = Known {
        expected: None,
        tarball: None,
    };
    let e = run(
        "nuxt",
        "4.1.2",
        &none,
        Some((&v, t)),
        AttestationsInput::Body(&other),
    );
    assert!(e.registry_signature.is_verified());
    assert_eq!(e.integrity.status, Status::Invalid);
    assert_eq!(e.integrity.reason.as_deref(), Some("subject-mismatch"));
    assert!(!e.provenance.is_verified() && !e.publish_attestation.is_verified());
    assert!(codes(&e).contains(&"subject-mismatch"));
    assert_eq!(e.identity.source_repository_uri, None);
}
