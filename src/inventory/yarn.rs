//! `yarn.lock`: classic v1 (yarn's own indented format) and berry (YAML with `__metadata`),
//! read into one [`Locked`] entry per lockfile block.
//!
//! Berry specifics: `checksum` is of yarn's own zip archive, never of the registry tarball, so a
//! berry entry carries no integrity and says why; `patch:` resolutions are the underlying
//! package, marked patched; the root workspace (`workspace:.`) is the project, not a package.

use super::flat::{percent_decode, split_at_name, Locked, NoIntegrity, Source};
use super::model::Origin;
use super::yaml::{self, Node};
use crate::inventory::assemble::source_origin;

/// Reads a `yarn.lock` of either generation. Errors are problem texts.
pub(crate) fn read(text: &str) -> Result<Vec<Locked>, String> {
    if is_berry(text) {
        read_berry(text)
    } else {
        read_v1(text)
    }
}

/// Berry lockfiles carry a top-level `__metadata` block; classic ones do not.
pub(crate) fn is_berry(text: &str) -> bool {
    text.lines().any(|l| l.trim_end() == "__metadata:")
}

// ---- classic v1 ----

/// One block of a v1 lockfile: its descriptors and its two-space fields.
struct Block {
    line: usize,
    descriptors: Vec<String>,
    fields: Vec<(String, String)>,
}

fn read_v1(text: &str) -> Result<Vec<Locked>, String> {
    let mut blocks: Vec<Block> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if indent == 0 {
            let Some(keys) = trimmed.strip_suffix(':') else {
                return Err(format!("line {n}: expected `descriptor[, descriptor]:`"));
            };
            let descriptors = split_list(keys).map_err(|e| format!("line {n}: {e}"))?;
            if descriptors.is_empty() {
                return Err(format!("line {n}: a block without descriptors"));
            }
            blocks.push(Block {
                line: n,
                descriptors,
                fields: Vec::new(),
            });
            continue;
        }
        let Some(block) = blocks.last_mut() else {
            return Err(format!("line {n}: an indented line outside any block"));
        };
        if indent != 2 || trimmed.ends_with(':') {
            // Nested maps (`dependencies:` and their entries) name ranges, not packages.
            continue;
        }
        let (key, value) = split_field(trimmed).map_err(|e| format!("line {n}: {e}"))?;
        block.fields.push((key, value));
    }
    blocks.iter().map(v1_entry).collect()
}

fn v1_entry(b: &Block) -> Result<Locked, String> {
    let first = &b.descriptors[0];
    let ctx = |m: &str| format!("line {} ({first:?}): {m}", b.line);
    let field = |k: &str| {
        b.fields
            .iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.clone())
    };
    let (installed, range) = split_at_name(first).ok_or_else(|| ctx("not NAME@RANGE"))?;
    let version = field("version").ok_or_else(|| ctx("no version"))?;
    let resolved = field("resolved");
    let (name, alias) = match range.strip_prefix("npm:") {
        Some(real) if real.contains('@') => {
            let (real, _) =
                split_at_name(real).ok_or_else(|| ctx("alias is not npm:NAME@RANGE"))?;
            (
                real.to_string(),
                (real != installed).then(|| installed.to_string()),
            )
        }
        _ => (installed.to_string(), None),
    };
    let local = if range.starts_with("file:") {
        Some(Origin::File)
    } else if range.starts_with("link:") {
        Some(Origin::Link)
    } else {
        None
    };
    let source = match (
        local,
        resolved
            .as_deref()
            .or(Some(range).filter(|r| looks_remote(r))),
    ) {
        (Some(origin), _) => Source::Other(origin, range.to_string()),
        (None, Some(r)) => match source_origin(r) {
            None => Source::Registry {
                resolved: Some(r.to_string()),
            },
            Some(o) => Source::Other(o, r.to_string()),
        },
        (None, None) => Source::Registry { resolved: None },
    };
    let mut l = Locked::new(first.clone(), name, version, source);
    l.alias = alias;
    l.integrity = field("integrity").or_else(|| sha1_fragment(resolved.as_deref()));
    Ok(l)
}

/// A range that names a place rather than versions (git, URL).
fn looks_remote(range: &str) -> bool {
    range.contains("://") || range.starts_with("github:") || range.starts_with("git")
}

/// Old v1 entries pin only the `#<sha1 hex>` of the tarball URL: that is a sha1 integrity.
fn sha1_fragment(resolved: Option<&str>) -> Option<String> {
    use base64::Engine;
    let hex_text = resolved?.rsplit_once('#')?.1;
    let digest = hex::decode(hex_text).ok().filter(|d| d.len() == 20)?;
    Some(format!(
        "sha1-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    ))
}

/// `a@^1, "b@^2"` → the descriptors, unquoted.
fn split_list(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (item, after) = if rest.starts_with('"') {
            let (s, used) = quoted(rest)?;
            (s, &rest[used..])
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            (rest[..end].trim().to_string(), &rest[end..])
        };
        out.push(item);
        let after = after.trim_start();
        rest = match after.strip_prefix(',') {
            Some(r) => r.trim_start(),
            None if after.is_empty() => after,
            None => return Err(format!("unexpected {after:?} after a descriptor")),
        };
    }
    Ok(out)
}

/// `key value` or `key "value"` (the key may be quoted too).
fn split_field(text: &str) -> Result<(String, String), String> {
    let (key, rest) = if text.starts_with('"') {
        let (k, used) = quoted(text)?;
        (k, &text[used..])
    } else {
        let end = text.find(' ').unwrap_or(text.len());
        (text[..end].to_string(), &text[end..])
    };
    let rest = rest.trim();
    let value = if rest.starts_with('"') {
        let (v, used) = quoted(rest)?;
        if !rest[used..].trim().is_empty() {
            return Err(format!("unexpected text after the value of {key:?}"));
        }
        v
    } else {
        rest.to_string()
    };
    Ok((key, value))
}

/// A JSON-style double-quoted string at the start of `text`: (content, bytes used).
fn quoted(text: &str) -> Result<(String, usize), String> {
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '"') => {
                let s: String = serde_json::from_str(&text[..=i])
                    .map_err(|e| format!("bad quoted string: {e}"))?;
                return Ok((s, i + 1));
            }
            _ => {}
        }
    }
    Err("unterminated quoted string".into())
}

// ---- berry ----

fn read_berry(text: &str) -> Result<Vec<Locked>, String> {
    let doc = yaml::parse(text)?;
    let Node::Map(entries) = &doc else {
        return Err(format!(
            "expected a mapping at the top, found {}",
            doc.kind()
        ));
    };
    let mut out = Vec::new();
    for e in entries {
        if e.key == "__metadata" {
            continue;
        }
        let ctx = |m: &str| format!("line {} ({:?}): {m}", e.line, e.key);
        if !matches!(e.value, Node::Map(_)) {
            return Err(ctx(&format!(
                "expected a mapping, found {}",
                e.value.kind()
            )));
        }
        if let Some(l) = berry_entry(&e.key, &e.value).map_err(|m| ctx(&m))? {
            out.push(l);
        }
    }
    Ok(out)
}

fn berry_entry(key: &str, v: &Node) -> Result<Option<Locked>, String> {
    let descriptors = key.split(',').map(str::trim).collect::<Vec<_>>();
    let first = descriptors[0];
    let (key_name, key_range) = split_at_name(first).ok_or("not NAME@RANGE")?;
    let version = v.str_at("version").map(str::to_string);
    let resolution = match (v.str_at("resolution"), &version) {
        (Some(r), _) => r.to_string(),
        // Hand-written files: a `npm:` range with a version is enough to name the package.
        (None, Some(ver)) if key_range.starts_with("npm:") => format!("{key_name}@npm:{ver}"),
        _ => return Err("no resolution".into()),
    };
    let (name, reference) = split_at_name(&resolution).ok_or("resolution is not NAME@REFERENCE")?;
    let (name, reference) = (name.to_string(), reference.to_string());
    let mut patched = false;
    let (name, reference) = match reference.strip_prefix("patch:") {
        Some(inner) => {
            patched = true;
            let inner = percent_decode(inner.split('#').next().unwrap_or(inner));
            let (n, r) = split_at_name(&inner).ok_or("patch of something not NAME@REFERENCE")?;
            if r.starts_with("patch:") {
                return Err("a patch of a patch".into());
            }
            (n.to_string(), r.to_string())
        }
        None => (name, reference),
    };
    let display_version = version.clone().unwrap_or_default();
    let mut l = if let Some(npm) = reference.strip_prefix("npm:") {
        let (ver, params) = npm.split_once("::").unwrap_or((npm, ""));
        let archive = params
            .split('&')
            .find_map(|p| p.strip_prefix("__archiveUrl="))
            .map(percent_decode);
        let mut l = Locked::new(
            first.to_string(),
            name.clone(),
            ver.to_string(),
            Source::Registry { resolved: archive },
        );
        l.no_integrity = NoIntegrity::BerryChecksum;
        l.alias = (key_name != name && !patched).then(|| key_name.to_string());
        l
    } else {
        let (proto, rest) = reference.split_once(':').unwrap_or(("", &reference));
        let origin = match proto {
            "workspace" if rest == "." => return Ok(None),
            "workspace" => Origin::Workspace,
            "link" | "portal" => Origin::Link,
            "file" | "exec" => Origin::File,
            "git" | "git+ssh" | "git+https" | "ssh" | "github" => Origin::Git,
            "http" | "https" if reference.contains(".git#") || reference.contains("#commit=") => {
                Origin::Git
            }
            "http" | "https" => Origin::TarballUrl,
            _ => return Err(format!("unknown resolution protocol in {resolution:?}")),
        };
        Locked::new(
            first.to_string(),
            name.clone(),
            display_version,
            Source::Other(origin, reference.clone()),
        )
    };
    l.patched = patched;
    Ok(Some(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_blocks_aliases_and_sources() {
        let text = r#"# yarn lockfile v1


"@s/a@^1.0.0", "@s/a@^1.1.0":
  version "1.1.0"
  resolved "https://registry.yarnpkg.com/@s/a/-/a-1.1.0.tgz#c836b1bd81e6d62cd6cdf3ee4948bcdce8ea79c8"
  dependencies:
    b "^2"

b-cjs@npm:b@^2:
  version "2.0.0"
  resolved "https://registry.yarnpkg.com/b/-/b-2.0.0.tgz"
  integrity sha512-IIhEbVqpvTWcYGk1NrjsTFxqI1UGoAaA7plNEVXOl/rQI5pHNfqe+DBRpwp1hk8URhLDUvGWQgz7DBZ6uyCbgQ==

"c@github:o/c#abc":
  version "0.1.0"
  resolved "https://codeload.github.com/o/c/tar.gz/abc"

d@file:./d:
  version "0.0.1"
"#;
        let v = read(text).unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(v[0].key, "@s/a@^1.0.0");
        assert_eq!(v[0].name, "@s/a");
        assert_eq!(
            v[0].integrity.as_deref(),
            Some("sha1-yDaxvYHm1izWzfPuSUi83Ojqecg=")
        );
        assert_eq!(
            (v[1].name.as_str(), v[1].alias.as_deref()),
            ("b", Some("b-cjs"))
        );
        assert!(matches!(v[2].source, Source::Other(Origin::TarballUrl, _)));
        assert!(matches!(v[3].source, Source::Other(Origin::File, _)));
    }

    #[test]
    fn v1_errors_name_the_line() {
        let e = read("a@^1:\n  resolved \"x\"\n").unwrap_err();
        assert!(e.starts_with("line 1 (\"a@^1\"): no version"), "{e}");
        let e = read("  version \"1\"\n").unwrap_err();
        assert!(e.contains("line 1: an indented line outside"), "{e}");
        let e = read("a@^1\n").unwrap_err();
        assert!(e.contains("line 1: expected"), "{e}");
        let e = read("\"a@^1:\n").unwrap_err();
        assert!(e.contains("unterminated"), "{e}");
    }

    #[test]
    fn berry_npm_patch_workspace_and_platform() {
        let text = r#"__metadata:
  version: 8

"a@npm:^1.0.0":
  version: 1.0.0
  resolution: "a@npm:1.0.0"
  checksum: 10c0/abcd
  languageName: node
  linkType: hard

"ts@patch:ts@npm%3A5.0.0#optional!builtin<compat/typescript>":
  version: 5.0.0
  resolution: "ts@patch:ts@npm%3A5.0.0#optional!builtin<compat/typescript>::version=5.0.0&hash=1"
  languageName: node
  linkType: hard

"root@workspace:.":
  version: 0.0.0-use.local
  resolution: "root@workspace:."
  languageName: unknown
  linkType: soft

"pkg@workspace:packages/pkg":
  version: 0.0.0-use.local
  resolution: "pkg@workspace:packages/pkg"

"strip-cjs@npm:strip@^6":
  version: 6.0.1
  resolution: "strip@npm:6.0.1::__archiveUrl=https%3A%2F%2Fnpm.corp.example%2Fstrip%2F-%2Fstrip-6.0.1.tgz"
"#;
        let v = read(text).unwrap();
        assert_eq!(v.len(), 4, "the root workspace is not a package");
        assert_eq!((v[0].name.as_str(), v[0].version.as_str()), ("a", "1.0.0"));
        assert_eq!(v[0].integrity, None);
        assert_eq!(v[0].no_integrity, NoIntegrity::BerryChecksum);
        assert!(v[1].patched && v[1].name == "ts" && v[1].version == "5.0.0");
        assert!(matches!(v[1].source, Source::Registry { .. }));
        assert!(matches!(v[2].source, Source::Other(Origin::Workspace, _)));
        assert_eq!(v[3].alias.as_deref(), Some("strip-cjs"));
        assert_eq!(
            v[3].source,
            Source::Registry {
                resolved: Some("https://npm.corp.example/strip/-/strip-6.0.1.tgz".into())
            }
        );
    }

    #[test]
    fn berry_errors() {
        let e = read("__metadata:\n  version: 8\n\"a@npm:^1\":\n  checksum: x\n").unwrap_err();
        assert!(e.contains("no resolution"), "{e}");
        let e = read("__metadata:\n  version: 8\n\"a@x:1\":\n  resolution: \"a@weird:1\"\n")
            .unwrap_err();
        assert!(e.contains("unknown resolution protocol"), "{e}");
        let e = read("__metadata:\n  version: 8\na: 1\n").unwrap_err();
        assert!(e.contains("expected a mapping"), "{e}");
    }
}
