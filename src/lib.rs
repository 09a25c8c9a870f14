//! npm-provenance: verified provenance and publishing identity for every installed npm package.
//!
//! The pipeline, one folder per trust domain:
//!
//! 1. [`inventory`] reads lockfiles or `node_modules` into exact packages (name, version, integrity).
//! 2. [`registry`] fetches packuments, registry keys and attestations (the only network code).
//! 3. [`trust`] holds the pinned Sigstore trusted roots and npm registry keys.
//! 4. [`verify`] checks registry signatures and Sigstore bundles; pure and clock-free, it returns
//!    `Verified*` values that only it can construct.
//! 5. [`policy`] compares verified evidence with the package's usual identity and the user's pins.
//! 6. [`report`] renders findings as text, JSON, SARIF or GitHub annotations.
//!
//! [`app`] wires the layers together; [`cli`] turns arguments into one immutable configuration.
#![forbid(unsafe_code)]

pub mod app;
pub mod cli;
pub mod error;
pub mod findings;
#[doc(hidden)]
pub mod fuzzing;
pub mod inventory;
pub mod policy;
pub mod registry;
pub mod report;
pub mod trust;
pub mod util;
pub mod verify;
