//! How the process ends: one type for every exit status, so a status means one thing wherever
//! it is chosen.

use std::process::ExitCode;

/// Why the process ends, and so its exit status.
///
/// Lambda reads any non-zero status as a runtime failure (`Runtime.ExitError`); the distinct
/// codes tell a person reading a local run which failure it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Stopped by SIGTERM/SIGINT, or asked for help or the version: status 0.
    Done,
    /// The Runtime API was unreachable, or init failed (posted to `/init/error`): status 1.
    Failed,
    /// The command line or a setting was wrong: status 2, as command-line tools do.
    Usage,
}

impl Exit {
    /// The status `std::process::exit` takes.
    pub(crate) fn code(self) -> i32 {
        match self {
            Exit::Done => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
        }
    }

    /// Ends the process with this status.
    pub(crate) fn exit(self) -> ! {
        std::process::exit(self.code())
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        // The codes are 0..=2: the cast cannot truncate.
        ExitCode::from(exit.code() as u8)
    }
}
