//! Raw bytes to the invoke endpoint (request line, headers, framing, body, context headers):
//! every request answered with a well-formed status, never a 500, never a hang.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    faas_runtime::fuzzing::invoke_request(bytes);
});
