//! npm-side material: the registry key (keyid over the OpenSSH wire encoding), a TUF-style
//! `keys.json`, registry signatures over `name@version:integrity`, and the in-toto statements
//! npm attestations carry.

use base64::Engine;
use p256::ecdsa::SigningKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha512};

use crate::pki::Identity;
use crate::seed::{self, b64};

/// The npm publish attestation predicate type.
pub const PUBLISH_PREDICATE: &str =
    "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";
/// SLSA provenance v1 predicate type.
pub const SLSA_V1_PREDICATE: &str = "https://slsa.dev/provenance/v1";
/// The GitHub Actions workflow build type of SLSA v1 provenance.
pub const GHA_BUILD_TYPE: &str =
    "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1";
/// Registry URL written into publish predicates.
pub const REGISTRY: &str = "https://registry.npmjs.org";

/// npm keyid: `SHA256:` + unpadded base64 of SHA-256 over the key's OpenSSH wire encoding.
pub fn keyid(key: &SigningKey) -> String {
    keyid_of(key.verifying_key())
}

/// npm keyid of a public key (see [`keyid`]).
pub fn keyid_of(key: &p256::ecdsa::VerifyingKey) -> String {
    let point = key.to_encoded_point(false);
    let mut wire = Vec::new();
    for part in [
        b"ecdsa-sha2-nistp256".as_slice(),
        b"nistp256".as_slice(),
        point.as_bytes(),
    ] {
        wire.extend_from_slice(&(part.len() as u32).to_be_bytes());
        wire.extend_from_slice(part);
    }
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(seed::sha256(&wire))
    )
}

/// Validity window of a key in `keys.json` (Unix seconds; `end` `None` = open).
#[derive(Clone, Copy, Debug)]
pub struct KeyWindow {
    /// Start.
    pub start: i64,
    /// End, if any.
    pub end: Option<i64>,
}

/// A `keys.json` (Sigstore TUF target format) holding `key` for both `npm:signatures` and
/// `npm:attestations` over `window`.
pub fn keys_json(key: &SigningKey, window: KeyWindow) -> Value {
    let mut valid_for = json!({"start": seed::rfc3339(window.start)});
    if let Some(end) = window.end {
        valid_for["end"] = json!(seed::rfc3339(end));
    }
    let entry = |usage: &str| {
        json!({
            "keyId": keyid(key),
            "keyUsage": usage,
            "publicKey": {
                "rawBytes": b64(&seed::spki_der(key)),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": valid_for,
            }
        })
    };
    json!({"keys": [entry("npm:signatures"), entry("npm:attestations")]})
}

/// The registry's `/-/npm/v1/keys` answer for `key` (`expires` = window end or null).
pub fn registry_keys_json(key: &SigningKey, window: KeyWindow) -> Value {
    json!({"keys": [{
        "expires": window.end.map(seed::rfc3339),
        "keyid": keyid(key),
        "keytype": "ecdsa-sha2-nistp256",
        "scheme": "ecdsa-sha2-nistp256",
        "key": b64(&seed::spki_der(key)),
    }]})
}

/// A `dist.signatures` element: ECDSA over `name@version:integrity`.
pub fn registry_signature(key: &SigningKey, name: &str, version: &str, integrity: &str) -> Value {
    let msg = format!("{name}@{version}:{integrity}");
    json!({"keyid": keyid(key), "sig": b64(&seed::sign(key, msg.as_bytes()))})
}

/// `sha512-<base64>` integrity of tarball bytes.
pub fn integrity(tarball: &[u8]) -> String {
    format!("sha512-{}", b64(&Sha512::digest(tarball)))
}

/// Hex SHA-512 of tarball bytes (the in-toto subject digest).
pub fn sha512_hex(tarball: &[u8]) -> String {
    hex::encode(Sha512::digest(tarball))
}

/// `pkg:npm/<name with @ as %40>@<version>`.
pub fn purl(name: &str, version: &str) -> String {
    format!("pkg:npm/{}@{version}", name.replace('@', "%40"))
}

/// The publish attestation statement (in-toto Statement v0.1).
pub fn publish_statement(name: &str, version: &str, sha512_hex: &str) -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "subject": [{"name": purl(name, version), "digest": {"sha512": sha512_hex}}],
        "predicateType": PUBLISH_PREDICATE,
        "predicate": {"name": name, "version": version, "registry": REGISTRY},
    })
}

/// SLSA v1 provenance statement (in-toto Statement v1) from a GitHub Actions identity.
pub fn provenance_statement(
    name: &str,
    version: &str,
    sha512_hex: &str,
    identity: &Identity,
) -> Value {
    let claim = |arc: u32| identity.claims.get(&arc).cloned().unwrap_or_default();
    let repo_url = claim(12);
    let git_ref = claim(14);
    let workflow_path = claim(18)
        .strip_prefix(&format!("{repo_url}/"))
        .map(|s| s.split('@').next().unwrap_or(s).to_string())
        .unwrap_or_default();
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": purl(name, version), "digest": {"sha512": sha512_hex}}],
        "predicateType": SLSA_V1_PREDICATE,
        "predicate": {
            "buildDefinition": {
                "buildType": GHA_BUILD_TYPE,
                "externalParameters": {"workflow": {
                    "ref": git_ref, "repository": repo_url, "path": workflow_path,
                }},
                "internalParameters": {"github": {
                    "event_name": claim(20),
                    "repository_id": claim(15),
                    "repository_owner_id": claim(17),
                }},
                "resolvedDependencies": [{
                    "uri": format!("git+{repo_url}@{git_ref}"),
                    "digest": {"gitCommit": claim(13)},
                }],
            },
            "runDetails": {
                "builder": {"id": format!("https://github.com/actions/runner/{}", claim(11))},
                "metadata": {"invocationId": claim(21)},
            },
        },
    })
}
