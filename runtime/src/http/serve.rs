//! Local HTTP mode: an HTTP function started without `AWS_LAMBDA_RUNTIME_API` serves plain
//! HTTP itself (on `$PORT`, as Knative, Cloud Run and OpenFaaS set it), so the same binary runs
//! on Lambda, on a laptop and on Knative.
//!
//! Each request goes the way it goes on Lambda: it becomes the function URL event Lambda would
//! send (`super::front`), the function's own adapter (`crate::invocation::Adapter`, the code
//! that answers Lambda's events) answers it, and the answer is read back as HTTP; a streamed
//! answer's prelude is decoded and its body relayed chunk by chunk. What the service sees here
//! is what it sees behind a function URL.
//!
//! The crate's one server (`crate::server`) takes the connections: HTTP/1.1 keep-alive,
//! connection caps, header and body timeouts, and on SIGTERM or SIGINT a drain that lets every
//! request in flight finish (up to [`GRACE`]) before the process exits 0. Requests wait their
//! turn in arrival order (their bodies are counted against a memory budget before they are
//! read, and held until their answer is in).
//!
//! How many run at once is `AWS_LAMBDA_MAX_CONCURRENCY` (Knative's `containerConcurrency`),
//! as under Lambda Managed Instances:
//! - unset or 1: one at a time, as in one Lambda sandbox; the adapter is the one Lambda runs,
//!   which takes one event at a time, and the request id is marked process-wide
//!   (`context::set_current`) as on Lambda's sequential driver;
//! - N > 1 (capped at `config::MAX_WORKERS`): N clones of the adapter (`super::pool`), each
//!   serving one request at a time; a request waits for a free one. All run on the one
//!   current-thread runtime; each invocation's request id travels with its own future (the
//!   task-local `context::Invocation`), and a handler that panics (in a build that unwinds)
//!   costs its own request a 502, not the others.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::StatusCode;
use http_body_util::Either;
use hyper::body::{Body as _, Bytes, Incoming};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::front;
use super::pool::Pool;
use crate::config::{Config, FunctionSettings, MAX_WORKERS};
use crate::context::{self, Context, Invocation};
use crate::exit::Exit;
use crate::invocation::{Adapter, Outcome};
use crate::protocol::{env, header};
use crate::server::{self, BodyError, PortLimits, Refusals, StopSignal};
use crate::shutdown::Stop;
use crate::stream::StreamBody;

/// A streamed answer's body after its prelude.
type Relay = front::Relay<StreamBody>;
use crate::{Error, cli};

/// How long requests in flight get to finish once SIGTERM arrives.
pub(crate) const GRACE: Duration = Duration::from_secs(25);

/// Time a request body has to arrive whole.
const BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// Bytes of request bodies held at once across waiting requests.
const MAX_BUFFERED: usize = 64 * 1024 * 1024;

/// The server's own refusals, in plain text.
const REFUSALS: Refusals = Refusals {
    over_capacity: || b"{\"message\":\"too many connections\"}".to_vec(),
    unsupported_encoding: || {
        server::closing(front::text(
            StatusCode::NOT_IMPLEMENTED,
            "only Transfer-Encoding: chunked is supported",
        ))
    },
};

/// One request for the invoker: its head and body, and where its answer goes.
struct Job {
    head: http::request::Parts,
    body: Bytes,
    answer: oneshot::Sender<server::Reply<Relay>>,
}

/// Serves `adapter` (once `init` builds it) on `listen` until SIGTERM or SIGINT, up to
/// `config.max_concurrency` requests at once; returns how the process ends.
pub(crate) async fn run<A: Adapter + Clone>(
    listen: SocketAddr,
    config: &Config,
    init: impl Future<Output = Result<A, Error>>,
) -> Exit {
    let function = &config.function;
    let program = cli::program();
    let mut stop = match Stop::new() {
        Ok(stop) => stop,
        Err(e) => {
            eprintln!("{program}: cannot listen for SIGTERM: {e}");
            return Exit::Failed;
        }
    };
    // The service first, then the port: a TCP readiness probe (Knative's default) succeeds
    // only once requests can be answered.
    let adapter = match init.await {
        Ok(adapter) => adapter,
        Err(error) => {
            tracing::error!("init failed: {error}");
            return Exit::Failed;
        }
    };
    let listener = match TcpListener::bind(listen).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("{program}: cannot listen on {listen}: {e}");
            return Exit::Failed;
        }
    };
    let local = listener.local_addr().unwrap_or(listen);
    eprintln!(
        "{program}: serving HTTP on http://{local} (AWS_LAMBDA_RUNTIME_API is unset; each request is a function URL event)"
    );
    let workers = config.max_concurrency.min(MAX_WORKERS);
    if config.max_concurrency > MAX_WORKERS {
        tracing::warn!(
            "{}={}: serving {MAX_WORKERS} requests at once, the most this runtime runs",
            env::MAX_CONCURRENCY,
            config.max_concurrency
        );
    }
    let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
    let budget = Arc::new(Semaphore::new(MAX_BUFFERED));
    let stopped = Arc::new(StopSignal::default());
    let limits = PortLimits {
        // Room for every request that may run at once, each on a connection of its own.
        max_connections: workers.max(256),
        header_timeout: Duration::from_secs(30),
        grace: GRACE,
        half_close: false,
    };
    let handler = move |request| accept(request, jobs.clone(), Arc::clone(&budget));
    let server = tokio::spawn(server::serve(
        listener,
        limits,
        REFUSALS,
        handler,
        Arc::clone(&stopped),
    ));
    let invoker = async {
        if workers <= 1 {
            one_at_a_time(adapter, &mut queue, function).await;
        } else {
            at_once(adapter, workers, &mut queue, function).await;
        }
    };
    let drained = async {
        stop.recv().await;
        tracing::info!("stop signal: finishing the requests in flight, then exiting");
        stopped.fire();
        let _ = server.await;
    };
    // The invoker runs until the server has drained: every request in flight gets its answer.
    tokio::select! {
        () = invoker => {}
        () = drained => {}
    }
    Exit::Done
}

/// One request, from the connection's side: its body read whole (within the budget), queued
/// for the invoker, and its answer awaited.
async fn accept(
    request: hyper::Request<Incoming>,
    jobs: mpsc::UnboundedSender<Job>,
    budget: Arc<Semaphore>,
) -> server::Reply<Relay> {
    let (head, body) = request.into_parts();
    let body = match server::read_body(body, Some(&budget), BODY_TIMEOUT).await {
        Ok(body) => body,
        Err(e) => {
            let (status, message) = match e {
                BodyError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "request too large"),
                BodyError::Broken(_) => (StatusCode::BAD_REQUEST, "broken request body"),
                BodyError::TimedOut => (StatusCode::REQUEST_TIMEOUT, "request body timed out"),
                BodyError::Stopping => (StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
            };
            return server::closing(front::text(status, message)).map(Either::Left);
        }
    };
    let (answer, answered) = oneshot::channel();
    let job = Job {
        head,
        body: body.bytes,
        answer,
    };
    if jobs.send(job).is_err() {
        return front::text(StatusCode::SERVICE_UNAVAILABLE, "shutting down").map(Either::Left);
    }
    // `body.held` (the budget's share) is kept until the answer is in.
    let reply = answered.await;
    drop(body.held);
    reply.unwrap_or_else(|_| front::failed().map(Either::Left))
}

/// The invoker with one adapter: each request in turn, its id marked process-wide.
async fn one_at_a_time<A: Adapter>(
    mut adapter: A,
    queue: &mut mpsc::UnboundedReceiver<Job>,
    function: &Arc<FunctionSettings>,
) {
    while let Some(job) = queue.recv().await {
        let id = request_id();
        context::set_current(Some(&id));
        invoke(&mut adapter, job, function, &id).await;
        context::set_current(None);
    }
}

/// The invoker with `workers` adapters: each request, in arrival order, as soon as one is free;
/// its id travels with its own future. Ends once the queue is closed and nothing is in flight.
async fn at_once<A: Adapter + Clone>(
    adapter: A,
    workers: usize,
    queue: &mut mpsc::UnboundedReceiver<Job>,
    function: &Arc<FunctionSettings>,
) {
    tracing::debug!("serving up to {workers} requests at once");
    let mut pool = Pool::new(adapter, workers);
    loop {
        let job = tokio::select! {
            biased;
            () = pool.finished() => continue,
            job = queue.recv(), if pool.has_free() => job,
        };
        let Some(job) = job else { break };
        let id = request_id();
        let invocation = Invocation {
            request_id: Arc::from(id.as_str()),
            trace_id: None,
        };
        let function = Arc::clone(function);
        pool.start(invocation, move |mut adapter| async move {
            invoke(&mut adapter, job, &function, &id).await;
            adapter
        });
    }
    while pool.busy() {
        pool.finished().await;
    }
}

/// One request, from the invoker's side: the event, the adapter, the answer as HTTP.
async fn invoke<A: Adapter>(adapter: &mut A, job: Job, function: &Arc<FunctionSettings>, id: &str) {
    let event = front::event(&job.head, &job.body, id);
    let ctx = context(id, function);
    match adapter.invoke(&event, ctx).await {
        Outcome::Response(answer) => {
            let _ = job.answer.send(front::whole(&answer).map(Either::Left));
        }
        Outcome::Failed(_) => {
            let _ = job.answer.send(front::failed().map(Either::Left));
        }
        Outcome::Stream { mut body, producer } => {
            let relay = async {
                let content_type = body.content_type().await;
                let _ = job.answer.send(front::streamed(content_type, body).await);
            };
            tokio::join!(producer, relay);
        }
    }
    // After the awaits: with N at once, other requests ran meanwhile; the line still carries
    // this one's id.
    tracing::debug!("answered {} {}", job.head.method, job.head.uri);
}

/// The function's own stream, read by the front: a failure in its trailers (the handler's
/// error after the first bytes) is logged and ends the body there, as it cannot change the
/// status any more.
impl front::Chunks for StreamBody {
    fn poll_chunk(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Option<Bytes>> {
        match std::task::ready!(Pin::new(self).poll_frame(cx)) {
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => Poll::Ready(Some(data)),
                Err(trailers) => {
                    let kind = trailers
                        .trailers_ref()
                        .and_then(|t| t.get(header::FUNCTION_ERROR_TYPE))
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("unknown");
                    tracing::warn!("the stream failed ({kind}): ended");
                    Poll::Ready(None)
                }
            },
            Some(Err(never)) => match never {},
            None => Poll::Ready(None),
        }
    }
}

/// The context of a local invocation: a fresh request id, the function timeout as deadline.
fn context(id: &str, function: &Arc<FunctionSettings>) -> Context {
    let timeout = std::env::var(crate::protocol::env::FUNCTION_TIMEOUT)
        .ok()
        .and_then(|t| t.trim().parse::<u64>().ok())
        .filter(|t| *t > 0)
        .map_or(crate::emulator::DEFAULT_TIMEOUT, Duration::from_secs);
    let mut ctx = Context::for_test(id, timeout);
    ctx.invoked_function_arn = format!(
        "arn:aws:lambda:localhost:000000000000:function:{}",
        function.function_name
    );
    ctx.function = Arc::clone(function);
    ctx
}

/// A request id shaped as Lambda's (a UUID), unique in this process.
fn request_id() -> String {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (nanos >> 32) as u32,
        (nanos >> 16) & 0xffff,
        nanos & 0x0fff,
        std::process::id() & 0x0fff,
        n & 0xffff_ffff_ffff
    )
}
