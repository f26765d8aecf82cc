//! The Runtime API client: one HTTP/1.1 keep-alive connection to `AWS_LAMBDA_RUNTIME_API`,
//! reused for every call and re-opened (with bounded backoff) only when it breaks.
//!
//! The socket is blocking and the calls run on the process's one thread, outside the async
//! runtime: between two invocations a function has nothing else to do, so `GET /next` is one
//! `write` and one `read` that sleeps until the event comes, and posting a response is another
//! pair. That is the shape of the C floor in `checks/peers/c-floor`; going through the
//! reactor instead costs two `epoll_wait` per exchange (docs/performance.md). A streamed
//! response is the exception: its socket joins the reactor for the stream's duration, so the
//! handler's own tasks keep running while a slow reader holds the stream back.
//!
//! The transport is concrete (one TCP connection to one address, [`Endpoint`]) because the
//! runtime owns it: no connector generics, no connection pool.

use std::fmt;
use std::io::{self, IoSlice, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::HeaderMap;
use hyper::body::Bytes;

use crate::Error;
use crate::endpoint::Endpoint;
use crate::http1::{self, ReadBuf, Response};
use crate::protocol::{self, header};
use crate::shutdown;
use crate::stream::StreamBody;

/// Waits between attempts when the API cannot be reached: about 3 s in all, long enough to ride
/// out an API restart, short enough that a dead API ends the process quickly.
const BACKOFF_MS: [u64; 6] = [50, 100, 200, 400, 800, 1600];

/// An event as `/next` returned it: the context headers and the raw payload.
pub(crate) struct Event {
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The API could not be reached after every retry.
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

/// One open connection and what has been read from it.
struct Connection {
    stream: TcpStream,
    read: ReadBuf,
}

/// A connection to the Runtime API.
pub(crate) struct Client {
    endpoint: Endpoint,
    /// `/next` under the endpoint's base path, built once.
    next_path: String,
    conn: Option<Connection>,
    /// The request head being written, kept to reuse its allocation.
    head: Vec<u8>,
}

impl Client {
    /// A client for `endpoint`; it connects on first use.
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            next_path: endpoint.path(protocol::NEXT_PATH),
            endpoint,
            conn: None,
            head: Vec::with_capacity(512),
        }
    }

    /// Long-polls for the next event; there is deliberately no timeout. `None` when a stop
    /// signal (SIGTERM, SIGINT) arrives while waiting: the process should exit.
    pub fn next(&mut self) -> Result<Option<Event>, Unreachable> {
        let mut failures = 0;
        loop {
            let path = std::mem::take(&mut self.next_path);
            let answer = self.call("GET", &path, None, true);
            self.next_path = path;
            let Some(response) = answer? else {
                return Ok(None);
            };
            if response.status.is_success() {
                return Ok(Some(Event {
                    headers: response.headers,
                    body: response.body,
                }));
            }
            // A refusal is the API's problem, not the event's: log it, back off, and give up
            // like an unreachable API if it persists.
            let status = response.status;
            tracing::error!(
                "{} answered {status}: {}",
                protocol::NEXT_PATH,
                String::from_utf8_lossy(&response.body)
            );
            if failures == BACKOFF_MS.len() {
                return Err(self.unreachable(
                    failures + 1,
                    format!("{} keeps answering {status}", protocol::NEXT_PATH),
                ));
            }
            std::thread::sleep(Duration::from_millis(BACKOFF_MS[failures]));
            failures += 1;
        }
    }

    /// Posts the handler's response for `request_id`.
    pub fn respond(&mut self, request_id: &str, body: &[u8]) -> Result<(), Unreachable> {
        let path = self.invocation_path(request_id, "/response");
        self.post(&path, body, None)
    }

    /// Posts a failed invocation for `request_id`.
    pub fn fail(&mut self, request_id: &str, error: &Error) -> Result<(), Unreachable> {
        let path = self.invocation_path(request_id, "/error");
        self.post(&path, &error.to_json(), Some(error.error_type()))
    }

    /// Posts a failure that happened before the first event.
    pub fn init_error(&mut self, error: &Error) -> Result<(), Unreachable> {
        let path = self.endpoint.path(protocol::INIT_ERROR_PATH);
        self.post(&path, &error.to_json(), Some(error.error_type()))
    }

    /// Posts `body`, a streamed response for `request_id`, chunk by chunk as the handler
    /// writes it; the request starts with the handler's first piece (its content type, a
    /// chunk, or the end). Not retried: a stream cannot be replayed, so a broken connection
    /// ends it. If the API answers before the stream ends (it refused or cut it), the body is
    /// dropped, so the handler's next `send` fails.
    pub async fn respond_streaming(
        &mut self,
        request_id: &str,
        mut body: StreamBody,
    ) -> Result<(), Unreachable> {
        let path = self.invocation_path(request_id, "/response");
        let content_type = body.content_type().await;
        let conn = match self.conn.take().filter(Connection::is_open) {
            Some(conn) => conn,
            None => self
                .connect()
                .map_err(|e| self.unreachable(1, format!("{path}: {e}")))?,
        };
        let headers: [(&str, &[u8]); 4] = [
            ("Content-Type", content_type.as_bytes()),
            ("Transfer-Encoding", b"chunked"),
            (header::FUNCTION_RESPONSE_MODE, header::STREAMING.as_bytes()),
            ("Trailer", header::STREAM_TRAILERS.as_bytes()),
        ];
        let host = self.endpoint.authority().as_bytes();
        http1::request_head(&mut self.head, "POST", &path, host, &headers, None);
        match stream_over(conn, &self.head, &mut body).await {
            Ok((response, conn)) => {
                if !response.status.is_success() {
                    tracing::warn!(
                        "{path} answered {}: {}",
                        response.status,
                        String::from_utf8_lossy(&response.body)
                    );
                }
                self.conn = conn;
            }
            // The invocation is over either way; the next call opens a new connection, and
            // reports the API unreachable if it stays so.
            Err(e) => tracing::warn!("the response stream broke: {e}"),
        }
        Ok(())
    }

    /// A POST whose non-2xx answer is logged, not fatal: the invocation is over either way.
    fn post(
        &mut self,
        path: &str,
        body: &[u8],
        error_type: Option<&str>,
    ) -> Result<(), Unreachable> {
        let Some(answer) = self.call("POST", path, Some((body, error_type)), false)? else {
            return Ok(());
        };
        if !answer.status.is_success() {
            tracing::warn!(
                "{path} answered {}: {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            );
        }
        Ok(())
    }

    /// One request, retried on connection failures: at once when a kept-alive connection
    /// turns out closed, then with [`BACKOFF_MS`]. `interruptible`: a stop signal ends the
    /// wait for the answer (`Ok(None)`).
    fn call(
        &mut self,
        method: &str,
        path: &str,
        body: Option<(&[u8], Option<&str>)>,
        interruptible: bool,
    ) -> Result<Option<Response>, Unreachable> {
        let host = self.endpoint.authority().as_bytes();
        let mut headers: [(&str, &[u8]); 2] = [("", b""); 2];
        let mut count = 0;
        if let Some((_, error_type)) = body {
            headers[0] = ("Content-Type", protocol::JSON_CONTENT_TYPE.as_bytes());
            count = 1;
            // An errorType that is no header value is left out rather than sent half-formed.
            if let Some(kind) =
                error_type.filter(|t| hyper::header::HeaderValue::from_str(t).is_ok())
            {
                headers[1] = (header::FUNCTION_ERROR_TYPE, kind.as_bytes());
                count = 2;
            }
        }
        let (payload, length) = match body {
            Some((payload, _)) => (payload, Some(payload.len())),
            None => (&[][..], None),
        };
        let headers = &headers[..count];
        http1::request_head(&mut self.head, method, path, host, headers, length);
        let mut backoff = 0;
        loop {
            let reused = self.conn.is_some();
            let last = match self.exchange(payload, interruptible) {
                Ok(Some(response)) => {
                    if !response.keep_alive {
                        self.conn = None;
                    }
                    return Ok(Some(response));
                }
                Ok(None) => return Ok(None),
                Err(e) => {
                    self.conn = None;
                    format!("{path}: {e}")
                }
            };
            if interruptible && shutdown::requested() {
                return Ok(None);
            }
            if reused {
                continue;
            }
            if backoff == BACKOFF_MS.len() {
                return Err(self.unreachable(backoff + 1, last));
            }
            tracing::debug!("Runtime API call failed ({last}); retrying");
            std::thread::sleep(Duration::from_millis(BACKOFF_MS[backoff]));
            backoff += 1;
        }
    }

    /// Writes the request in `self.head` and `body` on the open connection (or a new one) and
    /// reads the answer.
    fn exchange(&mut self, body: &[u8], interruptible: bool) -> io::Result<Option<Response>> {
        if self.conn.is_none() {
            self.conn = Some(self.connect()?);
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(io::Error::other("no connection"));
        };
        write_all(&mut conn.stream, &self.head, body)?;
        if !interruptible {
            return conn.read_response().map(Some);
        }
        // A stop signal from here on shuts the socket's reading side, which ends the read.
        let _idle = shutdown::Idle::watch(conn.stream.as_raw_fd());
        if shutdown::requested() {
            return Ok(None);
        }
        conn.read_response().map(Some)
    }

    fn connect(&self) -> io::Result<Connection> {
        let stream = TcpStream::connect(self.endpoint.socket())?;
        let _ = stream.set_nodelay(true);
        Ok(Connection {
            stream,
            read: ReadBuf::default(),
        })
    }

    /// `/invocation/{id}{what}` under the endpoint's base path.
    fn invocation_path(&self, request_id: &str, what: &str) -> String {
        let mut path = self.endpoint.path(protocol::INVOCATION_PREFIX);
        path.push_str(request_id);
        path.push_str(what);
        path
    }

    fn unreachable(&self, attempts: usize, last: String) -> Unreachable {
        Unreachable {
            addr: self.endpoint.to_string(),
            attempts,
            last,
        }
    }
}

impl Connection {
    /// Reads one whole response.
    fn read_response(&mut self) -> io::Result<Response> {
        let mut eof = false;
        loop {
            if let Some(response) = http1::take_response(&mut self.read, eof).map_err(invalid)? {
                return Ok(response);
            }
            match self.stream.read(self.read.spare()) {
                Ok(0) if eof || self.read.filled().is_empty() => {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                Ok(0) => eof = true,
                Ok(n) => self.read.commit(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Whether the API has not closed this kept-alive connection meanwhile (checked before a
    /// stream, which cannot be retried on a new one).
    fn is_open(&self) -> bool {
        let mut probe = [0u8; 1];
        let _ = self.stream.set_nonblocking(true);
        let open =
            matches!(self.stream.peek(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
        let _ = self.stream.set_nonblocking(false);
        open
    }
}

/// Writes `head` then `body`, in one system call when the socket takes them.
fn write_all(stream: &mut TcpStream, head: &[u8], body: &[u8]) -> io::Result<()> {
    let mut slices = [IoSlice::new(head), IoSlice::new(body)];
    let mut pending = &mut slices[..];
    IoSlice::advance_slices(&mut pending, 0);
    while !pending.is_empty() {
        match stream.write_vectored(pending) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut pending, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Sends a chunked request (`head`, then `body` as it comes) on `conn` through the reactor and
/// reads the answer. Returns the answer and the connection when it can carry the next request.
async fn stream_over(
    conn: Connection,
    head: &[u8],
    body: &mut StreamBody,
) -> io::Result<(Response, Option<Connection>)> {
    let Connection { stream, mut read } = conn;
    stream.set_nonblocking(true)?;
    let tcp = tokio::net::TcpStream::from_std(stream)?;
    let (response, whole) = exchange_stream(&tcp, head, body, &mut read).await?;
    let reusable = whole && response.keep_alive;
    let conn = if reusable {
        let stream = tcp.into_std()?;
        stream.set_nonblocking(false)?;
        Some(Connection { stream, read })
    } else {
        None
    };
    Ok((response, conn))
}

/// Writes the streamed request and reads its answer: `true` when the whole body was sent.
async fn exchange_stream(
    tcp: &tokio::net::TcpStream,
    head: &[u8],
    body: &mut StreamBody,
    read: &mut ReadBuf,
) -> io::Result<(Response, bool)> {
    let send = async {
        write_async(tcp, &[head]).await?;
        // Chunk-size lines and trailers; the chunks themselves are written from where they are.
        let mut framing = Vec::with_capacity(64);
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame;
            framing.clear();
            match frame.into_data() {
                Ok(data) => {
                    // Writing to a Vec cannot fail.
                    let _ = write!(framing, "{:x}\r\n", data.len());
                    write_async(tcp, &[&framing, &data, b"\r\n"]).await?;
                }
                Err(frame) => {
                    let Ok(trailers) = frame.into_trailers() else {
                        continue;
                    };
                    framing.extend_from_slice(b"0\r\n");
                    for (name, value) in &trailers {
                        for part in [name.as_str().as_bytes(), b": ", value.as_bytes(), b"\r\n"] {
                            framing.extend_from_slice(part);
                        }
                    }
                    framing.extend_from_slice(b"\r\n");
                    return write_async(tcp, &[&framing]).await;
                }
            }
        }
        write_async(tcp, &[b"0\r\n\r\n"]).await
    };
    tokio::pin!(send);
    // The API may answer before the body ends (a refusal, or the stream cut at its limit):
    // then the rest is not sent and the connection is not reused.
    let early = tokio::select! {
        biased;
        sent = &mut send => { sent?; None }
        answer = read_answer(tcp, read) => Some(answer?),
    };
    Ok(match early {
        Some(response) => (response, false),
        None => (read_answer(tcp, read).await?, true),
    })
}

/// [`Connection::read_response`] through the reactor.
async fn read_answer(tcp: &tokio::net::TcpStream, read: &mut ReadBuf) -> io::Result<Response> {
    let mut eof = false;
    loop {
        if let Some(response) = http1::take_response(read, eof).map_err(invalid)? {
            return Ok(response);
        }
        tcp.readable().await?;
        match tcp.try_read(read.spare()) {
            Ok(0) if eof || read.filled().is_empty() => {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            Ok(0) => eof = true,
            Ok(n) => read.commit(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
}

/// Writes all of `parts`, in order, through the reactor (one system call when the socket
/// takes them).
async fn write_async(tcp: &tokio::net::TcpStream, parts: &[&[u8]]) -> io::Result<()> {
    let mut slices = [IoSlice::new(&[]); 3];
    for (slice, part) in slices.iter_mut().zip(parts) {
        *slice = IoSlice::new(part);
    }
    let mut pending = &mut slices[..parts.len().min(3)];
    IoSlice::advance_slices(&mut pending, 0);
    while !pending.is_empty() {
        tcp.writable().await?;
        match tcp.try_write_vectored(pending) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut pending, n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
