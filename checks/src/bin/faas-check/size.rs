//! `faas-check size`: what an image costs to store and pull.
//!
//! Prints per layer and in total the compressed bytes (what a registry stores and a
//! host pulls) and the uncompressed bytes (the layer tars, what unpacking writes), the
//! layer count and the largest files; fails when the compressed total is above
//! `--budget`. A multi-platform image index is reported platform by platform (each held
//! to the budget: a host pulls only its own platform's image). Docker archives hold uncompressed layers: their compressed size is that
//! of gzip at the default level, the compression `podman push` would apply.
//! A Lambda zip (`faas-check zip`) is reported too: its file size is what is uploaded. Given
//! several artifacts (the image and the zip of one function), a table sets them side by side.

use std::path::Path;

use crate::Outcome;
use crate::args::Args;
use crate::image::{EntryKind, Image, read_tar};
use crate::zip;

/// Sizes of one layer.
#[derive(Debug, PartialEq, Eq)]
pub struct LayerSize {
    pub id: String,
    pub compressed: u64,
    pub uncompressed: u64,
    pub files: usize,
}

/// The whole measurement of an image.
#[derive(Debug)]
pub struct Report {
    pub layers: Vec<LayerSize>,
    /// Every regular file as (size, layer number from 1, path), largest first.
    pub files: Vec<(u64, usize, String)>,
}

impl Report {
    /// Measures every layer of `image`.
    pub fn measure(image: &Image) -> Result<Report, String> {
        let mut layers = Vec::new();
        let mut files = Vec::new();
        for (n, layer) in image.layers.iter().enumerate() {
            let tar = layer.tar()?;
            let entries = read_tar(&tar)?;
            let regular: Vec<_> = entries
                .into_iter()
                .filter(|e| e.kind == EntryKind::File)
                .collect();
            layers.push(LayerSize {
                id: layer.id.clone(),
                compressed: layer.compressed_size()?,
                uncompressed: tar.len() as u64,
                files: regular.len(),
            });
            files.extend(
                regular
                    .into_iter()
                    .map(|e| (e.data.len() as u64, n + 1, e.path)),
            );
        }
        files.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.2.cmp(&b.2)));
        Ok(Report { layers, files })
    }

    pub fn compressed(&self) -> u64 {
        self.layers.iter().map(|l| l.compressed).sum()
    }

    pub fn uncompressed(&self) -> u64 {
        self.layers.iter().map(|l| l.uncompressed).sum()
    }
}

/// `1234567` → `1234567 B (1.18 MiB)`.
pub fn human(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b >= KIB * KIB {
        format!("{bytes} B ({:.2} MiB)", b / KIB / KIB)
    } else if b >= KIB {
        format!("{bytes} B ({:.1} KiB)", b / KIB)
    } else {
        format!("{bytes} B")
    }
}

/// Runs `faas-check size`.
pub fn run(argv: &[String]) -> Result<Outcome, String> {
    let args = Args::parse(argv, &[], &["budget", "top"])?;
    if args.positional.is_empty() {
        return Err(
            "give one or more artifacts: an OCI archive, docker archive, OCI layout \
             directory or Lambda zip"
                .into(),
        );
    }
    let budget: Option<u64> = match args.value("budget") {
        None => None,
        Some(_) => Some(args.parsed("budget", 0)?),
    };
    let top: usize = args.parsed("top", 10)?;

    let mut outcome = Outcome::Pass;
    let mut summary: Vec<Row> = Vec::new();
    for path in &args.positional {
        if is_zip_file(Path::new(path))? {
            let (ok, row) = print_zip(path, budget)?;
            summary.push(row);
            if !ok {
                outcome = Outcome::Fail;
            }
            continue;
        }
        let images = Image::open_all(Path::new(path))?;
        let platforms: Vec<_> = images.iter().map(Image::platform_name).collect();
        println!("image: {path} ({})", images[0].format.name());
        println!("platforms: {}", platforms.join(", "));
        for image in &images {
            let (ok, compressed, uncompressed) = print_report(image, budget, top)?;
            summary.push(Row {
                artifact: path.clone(),
                kind: image.platform_name().to_string(),
                compressed,
                uncompressed,
            });
            if !ok {
                outcome = Outcome::Fail;
            }
        }
    }
    if summary.len() > 1 {
        println!("side by side (compressed = what is uploaded or pulled):");
        for Row {
            artifact: path,
            kind,
            compressed,
            uncompressed,
        } in &summary
        {
            println!(
                "  {compressed:>10} B compressed  {uncompressed:>10} B uncompressed  {kind:<14}  {path}"
            );
        }
    }
    Ok(outcome)
}

/// One line of the side-by-side table: an image platform or a zip.
struct Row {
    artifact: String,
    /// `os/arch` of an image, or `zip`.
    kind: String,
    compressed: u64,
    uncompressed: u64,
}

fn is_zip_file(path: &Path) -> Result<bool, String> {
    if path.is_dir() {
        return Ok(false);
    }
    let mut head = [0u8; 4];
    let mut file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let n = std::io::Read::read(&mut file, &mut head)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(zip::is_zip(&head[..n]))
}

/// Prints a Lambda zip's size (the file is what is uploaded) and its entries; false when
/// the file is over `budget`.
fn print_zip(path: &str, budget: Option<u64>) -> Result<(bool, Row), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let entries = zip::read(&bytes)?;
    let size = bytes.len() as u64;
    let uncompressed: u64 = entries.iter().map(|e| e.uncompressed).sum();
    println!("zip: {path}");
    println!("entries: {}", entries.len());
    for e in &entries {
        println!(
            "  {:o}  {:>10} B  deflated to {:>10} B  {}",
            e.mode, e.uncompressed, e.compressed, e.name
        );
    }
    println!("compressed: {}", human(size));
    println!("uncompressed: {}", human(uncompressed));
    let ok = match budget {
        Some(budget) if size > budget => {
            println!("FAIL zip {size} > budget {budget} B");
            false
        }
        Some(budget) => {
            println!("PASS zip {size} <= budget {budget} B");
            true
        }
        None => true,
    };
    let row = Row {
        artifact: path.to_string(),
        kind: "zip".to_string(),
        compressed: size,
        uncompressed,
    };
    Ok((ok, row))
}

/// Prints one platform's sizes; false when its compressed total is over `budget`, with the
/// compressed and uncompressed totals. Each platform is held to the whole budget: a host
/// pulls only its own.
fn print_report(
    image: &Image,
    budget: Option<u64>,
    top: usize,
) -> Result<(bool, u64, u64), String> {
    let report = Report::measure(image)?;
    let platform = image.platform_name();
    println!("platform: {platform}");
    println!("layers: {}", report.layers.len());
    for (n, l) in report.layers.iter().enumerate() {
        println!(
            "  layer {}: {}  compressed {}  uncompressed {}  files {}",
            n + 1,
            short_id(&l.id),
            human(l.compressed),
            human(l.uncompressed),
            l.files
        );
    }
    println!("compressed: {}", human(report.compressed()));
    println!("uncompressed: {}", human(report.uncompressed()));
    println!("largest files:");
    for (size, layer, file) in report.files.iter().take(top) {
        println!("  {size:>10}  layer {layer}  /{file}");
    }
    let ok = match budget {
        None => true,
        Some(budget) if report.compressed() <= budget => {
            println!(
                "PASS {platform} compressed {} <= budget {budget} B",
                report.compressed()
            );
            true
        }
        Some(budget) => {
            println!(
                "FAIL {platform} compressed {} > budget {budget} B",
                report.compressed()
            );
            false
        }
    };
    Ok((ok, report.compressed(), report.uncompressed()))
}

fn short_id(id: &str) -> &str {
    match id.strip_prefix("sha256:") {
        Some(hex) => &id[..("sha256:".len() + hex.len().min(12))],
        None => id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::tests::{gzip, oci_archive, tar_of};

    #[test]
    fn totals_add_up_over_layers_and_files_are_sorted_largest_first() {
        let big = vec![7u8; 5000];
        let layer1 = tar_of(&[("bootstrap", &big), ("etc/a", b"12")], &[]);
        let layer2 = tar_of(&[("etc/b", b"123456")], &[("bin/sh", "/bootstrap")]);
        let image = Image::from_tar_bytes(&oci_archive(&[layer1.clone(), layer2.clone()])).unwrap();
        let report = Report::measure(&image).unwrap();

        assert_eq!(report.layers.len(), 2);
        assert_eq!(report.layers[0].uncompressed, layer1.len() as u64);
        assert_eq!(report.layers[0].compressed, gzip(&layer1).len() as u64);
        assert_eq!(report.layers[0].files, 2);
        assert_eq!(
            report.layers[1].files, 1,
            "symlinks are not counted as files"
        );
        assert_eq!(report.uncompressed(), (layer1.len() + layer2.len()) as u64);
        assert_eq!(
            report.compressed(),
            (gzip(&layer1).len() + gzip(&layer2).len()) as u64
        );
        let order: Vec<_> = report.files.iter().map(|f| f.2.as_str()).collect();
        assert_eq!(order, ["bootstrap", "etc/b", "etc/a"]);
        assert_eq!(report.files[1].1, 2, "etc/b is in layer 2");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(2048), "2048 B (2.0 KiB)");
        assert_eq!(human(1048576), "1048576 B (1.00 MiB)");
        assert_eq!(short_id("sha256:0123456789abcdef"), "sha256:0123456789ab");
    }
}
