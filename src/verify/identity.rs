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
    use base64::Engine as _;
    use x509_cert::der::asn1::{Ia5String, OctetString};
    use x509_cert::der::{Any, Encode};
    use x509_cert::ext::pkix::name::OtherName;
    use x509_cert::ext::Extension;

    const GHA: &str = "https://token.actions.githubusercontent.com";

    /// The leaf of sigstore@2.0.0's provenance bundle (has both `.1` and `.8`, `.9`–`.22`).
    fn leaf() -> Option<Certificate> {
        let path = npm_provenance_testkit::corpus::corpus_file(
            "identity::leaf",
            "sigstore-go/testing-data/bundles/sigstore.js@2.0.0-provenance.sigstore.json",
        )?;
        let bytes = std::fs::read(&path).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let der = base64::engine::general_purpose::STANDARD
            .decode(
                v["verificationMaterial"]["x509CertificateChain"]["certificates"][0]["rawBytes"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap();
        Some(Certificate::from_der(&der).unwrap())
    }

    fn oid(n: u32) -> ObjectIdentifier {
        ObjectIdentifier::new_unwrap(&format!("1.3.6.1.4.1.57264.1.{n}"))
    }

    fn ext(id: ObjectIdentifier, value: Vec<u8>) -> Extension {
        Extension {
            extn_id: id,
            critical: false,
            extn_value: OctetString::new(value).unwrap(),
        }
    }

    fn der_utf8(s: &str) -> Vec<u8> {
        Utf8StringRef::new(s).unwrap().to_der().unwrap()
    }

    /// Decodes `cert` after `edit` changed its extensions.
    fn decode_edited(
        mut cert: Certificate,
        edit: impl FnOnce(&mut Vec<Extension>),
    ) -> Result<FulcioIdentity, BundleError> {
        edit(cert.tbs_certificate.extensions.as_mut().unwrap());
        decode_fulcio_identity(&cert.to_der().unwrap())
    }

    fn set(exts: &mut Vec<Extension>, id: ObjectIdentifier, value: Vec<u8>) {
        exts.retain(|e| e.extn_id != id);
        exts.push(ext(id, value));
    }

    fn remove(exts: &mut Vec<Extension>, id: ObjectIdentifier) {
        exts.retain(|e| e.extn_id != id);
    }

    #[test]
    fn real_leaf_decodes_every_extension() {
        let Some(cert) = leaf() else { return };
        let id = decode_fulcio_identity(&cert.to_der().unwrap()).unwrap();
        assert_eq!(
            id.san,
            "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
        );
        assert_eq!(id.san_kind, SanKind::Uri);
        assert_eq!(id.issuer, GHA);
        assert_eq!(
            id.source_repository_digest.as_deref(),
            Some("f0b49a04e5a62250e0f60fb128004a73110fe311")
        );
        assert_eq!(id.legacy_sha, id.source_repository_digest);
        assert_eq!(
            id.legacy_repository.as_deref(),
            Some("sigstore/sigstore-js")
        );
        assert_eq!(id.runner_environment.as_deref(), Some("github-hosted"));
        assert!(id.build_config_uri.is_some() && id.run_invocation_uri.is_some());
        assert_eq!(
            id.repository().as_deref(),
            Some("https://github.com/sigstore/sigstore-js")
        );
    }

    #[test]
    fn issuer_rules() {
        let Some(cert) = leaf() else { return };
        // .1 and .8 disagree → fail
        let e =
            decode_edited(cert.clone(), |x| set(x, oid(1), b"https://evil".to_vec())).unwrap_err();
        assert_eq!(e.step, Step::Issuer);
        let e =
            decode_edited(cert.clone(), |x| set(x, oid(8), der_utf8("https://evil"))).unwrap_err();
        assert_eq!(e.step, Step::Issuer);
        // only .8, only .1
        let id = decode_edited(cert.clone(), |x| remove(x, oid(1))).unwrap();
        assert_eq!(id.issuer, GHA);
        let id = decode_edited(cert.clone(), |x| remove(x, oid(8))).unwrap();
        assert_eq!(id.issuer, GHA);
        // neither
        let e = decode_edited(cert.clone(), |x| {
            remove(x, oid(1));
            remove(x, oid(8));
        })
        .unwrap_err();
        assert_eq!(e.step, Step::Issuer);
        // .8 not DER
        let e = decode_edited(cert, |x| set(x, oid(8), GHA.as_bytes().to_vec())).unwrap_err();
        assert_eq!(e.step, Step::Issuer);
    }

    #[test]
    fn malformed_or_duplicate_extensions_fail_identity() {
        let Some(cert) = leaf() else { return };
        type Edit = Box<dyn FnOnce(&mut Vec<Extension>)>;
        let cases: Vec<Edit> = vec![
            Box::new(|x| set(x, oid(12), b"https://github.com/a/b".to_vec())),
            Box::new(|x| set(x, oid(5), vec![0xff, 0xfe])),
            Box::new(|x| {
                let dup = x.iter().find(|e| e.extn_id == oid(12)).unwrap().clone();
                x.push(dup);
            }),
            Box::new(|x| remove(x, SAN_OID)),
            Box::new(|x| {
                let uri =
                    GeneralName::UniformResourceIdentifier(Ia5String::new("https://a").unwrap());
                let san = SubjectAltName(vec![uri.clone(), uri]).to_der().unwrap();
                set(x, SAN_OID, san);
            }),
            Box::new(|x| {
                let dns = GeneralName::DnsName(Ia5String::new("example.com").unwrap());
                set(x, SAN_OID, SubjectAltName(vec![dns]).to_der().unwrap());
            }),
        ];
        for (i, edit) in cases.into_iter().enumerate() {
            let e = decode_edited(cert.clone(), edit).unwrap_err();
            assert_eq!(e.step, Step::Identity, "case {i}: {e}");
        }
    }

    #[test]
    fn email_and_othername_sans() {
        let Some(cert) = leaf() else { return };
        let id = decode_edited(cert.clone(), |x| {
            let email = GeneralName::Rfc822Name(Ia5String::new("a@example.com").unwrap());
            set(x, SAN_OID, SubjectAltName(vec![email]).to_der().unwrap());
        })
        .unwrap();
        assert_eq!(
            (id.san.as_str(), id.san_kind),
            ("a@example.com", SanKind::Email)
        );
        let id = decode_edited(cert, |x| {
            let other = GeneralName::OtherName(OtherName {
                type_id: FULCIO_OTHERNAME_OID,
                value: Any::encode_from(&Utf8StringRef::new("foo!oidc.local").unwrap()).unwrap(),
            });
            set(x, SAN_OID, SubjectAltName(vec![other]).to_der().unwrap());
        })
        .unwrap();
        assert_eq!(
            (id.san.as_str(), id.san_kind),
            ("foo!oidc.local", SanKind::OtherName)
        );
    }

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
