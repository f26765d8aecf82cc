//! HTTP events (API Gateway REST and HTTP APIs, ALB, function URLs) into requests and back:
//! translating never panics, a built request's URI parses again and its authority is the Host
//! header, a refused one is a `400` in its source's JSON, and a body sent back as a response
//! keeps its bytes (text or base64).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    faas_runtime::fuzzing::http_event(bytes);
});
