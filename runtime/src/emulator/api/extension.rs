//! The Extensions API on the Runtime API port, as Lambda serves it: `register`, `event/next`,
//! `init/error` and `exit/error` under `/2020-01-01/extension/`, with AWS's status codes and
//! error bodies; the registry itself is the core's (`core::extensions`).

use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Method, Request, StatusCode};

use super::Reply;
use crate::emulator::api;
use crate::emulator::core::extensions::{EventType, ExtensionRefusal};
use crate::emulator::core::{Sandbox, request_id};
use crate::lifecycle::{
    ACCEPT_FEATURE_HEADER, ERROR_TYPE_HEADER, EVENT_NEXT_PATH, EXIT_ERROR_PATH, IDENTIFIER_HEADER,
    INIT_ERROR_PATH, NAME_HEADER, REGISTER_PATH,
};
use crate::protocol;
use crate::server;

/// The prefix every Extensions API path starts with.
pub(crate) const PREFIX: &str = "/2020-01-01/extension/";

/// Routes one Extensions API request.
pub(crate) async fn handle(
    sandbox: Arc<Sandbox>,
    body_timeout: Duration,
    request: Request<Incoming>,
) -> Reply {
    let path = request.uri().path().to_owned();
    match (request.method(), path.as_str()) {
        (&Method::POST, REGISTER_PATH) => register(&sandbox, body_timeout, request).await,
        (&Method::GET, EVENT_NEXT_PATH) => next(&sandbox, &request).await,
        (&Method::POST, INIT_ERROR_PATH | EXIT_ERROR_PATH) => {
            failed(&sandbox, body_timeout, request, path == INIT_ERROR_PATH).await
        }
        _ => api::error(
            StatusCode::NOT_FOUND,
            protocol::error_type::API_NOT_FOUND,
            &format!("no Extensions API route {path}"),
        ),
    }
}

fn header<'a>(request: &'a Request<Incoming>, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn register(sandbox: &Sandbox, body_timeout: Duration, request: Request<Incoming>) -> Reply {
    let Some(name) = header(&request, NAME_HEADER).map(str::to_owned) else {
        return api::error(
            StatusCode::FORBIDDEN,
            "Extension.InvalidExtensionName",
            "the Lambda-Extension-Name header is missing",
        );
    };
    let account = header(&request, ACCEPT_FEATURE_HEADER)
        .is_some_and(|f| f.split(',').any(|f| f.trim() == "accountId"));
    let body = match server::read_body(request.into_body(), None, body_timeout).await {
        Ok(body) => body.bytes,
        Err(e) => return api::body_error(&e, || invalid("the register body is too large")),
    };
    let events = match parse_events(&body) {
        Ok(events) => events,
        Err(why) => return invalid(&why),
    };
    match sandbox.extensions.register(&name, &events, request_id()) {
        Ok(id) => {
            let function_name = sandbox
                .function_arn
                .rsplit_once(':')
                .map_or("", |(_, name)| name);
            let mut info = serde_json::json!({
                "functionName": function_name,
                "functionVersion": std::env::var(protocol::env::FUNCTION_VERSION)
                    .unwrap_or_else(|_| "$LATEST".to_owned()),
                "handler": std::env::var("_HANDLER").unwrap_or_default(),
            });
            if account {
                let account_id = sandbox.function_arn.split(':').nth(4).unwrap_or_default();
                info["accountId"] = account_id.into();
            }
            let mut reply = api::json(StatusCode::OK, info.to_string());
            if let Ok(id) = HeaderValue::from_str(&id) {
                reply.headers_mut().insert(IDENTIFIER_HEADER, id);
            }
            reply
        }
        Err(refusal) => refused(&refusal),
    }
}

/// The `events` of a register body: each `INVOKE` or `SHUTDOWN`.
pub(crate) fn parse_events(body: &[u8]) -> Result<Vec<EventType>, String> {
    #[derive(serde::Deserialize)]
    struct Register {
        #[serde(default)]
        events: Vec<String>,
    }
    let register: Register = serde_json::from_slice(body)
        .map_err(|e| format!("the register body is not {{\"events\":[...]}}: {e}"))?;
    register
        .events
        .iter()
        .map(|e| EventType::parse(e).ok_or_else(|| format!("unknown event type {e:?}")))
        .collect()
}

async fn next(sandbox: &Sandbox, request: &Request<Incoming>) -> Reply {
    let Some(id) = header(request, IDENTIFIER_HEADER) else {
        return api::error(
            StatusCode::FORBIDDEN,
            "Extension.MissingExtensionIdentifier",
            "the Lambda-Extension-Identifier header is missing",
        );
    };
    match sandbox.extensions.next(id).await {
        Ok(event) => {
            let mut reply = api::json(StatusCode::OK, event);
            if let Ok(event_id) = HeaderValue::from_str(&request_id()) {
                reply
                    .headers_mut()
                    .insert("lambda-extension-event-identifier", event_id);
            }
            reply
        }
        Err(refusal) => refused(&refusal),
    }
}

/// `init/error` and `exit/error`: logged under the extension's name and accepted.
async fn failed(
    sandbox: &Sandbox,
    body_timeout: Duration,
    request: Request<Incoming>,
    init: bool,
) -> Reply {
    let Some(name) =
        header(&request, IDENTIFIER_HEADER).and_then(|id| sandbox.extensions.name_of(id))
    else {
        return refused(&ExtensionRefusal::UnknownIdentifier);
    };
    let error_type = header(&request, ERROR_TYPE_HEADER)
        .unwrap_or("Extension.Unknown")
        .to_owned();
    let body = server::read_body(request.into_body(), None, body_timeout)
        .await
        .map(|b| String::from_utf8_lossy(&b.bytes).into_owned())
        .unwrap_or_default();
    let phase = if init { "init" } else { "exit" };
    tracing::error!("extension {name} reported an {phase} error {error_type}: {body}");
    api::json(StatusCode::ACCEPTED, protocol::ACCEPTED_BODY)
}

fn invalid(why: &str) -> Reply {
    api::error(StatusCode::BAD_REQUEST, "InvalidRequestFormat", why)
}

fn refused(refusal: &ExtensionRefusal) -> Reply {
    let (error_type, message) = match refusal {
        ExtensionRefusal::RegistrationClosed => (
            "Extension.InvalidState",
            "extensions register during the init phase only",
        ),
        ExtensionRefusal::AlreadyRegistered => (
            "Extension.AlreadyRegistered",
            "an extension with this name is already registered",
        ),
        ExtensionRefusal::ShutdownForInternal => (
            "Extension.ShutdownEventNotSupportedForInternalExtension",
            "an internal extension cannot register for SHUTDOWN",
        ),
        ExtensionRefusal::UnknownIdentifier => (
            "Extension.UnknownExtensionIdentifier",
            "no extension is registered under this Lambda-Extension-Identifier",
        ),
    };
    api::error(StatusCode::FORBIDDEN, error_type, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_bodies() {
        assert_eq!(
            parse_events(br#"{"events":["INVOKE","SHUTDOWN"]}"#).unwrap(),
            [EventType::Invoke, EventType::Shutdown]
        );
        assert!(parse_events(br#"{"events":[]}"#).unwrap().is_empty());
        assert!(
            parse_events(br#"{"events":["BOOT"]}"#)
                .unwrap_err()
                .contains("BOOT")
        );
        assert!(parse_events(b"not json").is_err());
    }
}
