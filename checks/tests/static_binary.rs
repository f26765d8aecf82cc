//! The shipped artifact: the static x86_64 musl `bootstrap` (release profile, default features),
//! built by `images/build-bootstrap.sh` before the tests run (the Makefile does it).

use std::path::PathBuf;

use faas_checks::fixture::{Function, profile_dir};

/// Today's budget for the static binary, in bytes (the design note's binary is ~1.9 MB).
const SIZE_BUDGET: u64 = 1_200_000;

fn static_bootstrap() -> PathBuf {
    let path = std::env::var_os("FAAS_STATIC_BOOTSTRAP")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let target = profile_dir()
                .parent()
                .expect("target/<profile> has a parent")
                .to_path_buf();
            target.join("x86_64-unknown-linux-musl/release/bootstrap")
        });
    assert!(
        path.exists(),
        "{} is missing: build it with images/build-bootstrap.sh",
        path.display()
    );
    path
}

/// The ELF facts that make a binary static: program header and section types.
fn elf_types(bytes: &[u8]) -> (Vec<u32>, Vec<u32>) {
    assert_eq!(&bytes[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(bytes[4], 2, "not a 64-bit ELF");
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap()) as usize;
    let (phoff, shoff) = (u64_at(0x20), u64_at(0x28));
    let (phentsize, phnum, shentsize, shnum) =
        (u16_at(0x36), u16_at(0x38), u16_at(0x3a), u16_at(0x3c));
    let segments = (0..phnum).map(|i| u32_at(phoff + i * phentsize)).collect();
    let sections = (0..shnum)
        .map(|i| u32_at(shoff + i * shentsize + 4))
        .collect();
    (segments, sections)
}

#[test]
fn static_bootstrap_fits_the_size_budget() {
    let size = std::fs::metadata(static_bootstrap()).unwrap().len();
    println!(
        "static bootstrap (x86_64 musl, default features): {size} bytes ({:.2} MiB); budget {SIZE_BUDGET} bytes",
        size as f64 / 1024.0 / 1024.0
    );
    assert!(
        size < SIZE_BUDGET,
        "{size} bytes is over the {SIZE_BUDGET}-byte budget"
    );
}

#[test]
fn static_bootstrap_has_no_interpreter_and_no_dynamic_section() {
    const PT_DYNAMIC: u32 = 2;
    const PT_INTERP: u32 = 3;
    const SHT_DYNAMIC: u32 = 6;
    let (segments, sections) = elf_types(&std::fs::read(static_bootstrap()).unwrap());
    assert!(!segments.is_empty());
    assert!(
        !segments.contains(&PT_INTERP),
        "has an interpreter: {segments:?}"
    );
    assert!(
        !segments.contains(&PT_DYNAMIC),
        "has a dynamic segment: {segments:?}"
    );
    assert!(
        !sections.contains(&SHT_DYNAMIC),
        "has a .dynamic section: {sections:?}"
    );
}

#[test]
fn static_bootstrap_runs_in_an_empty_root() {
    let root = std::env::temp_dir().join(format!("faas-empty-root-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::copy(static_bootstrap(), root.join("bootstrap")).unwrap();
    let entries: Vec<_> = std::fs::read_dir(&root).unwrap().collect();
    assert_eq!(entries.len(), 1, "the root holds only the binary");
    // The emulator runs outside; the function runs chrooted, reaching it over loopback.
    let f = Function::emulated_command(
        &["chroot".as_ref(), root.as_os_str(), "/bootstrap".as_ref()],
        &[],
        &[],
    );
    let r = f.invoke(br#"{"name":"chroot"}"#);
    assert_eq!(r.status, 200, "{}\n{}", r.body_excerpt(), f.output());
    assert_eq!(r.body, br#"{"message":"Hello, chroot!"}"#);
    drop(f);
    std::fs::remove_dir_all(&root).unwrap();
}
