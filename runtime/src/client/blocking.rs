//! The blocking transport: one `TcpStream` in blocking mode, a request written with one
//! `writev` when the socket takes it, the answer read into a [`ReadBuf`] until
//! [`http1::take_response`] has it whole. This is the sequential path's whole cost: no
//! reactor, no allocation beyond the answer's own.
//!
//! It reports failures as the retry rule needs them ([`Failure`]): whether any byte of the
//! request was taken, and why no answer came. After a stop signal, what is left of a call is
//! bounded ([`STOP_BOUND`]): the signal handler gives the socket short timeouts
//! ([`shutdown::Busy`]) and the loops here give up once the bound has passed.

use std::io::{self, IoSlice, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::proto::{Call, Failure, Lost};
use crate::endpoint::Endpoint;
use crate::http1::{self, ReadBuf, Response};
use crate::shutdown;

/// After a stop signal, what is left of a call (the rest of a POST, its answer) gets this
/// long; then the call is given up (its answer is lost, and logged so).
pub(crate) const STOP_BOUND: Duration = Duration::from_secs(2);

/// One open connection and what has been read from it.
pub(crate) struct Connection {
    pub(super) stream: TcpStream,
    pub(super) read: ReadBuf,
}

impl Connection {
    /// Connects to `endpoint` (no timeout: the API is local to the sandbox).
    pub(crate) fn open(endpoint: &Endpoint) -> io::Result<Self> {
        let stream = TcpStream::connect(endpoint.socket())?;
        let _ = stream.set_nodelay(true);
        Ok(Self {
            stream,
            read: ReadBuf::default(),
        })
    }

    /// Writes `head` and `body` and reads the answer; `reused`: the connection carried an
    /// earlier call. `idle`: the answer may take any time (`GET /next`), and a stop signal
    /// ends the wait for it (`Ok(None)`).
    pub(crate) fn exchange(
        &mut self,
        reused: bool,
        head: &[u8],
        body: &[u8],
        idle: bool,
        headers: bool,
    ) -> Result<Option<Response>, Failure> {
        let fd = self.stream.as_raw_fd();
        let mut stop = StopClock::default();
        let lost = |partly, why| Failure::Lost {
            reused,
            partly,
            why,
        };
        if !idle {
            let _busy = shutdown::Busy::watch(fd);
            if let Err((written, error)) = write_all(&mut self.stream, head, body, &mut stop) {
                return self.after_write_error(reused, written, error, &mut stop);
            }
            return match self.read_response(&mut stop, headers) {
                Ok(response) => Ok(Some(response)),
                Err(why) => Err(lost(false, why)),
            };
        }
        if let Err((written, error)) = write_all(&mut self.stream, head, body, &mut stop) {
            return self.after_write_error(reused, written, error, &mut stop);
        }
        // A stop signal from here on shuts the socket's reading side, which ends the read.
        let _idle = shutdown::Idle::watch(fd);
        if shutdown::requested() {
            return Ok(None);
        }
        match self.read_response(&mut stop, true) {
            Ok(response) => Ok(Some(response)),
            Err(_) if shutdown::requested() => Ok(None),
            Err(why) => Err(lost(false, why)),
        }
    }

    /// A write failed after `written` bytes. None taken: the request never started. Some:
    /// the API may have answered before it stopped reading (a 413 in the middle of a large
    /// body), and that answer is final; without one, the answer is lost.
    fn after_write_error(
        &mut self,
        reused: bool,
        written: usize,
        error: io::Error,
        stop: &mut StopClock,
    ) -> Result<Option<Response>, Failure> {
        if written == 0 && error.kind() != io::ErrorKind::TimedOut {
            return Err(Failure::NotSent { reused, error });
        }
        match self.read_response(stop, false) {
            Ok(mut response) => {
                response.keep_alive = false;
                Ok(Some(response))
            }
            Err(_) => Err(Failure::Lost {
                reused,
                partly: true,
                why: match error.kind() {
                    io::ErrorKind::TimedOut => Lost::Stopped,
                    _ => Lost::Io(error),
                },
            }),
        }
    }

    /// Reads one whole answer (interim ones skipped).
    /// Reads one answer; `headers`: whether its headers are read (`/next`'s are the event's
    /// context; a post's are not needed).
    fn read_response(&mut self, stop: &mut StopClock, headers: bool) -> Result<Response, Lost> {
        let mut eof = false;
        loop {
            let taken = match headers {
                true => http1::take_response(&mut self.read, eof),
                false => http1::take_status(&mut self.read, eof),
            };
            match taken {
                Ok(Some(response)) => return Ok(response),
                Ok(None) => {}
                Err(e) => return Err(Lost::Parse(e)),
            }
            if stop.expired() {
                return Err(Lost::Stopped);
            }
            match self.stream.read(self.read.spare()) {
                Ok(0) if self.read.is_empty() => return Err(Lost::Closed),
                Ok(0) => eof = true,
                Ok(n) => self.read.commit(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // The socket timeouts a stop signal sets: check the bound and go on.
                Err(e) if stop_tick(&e) => {}
                Err(e) => return Err(Lost::Io(e)),
            }
        }
    }

    /// Whether bytes arrived that no request asked for (an answer longer than it said): the
    /// connection is out of step and must not carry another request.
    pub(crate) fn has_unasked_bytes(&self) -> bool {
        !self.read.is_empty()
    }

    /// Whether the API has not closed this kept-alive connection meanwhile (checked before a
    /// stream, which cannot be retried on a new one).
    pub(crate) fn is_open(&self) -> bool {
        peer_open(self.stream.as_raw_fd())
    }
}

/// Whether the peer of the connected socket `fd` has neither closed it nor sent anything: a
/// peek that would block. One system call, whatever the socket's blocking mode.
pub(crate) fn peer_open(fd: std::os::fd::RawFd) -> bool {
    let mut probe = [0u8; 1];
    // SAFETY: a one-byte buffer of ours; MSG_PEEK leaves the socket's data in place.
    let got = unsafe {
        libc::recv(
            fd,
            probe.as_mut_ptr().cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    got < 0 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock
}

/// When a stop signal arrived as seen by one call, and whether its bound has passed.
#[derive(Default)]
struct StopClock(Option<Instant>);

impl StopClock {
    fn expired(&mut self) -> bool {
        if !shutdown::requested() {
            return false;
        }
        let now = Instant::now();
        now >= *self.0.get_or_insert(now + STOP_BOUND)
    }
}

/// A timeout a stop signal set on the socket ran out: not an error of the call itself.
fn stop_tick(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    ) && shutdown::requested()
}

/// Opens a connection of its own and writes `head` on it, never reading an answer: the
/// internal extension's `event/next`, which no event ever answers. The connection is kept
/// (returned) so that the API sees a waiting extension, not one that hung up.
pub(crate) fn send_only(endpoint: &Endpoint, head: &[u8]) -> io::Result<TcpStream> {
    let mut stream = TcpStream::connect(endpoint.socket())?;
    stream.write_all(head)?;
    Ok(stream)
}

/// Writes `head` then `body`, in one system call when the socket takes them; on failure, how
/// many bytes were taken and why (`TimedOut`: the stop bound passed).
fn write_all(
    stream: &mut TcpStream,
    head: &[u8],
    body: &[u8],
    stop: &mut StopClock,
) -> Result<(), (usize, io::Error)> {
    let mut slices = [IoSlice::new(head), IoSlice::new(body)];
    let mut pending = &mut slices[..];
    IoSlice::advance_slices(&mut pending, 0);
    let mut written = 0;
    while !pending.is_empty() {
        if stop.expired() {
            let bound = io::Error::new(io::ErrorKind::TimedOut, "the stop bound passed");
            return Err((written, bound));
        }
        match stream.write_vectored(pending) {
            Ok(0) => return Err((written, io::ErrorKind::WriteZero.into())),
            Ok(n) => {
                written += n;
                IoSlice::advance_slices(&mut pending, n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if stop_tick(&e) => {}
            Err(e) => return Err((written, e)),
        }
    }
    Ok(())
}

/// Makes `call` once with `body` on a connection of its own, every step within `timeout`
/// (connect, write, read), asking the API to close afterwards: for the panic hook, which must
/// not hang on a full accept queue or a silent API.
///
/// ```ignore
/// let call = Call::InitError { error_type: "Runtime.Panic" };
/// post_once(&endpoint, &call, br#"{"errorMessage":"boom"}"#, Duration::from_secs(2))?;
/// ```
pub(crate) fn post_once(
    endpoint: &Endpoint,
    call: &Call<'_>,
    body: &[u8],
    timeout: Duration,
) -> io::Result<Response> {
    let mut head = Vec::with_capacity(256);
    call.head(&mut head, endpoint, Some(body.len()), true);
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
    for addr in endpoint.socket().to_socket_addrs()? {
        let stream = match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => stream,
            Err(e) => {
                last = e;
                continue;
            }
        };
        stream.set_write_timeout(Some(timeout))?;
        stream.set_read_timeout(Some(timeout))?;
        let mut conn = Connection {
            stream,
            read: ReadBuf::with_limit(64 * 1024),
        };
        let mut stop = StopClock::default();
        write_all(&mut conn.stream, &head, body, &mut stop).map_err(|(_, e)| e)?;
        return conn
            .read_response(&mut stop, false)
            .map_err(|why| io::Error::other(why.to_string()));
    }
    Err(last)
}
