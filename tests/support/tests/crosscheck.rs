//! Every untampered minted bundle kind must verify with the reference verifier
//! (`sigstore-verify`) given the minted trusted root, so the test PKI and our own verifier
//! cannot agree on something wrong.

use npm_provenance_testkit::npm;
use npm_provenance_testkit::{
    BundleVersion, Content, Identity, KeyWindow, MintSpec, Minted, SignerSpec, TestSigstore,
};
use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::types::{Bundle, DerPublicKey};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};

const SEED: &[u8] = b"crosscheck";
/// 2023-11-14T22:13:20Z: in the past, as sigstore-verify rejects future integrated times.
const T: i64 = 1_700_000_000;
const TARBALL: &[u8] = b"not really a tarball, but bytes all the same";

fn verifier(ts: &TestSigstore) -> Verifier {
    let root = TrustedRoot::from_json(&ts.trusted_root_json()).expect("minted trusted root parses");
    Verifier::new(&root).expect("minted trusted root is accepted")
}

fn parse(m: &Minted) -> Bundle {
    Bundle::from_json(&m.to_json()).expect("minted bundle parses")
}

fn identity() -> Identity {
    Identity::github_actions(
        "acme/widget",
        ".github/workflows/release.yml",
        "refs/heads/main",
    )
}

fn assert_cert_verified(ts: &TestSigstore, m: &Minted, artifact: &[u8]) {
    let id = identity();
    let policy = VerificationPolicy::new(id.san.value(), id.issuer.clone());
    let result = verifier(ts)
        .verify(artifact, &parse(m), &policy)
        .unwrap_or_else(|e| panic!("reference verifier rejected {}: {e}", m.to_json()));
    assert!(result.certificate_verified(), "certificate not verified");
    assert!(result.sct_verified(), "SCT not verified");
    assert!(result.tlog_verified(), "tlog not verified");
    assert_eq!(result.integrated_time().map(|t| t.as_second()), Some(T));
    assert_eq!(result.issuer(), Some(id.issuer.as_str()));
}

fn statement_spec(version: BundleVersion) -> MintSpec {
    let statement =
        npm::provenance_statement("widget", "1.2.3", &npm::sha512_hex(TARBALL), &identity());
    MintSpec::new(
        version,
        Content::statement(&statement),
        SignerSpec::Certificate(identity()),
        T,
    )
}

#[test]
fn v01_set_only_intoto_verifies() {
    let ts = TestSigstore::new(SEED);
    let m = ts.mint(&statement_spec(BundleVersion::V01));
    let entry = &m.bundle["verificationMaterial"]["tlogEntries"][0];
    assert!(entry.get("inclusionProof").is_none());
    assert_eq!(entry["kindVersion"]["kind"], "intoto");
    assert_cert_verified(&ts, &m, TARBALL);
}

#[test]
fn v02_with_proof_intoto_verifies() {
    let ts = TestSigstore::new(SEED);
    let m = ts.mint(&statement_spec(BundleVersion::V02));
    let entry = &m.bundle["verificationMaterial"]["tlogEntries"][0];
    assert!(entry.get("inclusionProof").is_some());
    assert_cert_verified(&ts, &m, TARBALL);
}

#[test]
fn v03_dsse_verifies() {
    let ts = TestSigstore::new(SEED);
    let m = ts.mint_provenance(&identity(), "widget", "1.2.3", &npm::sha512_hex(TARBALL), T);
    assert_eq!(
        m.bundle["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"],
        "dsse"
    );
    assert_cert_verified(&ts, &m, TARBALL);
}

#[test]
fn hashedrekord_message_signature_verifies() {
    let ts = TestSigstore::new(SEED);
    let artifact = b"hello, sigstore".to_vec();
    let m = ts.mint(&MintSpec::new(
        BundleVersion::V03,
        Content::Message(artifact.clone()),
        SignerSpec::Certificate(identity()),
        T,
    ));
    assert_cert_verified(&ts, &m, &artifact);
}

#[test]
fn key_signed_publish_attestation_verifies() {
    let ts = TestSigstore::new(SEED);
    let m = ts.mint_publish("@acme/widget", "1.2.3", &npm::sha512_hex(TARBALL), T);
    assert_eq!(
        m.bundle["verificationMaterial"]["publicKey"]["hint"],
        ts.npm_keyid()
    );
    let policy = PublicKeyVerificationPolicy::new(DerPublicKey::new(ts.npm_spki_der()));
    let result = verifier(&ts)
        .verify(TARBALL, &parse(&m), &policy)
        .expect("publish attestation verifies with the npm key");
    assert!(result.tlog_verified());
    assert_eq!(result.integrated_time().map(|t| t.as_second()), Some(T));
}

#[test]
fn npm_attestations_response_verifies_both_bundles() {
    let ts = TestSigstore::new(SEED);
    let response = ts.npm_attestations("@acme/widget", "1.2.3", TARBALL, &identity(), T + 2);
    let atts = response["attestations"].as_array().expect("array");
    assert_eq!(atts.len(), 2);
    assert_eq!(atts[0]["predicateType"], npm::PUBLISH_PREDICATE);
    assert_eq!(atts[1]["predicateType"], npm::SLSA_V1_PREDICATE);
    let v = verifier(&ts);
    let publish = Bundle::from_json(&atts[0]["bundle"].to_string()).expect("publish parses");
    v.verify(
        TARBALL,
        &publish,
        &PublicKeyVerificationPolicy::new(DerPublicKey::new(ts.npm_spki_der())),
    )
    .expect("publish verifies");
    let provenance = Bundle::from_json(&atts[1]["bundle"].to_string()).expect("provenance parses");
    let id = identity();
    let r = v
        .verify(
            TARBALL,
            &provenance,
            &VerificationPolicy::new(id.san.value(), id.issuer.clone()),
        )
        .expect("provenance verifies");
    assert!(r.certificate_verified() && r.sct_verified() && r.tlog_verified());
    // The statement names the scoped package with %40, sha512 hex of the tarball.
    let payload = base64_decode(
        atts[1]["bundle"]["dsseEnvelope"]["payload"]
            .as_str()
            .unwrap(),
    );
    let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        statement["subject"][0]["name"],
        "pkg:npm/%40acme/widget@1.2.3"
    );
    assert_eq!(
        statement["subject"][0]["digest"]["sha512"],
        npm::sha512_hex(TARBALL)
    );
}

#[test]
fn registry_signature_verifies_with_p256() {
    use p256::ecdsa::signature::Verifier as _;
    let ts = TestSigstore::new(SEED);
    let integrity = npm::integrity(TARBALL);
    let sig = ts.registry_signature("widget", "1.2.3", &integrity);
    assert_eq!(sig["keyid"], ts.npm_keyid());
    let der = base64_decode(sig["sig"].as_str().unwrap());
    let sig = p256::ecdsa::DerSignature::try_from(der.as_slice()).unwrap();
    let msg = format!("widget@1.2.3:{integrity}");
    ts.npm_key()
        .verifying_key()
        .verify(msg.as_bytes(), &sig)
        .unwrap();
    let keys: serde_json::Value = serde_json::from_str(&ts.npm_keys_json(KeyWindow {
        start: 0,
        end: Some(T + 1000),
    }))
    .unwrap();
    assert_eq!(keys["keys"][0]["keyId"], ts.npm_keyid());
    assert_eq!(keys["keys"][1]["keyUsage"], "npm:attestations");
}

#[test]
fn npm_keyid_matches_the_real_algorithm() {
    // The real npm key jl3b… has keyid SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA
    // (ssh-keygen -lf); the same function computes our minted key's keyid.
    use p256::pkcs8::DecodePublicKey;
    let real = base64_decode("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1Olb3zMAFFxXKHiIkQO5cJ3Yhl5i6UPp+IhuteBJbuHcA5UogKo0EWtlWwW6KSaKoTNEYL7JlCQiVnkhBktUgg==");
    let real = p256::ecdsa::VerifyingKey::from_public_key_der(&real).unwrap();
    assert_eq!(
        npm::keyid_of(&real),
        "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA"
    );
    let a = TestSigstore::new(SEED).npm_keyid();
    let b = TestSigstore::new(SEED).npm_keyid();
    assert_eq!(a, b);
    assert!(a.starts_with("SHA256:") && a.len() == 7 + 43, "{a}");
}

#[test]
fn same_seed_gives_byte_identical_output() {
    let a = TestSigstore::new(SEED);
    let b = TestSigstore::new(SEED);
    assert_eq!(a.trusted_root_json(), b.trusted_root_json());
    let ra = a.npm_attestations("x", "1.0.0", TARBALL, &identity(), T);
    let rb = b.npm_attestations("x", "1.0.0", TARBALL, &identity(), T);
    assert_eq!(ra.to_string(), rb.to_string());
    let c = TestSigstore::new(b"another seed");
    assert_ne!(a.trusted_root_json(), c.trusted_root_json());
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}
