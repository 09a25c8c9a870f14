//! Verification: pure, clock-free checks that return `Verified*` values only they can build.
//!
//! Sigstore bundles: [`sigstore::verify_bundle`] (the only user of `sigstore-verify`) runs the
//! checks of DESIGN §4 in order and yields a [`bundle::VerifiedBundle`]; [`identity`] decodes
//! the Fulcio certificate identity; [`shape`] holds the structural rules and input caps.

pub mod bundle;
pub mod evidence;
pub mod identity;
pub mod npm;
pub mod provenance;
pub mod registry_signature;
pub mod shape;
pub mod sigstore;

pub use bundle::{
    BundleError, FulcioIdentity, SanKind, Signer, Statement, Step, Subject, TimeSource,
    VerifiedBundle, VerifiedTime,
};
pub use sigstore::{verify_bundle, ArtifactRef, Matcher, SignerPolicy, SigstoreTrust};
