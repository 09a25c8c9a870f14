//! Step 2: the attestations. Entries are assigned to a slot by `predicateType` (the wrapper's,
//! else the carried statement's), never by index; each is fully verified, then held to npm's
//! rules (statement, subject, key, predicate), and provenance is cross-checked against its
//! certificate.

use super::binding::Binding;
use super::purl::{purl_of, subject_names};
use super::{
    AttestationsInput, VerifyContext, VersionInput, IN_TOTO_PAYLOAD_TYPE, STATEMENT_TYPES,
};
use crate::findings::Finding;
use crate::registry::attestations::{
    AttestationEntry, AttestationsResponse, PUBLISH_PREDICATE_TYPE, SLSA_PROVENANCE_PREFIX,
};
use crate::trust::npm_keys::{KeyId, KeyUsage};
use crate::verify::bundle::{Signer, Statement, VerifiedBundle};
use crate::verify::evidence::{Check, Identity, Status};
use crate::verify::provenance::{self, Evaluation};
use crate::verify::sigstore::{verify_bundle, ArtifactRef, SignerPolicy};
use base64::Engine as _;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Publish,
    Provenance,
}

impl Slot {
    fn of(predicate_type: &str) -> Option<Slot> {
        if predicate_type == PUBLISH_PREDICATE_TYPE {
            Some(Slot::Publish)
        } else if predicate_type.starts_with(SLSA_PROVENANCE_PREFIX) {
            Some(Slot::Provenance)
        } else {
            None
        }
    }

    fn invalid_code(self) -> &'static str {
        match self {
            Slot::Publish => "publish-attestation-invalid",
            Slot::Provenance => "provenance-invalid",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Slot::Publish => "publish attestation",
            Slot::Provenance => "provenance",
        }
    }
}

pub(super) struct AttestationsOutcome {
    pub(super) publish_check: Check,
    pub(super) provenance_check: Check,
    /// The verified publish bundle (its signed time dates the publish).
    pub(super) publish: Option<VerifiedBundle>,
    pub(super) identity: Identity,
}

impl AttestationsOutcome {
    fn both(status: Status, reason: &str) -> AttestationsOutcome {
        AttestationsOutcome {
            publish_check: Check::new(status, reason),
            provenance_check: Check::new(status, reason),
            publish: None,
            identity: Identity::default(),
        }
    }
}

pub(super) fn verify_attestations(
    input: &VersionInput<'_>,
    ctx: &VerifyContext<'_>,
    bind: &mut Binding,
    findings: &mut Vec<Finding>,
) -> AttestationsOutcome {
    let announced = input
        .packument_version
        .map(|v| v.dist.attestations.is_some());
    let body = match input.attestations {
        AttestationsInput::NotChecked => {
            findings.push(Finding::new(
                "not-checked",
                "attestations: not supplied, so provenance and the publish attestation were not checked",
            ));
            return AttestationsOutcome::both(Status::NotChecked, "attestations not supplied");
        }
        AttestationsInput::FetchFailed(reason) => {
            findings.push(Finding::new(
                "unverifiable",
                format!(
                    "attestations could not be fetched: {}",
                    crate::util::escape_text(reason)
                ),
            ));
            return AttestationsOutcome::both(Status::Unverifiable, "attestations fetch failed");
        }
        AttestationsInput::NotFound => None,
        AttestationsInput::Body(bytes) => match AttestationsResponse::from_slice(bytes) {
            Ok(r) => Some(r),
            Err(e) => {
                let code = if e.is_cap() {
                    "metadata-too-large"
                } else {
                    "unverifiable"
                };
                findings.push(Finding::new(
                    code,
                    format!("the attestations response is unusable: {e}"),
                ));
                return AttestationsOutcome::both(
                    Status::Unverifiable,
                    "attestations response unusable",
                );
            }
        },
    };
    let entries = body.map(|r| r.attestations).unwrap_or_default();
    let mut publish_entries = Vec::new();
    let mut provenance_entries = Vec::new();
    for entry in &entries {
        let carried = Carried::of(&entry.bundle);
        let slot = Slot::of(&entry.predicate_type)
            .or_else(|| carried.predicate_type.as_deref().and_then(Slot::of));
        match slot {
            Some(Slot::Publish) => publish_entries.push((entry, carried)),
            Some(Slot::Provenance) => provenance_entries.push((entry, carried)),
            None => {}
        }
    }
    if publish_entries.is_empty() && provenance_entries.is_empty() {
        if announced == Some(true) {
            findings.push(Finding::new(
                "attestations-missing",
                "the packument announces attestations (dist.attestations) but the registry serves none",
            ));
            return AttestationsOutcome::both(Status::Missing, "announced but not served");
        }
        findings.push(Finding::new(
            "provenance-missing",
            "the version has no provenance attestation",
        ));
        return AttestationsOutcome {
            publish_check: Check::new(Status::NotApplicable, "the version has no attestations"),
            provenance_check: Check::new(Status::Missing, "no provenance attestation"),
            publish: None,
            identity: Identity::default(),
        };
    }
    if announced == Some(false) {
        findings.push(Finding::new(
            "attestations-unannounced",
            "the registry serves attestations that the packument does not announce",
        ));
    }
    let mut identity = Identity::default();
    let (publish_check, publish) = match publish_entries.as_slice() {
        [] => {
            findings.push(Finding::new(
                "publish-attestation-missing",
                "provenance is served without npm's publish attestation",
            ));
            (Check::new(Status::Missing, "no publish attestation"), None)
        }
        [(entry, carried)] => {
            let (check, verified) =
                verify_slot(Slot::Publish, entry, carried, input, ctx, bind, findings);
            (check, verified)
        }
        _ => {
            findings.push(Finding::new(
                "publish-attestation-invalid",
                "more than one publish attestation is served",
            ));
            (
                Check::new(Status::Invalid, "more than one publish attestation"),
                None,
            )
        }
    };
    let provenance_check = match provenance_entries.as_slice() {
        [] => {
            let announced_type = input
                .packument_version
                .and_then(|v| v.dist.attestations.as_ref())
                .and_then(|a| a.provenance.as_ref());
            if announced_type.is_some() {
                findings.push(Finding::new(
                    "attestations-missing",
                    "the packument announces provenance but the registry serves none",
                ));
                Check::new(Status::Missing, "announced but not served")
            } else {
                findings.push(Finding::new(
                    "provenance-missing",
                    "the version has no provenance attestation",
                ));
                Check::new(Status::Missing, "no provenance attestation")
            }
        }
        [(entry, carried)] => {
            let (check, verified) =
                verify_slot(Slot::Provenance, entry, carried, input, ctx, bind, findings);
            if let Some(v) = verified {
                if let (true, Signer::Certificate(cert)) = (check.is_verified(), v.signer()) {
                    identity = provenance::identity(cert, v.statement());
                }
            }
            check
        }
        _ => {
            findings.push(Finding::new(
                "provenance-invalid",
                "more than one provenance attestation is served",
            ));
            Check::new(Status::Invalid, "more than one provenance attestation")
        }
    };
    // Only a verified publish attestation dates the publish.
    let publish = publish.filter(|_| publish_check.is_verified());
    AttestationsOutcome {
        publish_check,
        publish,
        provenance_check,
        identity,
    }
}

/// What the bundle carries, read **without** verification: only to pick a slot, a key, an
/// artifact digest to verify against, and to explain failures.
#[derive(Debug, Default)]
struct Carried {
    predicate_type: Option<String>,
    subjects: Option<Vec<(String, Option<String>)>>,
    hint: Option<String>,
    has_certificate: bool,
}

impl Carried {
    fn of(bundle: &Value) -> Carried {
        let material = &bundle["verificationMaterial"];
        let statement: Option<Value> = bundle
            .pointer("/dsseEnvelope/payload")
            .and_then(Value::as_str)
            .and_then(|p| base64::engine::general_purpose::STANDARD.decode(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok());
        let subjects = statement.as_ref().and_then(|s| {
            s.get("subject").and_then(Value::as_array).map(|a| {
                a.iter()
                    .map(|s| {
                        (
                            s["name"].as_str().unwrap_or_default().to_owned(),
                            s.pointer("/digest/sha512")
                                .and_then(Value::as_str)
                                .map(str::to_owned),
                        )
                    })
                    .collect()
            })
        });
        Carried {
            predicate_type: statement
                .as_ref()
                .and_then(|s| s["predicateType"].as_str())
                .map(str::to_owned),
            subjects,
            hint: material
                .pointer("/publicKey/hint")
                .and_then(Value::as_str)
                .map(str::to_owned),
            has_certificate: material.get("certificate").is_some()
                || material.get("x509CertificateChain").is_some(),
        }
    }
}

/// Verifies one attestation in its slot. Returns the part's check and, when the bundle itself
/// verified, the verified bundle (the check may still be invalid for npm-level reasons).
fn verify_slot(
    slot: Slot,
    entry: &AttestationEntry,
    carried: &Carried,
    input: &VersionInput<'_>,
    ctx: &VerifyContext<'_>,
    bind: &mut Binding,
    findings: &mut Vec<Finding>,
) -> (Check, Option<VerifiedBundle>) {
    let what = slot.name();
    let purl = purl_of(input.name, input.version);
    // Claimed (unsigned) subject vs the package: reported even if the crypto fails too.
    let mut subject_reported = false;
    if let Some(subjects) = &carried.subjects {
        if let [(name, digest)] = subjects.as_slice() {
            let digest_bad = digest.as_deref().is_some_and(|d| {
                bind.targets
                    .iter()
                    .any(|t| !hex::encode(t).eq_ignore_ascii_case(d))
            });
            bind.subject_mismatched |= digest_bad;
            if !subject_names(name, input.name, input.version) || digest_bad {
                subject_reported = true;
                findings.push(Finding::new(
                    "subject-mismatch",
                    format!(
                        "{what}: the subject {name:?} (sha512 {}) is not {purl} with the expected integrity",
                        digest.as_deref().unwrap_or("none")
                    ),
                ));
            }
        }
    }
    // Signer policy for the slot.
    let mut key_windows = Vec::new();
    let policy = match slot {
        Slot::Publish => {
            if carried.has_certificate {
                return (
                    fail(
                        findings,
                        what,
                        slot.invalid_code(),
                        "signed by a certificate; npm's publish attestation is key-based".into(),
                    ),
                    None,
                );
            }
            let Some(hint) = &carried.hint else {
                return (
                    fail(
                        findings,
                        what,
                        slot.invalid_code(),
                        "no publicKey.hint names the npm key".into(),
                    ),
                    None,
                );
            };
            let keyid = KeyId::new(hint.clone());
            let candidates = ctx.npm_keys.find(&keyid, KeyUsage::Attestations);
            let Some(first) = candidates.first() else {
                return (
                    fail(
                        findings,
                        what,
                        slot.invalid_code(),
                        format!(
                            "key {keyid} is not a known npm:attestations key; run \
                             `npm-provenance trust-roots update` to refresh the pinned keys"
                        ),
                    ),
                    None,
                );
            };
            key_windows = candidates.iter().map(|k| (*k).clone()).collect::<Vec<_>>();
            SignerPolicy::PublicKey {
                spki_der: first.spki_der.clone(),
            }
        }
        Slot::Provenance => SignerPolicy::Certificate {
            san: None,
            issuer: None,
        },
    };
    // The artifact: the integrity when known, else the subject's own claim (binding then
    // not checked, never reported as bound).
    let artifact = match bind.targets.first() {
        Some(t) => *t,
        None => match carried
            .subjects
            .as_deref()
            .and_then(|s| s.first())
            .and_then(|(_, d)| d.as_deref())
            .and_then(|d| hex::decode(d).ok())
            .and_then(|d| <[u8; 64]>::try_from(d.as_slice()).ok())
        {
            Some(d) => d,
            None => {
                return (
                    fail(
                        findings,
                        what,
                        slot.invalid_code(),
                        "the subject has no sha512 digest".into(),
                    ),
                    None,
                )
            }
        },
    };
    let verified = match verify_bundle(
        ctx.sigstore,
        &entry.bundle_bytes(),
        ArtifactRef::Sha512(artifact),
        &policy,
    ) {
        Ok(v) => v,
        // The carried subject was already found not to be this package: that is the finding
        // (the signature may be broken as well). Otherwise the step's own failure.
        Err(_) if subject_reported => {
            return (Check::new(Status::Invalid, "subject-mismatch"), None)
        }
        Err(e) => {
            // A hit input cap is reported as such (DESIGN §6), not as a bad signature.
            let code = if e.is_cap() {
                "metadata-too-large"
            } else {
                slot.invalid_code()
            };
            return (fail(findings, what, code, e.to_string()), None);
        }
    };
    let Some(statement) = verified.statement() else {
        return (
            fail(
                findings,
                what,
                slot.invalid_code(),
                "not a DSSE in-toto attestation".into(),
            ),
            None,
        );
    };
    // The signed statement.
    if statement.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return (
            fail(
                findings,
                what,
                slot.invalid_code(),
                format!("payloadType {:?}", statement.payload_type),
            ),
            None,
        );
    }
    if !STATEMENT_TYPES.contains(&statement.type_.as_str()) {
        return (
            fail(
                findings,
                what,
                slot.invalid_code(),
                format!("statement _type {:?}", statement.type_),
            ),
            None,
        );
    }
    if statement.predicate_type != entry.predicate_type {
        let code = match slot {
            Slot::Publish => "publish-attestation-invalid",
            Slot::Provenance => "provenance-inconsistent",
        };
        return (
            fail(
                findings,
                what,
                code,
                format!(
                    "the wrapper's predicateType {:?} is not the signed {:?}",
                    entry.predicate_type, statement.predicate_type
                ),
            ),
            None,
        );
    }
    if Slot::of(&statement.predicate_type) != Some(slot) {
        return (
            fail(
                findings,
                what,
                slot.invalid_code(),
                format!("signed predicateType {:?}", statement.predicate_type),
            ),
            None,
        );
    }
    let [subject] = statement.subjects.as_slice() else {
        return (
            fail(
                findings,
                what,
                slot.invalid_code(),
                format!(
                    "{} subjects, exactly one required",
                    statement.subjects.len()
                ),
            ),
            None,
        );
    };
    let signed_digest = subject.digest.get("sha512");
    let digest_ok = signed_digest.is_some_and(|d| {
        bind.targets
            .iter()
            .all(|t| hex::encode(t).eq_ignore_ascii_case(d))
    });
    bind.subject_mismatched |= !digest_ok && !bind.targets.is_empty();
    if !subject_names(&subject.name, input.name, input.version) || !digest_ok {
        if !subject_reported {
            findings.push(Finding::new(
                "subject-mismatch",
                format!(
                    "{what}: the signed subject {:?} is not {purl} with the expected integrity",
                    subject.name
                ),
            ));
        }
        return (
            Check::new(Status::Invalid, "subject-mismatch"),
            Some(verified),
        );
    }
    if !bind.targets.is_empty() {
        bind.compared += 1;
    }
    // Slot rules.
    let mut check = match slot {
        Slot::Publish => {
            if let Some(reason) = publish_rules(&verified, statement, carried, &key_windows, input)
            {
                return (
                    fail(findings, what, slot.invalid_code(), reason),
                    Some(verified),
                );
            }
            let mut c = Check::verified();
            c.keyid = carried.hint.clone();
            c.key_source = Some(ctx.npm_keys.source.as_str());
            c
        }
        Slot::Provenance => {
            if let Some(k) = verified.dsse_keyid() {
                return (
                    fail(
                        findings,
                        what,
                        slot.invalid_code(),
                        format!("unexpected DSSE keyid {k:?} on a certificate-signed bundle"),
                    ),
                    Some(verified),
                );
            }
            let Signer::Certificate(cert) = verified.signer() else {
                return (
                    fail(
                        findings,
                        what,
                        slot.invalid_code(),
                        "not certificate-signed".into(),
                    ),
                    Some(verified),
                );
            };
            match provenance::evaluate(&statement.predicate_type, &statement.predicate, cert) {
                Evaluation::Consistent { .. } => Check::verified(),
                Evaluation::NotEvaluated { reason } => {
                    findings.push(Finding::new(
                        "not-evaluated",
                        format!("provenance: {reason}; the predicate was not cross-checked against its certificate"),
                    ));
                    Check::new(
                        Status::Verified,
                        format!("predicate not cross-checked: {reason}"),
                    )
                }
                Evaluation::Inconsistent { problems } => {
                    return (
                        fail(
                            findings,
                            what,
                            "provenance-inconsistent",
                            problems.join("; "),
                        ),
                        Some(verified),
                    )
                }
            }
        }
    };
    if bind.targets.is_empty() {
        bind.unbound = true;
        let note = "subject digest not bound: no integrity known";
        check.reason = Some(match check.reason.take() {
            Some(r) => format!("{r}; {note}"),
            None => note.to_owned(),
        });
    }
    (check, Some(verified))
}

fn fail(findings: &mut Vec<Finding>, what: &str, code: &'static str, reason: String) -> Check {
    findings.push(Finding::new(code, format!("{what}: {reason}")));
    Check::new(Status::Invalid, reason)
}

/// Publish attestation rules beyond the bundle: the key valid at every signed time, the DSSE
/// keyid (unsigned) consistent with the hint, the predicate naming this version.
fn publish_rules(
    verified: &VerifiedBundle,
    statement: &Statement,
    carried: &Carried,
    keys: &[crate::trust::npm_keys::NpmKey],
    input: &VersionInput<'_>,
) -> Option<String> {
    let hint = carried.hint.as_deref().unwrap_or_default();
    for t in verified.times() {
        if !keys.iter().any(|k| k.valid_at(t.time)) {
            return Some(format!(
                "npm key {} was not valid for npm:attestations at the signed time {}",
                crate::util::escape_text(hint),
                t.time
            ));
        }
    }
    if let Some(k) = verified.dsse_keyid() {
        if k != hint {
            return Some(format!("the DSSE keyid {k:?} is not the key hint {hint:?}"));
        }
    }
    let name = statement.predicate.get("name").and_then(Value::as_str);
    let version = statement.predicate.get("version").and_then(Value::as_str);
    if name != Some(input.name) || version != Some(input.version) {
        return Some(format!(
            "the predicate names {:?}@{:?}, not {}@{}",
            name.unwrap_or_default(),
            version.unwrap_or_default(),
            input.name,
            input.version
        ));
    }
    None
}
