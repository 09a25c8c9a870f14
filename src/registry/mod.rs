//! Registry: HTTP client, wire types (tolerant subsets of the registry's responses), cache.
pub mod public;
