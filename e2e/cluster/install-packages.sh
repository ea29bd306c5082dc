#!/usr/bin/env bash
# Installs the Debian packages the local cluster needs, if any is missing: the container runtime
# (containerd, runc, CNI plugins), the image builder (podman, buildah), debootstrap for base
# images, and iptables/conntrack for kube-proxy. Needs root and the Debian archive.
set -euo pipefail
packages=(containerd runc containernetworking-plugins podman buildah debootstrap
  iptables conntrack catatonit gettext-base openssl curl iproute2 kmod)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "[cluster] installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
