//! The AWS Lambda Runtime API, as constants: paths, headers, limits and error types.
//!
//! The client ([`crate::client`]) and the emulator ([`crate::emulator`]) both speak this
//! protocol; keeping every name here means the two cannot drift apart.

/// API version prefix of every Runtime API path.
pub const API_VERSION: &str = "2018-06-01";
/// `GET`: long-polls for the next event.
pub const NEXT_PATH: &str = "/2018-06-01/runtime/invocation/next";
/// `POST`: reports a failure before the first event.
pub const INIT_ERROR_PATH: &str = "/2018-06-01/runtime/init/error";
/// Prefix of `/{request-id}/response` and `/{request-id}/error`.
pub const INVOCATION_PREFIX: &str = "/2018-06-01/runtime/invocation/";
/// The invoke endpoint of AWS's base images and emulator (the Lambda `Invoke` API path).
pub const INVOKE_PATH: &str = "/2015-03-31/functions/function/invocations";

/// Largest event and largest response, in bytes (6 MiB, as Lambda's synchronous invocations).
pub const MAX_PAYLOAD: usize = 6 * 1024 * 1024;

/// Headers the API sets on the answer to `/next`.
pub mod header {
    /// The invocation's request id.
    pub const REQUEST_ID: &str = "lambda-runtime-aws-request-id";
    /// The deadline, in milliseconds since the Unix epoch.
    pub const DEADLINE_MS: &str = "lambda-runtime-deadline-ms";
    /// The ARN the caller invoked (with a version or alias).
    pub const FUNCTION_ARN: &str = "lambda-runtime-invoked-function-arn";
    /// The X-Ray trace header.
    pub const TRACE_ID: &str = "lambda-runtime-trace-id";
    /// The mobile SDK's client context, JSON.
    pub const CLIENT_CONTEXT: &str = "lambda-runtime-client-context";
    /// The Cognito identity, JSON.
    pub const COGNITO_IDENTITY: &str = "lambda-runtime-cognito-identity";
    /// Set by the runtime on `/error` and `/init/error`, and as a trailer of a failed stream.
    pub const FUNCTION_ERROR_TYPE: &str = "lambda-runtime-function-error-type";
    /// Trailer of a failed stream: the base64 of the error's JSON body.
    pub const FUNCTION_ERROR_BODY: &str = "lambda-runtime-function-error-body";
    /// `streaming` on a `/response` whose body is streamed (chunked, errors in trailers).
    pub const FUNCTION_RESPONSE_MODE: &str = "lambda-runtime-function-response-mode";
    /// Set by the invoke endpoint when the function failed (as Lambda's `Invoke` API).
    pub const AMZ_FUNCTION_ERROR: &str = "x-amz-function-error";
    /// The invoke request's client context (base64 JSON), forwarded as [`CLIENT_CONTEXT`].
    pub const AMZ_CLIENT_CONTEXT: &str = "x-amz-client-context";
    /// The invoke request's Cognito identity, forwarded as [`COGNITO_IDENTITY`].
    pub const AMZ_COGNITO_IDENTITY: &str = "x-amz-cognito-identity";
    /// The invoke request's X-Ray trace header, forwarded as [`TRACE_ID`].
    pub const AMZN_TRACE_ID: &str = "x-amzn-trace-id";
}

/// `errorType` values the runtime and the emulator produce themselves.
pub mod error_type {
    /// The event is not valid JSON for the handler's event type (as AWS's Python and Node runtimes).
    pub const UNMARSHAL: &str = "Runtime.UnmarshalError";
    /// The handler's response could not be serialized.
    pub const MARSHAL: &str = "Runtime.MarshalError";
    /// The handler panicked.
    pub const PANIC: &str = "Runtime.Panic";
    /// The runtime's configuration (environment) is invalid.
    pub const CONFIG: &str = "Runtime.ConfigError";
    /// The function process exited during an invocation.
    pub const EXIT: &str = "Runtime.ExitError";
    /// The function did not answer before its deadline.
    pub const TIMEOUT: &str = "Sandbox.Timedout";
    /// The function's response was larger than [`super::MAX_PAYLOAD`].
    pub const RESPONSE_TOO_LARGE: &str = "Function.ResponseSizeTooLarge";
    /// An event larger than [`super::MAX_PAYLOAD`] (invoke endpoint).
    pub const REQUEST_TOO_LARGE: &str = "RequestEntityTooLargeException";
    /// A payload larger than [`super::MAX_PAYLOAD`] (Runtime API).
    pub const ENTITY_TOO_LARGE: &str = "RequestEntityTooLarge";
    /// A request id the API does not know.
    pub const INVALID_REQUEST_ID: &str = "InvalidRequestID";
    /// A call the runtime's current state does not allow.
    pub const INVALID_STATE: &str = "InvalidStateTransition";
    /// The Runtime API stopped reading a streamed response (caller gone, or over the limit).
    pub const STREAM_CLOSED: &str = "Runtime.StreamClosed";
    /// Too many invocations are already waiting.
    pub const TOO_MANY_REQUESTS: &str = "TooManyRequestsException";
}
