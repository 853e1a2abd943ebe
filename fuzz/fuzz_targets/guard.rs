//! The pre-parse document guard: limits from the first two bytes, then the document.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::guard(data));
