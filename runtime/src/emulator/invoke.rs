//! The invoke endpoint, `POST /2015-03-31/functions/function/invocations`, and the
//! `START` / `END` / `REPORT` lines Lambda prints around each invocation.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Method, Request, StatusCode};

use super::http::{self, Reply, TooLarge};
use super::sandbox::{Busy, Outcome, Sandbox};
use crate::protocol::{MAX_PAYLOAD, error_type, header};

/// Routes one invoke request: `POST /2015-03-31/functions/{name}/invocations`.
pub(crate) async fn handle(sandbox: Arc<Sandbox>, request: Request<Incoming>) -> Reply {
    let path = request.uri().path();
    let is_invoke = path
        .strip_prefix("/2015-03-31/functions/")
        .and_then(|rest| rest.strip_suffix("/invocations"))
        .is_some_and(|name| !name.is_empty() && !name.contains('/'));
    if !is_invoke {
        let message = format!(
            "no route {path}: invoke with POST {}",
            crate::protocol::INVOKE_PATH
        );
        return http::error(StatusCode::NOT_FOUND, "ResourceNotFoundException", &message);
    }
    if request.method() != Method::POST {
        return http::error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "invoke with POST",
        );
    }
    let text = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let trace_id = text(header::AMZN_TRACE_ID);
    let client_context = text(header::AMZ_CLIENT_CONTEXT).map(|c| decode_client_context(&c));
    let identity = text(header::AMZ_COGNITO_IDENTITY);
    let Ok(body) = http::read_body(request.into_body())
        .await
        .map_err(|TooLarge| ())
    else {
        let message = format!(
            "Request must be smaller than {MAX_PAYLOAD} bytes for the InvokeFunction operation"
        );
        return http::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            error_type::REQUEST_TOO_LARGE,
            &message,
        );
    };
    let permit = match sandbox.acquire().await {
        Ok(permit) => permit,
        Err(Busy::TooManyWaiting) => {
            let message = "Rate Exceeded: too many invocations are waiting for this function";
            return http::error(
                StatusCode::TOO_MANY_REQUESTS,
                error_type::TOO_MANY_REQUESTS,
                message,
            );
        }
    };
    let started = Instant::now();
    let (id, outcome) = sandbox.enqueue(body, trace_id, client_context, identity);
    print(format_args!("START RequestId: {id} Version: $LATEST"));
    let outcome = match tokio::time::timeout(sandbox.timeout, outcome).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => Outcome::Error(
            http::error_body(
                error_type::EXIT,
                &format!("RequestId: {id} Error: the function process went away"),
            )
            .into(),
        ),
        Err(_) => {
            report(&sandbox, &id, started.elapsed());
            sandbox.time_out(&id);
            drop(permit);
            let message = format!(
                "RequestId: {id} Error: Task timed out after {}.00 seconds",
                sandbox.timeout.as_secs()
            );
            return function_error(http::error_body(error_type::TIMEOUT, &message).into());
        }
    };
    report(&sandbox, &id, started.elapsed());
    drop(permit);
    match outcome {
        Outcome::Response(body) => http::json(StatusCode::OK, body),
        Outcome::Error(body) => function_error(body),
    }
}

/// A failed invocation: 200 with `X-Amz-Function-Error`, as Lambda's `Invoke` API answers.
fn function_error(body: hyper::body::Bytes) -> Reply {
    let mut reply = http::json(StatusCode::OK, body);
    reply.headers_mut().insert(
        header::AMZ_FUNCTION_ERROR,
        HeaderValue::from_static("Unhandled"),
    );
    reply
}

fn report(sandbox: &Sandbox, id: &str, duration: Duration) {
    let (init, max_kib) = sandbox.report_figures();
    let ms = Millis(duration);
    let memory = max_kib.map_or_else(|| "-".to_owned(), |kib| kib.div_ceil(1024).to_string());
    let init = init.map_or_else(String::new, |d| {
        format!("\tInit Duration: {} ms", Millis(d))
    });
    print(format_args!("END RequestId: {id}"));
    print(format_args!(
        "REPORT RequestId: {id}\tDuration: {ms} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {memory} MB{init}",
        duration.as_micros().div_ceil(1000),
        sandbox.memory_size_mb,
    ));
}

/// A duration as milliseconds with two decimals, without pulling float formatting into the binary.
struct Millis(Duration);

impl std::fmt::Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let micros = self.0.as_micros();
        write!(f, "{}.{:02}", micros / 1000, micros % 1000 / 10)
    }
}

/// One line on stdout; a closed stdout must not take the emulator down.
fn print(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// Lambda's `Invoke` API takes the client context base64-encoded and the runtime receives it
/// decoded; a value that is not base64 is passed on as it came.
fn decode_client_context(value: &str) -> String {
    base64_decode(value.trim())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_else(|| value.to_owned())
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    };
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= digit(c)? << (18 - 6 * i);
        }
        out.extend_from_slice(&acc.to_be_bytes()[1..chunk.len()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_have_two_decimals() {
        assert_eq!(
            Millis(Duration::from_micros(1_234_567)).to_string(),
            "1234.56"
        );
        assert_eq!(Millis(Duration::from_micros(5)).to_string(), "0.00");
        assert_eq!(Millis(Duration::from_micros(20_050)).to_string(), "20.05");
    }

    #[test]
    fn base64_client_context_is_decoded() {
        assert_eq!(base64_decode("eyJhIjoxfQ==").unwrap(), br#"{"a":1}"#);
        assert_eq!(base64_decode("eyJhIjoxfQ").unwrap(), br#"{"a":1}"#);
        assert_eq!(decode_client_context(r#"{"raw":true}"#), r#"{"raw":true}"#);
        assert_eq!(base64_decode("a"), None);
    }
}
