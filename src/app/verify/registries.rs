//! The policy file's `[[registry]]` entries in `verify` (format: `docs/policy.md`).
//!
//! A package's registry is the one its metadata is fetched from (`FetchPlan::registries`: the
//! registry its scope maps to, or `--metadata-registry`); it is matched to an entry by
//! normalised URL ([`Policy::registry_for`]).
//!
//! - `keys = "FILE"`: that registry's signatures (and publish attestations) are checked with the
//!   keys of FILE (`key_source: pinned`); its own `/-/npm/v1/keys` is never fetched. `--npm-keys`
//!   still wins over the file (flags > file). The file is read before any work: unreadable or
//!   malformed is exit 2 naming it.
//! - `signatures = "none"`: the registry does not sign. Its packages' registry signature is
//!   `not-applicable` (any `dist.signatures` it serves are ignored, not checked), and the run
//!   carries one `registry-unsigned` (warn) per such registry it used. Publish attestations and
//!   provenance, when present, are still verified, with the pinned npm keys (`--npm-keys`, else
//!   the stored/embedded keys of the public registry), never keys the registry serves; integrity
//!   and history are checked as for any package. Such a package never counts as `verified` in
//!   the summary: nothing signed binds its bytes to the registry (docs/report.md).
//! - An entry naming a registry the run never used is `policy-rule-unused` (info).

use super::Config;
use crate::error::AppError;
use crate::findings::Finding;
use crate::policy::config::{Policy, RegistrySignatures};
use crate::registry::packument::PackumentVersion;
use crate::registry::plan::{self, FetchPlan, FetchedEvidence};
use crate::report::PackageReport;
use crate::trust::npm_keys::{KeySource, NpmKeys};
use crate::verify::evidence::{Check, Status};
use std::collections::{BTreeMap, BTreeSet};
use url::Url;

/// Largest keys file read (bytes); real ones are a few kB.
const MAX_KEYS_BYTES: u64 = 1024 * 1024;

/// The `Check::reason` of a registry signature that is not applicable by policy.
pub(in crate::app) const UNSIGNED_REASON: &str = "registry-unsigned-by-policy";

/// The keys files of the policy's `[[registry]]` entries, read and parsed once.
#[derive(Debug, Default)]
pub(super) struct RegistryKeys {
    /// By the entry's normalised URL.
    by_url: BTreeMap<String, NpmKeys>,
}

impl RegistryKeys {
    /// Reads every `keys` file of the policy. Unreadable, too large or malformed → exit 2
    /// naming the file.
    pub(super) fn load(policy: &Policy) -> Result<RegistryKeys, AppError> {
        let mut by_url = BTreeMap::new();
        for rule in policy.registries() {
            let Some(path) = &rule.keys else { continue };
            let bytes = read_capped(path)?;
            let keys = NpmKeys::from_json(&bytes, KeySource::Pinned).map_err(|e| {
                AppError::parse(
                    path.clone(),
                    format!(
                        "the pinned keys of registry {} (policy line {}): {e}",
                        rule.url, rule.at.line
                    ),
                )
            })?;
            by_url.insert(rule.url.clone(), keys);
        }
        Ok(RegistryKeys { by_url })
    }

    /// The pinned keys of `reg`'s `[[registry]]` entry, if it has a `keys` file.
    pub(super) fn for_registry(&self, policy: &Policy, reg: &Url) -> Option<&NpmKeys> {
        let rule = policy.registry_for(reg.as_str())?;
        self.by_url.get(&rule.url)
    }
}

fn read_capped(path: &std::path::Path) -> Result<Vec<u8>, AppError> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| AppError::read(path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_KEYS_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| AppError::read(path, e))?;
    if bytes.len() as u64 > MAX_KEYS_BYTES {
        return Err(AppError::parse(
            path,
            format!("larger than the keys file cap of {MAX_KEYS_BYTES} bytes"),
        ));
    }
    Ok(bytes)
}

/// Whether the policy declares `reg` unsigned (`signatures = "none"`).
pub(super) fn is_unsigned(policy: &Policy, reg: Option<&Url>) -> bool {
    reg.and_then(|r| policy.registry_for(r.as_str()))
        .is_some_and(|r| r.signatures == RegistrySignatures::None)
}

/// Whether the run must not fetch `reg`'s own `/-/npm/v1/keys`: its keys are pinned by the
/// policy, or it is declared unsigned.
pub(super) fn own_keys_unneeded(policy: &Policy, reg: &Url) -> bool {
    policy
        .registry_for(reg.as_str())
        .is_some_and(|r| r.keys.is_some() || r.signatures == RegistrySignatures::None)
}

/// Drops the registries whose keys the run must not fetch from the plan.
pub(super) fn adjust_plan(policy: &Policy, plan: &mut FetchPlan) {
    let skip: BTreeSet<Url> = plan
        .registries
        .values()
        .filter(|r| own_keys_unneeded(policy, r))
        .cloned()
        .collect();
    for r in &skip {
        plan.skip_own_keys(r);
    }
}

/// The packument entry of a version of an unsigned registry, as verified: without
/// `dist.signatures` (a registry declared unsigned is not trusted to sign; what it serves there
/// is ignored, never reported verified).
pub(super) fn without_signatures(mut v: PackumentVersion) -> PackumentVersion {
    v.dist.signatures.clear();
    v
}

/// `registry-metadata-stripped` for the registries that serve no signatures, leaving out the
/// registries declared unsigned (serving none is what they are declared to do).
pub(super) fn metadata_stripped<P>(
    policy: &Policy,
    plan: &FetchPlan,
    fetched: &FetchedEvidence<P>,
) -> Vec<Finding> {
    if !plan
        .registries
        .values()
        .any(|r| is_unsigned(policy, Some(r)))
    {
        return plan::metadata_stripped(plan, fetched);
    }
    let mut signed = plan.clone();
    signed
        .registries
        .retain(|_, r| !is_unsigned(policy, Some(r)));
    plan::metadata_stripped(&signed, fetched)
}

/// Marks a package of an unsigned registry: a `missing` registry signature becomes
/// `not-applicable` and its `registry-signature-missing` finding is dropped. Any other status
/// (a packument that could not be fetched, no `dist.integrity`) is left as it is.
pub(super) fn mark_unsigned(report: &mut PackageReport) {
    if report.registry_signature.status != Status::Missing {
        return;
    }
    report.registry_signature = Check::new(Status::NotApplicable, UNSIGNED_REASON);
    report
        .findings
        .retain(|f| f.code != "registry-signature-missing");
}

/// The run-level findings of the `[[registry]]` entries: `registry-unsigned` (warn) once per
/// unsigned registry the run used, `policy-rule-unused` (info) per entry naming a registry the
/// run never used. Sorted by position in the file.
pub(super) fn run_findings(config: &Config, plan: &FetchPlan) -> Vec<Finding> {
    let policy = &config.policy;
    let used: BTreeSet<&str> = plan
        .registries
        .values()
        .filter_map(|u| policy.registry_for(u.as_str()))
        .map(|r| r.url.as_str())
        .collect();
    let origin = policy
        .path()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "policy".into());
    let mut out = Vec::new();
    for rule in policy.registries() {
        if used.contains(rule.url.as_str()) {
            out.extend(rule.unsigned_finding());
        } else {
            out.push(Finding::new(
                "policy-rule-unused",
                format!(
                    "the [[registry]] entry for {} ({origin} line {}) matched no registry used in this run",
                    rule.url, rule.at.line
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Finding;
    use crate::inventory::Origin;
    use std::path::Path;

    fn policy(text: &str) -> Policy {
        Policy::parse(text, Path::new("/nonexistent")).unwrap()
    }

    #[test]
    fn unsigned_and_keys_rules_match_by_normalised_url() {
        let p = policy(
            "[[registry]]\nurl = \"https://NPM.Internal.example/repo\"\nsignatures = \"none\"\n\n\
             [[registry]]\nurl = \"https://mirror.example/\"\nkeys = \"k.json\"\n",
        );
        let internal = Url::parse("https://npm.internal.example/repo/").unwrap();
        let mirror = Url::parse("https://mirror.example/").unwrap();
        let public = Url::parse("https://registry.npmjs.org/").unwrap();
        assert!(is_unsigned(&p, Some(&internal)));
        assert!(!is_unsigned(&p, Some(&mirror)));
        assert!(!is_unsigned(&p, Some(&public)));
        assert!(!is_unsigned(&p, None));
        assert!(own_keys_unneeded(&p, &internal));
        assert!(own_keys_unneeded(&p, &mirror));
        assert!(!own_keys_unneeded(&p, &public));
    }

    #[test]
    fn keys_file_problems_name_the_file() {
        let dir = std::env::temp_dir().join(format!("npmprov-regkeys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("bad.json"), b"{not json").unwrap();
        let text = "[[registry]]\nurl = \"https://mirror.example/\"\nkeys = \"bad.json\"\n";
        let p = Policy::parse(text, &dir).unwrap();
        let e = RegistryKeys::load(&p).unwrap_err().to_string();
        assert!(e.contains("bad.json"), "{e}");
        let text = "[[registry]]\nurl = \"https://mirror.example/\"\nkeys = \"absent.json\"\n";
        let p = Policy::parse(text, &dir).unwrap();
        let e = RegistryKeys::load(&p).unwrap_err().to_string();
        assert!(e.contains("absent.json"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn mark_unsigned_only_turns_missing_into_not_applicable() {
        let mut r = report_with(Status::Missing);
        r.findings
            .push(Finding::new("registry-signature-missing", "x"));
        r.findings.push(Finding::new("provenance-missing", "y"));
        mark_unsigned(&mut r);
        assert_eq!(r.registry_signature.status, Status::NotApplicable);
        assert_eq!(
            r.registry_signature.reason.as_deref(),
            Some(UNSIGNED_REASON)
        );
        let codes: Vec<_> = r.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, ["provenance-missing"]);
        let mut r = report_with(Status::Unverifiable);
        mark_unsigned(&mut r);
        assert_eq!(r.registry_signature.status, Status::Unverifiable);
    }

    #[test]
    fn unsigned_registries_are_never_reported_stripped() {
        use crate::registry::client::Accept;
        use crate::registry::plan::{VersionMetadata, Wanted};
        let internal = Url::parse("https://npm.internal.example/").unwrap();
        let mut plan = FetchPlan {
            packuments: BTreeMap::new(),
            versions: BTreeMap::new(),
            registries: BTreeMap::new(),
            keys: BTreeSet::new(),
            attestations: Default::default(),
        };
        plan.packuments.insert(
            "a".into(),
            (internal.join("a").unwrap(), Accept::Abbreviated),
        );
        plan.registries.insert("a".into(), internal.clone());
        let mut fetched: FetchedEvidence = FetchedEvidence::default();
        fetched.observed.insert(
            Wanted {
                name: "a".into(),
                version: "1.0.0".into(),
            },
            VersionMetadata {
                in_packument: true,
                ..VersionMetadata::default()
            },
        );
        let none = Policy::default();
        let stripped = metadata_stripped(&none, &plan, &fetched);
        assert_eq!(stripped.len(), 1);
        assert_eq!(stripped[0].code, "registry-metadata-stripped");
        let unsigned = policy(
            "[[registry]]\nurl = \"https://npm.internal.example/\"\nsignatures = \"none\"\n",
        );
        assert!(metadata_stripped(&unsigned, &plan, &fetched).is_empty());
    }

    fn report_with(status: Status) -> PackageReport {
        let p = crate::inventory::PackageRef {
            name: "a".into(),
            alias: None,
            version: "1.0.0".into(),
            integrity: None,
            registry: "https://npm.internal.example/".into(),
            origin: Origin::Registry,
            paths: vec!["node_modules/a".into()],
            dev: false,
            optional: false,
            peer: false,
            resolved: None,
            has_install_script: false,
            patched: false,
            findings: Vec::new(),
        };
        let mut r = PackageReport::not_fetched(&p);
        r.registry_signature = Check::new(status, "x");
        r
    }
}
