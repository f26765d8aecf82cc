//! Start: read the mode once, build the async runtime, run the mode to its end, exit.
//!
//! Every public entry point (`run`, `run_with_init`, `run_streaming`, the HTTP ones) comes here
//! with an adapter's `init`; this is the one place the mode is matched.

use std::future::Future;

use crate::config::{Config, Kind, Mode};
use crate::exit::Exit;
use crate::invocation::Adapter;
use crate::{Error, cli, driver, log};

/// Runs the process: the mode the environment and arguments select, with the adapter `init`
/// builds (Lambda mode only: local mode runs this binary again as its function process).
pub(crate) fn run<A, I, IFut>(init: I) -> !
where
    A: Adapter + Clone + Send,
    I: FnOnce() -> IFut,
    IFut: Future<Output = Result<A, Error>>,
{
    run_kind(Kind::Events, init)
}

/// [`run`] for an HTTP function's adapter: outside Lambda it serves plain HTTP itself
/// (local HTTP mode, `crate::http::serve`) instead of Lambda's invoke endpoint.
#[cfg(feature = "http")]
pub(crate) fn run_http<A, I, IFut>(init: I) -> !
where
    A: Adapter + Clone + Send,
    I: FnOnce() -> IFut,
    IFut: Future<Output = Result<A, Error>>,
{
    run_kind(Kind::Http, init)
}

fn run_kind<A, I, IFut>(kind: Kind, init: I) -> !
where
    A: Adapter + Clone + Send,
    I: FnOnce() -> IFut,
    IFut: Future<Output = Result<A, Error>>,
{
    let mode = match Mode::from_env(kind) {
        Ok(mode) => mode,
        Err(error) => config_failed(&error).exit(),
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // The function process watches two or three descriptors; tokio's default 1024-event
        // buffer (12 KiB) is 8% of its start-up instructions (docs/performance.md).
        .max_io_events_per_tick(16)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("faas-runtime: cannot start the async runtime: {e}");
            Exit::Failed.exit()
        }
    };
    // Inside the runtime's context, so `init()` and the handlers may use tokio right away.
    let _context = rt.enter();
    let exit = match mode {
        Mode::Help => {
            let usage = match kind {
                Kind::Events => cli::usage(&cli::program()),
                #[cfg(feature = "http")]
                Kind::Http => crate::http::usage(&cli::program()),
            };
            println!("{usage}");
            Exit::Done
        }
        Mode::Version => {
            println!("{}", cli::version(&cli::program()));
            Exit::Done
        }
        Mode::Lambda(api) => match Config::from_env() {
            Err(error) => config_failed(&error),
            Ok(config) => {
                log::init(config.log_format, config.log_level);
                driver::run(&rt, &api, &config, init())
            }
        },
        Mode::Local(listen) => match Config::from_env() {
            Err(error) => config_failed(&error),
            Ok(config) => {
                log::init(config.log_format, config.log_level);
                local_mode(&rt, listen, &config)
            }
        },
        #[cfg(feature = "http")]
        Mode::Http(listen) => match Config::from_env() {
            Err(error) => config_failed(&error),
            Ok(config) => {
                log::init(config.log_format, config.log_level);
                http_mode(&rt, listen, &config, init())
            }
        },
    };
    exit.exit()
}

/// Local mode: this binary under the emulator.
#[cfg(feature = "local")]
fn local_mode(rt: &tokio::runtime::Runtime, listen: std::net::SocketAddr, config: &Config) -> Exit {
    let code = rt.block_on(crate::emulator::local_mode(listen, &config.function));
    match code {
        0 => Exit::Done,
        2 => Exit::Usage,
        _ => Exit::Failed,
    }
}

/// Local HTTP mode: this HTTP function serving plain HTTP itself.
#[cfg(all(feature = "http", feature = "local"))]
fn http_mode<A: Adapter + Clone>(
    rt: &tokio::runtime::Runtime,
    listen: std::net::SocketAddr,
    config: &Config,
    init: impl Future<Output = Result<A, Error>>,
) -> Exit {
    rt.block_on(crate::http::serve::run(listen, config, init))
}

/// Built without local mode: as [`local_mode`] says.
#[cfg(all(feature = "http", not(feature = "local")))]
fn http_mode<A: Adapter>(
    rt: &tokio::runtime::Runtime,
    listen: std::net::SocketAddr,
    config: &Config,
    _: impl Future<Output = Result<A, Error>>,
) -> Exit {
    local_mode(rt, listen, config)
}

/// Built without local mode: one line saying how to run the function instead.
#[cfg(not(feature = "local"))]
fn local_mode(_: &tokio::runtime::Runtime, _: std::net::SocketAddr, _: &Config) -> Exit {
    eprintln!(
        "{}: {} is unset and this function was built without local mode (faas-runtime's `local` feature): run it under faas-emulator, or build it with the feature",
        cli::program(),
        crate::protocol::env::RUNTIME_API
    );
    Exit::Usage
}

/// A bad setting or argument: posted to the API's `/init/error` when there is one, printed
/// either way (the logger is not up yet).
fn config_failed(error: &Error) -> Exit {
    log::init(log::Format::Text, log::Level::INFO);
    if let Ok(Some(api)) = crate::config::runtime_api(|key| std::env::var(key).ok()) {
        driver::init_failed(Some(&api), error);
    } else {
        eprintln!("{}: {}", cli::program(), error.message());
    }
    Exit::Usage
}
