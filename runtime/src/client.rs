//! The Runtime API client: one HTTP/1.1 keep-alive connection to `AWS_LAMBDA_RUNTIME_API`,
//! reused for every call and re-opened (with bounded backoff) only when it breaks.
//!
//! With one invocation at a time (classic Lambda) the socket is blocking: between two
//! invocations a function has nothing else to do, so `GET /next` is one `write` and one `read`
//! that sleeps until the event comes, and posting a response is another pair. That is the
//! shape of the C floor in `checks/peers/c-floor`; going through the reactor instead costs two
//! `epoll_wait` per exchange (docs/performance.md). Its calls are `async` but never wait on a
//! waker. Under Managed Instances each worker is a future with a client on the reactor
//! transport ([`Client::on_reactor`]): N of them wait on one thread per CPU. A streamed response
//! always goes through the reactor, so the handler's own tasks keep running while a slow
//! reader holds the stream back.
//!
//! # Layout
//!
//! - [`proto`]: no I/O. Each call's request head, what makes a `/next` answer an event, the
//!   backoff and the retry rule (a written request is never sent again; only `GET /next` is
//!   asked again). The panic hook builds its request there too.
//! - this module: the calls, under that rule, for both transports (one implementation).
//! - [`blocking`]: the blocking transport, and the bound on a call after a stop signal.
//! - [`reactor`]: the reactor transport, with the same exchange and the same bound.
//! - [`streaming`]: a streamed response, on either transport's connection.
//! - [`crate::http1`] parses answers for every transport.
//!
//! The transport is concrete (one TCP connection to one address, [`Endpoint`]) because the
//! runtime owns it: no connector generics, no connection pool.

pub(crate) mod blocking;
pub(crate) mod proto;
mod reactor;
mod streaming;

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use crate::Error;
use crate::endpoint::Endpoint;
use crate::http1::Response;
use crate::shutdown::{self, Stopping};
use crate::stream::StreamBody;
pub(crate) use proto::Event;
use proto::{Backoff, Call, Failure, Retry};

/// The API could not be reached (or kept refusing) after every retry.
#[derive(Debug)]
pub(crate) struct Unreachable {
    addr: String,
    attempts: usize,
    last: String,
}

impl fmt::Display for Unreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot reach the Runtime API at {} (AWS_LAMBDA_RUNTIME_API) after {} attempts: {}",
            self.addr, self.attempts, self.last
        )
    }
}

/// A connection to the Runtime API.
///
/// ```ignore
/// let mut client = Client::new(Endpoint::parse("127.0.0.1:9001")?);
/// while let Some(event) = client.next().await? {
///     let id = std::str::from_utf8(event.headers.get(protocol::header::REQUEST_ID)?)?;
///     client.respond(&id, &event.body).await?;
/// }
/// ```
pub(crate) struct Client {
    endpoint: Endpoint,
    conn: Option<Conn>,
    /// The request head being written, kept to reuse its allocation.
    head: Vec<u8>,
    /// `Some` on the reactor transport, whose waits end on a stop signal this way.
    stopping: Option<Stopping>,
}

/// An open connection, of the client's transport.
enum Conn {
    Blocking(blocking::Connection),
    Reactor(reactor::Connection),
}

impl Conn {
    async fn open(endpoint: &Endpoint, reactor: &Option<Stopping>) -> std::io::Result<Self> {
        Ok(match reactor {
            None => Self::Blocking(blocking::Connection::open(endpoint)?),
            Some(stopping) => Self::Reactor(reactor::Connection::open(endpoint, stopping).await?),
        })
    }

    fn has_unasked_bytes(&self) -> bool {
        match self {
            Self::Blocking(conn) => conn.has_unasked_bytes(),
            Self::Reactor(conn) => conn.has_unasked_bytes(),
        }
    }

    fn is_open(&self) -> bool {
        match self {
            Self::Blocking(conn) => conn.is_open(),
            Self::Reactor(conn) => conn.is_open(),
        }
    }
}

impl Client {
    /// A client on the blocking transport for `endpoint`; it connects on first use.
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            conn: None,
            head: Vec::with_capacity(512),
            stopping: None,
        }
    }

    /// A client on the reactor transport (a worker of the concurrent driver), whose waits for
    /// `/next` and backoff end when `stopping` arrives; it connects on first use.
    pub fn on_reactor(endpoint: Endpoint, stopping: Stopping) -> Self {
        Self {
            stopping: Some(stopping),
            ..Self::new(endpoint)
        }
    }

    /// Long-polls for the next event; there is deliberately no timeout. `None` when a stop
    /// signal (SIGTERM, SIGINT) arrives while waiting: the process should exit. An answer that
    /// is no event (a refusal, no usable request id, malformed) is logged with its reason and
    /// asked again after a backoff wait; when that persists, the API is [`Unreachable`].
    pub async fn next(&mut self) -> Result<Option<Event>, Unreachable> {
        let mut backoff = Backoff::default();
        let mut attempts = 0;
        loop {
            let call = self.call(Call::Next, None, &mut backoff, &mut attempts);
            let Some(response) = call.await? else {
                return Ok(None);
            };
            let why = match proto::event_of(response) {
                Ok(event) => return Ok(Some(event)),
                Err(why) => why,
            };
            match why {
                proto::NotAnEvent::Status(..) => tracing::error!("{why}"),
                _ => tracing::warn!("{why}; asking again"),
            }
            let Some(wait) = backoff.failed() else {
                return Err(self.unreachable(attempts, why.to_string()));
            };
            if self.pause(wait, true).await {
                return Ok(None);
            }
        }
    }

    /// Posts the handler's response for `request_id`.
    pub async fn respond(&mut self, request_id: &str, body: &[u8]) -> Result<(), Unreachable> {
        self.post(Call::Response { id: request_id }, body).await
    }

    /// Posts a failed invocation for `request_id`.
    pub async fn fail(&mut self, request_id: &str, error: &Error) -> Result<(), Unreachable> {
        let error_type = error.error_type();
        let call = Call::Error {
            id: request_id,
            error_type,
        };
        self.post(call, &error.to_json()).await
    }

    /// Posts a failure that happened before the first event (on the blocking transport).
    pub fn init_error(&mut self, error: &Error) -> Result<(), Unreachable> {
        let error_type = error.error_type();
        now(self.post(Call::InitError { error_type }, &error.to_json()))
    }

    /// Registers the runtime's internal extension (`{"events":[]}`), so that Lambda sends
    /// SIGTERM at shutdown; whether the API accepted it (a refusal is logged). On the blocking
    /// transport.
    ///
    /// Lambda's init phase ends only when every extension has called `event/next`: once
    /// registered, the extension's `next` is sent on a connection of its own that is kept open
    /// (returned) and never read, since no event comes to an extension of no events.
    pub fn register_extension(
        &mut self,
        name: &str,
    ) -> Result<Option<std::net::TcpStream>, Unreachable> {
        let call = Call::RegisterExtension { name };
        let mut backoff = Backoff::default();
        let mut attempts = 0;
        let body = Some(&br#"{"events":[]}"#[..]);
        let answer = now(self.call(call, body, &mut backoff, &mut attempts))?;
        let Some(answer) = answer else {
            return Ok(None);
        };
        log_refusal(&call, &answer);
        let id = answer
            .headers
            .get(crate::lifecycle::IDENTIFIER_HEADER)
            .and_then(|id| std::str::from_utf8(id).ok());
        let Some(id) = id.filter(|_| answer.status.is_success()) else {
            return Ok(None);
        };
        let mut head = Vec::with_capacity(256);
        Call::ExtensionNext { id }.head(&mut head, &self.endpoint, None, false);
        match blocking::send_only(&self.endpoint, &head) {
            Ok(waiting) => Ok(Some(waiting)),
            Err(e) => {
                tracing::warn!("{}: {e}", Call::ExtensionNext { id });
                Ok(None)
            }
        }
    }

    /// Posts `body`, a streamed response for `request_id`, chunk by chunk as the handler
    /// writes it; the request starts with the handler's first piece (its content type, a
    /// chunk, or the end). Connecting is retried as for any call; the stream itself is not:
    /// it cannot be replayed, so a broken connection ends it. If the API answers before the
    /// stream ends (it refused or cut it), the body is dropped, so the handler's next `send`
    /// fails.
    pub async fn respond_streaming(
        &mut self,
        request_id: &str,
        mut body: StreamBody,
    ) -> Result<(), Unreachable> {
        let content_type = body.content_type().await;
        let call = Call::Stream {
            id: request_id,
            content_type: &content_type,
        };
        let conn = match self
            .conn
            .take()
            .filter(|c| c.is_open() && !c.has_unasked_bytes())
        {
            Some(conn) => conn,
            None => self.connect(&call).await?,
        };
        call.head(&mut self.head, &self.endpoint, None, false);
        let streamed = match conn {
            Conn::Blocking(conn) => streaming::stream_blocking(conn, &self.head, &mut body)
                .await
                .map(|(response, conn)| (response, conn.map(Conn::Blocking))),
            Conn::Reactor(mut conn) => {
                let (tcp, read) = (&conn.stream, &mut conn.read);
                match streaming::stream_over(tcp, read, &self.head, &mut body).await {
                    Ok((response, reusable)) => {
                        Ok((response, reusable.then_some(Conn::Reactor(conn))))
                    }
                    Err(e) => Err(e),
                }
            }
        };
        match streamed {
            Ok((response, conn)) => {
                log_refusal(&call, &response);
                self.conn = conn;
            }
            // The invocation is over either way; the next call opens a new connection, and
            // reports the API unreachable if it stays so.
            Err(e) => tracing::warn!("{call}: the response stream broke: {e}"),
        }
        Ok(())
    }

    /// A POST whose non-2xx answer is logged, not fatal: the invocation is over either way.
    async fn post(&mut self, call: Call<'_>, body: &[u8]) -> Result<(), Unreachable> {
        let mut backoff = Backoff::default();
        let mut attempts = 0;
        if let Some(answer) = self
            .call(call, Some(body), &mut backoff, &mut attempts)
            .await?
        {
            log_refusal(&call, &answer);
        }
        Ok(())
    }

    /// One call under the retry rule ([`proto::retry`]): sent again at once when a kept-alive
    /// connection turns out closed before it started, after a backoff wait when it never
    /// started for another reason, never when it was written (a lost answer is logged, and
    /// is `Ok(None)` as a stop signal while waiting for `/next` is).
    async fn call(
        &mut self,
        call: Call<'_>,
        body: Option<&[u8]>,
        backoff: &mut Backoff,
        attempts: &mut usize,
    ) -> Result<Option<Response>, Unreachable> {
        call.head(&mut self.head, &self.endpoint, body.map(<[u8]>::len), false);
        let payload = body.unwrap_or_default();
        let idle = call.asks_again();
        loop {
            *attempts += 1;
            let failure = match self.attempt(payload, idle, call.reads_headers()).await {
                Ok(Some(response)) => {
                    if !response.keep_alive {
                        self.conn = None;
                    }
                    return Ok(Some(response));
                }
                Ok(None) => return Ok(None),
                Err(failure) => failure,
            };
            self.conn = None;
            if idle && shutdown::requested() {
                return Ok(None);
            }
            let retry = proto::retry(&call, &failure);
            if matches!(failure, Failure::Lost { .. }) && retry != Retry::Now {
                let then = match retry {
                    Retry::Never => "not sent again",
                    _ => "asking again",
                };
                tracing::warn!("{call}: the answer is lost ({failure}); {then}");
            } else {
                tracing::debug!("{call}: {failure}; sending it again");
            }
            match retry {
                Retry::Now => {}
                Retry::Never => return Ok(None),
                Retry::Later => {
                    let Some(wait) = backoff.failed() else {
                        return Err(self.unreachable(*attempts, format!("{call}: {failure}")));
                    };
                    if self.pause(wait, idle).await {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Writes the request in `self.head` and `body` on the open connection (or a new one) and
    /// reads the answer.
    async fn attempt(
        &mut self,
        body: &[u8],
        idle: bool,
        headers: bool,
    ) -> Result<Option<Response>, Failure> {
        if self.conn.as_ref().is_some_and(Conn::has_unasked_bytes) {
            tracing::warn!(
                "the Runtime API sent bytes past the end of its answer; opening a new connection"
            );
            self.conn = None;
        }
        let reused = self.conn.is_some();
        let conn = match &mut self.conn {
            Some(conn) => conn,
            slot @ None => slot.insert(
                Conn::open(&self.endpoint, &self.stopping)
                    .await
                    .map_err(|error| Failure::NotSent { reused, error })?,
            ),
        };
        match conn {
            Conn::Blocking(conn) => conn.exchange(reused, &self.head, body, idle, headers),
            Conn::Reactor(conn) => conn.exchange(reused, &self.head, body, idle, headers).await,
        }
    }

    /// Waits `wait` between two attempts; whether a stop signal ended it (only when `idle`,
    /// waiting to ask for `/next` again: a post is still made).
    async fn pause(&mut self, wait: Duration, idle: bool) -> bool {
        match &mut self.stopping {
            None => std::thread::sleep(wait),
            Some(stopping) => {
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = stopping.arrived(), if idle => {}
                }
            }
        }
        idle && shutdown::requested()
    }

    /// A new connection for a call that cannot be retried once started, with the backoff of
    /// any call.
    async fn connect(&mut self, call: &Call<'_>) -> Result<Conn, Unreachable> {
        let mut backoff = Backoff::default();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let error = match Conn::open(&self.endpoint, &self.stopping).await {
                Ok(conn) => return Ok(conn),
                Err(error) => error,
            };
            tracing::debug!("{call}: {error}; retrying");
            let Some(wait) = backoff.failed() else {
                return Err(self.unreachable(attempts, format!("{call}: {error}")));
            };
            self.pause(wait, false).await;
        }
    }

    fn unreachable(&self, attempts: usize, last: String) -> Unreachable {
        Unreachable {
            addr: self.endpoint.to_string(),
            attempts,
            last,
        }
    }
}

/// Runs a call of the blocking transport to its end: it never waits on a waker (its I/O and
/// its pauses block the thread), so one poll finishes it.
fn now<F: Future>(call: F) -> F::Output {
    let mut call = pin!(call);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match call.as_mut().poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => unreachable!("a call on the blocking transport waited on a waker"),
    }
}

/// A POST's non-2xx answer is the API's word on it: logged with the start of its body.
fn log_refusal(call: &Call<'_>, answer: &Response) {
    if !answer.status.is_success() {
        tracing::warn!(
            "{call} answered {}: {}",
            answer.status,
            proto::excerpt(&answer.body)
        );
    }
}

/// How long the panic hook waits for each step (connect, write, read).
pub(crate) const PANIC_POST_TIMEOUT: Duration = Duration::from_secs(2);
