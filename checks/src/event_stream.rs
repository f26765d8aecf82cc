//! A caller of `InvokeWithResponseStream` for the tests: posts an event to the streaming
//! invoke path and reads AWS's event stream (`PayloadChunk` messages, then `InvokeComplete`)
//! from the chunked answer as it arrives, with the time each message came.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use faas_runtime::protocol::STREAM_INVOKE_PATH;

/// One event-stream message as the caller received it.
#[derive(Debug)]
pub struct Message {
    /// Its `:event-type` header (`PayloadChunk`, `InvokeComplete`).
    pub event_type: String,
    pub payload: Vec<u8>,
    /// When it was read.
    pub at: Instant,
}

/// A streaming invocation in progress: the HTTP answer read incrementally.
pub struct Stream {
    reader: BufReader<TcpStream>,
    /// The answer's status code.
    pub status: u16,
    /// The answer's head, as it came.
    pub head: String,
    buffered: Vec<u8>,
}

impl Stream {
    /// Posts `event` to the streaming invoke path at `addr` and reads the answer's head.
    pub fn open(addr: &str, event: &str) -> Self {
        let mut tcp = TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            tcp,
            "POST {STREAM_INVOKE_PATH} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n{event}",
            event.len()
        )
        .unwrap();
        let mut reader = BufReader::new(tcp);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            head.push_str(&line);
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        // A whole answer (an error before any chunk, a buffered function) has a length.
        let length = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        });
        let mut buffered = Vec::new();
        if let Some(length) = length {
            buffered.resize(length, 0);
            reader.read_exact(&mut buffered).unwrap();
        }
        Self {
            reader,
            status,
            head,
            buffered,
        }
    }

    /// Every message to the end of the body.
    pub fn messages(self) -> Vec<Message> {
        self.collect()
    }

    /// The rest of the body as it came (the event-stream bytes), unparsed.
    pub fn raw(mut self) -> Vec<u8> {
        let chunked = self
            .head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        if !chunked {
            return self.buffered;
        }
        loop {
            let mut size = String::new();
            if self.reader.read_line(&mut size).unwrap() == 0 {
                break;
            }
            let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
            if size == 0 {
                break;
            }
            let mut data = vec![0; size + 2];
            self.reader.read_exact(&mut data).unwrap();
            data.truncate(size);
            self.buffered.extend_from_slice(&data);
        }
        self.buffered
    }
}

/// One whole message: its `:event-type` and payload.
pub fn parse(m: &[u8]) -> Message {
    let headers_len = u32::from_be_bytes(m[4..8].try_into().unwrap()) as usize;
    let mut headers = &m[12..12 + headers_len];
    let mut event_type = String::new();
    while !headers.is_empty() {
        let n = headers[0] as usize;
        let name = String::from_utf8(headers[1..1 + n].to_vec()).unwrap();
        assert_eq!(headers[1 + n], 7, "string header");
        let len = u16::from_be_bytes(headers[2 + n..4 + n].try_into().unwrap()) as usize;
        let value = String::from_utf8(headers[4 + n..4 + n + len].to_vec()).unwrap();
        if name == ":event-type" {
            event_type = value;
        }
        headers = &headers[4 + n + len..];
    }
    Message {
        event_type,
        payload: m[12 + headers_len..m.len() - 4].to_vec(),
        at: Instant::now(),
    }
}

impl Iterator for Stream {
    type Item = Message;

    /// The next event-stream message, or `None` at the end of the body.
    fn next(&mut self) -> Option<Message> {
        loop {
            if self.buffered.len() >= 12 {
                let total = u32::from_be_bytes(self.buffered[0..4].try_into().unwrap()) as usize;
                if self.buffered.len() >= total {
                    let m: Vec<u8> = self.buffered.drain(..total).collect();
                    return Some(parse(&m));
                }
            }
            if !self
                .head
                .to_ascii_lowercase()
                .contains("transfer-encoding: chunked")
            {
                assert!(self.buffered.is_empty(), "a partial message");
                return None;
            }
            let mut size = String::new();
            if self.reader.read_line(&mut size).unwrap() == 0 {
                return None;
            }
            let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
            if size == 0 {
                return None;
            }
            let mut data = vec![0; size + 2];
            self.reader.read_exact(&mut data).unwrap();
            data.truncate(size);
            self.buffered.extend_from_slice(&data);
        }
    }
}
