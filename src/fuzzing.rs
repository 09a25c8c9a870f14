//! Fuzzing entry points: one `fn(&[u8])` per parser of outside input.
//!
//! Each runs the parser the way the tool does on that kind of input and must never panic,
//! whatever the bytes: errors are fine, panics, overflows and hangs are bugs. The cargo-fuzz
//! targets in `fuzz/fuzz_targets/` call these, and `tests/it/fuzz_seeds.rs` runs every seed
//! (plus every matching corpus file and a bounded set of deterministic mutations) through them,
//! so CI without nightly still exercises them. Not a public API: hidden from the docs.
//!
//! Inputs that the tool only reads from a file (lockfiles, `.npmrc`) go through the real
//! file-reading entry, from a per-process scratch folder, so the caps on reading apply too.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use base64::Engine as _;
use serde_json::{json, Value};

use crate::inventory::{self, InventoryOptions};
use crate::registry::attestations::AttestationsResponse;
use crate::registry::cache::{Cache, CacheKey, Peeked, Stamp};
use crate::registry::config::{ConfigInputs, RegistryConfig};
use crate::registry::packument::Packument;
use crate::trust::npm_keys::{KeySource, NpmKeys};
use crate::trust::trusted_root::TrustedRoot;
use crate::trust::tuf_root::TufRootInfo;
use crate::verify::registry_signature::{verify_registry_signature, PublishTime, TimeSource};
use crate::verify::{self, ArtifactRef, FulcioIdentity, SanKind, SignerPolicy, SigstoreTrust};

/// A fuzzing entry point.
pub type Target = fn(&[u8]);

/// Every target, by name: the fuzz targets and the seed folders use these names.
pub const TARGETS: &[(&str, Target)] = &[
    ("attestations", attestations),
    ("bun_lock", bun_lock),
    ("bundle", bundle),
    ("cache_entry", cache_entry),
    ("certificate", certificate),
    ("checkpoint", checkpoint),
    ("npm_keys", npm_keys),
    ("npmrc", npmrc),
    ("package_lock", package_lock),
    ("packument", packument),
    ("pnpm_lock", pnpm_lock),
    ("policy", policy),
    ("snapshot_manifest", snapshot_manifest),
    ("statement", statement),
    ("stored_digest", stored_digest),
    ("trusted_root", trusted_root),
    ("tuf_root", tuf_root),
    ("yarn_lock", yarn_lock),
];

/// A Sigstore bundle (`verify_bundle` with the production trusted root, any signer).
pub fn bundle(data: &[u8]) {
    verify_any(data);
}

/// An in-toto statement as a DSSE payload: the bundle's structural checks on the payload, then
/// the provenance reading of the predicate against a GitHub Actions identity.
pub fn statement(data: &[u8]) {
    let payload = base64::engine::general_purpose::STANDARD.encode(data);
    verify_any(&template_bundle(&payload, GOOD_CHECKPOINT));
    let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let predicate_type = doc
        .get("predicateType")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let predicate = doc.get("predicate").cloned().unwrap_or(Value::Null);
    let cert = github_identity();
    let _ = verify::provenance::evaluate(&predicate_type, &predicate, &cert);
    let statement = verify::Statement {
        type_: String::new(),
        predicate_type,
        subjects: Vec::new(),
        predicate,
        payload_type: "application/vnd.in-toto+json".into(),
    };
    let _ = verify::provenance::identity(&cert, Some(&statement));
}

/// A Fulcio leaf certificate (DER): identity and every 1.3.6.1.4.1.57264.1.x extension.
pub fn certificate(data: &[u8]) {
    if let Ok(id) = verify::identity::decode_fulcio_identity(data) {
        let _ = id.repository();
        let _ = verify::provenance::certificate_claims(&id);
    }
}

/// A checkpoint note (signed tree head), as the inclusion proof's `checkpoint.envelope`.
pub fn checkpoint(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    verify_any(&template_bundle(GOOD_PAYLOAD_B64, text));
}

/// A packument: the document, every version's subset, its time, and its registry signatures
/// against the embedded npm keys.
pub fn packument(data: &[u8]) {
    let Ok(p) = Packument::from_slice(data) else {
        return;
    };
    let keys = embedded_keys();
    let names: Vec<String> = p.version_names().map(str::to_owned).collect();
    for name in names {
        let time = p.time_of(&name);
        let Some(Ok(v)) = p.version(&name) else {
            continue;
        };
        if let Some(keys) = keys {
            let publish = match time {
                Some(t) => PublishTime::new(t, TimeSource::RegistryUnsigned),
                None => PublishTime::new(jiff::Timestamp::UNIX_EPOCH, TimeSource::None),
            };
            let _ = verify_registry_signature(
                v.name.as_deref().unwrap_or_default(),
                v.version.as_deref().unwrap_or(&name),
                v.dist.integrity.as_deref().unwrap_or_default(),
                &v.dist.signatures,
                keys,
                &publish,
            );
        }
    }
}

/// An attestations response (`/-/npm/v1/attestations/NAME@VERSION`), then each bundle.
pub fn attestations(data: &[u8]) {
    if let Ok(r) = AttestationsResponse::from_slice(data) {
        for a in &r.attestations {
            verify_any(&a.bundle_bytes());
        }
    }
}

/// npm registry keys (`keys.json` from TUF, or the `/-/npm/v1/keys` shape).
pub fn npm_keys(data: &[u8]) {
    let _ = NpmKeys::from_json(data, KeySource::Pinned);
}

/// A Sigstore `trusted_root.json`, as the trust store and as the verifier read it.
pub fn trusted_root(data: &[u8]) {
    let _ = TrustedRoot::from_json(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = SigstoreTrust::from_json(s);
    }
}

/// A TUF `root.json` (or its base64 in `seeds.json`).
pub fn tuf_root(data: &[u8]) {
    let _ = TufRootInfo::from_json(data);
}

/// `package-lock.json` (v1–v3), through [`inventory::load`].
pub fn package_lock(data: &[u8]) {
    load_lockfile("package-lock.json", data);
}

/// `yarn.lock` (v1 and berry).
pub fn yarn_lock(data: &[u8]) {
    load_lockfile("yarn.lock", data);
}

/// `pnpm-lock.yaml`.
pub fn pnpm_lock(data: &[u8]) {
    load_lockfile("pnpm-lock.yaml", data);
}

/// `bun.lock` (JSONC).
pub fn bun_lock(data: &[u8]) {
    load_lockfile("bun.lock", data);
}

/// A project `.npmrc`, through [`RegistryConfig::load`].
pub fn npmrc(data: &[u8]) {
    let dir = scratch_dir();
    if std::fs::write(dir.join(".npmrc"), data).is_err() {
        return;
    }
    let inputs = ConfigInputs {
        env: Default::default(),
        home: None,
        project_dir: Some(dir.clone()),
        cli_registry: None,
    };
    if let Ok(cfg) = RegistryConfig::load(&inputs) {
        let _ = cfg.registry_for("@scope/name");
        let url = cfg.default_registry.clone();
        let _ = cfg.auth_for(&url);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A cache entry file as found on disk (the cache directory is the user's, but a file in it
/// may be truncated, stale or edited): it is served only when intact.
pub fn cache_entry(data: &[u8]) {
    let dir = scratch_dir();
    let Ok(cache) = Cache::open(&dir, false) else {
        return;
    };
    let Ok(url) = url::Url::parse("https://registry.example/pkg") else {
        return;
    };
    let key = CacheKey::new(&url, "application/json", None);
    let shard = dir.join("v1").join(&key.as_str()[..2]);
    if std::fs::create_dir_all(&shard).is_ok()
        && std::fs::write(shard.join(key.as_str()), data).is_ok()
    {
        // As a large entry (metadata only) and as a small one (read whole), as `verify` reads
        // packuments; then the same bytes as the entry derived from it.
        for large in [0, 1 << 18, u64::MAX] {
            match cache.peek(&key, large) {
                Peeked::Large(meta) => assert!(meta.body_len >= large),
                Peeked::Entry(entry) => {
                    assert_eq!(entry.meta.body_len, entry.body.len() as u64)
                }
                Peeked::Missing => {}
            }
            let _ = std::fs::write(shard.join(key.as_str()), data);
        }
        if let Some(entry) = cache.get(&key) {
            // Served only when the body matches its recorded length (and checksum).
            assert_eq!(entry.meta.body_len, entry.body.len() as u64);
        }
        if std::fs::write(shard.join(format!("{}.d", key.as_str())), data).is_ok() {
            let stamp = Stamp {
                body_len: 0,
                body_crc32: 0,
                etag: None,
                last_modified: None,
            };
            let _ = cache.get_derived(&key, &stamp);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A digest stored beside a large cached packument (`verify` reads it instead of the body):
/// the bytes as a whole stored digest, then as its body behind a header this build accepts
/// (the first two bytes give the length of the packument part).
pub fn stored_digest(data: &[u8]) {
    crate::app::verify::read_stored_digest(data);
}

/// A snapshot's `manifest.json` (`verify --snapshot DIR`: the directory may come from another
/// machine), then a replay of each of its first entries against bodies that are absent or hold
/// the manifest's own bytes.
pub fn snapshot_manifest(data: &[u8]) {
    use crate::registry::snapshot::{Replay, BODIES, MANIFEST};
    use crate::registry::{Accept, ResourceKind, SizeCaps};
    let dir = scratch_dir();
    if std::fs::write(dir.join(MANIFEST), data).is_err() {
        return;
    }
    if let Ok(replay) = Replay::open(&dir) {
        let _ = replay.registry_config();
        let _ = std::fs::create_dir_all(dir.join(BODIES));
        for (i, e) in replay.manifest().entries.iter().take(8).enumerate() {
            if let Some(sha) = e.sha256.as_deref().filter(|_| i % 2 == 0) {
                let _ = std::fs::write(dir.join(BODIES).join(sha), data);
            }
            if let Ok(url) = url::Url::parse(&e.url) {
                for kind in [ResourceKind::Packument, ResourceKind::Attestations] {
                    let _ = replay.answer(&url, Accept::Json, kind, &SizeCaps::default());
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The policy file `npm-provenance.toml`.
pub fn policy(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(p) = crate::policy::config::Policy::parse(text, Path::new(".")) {
            let _ = p.rule_for("@scope/name");
            let _ = p.registry_for("https://registry.npmjs.org/");
        }
    }
}

/// A checkpoint signed-note that `template_bundle` carries unless one is given.
pub const GOOD_CHECKPOINT: &str = "rekor.sigstore.dev - 1193050959916656506\n18080963\nfM8KxP/V5eJtk7Dsf1sQAGWiC/L3QYumuzrRdhTc6Qc=\n\n\u{2014} rekor.sigstore.dev wNI9ajBEAiBSSvf+ycholemEa7s9BZU1/y3ydkVbkeEESu61+iXtZQIgQmmlIGuzYrjIruUdMqYQCUzXOpQ34ldW2vD3gebXi40=\n";

/// base64 of `{"_type":"https://in-toto.io/Statement/v1","subject":[...],"predicateType":"x","predicate":{}}`.
pub const GOOD_PAYLOAD_B64: &str = "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEiLCJzdWJqZWN0IjpbeyJuYW1lIjoicGtnOm5wbS94QDEuMC4wIiwiZGlnZXN0Ijp7InNoYTUxMiI6IjAwIn19XSwicHJlZGljYXRlVHlwZSI6IngiLCJwcmVkaWNhdGUiOnt9fQ==";

/// A structurally complete v0.2 bundle (synthetic: its signatures verify nothing) carrying
/// `payload_b64` as the DSSE payload and `checkpoint` as the checkpoint note, so that the fuzzed
/// part reaches its parser. The log id is the production Rekor's, so the checkpoint is read.
#[doc(hidden)]
pub fn template_bundle(payload_b64: &str, checkpoint: &str) -> Vec<u8> {
    let hash = "fM8KxP/V5eJtk7Dsf1sQAGWiC/L3QYumuzrRdhTc6Qc=";
    let doc = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.2",
        "verificationMaterial": {
            "x509CertificateChain": {"certificates": [{"rawBytes": "MAA="}]},
            "tlogEntries": [{
                "logIndex": "139985224",
                "logId": {"keyId": "wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="},
                "kindVersion": {"kind": "intoto", "version": "0.0.2"},
                "integratedTime": "1728922425",
                "inclusionPromise": {"signedEntryTimestamp": "MAA="},
                "inclusionProof": {
                    "logIndex": "18080962",
                    "rootHash": hash,
                    "treeSize": "18080963",
                    "hashes": [hash],
                    "checkpoint": {"envelope": checkpoint}
                },
                "canonicalizedBody": "e30="
            }],
            "timestampVerificationData": {"rfc3161Timestamps": []}
        },
        "dsseEnvelope": {
            "payload": payload_b64,
            "payloadType": "application/vnd.in-toto+json",
            "signatures": [{"sig": "MAA=", "keyid": ""}]
        }
    });
    serde_json::to_vec(&doc).unwrap_or_default()
}

/// `verify_bundle` with the production trust, over a fixed digest, any certificate identity.
#[doc(hidden)]
pub fn verify_bundle_any(data: &[u8]) -> Result<verify::VerifiedBundle, verify::BundleError> {
    static TRUST: OnceLock<Option<SigstoreTrust>> = OnceLock::new();
    let trust =
        TRUST.get_or_init(|| SigstoreTrust::from_json(crate::trust::PRODUCTION_TRUSTED_ROOT).ok());
    let Some(trust) = trust else {
        return Err(verify::BundleError::new(
            verify::Step::Parse,
            "the embedded trusted root",
            "unreadable",
        ));
    };
    let policy = SignerPolicy::Certificate {
        san: None,
        issuer: None,
    };
    verify::verify_bundle(trust, data, ArtifactRef::Sha512([0; 64]), &policy)
}

fn verify_any(data: &[u8]) {
    let _ = verify_bundle_any(data);
}

fn embedded_keys() -> Option<&'static NpmKeys> {
    static KEYS: OnceLock<Option<NpmKeys>> = OnceLock::new();
    KEYS.get_or_init(|| NpmKeys::embedded().ok()).as_ref()
}

fn github_identity() -> FulcioIdentity {
    let repo = "https://github.com/owner/repo";
    FulcioIdentity {
        san: format!("{repo}/.github/workflows/release.yml@refs/heads/main"),
        san_kind: SanKind::Uri,
        issuer: "https://token.actions.githubusercontent.com".into(),
        build_signer_uri: Some(format!(
            "{repo}/.github/workflows/release.yml@refs/heads/main"
        )),
        build_signer_digest: Some("0".repeat(40)),
        runner_environment: Some("github-hosted".into()),
        source_repository_uri: Some(repo.into()),
        source_repository_digest: Some("0".repeat(40)),
        source_repository_ref: Some("refs/heads/main".into()),
        source_repository_identifier: Some("1".into()),
        source_repository_owner_uri: Some("https://github.com/owner".into()),
        source_repository_owner_identifier: Some("2".into()),
        build_config_uri: Some(format!(
            "{repo}/.github/workflows/release.yml@refs/heads/main"
        )),
        build_config_digest: Some("0".repeat(40)),
        build_trigger: Some("push".into()),
        run_invocation_uri: Some(format!("{repo}/actions/runs/1/attempts/1")),
        source_repository_visibility: Some("public".into()),
        legacy_trigger: None,
        legacy_sha: None,
        legacy_workflow_name: None,
        legacy_repository: None,
        legacy_ref: None,
    }
}

/// Writes `data` as `file_name` in a fresh scratch folder and loads it as the tool would.
fn load_lockfile(file_name: &str, data: &[u8]) {
    let dir = scratch_dir();
    let path = dir.join(file_name);
    if std::fs::write(&path, data).is_ok() {
        let _ = inventory::load(&path, &InventoryOptions::default());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A new empty folder, unique per process and call (fuzzers and tests run threads).
fn scratch_dir() -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("npm-provenance-fuzz-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    dir
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Step;

    #[test]
    fn the_template_reaches_past_parsing() {
        // The checkpoint and statement targets only test their parser if the template around
        // the fuzzed part is well-formed: a good template must fail later than parsing.
        let err = verify_bundle_any(&template_bundle(GOOD_PAYLOAD_B64, GOOD_CHECKPOINT))
            .expect_err("the template's signatures are not real");
        assert_ne!(err.step, Step::Parse, "{err}");
        assert_ne!(err.step, Step::MediaType, "{err}");
    }

    #[test]
    fn a_bad_checkpoint_is_a_parse_error() {
        let err = verify_bundle_any(&template_bundle(GOOD_PAYLOAD_B64, "not a note"))
            .expect_err("a garbled checkpoint cannot verify");
        assert_eq!(err.step, Step::Parse, "{err}");
    }

    #[test]
    fn every_target_survives_empty_and_junk_input() {
        // The assertion is the absence of a panic.
        for (_, f) in TARGETS {
            for input in [&b""[..], b"\0\xff{[", b"{}", b"[]", b"null"] {
                f(input);
            }
        }
    }
}
