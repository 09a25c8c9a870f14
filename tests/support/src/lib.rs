//! Test support shared by the integration tests and the fixture-registry example:
//! corpus location, and (to come) the deterministic test Sigstore and the fixture registry.

pub mod corpus;
pub mod fixture_registry;
pub mod tuf_server;
