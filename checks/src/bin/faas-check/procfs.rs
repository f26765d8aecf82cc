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
///
/// A thread that ends between the listing and the read is skipped (its time is then only in
/// the process's totals). Where the kernel keeps no schedstat (no `CONFIG_SCHED_INFO`, or a
/// file of zeros), the figure comes from `utime + stime` in `/proc/PID/stat`, in clock ticks
/// (10 ms at the usual 100 Hz): coarser, but never a missing figure.
pub fn cpu_ns(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0;
    for task in tasks.flatten() {
        match std::fs::read_to_string(task.path().join("schedstat")) {
            Ok(schedstat) => match schedstat_cpu_ns(&schedstat) {
                Some(ns) => total += ns,
                None => return stat_cpu_ns(pid),
            },
            Err(_) if !task.path().exists() => continue,
            Err(_) => return stat_cpu_ns(pid),
        }
    }
    if total == 0 {
        return stat_cpu_ns(pid);
    }
    Some(total)
}

/// The first field of a `schedstat` line (`on-CPU-ns wait-ns timeslices`).
fn schedstat_cpu_ns(schedstat: &str) -> Option<u64> {
    schedstat.split_whitespace().next()?.parse().ok()
}

/// `utime + stime` of `/proc/PID/stat`, in nanoseconds.
fn stat_cpu_ns(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let ticks_per_second = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).ok()?;
    Some(stat_cpu_ticks(&stat)? * 1_000_000_000 / ticks_per_second.max(1))
}

/// `utime + stime` (fields 14 and 15) from a `/proc/PID/stat` line, in clock ticks.
fn stat_cpu_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_are_parsed() {
        assert_eq!(parent_pid("42 (a (b) c) S 7 42 42 0"), Some(7));
        assert_eq!(schedstat_cpu_ns("27512345 1234 56\n"), Some(27512345));
        assert_eq!(schedstat_cpu_ns(""), None);
        let stat = "42 (a) b) R 7 42 42 0 -1 4194560 100 0 0 0 32 2 0 0 20 0 1 0 5 0";
        assert_eq!(stat_cpu_ticks(stat), Some(34));
        assert_eq!(stat_cpu_ticks("42 (a) R 7"), None);
    }

    #[test]
    fn this_process_is_read() {
        let me = std::process::id();
        // Other threads start and end meanwhile (libtest's do): the sum must skip those that
        // end between the listing and the read. CI once failed on exactly that race.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let churn = std::thread::spawn({
            let stop = stop.clone();
            move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::spawn(|| ()).join().unwrap();
                }
            }
        });
        let all_read = (0..300).all(|_| cpu_ns(me).is_some_and(|ns| ns > 0));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        churn.join().unwrap();
        assert!(all_read, "a thread ending mid-read lost the whole figure");
        assert!(stat_cpu_ns(me).is_some());
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
