#![no_main]
//! Fuzz target: see `npm_provenance::fuzzing::snapshot_manifest`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| npm_provenance::fuzzing::snapshot_manifest(data));
