//! One invocation of an HTTP service: the event in, the service called, the answer out, buffered
//! ([`answer`]) or streamed ([`stream`]). No Runtime API here; the adapter hands the results to
//! the invocation core.

use std::future::poll_fn;

use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::{Buf, Bytes};
use tower_service::Service;

use super::Body;
use super::event::{self, Refused, Shape, Translated, function_url};
use crate::{Context, Error, ResponseStream};

/// What a service or a body may fail with: anything boxable (axum's `Infallible` and
/// `axum::Error` are).
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The request of `event`, or the source's `400` for a request the service cannot be given.
pub(crate) fn prepare(
    event: &[u8],
    ctx: Context,
) -> Result<(Shape, Result<Request<Body>, Refused>), Error> {
    let Translated { shape, request } = event::translate(event, ctx)?;
    if let Err(Refused(why)) = &request {
        tracing::warn!("bad request, answered 400 without calling the service: {why}");
    }
    Ok((shape, request))
}

/// Calls `service` once it is ready.
async fn call<S, B>(service: &mut S, request: Request<Body>) -> Result<Response<B>, Error>
where
    S: Service<Request<Body>, Response = Response<B>, Error: Into<BoxError>>,
    B: http_body::Body<Error: Into<BoxError>>,
{
    poll_fn(|cx| service.poll_ready(cx))
        .await
        .map_err(|e| failed("the service is not ready", e))?;
    service
        .call(request)
        .await
        .map_err(|e| failed("the service failed", e))
}

/// The whole answer to `event` in its source's JSON.
pub(crate) async fn answer<S, B>(
    service: &mut S,
    event: &[u8],
    ctx: Context,
) -> Result<Vec<u8>, Error>
where
    S: Service<Request<Body>, Response = Response<B>, Error: Into<BoxError>>,
    B: http_body::Body<Error: Into<BoxError>>,
{
    let (shape, request) = prepare(event, ctx)?;
    let request = match request {
        Ok(request) => request,
        Err(Refused(why)) => return Ok(shape.refusal(StatusCode::BAD_REQUEST, &why)),
    };
    let (head, body) = call(service, request).await?.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| failed("the response body failed", e))?
        .to_bytes();
    Ok(shape.response(&head, &body))
}

/// Streams the answer to `request` into `out`: the HTTP integration prelude, then the body's
/// bytes as the service produces them. An error after the prelude ends the stream with it.
pub(crate) async fn stream<S, B>(
    service: &mut S,
    request: Result<Request<Body>, Refused>,
    mut out: ResponseStream,
) -> Result<(), Error>
where
    S: Service<Request<Body>, Response = Response<B>, Error: Into<BoxError>>,
    B: http_body::Body<Error: Into<BoxError>>,
{
    out.set_content_type(function_url::HTTP_INTEGRATION_CONTENT_TYPE)
        .await?;
    let request = match request {
        Ok(request) => request,
        Err(Refused(why)) => {
            let (mut head, ()) = Response::new(()).into_parts();
            head.status = StatusCode::BAD_REQUEST;
            head.headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            out.send(function_url::prelude(&head)).await?;
            return out.send(why).await;
        }
    };
    let (head, body) = call(service, request).await?.into_parts();
    out.send(function_url::prelude(&head)).await?;
    let mut body = std::pin::pin!(body);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| failed("the response body failed", e))?;
        if let Ok(mut data) = frame.into_data() {
            let chunk: Bytes = data.copy_to_bytes(data.remaining());
            out.send(chunk).await?;
        }
    }
    Ok(())
}

fn failed(what: &str, error: impl Into<BoxError>) -> Error {
    let error = Error::from(error.into());
    Error::new(
        error.error_type().to_owned(),
        format!("{what}: {}", error.message()),
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::Router;
    use axum::extract::Path;
    use axum::routing::{get, post};
    use serde_json::{Value, json};

    use super::*;
    use crate::http::event::tests::fixture;

    fn ctx() -> Context {
        Context::for_test("req-1", Duration::from_secs(3))
    }

    fn app() -> Router {
        Router::new()
            .route(
                "/pets/{id}",
                get(|Path(id): Path<u32>| async move {
                    (
                        axum::response::AppendHeaders([
                            ("set-cookie", "seen=1; Path=/"),
                            ("set-cookie", "last=7"),
                        ]),
                        axum::Json(json!({"id": id})),
                    )
                }),
            )
            .route("/echo", post(|body: Bytes| async move { body }))
            .route(
                "/teapot",
                get(|| async { (StatusCode::IM_A_TEAPOT, "short and stout") }),
            )
    }

    /// A v2 event for `method path`, with `body` (base64 when `binary`).
    fn v2_event(method: &str, path: &str, body: Option<(&str, bool)>) -> Vec<u8> {
        let mut event: Value =
            serde_json::from_slice(&fixture("apigw_v2_proxy_request_minimal.json")).unwrap();
        event["rawPath"] = json!(path);
        event["requestContext"]["http"]["method"] = json!(method);
        if let Some((body, binary)) = body {
            event["body"] = json!(body);
            event["isBase64Encoded"] = json!(binary);
        }
        event.to_string().into_bytes()
    }

    async fn answer_json(service: &mut Router, event: &[u8]) -> Value {
        serde_json::from_slice(&answer(service, event, ctx()).await.unwrap()).unwrap()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_axum_router_answers_events_as_it_is() {
        let mut app = app();
        let a = answer_json(&mut app, &v2_event("GET", "/pets/7", None)).await;
        assert_eq!(a["statusCode"], 200);
        assert_eq!(a["headers"]["content-type"], "application/json");
        assert_eq!(a["cookies"], json!(["seen=1; Path=/", "last=7"]));
        assert_eq!(a["body"], "{\"id\":7}");
        assert_eq!(a["isBase64Encoded"], false);
        let a = answer_json(&mut app, &v2_event("GET", "/teapot", None)).await;
        assert_eq!(a["statusCode"], 418);
        assert_eq!(a["body"], "short and stout");
        let a = answer_json(&mut app, &v2_event("GET", "/nowhere", None)).await;
        assert_eq!(a["statusCode"], 404);
        // A binary body goes in as bytes and comes back as base64.
        let png = crate::base64::encode(b"\x89PNG\r\n\x1a\n\x00\xff");
        let a = answer_json(&mut app, &v2_event("POST", "/echo", Some((&png, true)))).await;
        assert_eq!(a["isBase64Encoded"], true);
        assert_eq!(a["body"], png);
        // An invalid one never reaches the service.
        let a = answer_json(&mut app, &v2_event("POST", "/echo", Some(("%%%", true)))).await;
        assert_eq!(a["statusCode"], 400);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_event_of_no_http_source_fails_the_invocation() {
        let e = answer(&mut app(), br#"{"orderId":7}"#, ctx())
            .await
            .unwrap_err();
        assert_eq!(e.error_type(), crate::protocol::error_type::UNMARSHAL);
    }

    /// A service whose calls fail.
    struct Broken;
    impl Service<Request<Body>> for Broken {
        type Response = Response<Body>;
        type Error = std::io::Error;
        type Future = std::future::Ready<Result<Response<Body>, std::io::Error>>;
        fn poll_ready(
            &mut self,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Self::Error>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn call(&mut self, _: Request<Body>) -> Self::Future {
            std::future::ready(Err(std::io::Error::other("disk on fire")))
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_service_error_fails_the_invocation_with_its_type() {
        let e = answer(&mut Broken, &v2_event("GET", "/", None), ctx())
            .await
            .unwrap_err();
        assert_eq!(e.error_type(), "io::Error");
        assert!(e.message().contains("disk on fire"), "{e}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_streamed_answer_is_the_prelude_eight_nuls_then_the_body_chunks() {
        let mut app = Router::new().route(
            "/sse",
            get(|| async {
                let chunks = futures_util::stream::iter(["data: 1\n\n", "data: 2\n\n"])
                    .map(|c| Ok::<_, std::convert::Infallible>(Bytes::from_static(c.as_bytes())));
                (
                    [("content-type", "text/event-stream")],
                    axum::body::Body::from_stream(chunks),
                )
            }),
        );
        let (_, request) = prepare(&v2_event("GET", "/sse", None), ctx()).unwrap();
        let (out, mut body) = ResponseStream::new();
        let produce = async { stream(&mut app, request, out).await.unwrap() };
        let read = async {
            let content_type = body.content_type().await;
            let mut frames = Vec::new();
            while let Some(frame) = body.frame().await {
                frames.push(frame.unwrap().into_data().unwrap());
            }
            (content_type, frames)
        };
        let ((), (content_type, frames)) = tokio::join!(produce, read);
        assert_eq!(content_type, function_url::HTTP_INTEGRATION_CONTENT_TYPE);
        let prelude = frames[0].strip_suffix(&[0u8; 8][..]).unwrap();
        let prelude: Value = serde_json::from_slice(prelude).unwrap();
        assert_eq!(prelude["statusCode"], 200);
        assert_eq!(prelude["headers"]["content-type"], "text/event-stream");
        assert_eq!(frames[1..], ["data: 1\n\n", "data: 2\n\n"]);
    }

    use futures_util::StreamExt as _;
}
