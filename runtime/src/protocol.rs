//! The AWS Lambda Runtime API, as constants: paths, headers, limits and error types.
//!
//! The client (`crate::client`) and the emulator ([`crate::emulator`]) both speak this
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
/// `INVOKE_PATH` is `INVOKE_PREFIX` + a function name + `INVOKE_SUFFIX`; any name is accepted.
pub const INVOKE_PREFIX: &str = "/2015-03-31/functions/";
/// See [`INVOKE_PREFIX`].
pub const INVOKE_SUFFIX: &str = "/invocations";
/// `InvokeWithResponseStream`: [`STREAM_INVOKE_PREFIX`] + a function name + [`STREAM_INVOKE_SUFFIX`].
pub const STREAM_INVOKE_PREFIX: &str = "/2021-11-15/functions/";
/// See [`STREAM_INVOKE_PREFIX`].
pub const STREAM_INVOKE_SUFFIX: &str = "/response-streaming-invocations";
/// The streaming invoke path of the default function name, as [`INVOKE_PATH`].
pub const STREAM_INVOKE_PATH: &str =
    "/2021-11-15/functions/function/response-streaming-invocations";
/// The content type of AWS's event-stream framing (the body of an `InvokeWithResponseStream`
/// answer, whose `Content-Type` header is the stream's own: `ResponseStreamContentType`).
pub const EVENT_STREAM_CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";
/// Events, responses and error bodies.
pub const JSON_CONTENT_TYPE: &str = "application/json";
/// A streamed response's content type when the function sets none (Lambda's default).
pub const DEFAULT_STREAM_CONTENT_TYPE: &str = "application/octet-stream";
/// Last segment of the path the runtime posts a response to (after the request id).
pub const RESPONSE_SEGMENT: &str = "response";
/// Last segment of the path the runtime posts an invocation error to (after the request id).
pub const ERROR_SEGMENT: &str = "error";

/// Largest event and largest response, in bytes (6 MiB, as Lambda's synchronous invocations).
pub const MAX_PAYLOAD: usize = 6 * 1024 * 1024;

/// Largest `/next` body the client reads: [`MAX_PAYLOAD`] plus a margin for an API that
/// counts differently. A longer event is refused before it is read, never buffered.
pub const MAX_EVENT_READ: usize = MAX_PAYLOAD + 1024 * 1024;

/// Environment variables Lambda sets for the function process.
pub mod env {
    /// `host:port` (or a URL) of the Runtime API; its absence means local mode.
    pub const RUNTIME_API: &str = "AWS_LAMBDA_RUNTIME_API";
    /// The function timeout in seconds (read by the emulator, as AWS's emulator does).
    pub const FUNCTION_TIMEOUT: &str = "AWS_LAMBDA_FUNCTION_TIMEOUT";
    /// The function's name.
    pub const FUNCTION_NAME: &str = "AWS_LAMBDA_FUNCTION_NAME";
    /// The function's version (`$LATEST`).
    pub const FUNCTION_VERSION: &str = "AWS_LAMBDA_FUNCTION_VERSION";
    /// The configured memory, in MB.
    pub const FUNCTION_MEMORY_SIZE: &str = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE";
    /// The CloudWatch log group.
    pub const LOG_GROUP_NAME: &str = "AWS_LAMBDA_LOG_GROUP_NAME";
    /// The CloudWatch log stream.
    pub const LOG_STREAM_NAME: &str = "AWS_LAMBDA_LOG_STREAM_NAME";
    /// The log format: `Text` or `JSON`.
    pub const LOG_FORMAT: &str = "AWS_LAMBDA_LOG_FORMAT";
    /// The least level logged (`RUST_LOG` is read when it is unset).
    pub const LOG_LEVEL: &str = "AWS_LAMBDA_LOG_LEVEL";
    /// Lambda Managed Instances: how many invocations the environment runs at once (unset or
    /// `1`: one at a time, classic Lambda).
    pub const MAX_CONCURRENCY: &str = "AWS_LAMBDA_MAX_CONCURRENCY";
    /// Not Lambda's: where local mode listens (`--listen` wins over it).
    pub const LISTEN: &str = "FAAS_LISTEN";
}

/// The body of a Runtime API `202 Accepted`.
pub const ACCEPTED_BODY: &str = r#"{"status":"OK"}"#;

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
    /// [`FUNCTION_RESPONSE_MODE`]'s value for a streamed response.
    pub const STREAMING: &str = "streaming";
    /// The `Trailer` header of a streamed response: the two trailers a failed stream ends with.
    pub const STREAM_TRAILERS: &str =
        "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body";
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
    /// A streamed response's content type is no header value, or was set after its first chunk.
    pub const INVALID_CONTENT_TYPE: &str = "Runtime.InvalidContentType";
    /// Too many invocations are already waiting.
    pub const TOO_MANY_REQUESTS: &str = "TooManyRequestsException";
    /// The function's response or error body ended before its declared length (RAPID's name).
    pub const TRUNCATED_RESPONSE: &str = "Runtime.TruncatedResponse";
    /// An invoke request that is not a complete, well-formed request (Lambda's `Invoke` API).
    pub const INVALID_REQUEST: &str = "InvalidRequestContentException";
    /// An invoke path that names no function.
    pub const NOT_FOUND: &str = "ResourceNotFoundException";
    /// A Runtime API path the API does not have.
    pub const API_NOT_FOUND: &str = "NotFound";
    /// A method the route does not take.
    pub const METHOD_NOT_ALLOWED: &str = "MethodNotAllowed";
    /// A request whose body did not arrive in time.
    pub const REQUEST_TIMEOUT: &str = "RequestTimeout";
    /// A `Transfer-Encoding` other than plain `chunked`.
    pub const UNSUPPORTED_ENCODING: &str = "UnsupportedTransferEncoding";
    /// The emulator is stopping (or its connection cap is reached): try again later.
    pub const UNAVAILABLE: &str = "ServiceUnavailableException";
    /// A Runtime API call from a function process the emulator has already replaced.
    pub const REPLACED: &str = "Runtime.Replaced";
    /// The runtime did not say what failed (RAPID's default for `/init/error`).
    pub const UNKNOWN: &str = "Runtime.Unknown";
    /// The default type of an invocation error (`X-Amz-Function-Error`'s value too).
    pub const UNHANDLED: &str = "Unhandled";
}
