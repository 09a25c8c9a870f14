//! Packument wire types: a tolerant **subset** of the registry's `GET /NAME` document (full or
//! abbreviated) and of a version document (`GET /NAME/VERSION`).
//!
//! Only what verification and the publishing identity need is read; unknown fields are ignored.
//! Version entries are kept as raw JSON and parsed one at a time ([`Packument::version`]), so
//! one odd entry in a packument of hundreds of versions does not make the others unreadable.

use crate::verify::registry_signature::RegistrySignature;
use jiff::Timestamp;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The largest packument accepted, in bytes (full packuments of old, busy packages run to tens
/// of MB; this cap bounds memory on a hostile response).
pub const MAX_PACKUMENT_BYTES: usize = 256 * 1024 * 1024;
/// The deepest JSON nesting accepted (real packuments nest about 8 levels; this stops
/// stack-hungry input before it is parsed).
pub const MAX_PACKUMENT_DEPTH: usize = 64;

/// A packument: its versions (raw, parsed on demand) and the `time` map (unsigned).
#[derive(Debug, Clone)]
pub struct Packument {
    /// `name`, when the document carries one.
    pub name: Option<String>,
    versions: BTreeMap<String, serde_json::Value>,
    time: BTreeMap<String, serde_json::Value>,
}

/// Why a packument (or one of its versions) cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PackumentError(pub String);

impl Packument {
    /// Parses a full or abbreviated packument, or a single version document (which becomes a
    /// packument of one version, without `time`).
    pub fn from_slice(bytes: &[u8]) -> Result<Packument, PackumentError> {
        if bytes.len() > MAX_PACKUMENT_BYTES {
            return Err(PackumentError(format!(
                "{} bytes, more than the packument cap of {MAX_PACKUMENT_BYTES}",
                bytes.len()
            )));
        }
        crate::util::json::check_depth(bytes, MAX_PACKUMENT_DEPTH).map_err(PackumentError)?;
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| PackumentError(format!("not JSON: {e}")))?;
        let obj = value
            .as_object()
            .ok_or_else(|| PackumentError("not a JSON object".into()))?;
        let name = obj.get("name").and_then(|v| v.as_str()).map(str::to_owned);
        if let Some(versions) = obj.get("versions") {
            let versions = versions
                .as_object()
                .ok_or_else(|| PackumentError("`versions` is not an object".into()))?
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let time = match obj.get("time") {
                Some(serde_json::Value::Object(t)) => {
                    t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
                }
                _ => BTreeMap::new(),
            };
            return Ok(Packument {
                name,
                versions,
                time,
            });
        }
        // A version document: `{name, version, dist, …}`.
        match (obj.get("version").and_then(|v| v.as_str()), obj.get("dist")) {
            (Some(version), Some(_)) => Ok(Packument {
                name,
                versions: BTreeMap::from([(version.to_owned(), value.clone())]),
                time: BTreeMap::new(),
            }),
            _ => Err(PackumentError(
                "neither a packument (`versions`) nor a version document (`version`, `dist`)"
                    .into(),
            )),
        }
    }

    /// The version entry, parsed: `None` when the packument does not list the version.
    pub fn version(&self, version: &str) -> Option<Result<PackumentVersion, PackumentError>> {
        let raw = self.versions.get(version)?;
        Some(
            PackumentVersion::deserialize(raw)
                .map_err(|e| PackumentError(format!("versions[{version:?}]: {e}"))),
        )
    }

    /// Every version the document lists, in string order.
    pub fn version_names(&self) -> impl Iterator<Item = &str> {
        self.versions.keys().map(String::as_str)
    }

    /// `time[version]` (unsigned: registries and mirrors rewrite it), when present and RFC 3339.
    pub fn time_of(&self, version: &str) -> Option<Timestamp> {
        self.time.get(version)?.as_str()?.parse().ok()
    }
}

/// One `versions[V]` entry (subset).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PackumentVersion {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub dist: Dist,
    /// Who published: absent in abbreviated documents and on stripping mirrors.
    #[serde(default, rename = "_npmUser", deserialize_with = "lenient")]
    pub npm_user: Option<NpmUser>,
}

/// `dist` (subset).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Dist {
    #[serde(default)]
    pub integrity: Option<String>,
    #[serde(default)]
    pub shasum: Option<String>,
    #[serde(default)]
    pub tarball: Option<String>,
    /// Registry signatures over `NAME@VERSION:INTEGRITY`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub signatures: Vec<RegistrySignature>,
    /// The attestations announcement.
    #[serde(default)]
    pub attestations: Option<DistAttestations>,
}

/// `dist.attestations` (subset): where the attestations are, and the provenance type announced.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DistAttestations {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub provenance: Option<AnnouncedProvenance>,
}

/// `dist.attestations.provenance`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AnnouncedProvenance {
    #[serde(default, rename = "predicateType")]
    pub predicate_type: Option<String>,
}

/// `_npmUser`: token publish `{name, email}`; trusted publishing adds `trustedPublisher`;
/// a staged publish adds `approver`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct NpmUser {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, rename = "trustedPublisher", deserialize_with = "lenient")]
    pub trusted_publisher: Option<TrustedPublisher>,
    #[serde(default, deserialize_with = "lenient")]
    pub approver: Option<Approver>,
}

/// `_npmUser.trustedPublisher`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TrustedPublisher {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, rename = "oidcConfigId")]
    pub oidc_config_id: Option<String>,
}

/// `_npmUser.approver` (staged publishes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Approver {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// Descriptive, unsigned fields: a value of an unexpected shape reads as absent rather than
/// making the whole version unreadable.
fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let v = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(v).ok())
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_packument_versions_and_time() {
        let p = Packument::from_slice(
            br#"{"name":"x","versions":{"1.0.0":{"name":"x","version":"1.0.0",
            "dist":{"integrity":"sha512-AA==","signatures":[{"keyid":"k","sig":"s"}],
            "attestations":{"url":"u","provenance":{"predicateType":"p"}}},
            "_npmUser":{"name":"n","email":"e","trustedPublisher":{"id":"github"},
            "approver":{"name":"a"}}},
            "2.0.0":{"dist":{"signatures":null}}},
            "time":{"1.0.0":"2025-09-12T21:47:34.462Z","2.0.0":"garbage"}}"#,
        )
        .unwrap();
        let v = p.version("1.0.0").unwrap().unwrap();
        assert_eq!(v.dist.signatures.len(), 1);
        assert_eq!(
            v.dist
                .attestations
                .as_ref()
                .and_then(|a| a.provenance.as_ref())
                .and_then(|p| p.predicate_type.as_deref()),
            Some("p")
        );
        let u = v.npm_user.unwrap();
        assert_eq!(u.trusted_publisher.unwrap().id.as_deref(), Some("github"));
        assert_eq!(u.approver.unwrap().name.as_deref(), Some("a"));
        assert!(p
            .version("2.0.0")
            .unwrap()
            .unwrap()
            .dist
            .signatures
            .is_empty());
        assert!(p.version("3.0.0").is_none());
        assert_eq!(
            p.time_of("1.0.0").unwrap().to_string(),
            "2025-09-12T21:47:34.462Z"
        );
        assert_eq!(p.time_of("2.0.0"), None);
    }

    #[test]
    fn version_document_and_odd_shapes() {
        let p =
            Packument::from_slice(br#"{"name":"x","version":"1.0.0","dist":{},"_npmUser":"bob"}"#)
                .unwrap();
        let v = p.version("1.0.0").unwrap().unwrap();
        assert_eq!(v.npm_user, None, "a string _npmUser reads as absent");
        assert!(Packument::from_slice(b"[]").is_err());
        assert!(Packument::from_slice(b"{\"name\":\"x\"}").is_err());
        assert!(Packument::from_slice(b"{\"versions\":[]}").is_err());
        let deep = format!("{{\"versions\":{}{}}}", "[".repeat(100), "]".repeat(100));
        assert!(Packument::from_slice(deep.as_bytes())
            .unwrap_err()
            .0
            .contains("cap"));
        let bad = Packument::from_slice(br#"{"versions":{"1.0.0":{"dist":{"signatures":"x"}}}}"#)
            .unwrap();
        assert!(bad.version("1.0.0").unwrap().is_err());
    }
}
