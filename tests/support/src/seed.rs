//! Determinism: every key and serial number is derived from the seed and a label, every
//! signature is RFC 6979 deterministic ECDSA, and no function reads the clock.

use base64::Engine;
use p256::ecdsa::{signature::Signer, DerSignature, SigningKey};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use sha2::{Digest, Sha256};

/// A P-256 signing key derived from `seed ‖ label`: scalar = SHA-256(seed ‖ label ‖ counter),
/// retried with the next counter while the digest is zero or not below the group order.
pub fn derive_key(seed: &[u8], label: &str) -> SigningKey {
    for counter in 0u32.. {
        let digest = sha256_parts(&[seed, label.as_bytes(), &counter.to_be_bytes()]);
        if let Ok(key) = SigningKey::from_slice(&digest) {
            return key;
        }
    }
    unreachable!("a SHA-256 output below the P-256 order is found within a few tries")
}

/// Bytes derived from the seed (serial numbers, filler log leaves).
pub fn derive_bytes(seed: &[u8], label: &str) -> [u8; 32] {
    sha256_parts(&[seed, label.as_bytes()])
}

/// SHA-256 over the concatenation of `parts`.
pub fn sha256_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// DER ECDSA-SHA256 signature (RFC 6979) over `msg`.
pub fn sign(key: &SigningKey, msg: &[u8]) -> Vec<u8> {
    let sig: DerSignature = key.sign(msg);
    sig.as_bytes().to_vec()
}

/// DER SubjectPublicKeyInfo of the key's public half.
pub fn spki_der(key: &SigningKey) -> Vec<u8> {
    key.verifying_key()
        .to_public_key_der()
        .map(|d| d.as_bytes().to_vec())
        .unwrap_or_else(|e| panic!("encoding a P-256 SPKI cannot fail: {e}"))
}

/// PEM `PUBLIC KEY` of the key's public half (LF line endings, as Rekor stores it).
pub fn spki_pem(key: &SigningKey) -> String {
    key.verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap_or_else(|e| panic!("encoding a P-256 PEM cannot fail: {e}"))
}

/// Log id as Sigstore computes it: SHA-256 of the DER SubjectPublicKeyInfo.
pub fn key_id(key: &SigningKey) -> [u8; 32] {
    sha256(&spki_der(key))
}

/// Standard padded base64.
pub fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// PEM with 64-column lines.
pub fn pem(label: &str, der: &[u8]) -> String {
    let body = b64(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// RFC 8785 canonical JSON bytes of a value (how Rekor canonicalises bodies and SET payloads).
pub fn canonical_json(value: &serde_json::Value) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(value)
        .unwrap_or_else(|e| panic!("canonicalising a JSON value cannot fail: {e}"))
}

/// RFC 3339 UTC time of a Unix second.
pub fn rfc3339(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.to_string())
        .unwrap_or_else(|e| panic!("time {unix} out of range: {e}"))
}
