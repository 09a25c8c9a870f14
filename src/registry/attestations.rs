//! The attestations response (`GET /-/npm/v1/attestations/NAME@VERSION`), a tolerant
//! **subset**: `{"attestations":[{"predicateType": P, "bundle": B}, …]}`.
//!
//! Bundles are kept as JSON values and handed to the bundle verifier as bytes; nothing here
//! is trusted. The order of entries varies in real data: callers select by `predicateType`.

use serde::Deserialize;

/// npm's publish attestation predicate type.
pub const PUBLISH_PREDICATE_TYPE: &str =
    "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";
/// Prefix of every SLSA provenance predicate type.
pub const SLSA_PROVENANCE_PREFIX: &str = "https://slsa.dev/provenance/";

/// The most entries read from one response (npm serves two; the cap bounds work).
pub const MAX_ATTESTATIONS: usize = 16;
/// The largest response accepted, in bytes (real ones are about 10 KB).
pub const MAX_ATTESTATIONS_BYTES: usize = 8 * 1024 * 1024;
/// The deepest JSON nesting accepted: a bundle's own cap (`verify::shape::MAX_JSON_DEPTH`)
/// plus the response's wrapping.
pub const MAX_ATTESTATIONS_DEPTH: usize = crate::verify::shape::MAX_JSON_DEPTH + 8;

/// One entry of the response.
#[derive(Debug, Clone, PartialEq)]
pub struct AttestationEntry {
    /// The wrapper's `predicateType` (outside the signature).
    pub predicate_type: String,
    /// The Sigstore bundle, as carried.
    pub bundle: serde_json::Value,
}

impl AttestationEntry {
    /// The bundle as JSON bytes for the verifier.
    pub fn bundle_bytes(&self) -> Vec<u8> {
        // Serialising a `Value` cannot fail (string keys only).
        serde_json::to_vec(&self.bundle).unwrap_or_default()
    }
}

/// A parsed attestations response.
#[derive(Debug, Clone, PartialEq)]
pub struct AttestationsResponse {
    pub attestations: Vec<AttestationEntry>,
}

/// Why a response cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AttestationsError(pub String);

impl AttestationsError {
    /// Whether a cap (size, depth, count) was hit: every cap message here names "cap of".
    pub fn is_cap(&self) -> bool {
        self.0.contains("cap of")
    }
}

impl AttestationsResponse {
    /// Parses a response body, enforcing the caps.
    pub fn from_slice(bytes: &[u8]) -> Result<AttestationsResponse, AttestationsError> {
        #[derive(Deserialize)]
        struct Wire {
            attestations: Vec<WireEntry>,
        }
        #[derive(Deserialize)]
        struct WireEntry {
            #[serde(rename = "predicateType")]
            predicate_type: String,
            bundle: serde_json::Value,
        }
        if bytes.len() > MAX_ATTESTATIONS_BYTES {
            return Err(AttestationsError(format!(
                "{} bytes, more than the attestations cap of {MAX_ATTESTATIONS_BYTES}",
                bytes.len()
            )));
        }
        crate::util::json::check_depth(bytes, MAX_ATTESTATIONS_DEPTH).map_err(AttestationsError)?;
        let wire: Wire = serde_json::from_slice(bytes)
            .map_err(|e| AttestationsError(format!("not an attestations response: {e}")))?;
        if wire.attestations.len() > MAX_ATTESTATIONS {
            return Err(AttestationsError(format!(
                "{} attestations, more than the cap of {MAX_ATTESTATIONS}",
                wire.attestations.len()
            )));
        }
        Ok(AttestationsResponse {
            attestations: wire
                .attestations
                .into_iter()
                .map(|e| AttestationEntry {
                    predicate_type: e.predicate_type,
                    bundle: e.bundle,
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_in_order() {
        let r = AttestationsResponse::from_slice(
            br#"{"attestations":[{"predicateType":"a","bundle":{"x":1}},
            {"predicateType":"b","bundle":{}}],"extra":true}"#,
        )
        .unwrap();
        assert_eq!(r.attestations.len(), 2);
        assert_eq!(r.attestations[1].predicate_type, "b");
        assert_eq!(r.attestations[0].bundle_bytes(), br#"{"x":1}"#);
    }

    #[test]
    fn rejects_bad_shapes_and_caps() {
        assert!(AttestationsResponse::from_slice(b"{}").is_err());
        assert!(AttestationsResponse::from_slice(b"not json").is_err());
        assert!(AttestationsResponse::from_slice(br#"{"attestations":[{"bundle":{}}]}"#).is_err());
        let many = format!(
            "{{\"attestations\":[{}]}}",
            vec![r#"{"predicateType":"a","bundle":{}}"#; MAX_ATTESTATIONS + 1].join(",")
        );
        let deep = format!(
            "{{\"attestations\":{}{}}}",
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(AttestationsResponse::from_slice(deep.as_bytes())
            .unwrap_err()
            .0
            .contains("cap"));
        assert!(AttestationsResponse::from_slice(many.as_bytes())
            .unwrap_err()
            .0
            .contains("cap"));
    }
}
