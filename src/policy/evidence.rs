//! How a history finding cites releases: the evidence (expected baseline, seen release) in
//! JSON, and the readable paragraph built from it.

use super::facts::{Provenance, Publisher, ReleaseFacts};
use super::history::EvidenceClass;
use super::version;
use crate::util::escape_text;
use jiff::Timestamp;
use serde::Serialize;

/// One release as a finding cites it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseRef {
    pub version: String,
    pub time: Option<Timestamp>,
    pub time_source: &'static str,
    pub class: EvidenceClass,
    pub provenance: &'static str,
    pub publisher: Option<Publisher>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
}

impl ReleaseRef {
    pub(super) fn of(r: &ReleaseFacts) -> ReleaseRef {
        let id = r.provenance.identity();
        ReleaseRef {
            version: r.version.clone(),
            time: r.time,
            time_source: r.time_source.as_str(),
            class: EvidenceClass::of(r),
            provenance: r.provenance.as_str(),
            publisher: r.publisher.clone(),
            repository: id.map(|i| i.repository.clone()),
            workflow: id.map(|i| i.workflow_path().to_string()),
        }
    }

    /// `1.14.0 (2026-03-27T…Z, registry-unsigned; trusted-publisher, provenance announced, by x <y>)`
    pub(super) fn describe(&self) -> String {
        let time = self
            .time
            .map(|t| t.to_string())
            .unwrap_or_else(|| "no time".into());
        let mut s = format!(
            "{} ({time}, {}; class {}, provenance {}",
            escape_text(&self.version),
            self.time_source,
            self.class.as_str(),
            self.provenance
        );
        if let Some(p) = &self.publisher {
            s.push_str(&format!(", by {}", describe_publisher(p)));
        }
        if let (Some(repo), Some(wf)) = (&self.repository, &self.workflow) {
            s.push_str(&format!(
                ", from {} workflow {}",
                escape_text(repo),
                escape_text(wf)
            ));
        }
        s.push(')');
        s
    }
}

/// What a history finding compared: the baseline it expected and the release it saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The releases that set the expectation (most recent first).
    pub expected: Vec<ReleaseRef>,
    /// The class the expectation asks for (the baseline's highest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_class: Option<EvidenceClass>,
    pub seen: ReleaseRef,
    /// The baseline's provenance is only announced (not verified): the decision was made on
    /// the announced evidence.
    pub baseline_unverified: bool,
    /// How the baseline's provenance is established: `verified`, `announced` (some release's
    /// provenance only announced), `invalid` (some release's attestations did not verify: it
    /// counts as no provenance), `no-provenance` (nothing to verify) or `none` (no baseline).
    pub baseline_evidence: BaselineEvidence,
}

/// How the provenance of a finding's baseline is established (strongest doubt wins:
/// `invalid` over `announced` over `verified`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BaselineEvidence {
    /// Every baseline release with provenance has verified provenance.
    Verified,
    /// At least one baseline release's provenance is only announced (not verified).
    Announced,
    /// At least one baseline release's attestations were fetched and did not verify.
    Invalid,
    /// No baseline release has provenance, announced or verified: nothing to verify.
    NoProvenance,
    /// There is no baseline.
    None,
}

impl BaselineEvidence {
    pub fn as_str(self) -> &'static str {
        match self {
            BaselineEvidence::Verified => "verified",
            BaselineEvidence::Announced => "announced",
            BaselineEvidence::Invalid => "invalid",
            BaselineEvidence::NoProvenance => "no-provenance",
            BaselineEvidence::None => "none",
        }
    }

    pub(super) fn of(baseline: &[&ReleaseFacts]) -> BaselineEvidence {
        let any = |f: fn(&Provenance) -> bool| baseline.iter().any(|b| f(&b.provenance));
        if baseline.is_empty() {
            BaselineEvidence::None
        } else if any(|p| matches!(p, Provenance::Invalid)) {
            BaselineEvidence::Invalid
        } else if any(|p| matches!(p, Provenance::Announced)) {
            BaselineEvidence::Announced
        } else if any(|p| matches!(p, Provenance::Verified(_))) {
            BaselineEvidence::Verified
        } else {
            BaselineEvidence::NoProvenance
        }
    }
}

/// The sentence every history finding ends with: whether the provenance of its baseline was
/// verified, only announced, or did not verify (naming the releases). `None` without a
/// baseline.
pub(super) fn describe_baseline_evidence(baseline: &[&ReleaseFacts]) -> Option<String> {
    let list = |f: fn(&Provenance) -> bool| {
        let v: Vec<String> = baseline
            .iter()
            .filter(|b| f(&b.provenance))
            .map(|b| escape_text(&b.version))
            .collect();
        v.join(", ")
    };
    let verified = list(|p| matches!(p, Provenance::Verified(_)));
    let announced = list(|p| matches!(p, Provenance::Announced));
    let invalid = list(|p| matches!(p, Provenance::Invalid));
    let also = |label: &str, v: &str| {
        if v.is_empty() {
            String::new()
        } else {
            format!("; {label}: {v}")
        }
    };
    let s = match BaselineEvidence::of(baseline) {
        BaselineEvidence::None => return None,
        BaselineEvidence::Invalid => format!(
            "Baseline evidence: invalid: the attestations of {invalid} did not verify, so they \
             count as no provenance (never as verified evidence){}{}.",
            also("verified", &verified),
            also("announced, not verified", &announced)
        ),
        BaselineEvidence::Announced => format!(
            "Baseline evidence: announced, not verified ({announced}){}; decided on the \
             announced evidence.",
            also("verified", &verified)
        ),
        BaselineEvidence::Verified => format!(
            "Baseline evidence: verified (the attestations of {verified} verified against the \
             pinned trust roots)."
        ),
        BaselineEvidence::NoProvenance => {
            "Baseline evidence: no baseline release has provenance (nothing to verify).".into()
        }
    };
    Some(s)
}

pub(super) fn describe_publisher(p: &Publisher) -> String {
    format!("{} <{}>", escape_text(&p.name), escape_text(&p.email))
}

pub(super) fn describe_baseline(r: &ReleaseFacts, baseline: &[&ReleaseFacts]) -> String {
    if baseline.is_empty() {
        return "no earlier release".into();
    }
    let line = version::line(&r.version);
    let of_line = baseline.iter().all(|b| version::line(&b.version) == line);
    let parts: Vec<String> = baseline
        .iter()
        .map(|b| ReleaseRef::of(b).describe())
        .collect();
    format!(
        "the baseline ({}): {}",
        if of_line {
            format!(
                "the latest releases of line {}",
                escape_text(&line.to_string())
            )
        } else {
            "first release of its line: the package's latest releases".to_string()
        },
        parts.join("; ")
    )
}
