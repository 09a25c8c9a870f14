//! The one place that uses `sigstore-verify`: a complete bundle verification in DESIGN §4
//! order, with our own additions (structural rules and caps, duplicate entries, the assertion
//! that certificate, SCT and tlog checks ran, identity/issuer matching, the `.1`/`.8` rule).
//!
//! No `skip_*` option of the library is ever used here.

use super::bundle::{
    BundleError, Signer, Statement, Step, Subject, TimeSource, VerifiedBundle, VerifiedTime,
};
use super::{identity, shape};
use sigstore_verify::types::bundle::VerificationMaterialContent;
use sigstore_verify::types::{
    Artifact, ArtifactDigest, Bundle, DerPublicKey, HashAlgorithm, KindVersion, Sha256Hash,
    SignatureContent,
};
use sigstore_verify::{
    CertificateError, Error as SvError, PublicKeyVerificationPolicy, TimestampError,
    TransparencyLogError, VerificationPolicy, VerificationResult, Verifier,
};
use std::collections::BTreeMap;

/// The only trusted-root media type this verifier accepts.
pub const TRUSTED_ROOT_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
/// Largest trusted root accepted, in bytes (the production root is about 7 KB).
pub const MAX_TRUSTED_ROOT_BYTES: usize = 1024 * 1024;

/// Trust material for bundle verification: a parsed `trusted_root.json` and the verifier
/// prepared from it (Fulcio CAs, Rekor keys, CT keys, TSAs). Identity policy lives apart, in
/// [`SignerPolicy`].
pub struct SigstoreTrust {
    verifier: Verifier,
    /// Base64 key ids of the transparency logs of the root (to name an unknown log clearly).
    log_ids: Vec<String>,
    /// Host of each transparency log's `baseUrl`, by base64 log id: a checkpoint's origin must
    /// name it.
    log_hosts: BTreeMap<String, String>,
}

impl std::fmt::Debug for SigstoreTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigstoreTrust").finish_non_exhaustive()
    }
}

impl SigstoreTrust {
    /// Parses and prepares a trusted_root.json (rejects malformed roots, an unknown media type,
    /// empty CA chains, duplicate log ids, bad validity windows).
    pub fn from_json(json: &str) -> Result<SigstoreTrust, BundleError> {
        if json.len() > MAX_TRUSTED_ROOT_BYTES {
            return Err(BundleError::new(
                Step::TrustRoot,
                format!("a trusted root of at most {MAX_TRUSTED_ROOT_BYTES} bytes"),
                format!("{} bytes", json.len()),
            ));
        }
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| BundleError::new(Step::TrustRoot, "trusted root JSON", e.to_string()))?;
        let media_type = value.get("mediaType").and_then(|v| v.as_str());
        if media_type != Some(TRUSTED_ROOT_MEDIA_TYPE) {
            return Err(BundleError::new(
                Step::TrustRoot,
                format!("trusted root mediaType {TRUSTED_ROOT_MEDIA_TYPE}"),
                format!("{media_type:?}"),
            ));
        }
        let root = sigstore_verify::trust_root::TrustedRoot::from_json(json).map_err(|e| {
            BundleError::new(Step::TrustRoot, "a valid trusted root", e.to_string())
        })?;
        if root.certificate_authorities.is_empty() && root.tlogs.is_empty() {
            return Err(BundleError::new(
                Step::TrustRoot,
                "a trusted root with certificate authorities or transparency logs",
                "neither",
            ));
        }
        let verifier = Verifier::new(&root).map_err(|e| map_error(&e))?;
        let log_ids = root
            .tlogs
            .iter()
            .map(|t| t.log_id.key_id.to_base64())
            .collect();
        let log_hosts = root
            .tlogs
            .iter()
            .filter_map(|t| {
                let host = url::Url::parse(&t.base_url)
                    .ok()?
                    .host_str()?
                    .to_ascii_lowercase();
                Some((t.log_id.key_id.to_base64(), host))
            })
            .collect();
        Ok(SigstoreTrust {
            verifier,
            log_ids,
            log_hosts,
        })
    }
}

/// The artifact a bundle must bind: raw bytes or a pre-computed digest.
#[derive(Debug, Clone, Copy)]
pub enum ArtifactRef<'a> {
    Bytes(&'a [u8]),
    Sha256([u8; 32]),
    Sha512([u8; 64]),
}

/// Who may have signed the bundle.
#[derive(Debug, Clone)]
pub enum SignerPolicy {
    /// Fulcio certificate bundles; `None` matchers = any identity (the caller authorizes later).
    Certificate {
        san: Option<Matcher>,
        issuer: Option<Matcher>,
    },
    /// Key-signed bundles (npm publish attestations): DER SubjectPublicKeyInfo.
    PublicKey { spki_der: Vec<u8> },
}

/// Matches an identity value exactly, or with a regex anchored on the whole value.
#[derive(Debug, Clone)]
pub enum Matcher {
    Exact(String),
    /// Built by [`Matcher::regex`] as `^(?:P)$`.
    Regex(regex::Regex),
}

impl Matcher {
    /// A regex matcher for `p`, anchored on the whole value as `^(?:p)$`.
    pub fn regex(p: &str) -> Result<Matcher, regex::Error> {
        regex::Regex::new(&format!("^(?:{p})$")).map(Matcher::Regex)
    }

    /// Whether `s` satisfies this matcher.
    pub fn matches(&self, s: &str) -> bool {
        match self {
            Matcher::Exact(e) => e == s,
            Matcher::Regex(r) => r.is_match(s),
        }
    }
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Matcher::Exact(e) => write!(f, "{e:?}"),
            Matcher::Regex(r) => write!(f, "regex {:?}", r.as_str()),
        }
    }
}

/// Parses a PEM `PUBLIC KEY` into DER SubjectPublicKeyInfo (for `verify-bundle --key`).
pub fn spki_from_pem(pem: &str) -> Result<Vec<u8>, BundleError> {
    DerPublicKey::from_pem(pem)
        .map(|k| k.as_bytes().to_vec())
        .map_err(|e| BundleError::new(Step::Parse, "a PEM PUBLIC KEY", e.to_string()))
}

/// Full verification in DESIGN §4 order. Never uses any skip_* option; on certificate bundles
/// asserts certificate, SCT and tlog checks all ran.
pub fn verify_bundle(
    trust: &SigstoreTrust,
    bundle_json: &[u8],
    artifact: ArtifactRef<'_>,
    policy: &SignerPolicy,
) -> Result<VerifiedBundle, BundleError> {
    // §4.1 caps, media type → version rules (every entry: v0.1 SET, ≥v0.2 proof + checkpoint,
    //      v0.3 one certificate), duplicate tlog entries, one DSSE signature, in-toto payload.
    let (text, shape) = shape::check(bundle_json)?;
    let mut bundle = Bundle::from_json(text)
        .map_err(|e| BundleError::new(Step::Parse, "a Sigstore bundle", e.to_string()))?;
    // §4.4 only the leaf comes from the bundle: the path is built from the trusted root alone.
    if let VerificationMaterialContent::X509CertificateChain { certificates } =
        &mut bundle.verification_material.content
    {
        certificates.truncate(1);
    }
    let artifact = to_artifact(artifact)?;
    // §4.2 every entry names a log of the trusted root (the library would report this as a
    // SET or checkpoint failure; name it for what it is).
    for entry in &bundle.verification_material.tlog_entries {
        let id = entry.log_id.key_id.to_base64();
        if !trust.log_ids.contains(&id) {
            return Err(BundleError::new(
                Step::Tlog,
                "a transparency log of the trusted root",
                format!("unknown log id {id}"),
            ));
        }
    }
    // §4.2 the checkpoint is the signed tree head the proof leads to: same size, same root,
    // and its origin names the log (the library checks its signature and root, not these).
    check_checkpoints(&bundle, &trust.log_hosts)?;

    let (result, signer) = match policy {
        SignerPolicy::Certificate { san, issuer } => {
            if !shape.has_certificate {
                return Err(BundleError::new(
                    Step::CertificateChain,
                    "a certificate-signed bundle",
                    "a key-signed bundle (publicKey)",
                ));
            }
            // §4.2 tlog (log key, SET, inclusion proof, checkpoint, body consistency),
            // §4.3 times (SET-backed integratedTime, RFC 3161), §4.4 chain at every time,
            // §4.5 SCT, §4.6 DSSE/message signature, §4.7 artifact: all inside the library,
            // with its default (full) certificate policy and no identity constraint.
            let result = trust
                .verifier
                .verify(artifact, &bundle, &VerificationPolicy::any_identity())
                .map_err(|e| map_error(&e))?;
            // Assert that the checks we rely on really ran.
            assert_ran(&Ran::of(&result), true)?;
            // §4.8 identity: decode SAN, issuer (.1/.8 rule) and every Fulcio extension.
            let leaf = bundle.signing_certificate().ok_or_else(|| {
                BundleError::new(Step::CertificateChain, "a signing certificate", "none")
            })?;
            let id = identity::decode_fulcio_identity(leaf.as_bytes())?;
            let lib_san = result.identity().map(|s| s.as_str().to_owned());
            cross_check_identity(lib_san.as_deref(), result.issuer(), &id)?;
            // §4.8 policy: SAN then issuer.
            if let Some(m) = san {
                if !m.matches(&id.san) {
                    return Err(BundleError::new(
                        Step::Identity,
                        format!("SAN {m}"),
                        format!("{:?}", id.san),
                    ));
                }
            }
            if let Some(m) = issuer {
                if !m.matches(&id.issuer) {
                    return Err(BundleError::new(
                        Step::Issuer,
                        format!("issuer {m}"),
                        format!("{:?}", id.issuer),
                    ));
                }
            }
            (result, Signer::Certificate(id))
        }
        SignerPolicy::PublicKey { spki_der } => {
            if shape.has_certificate {
                return Err(BundleError::new(
                    Step::Signature,
                    "a key-signed bundle (publicKey)",
                    "a certificate-signed bundle",
                ));
            }
            // §4.2 tlog (SET, proof, checkpoint, body consistency with the key), §4.3 times,
            // §4.6 signature with the caller's key, §4.7 artifact.
            let key_policy = PublicKeyVerificationPolicy::new(DerPublicKey::new(spki_der.clone()));
            let result = trust
                .verifier
                .verify(artifact, &bundle, &key_policy)
                .map_err(|e| map_error(&e))?;
            assert_ran(&Ran::of(&result), false)?;
            (result, Signer::PublicKey { hint: shape.hint })
        }
    };

    // §4.3 every verified time, with its source and log entry.
    let times = attribute_times(&bundle, &result)?;
    let (statement, dsse_keyid) = match &bundle.content {
        SignatureContent::DsseEnvelope(env) => {
            let keyid = env.signature.keyid.as_str();
            (
                Some(parse_statement(env.payload.as_bytes(), &env.payload_type)?),
                (!keyid.is_empty()).then(|| keyid.to_owned()),
            )
        }
        _ => (None, None),
    };
    Ok(VerifiedBundle {
        media_type: shape.media_type,
        times,
        statement,
        signer,
        dsse_keyid,
    })
}

/// Every checkpoint must be for the proof it travels with: same tree size and root hash (the
/// library checks the note's signature and root, not the size). For Rekor v2 entries the
/// origin is the log's URL host by the tlog-tiles convention, so it must equal the host of that
/// log's `baseUrl` in the trusted root. A Rekor v1 origin (`<hostname> - <tree id>`) names the
/// deployment's own server host and tree, which the trusted root does not record (real
/// deployments differ from their `baseUrl`, e.g. a pod name), so it is not compared; the log
/// key, the root hash and the tree size bind a v1 checkpoint to its log.
fn check_checkpoints(
    bundle: &Bundle,
    log_hosts: &BTreeMap<String, String>,
) -> Result<(), BundleError> {
    for entry in &bundle.verification_material.tlog_entries {
        let Some(proof) = &entry.inclusion_proof else {
            continue;
        };
        let Some(checkpoint) = proof.checkpoint.checkpoint() else {
            continue;
        };
        if checkpoint.tree_size() != proof.tree_size {
            return Err(BundleError::new(
                Step::Checkpoint,
                format!("checkpoint tree size {} (the proof's)", proof.tree_size),
                format!("{}", checkpoint.tree_size()),
            ));
        }
        if checkpoint.root_hash() != &proof.root_hash {
            return Err(BundleError::new(
                Step::Checkpoint,
                "the proof's root hash in the checkpoint",
                "another root hash",
            ));
        }
        if entry.kind_version != KindVersion::HashedRekordV002 {
            continue;
        }
        let id = entry.log_id.key_id.to_base64();
        let origin_host = checkpoint
            .origin()
            .split(" - ")
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match log_hosts.get(&id) {
            Some(host) if *host == origin_host => {}
            Some(host) => {
                return Err(BundleError::new(
                    Step::Checkpoint,
                    format!("a checkpoint origin naming {host}"),
                    format!("{:?}", checkpoint.origin()),
                ))
            }
            None => {
                return Err(BundleError::new(
                    Step::Checkpoint,
                    "a log with a base URL in the trusted root",
                    format!("log id {id}"),
                ))
            }
        }
    }
    Ok(())
}

fn to_artifact(a: ArtifactRef<'_>) -> Result<Artifact<'_>, BundleError> {
    Ok(match a {
        ArtifactRef::Bytes(b) => Artifact::from_blob(b),
        ArtifactRef::Sha256(d) => Artifact::from_digest(ArtifactDigest::sha256(Sha256Hash::new(d))),
        ArtifactRef::Sha512(d) => Artifact::from_digest(
            ArtifactDigest::new(HashAlgorithm::Sha2512, d.to_vec())
                .map_err(|e| BundleError::new(Step::Artifact, "a sha512 digest", e.to_string()))?,
        ),
    })
}

/// What the library reports it checked (read out of its result, which only it can build).
#[derive(Debug, Clone, Copy, Default)]
struct Ran {
    certificate: bool,
    sct: bool,
    tlog: bool,
    verified_times: usize,
}

impl Ran {
    fn of(result: &VerificationResult) -> Ran {
        Ran {
            certificate: result.certificate_verified(),
            sct: result.sct_verified(),
            tlog: result.tlog_verified(),
            verified_times: result.verified_timestamps().len(),
        }
    }
}

/// Fails closed unless the library reports the checks we require as done.
fn assert_ran(ran: &Ran, certificate: bool) -> Result<(), BundleError> {
    let checks = [
        (
            certificate,
            ran.certificate,
            Step::CertificateChain,
            "certificate chain",
        ),
        (certificate, ran.sct, Step::Sct, "SCT"),
        (true, ran.tlog, Step::Tlog, "transparency log"),
    ];
    for (required, ran, step, what) in checks {
        if required && !ran {
            return Err(BundleError::new(
                step,
                format!("{what} verification to have run"),
                "it did not run",
            ));
        }
    }
    if ran.verified_times == 0 {
        return Err(BundleError::new(
            Step::Time,
            "at least one verified time",
            "none",
        ));
    }
    Ok(())
}

/// Our decoding must agree with the library's (`lib_san`, `lib_issuer`) on the claims it also
/// reads.
fn cross_check_identity(
    lib_san: Option<&str>,
    lib_issuer: Option<&str>,
    id: &super::bundle::FulcioIdentity,
) -> Result<(), BundleError> {
    if let Some(lib) = lib_san {
        if lib != id.san {
            return Err(BundleError::new(
                Step::Identity,
                format!("one SAN ({lib:?})"),
                format!("{:?}", id.san),
            ));
        }
    }
    if lib_issuer != Some(id.issuer.as_str()) {
        return Err(BundleError::new(
            Step::Issuer,
            format!("one issuer ({lib_issuer:?})"),
            format!("{:?}", id.issuer),
        ));
    }
    Ok(())
}

/// Attributes the library's verified times (TSA times first in bundle order, then SET-backed
/// Rekor v1 integrated times in entry order, for certificates; Rekor first for keys) to their
/// sources. Fails closed if the attribution does not account for every time.
fn attribute_times(
    bundle: &Bundle,
    result: &VerificationResult,
) -> Result<Vec<VerifiedTime>, BundleError> {
    let mut rekor = Vec::new();
    for entry in &bundle.verification_material.tlog_entries {
        let v1 = matches!(
            entry.kind_version,
            KindVersion::HashedRekordV001 | KindVersion::DsseV001 | KindVersion::IntotoV002
        );
        if let (true, Some(time), Some(_)) =
            (v1, entry.integrated_time, entry.inclusion_promise.as_ref())
        {
            let index = i64::try_from(entry.log_index.get()).map_err(|_| {
                BundleError::new(Step::Tlog, "a log index within int64", "a larger one")
            })?;
            rekor.push(VerifiedTime {
                time,
                source: TimeSource::Rekor,
                log_index: Some(index),
                log_id: Some(entry.log_id.key_id.to_base64()),
            });
        }
    }
    let mut remaining: Vec<jiff::Timestamp> = result.verified_timestamps().to_vec();
    for r in &rekor {
        let pos = remaining.iter().position(|t| *t == r.time).ok_or_else(|| {
            BundleError::new(
                Step::Time,
                format!("integrated time {} among the verified times", r.time),
                "missing",
            )
        })?;
        remaining.remove(pos);
    }
    let n_tsa = bundle
        .verification_material
        .timestamp_verification_data
        .rfc3161_timestamps
        .len();
    if remaining.len() != n_tsa {
        return Err(BundleError::new(
            Step::Time,
            format!("{n_tsa} verified RFC 3161 timestamps"),
            format!("{}", remaining.len()),
        ));
    }
    let mut times = rekor;
    times.extend(remaining.into_iter().map(|time| VerifiedTime {
        time,
        source: TimeSource::Tsa,
        log_index: None,
        log_id: None,
    }));
    times.sort();
    Ok(times)
}

/// The verified in-toto statement (the payload the signature covers).
fn parse_statement(payload: &[u8], payload_type: &str) -> Result<Statement, BundleError> {
    #[derive(serde::Deserialize)]
    struct Wire {
        #[serde(rename = "_type")]
        type_: String,
        #[serde(rename = "predicateType")]
        predicate_type: String,
        subject: Vec<WireSubject>,
        #[serde(default)]
        predicate: serde_json::Value,
    }
    #[derive(serde::Deserialize)]
    struct WireSubject {
        #[serde(default)]
        name: String,
        digest: BTreeMap<String, String>,
    }
    let w: Wire = serde_json::from_slice(payload)
        .map_err(|e| BundleError::new(Step::Parse, "an in-toto statement", e.to_string()))?;
    Ok(Statement {
        type_: w.type_,
        predicate_type: w.predicate_type,
        subjects: w
            .subject
            .into_iter()
            .map(|s| Subject {
                name: s.name,
                digest: s.digest,
            })
            .collect(),
        predicate: w.predicate,
        payload_type: payload_type.to_owned(),
    })
}

/// Maps a library error onto the step it belongs to. `expected` says what the step requires;
/// `actual` carries the library's detail.
fn map_error(e: &SvError) -> BundleError {
    use sigstore_verify::bundle::Error as BErr;
    let (step, expected) = match e {
        SvError::IdentityMismatch { .. } => (Step::Identity, "the required SAN"),
        SvError::IssuerMismatch { .. } => (Step::Issuer, "the required issuer"),
        SvError::SignatureInvalid(_) => (Step::Signature, "a valid signature by the signing key"),
        SvError::ArtifactMismatch(_)
        | SvError::UnsupportedArtifact(_)
        | SvError::ArtifactRead(_) => (Step::Artifact, "the artifact to match the signed digest"),
        SvError::Certificate(c) => match c {
            CertificateError::Sct(_) => (Step::Sct, "a valid embedded SCT from a trusted CT log"),
            _ => (
                Step::CertificateChain,
                "a leaf chaining to a trusted Fulcio CA, valid at every verified time",
            ),
        },
        SvError::TransparencyLog(t) => match t {
            TransparencyLogError::UnknownLog { .. } => (Step::Tlog, "a log of the trusted root"),
            TransparencyLogError::InclusionProof(_) => {
                (Step::InclusionProof, "a valid Merkle inclusion proof")
            }
            TransparencyLogError::Checkpoint(_) => (
                Step::Checkpoint,
                "a checkpoint signed by the log, matching the proof",
            ),
            TransparencyLogError::InclusionPromise(_) => {
                (Step::SignedEntryTimestamp, "a valid signed entry timestamp")
            }
            TransparencyLogError::EntryMismatch(_) | TransparencyLogError::MalformedEntry(_) => {
                (Step::TlogBody, "a log entry body recording this bundle")
            }
            TransparencyLogError::IntegratedTime(_) => (
                Step::Time,
                "an integrated time within the certificate validity, not in the future",
            ),
            _ => (Step::Tlog, "a valid transparency log entry"),
        },
        SvError::Timestamp(t) => match t {
            TimestampError::NoVerifiedTimestamp(_) => (Step::Time, "at least one verified time"),
            _ => (Step::Time, "valid RFC 3161 timestamps"),
        },
        SvError::Bundle(b) => match b {
            BErr::MissingCheckpoint => {
                (Step::Checkpoint, "a checkpoint with every inclusion proof")
            }
            BErr::LogIndexOutOfRange { .. } | BErr::CheckpointRootMismatch => {
                (Step::InclusionProof, "a consistent inclusion proof")
            }
            BErr::MissingSigningTimeEvidence => (Step::Tlog, "a transparency log entry"),
            _ => (Step::MediaType, "a bundle following its media type's rules"),
        },
        SvError::InvalidTrustRoot(_) | SvError::TrustRoot(_) | SvError::TrustedCertificate(_) => {
            (Step::TrustRoot, "a usable trusted root")
        }
        SvError::Crypto(_) => (Step::Signature, "a supported key and signature"),
        SvError::InvalidBundle(_) | SvError::UnsupportedBundle(_) | SvError::Types(_) => {
            (Step::Parse, "a well-formed, supported bundle")
        }
        _ => (Step::Parse, "a verifiable bundle"),
    };
    BundleError::new(step, expected, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assert_ran_requires_every_check_it_relies_on() {
        let all = Ran {
            certificate: true,
            sct: true,
            tlog: true,
            verified_times: 1,
        };
        assert!(assert_ran(&all, true).is_ok());
        let step = |ran: Ran, certificate: bool| assert_ran(&ran, certificate).unwrap_err().step;
        assert_eq!(
            step(
                Ran {
                    certificate: false,
                    ..all
                },
                true
            ),
            Step::CertificateChain
        );
        assert_eq!(step(Ran { sct: false, ..all }, true), Step::Sct);
        assert_eq!(step(Ran { tlog: false, ..all }, true), Step::Tlog);
        assert_eq!(
            step(
                Ran {
                    verified_times: 0,
                    ..all
                },
                true
            ),
            Step::Time
        );
        // A key-signed bundle has no certificate or SCT to check; the log and a time still.
        let key_only = Ran {
            certificate: false,
            sct: false,
            ..all
        };
        assert!(assert_ran(&key_only, false).is_ok());
        assert_eq!(
            step(
                Ran {
                    tlog: false,
                    ..key_only
                },
                false
            ),
            Step::Tlog
        );
        assert_eq!(
            step(
                Ran {
                    verified_times: 0,
                    ..key_only
                },
                false
            ),
            Step::Time
        );
    }

    #[test]
    fn our_identity_decoding_must_agree_with_the_library() {
        let id = super::super::bundle::tests::identity();
        let issuer = Some(id.issuer.as_str());
        assert!(cross_check_identity(Some(&id.san), issuer, &id).is_ok());
        // The library reads no SAN it can name: ours stands, the issuer is still compared.
        assert!(cross_check_identity(None, issuer, &id).is_ok());
        let err = cross_check_identity(Some("https://github.com/evil"), issuer, &id).unwrap_err();
        assert_eq!(err.step, Step::Identity);
        for other in [None, Some("https://accounts.google.com")] {
            let err = cross_check_identity(Some(&id.san), other, &id).unwrap_err();
            assert_eq!(err.step, Step::Issuer);
        }
    }

    #[test]
    fn library_errors_map_to_their_step_and_requirement() {
        use sigstore_verify::bundle::Error as BErr;
        let cases: Vec<(SvError, Step, &str)> = vec![
            (
                SvError::IdentityMismatch {
                    expected: sigstore_verify::IdentityMatcher::Exact("a".into()),
                    actual: None,
                },
                Step::Identity,
                "the required SAN",
            ),
            (
                SvError::IssuerMismatch {
                    expected: "a".into(),
                    actual: None,
                },
                Step::Issuer,
                "the required issuer",
            ),
            (
                TransparencyLogError::UnknownLog { log_id: "x".into() }.into(),
                Step::Tlog,
                "a log of the trusted root",
            ),
            (
                TimestampError::NoVerifiedTimestamp("none".into()).into(),
                Step::Time,
                "at least one verified time",
            ),
            (
                SvError::Bundle(BErr::MissingSigningTimeEvidence),
                Step::Tlog,
                "a transparency log entry",
            ),
            (
                SvError::InvalidBundle("x".into()),
                Step::Parse,
                "a well-formed, supported bundle",
            ),
            (
                SvError::UnsupportedBundle("x".into()),
                Step::Parse,
                "a well-formed, supported bundle",
            ),
        ];
        for (err, step, expected) in cases {
            let mapped = map_error(&err);
            assert_eq!(
                (mapped.step, mapped.expected.as_str()),
                (step, expected),
                "{err}"
            );
            assert_eq!(mapped.actual, err.to_string());
        }
    }

    #[test]
    fn trust_and_results_can_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<SigstoreTrust>();
        send_sync::<VerifiedBundle>();
        send_sync::<SignerPolicy>();
    }

    #[test]
    fn regex_matchers_are_anchored_on_the_whole_value() {
        let m = Matcher::regex("https://github.com/org/repo").unwrap();
        assert!(m.matches("https://github.com/org/repo"));
        assert!(!m.matches("https://github.com/org/repo-evil"));
        assert!(!m.matches("xhttps://github.com/org/repo"));
        // alternation stays inside the anchors
        let m = Matcher::regex("a|b").unwrap();
        assert!(m.matches("a") && m.matches("b"));
        assert!(!m.matches("ab") && !m.matches("xa") && !m.matches("bx"));
        assert!(Matcher::regex("(").is_err());
        let e = Matcher::Exact("a.b".into());
        assert!(e.matches("a.b") && !e.matches("axb"));
    }

    #[test]
    fn library_errors_map_to_their_step() {
        let t = jiff::Timestamp::UNIX_EPOCH;
        let cases: Vec<(SvError, Step)> = vec![
            (SvError::SignatureInvalid("x".into()), Step::Signature),
            (SvError::ArtifactMismatch("x".into()), Step::Artifact),
            (SvError::UnsupportedArtifact("x".into()), Step::Artifact),
            (
                CertificateError::ChainInvalid("x".into()).into(),
                Step::CertificateChain,
            ),
            (
                CertificateError::Malformed("x".into()).into(),
                Step::CertificateChain,
            ),
            (
                CertificateError::NoValidAuthority { time: t }.into(),
                Step::CertificateChain,
            ),
            (
                CertificateError::Expired {
                    time: t,
                    not_after: t,
                }
                .into(),
                Step::CertificateChain,
            ),
            (CertificateError::Sct("x".into()).into(), Step::Sct),
            (
                TransparencyLogError::UnknownLog { log_id: "x".into() }.into(),
                Step::Tlog,
            ),
            (
                TransparencyLogError::InclusionProof("x".into()).into(),
                Step::InclusionProof,
            ),
            (
                TransparencyLogError::Checkpoint("x".into()).into(),
                Step::Checkpoint,
            ),
            (
                TransparencyLogError::InclusionPromise("x".into()).into(),
                Step::SignedEntryTimestamp,
            ),
            (
                TransparencyLogError::EntryMismatch("x".into()).into(),
                Step::TlogBody,
            ),
            (
                TransparencyLogError::MalformedEntry("x".into()).into(),
                Step::TlogBody,
            ),
            (
                TransparencyLogError::IntegratedTime("x".into()).into(),
                Step::Time,
            ),
            (TimestampError::Invalid("x".into()).into(), Step::Time),
            (
                TimestampError::NoVerifiedTimestamp("x".into()).into(),
                Step::Time,
            ),
            (SvError::InvalidTrustRoot("x".into()), Step::TrustRoot),
            (SvError::InvalidBundle("x".into()), Step::Parse),
            (SvError::UnsupportedBundle("x".into()), Step::Parse),
            (
                sigstore_verify::bundle::Error::MissingCheckpoint.into(),
                Step::Checkpoint,
            ),
            (
                sigstore_verify::bundle::Error::CheckpointRootMismatch.into(),
                Step::InclusionProof,
            ),
        ];
        for (e, step) in cases {
            let m = map_error(&e);
            assert_eq!(m.step, step, "{e}");
            assert_eq!(m.actual, e.to_string());
        }
    }

    #[test]
    fn trusted_roots_are_checked() {
        SigstoreTrust::from_json(crate::trust::PRODUCTION_TRUSTED_ROOT).unwrap();
        SigstoreTrust::from_json(crate::trust::STAGING_TRUSTED_ROOT).unwrap();
        let bad_type = crate::trust::PRODUCTION_TRUSTED_ROOT.replace(
            TRUSTED_ROOT_MEDIA_TYPE,
            "application/vnd.dev.sigstore.trustedroot+json;version=9",
        );
        assert_eq!(
            SigstoreTrust::from_json(&bad_type).unwrap_err().step,
            Step::TrustRoot
        );
        // The size cap at its edge: the production root padded to exactly the cap loads, one
        // byte more is refused for its size.
        let padded = |len: usize| {
            let root = crate::trust::PRODUCTION_TRUSTED_ROOT.trim_end();
            format!("{root}{}", " ".repeat(len - root.len()))
        };
        SigstoreTrust::from_json(&padded(MAX_TRUSTED_ROOT_BYTES)).unwrap();
        let err = SigstoreTrust::from_json(&padded(MAX_TRUSTED_ROOT_BYTES + 1)).unwrap_err();
        assert_eq!(err.step, Step::TrustRoot);
        assert!(err.expected.contains("at most"), "{}", err.expected);
        assert_eq!(spki_from_pem("not a pem").unwrap_err().step, Step::Parse);
    }
}
