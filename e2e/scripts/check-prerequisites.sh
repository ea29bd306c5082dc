#!/usr/bin/env bash
# Checks what the build and tests need beyond npm packages: Go (to build the Kubernetes
# binaries and tools from the Go module proxy), npm, and root with apt for the local cluster
# of the end-to-end tests (e2e/cluster/up.sh installs its Debian packages itself).
set -euo pipefail
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null 2>&1; then
  echo "Go 1.26 or newer is needed to build the pinned Kubernetes binaries (https://go.dev/dl/)." >&2
  exit 1
fi
go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
if [ "$go_minor" -lt 26 ]; then
  echo "Go $(go env GOVERSION) is too old: Kubernetes $(. "$(dirname "$0")/versions.sh"; echo "$KUBE_VERSION") needs Go 1.26." >&2
  exit 1
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is needed (Node.js 20 or newer; the tests run on the Node 24 that npm installs)." >&2
  exit 1
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "The end-to-end tests run a local Kubernetes (containerd, kubelet, iptables): they need root on Debian (apt-get)." >&2
  exit 1
fi
