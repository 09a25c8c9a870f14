//! Reports: one model ([`Report`]) built once from the inventory and the per-package evidence,
//! and renderers ([`json`], [`text`], [`sarif`], [`github`]) that only read it; [`locate`]
//! points findings at lockfile lines for the CI formats.
//!
//! The JSON form is the contract `npm-provenance/report/v1` (documented in `docs/report.md`):
//! within v1 fields and enum values are only added; lists are sorted; the only times are signed
//! or recorded ones. Levels are final in the model: `--allow-unverifiable` and (later) the
//! policy file are applied by [`Report::build`], and the exit code is read from the model by
//! [`Report::fails_at`].

pub mod github;
pub mod json;
pub mod locate;
pub mod sarif;
pub mod text;

use crate::findings::{Finding, Level};
use crate::inventory::{Inventory, InventoryKind, Origin, PackageRef};
use crate::verify::evidence::{Check, Identity, Published, Status, VersionEvidence};
use serde::Serialize;

/// JSON schema id of `verify --format json`.
pub const SCHEMA: &str = "npm-provenance/report/v1";

/// The whole report of one `verify` run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub inventory: InventoryInfo,
    /// What "now" was for the time-dependent rules (exclusion expiry, history age rules).
    pub clock: Clock,
    pub summary: Summary,
    /// Run-level findings (inventory, registry), sorted by level (deny first), code, message.
    pub findings: Vec<Finding>,
    /// Every package, sorted by (name, version, origin, registry, paths).
    pub packages: Vec<PackageReport>,
    /// The registry data came from a snapshot (`verify --snapshot`). Not in the JSON, which
    /// stays byte-identical to the live run's; the text output says it.
    #[serde(skip)]
    pub snapshot: Option<SnapshotNote>,
}

/// The clock the time-dependent rules were evaluated at: the system clock (its value is not
/// recorded, so the report stays identical across runs over the same inputs) or the one
/// pinned by `--danger-now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum Clock {
    System,
    DangerNow { now: jiff::Timestamp },
}

/// Where the registry data of a replayed run came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotNote {
    pub dir: String,
    pub taken_at: jiff::Timestamp,
}

/// Where the inventory came from.
#[derive(Debug, Clone, Serialize)]
pub struct InventoryInfo {
    pub kind: InventoryKind,
    pub path: String,
    /// False when nothing binds the installed bytes (a `node_modules` walk).
    pub binds_bytes: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
}

/// Counts for the summary line and for dashboards.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Lockfile entries (installed locations) read.
    pub entries: usize,
    /// Packages in the report (every origin).
    pub packages: usize,
    /// Registry packages whose registry signature verified, whose attestations (if any)
    /// verified, and that carry no `deny` finding.
    pub verified: usize,
    /// Registry packages with verified provenance.
    pub with_provenance: usize,
    /// Registry packages without a provenance attestation (none published).
    pub without_provenance: usize,
    /// Registry packages with at least one part `invalid`.
    pub invalid: usize,
    /// Registry packages whose registry serves no signature.
    pub missing_signature: usize,
    /// Registry packages with a part that could not be checked (fetch failure, bad response).
    pub unverifiable: usize,
    /// Workspace, link, git, file and tarball-URL packages (shown, never verified).
    pub not_from_registry: usize,
    /// Packages shipped inside another package's tarball (covered by it, not fetched).
    pub bundled: usize,
    /// Findings by level, run-level and per package.
    pub findings: LevelCounts,
    /// Findings dropped by policy (`allow`); always 0 until the policy file lands.
    pub suppressed: usize,
}

/// Findings per level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LevelCounts {
    pub deny: usize,
    pub warn: usize,
    pub info: usize,
}

impl LevelCounts {
    fn add(&mut self, level: Level) {
        match level {
            Level::Deny => self.deny += 1,
            Level::Warn => self.warn += 1,
            Level::Info => self.info += 1,
        }
    }
}

/// One package of the inventory and what was verified about it.
#[derive(Debug, Clone, Serialize)]
pub struct PackageReport {
    /// The installed name (the alias for an npm alias).
    pub name: String,
    pub version: String,
    pub origin: Origin,
    /// The registry name when installed under an alias.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real_name: Option<String>,
    /// The configured registry (empty for packages not from a registry).
    pub registry: String,
    /// Every installed location, sorted.
    pub paths: Vec<String>,
    /// The lockfile's integrity (SRI), if it pins one.
    pub lockfile_integrity: Option<String>,
    /// The packument's `dist.integrity`, if fetched.
    pub registry_integrity: Option<String>,
    pub registry_signature: Check,
    pub provenance: Check,
    pub publish_attestation: Check,
    /// Agreement of the lockfile, registry and attestation subject integrities.
    pub integrity: Check,
    /// The publish time used for key windows, with its source.
    pub published: Option<Published>,
    pub identity: Option<Identity>,
    /// Sorted by level (deny first), code, message.
    pub findings: Vec<Finding>,
}

impl PackageReport {
    /// A registry package with its verified evidence. `extra` holds findings of the run that
    /// concern this package (inventory findings, fetch failures).
    pub fn registry(
        p: &PackageRef,
        registry_integrity: Option<String>,
        evidence: VersionEvidence,
        extra: Vec<Finding>,
    ) -> PackageReport {
        let mut findings = p.findings.clone();
        findings.extend(evidence.findings);
        findings.extend(extra);
        PackageReport {
            registry_signature: evidence.registry_signature,
            provenance: evidence.provenance,
            publish_attestation: evidence.publish_attestation,
            integrity: evidence.integrity,
            published: Some(evidence.published),
            identity: Some(evidence.identity),
            registry_integrity,
            findings,
            ..PackageReport::base(p)
        }
    }

    /// A registry package whose evidence could not be obtained at all (packument fetch failed,
    /// unusable, or without the version). Every part is `status`; `findings` says why.
    pub fn without_evidence(
        p: &PackageRef,
        status: Status,
        reason: &str,
        extra: Vec<Finding>,
    ) -> PackageReport {
        let mut findings = p.findings.clone();
        findings.extend(extra);
        let c = Check::new(status, reason);
        PackageReport {
            registry_signature: c.clone(),
            provenance: c.clone(),
            publish_attestation: c.clone(),
            integrity: c,
            findings,
            ..PackageReport::base(p)
        }
    }

    /// A package that is not fetched from a registry (workspace, link, git, file, tarball URL)
    /// or is bundled inside its parent's tarball: nothing of it is verified here.
    pub fn not_fetched(p: &PackageRef) -> PackageReport {
        PackageReport::base(p)
    }

    fn base(p: &PackageRef) -> PackageReport {
        let reason = if p.origin == Origin::Bundled {
            "bundled in its parent's tarball (covered by the parent's integrity)"
        } else {
            "not from a registry"
        };
        let na = Check::new(Status::NotApplicable, reason);
        PackageReport {
            name: p.alias.clone().unwrap_or_else(|| p.name.clone()),
            version: p.version.clone(),
            origin: p.origin,
            real_name: p.alias.as_ref().map(|_| p.name.clone()),
            registry: p.registry.clone(),
            paths: p.paths.clone(),
            lockfile_integrity: p.integrity.as_ref().map(|i| i.to_string()),
            registry_integrity: None,
            registry_signature: na.clone(),
            provenance: na.clone(),
            publish_attestation: na.clone(),
            integrity: na,
            published: None,
            identity: None,
            findings: p.findings.clone(),
        }
    }

    /// The name verified against the registry.
    pub fn registry_name(&self) -> &str {
        self.real_name.as_deref().unwrap_or(&self.name)
    }

    /// The highest level among the findings.
    pub fn max_level(&self) -> Option<Level> {
        self.findings.iter().map(|f| f.level).max()
    }

    fn parts(&self) -> [&Check; 4] {
        [
            &self.registry_signature,
            &self.provenance,
            &self.publish_attestation,
            &self.integrity,
        ]
    }
}

/// How levels are adjusted before the report is final.
#[derive(Debug, Clone, Copy, Default)]
pub struct LevelOptions {
    /// `--allow-unverifiable`: `unverifiable` becomes `warn`.
    pub allow_unverifiable: bool,
}

impl LevelOptions {
    fn apply(&self, f: &mut Finding) {
        if self.allow_unverifiable && f.code == "unverifiable" {
            f.level = Level::Warn;
        }
    }
}

impl Report {
    /// Assembles the report: adjusts levels, sorts everything, counts the summary.
    pub fn build(
        inventory: &Inventory,
        mut packages: Vec<PackageReport>,
        mut findings: Vec<Finding>,
        levels: LevelOptions,
    ) -> Report {
        for f in findings.iter_mut() {
            levels.apply(f);
        }
        sort_findings(&mut findings);
        findings.dedup();
        for p in packages.iter_mut() {
            for f in p.findings.iter_mut() {
                levels.apply(f);
            }
            sort_findings(&mut p.findings);
            p.findings.dedup();
        }
        packages.sort_by(|a, b| {
            (&a.name, &a.version, a.origin, &a.registry, &a.paths).cmp(&(
                &b.name,
                &b.version,
                b.origin,
                &b.registry,
                &b.paths,
            ))
        });
        let summary = summarize(inventory.counts.entries, &packages, &findings);
        Report {
            schema: SCHEMA,
            inventory: InventoryInfo {
                kind: inventory.source.kind,
                path: inventory.source.path.display().to_string(),
                binds_bytes: inventory.binds_bytes,
                workspace: inventory.source.workspace.clone(),
            },
            clock: Clock::System,
            summary,
            findings,
            packages,
            snapshot: None,
        }
    }

    /// Whether any finding (run-level or per package) is at or above `level`: the exit code.
    pub fn fails_at(&self, level: Level) -> bool {
        self.all_findings().any(|f| f.level >= level)
    }

    /// Every finding of the run, run-level first.
    pub fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .chain(self.packages.iter().flat_map(|p| p.findings.iter()))
    }
}

/// Deny first, then code, then message.
fn sort_findings(f: &mut [Finding]) {
    f.sort_by(|a, b| {
        (std::cmp::Reverse(a.level), a.code, &a.message).cmp(&(
            std::cmp::Reverse(b.level),
            b.code,
            &b.message,
        ))
    });
}

fn summarize(entries: usize, packages: &[PackageReport], run: &[Finding]) -> Summary {
    let mut s = Summary {
        entries,
        packages: packages.len(),
        ..Summary::default()
    };
    for f in run {
        s.findings.add(f.level);
    }
    for p in packages {
        for f in &p.findings {
            s.findings.add(f.level);
        }
        match p.origin {
            Origin::Bundled => {
                s.bundled += 1;
                continue;
            }
            o if !o.is_registry() => {
                s.not_from_registry += 1;
                continue;
            }
            _ => {}
        }
        let parts = p.parts();
        let any = |st: Status| parts.iter().any(|c| c.status == st);
        if p.provenance.status == Status::Verified {
            s.with_provenance += 1;
        }
        if p.provenance.status == Status::Missing && p.publish_attestation.status != Status::Invalid
        {
            s.without_provenance += 1;
        }
        if any(Status::Invalid) {
            s.invalid += 1;
        }
        if p.registry_signature.status == Status::Missing {
            s.missing_signature += 1;
        }
        let unverifiable =
            any(Status::Unverifiable) || p.findings.iter().any(|f| f.code == "unverifiable");
        if unverifiable {
            s.unverifiable += 1;
        }
        if is_verified(p) {
            s.verified += 1;
        }
    }
    s
}

/// Verified: the lockfile pins the bytes (an integrity of its own: without one, what gets
/// installed is bound to nothing we checked, even when the registry's own data is consistent),
/// the registry signature and the integrity binding verified, the attestations are verified or
/// legitimately absent, and no finding denies. Fail closed: anything else is not.
fn is_verified(p: &PackageReport) -> bool {
    let att_ok = |c: &Check| {
        matches!(c.status, Status::Verified | Status::NotApplicable)
            || (c.status == Status::Missing && !p.findings.iter().any(|f| f.level == Level::Deny))
    };
    p.lockfile_integrity.is_some()
        && p.registry_signature.is_verified()
        && matches!(p.integrity.status, Status::Verified)
        && att_ok(&p.provenance)
        && att_ok(&p.publish_attestation)
        && p.max_level() != Some(Level::Deny)
}

#[cfg(test)]
mod tests;
