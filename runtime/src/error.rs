//! The error a handler returns, and the JSON the Runtime API expects for it.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

/// A failed invocation: an `errorType` the caller can branch on and a human `errorMessage`.
///
/// Any `std::error::Error` converts into it (the `errorType` is the error's type name), so `?`
/// works in handlers; [`Error::new`] names the type yourself.
///
/// ```
/// use faas_runtime::Error;
///
/// let e = Error::new("EmptyName", "name must not be empty");
/// assert_eq!(e.error_type(), "EmptyName");
///
/// let parse: Error = "x".parse::<u32>().unwrap_err().into();
/// assert_eq!(parse.error_type(), "ParseIntError");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    error_type: Cow<'static, str>,
    message: String,
}

impl Error {
    /// An error with an explicit `errorType`.
    pub fn new(error_type: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            error_type: error_type.into(),
            message: message.into(),
        }
    }

    /// The `errorType` reported to the caller.
    pub fn error_type(&self) -> &str {
        &self.error_type
    }

    /// The `errorMessage` reported to the caller.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The body of `/invocation/{id}/error` and `/init/error`.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'a> {
            error_message: &'a str,
            error_type: &'a str,
            stack_trace: [&'a str; 0],
        }
        let body = Body {
            error_message: &self.message,
            error_type: &self.error_type,
            stack_trace: [],
        };
        // Two strings cannot fail to serialize.
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl<E: std::error::Error> From<E> for Error {
    fn from(error: E) -> Self {
        Self::new(short_type_name::<E>(), error.to_string())
    }
}

/// `core::num::error::ParseIntError` → `ParseIntError`; generic arguments are dropped.
fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_the_three_fields_lambda_expects() {
        let json = Error::new("Bad", "a \"quoted\" word").to_json();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"errorMessage": "a \"quoted\" word", "errorType": "Bad", "stackTrace": []})
        );
    }

    #[test]
    fn type_name_is_shortened() {
        let e: Error = std::io::Error::other("disk").into();
        assert_eq!(e.error_type(), "Error");
        assert_eq!(e.message(), "disk");
    }
}
