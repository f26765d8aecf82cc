//! Raw bytes to the Runtime API (`/next`, `/response`, `/error`, `/init/error`) with an event
//! waiting: every request answered with a well-formed status, never a 500, never a hang.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    faas_runtime::fuzzing::runtime_api_request(bytes);
});
