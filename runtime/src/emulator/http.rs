//! HTTP plumbing shared by the emulator's two servers: the accept loop, bounded body reads and
//! JSON answers.

use std::convert::Infallible;
use std::future::Future;

use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::protocol::MAX_PAYLOAD;

/// Bodies past this are cut off; up to it they are read and dropped so that the client, which
/// is still sending, reads our 413 instead of a reset connection.
const DRAIN_LIMIT: usize = 16 * MAX_PAYLOAD;

pub(crate) type Reply = Response<Full<Bytes>>;

/// Serves HTTP/1.1 on `listener` with `handler`, one task per connection, until dropped.
pub(crate) async fn serve<H, Fut>(listener: TcpListener, handler: H)
where
    H: Fn(Request<Incoming>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: keep serving the connections we have.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let reply = handler(request);
                async move { Ok::<_, Infallible>(reply.await) }
            });
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
}

/// A body of more than [`MAX_PAYLOAD`] bytes.
#[derive(Debug)]
pub(crate) struct TooLarge;

/// Reads a whole body of at most [`MAX_PAYLOAD`] bytes.
pub(crate) async fn read_body(mut body: Incoming) -> Result<Bytes, TooLarge> {
    if body.size_hint().lower() > DRAIN_LIMIT as u64 {
        return Err(TooLarge);
    }
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        if let Ok(data) = frame.into_data() {
            total += data.len();
            if total <= MAX_PAYLOAD {
                kept.extend_from_slice(&data);
            } else if total > DRAIN_LIMIT {
                break;
            }
        }
    }
    if total > MAX_PAYLOAD {
        Err(TooLarge)
    } else {
        Ok(kept.into())
    }
}

/// A JSON answer.
pub(crate) fn json(status: StatusCode, body: impl Into<Bytes>) -> Reply {
    let mut reply = Response::new(Full::new(body.into()));
    *reply.status_mut() = status;
    reply
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    reply
}

/// `{"errorType": ..., "errorMessage": ...}`, the error body of AWS's APIs.
pub(crate) fn error(status: StatusCode, error_type: &str, message: &str) -> Reply {
    json(status, error_body(error_type, message))
}

/// The JSON of an error a caller sees, with Lambda's three fields.
pub(crate) fn error_body(error_type: &str, message: &str) -> Vec<u8> {
    crate::Error::new(error_type.to_owned(), message).to_json()
}
