#![no_main]
//! Fuzz target: see `npm_provenance::fuzzing::tuf_root`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| npm_provenance::fuzzing::tuf_root(data));
