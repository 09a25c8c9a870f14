//! Registry configuration from yarn berry's `.yarnrc.yml`: `npmRegistryServer` and
//! `npmScopes.<scope>.npmRegistryServer`, laid over the registries configured from `.npmrc`
//! (berry does not read `.npmrc`, so what `.yarnrc.yml` says wins). `npmAuthToken` is a
//! credential: it is recognised and never read into memory beyond the parse.

use std::path::Path;

use super::model::RegistryMap;
use super::yaml::{self, Node};
use super::InventoryError;

/// Largest `.yarnrc.yml` read.
pub const MAX_YARNRC_BYTES: u64 = 1024 * 1024;

/// `base` with the registries `dir/.yarnrc.yml` configures, or `base` unchanged without one.
pub fn registries(dir: &Path, base: &RegistryMap) -> Result<RegistryMap, InventoryError> {
    super::overlay_config(&dir.join(".yarnrc.yml"), MAX_YARNRC_BYTES, base, apply)
}

fn apply(text: &str, base: &RegistryMap) -> Result<RegistryMap, String> {
    let doc = yaml::parse(text)?;
    if !matches!(doc, Node::Map(_)) {
        return Err(format!(
            "expected a mapping at the top, found {}",
            doc.kind()
        ));
    }
    let mut default = base.default.clone();
    let mut scopes = base.scopes.clone();
    if let Some(url) = doc.str_at("npmRegistryServer") {
        default = url_of(url, "npmRegistryServer")?;
    }
    match doc.get("npmScopes") {
        None => {}
        Some(Node::Map(entries)) => {
            for e in entries {
                let scope = e.key.trim_start_matches('@');
                if let Some(url) = e.value.str_at("npmRegistryServer") {
                    let at = format!("npmScopes.{scope}.npmRegistryServer");
                    scopes.insert(format!("@{scope}"), url_of(url, &at)?);
                }
            }
        }
        Some(other) => {
            return Err(format!(
                "npmScopes: expected a mapping, found {}",
                other.kind()
            ))
        }
    }
    Ok(RegistryMap::new(&default, scopes))
}

/// A registry URL as written, credentials dropped; `${ENV}` interpolation is not done, so it is
/// refused.
fn url_of(url: &str, at: &str) -> Result<String, String> {
    super::config_registry_url(url, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_scopes_over_npmrc() {
        let base = RegistryMap::new(
            "https://registry.npmjs.org",
            [("@old".to_string(), "https://old.example/".to_string())],
        );
        let text = "npmRegistryServer: \"https://npm.corp.example\"\nnpmScopes:\n  corp:\n    npmRegistryServer: https://corp.example/npm/\n    npmAuthToken: secret\n";
        let map = apply(text, &base).unwrap();
        assert_eq!(map.registry_for("a"), "https://npm.corp.example/");
        assert_eq!(map.registry_for("@corp/a"), "https://corp.example/npm/");
        assert_eq!(map.registry_for("@old/a"), "https://old.example/");
        assert_eq!(apply("nodeLinker: pnp\n", &base).unwrap(), base);
    }

    #[test]
    fn refuses_interpolation_and_non_urls() {
        let base = RegistryMap::public();
        let e = apply("npmRegistryServer: \"${REG}\"\n", &base).unwrap_err();
        assert!(e.contains("interpolation"), "{e}");
        let e = apply("npmScopes:\n  x:\n    npmRegistryServer: ftp://x\n", &base).unwrap_err();
        assert!(e.contains("npmScopes.x.npmRegistryServer"), "{e}");
        assert!(apply("npmScopes: 1\n", &base)
            .unwrap_err()
            .contains("npmScopes"));
    }

    #[test]
    fn credentials_in_a_registry_url_are_dropped() {
        let m = apply(
            "npmRegistryServer: \"https://u:hunter2@npm.corp.example/\"\nnpmScopes:\n  c:\n    npmRegistryServer: https://tok@c.example/npm/\n",
            &RegistryMap::public(),
        )
        .unwrap();
        let all = format!("{m:?}");
        assert!(!all.contains("hunter2") && !all.contains("tok@"), "{all}");
        assert!(all.contains("https://npm.corp.example/"), "{all}");
        assert!(all.contains("https://c.example/npm/"), "{all}");
    }
}
