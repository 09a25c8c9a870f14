//! `pnpm-lock.yaml`, lockfileVersion 6.x to 9.x: one [`Locked`] entry per `packages` key.
//!
//! v6 keys are `/name@version(peer@x)`, v9 keys `name@version` with the peer-suffixed copies
//! under `snapshots` (same packages, so not read twice). `resolution` is `{integrity}` for
//! registry packages, `{tarball}` for URLs (or a non-default registry), `{type: directory}`
//! for folders and `{type: git, repo, commit}` for git. `patchedDependencies` marks packages
//! changed by a patch.

use std::collections::{HashMap, HashSet};

use super::flat::{split_at_name, Locked, Source};
use super::model::Origin;
use super::yaml::{self, Node};
use crate::inventory::assemble::source_origin;

/// Reads a `pnpm-lock.yaml`. Errors are problem texts.
pub(crate) fn read(text: &str) -> Result<Vec<Locked>, String> {
    let doc = yaml::parse(text)?;
    if !matches!(doc, Node::Map(_)) {
        return Err(format!(
            "expected a mapping at the top, found {}",
            doc.kind()
        ));
    }
    let version = doc
        .str_at("lockfileVersion")
        .ok_or("no lockfileVersion")?
        .to_string();
    let major = version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok());
    if !matches!(major, Some(6..=9)) {
        return Err(format!(
            "unsupported lockfileVersion {version:?} (this tool reads pnpm lockfiles 6.x to 9.x)"
        ));
    }
    let patched: Vec<&str> = match doc.get("patchedDependencies") {
        Some(Node::Map(entries)) => entries.iter().map(|e| e.key.as_str()).collect(),
        _ => Vec::new(),
    };
    let entries = match doc.get("packages") {
        None => return Ok(Vec::new()),
        Some(Node::Map(entries)) => entries,
        Some(other) => {
            return Err(format!(
                "packages: expected a mapping, found {}",
                other.kind()
            ))
        }
    };
    let optional = optional_snapshots(&doc);
    // v9 keeps dependency types only in `importers`; v6 writes `dev` on each package.
    let dev_only = (major >= Some(9)).then(|| dev_only_snapshots(&doc));
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let mut l = entry(&e.key, &e.value, &patched)
            .map_err(|m| format!("line {} (packages[{:?}]): {m}", e.line, e.key))?;
        // v9 records `optional` on the snapshots (every peer variant must be optional).
        l.optional |= optional.get(e.key.as_str()).copied().unwrap_or(false);
        if let Some(dev_only) = &dev_only {
            l.dev = dev_only.get(e.key.as_str()).copied().unwrap_or(false);
        }
        out.push(l);
    }
    Ok(out)
}

/// v9: package key → whether it is reached only through `devDependencies` of the importers
/// (walking `snapshots` dependencies). Unreached packages are not called dev.
fn dev_only_snapshots(doc: &Node) -> HashMap<&str, bool> {
    let mut graph: HashMap<&str, Vec<String>> = HashMap::new();
    if let Some(Node::Map(entries)) = doc.get("snapshots") {
        for e in entries {
            let mut deps = Vec::new();
            for field in ["dependencies", "optionalDependencies"] {
                if let Some(Node::Map(ds)) = e.value.get(field) {
                    deps.extend(ds.iter().filter_map(|d| target(&d.key, d.value.as_str()?)));
                }
            }
            graph.insert(e.key.as_str(), deps);
        }
    }
    let mut prod_roots = Vec::new();
    let mut dev_roots = Vec::new();
    if let Some(Node::Map(importers)) = doc.get("importers") {
        for imp in importers {
            for (field, is_dev) in [
                ("dependencies", false),
                ("optionalDependencies", false),
                ("devDependencies", true),
            ] {
                let roots = if is_dev {
                    &mut dev_roots
                } else {
                    &mut prod_roots
                };
                if let Some(Node::Map(ds)) = imp.value.get(field) {
                    roots.extend(
                        ds.iter()
                            .filter_map(|d| target(&d.key, d.value.str_at("version")?)),
                    );
                }
            }
        }
    }
    let prod = reach(&graph, prod_roots);
    let dev = reach(&graph, dev_roots);
    let mut out: HashMap<&str, bool> = HashMap::new();
    for key in graph.keys() {
        let base = key.split('(').next().unwrap_or(key);
        let dev_only = dev.contains(*key) && !prod.contains(*key);
        *out.entry(base).or_insert(true) &= dev_only;
    }
    out
}

/// The snapshot key a dependency `name: version` points at (`None` for links).
fn target(name: &str, version: &str) -> Option<String> {
    if version.starts_with("link:") {
        return None;
    }
    let base = version.split('(').next().unwrap_or(version);
    // An alias or override names the real package: `obug@1.0.2`.
    if split_at_name(base).is_some_and(|(n, _)| !n.contains(':')) {
        return Some(version.to_string());
    }
    Some(format!("{name}@{version}"))
}

/// Every snapshot key reachable from `roots`.
fn reach(graph: &HashMap<&str, Vec<String>>, roots: Vec<String>) -> HashSet<String> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut todo = roots;
    while let Some(k) = todo.pop() {
        if let Some(deps) = graph.get(k.as_str()) {
            if seen.insert(k) {
                todo.extend(deps.iter().cloned());
            }
        }
    }
    seen
}

/// v9: package key → whether every snapshot of it is optional.
fn optional_snapshots(doc: &Node) -> HashMap<&str, bool> {
    let mut out = HashMap::new();
    if let Some(Node::Map(entries)) = doc.get("snapshots") {
        for e in entries {
            let base = e.key.split('(').next().unwrap_or(&e.key);
            let opt = e.value.str_at("optional") == Some("true");
            *out.entry(base).or_insert(true) &= opt;
        }
    }
    out
}

fn entry(key: &str, v: &Node, patched: &[&str]) -> Result<Locked, String> {
    if !matches!(v, Node::Map(_)) {
        return Err(format!("expected a mapping, found {}", v.kind()));
    }
    let bare = key.strip_prefix('/').unwrap_or(key);
    // Peer and patch suffixes: `name@1.0.0(peer@2)(patch_hash=…)`.
    let bare = bare.split('(').next().unwrap_or(bare);
    // v6 keys of folders and git sources (`file:vendor/x`, `github.com/o/r/sha`) carry no
    // name: the entry's `name` and `version` fields do.
    let (key_name, key_ref) = split_at_name(bare).unwrap_or(("", bare));
    let name = v.str_at("name").unwrap_or(key_name).to_string();
    if name.is_empty() {
        return Err("neither the key nor a `name` field names the package".into());
    }
    let version = v.str_at("version").unwrap_or(key_ref).to_string();
    let res = v.get("resolution").ok_or("no resolution")?;
    if !matches!(res, Node::Map(_)) {
        return Err(format!(
            "resolution: expected a mapping, found {}",
            res.kind()
        ));
    }
    let integrity = res.str_at("integrity").map(str::to_string);
    let tarball = res.str_at("tarball");
    let source = match (res.str_at("type"), tarball) {
        (Some("directory"), _) => Source::Other(
            Origin::File,
            res.str_at("directory").unwrap_or(&version).to_string(),
        ),
        (Some("git"), _) => Source::Other(
            Origin::Git,
            format!(
                "{}#{}",
                res.str_at("repo").unwrap_or_default(),
                res.str_at("commit").unwrap_or_default()
            ),
        ),
        (Some(other), _) => return Err(format!("unknown resolution type {other:?}")),
        (None, Some(url)) => match source_origin(url) {
            // A registry tarball URL (pnpm writes one for registries other than the default).
            None if !version.contains(':') => Source::Registry {
                resolved: Some(url.to_string()),
            },
            None => Source::Other(Origin::TarballUrl, url.to_string()),
            Some(o) => Source::Other(o, url.to_string()),
        },
        (None, None) if version.starts_with("link:") => {
            Source::Other(Origin::Link, version.clone())
        }
        (None, None) if integrity.is_some() => Source::Registry { resolved: None },
        (None, None) => return Err("resolution has no integrity, tarball or type".into()),
    };
    let mut l = Locked::new(key.to_string(), name, version, source);
    l.integrity = integrity;
    l.dev = v.str_at("dev") == Some("true");
    l.optional = v.str_at("optional") == Some("true");
    l.has_install_script = v.str_at("requiresBuild") == Some("true");
    let id = format!("{}@{}", l.name, l.version);
    l.patched = patched.iter().any(|p| *p == id || *p == l.name);
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    const I: &str = "sha512-IIhEbVqpvTWcYGk1NrjsTFxqI1UGoAaA7plNEVXOl/rQI5pHNfqe+DBRpwp1hk8URhLDUvGWQgz7DBZ6uyCbgQ==";

    #[test]
    fn v9_packages_with_every_resolution_kind() {
        let text = format!(
            r#"lockfileVersion: '9.0'
patchedDependencies:
  a@1.0.0:
    hash: x
    path: patches/a@1.0.0.patch
packages:
  a@1.0.0:
    resolution: {{integrity: {I}}}
  '@s/b@2.0.0':
    resolution: {{integrity: {I}, tarball: https://npm.corp.example/@s/b/-/b-2.0.0.tgz}}
  c@file:vendor/c:
    resolution: {{directory: vendor/c, type: directory}}
  d@https://codeload.github.com/o/d/tar.gz/abc:
    resolution: {{tarball: https://codeload.github.com/o/d/tar.gz/abc}}
    version: 0.1.0
  e@git+https://github.com/o/e.git#abc:
    resolution: {{commit: abc, repo: https://github.com/o/e.git, type: git}}
    version: 1.0.0
snapshots:
  a@1.0.0(patch_hash=x): {{}}
  '@s/b@2.0.0':
    optional: true
"#
        );
        let v = read(&text).unwrap();
        assert_eq!(v.len(), 5, "snapshots are the same packages");
        assert!(v[0].patched && v[0].integrity.is_some() && !v[0].optional);
        assert!(v[1].optional);
        assert_eq!(
            v[1].source,
            Source::Registry {
                resolved: Some("https://npm.corp.example/@s/b/-/b-2.0.0.tgz".into())
            }
        );
        assert!(matches!(v[2].source, Source::Other(Origin::File, _)));
        assert!(matches!(v[3].source, Source::Other(Origin::TarballUrl, _)));
        assert_eq!(v[3].version, "0.1.0");
        assert!(matches!(v[4].source, Source::Other(Origin::Git, _)));
    }

    #[test]
    fn v9_dev_only_from_importers() {
        let text = format!(
            r#"lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      a:
        specifier: ^1
        version: 1.0.0(p@1.0.0)
      dbg:
        specifier: npm:obug@^1
        version: obug@1.0.0
    devDependencies:
      t:
        specifier: ^1
        version: 1.0.0
      local:
        specifier: link:pkg
        version: link:pkg
packages:
  a@1.0.0:
    resolution: {{integrity: {I}}}
  p@1.0.0:
    resolution: {{integrity: {I}}}
  obug@1.0.0:
    resolution: {{integrity: {I}}}
  t@1.0.0:
    resolution: {{integrity: {I}}}
  shared@1.0.0:
    resolution: {{integrity: {I}}}
  tdep@1.0.0:
    resolution: {{integrity: {I}}}
snapshots:
  a@1.0.0(p@1.0.0):
    dependencies:
      shared: 1.0.0
  p@1.0.0: {{}}
  obug@1.0.0: {{}}
  t@1.0.0:
    dependencies:
      shared: 1.0.0
      tdep: 1.0.0
  shared@1.0.0: {{}}
  tdep@1.0.0: {{}}
"#
        );
        let v = read(&text).unwrap();
        let dev: Vec<&str> = v
            .iter()
            .filter(|l| l.dev)
            .map(|l| l.name.as_str())
            .collect();
        assert_eq!(dev, vec!["t", "tdep"], "shared is reached from prod too");
    }

    #[test]
    fn v6_keys_and_flags() {
        let text = format!(
            "lockfileVersion: '6.0'\npackages:\n  /x@1.2.3(y@1.0.0):\n    resolution: {{integrity: {I}}}\n    dev: true\n    requiresBuild: true\n"
        );
        let v = read(&text).unwrap();
        assert_eq!((v[0].name.as_str(), v[0].version.as_str()), ("x", "1.2.3"));
        assert!(v[0].dev && v[0].has_install_script && !v[0].optional);
    }

    #[test]
    fn errors_and_versions() {
        let e = read("lockfileVersion: '5.4'\n").unwrap_err();
        assert!(e.contains("unsupported lockfileVersion \"5.4\""), "{e}");
        assert!(read("packages: {}\n")
            .unwrap_err()
            .contains("no lockfileVersion"));
        let e = read(
            "lockfileVersion: '6.0'\npackages:\n  file:x:\n    resolution: {directory: x, type: directory}\n",
        )
        .unwrap_err();
        assert!(e.contains("neither the key nor a `name` field"), "{e}");
        let e =
            read("lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    engines: {}\n").unwrap_err();
        assert!(
            e.starts_with("line 3 (packages[\"a@1.0.0\"]): no resolution"),
            "{e}"
        );
        let e = read("lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: {}\n")
            .unwrap_err();
        assert!(e.contains("no integrity, tarball or type"), "{e}");
        assert!(read("lockfileVersion: '9.0'\n").unwrap().is_empty());
    }
}
