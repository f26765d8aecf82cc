//! Reading a saved container image down to its layers and their files.
//!
//! Three on-disk forms are understood, told apart by what they contain:
//! an OCI archive (`podman save --format oci-archive`: a tar holding `oci-layout`,
//! `index.json` and `blobs/`), an OCI image layout directory (`skopeo copy ... oci:DIR`),
//! and a docker archive (`podman save --format docker-archive`: a tar holding
//! `manifest.json` and uncompressed layer tars, some of them symlinks).
//! For OCI, `index.json` is followed to the image manifests (through nested indexes: a
//! multi-platform image index gives one image per platform, named by the index entry or
//! the image's config) and each manifest's layers are read in order.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The on-disk form an image was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OciArchive,
    OciLayout,
    DockerArchive,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::OciArchive => "oci-archive",
            Format::OciLayout => "oci-layout",
            Format::DockerArchive => "docker-archive",
        }
    }
}

/// An image of one platform: its layers, bottom first.
#[derive(Debug)]
pub struct Image {
    pub format: Format,
    /// `os/architecture[/variant]` from the index entry or the image's config, if either says.
    pub platform: Option<String>,
    pub layers: Vec<Layer>,
}

/// One layer blob as stored in the image (compressed or not).
#[derive(Debug)]
pub struct Layer {
    /// `sha256:...` from the manifest, or the tar member name in a docker archive.
    pub id: String,
    pub blob: Vec<u8>,
}

/// One member of a layer tar.
#[derive(Debug)]
pub struct Entry {
    /// The path inside the image, without a leading `/` or `./`.
    pub path: String,
    pub kind: EntryKind,
    /// Regular file contents (empty for other kinds).
    pub data: Vec<u8>,
    /// The target of a symlink or hard link.
    pub link: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    HardLink,
    Other,
}

/// Where the image's files come from: a directory or the members of a tar.
enum Store {
    Dir(PathBuf),
    Tar(HashMap<String, Vec<u8>>),
}

impl Store {
    fn read(&self, name: &str) -> Result<Vec<u8>, String> {
        match self {
            Store::Dir(dir) => {
                let path = dir.join(name);
                std::fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))
            }
            Store::Tar(files) => files
                .get(name)
                .cloned()
                .ok_or_else(|| format!("the archive has no member `{name}`")),
        }
    }

    fn has(&self, name: &str) -> bool {
        match self {
            Store::Dir(dir) => dir.join(name).is_file(),
            Store::Tar(files) => files.contains_key(name),
        }
    }

    fn json(&self, name: &str) -> Result<Value, String> {
        let bytes = self.read(name)?;
        serde_json::from_slice(&bytes).map_err(|e| format!("`{name}` is not valid JSON: {e}"))
    }
}

impl Image {
    /// Reads an OCI archive, OCI layout directory or docker archive at `path`; from an
    /// index of several platforms, the linux/amd64 image (else the first).
    pub fn open(path: &Path) -> Result<Image, String> {
        Image::open_all(path).map(preferred)
    }

    /// Every image at `path`, one per platform of an OCI image index, in index order
    /// (nested indexes flattened); a single image or a docker archive gives one.
    ///
    /// ```text
    /// for image in Image::open_all(Path::new("index.oci.tar"))? {
    ///     println!("{}: {} layers", image.platform_name(), image.layers.len());
    /// }
    /// ```
    pub fn open_all(path: &Path) -> Result<Vec<Image>, String> {
        if path.is_dir() {
            return Image::from_store(Store::Dir(path.to_path_buf()), true);
        }
        let bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        Image::all_from_tar_bytes(&bytes)
    }

    /// Reads an OCI archive or docker archive held in memory (linux/amd64 from an index).
    #[cfg(test)]
    pub fn from_tar_bytes(bytes: &[u8]) -> Result<Image, String> {
        Image::all_from_tar_bytes(bytes).map(preferred)
    }

    /// Every platform's image of an OCI archive or docker archive held in memory.
    pub fn all_from_tar_bytes(bytes: &[u8]) -> Result<Vec<Image>, String> {
        Image::from_store(Store::Tar(tar_members(bytes)?), false)
    }

    /// `os/architecture[/variant]`, or `unknown platform` when nothing says.
    pub fn platform_name(&self) -> &str {
        self.platform.as_deref().unwrap_or("unknown platform")
    }

    fn from_store(store: Store, is_dir: bool) -> Result<Vec<Image>, String> {
        if store.has("index.json") {
            let format = if is_dir {
                Format::OciLayout
            } else {
                Format::OciArchive
            };
            let index = store.json("index.json")?;
            let mut manifests = Vec::new();
            collect_manifests(&store, &index, 0, &mut manifests)?;
            manifests
                .into_iter()
                .map(|(manifest, platform)| {
                    let layers = manifest["layers"]
                        .as_array()
                        .ok_or("the image manifest has no `layers` array")?
                        .iter()
                        .map(|desc| {
                            let digest = desc["digest"].as_str().ok_or("a layer has no digest")?;
                            Ok(Layer {
                                id: digest.to_string(),
                                blob: store.read(&blob_path(digest)?)?,
                            })
                        })
                        .collect::<Result<Vec<_>, String>>()?;
                    let platform = platform.or_else(|| {
                        let config = manifest["config"]["digest"].as_str()?;
                        platform_of(&store.json(&blob_path(config).ok()?).ok()?)
                    });
                    Ok(Image {
                        format,
                        platform,
                        layers,
                    })
                })
                .collect()
        } else if store.has("manifest.json") {
            let manifest = store.json("manifest.json")?;
            let paths = manifest[0]["Layers"]
                .as_array()
                .ok_or("manifest.json has no `Layers` in its first image")?;
            let layers = paths
                .iter()
                .map(|p| {
                    let p = p.as_str().ok_or("a `Layers` entry is not a string")?;
                    Ok(Layer {
                        id: p.to_string(),
                        blob: store.read(p)?,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            let platform = manifest[0]["Config"]
                .as_str()
                .and_then(|c| store.json(c).ok())
                .and_then(|config| platform_of(&config));
            Ok(vec![Image {
                format: Format::DockerArchive,
                platform,
                layers,
            }])
        } else {
            Err(
                "neither an OCI image (no index.json) nor a docker archive (no manifest.json)"
                    .into(),
            )
        }
    }
}

/// The linux/amd64 image of several, else the first (there is always one).
fn preferred(mut images: Vec<Image>) -> Image {
    let at = images
        .iter()
        .position(|i| i.platform.as_deref() == Some("linux/amd64"))
        .unwrap_or(0);
    images.swap_remove(at)
}

/// `os/architecture[/variant]` of an index entry's `platform` or an image config.
fn platform_of(value: &Value) -> Option<String> {
    let (os, arch) = (value["os"].as_str()?, value["architecture"].as_str()?);
    Some(match value["variant"].as_str() {
        Some(variant) => format!("{os}/{arch}/{variant}"),
        None => format!("{os}/{arch}"),
    })
}

/// `sha256:abc` → `blobs/sha256/abc`, refusing anything that could leave `blobs/`.
fn blob_path(digest: &str) -> Result<String, String> {
    match digest.split_once(':') {
        Some((algo, hex))
            if !algo.is_empty()
                && !hex.is_empty()
                && (algo.chars().chain(hex.chars())).all(|c| c.is_ascii_alphanumeric()) =>
        {
            Ok(format!("blobs/{algo}/{hex}"))
        }
        _ => Err(format!("malformed digest `{digest}`")),
    }
}

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// Every image manifest an index leads to, with the platform its entry names (if any),
/// in index order; nested indexes are followed (up to a small depth).
fn collect_manifests(
    store: &Store,
    index: &Value,
    depth: usize,
    out: &mut Vec<(Value, Option<String>)>,
) -> Result<(), String> {
    if depth > 4 {
        return Err("image indexes nested too deeply".into());
    }
    let entries = index["manifests"]
        .as_array()
        .filter(|m| !m.is_empty())
        .ok_or("the image index lists no manifests")?;
    for entry in entries {
        let digest = entry["digest"]
            .as_str()
            .ok_or("an index entry has no digest")?;
        let blob = store.json(&blob_path(digest)?)?;
        let media_type = entry["mediaType"]
            .as_str()
            .or(blob["mediaType"].as_str())
            .unwrap_or_default();
        if INDEX_TYPES.contains(&media_type) || blob.get("manifests").is_some() {
            collect_manifests(store, &blob, depth + 1, out)?;
        } else {
            out.push((blob, platform_of(&entry["platform"])));
        }
    }
    Ok(())
}

/// The regular files of a tar by normalized path, with symlinks between members resolved
/// (docker archives link `<id>/layer.tar` to `../<digest>.tar`).
fn tar_members(bytes: &[u8]) -> Result<HashMap<String, Vec<u8>>, String> {
    let mut files = HashMap::new();
    let mut links = Vec::new();
    for entry in read_tar(bytes)? {
        match (entry.kind, entry.link) {
            (EntryKind::File, _) => {
                files.insert(entry.path, entry.data);
            }
            (EntryKind::Symlink, Some(target)) => links.push((entry.path, target)),
            // Hard link targets are archive paths, not relative to the link.
            (EntryKind::HardLink, Some(target)) => links.push((entry.path, format!("/{target}"))),
            _ => {}
        }
    }
    for (path, target) in links {
        let parent = Path::new(&path).parent().unwrap_or(Path::new(""));
        let resolved = if target.starts_with('/') {
            normalize(&target)
        } else {
            normalize(&parent.join(&target).to_string_lossy())
        };
        if let Some(data) = files.get(&resolved).cloned() {
            files.insert(path, data);
        }
    }
    Ok(files)
}

/// Removes `./`, leading `/` and `..` components (resolving them lexically).
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// Every member of an uncompressed tar, with regular files' contents.
pub fn read_tar(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    let mut archive = tar::Archive::new(bytes);
    let mut out = Vec::new();
    let iter = archive
        .entries()
        .map_err(|e| format!("reading a tar: {e}"))?;
    for entry in iter {
        let mut entry = entry.map_err(|e| format!("reading a tar member: {e}"))?;
        let path = entry
            .path()
            .map_err(|e| format!("a tar member has an unreadable path: {e}"))?;
        let path = normalize(&path.to_string_lossy());
        let kind = match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => EntryKind::File,
            tar::EntryType::Directory => EntryKind::Dir,
            tar::EntryType::Symlink => EntryKind::Symlink,
            tar::EntryType::Link => EntryKind::HardLink,
            _ => EntryKind::Other,
        };
        let mut data = Vec::new();
        if kind == EntryKind::File {
            entry
                .read_to_end(&mut data)
                .map_err(|e| format!("reading `{path}` from a tar: {e}"))?;
        }
        let link = entry
            .link_name()
            .ok()
            .flatten()
            .map(|l| l.to_string_lossy().into_owned());
        out.push(Entry {
            path,
            kind,
            data,
            link,
        });
    }
    Ok(out)
}

/// How a layer blob is compressed, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Layer {
    pub fn compression(&self) -> Compression {
        match self.blob.as_slice() {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            _ => Compression::None,
        }
    }

    /// The layer's tar, decompressed.
    pub fn tar(&self) -> Result<Vec<u8>, String> {
        match self.compression() {
            Compression::None => Ok(self.blob.clone()),
            Compression::Gzip => {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(self.blob.as_slice())
                    .read_to_end(&mut out)
                    .map_err(|e| format!("layer {}: bad gzip data: {e}", self.id))?;
                Ok(out)
            }
            Compression::Zstd => Err(format!(
                "layer {}: zstd layers are not supported; export with gzip",
                self.id
            )),
        }
    }

    /// Bytes the layer takes compressed: the blob itself, or for an uncompressed blob
    /// (docker archives) its size after gzip at the default level, as a registry push
    /// would store it.
    pub fn compressed_size(&self) -> Result<u64, String> {
        if self.compression() != Compression::None {
            return Ok(self.blob.len() as u64);
        }
        let mut counter = ByteCounter(0);
        let mut gz = flate2::write::GzEncoder::new(&mut counter, flate2::Compression::default());
        gz.write_all(&self.blob)
            .and_then(|_| gz.finish().map(|_| ()))
            .map_err(|e| format!("compressing layer {}: {e}", self.id))?;
        Ok(counter.0)
    }
}

/// A sink that only counts what is written to it.
struct ByteCounter(u64);

impl Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
pub mod tests {
    //! Builders for small synthetic images, shared with the size tests.
    use super::*;

    /// A tar holding `files` (path, contents) plus any `links` (path, target).
    pub fn tar_of(files: &[(&str, &[u8])], links: &[(&str, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, data) in files {
            let mut header = tar::Header::new_ustar();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, path, *data).unwrap();
        }
        for (path, target) in links {
            let mut header = tar::Header::new_ustar();
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_size(0);
            builder.append_link(&mut header, path, target).unwrap();
        }
        builder.into_inner().unwrap()
    }

    pub fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    fn digest_of(n: u8) -> String {
        format!("sha256:{}", format!("{n:02x}").repeat(32))
    }

    /// An OCI archive with the given (uncompressed) layer tars, gzipped, reached through
    /// an index that points at a nested index, whose amd64 entry is the manifest.
    pub fn oci_archive(layers: &[Vec<u8>]) -> Vec<u8> {
        let mut members: Vec<(String, Vec<u8>)> = Vec::new();
        let mut descs = Vec::new();
        for (i, layer) in layers.iter().enumerate() {
            let digest = digest_of(i as u8 + 1);
            let blob = gzip(layer);
            descs.push(serde_json::json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": digest, "size": blob.len()
            }));
            members.push((blob_path(&digest).unwrap(), blob));
        }
        let manifest = serde_json::json!({"schemaVersion": 2, "layers": descs});
        let (m_digest, arm_digest, i_digest) = (digest_of(0xa0), digest_of(0xa1), digest_of(0xb0));
        let nested = serde_json::json!({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm_digest,
             "platform": {"architecture": "arm64", "os": "linux"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": m_digest,
             "platform": {"architecture": "amd64", "os": "linux"}}
        ]});
        let index = serde_json::json!({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": i_digest}
        ]});
        members.push((
            blob_path(&m_digest).unwrap(),
            manifest.to_string().into_bytes(),
        ));
        members.push((
            blob_path(&arm_digest).unwrap(),
            b"{\"layers\": []}".to_vec(),
        ));
        members.push((
            blob_path(&i_digest).unwrap(),
            nested.to_string().into_bytes(),
        ));
        members.push(("index.json".into(), index.to_string().into_bytes()));
        members.push((
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ));
        let files: Vec<(&str, &[u8])> = members
            .iter()
            .map(|(p, d)| (p.as_str(), d.as_slice()))
            .collect();
        tar_of(&files, &[])
    }

    #[test]
    fn oci_archive_is_read_through_nested_index_to_amd64_manifest() {
        let layer1 = tar_of(&[("bootstrap", b"\x7fELF binary")], &[]);
        let layer2 = tar_of(&[("etc/passwd", b"root:x:0:0::/:/x\n")], &[]);
        let image = Image::from_tar_bytes(&oci_archive(&[layer1.clone(), layer2])).unwrap();
        assert_eq!(image.format, Format::OciArchive);
        assert_eq!(image.layers.len(), 2);
        assert_eq!(image.layers[0].id, digest_of(1));
        assert_eq!(image.layers[0].compression(), Compression::Gzip);
        assert_eq!(image.layers[0].tar().unwrap(), layer1);
        let entries = read_tar(&image.layers[0].tar().unwrap()).unwrap();
        assert_eq!(entries[0].path, "bootstrap");
        assert_eq!(entries[0].kind, EntryKind::File);
        assert_eq!(entries[0].data, b"\x7fELF binary");
    }

    #[test]
    fn multi_platform_index_gives_one_image_per_platform_in_index_order() {
        let layer = tar_of(&[("bootstrap", b"\x7fELF binary")], &[]);
        let images = Image::all_from_tar_bytes(&oci_archive(&[layer])).unwrap();
        let platforms: Vec<_> = images.iter().map(Image::platform_name).collect();
        assert_eq!(platforms, ["linux/arm64", "linux/amd64"]);
        assert_eq!(images[0].layers.len(), 0);
        assert_eq!(images[1].layers.len(), 1);
    }

    #[test]
    fn platform_comes_from_the_config_when_the_index_does_not_name_it() {
        let config = br#"{"os":"linux","architecture":"arm64","variant":"v8"}"#;
        let manifest = format!(
            r#"{{"schemaVersion":2,"config":{{"digest":"{}"}},"layers":[]}}"#,
            digest_of(0xc0)
        );
        let index = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}"}}]}}"#,
            digest_of(0xc1)
        );
        let config_path = blob_path(&digest_of(0xc0)).unwrap();
        let manifest_path = blob_path(&digest_of(0xc1)).unwrap();
        let archive = tar_of(
            &[
                ("index.json", index.as_bytes()),
                (config_path.as_str(), config),
                (manifest_path.as_str(), manifest.as_bytes()),
            ],
            &[],
        );
        let image = Image::from_tar_bytes(&archive).unwrap();
        assert_eq!(image.platform.as_deref(), Some("linux/arm64/v8"));
        let no_config = tar_of(
            &[
                ("index.json", index.as_bytes()),
                (manifest_path.as_str(), manifest.as_bytes()),
            ],
            &[],
        );
        let image = Image::from_tar_bytes(&no_config).unwrap();
        assert_eq!(image.platform_name(), "unknown platform");
    }

    #[test]
    fn docker_archive_follows_manifest_json_and_symlinked_layers() {
        let layer = tar_of(&[("./bootstrap", b"abc")], &[]);
        let archive = tar_of(
            &[
                (
                    "manifest.json",
                    br#"[{"Config":"c.json","Layers":["id1/layer.tar"]}]"#,
                ),
                ("deadbeef.tar", &layer),
            ],
            &[("id1/layer.tar", "../deadbeef.tar")],
        );
        let image = Image::from_tar_bytes(&archive).unwrap();
        assert_eq!(image.format, Format::DockerArchive);
        assert_eq!(image.layers[0].compression(), Compression::None);
        assert_eq!(image.layers[0].tar().unwrap(), layer);
        assert_eq!(read_tar(&layer).unwrap()[0].path, "bootstrap");
        // Uncompressed blobs are measured as gzip would store them.
        let estimate = image.layers[0].compressed_size().unwrap();
        assert_eq!(estimate, gzip(&layer).len() as u64);
    }

    #[test]
    fn oci_layout_directory_is_read() {
        let dir = std::env::temp_dir().join(format!("faas-check-test-{}", std::process::id()));
        let archive = oci_archive(&[tar_of(&[("a", b"1")], &[])]);
        for entry in read_tar(&archive).unwrap() {
            let path = dir.join(&entry.path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, entry.data).unwrap();
        }
        let image = Image::open(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        let image = image.unwrap();
        assert_eq!(image.format, Format::OciLayout);
        assert_eq!(image.layers.len(), 1);
    }

    #[test]
    fn malformed_inputs_are_errors_not_panics() {
        assert!(blob_path("sha256:../../etc/passwd").is_err());
        assert!(blob_path("nodigest").is_err());
        let not_an_image = tar_of(&[("hello.txt", b"hi")], &[]);
        assert!(Image::from_tar_bytes(&not_an_image).is_err());
        let empty_index = tar_of(&[("index.json", br#"{"manifests":[]}"#)], &[]);
        assert!(Image::from_tar_bytes(&empty_index).is_err());
    }

    #[test]
    fn paths_are_normalized() {
        assert_eq!(normalize("./a/b/../c"), "a/c");
        assert_eq!(normalize("/etc//passwd"), "etc/passwd");
    }
}
