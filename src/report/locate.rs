//! Where a finding points in the project, for the CI renderers ([`super::sarif`],
//! [`super::github`]): the package's line in the lockfile, or its `package.json` in
//! `node_modules` mode; run-level findings point at the inventory file itself (line 1).
//!
//! Paths are relative to a source root (`%SRCROOT%` in SARIF, the workspace for GitHub
//! annotations): the directory `verify` runs in, which is the checkout in CI. A lockfile outside
//! it is named by its file name (relative to its own project).
//!
//! [`Locations::load`] does the reading; [`Locations::from_text`] is the pure part.

use super::{PackageReport, Report};
use crate::inventory::InventoryKind;
use std::collections::HashMap;
use std::path::{Component, Path};

/// Most bytes of a lockfile read to find lines: the inventory already read it under its own cap,
/// this only bounds a second read of a file that may have grown since.
const MAX_LOCKFILE_BYTES: u64 = 256 * 1024 * 1024;
/// Most bytes of one `package.json` read to find its `"name"` line.
const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;

/// A file (relative to the source root, `/`-separated, not encoded) and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: String,
    pub line: usize,
}

impl Location {
    /// The path as a relative URI reference (each segment percent-encoded), for SARIF.
    pub fn uri(&self) -> String {
        self.path
            .split('/')
            .map(percent_encode)
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// The locations of every package of one report.
#[derive(Debug, Clone, Default)]
pub struct Locations {
    /// The inventory file (lockfile, or the `node_modules` folder) relative to the source root.
    inventory_path: String,
    /// By installed location (`node_modules/a/node_modules/b`): where it is named.
    by_path: HashMap<String, Location>,
}

impl Locations {
    /// Reads the lockfile (or each package's `package.json`) of `report` to find lines. Paths are
    /// made relative to `src_root`. Never fails: what cannot be read points at line 1 of the
    /// inventory file.
    pub fn load(report: &Report, src_root: &Path) -> Locations {
        let inv = Path::new(&report.inventory.path);
        let inventory_path = relative_path(inv, src_root);
        if report.inventory.kind == InventoryKind::NodeModules {
            let project = inv.parent().unwrap_or(Path::new(""));
            let mut by_path = HashMap::new();
            for p in &report.packages {
                for path in &p.paths {
                    let manifest = project.join(path).join("package.json");
                    let line = read_capped(&manifest, MAX_MANIFEST_BYTES)
                        .map(|t| manifest_name_line(&t))
                        .unwrap_or(1);
                    let file = relative_path(&manifest, src_root);
                    by_path.insert(path.clone(), Location { path: file, line });
                }
            }
            return Locations {
                inventory_path,
                by_path,
            };
        }
        let text = read_capped(inv, MAX_LOCKFILE_BYTES).unwrap_or_default();
        Locations::from_text(report, inventory_path, &text)
    }

    /// The pure part for lockfiles: finds each package's line in `text` (the lockfile, at
    /// `inventory_path` relative to the source root).
    pub fn from_text(report: &Report, inventory_path: String, text: &str) -> Locations {
        let keys = lockfile_key_lines(report.inventory.kind, text);
        let mut by_path = HashMap::new();
        for p in &report.packages {
            for path in &p.paths {
                let line = keys
                    .get(path.as_str())
                    .copied()
                    .or_else(|| first_line_naming(text, p.registry_name()))
                    .or_else(|| first_line_naming(text, &p.name))
                    .unwrap_or(1);
                let file = inventory_path.clone();
                by_path.insert(path.clone(), Location { path: file, line });
            }
        }
        Locations {
            inventory_path,
            by_path,
        }
    }

    /// Where run-level findings point: the inventory file, line 1.
    pub fn run(&self) -> Location {
        Location {
            path: self.inventory_path.clone(),
            line: 1,
        }
    }

    /// Where a package's findings point: its first installed location.
    pub fn package(&self, p: &PackageReport) -> Location {
        p.paths
            .iter()
            .find_map(|path| self.by_path.get(path))
            .cloned()
            .unwrap_or_else(|| self.run())
    }
}

/// `path` relative to `root` with `/` separators when it lies below it (both made absolute
/// against the current directory first); else its file name.
pub fn relative_path(path: &Path, root: &Path) -> String {
    let abs = |p: &Path| {
        std::fs::canonicalize(p).unwrap_or_else(|_| {
            std::env::current_dir()
                .map(|d| d.join(p))
                .unwrap_or_else(|_| p.to_path_buf())
        })
    };
    let (p, r) = (abs(path), abs(root));
    let rel = match p.strip_prefix(&r) {
        Ok(rel) => rel.to_path_buf(),
        Err(_) => path.file_name().map(Into::into).unwrap_or_default(),
    };
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    parts.join("/")
}

/// Encodes what may not appear raw in a relative URI path segment (RFC 3986 `pchar`).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
            );
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The 1-based line of the key of each lockfile entry, by the key the inventory records as the
/// package's path: the `"node_modules/…": {` keys of a package-lock / shrinkwrap / hidden
/// lockfile (the `packages` map of lockfile v2/v3) here; yarn, pnpm and bun entries through
/// [`crate::inventory::entry_lines`]. First occurrence wins.
pub fn lockfile_key_lines(kind: InventoryKind, text: &str) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    match kind {
        InventoryKind::NodeModules => return out,
        InventoryKind::YarnLock | InventoryKind::PnpmLock | InventoryKind::BunLock => {
            return crate::inventory::entry_lines(kind, text);
        }
        InventoryKind::PackageLock
        | InventoryKind::NpmShrinkwrap
        | InventoryKind::HiddenLockfile => {}
    }
    for (i, line) in text.lines().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix('"') else {
            continue;
        };
        let Some((key, after)) = rest.split_once('"') else {
            continue;
        };
        let is_object = after
            .trim_start()
            .strip_prefix(':')
            .is_some_and(|r| r.trim_start().starts_with('{'));
        if is_object && (key.starts_with("node_modules/") || key.contains("/node_modules/")) {
            out.entry(key.to_string()).or_insert(i + 1);
        }
    }
    out
}

/// The first line that names `name` as a whole package name: delimited by a quote, space,
/// `/` (a `node_modules/` path or pnpm's leading `/`) or the line start on the left, and by a
/// quote, `@`, `:` or the line end on the right.
fn first_line_naming(text: &str, name: &str) -> Option<usize> {
    if name.is_empty() {
        return None;
    }
    for (i, line) in text.lines().enumerate() {
        let mut from = 0;
        while let Some(at) = line[from..].find(name) {
            let start = from + at;
            let end = start + name.len();
            let left = line[..start].chars().next_back();
            let right = line[end..].chars().next();
            let left_ok = match left {
                None | Some('"' | '\'' | ' ') => true,
                // `node_modules/name` or pnpm's `/name@…`, never `@scope/name`.
                Some('/') => {
                    let before = line[..start - 1].trim_start();
                    before.is_empty()
                        || before.ends_with("node_modules")
                        || before.ends_with(['"', '\''])
                }
                _ => false,
            };
            let right_ok = matches!(right, None | Some('"' | '\'' | '@' | ':'));
            if left_ok && right_ok {
                return Some(i + 1);
            }
            from = start + name.len().max(1);
        }
    }
    None
}

/// The line of the `"name"` key of a `package.json` (1 when absent).
fn manifest_name_line(text: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with("\"name\""))
        .map_or(1, |i| i + 1)
}

fn read_capped(path: &Path, cap: u64) -> Option<String> {
    use std::io::Read;
    let f = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    f.take(cap).read_to_end(&mut bytes).ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"{
  "name": "demo",
  "lockfileVersion": 3,
  "packages": {
    "": {
      "dependencies": { "a": "^1.0.0" }
    },
    "node_modules/@types/a": {
      "version": "1.0.0"
    },
    "node_modules/a": {
      "version": "1.0.0"
    },
    "node_modules/a/node_modules/b": {
      "version": "2.0.0"
    }
  }
}
"#;

    #[test]
    fn package_lock_keys_are_found() {
        let k = lockfile_key_lines(InventoryKind::PackageLock, LOCK);
        assert_eq!(k.get("node_modules/a"), Some(&11));
        assert_eq!(k.get("node_modules/a/node_modules/b"), Some(&14));
        assert_eq!(k.get("node_modules/@types/a"), Some(&8));
        assert_eq!(k.get(""), None);
    }

    #[test]
    fn naming_fallback_respects_name_boundaries() {
        // `a` is not named by `@types/a`, `"name": "demo"` or `"dependencies": { "a"` … the
        // first whole-name occurrence is the dependency key on line 6.
        assert_eq!(first_line_naming(LOCK, "a"), Some(6));
        assert_eq!(first_line_naming(LOCK, "@types/a"), Some(8));
        assert_eq!(first_line_naming(LOCK, "b"), Some(14));
        assert_eq!(first_line_naming(LOCK, "zzz"), None);
        assert_eq!(
            first_line_naming("/lodash@4.17.21:\n", "lodash"),
            Some(1),
            "pnpm's leading slash"
        );
        assert_eq!(first_line_naming("react-dom@^18:\n", "react"), None);
    }

    #[test]
    fn manifest_name_line_and_uri_encoding() {
        assert_eq!(
            manifest_name_line("{\n  \"version\": \"1\",\n  \"name\": \"x\"\n}"),
            3
        );
        assert_eq!(manifest_name_line("{}"), 1);
        assert_eq!(percent_encode("a b%#?"), "a%20b%25%23%3F");
        assert_eq!(percent_encode("@scope"), "@scope");
    }

    #[test]
    fn relative_path_below_and_outside_root() {
        let root = std::env::temp_dir().join(format!("npmprov-locate-{}", std::process::id()));
        std::fs::create_dir_all(root.join("sub dir")).unwrap();
        let f = root.join("sub dir/package-lock.json");
        std::fs::write(&f, "{}").unwrap();
        let rel = relative_path(&f, &root);
        assert_eq!(rel, "sub dir/package-lock.json");
        let loc = Location { path: rel, line: 1 };
        assert_eq!(loc.uri(), "sub%20dir/package-lock.json");
        assert_eq!(
            relative_path(&f, &root.join("elsewhere-not-a-parent")),
            "package-lock.json"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
