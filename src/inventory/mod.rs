//! Inventory: lockfiles and node_modules → exact packages (name, version, integrity, origin).
//!
//! [`load`] takes a project directory, a lockfile or a `node_modules` directory. In a project
//! directory the first present of `npm-shrinkwrap.json`, `package-lock.json`,
//! `node_modules/.package-lock.json` and a `node_modules` walk is used; `yarn.lock`,
//! `pnpm-lock.yaml` and `bun.lock` are read when they are the only lockfile; two package
//! managers' lockfiles together are ambiguous (the user passes the file). `bun.lockb` (binary)
//! is not read. From a
//! workspace folder without its own lockfile, the root project is found as npm does and the
//! inventory is limited to that workspace.

mod assemble;
mod bun;
pub mod bunfig;
mod flat;
pub use flat::entry_lines;
pub mod integrity;
mod model;
mod names;
mod node_modules;
mod package_lock;
mod pnpm;
mod yaml;
mod yarn;
pub mod yarnrc;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use integrity::{Integrity, IntegrityError};
pub use model::{
    Inventory, InventoryCounts, InventoryKind, InventoryOptions, InventorySource, Omit, Origin,
    PackageRef, RegistryMap,
};

use crate::error::AppError;
use crate::findings::Finding;
use model::Flags;

/// Largest lockfile read (bytes). The biggest real lockfiles are a few tens of MB; beyond
/// this the input is not a lockfile we should hold in memory.
pub const MAX_LOCKFILE_BYTES: u64 = 256 * 1024 * 1024;
/// Most installed locations in one inventory. Real monorepos have a few thousand to tens of
/// thousands; the cap bounds the work a hostile lockfile can cause.
pub const MAX_ENTRIES: usize = 500_000;
/// Deepest JSON nesting accepted in a lockfile. A v1 lockfile nests two levels per
/// `node_modules` level; real trees stay far below this. (serde_json stops at 128 anyway; this
/// names the limit and reports it as such.)
pub const MAX_JSON_DEPTH: usize = 100;
/// Largest `package.json` read from `node_modules`.
pub const MAX_PACKAGE_JSON_BYTES: u64 = 4 * 1024 * 1024;
/// Deepest `node_modules` nesting walked.
pub const MAX_WALK_DEPTH: usize = 48;

/// Other package managers' lockfiles: their presence beside an npm lockfile is ambiguous.
const OTHER_LOCKFILES: &[&str] = &["yarn.lock", "pnpm-lock.yaml", "bun.lock", "bun.lockb"];

/// Why no inventory could be read. `Display` is "{path}: {problem}".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct InventoryError {
    pub path: PathBuf,
    pub problem: String,
    pub kind: InventoryErrorKind,
}

/// What kind of failure an [`InventoryError`] is (decides the [`AppError`] it becomes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InventoryErrorKind {
    /// The file cannot be read.
    Read,
    /// The file is not a valid lockfile (or `package.json`), or a cap was hit.
    Parse,
    /// Nothing to read an inventory from.
    NotFound,
    /// Several package managers' lockfiles: the user must pass the file.
    Ambiguous,
    /// A lockfile format this version does not read.
    Unsupported,
    /// The inventory has no package.
    Empty,
    /// An option that does not fit the input (`--workspace` naming no workspace).
    Usage,
}

impl InventoryError {
    fn new(path: &Path, kind: InventoryErrorKind, problem: impl Into<String>) -> Self {
        InventoryError {
            path: path.to_path_buf(),
            problem: problem.into(),
            kind,
        }
    }
}

impl From<InventoryError> for AppError {
    fn from(e: InventoryError) -> AppError {
        match e.kind {
            InventoryErrorKind::Read | InventoryErrorKind::Parse => AppError::Parse {
                path: e.path,
                problem: e.problem,
            },
            InventoryErrorKind::Usage => AppError::Usage(e.to_string()),
            _ => AppError::Inventory(e.to_string()),
        }
    }
}

/// One installed location (or project folder) as read from a lockfile or `node_modules`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Entry {
    /// Lockfile key: `node_modules/a/node_modules/@s/b`, or a folder such as `packages/cli`.
    pub location: String,
    /// The folder name it is installed under.
    pub installed_name: String,
    /// The `name` field (the real name of an alias; the name of a folder package).
    pub name_field: Option<String>,
    pub version: Option<String>,
    pub resolved: Option<String>,
    pub integrity: Option<String>,
    pub link: bool,
    pub in_bundle: bool,
    pub flags: Flags,
    pub has_install_script: bool,
    /// Names it depends on (dev dependencies only for project folders).
    pub deps: Vec<String>,
}

/// Everything read from one source, before merging.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tree {
    pub entries: Vec<Entry>,
    pub root_workspaces: Vec<String>,
}

/// Reads what `input` (a project directory, a lockfile or a `node_modules` directory) installs.
pub fn load(input: &Path, opts: &InventoryOptions) -> Result<Inventory, InventoryError> {
    let meta = std::fs::metadata(input).map_err(|e| {
        InventoryError::new(input, InventoryErrorKind::Read, format!("cannot read: {e}"))
    })?;
    if meta.is_file() {
        if input.file_name().is_some_and(|n| n == "package.json") {
            // A manifest pins nothing: read the project it belongs to.
            return load_project(parent_dir(input), opts);
        }
        let kind = kind_of_file(input)?;
        return load_lockfile(input, kind, opts, None);
    }
    if input.file_name().is_some_and(|n| n == "node_modules") {
        let hidden = input.join(".package-lock.json");
        if hidden.is_file() {
            return load_lockfile(&hidden, InventoryKind::HiddenLockfile, opts, None);
        }
        let root = parent_dir(input);
        return node_modules::load(root, input, opts);
    }
    load_project(input, opts)
}

fn kind_of_file(path: &Path) -> Result<InventoryKind, InventoryError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(match name.as_str() {
        "npm-shrinkwrap.json" => InventoryKind::NpmShrinkwrap,
        ".package-lock.json" => InventoryKind::HiddenLockfile,
        n if n.ends_with("bun.lockb") => return Err(bun_lockb(path)),
        _ => match other_kind(&name) {
            Some(kind) => kind,
            None => InventoryKind::PackageLock,
        },
    })
}

/// The kind of another package manager's lockfile, by file name (a passed file may carry a
/// prefix, as in `ci__yarn.lock`).
fn other_kind(name: &str) -> Option<InventoryKind> {
    [
        ("yarn.lock", InventoryKind::YarnLock),
        ("pnpm-lock.yaml", InventoryKind::PnpmLock),
        ("bun.lock", InventoryKind::BunLock),
    ]
    .into_iter()
    .find(|(suffix, _)| name.ends_with(suffix))
    .map(|(_, kind)| kind)
}

fn bun_lockb(path: &Path) -> InventoryError {
    InventoryError::new(
        path,
        InventoryErrorKind::Unsupported,
        "bun.lockb (bun's binary lockfile) is not supported; run `bun install --save-text-lockfile` to write bun.lock and pass that",
    )
}

fn load_project(dir: &Path, opts: &InventoryOptions) -> Result<Inventory, InventoryError> {
    let shrinkwrap = dir.join("npm-shrinkwrap.json");
    let package_lock = dir.join("package-lock.json");
    let node_modules = dir.join("node_modules");
    let hidden = node_modules.join(".package-lock.json");
    let others: Vec<&str> = OTHER_LOCKFILES
        .iter()
        .copied()
        .filter(|f| dir.join(f).is_file())
        .collect();
    let npm_lock = [&shrinkwrap, &package_lock]
        .into_iter()
        .find(|p| p.is_file());
    if (npm_lock.is_some() && !others.is_empty()) || others.len() > 1 {
        let mut found: Vec<String> = npm_lock
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        found.extend(others.iter().map(|s| s.to_string()));
        return Err(InventoryError::new(
            dir,
            InventoryErrorKind::Ambiguous,
            format!(
                "ambiguous inventory, pass the file (found {})",
                found.join(", ")
            ),
        ));
    }
    if let Some(other) = others.first() {
        let path = dir.join(other);
        return match other_kind(other) {
            Some(kind) => load_lockfile(&path, kind, opts, None),
            None => Err(bun_lockb(&path)),
        };
    }
    if shrinkwrap.is_file() {
        return load_lockfile(&shrinkwrap, InventoryKind::NpmShrinkwrap, opts, None);
    }
    if package_lock.is_file() {
        return load_lockfile(&package_lock, InventoryKind::PackageLock, opts, None);
    }
    if hidden.is_file() {
        return load_lockfile(&hidden, InventoryKind::HiddenLockfile, opts, None);
    }
    if node_modules.is_dir() {
        return node_modules::load(dir, &node_modules, opts);
    }
    if let Some((root, rel)) = workspace_root(dir) {
        let mut opts = opts.clone();
        if opts.workspaces.is_empty() {
            opts.workspaces.push(rel.clone());
        }
        let mut inv = load_project(&root, &opts)?;
        inv.source.workspace = Some(rel);
        return Ok(inv);
    }
    Err(InventoryError::new(
        dir,
        InventoryErrorKind::NotFound,
        "no inventory found (no npm-shrinkwrap.json, package-lock.json or node_modules)",
    ))
}

/// As npm: walk up from `dir` to a `package.json` whose `workspaces` include `dir`.
fn workspace_root(dir: &Path) -> Option<(PathBuf, String)> {
    let Ok(abs) = std::fs::canonicalize(dir) else {
        return None;
    };
    let mut cur = abs.parent();
    while let Some(root) = cur {
        let manifest = root.join("package.json");
        if manifest.is_file() {
            // Only a search: an unreadable manifest above the project is passed over.
            let doc = read_capped(&manifest, MAX_PACKAGE_JSON_BYTES)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .unwrap_or_default();
            let patterns = node_modules::workspace_patterns(&doc);
            if let Ok(rel) = abs.strip_prefix(root) {
                let rel = rel.to_string_lossy().replace('\\', "/");
                if assemble::is_workspace(&patterns, &rel) {
                    return Some((root.to_path_buf(), rel));
                }
            }
        }
        cur = root.parent();
    }
    None
}

fn load_lockfile(
    path: &Path,
    kind: InventoryKind,
    opts: &InventoryOptions,
    workspace: Option<String>,
) -> Result<Inventory, InventoryError> {
    let parse_err = |problem: String| InventoryError::new(path, InventoryErrorKind::Parse, problem);
    if matches!(
        kind,
        InventoryKind::YarnLock | InventoryKind::PnpmLock | InventoryKind::BunLock
    ) {
        return load_other_lockfile(path, kind, opts);
    }
    let bytes = read_capped(path, MAX_LOCKFILE_BYTES)?;
    crate::util::json::check_depth(&bytes, MAX_JSON_DEPTH).map_err(parse_err)?;
    let doc: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| parse_err(format!("invalid JSON: {e}")))?;
    let tree = package_lock::read(&doc).map_err(parse_err)?;
    check_entries(tree.entries.len(), MAX_ENTRIES).map_err(parse_err)?;
    // Locations are relative to the project: the lockfile's folder, or for the hidden
    // lockfile the folder holding `node_modules`.
    let base = parent_dir(path);
    let project = match kind {
        InventoryKind::HiddenLockfile => parent_dir(base),
        _ => base,
    };
    // npm keeps the hidden lockfile in step with node_modules, but checking it too is cheap and
    // catches a stale or edited one.
    let drift_check = project.join("node_modules").is_dir();
    let installed = |loc: &str| node_modules::installed_version(project, loc);
    let (packages, counts) = assemble::assemble(
        &tree,
        opts,
        drift_check.then_some(&installed as assemble::InstalledVersion<'_>),
    )
    .map_err(|p| {
        let kind = if p.starts_with("no workspace named") {
            InventoryErrorKind::Usage
        } else {
            InventoryErrorKind::Parse
        };
        InventoryError::new(path, kind, p)
    })?;
    finish(
        InventorySource {
            kind,
            path: path.to_path_buf(),
            workspace,
        },
        true,
        packages,
        Vec::new(),
        counts,
    )
}

/// yarn, pnpm and bun lockfiles: one entry per locked package, no installed locations.
fn load_other_lockfile(
    path: &Path,
    kind: InventoryKind,
    opts: &InventoryOptions,
) -> Result<Inventory, InventoryError> {
    let parse_err = |problem: String| InventoryError::new(path, InventoryErrorKind::Parse, problem);
    let usage = |what: &str| {
        InventoryError::new(
            path,
            InventoryErrorKind::Usage,
            format!("{what} is only supported with npm lockfiles and node_modules; run from the project root without it"),
        )
    };
    // TODO(partial): these formats record no installed locations, so workspace selection is
    // not applied to them; yarn and bun record no dependency types, so --omit is pnpm only.
    if !opts.workspaces.is_empty() {
        return Err(usage("--workspace (or running inside a workspace folder)"));
    }
    if opts.omit != Omit::default() && kind != InventoryKind::PnpmLock {
        return Err(usage("--omit (with yarn.lock or bun.lock)"));
    }
    let bytes = read_capped(path, MAX_LOCKFILE_BYTES)?;
    let text = String::from_utf8(bytes).map_err(|_| parse_err("not UTF-8".into()))?;
    let mut opts = opts.clone();
    let locked = match kind {
        InventoryKind::YarnLock => {
            let locked = yarn::read(&text).map_err(parse_err)?;
            // Only berry reads `.yarnrc.yml`; classic yarn reads `.npmrc` like npm.
            if yarn::is_berry(&text) {
                opts.registries = yarnrc::registries(parent_dir(path), &opts.registries)?;
            }
            locked
        }
        InventoryKind::PnpmLock => pnpm::read(&text).map_err(parse_err)?,
        _ => {
            let locked = bun::read(&text, MAX_JSON_DEPTH).map_err(parse_err)?;
            opts.registries = bunfig::registries(parent_dir(path), &opts.registries)?;
            locked
        }
    };
    check_entries(locked.len(), MAX_ENTRIES).map_err(parse_err)?;
    let read = locked.len();
    let kept: Vec<flat::Locked> = locked
        .into_iter()
        .filter(|l| {
            let flags = Flags {
                dev: l.dev,
                optional: l.optional,
                ..Flags::default()
            };
            !opts.omit.excludes(&flags)
        })
        .collect();
    let (packages, mut counts) = flat::assemble(&kept, &opts).map_err(parse_err)?;
    counts.omitted = read - kept.len();
    counts.entries = read;
    finish(
        InventorySource {
            kind,
            path: path.to_path_buf(),
            workspace: None,
        },
        true,
        packages,
        Vec::new(),
        counts,
    )
}

fn finish(
    source: InventorySource,
    binds_bytes: bool,
    mut packages: Vec<PackageRef>,
    findings: Vec<Finding>,
    counts: InventoryCounts,
) -> Result<Inventory, InventoryError> {
    if packages.is_empty() {
        return Err(InventoryError::new(
            &source.path,
            InventoryErrorKind::Empty,
            "the inventory has no packages",
        ));
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
    Ok(Inventory {
        source,
        binds_bytes,
        packages,
        findings,
        counts,
    })
}

/// The folder holding `path`, `.` for a bare file name.
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Reads at most `cap` bytes; a larger file is an error naming the cap.
pub(crate) fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, InventoryError> {
    let read_err = |e: std::io::Error| {
        InventoryError::new(path, InventoryErrorKind::Read, format!("cannot read: {e}"))
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > cap {
        return Err(InventoryError::new(
            path,
            InventoryErrorKind::Parse,
            format!("larger than the {cap}-byte cap for this file"),
        ));
    }
    Ok(bytes)
}

/// A registry URL written in a package manager's own config file (`.yarnrc.yml`,
/// `bunfig.toml`): http(s) only, no environment interpolation (refused, naming `at`), and
/// credentials in the URL dropped (they would otherwise reach reports and snapshots).
pub(crate) fn config_registry_url(text: &str, at: &str) -> Result<String, String> {
    if text.contains('$') {
        return Err(format!(
            "{at}: environment interpolation ({text:?}) is not supported; pass the registry with --registry"
        ));
    }
    let mut url = url::Url::parse(text).map_err(|e| format!("{at}: {text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{at}: {text:?} is not an http(s) URL"));
    }
    // Both only fail for URLs that cannot carry credentials, which http(s) URLs can.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok(url.to_string())
}

/// `base` overlaid with what a package manager's own registry configuration file says
/// (`bunfig.toml`, `.yarnrc.yml`), or `base` unchanged when `path` does not exist. The file is
/// read with its size cap, must be UTF-8, and every problem names it.
pub(crate) fn overlay_config(
    path: &Path,
    cap: u64,
    base: &RegistryMap,
    apply: impl FnOnce(&str, &RegistryMap) -> Result<RegistryMap, String>,
) -> Result<RegistryMap, InventoryError> {
    if !path.is_file() {
        return Ok(base.clone());
    }
    let bytes = read_capped(path, cap)?;
    let err = |problem: String| InventoryError {
        path: path.to_path_buf(),
        problem,
        kind: InventoryErrorKind::Parse,
    };
    let text = String::from_utf8(bytes).map_err(|_| err("not UTF-8".into()))?;
    apply(&text, base).map_err(err)
}

/// Rejects more installed locations than `cap`.
pub(crate) fn check_entries(n: usize, cap: usize) -> Result<(), String> {
    if n > cap {
        return Err(format!("{n} entries, more than the cap of {cap}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::json::check_depth;

    #[test]
    fn depth_cap_at_the_edge() {
        let at = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH),
            "]".repeat(MAX_JSON_DEPTH)
        );
        assert!(check_depth(at.as_bytes(), MAX_JSON_DEPTH).is_ok());
        let over = format!("[{at}]");
        let e = check_depth(over.as_bytes(), MAX_JSON_DEPTH).unwrap_err();
        assert!(e.contains("cap of 100 levels"), "{e}");
        // Brackets inside strings do not count.
        let s = format!("[\"{}\\\"{}\"]", "[".repeat(500), "{".repeat(500));
        assert!(check_depth(s.as_bytes(), 2).is_ok());
    }

    #[test]
    fn entries_cap_at_the_edge() {
        assert!(check_entries(MAX_ENTRIES, MAX_ENTRIES).is_ok());
        let e = check_entries(MAX_ENTRIES + 1, MAX_ENTRIES).unwrap_err();
        assert!(e.contains("more than the cap of 500000"), "{e}");
    }

    #[test]
    fn size_cap_at_the_edge() {
        let dir = std::env::temp_dir().join(format!("npmprov-inv-cap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("package-lock.json");
        std::fs::write(&p, vec![b' '; 64]).unwrap();
        assert_eq!(read_capped(&p, 64).unwrap().len(), 64);
        let e = read_capped(&p, 63).unwrap_err();
        assert_eq!(e.kind, InventoryErrorKind::Parse);
        assert!(
            e.to_string()
                .contains("package-lock.json: larger than the 63-byte cap"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_convert_to_exit_2_kinds() {
        let e = InventoryError::new(
            Path::new("x/package-lock.json"),
            InventoryErrorKind::Parse,
            "bad",
        );
        assert_eq!(e.to_string(), "x/package-lock.json: bad");
        assert!(matches!(AppError::from(e), AppError::Parse { .. }));
        let e = InventoryError::new(Path::new("x"), InventoryErrorKind::Ambiguous, "ambiguous");
        assert!(matches!(AppError::from(e), AppError::Inventory(_)));
        let e = InventoryError::new(Path::new("x"), InventoryErrorKind::Usage, "no workspace");
        assert!(matches!(AppError::from(e), AppError::Usage(_)));
    }
}
