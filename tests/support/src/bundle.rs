//! Bundle minting: DSSE envelopes or message signatures, signed by a Fulcio-like leaf or a
//! key, logged in the Rekor-like log, assembled as Sigstore bundles v0.1, v0.2 or v0.3.

use p256::ecdsa::SigningKey;
use serde_json::{json, Value};

use crate::pki::{Identity, SctMode};
use crate::rekor::{Kind, LogOptions, Signed};
use crate::seed::{self, b64};

/// In-toto payload type.
pub const INTOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Bundle media type versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BundleVersion {
    /// `application/vnd.dev.sigstore.bundle+json;version=0.1` (SET only, certificate chain).
    V01,
    /// `application/vnd.dev.sigstore.bundle+json;version=0.2` (proof + checkpoint).
    V02,
    /// `application/vnd.dev.sigstore.bundle.v0.3+json` (single certificate).
    V03,
}

impl BundleVersion {
    /// The media type string.
    pub fn media_type(self) -> &'static str {
        match self {
            BundleVersion::V01 => "application/vnd.dev.sigstore.bundle+json;version=0.1",
            BundleVersion::V02 => "application/vnd.dev.sigstore.bundle+json;version=0.2",
            BundleVersion::V03 => "application/vnd.dev.sigstore.bundle.v0.3+json",
        }
    }
}

/// What is signed.
#[derive(Clone, Debug)]
pub enum Content {
    /// A DSSE envelope around this payload with this payload type.
    Dsse {
        /// Payload bytes (an in-toto statement, usually).
        payload: Vec<u8>,
        /// DSSE payloadType.
        payload_type: String,
    },
    /// A message signature over these artifact bytes (hashedrekord).
    Message(Vec<u8>),
}

impl Content {
    /// A DSSE in-toto statement.
    pub fn statement(statement: &Value) -> Content {
        Content::Dsse {
            payload: serde_json::to_vec(statement).unwrap_or_default(),
            payload_type: INTOTO_PAYLOAD_TYPE.to_string(),
        }
    }
}

/// Who signs.
#[derive(Clone, Debug)]
pub enum SignerSpec {
    /// A fresh leaf from the test Fulcio for this identity.
    Certificate(Identity),
    /// The npm attestation key (`publicKey.hint` = npm keyid, DSSE keyid = npm keyid).
    NpmKey,
    /// Another key, presented with this hint/keyid (a key that is not npm's).
    Key {
        /// The key.
        key: SigningKey,
        /// Hint and DSSE keyid to carry.
        hint: String,
    },
}

/// What certificates the bundle carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainMode {
    /// The leaf only (as real Sigstore clients write).
    LeafOnly,
    /// Leaf issued by a foreign CA, with the foreign intermediate and root in the bundle
    /// (v0.1/v0.2 `x509CertificateChain`); a verifier must not trust bundle-supplied CAs.
    ForeignChainInBundle,
    /// Leaf issued by an intermediate that our root signed but the trusted root does not list,
    /// carried in the bundle. A path builder that takes intermediates from the bundle accepts
    /// it (sigstore-verify does); DESIGN §4.4 says only the leaf comes from the bundle.
    RogueIntermediateInBundle,
}

/// What the Rekor body records (the tamper matrix uses the wrong ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyMode {
    /// This bundle's payload and signature.
    Match,
    /// Another payload, same signature and verifier.
    OtherPayload,
    /// Another signature, same payload and verifier.
    OtherSignature,
}

/// Every choice behind one minted bundle. `MintSpec::new` gives a valid bundle.
#[derive(Clone, Debug)]
pub struct MintSpec {
    /// Media type version.
    pub version: BundleVersion,
    /// What is signed.
    pub content: Content,
    /// Who signs.
    pub signer: SignerSpec,
    /// Rekor integratedTime (Unix seconds); the leaf is issued just before.
    pub time: i64,
    /// Rekor entry kind; `None` = the kind real clients use for this version and content.
    pub kind: Option<Kind>,
    /// Leaf validity as offsets from `time` (default `(-30, 570)`: ten minutes).
    pub leaf_validity: (i64, i64),
    /// Embedded SCT variant.
    pub sct: SctMode,
    /// Certificates carried.
    pub chain: ChainMode,
    /// Log material knobs.
    pub log: LogOptions,
    /// What the Rekor body records.
    pub body: BodyMode,
    /// Carry the tlog entry twice.
    pub duplicate_entry: bool,
}

impl MintSpec {
    /// A valid bundle of `version` with `content` signed by `signer`, logged at `time`.
    pub fn new(version: BundleVersion, content: Content, signer: SignerSpec, time: i64) -> Self {
        MintSpec {
            version,
            content,
            signer,
            time,
            kind: None,
            leaf_validity: (-30, 570),
            sct: SctMode::Valid,
            chain: ChainMode::LeafOnly,
            log: LogOptions {
                set: true,
                proof: version != BundleVersion::V01,
                ..LogOptions::default()
            },
            body: BodyMode::Match,
            duplicate_entry: false,
        }
    }

    /// The Rekor kind this spec logs under.
    pub fn effective_kind(&self) -> Kind {
        match (&self.kind, &self.content, self.version) {
            (Some(k), _, _) => *k,
            (None, Content::Message(_), _) => Kind::HashedRekord,
            (None, Content::Dsse { .. }, BundleVersion::V03) => Kind::Dsse,
            (None, Content::Dsse { .. }, _) => Kind::Intoto,
        }
    }
}

/// A minted bundle and the pieces tests may want beside it.
#[derive(Clone, Debug)]
pub struct Minted {
    /// The bundle JSON (mutate it for tampering, then [`Minted::to_bytes`]).
    pub bundle: Value,
    /// The leaf certificate DER, for certificate-signed bundles.
    pub leaf_der: Option<Vec<u8>>,
    /// The signed bytes: DSSE payload or message.
    pub payload: Vec<u8>,
}

impl Minted {
    /// Serialised bundle.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.bundle).unwrap_or_default()
    }
    /// Serialised bundle as a string.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.bundle).unwrap_or_default()
    }
}

/// DSSE pre-authentication encoding.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The signing material resolved by [`crate::TestSigstore`] for a spec.
pub(crate) struct Material {
    pub key: SigningKey,
    pub verifier_pem: String,
    pub keyid: String,
    /// `verificationMaterial` minus `tlogEntries`.
    pub material: Value,
    pub leaf_der: Option<Vec<u8>>,
}

/// Assemble the bundle for `spec` with resolved signing `m`, logging through `log`.
pub(crate) fn assemble(spec: &MintSpec, m: Material, log: &crate::rekor::RekorLog) -> Minted {
    let kind = spec.effective_kind();
    let (content_key, content_value, payload, payload_type, signature, envelope_json) = match &spec
        .content
    {
        Content::Dsse {
            payload,
            payload_type,
        } => {
            let sig = seed::sign(&m.key, &pae(payload_type, payload));
            let envelope = json!({
                "payload": b64(payload),
                "payloadType": payload_type,
                "signatures": [{"sig": b64(&sig), "keyid": m.keyid}],
            });
            let envelope_json = serde_json::to_vec(&envelope).unwrap_or_default();
            (
                "dsseEnvelope",
                envelope,
                payload.clone(),
                payload_type.clone(),
                sig,
                envelope_json,
            )
        }
        Content::Message(artifact) => {
            let sig = seed::sign(&m.key, artifact);
            let value = json!({
                "messageDigest": {"algorithm": "SHA2_256", "digest": b64(&seed::sha256(artifact))},
                "signature": b64(&sig),
            });
            (
                "messageSignature",
                value,
                artifact.clone(),
                String::new(),
                sig,
                Vec::new(),
            )
        }
    };

    let other_payload;
    let other_sig;
    let (body_payload, body_sig): (&[u8], &[u8]) = match spec.body {
        BodyMode::Match => (&payload, &signature),
        BodyMode::OtherPayload => {
            other_payload = [payload.as_slice(), b" "].concat();
            (&other_payload, &signature)
        }
        BodyMode::OtherSignature => {
            other_sig = seed::sign(&m.key, b"another message entirely");
            (&payload, &other_sig)
        }
    };
    let body = crate::rekor::body(
        kind,
        &Signed {
            payload: body_payload,
            payload_type: &payload_type,
            signature: body_sig,
            verifier_pem: &m.verifier_pem,
            keyid: &m.keyid,
            envelope_json: &envelope_json,
        },
    );
    let entry = log.entry(kind, &body, spec.time, &spec.log);
    let mut entries = vec![entry.clone()];
    if spec.duplicate_entry {
        entries.push(entry);
    }

    let mut material = m.material;
    material["tlogEntries"] = Value::Array(entries);
    if spec.version != BundleVersion::V01 {
        material["timestampVerificationData"] = json!({"rfc3161Timestamps": []});
    }
    let mut bundle = json!({
        "mediaType": spec.version.media_type(),
        "verificationMaterial": material,
    });
    bundle[content_key] = content_value;
    Minted {
        bundle,
        leaf_der: m.leaf_der,
        payload,
    }
}
