//! Verified baselines: after the main fetch and verification, the attestations of the earlier
//! releases a history decision rests on (the engine's own selection,
//! [`crate::policy::history::baseline_versions`]) are fetched through the same registry client
//! and verified by the same code as installed versions ([`verify_version`], with no lockfile
//! integrity: the attestation subjects must equal the registry-signed `dist.integrity`). The
//! result is overlaid on the releases before the engine evaluates them: verified →
//! `Provenance::Verified(identity)` and the signed publish time; any part invalid →
//! `Provenance::Invalid` (counts as no provenance); not verified (not fetched, 404, no keys,
//! skipped) → the announced state stays, and the finding says why.
//!
//! Work that cannot change a decision is skipped (`docs/history.md`, "Verified baselines"):
//! - nothing is fetched for a package none of whose baseline releases announces provenance;
//! - when the installed version has verified provenance, its baseline releases are verified one
//!   at a time, most recent first, and the walk stops at the first verified one (no downgrade
//!   is possible for a release with provenance, and `identity-changed` compares with the most
//!   recent verified baseline identity only);
//! - when the installed version announces provenance that did not verify (or publishes through
//!   trusted publishing without provenance), nothing is fetched: no downgrade is possible and
//!   there is no verified identity to compare;
//! - releases that are themselves installed are not fetched again (their facts are overlaid
//!   from the main verification).
//!
//! At most [`MAX_BASELINE_RELEASES`] releases are verified per installed version.

use super::digest::Digested;
use super::{keys_for_package, registry_keys, Config};
use crate::policy::facts::{Provenance, ReleaseFacts, VerifiedFacts};
use crate::policy::history::{baseline_versions, EvidenceClass, HistoryContext, K};
use crate::registry::packument::PackumentVersion;
use crate::registry::plan::{attestations_url, FetchPlan, FetchedEvidence};
use crate::registry::{Accept, FetchError, FetchFailure, Fetched, RegistryClient, ResourceKind};
use crate::trust::npm_keys::NpmKeys;
use crate::util::escape_text;
use crate::verify::evidence::{Status, VersionEvidence};
use crate::verify::npm::{verify_version, AttestationsInput, VerifyContext, VersionInput};
use crate::verify::registry_signature::TimeSource;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use url::Url;

/// The most baseline releases whose attestations are fetched and verified per installed
/// version: the `K` releases of the baseline and the `K` releases context C looks at
/// (`docs/limits.md`). The engine's selection never lists more; the cap stands in case it
/// changes.
pub const MAX_BASELINE_RELEASES: usize = 2 * K;

/// How the candidates of one installed version are walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// The installed version is a token publish: every candidate counts (class of the baseline,
    /// context C), so all are verified, concurrently.
    All,
    /// The installed version has verified provenance: most recent first, stop at the first
    /// verified one.
    UntilVerified,
}

/// What one installed version needs verified.
#[derive(Debug, Clone)]
pub(super) struct Need {
    installed: String,
    mode: Mode,
    /// Releases announcing provenance, in the engine's order (most relevant first).
    candidates: Vec<String>,
}

/// One baseline release as the packument describes it.
#[derive(Debug, Clone)]
struct Entry {
    /// `Err`: the entry does not parse as a version document.
    version: Result<PackumentVersion, String>,
    /// `time[version]` (unsigned), for the registry key window when there is no signed time.
    time: Option<Timestamp>,
}

/// The baseline work for one package name: planned while its packument is parsed (so the
/// document is not held afterwards).
#[derive(Debug, Clone)]
pub(super) struct Job {
    name: String,
    entries: BTreeMap<String, Entry>,
    needs: Vec<Need>,
    /// Why a release the decision rests on is not verified without being fetched.
    skipped: BTreeMap<String, String>,
}

impl Job {
    /// Plans the work for `name` (pure): `releases` carry the installed versions' verified
    /// facts already; `doc` is the packument they were read from (its `versions` and `time`
    /// reduced to the releases announcing provenance, [`crate::policy::facts::HistoryFacts::announced`], or whole:
    /// only those are read). `None` when there is
    /// nothing to fetch and nothing to say.
    pub(super) fn plan(
        name: &str,
        installed: &BTreeSet<String>,
        releases: &[ReleaseFacts],
        doc: &Value,
        ctx: &HistoryContext,
    ) -> Option<Job> {
        let by_version: BTreeMap<&str, &ReleaseFacts> =
            releases.iter().map(|r| (r.version.as_str(), r)).collect();
        let mut job = Job {
            name: name.to_string(),
            entries: BTreeMap::new(),
            needs: Vec::new(),
            skipped: BTreeMap::new(),
        };
        for v in installed {
            let Some(r) = by_version.get(v.as_str()).filter(|r| !r.removed) else {
                continue;
            };
            // Installed releases are never candidates: the main verification decided them.
            let mut candidates: Vec<String> = baseline_versions(releases, v, ctx)
                .into_iter()
                .filter(|b| !installed.contains(b))
                .filter(|b| {
                    by_version
                        .get(b.as_str())
                        .is_some_and(|x| x.provenance == Provenance::Announced)
                })
                .collect();
            if candidates.is_empty() {
                continue;
            }
            let mode = match (&r.provenance, EvidenceClass::of(r)) {
                (Provenance::Verified(_), _) => Mode::UntilVerified,
                (_, EvidenceClass::Token) => Mode::All,
                _ => {
                    for c in candidates {
                        job.skipped.entry(c).or_insert_with(|| {
                            format!(
                                "not fetched: {} has provenance that was not verified (or \
                                 trusted publishing without provenance), so no downgrade is \
                                 possible and there is no verified identity to compare",
                                escape_text(v)
                            )
                        });
                    }
                    continue;
                }
            };
            for c in candidates.iter().skip(MAX_BASELINE_RELEASES) {
                job.skipped.entry(c.clone()).or_insert_with(|| {
                    format!("not fetched: over the bound of {MAX_BASELINE_RELEASES} per package")
                });
            }
            candidates.truncate(MAX_BASELINE_RELEASES);
            for c in &candidates {
                job.entries
                    .entry(c.clone())
                    .or_insert_with(|| entry(doc, c));
            }
            job.needs.push(Need {
                installed: v.clone(),
                mode,
                candidates,
            });
        }
        (!job.needs.is_empty() || !job.skipped.is_empty()).then_some(job)
    }
}

fn entry(doc: &Value, version: &str) -> Entry {
    let version_doc = doc.get("versions").and_then(|vs| vs.get(version));
    Entry {
        version: match version_doc {
            Some(v) => PackumentVersion::deserialize(v).map_err(|e| e.to_string()),
            None => Err("not in the packument's versions".into()),
        },
        time: doc
            .get("time")
            .and_then(|t| t.get(version))
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok()),
    }
}

/// What became of one baseline release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Registry signature and provenance verified: the identity and signed time to overlay.
    Verified(VerifiedFacts),
    /// A part of its evidence is invalid: overlaid as `Provenance::Invalid`; why.
    Invalid(String),
    /// Not verified either way (not fetched, 404, no keys, unverifiable): stays announced; why.
    NotVerified(String),
}

/// The results for one package name: what to overlay, and a note per release not verified.
#[derive(Debug, Default)]
pub(super) struct Results {
    pub(super) overlay: BTreeMap<String, VerifiedFacts>,
    /// Release → why it is not verified (or did not verify), for the finding's message.
    pub(super) notes: BTreeMap<String, String>,
    /// Release → why its attestations did not verify (`baseline-invalid`).
    pub(super) invalid: BTreeMap<String, String>,
}

/// Counters of one run's baseline work (printed with progress, asserted by tests through the
/// fixture registry's request log).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Counts {
    pub(super) fetched: usize,
    pub(super) verified: usize,
    pub(super) invalid: usize,
    pub(super) not_verified: usize,
}

/// What baseline verification needs from the run.
pub(super) struct Source<'a> {
    pub(super) config: &'a Config,
    pub(super) plan: &'a FetchPlan,
    pub(super) fetched: &'a FetchedEvidence<Digested>,
    pub(super) client: Arc<RegistryClient>,
}

impl Source<'_> {
    /// Fetches and verifies what `jobs` need, in rounds: each round fetches, concurrently
    /// through the client, every candidate still needed (all of them for [`Mode::All`], the
    /// next one for [`Mode::UntilVerified`]), then verifies them.
    pub(super) fn run(&self, jobs: Vec<Job>) -> (BTreeMap<String, Results>, Counts) {
        let mut counts = Counts::default();
        let keys_by_registry = registry_keys(self.plan, self.fetched);
        let runtime = crate::registry::setup::runtime().ok();
        let mut outcomes: BTreeMap<(String, String), Outcome> = BTreeMap::new();
        // Jobs whose keys are unusable are decided without fetching.
        let mut keys: BTreeMap<String, NpmKeys> = BTreeMap::new();
        for job in &jobs {
            let reg = self.plan.registries.get(&job.name);
            match keys_for_package(self.config, reg, &keys_by_registry) {
                Ok(k) => {
                    keys.insert(job.name.clone(), k.clone());
                }
                Err(why) => {
                    for v in job.entries.keys() {
                        outcomes.insert(
                            (job.name.clone(), v.clone()),
                            Outcome::NotVerified(format!(
                                "not fetched: no npm keys to check its registry signature ({})",
                                escape_text(&why)
                            )),
                        );
                    }
                }
            }
        }
        loop {
            let mut batch: BTreeSet<(String, String)> = BTreeSet::new();
            for job in &jobs {
                for need in &job.needs {
                    let key = |c: &String| (job.name.clone(), c.clone());
                    match need.mode {
                        Mode::All => batch.extend(
                            need.candidates
                                .iter()
                                .map(key)
                                .filter(|k| !outcomes.contains_key(k)),
                        ),
                        Mode::UntilVerified => {
                            let done = need.candidates.iter().any(|c| {
                                matches!(outcomes.get(&key(c)), Some(Outcome::Verified(_)))
                            });
                            if !done {
                                if let Some(next) = need
                                    .candidates
                                    .iter()
                                    .map(key)
                                    .find(|k| !outcomes.contains_key(k))
                                {
                                    batch.insert(next);
                                }
                            }
                        }
                    }
                }
            }
            if batch.is_empty() {
                break;
            }
            let urls: Vec<((String, String), Option<Url>)> = batch
                .into_iter()
                .map(|(name, v)| {
                    let url = self.url_of(&jobs, &name, &v);
                    ((name, v), url)
                })
                .collect();
            let bodies = match &runtime {
                Some(rt) => rt.block_on(fetch_batch(self.client.clone(), &urls)),
                None => BTreeMap::new(),
            };
            counts.fetched += bodies.len();
            let verified = self.verify_batch(&jobs, &keys, &urls, &bodies);
            for (k, o) in verified {
                outcomes.insert(k, o);
            }
        }
        let mut results: BTreeMap<String, Results> = BTreeMap::new();
        for job in &jobs {
            let res = results.entry(job.name.clone()).or_default();
            for (v, why) in &job.skipped {
                res.notes.insert(v.clone(), why.clone());
            }
            for need in &job.needs {
                let mut verified_at: Option<&str> = None;
                for c in &need.candidates {
                    match outcomes.get(&(job.name.clone(), c.clone())) {
                        Some(Outcome::Verified(f)) => {
                            res.notes.remove(c);
                            res.overlay.insert(c.clone(), f.clone());
                            verified_at.get_or_insert(c);
                        }
                        Some(Outcome::Invalid(why)) => {
                            res.overlay.insert(
                                c.clone(),
                                VerifiedFacts {
                                    signed_time: None,
                                    provenance: Some(Provenance::Invalid),
                                },
                            );
                            res.notes.insert(c.clone(), why.clone());
                            res.invalid.insert(c.clone(), why.clone());
                        }
                        Some(Outcome::NotVerified(why)) => {
                            if !res.overlay.contains_key(c) {
                                res.notes.insert(c.clone(), why.clone());
                            }
                        }
                        None => {
                            if !res.overlay.contains_key(c) {
                                let why = match verified_at {
                                    Some(at) => format!(
                                        "not fetched: {} is verified and {} is a release with \
                                         verified provenance, compared with the most recent \
                                         verified baseline release only",
                                        escape_text(at),
                                        escape_text(&need.installed)
                                    ),
                                    None => "not fetched".to_string(),
                                };
                                res.notes.entry(c.clone()).or_insert(why);
                            }
                        }
                    }
                }
            }
        }
        for o in outcomes.values() {
            match o {
                Outcome::Verified(_) => counts.verified += 1,
                Outcome::Invalid(_) => counts.invalid += 1,
                Outcome::NotVerified(_) => counts.not_verified += 1,
            }
        }
        if self.config.progress {
            eprintln!(
                "npm-provenance: baselines: {} attestation responses fetched, {} releases \
                 verified, {} invalid, {} not verified",
                counts.fetched, counts.verified, counts.invalid, counts.not_verified
            );
        }
        (results, counts)
    }

    /// The attestations URL of a candidate, always on the package's registry.
    fn url_of(&self, jobs: &[Job], name: &str, version: &str) -> Option<Url> {
        let registry = self.plan.registries.get(name)?;
        let announced = jobs
            .iter()
            .find(|j| j.name == name)
            .and_then(|j| j.entries.get(version))
            .and_then(|e| e.version.as_ref().ok())
            .and_then(|v| v.dist.attestations.as_ref())
            .and_then(|a| a.url.as_deref());
        attestations_url(registry, name, version, announced)
    }

    /// Verifies one round's fetched attestations (CPU-bound: spread over a few threads).
    fn verify_batch(
        &self,
        jobs: &[Job],
        keys: &BTreeMap<String, NpmKeys>,
        urls: &[((String, String), Option<Url>)],
        bodies: &BTreeMap<(String, String), Result<Option<Fetched>, FetchError>>,
    ) -> Vec<((String, String), Outcome)> {
        let one = |((name, v), _): &((String, String), Option<Url>)| {
            let key = (name.clone(), v.clone());
            let entry = jobs
                .iter()
                .find(|j| &j.name == name)
                .and_then(|j| j.entries.get(v));
            let outcome = match (entry, keys.get(name), bodies.get(&key)) {
                (None, _, _) => Outcome::NotVerified("not in the packument".into()),
                (_, None, _) => Outcome::NotVerified("no npm keys".into()),
                (_, _, None) => Outcome::NotVerified(match url_missing(urls, &key) {
                    true => "not fetched: no attestations URL for it".into(),
                    false => "not fetched: the async runtime could not start".into(),
                }),
                (Some(e), Some(k), Some(body)) => {
                    let attestations = match body {
                        Ok(Some(f)) => AttestationsInput::Body(&f.bytes),
                        Ok(None) => AttestationsInput::NotFound,
                        Err(_) => AttestationsInput::FetchFailed(""),
                    };
                    match (attestations, body) {
                        (AttestationsInput::NotFound, _) => Outcome::NotVerified(
                            "the registry has no attestations for it (404)".into(),
                        ),
                        (AttestationsInput::FetchFailed(_), Err(err)) => Outcome::NotVerified(
                            format!("its attestations could not be fetched: {err}"),
                        ),
                        (a, _) => verify_release(name, v, e, a, &self.config.sigstore, k),
                    }
                }
            };
            (key, outcome)
        };
        super::map_on_cores(urls, one)
    }
}

fn url_missing(urls: &[((String, String), Option<Url>)], key: &(String, String)) -> bool {
    urls.iter().any(|(k, u)| k == key && u.is_none())
}

/// Fetches the attestations at `urls` concurrently (the client bounds requests in flight).
/// `Ok(None)`: 404. Entries without a URL are left out.
async fn fetch_batch(
    client: Arc<RegistryClient>,
    urls: &[((String, String), Option<Url>)],
) -> BTreeMap<(String, String), Result<Option<Fetched>, FetchError>> {
    let mut set = tokio::task::JoinSet::new();
    for (key, url) in urls {
        let Some(url) = url.clone() else { continue };
        let (c, key) = (client.clone(), key.clone());
        set.spawn(async move {
            let r = match c.get(&url, Accept::Json, ResourceKind::Attestations).await {
                Ok(f) => Ok(Some(f)),
                Err(e) if e.reason == FetchFailure::NotFound => Ok(None),
                Err(e) => Err(e),
            };
            (key, r)
        });
    }
    let mut out = BTreeMap::new();
    while let Some(done) = set.join_next().await {
        if let Ok((k, r)) = done {
            out.insert(k, r);
        }
    }
    out
}

/// Verifies one baseline release (pure): the registry signature over `dist.integrity` with the
/// package's keys, and the attestations bound to that integrity (no lockfile integrity, no
/// tarball). Verified only when the registry signature and the provenance both verified and
/// nothing is invalid.
fn verify_release(
    name: &str,
    version: &str,
    entry: &Entry,
    attestations: AttestationsInput<'_>,
    sigstore: &crate::verify::SigstoreTrust,
    keys: &NpmKeys,
) -> Outcome {
    let pv = match &entry.version {
        Ok(v) => v,
        Err(e) => {
            return Outcome::NotVerified(format!(
                "its packument entry is unusable: {}",
                escape_text(e)
            ))
        }
    };
    let input = VersionInput {
        name,
        version,
        expected_integrity: None,
        tarball_sha512: None,
        packument_version: Some(pv),
        packument_time: entry.time,
        attestations,
    };
    let ev = verify_version(
        &input,
        &VerifyContext {
            sigstore,
            npm_keys: keys,
        },
    );
    outcome_of(&ev)
}

/// The outcome of a baseline release from its verified evidence.
fn outcome_of(ev: &VersionEvidence) -> Outcome {
    let parts = [
        ("registry signature", &ev.registry_signature),
        ("publish attestation", &ev.publish_attestation),
        ("provenance", &ev.provenance),
        ("integrity", &ev.integrity),
    ];
    let invalid: Vec<String> = parts
        .iter()
        .filter(|(_, c)| c.status == Status::Invalid)
        .map(|(what, c)| {
            format!(
                "{what} invalid ({})",
                escape_text(c.reason.as_deref().unwrap_or("no reason"))
            )
        })
        .collect();
    if !invalid.is_empty() {
        return Outcome::Invalid(invalid.join(", "));
    }
    if ev.registry_signature.is_verified() && ev.provenance.is_verified() {
        if let Some(id) = super::history::build_identity(&ev.identity) {
            let signed_time = (ev.published.source == TimeSource::Rekor)
                .then_some(ev.published.time)
                .flatten();
            return Outcome::Verified(VerifiedFacts {
                signed_time,
                provenance: Some(Provenance::verified(id)),
            });
        }
        return Outcome::NotVerified(
            "its provenance verified but names no complete build identity".into(),
        );
    }
    let status = |what: &str, c: &crate::verify::evidence::Check| {
        format!(
            "{what} {}{}",
            c.status.as_str(),
            c.reason
                .as_deref()
                .map(|r| format!(" ({})", escape_text(r)))
                .unwrap_or_default()
        )
    };
    Outcome::NotVerified(format!(
        "not verified: {}, {}",
        status("registry signature", &ev.registry_signature),
        status("provenance", &ev.provenance)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::facts::facts_from_packument;
    use crate::policy::BuildIdentity;
    use crate::verify::evidence::{Check, Identity, Published};
    use serde_json::json;

    /// A packument: 1.0.0–1.2.0 by trusted publishing with provenance announced, 1.3.0 a token
    /// publish, 1.4.0 trusted publishing with provenance.
    fn doc() -> Value {
        let ci = json!({"name": "GitHub Actions", "email": "npm-oidc-no-reply@github.com",
                        "trustedPublisher": {"id": "github"}});
        let tok = json!({"name": "m", "email": "m@example.com"});
        let att = json!({"url": "https://registry.npmjs.org/-/npm/v1/attestations/p@x",
                         "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}});
        let v = |ver: &str, user: &Value, prov: bool| {
            let mut dist = json!({"integrity": "sha512-AAAA"});
            if prov {
                dist["attestations"] = att.clone();
            }
            json!({"name": "p", "version": ver, "_npmUser": user, "dist": dist})
        };
        json!({"name": "p",
            "versions": {"1.0.0": v("1.0.0", &ci, true), "1.1.0": v("1.1.0", &ci, true),
                         "1.2.0": v("1.2.0", &ci, true), "1.3.0": v("1.3.0", &tok, false),
                         "1.4.0": v("1.4.0", &ci, true)},
            "time": {"1.0.0": "2025-01-01T00:00:00Z", "1.1.0": "2025-01-02T00:00:00Z",
                     "1.2.0": "2025-01-03T00:00:00Z", "1.3.0": "2025-01-04T00:00:00Z",
                     "1.4.0": "2025-01-05T00:00:00Z"}})
    }

    fn id() -> BuildIdentity {
        BuildIdentity {
            issuer: "https://token.actions.githubusercontent.com".into(),
            repository: "https://github.com/o/r".into(),
            repository_id: None,
            workflow: "https://github.com/o/r/.github/workflows/r.yml@refs/heads/main".into(),
            source_ref: None,
            trigger: None,
            runner: None,
        }
    }

    fn plan(installed: &[&str], overlay: &[(&str, Provenance)]) -> Option<Job> {
        let d = doc();
        let mut releases = facts_from_packument(&d).unwrap();
        for r in releases.iter_mut() {
            if let Some((_, p)) = overlay.iter().find(|(v, _)| *v == r.version) {
                r.provenance = p.clone();
            }
        }
        let installed: BTreeSet<String> = installed.iter().map(|s| s.to_string()).collect();
        Job::plan("p", &installed, &releases, &d, &HistoryContext::default())
    }

    #[test]
    fn a_token_install_needs_every_announcing_release() {
        let job = plan(&["1.3.0"], &[]).unwrap();
        assert_eq!(job.needs.len(), 1);
        assert_eq!(job.needs[0].mode, Mode::All);
        assert_eq!(job.needs[0].candidates, ["1.2.0", "1.1.0", "1.0.0"]);
        assert!(job.entries["1.2.0"].version.is_ok());
        assert!(job.entries["1.2.0"].time.is_some());
        assert!(job.skipped.is_empty());
    }

    #[test]
    fn a_verified_install_walks_until_verified_and_skips_installed_and_token_releases() {
        // 1.4.0's baseline is 1.3.0 (token: nothing to verify), 1.2.0, 1.1.0.
        let job = plan(&["1.4.0"], &[("1.4.0", Provenance::verified(id()))]).unwrap();
        assert_eq!(job.needs[0].mode, Mode::UntilVerified);
        assert_eq!(job.needs[0].candidates, ["1.2.0", "1.1.0"]);
        // An installed baseline release is never fetched again.
        let job = plan(
            &["1.4.0", "1.2.0"],
            &[
                ("1.4.0", Provenance::verified(id())),
                ("1.2.0", Provenance::verified(id())),
            ],
        )
        .unwrap();
        let need = job.needs.iter().find(|n| n.installed == "1.4.0").unwrap();
        assert_eq!(need.candidates, ["1.1.0"]);
    }

    #[test]
    fn an_unverified_install_with_provenance_fetches_nothing_and_says_why() {
        let job = plan(&["1.4.0"], &[]).unwrap();
        assert!(job.needs.is_empty());
        assert!(job.entries.is_empty());
        assert!(job.skipped["1.2.0"].contains("no downgrade is possible"));
        // No release announcing provenance in the baseline: no job at all.
        let d = json!({"name": "q",
            "versions": {"1.0.0": {"_npmUser": {"name": "m", "email": "m@x"}},
                         "1.1.0": {"_npmUser": {"name": "m", "email": "m@x"}}},
            "time": {"1.0.0": "2025-01-01T00:00:00Z", "1.1.0": "2025-01-02T00:00:00Z"}});
        let releases = facts_from_packument(&d).unwrap();
        let installed = BTreeSet::from(["1.1.0".to_string()]);
        assert!(Job::plan("q", &installed, &releases, &d, &HistoryContext::default()).is_none());
    }

    fn evidence(sig: Status, prov: Status, publish: Status) -> VersionEvidence {
        let check = |s: Status| Check::new(s, "r");
        VersionEvidence {
            registry_signature: check(sig),
            publish_attestation: check(publish),
            provenance: check(prov),
            integrity: check(Status::Verified),
            published: Published {
                time: Some("2025-01-03T00:00:00Z".parse().unwrap()),
                source: TimeSource::Rekor,
            },
            identity: Identity {
                issuer: Some("https://token.actions.githubusercontent.com".into()),
                source_repository_uri: Some("https://github.com/o/r".into()),
                workflow_path: Some(".github/workflows/r.yml".into()),
                git_ref: Some("refs/heads/main".into()),
                ..Identity::default()
            },
            findings: Vec::new(),
        }
    }

    #[test]
    fn outcome_needs_signature_and_provenance_and_fails_closed_on_any_invalid_part() {
        use Status::*;
        match outcome_of(&evidence(Verified, Verified, Verified)) {
            Outcome::Verified(f) => {
                assert!(f.signed_time.is_some());
                assert!(matches!(f.provenance, Some(Provenance::Verified(_))));
            }
            o => panic!("{o:?}"),
        }
        for (sig, prov, publish) in [
            (Invalid, Verified, Verified),
            (Verified, Invalid, Verified),
            (Verified, Verified, Invalid),
            (Unverifiable, Invalid, Verified),
        ] {
            assert!(
                matches!(
                    outcome_of(&evidence(sig, prov, publish)),
                    Outcome::Invalid(_)
                ),
                "{sig:?} {prov:?} {publish:?}"
            );
        }
        for (sig, prov) in [
            (Unverifiable, Verified),
            (Missing, Verified),
            (Verified, Missing),
        ] {
            match outcome_of(&evidence(sig, prov, Verified)) {
                Outcome::NotVerified(why) => assert!(why.contains("not verified")),
                o => panic!("{o:?}"),
            }
        }
        let mut incomplete = evidence(Verified, Verified, Verified);
        incomplete.identity.issuer = None;
        assert!(matches!(outcome_of(&incomplete), Outcome::NotVerified(_)));
    }
}
