//! One npm package version, end to end: registry signature, publish attestation, provenance,
//! subject binding and presence, into a [`VersionEvidence`]. Pure: no I/O, no clock.
//!
//! Order (each step beside its rule, issue 4):
//! 1. integrity: the expected integrity, the tarball and `dist.integrity` (+ `dist.shasum`)
//!    agree per algorithm present on both sides;
//! 2. attestations: entries are assigned to a slot by `predicateType` (the wrapper's, else the
//!    carried statement's), never by index; each is fully verified with `verify_bundle`
//!    (publish: key-based, npm `npm:attestations` key of its hint, valid at every signed time;
//!    provenance: Fulcio certificate, empty DSSE keyid); the signed statement must match the
//!    wrapper, carry exactly one subject `pkg:npm/NAME@VERSION` whose sha512 is the integrity;
//!    provenance is cross-checked against its certificate ([`super::provenance`]);
//! 3. registry signature, at the publish time: the publish attestation's signed time, else the
//!    packument's unsigned `time`, else none;
//! 4. presence: announced but missing, provenance without publish, unannounced.

mod attestation;
mod binding;
mod purl;

pub use purl::{purl_of, subject_names};

use super::bundle::VerifiedBundle;
use super::evidence::{Check, NpmUserIdentity, Published, Status, VersionEvidence};
use super::registry_signature::{
    verify_registry_signature, PublishTime, RegistrySignatureFailure, TimeSource as PublishSource,
};
use super::sigstore::SigstoreTrust;
use crate::findings::Finding;
use crate::inventory::integrity::Integrity;
use crate::registry::packument::PackumentVersion;
use crate::trust::npm_keys::{KeySource, NpmKeys};
use attestation::verify_attestations;
use binding::Binding;
use jiff::Timestamp;

/// The in-toto payload type every npm attestation carries.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The in-toto statement types accepted.
pub const STATEMENT_TYPES: &[&str] = &[
    "https://in-toto.io/Statement/v0.1",
    "https://in-toto.io/Statement/v1",
];

/// The attestations response for the version, as the caller obtained it.
#[derive(Debug, Clone, Copy)]
pub enum AttestationsInput<'a> {
    /// Not supplied (offline without `--attestations`): the attestations are `not-checked`.
    NotChecked,
    /// The registry answered 404: the version has no attestations.
    NotFound,
    /// The response body.
    Body(&'a [u8]),
    /// The fetch failed (network, 5xx, cap): `unverifiable`.
    FetchFailed(&'a str),
}

/// Everything known about one version, before verification.
#[derive(Debug, Clone)]
pub struct VersionInput<'a> {
    pub name: &'a str,
    pub version: &'a str,
    /// The integrity the installed bytes must have (lockfile, `--integrity`).
    pub expected_integrity: Option<Integrity>,
    /// The sha512 of the tarball, when the bytes themselves are at hand.
    pub tarball_sha512: Option<[u8; 64]>,
    /// The packument's entry for the version; `None` = not checked.
    pub packument_version: Option<&'a PackumentVersion>,
    /// The packument's `time[version]` (unsigned).
    pub packument_time: Option<Timestamp>,
    pub attestations: AttestationsInput<'a>,
}

/// Trust material. The npm keys carry their own [`KeySource`].
#[derive(Debug, Clone, Copy)]
pub struct VerifyContext<'a> {
    pub sigstore: &'a SigstoreTrust,
    pub npm_keys: &'a NpmKeys,
}

/// Verifies one version end to end. Never fails: every problem is a finding and a status.
pub fn verify_version(input: &VersionInput<'_>, ctx: &VerifyContext<'_>) -> VersionEvidence {
    let mut findings = Vec::new();
    if ctx.npm_keys.source == KeySource::RegistryUnpinned {
        findings.push(Finding::new(
            "registry-keys-unpinned",
            "the npm keys were taken from the registry itself (not pinned); pin them with --npm-keys",
        ));
    }
    // 1. integrity sources.
    let mut bind = Binding::new(input, &mut findings);
    // 2. attestations.
    let att = verify_attestations(input, ctx, &mut bind, &mut findings);
    // 3. registry signature at the publish time.
    let published = publish_time(att.publish.as_ref(), input.packument_time);
    let registry_signature = check_registry_signature(input, ctx, &published, &mut findings);
    // Identity.
    let mut identity = att.identity;
    identity.npm_user = input.packument_version.and_then(npm_user_identity);
    let integrity = bind.finish(&mut findings);
    findings.sort_by(|a, b| (a.code, &a.message).cmp(&(b.code, &b.message)));
    findings.dedup();
    VersionEvidence {
        registry_signature,
        publish_attestation: att.publish_check,
        provenance: att.provenance_check,
        integrity,
        published: Published {
            time: published.time,
            source: published.source,
        },
        identity,
        findings,
    }
}

fn npm_user_identity(v: &PackumentVersion) -> Option<NpmUserIdentity> {
    let u = v.npm_user.as_ref()?;
    let tp = u.trusted_publisher.as_ref();
    Some(NpmUserIdentity {
        name: u.name.clone(),
        email: u.email.clone(),
        trusted_publisher: tp.and_then(|t| t.id.clone()),
        trusted_publisher_config: tp.and_then(|t| t.oidc_config_id.clone()),
        approver: u.approver.as_ref().and_then(|a| match (&a.name, &a.email) {
            (Some(n), Some(e)) => Some(format!("{n} <{e}>")),
            (Some(n), None) => Some(n.clone()),
            (None, Some(e)) => Some(format!("<{e}>")),
            (None, None) => None,
        }),
    })
}

// ---------------------------------------------------------------------------------------------
// 3. Registry signature

/// The publish time: the verified publish attestation's Rekor time, else its TSA time, else the
/// packument's unsigned `time`, else none.
fn publish_time(
    publish: Option<&VerifiedBundle>,
    packument_time: Option<Timestamp>,
) -> PublishTime {
    if let Some(b) = publish {
        if let Some(t) = b.integrated_time() {
            return PublishTime::new(t, PublishSource::Rekor);
        }
        if let Some(t) = b.times().first() {
            return PublishTime::new(t.time, t.source.into());
        }
    }
    match packument_time {
        Some(t) => PublishTime::new(t, PublishSource::RegistryUnsigned),
        None => PublishTime::NONE,
    }
}

impl From<super::bundle::TimeSource> for PublishSource {
    fn from(t: super::bundle::TimeSource) -> Self {
        match t {
            super::bundle::TimeSource::Rekor => PublishSource::Rekor,
            super::bundle::TimeSource::Tsa => PublishSource::Tsa,
        }
    }
}

fn check_registry_signature(
    input: &VersionInput<'_>,
    ctx: &VerifyContext<'_>,
    published: &PublishTime,
    findings: &mut Vec<Finding>,
) -> Check {
    let Some(v) = input.packument_version else {
        findings.push(Finding::new(
            "not-checked",
            "registry signature: no packument supplied, so dist.signatures and _npmUser were not checked",
        ));
        return Check::new(Status::NotChecked, "no-packument");
    };
    let Some(integrity) = v.dist.integrity.as_deref() else {
        if v.dist.signatures.is_empty() {
            findings.push(RegistrySignatureFailure::Missing.finding());
            return Check::new(Status::Missing, "no-signatures");
        }
        findings.push(Finding::new(
            "unverifiable",
            "registry signature: the version has no dist.integrity to check it over",
        ));
        return Check::new(Status::Unverifiable, "no-dist-integrity");
    };
    match verify_registry_signature(
        input.name,
        input.version,
        integrity,
        &v.dist.signatures,
        ctx.npm_keys,
        published,
    ) {
        Ok(ok) => Check {
            status: Status::Verified,
            reason: None,
            keyid: Some(ok.keyid().as_str().to_owned()),
            key_source: Some(ok.key_source().as_str()),
        },
        Err(f) => {
            findings.push(f.finding());
            let (status, reason) = match &f {
                RegistrySignatureFailure::Missing => (Status::Missing, "no-signatures"),
                RegistrySignatureFailure::KeyUnknown { .. } => {
                    (Status::Unverifiable, "key-unknown")
                }
                RegistrySignatureFailure::NoPublishTime { .. } => {
                    (Status::Unverifiable, "no-publish-time")
                }
                RegistrySignatureFailure::KeyExpired { .. } => (Status::Invalid, "key-expired"),
                RegistrySignatureFailure::Invalid { .. } => (Status::Invalid, "signature-invalid"),
                RegistrySignatureFailure::TooMany { .. } => {
                    (Status::Unverifiable, "too-many-signatures")
                }
            };
            // The reason is a stable token; the finding's message carries the detail.
            let mut c = Check::new(status, reason);
            c.key_source = Some(ctx.npm_keys.source.as_str());
            c
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::packument::Dist;
    use crate::verify::registry_signature::RegistrySignature;

    // kms-demo@1.0.0, a real registry signature by jl3b (npm/cli test/lib/commands/audit.js).
    const INTEGRITY: &str = "sha512-QqZ7VJ/8xPkS9s2IWB7Shj3qTJdcRyeXKbPQnsZjsPEwvutGv0EGeVchPcauoiDFJlGbZMFq5GDCurAGNSghJQ==";
    const SIG: &str = "MEUCIDrLNspFeU5NZ6d55ycVBZIMXnPJi/XnI1Y2dlJvK8P1AiEAnXjn1IOMUd+U7YfPH+FNjwfLq+jCwfH8uaxocq+mpPk=";
    const JL3B: &str = "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA";

    fn trust() -> SigstoreTrust {
        SigstoreTrust::from_json(crate::trust::PRODUCTION_TRUSTED_ROOT).unwrap()
    }

    fn version(
        integrity: Option<&str>,
        shasum: Option<&str>,
        sig: Option<&str>,
    ) -> PackumentVersion {
        PackumentVersion {
            dist: Dist {
                integrity: integrity.map(str::to_owned),
                shasum: shasum.map(str::to_owned),
                signatures: sig
                    .map(|s| {
                        vec![RegistrySignature {
                            keyid: JL3B.into(),
                            sig: s.into(),
                        }]
                    })
                    .unwrap_or_default(),
                ..Dist::default()
            },
            ..PackumentVersion::default()
        }
    }

    fn run(
        v: Option<&PackumentVersion>,
        expected: Option<&str>,
        attestations: AttestationsInput<'_>,
        keys: &NpmKeys,
    ) -> VersionEvidence {
        let trust = trust();
        let input = VersionInput {
            name: "kms-demo",
            version: "1.0.0",
            expected_integrity: expected.map(|e| Integrity::parse(e).unwrap()),
            tarball_sha512: None,
            packument_version: v,
            packument_time: Some("2023-06-01T00:00:00Z".parse().unwrap()),
            attestations,
        };
        verify_version(
            &input,
            &VerifyContext {
                sigstore: &trust,
                npm_keys: keys,
            },
        )
    }

    fn codes(e: &VersionEvidence) -> Vec<&'static str> {
        e.findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn registry_signature_outcomes() {
        let keys = NpmKeys::embedded().unwrap();
        let ok = version(Some(INTEGRITY), None, Some(SIG));
        let e = run(
            Some(&ok),
            Some(INTEGRITY),
            AttestationsInput::NotFound,
            &keys,
        );
        assert!(e.registry_signature.is_verified());
        assert_eq!(e.registry_signature.keyid.as_deref(), Some(JL3B));
        assert_eq!(e.integrity.status, Status::Verified);
        assert_eq!(e.published.source, PublishSource::RegistryUnsigned);
        assert_eq!(codes(&e), vec!["provenance-missing"]);

        let unsigned = version(Some(INTEGRITY), None, None);
        let e = run(Some(&unsigned), None, AttestationsInput::NotFound, &keys);
        assert_eq!(e.registry_signature.status, Status::Missing);
        assert!(codes(&e).contains(&"registry-signature-missing"));

        let no_integrity = version(None, None, Some(SIG));
        let e = run(
            Some(&no_integrity),
            None,
            AttestationsInput::NotFound,
            &keys,
        );
        assert_eq!(e.registry_signature.status, Status::Unverifiable);
        assert!(codes(&e).contains(&"unverifiable"));

        let bogus = version(Some(INTEGRITY), None, Some("bogus"));
        let e = run(Some(&bogus), None, AttestationsInput::NotFound, &keys);
        assert_eq!(e.registry_signature.status, Status::Invalid);
        assert!(codes(&e).contains(&"registry-signature-invalid"));

        let e = run(None, None, AttestationsInput::NotChecked, &keys);
        assert_eq!(e.registry_signature.status, Status::NotChecked);
        assert_eq!(e.provenance.status, Status::NotChecked);
        assert_eq!(codes(&e), vec!["not-checked", "not-checked"]);
    }

    #[test]
    fn integrity_sources_are_compared_per_algorithm() {
        let keys = NpmKeys::embedded().unwrap();
        let shasum = "0123456789abcdef0123456789abcdef01234567";
        let v = version(Some(INTEGRITY), Some(shasum), Some(SIG));
        // sha1-only lockfile integrity vs dist.shasum.
        let sha1 = "sha1-ASNFZ4mrze8BI0VniavN7wEjRWc=";
        let e = run(Some(&v), Some(sha1), AttestationsInput::NotFound, &keys);
        assert_eq!(e.integrity.status, Status::Verified, "{:?}", e.findings);
        let other = "sha1-ASNFZ4mrze8BI0VniavN7wEjRWg=";
        let e = run(Some(&v), Some(other), AttestationsInput::NotFound, &keys);
        assert_eq!(e.integrity.status, Status::Invalid);
        assert!(codes(&e).contains(&"integrity-mismatch"));
        // The registry signature is over dist.integrity and still verifies.
        assert!(e.registry_signature.is_verified());
        // No algorithm in common: nothing compared, nothing claimed.
        let sha256 = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        let e = run(Some(&v), Some(sha256), AttestationsInput::NotFound, &keys);
        assert_eq!(e.integrity.status, Status::NotChecked);
        // An unparseable dist.integrity is unverifiable, never verified.
        let broken = version(Some("sha512-!!"), None, Some(SIG));
        let e = run(
            Some(&broken),
            Some(INTEGRITY),
            AttestationsInput::NotFound,
            &keys,
        );
        assert_eq!(e.integrity.status, Status::Unverifiable);
    }

    #[test]
    fn attestation_fetch_failures_and_unpinned_keys() {
        let keys = NpmKeys::embedded().unwrap();
        let v = version(Some(INTEGRITY), None, Some(SIG));
        let e = run(
            Some(&v),
            None,
            AttestationsInput::FetchFailed("HTTP 503\n"),
            &keys,
        );
        assert_eq!(e.provenance.status, Status::Unverifiable);
        assert_eq!(e.publish_attestation.status, Status::Unverifiable);
        assert!(codes(&e).contains(&"unverifiable"));
        let mut unpinned = keys.clone();
        unpinned.source = KeySource::RegistryUnpinned;
        let e = run(Some(&v), None, AttestationsInput::NotFound, &unpinned);
        assert!(codes(&e).contains(&"registry-keys-unpinned"));
        assert_eq!(e.registry_signature.key_source, Some("registry-unpinned"));
    }

    #[test]
    fn every_code_the_npm_layer_emits_is_in_the_table() {
        let sources = [
            include_str!("npm.rs"),
            include_str!("npm/attestation.rs"),
            include_str!("npm/binding.rs"),
            include_str!("../app/inspect.rs"),
        ];
        let re = regex::Regex::new(
            r#"(?:Finding::new\(\s*|fail\(\s*findings,\s*what,\s*|=> )"([a-z]+(?:-[a-z]+)+)""#,
        )
        .unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for src in sources {
            for c in re.captures_iter(src) {
                seen.insert(c[1].to_owned());
            }
        }
        assert!(seen.len() >= 12, "{seen:?}");
        for code in &seen {
            assert!(
                crate::findings::code_info(code).is_some(),
                "{code} is not in findings::CODES"
            );
        }
    }
}
