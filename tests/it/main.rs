//! The integration test binary. One module per area; `npm_provenance_testkit` supplies the
//! corpus location, the test Sigstore and the fixture registry.

mod checkpoint;
mod cli;
mod corpus_bundles;
mod fixture_faults;
mod history;
mod inventory;
mod lockfiles;
mod registry;
mod registry_signatures;
mod trust;
mod verify_bundle;
