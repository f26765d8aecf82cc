//! The parts of HTTP/1.1 the Runtime API client writes and reads itself: request heads, and
//! responses framed by length or in chunks, parsed with `httparse` (hyper's own parser).
//!
//! The client speaks over a blocking socket (see [`crate::client`]), where hyper's connection
//! machinery would need the reactor; the Runtime API uses a small, fixed part of the protocol,
//! so this module is all of it. It does no I/O: the transports read into a [`ReadBuf`] and ask
//! [`take_response`] for whole answers, so the blocking and the async transport share it and
//! the fuzzer can feed it any bytes in any pieces. Every malformed answer is a [`ParseError`],
//! never a panic; interim (1xx) answers are skipped (RFC 9110 §15.2); a body over the
//! buffer's limit is refused before it is read; a chunked body is decoded as it arrives.

use std::fmt;
use std::io::Write;

use hyper::StatusCode;
use hyper::body::Bytes;

use crate::protocol::MAX_EVENT_READ;

/// Largest response head accepted; the Runtime API's are under 1 KiB. Also the longest chunk
/// size line and the most trailer bytes.
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
    pub headers: Headers,
    pub body: Bytes,
    /// Whether the connection may carry the next request.
    pub keep_alive: bool,
}

/// The header fields of an answer as they came: a copy of its head, its names lowercased, and
/// where each field's name and value are in it. A lookup scans the fields (an answer has a
/// handful), comparing lowercase names as bytes; nothing is allocated per field. An
/// `http::HeaderMap` allocates and hashes every field: that was most of what reading a
/// `/next` answer cost.
///
/// ```ignore
/// let headers = Headers::from_pairs(&[("Lambda-Runtime-Aws-Request-Id", b"abc")]);
/// assert_eq!(headers.get("lambda-runtime-aws-request-id"), Some(&b"abc"[..]));
/// ```
#[derive(Debug, Clone, Default)]
pub(crate) struct Headers {
    head: Bytes,
    /// Per field: the name's and the value's byte ranges in `head`.
    fields: Vec<[u32; 4]>,
}

impl Headers {
    /// The fields httparse found in `head` (which they borrow from).
    fn new(head: &[u8], raw: &[httparse::Header<'_>]) -> Self {
        let base = head.as_ptr() as usize;
        let at = |part: &[u8]| {
            let start = (part.as_ptr() as usize).wrapping_sub(base);
            // httparse's slices are inside `head`, which is under MAX_HEAD bytes.
            [start as u32, (start + part.len()) as u32]
        };
        let fields: Vec<_> = raw
            .iter()
            .map(|h| {
                let [a, b] = at(h.name.as_bytes());
                let [c, d] = at(h.value);
                [a, b, c, d]
            })
            .collect();
        let mut head = head.to_vec();
        for &[a, b, ..] in &fields {
            head[a as usize..b as usize].make_ascii_lowercase();
        }
        Self {
            head: Bytes::from(head),
            fields,
        }
    }

    /// Fields from `(name, value)` pairs (tests and fuzzing).
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn from_pairs(pairs: &[(&str, &[u8])]) -> Self {
        let mut head = Vec::new();
        let mut fields = Vec::new();
        for (name, value) in pairs {
            let a = head.len() as u32;
            head.extend_from_slice(name.to_ascii_lowercase().as_bytes());
            let b = head.len() as u32;
            head.extend_from_slice(b": ");
            let c = head.len() as u32;
            head.extend_from_slice(value);
            fields.push([a, b, c, head.len() as u32]);
            head.extend_from_slice(b"\r\n");
        }
        Self {
            head: Bytes::from(head),
            fields,
        }
    }

    /// The value of the first field named `name`, given in lowercase (the protocol's names
    /// are, in `crate::protocol`): names match whatever their case on the wire.
    pub(crate) fn get(&self, name: &str) -> Option<&[u8]> {
        debug_assert!(!name.bytes().any(|b| b.is_ascii_uppercase()), "{name}");
        self.iter()
            .find(|(field, _)| *field == name.as_bytes())
            .map(|(_, value)| value)
    }

    /// Every field, in order, as `(name in lowercase, value)`.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let part = |from: u32, to: u32| &self.head[from as usize..to as usize];
        self.fields
            .iter()
            .map(move |&[a, b, c, d]| (part(a, b), part(c, d)))
    }
}

/// Why the bytes on the connection are not an answer the client can take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// The head grew past [`MAX_HEAD`] without ending.
    HeadTooLarge,
    /// The connection closed inside a response head.
    ClosedInHead,
    /// `httparse` refused the head.
    MalformedHead(httparse::Error),
    /// A status code outside 100..=999.
    Status(u16),
    /// `101 Switching Protocols`, which the client never asks for.
    SwitchingProtocols,
    /// A `Content-Length` that is not plain digits.
    ContentLength(String),
    /// Two `Content-Length` headers that disagree.
    TwoLengths,
    /// A body longer than the buffer's limit (declared, or received so far).
    BodyTooLarge { length: usize, limit: usize },
    /// The connection closed `got` bytes into a `length`-byte body.
    ClosedInBody { got: usize, length: usize },
    /// The connection closed inside a chunked body.
    ClosedInChunked,
    /// A chunk size line that is not a hexadecimal size.
    ChunkSize(String),
    /// A chunk size line or the trailers past [`MAX_HEAD`].
    ChunkLineTooLong,
    /// A chunk's data not followed by CRLF.
    ChunkNotTerminated,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HeadTooLarge => write!(f, "a response head over {MAX_HEAD} bytes"),
            Self::ClosedInHead => write!(f, "the connection closed before a whole response head"),
            Self::MalformedHead(e) => write!(f, "a malformed response head ({e})"),
            Self::Status(code) => write!(f, "a malformed status {code}"),
            Self::SwitchingProtocols => write!(f, "a 101 Switching Protocols nobody asked for"),
            Self::ContentLength(value) => write!(f, "a malformed Content-Length {value:?}"),
            Self::TwoLengths => write!(f, "two different Content-Length headers"),
            Self::BodyTooLarge { length, limit } => {
                write!(
                    f,
                    "a body of {length} bytes, over the client's limit of {limit}"
                )
            }
            Self::ClosedInBody { got, length } => {
                write!(
                    f,
                    "the connection closed {got} bytes into a {length}-byte body"
                )
            }
            Self::ClosedInChunked => write!(f, "the connection closed inside a chunked body"),
            Self::ChunkSize(line) => write!(f, "a malformed chunk size {line:?}"),
            Self::ChunkLineTooLong => {
                write!(f, "a chunk size line or trailers over {MAX_HEAD} bytes")
            }
            Self::ChunkNotTerminated => write!(f, "a chunk not followed by CRLF"),
        }
    }
}

impl std::error::Error for ParseError {}

impl From<ParseError> for String {
    fn from(e: ParseError) -> Self {
        e.to_string()
    }
}

/// Writes a request head into `out` (cleared first): the request line, `Host`, `headers`, and
/// `Content-Length` when the body has one. `path` comes in pieces, written one after another
/// (a base path, a request id, a suffix) so that no path string is built per request.
pub(crate) fn request_head(
    out: &mut Vec<u8>,
    method: &str,
    path: &[&str],
    host: &[u8],
    headers: &[(&str, &[u8])],
    content_length: Option<usize>,
) {
    out.clear();
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    for piece in path {
        out.extend_from_slice(piece.as_bytes());
    }
    for part in [&b" HTTP/1.1\r\nHost: "[..], host, b"\r\n"] {
        out.extend_from_slice(part);
    }
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

/// Bytes read from a connection and not yet consumed, with a chunked body decoded so far. The
/// storage stays initialized, so a read goes straight into it without zeroing.
#[derive(Debug)]
pub(crate) struct ReadBuf {
    data: Vec<u8>,
    start: usize,
    end: usize,
    /// Largest body taken (declared or received); past it an answer is [`ParseError::BodyTooLarge`].
    limit: usize,
    /// A chunked answer whose head is taken and whose body is being decoded.
    chunked: Option<Box<Chunked>>,
    /// How long the storage must be to hold the answer being read whole (its head and its
    /// declared length), once known: the storage then grows to it at once.
    want: usize,
}

impl Default for ReadBuf {
    /// A buffer whose bodies may be as long as [`MAX_EVENT_READ`].
    fn default() -> Self {
        Self::with_limit(MAX_EVENT_READ)
    }
}

impl ReadBuf {
    /// A buffer whose bodies may be `limit` bytes long.
    pub(crate) fn with_limit(limit: usize) -> Self {
        Self {
            data: vec![0; INITIAL_BUFFER],
            start: 0,
            end: 0,
            limit,
            chunked: None,
            want: 0,
        }
    }

    /// The bytes read and not consumed.
    pub(crate) fn filled(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    /// Whether nothing of an answer has arrived: no bytes, no chunked body begun.
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end && self.chunked.is_none()
    }

    /// Room to read into (compacts or grows the storage when full); [`ReadBuf::commit`] then.
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        if self.end == self.data.len() {
            if self.start > 0 {
                self.data.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.want = self.want.saturating_sub(self.start);
                self.start = 0;
            } else {
                // Straight to the answer's whole length when its head said it; zeroed by the
                // allocator (`vec!`), not byte by byte as `Vec::resize` does at opt-level "s":
                // growing to 512 KiB that way was a sixth of a 512 KB event's cost.
                let mut grown = vec![0; self.want.max(self.data.len() * 2)];
                grown[..self.end].copy_from_slice(&self.data[..self.end]);
                self.data = grown;
            }
        }
        &mut self.data[self.end..]
    }

    /// The answer being read needs `len` bytes of storage from its first byte.
    fn expect(&mut self, len: usize) {
        self.want = self.start + len;
    }

    /// `n` bytes were read into [`ReadBuf::spare`].
    pub(crate) fn commit(&mut self, n: usize) {
        self.end = (self.end + n).min(self.data.len());
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        // The hint was for the answer now consumed.
        self.want = 0;
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
        (self.start, self.end, self.want) = (0, 0, 0);
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

/// A chunked answer in progress: its head, and the body decoded so far.
#[derive(Debug)]
struct Chunked {
    status: StatusCode,
    headers: Headers,
    keep_alive: bool,
    body: Vec<u8>,
    at: ChunkAt,
}

/// Where the decoder of a chunked body is.
#[derive(Debug, Clone, Copy)]
enum ChunkAt {
    /// Before a chunk size line.
    Size,
    /// Inside a chunk's data, this many bytes to go.
    Data(usize),
    /// After a chunk's data, before its CRLF.
    DataEnd,
    /// In the trailers (after the last chunk), this many bytes of them seen.
    Trailers(usize),
}

/// What the head says about the body and the connection.
struct Head {
    len: usize,
    code: u16,
    framing: Framing,
    keep_alive: bool,
}

/// Takes one whole response from the front of `buf`: `Ok(None)` while more bytes are needed
/// (`eof`: the connection has closed, so a body delimited by the close is complete). Interim
/// (1xx) answers before it are consumed and skipped.
pub(crate) fn take_response(buf: &mut ReadBuf, eof: bool) -> Result<Option<Response>, ParseError> {
    take(buf, eof, true)
}

/// Like [`take_response`] for an answer whose headers nobody reads (the API's answer to a
/// post): its `headers` stay empty. Keeping them is most of what parsing an answer
/// costs, and a post's answer is read once per invocation.
pub(crate) fn take_status(buf: &mut ReadBuf, eof: bool) -> Result<Option<Response>, ParseError> {
    take(buf, eof, false)
}

fn take(buf: &mut ReadBuf, eof: bool, keep_headers: bool) -> Result<Option<Response>, ParseError> {
    if buf.chunked.is_some() {
        return decode_chunked(buf, eof);
    }
    loop {
        // Left uninitialised: httparse writes the slots it fills (zeroing all 64 was a tenth
        // of reading an answer).
        let mut slots = [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut []);
        let Some(head) = parse_head(&mut parsed, &mut slots, buf.filled(), eof)? else {
            return Ok(None);
        };
        if head.code < 200 {
            // An interim answer has no body; the final one follows.
            buf.consume(head.len);
            continue;
        }
        let available = buf.filled().len() - head.len;
        match head.framing {
            Framing::Length(length) if length > buf.limit => {
                return Err(ParseError::BodyTooLarge {
                    length,
                    limit: buf.limit,
                });
            }
            Framing::Close if available > buf.limit => {
                return Err(ParseError::BodyTooLarge {
                    length: available,
                    limit: buf.limit,
                });
            }
            Framing::Length(length) if available < length => {
                return match eof {
                    true => Err(ParseError::ClosedInBody {
                        got: available,
                        length,
                    }),
                    false => {
                        buf.expect(head.len + length);
                        Ok(None)
                    }
                };
            }
            Framing::Close if !eof => return Ok(None),
            _ => {}
        }
        let status = StatusCode::from_u16(head.code).map_err(|_| ParseError::Status(head.code))?;
        let headers = match keep_headers {
            true => Headers::new(&buf.filled()[..head.len], parsed.headers),
            false => Headers::default(),
        };
        let body = match head.framing {
            Framing::Length(length) => {
                buf.take_body(head.len..head.len + length, head.len + length)
            }
            Framing::Close => buf.take_body(head.len..head.len + available, head.len + available),
            Framing::Chunked => {
                buf.consume(head.len);
                buf.chunked = Some(Box::new(Chunked {
                    status,
                    headers,
                    keep_alive: head.keep_alive,
                    body: Vec::new(),
                    at: ChunkAt::Size,
                }));
                return decode_chunked(buf, eof);
            }
        };
        return Ok(Some(Response {
            status,
            headers,
            body,
            keep_alive: head.keep_alive && head.framing != Framing::Close,
        }));
    }
}

/// Parses the head at the front of `bytes`: `None` while it is incomplete.
fn parse_head<'h, 'b>(
    parsed: &mut httparse::Response<'h, 'b>,
    slots: &'h mut [std::mem::MaybeUninit<httparse::Header<'b>>],
    bytes: &'b [u8],
    eof: bool,
) -> Result<Option<Head>, ParseError> {
    let config = httparse::ParserConfig::default();
    let len = match config.parse_response_with_uninit_headers(parsed, bytes, slots) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if bytes.len() > MAX_HEAD => {
            return Err(ParseError::HeadTooLarge);
        }
        Ok(httparse::Status::Partial) if eof => return Err(ParseError::ClosedInHead),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(ParseError::MalformedHead(e)),
    };
    let code = parsed.code.unwrap_or_default();
    if !(100..=999).contains(&code) {
        return Err(ParseError::Status(code));
    }
    if code == 101 {
        return Err(ParseError::SwitchingProtocols);
    }
    let mut content_length = None;
    let (mut encoded, mut chunked) = (false, false);
    let (mut close, mut keep) = (false, false);
    for header in parsed.headers.iter() {
        let name = header.name.as_bytes();
        // The length first: most headers (Lambda's own) are none of the three, and a length
        // test is cheaper than three case-insensitive comparisons.
        if !matches!(name.len(), 10 | 14 | 17) {
            continue;
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            let length = parse_length(header.value)
                .ok_or_else(|| ParseError::ContentLength(lossy(header.value)))?;
            if content_length.is_some_and(|other| other != length) {
                return Err(ParseError::TwoLengths);
            }
            content_length = Some(length);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            // The last coding decides (RFC 9112 §6.3): chunked only if it is last.
            encoded = true;
            let last = header
                .value
                .rsplit(|&b| b == b',')
                .next()
                .unwrap_or_default();
            chunked = last.trim_ascii().eq_ignore_ascii_case(b"chunked");
        } else if name.eq_ignore_ascii_case(b"connection") {
            for option in header.value.split(|&b| b == b',') {
                let option = option.trim_ascii();
                close |= option.eq_ignore_ascii_case(b"close");
                keep |= option.eq_ignore_ascii_case(b"keep-alive");
            }
        }
    }
    let keep_alive = !close
        && (keep || parsed.version == Some(1))
        // Both framings at once may be a smuggling attempt: read by the chunks, then close
        // (RFC 9112 §6.3).
        && !(encoded && content_length.is_some());
    let framing = match (content_length, chunked) {
        _ if code < 200 || code == 204 || code == 304 => Framing::Length(0),
        (_, true) => Framing::Chunked,
        _ if encoded => Framing::Close,
        (Some(length), false) => Framing::Length(length),
        (None, false) => Framing::Close,
    };
    Ok(Some(Head {
        len,
        code,
        framing,
        keep_alive,
    }))
}

/// A `Content-Length`: digits only (no sign), optional whitespace around them.
fn parse_length(value: &[u8]) -> Option<usize> {
    let digits = value.trim_ascii();
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Decodes as much of the chunked body in progress as `buf` holds, consuming what it decodes:
/// the response once the last chunk and the trailers are in.
fn decode_chunked(buf: &mut ReadBuf, eof: bool) -> Result<Option<Response>, ParseError> {
    let Some(mut state) = buf.chunked.take() else {
        return Ok(None);
    };
    loop {
        let bytes = buf.filled();
        match state.at {
            ChunkAt::Size => {
                let Some(end) = find_crlf(bytes) else {
                    if bytes.len() > MAX_HEAD {
                        return Err(ParseError::ChunkLineTooLong);
                    }
                    break;
                };
                let size = chunk_size(&bytes[..end])?;
                buf.consume(end + 2);
                if size == 0 {
                    state.at = ChunkAt::Trailers(0);
                    continue;
                }
                let length = state.body.len().saturating_add(size);
                if length > buf.limit {
                    return Err(ParseError::BodyTooLarge {
                        length,
                        limit: buf.limit,
                    });
                }
                state.at = ChunkAt::Data(size);
            }
            ChunkAt::Data(left) => {
                let take = left.min(bytes.len());
                if take == 0 {
                    break;
                }
                state.body.extend_from_slice(&bytes[..take]);
                buf.consume(take);
                state.at = match left - take {
                    0 => ChunkAt::DataEnd,
                    more => ChunkAt::Data(more),
                };
            }
            ChunkAt::DataEnd => {
                if bytes.len() < 2 {
                    break;
                }
                if &bytes[..2] != b"\r\n" {
                    return Err(ParseError::ChunkNotTerminated);
                }
                buf.consume(2);
                state.at = ChunkAt::Size;
            }
            ChunkAt::Trailers(seen) => {
                // Trailers, each on its line, then an empty line; they are not kept.
                let Some(end) = find_crlf(bytes) else {
                    if seen + bytes.len() > MAX_HEAD {
                        return Err(ParseError::ChunkLineTooLong);
                    }
                    break;
                };
                buf.consume(end + 2);
                if end == 0 {
                    let Chunked {
                        status,
                        headers,
                        keep_alive,
                        body,
                        ..
                    } = *state;
                    return Ok(Some(Response {
                        status,
                        headers,
                        body: Bytes::from(body),
                        keep_alive,
                    }));
                }
                if seen + end + 2 > MAX_HEAD {
                    return Err(ParseError::ChunkLineTooLong);
                }
                state.at = ChunkAt::Trailers(seen + end + 2);
            }
        }
    }
    if eof {
        return Err(ParseError::ClosedInChunked);
    }
    buf.chunked = Some(state);
    Ok(None)
}

/// The size on a chunk size line (extensions after `;` ignored): hexadecimal digits only.
fn chunk_size(line: &[u8]) -> Result<usize, ParseError> {
    let digits = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    if digits.is_empty() || digits.len() > 15 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(ParseError::ChunkSize(lossy(line)));
    }
    std::str::from_utf8(digits)
        .ok()
        .and_then(|d| usize::from_str_radix(d, 16).ok())
        .ok_or_else(|| ParseError::ChunkSize(lossy(line)))
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(64)]).into_owned()
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
            &["/a", "/b"],
            b"127.0.0.1:9001",
            headers,
            Some(2),
        );
        assert_eq!(
            out,
            b"POST /a/b HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"
        );
        request_head(&mut out, "GET", &["/n"], b"h", &[], None);
        assert_eq!(out, b"GET /n HTTP/1.1\r\nHost: h\r\n\r\n");
    }

    #[test]
    fn header_fields_are_found_whatever_their_case_and_in_order() {
        let wire = b"HTTP/1.1 200 OK\r\nLAMBDA-Runtime-Trace-Id: Root=1\r\nX-a: 1\r\nx-A: 2\r\nContent-Length: 0\r\n\r\n";
        let r = take_response(&mut buffer(wire), false).unwrap().unwrap();
        assert_eq!(
            r.headers.get("lambda-runtime-trace-id"),
            Some(&b"Root=1"[..])
        );
        assert_eq!(r.headers.get("x-a"), Some(&b"1"[..]), "the first of two");
        assert_eq!(r.headers.get("x-b"), None);
        let names: Vec<_> = r.headers.iter().map(|(name, _)| name).collect();
        assert_eq!(
            names,
            [
                &b"lambda-runtime-trace-id"[..],
                b"x-a",
                b"x-a",
                b"content-length"
            ]
        );
        let status_only = take_status(&mut buffer(wire), false).unwrap().unwrap();
        assert_eq!(
            status_only.headers.iter().count(),
            0,
            "a post's answer keeps none"
        );
    }

    #[test]
    fn responses_by_length_back_to_back_and_in_pieces() {
        let two = b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: a\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n";
        let mut buf = buffer(two);
        let first = take_response(&mut buf, false).unwrap().unwrap();
        assert_eq!((first.status.as_u16(), &first.body[..]), (200, &b"{}"[..]));
        assert_eq!(
            first.headers.get("lambda-runtime-aws-request-id"),
            Some(&b"a"[..])
        );
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
            assert!(!e.to_string().is_empty());
        }
        let e = take_response(
            &mut buffer(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab"),
            true,
        )
        .unwrap_err()
        .to_string();
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

    #[test]
    fn a_large_body_arriving_in_pieces_grows_the_storage_once_to_its_length() {
        let body = vec![b'y'; 300_000];
        let mut wire =
            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
        let head_len = wire.len();
        wire.extend_from_slice(&body);
        let mut buf = ReadBuf::default();
        let (mut fed, mut sizes) = (0, vec![buf.data.len()]);
        let answer = loop {
            if let Some(answer) = take_response(&mut buf, false).unwrap() {
                break answer;
            }
            let spare = buf.spare();
            let n = spare.len().min(10_000).min(wire.len() - fed);
            spare[..n].copy_from_slice(&wire[fed..fed + n]);
            buf.commit(n);
            fed += n;
            if sizes.last() != Some(&buf.data.len()) {
                sizes.push(buf.data.len());
            }
        };
        assert_eq!(answer.body, body);
        // The first 16 KiB held the head; then one growth, to the whole answer.
        assert_eq!(sizes, [INITIAL_BUFFER, head_len + body.len()]);
        assert_eq!(buf.want, 0);
    }

    #[test]
    fn interim_answers_are_skipped() {
        let wire = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok";
        let mut buf = buffer(wire);
        let r = take_response(&mut buf, false).unwrap().unwrap();
        assert_eq!((r.status.as_u16(), &r.body[..]), (202, &b"ok"[..]));
        assert!(buf.is_empty());
        let e = take_response(
            &mut buffer(b"HTTP/1.1 101 Switching Protocols\r\n\r\n"),
            false,
        )
        .unwrap_err();
        assert_eq!(e, ParseError::SwitchingProtocols);
    }

    #[test]
    fn content_length_is_digits_only() {
        for bad in ["+12", "-1", "1 2", "0x10", ""] {
            let wire = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {bad}\r\n\r\n{}",
                "x".repeat(12)
            );
            let e = take_response(&mut buffer(wire.as_bytes()), false).unwrap_err();
            assert!(matches!(e, ParseError::ContentLength(_)), "{bad:?}: {e}");
        }
        let r = take_response(
            &mut buffer(b"HTTP/1.1 200 OK\r\nContent-Length:  2 \r\n\r\nab"),
            false,
        )
        .unwrap()
        .unwrap();
        assert_eq!(&r.body[..], b"ab");
    }

    #[test]
    fn what_closes_the_connection() {
        let keep = |wire: &[u8]| {
            take_response(&mut buffer(wire), false)
                .unwrap()
                .unwrap()
                .keep_alive
        };
        assert!(keep(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        assert!(!keep(
            b"HTTP/1.1 200 OK\r\nConnection: close, x\r\nContent-Length: 0\r\n\r\n"
        ));
        assert!(!keep(
            b"HTTP/1.1 200 OK\r\nConnection: x,Close\r\nContent-Length: 0\r\n\r\n"
        ));
        assert!(keep(
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"
        ));
        // Both framings: the chunks decide, and the connection is not reused.
        let both = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n";
        let r = take_response(&mut buffer(both), false).unwrap().unwrap();
        assert_eq!((&r.body[..], r.keep_alive), (&b"ab"[..], false));
        // A coding other than chunked last: the body runs to the close.
        let gzip = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\nabc";
        assert!(take_response(&mut buffer(gzip), false).unwrap().is_none());
        let r = take_response(&mut buffer(gzip), true).unwrap().unwrap();
        assert_eq!((&r.body[..], r.keep_alive), (&b"abc"[..], false));
    }

    #[test]
    fn bodies_over_the_limit_are_refused_before_they_are_read() {
        let mut buf = ReadBuf::with_limit(10);
        let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 2000000000\r\n\r\nab";
        buf.spare()[..wire.len()].copy_from_slice(wire);
        buf.commit(wire.len());
        let e = take_response(&mut buf, false).unwrap_err();
        assert_eq!(
            e,
            ParseError::BodyTooLarge {
                length: 2_000_000_000,
                limit: 10
            }
        );
        let mut buf = ReadBuf::with_limit(10);
        let wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n";
        buf.spare()[..wire.len()].copy_from_slice(wire);
        buf.commit(wire.len());
        let e = take_response(&mut buf, false).unwrap_err();
        assert_eq!(
            e,
            ParseError::BodyTooLarge {
                length: 16,
                limit: 10
            }
        );
    }

    #[test]
    fn a_chunked_body_is_decoded_as_it_arrives() {
        let body: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let mut wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for chunk in body.chunks(4) {
            wire.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            wire.extend_from_slice(chunk);
            wire.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(b"0\r\nX-T: 1\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
        let mut buf = ReadBuf::default();
        let mut found = Vec::new();
        for piece in wire.chunks(7) {
            let spare = buf.spare();
            spare[..piece.len()].copy_from_slice(piece);
            buf.commit(piece.len());
            while let Some(r) = take_response(&mut buf, false).unwrap() {
                found.push(r);
            }
            // Only the undecoded tail stays in the buffer.
            assert!(buf.filled().len() < 64, "{}", buf.filled().len());
        }
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].body, body);
        assert_eq!(found[1].status.as_u16(), 204);
    }
}
