//! The history engine's input model: what is known about each release of a package, and the
//! tolerant adapter that builds it from a full packument.
//!
//! The adapter reads only the fields the engine needs (`time`, and per version `_npmUser`,
//! `dist.attestations`, `scripts`, `dependencies`, `deprecated`); everything else, including
//! Verdaccio's bookkeeping keys (`_uplinks`, `_distfiles`, `_attachments`, `_rev`), is ignored.
//! What the packument says is *announced*: its times are unsigned and its provenance is a claim.
//! Verified facts (signed times, verified identities) replace the announced ones through
//! [`overlay_verified`].

use crate::registry::packument::{EntrySink, Packument};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

/// Where a release's time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeSource {
    /// The integrated time of the verified publish attestation's Rekor entry (signed).
    Rekor,
    /// The packument's `time` map (unsigned; mirrors rewrite it).
    RegistryUnsigned,
}

impl TimeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeSource::Rekor => "rekor",
            TimeSource::RegistryUnsigned => "registry-unsigned",
        }
    }
}

/// An `(account, e-mail)` pair from `_npmUser`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Publisher {
    pub name: String,
    pub email: String,
}

/// `_npmUser.approver` of a staged publish; either part may be absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approver {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// The identity a verified provenance certificate states (Fulcio extensions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildIdentity {
    /// OIDC issuer (.8, else legacy .1).
    pub issuer: String,
    /// Source repository URI (.12).
    pub repository: String,
    /// Source repository numeric id (.15), compared first when both sides have it.
    pub repository_id: Option<String>,
    /// Build config URI (.18): the caller's workflow, `…/.github/workflows/x.yml@refs/…`.
    pub workflow: String,
    /// Source ref (.14), e.g. `refs/tags/v1.2.3` or `refs/heads/main`.
    pub source_ref: Option<String>,
    /// Event trigger (.20).
    pub trigger: Option<String>,
    /// Runner environment (.11): `github-hosted` or `self-hosted`.
    pub runner: Option<String>,
}

impl BuildIdentity {
    /// The workflow without its `@ref` suffix (the ref changes with every release).
    pub fn workflow_path(&self) -> &str {
        self.workflow
            .rsplit_once('@')
            .map(|(p, _)| p)
            .unwrap_or(&self.workflow)
    }

    /// The workflow file inside its repository (`.github/workflows/x.yml`) when the workflow
    /// lives in the source repository, so a renamed repository (same numeric id) keeps its
    /// workflow; otherwise the whole workflow path (a workflow in another repository).
    pub fn workflow_file(&self) -> &str {
        let path = self.workflow_path();
        let repo = self.repository.trim_end_matches('/');
        path.strip_prefix(repo)
            .and_then(|rest| rest.strip_prefix('/'))
            .unwrap_or(path)
    }

    /// `tag`, `branch` or `other`, from the source ref.
    pub fn ref_kind(&self) -> Option<&'static str> {
        self.source_ref.as_deref().map(|r| {
            if r.starts_with("refs/tags/") {
                "tag"
            } else if r.starts_with("refs/heads/") {
                "branch"
            } else {
                "other"
            }
        })
    }
}

/// What is known about a release's provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state", content = "identity")]
pub enum Provenance {
    /// Verified provenance with the identity its certificate states.
    Verified(Box<BuildIdentity>),
    /// `dist.attestations.provenance` is announced but was not (or could not be) verified.
    Announced,
    /// Provenance was fetched and does not verify. Never counts as provenance.
    Invalid,
    /// No provenance.
    None,
}

impl Provenance {
    /// Verified provenance with `identity` (boxed: most releases carry none, and a history of
    /// tens of thousands of releases stays small).
    pub fn verified(identity: BuildIdentity) -> Provenance {
        Provenance::Verified(Box::new(identity))
    }

    /// `verified|announced|invalid|none` (the history JSON enum).
    pub fn as_str(&self) -> &'static str {
        match self {
            Provenance::Verified(_) => "verified",
            Provenance::Announced => "announced",
            Provenance::Invalid => "invalid",
            Provenance::None => "none",
        }
    }

    /// Present: verified, or announced where it could not be verified. Invalid is not present.
    pub fn is_present(&self) -> bool {
        matches!(self, Provenance::Verified(_) | Provenance::Announced)
    }

    pub fn identity(&self) -> Option<&BuildIdentity> {
        match self {
            Provenance::Verified(id) => Some(id),
            _ => None,
        }
    }
}

/// Everything the engine knows about one release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseFacts {
    pub version: String,
    /// Publish time; `None` when the packument has no time for the version.
    pub time: Option<Timestamp>,
    pub time_source: TimeSource,
    /// `_npmUser` as `(name, email)`; `None` when the packument has none (very old releases, or
    /// a mirror that strips it).
    pub publisher: Option<Publisher>,
    /// `_npmUser.trustedPublisher` present (OIDC trusted publishing).
    pub trusted_publisher: bool,
    pub approver: Option<Approver>,
    pub provenance: Provenance,
    /// The lifecycle scripts that run on install, by name (`preinstall`, `install`,
    /// `postinstall`), sorted.
    pub install_scripts: Vec<String>,
    /// `dependencies` (and `optionalDependencies`): name → range. Shared between the releases
    /// of one packument that declare the same set (most consecutive releases do), which keeps
    /// a history of tens of thousands of releases small.
    #[serde(serialize_with = "shared_map")]
    pub dependencies: Arc<BTreeMap<String, String>>,
    pub deprecated: bool,
    /// In `time` but not in `versions`: npm removed it.
    pub removed: bool,
}

/// Serialises a shared map as the map it is.
fn shared_map<S: serde::Serializer>(
    map: &Arc<BTreeMap<String, String>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&**map, s)
}

/// Verified facts about one release, to replace the announced ones (see [`overlay_verified`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedFacts {
    /// The Rekor integrated time of the verified publish attestation, when there is one.
    pub signed_time: Option<Timestamp>,
    /// The verified provenance state (`Verified(identity)` or `Invalid`); `None` leaves the
    /// announced state in place (e.g. attestations could not be fetched).
    pub provenance: Option<Provenance>,
}

/// A packument that cannot be read as one (not an object, no `versions` object).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a full packument: {0}")]
pub struct FactsError(pub String);

/// The install lifecycle scripts npm runs.
pub const INSTALL_SCRIPTS: [&str; 3] = ["preinstall", "install", "postinstall"];

/// Builds the facts of every release from a full packument, sorted by time (releases without a
/// time last, by version string). Tolerant: fields of the wrong type are treated as absent.
pub fn facts_from_packument(doc: &Value) -> Result<Vec<ReleaseFacts>, FactsError> {
    let obj = doc
        .as_object()
        .ok_or_else(|| FactsError("the document is not a JSON object".into()))?;
    let versions = obj
        .get("versions")
        .and_then(Value::as_object)
        .ok_or_else(|| FactsError("no \"versions\" object".into()))?;
    let empty = serde_json::Map::new();
    let times = obj.get("time").and_then(Value::as_object).unwrap_or(&empty);
    let mut out: Vec<ReleaseFacts> = versions
        .iter()
        .map(|(v, doc)| release_from_version(v, doc, time_in(times, v)))
        .collect();
    out.extend(removed_releases(times, |v| versions.contains_key(v)));
    sort_by_time(&mut out);
    Ok(out)
}

/// `time[version]`, when it is an RFC 3339 string.
fn time_in(times: &serde_json::Map<String, Value>, version: &str) -> Option<Timestamp> {
    times
        .get(version)
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<Timestamp>().ok())
}

/// A removed release for every version in `time` that `versions` does not list (`listed`).
fn removed_releases(
    times: &serde_json::Map<String, Value>,
    listed: impl Fn(&str) -> bool,
) -> Vec<ReleaseFacts> {
    times
        .keys()
        .filter(|v| *v != "created" && *v != "modified" && !listed(v))
        .map(|v| ReleaseFacts {
            version: v.clone(),
            time: time_in(times, v),
            time_source: TimeSource::RegistryUnsigned,
            publisher: None,
            trusted_publisher: false,
            approver: None,
            provenance: Provenance::None,
            install_scripts: Vec::new(),
            dependencies: Default::default(),
            deprecated: false,
            removed: true,
        })
        .collect()
}

/// Replaces announced facts with verified ones, version by version, and re-sorts by time.
/// A signed time replaces the registry's; a verified provenance state replaces the announced one.
pub fn overlay_verified(releases: &mut [ReleaseFacts], verified: &BTreeMap<String, VerifiedFacts>) {
    for r in releases.iter_mut() {
        let Some(v) = verified.get(&r.version) else {
            continue;
        };
        if let Some(t) = v.signed_time {
            r.time = Some(t);
            r.time_source = TimeSource::Rekor;
        }
        if let Some(p) = &v.provenance {
            r.provenance = p.clone();
        }
    }
    sort_by_time(releases);
}

/// Orders releases by time, then version string; releases without a time come last.
pub fn sort_by_time(releases: &mut [ReleaseFacts]) {
    releases.sort_by(|a, b| match (a.time, b.time) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.version.cmp(&b.version)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.version.cmp(&b.version),
    });
}

fn release_from_version(version: &str, doc: &Value, time: Option<Timestamp>) -> ReleaseFacts {
    let user = doc.get("_npmUser");
    let str_at = |v: Option<&Value>, k: &str| {
        v.and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let publisher = match (str_at(user, "name"), str_at(user, "email")) {
        (Some(name), Some(email)) => Some(Publisher { name, email }),
        (Some(name), None) => Some(Publisher {
            name,
            email: String::new(),
        }),
        _ => None,
    };
    let trusted_publisher = user
        .and_then(|u| u.get("trustedPublisher"))
        .is_some_and(|t| !t.is_null());
    let approver = user
        .and_then(|u| u.get("approver"))
        .filter(|a| a.is_object())
        .map(|a| Approver {
            name: str_at(Some(a), "name"),
            email: str_at(Some(a), "email"),
        });
    let provenance_announced = doc
        .get("dist")
        .and_then(|d| d.get("attestations"))
        .and_then(|a| a.get("provenance"))
        .is_some_and(|p| !p.is_null());
    let scripts = doc.get("scripts").and_then(Value::as_object);
    let install_scripts = INSTALL_SCRIPTS
        .iter()
        .filter(|s| {
            scripts
                .and_then(|m| m.get(**s))
                .and_then(Value::as_str)
                .is_some_and(|body| !body.trim().is_empty())
        })
        .map(|s| s.to_string())
        .collect();
    let mut dependencies = BTreeMap::new();
    for key in ["dependencies", "optionalDependencies"] {
        if let Some(m) = doc.get(key).and_then(Value::as_object) {
            for (name, range) in m {
                dependencies.insert(name.clone(), range.as_str().unwrap_or("").to_string());
            }
        }
    }
    let deprecated = doc
        .get("deprecated")
        .is_some_and(|d| d.as_str().is_some_and(|s| !s.is_empty()) || d == &Value::Bool(true));
    ReleaseFacts {
        version: version.to_string(),
        time,
        time_source: TimeSource::RegistryUnsigned,
        publisher,
        trusted_publisher,
        approver,
        provenance: if provenance_announced {
            Provenance::Announced
        } else {
            Provenance::None
        },
        install_scripts,
        dependencies: Arc::new(dependencies),
        deprecated,
        removed: false,
    }
}

/// The keys of a version entry the history engine and baseline verification read; every other
/// key (readmes, file lists, build metadata) is skipped by [`history_view`] without being built.
const VERSION_KEYS: [&str; 8] = [
    "name",
    "version",
    "dist",
    "_npmUser",
    "scripts",
    "dependencies",
    "optionalDependencies",
    "deprecated",
];

/// Parses a full packument into the part the history engine reads: the top-level `versions`
/// (each entry reduced to [`VERSION_KEYS`]; an entry that is not an object is kept as it is, so
/// [`facts_from_packument`] stays as tolerant as on the whole document) and `time`. One
/// streaming pass; everything else is skipped, never allocated (on large packuments most of the
/// bytes are readmes and per-version metadata the engine never looks at). The result is what
/// [`facts_from_packument`] would see in the whole document.
pub fn history_view(bytes: &[u8]) -> Result<Value, FactsError> {
    use serde::de::DeserializeSeed;
    use view::Level;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let doc = Level::Top
        .deserialize(&mut de)
        .map_err(|e| FactsError(format!("not a JSON object: {e}")))?;
    de.end()
        .map_err(|e| FactsError(format!("trailing data: {e}")))?;
    Ok(doc)
}

/// The streaming parse behind [`history_view`].
mod view {
    use super::VERSION_KEYS;
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
    use serde_json::{Map, Value};

    /// What to keep of a map: at the top `versions` (reduced) and `time`; in `versions`
    /// every entry (reduced); in an entry the `VERSION_KEYS`.
    #[derive(Clone, Copy)]
    pub(super) enum Level {
        Top,
        Versions,
        Entry,
    }

    impl<'de> DeserializeSeed<'de> for Level {
        type Value = Value;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            match self {
                Level::Top => d.deserialize_map(self),
                // Not a map here is kept as the value it is (tolerance of the adapter).
                Level::Versions | Level::Entry => d.deserialize_any(self),
            }
        }
    }

    impl<'de> Visitor<'de> for Level {
        type Value = Value;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a packument")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut out = Map::new();
            while let Some(key) = map.next_key::<String>()? {
                let keep = match self {
                    Level::Top if key == "versions" => Some(Level::Versions),
                    Level::Top if key == "time" => None,
                    Level::Top => {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    Level::Versions => Some(Level::Entry),
                    Level::Entry if VERSION_KEYS.contains(&key.as_str()) => None,
                    Level::Entry => {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                };
                let value = match keep {
                    Some(level) => map.next_value_seed(level)?,
                    None => map.next_value::<Value>()?,
                };
                // As serde_json's own map: a repeated key keeps the last value.
                out.insert(key, value);
            }
            Ok(Value::Object(out))
        }
        // Scalars and arrays where `versions` or an entry should be an object: kept as they
        // are (the adapter then treats them as it would in the whole document).
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut out = Vec::new();
            while let Some(v) = seq.next_element::<Value>()? {
                out.push(v);
            }
            Ok(Value::Array(out))
        }
    }
}

/// What the history engine reads of a full packument, built without holding the whole
/// [`history_view`]: the facts of every release and the entries of the releases announcing
/// provenance (the only possible verified baselines).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryFacts {
    /// Exactly [`facts_from_packument`] of [`history_view`] of the same bytes.
    pub releases: Vec<ReleaseFacts>,
    /// `{"versions": …, "time": …}` of [`history_view`] reduced to the releases announcing
    /// provenance.
    pub announced: Value,
}

impl HistoryFacts {
    /// The facts as stored beside the packument they were read from (compact JSON: each
    /// release an array, each distinct dependency map once), for [`HistoryFacts::from_stored`]
    /// to read back exactly. `None` when they hold verified facts: only what a packument says
    /// is stored, never what was verified (that is verified again on every run).
    pub fn to_stored(&self) -> Option<Vec<u8>> {
        let mut maps: Vec<&BTreeMap<String, String>> = Vec::new();
        let mut index: std::collections::HashMap<*const BTreeMap<String, String>, usize> =
            std::collections::HashMap::new();
        let mut releases = Vec::with_capacity(self.releases.len());
        for r in &self.releases {
            let announced = match r.provenance {
                Provenance::Announced => true,
                Provenance::None => false,
                Provenance::Verified(_) | Provenance::Invalid => return None,
            };
            if r.time_source != TimeSource::RegistryUnsigned {
                return None;
            }
            let map = *index
                .entry(Arc::as_ptr(&r.dependencies))
                .or_insert_with(|| {
                    maps.push(&r.dependencies);
                    maps.len() - 1
                });
            releases.push(stored::Release(
                r.version.clone(),
                r.time.map(|t| (t.as_second(), t.subsec_nanosecond())),
                r.publisher
                    .as_ref()
                    .map(|p| (p.name.clone(), p.email.clone())),
                r.trusted_publisher,
                r.approver
                    .as_ref()
                    .map(|a| (a.name.clone(), a.email.clone())),
                announced,
                r.install_scripts.clone(),
                map,
                r.deprecated,
                r.removed,
            ));
        }
        serde_json::to_vec(&stored::Facts {
            maps: maps.into_iter().cloned().collect(),
            releases,
            announced: self.announced.clone(),
        })
        .ok()
    }

    /// Reads back what [`HistoryFacts::to_stored`] wrote: the same facts, dependency maps
    /// shared again. Anything else is an error.
    pub fn from_stored(bytes: &[u8]) -> Result<HistoryFacts, FactsError> {
        let bad = |e: String| FactsError(format!("stored facts: {e}"));
        let s: stored::Facts = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        let maps: Vec<Arc<BTreeMap<String, String>>> = s.maps.into_iter().map(Arc::new).collect();
        let mut releases = Vec::with_capacity(s.releases.len());
        for stored::Release(
            version,
            time,
            publisher,
            trusted,
            approver,
            announced,
            scripts,
            map,
            deprecated,
            removed,
        ) in s.releases
        {
            let time = match time {
                Some((secs, nanos)) => {
                    Some(Timestamp::new(secs, nanos).map_err(|e| bad(e.to_string()))?)
                }
                None => None,
            };
            let dependencies = maps
                .get(map)
                .ok_or_else(|| bad(format!("no dependency map {map}")))?
                .clone();
            releases.push(ReleaseFacts {
                version,
                time,
                time_source: TimeSource::RegistryUnsigned,
                publisher: publisher.map(|(name, email)| Publisher { name, email }),
                trusted_publisher: trusted,
                approver: approver.map(|(name, email)| Approver { name, email }),
                provenance: if announced {
                    Provenance::Announced
                } else {
                    Provenance::None
                },
                install_scripts: scripts,
                dependencies,
                deprecated,
                removed,
            });
        }
        Ok(HistoryFacts {
            releases,
            announced: s.announced,
        })
    }
}

/// The stored form of [`HistoryFacts`].
mod stored {
    use serde::{Deserialize, Serialize};
    use serde_json::Value;
    use std::collections::BTreeMap;

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Facts {
        pub(super) maps: Vec<BTreeMap<String, String>>,
        pub(super) releases: Vec<Release>,
        pub(super) announced: Value,
    }

    /// One release: version, time (seconds, nanoseconds), publisher (name, e-mail), trusted
    /// publisher, approver (name, e-mail), provenance announced, install scripts, index of its
    /// dependency map, deprecated, removed.
    #[derive(Serialize, Deserialize)]
    #[allow(clippy::type_complexity)]
    pub(super) struct Release(
        pub(super) String,
        pub(super) Option<(i64, i32)>,
        pub(super) Option<(String, String)>,
        pub(super) bool,
        pub(super) Option<(Option<String>, Option<String>)>,
        pub(super) bool,
        pub(super) Vec<String>,
        pub(super) usize,
        pub(super) bool,
        pub(super) bool,
    );
}

/// [`facts_from_packument`] of [`history_view`], in one streaming pass that builds one version
/// entry at a time (a packument of thousands of versions is never held as a tree), with the
/// entries of the releases announcing provenance kept ([`HistoryFacts::announced`]). The pass
/// is the npm layer's packument parse ([`Packument::from_slice_with`]) feeding a
/// [`FactsBuilder`], so `verify` gets the facts from the same pass that reads the installed
/// versions; its caps (size, depth) apply.
pub fn history_facts(bytes: &[u8]) -> Result<HistoryFacts, FactsError> {
    let mut facts = FactsBuilder::default();
    let (_, time) = Packument::from_slice_with(bytes, &BTreeSet::new(), &mut facts)
        .map_err(|e| FactsError(e.to_string()))?;
    facts.finish(time.as_ref())
}

/// Builds [`HistoryFacts`] from the entries of a packument's `versions` as the packument parse
/// hands them over, one at a time: each entry becomes its release's facts at once and is
/// dropped, unless it announces provenance (only those can become verified baselines).
#[derive(Debug, Default)]
pub struct FactsBuilder {
    /// Each listed version: its facts (time not yet set), and its reduced entry when it
    /// announces provenance. `None` until a `versions` object is seen, or when the last one
    /// was not an object.
    versions: Option<BTreeMap<String, (ReleaseFacts, Option<Value>)>>,
    /// One copy of each distinct dependency map (most releases repeat their predecessor's).
    shared: HashSet<Arc<BTreeMap<String, String>>>,
}

impl EntrySink for FactsBuilder {
    fn keys(&self) -> &[&str] {
        &VERSION_KEYS
    }

    fn begin(&mut self) {
        self.versions = Some(BTreeMap::new());
        self.shared.clear();
    }

    fn entry(&mut self, version: String, entry: Value) {
        let mut facts = release_from_version(&version, &entry, None);
        match self.shared.get(&facts.dependencies) {
            Some(same) => facts.dependencies = same.clone(),
            None => {
                self.shared.insert(facts.dependencies.clone());
            }
        }
        let keep = (facts.provenance == Provenance::Announced).then_some(entry);
        // As serde_json's own map: a repeated version keeps the last entry.
        self.versions
            .get_or_insert_with(BTreeMap::new)
            .insert(version, (facts, keep));
    }

    fn not_an_object(&mut self) {
        self.versions = None;
        self.shared.clear();
    }
}

impl FactsBuilder {
    /// The facts of every release, given the packument's whole `time` value: an error when the
    /// packument had no `versions` object.
    pub fn finish(self, time: Option<&Value>) -> Result<HistoryFacts, FactsError> {
        let versions = self
            .versions
            .ok_or_else(|| FactsError("no \"versions\" object".into()))?;
        let empty = serde_json::Map::new();
        let times = time.and_then(Value::as_object).unwrap_or(&empty);
        let mut announced_versions = serde_json::Map::new();
        let mut announced_times = serde_json::Map::new();
        let removed = removed_releases(times, |v| versions.contains_key(v));
        let mut out = Vec::with_capacity(versions.len() + removed.len());
        for (v, (mut facts, entry)) in versions {
            facts.time = time_in(times, &v);
            if let Some(entry) = entry {
                if let Some(t) = times.get(&v) {
                    announced_times.insert(v.clone(), t.clone());
                }
                announced_versions.insert(v, entry);
            }
            out.push(facts);
        }
        out.extend(removed);
        sort_by_time(&mut out);
        Ok(HistoryFacts {
            releases: out,
            announced: serde_json::json!({"versions": announced_versions, "time": announced_times}),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn history_view_keeps_what_the_adapter_reads_and_its_tolerance() {
        let text = r#"{"_rev":"1","readme":"long","versions":{
            "1.0.0":{"name":"p","readme":"x","_npmUser":{"name":"a","email":"a@x"},
                     "dist":{"integrity":"sha512-A","attestations":{"provenance":{}}},
                     "scripts":{"install":"i"},"files":["a"],"dependencies":{"d":"1"},
                     "optionalDependencies":{"o":"2"},"deprecated":"no"},
            "2.0.0":5,
            "3.0.0":[1,{"a":true}]},
            "time":{"1.0.0":"2025-01-01T00:00:00Z","0.9.0":"2024-01-01T00:00:00Z"}}"#;
        let whole: Value = serde_json::from_str(text).unwrap();
        let view = history_view(text.as_bytes()).unwrap();
        assert_eq!(
            facts_from_packument(&view).unwrap(),
            facts_from_packument(&whole).unwrap()
        );
        assert!(view.get("readme").is_none() && view.get("_rev").is_none());
        assert!(view["versions"]["1.0.0"].get("readme").is_none());
        assert!(view["versions"]["1.0.0"].get("files").is_none());
        assert_eq!(view["versions"]["2.0.0"], 5);
        assert_eq!(
            view["versions"]["3.0.0"],
            serde_json::json!([1, {"a": true}])
        );
        // Not an object, or not JSON, or trailing data: an error, as the whole parse would be.
        for bad in ["[]", "{\"versions\":{}} x", "{\"versions\":"] {
            assert!(history_view(bad.as_bytes()).is_err(), "{bad}");
        }
        // No `versions`: the adapter's own error, as on the whole document.
        let none = history_view(br#"{"time":{}}"#).unwrap();
        assert!(facts_from_packument(&none).is_err());
    }

    #[test]
    fn history_facts_are_the_facts_of_the_view_and_as_tolerant() {
        let text = r#"{"readme":"long","versions":{
            "1.0.0":{"name":"p","_npmUser":{"name":"a","email":"a@x"},"readme":"x",
                     "dist":{"integrity":"sha512-A","attestations":{"provenance":{}}},
                     "scripts":{"install":"i"},"dependencies":{"d":"1"}},
            "1.1.0":{"dist":{"attestations":{"provenance":null}}},
            "2.0.0":5,
            "3.0.0":[1,{"a":true}]},
            "time":{"1.0.0":"2025-01-01T00:00:00Z","0.9.0":"2024-01-01T00:00:00Z",
                    "created":"2020-01-01T00:00:00Z","3.0.0":"garbage"}}"#;
        let view = history_view(text.as_bytes()).unwrap();
        let streamed = history_facts(text.as_bytes()).unwrap();
        assert_eq!(streamed.releases, facts_from_packument(&view).unwrap());
        assert_eq!(
            streamed.announced,
            json!({"versions": {"1.0.0": view["versions"]["1.0.0"]},
                   "time": {"1.0.0": "2025-01-01T00:00:00Z"}})
        );
        // A repeated `versions` keeps the last one, as the whole parse does; so does one that
        // is not an object (then there are no versions to read).
        let twice = r#"{"versions":{"1.0.0":{}},"versions":{"2.0.0":{}}}"#;
        let versions: Vec<String> = history_facts(twice.as_bytes())
            .unwrap()
            .releases
            .into_iter()
            .map(|r| r.version)
            .collect();
        assert_eq!(versions, ["2.0.0"]);
        for no_versions in [
            r#"{"time":{}}"#,
            r#"{"versions":[1,2]}"#,
            r#"{"versions":{"1.0.0":{}},"versions":"x"}"#,
        ] {
            let err = history_facts(no_versions.as_bytes()).unwrap_err();
            assert!(err.0.contains("versions"), "{no_versions}: {err}");
            let view = history_view(no_versions.as_bytes()).unwrap();
            assert!(facts_from_packument(&view).is_err(), "{no_versions}");
        }
        for bad in [
            "[]",
            "{\"versions\":{}} x",
            "{\"versions\":",
            "{\"versions\":{\"1\":}}",
        ] {
            assert!(history_facts(bad.as_bytes()).is_err(), "{bad}");
            assert!(history_view(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn stored_facts_read_back_exactly() {
        let text = serde_json::to_vec(&doc()).unwrap();
        let facts = history_facts(&text).unwrap();
        let stored = facts.to_stored().unwrap();
        let back = HistoryFacts::from_stored(&stored).unwrap();
        assert_eq!(back, facts);
        // Releases declaring the same dependencies share one map, as when read.
        let same = r#"{"versions":{"1.0.0":{"dependencies":{"a":"1"}},
            "1.0.1":{"dependencies":{"a":"1"}},"2.0.0":{}}}"#;
        let facts = history_facts(same.as_bytes()).unwrap();
        let back = HistoryFacts::from_stored(&facts.to_stored().unwrap()).unwrap();
        assert_eq!(back, facts);
        assert!(Arc::ptr_eq(
            &back.releases[0].dependencies,
            &back.releases[1].dependencies
        ));
        // Verified facts are never stored.
        let mut verified = back.clone();
        verified.releases[0].provenance = Provenance::Invalid;
        assert!(verified.to_stored().is_none());
        let mut signed = back;
        signed.releases[0].time_source = TimeSource::Rekor;
        assert!(signed.to_stored().is_none());
        // Anything else is an error, never a panic.
        for bad in [
            &b""[..],
            b"{}",
            br#"{"maps":[],"releases":[["1",null,null,false,null,false,[],0,false,false]],"announced":{}}"#,
            br#"{"maps":[{}],"releases":[["1",[9223372036854775807,0],null,false,null,false,[],0,false,false]],"announced":{}}"#,
            br#"{"maps":[{}],"releases":[],"announced":{},"x":1}"#,
        ] {
            assert!(HistoryFacts::from_stored(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    fn doc() -> Value {
        json!({
            "_uplinks": {"npmjs": {"etag": "x"}}, "_rev": "3-abc", "_attachments": {},
            "versions": {
                "1.0.0": {"_npmUser": {"name": "a", "email": "a@x"}, "scripts": {"test": "t"}},
                "1.1.0": {
                    "_npmUser": {"name": "GitHub Actions", "email": "npm-oidc-no-reply@github.com",
                                 "trustedPublisher": {"id": "github"},
                                 "approver": {"name": "a"}},
                    "dist": {"attestations": {"url": "u", "provenance": {"predicateType": "p"}}},
                    "scripts": {"postinstall": "node x.js", "install": "  "},
                    "dependencies": {"d": "^1"}, "optionalDependencies": {"o": "2"},
                    "deprecated": "use 2"
                },
                "1.2.0": {"_npmUser": "garbage", "scripts": 5}
            },
            "time": {"created": "2020-01-01T00:00:00Z", "modified": "2021-01-01T00:00:00Z",
                     "1.0.0": "2020-01-01T00:00:00.000Z", "1.1.0": "2020-02-01T00:00:00.000Z",
                     "0.9.0": "2019-01-01T00:00:00.000Z", "1.2.0": "not a time"}
        })
    }

    #[test]
    fn reads_the_fields_it_needs_and_ignores_bookkeeping() {
        let f = facts_from_packument(&doc()).unwrap();
        let versions: Vec<&str> = f.iter().map(|r| r.version.as_str()).collect();
        assert_eq!(versions, ["0.9.0", "1.0.0", "1.1.0", "1.2.0"]);
        assert!(f[0].removed && f[0].publisher.is_none());
        assert_eq!(f[1].publisher.as_ref().unwrap().email, "a@x");
        assert_eq!(f[1].provenance, Provenance::None);
        assert!(f[1].install_scripts.is_empty());
        let r = &f[2];
        assert!(r.trusted_publisher && !r.removed && r.deprecated);
        assert_eq!(r.provenance, Provenance::Announced);
        assert_eq!(r.install_scripts, ["postinstall"]);
        assert_eq!(r.dependencies.len(), 2);
        assert_eq!(r.approver.as_ref().unwrap().name.as_deref(), Some("a"));
        assert_eq!(r.approver.as_ref().unwrap().email, None);
        assert_eq!(f[3].time, None);
        assert!(f[3].publisher.is_none() && f[3].install_scripts.is_empty());
    }

    #[test]
    fn rejects_what_is_not_a_packument() {
        assert!(facts_from_packument(&json!([1])).is_err());
        assert!(facts_from_packument(&json!({"name": "x"})).is_err());
    }

    #[test]
    fn overlay_replaces_time_and_provenance_and_resorts() {
        let mut f = facts_from_packument(&doc()).unwrap();
        let id = BuildIdentity {
            issuer: "https://token.actions.githubusercontent.com".into(),
            repository: "https://github.com/o/r".into(),
            repository_id: Some("1".into()),
            workflow: "https://github.com/o/r/.github/workflows/p.yml@refs/tags/v1.1.0".into(),
            source_ref: Some("refs/tags/v1.1.0".into()),
            trigger: Some("push".into()),
            runner: Some("github-hosted".into()),
        };
        let signed: Timestamp = "2019-06-01T00:00:00Z".parse().unwrap();
        let verified = BTreeMap::from([(
            "1.1.0".to_string(),
            VerifiedFacts {
                signed_time: Some(signed),
                provenance: Some(Provenance::verified(id.clone())),
            },
        )]);
        overlay_verified(&mut f, &verified);
        assert_eq!(f[1].version, "1.1.0");
        assert_eq!(f[1].time, Some(signed));
        assert_eq!(f[1].time_source, TimeSource::Rekor);
        assert_eq!(f[1].provenance.identity(), Some(&id));
        assert_eq!(
            id.workflow_path(),
            "https://github.com/o/r/.github/workflows/p.yml"
        );
        assert_eq!(id.ref_kind(), Some("tag"));
    }
}
