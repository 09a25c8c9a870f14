//! Every real bundle and npm attestation set of the corpus (MANIFEST §2.1, §6, §9) verifies
//! through `verify_bundle` — the code path the product uses — with the identity MANIFEST lists;
//! every cryptographic negative (§2.2, §6) fails at the step the test names.

use base64::Engine as _;
use npm_provenance::trust::{NPM_KEYS, PRODUCTION_TRUSTED_ROOT, STAGING_TRUSTED_ROOT};
use npm_provenance::verify::{
    verify_bundle, ArtifactRef, BundleError, FulcioIdentity, Matcher, SanKind, Signer,
    SignerPolicy, SigstoreTrust, Step, TimeSource, VerifiedBundle,
};
use npm_provenance_testkit::corpus::corpus_dir;
use serde_json::Value;
use sha2::{Digest, Sha512};
use std::path::{Path, PathBuf};

pub const GHA: &str = "https://token.actions.githubusercontent.com";
pub const PUBLISH: &str = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";

pub fn production() -> SigstoreTrust {
    SigstoreTrust::from_json(PRODUCTION_TRUSTED_ROOT).expect("embedded production root")
}

fn read(dir: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The npm key (DER SPKI) named by a publish bundle's hint, from the embedded keys.json.
pub fn npm_key(hint: &str) -> Vec<u8> {
    let keys: Value = serde_json::from_str(NPM_KEYS).unwrap();
    let key = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["keyId"] == hint && k["keyUsage"] == "npm:attestations")
        .unwrap_or_else(|| panic!("no npm:attestations key {hint}"));
    base64::engine::general_purpose::STANDARD
        .decode(key["publicKey"]["rawBytes"].as_str().unwrap())
        .unwrap()
}

/// The two bundles of an npm attestations response, selected by predicateType (never index).
pub fn split_response(json: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let v: Value = serde_json::from_slice(json).unwrap();
    let pick = |publish: bool| {
        let a = v["attestations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| (a["predicateType"] == PUBLISH) == publish)
            .unwrap();
        serde_json::to_vec(&a["bundle"]).unwrap()
    };
    (pick(true), pick(false))
}

fn hint_of(bundle: &[u8]) -> String {
    let v: Value = serde_json::from_slice(bundle).unwrap();
    v["verificationMaterial"]["publicKey"]["hint"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub fn sha512_of_integrity(integrity: &str) -> [u8; 64] {
    let b = base64::engine::general_purpose::STANDARD
        .decode(integrity.strip_prefix("sha512-").unwrap())
        .unwrap();
    b.try_into().unwrap()
}

pub fn cert_policy(san: &str, issuer: &str) -> SignerPolicy {
    SignerPolicy::Certificate {
        san: Some(Matcher::Exact(san.into())),
        issuer: Some(Matcher::Exact(issuer.into())),
    }
}

fn identity(b: &VerifiedBundle) -> &FulcioIdentity {
    match b.signer() {
        Signer::Certificate(id) => id,
        other => panic!("expected a certificate signer, got {other:?}"),
    }
}

fn assert_rekor_time(b: &VerifiedBundle, what: &str) {
    assert!(
        b.times()
            .iter()
            .any(|t| t.source == TimeSource::Rekor && t.log_index.is_some() && t.log_id.is_some()),
        "{what}: no Rekor time in {:?}",
        b.times()
    );
    assert!(b.integrated_time().is_some(), "{what}");
}

/// One real npm attestation set of MANIFEST §2.1 / §9.
struct Set {
    file: &'static str,
    /// The tarball in the corpus, or the `dist.integrity` when there is none.
    artifact: Artifact,
    san: &'static str,
    /// (subject name, source repository, commit) as MANIFEST lists them.
    subject: &'static str,
    repo: &'static str,
    commit: &'static str,
}

enum Artifact {
    Tarball(&'static str),
    Integrity(&'static str),
}

const SETS: &[Set] = &[
    Set {
        file: "pacote/sigstore-fixtures/valid-attestations.json",
        artifact: Artifact::Tarball("npm-registry-tarballs/sigstore-0.4.0.tgz"),
        san: "https://github.com/sigstore/sigstore-js/.github/workflows/publish.yml@refs/tags/v0.4.0",
        subject: "pkg:npm/sigstore@0.4.0",
        repo: "https://github.com/sigstore/sigstore-js",
        commit: "8a2ee2fd20dda58ffa4a8d808a65cb1e04711c03",
    },
    Set {
        file: "npm-cli/audit-signatures-fixtures/valid-sigstore-attestations.json",
        artifact: Artifact::Tarball("npm-registry-tarballs/sigstore-1.0.0.tgz"),
        san: "https://github.com/sigstore/sigstore-js/.github/workflows/publish.yml@refs/tags/v1.0.0",
        subject: "pkg:npm/sigstore@1.0.0",
        repo: "https://github.com/sigstore/sigstore-js",
        commit: "06528997c3c8ab9f864fad9a3658446aca7fd86d",
    },
    Set {
        file: "npm-cli/audit-signatures-fixtures/valid-tuf-js-attestations.json",
        artifact: Artifact::Tarball("npm-registry-tarballs/tuf-js-1.0.0.tgz"),
        san: "https://github.com/theupdateframework/tuf-js/.github/workflows/publish.yml@refs/tags/v1.0.0",
        subject: "pkg:npm/tuf-js@1.0.0",
        repo: "https://github.com/theupdateframework/tuf-js",
        commit: "99624cc7ce39872e6bd08a0df59229a48562dbca",
    },
    Set {
        file: "slsa-verifier/gha-internal-testdata/npm-attestations.intoto.sigstore",
        artifact: Artifact::Integrity("sha512-KdGfJiM/REEyhBKzT9c+0QTs/vYvFAl4kMzPdFW1IbZcWs/4UYSfqoXIU5WqItQBQ28B86+2GxnHgOkGyIx/IA=="),
        san: "https://github.com/laurentsimon/provenance-npm-test/.github/workflows/release.yml@refs/heads/main",
        subject: "pkg:npm/%40laurentsimon/provenance-npm-test@1.0.0",
        repo: "https://github.com/laurentsimon/provenance-npm-test",
        commit: "16babffb9153811e193c019939391357372b25ce",
    },
    Set {
        file: "slsa-verifier/cli-testdata-npm-gha/provenance-npm-test-cli-v02-prega.tgz.json",
        artifact: Artifact::Tarball("slsa-verifier/cli-testdata-npm-gha/provenance-npm-test-cli-v02-prega.tgz"),
        san: "https://github.com/laurentsimon/provenance-npm-test/.github/workflows/release.yml@refs/heads/main",
        subject: "pkg:npm/%40laurentsimon/provenance-npm-test@1.0.3",
        repo: "https://github.com/laurentsimon/provenance-npm-test",
        commit: "b38894f2dda4355ea5606fccb166e61565e12a14",
    },
    Set {
        file: "slsa-verifier/cli-testdata-npm-gha/provenance-npm-test-ossf.tgz.json",
        artifact: Artifact::Tarball("slsa-verifier/cli-testdata-npm-gha/provenance-npm-test-ossf.tgz"),
        san: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_lowperms-generic_slsa3.yml@refs/tags/v1.6.0",
        subject: "pkg:npm/%40laurentsimon/provenance-npm-test@1.0.5",
        repo: "https://github.com/laurentsimon/provenance-npm-test",
        commit: "34490b44db557f009617bcb92b8780f972c189ab",
    },
    Set {
        file: "slsa-verifier/cli-testdata-npm-gha/supreme-googles-cli-v02-tag.tgz.json",
        artifact: Artifact::Tarball("slsa-verifier/cli-testdata-npm-gha/supreme-googles-cli-v02-tag.tgz"),
        san: "https://github.com/trishankatdatadog/supreme-goggles/.github/workflows/npm-publish.yml@refs/tags/v1.0.5",
        subject: "pkg:npm/%40trishankatdatadog/supreme-goggles@1.0.5",
        repo: "https://github.com/trishankatdatadog/supreme-goggles",
        commit: "38ebf99444e033b2f1550c9aaaeacd62d02a12ba",
    },
    Set {
        file: "pkgxray/attestation-sigstore-protobuf-0.2.1.json",
        artifact: Artifact::Tarball("npm-registry-tarballs/sigstore_protobuf-specs-0.2.1.tgz"),
        san: "https://github.com/sigstore/protobuf-specs/.github/workflows/typescript-publish.yml@refs/tags/release/typescript/v0.2.1",
        subject: "pkg:npm/%40sigstore/protobuf-specs@0.2.1",
        repo: "https://github.com/sigstore/protobuf-specs",
        commit: "90ce2af553f37d3a76006f6c1f4a2cfbf9e1974e",
    },
    Set {
        file: "slsa-verifier/cli-testdata-npm-gha/provenance-npm-test-cli-v1-prega.tgz.json",
        artifact: Artifact::Tarball("slsa-verifier/cli-testdata-npm-gha/provenance-npm-test-cli-v1-prega.tgz"),
        san: "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
        subject: "pkg:npm/sigstore@2.3.1",
        repo: "https://github.com/sigstore/sigstore-js",
        commit: "46e7056ff9912ebfee5298d94024895a9fea76c0",
    },
    Set {
        file: "slsa-verifier/cli-testdata-npm-gha/gundam-visor-cli-v1-tag.tgz.json",
        artifact: Artifact::Tarball("slsa-verifier/cli-testdata-npm-gha/gundam-visor-cli-v1-tag.tgz"),
        san: "https://github.com/ramonpetgrave64/gundam-visor/.github/workflows/npm-publish.yml@refs/tags/v1.0.1",
        subject: "pkg:npm/gundam-visor@1.0.1",
        repo: "https://github.com/ramonpetgrave64/gundam-visor",
        commit: "599500821344b070902a7a5666064bfdaba715df",
    },
    Set {
        file: "pkgxray/attestation-actions-core-1.11.1.json",
        artifact: Artifact::Tarball("npm-registry-tarballs/actions_core-1.11.1.tgz"),
        san: "https://github.com/actions/toolkit/.github/workflows/releases.yml@refs/heads/main",
        subject: "pkg:npm/%40actions/core@1.11.1",
        repo: "https://github.com/actions/toolkit",
        commit: "d14afd7973c037fa9f72882decd1eb3befa36135",
    },
    Set {
        file: "pkg-registry/sigstore-3.0.0.attestations.json",
        artifact: Artifact::Tarball("pkg-registry/sigstore-3.0.0.tgz"),
        san: "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
        subject: "pkg:npm/sigstore@3.0.0",
        repo: "https://github.com/sigstore/sigstore-js",
        commit: "3a57a741bfb9f7c3bca69b63e170fc28e9432e69",
    },
];

fn artifact_digest(dir: &Path, a: &Artifact) -> [u8; 64] {
    match a {
        Artifact::Tarball(rel) => Sha512::digest(read(dir, rel)).into(),
        Artifact::Integrity(i) => sha512_of_integrity(i),
    }
}

/// Verifies both bundles of a response; returns (publish, provenance).
fn verify_set(
    trust: &SigstoreTrust,
    json: &[u8],
    digest: [u8; 64],
    san: &str,
) -> (
    Result<VerifiedBundle, BundleError>,
    Result<VerifiedBundle, BundleError>,
) {
    let (publish, provenance) = split_response(json);
    let key = npm_key(&hint_of(&publish));
    let p = verify_bundle(
        trust,
        &publish,
        ArtifactRef::Sha512(digest),
        &SignerPolicy::PublicKey { spki_der: key },
    );
    let v = verify_bundle(
        trust,
        &provenance,
        ArtifactRef::Sha512(digest),
        &cert_policy(san, GHA),
    );
    (p, v)
}

#[test]
fn every_real_npm_attestation_set_verifies_with_its_identity() {
    let Some(dir) = corpus_dir("every_real_npm_attestation_set_verifies_with_its_identity") else {
        return;
    };
    let trust = production();
    for set in SETS {
        let digest = artifact_digest(&dir, &set.artifact);
        let (publish, provenance) = verify_set(&trust, &read(&dir, set.file), digest, set.san);
        let publish = publish.unwrap_or_else(|e| panic!("{} publish: {e}", set.file));
        let provenance = provenance.unwrap_or_else(|e| panic!("{} provenance: {e}", set.file));
        for (what, b) in [("publish", &publish), ("provenance", &provenance)] {
            let st = b.statement().expect("DSSE statement");
            assert_eq!(st.subjects.len(), 1, "{} {what}", set.file);
            assert_eq!(st.subjects[0].name, set.subject, "{} {what}", set.file);
            assert_eq!(
                st.subjects[0].digest.get("sha512"),
                Some(&hex::encode(digest)),
                "{} {what}",
                set.file
            );
            assert_rekor_time(b, set.file);
        }
        assert_eq!(publish.statement().unwrap().predicate_type, PUBLISH);
        assert!(
            matches!(publish.signer(), Signer::PublicKey { hint: Some(h) } if h.starts_with("SHA256:"))
        );
        assert!(publish
            .dsse_keyid()
            .is_some_and(|k| k.starts_with("SHA256:")));
        assert_eq!(provenance.dsse_keyid(), None, "{}", set.file);
        assert!(provenance
            .statement()
            .unwrap()
            .predicate_type
            .starts_with("https://slsa.dev/provenance/"));
        let id = identity(&provenance);
        assert_eq!(id.san, set.san);
        assert_eq!(id.san_kind, SanKind::Uri);
        assert_eq!(id.issuer, GHA);
        assert_eq!(id.repository().as_deref(), Some(set.repo), "{}", set.file);
        let commit = id
            .source_repository_digest
            .as_deref()
            .or(id.legacy_sha.as_deref());
        assert_eq!(commit, Some(set.commit), "{}", set.file);
    }
}

#[test]
fn legacy_only_certificate_decodes_v1_extensions() {
    // sigstore@0.4.0 (2023): only the legacy .1-.6 extensions (MANIFEST §2.1 row 1).
    let Some(dir) = corpus_dir("legacy_only_certificate_decodes_v1_extensions") else {
        return;
    };
    let set = &SETS[0];
    let (_, provenance) = verify_set(
        &production(),
        &read(&dir, set.file),
        artifact_digest(&dir, &set.artifact),
        set.san,
    );
    let b = provenance.unwrap();
    let id = identity(&b);
    assert_eq!(
        id.legacy_repository.as_deref(),
        Some("sigstore/sigstore-js")
    );
    assert_eq!(id.legacy_ref.as_deref(), Some("refs/tags/v0.4.0"));
    assert_eq!(id.legacy_trigger.as_deref(), Some("release"));
    assert_eq!(id.source_repository_uri, None);
    assert_eq!(id.build_config_uri, None);
    assert_eq!(
        id.repository().as_deref(),
        Some("https://github.com/sigstore/sigstore-js")
    );
}

#[test]
fn reusable_workflow_identity_keeps_caller_workflow_apart() {
    let Some(dir) = corpus_dir("reusable_workflow_identity_keeps_caller_workflow_apart") else {
        return;
    };
    let set = &SETS[5];
    let (_, provenance) = verify_set(
        &production(),
        &read(&dir, set.file),
        artifact_digest(&dir, &set.artifact),
        set.san,
    );
    let b = provenance.unwrap();
    let id = identity(&b);
    assert_eq!(
        id.build_config_uri.as_deref(),
        Some("https://github.com/laurentsimon/provenance-npm-test/.github/workflows/release-slsa3.yml@refs/heads/main")
    );
    assert_eq!(id.source_repository_ref.as_deref(), Some("refs/heads/main"));
}

/// nuxt (MANIFEST §9): integrity from the real packument; v0.2 chain/intoto and v0.3/dsse.
#[test]
fn nuxt_sets_verify_including_v03_dsse_and_the_new_npm_key() {
    let Some(dir) = corpus_dir("nuxt_sets_verify_including_v03_dsse_and_the_new_npm_key") else {
        return;
    };
    let packument: Value = serde_json::from_slice(&read(
        &dir,
        "provenance-action/npm-registry__metadata__nuxt.json",
    ))
    .unwrap();
    let trust = production();
    for (version, media) in [
        (
            "3.13.0",
            "application/vnd.dev.sigstore.bundle+json;version=0.2",
        ),
        ("4.1.2", "application/vnd.dev.sigstore.bundle.v0.3+json"),
    ] {
        let integrity = packument["versions"][version]["dist"]["integrity"]
            .as_str()
            .unwrap();
        let file =
            format!("provenance-action/npm-registry__attestations__npm-v1__nuxt@{version}.json");
        let (publish, provenance) = split_response(&read(&dir, &file));
        let p = verify_bundle(
            &trust,
            &publish,
            ArtifactRef::Sha512(sha512_of_integrity(integrity)),
            &SignerPolicy::PublicKey {
                spki_der: npm_key(&hint_of(&publish)),
            },
        )
        .unwrap_or_else(|e| panic!("nuxt@{version} publish: {e}"));
        let any = SignerPolicy::Certificate {
            san: Some(
                Matcher::regex(r"https://github\.com/nuxt/nuxt/\.github/workflows/.*").unwrap(),
            ),
            issuer: Some(Matcher::Exact(GHA.into())),
        };
        let v = verify_bundle(
            &trust,
            &provenance,
            ArtifactRef::Sha512(sha512_of_integrity(integrity)),
            &any,
        )
        .unwrap_or_else(|e| panic!("nuxt@{version} provenance: {e}"));
        assert_eq!(v.media_type(), media);
        assert_eq!(
            identity(&v).repository().as_deref(),
            Some("https://github.com/nuxt/nuxt")
        );
        assert_eq!(
            p.statement().unwrap().subjects[0].name,
            format!("pkg:npm/nuxt@{version}")
        );
        assert_rekor_time(&v, &file);
    }
}

/// Single bundles (MANIFEST §2.1 end, §6): sigstore-go examples, gh-cli sigstore-js 2.1.0.
#[test]
fn single_npm_bundles_verify() {
    let Some(dir) = corpus_dir("single_npm_bundles_verify") else {
        return;
    };
    let trust = production();
    let release =
        "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main";
    let cases: &[(&str, &str)] = &[
        (
            "sigstore-go/examples/bundle-provenance.json",
            "npm-registry-tarballs/sigstore-1.3.0.tgz",
        ),
        (
            "sigstore-go/testing-data/bundles/sigstore.js@2.0.0-provenance.sigstore.json",
            "npm-registry-tarballs/sigstore-2.0.0.tgz",
        ),
        (
            "gh-cli/attestation-test-data/sigstore-js-2.1.0-bundle-v0.1.json",
            "gh-cli/attestation-test-data/sigstore-js-2.1.0.tgz",
        ),
        (
            "gh-cli/attestation-test-data/sigstore-js-2.1.0-bundle.json",
            "gh-cli/attestation-test-data/sigstore-js-2.1.0.tgz",
        ),
    ];
    for (bundle, tgz) in cases {
        let tar = read(&dir, tgz);
        let b = verify_bundle(
            &trust,
            &read(&dir, bundle),
            ArtifactRef::Bytes(&tar),
            &cert_policy(release, GHA),
        )
        .unwrap_or_else(|e| panic!("{bundle}: {e}"));
        assert_eq!(identity(&b).san, release);
    }
    // The publish bundle of sigstore@1.3.0, with the npm key.
    let publish = read(&dir, "sigstore-go/examples/bundle-publish.json");
    let tar = read(&dir, "npm-registry-tarballs/sigstore-1.3.0.tgz");
    let b = verify_bundle(
        &trust,
        &publish,
        ArtifactRef::Bytes(&tar),
        &SignerPolicy::PublicKey {
            spki_der: npm_key(&hint_of(&publish)),
        },
    )
    .unwrap();
    assert_eq!(b.statement().unwrap().predicate_type, PUBLISH);
    // The jsonl with two bundles: each line verifies.
    let jsonl = read(
        &dir,
        "gh-cli/attestation-test-data/sigstore-js-2.1.0_with_2_bundles.jsonl",
    );
    let tar = read(&dir, "gh-cli/attestation-test-data/sigstore-js-2.1.0.tgz");
    let mut n = 0;
    for line in jsonl.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        verify_bundle(
            &trust,
            line,
            ArtifactRef::Bytes(&tar),
            &cert_policy(release, GHA),
        )
        .unwrap();
        n += 1;
    }
    assert_eq!(n, 2);
}

/// sigstore-js test bundles (MANIFEST §6): every media type and entry kind, e-mail identity.
#[test]
fn sigstore_js_bundles_verify_with_email_identity() {
    let Some(dir) = corpus_dir("sigstore_js_bundles_verify_with_email_identity") else {
        return;
    };
    let trust = production();
    let tar = read(&dir, "npm-registry-tarballs/sigstore-1.0.0.tgz");
    let mut n = 0;
    for entry in std::fs::read_dir(dir.join("sigstore-js/tests-bundles")).unwrap() {
        let path: PathBuf = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("sigstore") {
            continue;
        }
        let b = verify_bundle(
            &trust,
            &std::fs::read(&path).unwrap(),
            ArtifactRef::Bytes(&tar),
            &cert_policy("brian@dehamer.com", "https://github.com/login/oauth"),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let id = identity(&b);
        assert_eq!(id.san_kind, SanKind::Email);
        assert_eq!(id.repository(), None);
        n += 1;
        // As npm publish attestations they must be rejected (not signed by the npm key).
        let err = verify_bundle(
            &trust,
            &std::fs::read(&path).unwrap(),
            ArtifactRef::Bytes(&tar),
            &SignerPolicy::PublicKey {
                spki_der: npm_key("SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA"),
            },
        )
        .unwrap_err();
        assert_eq!(err.step, Step::Signature, "{}", path.display());
    }
    assert_eq!(n, 9);
}

#[test]
fn gh_cli_custom_issuer_and_reusable_workflow() {
    let Some(dir) = corpus_dir("gh_cli_custom_issuer_and_reusable_workflow") else {
        return;
    };
    let trust = production();
    let artifact = read(&dir, "gh-cli/attestation-test-data/custom-issuer-artifact");
    let b = verify_bundle(
        &trust,
        &read(
            &dir,
            "gh-cli/attestation-test-data/custom-issuer.sigstore.json",
        ),
        ArtifactRef::Bytes(&artifact),
        &SignerPolicy::Certificate {
            san: None,
            issuer: Some(Matcher::Exact(format!("{GHA}/hammer-time"))),
        },
    )
    .unwrap();
    assert_eq!(identity(&b).issuer, format!("{GHA}/hammer-time"));

    // The reusable-workflow bundle: artifact left out, the subject digest is in the statement.
    let bundle = read(
        &dir,
        "gh-cli/attestation-test-data/reusable-workflow-attestation.sigstore.json",
    );
    let v: Value = serde_json::from_slice(&bundle).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(v["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let st: Value = serde_json::from_slice(&payload).unwrap();
    let d: [u8; 32] = hex::decode(st["subject"][0]["digest"]["sha256"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let b = verify_bundle(
        &trust,
        &bundle,
        ArtifactRef::Sha256(d),
        &SignerPolicy::Certificate {
            san: Some(
                Matcher::regex(r"https://github\.com/github/artifact-attestations-workflows/.*")
                    .unwrap(),
            ),
            issuer: Some(Matcher::Exact(GHA.into())),
        },
    )
    .unwrap();
    let id = identity(&b);
    assert_ne!(id.build_config_uri, Some(id.san.clone()));
    assert!(id.source_repository_uri.is_some());
}

#[test]
fn othername_san_verifies_against_scaffolding_root() {
    let Some(dir) = corpus_dir("othername_san_verifies_against_scaffolding_root") else {
        return;
    };
    let root = String::from_utf8(read(
        &dir,
        "sigstore-go/testing-data/trusted-roots/scaffolding.json",
    ))
    .unwrap();
    let trust = SigstoreTrust::from_json(&root).unwrap();
    let bundle = read(
        &dir,
        "sigstore-go/testing-data/bundles/othername.sigstore.json",
    );
    let digest = message_digest_sha256(&bundle);
    let b = verify_bundle(
        &trust,
        &bundle,
        ArtifactRef::Sha256(digest),
        &SignerPolicy::Certificate {
            san: Some(Matcher::Exact("foo!oidc.local".into())),
            issuer: None,
        },
    )
    .unwrap();
    assert_eq!(identity(&b).san_kind, SanKind::OtherName);
}

/// The messageDigest a hashedrekord bundle carries (for bundles whose artifact is absent).
fn message_digest_sha256(bundle: &[u8]) -> [u8; 32] {
    let v: Value = serde_json::from_slice(bundle).unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(
            v["messageSignature"]["messageDigest"]["digest"]
                .as_str()
                .unwrap(),
        )
        .unwrap()
        .try_into()
        .unwrap()
}

#[test]
fn staging_bundles_verify_with_the_staging_root() {
    let Some(dir) = corpus_dir("staging_bundles_verify_with_the_staging_root") else {
        return;
    };
    // The embedded staging root verifies the older staging bundles; the Rekor v2 ones need the
    // newer staging root sigstore-python ships beside them.
    let embedded = SigstoreTrust::from_json(STAGING_TRUSTED_ROOT).unwrap();
    let newer = String::from_utf8(read(
        &dir,
        "sigstore-python/assets/staging-tuf/targets/ed6a9cf4e7c2e3297a4b5974fce0d17132f03c63512029d7aa3a402b43acab49.trusted_root.json",
    ))
    .unwrap();
    let newer = SigstoreTrust::from_json(&newer).unwrap();
    let any = SignerPolicy::Certificate {
        san: None,
        issuer: None,
    };
    for (bundle, artifact) in [
        (
            "sigstore-python/assets/bundle.txt.sigstore",
            "sigstore-python/assets/bundle.txt",
        ),
        (
            "sigstore-python/assets/bundle_v3.txt.sigstore",
            "sigstore-python/assets/bundle_v3.txt",
        ),
        (
            "sigstore-python/assets/bundle_v3_alt.txt.sigstore",
            "sigstore-python/assets/bundle_v3_alt.txt",
        ),
        (
            "sigstore-python/assets/staging-rekor-v2.txt.sigstore.json",
            "sigstore-python/assets/staging-rekor-v2.txt",
        ),
    ] {
        // (a.dsse.staging-rekor-v2 is left out: its SCT log, PmBxU3Ru…, is in no trusted root of
        // the corpus, so it cannot verify offline here.)
        let a = read(&dir, artifact);
        let bytes = read(&dir, bundle);
        let b = verify_bundle(&embedded, &bytes, ArtifactRef::Bytes(&a), &any)
            .or_else(|_| verify_bundle(&newer, &bytes, ArtifactRef::Bytes(&a), &any))
            .unwrap_or_else(|e| panic!("{bundle}: {e}"));
        assert!(!b.times().is_empty(), "{bundle}");
    }
}

// ---------------------------------------------------------------------------------------------
// Negatives: each asserts the failing step.

fn step_of(r: Result<VerifiedBundle, BundleError>, what: &str) -> Step {
    match r {
        Ok(_) => panic!("{what}: verified, but must fail"),
        Err(e) => {
            eprintln!("{what}: {e}");
            e.step
        }
    }
}

#[test]
fn slsa_verifier_invalidsig_variants_fail_at_the_signature() {
    let Some(dir) = corpus_dir("slsa_verifier_invalidsig_variants_fail_at_the_signature") else {
        return;
    };
    let trust = production();
    let sets = [
        ("gundam-visor-cli-v1-tag", 9),
        ("provenance-npm-test-cli-v02-prega", 4),
        ("provenance-npm-test-cli-v1-prega", 8),
        ("provenance-npm-test-ossf", 5),
        ("supreme-googles-cli-v02-tag", 6),
    ];
    for (stem, i) in sets {
        let set = &SETS[i];
        let digest = artifact_digest(&dir, &set.artifact);
        // invalidsigprov: provenance payload altered → provenance fails, publish still fine.
        let f = format!("slsa-verifier/cli-testdata-npm-gha/{stem}-invalidsigprov.tgz.json");
        let (p, v) = verify_set(&trust, &read(&dir, &f), digest, set.san);
        assert!(p.is_ok(), "{f} publish");
        assert_eq!(step_of(v, &f), Step::Signature, "{f}");
        // invalidsigpub: publish payload altered.
        let f = format!("slsa-verifier/cli-testdata-npm-gha/{stem}-invalidsigpub.tgz.json");
        let (p, v) = verify_set(&trust, &read(&dir, &f), digest, set.san);
        assert_eq!(step_of(p, &f), Step::Signature, "{f}");
        assert!(v.is_ok(), "{f} provenance");
    }
}

#[test]
fn slsa_verifier_internal_negatives_fail_at_their_step() {
    let Some(dir) = corpus_dir("slsa_verifier_internal_negatives_fail_at_their_step") else {
        return;
    };
    let trust = production();
    let set = &SETS[3];
    let digest = artifact_digest(&dir, &set.artifact);
    let base = "slsa-verifier/gha-internal-testdata";
    // (file, which bundle fails (true = publish), step)
    let cases = [
        (
            "npm-att-prov-invalid-signature.intoto.sigstore",
            false,
            Step::Signature,
        ),
        // The altered payload's subject digest is no longer a map: not an in-toto statement.
        (
            "npm-att-publish-invalid-signature.intoto.sigstore",
            true,
            Step::Parse,
        ),
        // The library parses the statement before checking the signature: a subject without
        // a digest is rejected as a malformed statement.
        (
            "npm-att-publish-nodigest.intoto.sigstore",
            true,
            Step::Parse,
        ),
        (
            "npm-att-publish-nosubjects.intoto.sigstore",
            true,
            Step::Parse,
        ),
        (
            "npm-att-mismatch-prov-payloadtype.intoto.sigstore",
            false,
            Step::Artifact,
        ),
        (
            "npm-att-mismatch-pub-payloadtype.intoto.sigstore",
            false,
            Step::Artifact,
        ),
        (
            "npm-stmt-mismatch-prov-type.intoto.sigstore",
            false,
            Step::Signature,
        ),
        (
            "npm-stmt-mismatch-prov-predicatetype.intoto.sigstore",
            false,
            Step::Signature,
        ),
        (
            "npm-stmt-mismatch-pub-type.intoto.sigstore",
            true,
            Step::Signature,
        ),
        (
            "npm-stmt-mismatch-pub-predicatetype.intoto.sigstore",
            true,
            Step::Signature,
        ),
    ];
    for (file, publish_fails, step) in cases {
        let f = format!("{base}/{file}");
        let (p, v) = verify_set(&trust, &read(&dir, &f), digest, set.san);
        let (bad, good) = if publish_fails { (p, v) } else { (v, p) };
        assert!(
            good.is_ok(),
            "{f}: the untouched bundle must verify: {:?}",
            good.err()
        );
        assert_eq!(step_of(bad, &f), step, "{f}");
    }
}

#[test]
fn slsa_verifier_single_bundle_negatives() {
    let Some(dir) = corpus_dir("slsa_verifier_single_bundle_negatives") else {
        return;
    };
    let trust = production();
    let any = SignerPolicy::Certificate {
        san: None,
        issuer: None,
    };
    let base = "slsa-verifier/gha-internal-testdata/bundle";
    let digest = |rel: &str| -> [u8; 32] {
        let v: Value = serde_json::from_slice(&read(&dir, rel)).unwrap();
        let payload = base64::engine::general_purpose::STANDARD
            .decode(v["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap();
        let st: Value = serde_json::from_slice(&payload).unwrap();
        hex::decode(st["subject"][0]["digest"]["sha256"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap()
    };
    for ok in ["valid.intoto.sigstore", "valid-v0.3.intoto.sigstore"] {
        let f = format!("{base}/{ok}");
        verify_bundle(
            &trust,
            &read(&dir, &f),
            ArtifactRef::Sha256(digest(&f)),
            &any,
        )
        .unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    for (bad, step) in [
        ("invalid-dsse-sig.intoto.sigstore", Step::Signature),
        ("invalid-set.intoto.sigstore", Step::SignedEntryTimestamp),
        // The borrowed entry's SET-backed time precedes the leaf: the chain check at that
        // verified time fails first (before the body comparison would).
        ("mismatch-tlog.intoto.sigstore", Step::CertificateChain),
    ] {
        let f = format!("{base}/{bad}");
        let r = verify_bundle(
            &trust,
            &read(&dir, &f),
            ArtifactRef::Sha256(digest(&f)),
            &any,
        );
        assert_eq!(step_of(r, &f), step, "{f}");
    }
}

#[test]
fn pacote_negatives_fail_at_their_step() {
    let Some(dir) = corpus_dir("pacote_negatives_fail_at_their_step") else {
        return;
    };
    let trust = production();
    let set = &SETS[0];
    let digest = artifact_digest(&dir, &set.artifact);
    let base = "pacote/sigstore-fixtures";
    // (file, publish step, provenance step) — None = verifies cryptographically.
    let cases = [
        ("invalid-attestations.json", Some(Step::Signature), None),
        (
            "malformed-subject-attestations.json",
            Some(Step::Parse),
            None,
        ),
        (
            "mismatched-subject-digest-attestations.json",
            Some(Step::Signature),
            None,
        ),
        (
            "mismatched-subject-name-attestations.json",
            Some(Step::Signature),
            None,
        ),
        ("no-keyid-attestations.json", None, Some(Step::Signature)),
        ("unsupported-attestations.json", Some(Step::Artifact), None),
        // keyid is unsigned: crypto passes; the npm layer rejects it by policy.
        ("mismatched-keyid-attestations.json", None, None),
    ];
    for (file, pstep, vstep) in cases {
        let f = format!("{base}/{file}");
        let (p, v) = verify_set(&trust, &read(&dir, &f), digest, set.san);
        for (what, r, step) in [("publish", p, pstep), ("provenance", v, vstep)] {
            match step {
                Some(step) => assert_eq!(step_of(r, &f), step, "{f} {what}"),
                None => assert!(r.is_ok(), "{f} {what}: {:?}", r.err()),
            }
        }
    }
}

/// sigstore-rs's 2026 cosign bundle carries a Rekor entry *and* an RFC 3161 timestamp: both
/// verified times are kept, each with its source (MANIFEST §6).
#[test]
fn rekor_and_tsa_times_are_both_kept_with_their_source() {
    let Some(dir) = corpus_dir("rekor_and_tsa_times_are_both_kept_with_their_source") else {
        return;
    };
    let bundle = read(&dir, "sigstore-rs/bundle_v03.json");
    let v: Value = serde_json::from_slice(&bundle).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(v["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let st: Value = serde_json::from_slice(&payload).unwrap();
    let d: [u8; 32] = hex::decode(st["subject"][0]["digest"]["sha256"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let b = verify_bundle(
        &production(),
        &bundle,
        ArtifactRef::Sha256(d),
        &SignerPolicy::Certificate {
            san: Some(Matcher::regex(r"https://github\.com/kubewarden/.*").unwrap()),
            issuer: Some(Matcher::Exact(GHA.into())),
        },
    )
    .unwrap();
    let sources: Vec<TimeSource> = b.times().iter().map(|t| t.source).collect();
    assert!(sources.contains(&TimeSource::Rekor), "{:?}", b.times());
    assert!(sources.contains(&TimeSource::Tsa), "{:?}", b.times());
    let tsa = b
        .times()
        .iter()
        .find(|t| t.source == TimeSource::Tsa)
        .unwrap();
    assert_eq!((tsa.log_index, tsa.log_id.as_deref()), (None, None));
    let rekor = b
        .times()
        .iter()
        .find(|t| t.source == TimeSource::Rekor)
        .unwrap();
    assert_eq!(
        rekor.log_index,
        v["verificationMaterial"]["tlogEntries"][0]["logIndex"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .ok()
    );
    assert_eq!(b.integrated_time(), Some(rekor.time));
    // sorted
    assert!(b.times().windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn sigstore_go_dsse_bundle_verifies_and_its_negatives_fail() {
    let Some(dir) = corpus_dir("sigstore_go_dsse_bundle_verifies_and_its_negatives_fail") else {
        return;
    };
    let any = SignerPolicy::Certificate {
        san: None,
        issuer: None,
    };
    let bundle = read(&dir, "sigstore-go/testing-data/bundles/dsse.sigstore.json");
    let v: Value = serde_json::from_slice(&bundle).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(v["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let st: Value = serde_json::from_slice(&payload).unwrap();
    let d: [u8; 64] = hex::decode(st["subject"][0]["digest"]["sha512"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let b = verify_bundle(&production(), &bundle, ArtifactRef::Sha512(d), &any).unwrap();
    assert_eq!(identity(&b).san_kind, SanKind::Email);

    // Key-based bundle with a TSA time and no tlog entry: rejected (DESIGN §4 requires the log).
    let root = String::from_utf8(read(
        &dir,
        "sigstore-go/testing-data/trusted-roots/public-key-validity.json",
    ))
    .unwrap();
    let pem = String::from_utf8(read(
        &dir,
        "sigstore-go/testing-data/public-keys/public-key-validity.pem",
    ))
    .unwrap();
    let spki_der = npm_provenance::verify::sigstore::spki_from_pem(&pem).unwrap();
    // Its root has only a TSA: no log, no CA, so nothing could verify under DESIGN §4.
    assert_eq!(
        SigstoreTrust::from_json(&root).unwrap_err().step,
        Step::TrustRoot
    );
    let r = verify_bundle(
        &production(),
        &read(
            &dir,
            "sigstore-go/testing-data/bundles/public-key-validity.sigstore.json",
        ),
        ArtifactRef::Bytes(b"test content"),
        &SignerPolicy::PublicKey { spki_der },
    );
    assert_eq!(step_of(r, "public-key-validity"), Step::Tlog);
}

/// npm/cli libnpmpublish fixtures (2022, no tlog entries): none verifies (MANIFEST §2.2).
#[test]
fn libnpmpublish_fixtures_all_fail() {
    let Some(dir) = corpus_dir("libnpmpublish_fixtures_all_fail") else {
        return;
    };
    let tgz = read(
        &dir,
        "npm-cli/libnpmpublish-fixtures/npmcli-libnpmpublish-test-1.0.0.tgz",
    );
    let any = SignerPolicy::Certificate {
        san: None,
        issuer: None,
    };
    for (file, step) in [
        ("bad-bundle.json", Step::Parse),
        ("valid-bundle.json", Step::Tlog),
        ("bad-dsse-payload-bundle.json", Step::Tlog),
        ("digest-mismatch-provenance-bundle.json", Step::Tlog),
        ("invalid-signature-bundle.json", Step::Tlog),
        ("multi-subject-provenance-bundle.json", Step::Tlog),
        ("no-provenance-envelope-bundle.json", Step::Tlog),
        ("no-provenance-subject-bundle.json", Step::Tlog),
    ] {
        let f = format!("npm-cli/libnpmpublish-fixtures/{file}");
        let r = verify_bundle(
            &production(),
            &read(&dir, &f),
            ArtifactRef::Bytes(&tgz),
            &any,
        );
        assert_eq!(step_of(r, &f), step, "{f}");
    }
}

#[test]
fn unusable_key_fails_at_the_signature() {
    let Some(dir) = corpus_dir("unusable_key_fails_at_the_signature") else {
        return;
    };
    let tar = read(&dir, "npm-registry-tarballs/sigstore-1.3.0.tgz");
    let r = verify_bundle(
        &production(),
        &read(&dir, "sigstore-go/examples/bundle-publish.json"),
        ArtifactRef::Bytes(&tar),
        &SignerPolicy::PublicKey {
            spki_der: vec![0x30, 0x03, 0x02, 0x01, 0x01],
        },
    );
    assert_eq!(step_of(r, "garbage key"), Step::Signature);
    // The other npm key (DhQ8…) did not sign it.
    let r = verify_bundle(
        &production(),
        &read(&dir, "sigstore-go/examples/bundle-publish.json"),
        ArtifactRef::Bytes(&tar),
        &SignerPolicy::PublicKey {
            spki_der: npm_key("SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U"),
        },
    );
    assert_eq!(step_of(r, "wrong npm key"), Step::Signature);
}

/// Production hashedrekord bundles whose artifacts are not in the corpus, checked against the
/// digest they sign (MANIFEST §6): a GitHub-signed wheel verifies; the 2024 CPython bundle
/// carries an inclusion proof without a checkpoint, which the library (like DESIGN §4.2)
/// refuses: it fails at the checkpoint step, not later.
#[test]
fn production_message_signature_bundles_from_their_digest() {
    let Some(dir) = corpus_dir("production_message_signature_bundles_from_their_digest") else {
        return;
    };
    let trust = production();
    let whl = read(&dir, "sigstore-python/assets/bundle_v3_github.whl.sigstore");
    let policy = SignerPolicy::Certificate {
        san: None,
        issuer: Some(Matcher::Exact(GHA.into())),
    };
    let b = verify_bundle(
        &trust,
        &whl,
        ArtifactRef::Sha256(message_digest_sha256(&whl)),
        &policy,
    )
    .unwrap();
    assert!(b.statement().is_none());
    assert!(identity(&b).source_repository_uri.is_some());
    assert_rekor_time(&b, "whl");
    // One bit off in the digest: the artifact step fails.
    let mut d = message_digest_sha256(&whl);
    d[0] ^= 1;
    let r = verify_bundle(&trust, &whl, ArtifactRef::Sha256(d), &policy);
    assert_eq!(step_of(r, "whl, wrong digest"), Step::Artifact);
    // A sha512 digest cannot bind a hashedrekord (sha256) bundle.
    let r = verify_bundle(&trust, &whl, ArtifactRef::Sha512([0; 64]), &policy);
    assert_eq!(step_of(r, "whl, sha512"), Step::Artifact);

    let cpython = read(
        &dir,
        "sigstore-python/assets/integration/Python-3.12.5.tgz.sigstore",
    );
    let r = verify_bundle(
        &trust,
        &cpython,
        ArtifactRef::Sha256(message_digest_sha256(&cpython)),
        &cert_policy("thomas@python.org", "https://accounts.google.com"),
    );
    assert_eq!(step_of(r, "cpython"), Step::Checkpoint);
}
