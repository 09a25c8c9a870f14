//! A tolerant subset of the Sigstore trusted root
//! (`application/vnd.dev.sigstore.trustedroot+json;version=0.1`), parsed for display and
//! inspection: Fulcio CAs and TSAs with their certificates, Rekor and CT logs with their keys
//! and validity windows. Verification itself uses `verify::sigstore`, which parses the same file
//! with sigstore-verify; this model never decides trust.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use x509_cert::der::Decode as _;

/// The only trusted-root media type accepted.
pub const MEDIA_TYPE: &str = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";

/// Caps on a trusted root (real ones hold 2-3 entries per list and 1-3 certificates per chain).
pub const MAX_ENTRIES: usize = 64;

/// A parsed trusted root.
#[derive(Debug, Clone, Serialize)]
pub struct TrustedRoot {
    pub media_type: String,
    pub certificate_authorities: Vec<CertificateAuthority>,
    pub tlogs: Vec<TransparencyLog>,
    pub ctlogs: Vec<TransparencyLog>,
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

/// A validity window; `None` ends are open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ValidFor {
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
}

/// A transparency log (Rekor) or certificate transparency log.
#[derive(Debug, Clone, Serialize)]
pub struct TransparencyLog {
    pub base_url: String,
    /// Base64 log id as listed (`logId.keyId`).
    pub log_id: String,
    /// Short key type derived from `key_details`: `ecdsa-p256`, `ecdsa-p384`, `ed25519`,
    /// `rsa`, or `unknown`.
    pub key_type: &'static str,
    /// `publicKey.keyDetails` as listed, e.g. `PKIX_ECDSA_P256_SHA_256`, `PKIX_ED25519`.
    pub key_details: String,
    pub hash_algorithm: Option<String>,
    pub valid_for: ValidFor,
    #[serde(skip)]
    pub public_key_der: Vec<u8>,
}

/// A certificate authority (Fulcio) or timestamp authority.
#[derive(Debug, Clone, Serialize)]
pub struct CertificateAuthority {
    pub uri: String,
    pub subject: Subject,
    pub valid_for: ValidFor,
    /// The chain as listed (leaf-most first, root last).
    pub certificates: Vec<CertificateInfo>,
}

/// The `subject` object of a CA entry.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Subject {
    pub organization: Option<String>,
    pub common_name: Option<String>,
}

/// What one pinned certificate says about itself.
#[derive(Debug, Clone, Serialize)]
pub struct CertificateInfo {
    /// RFC 4514 subject DN.
    pub subject: String,
    pub issuer: String,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    /// Hex SHA-256 of the DER.
    pub sha256: String,
    #[serde(skip)]
    pub der: Vec<u8>,
}

/// A trusted root that cannot be used; says which entry and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TrustedRootError(pub String);

impl TrustedRoot {
    /// The embedded production trusted root.
    pub fn embedded() -> Result<TrustedRoot, TrustedRootError> {
        Self::from_json(super::PRODUCTION_TRUSTED_ROOT.as_bytes())
    }

    /// Parses a trusted root, rejecting an unknown media type, undecodable keys or
    /// certificates, and bad times. Lists are sorted (by URL/URI, then window start).
    pub fn from_json(bytes: &[u8]) -> Result<TrustedRoot, TrustedRootError> {
        let w: wire::Root = serde_json::from_slice(bytes)
            .map_err(|e| TrustedRootError(format!("not a trusted root document: {e}")))?;
        let media_type = w
            .media_type
            .ok_or_else(|| TrustedRootError("missing mediaType".into()))?;
        if media_type != MEDIA_TYPE {
            return Err(TrustedRootError(format!(
                "unsupported mediaType {:?} (expected {MEDIA_TYPE:?})",
                crate::util::escape_text(&media_type)
            )));
        }
        let mut root = TrustedRoot {
            media_type,
            certificate_authorities: cas(w.certificate_authorities, "certificateAuthorities")?,
            tlogs: logs(w.tlogs, "tlogs")?,
            ctlogs: logs(w.ctlogs, "ctlogs")?,
            timestamp_authorities: cas(w.timestamp_authorities, "timestampAuthorities")?,
        };
        root.certificate_authorities
            .sort_by(|a, b| (&a.uri, a.valid_for).cmp(&(&b.uri, b.valid_for)));
        root.timestamp_authorities
            .sort_by(|a, b| (&a.uri, a.valid_for).cmp(&(&b.uri, b.valid_for)));
        for l in [&mut root.tlogs, &mut root.ctlogs] {
            l.sort_by(|a, b| (&a.base_url, a.valid_for).cmp(&(&b.base_url, b.valid_for)));
        }
        Ok(root)
    }
}

fn capped<T>(v: Vec<T>, field: &str) -> Result<Vec<T>, TrustedRootError> {
    if v.len() > MAX_ENTRIES {
        return Err(TrustedRootError(format!(
            "{field}: {} entries, more than the cap of {MAX_ENTRIES}",
            v.len()
        )));
    }
    Ok(v)
}

fn logs(v: Vec<wire::Log>, field: &str) -> Result<Vec<TransparencyLog>, TrustedRootError> {
    capped(v, field)?
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let at = |m: String| TrustedRootError(format!("{field}[{i}]: {m}"));
            let pk = l.public_key.ok_or_else(|| at("missing publicKey".into()))?;
            let raw = pk
                .raw_bytes
                .ok_or_else(|| at("missing publicKey.rawBytes".into()))?;
            let der = STANDARD
                .decode(raw.trim())
                .map_err(|e| at(format!("publicKey.rawBytes is not base64: {e}")))?;
            if der.is_empty() {
                return Err(at("publicKey.rawBytes is empty".into()));
            }
            let log_id = l
                .log_id
                .and_then(|id| id.key_id)
                .ok_or_else(|| at("missing logId.keyId".into()))?;
            STANDARD
                .decode(log_id.trim())
                .map_err(|e| at(format!("logId.keyId is not base64: {e}")))?;
            let key_details = pk.key_details.unwrap_or_else(|| "unspecified".into());
            Ok(TransparencyLog {
                base_url: l.base_url.unwrap_or_default(),
                log_id,
                key_type: key_type(&key_details),
                key_details,
                hash_algorithm: l.hash_algorithm,
                valid_for: valid_for(pk.valid_for).map_err(at)?,
                public_key_der: der,
            })
        })
        .collect()
}

fn key_type(details: &str) -> &'static str {
    match details {
        d if d.starts_with("PKIX_ECDSA_P256") => "ecdsa-p256",
        d if d.starts_with("PKIX_ECDSA_P384") => "ecdsa-p384",
        d if d.starts_with("PKIX_ECDSA_P521") => "ecdsa-p521",
        d if d.contains("ED25519") => "ed25519",
        d if d.contains("RSA") => "rsa",
        _ => "unknown",
    }
}

fn cas(v: Vec<wire::Ca>, field: &str) -> Result<Vec<CertificateAuthority>, TrustedRootError> {
    capped(v, field)?
        .into_iter()
        .enumerate()
        .map(|(i, ca)| {
            let at = |m: String| TrustedRootError(format!("{field}[{i}]: {m}"));
            let certs = ca.cert_chain.map(|c| c.certificates).unwrap_or_default();
            if certs.is_empty() {
                return Err(at("empty certChain".into()));
            }
            let certificates = capped(certs, "certChain.certificates")
                .map_err(|e| at(e.0))?
                .into_iter()
                .enumerate()
                .map(|(j, c)| {
                    certificate(&c.raw_bytes)
                        .map_err(|m| at(format!("certChain.certificates[{j}]: {m}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let subject = ca.subject.unwrap_or_default();
            Ok(CertificateAuthority {
                uri: ca.uri.unwrap_or_default(),
                subject: Subject {
                    organization: subject.organization,
                    common_name: subject.common_name,
                },
                valid_for: valid_for(ca.valid_for).map_err(at)?,
                certificates,
            })
        })
        .collect()
}

fn certificate(b64: &str) -> Result<CertificateInfo, String> {
    let der = STANDARD
        .decode(b64.trim())
        .map_err(|e| format!("rawBytes is not base64: {e}"))?;
    let cert = x509_cert::Certificate::from_der(&der)
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let tbs = &cert.tbs_certificate;
    let time = |t: x509_cert::time::Time| {
        let secs = i64::try_from(t.to_unix_duration().as_secs())
            .map_err(|_| "certificate time out of range".to_string())?;
        Timestamp::from_second(secs).map_err(|e| format!("certificate time out of range: {e}"))
    };
    Ok(CertificateInfo {
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        not_before: time(tbs.validity.not_before)?,
        not_after: time(tbs.validity.not_after)?,
        sha256: hex::encode(Sha256::digest(&der)),
        der,
    })
}

fn valid_for(v: Option<wire::ValidFor>) -> Result<ValidFor, String> {
    let parse = |s: Option<String>, name: &str| {
        s.map(|s| {
            s.parse::<Timestamp>().map_err(|e| {
                format!(
                    "validFor.{name} {:?} is not an RFC 3339 time: {e}",
                    crate::util::escape_text(&s)
                )
            })
        })
        .transpose()
    };
    let v = v.unwrap_or_default();
    Ok(ValidFor {
        start: parse(v.start, "start")?,
        end: parse(v.end, "end")?,
    })
}

/// Wire format (protobuf-specs JSON; a tolerant subset: unknown fields are ignored).
mod wire {
    use super::*;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Root {
        pub media_type: Option<String>,
        #[serde(default)]
        pub tlogs: Vec<Log>,
        #[serde(default)]
        pub certificate_authorities: Vec<Ca>,
        #[serde(default)]
        pub ctlogs: Vec<Log>,
        #[serde(default)]
        pub timestamp_authorities: Vec<Ca>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Log {
        pub base_url: Option<String>,
        pub hash_algorithm: Option<String>,
        pub public_key: Option<PublicKey>,
        pub log_id: Option<LogId>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PublicKey {
        pub raw_bytes: Option<String>,
        pub key_details: Option<String>,
        pub valid_for: Option<ValidFor>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct LogId {
        pub key_id: Option<String>,
    }

    #[derive(Deserialize, Default)]
    pub struct ValidFor {
        pub start: Option<String>,
        pub end: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Ca {
        pub subject: Option<Subject>,
        pub uri: Option<String>,
        pub cert_chain: Option<CertChain>,
        pub valid_for: Option<ValidFor>,
    }

    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    pub struct Subject {
        pub organization: Option<String>,
        pub common_name: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct CertChain {
        #[serde(default)]
        pub certificates: Vec<Cert>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Cert {
        pub raw_bytes: String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn embedded_production_root() {
        let r = TrustedRoot::embedded().unwrap();
        assert_eq!(r.certificate_authorities.len(), 2);
        assert!(r
            .certificate_authorities
            .iter()
            .all(|c| c.uri == "https://fulcio.sigstore.dev"));
        let first = &r.certificate_authorities[0];
        assert_eq!(first.valid_for.start, Some(ts("2021-03-07T03:20:29Z")));
        assert!(first.certificates[0].subject.contains("CN=sigstore"));
        assert!(first.certificates[0].not_before <= ts("2021-03-07T03:20:29Z"));
        let rekor = r
            .tlogs
            .iter()
            .find(|l| l.log_id == "wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=")
            .unwrap();
        assert_eq!(rekor.base_url, "https://rekor.sigstore.dev");
        assert_eq!(rekor.key_details, "PKIX_ECDSA_P256_SHA_256");
        assert_eq!(rekor.key_type, "ecdsa-p256");
        assert!(r.tlogs.iter().any(|l| l.key_details == "PKIX_ED25519"
            && l.log_id == "zxGZFVvd0FEmjR8WrFwMdcAJ9vtaY/QXf44Y1wUeP6A="));
        assert_eq!(r.ctlogs.len(), 2);
        assert_eq!(r.timestamp_authorities.len(), 1);
    }

    #[test]
    fn embedded_staging_root_parses() {
        let r = TrustedRoot::from_json(crate::trust::STAGING_TRUSTED_ROOT.as_bytes()).unwrap();
        assert!(!r.tlogs.is_empty() && !r.certificate_authorities.is_empty());
    }

    #[test]
    fn rejects_bad_roots() {
        let good = crate::trust::PRODUCTION_TRUSTED_ROOT;
        let cases = [
            ("{".to_string(), "not a trusted root document"),
            (r#"{"tlogs":[]}"#.to_string(), "missing mediaType"),
            (
                good.replace(MEDIA_TYPE, "application/x-other"),
                "unsupported mediaType",
            ),
            (
                good.replacen("\"rawBytes\": \"MII", "\"rawBytes\": \"!!MII", 1),
                "not base64",
            ),
            (
                good.replacen(
                    "\"rawBytes\": \"MII",
                    "\"rawBytes\": \"AAAA\", \"x\": \"",
                    1,
                ),
                "not an X.509 certificate",
            ),
            (
                good.replacen("2021-03-07T03:20:29", "yesterday", 1),
                "validFor.start",
            ),
        ];
        for (json, want) in cases {
            let err = TrustedRoot::from_json(json.as_bytes()).unwrap_err();
            assert!(err.0.contains(want), "{want}: {err}");
        }
    }
}
