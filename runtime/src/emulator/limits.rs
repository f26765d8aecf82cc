//! What the Lambda service enforces that the emulator copies, and names only the emulator
//! uses: the runtime's client never needs them, so they are not part of [`crate::protocol`].

/// Largest streamed response, in bytes (200 MiB, Lambda's default maximum since 2025-07).
pub const MAX_STREAMED_RESPONSE: usize = 200 * 1024 * 1024;
/// A streamed response is uncapped for its first bytes (6 MiB); from the moment it passes
/// them it is held to [`STREAM_BANDWIDTH`] bytes a second, as Lambda does.
pub const STREAM_UNCAPPED: usize = 6 * 1024 * 1024;
/// See [`STREAM_UNCAPPED`]: 2 MiB/s.
pub const STREAM_BANDWIDTH: usize = 2 * 1024 * 1024;
/// The most of an error body an `InvokeComplete` message carries (256 KiB, after JSON
/// escaping): past it the body is cut with a marker. AWS SDKs refuse an event-stream message
/// over 16 MiB (botocore: 24 MiB), and Lambda bounds the error payloads it returns too.
pub const MAX_STREAM_ERROR_DETAILS: usize = 256 * 1024;
/// The ARN of a function in the emulator, before its name (the account and region of AWS's
/// emulator).
pub const EMULATED_ARN_PREFIX: &str = "arn:aws:lambda:us-east-1:012345678912:function:";
/// The error type of an init (or invocation) that failed because an external extension exited
/// before the shutdown phase. AWS's emulator stores it for any extension process that ends
/// while the environment is not shutting down (aws-lambda-runtime-interface-emulator,
/// `lambda/fatalerror/fatalerror.go`: `AgentCrash ErrorType = "Extension.Crash"`, set by
/// `watchEvents` in `lambda/rapid/start.go`), and Lambda's docs show it in the init report:
/// `INIT_REPORT Init Duration: 1236.04 ms Phase: init Status: error Error Type: Extension.Crash`
/// ("Understanding the Lambda execution environment lifecycle", Init phase failures).
pub const EXTENSION_CRASH: &str = "Extension.Crash";
/// The error type of an init that failed because an external extension could not be started
/// (AWS's emulator: `AgentLaunchError ErrorType = "Extension.LaunchError"`, same file, stored
/// by `agentLaunchError` in `lambda/rapid/start.go`).
pub const EXTENSION_LAUNCH_ERROR: &str = "Extension.LaunchError";
