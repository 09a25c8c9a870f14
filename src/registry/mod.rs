//! Registry: HTTP client, wire types (tolerant subsets of the registry's responses), cache.
//!
//! - [`config`]: `.npmrc`/environment/`--registry` into one [`config::RegistryConfig`].
//! - [`client`]: the one async HTTP client (rustls, HTTP/2, bounded concurrency, retries with a
//!   global budget, size caps, manual redirects that drop credentials across origins).
//! - [`cache`]: raw responses on disk, hashed names, revalidation, offline reads.
//! - [`plan`]: what to fetch for a run (one packument per name, attestations, keys) and the
//!   run-level `registry-metadata-stripped` finding.
//! - [`redact`]: URLs as they may appear in logs, errors and findings.
//! - [`setup`]: the command line's registry flags into a ready client.
//! - [`snapshot`]: recording every answer of a run into a snapshot directory, and replaying
//!   one offline (`snapshot`, `verify --snapshot`).

pub mod attestations;
pub mod cache;
pub mod client;
pub mod config;
mod outcome;
pub mod packument;
pub mod plan;
pub mod public;
pub mod redact;
pub mod setup;
mod shape;
pub mod snapshot;

pub use cache::Cache;
pub use client::{
    Accept, ClientOptions, FetchError, FetchFailure, Fetched, RegistryClient, ResourceKind,
    SizeCaps,
};
pub use config::{ConfigInputs, RegistryConfig};
