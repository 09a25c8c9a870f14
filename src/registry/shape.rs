//! The minimal shape each kind of registry response must have before the client hands it on
//! or caches it. The verifiers parse properly; this keeps garbage and wrong-shaped JSON (and
//! so a poisoned cache) out.

use super::client::ResourceKind;

/// The minimal shape a body of each kind must have before it is handed on or cached. The
/// verifiers parse it properly; this only keeps garbage and wrong-shaped JSON out of the cache.
pub(crate) fn check_shape(kind: ResourceKind, body: &[u8]) -> Result<(), ()> {
    use serde::de::IgnoredAny;
    use serde::Deserialize;
    #[derive(Deserialize)]
    struct Packument {
        #[allow(dead_code)]
        versions: std::collections::BTreeMap<String, IgnoredAny>,
    }
    #[derive(Deserialize)]
    struct Attestations {
        #[allow(dead_code)]
        attestations: Vec<Attestation>,
    }
    #[derive(Deserialize)]
    struct Attestation {
        #[allow(dead_code)]
        #[serde(rename = "predicateType")]
        predicate_type: String,
        #[allow(dead_code)]
        bundle: serde_json::Map<String, serde_json::Value>,
    }
    #[derive(Deserialize)]
    struct Keys {
        #[allow(dead_code)]
        keys: Vec<Key>,
    }
    #[derive(Deserialize)]
    struct Key {
        #[allow(dead_code)]
        keyid: String,
        #[allow(dead_code)]
        key: String,
    }
    let ok = match kind {
        ResourceKind::Packument => serde_json::from_slice::<Packument>(body).is_ok(),
        ResourceKind::Attestations => serde_json::from_slice::<Attestations>(body).is_ok(),
        ResourceKind::Keys => serde_json::from_slice::<Keys>(body).is_ok(),
        // gzip magic: a tarball is a .tgz; its integrity is checked by the caller.
        ResourceKind::Tarball => body.starts_with(&[0x1f, 0x8b]),
    };
    if ok {
        Ok(())
    } else {
        Err(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(check_shape(ResourceKind::Packument, br#"{"name":"a","versions":{}}"#).is_ok());
        assert!(check_shape(ResourceKind::Packument, br#"{"name":"a"}"#).is_err());
        assert!(check_shape(
            ResourceKind::Attestations,
            br#"{"attestations":[{"predicateType":"p","bundle":{}}]}"#
        )
        .is_ok());
        assert!(check_shape(ResourceKind::Attestations, br#"{"attestations":{}}"#).is_err());
        assert!(check_shape(ResourceKind::Keys, br#"{"keys":[{"keyid":"k","key":"x"}]}"#).is_ok());
        assert!(check_shape(ResourceKind::Keys, b"\x00garbage").is_err());
        assert!(check_shape(ResourceKind::Tarball, b"\x1f\x8b\x08rest").is_ok());
        assert!(check_shape(ResourceKind::Tarball, b"<html>").is_err());
    }
}
