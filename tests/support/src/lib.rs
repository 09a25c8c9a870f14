//! Test support shared by the integration tests and the fixture-registry example: the corpus
//! location and a deterministic test Sigstore.
//!
//! [`TestSigstore::new`] derives, from one seed, a Fulcio-like CA chain ([`pki`]), a CT log
//! ([`ct`]), a Rekor-like log ([`rekor`]) and an npm registry key ([`npm`]); it writes its own
//! `trusted_root.json` and mints bundles v0.1, v0.2 and v0.3 ([`bundle`]) and full npm
//! attestation responses. Every knob of [`MintSpec`] exists so the tamper matrix can break one
//! thing at a time while keeping everything else validly signed.

#![forbid(unsafe_code)]

pub mod bundle;
pub mod corpus;
pub mod ct;
pub mod fixture_registry;
pub mod npm;
pub mod pki;
pub mod rekor;
pub mod seed;
pub mod sigstore;
pub mod tamper;
pub mod tuf_server;

pub use bundle::{BodyMode, BundleVersion, ChainMode, Content, MintSpec, Minted, SignerSpec};
pub use npm::KeyWindow;
pub use pki::{Identity, San, SctMode};
pub use rekor::{Kind, LogOptions};
pub use sigstore::TestSigstore;
