//! A Rekor-like transparency log: entry bodies of kind `dsse` 0.0.1, `intoto` 0.0.2 and
//! `hashedrekord` 0.0.1 (canonical JSON), an RFC 6962 Merkle tree with inclusion proofs,
//! signed entry timestamps (SETs) and signed checkpoints (signed notes).

use p256::ecdsa::SigningKey;
use serde_json::{json, Value};

use crate::seed::{self, b64, canonical_json, sha256, sha256_parts};

/// How many filler leaves precede and follow the entry in its tree, so proofs have both left
/// and right siblings.
const FILLERS_BEFORE: usize = 6;
const FILLERS_AFTER: usize = 3;
/// Rekor v1 entry `logIndex` is global across shards; the proof's index is per-shard.
pub const SHARD_OFFSET: i64 = 1_000_000;

/// Entry kinds the log accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `dsse` 0.0.1 (v0.3 npm provenance).
    Dsse,
    /// `intoto` 0.0.2 (v0.1/v0.2 npm provenance and publish attestations).
    Intoto,
    /// `hashedrekord` 0.0.1 (message signatures).
    HashedRekord,
}

impl Kind {
    /// `(kind, version)` as in `kindVersion`.
    pub fn kind_version(self) -> (&'static str, &'static str) {
        match self {
            Kind::Dsse => ("dsse", "0.0.1"),
            Kind::Intoto => ("intoto", "0.0.2"),
            Kind::HashedRekord => ("hashedrekord", "0.0.1"),
        }
    }
}

/// What a log entry records about the signature.
#[derive(Clone, Debug)]
pub struct Signed<'a> {
    /// DSSE payload bytes (or the artifact for hashedrekord).
    pub payload: &'a [u8],
    /// DSSE payload type (unused for hashedrekord).
    pub payload_type: &'a str,
    /// Raw DER signature.
    pub signature: &'a [u8],
    /// PEM of the certificate or public key that verifies it.
    pub verifier_pem: &'a str,
    /// DSSE keyid as carried in the envelope (intoto bodies record it when non-empty).
    pub keyid: &'a str,
    /// The DSSE envelope JSON as submitted (hashed into `envelopeHash` / `hash`).
    pub envelope_json: &'a [u8],
}

/// The canonical body of an entry of `kind` recording `signed`.
pub fn body(kind: Kind, signed: &Signed<'_>) -> Vec<u8> {
    let verifier = b64(signed.verifier_pem.as_bytes());
    let value = match kind {
        Kind::Dsse => json!({
            "apiVersion": "0.0.1", "kind": "dsse",
            "spec": {
                "envelopeHash": {"algorithm": "sha256", "value": hex::encode(sha256(signed.envelope_json))},
                "payloadHash": {"algorithm": "sha256", "value": hex::encode(sha256(signed.payload))},
                "signatures": [{"signature": b64(signed.signature), "verifier": verifier}],
            }
        }),
        Kind::Intoto => {
            let mut sig =
                json!({"publicKey": verifier, "sig": b64(b64(signed.signature).as_bytes())});
            if !signed.keyid.is_empty() {
                sig["keyid"] = json!(signed.keyid);
            }
            json!({
                "apiVersion": "0.0.2", "kind": "intoto",
                "spec": {"content": {
                    "envelope": {"payloadType": signed.payload_type, "signatures": [sig]},
                    "hash": {"algorithm": "sha256", "value": hex::encode(sha256(signed.envelope_json))},
                    "payloadHash": {"algorithm": "sha256", "value": hex::encode(sha256(signed.payload))},
                }}
            })
        }
        Kind::HashedRekord => json!({
            "apiVersion": "0.0.1", "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": hex::encode(sha256(signed.payload))}},
                "signature": {"content": b64(signed.signature), "publicKey": {"content": verifier}},
            }
        }),
    };
    canonical_json(&value)
}

/// Knobs for log material (the tamper matrix picks the broken ones).
#[derive(Clone, Debug)]
pub struct LogOptions {
    /// Include the SET (`inclusionPromise`).
    pub set: bool,
    /// Include the inclusion proof and checkpoint.
    pub proof: bool,
    /// Sign the checkpoint with this key instead of the log's.
    pub checkpoint_key: Option<SigningKey>,
    /// Use this checkpoint origin instead of the log's.
    pub checkpoint_origin: Option<String>,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            set: true,
            proof: true,
            checkpoint_key: None,
            checkpoint_origin: None,
        }
    }
}

/// The Rekor-like log: a key and an origin.
#[derive(Clone)]
pub struct RekorLog {
    /// Log signing key (SETs, checkpoints).
    pub key: SigningKey,
    /// Checkpoint origin line.
    pub origin: String,
    seed: Vec<u8>,
}

impl RekorLog {
    /// The log of `seed`.
    pub fn new(seed: &[u8], label: &str, origin: &str) -> RekorLog {
        RekorLog {
            key: seed::derive_key(seed, label),
            origin: origin.to_string(),
            seed: seed.to_vec(),
        }
    }

    /// Log id (SHA-256 of the log key's SPKI).
    pub fn log_id(&self) -> [u8; 32] {
        seed::key_id(&self.key)
    }

    /// A bundle `tlogEntries` element for `body`, integrated at `integrated_time`.
    pub fn entry(&self, kind: Kind, body: &[u8], integrated_time: i64, opts: &LogOptions) -> Value {
        let (k, v) = kind.kind_version();
        let mut leaves: Vec<Vec<u8>> = (0..FILLERS_BEFORE)
            .map(|i| seed::derive_bytes(&self.seed, &format!("rekor/filler/{i}")).to_vec())
            .collect();
        let index = leaves.len();
        leaves.push(body.to_vec());
        leaves.extend(
            (0..FILLERS_AFTER).map(|i| {
                seed::derive_bytes(&self.seed, &format!("rekor/filler-after/{i}")).to_vec()
            }),
        );
        let hashes: Vec<[u8; 32]> = leaves.iter().map(|l| leaf_hash(l)).collect();
        let root = mth(&hashes);
        let proof = audit_path(index, &hashes);
        let shard_index = index as i64;
        let log_index = SHARD_OFFSET + shard_index;
        let log_id = self.log_id();

        let mut entry = json!({
            "logIndex": log_index.to_string(),
            "logId": {"keyId": b64(&log_id)},
            "kindVersion": {"kind": k, "version": v},
            "integratedTime": integrated_time.to_string(),
            "canonicalizedBody": b64(body),
        });
        if opts.set {
            let payload = canonical_json(&json!({
                "body": b64(body),
                "integratedTime": integrated_time,
                "logID": hex::encode(log_id),
                "logIndex": log_index,
            }));
            entry["inclusionPromise"] =
                json!({"signedEntryTimestamp": b64(&seed::sign(&self.key, &payload))});
        }
        if opts.proof {
            let origin = opts.checkpoint_origin.as_deref().unwrap_or(&self.origin);
            let key = opts.checkpoint_key.as_ref().unwrap_or(&self.key);
            entry["inclusionProof"] = json!({
                "logIndex": shard_index.to_string(),
                "rootHash": b64(&root),
                "treeSize": leaves.len().to_string(),
                "hashes": proof.iter().map(|h| b64(h)).collect::<Vec<_>>(),
                "checkpoint": {"envelope": checkpoint(key, origin, leaves.len() as u64, &root)},
            });
        }
        entry
    }
}

/// A signed note: `origin\nsize\nbase64(root)\n\n— name base64(keyhint ‖ sig)\n`, where the
/// key name is the origin's host (its first word, as Rekor v1 writes it) and the key hint is the
/// first four bytes of the signer's log id.
pub fn checkpoint(key: &SigningKey, origin: &str, size: u64, root: &[u8; 32]) -> String {
    let note = format!("{origin}\n{size}\n{}\n", b64(root));
    let mut sig = seed::key_id(key)[..4].to_vec();
    sig.extend_from_slice(&seed::sign(key, note.as_bytes()));
    let name = origin.split(' ').next().unwrap_or(origin);
    format!("{note}\n\u{2014} {name} {}\n", b64(&sig))
}

/// RFC 6962 leaf hash: SHA-256(0x00 ‖ data).
pub fn leaf_hash(data: &[u8]) -> [u8; 32] {
    sha256_parts(&[&[0u8], data])
}

/// RFC 6962 interior node hash: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    sha256_parts(&[&[1u8], left, right])
}

/// Merkle tree hash over leaf hashes (RFC 6962 §2.1).
pub fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => sha256(&[]),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// Audit path for leaf `m` (RFC 6962 §2.1.1), ordered leaf to root.
pub fn audit_path(m: usize, leaves: &[[u8; 32]]) -> Vec<[u8; 32]> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut p = audit_path(m, &leaves[..k]);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = audit_path(m - k, &leaves[k..]);
        p.push(mth(&leaves[..k]));
        p
    }
}

/// Largest power of two strictly below `n` (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}
