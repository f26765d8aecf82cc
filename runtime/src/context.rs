//! What a handler knows about the invocation it serves: the request id, the deadline, the
//! caller's context, and the function's settings.
//!
//! Both types are `#[non_exhaustive]`: Lambda adds headers and settings over time, and a new
//! field here must not break a function that builds or matches on them.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Value;

use crate::http1::Headers;
use crate::protocol::header;

/// The function's own settings, as Lambda sets them (`AWS_LAMBDA_FUNCTION_NAME` and friends).
///
/// ```
/// let f = faas_runtime::FunctionSettings::default();
/// assert_eq!(f.version, "$LATEST");
/// assert_eq!(f.log_group_name, "/aws/lambda/function");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FunctionSettings {
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    pub function_name: String,
    /// `AWS_LAMBDA_FUNCTION_VERSION`.
    pub version: String,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, in MB.
    pub memory_size_mb: u32,
    /// `AWS_LAMBDA_LOG_GROUP_NAME`.
    pub log_group_name: String,
    /// `AWS_LAMBDA_LOG_STREAM_NAME`.
    pub log_stream_name: String,
}

impl Default for FunctionSettings {
    fn default() -> Self {
        Self {
            function_name: "function".into(),
            version: "$LATEST".into(),
            memory_size_mb: 3008,
            log_group_name: "/aws/lambda/function".into(),
            log_stream_name: "$LATEST".into(),
        }
    }
}

/// The invocation's context, built from the headers of `/next`.
///
/// ```
/// use std::time::Duration;
/// use faas_runtime::Context;
///
/// let ctx = Context::for_test("req-1", Duration::from_secs(3));
/// assert_eq!(ctx.request_id, "req-1");
/// assert!(ctx.remaining_time().unwrap() <= Duration::from_secs(3));
/// ```
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Context {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// `Lambda-Runtime-Deadline-Ms` in milliseconds since the Unix epoch; `None` if the API sent
    /// none or garbage (which is logged).
    pub deadline_ms: Option<u64>,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub invoked_function_arn: String,
    /// `Lambda-Runtime-Trace-Id`, also exported as `_X_AMZN_TRACE_ID` during the invocation
    /// when invocations run one at a time (see [`xray_trace_id`]).
    pub xray_trace_id: Option<String>,
    /// `Lambda-Runtime-Client-Context`, parsed as JSON.
    pub client_context: Option<Value>,
    /// `Lambda-Runtime-Cognito-Identity`, parsed as JSON.
    pub identity: Option<Value>,
    /// The function's settings from the environment.
    pub function: Arc<FunctionSettings>,
}

impl Context {
    /// Time left before the deadline (zero once it has passed); `None` without a deadline.
    pub fn remaining_time(&self) -> Option<Duration> {
        let deadline = UNIX_EPOCH + Duration::from_millis(self.deadline_ms?);
        Some(
            deadline
                .duration_since(SystemTime::now())
                .unwrap_or_default(),
        )
    }

    /// A context for unit tests of handlers: the given id, a deadline `timeout` from now, the
    /// default [`FunctionSettings`]; set the public fields a test needs.
    ///
    /// ```
    /// let mut ctx = faas_runtime::Context::for_test("req-1", std::time::Duration::from_secs(3));
    /// ctx.xray_trace_id = Some("Root=1-5-6".into());
    /// assert_eq!(ctx.function.function_name, "function");
    /// ```
    pub fn for_test(request_id: &str, timeout: Duration) -> Self {
        let deadline = SystemTime::now() + timeout;
        Self {
            request_id: request_id.into(),
            deadline_ms: deadline
                .duration_since(UNIX_EPOCH)
                .ok()
                .map(|d| d.as_millis() as u64),
            invoked_function_arn: String::new(),
            xray_trace_id: None,
            client_context: None,
            identity: None,
            function: Arc::default(),
        }
    }

    /// Builds the context from the answer to `/next`. A missing or unusable request id makes
    /// the event unanswerable, so that is an `Err` naming the problem; everything else degrades
    /// to `None` with a warning. Header values are UTF-8 (HTTP allows any byte but controls, and
    /// a client context may well carry `café`); a value that is not UTF-8 is logged and dropped.
    pub(crate) fn from_headers(
        headers: &Headers,
        function: &Arc<FunctionSettings>,
    ) -> Result<Self, String> {
        let text = |name: &str| {
            let value = headers.get(name)?;
            std::str::from_utf8(value)
                .inspect_err(|_| {
                    tracing::warn!("ignoring the event's {name} header: not UTF-8");
                })
                .ok()
        };
        let request_id = match text(header::REQUEST_ID) {
            Some(id) if is_valid_request_id(id) => id.to_owned(),
            Some(id) => {
                return Err(format!(
                    "the event's {} header is not usable: {id:?}",
                    header::REQUEST_ID
                ));
            }
            None => return Err(format!("the event has no {} header", header::REQUEST_ID)),
        };
        let deadline_ms = match text(header::DEADLINE_MS).map(|v| v.parse::<u64>()) {
            Some(Ok(ms)) => Some(ms),
            other => {
                tracing::warn!(
                    "the event's {} header is {}; the handler sees no deadline",
                    header::DEADLINE_MS,
                    if other.is_some() {
                        "not a number"
                    } else {
                        "missing"
                    }
                );
                None
            }
        };
        let json = |name: &str| {
            let raw = text(name)?;
            serde_json::from_str(raw)
                .inspect_err(|e| {
                    tracing::warn!("ignoring the event's {name} header: not JSON ({e})")
                })
                .ok()
        };
        Ok(Self {
            request_id,
            deadline_ms,
            invoked_function_arn: text(header::FUNCTION_ARN).unwrap_or_default().to_owned(),
            xray_trace_id: text(header::TRACE_ID).map(str::to_owned),
            client_context: json(header::CLIENT_CONTEXT),
            identity: json(header::COGNITO_IDENTITY),
            function: Arc::clone(function),
        })
    }
}

/// A request id goes into a URL path, so it must be a plain token (not a dot segment).
fn is_valid_request_id(id: &str) -> bool {
    !id.is_empty()
        && id != "."
        && id != ".."
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The request id of the invocation in flight, for log lines and the panic hook (one
/// invocation at a time: the sequential driver and plain HTTP).
static CURRENT: Mutex<Option<Arc<str>>> = Mutex::new(None);

/// Marks `id` as the invocation in flight (`None` between invocations).
pub(crate) fn set_current(id: Option<&str>) {
    let mut current = CURRENT.lock().unwrap_or_else(|p| p.into_inner());
    *current = id.map(Arc::from);
}

/// The request id of the invocation the calling task serves (see [`Invocation`]), else the
/// process-wide one of [`set_current`], if any.
pub(crate) fn current() -> Option<Arc<str>> {
    INVOCATION
        .try_with(|invocation| Arc::clone(&invocation.request_id))
        .ok()
        .or_else(|| CURRENT.lock().unwrap_or_else(|p| p.into_inner()).clone())
}

/// What identifies an invocation to the code that serves it, when many run at once (the
/// concurrent driver): held in a task-local for the invocation's future, so that log lines,
/// the panic hook and [`xray_trace_id`] see their own invocation's, never another's.
#[derive(Clone, Debug)]
pub(crate) struct Invocation {
    pub request_id: Arc<str>,
    pub trace_id: Option<Arc<str>>,
}

tokio::task_local! {
    static INVOCATION: Invocation;
}

impl Invocation {
    /// Runs `f` (one poll of the invocation's future) as this invocation's code.
    pub(crate) fn sync_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        INVOCATION.sync_scope(self.clone(), f)
    }
}

/// The X-Ray trace header (`Root=…;Parent=…;Sampled=…`) of the invocation the calling code
/// serves, for tracing libraries that cannot be handed the [`Context`].
///
/// With one invocation at a time (classic Lambda) it is `_X_AMZN_TRACE_ID`, which the runtime
/// exports per invocation as Lambda's own runtimes do. Under Managed Instances
/// (`AWS_LAMBDA_MAX_CONCURRENCY` > 1) the environment is shared by every invocation in flight,
/// so the runtime leaves `_X_AMZN_TRACE_ID` alone and the header travels with the invocation's
/// future instead: code running in it (not in a task it spawned) gets its own.
///
/// ```
/// // Outside any invocation, and with `_X_AMZN_TRACE_ID` unset:
/// assert_eq!(faas_runtime::xray_trace_id(), None);
/// ```
pub fn xray_trace_id() -> Option<String> {
    match INVOCATION.try_with(|invocation| invocation.trace_id.as_deref().map(str::to_owned)) {
        Ok(trace_id) => trace_id,
        Err(_) => std::env::var(crate::trace_env::NAME).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> Headers {
        let pairs: Vec<_> = pairs.iter().map(|(k, v)| (*k, v.as_bytes())).collect();
        Headers::from_pairs(&pairs)
    }

    #[test]
    fn all_headers_are_read() {
        let map = headers(&[
            (header::REQUEST_ID, "abc-1"),
            (header::DEADLINE_MS, "4102444800000"),
            (
                header::FUNCTION_ARN,
                "arn:aws:lambda:eu-west-1:1:function:f",
            ),
            (header::TRACE_ID, "Root=1-5-6;Sampled=0"),
            (header::CLIENT_CONTEXT, r#"{"custom":{"k":"v"}}"#),
            (header::COGNITO_IDENTITY, r#"{"cognitoIdentityId":"i"}"#),
        ]);
        let ctx = Context::from_headers(&map, &Arc::default()).unwrap();
        assert_eq!(ctx.request_id, "abc-1");
        assert_eq!(ctx.deadline_ms, Some(4102444800000));
        assert!(ctx.remaining_time().unwrap() > Duration::from_secs(3600));
        assert_eq!(
            ctx.invoked_function_arn,
            "arn:aws:lambda:eu-west-1:1:function:f"
        );
        assert_eq!(ctx.xray_trace_id.as_deref(), Some("Root=1-5-6;Sampled=0"));
        assert_eq!(ctx.client_context.unwrap()["custom"]["k"], "v");
        assert_eq!(ctx.identity.unwrap()["cognitoIdentityId"], "i");
    }

    #[test]
    fn garbled_headers_degrade_without_panicking() {
        let map = headers(&[
            (header::REQUEST_ID, "abc"),
            (header::DEADLINE_MS, "soon"),
            (header::CLIENT_CONTEXT, "{not json"),
        ]);
        let ctx = Context::from_headers(&map, &Arc::default()).unwrap();
        assert_eq!(ctx.deadline_ms, None);
        assert_eq!(ctx.remaining_time(), None);
        assert_eq!(ctx.client_context, None);
    }

    #[test]
    fn non_ascii_utf8_headers_are_kept() {
        let cafe = r#"{"n":"café"}"#.as_bytes();
        let map = Headers::from_pairs(&[
            (header::REQUEST_ID, b"abc"),
            (header::CLIENT_CONTEXT, cafe),
            (header::COGNITO_IDENTITY, cafe),
            (header::TRACE_ID, b"Root=\xff"),
        ]);
        let ctx = Context::from_headers(&map, &Arc::default()).unwrap();
        assert_eq!(ctx.client_context.unwrap()["n"], "café");
        assert_eq!(ctx.identity.unwrap()["n"], "café");
        assert_eq!(ctx.xray_trace_id, None, "not UTF-8: dropped (and logged)");
    }

    #[test]
    fn unusable_request_ids_are_rejected() {
        assert!(Context::from_headers(&headers(&[]), &Arc::default()).is_err());
        for bad in ["", "../x", "a b", "a/b", ".", ".."] {
            let map = headers(&[(header::REQUEST_ID, bad)]);
            assert!(
                Context::from_headers(&map, &Arc::default()).is_err(),
                "{bad:?}"
            );
        }
    }
}
