//! `verify_bundle` on tampered and malformed copies of real bundles (one field at a time, each
//! asserting the failing step), the input caps at their edge, and the `verify-bundle` CLI.

use crate::corpus_bundles::{cert_policy, npm_key, production, GHA};
use base64::Engine as _;
use npm_provenance::verify::shape::{
    MAX_BUNDLE_BYTES, MAX_CHAIN_CERTIFICATES, MAX_JSON_DEPTH, MAX_RFC3161_TIMESTAMPS, MAX_SUBJECTS,
    MAX_TLOG_ENTRIES,
};
use npm_provenance::verify::{verify_bundle, ArtifactRef, SignerPolicy, SigstoreTrust, Step};
use npm_provenance_testkit::corpus::corpus_dir;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const V01: &str = "sigstore-go/testing-data/bundles/sigstore.js@2.0.0-provenance.sigstore.json";
const V01_TGZ: &str = "npm-registry-tarballs/sigstore-2.0.0.tgz";
const V03: &str = "sigstore-js/tests-bundles/bundleV03-dsse.sigstore";
const V03_TGZ: &str = "npm-registry-tarballs/sigstore-1.0.0.tgz";
const RELEASE: &str =
    "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main";

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

struct Fixture {
    dir: PathBuf,
    bundle: Value,
    tgz: Vec<u8>,
    policy: SignerPolicy,
}

fn v01(test: &str) -> Option<Fixture> {
    let dir = corpus_dir(test)?;
    Some(Fixture {
        bundle: serde_json::from_slice(&std::fs::read(dir.join(V01)).unwrap()).unwrap(),
        tgz: std::fs::read(dir.join(V01_TGZ)).unwrap(),
        policy: cert_policy(RELEASE, GHA),
        dir,
    })
}

fn v03(test: &str) -> Option<Fixture> {
    let dir = corpus_dir(test)?;
    Some(Fixture {
        bundle: serde_json::from_slice(&std::fs::read(dir.join(V03)).unwrap()).unwrap(),
        tgz: std::fs::read(dir.join(V03_TGZ)).unwrap(),
        policy: cert_policy("brian@dehamer.com", "https://github.com/login/oauth"),
        dir,
    })
}

impl Fixture {
    /// The step at which `bundle` (edited by `edit`) fails; panics if it verifies.
    fn step_after(&self, edit: impl FnOnce(&mut Value)) -> Step {
        let mut b = self.bundle.clone();
        edit(&mut b);
        self.step_of_bytes(&serde_json::to_vec(&b).unwrap())
    }

    /// Whether the edited bundle is rejected as a hit cap.
    fn is_cap_after(&self, edit: impl FnOnce(&mut Value)) -> bool {
        let mut b = self.bundle.clone();
        edit(&mut b);
        verify_bundle(
            &production(),
            &serde_json::to_vec(&b).unwrap(),
            ArtifactRef::Bytes(&self.tgz),
            &self.policy,
        )
        .unwrap_err()
        .is_cap()
    }

    fn step_of_bytes(&self, bytes: &[u8]) -> Step {
        match verify_bundle(
            &production(),
            bytes,
            ArtifactRef::Bytes(&self.tgz),
            &self.policy,
        ) {
            Ok(_) => panic!("tampered bundle verified"),
            Err(e) => {
                eprintln!("{e}");
                e.step
            }
        }
    }

    fn verifies(&self) {
        verify_bundle(
            &production(),
            &serde_json::to_vec(&self.bundle).unwrap(),
            ArtifactRef::Bytes(&self.tgz),
            &self.policy,
        )
        .unwrap();
    }
}

fn entry(b: &mut Value) -> &mut Value {
    &mut b["verificationMaterial"]["tlogEntries"][0]
}

/// Flips one bit in the middle of a base64 field.
fn flip_b64(v: &mut Value) {
    let mut bytes = b64().decode(v.as_str().unwrap()).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 1;
    *v = Value::String(b64().encode(bytes));
}

#[test]
fn untouched_fixtures_verify() {
    let Some(f) = v01("untouched_fixtures_verify") else {
        return;
    };
    f.verifies();
    v03("untouched_fixtures_verify").unwrap().verifies();
}

#[test]
fn tampered_tlog_fields_fail_at_their_step() {
    let Some(f) = v01("tampered_tlog_fields_fail_at_their_step") else {
        return;
    };
    assert_eq!(
        f.step_after(|b| flip_b64(&mut entry(b)["inclusionPromise"]["signedEntryTimestamp"])),
        Step::SignedEntryTimestamp
    );
    assert_eq!(
        f.step_after(|b| entry(b)["integratedTime"] = json!("1692374736")),
        Step::SignedEntryTimestamp
    );
    assert_eq!(
        f.step_after(|b| entry(b)["logIndex"] = json!("31821306")),
        Step::SignedEntryTimestamp
    );
    assert_eq!(
        f.step_after(|b| flip_b64(&mut entry(b)["inclusionProof"]["hashes"][3])),
        Step::InclusionProof
    );
    assert_eq!(
        f.step_after(
            |b| entry(b)["logId"]["keyId"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        ),
        Step::Tlog
    );
    // A checkpoint whose signature is broken (the note body stays consistent).
    assert_eq!(
        f.step_after(|b| {
            let cp = entry(b)["inclusionProof"]["checkpoint"]["envelope"]
                .as_str()
                .unwrap()
                .replace("wNI9ajBEAiAzHmfH", "wNI9ajBEAiAzHmfI");
            entry(b)["inclusionProof"]["checkpoint"]["envelope"] = json!(cp);
        }),
        Step::Checkpoint
    );
    // The body no longer records this bundle's signature: the SET (over the body) breaks first.
    assert_eq!(
        f.step_after(|b| flip_b64(&mut entry(b)["canonicalizedBody"])),
        Step::SignedEntryTimestamp
    );
}

#[test]
fn tampered_signature_payload_certificate_and_artifact() {
    let Some(f) = v03("tampered_signature_payload_certificate_and_artifact") else {
        return;
    };
    assert_eq!(
        f.step_after(|b| flip_b64(&mut b["dsseEnvelope"]["signatures"][0]["sig"])),
        Step::Signature
    );
    // A different payload type changes the PAE: not an in-toto statement any more.
    assert_eq!(
        f.step_after(|b| b["dsseEnvelope"]["payloadType"] = json!("text/plain")),
        Step::Artifact
    );
    // An altered leaf certificate no longer chains.
    assert_eq!(
        f.step_after(|b| {
            let der = b["verificationMaterial"]["certificate"]["rawBytes"]
                .as_str()
                .unwrap();
            let mut bytes = b64().decode(der).unwrap();
            let n = bytes.len();
            bytes[n - 10] ^= 1; // inside the CA's signature
            b["verificationMaterial"]["certificate"]["rawBytes"] = json!(b64().encode(bytes));
        }),
        Step::CertificateChain
    );
    // A truncated DER certificate.
    assert_eq!(
        f.step_after(|b| {
            let der = b["verificationMaterial"]["certificate"]["rawBytes"]
                .as_str()
                .unwrap();
            let bytes = b64().decode(der).unwrap();
            b["verificationMaterial"]["certificate"]["rawBytes"] =
                json!(b64().encode(&bytes[..bytes.len() / 2]));
        }),
        Step::CertificateChain
    );
    // The right bundle with the wrong artifact.
    let mut other = f.tgz.clone();
    other.push(0);
    let r = verify_bundle(
        &production(),
        &serde_json::to_vec(&f.bundle).unwrap(),
        ArtifactRef::Bytes(&other),
        &f.policy,
    );
    assert_eq!(r.unwrap_err().step, Step::Artifact);
    // Identity and issuer policies.
    let wrong_san = cert_policy("brian@dehamer.co", "https://github.com/login/oauth");
    let wrong_iss = cert_policy("brian@dehamer.com", "https://github.com/login/oauth/");
    for (policy, step) in [(wrong_san, Step::Identity), (wrong_iss, Step::Issuer)] {
        let r = verify_bundle(
            &production(),
            &serde_json::to_vec(&f.bundle).unwrap(),
            ArtifactRef::Bytes(&f.tgz),
            &policy,
        );
        assert_eq!(r.unwrap_err().step, step);
    }
    // A certificate bundle offered as a key-signed one (and the reverse is in corpus_bundles).
    let r = verify_bundle(
        &production(),
        &serde_json::to_vec(&f.bundle).unwrap(),
        ArtifactRef::Bytes(&f.tgz),
        &SignerPolicy::PublicKey {
            spki_der: npm_key("SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA"),
        },
    );
    assert_eq!(r.unwrap_err().step, Step::Signature);
}

#[test]
fn media_type_rules() {
    let Some(f) = v01("media_type_rules") else {
        return;
    };
    let g = v03("media_type_rules").unwrap();
    assert_eq!(
        f.step_after(
            |b| b["mediaType"] = json!("application/vnd.dev.sigstore.bundle+json;version=9")
        ),
        Step::MediaType
    );
    assert_eq!(
        f.step_after(|b| {
            b.as_object_mut().unwrap().remove("mediaType");
        }),
        Step::MediaType
    );
    // v0.1 needs a SET on every entry.
    assert_eq!(
        f.step_after(|b| entry(b)["inclusionPromise"] = Value::Null),
        Step::MediaType
    );
    // ≥ v0.2 needs an inclusion proof with a checkpoint on every entry.
    assert_eq!(
        g.step_after(|b| entry(b)["inclusionProof"] = Value::Null),
        Step::MediaType
    );
    // v0.3 allows one certificate, not a chain.
    assert_eq!(
        g.step_after(|b| {
            let cert = b["verificationMaterial"]["certificate"].clone();
            let vm = b["verificationMaterial"].as_object_mut().unwrap();
            vm.remove("certificate");
            vm.insert(
                "x509CertificateChain".into(),
                json!({ "certificates": [cert] }),
            );
        }),
        Step::MediaType
    );
    // No tlog entry at all.
    assert_eq!(
        f.step_after(|b| b["verificationMaterial"]["tlogEntries"] = json!([])),
        Step::Tlog
    );
}

#[test]
fn malformed_input_is_a_parse_error() {
    let Some(f) = v01("malformed_input_is_a_parse_error") else {
        return;
    };
    assert_eq!(f.step_of_bytes(b"not json"), Step::Parse);
    assert_eq!(f.step_of_bytes(b"[]"), Step::Parse);
    assert_eq!(f.step_of_bytes(&[0xff, 0xfe]), Step::Parse);
    assert_eq!(
        f.step_of_bytes(
            &std::fs::read(f.dir.join("npm-cli/libnpmpublish-fixtures/bad-bundle.json")).unwrap()
        ),
        Step::Parse
    );
    // Bad base64 in the certificate.
    assert_eq!(
        f.step_after(
            |b| b["verificationMaterial"]["x509CertificateChain"]["certificates"][0]["rawBytes"] =
                json!("%%%")
        ),
        Step::Parse
    );
    // Both content kinds / none.
    assert_eq!(
        f.step_after(|b| b["messageSignature"] = json!({"signature": "AAAA"})),
        Step::Parse
    );
    assert_eq!(
        f.step_after(|b| {
            b.as_object_mut().unwrap().remove("dsseEnvelope");
        }),
        Step::Parse
    );
    // A payload that is not JSON.
    assert_eq!(
        f.step_after(|b| b["dsseEnvelope"]["payload"] = json!(b64().encode("nope"))),
        Step::Parse
    );
}

#[test]
fn duplicate_entries_and_signatures_are_rejected() {
    let Some(f) = v01("duplicate_entries_and_signatures_are_rejected") else {
        return;
    };
    assert_eq!(
        f.step_after(|b| {
            let e = entry(b).clone();
            b["verificationMaterial"]["tlogEntries"] = json!([e.clone(), e]);
        }),
        Step::Tlog
    );
    assert_eq!(
        f.step_after(|b| {
            let s = b["dsseEnvelope"]["signatures"][0].clone();
            b["dsseEnvelope"]["signatures"] = json!([s.clone(), s]);
        }),
        Step::Signature
    );
    // sigstore-go's two-signature negative.
    let two = std::fs::read(
        f.dir
            .join("sigstore-go/testing-data/bundles/dsse-2sigs.sigstore.json"),
    )
    .unwrap();
    assert_eq!(f.step_of_bytes(&two), Step::Signature);
}

#[test]
fn caps_reject_just_beyond_the_edge() {
    let Some(f) = v01("caps_reject_just_beyond_the_edge") else {
        return;
    };
    // tlog entries: at the cap the entries are only duplicates (Tlog); one more is the cap.
    let at = |n: usize| {
        move |b: &mut Value| {
            let e = entry(b).clone();
            b["verificationMaterial"]["tlogEntries"] = Value::Array(vec![e; n]);
        }
    };
    assert_eq!(f.step_after(at(MAX_TLOG_ENTRIES)), Step::Tlog);
    assert_eq!(f.step_after(at(MAX_TLOG_ENTRIES + 1)), Step::Parse);
    assert!(f.is_cap_after(at(MAX_TLOG_ENTRIES + 1)));
    assert!(!f.is_cap_after(at(MAX_TLOG_ENTRIES)));

    // certificate chain length: at the cap it is accepted (only the leaf is used).
    let chain = |n: usize| {
        move |b: &mut Value| {
            let c = b["verificationMaterial"]["x509CertificateChain"]["certificates"][0].clone();
            b["verificationMaterial"]["x509CertificateChain"]["certificates"] =
                Value::Array(vec![c; n]);
        }
    };
    let mut ok = f.bundle.clone();
    chain(MAX_CHAIN_CERTIFICATES)(&mut ok);
    verify_bundle(
        &production(),
        &serde_json::to_vec(&ok).unwrap(),
        ArtifactRef::Bytes(&f.tgz),
        &f.policy,
    )
    .unwrap();
    assert_eq!(f.step_after(chain(MAX_CHAIN_CERTIFICATES + 1)), Step::Parse);

    // RFC 3161 timestamps: garbage tokens fail at the time step up to the cap, beyond it: parse.
    let ts = |n: usize| {
        move |b: &mut Value| {
            let list: Vec<Value> = (0..n)
                .map(|i| json!({"signedTimestamp": b64().encode(format!("token{i}"))}))
                .collect();
            b["verificationMaterial"]["timestampVerificationData"] =
                json!({"rfc3161Timestamps": list});
        }
    };
    assert_eq!(f.step_after(ts(MAX_RFC3161_TIMESTAMPS)), Step::Time);
    assert_eq!(f.step_after(ts(MAX_RFC3161_TIMESTAMPS + 1)), Step::Parse);
    // duplicate timestamps
    assert_eq!(
        f.step_after(|b| b["verificationMaterial"]["timestampVerificationData"] =
            json!({"rfc3161Timestamps": [{"signedTimestamp": "AAAA"}, {"signedTimestamp": "AAAA"}]})),
        Step::Time
    );

    // JSON depth, in the bundle and in the payload.
    let nest = |n: usize| {
        let mut v = json!(1);
        for _ in 0..n {
            v = json!([v]);
        }
        v
    };
    // depth(bundle) = 1 (object) + the nested value's depth (n arrays + 1): at the cap an
    // unknown field is ignored and the bundle verifies; one level more is a parse error.
    let mut ok = f.bundle.clone();
    ok["extra"] = nest(MAX_JSON_DEPTH - 2);
    verify_bundle(
        &production(),
        &serde_json::to_vec(&ok).unwrap(),
        ArtifactRef::Bytes(&f.tgz),
        &f.policy,
    )
    .unwrap();
    assert_eq!(
        f.step_after(|b| b["extra"] = nest(MAX_JSON_DEPTH - 1)),
        Step::Parse
    );
    assert_eq!(
        f.step_after(|b| {
            let payload = json!({"_type": "x", "predicateType": "y", "subject": [], "predicate": nest(MAX_JSON_DEPTH)});
            b["dsseEnvelope"]["payload"] = json!(b64().encode(payload.to_string()));
        }),
        Step::Parse
    );
    // subjects: beyond the cap → parse; at the cap the (unsigned) payload fails later.
    let subjects = |n: usize| {
        move |b: &mut Value| {
            let s: Vec<Value> = (0..n)
                .map(|i| json!({"name": format!("s{i}"), "digest": {"sha256": "ab".repeat(32)}}))
                .collect();
            let payload = json!({"_type": "x", "predicateType": "y", "subject": s});
            b["dsseEnvelope"]["payload"] = json!(b64().encode(payload.to_string()));
        }
    };
    assert_eq!(f.step_after(subjects(MAX_SUBJECTS)), Step::Signature);
    assert_eq!(f.step_after(subjects(MAX_SUBJECTS + 1)), Step::Parse);

    // size
    // size: padded with whitespace inside the object to exactly the cap (verifies), then one
    // byte more (parse error).
    let padded = |len: usize| {
        let mut big = serde_json::to_vec(&f.bundle).unwrap();
        big.pop();
        big.resize(len - 1, b' ');
        big.push(b'}');
        big
    };
    let at_cap = padded(MAX_BUNDLE_BYTES);
    assert_eq!(at_cap.len(), MAX_BUNDLE_BYTES);
    verify_bundle(
        &production(),
        &at_cap,
        ArtifactRef::Bytes(&f.tgz),
        &f.policy,
    )
    .unwrap();
    assert_eq!(f.step_of_bytes(&padded(MAX_BUNDLE_BYTES + 1)), Step::Parse);
}

#[test]
fn trusted_root_rules() {
    let Some(dir) = corpus_dir("trusted_root_rules") else {
        return;
    };
    let read = |rel: &str| std::fs::read_to_string(dir.join(rel)).unwrap();
    SigstoreTrust::from_json(&read(
        "sigstore-python/assets/trusted_root/trustedroot.v1.json",
    ))
    .unwrap();
    for bad in [
        "sigstore-python/assets/trusted_root/trustedroot.badtype.json",
        "sigstore-python/assets/trusted_root/certificate_authority.json",
    ] {
        let e = SigstoreTrust::from_json(&read(bad)).unwrap_err();
        assert_eq!(e.step, Step::TrustRoot, "{bad}");
    }
    assert_eq!(
        SigstoreTrust::from_json("{").unwrap_err().step,
        Step::TrustRoot
    );
}

#[test]
fn python_and_gh_negatives_fail_at_their_step() {
    let Some(dir) = corpus_dir("python_and_gh_negatives_fail_at_their_step") else {
        return;
    };
    let any = SignerPolicy::Certificate {
        san: None,
        issuer: None,
    };
    let a = |p: &str| std::fs::read(dir.join(p)).unwrap();
    let base = "sigstore-python/assets";
    for (bundle, artifact, step) in [
        (
            "bundle_cve_2022_36056.txt.sigstore",
            "bundle_cve_2022_36056.txt",
            Step::TlogBody,
        ),
        (
            "bundle_invalid_version.txt.sigstore",
            "bundle_invalid_version.txt",
            Step::MediaType,
        ),
        (
            "bundle_no_cert_v1.txt.sigstore",
            "bundle_no_cert_v1.txt",
            Step::Parse,
        ),
        (
            "bundle_no_log_entry.txt.sigstore",
            "bundle_no_log_entry.txt",
            Step::Tlog,
        ),
        (
            "bundle_no_checkpoint.txt.sigstore",
            "bundle_no_checkpoint.txt",
            Step::MediaType,
        ),
        (
            "bundle_v3_no_signed_time.txt.sigstore.json",
            "bundle_v3_no_signed_time.txt",
            Step::Time,
        ),
    ] {
        let artifact = a(&format!("{base}/{artifact}"));
        // bundle_v3_no_signed_time was logged on the production Rekor.
        let trust = if bundle.starts_with("bundle_v3_no_signed_time") {
            production()
        } else {
            SigstoreTrust::from_json(npm_provenance::trust::STAGING_TRUSTED_ROOT).unwrap()
        };
        let r = verify_bundle(
            &trust,
            &a(&format!("{base}/{bundle}")),
            ArtifactRef::Bytes(&artifact),
            &any,
        );
        match r {
            Ok(_) => panic!("{bundle} verified"),
            Err(e) => assert_eq!(e.step, step, "{bundle}: {e}"),
        }
    }
    // gh-cli's invalid-signature bundle (payloadType text/plain, bad signature).
    let tgz = a("gh-cli/attestation-test-data/sigstore-js-2.1.0.tgz");
    let r = verify_bundle(
        &production(),
        &a("gh-cli/attestation-test-data/sigstoreBundle-invalid-signature.json"),
        ArtifactRef::Bytes(&tgz),
        &any,
    );
    assert_eq!(r.unwrap_err().step, Step::Artifact);
}

// ---------------------------------------------------------------------------------------------
// The command line.

fn bin() -> Command {
    crate::common::npm_provenance()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().arg("verify-bundle").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn p(dir: &Path, rel: &str) -> String {
    dir.join(rel).display().to_string()
}

#[test]
fn cli_readme_command_verifies_and_reports_json() {
    let Some(dir) = corpus_dir("cli_readme_command_verifies_and_reports_json") else {
        return;
    };
    let (code, out, err) = run(&[
        "--bundle",
        &p(&dir, V01),
        "--certificate-identity",
        RELEASE,
        "--certificate-oidc-issuer",
        GHA,
        &p(&dir, V01_TGZ),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("verified: "), "{out}");

    let (code, out, _) = run(&[
        "--json",
        "--bundle",
        &p(&dir, V01),
        "--certificate-identity-regexp",
        r"https://github\.com/sigstore/sigstore-js/.*",
        "--certificate-oidc-issuer",
        GHA,
        &p(&dir, V01_TGZ),
    ]);
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["schema"], "npm-provenance/verify-bundle/v1");
    assert_eq!(doc["verified"], true);
    assert_eq!(doc["identity"]["san"], RELEASE);
    assert_eq!(doc["identity"]["issuer"], GHA);
    assert_eq!(doc["times"][0]["source"], "rekor");
    assert_eq!(doc["times"][0]["log_index"], 31821305);
    assert_eq!(
        doc["statement"]["subjects"][0]["name"],
        "pkg:npm/sigstore@2.0.0"
    );
    assert_eq!(doc["error"], Value::Null);
}

#[test]
fn cli_identity_failures_are_exit_1_with_one_step_line() {
    let Some(dir) = corpus_dir("cli_identity_failures_are_exit_1_with_one_step_line") else {
        return;
    };
    let bundle = p(&dir, V01);
    let tgz = p(&dir, V01_TGZ);
    for (flags, step) in [
        (
            vec![
                "--certificate-identity",
                "https://github.com/sigstore/sigstore-js",
                "--certificate-oidc-issuer",
                GHA,
            ],
            "identity",
        ),
        // a prefix regex must not match: it is anchored on the whole value
        (
            vec![
                "--certificate-identity-regexp",
                "https://github.com/sigstore/sigstore-js",
                "--certificate-oidc-issuer",
                GHA,
            ],
            "identity",
        ),
        (
            vec![
                "--certificate-identity",
                RELEASE,
                "--certificate-oidc-issuer",
                "https://token.actions.githubusercontent.co",
            ],
            "issuer",
        ),
        (
            vec![
                "--certificate-identity",
                RELEASE,
                "--certificate-oidc-issuer-regexp",
                "https://token",
            ],
            "issuer",
        ),
    ] {
        let mut args = vec!["--bundle", &bundle];
        args.extend(flags);
        args.push(&tgz);
        let (code, out, err) = run(&args);
        assert_eq!(code, 1, "{args:?}");
        assert!(out.is_empty());
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with(&format!("step={step}: expected ")), "{err}");
    }
    // --json still writes the document on exit 1
    let (code, out, _) = run(&[
        "--json",
        "--bundle",
        &bundle,
        "--certificate-identity",
        "x",
        "--certificate-oidc-issuer",
        GHA,
        &tgz,
    ]);
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["verified"], false);
    assert_eq!(doc["error"]["step"], "identity");
}

#[test]
fn cli_digest_argument_and_wrong_artifact() {
    let Some(dir) = corpus_dir("cli_digest_argument_and_wrong_artifact") else {
        return;
    };
    use sha2::{Digest, Sha512};
    let tgz = std::fs::read(dir.join(V01_TGZ)).unwrap();
    let digest = format!("sha512:{}", hex::encode(Sha512::digest(&tgz)));
    let bundle = p(&dir, V01);
    let base = [
        "--bundle",
        &bundle,
        "--certificate-identity",
        RELEASE,
        "--certificate-oidc-issuer",
        GHA,
    ];
    let mut args = base.to_vec();
    args.push(&digest);
    assert_eq!(run(&args).0, 0);
    // The wrong file.
    let mut args = base.to_vec();
    let other = p(&dir, "npm-registry-tarballs/sigstore-1.0.0.tgz");
    args.push(&other);
    let (code, _, err) = run(&args);
    assert_eq!(code, 1);
    assert!(err.starts_with("step=artifact"), "{err}");
}

#[test]
fn cli_key_bundle() {
    let Some(dir) = corpus_dir("cli_key_bundle") else {
        return;
    };
    let bundle = p(&dir, "sigstore-go/examples/bundle-publish.json");
    let key = p(&dir, "sigstore-go/examples/publish_key.pub");
    let tgz = p(&dir, "npm-registry-tarballs/sigstore-1.3.0.tgz");
    let (code, out, err) = run(&["--bundle", &bundle, "--key", &key, &tgz]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("signed by the given key"));
    // key and identity flags together: bad arguments
    let (code, _, _) = run(&[
        "--bundle",
        &bundle,
        "--key",
        &key,
        "--certificate-identity",
        "x",
        &tgz,
    ]);
    assert_eq!(code, 2);
    // a certificate bundle with --key: verification failure
    let (code, _, err) = run(&["--bundle", &p(&dir, V01), "--key", &key, &p(&dir, V01_TGZ)]);
    assert_eq!(code, 1);
    assert!(err.starts_with("step=signature"), "{err}");
}

#[test]
fn cli_bad_inputs_are_exit_2() {
    let Some(dir) = corpus_dir("cli_bad_inputs_are_exit_2") else {
        return;
    };
    let tgz = p(&dir, V01_TGZ);
    let id = [
        "--certificate-identity",
        RELEASE,
        "--certificate-oidc-issuer",
        GHA,
    ];
    let bad_bundle = p(&dir, "npm-cli/libnpmpublish-fixtures/bad-bundle.json");
    let mut args = vec!["--json", "--bundle", &bad_bundle];
    args.extend(id);
    args.push(&tgz);
    let (code, out, err) = run(&args);
    assert_eq!(code, 2, "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["schema"], "npm-provenance/error/v1");
    assert!(err.contains("bad-bundle.json"), "{err}");

    let mut args = vec!["--bundle", "/nonexistent/bundle.json"];
    args.extend(id);
    args.push(&tgz);
    assert_eq!(run(&args).0, 2);

    let bundle = p(&dir, V01);
    let mut args = vec!["--bundle", &bundle];
    args.extend(id);
    args.push("/nonexistent/artifact");
    assert_eq!(run(&args).0, 2);

    let badroot = p(
        &dir,
        "sigstore-python/assets/trusted_root/trustedroot.badtype.json",
    );
    let mut args = vec!["--bundle", &bundle, "--trusted-root", &badroot];
    args.extend(id);
    args.push(&tgz);
    assert_eq!(run(&args).0, 2);

    // a format verify-bundle does not write
    let mut args = vec!["--format", "sarif", "--bundle", &bundle];
    args.extend(id);
    args.push(&tgz);
    assert_eq!(run(&args).0, 2);

    // exact and regexp together; no identity at all; a bad regex
    assert_eq!(
        run(&[
            "--bundle",
            &bundle,
            "--certificate-identity",
            "a",
            "--certificate-identity-regexp",
            "a",
            "--certificate-oidc-issuer",
            GHA,
            &tgz
        ])
        .0,
        2
    );
    assert_eq!(
        run(&["--bundle", &bundle, "--certificate-oidc-issuer", GHA, &tgz]).0,
        2
    );
    assert_eq!(
        run(&[
            "--bundle",
            &bundle,
            "--certificate-identity-regexp",
            "(",
            "--certificate-oidc-issuer",
            GHA,
            &tgz
        ])
        .0,
        2
    );
}

#[test]
fn cli_staging_flag_selects_the_staging_root() {
    let Some(dir) = corpus_dir("cli_staging_flag_selects_the_staging_root") else {
        return;
    };
    let bundle = p(&dir, "sigstore-python/assets/bundle.txt.sigstore");
    let artifact = p(&dir, "sigstore-python/assets/bundle.txt");
    let args = |staging: bool| {
        let mut a = vec![];
        if staging {
            a.push("--staging");
        }
        a.extend([
            "--bundle",
            &bundle,
            "--certificate-identity-regexp",
            ".*",
            "--certificate-oidc-issuer-regexp",
            ".*",
            &artifact,
        ]);
        a
    };
    let (code, _, err) = run(&args(true));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&args(false));
    assert_eq!(code, 1, "{err}");
}

#[test]
fn cli_output_file_is_written() {
    let Some(dir) = corpus_dir("cli_output_file_is_written") else {
        return;
    };
    let out = std::env::temp_dir().join(format!("npm-provenance-vb-{}.json", std::process::id()));
    let out_s = out.display().to_string();
    let (code, stdout, _) = run(&[
        "--json",
        "--output",
        &out_s,
        "--bundle",
        &p(&dir, V01),
        "--certificate-identity",
        RELEASE,
        "--certificate-oidc-issuer",
        GHA,
        &p(&dir, V01_TGZ),
    ]);
    assert_eq!(code, 0);
    assert!(stdout.is_empty());
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(doc["verified"], true);
    let _ = std::fs::remove_file(&out);
}

/// Random single-byte mutations of a real bundle never panic, and nearly all fail.
#[test]
fn random_mutations_never_panic() {
    let Some(f) = v03("random_mutations_never_panic") else {
        return;
    };
    let trust = production();
    let original = serde_json::to_vec(&f.bundle).unwrap();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15; // fixed seed: reproducible
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut ok, n) = (0, 400);
    for _ in 0..n {
        let mut b = original.clone();
        let i = (next() % b.len() as u64) as usize;
        b[i] = (next() % 256) as u8;
        if b == original {
            continue;
        }
        if verify_bundle(&trust, &b, ArtifactRef::Bytes(&f.tgz), &f.policy).is_ok() {
            ok += 1;
        }
    }
    // Only bytes outside every signed/checked field (e.g. the unsigned DSSE keyid) may pass.
    assert!(ok * 20 < n, "{ok} of {n} mutations verified");
}

/// DESIGN §4: `sigstore-verify` is used in one file only, and never with a `skip_*` option.
#[test]
fn sigstore_verify_is_wrapped_in_one_file_without_skips() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            if path.ends_with("verify/sigstore.rs") {
                assert!(text.contains("sigstore_verify::"));
                for banned in [".skip_", "CertificatePolicy::Skip", "skip_tlog_unsafe("] {
                    assert!(!text.contains(banned), "{banned} in {}", path.display());
                }
            } else {
                assert!(
                    !text.contains("sigstore_verify"),
                    "{} uses sigstore_verify",
                    path.display()
                );
            }
        }
    }
}

/// DESIGN §4.4: only the leaf comes from the bundle. Whatever follows it in
/// `x509CertificateChain` is ignored (the path is built from the trusted root alone).
#[test]
fn only_the_leaf_of_a_chain_is_used() {
    let Some(f) = v01("only_the_leaf_of_a_chain_is_used") else {
        return;
    };
    let mut b = f.bundle.clone();
    let certs = &mut b["verificationMaterial"]["x509CertificateChain"]["certificates"];
    let leaf = certs[0].clone();
    *certs = json!([leaf, {"rawBytes": b64().encode(b"not a certificate")}]);
    verify_bundle(
        &production(),
        &serde_json::to_vec(&b).unwrap(),
        ArtifactRef::Bytes(&f.tgz),
        &f.policy,
    )
    .unwrap();
    // ...but the leaf itself is required to be the signing certificate.
    assert_eq!(
        f.step_after(|b| {
            let certs = &mut b["verificationMaterial"]["x509CertificateChain"]["certificates"];
            *certs = json!([{"rawBytes": b64().encode(b"not a certificate")}]);
        }),
        Step::CertificateChain
    );
}
