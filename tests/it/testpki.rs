//! The test Sigstore against our own verifier and trust code: minted identities decode to
//! exactly the claims they were issued with, a full npm attestations response verifies, and
//! the minted npm key and `keys.json` work with the registry-signature check, validity window
//! included.

use jiff::Timestamp;
use npm_provenance::trust::npm_keys::{KeyId, KeySource, NpmKeys};
use npm_provenance::verify::registry_signature::{
    verify_registry_signature, PublishTime, RegistrySignature, RegistrySignatureFailure, TimeSource,
};
use npm_provenance::verify::{
    verify_bundle, ArtifactRef, Matcher, SanKind, Signer, SignerPolicy, SigstoreTrust,
    VerifiedBundle,
};
use npm_provenance_testkit::{npm, BundleVersion, Content, Identity, KeyWindow, MintSpec, San};
use npm_provenance_testkit::{SignerSpec, TestSigstore};

const SEED: &[u8] = b"testpki-it";
/// 2025-03-01T00:00:00Z.
const T: i64 = 1_740_787_200;
const TARBALL: &[u8] = b"\x1f\x8b fixture tarball bytes";

fn any_identity() -> SignerPolicy {
    SignerPolicy::Certificate {
        san: None,
        issuer: None,
    }
}

fn verify(ts: &TestSigstore, bundle: &[u8], policy: &SignerPolicy) -> VerifiedBundle {
    let trust = SigstoreTrust::from_json(&ts.trusted_root_json()).expect("minted root loads");
    verify_bundle(&trust, bundle, ArtifactRef::Bytes(TARBALL), policy)
        .unwrap_or_else(|e| panic!("minted bundle rejected: {e}"))
}

fn fulcio(v: &VerifiedBundle) -> &npm_provenance::verify::FulcioIdentity {
    match v.signer() {
        Signer::Certificate(f) => f,
        other => panic!("expected a certificate signer, got {other:?}"),
    }
}

#[test]
fn every_fulcio_claim_round_trips() {
    let ts = TestSigstore::new(SEED);
    let id = Identity::github_actions(
        "acme/widget",
        ".github/workflows/ci.yml",
        "refs/tags/v1.2.3",
    );
    let m = ts.mint_provenance(&id, "widget", "1.2.3", &npm::sha512_hex(TARBALL), T);
    let v = verify(&ts, &m.to_bytes(), &any_identity());
    let f = fulcio(&v);
    let c = |n: u32| id.claims.get(&n).cloned();
    let l = |n: u32| id.legacy.get(&n).cloned();
    assert_eq!(f.san, id.san.value());
    assert_eq!(f.san_kind, SanKind::Uri);
    assert_eq!(f.issuer, id.issuer);
    let decoded = [
        (9, &f.build_signer_uri),
        (10, &f.build_signer_digest),
        (11, &f.runner_environment),
        (12, &f.source_repository_uri),
        (13, &f.source_repository_digest),
        (14, &f.source_repository_ref),
        (15, &f.source_repository_identifier),
        (16, &f.source_repository_owner_uri),
        (17, &f.source_repository_owner_identifier),
        (18, &f.build_config_uri),
        (19, &f.build_config_digest),
        (20, &f.build_trigger),
        (21, &f.run_invocation_uri),
        (22, &f.source_repository_visibility),
    ];
    for (arc, value) in decoded {
        assert_eq!(value, &c(arc), "claim .{arc}");
        assert!(value.is_some(), "claim .{arc} minted");
    }
    for (arc, value) in [
        (2, &f.legacy_trigger),
        (3, &f.legacy_sha),
        (4, &f.legacy_workflow_name),
        (5, &f.legacy_repository),
        (6, &f.legacy_ref),
    ] {
        assert_eq!(value, &l(arc), "legacy claim .{arc}");
    }
    assert_eq!(
        f.repository().as_deref(),
        Some("https://github.com/acme/widget")
    );
    assert_eq!(v.media_type(), BundleVersion::V03.media_type());
    assert_eq!(v.integrated_time(), Timestamp::from_second(T).ok());
}

#[test]
fn legacy_only_leaf_decodes_from_the_raw_extensions() {
    let ts = TestSigstore::new(SEED);
    let id = Identity::github_actions(
        "acme/old",
        ".github/workflows/release.yml",
        "refs/heads/main",
    )
    .legacy_only();
    let statement = npm::provenance_statement("old", "0.1.0", &npm::sha512_hex(TARBALL), &id);
    let m = ts.mint(&MintSpec::new(
        BundleVersion::V01,
        Content::statement(&statement),
        SignerSpec::Certificate(id.clone()),
        T,
    ));
    let v = verify(&ts, &m.to_bytes(), &any_identity());
    let f = fulcio(&v);
    assert_eq!(f.issuer, id.issuer, "issuer from legacy .1");
    assert_eq!(f.source_repository_uri, None);
    assert_eq!(f.legacy_repository.as_deref(), Some("acme/old"));
    assert_eq!(
        f.repository().as_deref(),
        Some("https://github.com/acme/old")
    );
    assert_eq!(v.media_type(), BundleVersion::V01.media_type());
}

#[test]
fn email_identity_is_matched_exactly() {
    let ts = TestSigstore::new(SEED);
    let id = Identity::email("maintainer@example.com", "https://accounts.google.com");
    let statement = npm::provenance_statement("mail", "1.0.0", &npm::sha512_hex(TARBALL), &id);
    let m = ts.mint(&MintSpec::new(
        BundleVersion::V03,
        Content::statement(&statement),
        SignerSpec::Certificate(id),
        T,
    ));
    let policy = SignerPolicy::Certificate {
        san: Some(Matcher::Exact("maintainer@example.com".into())),
        issuer: Some(Matcher::Exact("https://accounts.google.com".into())),
    };
    let v = verify(&ts, &m.to_bytes(), &policy);
    assert_eq!(fulcio(&v).san_kind, SanKind::Email);
    let trust = SigstoreTrust::from_json(&ts.trusted_root_json()).unwrap();
    let wrong = SignerPolicy::Certificate {
        san: Some(Matcher::Exact("maintainer@example.co".into())),
        issuer: None,
    };
    let e = verify_bundle(&trust, &m.to_bytes(), ArtifactRef::Bytes(TARBALL), &wrong)
        .expect_err("another address");
    assert_eq!(e.step.as_str(), "identity");
}

#[test]
fn npm_attestations_response_verifies_with_our_verifier() {
    let ts = TestSigstore::new(SEED);
    let id = Identity::github_actions(
        "acme/widget",
        ".github/workflows/release.yml",
        "refs/heads/main",
    );
    let response = ts.npm_attestations("@acme/widget", "2.0.0", TARBALL, &id, T);
    let atts = response["attestations"].as_array().expect("attestations");
    let bundle = |i: usize| serde_json::to_vec(&atts[i]["bundle"]).unwrap();

    let publish = verify(
        &ts,
        &bundle(0),
        &SignerPolicy::PublicKey {
            spki_der: ts.npm_spki_der(),
        },
    );
    let st = publish.statement().expect("publish statement");
    assert_eq!(st.predicate_type, atts[0]["predicateType"]);
    assert_eq!(st.predicate["name"], "@acme/widget");
    assert_eq!(st.subjects[0].digest["sha512"], npm::sha512_hex(TARBALL));
    assert_eq!(publish.dsse_keyid(), Some(ts.npm_keyid().as_str()));
    match publish.signer() {
        Signer::PublicKey { hint } => assert_eq!(hint.as_deref(), Some(ts.npm_keyid().as_str())),
        other => panic!("publish signer {other:?}"),
    }

    let policy = SignerPolicy::Certificate {
        san: Some(Matcher::Exact(id.san.value().into())),
        issuer: Some(Matcher::Exact(id.issuer.clone())),
    };
    let provenance = verify(&ts, &bundle(1), &policy);
    let st = provenance.statement().expect("provenance statement");
    assert_eq!(st.predicate_type, atts[1]["predicateType"]);
    assert_eq!(st.subjects[0].name, "pkg:npm/%40acme/widget@2.0.0");
    assert_eq!(
        st.predicate["buildDefinition"]["externalParameters"]["workflow"]["path"],
        ".github/workflows/release.yml"
    );
    assert_eq!(provenance.dsse_keyid(), None);
}

#[test]
fn minted_keyid_is_the_one_our_trust_code_computes() {
    let ts = TestSigstore::new(SEED);
    let ours = KeyId::of_spki(&ts.npm_spki_der()).expect("P-256 SPKI");
    assert_eq!(ours.as_str(), ts.npm_keyid());
}

fn keys(ts: &TestSigstore, window: KeyWindow) -> NpmKeys {
    NpmKeys::from_json(ts.npm_keys_json(window).as_bytes(), KeySource::Pinned)
        .expect("minted keys.json loads")
}

fn registry_sig(ts: &TestSigstore, integrity: &str) -> RegistrySignature {
    serde_json::from_value(ts.registry_signature("widget", "1.2.3", integrity)).unwrap()
}

fn at(t: i64) -> PublishTime {
    PublishTime::new(Timestamp::from_second(t).unwrap(), TimeSource::Rekor)
}

#[test]
fn registry_signature_verifies_within_the_key_window() {
    let ts = TestSigstore::new(SEED);
    let integrity = npm::integrity(TARBALL);
    let window = KeyWindow {
        start: T - 86_400,
        end: Some(T + 86_400),
    };
    let keys = keys(&ts, window);
    let sigs = [registry_sig(&ts, &integrity)];
    let v = verify_registry_signature("widget", "1.2.3", &integrity, &sigs, &keys, &at(T))
        .expect("inside the window");
    assert_eq!(v.keyid().as_str(), ts.npm_keyid());

    // Published after the key's window closed.
    let late = verify_registry_signature(
        "widget",
        "1.2.3",
        &integrity,
        &sigs,
        &keys,
        &at(T + 2 * 86_400),
    );
    assert!(
        matches!(late, Err(RegistrySignatureFailure::KeyExpired { .. })),
        "{late:?}"
    );
    // Published before it opened.
    let early = verify_registry_signature(
        "widget",
        "1.2.3",
        &integrity,
        &sigs,
        &keys,
        &at(T - 2 * 86_400),
    );
    assert!(
        matches!(early, Err(RegistrySignatureFailure::KeyExpired { .. })),
        "{early:?}"
    );
}

#[test]
fn registry_signature_by_another_seed_is_unknown_and_tampering_is_invalid() {
    let ts = TestSigstore::new(SEED);
    let other = TestSigstore::new(b"not the registry");
    let integrity = npm::integrity(TARBALL);
    let keys = keys(
        &ts,
        KeyWindow {
            start: 0,
            end: None,
        },
    );
    let foreign = [registry_sig(&other, &integrity)];
    let r = verify_registry_signature("widget", "1.2.3", &integrity, &foreign, &keys, &at(T));
    assert!(
        matches!(r, Err(RegistrySignatureFailure::KeyUnknown { .. })),
        "{r:?}"
    );
    let sigs = [registry_sig(&ts, &integrity)];
    let other_integrity = npm::integrity(b"other bytes");
    let r = verify_registry_signature("widget", "1.2.3", &other_integrity, &sigs, &keys, &at(T));
    assert!(
        matches!(r, Err(RegistrySignatureFailure::Invalid { .. })),
        "{r:?}"
    );
}

#[test]
fn fulcio_othername_san_and_later_extensions_are_accepted() {
    // A username SAN (Fulcio otherName .7) and an extension past .22 (ignored by DESIGN §4.8).
    let ts = TestSigstore::new(SEED);
    let mut id = Identity::github_actions(
        "acme/widget",
        ".github/workflows/release.yml",
        "refs/heads/main",
    );
    id.san = San::OtherName {
        type_id: "1.3.6.1.4.1.57264.1.7".into(),
        value: "octocat!example.com".into(),
    };
    id.extra.push((23, vec![0x0c, 0x03, b'n', b'e', b'w']));
    id.extra.push((24, vec![0x0c, 0x00]));
    let statement = npm::provenance_statement("widget", "1.0.0", &npm::sha512_hex(TARBALL), &id);
    let m = ts.mint(&MintSpec::new(
        BundleVersion::V03,
        Content::statement(&statement),
        SignerSpec::Certificate(id.clone()),
        T,
    ));
    let v = verify(&ts, &m.to_bytes(), &any_identity());
    let f = fulcio(&v);
    assert_eq!(f.san_kind, SanKind::OtherName);
    assert_eq!(f.san, "octocat!example.com");
    assert_eq!(f.source_repository_uri, id.claims.get(&12).cloned());
}

#[test]
fn a_root_with_logs_but_no_ca_still_verifies_key_signed_bundles() {
    // npm publish attestations need no Fulcio CA; a root of logs only must load and verify them.
    let ts = TestSigstore::new(SEED);
    let mut root = ts.trusted_root();
    root["certificateAuthorities"] = serde_json::json!([]);
    let trust = SigstoreTrust::from_json(&root.to_string()).expect("a root of logs only loads");
    let m = ts.mint_publish("widget", "1.0.0", &npm::sha512_hex(TARBALL), T);
    let key = SignerPolicy::PublicKey {
        spki_der: ts.npm_spki_der(),
    };
    verify_bundle(&trust, &m.to_bytes(), ArtifactRef::Bytes(TARBALL), &key)
        .expect("publish attestation verifies without a CA");
    // A certificate bundle then has no CA to chain to.
    let id = Identity::github_actions(
        "acme/widget",
        ".github/workflows/release.yml",
        "refs/heads/main",
    );
    let p = ts.mint_provenance(&id, "widget", "1.0.0", &npm::sha512_hex(TARBALL), T);
    let e = verify_bundle(
        &trust,
        &p.to_bytes(),
        ArtifactRef::Bytes(TARBALL),
        &any_identity(),
    )
    .expect_err("no CA");
    assert_eq!(e.step.as_str(), "certificate-chain", "{e}");
    // An empty root is refused when loading.
    root["tlogs"] = serde_json::json!([]);
    assert!(SigstoreTrust::from_json(&root.to_string()).is_err());
}

#[test]
fn a_root_with_a_duplicated_log_is_refused_at_the_trust_root_step() {
    let ts = TestSigstore::new(SEED);
    let mut root = ts.trusted_root();
    let log = root["tlogs"][0].clone();
    root["tlogs"] = serde_json::json!([log.clone(), log]);
    let e = SigstoreTrust::from_json(&root.to_string()).expect_err("duplicate log id");
    assert_eq!(e.step.as_str(), "trust-root", "{e}");
    assert!(format!(
        "{:?}",
        SigstoreTrust::from_json(&ts.trusted_root_json()).unwrap()
    )
    .contains("SigstoreTrust"));
}

/// The identity the `widget` fixtures are published with.
fn widget_identity() -> Identity {
    Identity::github_actions(
        "acme/widget",
        ".github/workflows/release.yml",
        "refs/heads/main",
    )
}

/// `widget@1.2.3` (the bytes `TARBALL`) verified by the npm layer from an attestations
/// `response`, with the test Sigstore's root and its npm key valid in `window`.
fn verify_widget(
    ts: &TestSigstore,
    window: KeyWindow,
    response: &serde_json::Value,
) -> npm_provenance::verify::evidence::VersionEvidence {
    use npm_provenance::verify::npm::{
        verify_version, AttestationsInput, VerifyContext, VersionInput,
    };
    use sha2::Digest;
    let body = serde_json::to_vec(response).unwrap();
    let trust = SigstoreTrust::from_json(&ts.trusted_root_json()).unwrap();
    let npm_keys = keys(ts, window);
    let input = VersionInput {
        name: "widget",
        version: "1.2.3",
        expected_integrity: None,
        tarball_sha512: Some(sha2::Sha512::digest(TARBALL).into()),
        packument_version: None,
        packument_time: None,
        attestations: AttestationsInput::Body(&body),
    };
    verify_version(
        &input,
        &VerifyContext {
            sigstore: &trust,
            npm_keys: &npm_keys,
        },
    )
}

/// A key window open since a day before `T`.
const OPEN_WINDOW: KeyWindow = KeyWindow {
    start: T - 86_400,
    end: None,
};

/// The npm layer's publish rules on a minted response: the npm key must be valid for
/// `npm:attestations` at the signed time.
fn publish_status(window: KeyWindow) -> npm_provenance::verify::evidence::Check {
    let ts = TestSigstore::new(SEED);
    let response = ts.npm_attestations("widget", "1.2.3", TARBALL, &widget_identity(), T);
    verify_widget(&ts, window, &response).publish_attestation
}

#[test]
fn publish_attestation_needs_the_npm_key_valid_at_the_signed_time() {
    use npm_provenance::verify::evidence::Status;
    let inside = publish_status(KeyWindow {
        start: T - 86_400,
        end: None,
    });
    assert_eq!(inside.status, Status::Verified, "{:?}", inside.reason);
    let expired = publish_status(KeyWindow {
        start: T - 2 * 86_400,
        end: Some(T - 86_400),
    });
    assert_eq!(expired.status, Status::Invalid, "{:?}", expired.reason);
    assert!(expired.reason.unwrap_or_default().contains("not valid"));
    let not_yet = publish_status(KeyWindow {
        start: T + 86_400,
        end: None,
    });
    assert_eq!(not_yet.status, Status::Invalid, "{:?}", not_yet.reason);
    assert!(not_yet.reason.unwrap_or_default().contains("not valid"));
}

/// The attestation subject binds both the package and the bytes: a validly signed provenance
/// for another package name with the right digest, or for the right name with another digest,
/// is `subject-mismatch` (each part on its own, so neither check can stand in for the other).
#[test]
fn provenance_subject_must_match_name_and_digest_each() {
    use npm_provenance::verify::evidence::Status;
    let ts = TestSigstore::new(SEED);
    let id = widget_identity();
    let run = |provenance: serde_json::Value| {
        let mut response = ts.npm_attestations("widget", "1.2.3", TARBALL, &id, T);
        response["attestations"][1]["bundle"] = provenance;
        verify_widget(&ts, OPEN_WINDOW, &response)
    };
    let good = run(ts
        .mint_provenance(&id, "widget", "1.2.3", &npm::sha512_hex(TARBALL), T)
        .bundle);
    assert_eq!(
        good.provenance.status,
        Status::Verified,
        "{:?}",
        good.findings
    );
    for (what, bundle) in [
        (
            "another name",
            ts.mint_provenance(&id, "widgets", "1.2.3", &npm::sha512_hex(TARBALL), T)
                .bundle,
        ),
        (
            "another version",
            ts.mint_provenance(&id, "widget", "1.2.4", &npm::sha512_hex(TARBALL), T)
                .bundle,
        ),
        (
            "another digest",
            ts.mint_provenance(&id, "widget", "1.2.3", &npm::sha512_hex(b"other"), T)
                .bundle,
        ),
    ] {
        let e = run(bundle);
        assert_eq!(e.provenance.status, Status::Invalid, "{what}");
        assert_eq!(
            e.provenance.reason.as_deref(),
            Some("subject-mismatch"),
            "{what}"
        );
        // Reported once (the claimed subject is checked before the signature, the signed one
        // after: one finding, not two).
        assert_eq!(
            e.findings
                .iter()
                .filter(|f| f.code == "subject-mismatch")
                .count(),
            1,
            "{what}: {:?}",
            e.findings
        );
        // The publish attestation is untouched and still verifies.
        assert_eq!(e.publish_attestation.status, Status::Verified, "{what}");
        // Only a digest that differs from the installed bytes makes the integrity binding
        // invalid; the publish attestation still binds them.
        let (status, reason) = if what == "another digest" {
            (Status::Invalid, Some("subject-mismatch"))
        } else {
            (Status::Verified, None)
        };
        assert_eq!(e.integrity.status, status, "{what}");
        assert_eq!(e.integrity.reason.as_deref(), reason, "{what}");
    }
}

/// npm's publish predicate must name the version it is for: a validly signed publish
/// attestation whose subject is right but whose predicate names another name, or another
/// version, is invalid (each alone).
#[test]
fn publish_predicate_must_name_the_package_and_version_each() {
    use npm_provenance::verify::evidence::Status;
    let ts = TestSigstore::new(SEED);
    let id = widget_identity();
    for (key, value, ok) in [
        ("name", "widget", true),
        ("name", "widgets", false),
        ("version", "1.2.4", false),
    ] {
        let mut statement = npm::publish_statement("widget", "1.2.3", &npm::sha512_hex(TARBALL));
        statement["predicate"][key] = serde_json::json!(value);
        let publish = ts.mint(&MintSpec::new(
            BundleVersion::V02,
            Content::statement(&statement),
            SignerSpec::NpmKey,
            T,
        ));
        let mut response = ts.npm_attestations("widget", "1.2.3", TARBALL, &id, T);
        response["attestations"][0]["bundle"] = publish.bundle;
        let e = verify_widget(&ts, OPEN_WINDOW, &response);
        let want = if ok {
            Status::Verified
        } else {
            Status::Invalid
        };
        assert_eq!(
            e.publish_attestation.status, want,
            "{key}={value}: {:?}",
            e.findings
        );
        if !ok {
            assert!(
                e.findings
                    .iter()
                    .any(|f| f.code == "publish-attestation-invalid"
                        && f.message.contains("the predicate names")),
                "{key}={value}: {:?}",
                e.findings
            );
        }
    }
}
