//! Lockfiles keyed by package rather than by installed location (yarn, pnpm, bun) → exact
//! packages, with the same contract as the npm reader: registry packages by (registry, name,
//! version, integrity), everything else counted by origin and shown.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::assemble::{pin_findings, IntegrityNote};
use super::integrity::Integrity;
use super::model::{InventoryCounts, InventoryKind, InventoryOptions, Origin, PackageRef};
use super::names::{check_name, check_version};
use crate::registry::public::is_under_registry;

/// Where one lockfile entry's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A registry tarball; `resolved` is the URL the lockfile names, if any.
    Registry { resolved: Option<String> },
    /// Anything else, with the text naming it (URL, path, repository).
    Other(Origin, String),
}

/// Why a registry package has no integrity, when the format says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoIntegrity {
    /// The format records one but this entry has none.
    Missing,
    /// yarn berry: its `checksum` is of yarn's own zip archive, never of the registry tarball.
    BerryChecksum,
}

/// One lockfile entry.
#[derive(Debug, Clone)]
pub(crate) struct Locked {
    /// How the lockfile names the entry (its key), shown as the package's path.
    pub key: String,
    /// The real registry name (or the package's own name for other origins).
    pub name: String,
    /// The name it is installed under when that differs (an `npm:` alias).
    pub alias: Option<String>,
    pub version: String,
    pub integrity: Option<String>,
    pub no_integrity: NoIntegrity,
    pub source: Source,
    pub dev: bool,
    pub optional: bool,
    /// The package's files are changed by a patch after extraction.
    pub patched: bool,
    pub has_install_script: bool,
}

impl Locked {
    pub fn new(key: String, name: String, version: String, source: Source) -> Locked {
        Locked {
            key,
            name,
            alias: None,
            version,
            integrity: None,
            no_integrity: NoIntegrity::Missing,
            source,
            dev: false,
            optional: false,
            patched: false,
            has_install_script: false,
        }
    }
}

/// Builds the package list. Errors are problem texts (the caller adds the path).
pub(crate) fn assemble(
    entries: &[Locked],
    opts: &InventoryOptions,
) -> Result<(Vec<PackageRef>, InventoryCounts), String> {
    let mut counts = InventoryCounts {
        entries: entries.len(),
        ..InventoryCounts::default()
    };
    let mut acc: BTreeMap<(u8, String, String, String, String), Acc> = BTreeMap::new();
    for e in entries {
        let ctx = |m: String| format!("{:?}: {m}", e.key);
        let integrity = match &e.integrity {
            Some(text) => {
                Some(Integrity::parse(text).map_err(|err| ctx(format!("integrity: {err}")))?)
            }
            None => None,
        };
        let (origin, registry, source, mismatch) = match &e.source {
            Source::Registry { resolved } => {
                check_name(&e.name).map_err(ctx)?;
                check_version(&e.version).map_err(ctx)?;
                match &integrity {
                    None => counts.integrity_missing += 1,
                    Some(i) if i.is_sha1_only() => counts.integrity_weak += 1,
                    Some(_) => {}
                }
                let registry = opts.registries.registry_for(&e.name).to_string();
                // A registry URL or registry tarball URL outside the configured registry.
                let mismatch = resolved
                    .as_deref()
                    .filter(|r| {
                        let web = r.starts_with("https://") || r.starts_with("http://");
                        web && !is_under_registry(r, &registry)
                    })
                    .map(str::to_string);
                let origin = if e.alias.is_some() {
                    Origin::Alias
                } else {
                    Origin::Registry
                };
                let text = integrity.as_ref().map(|i| i.as_str().to_string());
                (origin, registry, text.unwrap_or_default(), mismatch)
            }
            Source::Other(origin, text) => (*origin, String::new(), text.clone(), None),
        };
        let class = if origin.is_registry() {
            0
        } else {
            origin as u8 + 1
        };
        let key = (
            class,
            registry.clone(),
            e.name.clone(),
            e.version.clone(),
            source,
        );
        let slot = acc.entry(key).or_insert_with(|| Acc {
            pkg: PackageRef {
                name: e.name.clone(),
                alias: e.alias.clone(),
                version: e.version.clone(),
                integrity,
                registry,
                origin,
                paths: Vec::new(),
                dev: true,
                optional: true,
                peer: false,
                resolved: None,
                has_install_script: false,
                patched: false,
                findings: Vec::new(),
            },
            aliased_only: true,
            berry: false,
            mismatches: BTreeSet::new(),
        });
        slot.pkg.paths.push(e.key.clone());
        slot.pkg.dev &= e.dev;
        slot.pkg.optional &= e.optional;
        slot.pkg.patched |= e.patched;
        slot.pkg.has_install_script |= e.has_install_script;
        if slot.pkg.resolved.is_none() {
            slot.pkg.resolved = match &e.source {
                Source::Registry { resolved } => resolved.clone(),
                Source::Other(_, text) => Some(text.clone()),
            };
        }
        if e.alias.is_none() {
            slot.aliased_only = false;
        }
        slot.berry |= e.no_integrity == NoIntegrity::BerryChecksum;
        slot.mismatches.extend(mismatch);
    }
    let packages: Vec<PackageRef> = acc.into_values().map(Acc::finish).collect();
    let mut name_versions = BTreeSet::new();
    for p in &packages {
        let origin = serde_json::to_value(p.origin)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        *counts.by_origin.entry(origin).or_default() += 1;
        if p.origin.is_registry() {
            counts.registry_packages += 1;
            name_versions.insert((p.name.clone(), p.version.clone()));
        }
    }
    counts.registry_name_versions = name_versions.len();
    Ok((packages, counts))
}

struct Acc {
    pkg: PackageRef,
    aliased_only: bool,
    berry: bool,
    mismatches: BTreeSet<String>,
}

impl Acc {
    fn finish(mut self) -> PackageRef {
        let p = &mut self.pkg;
        p.paths.sort();
        p.paths.dedup();
        if !p.origin.is_registry() {
            return self.pkg;
        }
        if self.aliased_only {
            p.origin = Origin::Alias;
        } else {
            p.origin = Origin::Registry;
            p.alias = None;
        }
        let note = if self.berry {
            IntegrityNote::BerryZip
        } else {
            IntegrityNote::Lockfile
        };
        pin_findings(p, &self.mismatches, note);
        self.pkg
    }
}

/// The 1-based line of each entry of a yarn, pnpm or bun lockfile, by the key that names it
/// there (a package's path in these formats), for reports that point at the lockfile (SARIF,
/// GitHub annotations). One pass over the text; the first line wins.
pub fn entry_lines(kind: InventoryKind, text: &str) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    let mut in_packages = kind != InventoryKind::PnpmLock;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let key = match kind {
            // Block headers: `a@^1, "a@^2":` (v1) or `"a@npm:^1, a@npm:^1.1":` (berry).
            InventoryKind::YarnLock if indent == 0 => leading_key(trimmed),
            // Keys under `packages:` (two spaces), before `snapshots:` repeats them.
            InventoryKind::PnpmLock => {
                if indent == 0 {
                    in_packages = trimmed == "packages:";
                }
                if in_packages && indent == 2 {
                    leading_key(trimmed)
                } else {
                    None
                }
            }
            // `"key": [` (workspaces name dependencies with strings, not arrays).
            InventoryKind::BunLock => trimmed
                .strip_prefix('"')
                .and_then(|r| r.split_once('"'))
                .filter(|(_, rest)| {
                    let rest = rest.trim_start();
                    rest.strip_prefix(':')
                        .is_some_and(|r| r.trim_start().starts_with('['))
                })
                .map(|(k, _)| k),
            _ => None,
        };
        if let Some(k) = key {
            out.entry(k.to_string()).or_insert(i + 1);
        }
    }
    out
}

/// The first key a YAML-ish header line names: quoted up to the quote (or the first `,`
/// inside berry's quoted lists), else up to a `,` or the final `:`.
fn leading_key(line: &str) -> Option<&str> {
    if let Some(r) = line.strip_prefix('"') {
        return r.split(['"', ',']).next();
    }
    if let Some(r) = line.strip_prefix('\'') {
        return r.split('\'').next();
    }
    match line.find(',') {
        Some(i) => Some(&line[..i]),
        None => line.strip_suffix(':'),
    }
}

/// Splits `name@rest` (`@scope/name@rest` too) at the `@` after the name.
pub(crate) fn split_at_name(spec: &str) -> Option<(&str, &str)> {
    let from = usize::from(spec.starts_with('@'));
    let i = spec.get(from..)?.find('@')? + from;
    let (name, rest) = (&spec[..i], &spec[i + 1..]);
    (!name.is_empty()).then_some((name, rest))
}

/// `%xx` decoding for yarn berry's encoded descriptors (`npm%3A1.0.0`). Invalid escapes stay.
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(key: &str, name: &str, version: &str, integrity: Option<&str>) -> Locked {
        let mut l = Locked::new(
            key.into(),
            name.into(),
            version.into(),
            Source::Registry { resolved: None },
        );
        l.integrity = integrity.map(str::to_string);
        l
    }

    const I: &str = "sha512-IIhEbVqpvTWcYGk1NrjsTFxqI1UGoAaA7plNEVXOl/rQI5pHNfqe+DBRpwp1hk8URhLDUvGWQgz7DBZ6uyCbgQ==";

    #[test]
    fn merges_same_package_and_flags_missing_integrity() {
        let mut patched = reg("b@patch", "b", "1.0.0", Some(I));
        patched.patched = true;
        let entries = vec![
            reg("a@^1", "a", "1.0.0", Some(I)),
            reg("a@^1.0", "a", "1.0.0", Some(I)),
            reg("b@1", "b", "1.0.0", Some(I)),
            patched,
            reg("c@1", "c", "2.0.0", None),
            Locked::new(
                "d@file:x".into(),
                "d".into(),
                "0.0.0".into(),
                Source::Other(Origin::File, "file:x".into()),
            ),
        ];
        let (pkgs, counts) = assemble(&entries, &InventoryOptions::default()).unwrap();
        assert_eq!(pkgs.len(), 4);
        assert_eq!(pkgs[0].paths, vec!["a@^1", "a@^1.0"]);
        assert!(pkgs[1].patched && pkgs[1].paths.len() == 2);
        assert_eq!(pkgs[2].findings[0].code, "lockfile-integrity-missing");
        assert_eq!(counts.entries, 6);
        assert_eq!(counts.registry_packages, 3);
        assert_eq!(counts.integrity_missing, 1);
        assert_eq!(counts.by_origin.get("file"), Some(&1));
    }

    #[test]
    fn rejects_bad_names_and_integrities() {
        let e = assemble(
            &[reg("x", "../x", "1.0.0", None)],
            &InventoryOptions::default(),
        )
        .unwrap_err();
        assert!(e.contains("not a valid npm package name"), "{e}");
        let e = assemble(
            &[reg("x", "x", "1.0.0", Some("sha512-..."))],
            &InventoryOptions::default(),
        )
        .unwrap_err();
        assert!(e.starts_with("\"x\": integrity:"), "{e}");
    }

    #[test]
    fn names_and_decoding() {
        assert_eq!(split_at_name("@s/a@npm:1"), Some(("@s/a", "npm:1")));
        assert_eq!(split_at_name("a@^1"), Some(("a", "^1")));
        assert_eq!(split_at_name("@s/a"), None);
        assert_eq!(split_at_name("@x"), None);
        assert_eq!(percent_decode("a@npm%3A1.0.0%"), "a@npm:1.0.0%");
        assert_eq!(percent_decode("%zz%2"), "%zz%2");
        assert_eq!(
            percent_decode("%aé%C3%A9"),
            "%aéé",
            "no panic inside a character"
        );
    }
}
