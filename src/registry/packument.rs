//! Packument wire types: a tolerant **subset** of the registry's `GET /NAME` document (full or
//! abbreviated) and of a version document (`GET /NAME/VERSION`).
//!
//! Only what verification and the publishing identity need is read; unknown fields are ignored.
//! Version entries are kept as raw JSON and parsed one at a time ([`Packument::version`]), so
//! one odd entry in a packument of hundreds of versions does not make the others unreadable.

use crate::verify::registry_signature::RegistrySignature;
use jiff::Timestamp;
use serde::de::DeserializeSeed as _;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// The largest packument accepted, in bytes (full packuments of old, busy packages run to tens
/// of MB; this cap bounds memory on a hostile response).
pub const MAX_PACKUMENT_BYTES: usize = 256 * 1024 * 1024;
/// The deepest JSON nesting accepted (real packuments nest about 8 levels; this stops
/// stack-hungry input before it is parsed).
pub const MAX_PACKUMENT_DEPTH: usize = 64;

/// The fields of a version entry a packument keeps (everything a version is read from).
pub use lean::VERSION_FIELDS;

/// A packument: its versions (raw, parsed on demand) and the `time` map (unsigned).
#[derive(Debug, Clone, PartialEq)]
pub struct Packument {
    /// `name`, when the document carries one.
    pub name: Option<String>,
    versions: BTreeMap<String, serde_json::Value>,
    time: BTreeMap<String, serde_json::Value>,
    /// Read from a `versions` object (a packument) rather than a version document.
    versions_object: bool,
}

/// Receives every entry of a packument's `versions` during the single streaming pass of
/// [`Packument::from_slice_with`].
pub trait EntrySink {
    /// The keys of an entry object to keep for the sink (besides the fields a version is read from); every
    /// other key is skipped while parsing, never built.
    fn keys(&self) -> &[&str];
    /// A `versions` object begins. A repeated `versions` key replaces the one before it (as
    /// `serde_json`'s own map keeps the last value), so a sink starts over here.
    fn begin(&mut self);
    /// `versions[version]`: an object reduced to the kept keys, any other value as it is.
    fn entry(&mut self, version: String, entry: serde_json::Value);
    /// The last `versions` key held something other than an object.
    fn not_an_object(&mut self);
}

/// Why a packument (or one of its versions) cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PackumentError(pub String);

impl Packument {
    /// Parses a full or abbreviated packument, or a single version document (which becomes a
    /// packument of one version, without `time`).
    pub fn from_slice(bytes: &[u8]) -> Result<Packument, PackumentError> {
        Self::parse(bytes, None)
    }

    /// [`Packument::from_slice`] keeping only the versions in `only` (and their `time`): the
    /// other entries are skipped while parsing, never built. What is kept reads exactly as in
    /// the whole document.
    pub fn from_slice_for(
        bytes: &[u8],
        only: &BTreeSet<String>,
    ) -> Result<Packument, PackumentError> {
        Self::parse(bytes, Some(only))
    }

    /// [`Packument::from_slice_for`] in the same single pass that hands every entry of
    /// `versions` to `sink` (reduced to the sink's keys and the fields a version is read from), so a
    /// reader of the whole history needs no second parse. Also returns the whole `time` value
    /// (the packument itself keeps only the `only` versions' times).
    pub fn from_slice_with(
        bytes: &[u8],
        only: &BTreeSet<String>,
        sink: &mut dyn EntrySink,
    ) -> Result<(Packument, Option<serde_json::Value>), PackumentError> {
        Self::parse_with(bytes, Some(only), Some(sink))
    }

    /// Whether the document listed its versions in a `versions` object (a packument), rather
    /// than being a single version document.
    pub fn has_versions_object(&self) -> bool {
        self.versions_object
    }

    /// The packument as kept, written back as a packument document (`name`, the kept entries
    /// reduced to the fields a version is read from, their `time`): parsing it again keeps
    /// exactly the same versions, times and name. `None` for a version document.
    pub fn to_json(&self) -> Option<Vec<u8>> {
        if !self.versions_object {
            return None;
        }
        let versions: serde_json::Map<String, serde_json::Value> = self
            .versions
            .iter()
            .map(|(v, entry)| {
                let entry = match entry {
                    serde_json::Value::Object(m) => serde_json::Value::Object(
                        m.iter()
                            .filter(|(k, _)| lean::VERSION_FIELDS.contains(&k.as_str()))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    ),
                    other => other.clone(),
                };
                (v.clone(), entry)
            })
            .collect();
        let mut doc = serde_json::Map::new();
        if let Some(name) = &self.name {
            doc.insert("name".into(), name.clone().into());
        }
        doc.insert("versions".into(), versions.into());
        doc.insert(
            "time".into(),
            serde_json::Value::Object(self.time.clone().into_iter().collect()),
        );
        serde_json::to_vec(&doc).ok()
    }

    /// The raw entry `versions[version]` as kept (the fields a version entry is read from).
    pub fn raw_version(&self, version: &str) -> Option<&serde_json::Value> {
        self.versions.get(version)
    }

    fn parse(bytes: &[u8], only: Option<&BTreeSet<String>>) -> Result<Packument, PackumentError> {
        Self::parse_with(bytes, only, None).map(|(p, _)| p)
    }

    fn parse_with(
        bytes: &[u8],
        only: Option<&BTreeSet<String>>,
        sink: Option<&mut dyn EntrySink>,
    ) -> Result<(Packument, Option<serde_json::Value>), PackumentError> {
        if bytes.len() > MAX_PACKUMENT_BYTES {
            return Err(PackumentError(format!(
                "{} bytes, more than the packument cap of {MAX_PACKUMENT_BYTES}",
                bytes.len()
            )));
        }
        crate::util::json::check_depth(bytes, MAX_PACKUMENT_DEPTH).map_err(PackumentError)?;
        // One streaming pass that keeps only what `PackumentVersion` reads: no tree of the
        // whole document (readmes, dependencies, scripts: most of a big packument's bytes) is
        // ever built, and nothing is cloned.
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let top = lean::TopSeed { only, sink }
            .deserialize(&mut de)
            .and_then(|t| de.end().map(|()| t))
            .map_err(|e| PackumentError(format!("not JSON: {e}")))?;
        let lean::Top::Object(mut top) = top else {
            return Err(PackumentError("not a JSON object".into()));
        };
        let name = top
            .remove("name")
            .and_then(|v| v.as_str().map(str::to_owned));
        if let Some(versions) = top.remove(lean::VERSIONS) {
            let versions = match versions {
                lean::Field::Versions(v) => v,
                _ => return Err(PackumentError("`versions` is not an object".into())),
            };
            let whole_time = top.remove("time").map(lean::Field::into_value);
            let time = match &whole_time {
                Some(serde_json::Value::Object(t)) => t
                    .iter()
                    .filter(|(k, _)| only.is_none_or(|o| o.contains(*k)))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                _ => BTreeMap::new(),
            };
            return Ok((
                Packument {
                    name,
                    versions,
                    time,
                    versions_object: true,
                },
                whole_time,
            ));
        }
        // A version document: `{name, version, dist, …}`.
        let version = top
            .get("version")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        match (version, top.contains_key("dist")) {
            (Some(version), true) => {
                let doc: serde_json::Map<String, serde_json::Value> = top
                    .into_iter()
                    .filter(|(k, _)| lean::VERSION_FIELDS.contains(&k.as_str()))
                    .map(|(k, v)| (k, v.into_value()))
                    .collect();
                Ok((
                    Packument {
                        name,
                        versions: BTreeMap::from([(version, doc.into())]),
                        time: BTreeMap::new(),
                        versions_object: false,
                    },
                    None,
                ))
            }
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

/// The streaming, field-skipping parse behind [`Packument::from_slice`].
mod lean {
    use super::EntrySink;
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde::Deserialize;
    use serde_json::Value;
    use std::collections::{BTreeMap, BTreeSet};
    use std::fmt;

    pub(super) const VERSIONS: &str = "versions";
    /// The fields of a version entry [`super::PackumentVersion`] reads: everything else is
    /// skipped while parsing.
    pub const VERSION_FIELDS: &[&str] = &["name", "version", "dist", "_npmUser"];
    /// The top-level fields kept: the packument's, and a version document's.
    const TOP_FIELDS: &[&str] = &["name", "versions", "time", "version", "dist", "_npmUser"];

    /// A kept top-level field: `versions` parsed lean (when it is an object), others whole.
    pub(super) enum Field {
        Versions(BTreeMap<String, Value>),
        Other(Value),
    }

    impl Field {
        pub(super) fn as_str(&self) -> Option<&str> {
            match self {
                Field::Other(v) => v.as_str(),
                Field::Versions(_) => None,
            }
        }
        pub(super) fn into_value(self) -> Value {
            match self {
                Field::Other(v) => v,
                // Only `versions` is ever parsed this way, and never turned back into a value.
                Field::Versions(_) => Value::Null,
            }
        }
    }

    /// The top level: an object of kept fields (last duplicate wins, as `serde_json::Value`),
    /// or anything else.
    pub(super) enum Top {
        Object(BTreeMap<String, Field>),
        NotObject,
    }

    /// Parses the top level; with `Some(only)`, the entries of `versions` not in it are
    /// skipped (unless a sink takes every entry).
    pub(super) struct TopSeed<'a, 's> {
        pub(super) only: Option<&'a BTreeSet<String>>,
        pub(super) sink: Option<&'s mut dyn EntrySink>,
    }

    impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
        type Value = Top;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Top, D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for TopSeed<'_, '_> {
        type Value = Top;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a packument")
        }
        crate::util::json::not_object!(Top::NotObject);
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
            let mut out = BTreeMap::new();
            let mut sink = self.sink;
            while let Some(key) = map.next_key::<String>()? {
                if key == VERSIONS {
                    let seed = VersionsSeed {
                        only: self.only,
                        // Reborrowed for this value only (a repeated `versions` key reborrows
                        // again).
                        sink: sink.as_mut().map(|s| &mut **s as &mut dyn EntrySink),
                    };
                    let v = match map.next_value_seed(seed)? {
                        Some(v) => Field::Versions(v),
                        None => {
                            if let Some(s) = sink.as_mut() {
                                s.not_an_object();
                            }
                            Field::Other(Value::Null)
                        }
                    };
                    out.insert(key, v);
                } else if TOP_FIELDS.contains(&key.as_str()) {
                    let v = map.next_value::<Value>()?;
                    out.insert(key, Field::Other(v));
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(Top::Object(out))
        }
    }

    /// `versions`: `Some(map)` for an object (each entry lean), `None` for anything else.
    struct VersionsSeed<'a, 's> {
        only: Option<&'a BTreeSet<String>>,
        sink: Option<&'s mut dyn EntrySink>,
    }
    impl<'de> DeserializeSeed<'de> for VersionsSeed<'_, '_> {
        type Value = Option<BTreeMap<String, Value>>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for VersionsSeed<'_, '_> {
        type Value = Option<BTreeMap<String, Value>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the versions of a packument")
        }
        crate::util::json::not_object!(None);
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            let Some(sink) = self.sink else {
                while let Some(key) = map.next_key::<String>()? {
                    if self.only.is_some_and(|only| !only.contains(&key)) {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    let v = map.next_value_seed(EntrySeed { extra: &[] })?;
                    out.insert(key, v);
                }
                return Ok(Some(out));
            };
            sink.begin();
            while let Some(key) = map.next_key::<String>()? {
                let v = map.next_value_seed(EntrySeed { extra: sink.keys() })?;
                if self.only.is_none_or(|only| only.contains(&key)) {
                    out.insert(key.clone(), v.clone());
                }
                sink.entry(key, v);
            }
            Ok(Some(out))
        }
    }

    /// One version entry: an object keeps only [`VERSION_FIELDS`] and the `extra` keys; any
    /// other value is kept as is (reading it as a version then fails, for that version only).
    struct EntrySeed<'k> {
        extra: &'k [&'k str],
    }
    impl<'de> DeserializeSeed<'de> for EntrySeed<'_> {
        type Value = Value;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for EntrySeed<'_> {
        type Value = Value;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a version entry")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(v.into())
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(v.into())
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(v.into())
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(v.into())
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
            Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut out = serde_json::Map::new();
            while let Some(key) = map.next_key::<String>()? {
                if VERSION_FIELDS.contains(&key.as_str()) || self.extra.contains(&key.as_str()) {
                    let v = map.next_value::<Value>()?;
                    out.insert(key, v);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(Value::Object(out))
        }
    }
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

    #[test]
    fn lean_parse_keeps_what_versions_read_and_nothing_else() {
        let readme = "r".repeat(100_000);
        let doc = format!(
            r#"{{"name":"x","readme":"{readme}","versions":{{
                "1.0.0":{{"name":"x","version":"1.0.0","readme":"{readme}","scripts":{{"a":"b"}},
                          "dist":{{"integrity":"sha512-AA==","signatures":[{{"keyid":"k","sig":"s"}}]}},
                          "_npmUser":{{"name":"n","email":"e"}}}},
                "2.0.0":[1,{{"a":2}}], "3.0.0":null, "4.0.0":"odd", "5.0.0":1.5}},
              "time":{{"1.0.0":"2025-01-01T00:00:00Z"}},"users":{{"a":true}}}}"#
        );
        let p = Packument::from_slice(doc.as_bytes()).unwrap();
        assert_eq!(p.name.as_deref(), Some("x"));
        let v = p.version("1.0.0").unwrap().unwrap();
        assert_eq!(v.dist.integrity.as_deref(), Some("sha512-AA=="));
        assert_eq!(v.dist.signatures.len(), 1);
        assert_eq!(v.npm_user.unwrap().name.as_deref(), Some("n"));
        // Only the read fields are held.
        let held = serde_json::to_string(&p.versions["1.0.0"]).unwrap();
        assert!(
            !held.contains("readme") && !held.contains("scripts"),
            "{held}"
        );
        // Odd entries fail alone, when read.
        for odd in ["2.0.0", "3.0.0", "4.0.0", "5.0.0"] {
            assert!(p.version(odd).unwrap().is_err(), "{odd}");
        }
        assert_eq!(p.version_names().count(), 5);
        assert!(p.time_of("1.0.0").is_some());
        // Duplicate keys: the last wins, as with a full parse.
        let dup = Packument::from_slice(
            br#"{"versions":{"1.0.0":{"dist":{"integrity":"a"},"dist":{"integrity":"b"}}}}"#,
        )
        .unwrap();
        let d = dup.version("1.0.0").unwrap().unwrap();
        assert_eq!(d.dist.integrity.as_deref(), Some("b"));
        // Not JSON, trailing bytes, or the wrong top-level shape are refused.
        for bad in [&b"{"[..], b"{} x", b"\"x\"", b"{\"versions\":1}"] {
            assert!(Packument::from_slice(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Packument::from_slice(br#"{"versions":"x"}"#).unwrap_err().0,
            "`versions` is not an object"
        );
    }

    #[test]
    fn written_back_it_reads_the_same() {
        struct Keep;
        impl EntrySink for Keep {
            fn keys(&self) -> &[&str] {
                &["scripts", "readme"]
            }
            fn begin(&mut self) {}
            fn entry(&mut self, _: String, _: serde_json::Value) {}
            fn not_an_object(&mut self) {}
        }
        let docs = [
            r#"{"name":"x","readme":"r","versions":{
                "1.0.0":{"name":"x","version":"1.0.0","readme":"r","scripts":{"a":"b"},
                         "dist":{"integrity":"sha512-AA==","n":1.5e300,"big":18446744073709551615,
                                 "signatures":[{"keyid":"k","sig":"s"}]},
                         "_npmUser":{"name":"n","email":"e\u2028"}},
                "2.0.0":[1,{"a":2}], "3.0.0":null, "4.0.0":"odd", "5.0.0":-1.5},
              "time":{"1.0.0":"2025-01-01T00:00:00Z","2.0.0":7,"9.0.0":"x"}}"#,
            r#"{"name":5,"versions":{"1.0.0":{}},"time":"not a map"}"#,
            r#"{"versions":{}}"#,
        ];
        let every: BTreeSet<String> = ["1.0.0", "2.0.0", "3.0.0", "4.0.0", "5.0.0", "6.0.0"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let some: BTreeSet<String> = ["1.0.0", "3.0.0"].iter().map(|s| s.to_string()).collect();
        for doc in docs {
            for only in [&every, &some] {
                let kept = Packument::from_slice_for(doc.as_bytes(), only).unwrap();
                let (with_sink, _) =
                    Packument::from_slice_with(doc.as_bytes(), only, &mut Keep).unwrap();
                for p in [&kept, &with_sink] {
                    let again = Packument::from_slice_for(&p.to_json().unwrap(), only).unwrap();
                    assert_eq!(again, kept, "{doc}");
                }
            }
        }
        let version_doc = Packument::from_slice(br#"{"version":"1.0.0","dist":{}}"#).unwrap();
        assert!(version_doc.to_json().is_none());
    }
}
