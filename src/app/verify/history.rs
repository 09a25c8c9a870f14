//! The publishing-history engine joined to `verify`: for every installed registry package, the
//! releases of its (full) packument, with the installed versions' **verified** facts overlaid
//! (signed publish time, verified provenance identity or invalid provenance), evaluated by
//! [`crate::policy::history::evaluate`]. Pure but for the baseline fetches: a function of the
//! fetched documents, the verified reports, an explicit `now` and, with verified baselines,
//! what the registry client answers for the baseline releases' attestations. `--no-history`
//! skips it (and fetches nothing extra).

use super::baselines::{Job, Results, Source};
use crate::findings::Finding;
use crate::inventory::Inventory;
use crate::policy::facts::overlay_verified;
use crate::policy::facts::HistoryFacts;
use crate::policy::history::{
    baseline_versions, evaluate_detailed, HistoryContext, HistoryFinding,
};
use crate::policy::ReleaseFacts;
use crate::policy::{BuildIdentity, Provenance, VerifiedFacts};
use crate::report::PackageReport;
use crate::util::escape_text;
use crate::verify::evidence::{Identity, Status};
use crate::verify::registry_signature::TimeSource;
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet};

/// Adds the history findings of each registry package to its report. With `baselines`, the
/// attestations of the releases each decision rests on are fetched and verified first and
/// overlaid (verified baselines, [`super::baselines`]); without, baselines stay announced.
/// `docs`: the history facts of each packument that is a full packument, by name (a name
/// without one gets no history findings: it carries a deny finding already).
pub(super) fn join(
    packages: &mut [PackageReport],
    inventory: &Inventory,
    mut docs: BTreeMap<String, HistoryFacts>,
    now: Timestamp,
    baselines: Option<&Source<'_>>,
) {
    let ctx = HistoryContext {
        now: Some(now),
        dependency_scripts: dependency_scripts(inventory),
    };
    // Verified facts of the installed versions, per registry name.
    let mut verified: BTreeMap<String, BTreeMap<String, VerifiedFacts>> = BTreeMap::new();
    let mut installed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in packages.iter().filter(|p| p.origin.is_registry()) {
        let name = p.registry_name().to_string();
        installed
            .entry(name.clone())
            .or_default()
            .insert(p.version.clone());
        if let Some(v) = verified_facts(p) {
            verified
                .entry(name)
                .or_default()
                .insert(p.version.clone(), v);
        }
    }
    // The releases of each name, with the installed versions' verified facts overlaid, and the
    // baseline work planned. The facts were read as each packument arrived
    // ([`super::digest`]: `history_view`, the reduced parse, then `facts_from_packument`).
    let mut releases_by_name: BTreeMap<String, Option<Vec<ReleaseFacts>>> = BTreeMap::new();
    let mut jobs = Vec::new();
    for (name, versions) in &installed {
        let releases = docs.remove(name).map(|doc| {
            let mut releases = doc.releases;
            if let Some(v) = verified.get(name) {
                overlay_verified(&mut releases, v);
            }
            if baselines.is_some() {
                jobs.extend(Job::plan(name, versions, &releases, &doc.announced, &ctx));
            }
            releases
        });
        releases_by_name.insert(name.clone(), releases);
    }
    let mut results: BTreeMap<String, Results> = BTreeMap::new();
    if let Some(source) = baselines {
        results = source.run(jobs).0;
        for (name, res) in &results {
            if let Some(Some(releases)) = releases_by_name.get_mut(name) {
                overlay_verified(releases, &res.overlay);
            }
        }
    }
    let no_results = Results::default();
    // Each package's evaluation reads only shared data: spread over the cores (a package with
    // thousands of releases costs milliseconds), then each package's findings appended.
    let evaluate_one = |p: &PackageReport| -> Vec<Finding> {
        if !p.origin.is_registry() {
            return Vec::new();
        }
        let name = p.registry_name().to_string();
        // No usable packument: the package already carries a deny finding — `unverifiable`
        // (not fetched, or rejected by the packument parser, which refuses all that
        // `facts_from_packument` refuses but a missing `versions` object) or, for a packument
        // without `versions`, `version-not-in-registry`. History has nothing to add.
        let Some(Some(releases)) = releases_by_name.get(&name) else {
            return Vec::new();
        };
        let have_gone = p
            .findings
            .iter()
            .any(|f| f.code == "version-not-in-registry");
        let res = results.get(&name).unwrap_or(&no_results);
        let mut found: Vec<Finding> = evaluate_detailed(releases, &p.version, &ctx)
            .into_iter()
            .filter(|f| !(have_gone && f.finding.code == "version-not-in-registry"))
            .map(|f| with_reasons(f, &res.notes))
            .collect();
        found.extend(baseline_invalid(
            &name,
            &p.version,
            releases,
            &ctx,
            &res.invalid,
        ));
        found
    };
    let found = super::map_on_cores(packages, evaluate_one);
    for (p, found) in packages.iter_mut().zip(found) {
        p.findings.extend(found);
    }
}

/// `baseline-invalid` for each release the decision on `version` rests on whose attestations
/// were fetched and did not verify: it counted as no provenance, which lowers what the history
/// expects, so the tampering itself is reported (fail closed).
fn baseline_invalid(
    name: &str,
    version: &str,
    releases: &[ReleaseFacts],
    ctx: &HistoryContext,
    invalid: &BTreeMap<String, String>,
) -> Vec<Finding> {
    if invalid.is_empty() {
        return Vec::new();
    }
    baseline_versions(releases, version, ctx)
        .into_iter()
        .filter_map(|b| {
            let why = invalid.get(&b)?;
            Some(Finding::new(
                "baseline-invalid",
                format!(
                    "{}@{}, a release the publishing-history decision on {} rests on, is served \
                     with attestations that did not verify ({why}): it counts as no provenance, \
                     never as verified evidence. Expected: the attestations the registry \
                     announces for it to verify.",
                    escape_text(name),
                    escape_text(&b),
                    escape_text(version)
                ),
            ))
        })
        .collect()
}

/// The finding, with why each baseline release it cites was not verified (or did not verify)
/// appended, when known.
fn with_reasons(f: HistoryFinding, why: &BTreeMap<String, String>) -> Finding {
    let reasons: Vec<String> = f
        .evidence
        .expected
        .iter()
        .filter(|r| r.provenance == "announced" || r.provenance == "invalid")
        .filter_map(|r| {
            why.get(&r.version)
                .map(|w| format!("{}: {w}", escape_text(&r.version)))
        })
        .collect();
    let mut finding = f.finding;
    if !reasons.is_empty() {
        finding.message = format!("{} Per release: {}.", finding.message, reasons.join("; "));
    }
    finding
}

/// `name@version` → whether it has an install script, from a lockfile (`hasInstallScript`);
/// unknown for a `node_modules` walk.
fn dependency_scripts(inventory: &Inventory) -> BTreeMap<String, Option<bool>> {
    inventory
        .registry_packages()
        .map(|p| {
            (
                format!("{}@{}", p.name, p.version),
                inventory.binds_bytes.then_some(p.has_install_script),
            )
        })
        .collect()
}

/// What verification established about an installed version: its signed publish time and its
/// provenance state. `None` when nothing was verified either way.
fn verified_facts(p: &PackageReport) -> Option<VerifiedFacts> {
    let signed_time = p
        .published
        .filter(|t| t.source == TimeSource::Rekor)
        .and_then(|t| t.time);
    let provenance = match p.provenance.status {
        Status::Verified => p
            .identity
            .as_ref()
            .and_then(build_identity)
            .map(Provenance::verified),
        Status::Invalid => Some(Provenance::Invalid),
        _ => None,
    };
    (signed_time.is_some() || provenance.is_some()).then_some(VerifiedFacts {
        signed_time,
        provenance,
    })
}

/// The engine's view of a verified certificate identity. The workflow is rebuilt as the Build
/// Config URI (`REPO/PATH@REF`) from the verified repository, caller workflow path and ref.
pub(super) fn build_identity(id: &Identity) -> Option<BuildIdentity> {
    let repository = id.source_repository_uri.clone()?;
    let path = id.workflow_path.as_deref()?;
    let workflow = match &id.git_ref {
        Some(r) => format!("{}/{path}@{r}", repository.trim_end_matches('/')),
        None => format!("{}/{path}", repository.trim_end_matches('/')),
    };
    Some(BuildIdentity {
        issuer: id.issuer.clone()?,
        repository,
        repository_id: id.source_repository_id.clone(),
        workflow,
        source_ref: id.git_ref.clone(),
        trigger: id.trigger.clone(),
        runner: id.runner_environment.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_identity_needs_issuer_repository_and_workflow() {
        let mut id = Identity {
            issuer: Some("https://token.actions.githubusercontent.com".into()),
            source_repository_uri: Some("https://github.com/o/r".into()),
            workflow_path: Some(".github/workflows/release.yml".into()),
            git_ref: Some("refs/tags/v1.0.0".into()),
            ..Identity::default()
        };
        let b = build_identity(&id).unwrap();
        assert_eq!(
            b.workflow,
            "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1.0.0"
        );
        assert_eq!(b.workflow_file(), ".github/workflows/release.yml");
        assert_eq!(b.ref_kind(), Some("tag"));
        id.issuer = None;
        assert!(build_identity(&id).is_none());
    }
}
