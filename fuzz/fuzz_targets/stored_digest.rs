#![no_main]
//! Fuzz target: see `npm_provenance::fuzzing::stored_digest`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| npm_provenance::fuzzing::stored_digest(data));
