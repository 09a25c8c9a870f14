//! npm registry signatures (`dist.signatures`): ECDSA P-256 / SHA-256, DER, base64, over the
//! UTF-8 string `NAME@VERSION:INTEGRITY`, by the key its `keyid` names, for usage
//! `npm:signatures`, valid at the version's publish time.
//!
//! A key that expired *after* the publish time still validates the version (npm and pacote
//! compare the key's expiry with the publish time, never with now). Without a publish time only
//! a key whose window is still open can validate. Pure and clock-free.

use crate::findings::Finding;
use crate::trust::npm_keys::{KeyId, KeySource, KeyUsage, NpmKey, NpmKeys};
use crate::util::escape_text;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jiff::Timestamp;
use p256::ecdsa::Signature;
use serde::{Deserialize, Serialize};

/// The most signatures accepted for one version (npm serves one; the cap bounds work on a
/// hostile packument). More is `metadata-too-large`, and none of them is tried.
pub const MAX_SIGNATURES: usize = 16;

/// One `dist.signatures[]` entry as the registry serves it (subset; unknown fields ignored).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct RegistrySignature {
    pub keyid: String,
    pub sig: String,
}

/// Where a publish time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeSource {
    /// A verified Rekor integrated time (e.g. of the publish attestation).
    Rekor,
    /// A verified RFC 3161 timestamp.
    Tsa,
    /// The packument's `time[version]`: unsigned, mirrors rewrite it.
    RegistryUnsigned,
    /// No time known.
    None,
}

/// The time a version was published, with its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PublishTime {
    pub time: Option<Timestamp>,
    pub source: TimeSource,
}

impl PublishTime {
    /// No publish time known.
    pub const NONE: PublishTime = PublishTime {
        time: None,
        source: TimeSource::None,
    };

    pub fn new(time: Timestamp, source: TimeSource) -> PublishTime {
        PublishTime {
            time: Some(time),
            source,
        }
    }
}

/// A registry signature that verified. Only [`verify_registry_signature`] builds one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedRegistrySignature {
    keyid: KeyId,
    key_source: KeySource,
    time: Option<Timestamp>,
    time_source: TimeSource,
}

impl VerifiedRegistrySignature {
    /// The keyid of the pinned (or user/registry) key that verified the signature.
    pub fn keyid(&self) -> &KeyId {
        &self.keyid
    }
    /// Where that key came from.
    pub fn key_source(&self) -> &KeySource {
        &self.key_source
    }
    /// The publish time the key's window was checked at (`None`: an open-ended key).
    pub fn time(&self) -> Option<Timestamp> {
        self.time
    }
    /// Where that time came from.
    pub fn time_source(&self) -> TimeSource {
        self.time_source
    }
}

/// Why no registry signature verified. Ordered from least to most specific, so that with
/// several signatures the most specific failure is reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrySignatureFailure {
    /// `dist.signatures` is absent or empty.
    #[error("no registry signature")]
    Missing,
    /// The keyid names no `npm:signatures` key of the key set.
    #[error("signature key {keyid} is not a known npm:signatures key")]
    KeyUnknown { keyid: KeyId },
    /// No publish time, and the key's window has closed: it cannot be shown the key was valid.
    #[error("no publish time to check key {keyid}, whose validity window has closed")]
    NoPublishTime { keyid: KeyId },
    /// The signature verifies but the key was not valid at the publish time.
    #[error("key {keyid} was not valid at the publish time {time} (window {})", window(*valid_from, *valid_until))]
    KeyExpired {
        keyid: KeyId,
        valid_from: Option<Timestamp>,
        valid_until: Option<Timestamp>,
        time: Timestamp,
    },
    /// The signature is malformed or does not verify under the named key.
    #[error("signature by {keyid} is invalid: {reason}")]
    Invalid { keyid: KeyId, reason: String },
    /// More signatures than [`MAX_SIGNATURES`]: none is looked at (a hostile packument).
    #[error("{count} registry signatures, more than the cap of {MAX_SIGNATURES}")]
    TooMany { count: usize },
}

impl RegistrySignatureFailure {
    /// The finding this failure is reported as.
    pub fn finding(&self) -> Finding {
        match self {
            Self::Missing => Finding::new(
                "registry-signature-missing",
                "the registry serves no signature (dist.signatures) for this version",
            ),
            Self::Invalid { .. } => Finding::new("registry-signature-invalid", self.to_string()),
            Self::KeyUnknown { keyid } => Finding::new(
                "registry-key-unknown",
                format!(
                    "the registry signature names key {keyid}, which is not among the trusted \
                     npm keys (pinned or --npm-keys); run `npm-provenance trust-roots update` \
                     to refresh the pinned keys"
                ),
            ),
            Self::KeyExpired { .. } => Finding::new("registry-key-expired", self.to_string()),
            Self::NoPublishTime { .. } => {
                Finding::new("unverifiable", format!("no-publish-time: {self}"))
            }
            Self::TooMany { .. } => Finding::new("metadata-too-large", self.to_string()),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Self::Missing => 0,
            Self::KeyUnknown { .. } => 1,
            Self::NoPublishTime { .. } => 2,
            Self::KeyExpired { .. } => 3,
            Self::Invalid { .. } => 4,
            Self::TooMany { .. } => 5,
        }
    }
}

/// Verifies a version's registry signatures: verified if one of them, by a known
/// `npm:signatures` key valid at `publish.time`, verifies over `name@version:integrity`.
/// Otherwise the most specific failure (invalid > key expired > no publish time > key unknown).
pub fn verify_registry_signature(
    name: &str,
    version: &str,
    integrity: &str,
    signatures: &[RegistrySignature],
    keys: &NpmKeys,
    publish: &PublishTime,
) -> Result<VerifiedRegistrySignature, RegistrySignatureFailure> {
    // Beyond the cap nothing is tried: the input is refused, as every other cap does.
    if signatures.len() > MAX_SIGNATURES {
        return Err(RegistrySignatureFailure::TooMany {
            count: signatures.len(),
        });
    }
    let message = format!("{name}@{version}:{integrity}");
    let mut worst = RegistrySignatureFailure::Missing;
    for sig in signatures {
        match verify_one(message.as_bytes(), sig, keys, publish) {
            Ok(v) => return Ok(v),
            Err(f) if f.rank() > worst.rank() => worst = f,
            Err(_) => {}
        }
    }
    Err(worst)
}

fn verify_one(
    message: &[u8],
    sig: &RegistrySignature,
    keys: &NpmKeys,
    publish: &PublishTime,
) -> Result<VerifiedRegistrySignature, RegistrySignatureFailure> {
    let keyid = KeyId::new(sig.keyid.clone());
    let candidates = keys.find(&keyid, KeyUsage::Signatures);
    if candidates.is_empty() {
        return Err(RegistrySignatureFailure::KeyUnknown { keyid });
    }
    let invalid = |reason: String| RegistrySignatureFailure::Invalid {
        keyid: keyid.clone(),
        reason,
    };
    let der = STANDARD
        .decode(sig.sig.trim())
        .map_err(|e| invalid(format!("signature is not base64: {e}")))?;
    Signature::from_der(&der)
        .map_err(|_| invalid("signature is not a DER ECDSA signature".into()))?;
    // Every candidate has the same keyid, hence the same key; the usage entries differ only in
    // their windows. Crypto first, then the window, so a bad signature is always `Invalid`.
    let key: &NpmKey = candidates[0];
    if !key.verifies(message, &der) {
        return Err(invalid("ECDSA P-256/SHA-256 verification failed".into()));
    }
    match publish.time {
        Some(t) => match candidates.iter().find(|k| k.valid_at(t)) {
            Some(_) => Ok(verified(keyid, keys, Some(t), publish.source)),
            None => Err(RegistrySignatureFailure::KeyExpired {
                keyid,
                valid_from: key.valid_from,
                valid_until: key.valid_until,
                time: t,
            }),
        },
        None if candidates.iter().any(|k| k.open_ended()) => {
            Ok(verified(keyid, keys, None, TimeSource::None))
        }
        None => Err(RegistrySignatureFailure::NoPublishTime { keyid }),
    }
}

fn verified(
    keyid: KeyId,
    keys: &NpmKeys,
    time: Option<Timestamp>,
    time_source: TimeSource,
) -> VerifiedRegistrySignature {
    VerifiedRegistrySignature {
        keyid,
        key_source: keys.source.clone(),
        time,
        time_source,
    }
}

fn window(from: Option<Timestamp>, until: Option<Timestamp>) -> String {
    let f = from.map_or_else(|| "-".to_string(), |t| t.to_string());
    let u = until.map_or_else(|| "open".to_string(), |t| t.to_string());
    escape_text(&format!("{f} .. {u}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JL3B: &str = "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA";
    // kms-demo@1.0.0 from npm/cli test/lib/commands/audit.js (corpus derived/registry-signatures.json).
    const NAME: &str = "kms-demo";
    const VERSION: &str = "1.0.0";
    const INTEGRITY: &str = "sha512-QqZ7VJ/8xPkS9s2IWB7Shj3qTJdcRyeXKbPQnsZjsPEwvutGv0EGeVchPcauoiDFJlGbZMFq5GDCurAGNSghJQ==";
    const SIG: &str = "MEUCIDrLNspFeU5NZ6d55ycVBZIMXnPJi/XnI1Y2dlJvK8P1AiEAnXjn1IOMUd+U7YfPH+FNjwfLq+jCwfH8uaxocq+mpPk=";

    fn at(s: &str) -> PublishTime {
        PublishTime::new(s.parse().unwrap(), TimeSource::RegistryUnsigned)
    }

    fn sigs(keyid: &str, sig: &str) -> Vec<RegistrySignature> {
        vec![RegistrySignature {
            keyid: keyid.into(),
            sig: sig.into(),
        }]
    }

    fn check(
        name: &str,
        sigs: &[RegistrySignature],
        t: &PublishTime,
    ) -> Result<VerifiedRegistrySignature, RegistrySignatureFailure> {
        let keys = NpmKeys::embedded().unwrap();
        verify_registry_signature(name, VERSION, INTEGRITY, sigs, &keys, t)
    }

    #[test]
    fn verifies_real_signature() {
        let v = check(NAME, &sigs(JL3B, SIG), &at("2020-01-01T00:00:00Z")).unwrap();
        assert_eq!(v.keyid().as_str(), JL3B);
        assert_eq!(v.key_source(), &KeySource::Pinned);
        assert_eq!(v.time_source(), TimeSource::RegistryUnsigned);
    }

    #[test]
    fn each_failure_variant() {
        let t = at("2020-01-01T00:00:00Z");
        assert_eq!(check(NAME, &[], &t), Err(RegistrySignatureFailure::Missing));
        assert!(matches!(
            check("kms-demo2", &sigs(JL3B, SIG), &t),
            Err(RegistrySignatureFailure::Invalid { .. })
        ));
        assert!(matches!(
            check(NAME, &sigs(JL3B, "bogus"), &t),
            Err(RegistrySignatureFailure::Invalid { .. })
        ));
        assert!(matches!(
            check(NAME, &sigs("SHA256:other", SIG), &t),
            Err(RegistrySignatureFailure::KeyUnknown { .. })
        ));
        assert!(matches!(
            check(NAME, &sigs(JL3B, SIG), &at("2025-06-01T00:00:00Z")),
            Err(RegistrySignatureFailure::KeyExpired { .. })
        ));
        assert!(matches!(
            check(NAME, &sigs(JL3B, SIG), &PublishTime::NONE),
            Err(RegistrySignatureFailure::NoPublishTime { .. })
        ));
    }

    #[test]
    fn most_specific_failure_wins_and_one_good_signature_suffices() {
        let t = at("2020-01-01T00:00:00Z");
        let mut list = sigs("SHA256:other", SIG);
        list.extend(sigs(JL3B, "bogus"));
        list.extend(sigs("SHA256:third", SIG));
        assert!(matches!(
            check(NAME, &list, &t),
            Err(RegistrySignatureFailure::Invalid { .. })
        ));
        list.extend(sigs(JL3B, SIG));
        assert!(check(NAME, &list, &t).is_ok());
        // Between failures of the same rank the first one is reported.
        let mut two = sigs("SHA256:first", SIG);
        two.extend(sigs("SHA256:second", SIG));
        assert_eq!(
            check(NAME, &two, &t),
            Err(RegistrySignatureFailure::KeyUnknown {
                keyid: KeyId::new(String::from("SHA256:first"))
            })
        );
    }

    #[test]
    fn findings_carry_codes() {
        let k = KeyId::new(JL3B);
        let cases = [
            (
                RegistrySignatureFailure::Missing,
                "registry-signature-missing",
            ),
            (
                RegistrySignatureFailure::Invalid {
                    keyid: k.clone(),
                    reason: "x".into(),
                },
                "registry-signature-invalid",
            ),
            (
                RegistrySignatureFailure::KeyUnknown { keyid: k.clone() },
                "registry-key-unknown",
            ),
            (
                RegistrySignatureFailure::KeyExpired {
                    keyid: k.clone(),
                    valid_from: None,
                    valid_until: Some("2025-01-29T00:00:00Z".parse().unwrap()),
                    time: "2025-06-01T00:00:00Z".parse().unwrap(),
                },
                "registry-key-expired",
            ),
            (
                RegistrySignatureFailure::NoPublishTime { keyid: k.clone() },
                "unverifiable",
            ),
        ];
        for (f, code) in cases {
            let finding = f.finding();
            assert_eq!(finding.code, code);
            assert!(crate::findings::code_info(code).is_some());
            assert_eq!(finding.level, crate::findings::Level::Deny);
        }
        // An expired key's finding states the key's validity window and the publish time.
        let expired = RegistrySignatureFailure::KeyExpired {
            keyid: k.clone(),
            valid_from: None,
            valid_until: Some("2025-01-29T00:00:00Z".parse().unwrap()),
            time: "2025-06-01T00:00:00Z".parse().unwrap(),
        }
        .finding();
        assert!(
            expired.message.contains("- .. 2025-01-29T00:00:00Z")
                && expired.message.contains("2025-06-01T00:00:00Z"),
            "{}",
            expired.message
        );
        let unknown = RegistrySignatureFailure::KeyUnknown { keyid: k.clone() }.finding();
        assert!(unknown
            .message
            .contains("npm-provenance trust-roots update"));
        let nt = RegistrySignatureFailure::NoPublishTime { keyid: k }.finding();
        assert!(nt.message.contains("no-publish-time"));
    }

    #[test]
    fn registry_keyid_is_escaped_in_messages() {
        let f = RegistrySignatureFailure::KeyUnknown {
            keyid: KeyId::new("x\n::error::pwned"),
        };
        assert!(!f.finding().message.contains('\n'));
    }
}
