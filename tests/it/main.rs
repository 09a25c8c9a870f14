//! The integration test binary. One module per area; `npm_provenance_testkit` supplies the
//! corpus location, the test Sigstore and the fixture registry.

mod cli;
mod corpus_bundles;
mod history;
mod inventory;
mod registry_signatures;
mod trust;
mod verify_bundle;
