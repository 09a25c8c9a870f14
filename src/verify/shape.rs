//! Checks on the bundle's JSON before any cryptography (DESIGN §4.1 and the caps on outside
//! input): size and depth caps, counts, the media-type version rules (applied to *every* tlog
//! entry, where the library checks "any"), duplicate tlog entries, one DSSE signature, and a
//! parseable in-toto payload within the caps.

use super::bundle::{BundleError, Step};
use base64::Engine as _;
use serde_json::Value;
use std::collections::HashSet;

/// Largest bundle accepted, in bytes. Real npm bundles are 5–30 KB; provenance predicates of big
/// monorepos stay well under 1 MB.
pub const MAX_BUNDLE_BYTES: usize = 4 * 1024 * 1024;
/// Deepest JSON nesting accepted, in the bundle and in the DSSE payload. Real bundles and SLSA
/// predicates nest under 12 levels; this stops stack-hungry inputs long before serde's own limit.
pub const MAX_JSON_DEPTH: usize = 64;
/// Most tlog entries accepted in one bundle. Every real bundle has exactly one.
pub const MAX_TLOG_ENTRIES: usize = 8;
/// Most RFC 3161 timestamps accepted in one bundle (sigstore-python's limit is 32).
pub const MAX_RFC3161_TIMESTAMPS: usize = 32;
/// Most certificates in `x509CertificateChain`. Real v0.1/v0.2 bundles carry 1 or 3 (leaf,
/// intermediate, root); only the leaf is used.
pub const MAX_CHAIN_CERTIFICATES: usize = 4;
/// Most hashes in one inclusion proof: a Merkle tree of 2^64 leaves needs 64.
pub const MAX_PROOF_HASHES: usize = 64;
/// Most subjects in one in-toto statement. npm statements carry exactly one.
pub const MAX_SUBJECTS: usize = 1024;

/// The media types this verifier knows (DESIGN §4.1).
pub const MEDIA_TYPE_V01: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";
pub const MEDIA_TYPE_V02: &str = "application/vnd.dev.sigstore.bundle+json;version=0.2";
pub const MEDIA_TYPE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
pub const MEDIA_TYPE_V03_ALT: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";

/// The bundle version, from its media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Version {
    V01,
    V02,
    V03,
}

/// What the checks found out about the bundle.
#[derive(Debug)]
pub(crate) struct Shape {
    pub media_type: String,
    pub has_certificate: bool,
    pub hint: Option<String>,
}

/// Runs every structural check on `bytes`; returns the UTF-8 text and what it learned.
pub(crate) fn check(bytes: &[u8]) -> Result<(&str, Shape), BundleError> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(cap("bundle size", MAX_BUNDLE_BYTES, bytes.len()));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| BundleError::new(Step::Parse, "UTF-8 JSON", format!("invalid UTF-8: {e}")))?;
    let json: Value = serde_json::from_str(text)
        .map_err(|e| BundleError::new(Step::Parse, "a JSON bundle", format!("{e}")))?;
    let depth = depth(&json);
    if depth > MAX_JSON_DEPTH {
        return Err(cap("JSON depth", MAX_JSON_DEPTH, depth));
    }
    let obj = json
        .as_object()
        .ok_or_else(|| BundleError::new(Step::Parse, "a JSON object", kind(&json)))?;

    let media_type = match obj.get("mediaType") {
        Some(Value::String(s)) => s.clone(),
        other => {
            return Err(BundleError::new(
                Step::MediaType,
                "a mediaType string",
                other.map_or("none".to_string(), kind),
            ))
        }
    };
    let version = match media_type.as_str() {
        MEDIA_TYPE_V01 => Version::V01,
        MEDIA_TYPE_V02 => Version::V02,
        MEDIA_TYPE_V03 | MEDIA_TYPE_V03_ALT => Version::V03,
        other => {
            return Err(BundleError::new(
                Step::MediaType,
                "a known Sigstore bundle media type (v0.1, v0.2, v0.3)",
                format!("{other:?}"),
            ))
        }
    };

    let material = obj
        .get("verificationMaterial")
        .and_then(Value::as_object)
        .ok_or_else(|| missing("verificationMaterial"))?;
    let (has_certificate, hint) = check_material(material, version)?;
    check_tlog(material, version)?;
    check_timestamps(material)?;
    check_content(obj)?;

    Ok((
        text,
        Shape {
            media_type,
            has_certificate,
            hint,
        },
    ))
}

fn check_material(
    material: &serde_json::Map<String, Value>,
    version: Version,
) -> Result<(bool, Option<String>), BundleError> {
    let present = |k: &str| material.get(k).is_some_and(|v| !v.is_null());
    let kinds = ["certificate", "x509CertificateChain", "publicKey"]
        .into_iter()
        .filter(|k| present(k))
        .collect::<Vec<_>>();
    if kinds.len() != 1 {
        return Err(BundleError::new(
            Step::Parse,
            "exactly one of certificate, x509CertificateChain, publicKey",
            format!("{kinds:?}"),
        ));
    }
    match kinds[0] {
        "x509CertificateChain" => {
            if version == Version::V03 {
                return Err(BundleError::new(
                    Step::MediaType,
                    "a single certificate in a v0.3 bundle",
                    "x509CertificateChain",
                ));
            }
            let n = material["x509CertificateChain"]
                .get("certificates")
                .and_then(Value::as_array)
                .map(Vec::len)
                .ok_or_else(|| missing("x509CertificateChain.certificates"))?;
            if n == 0 {
                return Err(BundleError::new(
                    Step::Parse,
                    "at least one certificate in x509CertificateChain",
                    "an empty chain",
                ));
            }
            if n > MAX_CHAIN_CERTIFICATES {
                return Err(cap("certificate chain length", MAX_CHAIN_CERTIFICATES, n));
            }
            Ok((true, None))
        }
        "certificate" => Ok((true, None)),
        _ => {
            let hint = material["publicKey"]
                .get("hint")
                .and_then(Value::as_str)
                .map(str::to_owned);
            Ok((false, hint))
        }
    }
}

fn check_tlog(
    material: &serde_json::Map<String, Value>,
    version: Version,
) -> Result<(), BundleError> {
    let entries = match material.get("tlogEntries") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(a)) => a.as_slice(),
        Some(other) => {
            return Err(BundleError::new(
                Step::Parse,
                "tlogEntries array",
                kind(other),
            ))
        }
    };
    if entries.len() > MAX_TLOG_ENTRIES {
        return Err(cap("tlog entries", MAX_TLOG_ENTRIES, entries.len()));
    }
    if entries.is_empty() {
        return Err(BundleError::new(
            Step::Tlog,
            "at least one transparency log entry",
            "none",
        ));
    }
    let mut seen_ids = HashSet::new();
    let mut seen_bodies = HashSet::new();
    for (i, e) in entries.iter().enumerate() {
        let log_id = e
            .pointer("/logId/keyId")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let index = e.get("logIndex").map(Value::to_string).unwrap_or_default();
        let body = e
            .get("canonicalizedBody")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !seen_ids.insert((log_id.to_owned(), index.clone())) || !seen_bodies.insert(body) {
            return Err(BundleError::new(
                Step::Tlog,
                "distinct transparency log entries",
                format!("entry {i} duplicates an earlier one (log {log_id}, index {index})"),
            ));
        }
        let has = |k: &str| e.get(k).is_some_and(|v| !v.is_null());
        match version {
            Version::V01 => {
                if !has("inclusionPromise") {
                    return Err(BundleError::new(
                        Step::MediaType,
                        "an inclusion promise (SET) on every tlog entry of a v0.1 bundle",
                        format!("entry {i} without one"),
                    ));
                }
            }
            Version::V02 | Version::V03 => {
                let envelope = e
                    .pointer("/inclusionProof/checkpoint/envelope")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if envelope.is_empty() {
                    return Err(BundleError::new(
                        Step::MediaType,
                        "an inclusion proof with a checkpoint on every tlog entry of a v0.2+ bundle",
                        format!("entry {i} without one"),
                    ));
                }
            }
        }
        if let Some(set) = e
            .pointer("/inclusionPromise/signedEntryTimestamp")
            .and_then(Value::as_str)
        {
            base64::engine::general_purpose::STANDARD
                .decode(set)
                .map_err(|err| {
                    BundleError::new(
                        Step::SignedEntryTimestamp,
                        "a base64 signed entry timestamp",
                        format!("entry {i}: undecodable: {err}"),
                    )
                })?;
        }
        if let Some(hashes) = e
            .pointer("/inclusionProof/hashes")
            .and_then(Value::as_array)
        {
            if hashes.len() > MAX_PROOF_HASHES {
                return Err(cap(
                    "inclusion proof hashes",
                    MAX_PROOF_HASHES,
                    hashes.len(),
                ));
            }
        }
    }
    Ok(())
}

fn check_timestamps(material: &serde_json::Map<String, Value>) -> Result<(), BundleError> {
    let Some(ts) = material
        .get("timestampVerificationData")
        .and_then(|v| v.get("rfc3161Timestamps"))
        .and_then(Value::as_array)
    else {
        return Ok(());
    };
    if ts.len() > MAX_RFC3161_TIMESTAMPS {
        return Err(cap("RFC 3161 timestamps", MAX_RFC3161_TIMESTAMPS, ts.len()));
    }
    let mut seen = HashSet::new();
    for (i, t) in ts.iter().enumerate() {
        let token = t
            .get("signedTimestamp")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !seen.insert(token) {
            return Err(BundleError::new(
                Step::Time,
                "distinct RFC 3161 timestamps",
                format!("timestamp {i} duplicates an earlier one"),
            ));
        }
    }
    Ok(())
}

fn check_content(obj: &serde_json::Map<String, Value>) -> Result<(), BundleError> {
    let dsse = obj.get("dsseEnvelope").filter(|v| !v.is_null());
    let msg = obj.get("messageSignature").filter(|v| !v.is_null());
    let envelope = match (dsse, msg) {
        (Some(d), None) => d,
        (None, Some(m)) => {
            let sig = m
                .get("signature")
                .and_then(Value::as_str)
                .ok_or_else(|| missing("messageSignature.signature"))?;
            return decode_signature(sig);
        }
        (d, m) => {
            return Err(BundleError::new(
                Step::Parse,
                "exactly one of dsseEnvelope, messageSignature",
                format!(
                    "dsseEnvelope {}, messageSignature {}",
                    if d.is_some() { "present" } else { "absent" },
                    if m.is_some() { "present" } else { "absent" }
                ),
            ))
        }
    };
    let sigs = envelope
        .get("signatures")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("dsseEnvelope.signatures"))?;
    if sigs.len() != 1 {
        return Err(BundleError::new(
            Step::Signature,
            "exactly one DSSE signature",
            format!("{} signatures", sigs.len()),
        ));
    }
    let sig = sigs[0]
        .get("sig")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("dsseEnvelope.signatures[0].sig"))?;
    decode_signature(sig)?;
    let payload_type = envelope
        .get("payloadType")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("dsseEnvelope.payloadType"))?;
    if payload_type != "application/vnd.in-toto+json" {
        return Err(BundleError::new(
            Step::Artifact,
            "DSSE payloadType application/vnd.in-toto+json (an in-toto statement binding the artifact)",
            format!("{payload_type:?}"),
        ));
    }
    let payload = envelope
        .get("payload")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("dsseEnvelope.payload"))?;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .map_err(|e| BundleError::new(Step::Parse, "base64 DSSE payload", format!("{e}")))?;
    let statement: Value = serde_json::from_slice(&payload)
        .map_err(|e| BundleError::new(Step::Parse, "a JSON in-toto statement", format!("{e}")))?;
    let d = depth(&statement);
    if d > MAX_JSON_DEPTH {
        return Err(cap("DSSE payload JSON depth", MAX_JSON_DEPTH, d));
    }
    if let Some(subjects) = statement.get("subject").and_then(Value::as_array) {
        if subjects.len() > MAX_SUBJECTS {
            return Err(cap("statement subjects", MAX_SUBJECTS, subjects.len()));
        }
    }
    Ok(())
}

/// A signature that is not even base64 cannot verify: report it at the signature step.
fn decode_signature(sig: &str) -> Result<(), BundleError> {
    match base64::engine::general_purpose::STANDARD.decode(sig) {
        Ok(b) if !b.is_empty() => Ok(()),
        Ok(_) => Err(BundleError::new(
            Step::Signature,
            "a signature",
            "an empty one",
        )),
        Err(e) => Err(BundleError::new(
            Step::Signature,
            "a base64 signature",
            format!("undecodable: {e}"),
        )),
    }
}

/// Nesting depth of a JSON value (a scalar is 1), iteratively.
pub(crate) fn depth(v: &Value) -> usize {
    let mut max = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        max = max.max(d);
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|x| (x, d + 1))),
            Value::Object(o) => stack.extend(o.values().map(|x| (x, d + 1))),
            _ => {}
        }
    }
    max
}

fn cap(what: &str, limit: usize, actual: usize) -> BundleError {
    BundleError::new(
        Step::Parse,
        format!("{what} at most {limit} {}", super::bundle::CAP_MARKER),
        format!("{actual}"),
    )
}

fn missing(what: &str) -> BundleError {
    BundleError::new(
        Step::Parse,
        what.to_string(),
        "missing or not the right type",
    )
}

fn kind(v: &Value) -> String {
    crate::util::json::kind(v).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_nesting() {
        assert_eq!(depth(&serde_json::json!(1)), 1);
        assert_eq!(depth(&serde_json::json!([])), 1);
        assert_eq!(depth(&serde_json::json!({"a": [1, {"b": 2}]})), 4);
    }

    #[test]
    fn structural_errors_name_their_step() {
        let step = |s: &str| check(s.as_bytes()).unwrap_err().step;
        assert_eq!(step("{"), Step::Parse);
        assert_eq!(step("[1]"), Step::Parse);
        assert_eq!(step(r#"{"mediaType": 1}"#), Step::MediaType);
        assert_eq!(
            step(r#"{"mediaType": "application/json"}"#),
            Step::MediaType
        );
        assert_eq!(
            step(&format!(r#"{{"mediaType": "{MEDIA_TYPE_V02}"}}"#)),
            Step::Parse
        );
        let no_material = format!(
            r#"{{"mediaType": "{MEDIA_TYPE_V02}", "verificationMaterial": {{"tlogEntries": []}}}}"#
        );
        assert_eq!(step(&no_material), Step::Parse);
        let key_no_tlog = format!(
            r#"{{"mediaType": "{MEDIA_TYPE_V02}", "verificationMaterial": {{"publicKey": {{"hint": "h"}}, "tlogEntries": []}}}}"#
        );
        assert_eq!(step(&key_no_tlog), Step::Tlog);
    }

    #[test]
    fn type_errors_name_the_kind_found() {
        let err = check(b"[1]").unwrap_err();
        assert_eq!(
            (err.expected.as_str(), err.actual.as_str()),
            ("a JSON object", "an array")
        );
        let bad_entries = format!(
            r#"{{"mediaType": "{MEDIA_TYPE_V03}", "verificationMaterial": {{"certificate": {{"rawBytes": "AA=="}}, "tlogEntries": 7}}}}"#
        );
        let err = check(bad_entries.as_bytes()).unwrap_err();
        assert_eq!((err.step, err.actual.as_str()), (Step::Parse, "a number"));
    }

    #[test]
    fn an_empty_signature_is_reported_as_empty() {
        for content in [
            serde_json::json!({"messageSignature": {"signature": ""}}),
            serde_json::json!({"dsseEnvelope": {"signatures": [{"sig": ""}]}}),
        ] {
            let err = check_content(content.as_object().unwrap()).unwrap_err();
            assert_eq!(
                (err.step, err.actual.as_str()),
                (Step::Signature, "an empty one")
            );
        }
        let err = check_content(
            serde_json::json!({"messageSignature": {"signature": "!"}})
                .as_object()
                .unwrap(),
        )
        .unwrap_err();
        assert_eq!(err.step, Step::Signature);
        assert!(err.actual.starts_with("undecodable"), "{}", err.actual);
    }

    #[test]
    fn dsse_payload_depth_cap_at_and_beyond_the_edge() {
        use base64::Engine as _;
        // A statement of depth `d`: the object (1) around a predicate of d - 1 levels.
        let with_depth = |d: usize| {
            let mut v = serde_json::json!(1);
            for _ in 0..d - 2 {
                v = serde_json::json!([v]);
            }
            let payload = serde_json::json!({"_type": "x", "subject": [], "predicate": v});
            assert_eq!(depth(&payload), d);
            let payload = base64::engine::general_purpose::STANDARD.encode(payload.to_string());
            serde_json::json!({"dsseEnvelope": {
                "payloadType": "application/vnd.in-toto+json",
                "payload": payload,
                "signatures": [{"sig": "AAAA"}],
            }})
        };
        let at = with_depth(MAX_JSON_DEPTH);
        check_content(at.as_object().unwrap()).unwrap();
        let beyond = with_depth(MAX_JSON_DEPTH + 1);
        assert!(check_content(beyond.as_object().unwrap())
            .unwrap_err()
            .is_cap());
    }

    #[test]
    fn bundle_size_cap_is_the_documented_4_mib() {
        // docs/limits.md states the value; the edge itself is tested in tests/it/verify_bundle.rs.
        assert_eq!(MAX_BUNDLE_BYTES, 4 << 20);
    }
}
