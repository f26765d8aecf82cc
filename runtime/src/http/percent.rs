//! Percent-encoding for the URI a service sees: events carry paths and query values decoded
//! (API Gateway REST), as the client sent them (HTTP APIs' `rawQueryString`, ALB) or with bytes a
//! URI cannot hold (a space in `rawPath`), and `http::Uri` takes only valid ones.
//!
//! Two rules, both keeping what is already valid so an encoded input passes through unchanged:
//! [`push_uri`] escapes only the bytes a path or query may not contain (`%` stays, so `%2F`
//! stays `%2F`); [`push_component`] encodes a decoded key or value for `k=v&k=v` (everything
//! but RFC 3986's unreserved characters).

/// Appends `text`, escaping every byte a URI path or query may not hold. `query` also escapes `#`
/// and keeps `?`; a path escapes both (`?` there would start the query).
pub(crate) fn push_uri(out: &mut String, text: &str, query: bool) {
    for &b in text.as_bytes() {
        let keep = b.is_ascii_alphanumeric()
            || b"-._~!$&'()*+,;=:@/%".contains(&b)
            || (query && b == b'?');
        push_byte(out, b, keep);
    }
}

/// Appends `path` as a URI path: escaped by [`push_uri`], with a `/` in front when it has none
/// (a path `2` after the host would become part of it: `host2`).
pub(crate) fn push_path(out: &mut String, path: &str) {
    if !path.starts_with('/') {
        out.push('/');
    }
    push_uri(out, path, false);
}

/// Appends a decoded query key or value, encoded as a form would (space as `%20`).
pub(crate) fn push_component(out: &mut String, text: &str) {
    for &b in text.as_bytes() {
        push_byte(out, b, b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    }
}

fn push_byte(out: &mut String, b: u8, keep: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    if keep {
        out.push(b as char);
    } else {
        out.push('%');
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
}

/// `text` with its `%XX` escapes decoded (`+` stays: HTTP APIs leave it); `None` if the bytes
/// are not UTF-8 once decoded. A `%` without two hex digits stays as it is.
#[cfg(any(test, feature = "fuzzing", feature = "local"))]
pub(crate) fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h)? * 16 + hex(l)?) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str, query: bool) -> String {
        let mut out = String::new();
        push_uri(&mut out, text, query);
        out
    }

    #[test]
    fn valid_uris_pass_unchanged_and_invalid_bytes_are_escaped() {
        assert_eq!(uri("/a/b%2Fc/;x=1", false), "/a/b%2Fc/;x=1");
        assert_eq!(uri("/my/path-with space", false), "/my/path-with%20space");
        assert_eq!(uri("/caf\u{e9}?#", false), "/caf%C3%A9%3F%23");
        assert_eq!(uri("a=1&b=%3F?c#d", true), "a=1&b=%3F?c%23d");
        assert_eq!(uri("q=\"<>\"", true), "q=%22%3C%3E%22");
    }

    #[test]
    fn a_path_always_starts_with_a_slash() {
        let mut out = String::new();
        push_path(&mut out, "2");
        push_path(&mut out, "/x y");
        push_path(&mut out, "");
        assert_eq!(out, "/2/x%20y/");
    }

    #[test]
    fn components_encode_everything_but_unreserved() {
        let mut out = String::new();
        push_component(&mut out, "a b&c=d+e/%~");
        assert_eq!(out, "a%20b%26c%3Dd%2Be%2F%25~");
    }
}
