//! `faas-check zip`: the Lambda deployment package of a function, the same bytes everywhere.
//!
//! Lambda's `provided.al2023` runtime takes a `.zip` whose root holds an executable named
//! `bootstrap`. This writes that archive itself, so that the Nix build (`packages.zip`) and
//! the host build (`images/build-zip.sh`) give byte-identical files from the same binary:
//! one entry, `bootstrap`, mode 0755 (the central directory says "made by Unix", so the
//! external attributes carry the mode), DOS time 1980-01-01 00:00:00 (the format's
//! earliest), no extra fields (no uid/gid, no extended timestamps), no comment, and the
//! data deflated at level 9 by `flate2`'s pure-Rust backend (miniz_oxide, pinned by
//! Cargo.lock), or stored when deflating does not make it smaller. Nothing of the input
//! file's name, time, owner or mode reaches the archive. A reader ([`read`]) serves
//! `faas-check size` and the tests: it lists the central directory's entries.

use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::DeflateEncoder;

use crate::Outcome;
use crate::args::Args;

/// The name Lambda runs.
pub const BOOTSTRAP: &str = "bootstrap";
/// `-rwxr-xr-x`, a regular file.
const MODE: u32 = 0o100755;
/// MS-DOS date of 1980-01-01 (year 0 from 1980, month 1, day 1); time 00:00:00 is 0.
const DOS_DATE: u16 = (1 << 5) | 1;
/// "Version made by": host 3 (Unix), spec 2.0. Unix readers then take the mode from the
/// high 16 bits of the external attributes.
const MADE_BY_UNIX: u16 = (3 << 8) | 20;
/// Version needed to extract: 2.0 (deflate).
const NEEDED: u16 = 20;
const METHOD_STORED: u16 = 0;
const METHOD_DEFLATED: u16 = 8;

/// One entry of a zip's central directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipEntry {
    pub name: String,
    /// Unix mode from the external attributes (0 when the archive was not made on Unix).
    pub mode: u32,
    pub method: u16,
    pub compressed: u64,
    pub uncompressed: u64,
    pub crc32: u32,
    pub dos_time: u16,
    pub dos_date: u16,
    /// Bytes of extra fields in the central directory entry.
    pub extra_len: usize,
}

/// The deployment package holding `binary` as `bootstrap`.
///
/// ```ignore
/// let zip = lambda_zip(&std::fs::read("target/release/bootstrap")?)?;
/// assert_eq!(read(&zip)?[0].name, "bootstrap");
/// ```
pub fn lambda_zip(binary: &[u8]) -> Result<Vec<u8>, String> {
    let size = u32::try_from(binary.len())
        .ok()
        .filter(|&n| n < u32::MAX)
        .ok_or("the binary is 4 GiB or more, which needs zip64 (and is far over Lambda's limit)")?;
    let mut crc = flate2::Crc::new();
    crc.update(binary);
    let crc = crc.sum();
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::best());
    encoder
        .write_all(binary)
        .and_then(|_| encoder.try_finish())
        .map_err(|e| format!("deflate: {e}"))?;
    let deflated = encoder.get_ref();
    let (method, data): (u16, &[u8]) = if deflated.len() < binary.len() {
        (METHOD_DEFLATED, deflated)
    } else {
        (METHOD_STORED, binary)
    };
    let compressed = data.len() as u32;
    let name = BOOTSTRAP.as_bytes();

    let mut out = Vec::with_capacity(data.len() + 128);
    // Local file header.
    put32(&mut out, 0x0403_4b50);
    put16(&mut out, NEEDED);
    put16(&mut out, 0); // flags: no data descriptor, no encryption
    put16(&mut out, method);
    put16(&mut out, 0); // time
    put16(&mut out, DOS_DATE);
    put32(&mut out, crc);
    put32(&mut out, compressed);
    put32(&mut out, size);
    put16(&mut out, name.len() as u16);
    put16(&mut out, 0); // extra field length
    out.extend_from_slice(name);
    out.extend_from_slice(data);
    // Central directory.
    let directory_at = out.len() as u32;
    put32(&mut out, 0x0201_4b50);
    put16(&mut out, MADE_BY_UNIX);
    put16(&mut out, NEEDED);
    put16(&mut out, 0);
    put16(&mut out, method);
    put16(&mut out, 0);
    put16(&mut out, DOS_DATE);
    put32(&mut out, crc);
    put32(&mut out, compressed);
    put32(&mut out, size);
    put16(&mut out, name.len() as u16);
    put16(&mut out, 0); // extra
    put16(&mut out, 0); // comment
    put16(&mut out, 0); // disk number
    put16(&mut out, 0); // internal attributes
    put32(&mut out, MODE << 16);
    put32(&mut out, 0); // the local header's offset
    out.extend_from_slice(name);
    let directory_len = out.len() as u32 - directory_at;
    // End of central directory.
    put32(&mut out, 0x0605_4b50);
    put16(&mut out, 0);
    put16(&mut out, 0);
    put16(&mut out, 1);
    put16(&mut out, 1);
    put32(&mut out, directory_len);
    put32(&mut out, directory_at);
    put16(&mut out, 0);
    Ok(out)
}

/// The entries of a zip's central directory (no zip64, no multi-disk archives).
pub fn read(zip: &[u8]) -> Result<Vec<ZipEntry>, String> {
    const EOCD: usize = 22;
    if zip.len() < EOCD {
        return Err(format!("{} bytes: too short for a zip", zip.len()));
    }
    // The end record is the last 22 bytes plus a comment of at most 65535 bytes.
    let earliest = zip.len().saturating_sub(EOCD + 0xffff);
    let end = (earliest..=zip.len() - EOCD)
        .rev()
        .find(|&i| u32_at(zip, i) == Some(0x0605_4b50))
        .ok_or("no end-of-central-directory record: not a zip")?;
    let count = u16_at(zip, end + 10).unwrap_or(0) as usize;
    let mut at = u32_at(zip, end + 16).unwrap_or(u32::MAX) as usize;
    let mut entries = Vec::with_capacity(count);
    for n in 0..count {
        let field = |off: usize| u32_at(zip, at + off);
        if field(0) != Some(0x0201_4b50) {
            return Err(format!(
                "central directory entry {n} is damaged (at byte {at})"
            ));
        }
        let half = |off: usize| u16_at(zip, at + off).unwrap_or(0);
        let (name_len, extra_len, comment_len) =
            (half(28) as usize, half(30) as usize, half(32) as usize);
        let name = zip
            .get(at + 46..at + 46 + name_len)
            .ok_or_else(|| format!("central directory entry {n}: name past the end"))?;
        let made_by_unix = half(4) >> 8 == 3;
        let external = field(38).unwrap_or(0);
        entries.push(ZipEntry {
            name: String::from_utf8_lossy(name).into_owned(),
            mode: if made_by_unix { external >> 16 } else { 0 },
            method: half(10),
            dos_time: half(12),
            dos_date: half(14),
            crc32: field(16).unwrap_or(0),
            compressed: field(20).unwrap_or(0) as u64,
            uncompressed: field(24).unwrap_or(0) as u64,
            extra_len,
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(entries)
}

/// Whether `bytes` start like a zip (a local file header, or an empty archive's end record).
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// Runs `faas-check zip --out FILE BINARY`.
pub fn run(argv: &[String]) -> Result<Outcome, String> {
    let args = Args::parse(argv, &[], &["out"])?;
    let [binary] = args.positional.as_slice() else {
        return Err("give exactly one binary, the function's bootstrap".into());
    };
    let out = args.value("out").ok_or("--out FILE is required")?;
    let bytes = std::fs::read(binary).map_err(|e| format!("{binary}: {e}"))?;
    if !bytes.starts_with(b"\x7fELF") {
        return Err(format!(
            "{binary}: not an ELF executable (Lambda runs `bootstrap` as a program)"
        ));
    }
    let zip = lambda_zip(&bytes)?;
    // Written next to the destination, then renamed: an interrupted run leaves no half zip.
    let out = Path::new(out);
    let partial = out.with_extension("zip.partial");
    std::fs::write(&partial, &zip)
        .and_then(|_| std::fs::rename(&partial, out))
        .map_err(|e| format!("{}: {e}", out.display()))?;
    println!(
        "zip: {} ({} B; bootstrap {} B, mode 0755)",
        out.display(),
        zip.len(),
        bytes.len()
    );
    Ok(Outcome::Pass)
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn fake_binary(len: usize) -> Vec<u8> {
        let mut b = b"\x7fELF".to_vec();
        // Compressible and not: a ramp with a pseudo-random tail.
        b.extend((0..len / 2).map(|i| (i % 251) as u8));
        let mut x: u32 = 12345;
        b.extend((0..len / 2).map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        }));
        b
    }

    #[test]
    fn archive_holds_bootstrap_alone_with_mode_0755_and_the_fixed_time() {
        let binary = fake_binary(100_000);
        let zip = lambda_zip(&binary).unwrap();
        let entries = read(&zip).unwrap();
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(e.name, "bootstrap");
        assert_eq!(e.mode, 0o100755);
        assert_eq!((e.dos_time, e.dos_date), (0, 0x21), "1980-01-01 00:00:00");
        assert_eq!(e.extra_len, 0, "no uid/gid or timestamp extra fields");
        assert_eq!(e.uncompressed, binary.len() as u64);
        assert_eq!(e.method, METHOD_DEFLATED);
        assert!(e.compressed < e.uncompressed);
        assert!(is_zip(&zip));
    }

    #[test]
    fn deflated_data_inflates_back_to_the_binary_with_its_crc() {
        let binary = fake_binary(50_000);
        let zip = lambda_zip(&binary).unwrap();
        let e = &read(&zip).unwrap()[0];
        let start = 30 + BOOTSTRAP.len();
        let data = &zip[start..start + e.compressed as usize];
        let mut inflated = Vec::new();
        flate2::read::DeflateDecoder::new(data)
            .read_to_end(&mut inflated)
            .unwrap();
        assert_eq!(inflated, binary);
        let mut crc = flate2::Crc::new();
        crc.update(&binary);
        assert_eq!(e.crc32, crc.sum());
    }

    #[test]
    fn same_binary_gives_the_same_bytes_and_another_binary_other_bytes() {
        let binary = fake_binary(20_000);
        assert_eq!(lambda_zip(&binary).unwrap(), lambda_zip(&binary).unwrap());
        let mut other = binary.clone();
        other[100] ^= 1;
        assert_ne!(lambda_zip(&binary).unwrap(), lambda_zip(&other).unwrap());
    }

    #[test]
    fn incompressible_data_is_stored() {
        let mut binary = b"\x7fELF".to_vec();
        let mut x: u64 = 7;
        binary.extend((0..4096).map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        }));
        let zip = lambda_zip(&binary).unwrap();
        let e = &read(&zip).unwrap()[0];
        assert_eq!(e.method, METHOD_STORED);
        assert_eq!(e.compressed, binary.len() as u64);
        let start = 30 + BOOTSTRAP.len();
        assert_eq!(&zip[start..start + binary.len()], &binary[..]);
    }

    #[test]
    fn damaged_archives_are_errors_not_panics() {
        assert!(read(b"PK").is_err());
        assert!(read(&[0u8; 64]).is_err());
        let mut zip = lambda_zip(&fake_binary(1000)).unwrap();
        let n = zip.len();
        // Point the central directory past the end.
        zip[n - 6..n - 2].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(read(&zip).is_err());
        for cut in [10, 40, n / 2] {
            let _ = read(&zip[..cut]);
        }
    }
}
