//! Subresource-integrity strings (`sha512-<base64>`, possibly several hashes separated by
//! whitespace), as npm writes them in lockfiles and in `dist.integrity`.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use serde::{Serialize, Serializer};

/// Standard alphabet, padding optional, non-zero trailing bits accepted: Node's `Buffer`
/// (which npm's `ssri` uses) accepts these spellings, so real lockfiles may contain them.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A hash algorithm npm uses in integrity strings, ordered weakest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HashAlg {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    fn parse(s: &str) -> Option<HashAlg> {
        match s {
            "sha1" => Some(HashAlg::Sha1),
            "sha256" => Some(HashAlg::Sha256),
            "sha384" => Some(HashAlg::Sha384),
            "sha512" => Some(HashAlg::Sha512),
            _ => None,
        }
    }

    /// The digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HashAlg::Sha1 => "sha1",
            HashAlg::Sha256 => "sha256",
            HashAlg::Sha384 => "sha384",
            HashAlg::Sha512 => "sha512",
        }
    }
}

/// One hash of an integrity string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hash {
    pub alg: HashAlg,
    pub digest: Vec<u8>,
}

/// A parsed integrity string. Holds every recognised hash (at least one) and the original text.
///
/// Tokens with an algorithm npm does not use are ignored, as the SRI spec says; a string with no
/// recognised hash, or a recognised hash whose base64 is invalid or of the wrong length, does
/// not parse.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Integrity {
    text: String,
    hashes: Vec<Hash>,
}

/// Why an integrity string does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrityError {
    #[error("integrity is empty")]
    Empty,
    #[error("integrity {0:?} has no sha1/sha256/sha384/sha512 hash")]
    NoKnownHash(String),
    #[error("integrity hash {0:?} is not valid base64")]
    BadBase64(String),
    #[error("integrity hash {token:?} has {actual} bytes, {alg} needs {expected}")]
    BadLength {
        token: String,
        alg: &'static str,
        expected: usize,
        actual: usize,
    },
}

impl Integrity {
    /// Parses an SRI string such as `sha512-… sha1-…`.
    pub fn parse(text: &str) -> Result<Integrity, IntegrityError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(IntegrityError::Empty);
        }
        let mut hashes = Vec::new();
        for token in trimmed.split_ascii_whitespace() {
            let Some((alg, rest)) = token.split_once('-') else {
                continue;
            };
            let Some(alg) = HashAlg::parse(&alg.to_ascii_lowercase()) else {
                continue;
            };
            // SRI options follow a `?`; npm never writes them but they are legal.
            let b64 = rest.split('?').next().unwrap_or(rest);
            let digest = LENIENT_BASE64
                .decode(b64)
                .map_err(|_| IntegrityError::BadBase64(token.to_string()))?;
            if digest.len() != alg.digest_len() {
                return Err(IntegrityError::BadLength {
                    token: token.to_string(),
                    alg: alg.as_str(),
                    expected: alg.digest_len(),
                    actual: digest.len(),
                });
            }
            hashes.push(Hash { alg, digest });
        }
        if hashes.is_empty() {
            return Err(IntegrityError::NoKnownHash(trimmed.to_string()));
        }
        Ok(Integrity {
            text: trimmed.to_string(),
            hashes,
        })
    }

    /// The integrity string as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Every recognised hash, in the order written.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The strongest hash (the first of that algorithm when several are given).
    pub fn strongest(&self) -> &Hash {
        let mut best = &self.hashes[0];
        for h in &self.hashes[1..] {
            if h.alg > best.alg {
                best = h;
            }
        }
        best
    }

    /// The SHA-512 digest, when the string carries one (the first, when several).
    pub fn sha512_bytes(&self) -> Option<[u8; 64]> {
        self.hashes
            .iter()
            .find(|h| h.alg == HashAlg::Sha512)
            .and_then(|h| h.digest.as_slice().try_into().ok())
    }

    /// True when the only recognised hashes are SHA-1 (the lockfile pins the bytes weakly).
    pub fn is_sha1_only(&self) -> bool {
        self.hashes.iter().all(|h| h.alg == HashAlg::Sha1)
    }

    /// True when both strings share a hash of the same algorithm and none of the shared
    /// algorithms disagree (the SRI matching rule, applied to two integrity strings).
    pub fn matches(&self, other: &Integrity) -> bool {
        let mut shared = false;
        for alg in [
            HashAlg::Sha512,
            HashAlg::Sha384,
            HashAlg::Sha256,
            HashAlg::Sha1,
        ] {
            let mine: Vec<&Hash> = self.hashes.iter().filter(|h| h.alg == alg).collect();
            let theirs: Vec<&Hash> = other.hashes.iter().filter(|h| h.alg == alg).collect();
            if mine.is_empty() || theirs.is_empty() {
                continue;
            }
            shared = true;
            if !mine
                .iter()
                .any(|m| theirs.iter().any(|t| t.digest == m.digest))
            {
                return false;
            }
        }
        shared
    }
}

impl std::fmt::Display for Integrity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Integrity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // sigstore@1.0.0, from the corpus MANIFEST.
    const SHA512: &str = "sha512-e+qfbn/zf1+rCza/BhIA//Awmf0v1pa5HQS8Xk8iXrn9bgytytVLqYD0P7NSqZ6IELTgq+tcDvLPkQjNHyWLNg==";
    const SHA1: &str = "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=";

    #[test]
    fn sha512_parses_and_exposes_bytes() {
        let i = Integrity::parse(SHA512).unwrap();
        assert_eq!(i.strongest().alg, HashAlg::Sha512);
        let bytes = i.sha512_bytes().unwrap();
        assert_eq!(bytes[0], 0x7b);
        assert!(!i.is_sha1_only());
        assert_eq!(i.as_str(), SHA512);
    }

    #[test]
    fn multiple_hashes_strongest_wins() {
        let i = Integrity::parse(&format!("{SHA1} {SHA512}")).unwrap();
        assert_eq!(i.hashes().len(), 2);
        assert_eq!(i.strongest().alg, HashAlg::Sha512);
        assert!(!i.is_sha1_only());
        assert!(i.sha512_bytes().is_some());
    }

    #[test]
    fn sha1_only_is_weak() {
        let i = Integrity::parse(SHA1).unwrap();
        assert!(i.is_sha1_only());
        assert_eq!(i.sha512_bytes(), None);
    }

    #[test]
    fn unknown_algorithms_are_ignored_but_not_alone() {
        let i = Integrity::parse(&format!("md5-AAAA {SHA1}")).unwrap();
        assert_eq!(i.hashes().len(), 1);
        assert!(matches!(
            Integrity::parse("md5-1B2M2Y8AsgTpgAmY7PhCfg=="),
            Err(IntegrityError::NoKnownHash(_))
        ));
        assert_eq!(Integrity::parse("  "), Err(IntegrityError::Empty));
    }

    #[test]
    fn bad_base64_and_wrong_length_fail() {
        assert!(matches!(
            Integrity::parse("sha512-!!!"),
            Err(IntegrityError::BadBase64(_))
        ));
        assert!(matches!(
            Integrity::parse("sha512-2jmj7l5rSw0yVb/vlWAYkK/YBwk="),
            Err(IntegrityError::BadLength {
                expected: 64,
                actual: 20,
                ..
            })
        ));
    }

    #[test]
    fn matching_needs_a_shared_equal_hash() {
        let a = Integrity::parse(SHA512).unwrap();
        let both = Integrity::parse(&format!("{SHA512} {SHA1}")).unwrap();
        let weak = Integrity::parse(SHA1).unwrap();
        let other = Integrity::parse("sha512-KCwMX6k20mQyFkNYG2XT3lwK9u1P36wS9YURFd85zCXPrwrSLZCEh7/vMBFNYcJXRiBtGDS+T4/RZZF493zABA==").unwrap();
        assert!(a.matches(&both));
        assert!(!a.matches(&weak), "no shared algorithm is not a match");
        assert!(!a.matches(&other));
    }
}
