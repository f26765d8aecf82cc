//! Telemetry API subscribe bodies: an accepted subscription is within Lambda's bounds and on
//! the sandbox, and any text becomes one well-formed `function` record.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    faas_runtime::fuzzing::telemetry_subscription(bytes);
});
