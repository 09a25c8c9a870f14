//! Verification: pure, clock-free checks that return `Verified*` values only they can build.

pub mod registry_signature;
