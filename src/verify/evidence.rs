//! `VersionEvidence`: what was verified for one `NAME@VERSION`, and who built and published it.
//!
//! This is also the JSON contract of `verify`'s per-package fields and of `inspect`'s
//! `evidence` (schema `npm-provenance/inspect/v1`). Within v1 fields and enum values are only
//! added. Statuses are kebab-case: `verified|invalid|missing|unverifiable|not-checked|
//! not-applicable`. A part is `verified` only when every check of that part ran and held.

use crate::findings::Finding;
use serde::Serialize;

/// The outcome of one part of the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Every check of the part ran and held.
    Verified,
    /// The part is present and a check failed.
    Invalid,
    /// The part should be there and is not.
    Missing,
    /// The part could not be checked (fetch failed, bad registry response, no publish time).
    Unverifiable,
    /// The input the part needs was not supplied (e.g. offline `inspect` without a packument).
    NotChecked,
    /// The part does not exist for this version and none is expected.
    NotApplicable,
}

impl Status {
    /// The kebab-case spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Verified => "verified",
            Status::Invalid => "invalid",
            Status::Missing => "missing",
            Status::Unverifiable => "unverifiable",
            Status::NotChecked => "not-checked",
            Status::NotApplicable => "not-applicable",
        }
    }
}

/// One part: `{"status", "reason"?, "keyid"?, "key_source"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub status: Status,
    /// Why the part is not verified (or a note on a verified one), for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The npm key that verified (registry signature, publish attestation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyid: Option<String>,
    /// `pinned|user-file|registry-unpinned`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_source: Option<&'static str>,
}

impl Check {
    /// A part with this status and reason.
    pub fn new(status: Status, reason: impl Into<String>) -> Check {
        Check {
            status,
            reason: Some(reason.into()),
            keyid: None,
            key_source: None,
        }
    }

    /// A verified part without a note.
    pub fn verified() -> Check {
        Check {
            status: Status::Verified,
            reason: None,
            keyid: None,
            key_source: None,
        }
    }

    /// Whether the part verified.
    pub fn is_verified(&self) -> bool {
        self.status == Status::Verified
    }
}

/// When the version was published, and where that time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Published {
    /// RFC 3339 UTC, `null` when unknown.
    pub time: Option<jiff::Timestamp>,
    /// `rekor|tsa` (signed), `registry-unsigned` (the packument's `time`), or `none`.
    pub source: crate::verify::registry_signature::TimeSource,
}

/// The publishing identity. Build fields come only from a **verified** provenance certificate
/// (and its verified predicate); `npm_user` comes from the packument's `_npmUser` (unsigned).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// OIDC issuer of the provenance certificate.
    pub issuer: Option<String>,
    /// The certificate SAN (a reusable workflow when one signed).
    pub san: Option<String>,
    /// `https://github.com/owner/repo` (`.12`, or the legacy `.5`).
    pub source_repository_uri: Option<String>,
    /// Numeric repository id (`.15`).
    pub source_repository_id: Option<String>,
    /// Numeric owner id (`.17`).
    pub owner_id: Option<String>,
    /// The commit built (`.13`, or the legacy `.3`).
    pub commit: Option<String>,
    /// The caller's workflow path, from the Build Config URI (`.18`); for certificates without
    /// it, from the SAN.
    pub workflow_path: Option<String>,
    /// The git ref (`.14`, or the legacy `.6`).
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// The event that triggered the build (`.20`, or the legacy `.2`).
    pub trigger: Option<String>,
    /// `github-hosted` / `self-hosted` (`.11`).
    pub runner_environment: Option<String>,
    /// The run (`.21`).
    pub run_uri: Option<String>,
    /// The builder id of the verified predicate.
    pub builder_id: Option<String>,
    /// The SLSA dialect of the verified predicate (`slsa-v1`, `slsa-v0.2`).
    pub provenance_dialect: Option<String>,
    /// `_npmUser` of the packument (unsigned registry data).
    pub npm_user: Option<NpmUserIdentity>,
}

/// `_npmUser` as reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NpmUserIdentity {
    pub name: Option<String>,
    pub email: Option<String>,
    /// `trustedPublisher.id` (e.g. `github`) when the version was published by trusted publishing.
    pub trusted_publisher: Option<String>,
    /// `trustedPublisher.oidcConfigId`.
    pub trusted_publisher_config: Option<String>,
    /// The approver of a staged publish, `name <email>` as given.
    pub approver: Option<String>,
}

/// Everything known about one version after verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionEvidence {
    /// The registry's signature over `NAME@VERSION:INTEGRITY`.
    pub registry_signature: Check,
    /// npm's publish attestation.
    pub publish_attestation: Check,
    /// The SLSA provenance attestation.
    pub provenance: Check,
    /// Agreement of the expected integrity, `dist.integrity`, the tarball and the subjects.
    pub integrity: Check,
    /// The publish time used for key windows.
    pub published: Published,
    pub identity: Identity,
    /// Sorted by code, then message.
    pub findings: Vec<Finding>,
}
