//! The parts of HTTP/1.1 the Runtime API client writes and reads itself: request heads, and
//! responses framed by length or in chunks, parsed with `httparse` (hyper's own parser).
//!
//! The client speaks over a blocking socket (see [`crate::client`]), where hyper's connection
//! machinery would need the reactor; the Runtime API uses a small, fixed part of the protocol,
//! so this module is all of it. Every malformed answer is an error with a message, never a panic.

use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use std::io::Write;

use hyper::{HeaderMap, StatusCode};

/// Largest response head accepted; the Runtime API's are under 1 KiB.
const MAX_HEAD: usize = 64 * 1024;
/// Most headers in one response head.
const MAX_HEADERS: usize = 64;
/// A read buffer starts this large and returns to it after a large body.
const INITIAL_BUFFER: usize = 16 * 1024;
/// A body up to this size is copied out of the read buffer; a larger one takes the buffer.
const COPY_LIMIT: usize = 64 * 1024;

/// A whole response.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Whether the connection may carry the next request.
    pub keep_alive: bool,
}

/// Writes a request head into `out` (cleared first): the request line, `Host`, `headers`, and
/// `Content-Length` when the body has one.
pub(crate) fn request_head(
    out: &mut Vec<u8>,
    method: &str,
    path: &str,
    host: &[u8],
    headers: &[(&str, &[u8])],
    content_length: Option<usize>,
) {
    out.clear();
    for part in [
        method.as_bytes(),
        b" ",
        path.as_bytes(),
        b" HTTP/1.1\r\nHost: ",
        host,
    ] {
        out.extend_from_slice(part);
    }
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        for part in [name.as_bytes(), b": ", value, b"\r\n"] {
            out.extend_from_slice(part);
        }
    }
    if let Some(length) = content_length {
        // Writing to a Vec cannot fail.
        let _ = write!(out, "Content-Length: {length}\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Bytes read from a connection and not yet consumed. The storage stays initialized, so a read
/// goes straight into it without zeroing.
#[derive(Debug)]
pub(crate) struct ReadBuf {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl Default for ReadBuf {
    fn default() -> Self {
        Self {
            data: vec![0; INITIAL_BUFFER],
            start: 0,
            end: 0,
        }
    }
}

impl ReadBuf {
    /// The bytes read and not consumed.
    pub(crate) fn filled(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    /// Room to read into (compacts or grows the storage when full); [`ReadBuf::commit`] then.
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        if self.end == self.data.len() {
            if self.start > 0 {
                self.data.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                self.data.resize(self.data.len() * 2, 0);
            }
        }
        &mut self.data[self.end..]
    }

    /// `n` bytes were read into [`ReadBuf::spare`].
    pub(crate) fn commit(&mut self, n: usize) {
        self.end = (self.end + n).min(self.data.len());
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.data.len() > 4 * COPY_LIMIT {
                self.data = vec![0; INITIAL_BUFFER];
            }
        }
    }

    /// Takes `range` of the filled bytes as a body, then consumes `used` bytes.
    fn take_body(&mut self, range: std::ops::Range<usize>, used: usize) -> Bytes {
        let (from, to) = (self.start + range.start, self.start + range.end);
        if range.len() <= COPY_LIMIT || self.start + used != self.end {
            let body = Bytes::copy_from_slice(&self.data[from..to]);
            self.consume(used);
            return body;
        }
        // A large body, alone in the buffer: the storage itself becomes the body.
        let data = std::mem::replace(&mut self.data, vec![0; INITIAL_BUFFER]);
        (self.start, self.end) = (0, 0);
        Bytes::from(data).slice(from..to)
    }
}

/// How a response's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Framing {
    Length(usize),
    Chunked,
    /// Until the connection closes.
    Close,
}

/// Takes one whole response from the front of `buf`: `Ok(None)` while more bytes are needed
/// (`eof`: the connection has closed, so a body delimited by the close is complete).
pub(crate) fn take_response(buf: &mut ReadBuf, eof: bool) -> Result<Option<Response>, String> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut slots);
    let head_len = match parsed.parse(buf.filled()) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.filled().len() > MAX_HEAD => {
            return Err(format!("a response head over {MAX_HEAD} bytes"));
        }
        Ok(httparse::Status::Partial) if eof => {
            return Err("the connection closed before a whole response head".to_owned());
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("a malformed response head ({e})")),
    };
    let code = parsed.code.unwrap_or_default();
    let status = StatusCode::from_u16(code).map_err(|_| format!("a malformed status {code}"))?;
    let mut keep_alive = parsed.version == Some(1);
    let mut content_length = None;
    let mut chunked = false;
    let mut headers = HeaderMap::with_capacity(parsed.headers.len());
    for header in parsed.headers.iter() {
        let name = HeaderName::from_bytes(header.name.as_bytes())
            .map_err(|_| format!("a malformed header name {:?}", header.name))?;
        let value = HeaderValue::from_bytes(header.value)
            .map_err(|_| format!("a malformed value of header {name}"))?;
        if name == hyper::header::CONTENT_LENGTH {
            let length: usize = std::str::from_utf8(header.value)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| format!("a malformed Content-Length {value:?}"))?;
            if content_length.is_some_and(|other| other != length) {
                return Err("two different Content-Length headers".to_owned());
            }
            content_length = Some(length);
        } else if name == hyper::header::TRANSFER_ENCODING {
            let last = header
                .value
                .rsplit(|&b| b == b',')
                .next()
                .unwrap_or_default();
            chunked = last.trim_ascii().eq_ignore_ascii_case(b"chunked");
        } else if name == hyper::header::CONNECTION {
            if header.value.eq_ignore_ascii_case(b"close") {
                keep_alive = false;
            } else if header.value.eq_ignore_ascii_case(b"keep-alive") {
                keep_alive = true;
            }
        }
        headers.append(name, value);
    }
    let framing = match (content_length, chunked) {
        _ if code < 200 || code == 204 || code == 304 => Framing::Length(0),
        (_, true) => Framing::Chunked,
        (Some(length), false) => Framing::Length(length),
        (None, false) => Framing::Close,
    };
    let available = buf.filled().len() - head_len;
    let body = match framing {
        Framing::Length(length) if available >= length => {
            buf.take_body(head_len..head_len + length, head_len + length)
        }
        Framing::Length(length) if eof => {
            return Err(format!(
                "the connection closed {available} bytes into a {length}-byte body"
            ));
        }
        Framing::Length(_) => return Ok(None),
        Framing::Chunked => match dechunk(&buf.filled()[head_len..])? {
            Some((body, used)) => {
                buf.consume(head_len + used);
                Bytes::from(body)
            }
            None if eof => return Err("the connection closed inside a chunked body".to_owned()),
            None => return Ok(None),
        },
        Framing::Close if eof => {
            keep_alive = false;
            buf.take_body(head_len..head_len + available, head_len + available)
        }
        Framing::Close => return Ok(None),
    };
    Ok(Some(Response {
        status,
        headers,
        body,
        keep_alive,
    }))
}

/// Decodes a whole chunked body from the front of `bytes`: the body and the bytes it took
/// (trailers included, ignored), or `None` while it is incomplete.
fn dechunk(bytes: &[u8]) -> Result<Option<(Vec<u8>, usize)>, String> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let Some(line_end) = find_crlf(&bytes[at..]) else {
            return Ok(None);
        };
        let line = &bytes[at..at + line_end];
        let digits = line
            .split(|&b| b == b';')
            .next()
            .unwrap_or_default()
            .trim_ascii();
        let size = std::str::from_utf8(digits)
            .ok()
            .filter(|d| !d.is_empty() && d.len() <= 15)
            .and_then(|d| usize::from_str_radix(d, 16).ok())
            .ok_or_else(|| format!("a malformed chunk size {:?}", String::from_utf8_lossy(line)))?;
        at += line_end + 2;
        if size == 0 {
            // Trailers, each on its line, then an empty line.
            loop {
                let Some(end) = find_crlf(&bytes[at..]) else {
                    return Ok(None);
                };
                at += end + 2;
                if end == 0 {
                    return Ok(Some((body, at)));
                }
            }
        }
        if bytes.len() < at + size + 2 {
            return Ok(None);
        }
        if &bytes[at + size..at + size + 2] != b"\r\n" {
            return Err("a chunk not followed by CRLF".to_owned());
        }
        body.extend_from_slice(&bytes[at..at + size]);
        at += size + 2;
    }
}

fn find_crlf(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer(bytes: &[u8]) -> ReadBuf {
        let mut buf = ReadBuf::default();
        let mut rest = bytes;
        while !rest.is_empty() {
            let spare = buf.spare();
            let n = spare.len().min(rest.len());
            spare[..n].copy_from_slice(&rest[..n]);
            buf.commit(n);
            rest = &rest[n..];
        }
        buf
    }

    #[test]
    fn a_request_head() {
        let mut out = b"old".to_vec();
        let headers: &[(&str, &[u8])] = &[("Content-Type", b"application/json")];
        request_head(
            &mut out,
            "POST",
            "/a/b",
            b"127.0.0.1:9001",
            headers,
            Some(2),
        );
        assert_eq!(
            out,
            b"POST /a/b HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"
        );
        request_head(&mut out, "GET", "/n", b"h", &[], None);
        assert_eq!(out, b"GET /n HTTP/1.1\r\nHost: h\r\n\r\n");
    }

    #[test]
    fn responses_by_length_back_to_back_and_in_pieces() {
        let two = b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: a\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n";
        let mut buf = buffer(two);
        let first = take_response(&mut buf, false).unwrap().unwrap();
        assert_eq!((first.status.as_u16(), &first.body[..]), (200, &b"{}"[..]));
        assert_eq!(first.headers["lambda-runtime-aws-request-id"], "a");
        assert!(first.keep_alive);
        let second = take_response(&mut buf, false).unwrap().unwrap();
        assert_eq!((second.status.as_u16(), second.body.len()), (202, 0));
        assert!(buf.filled().is_empty());
        // Every prefix of the first is incomplete, never an error.
        let first_len = two.windows(12).position(|w| w == b"HTTP/1.1 202").unwrap();
        for n in 0..first_len {
            assert!(
                take_response(&mut buffer(&two[..n]), false)
                    .unwrap()
                    .is_none()
            );
        }
    }

    #[test]
    fn chunked_and_close_delimited_bodies() {
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n";
        let r = take_response(&mut buffer(chunked), false).unwrap().unwrap();
        assert_eq!(&r.body[..], b"abcde");
        let partial = &chunked[..chunked.len() - 2];
        assert!(
            take_response(&mut buffer(partial), false)
                .unwrap()
                .is_none()
        );
        assert!(take_response(&mut buffer(partial), true).is_err());
        let close = b"HTTP/1.0 200 OK\r\n\r\nuntil the end";
        assert!(take_response(&mut buffer(close), false).unwrap().is_none());
        let r = take_response(&mut buffer(close), true).unwrap().unwrap();
        assert_eq!((&r.body[..], r.keep_alive), (&b"until the end"[..], false));
        let r = take_response(
            &mut buffer(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"),
            false,
        )
        .unwrap()
        .unwrap();
        assert!(r.body.is_empty() && !r.keep_alive);
    }

    #[test]
    fn malformed_answers_are_errors_with_a_message() {
        for bad in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
            b"NOT HTTP\r\n\r\n",
        ] {
            let e = take_response(&mut buffer(bad), false).unwrap_err();
            assert!(!e.is_empty());
        }
        let e = take_response(
            &mut buffer(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab"),
            true,
        )
        .unwrap_err();
        assert!(e.contains("2 bytes into a 9-byte body"), "{e}");
        let huge = format!("HTTP/1.1 200 OK\r\nX: {}\r\n", "a".repeat(MAX_HEAD));
        assert!(take_response(&mut buffer(huge.as_bytes()), false).is_err());
    }

    #[test]
    fn a_large_body_takes_the_buffer_and_a_small_one_is_copied() {
        let body = vec![b'x'; 3 * COPY_LIMIT];
        let mut wire =
            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
        wire.extend_from_slice(&body);
        let mut buf = buffer(&wire);
        let r = take_response(&mut buf, false).unwrap().unwrap();
        assert_eq!(r.body, body);
        assert_eq!(buf.data.len(), INITIAL_BUFFER);
    }
}
