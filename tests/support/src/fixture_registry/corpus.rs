//! The corpus's real data served by the fixture registry: attestation sets with their exact
//! tarballs, packuments minted for them, the npm keys, and the real nuxt packument.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha512};

use super::FixtureRegistry;

/// A real attestation set of the corpus with its exact tarball (MANIFEST §2.1).
#[derive(Debug, Clone, Copy)]
pub struct CorpusPackage {
    pub name: &'static str,
    pub version: &'static str,
    /// The attestations response, relative to the corpus.
    pub attestations: &'static str,
    /// The tarball, relative to the corpus.
    pub tarball: &'static str,
}

/// Real attestation sets whose tarball is in the corpus.
pub const CORPUS_PACKAGES: &[CorpusPackage] = &[
    CorpusPackage {
        name: "sigstore",
        version: "0.4.0",
        attestations: "pacote/sigstore-fixtures/valid-attestations.json",
        tarball: "npm-registry-tarballs/sigstore-0.4.0.tgz",
    },
    CorpusPackage {
        name: "sigstore",
        version: "1.0.0",
        attestations: "npm-cli/audit-signatures-fixtures/valid-sigstore-attestations.json",
        tarball: "npm-registry-tarballs/sigstore-1.0.0.tgz",
    },
    CorpusPackage {
        name: "tuf-js",
        version: "1.0.0",
        attestations: "npm-cli/audit-signatures-fixtures/valid-tuf-js-attestations.json",
        tarball: "npm-registry-tarballs/tuf-js-1.0.0.tgz",
    },
    CorpusPackage {
        name: "@sigstore/protobuf-specs",
        version: "0.2.1",
        attestations: "pkgxray/attestation-sigstore-protobuf-0.2.1.json",
        tarball: "npm-registry-tarballs/sigstore_protobuf-specs-0.2.1.tgz",
    },
    CorpusPackage {
        name: "@actions/core",
        version: "1.11.1",
        attestations: "pkgxray/attestation-actions-core-1.11.1.json",
        tarball: "npm-registry-tarballs/actions_core-1.11.1.tgz",
    },
    CorpusPackage {
        name: "sigstore",
        version: "3.0.0",
        attestations: "pkg-registry/sigstore-3.0.0.attestations.json",
        tarball: "pkg-registry/sigstore-3.0.0.tgz",
    },
];

/// `sha512-<base64>` of `bytes`.
pub fn sri_sha512(bytes: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha512::digest(bytes))
    )
}

/// Serves the corpus's real data: for each [`CORPUS_PACKAGES`] entry its attestation set and
/// tarball, and a packument (full and abbreviated) naming its versions with the tarball's
/// integrity and a tarball URL on this server; the npm keys (`/-/npm/v1/keys` shape); and the
/// real nuxt packument and attestation sets. Packuments carry no registry signatures (those are
/// minted by the test PKI). Returns the packages loaded.
pub fn load_corpus(reg: &FixtureRegistry, corpus: &Path) -> std::io::Result<Vec<CorpusPackage>> {
    let mut by_name: BTreeMap<&str, serde_json::Map<String, serde_json::Value>> = BTreeMap::new();
    for p in CORPUS_PACKAGES {
        let att = std::fs::read(corpus.join(p.attestations))?;
        let tgz = std::fs::read(corpus.join(p.tarball))?;
        let path = FixtureRegistry::tarball_path(p.name, p.version);
        let integrity = sri_sha512(&tgz);
        reg.add_attestations(p.name, p.version, att);
        reg.add_tarball(&path, tgz);
        let tarball_url = format!("{}{}", reg.url().trim_end_matches('/'), path);
        by_name.entry(p.name).or_default().insert(
            p.version.to_string(),
            serde_json::json!({
                "name": p.name,
                "version": p.version,
                "dist": {
                    "integrity": integrity,
                    "tarball": tarball_url,
                    "attestations": {
                        "url": reg.attestations_url(p.name, p.version),
                        "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}
                    }
                }
            }),
        );
    }
    for (name, versions) in by_name {
        let full = serde_json::json!({"name": name, "versions": versions});
        let abbr = abbreviate(&full);
        reg.add_packument(
            name,
            serde_json::to_vec(&full).map_err(std::io::Error::other)?,
            Some(serde_json::to_vec(&abbr).map_err(std::io::Error::other)?),
        );
    }
    reg.add_keys(std::fs::read(
        corpus.join("derived/npm-v1-keys.from-corepack.json"),
    )?);
    let nuxt = std::fs::read(corpus.join("provenance-action/npm-registry__metadata__nuxt.json"))?;
    let nuxt_abbr = serde_json::from_slice::<serde_json::Value>(&nuxt)
        .ok()
        .map(|v| abbreviate(&v))
        .and_then(|v| serde_json::to_vec(&v).ok());
    reg.add_packument("nuxt", nuxt, nuxt_abbr);
    for v in ["3.13.0", "4.1.2"] {
        let att = std::fs::read(corpus.join(format!(
            "provenance-action/npm-registry__attestations__npm-v1__nuxt@{v}.json"
        )))?;
        reg.add_attestations("nuxt", v, att);
    }
    Ok(CORPUS_PACKAGES.to_vec())
}

/// The abbreviated ("corgi") form of a full packument: the top-level and per-version fields
/// the registry keeps for installers (no `time`, `_npmUser`, `maintainers`, `readme`, scripts).
pub fn abbreviate(full: &serde_json::Value) -> serde_json::Value {
    const TOP: &[&str] = &["name", "dist-tags", "modified"];
    const VERSION: &[&str] = &[
        "name",
        "version",
        "deprecated",
        "dependencies",
        "optionalDependencies",
        "devDependencies",
        "bundleDependencies",
        "peerDependencies",
        "peerDependenciesMeta",
        "bin",
        "directories",
        "dist",
        "engines",
        "cpu",
        "os",
        "_hasShrinkwrap",
        "hasInstallScript",
        "funding",
    ];
    let mut out = serde_json::Map::new();
    if let Some(obj) = full.as_object() {
        for k in TOP {
            if let Some(v) = obj.get(*k) {
                out.insert((*k).into(), v.clone());
            }
        }
        let mut versions = serde_json::Map::new();
        if let Some(vs) = obj.get("versions").and_then(|v| v.as_object()) {
            for (ver, doc) in vs {
                let mut d = serde_json::Map::new();
                if let Some(o) = doc.as_object() {
                    for k in VERSION {
                        if let Some(v) = o.get(*k) {
                            d.insert((*k).into(), v.clone());
                        }
                    }
                    let has_install =
                        o.get("scripts")
                            .and_then(|s| s.as_object())
                            .is_some_and(|s| {
                                ["preinstall", "install", "postinstall"]
                                    .iter()
                                    .any(|k| s.contains_key(*k))
                            });
                    if has_install {
                        d.insert("hasInstallScript".into(), true.into());
                    }
                }
                versions.insert(ver.clone(), d.into());
            }
        }
        out.insert("versions".into(), versions.into());
    }
    out.into()
}
