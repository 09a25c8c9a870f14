//! A Fulcio-like CA chain: a self-signed root, an intermediate, and short-lived code-signing
//! leaves carrying the Fulcio extensions (OID 1.3.6.1.4.1.57264.1.x) of an [`Identity`] and an
//! embedded SCT (see [`crate::ct`]). Every certificate is P-256 / ECDSA-SHA256.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use der::asn1::{Any, BitString, Ia5String, OctetString, UtcTime, Utf8StringRef};
use der::oid::ObjectIdentifier;
use der::{Decode, Encode};
use p256::ecdsa::{SigningKey, VerifyingKey};
use p256::pkcs8::EncodePublicKey;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::ext::pkix::name::{GeneralName, OtherName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use crate::seed;

const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ID_KP_CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const OID_EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const OID_SKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const OID_AKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const OID_SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
/// RFC 6962 embedded SCT list extension.
pub const OID_SCT_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

/// A certificate authority of the test PKI (root or intermediate).
#[derive(Clone)]
pub struct Ca {
    /// Its signing key.
    pub key: SigningKey,
    /// Its DER certificate.
    pub cert_der: Vec<u8>,
    name: Name,
}

impl Ca {
    /// A self-signed root valid over `[not_before, not_after]` (Unix seconds).
    pub fn root(seed: &[u8], label: &str, cn: &str, not_before: i64, not_after: i64) -> Ca {
        let key = seed::derive_key(seed, label);
        let name = name(cn);
        let cert_der = build(
            &CertParams {
                serial: serial(seed, label),
                issuer: name.clone(),
                subject: name.clone(),
                not_before,
                not_after,
                subject_key: *key.verifying_key(),
                issuer_key_id: ski(key.verifying_key()),
                extensions: ca_extensions(key.verifying_key(), None),
            },
            &key,
        );
        Ca {
            key,
            cert_der,
            name,
        }
    }

    /// An intermediate signed by `parent` (path length 0).
    pub fn intermediate(
        seed: &[u8],
        label: &str,
        cn: &str,
        parent: &Ca,
        not_before: i64,
        not_after: i64,
    ) -> Ca {
        let key = seed::derive_key(seed, label);
        let name = name(cn);
        let cert_der = build(
            &CertParams {
                serial: serial(seed, label),
                issuer: parent.name.clone(),
                subject: name.clone(),
                not_before,
                not_after,
                subject_key: *key.verifying_key(),
                issuer_key_id: ski(parent.key.verifying_key()),
                extensions: {
                    // Like Fulcio's intermediate: code signing EKU (path validation checks it
                    // on intermediates that are not trust anchors).
                    let mut e = ca_extensions(key.verifying_key(), Some(0));
                    e.push(ext(
                        OID_EKU,
                        false,
                        &ExtendedKeyUsage(vec![ID_KP_CODE_SIGNING]),
                    ));
                    e
                },
            },
            &parent.key,
        );
        Ca {
            key,
            cert_der,
            name,
        }
    }

    /// DER SubjectPublicKeyInfo of this CA (the SCT's issuer_key_hash input).
    pub fn spki_der(&self) -> Vec<u8> {
        seed::spki_der(&self.key)
    }
}

/// The subject alternative name of a leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum San {
    /// A URI SAN (CI workflows).
    Uri(String),
    /// An e-mail SAN (people).
    Email(String),
    /// An otherName SAN of `type_id` (dotted OID) holding a UTF8String; Fulcio's username
    /// form is type 1.3.6.1.4.1.57264.1.7.
    OtherName {
        /// Dotted OID of the otherName type.
        type_id: String,
        /// The UTF8String value.
        value: String,
    },
}

impl San {
    /// The SAN value.
    pub fn value(&self) -> &str {
        match self {
            San::Uri(s) | San::Email(s) => s,
            San::OtherName { value, .. } => value,
        }
    }
}

/// Who the leaf is issued to: SAN, OIDC issuer and the Fulcio claims.
#[derive(Clone, Debug)]
pub struct Identity {
    /// Subject alternative name.
    pub san: San,
    /// OIDC issuer, written to OID .8 (DER UTF8String) and, if `legacy`, .1 (raw).
    pub issuer: String,
    /// Claims .9 onwards, keyed by the last arc (DER UTF8String values).
    pub claims: BTreeMap<u32, String>,
    /// Legacy claims .2–.6, keyed by the last arc (raw UTF-8 values).
    pub legacy: BTreeMap<u32, String>,
    /// Legacy issuer .1 (raw UTF-8), if written; normally equal to `issuer`.
    pub legacy_issuer: Option<String>,
    /// Whether to write the current issuer .8 (`false` = a legacy-only leaf).
    pub v2_issuer: bool,
    /// Extra Fulcio extensions appended verbatim: (last arc, raw extnValue bytes). For
    /// malformed-identity cases (duplicates, wrong encodings).
    pub extra: Vec<(u32, Vec<u8>)>,
}

/// The GitHub Actions OIDC issuer.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

impl Identity {
    /// A GitHub Actions identity for `owner/repo` running `workflow_path` (e.g.
    /// `.github/workflows/release.yml`) on `git_ref`, shaped like the real npm provenance
    /// leaves (legacy and current claims both present).
    pub fn github_actions(repo: &str, workflow_path: &str, git_ref: &str) -> Identity {
        let sha = hex::encode(&seed::sha256(format!("{repo}@{git_ref}").as_bytes())[..20]);
        let owner = repo.split('/').next().unwrap_or(repo);
        let repo_url = format!("https://github.com/{repo}");
        let workflow_url = format!("{repo_url}/{workflow_path}@{git_ref}");
        let ids = seed::sha256(repo.as_bytes());
        let repo_id = u32::from_be_bytes([ids[0], ids[1], ids[2], ids[3]]) % 900_000_000;
        let owner_id = u32::from_be_bytes([ids[4], ids[5], ids[6], ids[7]]) % 90_000_000;
        let mut claims = BTreeMap::new();
        claims.insert(9, workflow_url.clone());
        claims.insert(10, sha.clone());
        claims.insert(11, "github-hosted".to_string());
        claims.insert(12, repo_url.clone());
        claims.insert(13, sha.clone());
        claims.insert(14, git_ref.to_string());
        claims.insert(15, repo_id.to_string());
        claims.insert(16, format!("https://github.com/{owner}"));
        claims.insert(17, owner_id.to_string());
        claims.insert(18, workflow_url.clone());
        claims.insert(19, sha.clone());
        claims.insert(20, "push".to_string());
        claims.insert(21, format!("{repo_url}/actions/runs/1234567890/attempts/1"));
        claims.insert(22, "public".to_string());
        let mut legacy = BTreeMap::new();
        legacy.insert(2, "push".to_string());
        legacy.insert(3, sha);
        legacy.insert(4, "Release".to_string());
        legacy.insert(5, repo.to_string());
        legacy.insert(6, git_ref.to_string());
        Identity {
            san: San::Uri(workflow_url),
            issuer: GITHUB_ISSUER.to_string(),
            claims,
            legacy,
            legacy_issuer: Some(GITHUB_ISSUER.to_string()),
            v2_issuer: true,
            extra: Vec::new(),
        }
    }

    /// A person signing with an e-mail identity (no CI claims).
    pub fn email(address: &str, issuer: &str) -> Identity {
        Identity {
            san: San::Email(address.to_string()),
            issuer: issuer.to_string(),
            claims: BTreeMap::new(),
            legacy: BTreeMap::new(),
            legacy_issuer: None,
            v2_issuer: true,
            extra: Vec::new(),
        }
    }

    /// The same identity as a 2023-era leaf: legacy .1–.6 only, no .8 onwards.
    pub fn legacy_only(mut self) -> Identity {
        self.claims.clear();
        self.v2_issuer = false;
        self.legacy_issuer = Some(self.issuer.clone());
        self
    }

    /// The source repository URI claim (.12), if any.
    pub fn repository_uri(&self) -> Option<&str> {
        self.claims.get(&12).map(String::as_str)
    }

    /// The extensions this identity contributes to a leaf (SAN, issuer, claims).
    fn extensions(&self) -> Vec<Extension> {
        let san = match &self.san {
            San::Uri(u) => GeneralName::UniformResourceIdentifier(ia5(u)),
            San::Email(e) => GeneralName::Rfc822Name(ia5(e)),
            San::OtherName { type_id, value } => GeneralName::OtherName(OtherName {
                type_id: ObjectIdentifier::new(type_id)
                    .unwrap_or_else(|e| panic!("otherName type {type_id}: {e}")),
                value: Utf8StringRef::new(value)
                    .and_then(|u| Any::encode_from(&u))
                    .unwrap_or_else(|e| panic!("otherName value {value:?}: {e}")),
            }),
        };
        let mut out = vec![ext(OID_SAN, true, &SubjectAltName(vec![san]))];
        if let Some(legacy) = &self.legacy_issuer {
            out.push(raw_ext(fulcio_oid(1), legacy.as_bytes().to_vec()));
        }
        for (arc, value) in &self.legacy {
            out.push(raw_ext(fulcio_oid(*arc), value.as_bytes().to_vec()));
        }
        if self.v2_issuer {
            out.push(raw_ext(fulcio_oid(8), utf8_der(&self.issuer)));
        }
        for (arc, value) in &self.claims {
            out.push(raw_ext(fulcio_oid(*arc), utf8_der(value)));
        }
        for (arc, value) in &self.extra {
            out.push(raw_ext(fulcio_oid(*arc), value.clone()));
        }
        out
    }
}

/// How the leaf's embedded SCT is made (the tamper matrix picks the broken ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SctMode {
    /// Signed by the CT log of the trusted root over this leaf's precertificate.
    Valid,
    /// No SCT extension at all.
    Missing,
    /// Signed by a CT key the trusted root does not know.
    UnknownLog,
    /// Signed by the right log, but over another certificate's precertificate TBS.
    OtherCertificate,
}

/// Everything that decides a leaf.
#[derive(Clone, Debug)]
pub struct LeafSpec<'a> {
    /// Identity written into the leaf.
    pub identity: &'a Identity,
    /// Validity start (Unix seconds).
    pub not_before: i64,
    /// Validity end (Unix seconds).
    pub not_after: i64,
    /// SCT variant.
    pub sct: SctMode,
    /// Label the serial number is derived from (unique per leaf).
    pub serial_label: String,
}

/// Issue a leaf for `subject_key` under `issuer`; `ct_log` signs the SCT (or `unknown_log` for
/// [`SctMode::UnknownLog`]).
pub fn issue_leaf(
    seed: &[u8],
    issuer: &Ca,
    subject_key: &VerifyingKey,
    spec: &LeafSpec<'_>,
    ct_log: &SigningKey,
    unknown_log: &SigningKey,
) -> Vec<u8> {
    let mut extensions = vec![
        ext(
            OID_KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::DigitalSignature.into()),
        ),
        ext(OID_EKU, false, &ExtendedKeyUsage(vec![ID_KP_CODE_SIGNING])),
        ext(OID_SKI, false, &ski_ext(subject_key)),
        ext(OID_AKI, false, &aki_ext(issuer.key.verifying_key())),
    ];
    extensions.extend(spec.identity.extensions());
    let params = CertParams {
        serial: serial(seed, &spec.serial_label),
        issuer: issuer.name.clone(),
        subject: Name::default(),
        not_before: spec.not_before,
        not_after: spec.not_after,
        subject_key: *subject_key,
        issuer_key_id: ski(issuer.key.verifying_key()),
        extensions,
    };
    let mut tbs = tbs(&params);
    let sct_time_ms = u64::try_from(spec.not_before).unwrap_or(0) * 1000;
    let issuer_key_hash = seed::sha256(&issuer.spki_der());
    let sct = match spec.sct {
        SctMode::Missing => None,
        SctMode::Valid => Some(crate::ct::sct(
            ct_log,
            sct_time_ms,
            &issuer_key_hash,
            &der_of(&tbs),
        )),
        SctMode::UnknownLog => Some(crate::ct::sct(
            unknown_log,
            sct_time_ms,
            &issuer_key_hash,
            &der_of(&tbs),
        )),
        SctMode::OtherCertificate => {
            let mut other = tbs.clone();
            other.serial_number = serial(seed, &format!("{}/other", spec.serial_label));
            Some(crate::ct::sct(
                ct_log,
                sct_time_ms,
                &issuer_key_hash,
                &der_of(&other),
            ))
        }
    };
    if let Some(list) = sct {
        let value = OctetString::new(list)
            .and_then(|o| o.to_der())
            .unwrap_or_else(|e| panic!("SCT list encoding: {e}"));
        if let Some(exts) = tbs.extensions.as_mut() {
            exts.push(raw_ext(OID_SCT_LIST, value));
        }
    }
    sign_tbs(tbs, &issuer.key)
}

/// The SubjectPublicKeyInfo of a DER certificate (for tests that need the leaf key).
pub fn cert_spki_der(cert_der: &[u8]) -> Option<Vec<u8>> {
    let cert = Certificate::from_der(cert_der).ok()?;
    cert.tbs_certificate.subject_public_key_info.to_der().ok()
}

struct CertParams {
    serial: SerialNumber,
    issuer: Name,
    subject: Name,
    not_before: i64,
    not_after: i64,
    subject_key: VerifyingKey,
    issuer_key_id: Vec<u8>,
    extensions: Vec<Extension>,
}

fn build(params: &CertParams, signer: &SigningKey) -> Vec<u8> {
    let mut p = params.extensions.clone();
    if params.issuer != params.subject {
        p.push(ext(
            OID_AKI,
            false,
            &AuthorityKeyIdentifier {
                key_identifier: OctetString::new(params.issuer_key_id.clone()).ok(),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            },
        ));
    }
    let params = CertParams {
        serial: params.serial.clone(),
        issuer: params.issuer.clone(),
        subject: params.subject.clone(),
        not_before: params.not_before,
        not_after: params.not_after,
        subject_key: params.subject_key,
        issuer_key_id: params.issuer_key_id.clone(),
        extensions: p,
    };
    sign_tbs(tbs(&params), signer)
}

fn tbs(params: &CertParams) -> TbsCertificate {
    TbsCertificate {
        version: Version::V3,
        serial_number: params.serial.clone(),
        signature: alg(),
        issuer: params.issuer.clone(),
        validity: Validity {
            not_before: time(params.not_before),
            not_after: time(params.not_after),
        },
        subject: params.subject.clone(),
        subject_public_key_info: spki(&params.subject_key),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(params.extensions.clone()),
    }
}

fn sign_tbs(tbs: TbsCertificate, key: &SigningKey) -> Vec<u8> {
    let sig = seed::sign(key, &der_of(&tbs));
    let cert = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: alg(),
        signature: BitString::from_bytes(&sig).unwrap_or_else(|e| panic!("bit string: {e}")),
    };
    der_of(&cert)
}

fn ca_extensions(key: &VerifyingKey, path_len: Option<u8>) -> Vec<Extension> {
    vec![
        ext(
            OID_KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
        ),
        ext(
            OID_BASIC_CONSTRAINTS,
            true,
            &BasicConstraints {
                ca: true,
                path_len_constraint: path_len,
            },
        ),
        ext(OID_SKI, false, &ski_ext(key)),
    ]
}

fn ski(key: &VerifyingKey) -> Vec<u8> {
    let der = key
        .to_public_key_der()
        .unwrap_or_else(|e| panic!("SPKI encoding: {e}"));
    seed::sha256(der.as_bytes())[..20].to_vec()
}

fn ski_ext(key: &VerifyingKey) -> SubjectKeyIdentifier {
    SubjectKeyIdentifier(OctetString::new(ski(key)).unwrap_or_else(|e| panic!("ski: {e}")))
}

fn aki_ext(key: &VerifyingKey) -> AuthorityKeyIdentifier {
    AuthorityKeyIdentifier {
        key_identifier: OctetString::new(ski(key)).ok(),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    }
}

fn spki(key: &VerifyingKey) -> SubjectPublicKeyInfoOwned {
    let der = key
        .to_public_key_der()
        .unwrap_or_else(|e| panic!("SPKI encoding: {e}"));
    SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).unwrap_or_else(|e| panic!("SPKI: {e}"))
}

fn alg() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ECDSA_WITH_SHA256,
        parameters: None,
    }
}

fn time(unix: i64) -> Time {
    let secs = u64::try_from(unix).unwrap_or_else(|_| panic!("time {unix} before 1970"));
    Time::UtcTime(
        UtcTime::from_unix_duration(Duration::from_secs(secs))
            .unwrap_or_else(|e| panic!("time {unix} not representable as UTCTime: {e}")),
    )
}

fn name(cn: &str) -> Name {
    Name::from_str(&format!("CN={cn},O=npm-provenance test sigstore"))
        .unwrap_or_else(|e| panic!("name {cn}: {e}"))
}

fn serial(seed: &[u8], label: &str) -> SerialNumber {
    let mut bytes = seed::derive_bytes(seed, &format!("serial/{label}"))[..16].to_vec();
    bytes[0] = (bytes[0] & 0x7f) | 0x10;
    SerialNumber::new(&bytes).unwrap_or_else(|e| panic!("serial: {e}"))
}

fn fulcio_oid(arc: u32) -> ObjectIdentifier {
    ObjectIdentifier::new(&format!("1.3.6.1.4.1.57264.1.{arc}"))
        .unwrap_or_else(|e| panic!("fulcio oid .{arc}: {e}"))
}

fn ia5(s: &str) -> Ia5String {
    Ia5String::new(s).unwrap_or_else(|e| panic!("IA5 string {s:?}: {e}"))
}

fn utf8_der(s: &str) -> Vec<u8> {
    Utf8StringRef::new(s)
        .and_then(|u| u.to_der())
        .unwrap_or_else(|e| panic!("UTF8String {s:?}: {e}"))
}

fn ext<T: Encode>(oid: ObjectIdentifier, critical: bool, value: &T) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(der_of(value)).unwrap_or_else(|e| panic!("ext: {e}")),
    }
}

fn raw_ext(oid: ObjectIdentifier, value: Vec<u8>) -> Extension {
    Extension {
        extn_id: oid,
        critical: false,
        extn_value: OctetString::new(value).unwrap_or_else(|e| panic!("ext: {e}")),
    }
}

fn der_of<T: Encode>(value: &T) -> Vec<u8> {
    value
        .to_der()
        .unwrap_or_else(|e| panic!("DER encoding: {e}"))
}
