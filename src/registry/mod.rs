//! Registry: HTTP client, wire types (tolerant subsets of the registry's responses), cache.
pub mod attestations;
pub mod packument;
pub mod public;
