#!/usr/bin/env bash
# Export an image from local container storage as a byte-reproducible OCI archive.
#
#   images/export-oci-archive.sh IMAGE OUT.tar
#
# `podman save --format oci-archive` writes the same blobs every time, but stamps the
# outer tar's headers with the wall-clock second of the save (measured here: two saves a
# second apart differ at byte 147, an mtime field). So: copy the image to an OCI layout
# directory with skopeo (blobs, manifest and config are deterministic), then tar that
# directory with fixed order, owner, modes and mtime. The result is what `podman load`,
# `skopeo copy oci-archive:OUT.tar ...` and `faas-check size` read. IMAGE may be a manifest
# list (images/build-index.sh): the archive then holds one OCI image index over all its
# platforms, for `skopeo copy --all oci-archive:OUT.tar docker://...`.
# Honours CONTAINERS_CONF / CONTAINERS_STORAGE_CONF like podman does.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 IMAGE OUT.tar" >&2
    exit 2
fi
image="$1"
out="$2"
layout="$(mktemp -d "${TMPDIR:-/tmp}/oci-layout.XXXXXX")"
trap 'rm -rf "$layout"' EXIT

# The ref name inside index.json is the image's tag (or `latest`), as podman save does.
tag="${image##*/}"
case "$tag" in *:*) tag="${tag##*:}" ;; *) tag=latest ;; esac

if podman manifest exists "$image" 2>/dev/null; then
    # A manifest list (images/build-index.sh): every platform's image under one OCI image
    # index. skopeo cannot read a list from containers-storage here (1.9), buildah can.
    buildah manifest push --quiet --all --format oci "$image" "oci:$layout/image:$tag" >&2
else
    skopeo copy --quiet "containers-storage:$image" "oci:$layout/image:$tag" >&2
fi
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    --mode='u=rwX,go=rX' --format=ustar \
    -C "$layout/image" -cf "$out" oci-layout index.json blobs
