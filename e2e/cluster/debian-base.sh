#!/usr/bin/env bash
# Makes the Debian base image docker.io/library/debian:<suite> locally with debootstrap, because
# no registry is reachable here. The name is the public one, so our Dockerfiles stay standard
# (`FROM docker.io/library/debian:trixie`) and build unchanged where the registry is reachable.
# Usage: debian-base.sh <suite>   (bookworm, trixie, sid). Skips an image podman already has.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../scripts/versions.sh"
suite="$1"
image="docker.io/library/debian:$suite"
if podman image exists "$image"; then exit 0; fi

# The rootfs tarball is cached, so a fresh podman store (CI) imports in seconds.
cache="$PGOP_CACHE_DIR/images/debian-$suite-minbase.tar"
if [ ! -f "$cache" ]; then
  start=$(date +%s)
  echo "debootstrap $suite (minbase) ..." >&2
  rootfs=$(mktemp -d "${TMPDIR:-/tmp}/pgop-debootstrap.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  mirror=$(debian_mirror)
  debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 ||
    { tail -20 "$rootfs.log" >&2; exit 1; }
  rm -f "$rootfs.log"
  # Like the official image: no cached package lists, no pending apt state.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
  mkdir -p "$(dirname "$cache")"
  tar --numeric-owner -C "$rootfs" -cf "$cache.tmp" .
  mv "$cache.tmp" "$cache"
  echo "debootstrap $suite took $(($(date +%s) - start)) s" >&2
fi
podman import --change 'CMD ["bash"]' "$cache" "$image" >/dev/null
echo "imported $image" >&2
