//! The reactor transport, for Managed Instances: one connection per worker, registered with the
//! tokio runtime, so that N workers wait for their events on one thread and a wake-up is a
//! task switch, not a thread switch. The exchange is the blocking transport's
//! ([`super::blocking`]) step for step (the request in one `writev`, the answer read into a
//! [`ReadBuf`] until [`http1::take_response`] has it whole, failures reported as the retry
//! rule needs them); only the waiting differs. A stop signal ends a wait for `/next` at once,
//! and bounds what is left of any other call ([`STOP_BOUND`]), through [`Stopping`] instead of
//! the signal handler's socket registry.

use std::io::{self, IoSlice};
use std::os::fd::AsRawFd;

use tokio::net::TcpStream;

use super::blocking::STOP_BOUND;
use super::proto::{Failure, Lost};
use crate::endpoint::Endpoint;
use crate::http1::{self, ReadBuf, Response};
use crate::shutdown::Stopping;

/// One open connection and what has been read from it.
pub(crate) struct Connection {
    pub(super) stream: TcpStream,
    pub(super) read: ReadBuf,
    stop: Stopping,
}

impl Connection {
    /// Connects to `endpoint`; `stop` ends or bounds its calls.
    pub(crate) async fn open(endpoint: &Endpoint, stop: &Stopping) -> io::Result<Self> {
        let stream = TcpStream::connect(endpoint.socket()).await?;
        let _ = stream.set_nodelay(true);
        Ok(Self {
            stream,
            read: ReadBuf::default(),
            stop: stop.clone(),
        })
    }

    /// As the blocking transport's `exchange`: writes `head` and `body` and reads the answer;
    /// `idle`: the answer may take any time (`GET /next`) and a stop signal ends the wait
    /// for it (`Ok(None)`); otherwise a stop signal leaves the call [`STOP_BOUND`].
    pub(crate) async fn exchange(
        &mut self,
        reused: bool,
        head: &[u8],
        body: &[u8],
        idle: bool,
        headers: bool,
    ) -> Result<Option<Response>, Failure> {
        let Self { stream, read, stop } = self;
        let work = async {
            let mut written = 0;
            if let Err(error) = write_all(stream, &[head, body], &mut written).await {
                return after_write_error(stream, read, reused, written, error).await;
            }
            if idle && Stopping::arrived_already() {
                return Ok(None);
            }
            match read_answer(stream, read, headers).await {
                Ok(response) => Ok(Some(response)),
                Err(why) => Err(Failure::Lost {
                    reused,
                    partly: false,
                    why,
                }),
            }
        };
        // After a stop signal, `/next` ends at once; any other call gets the bound.
        let stopped = async {
            stop.arrived().await;
            if !idle {
                tokio::time::sleep(STOP_BOUND).await;
            }
        };
        tokio::select! {
            biased;
            done = work => done,
            () = stopped => match idle {
                true => Ok(None),
                false => Err(Failure::Lost {
                    reused,
                    partly: false,
                    why: Lost::Stopped,
                }),
            },
        }
    }

    /// Whether bytes arrived that no request asked for: see the blocking transport's.
    pub(crate) fn has_unasked_bytes(&self) -> bool {
        !self.read.is_empty()
    }

    /// Whether the API has not closed this kept-alive connection meanwhile.
    pub(crate) fn is_open(&self) -> bool {
        super::blocking::peer_open(self.stream.as_raw_fd())
    }
}

/// As the blocking transport's: a write failed after `written` bytes. None taken: the request
/// never started. Some: an answer the API sent before it stopped reading (a 413 in the middle
/// of a large body) is final; without one, the answer is lost.
async fn after_write_error(
    stream: &TcpStream,
    read: &mut ReadBuf,
    reused: bool,
    written: usize,
    error: io::Error,
) -> Result<Option<Response>, Failure> {
    if written == 0 {
        return Err(Failure::NotSent { reused, error });
    }
    match read_answer(stream, read, false).await {
        Ok(mut response) => {
            response.keep_alive = false;
            Ok(Some(response))
        }
        Err(_) => Err(Failure::Lost {
            reused,
            partly: true,
            why: Lost::Io(error),
        }),
    }
}

/// Reads one whole answer (interim ones skipped); `headers`: whether its headers are read.
pub(super) async fn read_answer(
    tcp: &TcpStream,
    read: &mut ReadBuf,
    headers: bool,
) -> Result<Response, Lost> {
    let mut eof = false;
    loop {
        let taken = match headers {
            true => http1::take_response(read, eof),
            false => http1::take_status(read, eof),
        };
        match taken {
            Ok(Some(response)) => return Ok(response),
            Ok(None) => {}
            Err(e) => return Err(Lost::Parse(e)),
        }
        tcp.readable().await.map_err(Lost::Io)?;
        match tcp.try_read(read.spare()) {
            Ok(0) if read.is_empty() => return Err(Lost::Closed),
            Ok(0) => eof = true,
            Ok(n) => read.commit(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(Lost::Io(e)),
        }
    }
}

/// Writes all of `parts` (at most three), in order, in one system call when the socket takes
/// them; `written` counts the bytes taken.
pub(super) async fn write_all(
    tcp: &TcpStream,
    parts: &[&[u8]],
    written: &mut usize,
) -> io::Result<()> {
    let mut slices = [IoSlice::new(&[]); 3];
    for (slice, part) in slices.iter_mut().zip(parts) {
        *slice = IoSlice::new(part);
    }
    let mut pending = &mut slices[..parts.len().min(3)];
    IoSlice::advance_slices(&mut pending, 0);
    while !pending.is_empty() {
        match tcp.try_write_vectored(pending) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                *written += n;
                IoSlice::advance_slices(&mut pending, n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => tcp.writable().await?,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
