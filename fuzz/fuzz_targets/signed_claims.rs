//! The verifier past the signature: fuzzed header and claims, signed by the harness.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::signed_claims(data));
