//! Base64 (RFC 4648), both ways: the runtime encodes a stream's error trailer, the emulator
//! decodes it and the Invoke API's client context. Two dozen lines do not earn a crate.

/// Standard base64 with padding (RFC 4648 §4), as Lambda decodes a stream's error trailer.
pub(crate) fn encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard or URL-safe base64, padded or not; `None` if `text` is not base64.
#[cfg_attr(not(feature = "local"), allow(dead_code))] // the emulator's and HTTP events' decoder
pub(crate) fn decode(text: &[u8]) -> Option<Vec<u8>> {
    let digit = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    };
    let end = text.iter().rposition(|&c| c != b'=').map_or(0, |i| i + 1);
    let text = &text[..end];
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= digit(c)? << (18 - 6 * i);
        }
        out.extend_from_slice(&acc.to_be_bytes()[1..chunk.len()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), encoded, "{plain}");
        }
    }

    #[test]
    fn decode_takes_what_encode_gives_and_url_safe_and_unpadded_forms() {
        for bytes in [&b""[..], b"f", b"fo", b"foo", b"\xff\xfe\x00"] {
            assert_eq!(decode(encode(bytes).as_bytes()).as_deref(), Some(bytes));
        }
        assert_eq!(decode(b"eyJhIjoxfQ").unwrap(), br#"{"a":1}"#);
        assert_eq!(decode(b"-_8"), decode(b"+/8="));
        assert_eq!(decode(b"a"), None);
        assert_eq!(decode(b"a b="), None);
    }
}
