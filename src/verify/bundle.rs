//! What a verified Sigstore bundle yields, and how a verification fails.
//!
//! A [`VerifiedBundle`] can only be built inside `crate::verify` (by
//! [`super::sigstore::verify_bundle`]), so code holding one knows every check of DESIGN §4 ran.

use serde::Serialize;
use std::collections::BTreeMap;

/// A Sigstore bundle whose signature, certificate (or key), transparency-log entries and times
/// were all verified, in DESIGN §4 order.
#[derive(Debug, Clone)]
pub struct VerifiedBundle {
    pub(in crate::verify) media_type: String,
    pub(in crate::verify) times: Vec<VerifiedTime>,
    pub(in crate::verify) statement: Option<Statement>,
    pub(in crate::verify) signer: Signer,
    pub(in crate::verify) dsse_keyid: Option<String>,
}

impl VerifiedBundle {
    /// The bundle's media type, as carried (one of the three known ones).
    pub fn media_type(&self) -> &str {
        &self.media_type
    }

    /// Every verified time (Rekor SET-backed integrated times and RFC 3161 timestamps), sorted.
    pub fn times(&self) -> &[VerifiedTime] {
        &self.times
    }

    /// The earliest verified Rekor integrated time, if any.
    pub fn integrated_time(&self) -> Option<jiff::Timestamp> {
        self.times
            .iter()
            .filter(|t| t.source == TimeSource::Rekor)
            .map(|t| t.time)
            .min()
    }

    /// The in-toto statement of a DSSE bundle (the verified payload); `None` for a plain
    /// message-signature bundle.
    pub fn statement(&self) -> Option<&Statement> {
        self.statement.as_ref()
    }

    /// Who signed: the Fulcio identity of the leaf certificate, or the caller's public key.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// `signatures[0].keyid` of the DSSE envelope as carried. **Not signed**: only a lookup aid.
    pub fn dsse_keyid(&self) -> Option<&str> {
        self.dsse_keyid.as_deref()
    }
}

/// One verified time and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct VerifiedTime {
    /// The time (RFC 3339 UTC in JSON).
    pub time: jiff::Timestamp,
    /// `rekor` (SET-backed integratedTime) or `tsa` (RFC 3161 timestamp).
    pub source: TimeSource,
    /// The Rekor entry's log index (`None` for TSA times).
    pub log_index: Option<i64>,
    /// The Rekor log id, base64 as in the bundle (`None` for TSA times).
    pub log_id: Option<String>,
}

/// The source of a verified time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeSource {
    /// A Rekor v1 integrated time, authenticated by its signed entry timestamp.
    Rekor,
    /// An RFC 3161 timestamp from a timestamp authority of the trusted root.
    Tsa,
}

/// The verified signer of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
#[allow(clippy::large_enum_variant)] // the API contract names `Certificate(FulcioIdentity)`; one per bundle
pub enum Signer {
    /// A Fulcio certificate, chained to the trusted root, with its decoded identity.
    Certificate(FulcioIdentity),
    /// A key-signed bundle verified with the caller's key; `hint` is the bundle's
    /// `verificationMaterial.publicKey.hint` as carried (unsigned).
    PublicKey { hint: Option<String> },
}

/// The kind of the certificate's Subject Alternative Name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SanKind {
    Uri,
    Email,
    /// Fulcio's otherName (OID 1.3.6.1.4.1.57264.1.7, a UTF8String username).
    OtherName,
}

/// The full identity of a Fulcio leaf certificate: its SAN, OIDC issuer and every Fulcio
/// extension 1.3.6.1.4.1.57264.1.x of DESIGN §4.8, decoded to strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FulcioIdentity {
    pub san: String,
    pub san_kind: SanKind,
    /// OIDC issuer: `.8` (DER) or legacy `.1` (raw); when both exist they are equal.
    pub issuer: String,
    /// `.9`
    pub build_signer_uri: Option<String>,
    /// `.10`
    pub build_signer_digest: Option<String>,
    /// `.11`
    pub runner_environment: Option<String>,
    /// `.12`
    pub source_repository_uri: Option<String>,
    /// `.13`
    pub source_repository_digest: Option<String>,
    /// `.14`
    pub source_repository_ref: Option<String>,
    /// `.15`
    pub source_repository_identifier: Option<String>,
    /// `.16`
    pub source_repository_owner_uri: Option<String>,
    /// `.17`
    pub source_repository_owner_identifier: Option<String>,
    /// `.18`: the caller's workflow (compare workflows here, not in the SAN).
    pub build_config_uri: Option<String>,
    /// `.19`
    pub build_config_digest: Option<String>,
    /// `.20`
    pub build_trigger: Option<String>,
    /// `.21`
    pub run_invocation_uri: Option<String>,
    /// `.22`
    pub source_repository_visibility: Option<String>,
    /// Legacy `.2` (raw UTF-8): the GitHub event.
    pub legacy_trigger: Option<String>,
    /// Legacy `.3` (raw UTF-8): the commit.
    pub legacy_sha: Option<String>,
    /// Legacy `.4` (raw UTF-8): the workflow *name*.
    pub legacy_workflow_name: Option<String>,
    /// Legacy `.5` (raw UTF-8): `owner/repo`, normalised by [`FulcioIdentity::repository`].
    pub legacy_repository: Option<String>,
    /// Legacy `.6` (raw UTF-8): the ref.
    pub legacy_ref: Option<String>,
}

impl FulcioIdentity {
    /// The source repository as `https://github.com/owner/repo`: `.12` when present, else the
    /// legacy `.5` `owner/repo` (only when it has exactly that shape).
    pub fn repository(&self) -> Option<String> {
        if let Some(uri) = &self.source_repository_uri {
            return Some(uri.clone());
        }
        let legacy = self.legacy_repository.as_deref()?;
        let (owner, repo) = legacy.split_once('/')?;
        let ok = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        (ok(owner) && ok(repo)).then(|| format!("https://github.com/{owner}/{repo}"))
    }
}

/// The in-toto statement carried (and signed) in a DSSE envelope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    /// `_type`
    pub type_: String,
    pub predicate_type: String,
    pub subjects: Vec<Subject>,
    /// The predicate as carried (`null` when absent).
    pub predicate: serde_json::Value,
    /// The DSSE `payloadType` (always `application/vnd.in-toto+json` once verified).
    pub payload_type: String,
}

/// One in-toto subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    pub name: String,
    /// Algorithm → lowercase hex digest, as carried.
    pub digest: BTreeMap<String, String>,
}

/// A failed verification: which step, what was expected, what was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("step={}: expected {expected} got {actual}", step.as_str())]
pub struct BundleError {
    pub step: Step,
    pub expected: String,
    pub actual: String,
}

/// How a cap's `expected` text ends, so callers can report a hit cap with its own code.
pub(crate) const CAP_MARKER: &str = "(cap)";

impl BundleError {
    /// Whether this error is an input cap being hit (size, depth, counts; always [`Step::Parse`]).
    pub fn is_cap(&self) -> bool {
        self.step == Step::Parse && self.expected.ends_with(CAP_MARKER)
    }

    /// Shorthand constructor.
    pub fn new(step: Step, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        BundleError {
            step,
            expected: expected.into(),
            actual: actual.into(),
        }
    }
}

/// The verification step that failed (DESIGN §4, plus parsing and trust-root loading).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// The bundle (or trusted root) is not well-formed JSON of the expected shape, or exceeds a cap.
    Parse,
    /// §4.1 unknown media type, or a version rule broken (v0.1 SET, ≥v0.2 proof, v0.3 one cert).
    MediaType,
    /// The trusted root is malformed or unusable.
    TrustRoot,
    /// §4.2 a tlog entry names an unknown log, is duplicated, or is otherwise unusable.
    Tlog,
    /// §4.2 the signed entry timestamp (inclusion promise) does not verify.
    SignedEntryTimestamp,
    /// §4.2 the Merkle inclusion proof does not verify.
    InclusionProof,
    /// §4.2 the checkpoint is missing, malformed, unsigned or inconsistent.
    Checkpoint,
    /// §4.3 no verified time, an invalid timestamp, or a time outside a validity window.
    Time,
    /// §4.4 the leaf does not chain to the trusted root at every verified time.
    CertificateChain,
    /// §4.5 the embedded SCT does not verify.
    Sct,
    /// §4.6 the signature does not verify with the leaf key (or the given key).
    Signature,
    /// §4.7 the artifact does not match the signed digest/subjects.
    Artifact,
    /// §4.8 the SAN (or a Fulcio extension) does not match or cannot be decoded.
    Identity,
    /// §4.8 the OIDC issuer does not match, is missing, or `.1` and `.8` disagree.
    Issuer,
    /// §4.2 the tlog entry body does not record this bundle's payload, signature and key.
    TlogBody,
}

impl Step {
    /// The kebab-case name used in messages and JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            Step::Parse => "parse",
            Step::MediaType => "media-type",
            Step::TrustRoot => "trust-root",
            Step::Tlog => "tlog",
            Step::SignedEntryTimestamp => "signed-entry-timestamp",
            Step::InclusionProof => "inclusion-proof",
            Step::Checkpoint => "checkpoint",
            Step::Time => "time",
            Step::CertificateChain => "certificate-chain",
            Step::Sct => "sct",
            Step::Signature => "signature",
            Step::Artifact => "artifact",
            Step::Identity => "identity",
            Step::Issuer => "issuer",
            Step::TlogBody => "tlog-body",
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A GitHub Actions identity with only the SAN and issuer set (shared by the verify
    /// layer's unit tests).
    pub(in crate::verify) fn identity() -> FulcioIdentity {
        FulcioIdentity {
            san: "https://github.com/o/r/.github/workflows/w.yml@refs/heads/main".into(),
            san_kind: SanKind::Uri,
            issuer: "https://token.actions.githubusercontent.com".into(),
            build_signer_uri: None,
            build_signer_digest: None,
            runner_environment: None,
            source_repository_uri: None,
            source_repository_digest: None,
            source_repository_ref: None,
            source_repository_identifier: None,
            source_repository_owner_uri: None,
            source_repository_owner_identifier: None,
            build_config_uri: None,
            build_config_digest: None,
            build_trigger: None,
            run_invocation_uri: None,
            source_repository_visibility: None,
            legacy_trigger: None,
            legacy_sha: None,
            legacy_workflow_name: None,
            legacy_repository: None,
            legacy_ref: None,
        }
    }

    #[test]
    fn repository_prefers_uri_then_normalises_legacy() {
        let mut id = identity();
        assert_eq!(id.repository(), None);
        id.legacy_repository = Some("sigstore/sigstore-js".into());
        assert_eq!(
            id.repository().as_deref(),
            Some("https://github.com/sigstore/sigstore-js")
        );
        id.source_repository_uri = Some("https://github.com/a/b".into());
        assert_eq!(id.repository().as_deref(), Some("https://github.com/a/b"));
    }

    #[test]
    fn repository_rejects_odd_legacy_shapes() {
        for bad in ["noslash", "a/b/c", "/b", "a/", "../x", "a/b?x", "a b/c"] {
            let mut id = identity();
            id.legacy_repository = Some(bad.into());
            assert_eq!(id.repository(), None, "{bad}");
        }
    }

    #[test]
    fn error_display_names_step() {
        let e = BundleError::new(Step::InclusionProof, "root abc", "root def");
        assert_eq!(
            e.to_string(),
            "step=inclusion-proof: expected root abc got root def"
        );
        assert_eq!(
            serde_json::to_value(Step::SignedEntryTimestamp).unwrap(),
            "signed-entry-timestamp"
        );
    }

    #[test]
    fn integrated_time_is_earliest_rekor_time() {
        let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let b = VerifiedBundle {
            media_type: "m".into(),
            times: vec![
                VerifiedTime {
                    time: t("2024-01-01T00:00:00Z"),
                    source: TimeSource::Tsa,
                    log_index: None,
                    log_id: None,
                },
                VerifiedTime {
                    time: t("2024-01-02T00:00:00Z"),
                    source: TimeSource::Rekor,
                    log_index: Some(1),
                    log_id: Some("x".into()),
                },
            ],
            statement: None,
            signer: Signer::PublicKey { hint: None },
            dsse_keyid: None,
        };
        assert_eq!(b.integrated_time(), Some(t("2024-01-02T00:00:00Z")));
    }
}
