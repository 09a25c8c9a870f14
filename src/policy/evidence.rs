//! How a history finding cites releases: the evidence (expected baseline, seen release) in
//! JSON, and the readable paragraph built from it.

use super::facts::{Publisher, ReleaseFacts};
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
            format!("the latest releases of line {}", escape_text(&line))
        } else {
            "first release of its line: the package's latest releases".to_string()
        },
        parts.join("; ")
    )
}
