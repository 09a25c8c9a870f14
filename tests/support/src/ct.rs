//! A Certificate Transparency log of ours: RFC 6962 §3.2 SCTs over precertificate TBSs, in the
//! TLS `SignedCertificateTimestampList` encoding carried by X.509 extension
//! 1.3.6.1.4.1.11129.2.4.2.

use p256::ecdsa::SigningKey;

use crate::seed;

/// The TLS-encoded SCT list (one SCT) for a precertificate: `log` signs
/// `digitally-signed { version v1, certificate_timestamp, timestamp, precert_entry
/// { issuer_key_hash, tbs }, extensions }`.
pub fn sct(log: &SigningKey, timestamp_ms: u64, issuer_key_hash: &[u8; 32], tbs: &[u8]) -> Vec<u8> {
    let mut signed = vec![0u8, 0u8]; // version v1, signature_type certificate_timestamp
    signed.extend_from_slice(&timestamp_ms.to_be_bytes());
    signed.extend_from_slice(&1u16.to_be_bytes()); // precert_entry
    signed.extend_from_slice(issuer_key_hash);
    push_len(&mut signed, tbs.len(), 3);
    signed.extend_from_slice(tbs);
    signed.extend_from_slice(&0u16.to_be_bytes()); // no extensions
    let signature = seed::sign(log, &signed);

    let mut one = vec![0u8]; // v1
    one.extend_from_slice(&seed::key_id(log));
    one.extend_from_slice(&timestamp_ms.to_be_bytes());
    one.extend_from_slice(&0u16.to_be_bytes()); // extensions
    one.push(4); // hash: sha256
    one.push(3); // signature: ecdsa
    push_len(&mut one, signature.len(), 2);
    one.extend_from_slice(&signature);

    let mut list = Vec::new();
    push_len(&mut list, one.len() + 2, 2);
    push_len(&mut list, one.len(), 2);
    list.extend_from_slice(&one);
    list
}

fn push_len(out: &mut Vec<u8>, len: usize, width: usize) {
    let bytes = (len as u64).to_be_bytes();
    out.extend_from_slice(&bytes[8 - width..]);
}
