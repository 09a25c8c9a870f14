#![no_main]
//! Fuzz target: see `npm_provenance::fuzzing::npm_keys`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| npm_provenance::fuzzing::npm_keys(data));
