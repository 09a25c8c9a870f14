//! npm lockfiles (`package-lock.json`, `npm-shrinkwrap.json`, `node_modules/.package-lock.json`)
//! of lockfileVersion 1, 2 and 3, read into one [`Entry`] per installed location.
//!
//! v1 has only the nested `dependencies` tree; v2 carries both (the `packages` map is read);
//! v3 has only `packages`.

use serde_json::{Map, Value};

use crate::util::json::kind;

use super::model::Flags;
use super::{Entry, Tree};

/// Reads a parsed lockfile document. Errors are the problem text (the caller adds the path).
pub(crate) fn read(doc: &Value) -> Result<Tree, String> {
    let top = doc
        .as_object()
        .ok_or_else(|| format!("expected a JSON object at the top, found {}", kind(doc)))?;
    let version = match top.get("lockfileVersion") {
        None => return Err("no lockfileVersion".into()),
        Some(Value::Number(n)) => n.as_u64(),
        Some(other) => {
            return Err(format!(
                "lockfileVersion: expected a number, found {}",
                kind(other)
            ))
        }
    };
    match version {
        Some(1) => read_v1(top),
        Some(2) | Some(3) => match top.get("packages") {
            Some(Value::Object(packages)) => read_packages(packages),
            Some(other) => Err(format!(
                "packages: expected an object, found {}",
                kind(other)
            )),
            None => Err(format!(
                "lockfileVersion {} without a `packages` map",
                version.unwrap_or_default()
            )),
        },
        _ => Err(format!(
            "unsupported lockfileVersion {} (this tool reads 1, 2 and 3)",
            top.get("lockfileVersion")
                .map(|v| v.to_string())
                .unwrap_or_default()
        )),
    }
}

/// v2/v3: the flat `packages` map keyed by location (`""` is the root project).
fn read_packages(packages: &Map<String, Value>) -> Result<Tree, String> {
    let mut tree = Tree::default();
    for (location, value) in packages {
        let ctx = format!("packages[{location:?}]");
        let obj = value
            .as_object()
            .ok_or_else(|| format!("{ctx}: expected an object, found {}", kind(value)))?;
        if location.is_empty() {
            tree.root_workspaces = workspaces_of(obj, &ctx)?;
            continue;
        }
        let link = bool_field(obj, "link", &ctx)?;
        let installed = is_installed(location);
        let entry = Entry {
            location: location.clone(),
            installed_name: installed_name(location),
            name_field: str_field(obj, "name", &ctx)?,
            version: str_field(obj, "version", &ctx)?,
            resolved: str_field(obj, "resolved", &ctx)?,
            integrity: str_field(obj, "integrity", &ctx)?,
            link,
            in_bundle: bool_field(obj, "inBundle", &ctx)?,
            flags: Flags {
                dev: bool_field(obj, "dev", &ctx)?,
                optional: bool_field(obj, "optional", &ctx)?,
                dev_optional: bool_field(obj, "devOptional", &ctx)?,
                peer: bool_field(obj, "peer", &ctx)?,
            },
            has_install_script: bool_field(obj, "hasInstallScript", &ctx)?,
            deps: dep_names(obj, &ctx, !installed)?,
        };
        if !link && installed && entry.version.is_none() {
            return Err(format!("{ctx}: no version"));
        }
        if link && entry.resolved.is_none() {
            return Err(format!("{ctx}: a link without `resolved`"));
        }
        tree.entries.push(entry);
    }
    Ok(tree)
}

/// v1: the nested `dependencies` tree; locations are rebuilt as npm would lay them out.
fn read_v1(top: &Map<String, Value>) -> Result<Tree, String> {
    let mut tree = Tree::default();
    if let Some(deps) = top.get("dependencies") {
        let deps = deps
            .as_object()
            .ok_or_else(|| format!("dependencies: expected an object, found {}", kind(deps)))?;
        read_v1_level(deps, "", "dependencies", &mut tree.entries)?;
    }
    Ok(tree)
}

fn read_v1_level(
    deps: &Map<String, Value>,
    parent: &str,
    ctx_parent: &str,
    out: &mut Vec<Entry>,
) -> Result<(), String> {
    for (name, value) in deps {
        let ctx = format!("{ctx_parent}[{name:?}]");
        let obj = value
            .as_object()
            .ok_or_else(|| format!("{ctx}: expected an object, found {}", kind(value)))?;
        let location = if parent.is_empty() {
            format!("node_modules/{name}")
        } else {
            format!("{parent}/node_modules/{name}")
        };
        let spec = str_field(obj, "version", &ctx)?.ok_or_else(|| format!("{ctx}: no version"))?;
        let mut resolved = str_field(obj, "resolved", &ctx)?;
        let mut name_field = None;
        let mut version = spec.clone();
        if let Some(alias) = spec.strip_prefix("npm:") {
            // `npm:real-name@1.2.3`
            let (real, v) = split_name_version(alias)
                .ok_or_else(|| format!("{ctx}: alias version {spec:?} is not npm:NAME@VERSION"))?;
            name_field = Some(real.to_string());
            version = v.to_string();
        } else if spec.contains(':') {
            // git, file: or a URL: the version field holds the source.
            if resolved.is_none() {
                resolved = Some(spec.clone());
            }
        }
        let mut requires = Vec::new();
        if let Some(req) = obj.get("requires") {
            match req {
                Value::Object(m) => requires.extend(m.keys().cloned()),
                Value::Bool(_) => {}
                other => {
                    return Err(format!(
                        "{ctx}.requires: expected an object, found {}",
                        kind(other)
                    ))
                }
            }
        }
        out.push(Entry {
            location: location.clone(),
            installed_name: name.clone(),
            name_field,
            version: Some(version),
            resolved,
            integrity: str_field(obj, "integrity", &ctx)?,
            link: false,
            in_bundle: bool_field(obj, "bundled", &ctx)?,
            flags: Flags {
                dev: bool_field(obj, "dev", &ctx)?,
                optional: bool_field(obj, "optional", &ctx)?,
                dev_optional: false,
                peer: false,
            },
            has_install_script: false,
            deps: requires,
        });
        if let Some(nested) = obj.get("dependencies") {
            let nested = nested.as_object().ok_or_else(|| {
                format!(
                    "{ctx}.dependencies: expected an object, found {}",
                    kind(nested)
                )
            })?;
            read_v1_level(nested, &location, &format!("{ctx}.dependencies"), out)?;
        }
    }
    Ok(())
}

/// `name@version` with a possibly scoped name.
pub(crate) fn split_name_version(s: &str) -> Option<(&str, &str)> {
    // Skip the first character: a scoped name starts with `@`.
    let at = s.get(1..)?.find('@')? + 1;
    let (name, version) = (&s[..at], &s[at + 1..]);
    (!name.is_empty() && !version.is_empty()).then_some((name, version))
}

/// True for a location inside a `node_modules` folder (an installed package), false for a
/// project folder (the root, a workspace, a link target).
pub(crate) fn is_installed(location: &str) -> bool {
    location.starts_with("node_modules/") || location.contains("/node_modules/")
}

/// The folder name a location installs under (`@scope/name` for scoped packages).
pub(crate) fn installed_name(location: &str) -> String {
    match location.rfind("node_modules/") {
        Some(i) => location[i + "node_modules/".len()..].to_string(),
        None => location.rsplit('/').next().unwrap_or(location).to_string(),
    }
}

fn workspaces_of(obj: &Map<String, Value>, ctx: &str) -> Result<Vec<String>, String> {
    match obj.get("workspaces") {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{ctx}.workspaces: expected strings, found {}", kind(v)))
            })
            .collect(),
        // The `{ "packages": [...] }` form of package.json workspaces.
        Some(Value::Object(m)) => match m.get("packages") {
            Some(v @ Value::Array(_)) => {
                let mut inner = Map::new();
                inner.insert("workspaces".into(), v.clone());
                workspaces_of(&inner, ctx)
            }
            _ => Ok(Vec::new()),
        },
        Some(other) => Err(format!(
            "{ctx}.workspaces: expected an array, found {}",
            kind(other)
        )),
    }
}

fn dep_names(obj: &Map<String, Value>, ctx: &str, with_dev: bool) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let fields: &[&str] = if with_dev {
        &[
            "dependencies",
            "optionalDependencies",
            "peerDependencies",
            "devDependencies",
        ]
    } else {
        &["dependencies", "optionalDependencies", "peerDependencies"]
    };
    for field in fields {
        match obj.get(*field) {
            None => {}
            Some(Value::Object(m)) => names.extend(m.keys().cloned()),
            Some(other) => {
                return Err(format!(
                    "{ctx}.{field}: expected an object, found {}",
                    kind(other)
                ))
            }
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

fn str_field(obj: &Map<String, Value>, key: &str, ctx: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(
            "{ctx}.{key}: expected a string, found {}",
            kind(other)
        )),
    }
}

fn bool_field(obj: &Map<String, Value>, key: &str, ctx: &str) -> Result<bool, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(format!(
            "{ctx}.{key}: expected true or false, found {}",
            kind(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_locations() {
        assert_eq!(installed_name("node_modules/a/node_modules/@s/b"), "@s/b");
        assert_eq!(installed_name("packages/cli"), "cli");
        assert!(is_installed("packages/x/node_modules/y"));
        assert!(!is_installed("packages/x"));
        assert_eq!(split_name_version("@s/a@1.0.0"), Some(("@s/a", "1.0.0")));
        assert_eq!(split_name_version("a@1"), Some(("a", "1")));
        assert_eq!(split_name_version("a"), None);
        assert_eq!(split_name_version(""), None);
        assert_eq!(split_name_version("é@1"), None);
        assert_eq!(split_name_version("a@"), None);
    }

    #[test]
    fn unknown_version_and_wrong_types_are_errors() {
        assert!(read(&json!({"lockfileVersion": 4, "packages": {}}))
            .unwrap_err()
            .contains("unsupported lockfileVersion 4"));
        assert!(read(&json!({"lockfileVersion": "3"}))
            .unwrap_err()
            .contains("expected a number"));
        assert!(read(&json!({"packages": {}}))
            .unwrap_err()
            .contains("no lockfileVersion"));
        let e =
            read(&json!({"lockfileVersion": 3, "packages": {"node_modules/a": {"version": 1}}}))
                .unwrap_err();
        assert!(
            e.contains("packages[\"node_modules/a\"].version: expected a string"),
            "{e}"
        );
        let e =
            read(&json!({"lockfileVersion": 3, "packages": {"node_modules/a": {"dev": "yes"}}}))
                .unwrap_err();
        assert!(e.contains(".dev: expected true or false"), "{e}");
        let e =
            read(&json!({"lockfileVersion": 3, "packages": {"node_modules/a": {}}})).unwrap_err();
        assert!(e.contains("no version"), "{e}");
        assert!(read(&json!([])).unwrap_err().contains("top"));
    }

    #[test]
    fn v1_tree_becomes_locations() {
        let doc = json!({"lockfileVersion": 1, "dependencies": {
            "a": {"version": "1.0.0", "integrity": "sha1-x", "requires": {"b": "^2"},
                  "dependencies": {"b": {"version": "2.0.0", "dev": true}}},
            "c": {"version": "npm:@s/real@3.0.0"},
            "g": {"version": "github:o/r#abc"}
        }});
        let t = read(&doc).unwrap();
        let locs: Vec<&str> = t.entries.iter().map(|e| e.location.as_str()).collect();
        assert_eq!(
            locs,
            [
                "node_modules/a",
                "node_modules/a/node_modules/b",
                "node_modules/c",
                "node_modules/g"
            ]
        );
        assert!(t.entries[1].flags.dev);
        assert_eq!(t.entries[0].deps, ["b"]);
        assert_eq!(t.entries[2].name_field.as_deref(), Some("@s/real"));
        assert_eq!(t.entries[2].version.as_deref(), Some("3.0.0"));
        assert_eq!(t.entries[3].resolved.as_deref(), Some("github:o/r#abc"));
    }
}
