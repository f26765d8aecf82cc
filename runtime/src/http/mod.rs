//! HTTP functions: any `tower::Service<http::Request<Body>>` (an axum `Router` as it is)
//! behind API Gateway (REST and HTTP APIs), an Application Load Balancer or a function URL,
//! buffered or streamed (feature `http`).
//!
//! Each event becomes the `http::Request` the client sent, the service answers it, and the
//! answer goes back in the JSON its source expects; see the README's "HTTP functions" section
//! for the whole mapping and every difference from `lambda_http`.
//!
//! This is a feature of the runtime crate, not a crate of its own: the adapter implements the
//! crate-private invocation core's `Adapter` trait, which a second crate could only reach if the
//! core were public API. A plain function compiled without the feature pays nothing for it.
//!
//! # Layout
//!
//! `adapter` implements the invocation core's `Adapter` for a service (`run_http`,
//! `run_http_with_init`, `run_http_streaming`) over `service`, which runs one invocation of
//! it; `event/` turns events into requests and responses into events, one file per source
//! (`apigw_v1`, `apigw_v2`, `alb`, `function_url`), without I/O; `content` decides text or
//! base64, `percent` encodes URIs, `body` is the request body; `fuzzing` is the fuzz entry
//! point (feature `fuzzing`). With feature `local`: `front` turns plain HTTP requests into
//! function URL events and answers back into HTTP (for local HTTP mode and the emulator's
//! `--http` port), `serve` is local HTTP mode (the binary serving `$PORT` outside Lambda), and
//! `pool` runs its N requests at once (`AWS_LAMBDA_MAX_CONCURRENCY`).

mod adapter;
mod body;
mod content;
#[cfg(test)]
mod differential;
pub(crate) mod event;
#[cfg(feature = "local")]
pub(crate) mod front;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod fuzzing;
mod percent;
#[cfg(feature = "local")]
mod pool;
#[cfg(feature = "local")]
pub(crate) mod serve;
mod service;

use std::collections::HashMap;

use serde_json::Value;

pub use adapter::{run_http, run_http_streaming, run_http_with_init};
pub use body::Body;

/// `--help` of an HTTP function, in the form of `crate::cli::usage`.
pub(crate) fn usage(program: &str) -> String {
    format!(
        "usage: {program} [--listen ADDR]
An HTTP function. With {api} set (as on Lambda) it answers API Gateway, ALB and
function URL events and reads no arguments. Without it, it serves plain HTTP on ADDR, each
request wrapped in the function URL event Lambda would send.
  --listen ADDR   where it listens (default 0.0.0.0:$PORT when PORT is set, else {listen_var},
                  else {listen})
  -h, --help      this text
  -V, --version   the version and the target it was built for
Environment: PORT, {log_level}, {log_format}.
Try: curl -i http://{listen}/",
        api = crate::protocol::env::RUNTIME_API,
        listen_var = crate::protocol::env::LISTEN,
        listen = crate::config::DEFAULT_LISTEN,
        log_level = crate::protocol::env::LOG_LEVEL,
        log_format = crate::protocol::env::LOG_FORMAT,
    )
}

/// Which service sent the event: a request extension (in [`RequestContext`]).
///
/// ```
/// use faas_runtime::http::EventSource;
/// assert_ne!(EventSource::ApiGatewayV1, EventSource::FunctionUrl);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventSource {
    /// API Gateway REST API (payload 1.0, also HTTP APIs set to payload 1.0).
    ApiGatewayV1,
    /// API Gateway HTTP API (payload 2.0).
    ApiGatewayV2,
    /// An Application Load Balancer target group.
    Alb,
    /// A Lambda function URL.
    FunctionUrl,
}

/// The event's `requestContext` and its source: a request extension.
///
/// The JSON is kept as the source sent it (authorizer claims, identity, `requestId`, ...);
/// [`RequestContext::deserialize`] reads it into a typed struct, such as
/// `aws_lambda_events`' request contexts.
///
/// ```
/// use faas_runtime::http::{EventSource, RequestContext};
///
/// fn stage(request: &http::Request<faas_runtime::http::Body>) -> Option<&str> {
///     request.extensions().get::<RequestContext>()?.get("stage")?.as_str()
/// }
/// ```
#[derive(Debug, Clone)]
pub struct RequestContext {
    source: EventSource,
    /// The event's JSON: `requestContext` is parsed out of it the first time it is asked for,
    /// so a service that never reads it costs no `Value` tree per invocation.
    event: hyper::body::Bytes,
    json: std::sync::OnceLock<Value>,
}

impl RequestContext {
    /// The context of `event` (its JSON), parsed when first asked for.
    pub(crate) fn lazy(source: EventSource, event: &[u8]) -> Self {
        Self {
            source,
            event: hyper::body::Bytes::copy_from_slice(event),
            json: std::sync::OnceLock::new(),
        }
    }
}

impl PartialEq for RequestContext {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.json() == other.json()
    }
}

impl RequestContext {
    /// The service that sent the event.
    pub fn source(&self) -> EventSource {
        self.source
    }

    /// The whole `requestContext` object (`null` if the event had none).
    pub fn json(&self) -> &Value {
        self.json.get_or_init(|| {
            #[derive(serde::Deserialize)]
            struct Event {
                #[serde(rename = "requestContext")]
                request_context: Option<Value>,
            }
            // The event was parsed once already (`event::translate`): it parses again.
            serde_json::from_slice::<Event>(&self.event)
                .ok()
                .and_then(|e| e.request_context)
                .unwrap_or(Value::Null)
        })
    }

    /// One key of `requestContext`, such as `"requestId"`, `"stage"` or `"authorizer"`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.json().get(key)
    }

    /// `requestContext` as a typed struct.
    ///
    /// ```
    /// # fn f(ctx: &faas_runtime::http::RequestContext) -> Result<(), serde_json::Error> {
    /// #[derive(serde::Deserialize)]
    /// #[serde(rename_all = "camelCase")]
    /// struct Minimal { request_id: String }
    /// let id = ctx.deserialize::<Minimal>()?.request_id;
    /// # Ok(()) }
    /// ```
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(self.json())
    }
}

/// The event's `pathParameters` (API Gateway's `{proxy+}` and `{id}`): a request extension,
/// empty for sources without them.
///
/// ```
/// # fn f(request: &http::Request<faas_runtime::http::Body>) {
/// use faas_runtime::http::PathParameters;
/// let proxy = request.extensions().get::<PathParameters>().and_then(|p| p.0.get("proxy"));
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathParameters(pub HashMap<String, String>);

/// The event's `stageVariables`: a request extension, empty for sources without them.
///
/// ```
/// # fn f(request: &http::Request<faas_runtime::http::Body>) {
/// use faas_runtime::http::StageVariables;
/// let table = request.extensions().get::<StageVariables>().and_then(|s| s.0.get("table"));
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageVariables(pub HashMap<String, String>);
