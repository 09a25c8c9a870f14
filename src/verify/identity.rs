//! Decoding the identity of a Fulcio leaf certificate (DESIGN §4.8): the SAN (URI, e-mail or
//! otherName), the OIDC issuer (`.8` DER UTF8String, legacy `.1` raw UTF-8; if both exist they
//! must agree) and every Fulcio extension 1.3.6.1.4.1.57264.1.x by name.
//!
//! Strict on purpose: a Fulcio extension that appears twice or cannot be decoded in its
//! documented encoding fails the identity step instead of being dropped.

use super::bundle::{BundleError, FulcioIdentity, SanKind, Step};
use x509_cert::der::asn1::Utf8StringRef;
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::Decode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::Certificate;

/// `id-ce-subjectAltName`.
const SAN_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
/// The arc of every Fulcio extension.
const FULCIO_ARC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1");
/// Fulcio's otherName type for usernames (`.7`).
const FULCIO_OTHERNAME_OID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.7");
/// The highest Fulcio extension DESIGN §4.8 names; later ones (.23, .24 …) are ignored.
const LAST_NAMED_EXTENSION: u32 = 22;

/// Decodes the identity of a DER leaf certificate. The certificate itself must already have
/// been verified (chain, SCT) by the caller.
pub(crate) fn decode_fulcio_identity(leaf_der: &[u8]) -> Result<FulcioIdentity, BundleError> {
    let cert = Certificate::from_der(leaf_der).map_err(|e| {
        BundleError::new(
            Step::Identity,
            "a DER X.509 leaf certificate",
            format!("undecodable certificate: {e}"),
        )
    })?;
    let extensions = cert.tbs_certificate.extensions.as_deref().unwrap_or(&[]);

    let mut san = None;
    let mut values: [Option<Vec<u8>>; LAST_NAMED_EXTENSION as usize + 1] = Default::default();
    for ext in extensions {
        if ext.extn_id == SAN_OID {
            if san.is_some() {
                return Err(dup("subjectAltName"));
            }
            san = Some(decode_san(ext.extn_value.as_bytes())?);
            continue;
        }
        let Some(n) = fulcio_number(&ext.extn_id) else {
            continue;
        };
        if n == 0 || n > LAST_NAMED_EXTENSION || n == 7 {
            continue;
        }
        let slot = &mut values[n as usize];
        if slot.is_some() {
            return Err(dup(&format!("Fulcio extension 1.3.6.1.4.1.57264.1.{n}")));
        }
        *slot = Some(ext.extn_value.as_bytes().to_vec());
    }
    let (san, san_kind) = san.ok_or_else(|| {
        BundleError::new(
            Step::Identity,
            "a subjectAltName extension",
            "a certificate without one",
        )
    })?;

    let raw = |n: u32| -> Result<Option<String>, BundleError> {
        values[n as usize]
            .as_deref()
            .map(|b| {
                std::str::from_utf8(b).map(str::to_owned).map_err(|_| {
                    BundleError::new(
                        Step::Identity,
                        format!("raw UTF-8 in legacy Fulcio extension .{n}"),
                        "bytes that are not UTF-8",
                    )
                })
            })
            .transpose()
    };
    let der = |n: u32| -> Result<Option<String>, BundleError> {
        values[n as usize]
            .as_deref()
            .map(|b| {
                Utf8StringRef::from_der(b)
                    .map(|s| s.as_str().to_owned())
                    .map_err(|e| {
                        BundleError::new(
                            if n == 8 { Step::Issuer } else { Step::Identity },
                            format!("a DER UTF8String in Fulcio extension .{n}"),
                            format!("undecodable value: {e}"),
                        )
                    })
            })
            .transpose()
    };

    let legacy_issuer = raw(1)?;
    let issuer_v2 = der(8)?;
    let issuer = match (legacy_issuer, issuer_v2) {
        (Some(a), Some(b)) if a != b => {
            return Err(BundleError::new(
                Step::Issuer,
                format!("legacy issuer (.1) equal to issuer (.8) {b:?}"),
                format!("{a:?}"),
            ))
        }
        (_, Some(b)) => b,
        (Some(a), None) => a,
        (None, None) => {
            return Err(BundleError::new(
                Step::Issuer,
                "an OIDC issuer extension (1.3.6.1.4.1.57264.1.8 or .1)",
                "none",
            ))
        }
    };

    Ok(FulcioIdentity {
        san,
        san_kind,
        issuer,
        build_signer_uri: der(9)?,
        build_signer_digest: der(10)?,
        runner_environment: der(11)?,
        source_repository_uri: der(12)?,
        source_repository_digest: der(13)?,
        source_repository_ref: der(14)?,
        source_repository_identifier: der(15)?,
        source_repository_owner_uri: der(16)?,
        source_repository_owner_identifier: der(17)?,
        build_config_uri: der(18)?,
        build_config_digest: der(19)?,
        build_trigger: der(20)?,
        run_invocation_uri: der(21)?,
        source_repository_visibility: der(22)?,
        legacy_trigger: raw(2)?,
        legacy_sha: raw(3)?,
        legacy_workflow_name: raw(4)?,
        legacy_repository: raw(5)?,
        legacy_ref: raw(6)?,
    })
}

fn dup(what: &str) -> BundleError {
    BundleError::new(
        Step::Identity,
        format!("at most one {what}"),
        "the extension twice",
    )
}

/// The number `n` of a direct child `1.3.6.1.4.1.57264.1.n` of the Fulcio arc.
fn fulcio_number(oid: &ObjectIdentifier) -> Option<u32> {
    if oid.parent()? != FULCIO_ARC {
        return None;
    }
    oid.arc(FULCIO_ARC.len())
}

/// The single identity of a Fulcio SAN: exactly one URI, e-mail or Fulcio otherName.
fn decode_san(der: &[u8]) -> Result<(String, SanKind), BundleError> {
    let san = SubjectAltName::from_der(der).map_err(|e| {
        BundleError::new(
            Step::Identity,
            "a DER subjectAltName",
            format!("undecodable value: {e}"),
        )
    })?;
    if san.0.len() != 1 {
        return Err(BundleError::new(
            Step::Identity,
            "exactly one subjectAltName entry",
            format!("{} entries", san.0.len()),
        ));
    }
    match &san.0[0] {
        GeneralName::UniformResourceIdentifier(uri) => Ok((uri.to_string(), SanKind::Uri)),
        GeneralName::Rfc822Name(email) => Ok((email.to_string(), SanKind::Email)),
        GeneralName::OtherName(other) if other.type_id == FULCIO_OTHERNAME_OID => {
            let value = Utf8StringRef::try_from(&other.value).map_err(|e| {
                BundleError::new(
                    Step::Identity,
                    "a UTF8String Fulcio otherName",
                    format!("undecodable value: {e}"),
                )
            })?;
            Ok((value.as_str().to_owned(), SanKind::OtherName))
        }
        other => Err(BundleError::new(
            Step::Identity,
            "a URI, e-mail or Fulcio otherName SAN",
            format!("{other:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_identity_error() {
        let e = decode_fulcio_identity(b"\x30\x03\x02\x01").unwrap_err();
        assert_eq!(e.step, Step::Identity);
    }

    #[test]
    fn fulcio_numbers() {
        let n = |s: &str| fulcio_number(&ObjectIdentifier::new_unwrap(s));
        assert_eq!(n("1.3.6.1.4.1.57264.1.8"), Some(8));
        assert_eq!(n("1.3.6.1.4.1.57264.1.22"), Some(22));
        assert_eq!(n("1.3.6.1.4.1.57264.2.1"), None);
        assert_eq!(n("1.3.6.1.4.1.57264.1.8.1"), None);
    }
}
