//! npm registry keys: the Sigstore TUF target `keys.json` and the registry's `/-/npm/v1/keys`.
//!
//! Both formats parse into one model, [`NpmKeys`]. Every key is checked on the way in: it must
//! be a P-256 SubjectPublicKeyInfo, and its listed keyid must equal the keyid computed from the
//! key ([`KeyId::of_spki`]), so a file cannot name one key and carry another.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use jiff::Timestamp;
use p256::ecdsa::VerifyingKey;
use p256::pkcs8::DecodePublicKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::PathBuf;

/// The most keys one key file may hold (a real file holds 2-4 entries; the cap bounds work
/// on a hostile registry response).
pub const MAX_KEYS: usize = 64;

/// An npm keyid, `SHA256:` + unpadded base64 of SHA-256 over the key's OpenSSH wire encoding.
/// A keyid named by a signature is an unverified string until it matches a pinned key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyId(String);

impl KeyId {
    /// Wraps a keyid as carried by a registry response or a file (not checked).
    pub fn new(s: impl Into<String>) -> KeyId {
        KeyId(s.into())
    }

    /// The keyid as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Computes the keyid of a P-256 key given as DER SubjectPublicKeyInfo: SHA-256 over the
    /// OpenSSH wire encoding (string "ecdsa-sha2-nistp256", string "nistp256", string Q with Q
    /// the uncompressed point), as `ssh-keygen -lf` prints it.
    pub fn of_spki(spki_der: &[u8]) -> Result<KeyId, NpmKeysError> {
        let key = VerifyingKey::from_public_key_der(spki_der)
            .map_err(|e| NpmKeysError::new(format!("not a P-256 public key: {e}")))?;
        Ok(Self::of_key(&key))
    }

    fn of_key(key: &VerifyingKey) -> KeyId {
        let point = key.to_encoded_point(false);
        let mut wire = Vec::with_capacity(4 + 19 + 4 + 8 + 4 + 65);
        for field in [
            b"ecdsa-sha2-nistp256".as_slice(),
            b"nistp256".as_slice(),
            point.as_bytes(),
        ] {
            // Each field is at most 65 bytes: the length always fits.
            wire.extend_from_slice(&(field.len() as u32).to_be_bytes());
            wire.extend_from_slice(field);
        }
        KeyId(format!(
            "SHA256:{}",
            STANDARD_NO_PAD.encode(Sha256::digest(&wire))
        ))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::util::escape_text(&self.0))
    }
}

/// What a key may be used for (the TUF `keyUsage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum KeyUsage {
    /// `npm:signatures`: `dist.signatures` registry signatures.
    #[serde(rename = "npm:signatures")]
    Signatures,
    /// `npm:attestations`: npm's publish attestations.
    #[serde(rename = "npm:attestations")]
    Attestations,
}

impl KeyUsage {
    /// The TUF spelling, `npm:signatures` or `npm:attestations`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyUsage::Signatures => "npm:signatures",
            KeyUsage::Attestations => "npm:attestations",
        }
    }

    fn parse(s: &str) -> Option<KeyUsage> {
        match s {
            "npm:signatures" => Some(KeyUsage::Signatures),
            "npm:attestations" => Some(KeyUsage::Attestations),
            _ => None,
        }
    }
}

/// Where a key set came from: the embedded pinned keys, a user's `--npm-keys` file, or the
/// registry's own `/-/npm/v1/keys` (trust on first use: reported as `registry-keys-unpinned`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeySource {
    Pinned,
    UserFile(PathBuf),
    RegistryUnpinned,
}

impl KeySource {
    /// The report spelling: `pinned`, `user-file` or `registry-unpinned`.
    pub fn as_str(&self) -> &'static str {
        match self {
            KeySource::Pinned => "pinned",
            KeySource::UserFile(_) => "user-file",
            KeySource::RegistryUnpinned => "registry-unpinned",
        }
    }
}

impl Serialize for KeySource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One key for one usage with its validity window (a TUF entry; a `/-/npm/v1/keys` entry
/// becomes one key per usage).
#[derive(Debug, Clone)]
pub struct NpmKey {
    pub keyid: KeyId,
    /// DER SubjectPublicKeyInfo (P-256).
    pub spki_der: Vec<u8>,
    pub usage: KeyUsage,
    /// Start of the window (inclusive); `None` = since always.
    pub valid_from: Option<Timestamp>,
    /// End of the window (inclusive, as sigstore-js); `None` = still valid.
    pub valid_until: Option<Timestamp>,
    /// The key as an uncompressed SEC1 point, for verification with aws-lc-rs.
    point: Vec<u8>,
}

impl NpmKey {
    /// A key from its DER SPKI; the keyid is computed from the key.
    pub fn new(
        spki_der: Vec<u8>,
        usage: KeyUsage,
        valid_from: Option<Timestamp>,
        valid_until: Option<Timestamp>,
    ) -> Result<NpmKey, NpmKeysError> {
        let key = VerifyingKey::from_public_key_der(&spki_der)
            .map_err(|e| NpmKeysError::new(format!("not a P-256 public key: {e}")))?;
        if let (Some(from), Some(until)) = (valid_from, valid_until) {
            if until < from {
                return Err(NpmKeysError::new(format!(
                    "validity window ends ({until}) before it starts ({from})"
                )));
            }
        }
        Ok(NpmKey {
            keyid: KeyId::of_key(&key),
            spki_der,
            usage,
            valid_from,
            valid_until,
            point: key.to_encoded_point(false).as_bytes().to_vec(),
        })
    }

    /// Whether `t` lies inside the key's validity window (both ends inclusive).
    pub fn valid_at(&self, t: Timestamp) -> bool {
        self.valid_from.is_none_or(|from| t >= from) && self.valid_until.is_none_or(|end| t <= end)
    }

    /// Whether the window is still open at its end (no `valid_until`).
    pub fn open_ended(&self) -> bool {
        self.valid_until.is_none()
    }

    /// Whether `der_signature` is a valid ECDSA P-256/SHA-256 signature of `message` by this key.
    pub(crate) fn verifies(&self, message: &[u8], der_signature: &[u8]) -> bool {
        use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &self.point)
            .verify(message, der_signature)
            .is_ok()
    }
}

/// A set of npm registry keys and where it came from.
#[derive(Debug, Clone)]
pub struct NpmKeys {
    pub keys: Vec<NpmKey>,
    pub source: KeySource,
}

impl NpmKeys {
    /// The embedded pinned keys (`trust-roots/npm-keys.json`).
    pub fn embedded() -> Result<NpmKeys, NpmKeysError> {
        Self::from_json(super::NPM_KEYS.as_bytes(), KeySource::Pinned)
    }

    /// Parses either format (detected per entry): TUF `{"keys":[{"keyId","keyUsage",
    /// "publicKey":{…}}]}` or `/-/npm/v1/keys` `{"keys":[{"keyid","key","keytype",…}]}`.
    /// Entries with an unknown usage or key type are skipped (not trusted); a set with no
    /// usable key, a bad key, or a keyid that does not match its key is an error.
    pub fn from_json(bytes: &[u8], source: KeySource) -> Result<NpmKeys, NpmKeysError> {
        let file: wire::KeysFile = serde_json::from_slice(bytes)
            .map_err(|e| NpmKeysError::new(format!("not a keys document: {e}")))?;
        if file.keys.len() > MAX_KEYS {
            return Err(NpmKeysError::new(format!(
                "{} keys, more than the cap of {MAX_KEYS}",
                file.keys.len()
            )));
        }
        let mut keys = Vec::new();
        for (i, entry) in file.keys.into_iter().enumerate() {
            let parsed = entry
                .into_keys()
                .map_err(|e| NpmKeysError::new(format!("keys[{i}]: {}", e.0)))?;
            keys.extend(parsed);
        }
        if keys.is_empty() {
            return Err(NpmKeysError::new(
                "no usable key (P-256 with a known usage)".to_string(),
            ));
        }
        keys.sort_by(|a, b| {
            (&a.keyid, a.usage, a.valid_from).cmp(&(&b.keyid, b.usage, b.valid_from))
        });
        Ok(NpmKeys { keys, source })
    }

    /// The keys with this keyid for this usage (usually one).
    pub fn find(&self, keyid: &KeyId, usage: KeyUsage) -> Vec<&NpmKey> {
        self.keys
            .iter()
            .filter(|k| &k.keyid == keyid && k.usage == usage)
            .collect()
    }
}

/// A key file that cannot be used; the message says which entry and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NpmKeysError(pub String);

impl NpmKeysError {
    fn new(msg: String) -> Self {
        NpmKeysError(msg)
    }
}

/// Wire formats (tolerant subsets: unknown fields are ignored).
mod wire {
    use super::*;

    #[derive(Deserialize)]
    pub struct KeysFile {
        pub keys: Vec<Entry>,
    }

    /// One entry of either format; which fields are present says which format it is.
    #[derive(Deserialize)]
    pub struct Entry {
        // TUF keys.json
        #[serde(rename = "keyId")]
        key_id_tuf: Option<String>,
        #[serde(rename = "keyUsage")]
        key_usage: Option<String>,
        #[serde(rename = "publicKey")]
        public_key: Option<TufPublicKey>,
        // /-/npm/v1/keys
        keyid: Option<String>,
        keytype: Option<String>,
        scheme: Option<String>,
        key: Option<String>,
        #[serde(default)]
        expires: Option<String>,
    }

    #[derive(Deserialize)]
    struct TufPublicKey {
        #[serde(rename = "rawBytes")]
        raw_bytes: String,
        #[serde(rename = "keyDetails")]
        key_details: String,
        #[serde(rename = "validFor")]
        valid_for: Option<ValidFor>,
    }

    #[derive(Deserialize)]
    struct ValidFor {
        start: Option<String>,
        end: Option<String>,
    }

    impl Entry {
        /// The keys this entry stands for: none (skipped), one (TUF), or two (v1, both usages).
        pub fn into_keys(self) -> Result<Vec<NpmKey>, NpmKeysError> {
            match (self.public_key, self.key) {
                (Some(pk), None) => {
                    let listed = self
                        .key_id_tuf
                        .ok_or_else(|| NpmKeysError::new("missing keyId".into()))?;
                    let usage_str = self
                        .key_usage
                        .ok_or_else(|| NpmKeysError::new("missing keyUsage".into()))?;
                    let Some(usage) = KeyUsage::parse(&usage_str) else {
                        return Ok(Vec::new());
                    };
                    if pk.key_details != "PKIX_ECDSA_P256_SHA_256" {
                        return Ok(Vec::new());
                    }
                    let der = decode_key(&pk.raw_bytes)?;
                    let (from, until) = match pk.valid_for {
                        Some(v) => (
                            time(v.start.as_deref(), "validFor.start")?,
                            time(v.end.as_deref(), "validFor.end")?,
                        ),
                        None => (None, None),
                    };
                    let key = NpmKey::new(der, usage, from, until)?;
                    check_keyid(&listed, &key)?;
                    Ok(vec![key])
                }
                (None, Some(raw)) => {
                    let listed = self
                        .keyid
                        .ok_or_else(|| NpmKeysError::new("missing keyid".into()))?;
                    let supported = |v: &Option<String>| {
                        v.as_deref().is_none_or(|s| s == "ecdsa-sha2-nistp256")
                    };
                    if !supported(&self.keytype) || !supported(&self.scheme) {
                        return Ok(Vec::new());
                    }
                    let der = decode_key(&raw)?;
                    let until = time(self.expires.as_deref(), "expires")?;
                    let mut out = Vec::with_capacity(2);
                    for usage in [KeyUsage::Signatures, KeyUsage::Attestations] {
                        let key = NpmKey::new(der.clone(), usage, None, until)?;
                        check_keyid(&listed, &key)?;
                        out.push(key);
                    }
                    Ok(out)
                }
                (Some(_), Some(_)) => Err(NpmKeysError::new(
                    "has both publicKey and key: neither format".into(),
                )),
                (None, None) => Err(NpmKeysError::new(
                    "no key (neither publicKey.rawBytes nor key)".into(),
                )),
            }
        }
    }

    fn decode_key(b64: &str) -> Result<Vec<u8>, NpmKeysError> {
        STANDARD
            .decode(b64.trim())
            .map_err(|e| NpmKeysError::new(format!("key is not base64: {e}")))
    }

    fn time(s: Option<&str>, field: &str) -> Result<Option<Timestamp>, NpmKeysError> {
        s.map(|s| {
            s.parse::<Timestamp>().map_err(|e| {
                NpmKeysError::new(format!("{field} {s:?} is not an RFC 3339 time: {e}"))
            })
        })
        .transpose()
    }

    fn check_keyid(listed: &str, key: &NpmKey) -> Result<(), NpmKeysError> {
        if listed != key.keyid.as_str() {
            return Err(NpmKeysError::new(format!(
                "keyid {:?} does not match its key (computed {})",
                crate::util::escape_text(listed),
                key.keyid.as_str()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JL3B: &str = "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA";
    const DHQ8: &str = "SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U";

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn embedded_keys_parse_with_windows() {
        let keys = NpmKeys::embedded().unwrap();
        assert_eq!(keys.keys.len(), 4);
        assert_eq!(keys.source, KeySource::Pinned);
        let sig = keys.find(&KeyId::new(JL3B), KeyUsage::Signatures);
        assert_eq!(sig.len(), 1);
        assert_eq!(sig[0].valid_from, Some(ts("1999-01-01T00:00:00Z")));
        assert_eq!(sig[0].valid_until, Some(ts("2025-01-29T00:00:00Z")));
        let att = keys.find(&KeyId::new(JL3B), KeyUsage::Attestations);
        assert_eq!(att[0].valid_from, Some(ts("2022-12-01T00:00:00Z")));
        let new = keys.find(&KeyId::new(DHQ8), KeyUsage::Signatures);
        assert_eq!(new[0].valid_from, Some(ts("2025-01-13T00:00:00Z")));
        assert!(new[0].open_ended());
        assert!(keys
            .find(&KeyId::new("SHA256:nope"), KeyUsage::Signatures)
            .is_empty());
    }

    #[test]
    fn keyid_is_the_openssh_fingerprint_of_both_real_keys() {
        let keys = NpmKeys::embedded().unwrap();
        let mut ids: Vec<String> = keys
            .keys
            .iter()
            .map(|k| KeyId::of_spki(&k.spki_der).unwrap().0)
            .collect();
        ids.dedup();
        assert_eq!(ids, vec![DHQ8.to_string(), JL3B.to_string()]);
        // Not the hash of the DER.
        let der_hash = STANDARD_NO_PAD.encode(Sha256::digest(&keys.keys[0].spki_der));
        assert_ne!(format!("SHA256:{der_hash}"), keys.keys[0].keyid.0);
    }

    #[test]
    fn valid_at_is_inclusive_window() {
        let keys = NpmKeys::embedded().unwrap();
        let k = keys.find(&KeyId::new(JL3B), KeyUsage::Signatures)[0];
        assert!(k.valid_at(ts("2025-01-29T00:00:00Z")));
        assert!(!k.valid_at(ts("2025-01-29T00:00:00.001Z")));
        assert!(k.valid_at(ts("1999-01-01T00:00:00Z")));
        assert!(!k.valid_at(ts("1998-12-31T23:59:59Z")));
    }

    #[test]
    fn v1_format_counts_for_both_usages() {
        let json = format!(
            r#"{{"keys":[{{"expires":"2025-01-29T00:00:00.000Z","keyid":"{JL3B}","keytype":"ecdsa-sha2-nistp256","scheme":"ecdsa-sha2-nistp256","key":"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1Olb3zMAFFxXKHiIkQO5cJ3Yhl5i6UPp+IhuteBJbuHcA5UogKo0EWtlWwW6KSaKoTNEYL7JlCQiVnkhBktUgg=="}}]}}"#
        );
        let keys = NpmKeys::from_json(json.as_bytes(), KeySource::RegistryUnpinned).unwrap();
        assert_eq!(keys.keys.len(), 2);
        for usage in [KeyUsage::Signatures, KeyUsage::Attestations] {
            let k = keys.find(&KeyId::new(JL3B), usage);
            assert_eq!(k.len(), 1);
            assert_eq!(k[0].valid_from, None);
            assert_eq!(k[0].valid_until, Some(ts("2025-01-29T00:00:00Z")));
        }
    }

    #[test]
    fn keyid_mismatch_is_rejected() {
        // The first entry names DhQ8… but carries the jl3b… key.
        let swapped = super::super::NPM_KEYS.replacen(JL3B, DHQ8, 1);
        let err = NpmKeys::from_json(swapped.as_bytes(), KeySource::Pinned).unwrap_err();
        assert!(err.0.contains("does not match its key"), "{err}");
        assert!(err.0.starts_with("keys[0]"), "{err}");
    }

    #[test]
    fn malformed_files_error() {
        for (bad, what) in [
            (&b"not json"[..], "not a keys document"),
            (br#"{"keys":[]}"#, "no usable key"),
            (br#"{"nokeys":1}"#, "not a keys document"),
            (br#"{"keys":[{"keyid":"x","key":"!!"}]}"#, "not base64"),
            (
                br#"{"keys":[{"keyid":"x","key":"AAAA"}]}"#,
                "not a P-256 public key",
            ),
            (br#"{"keys":[{"keyid":"x"}]}"#, "no key"),
        ] {
            let err = NpmKeys::from_json(bad, KeySource::Pinned).unwrap_err();
            assert!(err.0.contains(what), "{what}: {err}");
        }
        let bad_time = super::super::NPM_KEYS.replacen("2025-01-29T00:00:00.000Z", "soon", 1);
        let err = NpmKeys::from_json(bad_time.as_bytes(), KeySource::Pinned).unwrap_err();
        assert!(err.0.contains("validFor.end"), "{err}");
    }

    #[test]
    fn unknown_usage_and_key_type_are_skipped_not_trusted() {
        let json = super::super::NPM_KEYS
            .replace("\"npm:attestations\"", "\"npm:future\"")
            .replacen("PKIX_ECDSA_P256_SHA_256", "PKIX_ED25519", 1);
        let keys = NpmKeys::from_json(json.as_bytes(), KeySource::Pinned).unwrap();
        assert_eq!(keys.keys.len(), 1);
        assert_eq!(keys.keys[0].keyid.as_str(), DHQ8);
        assert_eq!(keys.keys[0].usage, KeyUsage::Signatures);
    }
}
