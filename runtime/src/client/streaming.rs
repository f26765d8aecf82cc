//! The async transport, for a streamed response only: the connection joins the reactor for
//! the stream's duration, so the handler's own tasks keep running while a slow reader holds
//! the stream back. It reads answers with the same parser as the blocking transport
//! ([`http1::take_response`]); its request head comes from [`super::proto`].

use std::io::{self, IoSlice, Write};

use http_body_util::BodyExt;

use super::blocking::Connection;
use crate::http1::{self, ReadBuf, Response};
use crate::stream::StreamBody;

fn invalid(e: http1::ParseError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// Sends a chunked request (`head`, then `body` as it comes) on `conn` through the reactor and
/// reads the answer. Returns the answer and the connection when it can carry the next request.
pub(super) async fn stream_over(
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

/// The blocking transport's answer reading, through the reactor.
async fn read_answer(tcp: &tokio::net::TcpStream, read: &mut ReadBuf) -> io::Result<Response> {
    let mut eof = false;
    loop {
        if let Some(response) = http1::take_response(read, eof).map_err(invalid)? {
            return Ok(response);
        }
        tcp.readable().await?;
        match tcp.try_read(read.spare()) {
            Ok(0) if read.is_empty() => {
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
