//! The `http_axum` example's app on AWS's `lambda_http` instead of faas-runtime: the peer of
//! the HTTP comparisons (same routes, same events), run under `faas-emulator` like ours.

#[path = "http_axum/app.rs"]
mod app;

fn main() -> Result<(), lambda_http::Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(lambda_http::run(app::app()))
}
