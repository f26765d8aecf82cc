//! The function's and the external extensions' output, captured for the Telemetry API: each
//! process writes into a pipe, a thread copies every chunk to the emulator's own stdout or
//! stderr at once (so nothing is lost or held back) and hands each complete line to telemetry
//! as a `function` or `extension` record.
//!
//! Capture is on only when external extensions run (only they subscribe); otherwise the
//! processes inherit the emulator's stdout and stderr as before, at no cost.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::Arc;

use super::core::telemetry::Telemetry;

/// A line longer than this is handed over in pieces (Lambda cuts log events at 256 KiB).
const MAX_LINE: usize = 256 * 1024;

/// How long the emulator, once every process has ended, waits for their last output to be
/// copied out before it exits (a leftover grandchild may hold a pipe open).
pub(crate) const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_millis(500);

/// Points `command`'s stdout and stderr at pipes whose lines become `kind` records of
/// `telemetry`, when it captures output; else leaves `command` as it is. The threads end when
/// the process and `command` (which holds the pipes' other ends until dropped) are gone.
pub(crate) fn capture<'a>(
    command: &'a mut Command,
    telemetry: &Arc<Telemetry>,
    kind: u8,
) -> &'a mut Command {
    if !telemetry.captures_output() {
        return command;
    }
    for stderr in [false, true] {
        let Ok((read, write)) = pipe() else {
            tracing::warn!("cannot make a pipe for the process's output: it is not captured");
            continue;
        };
        let telemetry = Arc::clone(telemetry);
        telemetry.copying.start();
        let counted = Arc::clone(&telemetry);
        let copy = std::thread::Builder::new()
            .name("output".into())
            .spawn(move || {
                copy_lines(File::from(read), stderr, &telemetry, kind);
                telemetry.copying.end();
            });
        if copy.is_err() {
            counted.copying.end();
            continue;
        }
        if stderr {
            command.stderr(Stdio::from(write));
        } else {
            command.stdout(Stdio::from(write));
        }
    }
    command
}

/// A pipe whose ends are closed on exec (the child gets its end as stdout or stderr only).
fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two new descriptors into `fds`, which we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn copy_lines(mut from: File, stderr: bool, telemetry: &Telemetry, kind: u8) {
    let mut chunk = vec![0; 16 * 1024];
    let mut line = Vec::new();
    loop {
        let n = match from.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let bytes = &chunk[..n];
        let _ = if stderr {
            std::io::stderr().lock().write_all(bytes)
        } else {
            std::io::stdout().lock().write_all(bytes)
        };
        for piece in bytes.split_inclusive(|b| *b == b'\n') {
            line.extend_from_slice(piece);
            if line.ends_with(b"\n") || line.len() >= MAX_LINE {
                hand_over(telemetry, kind, &mut line);
            }
        }
    }
    hand_over(telemetry, kind, &mut line);
}

fn hand_over(telemetry: &Telemetry, kind: u8, line: &mut Vec<u8>) {
    let text = line.strip_suffix(b"\n").unwrap_or(line);
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    if !text.is_empty() {
        telemetry.line(kind, &String::from_utf8_lossy(text));
    }
    line.clear();
}
