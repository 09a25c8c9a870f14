//! `bun.lock` (bun's text lockfile, JSON with trailing commas), read from bun's documented
//! format only: no real `bun.lock` is in the test corpus.
//!
//! `packages` maps an install path (`a`, `a/b` for a nested copy) to an array whose first item
//! is `name@reference`. npm packages are `[ident, registry, info, integrity]` (registry `""`
//! for the default); the others are `name@workspace:…`, `link:`, `file:`, `root:`, git, github
//! or a tarball URL.

use serde_json::Value;

use super::flat::{split_at_name, Locked, Source};
use super::model::Origin;
use crate::util::json::kind;

/// Reads a `bun.lock` text. Errors are problem texts.
pub(crate) fn read(text: &str, max_depth: usize) -> Result<Vec<Locked>, String> {
    let json = strip_jsonc(text)?;
    crate::util::json::check_depth(json.as_bytes(), max_depth)?;
    let doc: Value = serde_json::from_str(&json).map_err(|e| format!("invalid JSON: {e}"))?;
    let top = doc
        .as_object()
        .ok_or_else(|| format!("expected a JSON object at the top, found {}", kind(&doc)))?;
    match top.get("lockfileVersion").and_then(Value::as_u64) {
        Some(0..=1) => {}
        Some(v) => {
            return Err(format!(
                "unsupported lockfileVersion {v} (this tool reads 0 and 1)"
            ))
        }
        None => return Err("no lockfileVersion (not a bun.lock text lockfile)".into()),
    }
    let packages = match top.get("packages") {
        None => return Ok(Vec::new()),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(format!(
                "packages: expected an object, found {}",
                kind(other)
            ))
        }
    };
    // `patchedDependencies`: `name@version` → patch file.
    let patched: Vec<&str> = match top.get("patchedDependencies") {
        Some(Value::Object(m)) => m.keys().map(String::as_str).collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::with_capacity(packages.len());
    for (path, value) in packages {
        let ctx = |m: String| format!("packages[{path:?}]: {m}");
        if let Some(mut l) = entry(path, value).map_err(ctx)? {
            let id = format!("{}@{}", l.name, l.version);
            l.patched = patched.iter().any(|p| *p == id);
            out.push(l);
        }
    }
    Ok(out)
}

fn entry(path: &str, value: &Value) -> Result<Option<Locked>, String> {
    let arr = value
        .as_array()
        .ok_or_else(|| format!("expected an array, found {}", kind(value)))?;
    let ident = arr
        .first()
        .and_then(Value::as_str)
        .ok_or("the first item is not a `name@reference` string")?;
    let (name, reference) = split_at_name(ident).ok_or("the first item is not NAME@REFERENCE")?;
    let (proto, rest) = reference.split_once(':').unwrap_or(("", reference));
    let other = |origin: Origin| {
        Ok(Some(Locked::new(
            path.to_string(),
            name.to_string(),
            String::new(),
            Source::Other(origin, reference.to_string()),
        )))
    };
    match proto {
        "root" => return Ok(None),
        "workspace" => return other(Origin::Workspace),
        "link" => return other(Origin::Link),
        "file" => return other(Origin::File),
        "github" | "git" | "git+ssh" | "git+https" | "ssh" => return other(Origin::Git),
        "http" | "https" => return other(Origin::TarballUrl),
        "" | "npm" => {}
        _ => return Err(format!("unknown reference {reference:?}")),
    }
    let version = reference.strip_prefix("npm:").unwrap_or(rest);
    if arr.len() != 4 {
        return Err(format!("an npm package has 4 items, found {}", arr.len()));
    }
    let registry = arr[1]
        .as_str()
        .ok_or_else(|| format!("registry: expected a string, found {}", kind(&arr[1])))?;
    let integrity = arr[3]
        .as_str()
        .ok_or_else(|| format!("integrity: expected a string, found {}", kind(&arr[3])))?;
    let resolved = (!registry.is_empty()).then(|| registry.to_string());
    let mut l = Locked::new(
        path.to_string(),
        name.to_string(),
        version.to_string(),
        Source::Registry { resolved },
    );
    l.integrity = (!integrity.is_empty()).then(|| integrity.to_string());
    let installed = installed_name(path);
    l.alias = (installed != name).then(|| installed.to_string());
    Ok(Some(l))
}

/// The name a package is installed under: the last segment of its path (two for `@scope/x`).
fn installed_name(path: &str) -> &str {
    let segments: Vec<&str> = path.rsplitn(3, '/').collect();
    match segments.as_slice() {
        [last, scope, ..] if scope.starts_with('@') => {
            &path[path.len() - last.len() - scope.len() - 1..]
        }
        [last, ..] => last,
        [] => path,
    }
}

/// JSONC → JSON: drops `//` and `/* */` comments and commas before `]` or `}`, outside strings.
pub(crate) fn strip_jsonc(text: &str) -> Result<String, String> {
    let b = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut in_string = false;
    while i < b.len() {
        let c = b[i];
        if in_string {
            out.push(c);
            if c == b'\\' && i + 1 < b.len() {
                out.push(b[i + 1]);
                i += 2;
                continue;
            }
            in_string = c != b'"';
            i += 1;
            continue;
        }
        match c {
            b'"' => {
                in_string = true;
                out.push(c);
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..].find("*/").ok_or("unterminated /* comment")?;
                i += 2 + end + 2;
                continue;
            }
            b']' | b'}' => {
                // A trailing comma is the last non-space byte written.
                let trimmed = out.iter().rposition(|x| !x.is_ascii_whitespace());
                if let Some(p) = trimmed.filter(|&p| out[p] == b',') {
                    out.remove(p);
                }
                out.push(c);
            }
            _ => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "not UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonc_trailing_commas_and_comments() {
        let j = strip_jsonc("{\"a\": [1, 2,], // c\n \"b,]\": \"x\\\"}\", /* d */}").unwrap();
        let v: Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["a"], serde_json::json!([1, 2]));
        assert_eq!(v["b,]"], "x\"}");
        assert!(strip_jsonc("{/* x").unwrap_err().contains("unterminated"));
    }

    #[test]
    fn installed_names() {
        assert_eq!(installed_name("a"), "a");
        assert_eq!(installed_name("a/b"), "b");
        assert_eq!(installed_name("@s/a"), "@s/a");
        assert_eq!(installed_name("x/@s/a"), "@s/a");
    }

    #[test]
    fn entries_of_each_kind() {
        let text = r#"{
  "lockfileVersion": 1,
  "workspaces": { "": { "name": "app", }, },
  "packages": {
    "a": ["a@1.0.0", "", {}, "sha512-x"],
    "b-alias": ["b@2.0.0", "https://npm.corp.example/b/-/b-2.0.0.tgz", {}, ""],
    "ws": ["ws@workspace:packages/ws"],
    "g": ["g@github:o/g#abc", {}, "o-g-abc"],
    "app": ["app@root:", {}],
  },
}"#;
        let v = read(text, 100).unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(v[0].integrity.as_deref(), Some("sha512-x"));
        assert_eq!(v[1].alias.as_deref(), Some("b-alias"));
        assert_eq!(v[1].integrity, None);
        assert!(matches!(v[2].source, Source::Other(Origin::Git, _)));
        assert!(matches!(v[3].source, Source::Other(Origin::Workspace, _)));
    }

    #[test]
    fn errors() {
        let e = read(r#"{"packages": []}"#, 100).unwrap_err();
        assert!(e.contains("no lockfileVersion"), "{e}");
        let e = read(
            r#"{"lockfileVersion": 1, "packages": {"a": ["a@1.0.0", ""]}}"#,
            100,
        )
        .unwrap_err();
        assert!(
            e.contains("packages[\"a\"]: an npm package has 4 items, found 2"),
            "{e}"
        );
        let e = read(r#"{"lockfileVersion": 7}"#, 100).unwrap_err();
        assert!(e.contains("unsupported lockfileVersion 7"), "{e}");
        let e = read("[[[1]]]", 2).unwrap_err();
        assert!(e.contains("cap"), "{e}");
    }
}
