//! What `trust-roots show` says about the embedded TUF root: its version and expiry. This only
//! reads the `signed` part for display; checking TUF signatures is `trust-roots update`'s job.
//!
//! `trust-roots/tuf-root.json` as extracted holds the root as `@sigstore/tuf`'s `seeds.json`
//! does: a JSON string with the base64 of the root document. Both that and a plain root
//! document are accepted.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The displayable summary of a TUF root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TufRootInfo {
    pub version: u64,
    pub expires: Timestamp,
    pub spec_version: Option<String>,
}

/// A TUF root that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TufRootError(pub String);

impl TufRootInfo {
    /// The embedded TUF root.
    pub fn embedded() -> Result<TufRootInfo, TufRootError> {
        Self::from_json(super::TUF_ROOT.as_bytes())
    }

    /// Reads a root document, or a JSON string holding its base64 (the `seeds.json` form).
    pub fn from_json(bytes: &[u8]) -> Result<TufRootInfo, TufRootError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| TufRootError(format!("not JSON: {e}")))?;
        let doc = match value {
            serde_json::Value::String(b64) => {
                let raw = STANDARD
                    .decode(b64.trim())
                    .map_err(|e| TufRootError(format!("root string is not base64: {e}")))?;
                serde_json::from_slice(&raw)
                    .map_err(|e| TufRootError(format!("decoded root is not JSON: {e}")))?
            }
            other => other,
        };
        let root: Root = serde_json::from_value(doc)
            .map_err(|e| TufRootError(format!("not a TUF root: {e}")))?;
        if root.signed.type_ != "root" {
            return Err(TufRootError(format!(
                "_type is {:?}, not \"root\"",
                crate::util::escape_text(&root.signed.type_)
            )));
        }
        let expires = root.signed.expires.parse::<Timestamp>().map_err(|e| {
            TufRootError(format!(
                "expires {:?} is not an RFC 3339 time: {e}",
                crate::util::escape_text(&root.signed.expires)
            ))
        })?;
        Ok(TufRootInfo {
            version: root.signed.version,
            expires,
            spec_version: root.signed.spec_version,
        })
    }
}

#[derive(Deserialize)]
struct Root {
    signed: Signed,
}

#[derive(Deserialize)]
struct Signed {
    #[serde(rename = "_type")]
    type_: String,
    version: u64,
    expires: String,
    spec_version: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_root_is_version_16() {
        let info = TufRootInfo::embedded().unwrap();
        assert_eq!(info.version, 16);
        assert_eq!(info.expires, "2027-04-22T19:27:31Z".parse().unwrap());
    }

    #[test]
    fn plain_and_wrapped_forms_agree_and_bad_input_errors() {
        let raw = br#"{"signed":{"_type":"root","version":3,"expires":"2030-01-01T00:00:00Z","spec_version":"1.0"},"signatures":[]}"#;
        let plain = TufRootInfo::from_json(raw).unwrap();
        let wrapped = format!("\"{}\"", STANDARD.encode(raw));
        assert_eq!(TufRootInfo::from_json(wrapped.as_bytes()).unwrap(), plain);
        assert_eq!(plain.version, 3);
        let targets =
            br#"{"signed":{"_type":"targets","version":3,"expires":"2030-01-01T00:00:00Z"}}"#;
        assert!(TufRootInfo::from_json(targets)
            .unwrap_err()
            .0
            .contains("not \"root\""));
        assert!(TufRootInfo::from_json(b"\"%%\"").is_err());
        assert!(TufRootInfo::from_json(b"{}").is_err());
    }
}
