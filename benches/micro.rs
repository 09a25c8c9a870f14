//! Criterion micro-benches on the corpus's real data (`cargo bench --bench micro`):
//! parsing the real nuxt packument (typed, and as the `serde_json::Value` the history facts
//! read it as today), one real registry signature, one real attestation set (publish +
//! provenance bundles of sigstore@3.0.0 against the embedded production trusted root), and the
//! theia lockfile (2,637 entries) through the inventory. Skips when the corpus is absent.

use std::path::Path;

use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion};
use npm_provenance::inventory::{self, InventoryOptions};
use npm_provenance::registry::packument::Packument;
use npm_provenance::trust::npm_keys::NpmKeys;
use npm_provenance::trust::PRODUCTION_TRUSTED_ROOT;
use npm_provenance::verify::registry_signature::{
    verify_registry_signature, PublishTime, RegistrySignature, TimeSource,
};
use npm_provenance::verify::sigstore::{
    verify_bundle, ArtifactRef, Matcher, SignerPolicy, SigstoreTrust,
};
use serde_json::Value;

const PUBLISH: &str = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";

fn corpus() -> Option<std::path::PathBuf> {
    let dir = npm_provenance_testkit::corpus::corpus_dir("micro benches")?;
    Some(dir)
}

fn read(dir: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn packument(c: &mut Criterion) {
    let Some(dir) = corpus() else { return };
    let bytes = read(&dir, "provenance-action/npm-registry__metadata__nuxt.json");
    let mut g = c.benchmark_group("packument nuxt");
    g.throughput(criterion::Throughput::Bytes(bytes.len() as u64));
    g.bench_function("typed (Packument::from_slice + one version)", |b| {
        b.iter(|| {
            let p = Packument::from_slice(&bytes).expect("nuxt packument");
            let v = p.version("3.13.0").expect("3.13.0").expect("parses");
            std::hint::black_box(v);
        })
    });
    g.bench_function("serde_json::Value (history facts' second parse)", |b| {
        b.iter(|| {
            let v: Value = serde_json::from_slice(&bytes).expect("json");
            std::hint::black_box(v);
        })
    });
    g.finish();
}

fn registry_signature(c: &mut Criterion) {
    let Some(dir) = corpus() else { return };
    let doc: Value = serde_json::from_slice(&read(
        &dir,
        "provenance-action/npm-registry__metadata__nuxt.json",
    ))
    .expect("nuxt json");
    let version = "3.13.0";
    let dist = &doc["versions"][version]["dist"];
    let integrity = dist["integrity"].as_str().expect("integrity").to_string();
    let sigs: Vec<RegistrySignature> =
        serde_json::from_value(dist["signatures"].clone()).expect("signatures");
    let time = PublishTime::new(
        doc["time"][version]
            .as_str()
            .expect("time")
            .parse()
            .expect("rfc3339"),
        TimeSource::RegistryUnsigned,
    );
    let keys = NpmKeys::embedded().expect("embedded npm keys");
    c.bench_function("registry signature (nuxt@3.13.0, ECDSA P-256)", |b| {
        b.iter(|| {
            verify_registry_signature("nuxt", version, &integrity, &sigs, &keys, &time)
                .expect("verifies")
        })
    });
}

fn attestations(c: &mut Criterion) {
    let Some(dir) = corpus() else { return };
    let set: Value =
        serde_json::from_slice(&read(&dir, "pkg-registry/sigstore-3.0.0.attestations.json"))
            .expect("attestations json");
    let tgz = read(&dir, "pkg-registry/sigstore-3.0.0.tgz");
    let digest: [u8; 64] = {
        use sha2::Digest as _;
        sha2::Sha512::digest(&tgz).into()
    };
    let pick = |publish: bool| -> Vec<u8> {
        let a = set["attestations"]
            .as_array()
            .and_then(|a| {
                a.iter()
                    .find(|a| (a["predicateType"] == PUBLISH) == publish)
            })
            .expect("attestation");
        serde_json::to_vec(&a["bundle"]).expect("bundle")
    };
    let (publish, provenance) = (pick(true), pick(false));
    let hint: Value = serde_json::from_slice(&publish).expect("publish bundle");
    let hint = hint["verificationMaterial"]["publicKey"]["hint"]
        .as_str()
        .expect("hint")
        .to_string();
    let keys: Value =
        serde_json::from_str(npm_provenance::trust::NPM_KEYS).expect("embedded keys.json");
    let spki = keys["keys"]
        .as_array()
        .and_then(|ks| {
            ks.iter()
                .find(|k| k["keyId"] == hint.as_str() && k["keyUsage"] == "npm:attestations")
        })
        .and_then(|k| k["publicKey"]["rawBytes"].as_str())
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .expect("npm attestation key");
    let trust = SigstoreTrust::from_json(PRODUCTION_TRUSTED_ROOT).expect("trusted root");
    let cert = SignerPolicy::Certificate {
        san: Some(Matcher::Exact(
            "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
                .into(),
        )),
        issuer: Some(Matcher::Exact(
            "https://token.actions.githubusercontent.com".into(),
        )),
    };
    let key = SignerPolicy::PublicKey { spki_der: spki };
    let mut g = c.benchmark_group("attestation bundle (sigstore@3.0.0)");
    g.bench_function("publish (npm key)", |b| {
        b.iter(|| {
            verify_bundle(&trust, &publish, ArtifactRef::Sha512(digest), &key).expect("publish")
        })
    });
    g.bench_function("provenance (Fulcio certificate)", |b| {
        b.iter(|| {
            verify_bundle(&trust, &provenance, ArtifactRef::Sha512(digest), &cert)
                .expect("provenance")
        })
    });
    g.finish();
}

fn lockfile(c: &mut Criterion) {
    let Some(dir) = corpus() else { return };
    let path = dir.join("lockfiles/npm-v3-theia-2637pkgs/package-lock.json");
    let opts = InventoryOptions::default();
    c.bench_function("lockfile theia (2,637 entries)", |b| {
        b.iter(|| inventory::load(&path, &opts).expect("theia lockfile"))
    });
}

criterion_group!(
    benches,
    packument,
    registry_signature,
    attestations,
    lockfile
);
criterion_main!(benches);
