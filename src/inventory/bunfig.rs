//! Registry configuration from bun's `bunfig.toml`: `[install] registry` and
//! `[install.scopes]`, each a URL string or a table with `url` (plus credentials, which are
//! not read). Laid over the registries configured from `.npmrc`: what `bunfig.toml` says wins.
//! Credentials embedded in a URL (`https://user:pass@host/`) are dropped from the URL kept.

use std::path::Path;

use toml_edit::{DocumentMut, Item};

use super::model::RegistryMap;
use super::InventoryError;

/// Largest `bunfig.toml` read.
pub const MAX_BUNFIG_BYTES: u64 = 1024 * 1024;

/// `base` with the registries `dir/bunfig.toml` configures, or `base` unchanged without one.
pub fn registries(dir: &Path, base: &RegistryMap) -> Result<RegistryMap, InventoryError> {
    super::overlay_config(&dir.join("bunfig.toml"), MAX_BUNFIG_BYTES, base, apply)
}

fn apply(text: &str, base: &RegistryMap) -> Result<RegistryMap, String> {
    let doc: DocumentMut = text.parse().map_err(|e| format!("invalid TOML: {e}"))?;
    let mut default = base.default.clone();
    let mut scopes = base.scopes.clone();
    let Some(install) = doc.get("install") else {
        return Ok(base.clone());
    };
    let install = install.as_table_like().ok_or("install: expected a table")?;
    if let Some(v) = install.get("registry") {
        default = url_of(v, "install.registry")?;
    }
    if let Some(v) = install.get("scopes") {
        let table = v
            .as_table_like()
            .ok_or("install.scopes: expected a table")?;
        for (scope, v) in table.iter() {
            let scope = scope.trim_start_matches('@');
            let url = url_of(v, &format!("install.scopes.{scope}"))?;
            scopes.insert(format!("@{scope}"), url);
        }
    }
    Ok(RegistryMap::new(&default, scopes))
}

/// The URL of a registry value (a string, or a table's `url`), without credentials.
fn url_of(v: &Item, at: &str) -> Result<String, String> {
    let text = if let Some(s) = v.as_str() {
        s
    } else if let Some(t) = v.as_table_like() {
        t.get("url")
            .and_then(Item::as_str)
            .ok_or_else(|| format!("{at}: a table without a `url` string"))?
    } else {
        return Err(format!("{at}: expected a URL string or a table with `url`"));
    };
    super::config_registry_url(text, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_scopes_without_credentials() {
        let text = r#"
[install]
registry = { url = "https://npm.mirror.example/", token = "t" }

[install.scopes]
corp = "https://user:secret@corp.example/npm/"
"@other" = { url = "https://other.example/", username = "u", password = "$P" }
"#;
        let map = apply(text, &RegistryMap::public()).unwrap();
        assert_eq!(map.registry_for("a"), "https://npm.mirror.example/");
        assert_eq!(map.registry_for("@corp/a"), "https://corp.example/npm/");
        assert_eq!(map.registry_for("@other/a"), "https://other.example/");
        let none = apply("[run]\nshell = \"bun\"\n", &RegistryMap::public()).unwrap();
        assert_eq!(none, RegistryMap::public());
    }

    #[test]
    fn errors_name_the_setting() {
        let base = RegistryMap::public();
        let e = apply("[install]\nregistry = \"$REG\"\n", &base).unwrap_err();
        assert!(e.contains("install.registry: environment"), "{e}");
        let e = apply("[install.scopes]\nx = 1\n", &base).unwrap_err();
        assert!(e.contains("install.scopes.x"), "{e}");
        let e = apply("[install]\nregistry = \"ftp://x/\"\n", &base).unwrap_err();
        assert!(e.contains("not an http(s) URL"), "{e}");
        assert!(apply("[install", &base)
            .unwrap_err()
            .contains("invalid TOML"));
    }
}
