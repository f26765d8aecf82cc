//! The error a handler returns, and the JSON the Runtime API expects for it.
//!
//! One concrete type, [`Error`], so that a handler's `Ok(..)` needs no annotation and `?`
//! converts whatever failed. A blanket `impl<E: std::error::Error> From<E> for Error` would make
//! `Error` itself unable to be a `std::error::Error` (coherence: it would overlap with
//! `From<T> for T`), and it could not cover `String`, `&str` or boxed errors either. So, like
//! `lambda_runtime`'s `Diagnostic`, the conversions are listed: std's common errors,
//! `serde_json`, `hyper`, boxed errors, plain messages, and `anyhow` behind its feature. A
//! function's own error type gets one `From` impl (see [`Error`]) or goes through
//! [`Error::from_std`].

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

/// A failed invocation: an `errorType` the caller can branch on and a human `errorMessage`.
///
/// `?` converts `std::io::Error`, `serde_json::Error`, `hyper::Error`, std's parse and UTF-8
/// errors, `String` / `&str` messages, `Box<dyn std::error::Error + Send + Sync>` and (feature
/// `anyhow`) `anyhow::Error`; the `errorType` is the module-qualified type name, such as
/// `io::Error` or `serde_json::Error`.
///
/// ```
/// use faas_runtime::Error;
///
/// fn read_config() -> Result<String, Error> {
///     let text = std::fs::read_to_string("/nonexistent/config.json")?;
///     Ok(text)
/// }
/// assert_eq!(read_config().unwrap_err().error_type(), "io::Error");
///
/// let rejected = Error::new("OrderRejected", "order 7 has no items");
/// assert_eq!(rejected.to_string(), "OrderRejected: order 7 has no items");
/// ```
///
/// Your own error type converts with one `From` impl, which chooses its `errorType`:
///
/// ```
/// use faas_runtime::Error;
///
/// #[derive(Debug)]
/// enum OrderError { Empty, Unknown(u64) }
///
/// impl From<OrderError> for Error {
///     fn from(e: OrderError) -> Self {
///         match e {
///             OrderError::Empty => Error::new("OrderError.Empty", "the order has no items"),
///             OrderError::Unknown(id) => Error::new("OrderError.Unknown", format!("no order {id}")),
///         }
///     }
/// }
///
/// fn check(items: usize) -> Result<(), Error> {
///     if items == 0 { Err(OrderError::Empty)? }
///     Ok(())
/// }
/// assert_eq!(check(0).unwrap_err().error_type(), "OrderError.Empty");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    error_type: Cow<'static, str>,
    message: String,
}

impl Error {
    /// An error with an explicit `errorType`.
    ///
    /// ```
    /// let e = faas_runtime::Error::new("EmptyName", "name must not be empty");
    /// assert_eq!(e.error_type(), "EmptyName");
    /// ```
    pub fn new(error_type: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            error_type: error_type.into(),
            message: message.into(),
        }
    }

    /// Any `std::error::Error`, its `errorType` being its type name with the crate-private
    /// module path dropped (`my_fn::db::QueryError` gives `db::QueryError`): for error types of
    /// other crates that have no `From` impl here, as `.map_err(Error::from_std)`.
    ///
    /// ```
    /// use faas_runtime::Error;
    ///
    /// mod db {
    ///     #[derive(Debug)]
    ///     pub struct QueryError;
    ///     impl std::fmt::Display for QueryError {
    ///         fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///             f.write_str("the query failed")
    ///         }
    ///     }
    ///     impl std::error::Error for QueryError {}
    /// }
    ///
    /// let e = Err::<(), _>(db::QueryError).map_err(Error::from_std).unwrap_err();
    /// assert_eq!(e.error_type(), "db::QueryError");
    /// ```
    pub fn from_std<E: std::error::Error>(error: E) -> Self {
        Self::new(qualified_type_name::<E>(), error.to_string())
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

impl std::error::Error for Error {}

/// `From` for error types whose name is known: `errorType` is the given name.
macro_rules! named_errors {
    ($($ty:ty => $name:literal,)*) => {$(
        impl From<$ty> for Error {
            fn from(error: $ty) -> Self {
                Self::new($name, error.to_string())
            }
        }
    )*};
}

named_errors! {
    std::io::Error => "io::Error",
    std::fmt::Error => "fmt::Error",
    std::num::ParseIntError => "num::ParseIntError",
    std::num::ParseFloatError => "num::ParseFloatError",
    std::num::TryFromIntError => "num::TryFromIntError",
    std::str::Utf8Error => "str::Utf8Error",
    std::str::ParseBoolError => "str::ParseBoolError",
    std::string::FromUtf8Error => "string::FromUtf8Error",
    std::net::AddrParseError => "net::AddrParseError",
    std::env::VarError => "env::VarError",
    std::time::SystemTimeError => "time::SystemTimeError",
    serde_json::Error => "serde_json::Error",
    hyper::Error => "hyper::Error",
    hyper::http::Error => "http::Error",
    tokio::time::error::Elapsed => "tokio::time::Elapsed",
}

impl From<std::convert::Infallible> for Error {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

/// A message without a type: `errorType` `Error`, as `Err("out of stock")?`.
impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Self::new("Error", message)
    }
}

/// A message without a type: `errorType` `Error`, as `Err(format!(..))?`.
impl From<String> for Error {
    fn from(message: String) -> Self {
        Self::new("Error", message)
    }
}

/// A boxed error keeps the name of what it boxes when that is one of the types above.
impl From<Box<dyn std::error::Error + Send + Sync>> for Error {
    fn from(error: Box<dyn std::error::Error + Send + Sync>) -> Self {
        from_dyn(&*error)
    }
}

/// A boxed error keeps the name of what it boxes when that is one of the types above.
impl From<Box<dyn std::error::Error>> for Error {
    fn from(error: Box<dyn std::error::Error>) -> Self {
        from_dyn(&*error)
    }
}

/// `anyhow::Error`: the name of the error it wraps when that is one of the types above,
/// `anyhow::Error` otherwise; the message is the whole context chain (`outer: inner`).
#[cfg(feature = "anyhow")]
impl From<anyhow::Error> for Error {
    fn from(error: anyhow::Error) -> Self {
        let named = from_dyn(error.root_cause());
        let error_type = if named.error_type == "Error" {
            Cow::Borrowed("anyhow::Error")
        } else {
            named.error_type
        };
        Self::new(error_type, format!("{error:#}"))
    }
}

/// The name of a type-erased error, found by downcasting to the types this module names.
fn from_dyn(error: &(dyn std::error::Error + 'static)) -> Error {
    let name = if let Some(e) = error.downcast_ref::<Error>() {
        return e.clone();
    } else if error.is::<std::io::Error>() {
        "io::Error"
    } else if error.is::<serde_json::Error>() {
        "serde_json::Error"
    } else if error.is::<hyper::Error>() {
        "hyper::Error"
    } else if error.is::<std::num::ParseIntError>() {
        "num::ParseIntError"
    } else if error.is::<std::num::ParseFloatError>() {
        "num::ParseFloatError"
    } else if error.is::<std::str::Utf8Error>() || error.is::<std::string::FromUtf8Error>() {
        "str::Utf8Error"
    } else {
        "Error"
    };
    Error::new(name, error.to_string())
}

/// `my_fn::db::QueryError<T>` → `db::QueryError`: the last two path segments, generics dropped.
fn qualified_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    let mut cut = base.rmatch_indices("::").map(|(i, _)| i);
    match (cut.next(), cut.next()) {
        (Some(_), Some(second)) => &base[second + 2..],
        _ => base,
    }
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
    fn common_errors_keep_a_module_qualified_type() {
        let io: Error = std::io::Error::other("disk").into();
        assert_eq!((io.error_type(), io.message()), ("io::Error", "disk"));
        let json: Error = serde_json::from_str::<u8>("x").unwrap_err().into();
        assert_eq!(json.error_type(), "serde_json::Error");
        let parse: Error = "x".parse::<u32>().unwrap_err().into();
        assert_eq!(parse.error_type(), "num::ParseIntError");
    }

    #[test]
    fn boxed_errors_are_named_after_what_they_box() {
        let boxed: Box<dyn std::error::Error + Send + Sync> = std::io::Error::other("gone").into();
        assert_eq!(Error::from(boxed).error_type(), "io::Error");
        let boxed: Box<dyn std::error::Error + Send + Sync> = "plain".into();
        let e = Error::from(boxed);
        assert_eq!((e.error_type(), e.message()), ("Error", "plain"));
        let ours: Box<dyn std::error::Error> = Box::new(Error::new("Mine", "m"));
        assert_eq!(Error::from(ours), Error::new("Mine", "m"));
    }

    #[test]
    fn messages_are_errors_of_type_error() {
        assert_eq!(Error::from("no"), Error::new("Error", "no"));
        assert_eq!(Error::from(String::from("no")), Error::new("Error", "no"));
    }

    #[test]
    fn type_names_keep_one_module() {
        mod db {
            pub struct QueryError;
        }
        assert_eq!(qualified_type_name::<db::QueryError>(), "db::QueryError");
        assert_eq!(qualified_type_name::<Vec<u8>>(), "vec::Vec");
        assert_eq!(qualified_type_name::<u8>(), "u8");
    }

    #[cfg(feature = "anyhow")]
    #[test]
    fn anyhow_errors_keep_their_chain() {
        use anyhow::Context as _;
        let e: Error = Err::<(), _>(std::io::Error::other("disk"))
            .context("loading orders")
            .unwrap_err()
            .into();
        assert_eq!(e.error_type(), "io::Error");
        assert_eq!(e.message(), "loading orders: disk");
        let e: Error = anyhow::anyhow!("plain").into();
        assert_eq!(e.error_type(), "anyhow::Error");
    }
}
