//! Where the Runtime API is: `AWS_LAMBDA_RUNTIME_API`, parsed once at start.
//!
//! Lambda sets `host:port`, but runtimes run under other drivers too (emulators, extensions
//! proxies, test harnesses), so every form AWS's `lambda_runtime` accepts is accepted here: an
//! `http::Uri` with an optional `http://` scheme, a hostname, an IPv4 or bracketed IPv6 literal,
//! an optional port (80 without one) and an optional base path that prefixes every API path.
//! Anything else is one clear line naming the variable and its value, before the first event.

use std::fmt;

use hyper::Uri;
use hyper::header::HeaderValue;

/// A parsed Runtime API address.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// The host to connect to, without IPv6 brackets.
    host: String,
    port: u16,
    /// `host[:port]` as given, for the `Host` header.
    authority: HeaderValue,
    /// The base path without a trailing slash (`""` for none).
    base: String,
}

/// Why `AWS_LAMBDA_RUNTIME_API` is not an address; shown as one line naming the variable and
/// its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AddressError {
    /// The variable's value as given.
    value: String,
    /// What is wrong with it.
    why: String,
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AWS_LAMBDA_RUNTIME_API must be HOST:PORT, [IPV6]:PORT or http://HOST[:PORT][/BASE], got {:?}: {}",
            self.value, self.why
        )
    }
}

impl std::error::Error for AddressError {}

impl Endpoint {
    /// Parses `value` (the text of `AWS_LAMBDA_RUNTIME_API`).
    ///
    /// ```ignore
    /// let api = Endpoint::parse("http://127.0.0.1:9001/base")?;
    /// assert_eq!(api.socket(), ("127.0.0.1", 9001));
    /// ```
    pub fn parse(value: &str) -> Result<Self, AddressError> {
        let invalid = |why: &str| AddressError {
            value: value.to_owned(),
            why: why.to_owned(),
        };
        let uri: Uri = value.trim().parse().map_err(|e| invalid(&format!("{e}")))?;
        match uri.scheme_str() {
            None | Some("http") => {}
            Some(other) => {
                return Err(invalid(&format!(
                    "the Runtime API is plain HTTP, not {other}"
                )));
            }
        }
        let authority = uri.authority().ok_or_else(|| invalid("there is no host"))?;
        if authority.as_str().contains('@') {
            return Err(invalid("user information is not allowed"));
        }
        let host = authority.host();
        // `Uri` takes `host:junk` as a host without a port; only `:DIGITS` is a port.
        let rest = &authority.as_str()[host.len()..];
        let port = match rest {
            "" => 80,
            _ => authority
                .port_u16()
                .filter(|p| *p != 0)
                .ok_or_else(|| invalid("the port is not a number from 1 to 65535"))?,
        };
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if bare.is_empty() {
            return Err(invalid("there is no host"));
        }
        if uri.query().is_some() {
            return Err(invalid("a query string is not allowed"));
        }
        let header = HeaderValue::from_str(authority.as_str())
            .map_err(|_| invalid("the host is not a valid Host header"))?;
        Ok(Self {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port,
            authority: header,
            base: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    /// What to connect to: `(host, port)`, the host without brackets.
    pub fn socket(&self) -> (&str, u16) {
        (&self.host, self.port)
    }

    /// The `Host` header of every request.
    pub fn authority(&self) -> &HeaderValue {
        &self.authority
    }

    /// The base path every API path goes under, without a trailing slash (`""` for none).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `path` (one of [`crate::protocol`]'s) under the base path (the client writes the two
    /// pieces into its request heads instead; see [`Endpoint::base`]).
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn path(&self, path: &str) -> String {
        let mut full = String::with_capacity(self.base.len() + path.len());
        full.push_str(&self.base);
        full.push_str(path);
        full
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let authority = self.authority.to_str().unwrap_or("?");
        write!(f, "http://{authority}{}", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(value: &str) -> (String, u16, String, String) {
        let e = Endpoint::parse(value).unwrap_or_else(|e| panic!("{value}: {e}"));
        let (host, port) = e.socket();
        (
            host.to_owned(),
            port,
            e.authority().to_str().unwrap().to_owned(),
            e.path("/x"),
        )
    }

    #[test]
    fn every_form_lambda_runtime_accepts() {
        let own = |h: &str, p, a: &str, x: &str| (h.to_owned(), p, a.to_owned(), x.to_owned());
        assert_eq!(
            ok("127.0.0.1:9001"),
            own("127.0.0.1", 9001, "127.0.0.1:9001", "/x")
        );
        assert_eq!(
            ok("localhost:9001"),
            own("localhost", 9001, "localhost:9001", "/x")
        );
        assert_eq!(ok("[::1]:9001"), own("::1", 9001, "[::1]:9001", "/x"));
        assert_eq!(ok("localhost"), own("localhost", 80, "localhost", "/x"));
        assert_eq!(
            ok("http://api.internal:8080/base/"),
            own("api.internal", 8080, "api.internal:8080", "/base/x")
        );
        assert_eq!(ok("HTTP://h:2/a/b"), own("h", 2, "h:2", "/a/b/x"));
        assert_eq!(ok(" h:2 "), own("h", 2, "h:2", "/x"));
    }

    #[test]
    fn anything_else_names_the_variable_and_the_value() {
        for bad in [
            "h:abc",
            "h:0",
            "h:70000",
            "https://h:1",
            "/path/only",
            "http://user@h:1",
            "h:1?x=1",
            "two words:1",
            ":9001",
            // Found by the runtime_api_address fuzz target: an IPv6 literal with no address.
            "[]",
            "[]:9001",
        ] {
            let e = Endpoint::parse(bad).expect_err(bad).to_string();
            assert!(e.starts_with("AWS_LAMBDA_RUNTIME_API must be"), "{e}");
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
    }

    #[test]
    fn display_is_a_url() {
        let e = Endpoint::parse("[::1]:9001").unwrap();
        assert_eq!(e.to_string(), "http://[::1]:9001");
    }
}
