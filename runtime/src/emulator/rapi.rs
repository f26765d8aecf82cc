//! The Runtime API server: `/next`, `/response`, `/error` and `/init/error`, with AWS's status
//! codes and JSON error bodies.

use std::sync::Arc;

use hyper::body::{Bytes, Incoming};
use hyper::header::HeaderValue;
use hyper::{Method, Request, StatusCode};

use super::http::{self, Reply, TooLarge};
use super::sandbox::{Outcome, Refusal, Sandbox};
use super::state::Call;
use crate::protocol::{self, MAX_PAYLOAD, error_type, header};

/// Routes one Runtime API request.
pub(crate) async fn handle(sandbox: Arc<Sandbox>, request: Request<Incoming>) -> Reply {
    let path = request.uri().path().to_owned();
    match (request.method(), path.as_str()) {
        (&Method::GET, protocol::NEXT_PATH) => next(&sandbox).await,
        (&Method::POST, protocol::INIT_ERROR_PATH) => init_error(&sandbox, request).await,
        (&Method::POST, _) => match path
            .strip_prefix(protocol::INVOCATION_PREFIX)
            .and_then(|p| p.split_once('/'))
        {
            Some((id, "response")) => answer(&sandbox, id, Call::Response, request).await,
            Some((id, "error")) => answer(&sandbox, id, Call::Error, request).await,
            _ => not_found(&path),
        },
        _ => not_found(&path),
    }
}

async fn next(sandbox: &Sandbox) -> Reply {
    let invocation = match sandbox.next().await {
        Ok(invocation) => invocation,
        Err(refusal) => return refused(refusal),
    };
    let mut reply = http::json(StatusCode::OK, invocation.body);
    let headers = reply.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(header::REQUEST_ID, &invocation.id);
    set(header::DEADLINE_MS, &invocation.deadline_ms.to_string());
    set(header::FUNCTION_ARN, &sandbox.function_arn);
    set(header::TRACE_ID, &invocation.trace_id);
    if let Some(context) = &invocation.client_context {
        set(header::CLIENT_CONTEXT, context);
    }
    if let Some(identity) = &invocation.identity {
        set(header::COGNITO_IDENTITY, identity);
    }
    reply
}

async fn answer(sandbox: &Sandbox, id: &str, call: Call, request: Request<Incoming>) -> Reply {
    if let Err(refusal) = sandbox.check_answer(id, call) {
        return refused(refusal);
    }
    let error_type = function_error_type(&request, "Unhandled");
    let (outcome, too_large) = match (http::read_body(request.into_body()).await, call) {
        (Ok(body), Call::Response) => (Outcome::Response(body), false),
        (Ok(body), _) if body.is_empty() => (
            Outcome::Error(http::error_body(&error_type, "").into()),
            false,
        ),
        (Ok(body), _) => (Outcome::Error(body), false),
        (Err(TooLarge), _) => {
            let message = format!(
                "Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD} bytes)."
            );
            (
                Outcome::Error(http::error_body(error_type::RESPONSE_TOO_LARGE, &message).into()),
                true,
            )
        }
    };
    if let Err(refusal) = sandbox.answer(id, call, outcome) {
        return refused(refusal);
    }
    if too_large {
        return payload_too_large();
    }
    accepted()
}

async fn init_error(sandbox: &Sandbox, request: Request<Incoming>) -> Reply {
    let error_type = function_error_type(&request, "Runtime.Unknown");
    let body = match http::read_body(request.into_body()).await {
        Ok(body) if !body.is_empty() => body,
        Ok(_) => Bytes::from(http::error_body(&error_type, "")),
        Err(TooLarge) => return payload_too_large(),
    };
    match sandbox.init_error(body) {
        Ok(()) => accepted(),
        Err(refusal) => refused(refusal),
    }
}

/// The `Lambda-Runtime-Function-Error-Type` the runtime sent, or `default`.
fn function_error_type(request: &Request<Incoming>, default: &str) -> String {
    let value = request.headers().get(header::FUNCTION_ERROR_TYPE);
    value
        .and_then(|v| v.to_str().ok())
        .unwrap_or(default)
        .to_owned()
}

/// 413 to the runtime, with RAPID's message.
fn payload_too_large() -> Reply {
    let message = format!("Exceeded maximum allowed payload size ({MAX_PAYLOAD} bytes).");
    http::error(
        StatusCode::PAYLOAD_TOO_LARGE,
        error_type::ENTITY_TOO_LARGE,
        &message,
    )
}

fn accepted() -> Reply {
    http::json(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

fn refused(refusal: Refusal) -> Reply {
    match refusal {
        Refusal::State(e) => http::error(
            StatusCode::FORBIDDEN,
            error_type::INVALID_STATE,
            &e.to_string(),
        ),
        Refusal::UnknownRequestId => http::error(
            StatusCode::BAD_REQUEST,
            error_type::INVALID_REQUEST_ID,
            "Invalid request ID",
        ),
        Refusal::Replaced => http::error(
            StatusCode::GONE,
            "Runtime.Replaced",
            "this function process has been replaced",
        ),
    }
}

fn not_found(path: &str) -> Reply {
    http::error(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("no Runtime API route {path}"),
    )
}
