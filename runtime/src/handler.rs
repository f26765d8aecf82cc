//! The one bound the runtime puts on a handler, named once so the event loop's functions do
//! not repeat it.

use std::future::Future;

use serde::Serialize;

use crate::{Context, Error};

/// An async function from an event `E` and its [`Context`] to a serializable response.
///
/// Every `FnMut(E, Context) -> impl Future<Output = Result<R, Err>>` with `R: Serialize` and
/// `Err: Into<Error>` is one; [`crate::run`] spells the closure bounds out so that closure
/// argument types are inferred.
pub(crate) trait Handler<E> {
    type Response: Serialize;

    fn call(
        &mut self,
        event: E,
        ctx: Context,
    ) -> impl Future<Output = Result<Self::Response, Error>>;
}

impl<E, R, Err, F, Fut> Handler<E> for F
where
    R: Serialize,
    Err: Into<Error>,
    F: FnMut(E, Context) -> Fut,
    Fut: Future<Output = Result<R, Err>>,
{
    type Response = R;

    fn call(&mut self, event: E, ctx: Context) -> impl Future<Output = Result<R, Error>> {
        let response = self(event, ctx);
        async move { response.await.map_err(Into::into) }
    }
}
