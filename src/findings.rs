//! Findings: verification results as data, with a stable kebab-case code, a level and a message.
//!
//! The code is a contract (JSON, SARIF rule id, docs anchor); the message is for people. Every
//! code has one documented default level in [`CODES`]; policy and flags may change it, and the
//! exit code is decided once, at the end, from the levels.

use serde::Serialize;

/// How serious a finding is. Ordered: `Info < Warn < Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warn,
    Deny,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }

    /// Parses `deny|warn|info` (the `--fail-level` values).
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "deny" => Some(Level::Deny),
            "warn" => Some(Level::Warn),
            "info" => Some(Level::Info),
            _ => None,
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding. Serialises as `{"code", "level", "message"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub level: Level,
    pub message: String,
}

impl Finding {
    /// A finding at the code's default level. Unknown codes are a programming error caught by
    /// the test that every emitted code is in [`CODES`]; at run time they default to `deny`.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Finding {
            code,
            level: default_level(code),
            message: message.into(),
        }
    }
}

/// A finding code with its default level and one-line description (SARIF rule text, docs).
#[derive(Debug, Clone, Copy)]
pub struct CodeInfo {
    pub code: &'static str,
    pub level: Level,
    pub description: &'static str,
}

const fn c(code: &'static str, level: Level, description: &'static str) -> CodeInfo {
    CodeInfo {
        code,
        level,
        description,
    }
}

/// Every finding code the tool emits, sorted by code. The single table of default levels.
pub const CODES: &[CodeInfo] = &[
    c("attestations-missing", Level::Deny, "the packument announces attestations but the registry serves none"),
    c("attestations-unannounced", Level::Warn, "the registry serves attestations the packument does not announce"),
    c("baseline-invalid", Level::Deny, "the attestations of a release the history decision rests on did not verify; it counts as no provenance"),
    c("identity-changed", Level::Warn, "verified provenance from another repository, workflow, issuer or runner than the line's usual one"),
    c("identity-drift", Level::Info, "the ref kind or trigger of the provenance changed"),
    c("install-script-added", Level::Warn, "the package gains a preinstall/install/postinstall script"),
    c("integrity-mismatch", Level::Deny, "the lockfile, registry or tarball integrities disagree"),
    c("inventory-drift", Level::Warn, "the installed version differs from the lockfile"),
    c("lockfile-integrity-missing", Level::Warn, "the lockfile does not pin the package's bytes"),
    c("lockfile-integrity-weak", Level::Warn, "the lockfile pins the package only with sha1"),
    c("metadata-too-large", Level::Deny, "a registry response exceeded its size cap (or a cap on its depth or counts)"),
    c("new-install-script-dependency", Level::Warn, "a new dependency whose resolved version has an install script"),
    c("node-modules-binds-no-bytes", Level::Warn, "the inventory came from node_modules, which records no integrity"),
    c("not-checked", Level::Warn, "a part of the evidence was not checked"),
    c("not-evaluated", Level::Info, "a rule could not be evaluated for lack of data"),
    c("pin-mismatch", Level::Deny, "the version was published by another identity than the pinned one"),
    c("policy-exclusion-expired", Level::Warn, "a policy exclusion is past its expiry date and no longer applies"),
    c("policy-rule-unused", Level::Info, "a policy rule or exclusion matched nothing in this run"),
    c("provenance-downgrade", Level::Warn, "the line's usual release had verified provenance or trusted publishing; this one does not"),
    c("provenance-inconsistent", Level::Deny, "the provenance predicate contradicts its verified certificate or its wrapper"),
    c("provenance-invalid", Level::Deny, "the provenance attestation does not verify"),
    c("provenance-missing", Level::Info, "the version has no provenance attestation"),
    c("publish-attestation-invalid", Level::Deny, "the npm publish attestation does not verify"),
    c("publish-attestation-missing", Level::Deny, "provenance is present without npm's publish attestation"),
    c("publisher-changed", Level::Warn, "a token publish by an account and e-mail not established in the package"),
    c("registry-key-expired", Level::Deny, "the registry key was not valid at the publish time"),
    c("registry-key-unknown", Level::Deny, "the registry signature names a key that is not pinned"),
    c("registry-keys-unpinned", Level::Warn, "registry keys were taken from the registry itself, not pinned"),
    c("registry-metadata-stripped", Level::Deny, "the registry strips signatures and publisher data from every package"),
    c("registry-mismatch", Level::Warn, "the lockfile resolved the package from another registry than the configured one"),
    c("registry-signature-invalid", Level::Deny, "the registry signature does not verify"),
    c("registry-signature-missing", Level::Deny, "the registry serves no signature for the version"),
    c("registry-unsigned", Level::Warn, "the policy declares that the registry does not sign: its signatures are not applicable and not checked"),
    c("staged-publish", Level::Info, "the version was published through a staged publish with an approver"),
    c("subject-mismatch", Level::Deny, "the attestation subject is not the installed package"),
    c("trust-root-stale", Level::Warn, "the trust material in use is older than the configured age"),
    c("trust-update-failed", Level::Deny, "trust-roots update could not fetch the TUF repository; the previous trust material stays in use"),
    c("trust-update-refused", Level::Deny, "the TUF repository's metadata or targets did not verify; the previous trust material stays in use"),
    c("trusted-publisher-dropped", Level::Info, "still with provenance from the same repository and workflow, but no longer through trusted publishing"),
    c("unverifiable", Level::Deny, "the evidence could not be fetched or checked"),
    c("version-not-in-registry", Level::Deny, "the installed version is no longer in the registry"),
];

/// The table entry for `code`, if it is a known code.
pub fn code_info(code: &str) -> Option<&'static CodeInfo> {
    CODES.iter().find(|c| c.code == code)
}

/// The documented default level of `code` (`deny` for an unknown code: fail closed).
pub fn default_level(code: &str) -> Level {
    code_info(code).map(|c| c.level).unwrap_or(Level::Deny)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_unique_kebab_case() {
        for w in CODES.windows(2) {
            assert!(w[0].code < w[1].code, "{} !< {}", w[0].code, w[1].code);
        }
        for c in CODES {
            assert!(c
                .code
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch == '-'));
        }
    }

    #[test]
    fn unknown_code_fails_closed() {
        assert_eq!(default_level("no-such-code"), Level::Deny);
        assert_eq!(default_level("provenance-missing"), Level::Info);
        assert_eq!(default_level("registry-keys-unpinned"), Level::Warn);
    }

    #[test]
    fn levels_order() {
        assert!(Level::Deny > Level::Warn && Level::Warn > Level::Info);
        assert_eq!(Level::parse("warn"), Some(Level::Warn));
        assert_eq!(Level::parse("error"), None);
    }
}
