//! The integration test binary. One module per area; `npm_provenance_testkit` supplies the
//! corpus location, the test Sigstore and the fixture registry.

mod checkpoint;
mod cli;
mod corpus_bundles;
mod crash_safety;
mod fixture_faults;
mod fuzz_seeds;
mod history;
mod inspect;
mod inventory;
mod limits;
mod lockfiles;
mod npm_version;
mod policy_file;
mod registry;
mod registry_signatures;
mod trust;
mod tuf;
mod verify_bundle;
