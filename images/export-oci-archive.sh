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
# `skopeo copy oci-archive:OUT.tar ...` and `faas-check size` read.
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

skopeo copy --quiet "containers-storage:$image" "oci:$layout/image:$tag" >&2
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    --mode='u=rwX,go=rX' --format=ustar \
    -C "$layout/image" -cf "$out" oci-layout index.json blobs
