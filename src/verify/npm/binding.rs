//! Step 1: the integrity sources of a version (the expected integrity, the tarball's sha512,
//! `dist.integrity` and `dist.shasum`) compared per algorithm present on both sides, and the
//! sha512 digests the attestation subjects must equal.

use super::VersionInput;
use crate::findings::Finding;
use crate::inventory::integrity::{Hash, HashAlg, Integrity};
use crate::verify::evidence::{Check, Status};

/// The integrity sources and the comparisons made between them and the subjects.
pub(super) struct Binding {
    /// sha512 digests the subjects must equal (every one of them).
    pub(super) targets: Vec<[u8; 64]>,
    pub(super) compared: usize,
    /// An attestation verified without a digest to bind its subject to.
    pub(super) unbound: bool,
    mismatched: bool,
    /// A subject digest differed from the integrity.
    pub(super) subject_mismatched: bool,
    unusable: Option<String>,
}

impl Binding {
    pub(super) fn new(input: &VersionInput<'_>, findings: &mut Vec<Finding>) -> Binding {
        let mut b = Binding {
            targets: Vec::new(),
            compared: 0,
            unbound: false,
            mismatched: false,
            subject_mismatched: false,
            unusable: None,
        };
        let expected: Option<Vec<Hash>> = input
            .expected_integrity
            .as_ref()
            .map(|i| i.hashes().to_vec());
        let tarball: Option<Vec<Hash>> = input.tarball_sha512.map(|d| {
            vec![Hash {
                alg: HashAlg::Sha512,
                digest: d.to_vec(),
            }]
        });
        let dist = input.packument_version.and_then(|v| {
            let mut hashes = Vec::new();
            if let Some(text) = &v.dist.integrity {
                match Integrity::parse(text) {
                    Ok(i) => hashes.extend(i.hashes().iter().cloned()),
                    Err(e) => {
                        b.unusable = Some(format!("dist.integrity does not parse: {e}"));
                        findings.push(Finding::new(
                            "unverifiable",
                            format!("the registry's dist.integrity does not parse: {e}"),
                        ));
                    }
                }
            }
            if let Some(shasum) = &v.dist.shasum {
                match hex::decode(shasum.trim()) {
                    Ok(d) if d.len() == 20 => hashes.push(Hash {
                        alg: HashAlg::Sha1,
                        digest: d,
                    }),
                    _ => {
                        b.unusable = Some("dist.shasum is not 40 hex digits".into());
                        findings.push(Finding::new(
                            "unverifiable",
                            "the registry's dist.shasum is not 40 hex digits",
                        ));
                    }
                }
            }
            (!hashes.is_empty()).then_some(hashes)
        });
        let sources = [
            ("the expected integrity", expected),
            ("the tarball's sha512", tarball),
            ("the registry's dist.integrity", dist),
        ];
        for (i, (a_name, a)) in sources.iter().enumerate() {
            for (b_name, other) in sources.iter().skip(i + 1) {
                if let (Some(a), Some(other)) = (a, other) {
                    match agree(a, other) {
                        Some(true) => b.compared += 1,
                        Some(false) => {
                            b.mismatched = true;
                            findings.push(Finding::new(
                                "integrity-mismatch",
                                format!("{a_name} differs from {b_name}"),
                            ));
                        }
                        None => {}
                    }
                }
            }
        }
        for (_, hashes) in &sources {
            for h in hashes.iter().flatten() {
                if h.alg == HashAlg::Sha512 {
                    if let Ok(d) = <[u8; 64]>::try_from(h.digest.as_slice()) {
                        if !b.targets.contains(&d) {
                            b.targets.push(d);
                        }
                    }
                }
            }
        }
        b
    }

    /// The integrity part, once the subjects have been compared too.
    pub(super) fn finish(&self, findings: &mut Vec<Finding>) -> Check {
        if self.mismatched {
            return Check::new(Status::Invalid, "integrity-mismatch");
        }
        if self.subject_mismatched {
            return Check::new(Status::Invalid, "subject-mismatch");
        }
        if let Some(reason) = &self.unusable {
            return Check::new(Status::Unverifiable, reason.clone());
        }
        if self.compared > 0 {
            return Check::verified();
        }
        if !self.unbound {
            return Check::new(Status::NotChecked, "no second integrity source to compare");
        }
        findings.push(Finding::new(
            "not-checked",
            "integrity: nothing to bind the version's bytes to (no expected integrity, tarball, \
             or registry integrity compared)",
        ));
        Check::new(Status::NotChecked, "no integrity sources to compare")
    }
}

/// Per algorithm present on both sides: `Some(true)` if every shared algorithm has an equal
/// digest, `Some(false)` if one does not, `None` if no algorithm is shared.
fn agree(a: &[Hash], b: &[Hash]) -> Option<bool> {
    let mut shared = false;
    for alg in [
        HashAlg::Sha512,
        HashAlg::Sha384,
        HashAlg::Sha256,
        HashAlg::Sha1,
    ] {
        let mine: Vec<&Hash> = a.iter().filter(|h| h.alg == alg).collect();
        let theirs: Vec<&Hash> = b.iter().filter(|h| h.alg == alg).collect();
        if mine.is_empty() || theirs.is_empty() {
            continue;
        }
        shared = true;
        if !mine
            .iter()
            .all(|m| theirs.iter().all(|t| t.digest == m.digest))
        {
            return Some(false);
        }
    }
    shared.then_some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agree_per_shared_algorithm() {
        let h = |alg, b: u8| Hash {
            alg,
            digest: vec![b; alg_len(alg)],
        };
        fn alg_len(a: HashAlg) -> usize {
            a.digest_len()
        }
        let a = vec![h(HashAlg::Sha512, 1), h(HashAlg::Sha1, 2)];
        assert_eq!(agree(&a, &[h(HashAlg::Sha1, 2)]), Some(true));
        assert_eq!(agree(&a, &[h(HashAlg::Sha1, 3)]), Some(false));
        assert_eq!(agree(&a, &[h(HashAlg::Sha256, 3)]), None);
        assert_eq!(
            agree(&a, &[h(HashAlg::Sha512, 1), h(HashAlg::Sha1, 9)]),
            Some(false)
        );
    }
}
