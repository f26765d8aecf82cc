//! `AWS_LAMBDA_RUNTIME_API` values: never a panic, and an accepted one round-trips through
//! its URL form to the same host and port.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    faas_runtime::fuzzing::runtime_api_address(bytes);
});
