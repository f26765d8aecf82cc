//! `faas-check lambda-image`: is this pushed image one that Lambda's `CreateFunction` takes?
//!
//! Lambda takes one platform's image manifest, Docker v2 schema 2 or OCI, not an image index
//! or manifest list, and fails on a registry attestation or a layer media type it does not
//! know. This reads an image as a registry would receive it, written by
//! `skopeo copy ... dir:DIR` (`manifest.json` and the blobs named by digest) or
//! `skopeo copy ... oci:DIR` (an OCI layout), and checks: the manifest and config media
//! types; every layer gzip'd, by its media type and by its bytes; no attestation manifest
//! (BuildKit's `vnd.docker.reference.type: attestation-manifest`, `unknown/unknown`) beside
//! it; `architecture` amd64 or arm64 and `os` linux in the config; the entrypoint is
//! `/bootstrap` and the layers hold it (a file, or a symlink to a file in the layers).

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::Outcome;
use crate::args::Args;
use crate::image::{EntryKind, Layer, read_tar};

const MANIFESTS: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];
const CONFIGS: &[&str] = &[
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];
const GZIP_LAYERS: &[&str] = &[
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
];

/// One finding: the rule's name and whether the image keeps it.
#[derive(Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub ok: bool,
    pub detail: String,
}

/// A pushed image: its manifest (and, for an OCI layout, the index around it), with blobs by digest.
pub struct Pushed {
    pub index: Option<Value>,
    pub manifest: Value,
    pub blobs: HashMap<String, Vec<u8>>,
}

impl Pushed {
    /// Reads a `skopeo copy ... dir:DIR` or `oci:DIR` directory.
    pub fn open(dir: &Path) -> Result<Pushed, String> {
        let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
        let json = |b: &[u8], what: &str| {
            serde_json::from_slice::<Value>(b).map_err(|e| format!("{what}: {e}"))
        };
        if dir.join("index.json").exists() {
            let index = json(&read(&dir.join("index.json"))?, "index.json")?;
            let blob = |digest: &str| -> Result<Vec<u8>, String> {
                let hex = digest
                    .strip_prefix("sha256:")
                    .ok_or("digest without sha256:")?;
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(format!("bad digest {digest}"));
                }
                read(&dir.join("blobs/sha256").join(hex))
            };
            let first = index["manifests"]
                .get(0)
                .and_then(|m| m["digest"].as_str())
                .ok_or("index.json lists no manifest")?;
            let manifest = json(&blob(first)?, "manifest")?;
            let mut blobs = HashMap::new();
            for d in digests(&manifest) {
                blobs.insert(d.clone(), blob(&d)?);
            }
            return Ok(Pushed {
                index: Some(index),
                manifest,
                blobs,
            });
        }
        let manifest = json(&read(&dir.join("manifest.json"))?, "manifest.json")?;
        let mut blobs = HashMap::new();
        for d in digests(&manifest) {
            let hex = d.strip_prefix("sha256:").unwrap_or(&d).to_string();
            if hex.contains('/') || hex.contains("..") {
                return Err(format!("bad digest {d}"));
            }
            blobs.insert(d.clone(), read(&dir.join(hex))?);
        }
        Ok(Pushed {
            index: None,
            manifest,
            blobs,
        })
    }

    /// Every rule, in order.
    pub fn findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut push = |rule, ok, detail: String| out.push(Finding { rule, ok, detail });
        let m = &self.manifest;
        let manifest_type = m["mediaType"].as_str().unwrap_or("");
        push(
            "manifest_media_type",
            MANIFESTS.contains(&manifest_type),
            format!("{manifest_type:?} (an image index or manifest list is not taken)"),
        );
        if let Some(index) = &self.index {
            let entries = index["manifests"].as_array().cloned().unwrap_or_default();
            let attestations = entries
                .iter()
                .filter(|e| {
                    e["annotations"]["vnd.docker.reference.type"] == "attestation-manifest"
                        || e["platform"]["os"] == "unknown"
                })
                .count();
            let nested = entries
                .iter()
                .filter(|e| !MANIFESTS.contains(&e["mediaType"].as_str().unwrap_or("")))
                .count();
            push(
                "one_platform_manifest_no_attestation",
                entries.len() == 1 && attestations == 0 && nested == 0,
                format!(
                    "{} entries in index.json, {attestations} attestation(s), {nested} index(es)",
                    entries.len()
                ),
            );
        }
        let config_type = m["config"]["mediaType"].as_str().unwrap_or("");
        push(
            "config_media_type",
            CONFIGS.contains(&config_type),
            format!("{config_type:?}"),
        );
        let layers = m["layers"].as_array().cloned().unwrap_or_default();
        let bad: Vec<String> = layers
            .iter()
            .filter_map(|l| {
                let ty = l["mediaType"].as_str().unwrap_or("");
                let gz = l["digest"]
                    .as_str()
                    .and_then(|d| self.blobs.get(d))
                    .is_some_and(|b| b.starts_with(&[0x1f, 0x8b]));
                (!GZIP_LAYERS.contains(&ty) || !gz).then(|| format!("{ty} (gzip bytes: {gz})"))
            })
            .collect();
        push(
            "layers_gzip",
            !layers.is_empty() && bad.is_empty(),
            format!("{} layers; not gzip: {bad:?}", layers.len()),
        );
        let config: Value = m["config"]["digest"]
            .as_str()
            .and_then(|d| self.blobs.get(d))
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(Value::Null);
        let (arch, os) = (
            config["architecture"].as_str().unwrap_or(""),
            config["os"].as_str().unwrap_or(""),
        );
        push(
            "architecture_and_os",
            matches!(arch, "amd64" | "arm64") && os == "linux",
            format!("{os}/{arch}"),
        );
        let entrypoint = &config["config"]["Entrypoint"];
        push(
            "entrypoint_is_bootstrap",
            *entrypoint == serde_json::json!(["/bootstrap"]),
            format!("{entrypoint}"),
        );
        let held = self.holds_executable("bootstrap", &layers);
        push(
            "layers_hold_bootstrap",
            held.is_ok(),
            held.unwrap_or_else(|e| e),
        );
        out
    }

    /// Whether the layers hold `path` as a regular file, directly or through symlinks.
    fn holds_executable(&self, path: &str, layers: &[Value]) -> Result<String, String> {
        let mut files: HashMap<String, (EntryKind, Option<String>)> = HashMap::new();
        for l in layers {
            let id = l["digest"].as_str().unwrap_or("").to_string();
            let blob = self.blobs.get(&id).cloned().unwrap_or_default();
            for e in read_tar(&Layer { id, blob }.tar()?)? {
                files.insert(e.path, (e.kind, e.link));
            }
        }
        let mut at = path.to_string();
        for _ in 0..8 {
            match files.get(&at) {
                Some((EntryKind::File, _)) => return Ok(format!("/{path} -> /{at}, a file")),
                Some((EntryKind::Symlink, Some(target))) => {
                    at = target.trim_start_matches('/').to_string()
                }
                other => return Err(format!("/{at}: {other:?} in the layers")),
            }
        }
        Err(format!("/{path}: too many symlinks"))
    }
}

/// The digests a manifest names (config, then layers).
fn digests(manifest: &Value) -> Vec<String> {
    let mut out: Vec<String> = manifest["config"]["digest"]
        .as_str()
        .map(String::from)
        .into_iter()
        .collect();
    if let Some(layers) = manifest["layers"].as_array() {
        out.extend(
            layers
                .iter()
                .filter_map(|l| l["digest"].as_str().map(String::from)),
        );
    }
    out
}

/// Runs `faas-check lambda-image DIR`.
pub fn run(argv: &[String]) -> Result<Outcome, String> {
    let args = Args::parse(argv, &[], &[])?;
    let [dir] = args.positional.as_slice() else {
        return Err("give one directory written by `skopeo copy ... dir:DIR` or `oci:DIR`".into());
    };
    let pushed = Pushed::open(Path::new(dir))?;
    let mut outcome = Outcome::Pass;
    for f in pushed.findings() {
        println!(
            "{} {}: {}",
            if f.ok { "PASS" } else { "FAIL" },
            f.rule,
            f.detail
        );
        if !f.ok {
            outcome = Outcome::Fail;
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::tests::{gzip, tar_of};
    use serde_json::json;

    fn pushed(layer: Vec<u8>, layer_type: &str, config: Value, index: Option<Value>) -> Pushed {
        let mut blobs = HashMap::new();
        blobs.insert("sha256:c".to_string(), serde_json::to_vec(&config).unwrap());
        blobs.insert("sha256:l".to_string(), layer);
        Pushed {
            index,
            manifest: json!({
                "schemaVersion": 2,
                "mediaType": MANIFESTS[0],
                "config": {"mediaType": CONFIGS[0], "digest": "sha256:c"},
                "layers": [{"mediaType": layer_type, "digest": "sha256:l"}],
            }),
            blobs,
        }
    }

    fn good_config() -> Value {
        json!({"architecture": "arm64", "os": "linux", "config": {"Entrypoint": ["/bootstrap"]}})
    }

    fn failed(p: &Pushed) -> Vec<&'static str> {
        p.findings()
            .into_iter()
            .filter(|f| !f.ok)
            .map(|f| f.rule)
            .collect()
    }

    #[test]
    fn a_one_platform_gzip_image_with_bootstrap_passes() {
        let layer = gzip(&tar_of(&[("bootstrap", b"\x7fELF")], &[]));
        let p = pushed(layer, GZIP_LAYERS[0], good_config(), None);
        assert_eq!(failed(&p), Vec::<&str>::new());
    }

    #[test]
    fn a_symlinked_bootstrap_counts_when_its_target_is_in_the_layers() {
        let layer = gzip(&tar_of(
            &[("nix/store/x/bin/fn", b"\x7fELF")],
            &[("bootstrap", "/nix/store/x/bin/fn")],
        ));
        assert!(failed(&pushed(layer, GZIP_LAYERS[1], good_config(), None)).is_empty());
        let dangling = gzip(&tar_of(&[], &[("bootstrap", "/nix/store/x/bin/fn")]));
        assert_eq!(
            failed(&pushed(dangling, GZIP_LAYERS[1], good_config(), None)),
            ["layers_hold_bootstrap"]
        );
    }

    #[test]
    fn uncompressed_or_zstd_layers_fail() {
        let tar = tar_of(&[("bootstrap", b"\x7fELF")], &[]);
        let p = pushed(
            tar.clone(),
            "application/vnd.oci.image.layer.v1.tar",
            good_config(),
            None,
        );
        assert!(failed(&p).contains(&"layers_gzip"));
        let p = pushed(
            gzip(&tar),
            "application/vnd.oci.image.layer.v1.tar+zstd",
            good_config(),
            None,
        );
        assert!(failed(&p).contains(&"layers_gzip"));
    }

    #[test]
    fn missing_architecture_and_wrong_entrypoint_fail() {
        let layer = gzip(&tar_of(&[("bootstrap", b"\x7fELF")], &[]));
        let config = json!({"os": "linux", "config": {"Entrypoint": ["/bin/sh"]}});
        let f = failed(&pushed(layer, GZIP_LAYERS[0], config, None));
        assert_eq!(f, ["architecture_and_os", "entrypoint_is_bootstrap"]);
    }

    #[test]
    fn an_index_with_an_attestation_fails() {
        let layer = gzip(&tar_of(&[("bootstrap", b"\x7fELF")], &[]));
        let index = json!({"manifests": [
            {"mediaType": MANIFESTS[0], "digest": "sha256:m", "platform": {"os": "linux", "architecture": "arm64"}},
            {"mediaType": MANIFESTS[0], "digest": "sha256:a", "platform": {"os": "unknown", "architecture": "unknown"},
             "annotations": {"vnd.docker.reference.type": "attestation-manifest"}},
        ]});
        let f = failed(&pushed(
            layer.clone(),
            GZIP_LAYERS[0],
            good_config(),
            Some(index),
        ));
        assert_eq!(f, ["one_platform_manifest_no_attestation"]);
        let mut p = pushed(layer, GZIP_LAYERS[0], good_config(), None);
        p.manifest["mediaType"] = json!("application/vnd.oci.image.index.v1+json");
        assert_eq!(failed(&p), ["manifest_media_type"]);
    }
}
