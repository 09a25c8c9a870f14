//! Installed locations → exact packages: origin, registry, integrity findings, `--omit` and
//! `--workspace` filtering, and merging of the locations that install the same package.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::integrity::Integrity;
use super::model::{InventoryCounts, InventoryOptions, Origin, PackageRef};
use super::names::{check_location, check_name, check_version};
use super::package_lock::is_installed;
use super::{Entry, Tree};
use crate::findings::Finding;
use crate::registry::public::is_under_registry;
use crate::util::escape_text;

/// The installed version at a location, if a package is installed there (drift check).
pub(crate) type InstalledVersion<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Builds the package list. Errors are problem texts (the caller adds the path).
pub(crate) fn assemble(
    tree: &Tree,
    opts: &InventoryOptions,
    installed: Option<InstalledVersion<'_>>,
) -> Result<(Vec<PackageRef>, InventoryCounts), String> {
    let index: HashMap<&str, &Entry> = tree
        .entries
        .iter()
        .map(|e| (e.location.as_str(), e))
        .collect();
    // Folder → the name the first link to it installs it under (names unnamed folders).
    let mut link_names: HashMap<&str, &str> = HashMap::new();
    for e in tree.entries.iter().filter(|e| e.link) {
        if let Some(target) = e.resolved.as_deref() {
            link_names
                .entry(target)
                .or_insert(e.installed_name.as_str());
        }
    }
    let selected = select_workspaces(tree, &index, &opts.workspaces)?;
    let ctx = Ctx {
        tree,
        index: &index,
        link_names: &link_names,
        opts,
    };
    let mut counts = InventoryCounts {
        entries: tree.entries.len(),
        ..InventoryCounts::default()
    };
    let mut acc: BTreeMap<Key, Acc> = BTreeMap::new();
    for entry in &tree.entries {
        let loc = entry.location.as_str();
        let wanted = selected.as_ref().is_none_or(|s| s.contains(loc));
        if !wanted || opts.omit.excludes(&entry.flags) {
            counts.omitted += 1;
            continue;
        }
        let item = classify(&ctx, entry)?;
        if item.origin.is_registry() {
            match &item.integrity {
                None => counts.integrity_missing += 1,
                Some(i) if i.is_sha1_only() => counts.integrity_weak += 1,
                Some(_) => {}
            }
        }
        let mut drift = None;
        if let (Some(installed), true, false) = (installed, is_installed(loc), entry.link) {
            if let (Some(have), Some(want)) = (installed(loc), entry.version.as_deref()) {
                if have != want {
                    counts.drift += 1;
                    drift = Some(Finding::new(
                        "inventory-drift",
                        format!(
                            "{}: the lockfile says {} but {} is installed",
                            escape_text(loc),
                            escape_text(want),
                            escape_text(&have)
                        ),
                    ));
                }
            }
        }
        let slot = acc
            .entry(item.key.clone())
            .or_insert_with(|| Acc::new(&item));
        slot.add(entry, &item);
        slot.findings.extend(drift);
    }
    let packages: Vec<PackageRef> = acc.into_values().map(Acc::finish).collect();
    fill_counts(&mut counts, &packages);
    Ok((packages, counts))
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    /// 0 for registry packages (registry and alias merge), else the origin's rank + 1.
    class: u8,
    registry: String,
    name: String,
    version: String,
    /// Registry packages: the integrity; folders: the folder; others: resolved or integrity.
    source: String,
}

struct Item {
    key: Key,
    origin: Origin,
    name: String,
    alias: Option<String>,
    version: String,
    integrity: Option<Integrity>,
    registry: String,
    mismatch: Option<String>,
}

struct Ctx<'a> {
    tree: &'a Tree,
    index: &'a HashMap<&'a str, &'a Entry>,
    link_names: &'a HashMap<&'a str, &'a str>,
    opts: &'a InventoryOptions,
}

fn classify(ctx: &Ctx<'_>, entry: &Entry) -> Result<Item, String> {
    let (tree, index, opts) = (ctx.tree, ctx.index, ctx.opts);
    let loc = &entry.location;
    let integrity = match &entry.integrity {
        Some(text) => {
            Some(Integrity::parse(text).map_err(|e| format!("packages[{loc:?}].integrity: {e}"))?)
        }
        None => None,
    };
    let installed = is_installed(&entry.location);
    // Folders (workspaces, link targets) and the links that point at them are one package.
    if entry.link || !installed {
        let folder = if entry.link {
            entry.resolved.clone().unwrap_or_default()
        } else {
            entry.location.clone()
        };
        let target = index.get(folder.as_str()).copied().unwrap_or(entry);
        let origin = if is_workspace(&tree.root_workspaces, &folder) {
            Origin::Workspace
        } else {
            Origin::Link
        };
        let name = folder_name(ctx.link_names, target, &folder);
        let version = target.version.clone().unwrap_or_default();
        return Ok(item(
            origin,
            name,
            None,
            version,
            None,
            String::new(),
            folder,
        ));
    }
    let shape = |r: Result<(), String>| r.map_err(|e| format!("packages[{loc:?}]: {e}"));
    shape(check_location(&entry.location))?;
    let real = entry
        .name_field
        .clone()
        .unwrap_or_else(|| entry.installed_name.clone());
    let alias = (real != entry.installed_name).then(|| entry.installed_name.clone());
    let version = entry.version.clone().unwrap_or_default();
    let registry = opts.registries.registry_for(&real).to_string();
    let integrity_text = integrity
        .as_ref()
        .map(|i| i.as_str().to_string())
        .unwrap_or_default();
    if entry.in_bundle && bundled_by_dependency(index, &entry.location) {
        let mut it = item(
            Origin::Bundled,
            real,
            alias,
            version,
            integrity,
            registry,
            integrity_text,
        );
        it.key
            .source
            .push_str(entry.resolved.as_deref().unwrap_or(""));
        return Ok(it);
    }
    let resolved = entry.resolved.as_deref().unwrap_or("");
    let origin = source_origin(resolved);
    if origin.is_none() {
        // A registry package: its name and version go into registry URLs.
        shape(check_name(&real))?;
        shape(check_version(&version))?;
    }
    match origin {
        None => {
            let mismatch = (!resolved.is_empty() && !is_under_registry(resolved, &registry))
                .then(|| resolved.to_string());
            let origin = if alias.is_some() {
                Origin::Alias
            } else {
                Origin::Registry
            };
            let mut it = item(
                origin,
                real,
                alias,
                version,
                integrity,
                registry,
                integrity_text,
            );
            it.mismatch = mismatch;
            Ok(it)
        }
        Some(origin) => Ok(item(
            origin,
            real,
            alias,
            version,
            integrity,
            String::new(),
            resolved.to_string(),
        )),
    }
}

fn item(
    origin: Origin,
    name: String,
    alias: Option<String>,
    version: String,
    integrity: Option<Integrity>,
    registry: String,
    source: String,
) -> Item {
    let class = if origin.is_registry() {
        0
    } else {
        origin as u8 + 1
    };
    Item {
        key: Key {
            class,
            registry: registry.clone(),
            name: name.clone(),
            version: version.clone(),
            source,
        },
        origin,
        name,
        alias,
        version,
        integrity,
        registry,
        mismatch: None,
    }
}

/// The name of a folder package, the same whether reached from the folder or from a link: its
/// `name` field, else the name a link installs it under, else the folder's own name.
fn folder_name(link_names: &HashMap<&str, &str>, target: &Entry, folder: &str) -> String {
    if let Some(name) = &target.name_field {
        return name.clone();
    }
    match link_names.get(folder) {
        Some(name) => name.to_string(),
        None => folder.rsplit('/').next().unwrap_or(folder).to_string(),
    }
}

/// The origin a `resolved` value names, or `None` for a registry package (no `resolved`, or a
/// registry tarball URL `…/NAME/-/NAME-VERSION.tgz`).
pub(crate) fn source_origin(resolved: &str) -> Option<Origin> {
    if resolved.is_empty() {
        return None;
    }
    let lower = resolved.to_ascii_lowercase();
    let git_prefixes = [
        "git+",
        "git:",
        "git@",
        "github:",
        "gitlab:",
        "bitbucket:",
        "gist:",
        "ssh:",
    ];
    if git_prefixes.iter().any(|p| lower.starts_with(p)) {
        return Some(Origin::Git);
    }
    if lower.starts_with("file:") {
        return Some(Origin::File);
    }
    if lower.starts_with("https://") || lower.starts_with("http://") {
        let path = lower.split(['?', '#']).next().unwrap_or(&lower);
        if path.contains("/-/") && path.ends_with(".tgz") {
            return None;
        }
        return Some(Origin::TarballUrl);
    }
    // A bare path or an unknown scheme: not a registry package.
    Some(Origin::File)
}

/// True when the location is shipped inside a *dependency's* tarball: its nearest ancestor that
/// is not itself bundled is an installed package. Packages the root project (or a workspace)
/// bundles are fetched from the registry like any other.
fn bundled_by_dependency(index: &HashMap<&str, &Entry>, location: &str) -> bool {
    let mut loc = location;
    loop {
        let Some(parent) = parent_location(loc) else {
            return false;
        };
        if !is_installed(parent) {
            return false;
        }
        match index.get(parent) {
            Some(p) if p.in_bundle => loc = parent,
            _ => return true,
        }
    }
}

/// The location of the package whose `node_modules` holds `location`, `""` for the root.
fn parent_location(location: &str) -> Option<&str> {
    if let Some(i) = location.rfind("/node_modules/") {
        return Some(&location[..i]);
    }
    location.starts_with("node_modules/").then_some("")
}

/// Whether a folder is one of the root's workspaces (`packages/*`, `a/**`, exact paths).
pub(crate) fn is_workspace(patterns: &[String], folder: &str) -> bool {
    let path: Vec<&str> = folder
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    patterns.iter().any(|p| {
        let p = p.trim_start_matches("./").trim_end_matches('/');
        let pat: Vec<&str> = p
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        glob_segments(&pat, &path)
    })
}

fn glob_segments(pat: &[&str], path: &[&str]) -> bool {
    match (pat.first(), path.first()) {
        (None, None) => true,
        (Some(&"**"), _) => {
            glob_segments(&pat[1..], path) || (!path.is_empty() && glob_segments(pat, &path[1..]))
        }
        (Some(p), Some(s)) => {
            wildcard(p.as_bytes(), s.as_bytes()) && glob_segments(&pat[1..], &path[1..])
        }
        _ => false,
    }
}

fn wildcard(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => wildcard(&p[1..], s) || (!s.is_empty() && wildcard(p, &s[1..])),
        (Some(a), Some(b)) if a == b => wildcard(&p[1..], &s[1..]),
        _ => false,
    }
}

/// `--workspace`: the locations reachable from the named workspaces, or `None` for all.
fn select_workspaces(
    tree: &Tree,
    index: &HashMap<&str, &Entry>,
    wanted: &[String],
) -> Result<Option<BTreeSet<String>>, String> {
    if wanted.is_empty() {
        return Ok(None);
    }
    let mut todo = Vec::new();
    for w in wanted {
        let w_path = w.trim_start_matches("./").trim_end_matches('/');
        let found = tree.entries.iter().find(|e| {
            !is_installed(&e.location)
                && !e.link
                && (e.location == w_path || e.name_field.as_deref() == Some(w.as_str()))
        });
        match found {
            Some(e) => todo.push(e.location.clone()),
            None => return Err(format!("no workspace named {w:?} in the lockfile")),
        }
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    while let Some(loc) = todo.pop() {
        if !seen.insert(loc.clone()) {
            continue;
        }
        let Some(entry) = index.get(loc.as_str()) else {
            continue;
        };
        if entry.link {
            if let Some(target) = &entry.resolved {
                todo.push(target.clone());
            }
            continue;
        }
        for dep in &entry.deps {
            if let Some(found) = resolve(index, &loc, dep) {
                todo.push(found.to_string());
            }
        }
    }
    // A link into a selected folder is part of the selection too.
    for e in &tree.entries {
        if e.link && e.resolved.as_ref().is_some_and(|r| seen.contains(r)) {
            seen.insert(e.location.clone());
        }
    }
    Ok(Some(seen))
}

/// Node's module resolution over lockfile locations: `from/node_modules/NAME`, then upwards.
fn resolve<'a>(index: &HashMap<&'a str, &Entry>, from: &str, name: &str) -> Option<&'a str> {
    let mut base = from;
    loop {
        let cand = if base.is_empty() {
            format!("node_modules/{name}")
        } else {
            format!("{base}/node_modules/{name}")
        };
        if let Some((k, _)) = index.get_key_value(cand.as_str()) {
            return Some(k);
        }
        if base.is_empty() {
            return None;
        }
        base = base.rfind('/').map(|i| &base[..i]).unwrap_or("");
    }
}

struct Acc {
    pkg: PackageRef,
    aliased_only: bool,
    dev: bool,
    optional: bool,
    peer: bool,
    mismatches: BTreeSet<String>,
    findings: Vec<Finding>,
}

impl Acc {
    fn new(item: &Item) -> Acc {
        Acc {
            pkg: PackageRef {
                name: item.name.clone(),
                alias: item.alias.clone(),
                version: item.version.clone(),
                integrity: item.integrity.clone(),
                registry: item.registry.clone(),
                origin: item.origin,
                paths: Vec::new(),
                dev: true,
                optional: true,
                peer: true,
                resolved: None,
                has_install_script: false,
                patched: false,
                findings: Vec::new(),
            },
            aliased_only: true,
            dev: true,
            optional: true,
            peer: true,
            mismatches: BTreeSet::new(),
            findings: Vec::new(),
        }
    }

    fn add(&mut self, entry: &Entry, item: &Item) {
        self.pkg.paths.push(entry.location.clone());
        if self.pkg.resolved.is_none() {
            self.pkg.resolved = entry.resolved.clone();
        }
        if item.origin.is_registry() && item.alias.is_none() {
            self.aliased_only = false;
        }
        // Folder entries carry no flags; only installed locations decide dev/optional/peer.
        if is_installed(&entry.location) || entry.link {
            self.dev &= entry.flags.dev;
            self.optional &= entry.flags.optional;
            self.peer &= entry.flags.peer;
        }
        self.pkg.has_install_script |= entry.has_install_script;
        if let Some(m) = &item.mismatch {
            self.mismatches.insert(m.clone());
        }
    }

    fn finish(mut self) -> PackageRef {
        let p = &mut self.pkg;
        p.paths.sort();
        p.paths.dedup();
        let any_installed = p.paths.iter().any(|l| is_installed(l));
        p.dev = any_installed && self.dev;
        p.optional = any_installed && self.optional;
        p.peer = any_installed && self.peer;
        if p.origin.is_registry() {
            if self.aliased_only {
                p.origin = Origin::Alias;
            } else {
                p.origin = Origin::Registry;
                p.alias = None;
            }
            pin_findings(p, &self.mismatches, IntegrityNote::Lockfile);
        }
        p.findings.extend(self.findings);
        self.pkg
    }
}

/// Why a registry package has no lockfile integrity, for the message.
#[derive(Clone, Copy)]
pub(crate) enum IntegrityNote {
    /// The lockfile simply records none.
    Lockfile,
    /// yarn berry records a checksum of its own zip archive, not of the registry tarball.
    BerryZip,
}

/// The findings about how the lockfile pins a registry package: no integrity
/// (`lockfile-integrity-missing`), sha1 only (`lockfile-integrity-weak`), and each `resolved`
/// host outside the configured registry (`registry-mismatch`). Shared by every lockfile format.
pub(crate) fn pin_findings(p: &mut PackageRef, mismatches: &BTreeSet<String>, note: IntegrityNote) {
    let id = format!("{}@{}", escape_text(&p.name), escape_text(&p.version));
    match (&p.integrity, note) {
        (None, IntegrityNote::BerryZip) => p.findings.push(Finding::new(
            "lockfile-integrity-missing",
            format!("{id}: yarn berry's checksum is of its own zip archive, not of the registry tarball, so the lockfile does not pin the tarball bytes (checked against the registry integrity only)"),
        )),
        (None, IntegrityNote::Lockfile) => p.findings.push(Finding::new(
            "lockfile-integrity-missing",
            format!("{id}: the lockfile records no integrity, so it does not pin the package's bytes"),
        )),
        (Some(i), _) if i.is_sha1_only() => p.findings.push(Finding::new(
            "lockfile-integrity-weak",
            format!("{id}: the lockfile pins the package only with sha1"),
        )),
        (Some(_), _) => {}
    }
    for m in mismatches {
        p.findings.push(Finding::new(
            "registry-mismatch",
            format!(
                "{id}: resolved from {} but the configured registry is {}",
                escape_text(m),
                escape_text(&p.registry)
            ),
        ));
    }
}

fn fill_counts(counts: &mut InventoryCounts, packages: &[PackageRef]) {
    let mut name_versions = BTreeSet::new();
    for p in packages {
        let origin = serde_json::to_value(p.origin)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        *counts.by_origin.entry(origin).or_default() += 1;
        if p.origin.is_registry() {
            counts.registry_packages += 1;
            name_versions.insert((p.name.as_str(), p.version.as_str()));
        }
    }
    counts.registry_name_versions = name_versions.len();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_globs() {
        let pats = vec![
            "packages/*".to_string(),
            "./tools/**".to_string(),
            "docs".to_string(),
        ];
        assert!(is_workspace(&pats, "packages/cli"));
        assert!(!is_workspace(&pats, "packages/cli/sub"));
        assert!(is_workspace(&pats, "tools/a/b"));
        assert!(is_workspace(&pats, "docs"));
        assert!(!is_workspace(&pats, "doc"));
        assert!(is_workspace(&["ws-*".to_string()], "ws-a"));
    }

    #[test]
    fn source_origins() {
        assert_eq!(source_origin(""), None);
        assert_eq!(
            source_origin("https://registry.npmjs.org/a/-/a-1.0.0.tgz"),
            None
        );
        assert_eq!(source_origin("https://example.com/a/-/a-1.0.0.tgz"), None);
        assert_eq!(
            source_origin("git+ssh://git@github.com/o/r.git#abc"),
            Some(Origin::Git)
        );
        assert_eq!(source_origin("github:o/r#abc"), Some(Origin::Git));
        assert_eq!(
            source_origin("https://codeload.github.com/o/r/tar.gz/abc"),
            Some(Origin::TarballUrl)
        );
        assert_eq!(source_origin("file:vendor/a.tgz"), Some(Origin::File));
    }

    #[test]
    fn parents() {
        assert_eq!(parent_location("node_modules/a"), Some(""));
        assert_eq!(
            parent_location("node_modules/a/node_modules/@s/b"),
            Some("node_modules/a")
        );
        assert_eq!(
            parent_location("packages/x/node_modules/b"),
            Some("packages/x")
        );
        assert_eq!(parent_location("packages/x"), None);
    }
}
