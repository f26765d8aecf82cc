//! `faas-check hardening`: the image runs locked down, and its layers hold only what
//! they should.
//!
//! Live checks (need the engine): the image's USER is numeric and not root; a container
//! started with `--read-only --cap-drop=ALL --security-opt=no-new-privileges` answers an
//! invocation through its published port; and the kernel confirms it (from
//! /proc/PID/status and mountinfo on the host: every uid is the image's, no effective
//! capabilities, NoNewPrivs set, the root mount read-only).
//! Layer checks (with `--archive`): no shell anywhere (sh, bash, ash, dash, zsh, ksh,
//! busybox); with `--only`, no file but the listed ones; and no build-machine path in
//! any member's name or contents. The default needles are `/root/`, `/home/`, `/work/`
//! and the absolute paths of the current directory, $CARGO_HOME and $RUSTUP_HOME;
//! `--needle` adds more, `--no-default-needles` drops the defaults (for distro bases,
//! whose own files mention /home/).

use std::path::Path;
use std::time::Duration;

use crate::Outcome;
use crate::args::Args;
use crate::engine::{self, Container};
use crate::image::{Entry, EntryKind, Image, read_tar};

const SHELLS: [&str; 7] = ["sh", "bash", "ash", "dash", "zsh", "ksh", "busybox"];

/// Runs `faas-check hardening`.
pub fn run(argv: &[String]) -> Result<Outcome, String> {
    let args = Args::parse(
        argv,
        &["no-default-needles"],
        &["image", "archive", "only", "needle"],
    )?;
    let image = args.value("image").ok_or("--image IMAGE is required")?;
    let mut results: Vec<(&str, Result<String, String>)> = Vec::new();

    let uid = image_uid(image);
    results.push((
        "user_is_numeric_non_root",
        uid.clone().map(|u| format!("uid {u}")),
    ));
    results.push((
        "runs_read_only_without_capabilities",
        confined_run(image, uid.ok()),
    ));

    if let Some(archive) = args.value("archive") {
        let entries = layer_entries(Path::new(archive))?;
        results.push(("no_shell_in_layers", no_shell(&entries)));
        let only = args.values("only");
        if !only.is_empty() {
            results.push(("only_expected_files", only_expected(&entries, &only)));
        }
        let mut needles = args.values("needle");
        if !args.flag("no-default-needles") {
            needles.extend(default_needles());
        }
        needles.sort();
        needles.dedup();
        results.push(("no_build_machine_paths", no_needles(&entries, &needles)));
    }

    let mut failed = 0;
    for (name, result) in &results {
        match result {
            Ok(detail) => println!("PASS {name}: {detail}"),
            Err(why) => {
                failed += 1;
                println!("FAIL {name}: {why}");
            }
        }
    }
    println!("{} passed, {failed} failed", results.len() - failed);
    Ok(if failed == 0 {
        Outcome::Pass
    } else {
        Outcome::Fail
    })
}

/// The image's configured user as a numeric, non-zero uid.
fn image_uid(image: &str) -> Result<u32, String> {
    let user = engine::engine_output(&["image", "inspect", "--format", "{{.Config.User}}", image])?;
    parse_non_root_user(&user)
}

/// `65532:65532` or `65532` → 65532; names, empty and root are errors.
pub fn parse_non_root_user(user: &str) -> Result<u32, String> {
    let uid = user.split(':').next().unwrap_or("");
    match uid.parse::<u32>() {
        Ok(0) => Err(format!("USER `{user}` is root")),
        Ok(uid) => Ok(uid),
        Err(_) if user.is_empty() => Err("no USER: the image runs as root".into()),
        Err(_) => Err(format!(
            "USER `{user}` is not numeric (Kubernetes cannot verify runAsNonRoot)"
        )),
    }
}

/// Starts the image locked down, invokes it, and reads the kernel's view of it.
fn confined_run(image: &str, uid: Option<u32>) -> Result<String, String> {
    let port = engine::free_port()?;
    let publish = format!("127.0.0.1:{port}:8080");
    let container = Container::run(
        image,
        &[
            "--read-only",
            "--cap-drop=ALL",
            "--security-opt=no-new-privileges",
            "--network",
            "bridge",
            "-p",
            &publish,
        ],
    )?;
    let addr = format!("127.0.0.1:{port}");
    let answer = container.wait_answer(&addr, br#"{"name":"Ada"}"#, Duration::from_secs(30))?;
    if answer.status != 200 {
        return Err(format!(
            "answered {} {}",
            answer.status,
            answer.body_excerpt()
        ));
    }
    let pid = container.host_pid()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("reading /proc/{pid}/status: {e}"))?;
    let mountinfo = std::fs::read_to_string(format!("/proc/{pid}/mountinfo"))
        .map_err(|e| format!("reading /proc/{pid}/mountinfo: {e}"))?;
    check_confinement(&status, &mountinfo, uid)
}

/// Checks a process's /proc status and mountinfo text.
pub fn check_confinement(
    status: &str,
    mountinfo: &str,
    uid: Option<u32>,
) -> Result<String, String> {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name).map(str::trim))
            .ok_or_else(|| format!("no {name} in /proc/PID/status"))
    };
    let uids: Vec<u32> = field("Uid:")?
        .split_whitespace()
        .filter_map(|u| u.parse().ok())
        .collect();
    if uids.is_empty() || uids.contains(&0) || uid.is_some_and(|u| uids.iter().any(|&x| x != u)) {
        return Err(format!(
            "process uids {uids:?}, want all {uid:?} and none 0"
        ));
    }
    let cap_eff = field("CapEff:")?;
    if u64::from_str_radix(cap_eff, 16) != Ok(0) {
        return Err(format!("effective capabilities {cap_eff}, want none"));
    }
    if field("NoNewPrivs:")? != "1" {
        return Err("NoNewPrivs is not set".into());
    }
    // mountinfo: id parent major:minor root mount-point options ...
    let root_options = mountinfo
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .rfind(|f| f.len() > 5 && f[4] == "/")
        .map(|f| f[5].to_string())
        .ok_or("no root mount in /proc/PID/mountinfo")?;
    if !root_options.split(',').any(|o| o == "ro") {
        return Err(format!("root filesystem mounted `{root_options}`, want ro"));
    }
    Ok(format!(
        "answered 200; uid {}, CapEff {cap_eff}, NoNewPrivs 1, / {root_options}",
        uids[0]
    ))
}

/// Every member of every layer of the saved image.
fn layer_entries(archive: &Path) -> Result<Vec<Entry>, String> {
    let image = Image::open(archive)?;
    let mut all = Vec::new();
    for layer in &image.layers {
        all.extend(read_tar(&layer.tar()?)?);
    }
    Ok(all)
}

fn no_shell(entries: &[Entry]) -> Result<String, String> {
    let shells: Vec<_> = entries
        .iter()
        .filter(|e| e.kind != EntryKind::Dir)
        .filter(|e| SHELLS.contains(&e.path.rsplit('/').next().unwrap_or("")))
        .map(|e| format!("/{}", e.path))
        .collect();
    if shells.is_empty() {
        Ok(format!("{} members, none a shell", entries.len()))
    } else {
        Err(format!("shells found: {}", shells.join(", ")))
    }
}

fn only_expected(entries: &[Entry], only: &[String]) -> Result<String, String> {
    let wanted: Vec<&str> = only.iter().map(|p| p.trim_start_matches('/')).collect();
    let mut found: Vec<&str> = entries
        .iter()
        .filter(|e| e.kind != EntryKind::Dir)
        .map(|e| e.path.as_str())
        .collect();
    found.sort();
    found.dedup();
    let extra: Vec<_> = found.iter().filter(|p| !wanted.contains(p)).collect();
    let missing: Vec<_> = wanted.iter().filter(|p| !found.contains(p)).collect();
    if extra.is_empty() && missing.is_empty() {
        Ok(format!("exactly {found:?}"))
    } else {
        Err(format!("unexpected {extra:?}, missing {missing:?}"))
    }
}

/// `/root/`, `/home/`, `/work/` and this machine's workspace, cargo and rustup homes.
fn default_needles() -> Vec<String> {
    let mut needles: Vec<String> = ["/root/", "/home/", "/work/"].map(String::from).to_vec();
    let dirs = [
        std::env::current_dir().ok(),
        std::env::var_os("CARGO_HOME").map(Into::into),
        std::env::var_os("RUSTUP_HOME").map(Into::into),
    ];
    for dir in dirs.into_iter().flatten() {
        let dir = dir.canonicalize().unwrap_or(dir);
        let text = dir.to_string_lossy().into_owned();
        if text.len() > 1 {
            needles.push(text);
        }
    }
    needles
}

fn no_needles(entries: &[Entry], needles: &[String]) -> Result<String, String> {
    let mut hits = Vec::new();
    for e in entries {
        for needle in needles {
            let n = needle.as_bytes();
            let in_name = format!("/{}", e.path).contains(needle.as_str());
            if in_name || contains(&e.data, n) {
                hits.push(format!("{needle:?} in /{}", e.path));
            }
        }
    }
    if hits.is_empty() {
        Ok(format!("{} members scanned for {needles:?}", entries.len()))
    } else {
        Err(hits.join("; "))
    }
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let mut from = 0;
    while let Some(i) = hay[from..].iter().position(|&b| b == first) {
        let at = from + i;
        if hay[at + 1..].starts_with(rest) {
            return true;
        }
        from = at + 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, kind: EntryKind, data: &[u8]) -> Entry {
        Entry {
            path: path.into(),
            kind,
            data: data.to_vec(),
            link: None,
        }
    }

    #[test]
    fn users_must_be_numeric_and_not_root() {
        assert_eq!(parse_non_root_user("65532:65532"), Ok(65532));
        assert_eq!(parse_non_root_user("1000"), Ok(1000));
        assert!(parse_non_root_user("0:0").is_err());
        assert!(parse_non_root_user("").is_err());
        assert!(parse_non_root_user("nobody").is_err());
    }

    #[test]
    fn confinement_is_read_from_proc() {
        let status =
            "Uid:\t65532\t65532\t65532\t65532\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\n";
        let mounts =
            "1 0 0:1 / / ro,relatime - overlay overlay rw\n2 1 0:2 / /proc rw - proc proc rw\n";
        assert!(check_confinement(status, mounts, Some(65532)).is_ok());
        let rw = mounts.replace("/ / ro,", "/ / rw,");
        assert!(check_confinement(status, &rw, Some(65532)).is_err());
        let caps = status.replace("0000000000000000", "00000000a80425fb");
        assert!(check_confinement(&caps, mounts, Some(65532)).is_err());
        let root = status.replace("65532\t65532\t65532\t65532", "0\t0\t0\t0");
        assert!(check_confinement(&root, mounts, None).is_err());
    }

    #[test]
    fn shells_other_files_and_needles_are_found() {
        let clean = [entry(
            "bootstrap",
            EntryKind::File,
            b"\x7fELF /cargo/registry",
        )];
        assert!(no_shell(&clean).is_ok());
        assert!(only_expected(&clean, &["/bootstrap".into()]).is_ok());
        assert!(no_needles(&clean, &["/root/".into()]).is_ok());

        let dirty = [
            entry("bin", EntryKind::Dir, b""),
            entry("bin/sh", EntryKind::Symlink, b""),
            entry(
                "bootstrap",
                EntryKind::File,
                b"panicked at /root/.cargo/registry/x.rs",
            ),
        ];
        assert!(no_shell(&dirty).is_err());
        assert!(only_expected(&dirty, &["bootstrap".into()]).is_err());
        assert!(no_needles(&dirty, &["/root/".into()]).is_err());
    }

    #[test]
    fn substring_search() {
        assert!(contains(b"abcabd", b"abd"));
        assert!(!contains(b"abcab", b"abd"));
        assert!(contains(b"x", b""));
    }
}
