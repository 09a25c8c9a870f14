//! The checkpoint rules `verify_bundle` adds to the library's (DESIGN §4.2): the signed tree head
//! must be the proof's (size and root), and a Rekor v2 checkpoint's origin must name the log's
//! host in the trusted root. Driven by a real staging Rekor v2 bundle.

use npm_provenance::verify::{verify_bundle, ArtifactRef, SignerPolicy, SigstoreTrust, Step};
use npm_provenance_testkit::corpus::corpus_dir;
use serde_json::Value;

const STAGING_V2: &str = "sigstore-python/assets/staging-rekor-v2.txt.sigstore.json";
const STAGING_V2_ARTIFACT: &str = "sigstore-python/assets/staging-rekor-v2.txt";

fn any_identity() -> SignerPolicy {
    SignerPolicy::Certificate {
        san: None,
        issuer: None,
    }
}

fn staging_root() -> Value {
    serde_json::from_str(npm_provenance::trust::STAGING_TRUSTED_ROOT).unwrap()
}

#[test]
fn rekor_v2_checkpoint_origin_must_name_the_trusted_log() {
    let Some(dir) = corpus_dir("rekor_v2_checkpoint_origin_must_name_the_trusted_log") else {
        return;
    };
    let bundle = std::fs::read(dir.join(STAGING_V2)).unwrap();
    let artifact = std::fs::read(dir.join(STAGING_V2_ARTIFACT)).unwrap();

    // As shipped, the staging root's Rekor v2 log host is the checkpoint's origin.
    let root = staging_root();
    let trust = SigstoreTrust::from_json(&root.to_string()).unwrap();
    verify_bundle(
        &trust,
        &bundle,
        ArtifactRef::Bytes(&artifact),
        &any_identity(),
    )
    .expect("the real staging Rekor v2 bundle verifies");

    // The same log key under another host: the checkpoint no longer names the trusted log.
    let mut moved = root.clone();
    for log in moved["tlogs"].as_array_mut().unwrap() {
        let url = log["baseUrl"].as_str().unwrap().to_string();
        if url.contains("log2025-alpha1") {
            log["baseUrl"] = Value::String("https://log.elsewhere.invalid".into());
        }
    }
    let trust = SigstoreTrust::from_json(&moved.to_string()).unwrap();
    let err = verify_bundle(
        &trust,
        &bundle,
        ArtifactRef::Bytes(&artifact),
        &any_identity(),
    )
    .expect_err("a checkpoint for another origin must not verify");
    assert_eq!(err.step, Step::Checkpoint, "{err}");
    assert!(err.to_string().contains("log.elsewhere.invalid"), "{err}");
}
