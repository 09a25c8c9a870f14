//! Verification: pure, clock-free checks that return `Verified*` values only they can build.
