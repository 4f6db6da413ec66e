//! Fuzz target: arbitrary bytes through the TensorBoard event-file reader and the analysis after it.
#![no_main]

use goodhart::fuzzing::{FuzzTarget, run};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Errors are fine (bad input gets a message); a panic or crash is a bug.
    let _ = run(FuzzTarget::Tfevents, data);
});
