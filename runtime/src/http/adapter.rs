//! The HTTP adapters of the invocation core: [`run_http`] (a whole response in its source's
//! JSON) and [`run_http_streaming`] (the HTTP integration prelude, then the body as it comes).

use std::marker::PhantomData;

use http::{Request, Response};
use tower_service::Service;

use super::Body;
use super::service::{self, BoxError};
use crate::invocation::{self, Adapter, Outcome};
use crate::{Context, ResponseStream};

/// Runs `service` for every HTTP event (API Gateway REST and HTTP APIs, ALB, function URLs)
/// until the process is told to stop; never returns.
///
/// `service` is any `tower::Service` of `http::Request<faas_runtime::http::Body>` whose response
/// body is an `http_body::Body`: an axum `Router` as it is. Each event becomes the request the
/// client sent; the response goes back whole, in the JSON of the event's source (text or base64
/// by its `Content-Type` and `Content-Encoding`). A service error fails the invocation (API
/// Gateway then answers `502`); an event whose body cannot be decoded gets a `400` without
/// reaching the service.
///
/// ```no_run
/// use axum::{Router, routing::get};
///
/// # fn _main() {
/// let app = Router::new().route("/hello", get(|| async { "Hello!" }));
/// faas_runtime::http::run_http(app)
/// # }
/// ```
pub fn run_http<S, B>(service: S) -> !
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    crate::start::run_http(|| async move { Ok(Buffered(service, PhantomData)) })
}

/// Like [`run_http`], with an async `init` that builds the service before the first event
/// (open clients, read configuration, build the router's state). If `init` fails, its error is
/// posted to the Runtime API's `/init/error` and the process exits non-zero.
///
/// ```no_run
/// use axum::{Router, routing::get};
///
/// # fn _main() {
/// faas_runtime::http::run_http_with_init(|| async {
///     let table = std::env::var("TABLE")?;
///     Ok(Router::new().route("/table", get(move || async move { table.clone() })))
/// })
/// # }
/// ```
pub fn run_http_with_init<S, B, I, IFut>(init: I) -> !
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: FnOnce() -> IFut,
    IFut: std::future::Future<Output = Result<S, crate::Error>>,
{
    crate::start::run_http(|| async move { init().await.map(|s| Buffered(s, PhantomData)) })
}

/// Like [`run_http`], streaming each response as the service produces it (Lambda's response
/// streaming: function URLs with `InvokeMode: RESPONSE_STREAM`, `InvokeWithResponseStream`).
///
/// The body Lambda receives starts with the HTTP integration prelude (status, headers and
/// cookies as JSON, then eight NUL bytes), content type
/// `application/vnd.awslambda.http-integration-response`; Lambda turns it back into the
/// status and headers the client sees, and passes each chunk on as it arrives. An error after
/// the first bytes ends the stream with Lambda's error trailers.
///
/// ```no_run
/// use axum::{Router, body::Body, routing::get};
///
/// # fn _main() {
/// let app = Router::new().route("/count", get(|| async {
///     let chunks = (1..=3).map(|i| Ok::<_, std::io::Error>(format!("{i}\n")));
///     Body::from_stream(futures_util::stream::iter(chunks))
/// }));
/// faas_runtime::http::run_http_streaming(app)
/// # }
/// ```
pub fn run_http_streaming<S, B>(service: S) -> !
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    crate::start::run_http(|| async move { Ok(Streamed(service, PhantomData)) })
}

/// A service whose responses are posted whole.
pub(crate) struct Buffered<S, B>(pub(crate) S, pub(crate) PhantomData<fn() -> B>);

// Not derived: that would ask `B: Clone`.
impl<S: Clone, B> Clone for Buffered<S, B> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}

impl<S, B> Adapter for Buffered<S, B>
where
    S: Service<Request<Body>, Response = Response<B>, Error: Into<BoxError>>,
    B: http_body::Body<Error: Into<BoxError>>,
{
    async fn invoke<'a>(&'a mut self, event: &'a [u8], ctx: Context) -> Outcome<'a> {
        match service::answer(&mut self.0, event, ctx).await {
            Ok(body) => Outcome::Response(body),
            Err(error) => invocation::failed(error),
        }
    }
}

/// A service whose responses are streamed behind the HTTP integration prelude.
pub(crate) struct Streamed<S, B>(pub(crate) S, pub(crate) PhantomData<fn() -> B>);

// Not derived: that would ask `B: Clone`.
impl<S: Clone, B> Clone for Streamed<S, B> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}

impl<S, B> Adapter for Streamed<S, B>
where
    S: Service<Request<Body>, Response = Response<B>, Error: Into<BoxError>>,
    B: http_body::Body<Error: Into<BoxError>>,
{
    async fn invoke<'a>(&'a mut self, event: &'a [u8], ctx: Context) -> Outcome<'a> {
        // An event that is no HTTP event fails before any byte is streamed: a plain error.
        let request = match service::prepare(event, ctx) {
            Ok((_, request)) => request,
            Err(error) => return invocation::failed(error),
        };
        let (stream, body) = ResponseStream::new();
        let service = &mut self.0;
        let producer = async move {
            let tail = stream.clone();
            if let Err(error) = service::stream(service, request, stream).await {
                tracing::warn!("stream failed: {error}");
                tail.fail(&error).await;
            }
        };
        Outcome::Stream {
            body,
            producer: Box::pin(producer),
        }
    }
}
