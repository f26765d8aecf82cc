//! The one bound the runtime puts on a handler, named once so the event loop's functions do
//! not repeat it.
//!
//! The error type is the concrete [`Error`], not a generic `Into<Error>`: with a generic error
//! a closure's `Ok(x)` leaves its error type ambiguous (E0283) and every handler would need an
//! annotation; with a concrete one, `?` still converts (see [`Error`]'s `From` impls).

use std::future::Future;

use serde::Serialize;

use crate::{Context, Error, ResponseStream};

/// An async function from an event `E` and its [`Context`] to a serializable response.
///
/// Every `FnMut(E, Context) -> impl Future<Output = Result<R, Error>>` with `R: Serialize` is
/// one: an `async fn handler(event: E, ctx: Context) -> Result<R, Error>` or a closure.
pub(crate) trait Handler<E> {
    type Response: Serialize;

    fn call(
        &mut self,
        event: E,
        ctx: Context,
    ) -> impl Future<Output = Result<Self::Response, Error>>;
}

impl<E, R, F, Fut> Handler<E> for F
where
    R: Serialize,
    F: FnMut(E, Context) -> Fut,
    Fut: Future<Output = Result<R, Error>>,
{
    type Response = R;

    fn call(&mut self, event: E, ctx: Context) -> impl Future<Output = Result<R, Error>> {
        self(event, ctx)
    }
}

/// An async function from an event `E`, its [`Context`] and a [`ResponseStream`] it writes
/// the response to; `Err` before or after the first chunk is the stream's error.
pub(crate) trait StreamHandler<E> {
    fn call(
        &mut self,
        event: E,
        ctx: Context,
        stream: ResponseStream,
    ) -> impl Future<Output = Result<(), Error>>;
}

impl<E, F, Fut> StreamHandler<E> for F
where
    F: FnMut(E, Context, ResponseStream) -> Fut,
    Fut: Future<Output = Result<(), Error>>,
{
    fn call(
        &mut self,
        event: E,
        ctx: Context,
        stream: ResponseStream,
    ) -> impl Future<Output = Result<(), Error>> {
        self(event, ctx, stream)
    }
}
