//! Pinned trust material: Sigstore trusted roots and npm registry keys, embedded from
//! `trust-roots/` (see its README for where each file came from and its sha256).

/// Production Sigstore public-good `trusted_root.json` (TUF target).
pub const PRODUCTION_TRUSTED_ROOT: &str = include_str!("../../trust-roots/trusted_root.json");
/// Staging Sigstore `trusted_root.json`.
pub const STAGING_TRUSTED_ROOT: &str = include_str!("../../trust-roots/staging/trusted_root.json");
/// The npm registry's keys target of the Sigstore TUF repository (`registry.npmjs.org/keys.json`).
pub const NPM_KEYS: &str = include_str!("../../trust-roots/npm-keys.json");
/// The Sigstore public-good TUF root the embedded targets were distributed under.
pub const TUF_ROOT: &str = include_str!("../../trust-roots/tuf-root.json");

pub mod npm_keys;
pub mod store;
pub mod trusted_root;
pub mod tuf;
pub mod tuf_root;
