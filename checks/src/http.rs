//! A minimal blocking HTTP/1.1 client over `std::net`, enough to invoke a local-mode
//! endpoint: one POST per connection (`Connection: close`), a body read by
//! Content-Length, chunked encoding or to end of stream.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A parsed response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body for messages, shortened.
    pub fn body_excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        match text.char_indices().nth(160) {
            Some((i, _)) => format!("{}...", &text[..i]),
            None => text.into_owned(),
        }
    }
}

/// `http://host:port/path` → (`host:port`, `/path`); the path defaults to `/`.
pub fn split_url(url: &str) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("`{url}`: only http:// URLs are supported"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(format!("`{url}` has no host"));
    }
    let authority = if authority.contains(':') && !authority.ends_with(']') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    Ok((authority, path.to_string()))
}

/// POSTs `body` to `path` on `addr` (`host:port`) and reads the whole response.
pub fn post(addr: &str, path: &str, body: &[u8], timeout: Duration) -> Result<Response, String> {
    request(addr, "POST", path, &[], body, timeout)
}

/// Sends one request with extra `headers` and reads the whole response. The body is written
/// from a second thread, so a server that answers early (a 413 before reading an oversized
/// body) is still heard.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Result<Response, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connecting to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|_| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| format!("setting timeouts: {e}"))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .map_err(|e| format!("sending to {addr}: {e}"))?;
    let mut writer = stream
        .try_clone()
        .map_err(|e| format!("cloning the socket: {e}"))?;
    std::thread::scope(|scope| {
        // A write error (the server closed early) shows up as a read result below.
        scope.spawn(move || {
            let _ = writer.write_all(body);
        });
        read_response(&mut BufReader::new(&mut stream))
            .map_err(|e| format!("reading the response from {addr}: {e}"))
    })
}

/// Parses one HTTP/1.1 response from `reader`.
pub fn read_response(reader: &mut impl BufRead) -> Result<Response, String> {
    let status_line = read_line(reader)?;
    let mut parts = status_line.splitn(3, ' ');
    let (version, code) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !version.starts_with("HTTP/1.") {
        return Err(format!("not an HTTP/1.x status line: `{status_line}`"));
    }
    let status = code
        .parse()
        .map_err(|_| format!("bad status code in `{status_line}`"))?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("malformed header line `{line}`"))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    if chunked {
        response.body = read_chunked(reader)?;
    } else if let Some(len) = response.header("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| format!("bad Content-Length `{len}`"))?;
        response.body = vec![0; len];
        reader
            .read_exact(&mut response.body)
            .map_err(|e| format!("reading a {len}-byte body: {e}"))?;
    } else {
        reader
            .read_to_end(&mut response.body)
            .map_err(|e| format!("reading the body: {e}"))?;
    }
    Ok(response)
}

fn read_line(reader: &mut impl BufRead) -> Result<String, String> {
    let mut line = String::new();
    let n = reader
        .read_line(&mut line)
        .map_err(|e| format!("reading: {e}"))?;
    if n == 0 {
        return Err("connection closed before a complete response".into());
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn read_chunked(reader: &mut impl BufRead) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let size_line = read_line(reader)?;
        let hex = size_line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(hex, 16)
            .map_err(|_| format!("bad chunk size line `{size_line}`"))?;
        if size == 0 {
            // Skip trailers up to the empty line.
            while !read_line(reader)?.is_empty() {}
            return Ok(body);
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader
            .read_exact(&mut body[start..])
            .map_err(|e| format!("reading a chunk: {e}"))?;
        read_line(reader)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_address_and_path() {
        assert_eq!(
            split_url("http://127.0.0.1:9000").unwrap(),
            ("127.0.0.1:9000".into(), "/".into())
        );
        assert_eq!(
            split_url("http://localhost/x/y").unwrap(),
            ("localhost:80".into(), "/x/y".into())
        );
        assert!(split_url("https://example.com").is_err());
        assert!(split_url("http:///x").is_err());
    }

    #[test]
    fn content_length_response_is_parsed() {
        let raw = b"HTTP/1.1 200 OK\r\nX-Amz-Function-Error: Unhandled\r\nContent-Length: 2\r\n\r\n{}extra";
        let r = read_response(&mut &raw[..]).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-amz-function-error"), Some("Unhandled"));
        assert_eq!(r.body, b"{}");
    }

    #[test]
    fn chunked_response_is_parsed() {
        let raw = b"HTTP/1.1 413 Payload Too Large\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        let r = read_response(&mut &raw[..]).unwrap();
        assert_eq!(r.status, 413);
        assert_eq!(r.body, b"abcde");
    }

    #[test]
    fn truncated_or_foreign_responses_are_errors() {
        assert!(
            read_response(&mut &b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"[..]).is_err()
        );
        assert!(read_response(&mut &b"SSH-2.0-OpenSSH\r\n"[..]).is_err());
        assert!(read_response(&mut &b""[..]).is_err());
    }
}
