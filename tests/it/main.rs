//! The integration test binary. One module per area; `npm_provenance_testkit` supplies the
//! corpus location, the test Sigstore and the fixture registry.

mod cli;
mod fixture_faults;
mod registry;
