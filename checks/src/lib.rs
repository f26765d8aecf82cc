//! What the check programs and the tests share: a small HTTP client and the fixtures that
//! start real processes (the emulator around a function, a function in local mode).
//!
//! The emulator itself is not here: it is `faas_runtime::emulator`, shared with local mode.

pub mod fixture;
pub mod http;
