//! The integration test binary. One module per area; `npm_provenance_testkit` supplies the
//! corpus location, the test Sigstore and the fixture registry.

mod baselines;
mod checkpoint;
mod cli;
mod common;
mod corpus_bundles;
mod crash_safety;
mod fixture_faults;
mod fuzz_seeds;
mod history;
mod inspect;
mod inventory;
mod limits;
mod lockfile_formats_e2e;
mod lockfiles;
mod npm_version;
mod pin;
mod policy_file;
mod policy_registry;
mod registry;
mod registry_signatures;
mod report_ci;
mod snapshot;
mod tamper;
mod testpki;
mod trust;
mod tuf;
mod verify_bundle;
mod verify_cmd;
mod verify_e2e;
