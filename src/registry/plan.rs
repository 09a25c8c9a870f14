//! The fetch plan: one packument per package name shared by its versions (abbreviated unless
//! the history engine needs `time`/`_npmUser`), then the attestations of the installed
//! versions, and registry keys once per registry that has no pinned keys; plus the run-level
//! `registry-metadata-stripped` finding for registries that serve no signatures at all.
//!
//! The plan reads a packument through the npm layer's one streaming parse
//! ([`Packument::from_slice_for`], which skips every version not wanted, so a tens-of-MB
//! packument is never held whole), and only a few signals of the wanted entries
//! (`dist.signatures` present, `dist.attestations.url`, `_npmUser` present): [`observe`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::de::IgnoredAny;
use serde::Deserialize;
use url::Url;

use super::client::{
    Accept, DerivedSlot, FetchError, FetchFailure, Fetched, RegistryClient, ResourceKind, Served,
};
use super::config::RegistryConfig;
use super::packument::Packument;
use super::redact::redact_url;
use crate::findings::Finding;

/// The public registry used by the remedy of `registry-metadata-stripped`.
pub const PUBLIC_REGISTRY: &str = "https://registry.npmjs.org/";

/// An installed package version whose evidence is wanted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Wanted {
    pub name: String,
    pub version: String,
}

/// Which versions' attestations are requested (`verify --attestations`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AttestationFetch {
    /// Announced versions only on the public registry (whose packuments announce every
    /// attestation set it holds, `dist.attestations`), every version elsewhere (a mirror or
    /// proxy may drop the announcement and still serve the attestations).
    #[default]
    Auto,
    /// Announced versions only, on every registry (as `npm audit signatures` does).
    Announced,
    /// Every version, announced or not.
    All,
}

impl AttestationFetch {
    /// Whether the unannounced versions of packages whose metadata comes from `registry` are
    /// skipped.
    pub fn announced_only(self, registry: &Url) -> bool {
        match self {
            AttestationFetch::Auto => super::public::is_public_npm(registry.as_str()),
            AttestationFetch::Announced => true,
            AttestationFetch::All => false,
        }
    }
}

/// What the run needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    /// Full packuments (`time`, `_npmUser`) for the history engine; abbreviated otherwise.
    pub full_packuments: bool,
    /// The user pinned npm keys (`--npm-keys`): never fetch a registry's own keys.
    pub user_keys: bool,
    /// Which versions' attestations are requested.
    pub attestations: AttestationFetch,
}

/// Where each document comes from.
#[derive(Debug, Clone)]
pub struct FetchPlan {
    /// By package name: the packument URL on the registry its scope maps to (or on
    /// `--metadata-registry`), and the variant.
    pub packuments: BTreeMap<String, (Url, Accept)>,
    /// The versions wanted per package name.
    pub versions: BTreeMap<String, BTreeSet<String>>,
    /// The registry each package's metadata comes from (attestation URLs are built on it).
    pub registries: BTreeMap<String, Url>,
    /// `/-/npm/v1/keys` of each registry that needs its own keys (not the public registry, no
    /// user-pinned keys).
    pub keys: BTreeSet<Url>,
    /// Which versions' attestations are requested.
    pub attestations: AttestationFetch,
}

impl FetchPlan {
    /// Builds the plan. `metadata_registry` (`--metadata-registry`) replaces the configured
    /// registries for packuments and attestations.
    pub fn build(
        wanted: &[Wanted],
        config: &RegistryConfig,
        metadata_registry: Option<&Url>,
        opts: PlanOptions,
    ) -> FetchPlan {
        let accept = if opts.full_packuments {
            Accept::Json
        } else {
            Accept::Abbreviated
        };
        let mut plan = FetchPlan {
            packuments: BTreeMap::new(),
            versions: BTreeMap::new(),
            registries: BTreeMap::new(),
            keys: BTreeSet::new(),
            attestations: opts.attestations,
        };
        for w in wanted {
            let registry = metadata_registry
                .unwrap_or_else(|| config.registry_for(&w.name))
                .clone();
            plan.versions
                .entry(w.name.clone())
                .or_default()
                .insert(w.version.clone());
            if plan.packuments.contains_key(&w.name) {
                continue;
            }
            if let Some(u) = packument_url(&registry, &w.name) {
                plan.packuments.insert(w.name.clone(), (u, accept));
            }
            // Keys of a registry's own only for a registry other than the public one, and never
            // for metadata relayed by `--metadata-registry` (checked with the pinned keys).
            if !opts.user_keys
                && metadata_registry.is_none()
                && !super::public::is_public_npm(registry.as_str())
            {
                if let Ok(k) = registry.join("-/npm/v1/keys") {
                    plan.keys.insert(k);
                }
            }
            plan.registries.insert(w.name.clone(), registry);
        }
        plan
    }

    /// Never fetch `registry`'s own `/-/npm/v1/keys` (its keys are pinned elsewhere, e.g. by
    /// the policy file, or it is declared unsigned).
    pub fn skip_own_keys(&mut self, registry: &Url) {
        if let Ok(k) = registry.join("-/npm/v1/keys") {
            self.keys.remove(&k);
        }
    }
}

/// Everything fetched for a run. Failures are kept per document: they become the package's
/// `unverifiable` finding, never an error of the run. `P` is what is kept of each packument:
/// its body ([`fetch_all`]), or what a digest made of it ([`fetch_all_digested`]).
#[derive(Debug)]
pub struct FetchedEvidence<P = Fetched> {
    pub packuments: BTreeMap<String, Result<P, FetchError>>,
    /// `Ok(None)`: the registry has no attestations for the version (404).
    pub attestations: BTreeMap<Wanted, Result<Option<Fetched>, FetchError>>,
    /// Versions whose attestations were not requested: their packument announces none, on a
    /// registry whose announcements are complete ([`AttestationFetch::announced_only`]).
    pub not_announced: BTreeSet<Wanted>,
    pub keys: BTreeMap<Url, Result<Fetched, FetchError>>,
    /// What each fetched packument says about the wanted versions (for the stripped check).
    pub observed: BTreeMap<Wanted, VersionMetadata>,
}

impl<P> Default for FetchedEvidence<P> {
    fn default() -> Self {
        FetchedEvidence {
            packuments: BTreeMap::new(),
            attestations: BTreeMap::new(),
            not_announced: BTreeSet::new(),
            keys: BTreeMap::new(),
            observed: BTreeMap::new(),
        }
    }
}

/// The signals of one version in its packument that the plan needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VersionMetadata {
    pub in_packument: bool,
    pub has_signatures: bool,
    pub has_npm_user: bool,
    pub announces_attestations: bool,
}

/// Runs the plan: packuments and keys concurrently (the client bounds concurrency), and the
/// attestations of every wanted version present in its packument as soon as that packument
/// is in. Keeps every packument's body.
pub async fn fetch_all(client: Arc<RegistryClient>, plan: &FetchPlan) -> FetchedEvidence {
    fetch_all_digested(client, plan, KeepBodies).await
}

/// What [`fetch_all_digested`] makes of each packument, on a blocking thread.
pub trait Digest: Send + Sync + 'static {
    /// What is kept of a packument.
    type Kept: Send + 'static;

    /// Bodies of this many bytes or more are digested once: what is made of one is stored in
    /// the cache beside it ([`DerivedSlot`]) and read back ([`Digest::derived`]) while the
    /// cache serves that body without a request. `None`: every body is digested every time.
    fn large(&self) -> Option<u64>;

    /// Digests a packument body fetched for `name`, wanted for the `wanted` versions: what is
    /// kept of it, and what the plan needs of the wanted versions ([`observe`] of its parse).
    /// `slot`: where to store what is derived from it, for a large body in a writable cache.
    fn body(
        &self,
        name: &str,
        wanted: &BTreeSet<String>,
        fetched: Fetched,
        slot: Option<DerivedSlot>,
    ) -> (Vec<Observation>, Self::Kept);

    /// What [`Digest::body`] stored for `name`'s packument, read back; `None` when it cannot be
    /// used (made for other versions or by another build, or unreadable): the body is then
    /// read and digested.
    fn derived(
        &self,
        name: &str,
        wanted: &BTreeSet<String>,
        derived: &[u8],
    ) -> Option<(Vec<Observation>, Self::Kept)>;
}

/// The digest of [`fetch_all`]: the whole body, kept.
struct KeepBodies;

impl Digest for KeepBodies {
    type Kept = Fetched;
    fn large(&self) -> Option<u64> {
        None
    }
    fn body(
        &self,
        _: &str,
        wanted: &BTreeSet<String>,
        f: Fetched,
        _: Option<DerivedSlot>,
    ) -> (Vec<Observation>, Fetched) {
        let doc = Packument::from_slice_for(&f.bytes, wanted).ok();
        (observe(doc.as_ref(), wanted), f)
    }
    fn derived(
        &self,
        _: &str,
        _: &BTreeSet<String>,
        _: &[u8],
    ) -> Option<(Vec<Observation>, Fetched)> {
        None
    }
}

/// [`fetch_all`], with each packument handed to `digest` as soon as it is in, on a blocking
/// thread (at most one per core at a time), and only what `digest` returns kept: the body is
/// dropped there, so a run never holds every body at once.
pub async fn fetch_all_digested<D: Digest>(
    client: Arc<RegistryClient>,
    plan: &FetchPlan,
    digest: D,
) -> FetchedEvidence<D::Kept> {
    let digest = Arc::new(digest);
    // Packuments between their request and the end of their digest: as many as the client
    // sends requests at once, so its requests stay busy while the bodies held in memory
    // (each dropped once digested) stay bounded.
    let in_flight = Arc::new(tokio::sync::Semaphore::new(client.concurrency()));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parsing = Arc::new(tokio::sync::Semaphore::new(cores));
    let mut out = FetchedEvidence::default();
    let mut set = tokio::task::JoinSet::new();
    for (name, (u, accept)) in &plan.packuments {
        let (c, name, u, accept) = (client.clone(), name.clone(), u.clone(), *accept);
        let versions = plan.versions.get(&name).cloned().unwrap_or_default();
        let (digest, in_flight, parsing) = (digest.clone(), in_flight.clone(), parsing.clone());
        set.spawn(async move {
            // Closed never: the semaphores live as long as this function.
            let _slot = in_flight.acquire_owned().await.ok();
            let large = digest.large();
            let mut served = match large {
                Some(large) => {
                    c.get_served(&u, accept, ResourceKind::Packument, large)
                        .await
                }
                None => c
                    .get(&u, accept, ResourceKind::Packument)
                    .await
                    .map(|f| Served::Body(f, None)),
            };
            let versions = Arc::new(versions);
            loop {
                let served_now = match served {
                    Ok(s) => s,
                    Err(e) => return Job::Packument(name, None, Err(e)),
                };
                let core = parsing.clone().acquire_owned().await.ok();
                let (task_name, task_versions, task_digest) =
                    (name.clone(), versions.clone(), digest.clone());
                let done = tokio::task::spawn_blocking(move || match served_now {
                    Served::Body(f, slot) => {
                        // Only a large body is worth storing what is made of it.
                        let slot =
                            slot.filter(|_| large.is_some_and(|l| f.bytes.len() as u64 >= l));
                        Some(task_digest.body(&task_name, &task_versions, f, slot))
                    }
                    Served::Derived(d) => task_digest.derived(&task_name, &task_versions, &d),
                })
                .await;
                drop(core);
                match done {
                    Ok(Some((observed, p))) => return Job::Packument(name, Some(observed), Ok(p)),
                    // What was derived cannot be used: the body itself, read whole (and
                    // digested again, replacing what was stored).
                    Ok(None) => {
                        served = c
                            .get_served(&u, accept, ResourceKind::Packument, u64::MAX)
                            .await;
                    }
                    // The digest panicked: a bug; re-raise it rather than lose the package.
                    Err(e) => std::panic::resume_unwind(e.into_panic()),
                }
            }
        });
    }
    for k in &plan.keys {
        let (c, k) = (client.clone(), k.clone());
        set.spawn(async move {
            let r = c.get(&k, Accept::Json, ResourceKind::Keys).await;
            Job::Keys(k, r)
        });
    }
    // Each version's attestations are requested as soon as its packument is parsed, in the
    // same set: no barrier between the packument phase and the attestation phase (with a
    // per-request latency, one slow packument no longer holds back every attestation).
    while let Some(done) = set.join_next().await {
        match done {
            Ok(Job::Packument(name, observed, r)) => {
                if let (Some(observed), Some(registry)) = (observed, plan.registries.get(&name)) {
                    for (v, meta, announced) in observed {
                        let wanted = Wanted {
                            name: name.clone(),
                            version: v.clone(),
                        };
                        out.observed.insert(wanted.clone(), meta);
                        if !meta.in_packument {
                            continue;
                        }
                        if !meta.announces_attestations
                            && plan.attestations.announced_only(registry)
                        {
                            // Not announced where announcements are complete: no attestations.
                            out.not_announced.insert(wanted);
                            continue;
                        }
                        if let Some(u) = attestations_url(registry, &name, &v, announced.as_deref())
                        {
                            let c = client.clone();
                            set.spawn(async move {
                                let r =
                                    match c.get(&u, Accept::Json, ResourceKind::Attestations).await
                                    {
                                        Ok(f) => Ok(Some(f)),
                                        Err(e) if e.reason == FetchFailure::NotFound => Ok(None),
                                        Err(e) => Err(e),
                                    };
                                Job::Attestations(wanted, r)
                            });
                        }
                    }
                }
                out.packuments.insert(name, r);
            }
            Ok(Job::Keys(k, r)) => {
                out.keys.insert(k, r);
            }
            Ok(Job::Attestations(w, r)) => {
                out.attestations.insert(w, r);
            }
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => {}
        }
    }
    out
}

/// What one packument observed of each wanted version: its signals and announced
/// attestations URL (`None` when the fetch failed).
type Observed = Option<Vec<Observation>>;

enum Job<P> {
    Packument(String, Observed, Result<P, FetchError>),
    Keys(Url, Result<Fetched, FetchError>),
    Attestations(Wanted, Result<Option<Fetched>, FetchError>),
}

/// One run-level `registry-metadata-stripped` finding per registry whose packuments carry no
/// `dist.signatures` for any wanted version found there (and, for full packuments, no
/// `_npmUser` either), as a mirror that strips them does. Registries with nothing observed
/// yield nothing.
pub fn metadata_stripped<P>(plan: &FetchPlan, evidence: &FetchedEvidence<P>) -> Vec<Finding> {
    let full = plan
        .packuments
        .values()
        .any(|(_, accept)| *accept == Accept::Json);
    let mut per_registry: BTreeMap<String, (usize, bool)> = BTreeMap::new();
    for (w, meta) in &evidence.observed {
        if !meta.in_packument {
            continue;
        }
        let Some(reg) = plan.registries.get(&w.name) else {
            continue;
        };
        let e = per_registry.entry(redact_url(reg)).or_insert((0, false));
        e.0 += 1;
        e.1 |= meta.has_signatures || (full && meta.has_npm_user);
    }
    per_registry
        .into_iter()
        .filter(|(_, (n, any))| *n > 0 && !*any)
        .map(|(reg, (n, _))| {
            Finding::new(
                "registry-metadata-stripped",
                format!(
                    "{reg} serves no registry signatures{} for any of the {n} package versions \
                     fetched from it (a mirror that strips them?); fetch metadata from the public \
                     registry with --metadata-registry {PUBLIC_REGISTRY} (the lockfile's \
                     integrity still binds the installed bytes)",
                    if full { " or publisher data" } else { "" }
                ),
            )
        })
        .collect()
}

/// `REGISTRY/NAME`, with a scoped name's `/` escaped as `%2f` (as npm requests it).
pub fn packument_url(registry: &Url, name: &str) -> Option<Url> {
    let escaped = match name.strip_prefix('@') {
        Some(rest) => format!("@{}", rest.replacen('/', "%2f", 1)),
        None => name.to_string(),
    };
    if escaped.is_empty() || escaped.contains(['?', '#']) || escaped.starts_with('.') {
        return None;
    }
    registry.join(&escaped).ok()
}

/// The attestations URL of `name@version`, always on `registry` (credentials and trust never
/// follow another host named in metadata). As pacote: the announced URL's *path* under the
/// configured registry; without an announcement, `-/npm/v1/attestations/NAME@VERSION`.
pub fn attestations_url(
    registry: &Url,
    name: &str,
    version: &str,
    announced: Option<&str>,
) -> Option<Url> {
    if let Some(path) = announced
        .and_then(|a| Url::parse(a).ok())
        .map(|u| u.path().to_string())
        .filter(|p| p.contains("/-/npm/v1/attestations/"))
    {
        let mut u = registry.clone();
        let prefix = registry.path().trim_end_matches('/');
        if path.starts_with(&format!("{prefix}/")) {
            u.set_path(&path);
        } else {
            u.set_path(&format!("{prefix}{path}"));
        }
        u.set_query(None);
        return Some(u);
    }
    let escaped = match name.strip_prefix('@') {
        Some(rest) => format!("@{}", rest.replacen('/', "%2f", 1)),
        None => name.to_string(),
    };
    registry
        .join(&format!("-/npm/v1/attestations/{escaped}@{version}"))
        .ok()
}

/// What the plan observes of the wanted versions in a parsed packument (`None`: the packument
/// could not be parsed): each version's signals and announced attestations URL. Read from the
/// entries [`Packument`] keeps, so the plan and verification see one parse of the document.
/// A version document (not a `versions` object) lists nothing; one wanted entry the signals
/// cannot be read from (e.g. `dist` a string) leaves the whole packument unobserved, as an
/// unreadable document would. A repeated key reads as its last value, as verification reads it
/// (the plan's separate parse before rejected repeated fields), and the packument's size and
/// depth caps apply.
pub fn observe(doc: Option<&Packument>, wanted: &BTreeSet<String>) -> Vec<Observation> {
    let unobserved = || {
        wanted
            .iter()
            .map(|v| (v.clone(), VersionMetadata::default(), None))
            .collect()
    };
    let Some(doc) = doc.filter(|d| d.has_versions_object()) else {
        return unobserved();
    };
    let mut out = Vec::with_capacity(wanted.len());
    for v in wanted {
        let Some(raw) = doc.raw_version(v) else {
            out.push((v.clone(), VersionMetadata::default(), None));
            continue;
        };
        let Ok(lean) = LeanVersion::deserialize(raw) else {
            return unobserved();
        };
        let dist = lean.dist.as_ref();
        let meta = VersionMetadata {
            in_packument: true,
            has_signatures: dist
                .and_then(|d| d.signatures.as_ref())
                .is_some_and(|s| !s.is_empty()),
            has_npm_user: lean.npm_user.is_some(),
            announces_attestations: dist.and_then(|d| d.attestations.as_ref()).is_some(),
        };
        let url = dist
            .and_then(|d| d.attestations.as_ref())
            .and_then(|a| a.url.clone());
        out.push((v.clone(), meta, url));
    }
    out
}

/// One wanted version as observed: its signals and announced attestations URL.
pub type Observation = (String, VersionMetadata, Option<String>);

/// The few fields of a version entry the plan reads.
#[derive(Deserialize)]
struct LeanVersion {
    #[serde(default)]
    dist: Option<LeanDist>,
    #[serde(rename = "_npmUser", default)]
    npm_user: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct LeanDist {
    #[serde(default)]
    signatures: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    attestations: Option<LeanAttestations>,
}

#[derive(Deserialize)]
struct LeanAttestations {
    #[serde(default)]
    url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn packument_urls_escape_scopes() {
        let r = u("https://registry.npmjs.org/");
        assert_eq!(
            packument_url(&r, "@actions/core").unwrap().as_str(),
            "https://registry.npmjs.org/@actions%2fcore"
        );
        assert_eq!(
            packument_url(&u("https://h.example/npm/"), "nuxt")
                .unwrap()
                .as_str(),
            "https://h.example/npm/nuxt"
        );
        assert!(packument_url(&r, "../x").is_none());
    }

    #[test]
    fn attestation_urls_stay_on_the_configured_registry() {
        let mirror = u("https://mirror.example/");
        let a = attestations_url(
            &mirror,
            "nuxt",
            "4.1.2",
            Some("https://registry.npmjs.org/-/npm/v1/attestations/nuxt@4.1.2"),
        )
        .unwrap();
        assert_eq!(
            a.as_str(),
            "https://mirror.example/-/npm/v1/attestations/nuxt@4.1.2"
        );
        let prefixed = u("https://h.example/npm/");
        let b = attestations_url(
            &prefixed,
            "x",
            "1.0.0",
            Some("https://evil.example/-/npm/v1/attestations/x@1.0.0?t=1"),
        )
        .unwrap();
        assert_eq!(
            b.as_str(),
            "https://h.example/npm/-/npm/v1/attestations/x@1.0.0"
        );
        let c = attestations_url(&prefixed, "@s/p", "2.0.0", None).unwrap();
        assert_eq!(
            c.as_str(),
            "https://h.example/npm/-/npm/v1/attestations/@s%2fp@2.0.0"
        );
        // An announcement that is not an attestations path is ignored.
        let d =
            attestations_url(&mirror, "x", "1.0.0", Some("https://mirror.example/other")).unwrap();
        assert!(d.path().ends_with("/attestations/x@1.0.0"));
    }

    #[test]
    fn observes_the_signals_of_the_wanted_versions() {
        let doc = br#"{"name":"a","time":{"1.0.0":"x"},"versions":{
            "1.0.0":{"dist":{"signatures":[{"keyid":"k","sig":"s"}],
                     "attestations":{"url":"https://r/-/npm/v1/attestations/a@1.0.0"}},
                     "_npmUser":{"name":"n"}, "readme":"long"},
            "0.9.0":{"dist":{"integrity":"sha512-x"}}}}"#;
        let wanted: BTreeSet<String> = ["1.0.0", "0.9.0", "2.0.0"].map(String::from).into();
        let observed = |bytes: &[u8], wanted: &BTreeSet<String>| {
            let doc = Packument::from_slice_for(bytes, wanted).ok();
            observe(doc.as_ref(), wanted)
                .into_iter()
                .map(|(v, m, u)| (v, (m, u)))
                .collect::<BTreeMap<_, _>>()
        };
        let o = observed(doc, &wanted);
        assert_eq!(
            o["1.0.0"],
            (
                VersionMetadata {
                    in_packument: true,
                    has_signatures: true,
                    has_npm_user: true,
                    announces_attestations: true
                },
                Some("https://r/-/npm/v1/attestations/a@1.0.0".to_string())
            )
        );
        assert_eq!(
            o["0.9.0"],
            (
                VersionMetadata {
                    in_packument: true,
                    ..Default::default()
                },
                None
            )
        );
        assert_eq!(o["2.0.0"], (VersionMetadata::default(), None));
        // Unparseable, a version document, or one wanted entry whose signals cannot be read:
        // nothing observed for any wanted version.
        let unobserved = |bytes: &[u8]| {
            observed(bytes, &wanted)
                .values()
                .all(|(m, u)| *m == VersionMetadata::default() && u.is_none())
        };
        assert!(unobserved(b"[1,2]"));
        assert!(unobserved(br#"{"versions":{}} trailing"#));
        assert!(unobserved(
            br#"{"name":"a","version":"1.0.0","dist":{"signatures":[{"keyid":"k","sig":"s"}]}}"#
        ));
        assert!(unobserved(
            br#"{"versions":{"1.0.0":{"dist":{"signatures":[{}]},"_npmUser":{}},
                 "0.9.0":{"dist":"garbage"}}}"#
        ));
        // An unwanted malformed entry does not matter.
        let only: BTreeSet<String> = ["1.0.0".to_string()].into();
        let doc = br#"{"versions":{"1.0.0":{"dist":{"signatures":[{}]}},"0.9.0":{"dist":5}}}"#;
        assert!(observed(doc, &only)["1.0.0"].0.has_signatures);
        assert!(observe(None, &only)[0].1 == VersionMetadata::default());
    }

    #[test]
    fn plan_shares_packuments_and_skips_public_keys() {
        let config = RegistryConfig::load(&super::super::config::ConfigInputs {
            cli_registry: Some("https://registry.npmjs.org/".into()),
            env: [(
                "npm_config_@corp:registry".to_string(),
                "https://npm.corp.example/".to_string(),
            )]
            .into(),
            ..Default::default()
        })
        .unwrap();
        let w = |n: &str, v: &str| Wanted {
            name: n.into(),
            version: v.into(),
        };
        let wanted = [w("a", "1.0.0"), w("a", "2.0.0"), w("@corp/b", "1.0.0")];
        let plan = FetchPlan::build(&wanted, &config, None, PlanOptions::default());
        assert_eq!(plan.packuments.len(), 2);
        assert_eq!(plan.versions["a"].len(), 2);
        assert_eq!(plan.packuments["a"].1, Accept::Abbreviated);
        assert_eq!(
            plan.packuments["@corp/b"].0.as_str(),
            "https://npm.corp.example/@corp%2fb"
        );
        assert_eq!(
            plan.keys.iter().map(Url::as_str).collect::<Vec<_>>(),
            ["https://npm.corp.example/-/npm/v1/keys"]
        );
        let mut skipped = plan.clone();
        skipped.skip_own_keys(&u("https://npm.corp.example/"));
        assert!(skipped.keys.is_empty());
        let md = u("https://registry.npmjs.org/");
        let plan = FetchPlan::build(
            &wanted,
            &config,
            Some(&md),
            PlanOptions {
                full_packuments: true,
                user_keys: false,
                attestations: AttestationFetch::Auto,
            },
        );
        assert!(plan.keys.is_empty());
        assert_eq!(plan.packuments["a"].1, Accept::Json);
        assert!(plan.packuments["@corp/b"]
            .0
            .as_str()
            .starts_with("https://registry.npmjs.org/"));
    }

    #[test]
    fn auto_skips_unannounced_versions_on_the_public_registry_only() {
        let public = Url::parse("https://registry.npmjs.org/").unwrap();
        let mirror = Url::parse("https://mirror.example/npm/").unwrap();
        assert!(AttestationFetch::Auto.announced_only(&public));
        assert!(!AttestationFetch::Auto.announced_only(&mirror));
        assert!(AttestationFetch::Announced.announced_only(&mirror));
        assert!(!AttestationFetch::All.announced_only(&public));
    }
}
