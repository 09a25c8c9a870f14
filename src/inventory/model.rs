//! The inventory's data model: what a project installs, as exact packages.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::integrity::Integrity;
use crate::findings::Finding;
use crate::registry::public::{canonical_registry, PUBLIC_REGISTRY};

/// What the caller configures: registries per scope, dependency types left out, workspaces.
#[derive(Debug, Clone, Default)]
pub struct InventoryOptions {
    pub registries: RegistryMap,
    pub omit: Omit,
    /// Only these workspaces (by package name or by folder path), as `npm --workspace`.
    pub workspaces: Vec<String>,
}

/// Dependency types left out, with npm's `--omit` semantics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Omit {
    pub dev: bool,
    pub optional: bool,
    pub peer: bool,
}

impl Omit {
    /// Parses `--omit` values (`dev`, `optional`, `peer`); returns the unknown value on error.
    pub fn parse<S: AsRef<str>>(values: &[S]) -> Result<Omit, String> {
        let mut omit = Omit::default();
        for v in values {
            match v.as_ref() {
                "dev" => omit.dev = true,
                "optional" => omit.optional = true,
                "peer" => omit.peer = true,
                other => return Err(other.to_string()),
            }
        }
        Ok(omit)
    }

    /// npm's rule for one installed location, from its lockfile flags.
    pub(crate) fn excludes(&self, f: &Flags) -> bool {
        (f.dev && self.dev)
            || (f.optional && self.optional)
            || (f.dev_optional && self.dev && self.optional)
            || (f.peer && self.peer)
    }
}

/// The lockfile flags of one installed location.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    pub dev: bool,
    pub optional: bool,
    pub dev_optional: bool,
    pub peer: bool,
}

/// The registry configured for each scope (from `.npmrc`, read elsewhere). URLs are kept in
/// canonical form (see [`canonical_registry`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryMap {
    pub default: String,
    /// `@scope` → registry URL.
    pub scopes: BTreeMap<String, String>,
}

impl Default for RegistryMap {
    fn default() -> Self {
        RegistryMap::public()
    }
}

impl RegistryMap {
    /// Every package from the public npm registry.
    pub fn public() -> RegistryMap {
        RegistryMap {
            default: PUBLIC_REGISTRY.to_string(),
            scopes: BTreeMap::new(),
        }
    }

    /// A map with `default` and the given scopes, all canonicalised.
    pub fn new(default: &str, scopes: impl IntoIterator<Item = (String, String)>) -> RegistryMap {
        RegistryMap {
            default: canonical_registry(default),
            scopes: scopes
                .into_iter()
                .map(|(s, u)| (s, canonical_registry(&u)))
                .collect(),
        }
    }

    /// The registry that serves `name` (its scope's, else the default).
    pub fn registry_for(&self, name: &str) -> &str {
        if let Some((scope, _)) = name.split_once('/') {
            if scope.starts_with('@') {
                if let Some(url) = self.scopes.get(scope) {
                    return url;
                }
            }
        }
        &self.default
    }
}

/// The file or directory the inventory was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventorySource {
    pub kind: InventoryKind,
    pub path: PathBuf,
    /// Set when the input was a workspace folder below the lockfile's project: the inventory
    /// was filtered to that workspace, as npm does when run inside a workspace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InventoryKind {
    NpmShrinkwrap,
    PackageLock,
    HiddenLockfile,
    NodeModules,
    YarnLock,
    PnpmLock,
    BunLock,
}

/// Where a package's bytes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// From the registry, under its own name.
    Registry,
    /// From the registry under another installed name (`npm:real@version`); verified under its
    /// real name.
    Alias,
    /// Shipped inside a dependency's tarball (`inBundle`), covered by that tarball, not fetched.
    Bundled,
    /// A workspace of the project.
    Workspace,
    /// A symlink to a folder that is not a workspace.
    Link,
    /// A git dependency.
    Git,
    /// A tarball from a URL that is not a registry tarball.
    TarballUrl,
    /// A `file:` tarball or folder.
    File,
}

impl Origin {
    /// True for packages fetched from a registry (verifiable by registry signatures and
    /// attestations).
    pub fn is_registry(self) -> bool {
        matches!(self, Origin::Registry | Origin::Alias)
    }
}

/// One exact package: one entry per (registry, name, version, integrity) for registry packages,
/// per (origin, name, version, source) for the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageRef {
    /// The real registry name.
    pub name: String,
    /// The installed name, when the package is installed under an npm alias.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    pub version: String,
    pub integrity: Option<Integrity>,
    /// The configured registry for the package's scope (canonical URL) for registry, alias and
    /// bundled packages; empty for the other origins.
    pub registry: String,
    pub origin: Origin,
    /// Every lockfile location (or node_modules path) that installs it, sorted.
    pub paths: Vec<String>,
    /// Every path is a dev dependency only.
    pub dev: bool,
    /// Every path is an optional dependency only.
    pub optional: bool,
    /// Every path is a peer dependency only.
    pub peer: bool,
    /// The `resolved` of the first path (a hint; the registry is the configured one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<String>,
    pub has_install_script: bool,
    /// The installed files are the registry package changed by a patch (yarn `patch:`, pnpm
    /// `patchedDependencies`): the registry package is what is verified.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub patched: bool,
    pub findings: Vec<Finding>,
}

/// Numbers of what was read, for the report and the acceptance tests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InventoryCounts {
    /// Lockfile entries (locations) read, the root project excluded.
    pub entries: usize,
    /// Locations left out by `--omit` or `--workspace`.
    pub omitted: usize,
    /// Packages (after merging locations) by origin.
    pub by_origin: BTreeMap<String, usize>,
    /// Registry packages (registry or alias origin).
    pub registry_packages: usize,
    /// Distinct registry `name@version` among them.
    pub registry_name_versions: usize,
    /// Registry locations without integrity.
    pub integrity_missing: usize,
    /// Registry locations pinned by sha1 only.
    pub integrity_weak: usize,
    /// Installed versions that differ from the lockfile.
    pub drift: usize,
}

/// What a project installs.
#[derive(Debug, Clone, Serialize)]
pub struct Inventory {
    pub source: InventorySource,
    /// False when no integrity binds the packages' bytes (a node_modules walk).
    pub binds_bytes: bool,
    /// Sorted by (name, version, origin, registry).
    pub packages: Vec<PackageRef>,
    /// Run-level findings.
    pub findings: Vec<Finding>,
    pub counts: InventoryCounts,
}

impl Inventory {
    /// Registry packages only (what the verifier checks).
    pub fn registry_packages(&self) -> impl Iterator<Item = &PackageRef> {
        self.packages.iter().filter(|p| p.origin.is_registry())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_for_scope_and_default() {
        let map = RegistryMap::new(
            "https://registry.yarnpkg.com",
            [("@corp".to_string(), "https://npm.corp.example/".to_string())],
        );
        assert_eq!(map.registry_for("left-pad"), PUBLIC_REGISTRY);
        assert_eq!(map.registry_for("@corp/x"), "https://npm.corp.example/");
        assert_eq!(map.registry_for("@other/x"), PUBLIC_REGISTRY);
        assert_eq!(
            RegistryMap::public().registry_for("@corp/x"),
            PUBLIC_REGISTRY
        );
    }

    #[test]
    fn serialises_kebab_case() {
        let v =
            serde_json::to_value([Origin::TarballUrl, Origin::Registry, Origin::Bundled]).unwrap();
        assert_eq!(v, serde_json::json!(["tarball-url", "registry", "bundled"]));
        let v = serde_json::to_value(InventoryKind::HiddenLockfile).unwrap();
        assert_eq!(v, "hidden-lockfile");
        assert!(Origin::Alias.is_registry() && !Origin::Bundled.is_registry());
    }

    #[test]
    fn omit_follows_npm() {
        let dev = Flags {
            dev: true,
            ..Flags::default()
        };
        let opt = Flags {
            optional: true,
            ..Flags::default()
        };
        let dev_opt = Flags {
            dev_optional: true,
            ..Flags::default()
        };
        let peer = Flags {
            peer: true,
            ..Flags::default()
        };
        let only_dev = Omit::parse(&["dev"]).unwrap();
        assert!(only_dev.excludes(&dev));
        assert!(!only_dev.excludes(&opt));
        assert!(
            !only_dev.excludes(&dev_opt),
            "devOptional needs both omitted"
        );
        assert!(!only_dev.excludes(&peer));
        let both = Omit::parse(&["dev", "optional"]).unwrap();
        assert!(both.excludes(&dev_opt));
        assert!(Omit::parse(&["peer"]).unwrap().excludes(&peer));
        assert!(!Omit::default().excludes(&dev));
        assert_eq!(Omit::parse(&["prod"]), Err("prod".to_string()));
    }
}
