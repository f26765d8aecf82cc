//! A streamed response: the request's body goes out chunk by chunk as the handler writes it,
//! through the reactor, so the handler's own tasks keep running while a slow reader holds the
//! stream back. The blocking transport's connection joins the reactor for the stream's
//! duration ([`stream_blocking`]); the reactor transport's is there already. Answers are read
//! as for every call ([`super::reactor::read_answer`]); the request head comes from
//! [`super::proto`].

use std::io::{self, Write};

use http_body_util::BodyExt;
use tokio::net::TcpStream;

use super::blocking;
use super::reactor::{read_answer, write_all};
use crate::http1::{ReadBuf, Response};
use crate::stream::StreamBody;

/// [`stream_over`] on a blocking connection, which is given back when it can carry the next
/// request.
pub(super) async fn stream_blocking(
    conn: blocking::Connection,
    head: &[u8],
    body: &mut StreamBody,
) -> io::Result<(Response, Option<blocking::Connection>)> {
    let blocking::Connection { stream, mut read } = conn;
    stream.set_nonblocking(true)?;
    let tcp = TcpStream::from_std(stream)?;
    let (response, reusable) = stream_over(&tcp, &mut read, head, body).await?;
    let conn = if reusable {
        let stream = tcp.into_std()?;
        stream.set_nonblocking(false)?;
        Some(blocking::Connection { stream, read })
    } else {
        None
    };
    Ok((response, conn))
}

/// Sends a chunked request (`head`, then `body` as it comes) on `tcp` and reads the answer;
/// `true` when the connection can carry the next request.
pub(super) async fn stream_over(
    tcp: &TcpStream,
    read: &mut ReadBuf,
    head: &[u8],
    body: &mut StreamBody,
) -> io::Result<(Response, bool)> {
    let (response, whole) = exchange_stream(tcp, head, body, read).await?;
    let reusable = whole && response.keep_alive;
    Ok((response, reusable))
}

/// Writes the streamed request and reads its answer: `true` when the whole body was sent.
async fn exchange_stream(
    tcp: &TcpStream,
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
        answer = answer(tcp, read) => Some(answer?),
    };
    Ok(match early {
        Some(response) => (response, false),
        None => (answer(tcp, read).await?, true),
    })
}

/// Reads the answer, as an I/O error when there is none.
async fn answer(tcp: &TcpStream, read: &mut ReadBuf) -> io::Result<Response> {
    read_answer(tcp, read, true)
        .await
        .map_err(|why| io::Error::new(io::ErrorKind::InvalidData, why.to_string()))
}

/// Writes all of `parts`, in order (one system call when the socket takes them).
async fn write_async(tcp: &TcpStream, parts: &[&[u8]]) -> io::Result<()> {
    write_all(tcp, parts, &mut 0).await
}
