//! What a fetch yields: the body and where it came from, or a failure with its reason, and
//! the finding a failure becomes.

use bytes::Bytes;

use crate::findings::Finding;

/// A response body and where it came from.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub bytes: Bytes,
    /// Served from the cache (immutable entry, offline, or revalidated with 304).
    pub from_cache: bool,
    /// The status the body was served with (200; a revalidated entry keeps its 200).
    pub status: u16,
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchFailure {
    #[error("not found (HTTP 404)")]
    NotFound,
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("timed out")]
    Timeout,
    #[error("connection failed or was cut")]
    Connection,
    #[error("response larger than its {cap}-byte cap")]
    TooLarge { cap: u64 },
    #[error("the run's retry budget is exhausted")]
    RetriesExhausted,
    #[error("not in the cache (offline)")]
    Offline,
    #[error("redirect refused (too many, or to an unusable location)")]
    Redirect,
    #[error("malformed response body")]
    Decode,
    #[error("plain http to a non-loopback host refused (see --danger-allow-http)")]
    Insecure,
    /// `verify --snapshot`: the snapshot holds no answer for this request.
    #[error("not in the snapshot")]
    NotInSnapshot,
    /// `verify --snapshot`: the recorded body is missing or differs from its recorded sha256.
    #[error("the snapshot's recorded answer is damaged: {0}")]
    SnapshotDamaged(String),
}

/// A failed fetch: the redacted URL and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("GET {url_redacted}: {reason}")]
pub struct FetchError {
    /// The URL without userinfo or query.
    pub url_redacted: String,
    pub reason: FetchFailure,
}

impl FetchError {
    /// The finding for the package whose evidence this was: `metadata-too-large` for a size
    /// cap, `unverifiable` with the reason otherwise.
    pub fn finding(&self) -> Finding {
        let code = match self.reason {
            FetchFailure::TooLarge { .. } => "metadata-too-large",
            _ => "unverifiable",
        };
        Finding::new(code, self.to_string())
    }
}

/// Could not build the client from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("CA certificate: {0}")]
    Ca(String),
    #[error("proxy: {0}")]
    Proxy(String),
    #[error("HTTP client: {0}")]
    Build(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_large_is_its_own_finding() {
        let e = FetchError {
            url_redacted: "https://r.example/x".into(),
            reason: FetchFailure::TooLarge { cap: 10 },
        };
        assert_eq!(e.finding().code, "metadata-too-large");
        let e = FetchError {
            url_redacted: "https://r.example/x".into(),
            reason: FetchFailure::Timeout,
        };
        let f = e.finding();
        assert_eq!(f.code, "unverifiable");
        assert!(f.message.contains("timed out") && f.message.contains("r.example/x"));
    }
}
