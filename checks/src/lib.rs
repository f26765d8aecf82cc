//! What the check programs and the tests share: a small HTTP client over hyper (with a raw
//! socket module for the tests that must send broken bytes) and the fixtures that start real
//! processes (the emulator around a function, a function in local mode) or serve the emulator
//! in-process around a real function process, with the calls tests make of the emulator's APIs
//! and of many callers at once; files shared with those processes (`files`); a caller that reads a streamed invocation's
//! event stream (`event_stream`); and a scriptable fake Runtime API (`fake_api`) for tests of
//! the runtime's own client against an API that misbehaves.
//!
//! The emulator itself is not here: it is `faas_runtime::emulator`, shared with local mode.

pub mod event_stream;
pub mod fake_api;
pub mod files;
pub mod fixture;
pub mod http;
