//! [`TestSigstore`]: the whole test Sigstore derived from one seed.

use p256::ecdsa::SigningKey;
use serde_json::{json, Value};

use crate::bundle::{
    self, BundleVersion, ChainMode, Content, Material, MintSpec, Minted, SignerSpec,
};
use crate::npm::{self, KeyWindow};
use crate::pki::{self, Ca, Identity, LeafSpec};
use crate::rekor::{LogOptions, RekorLog};
use crate::seed::{self, b64};

/// Trust material validity start (2020-01-01T00:00:00Z) and CA end (2040-01-01).
pub const TRUST_START: i64 = 1_577_836_800;
const CA_END: i64 = 2_208_988_800;
/// Trusted root media type.
pub const TRUSTED_ROOT_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1";

/// A deterministic Sigstore (Fulcio-like CA, CT log, Rekor-like log) plus an npm registry key.
#[derive(Clone)]
pub struct TestSigstore {
    seed: Vec<u8>,
    root: Ca,
    intermediate: Ca,
    ct: SigningKey,
    rekor: RekorLog,
    npm: SigningKey,
    foreign_root: Ca,
    foreign_intermediate: Ca,
    foreign_key: SigningKey,
    rogue_intermediate: Ca,
}

impl TestSigstore {
    /// Everything derived from `seed`: same seed, byte-identical output.
    pub fn new(seed: &[u8]) -> TestSigstore {
        let root = Ca::root(seed, "ca/root", "test-fulcio-root", TRUST_START, CA_END);
        let intermediate = Ca::intermediate(
            seed,
            "ca/intermediate",
            "test-fulcio-intermediate",
            &root,
            TRUST_START,
            CA_END,
        );
        let foreign_root = Ca::root(
            seed,
            "foreign/root",
            "test-fulcio-root",
            TRUST_START,
            CA_END,
        );
        let foreign_intermediate = Ca::intermediate(
            seed,
            "foreign/intermediate",
            "test-fulcio-intermediate",
            &foreign_root,
            TRUST_START,
            CA_END,
        );
        let rogue_intermediate = Ca::intermediate(
            seed,
            "rogue/intermediate",
            "test-fulcio-rogue-intermediate",
            &root,
            TRUST_START,
            CA_END,
        );
        TestSigstore {
            seed: seed.to_vec(),
            rogue_intermediate,
            ct: seed::derive_key(seed, "ct/log"),
            rekor: RekorLog::new(seed, "rekor/log", &origin(seed)),
            npm: seed::derive_key(seed, "npm/registry"),
            foreign_key: seed::derive_key(seed, "foreign/key"),
            root,
            intermediate,
            foreign_root,
            foreign_intermediate,
        }
    }

    /// `trusted_root.json` naming our Rekor log, CT log and CA chain (no TSA).
    pub fn trusted_root(&self) -> Value {
        let key = |k: &SigningKey| {
            json!({
                "rawBytes": b64(&seed::spki_der(k)),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": seed::rfc3339(TRUST_START)},
            })
        };
        json!({
            "mediaType": TRUSTED_ROOT_MEDIA_TYPE,
            "tlogs": [{
                "baseUrl": format!("https://{}", self.rekor_host()),
                "hashAlgorithm": "SHA2_256",
                "publicKey": key(&self.rekor.key),
                "logId": {"keyId": b64(&self.rekor.log_id())},
            }],
            "certificateAuthorities": [{
                "subject": {"organization": "npm-provenance test sigstore", "commonName": "test-fulcio"},
                "uri": "https://fulcio.test.invalid",
                "certChain": {"certificates": [
                    {"rawBytes": b64(&self.intermediate.cert_der)},
                    {"rawBytes": b64(&self.root.cert_der)},
                ]},
                "validFor": {"start": seed::rfc3339(TRUST_START)},
            }],
            "ctlogs": [{
                "baseUrl": "https://ctfe.test.invalid/test",
                "hashAlgorithm": "SHA2_256",
                "publicKey": key(&self.ct),
                "logId": {"keyId": b64(&seed::key_id(&self.ct))},
            }],
            "timestampAuthorities": [],
        })
    }

    /// [`TestSigstore::trusted_root`] serialised.
    pub fn trusted_root_json(&self) -> String {
        serde_json::to_string_pretty(&self.trusted_root()).unwrap_or_default()
    }

    /// Host name of the Rekor log (`baseUrl` host and checkpoint origin prefix).
    pub fn rekor_host(&self) -> String {
        format!(
            "rekor.{}.test.invalid",
            hex::encode(&seed::sha256(&self.seed)[..4])
        )
    }

    /// Checkpoint origin of the Rekor log.
    pub fn rekor_origin(&self) -> &str {
        &self.rekor.origin
    }

    /// The Rekor log signing key.
    pub fn rekor_key(&self) -> &SigningKey {
        &self.rekor.key
    }

    /// A key unrelated to any trust material of this Sigstore (for "signed by another key").
    pub fn foreign_key(&self) -> &SigningKey {
        &self.foreign_key
    }

    /// A P-256 key derived from this seed and `label` (for variants that need yet another key).
    pub fn derived_key(&self, label: &str) -> SigningKey {
        seed::derive_key(&self.seed, &format!("extra/{label}"))
    }

    /// Root CA certificate (DER).
    pub fn root_cert_der(&self) -> &[u8] {
        &self.root.cert_der
    }

    /// Intermediate CA certificate (DER).
    pub fn intermediate_cert_der(&self) -> &[u8] {
        &self.intermediate.cert_der
    }

    /// The npm registry/attestation key.
    pub fn npm_key(&self) -> &SigningKey {
        &self.npm
    }

    /// npm keyid of the npm key (`SHA256:…`).
    pub fn npm_keyid(&self) -> String {
        npm::keyid(&self.npm)
    }

    /// DER SubjectPublicKeyInfo of the npm key.
    pub fn npm_spki_der(&self) -> Vec<u8> {
        seed::spki_der(&self.npm)
    }

    /// `keys.json` (TUF target format) for the npm key over `window`.
    pub fn npm_keys_json(&self, window: KeyWindow) -> String {
        serde_json::to_string_pretty(&npm::keys_json(&self.npm, window)).unwrap_or_default()
    }

    /// `/-/npm/v1/keys` answer for the npm key.
    pub fn npm_registry_keys_json(&self, window: KeyWindow) -> String {
        serde_json::to_string_pretty(&npm::registry_keys_json(&self.npm, window))
            .unwrap_or_default()
    }

    /// A `dist.signatures` element by the npm key over `name@version:integrity`.
    pub fn registry_signature(&self, name: &str, version: &str, integrity: &str) -> Value {
        npm::registry_signature(&self.npm, name, version, integrity)
    }

    /// Mint a bundle exactly as `spec` says.
    pub fn mint(&self, spec: &MintSpec) -> Minted {
        let material = self.material(spec);
        bundle::assemble(spec, material, &self.rekor)
    }

    /// A valid SLSA v1 provenance bundle (v0.3, `dsse`) for `name@version` with subject digest
    /// `sha512_hex`, signed by a leaf for `identity`, logged at `time`.
    pub fn mint_provenance(
        &self,
        identity: &Identity,
        name: &str,
        version: &str,
        sha512_hex: &str,
        time: i64,
    ) -> Minted {
        let statement = npm::provenance_statement(name, version, sha512_hex, identity);
        self.mint(&MintSpec::new(
            BundleVersion::V03,
            Content::statement(&statement),
            SignerSpec::Certificate(identity.clone()),
            time,
        ))
    }

    /// A valid npm publish attestation bundle (v0.2, `intoto`, npm key) logged at `time`.
    pub fn mint_publish(&self, name: &str, version: &str, sha512_hex: &str, time: i64) -> Minted {
        let statement = npm::publish_statement(name, version, sha512_hex);
        self.mint(&MintSpec::new(
            BundleVersion::V02,
            Content::statement(&statement),
            SignerSpec::NpmKey,
            time,
        ))
    }

    /// A full `/-/npm/v1/attestations/NAME@VERSION` answer for `tarball`: the publish
    /// attestation (at `time`) then SLSA v1 provenance by `identity` (at `time - 2`).
    pub fn npm_attestations(
        &self,
        name: &str,
        version: &str,
        tarball: &[u8],
        identity: &Identity,
        time: i64,
    ) -> Value {
        let digest = npm::sha512_hex(tarball);
        let publish = self.mint_publish(name, version, &digest, time);
        let provenance = self.mint_provenance(identity, name, version, &digest, time - 2);
        json!({"attestations": [
            {"predicateType": npm::PUBLISH_PREDICATE, "bundle": publish.bundle},
            {"predicateType": npm::SLSA_V1_PREDICATE, "bundle": provenance.bundle},
        ]})
    }

    /// Default log options for a version (v0.1: SET only; later: SET + proof).
    pub fn log_options(version: BundleVersion) -> LogOptions {
        LogOptions {
            proof: version != BundleVersion::V01,
            ..LogOptions::default()
        }
    }

    fn material(&self, spec: &MintSpec) -> Material {
        match &spec.signer {
            SignerSpec::NpmKey => key_material(self.npm.clone(), self.npm_keyid()),
            SignerSpec::Key { key, hint } => key_material(key.clone(), hint.clone()),
            SignerSpec::Certificate(identity) => {
                let label = format!(
                    "leaf/{}/{}",
                    spec.time,
                    hex::encode(
                        &seed::sha256(format!("{identity:?}{:?}", spec.content).as_bytes())[..8]
                    )
                );
                let key = seed::derive_key(&self.seed, &label);
                let issuer = match spec.chain {
                    ChainMode::LeafOnly => &self.intermediate,
                    ChainMode::ForeignChainInBundle => &self.foreign_intermediate,
                    ChainMode::RogueIntermediateInBundle => &self.rogue_intermediate,
                };
                let leaf = pki::issue_leaf(
                    &self.seed,
                    issuer,
                    key.verifying_key(),
                    &LeafSpec {
                        identity,
                        not_before: spec.time + spec.leaf_validity.0,
                        not_after: spec.time + spec.leaf_validity.1,
                        sct: spec.sct,
                        serial_label: label,
                    },
                    &self.ct,
                    &self.foreign_key,
                );
                let material = match spec.version {
                    BundleVersion::V03 => json!({"certificate": {"rawBytes": b64(&leaf)}}),
                    _ => {
                        let mut certs = vec![json!({"rawBytes": b64(&leaf)})];
                        let extra: Vec<&[u8]> = match spec.chain {
                            ChainMode::LeafOnly => vec![],
                            ChainMode::ForeignChainInBundle => vec![
                                &self.foreign_intermediate.cert_der,
                                &self.foreign_root.cert_der,
                            ],
                            ChainMode::RogueIntermediateInBundle => {
                                vec![&self.rogue_intermediate.cert_der]
                            }
                        };
                        certs.extend(extra.iter().map(|c| json!({"rawBytes": b64(c)})));
                        json!({"x509CertificateChain": {"certificates": certs}})
                    }
                };
                Material {
                    verifier_pem: seed::pem("CERTIFICATE", &leaf),
                    keyid: String::new(),
                    key,
                    material,
                    leaf_der: Some(leaf),
                }
            }
        }
    }
}

fn key_material(key: SigningKey, hint: String) -> Material {
    Material {
        verifier_pem: seed::spki_pem(&key),
        material: json!({"publicKey": {"hint": hint}}),
        keyid: hint,
        key,
        leaf_der: None,
    }
}

fn origin(seed: &[u8]) -> String {
    let tree_id = u64::from_be_bytes(
        seed::derive_bytes(seed, "rekor/tree-id")[..8]
            .try_into()
            .unwrap_or([0; 8]),
    ) >> 2;
    format!(
        "rekor.{}.test.invalid - {tree_id}",
        hex::encode(&seed::sha256(seed)[..4])
    )
}
