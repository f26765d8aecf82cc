//! What `bench` and `startup` read about a running process from `/proc`: its children (the
//! function under the emulator), its time on CPU and its peak RSS. Linux only, as the
//! runtime's targets are.

/// The pids whose parent is `pid` (the function process under the emulator).
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|stat| parent_pid(&stat))
                == Some(pid)
        })
        .collect()
}

/// The parent pid from a `/proc/PID/stat` line (`pid (comm) state ppid ...`; comm may hold
/// spaces and parentheses).
fn parent_pid(stat: &str) -> Option<u32> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// `VmHWM` of `pid`, in KiB: the emulator's own reader, which its `REPORT` lines use.
pub use faas_runtime::emulator::peak_memory_kib as peak_rss_kib;

/// Nanoseconds on CPU of `pid`, summed over its threads: the first field of
/// `/proc/PID/task/TID/schedstat`.
pub fn cpu_ns(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0;
    for task in tasks {
        let schedstat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += schedstat_cpu_ns(&schedstat)?;
    }
    Some(total)
}

/// The first field of a `schedstat` line (`on-CPU-ns wait-ns timeslices`).
fn schedstat_cpu_ns(schedstat: &str) -> Option<u64> {
    schedstat.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_are_parsed() {
        assert_eq!(parent_pid("42 (a (b) c) S 7 42 42 0"), Some(7));
        assert_eq!(schedstat_cpu_ns("27512345 1234 56\n"), Some(27512345));
        assert_eq!(schedstat_cpu_ns(""), None);
    }

    #[test]
    fn this_process_is_read() {
        let me = std::process::id();
        assert!(cpu_ns(me).unwrap() > 0);
        assert!(peak_rss_kib(me).unwrap() > 0);
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let found = children(me).contains(&child.id());
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(found, "sleep is a child of this process");
    }
}
